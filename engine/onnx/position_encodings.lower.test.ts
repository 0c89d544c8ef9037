/**
 * Numbers of the research position encodings' lowerings: onnxruntime (CPU)
 * against small TypeScript references — AxialPositionalEncoding,
 * SinCosPositionalEncoding's [sin | cos] layout (and its random start in
 * train mode), FixedBasePositionalEncoding's digits and start vector,
 * InfinitePositionalEncoding's threefry noise (checked against values JAX
 * computed) and TimeBinPositionalEncoding's features.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../core/shape';
import type { DocNode } from '../document/schema';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import { infiniteCycles, infiniteNoiseKey, threefry2x32 } from '../layers/position_encodings';
import type { LowerOptions, WeightRef } from './lower';
import { rng } from '../../test/ort';
import { close as closeTo, plain, run as runLowered } from '../../test/lowering';

interface Arr { shape: number[]; data: number[] }

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
function rand(shape: number[], seed: string, scale = 1): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => Math.fround((r() * 2 - 1) * scale)) };
}
const node = (c: CaseNode): DocNode => caseToNode(c);
const noWeights = (r: WeightRef): Arr => { throw new Error(`no value for ${r.key}`); };

async function run(root: DocNode, x: Arr, weights: (ref: WeightRef) => Arr = noWeights, opts: LowerOptions = {}, dtype: DType = 'float32'): Promise<Arr> {
  return plain(await runLowered(root, [{ a: x, dtype }], { weights, lower: opts }))[0];
}

/** test/lowering's close, with this file's tolerances */
const close = (got: Arr, want: Arr, rtol = 1e-5, atol = 1e-5): void => closeTo(got, want, rtol, atol);

describe('AxialPositionalEncoding', () => {
  const shape = [2, 3], dEmbs = [2, 3];
  const ws = [rand([1, 2, 1, 2], 'ax0'), rand([1, 1, 3, 3], 'ax1')];
  const weights = (r: WeightRef): Arr => (r.decl.name === 'position' ? { shape: [], data: [2] } : ws[Number(r.decl.name.slice(-1))]);
  /** encoding of flat position p: axis-0 embedding of p // 3, then axis-1 embedding of p % 3 */
  const enc = (p: number): number[] => [...ws[0].data.slice(Math.floor(p / 3) * 2, Math.floor(p / 3) * 2 + 2), ...ws[1].data.slice((p % 3) * 3, (p % 3) * 3 + 3)];

  it('eval: each axis embedding broadcast over the grid, concatenated on features, flattened row-major', async () => {
    const x = rand([2, 6, 5], 'axx');
    const y = await run(node({ kind: 'AxialPositionalEncoding', params: { shape, d_embs: dEmbs } }), x, weights);
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + enc(Math.floor(i / 5) % 6)[i % 5]) });
  });

  it('predict: the encodings of positions state..state+L', async () => {
    const x = rand([2, 2, 5], 'axp');
    const y = await run(node({ kind: 'AxialPositionalEncoding', params: { shape, d_embs: dEmbs, mode: 'predict' } }), x, weights, { mode: 'predict' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + enc(2 + (Math.floor(i / 5) % 2))[i % 5]) });
  });
});

describe('SinCosPositionalEncoding', () => {
  const L = 5, d = 6;
  const sincos = (p: number): number[] => {
    const arg = [0, 1, 2].map((i) => p * Math.exp(2 * i * -(Math.log(10000) / d)));
    return [...arg.map(Math.sin), ...arg.map(Math.cos)];
  };

  it('eval: [sin block | cos block] (not interleaved)', async () => {
    const x = rand([2, L, d], 'scx');
    const y = await run(node({ kind: 'SinCosPositionalEncoding', params: { mode: 'eval' } }), x);
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + sincos(Math.floor(i / d) % L)[i % d]) });
  });

  it('train: positions start at a random offset in [0, add_offset), the same for the whole batch', async () => {
    const x: Arr = { shape: [2, L, d], data: new Array(2 * L * d).fill(0) };
    const starts = new Set<number>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const y = await run(node({ kind: 'SinCosPositionalEncoding', params: { add_offset: 40 } }), x, noWeights, { mode: 'train', seed });
      const s = Array.from({ length: 40 }, (_, k) => k).find((k) => y.data.every((v, i) => Math.abs(v - sincos(k + (Math.floor(i / d) % L))[i % d]) < 1e-4));
      expect(s, `seed ${seed}: the encoding is sin/cos of positions start..start+L`).not.toBeUndefined();
      starts.add(s!);
    }
    expect(starts.size).toBeGreaterThan(1);
  });
});

