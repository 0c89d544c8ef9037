import { describe, expect, it } from 'vitest';
import { RandomStream, hashKey, philox4x32, weightStream } from './random';

const hex = (a: Uint32Array) => [...a].map((x) => x.toString(16).padStart(8, '0')).join(' ');

function stats(xs: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, s2 = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    s2 += xs[i] * xs[i];
    min = Math.min(min, xs[i]);
    max = Math.max(max, xs[i]);
  }
  const mean = s / xs.length;
  return { mean, std: Math.sqrt(s2 / xs.length - mean * mean), min, max };
}

describe('Philox-4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    expect(hex(philox4x32(f, f, f, f, f, f))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe('d16cfe09 94fdcceb 5001e420 24126ea1');
  });
});

describe('streams', () => {
  it('are deterministic in (seed, key)', () => {
    const a = weightStream(7, 'Serial[1]/Dense/kernel');
    const b = weightStream(7, 'Serial[1]/Dense/kernel');
    const xs = Array.from({ length: 100 }, () => a.normal());
    expect(Array.from({ length: 100 }, () => b.normal())).toEqual(xs);
    expect(xs.every(Number.isFinite)).toBe(true);
  });

  it('differ by seed and by key, and do not depend on other streams being drawn', () => {
    const draw = (s: RandomStream) => Array.from({ length: 8 }, () => s.uint32());
    const base = draw(weightStream(0, 'a/kernel'));
    expect(draw(weightStream(1, 'a/kernel'))).not.toEqual(base);
    expect(draw(weightStream(0, 'a/bias'))).not.toEqual(base);
    expect(draw(weightStream(0, 'a/kernel '))).not.toEqual(base);
    // draw other streams first, in another order: the same numbers
    draw(weightStream(0, 'b/kernel'));
    draw(weightStream(0, 'a/bias'));
    expect(draw(weightStream(0, 'a/kernel'))).toEqual(base);
  });

  it('takes any finite seed (negative, above 2^32) and rejects others', () => {
    const first = (seed: number) => weightStream(seed, 'k').uint32();
    expect(new Set([0, 1, -1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1].map(first)).size).toBe(6);
    expect(() => weightStream(NaN, 'k')).toThrow(RangeError);
  });

  it('restarts with at() and splits into independent substreams', () => {
    const s = weightStream(3, 'k');
    const xs = Array.from({ length: 10 }, () => s.uint32());
    s.at(0);
    expect(Array.from({ length: 10 }, () => s.uint32())).toEqual(xs);
    s.at(1);
    expect(s.uint32()).toBe(xs[4]);
    const sub = s.substream(1);
    expect(Array.from({ length: 10 }, () => sub.uint32())).not.toEqual(xs);
  });

  it('hashes keys to 64 bits, stably', () => {
    expect(hashKey('')).toEqual(hashKey(''));
    expect(hashKey('Serial[0]/Dense/kernel')).not.toEqual(hashKey('Serial[1]/Dense/kernel'));
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(hashKey(`Serial[${i}]/Dense/kernel`).join(':'));
    expect(seen.size).toBe(5000);
    expect(hashKey('é/ü')).not.toEqual(hashKey('e/u'));
  });
});

describe('distributions', () => {
  const N = 200_000;

  it('uniform floats: [0, 1), mean 1/2, std 1/sqrt(12); every uint32 bit is fair', () => {
    const s = weightStream(11, 'u');
    const xs = Float64Array.from({ length: N }, () => s.float());
    const st = stats(xs);
    expect(st.min).toBeGreaterThanOrEqual(0);
    expect(st.max).toBeLessThan(1);
    expect(Math.abs(st.mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(st.std - 1 / Math.sqrt(12))).toBeLessThan(0.003);
    const bits = new Array<number>(32).fill(0);
    for (let i = 0; i < 20000; i++) {
      const u = s.uint32();
      for (let b = 0; b < 32; b++) bits[b] += (u >>> b) & 1;
    }
    for (const c of bits) expect(Math.abs(c / 20000 - 0.5)).toBeLessThan(0.02);
    const d = Float64Array.from({ length: 10000 }, () => s.double());
    expect(Math.min(...d)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...d)).toBeLessThan(1);
  });

  it('normals (Box–Muller): mean 0, std 1, kurtosis 3, symmetric tails', () => {
    const s = weightStream(12, 'n');
    const xs = Float64Array.from({ length: N }, () => s.normal());
    const st = stats(xs);
    expect(Math.abs(st.mean)).toBeLessThan(0.01);
    expect(Math.abs(st.std - 1)).toBeLessThan(0.01);
    let k = 0;
    for (const x of xs) k += x ** 4;
    expect(Math.abs(k / N - 3)).toBeLessThan(0.08);
    const beyond = (t: number) => xs.filter((x) => Math.abs(x) > t).length / N;
    expect(Math.abs(beyond(1) - 0.3173)).toBeLessThan(0.006);
    expect(Math.abs(beyond(2) - 0.0455)).toBeLessThan(0.003);
  });

  it('truncated normals lie in [-2, 2] with std 0.8796', () => {
    const s = weightStream(13, 't');
    const xs = Float64Array.from({ length: N }, () => s.truncatedNormal());
    const st = stats(xs);
    expect(st.min).toBeGreaterThanOrEqual(-2);
    expect(st.max).toBeLessThanOrEqual(2);
    expect(Math.abs(st.mean)).toBeLessThan(0.01);
    expect(Math.abs(st.std - 0.87962566103423978)).toBeLessThan(0.006);
    const one = weightStream(13, 't');
    const ys = Float64Array.from({ length: 1000 }, () => one.truncatedNormal(0.5, 1));
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...ys)).toBeLessThanOrEqual(1);
  });

  it('fills arrays with scaled draws', () => {
    const s = weightStream(14, 'f');
    const a = new Float64Array(50_000);
    s.fillUniform(a, -3, 3);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...a)).toBeLessThan(3);
    s.fillNormal(a, 0.5);
    expect(Math.abs(stats(a).std - 0.5)).toBeLessThan(0.01);
    s.fillTruncatedNormal(a, 2);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(4);
  });
});