describe('FixedBasePositionalEncoding', () => {
  const bases = [2, 3], nd = 2, d = 4, dw = 2;
  const ws = new Map<string, Arr>();
  const weights = (r: WeightRef): Arr => {
    if (r.decl.name === 'position') return { shape: [], data: [5] };
    if (!ws.has(r.decl.name)) ws.set(r.decl.name, rand(r.decl.shape.map(Number), `fb:${r.decl.name}`));
    return ws.get(r.decl.name)!;
  };
  /** sum over bases of concat over digits of digit(p) * weight, + start_vec at position 0 */
  const enc = (p: number, first: boolean): number[] => {
    const out = new Array<number>(d).fill(0);
    for (const b of bases) {
      for (let i = 0; i < nd; i++) {
        const digit = Math.floor(p / b ** i) % b;
        const w = ws.get(`base${b}_digit${i}`)!.data;
        for (let f = 0; f < dw; f++) out[i * dw + f] += digit * w[f];
      }
    }
    return first ? out.map((v, f) => v + ws.get('start_vec')!.data[f]) : out;
  };

  it('eval: digit encodings of positions 0..L-1 and the start vector at position 0', async () => {
    const x = rand([2, 3, d], 'fbx');
    const y = await run(node({ kind: 'FixedBasePositionalEncoding', params: { bases, n_digits: nd } }), x, weights, { mode: 'eval' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + enc(Math.floor(i / d) % 3, Math.floor(i / d) % 3 === 0)[i % d]) });
  });

  it('predict: positions continue from the state counter; the start vector only at the sequence start', async () => {
    const x = rand([1, 2, d], 'fbp');
    const y = await run(node({ kind: 'FixedBasePositionalEncoding', params: { bases, n_digits: nd, mode: 'predict' } }), x, weights, { mode: 'predict' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + enc(5 + Math.floor(i / d), false)[i % d]) });
  });

  it('train: random per-example starts, reproducible per seed', async () => {
    const x: Arr = { shape: [3, 3, d], data: new Array(36).fill(0) };
    const doc = node({ kind: 'FixedBasePositionalEncoding', params: { bases: [11, 13], n_digits: 2, start_from_zero_one_in: 100, base_dropout_one_in: 100 } });
    const a = await run(doc, x, weights, { mode: 'train', seed: 1 });
    const b = await run(doc, x, weights, { mode: 'train', seed: 1 });
    const e = await run(doc, x, weights, { mode: 'eval' });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(e.data);
    expect(a.data.every(Number.isFinite)).toBe(true);
  });
});

describe('InfinitePositionalEncoding', () => {
  it('threefry2x32 matches the Threefry paper / JAX test vector', () => {
    expect(threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3])).toEqual([0xc4923a9c, 0x483df7a0]);
    // jax.random.split(jax.random.PRNGKey(234234535))[0] with jax_threefry_partitionable=False
    expect(infiniteNoiseKey()).toEqual([4174489716, 303878026]);
  });

  it('the cycles (before the random phase) equal what JAX computes for depth 5, 4 positions, drift 0.03', () => {
    // computed with JAX 0.10.2 (CPU, float32, jax_threefry_partitionable=False) from Trax's _get_noise/_get_embeddings
    const jax = [
      [0.05400529131293297, 0.30400529503822327, -0.0031271246261894703, 0.24687287211418152, 0.068638376891613],
      [0.5588076114654541, 0.8088076114654541, 0.046651434153318405, 0.2966514229774475, 0.11999400705099106],
      [0.9916776418685913, 1.2416777610778809, 0.002516625914722681, 0.25251662731170654, 0.14811301231384277],
      [1.4561266899108887, 1.7061266899108887, 0.043953344225883484, 0.2939533591270447, 0.1015753224492073],
    ].flat();
    const got = Array.from(infiniteCycles(4, 5, 0.03));
    got.forEach((v, i) => expect(Math.abs(v - jax[i])).toBeLessThan(3e-7));
  });

  it("eval without the affine phase: x + cos(2π cycles); 'diag' scales by softplus(weights)", async () => {
    const L = 4, d = 6;
    const x = rand([2, L, d], 'ipx');
    const cyc = infiniteCycles(L, d, 0.03);
    const y = await run(node({ kind: 'InfinitePositionalEncoding', params: { affine: false, transform: 'none' } }), x, noWeights, { mode: 'eval' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + Math.cos(2 * Math.PI * cyc[i % (L * d)])) }, 1e-5, 1e-5);
    const scale = rand([d], 'ips');
    const z = await run(node({ kind: 'InfinitePositionalEncoding', params: { affine: false, transform: 'diag' } }), x, () => scale, { mode: 'eval' });
    close(z, { shape: x.shape, data: x.data.map((v, i) => v + Math.cos(2 * Math.PI * cyc[i % (L * d)]) * Math.log1p(Math.exp(scale.data[i % d]))) }, 1e-5, 1e-5);
  });

  it('the affine phase shifts every channel by one U(0,1) draw (cycles + phase), fixed by the seed', async () => {
    const L = 3, d = 4;
    const x: Arr = { shape: [1, L, d], data: new Array(L * d).fill(0) };
    const doc = node({ kind: 'InfinitePositionalEncoding', params: { transform: 'none' } });
    const a = await run(doc, x, noWeights, { seed: 1 });
    const b = await run(doc, x, noWeights, { seed: 1 });
    expect(a.data).toEqual(b.data);
    const cyc = infiniteCycles(L, d, 0.03);
    // per channel, cos(2π(cycles + u)) for one u in [0, 1)
    for (let c = 0; c < d; c++) {
      const u = Array.from({ length: 1000 }, (_, k) => k / 1000).find((ph) => [0, 1, 2].every((t) => Math.abs(Math.cos(2 * Math.PI * (cyc[t * d + c] + ph)) - a.data[t * d + c]) < 5e-3));
      expect(u, `channel ${c}`).not.toBeUndefined();
    }
  });
});

describe('TimeBinPositionalEncoding', () => {
  const feats = (t: number, n: number): number[] => [1 / (1 + Math.floor(t / n)), (t % n) / n, Math.floor(t / n) % 2];

  it('replaces the last 3 channels with (1/(1+bin), (t mod len)/len, bin parity)', async () => {
    const x = rand([2, 6, 5], 'tbx');
    const y = await run(node({ kind: 'TimeBinPositionalEncoding', params: { time_bin_length: 4 } }), x);
    close(y, { shape: x.shape, data: x.data.map((v, i) => (i % 5 < 2 ? v : feats(Math.floor(i / 5) % 6, 4)[(i % 5) - 2])) }, 1e-6, 1e-7);
  });

  it('depth 2 keeps the last two features (int input becomes float32)', async () => {
    const x: Arr = { shape: [1, 5, 2], data: new Array(10).fill(7) };
    const y = await run(node({ kind: 'TimeBinPositionalEncoding', params: { time_bin_length: 2 } }), x, noWeights, {}, 'int32');
    close(y, { shape: [1, 5, 2], data: Array.from({ length: 10 }, (_, i) => feats(Math.floor(i / 2), 2)[1 + (i % 2)]) }, 1e-6, 1e-7);
  });

  it('predict: the features of the per-example position counter', async () => {
    const x = rand([2, 1, 4], 'tbp');
    const y = await run(node({ kind: 'TimeBinPositionalEncoding', params: { time_bin_length: 3, mode: 'predict' } }), x, () => ({ shape: [2], data: [4, 9] }), { mode: 'predict' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => (i % 4 < 1 ? v : feats(i < 4 ? 4 : 9, 3)[(i % 4) - 1])) }, 1e-6, 1e-7);
  });
});
