/**
 * `strata run`, `strata export` and `strata weights` as a user meets them:
 * probes, weights files, provider fallback, and every kind of bad input
 * giving exit 1 or 2 with a message that names what is wrong (never a crash).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readNpz, writeNpz } from '../engine/weights';
import { repoRoot } from '../test/shared';

const dir = mkdtempSync(join(tmpdir(), 'strata-run-'));
let n = 0;

function strata(args: string[]): { code: number; out: string; err: string; json: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'strata.js'), ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  let json: unknown;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr, json };
}

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, `${++n}-${name}`);
  writeFileSync(p, content);
  return p;
}

const MLP = 'tl.Serial(tl.Dense(4), tl.Relu(), tl.Dense(2))';
const x23 = JSON.stringify([{ dtype: 'float32', shape: [2, 3], data: [1, 2, 3, -1, -2, -3] }]);

describe('strata run', () => {
  it('runs with weights initialized from the seed, reproducibly', () => {
    const inputs = file('in.json', x23);
    const a = strata(['run', MLP, '--inputs', inputs, '--json']);
    const b = strata(['run', MLP, '--inputs', inputs, '--json', '--seed', '0']);
    const c = strata(['run', MLP, '--inputs', inputs, '--json', '--seed', '1']);
    expect(a.code, a.err).toBe(0);
    expect(a.json.provider).toBe('cpu');
    expect(a.json.outputs[0]).toMatchObject({ dtype: 'float32', shape: [2, 2] });
    expect(b.json.outputs).toEqual(a.json.outputs);
    expect(c.json.outputs).not.toEqual(a.json.outputs);
  });

  it('uses a weights file keyed by tree path, and writes one', () => {
    const w = join(dir, 'w.npz');
    expect(strata(['weights', MLP, '--input', 'float32[2,3]', '-o', w, '--seed', '3']).code).toBe(0);
    expect([...readNpz(readFileSync(w)).keys()]).toEqual(['Serial[0]/Dense/kernel', 'Serial[0]/Dense/bias', 'Serial[2]/Dense/kernel', 'Serial[2]/Dense/bias']);
    const inputs = file('in.json', x23);
    const fromFile = strata(['run', MLP, '--inputs', inputs, '--weights', w, '--json']);
    const fromSeed = strata(['run', MLP, '--inputs', inputs, '--seed', '3', '--json']);
    expect(fromFile.code, fromFile.err).toBe(0);
    expect(fromFile.json.outputs).toEqual(fromSeed.json.outputs);
  });

  it('probes every edge in one run, with statistics', () => {
    const r = strata(['run', MLP, '--inputs', file('in.json', x23), '--probe', 'all', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.json.probes.map((p: { path: string }) => p.path)).toEqual(['Serial[0]', 'Serial[1]', 'Serial[2]', '']);
    const relu = r.json.probes[1];
    expect(relu.shape).toEqual([2, 4]);
    expect(relu.stats.min).toBeGreaterThanOrEqual(0);
    expect(relu.data.length).toBe(8);
    const mean = relu.data.reduce((s: number, v: number) => s + v, 0) / 8;
    expect(relu.stats.mean).toBeCloseTo(mean, 5);
    expect(relu.stats.nan).toBe(0);
  });

  it('counts NaN and Inf on a probe', () => {
    const r = strata(['run', 'tl.Serial(tl.Log())', '--inputs', file('in.json', JSON.stringify([{ dtype: 'float32', shape: [4], data: [-1, 0, 1, 'inf'] }])), '--probe', 'Serial[0]', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.json.probes[0].stats).toMatchObject({ nan: 1, inf: 2, min: 0, max: 0 });
  });

  it('falls back from a provider that cannot start, saying why', () => {
    const r = strata(['run', MLP, '--inputs', file('in.json', x23), '--provider', 'cuda', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(r.json.provider).not.toBe('cuda');
    expect(r.err).toMatch(/provider cuda could not start .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const strict = strata(['run', MLP, '--inputs', file('in.json', x23), '--provider', 'cuda', '--no-fallback', '--json']);
    expect(strict.code).not.toBe(0);
  });

  const bad: [string, () => string[], number, RegExp][] = [
    ['malformed inputs JSON', () => ['run', MLP, '--inputs', file('in.json', '[{"dtype": "float32",')], 2, /not valid JSON/],
    ['inputs not an array', () => ['run', MLP, '--inputs', file('in.json', '{"a": 1}')], 2, /array of tensors/],
    ['unknown dtype', () => ['run', MLP, '--inputs', file('in.json', '[{"dtype": "float99", "shape": [2,3], "data": [1,2,3,4,5,6]}]')], 2, /\[0\]\.dtype/],
    ['data does not fit the shape', () => ['run', MLP, '--inputs', file('in.json', '[{"dtype": "float32", "shape": [2,3], "data": [1,2]}]')], 2, /needs 6 values, got 2/],
    ['non-number data', () => ['run', MLP, '--inputs', file('in.json', '[{"dtype": "float32", "shape": [2], "data": [1, "x"]}]')], 2, /data\[1\]/],
    ['wrong dtype for the model', () => ['run', 'tl.Embedding(10, 4)', '--inputs', file('in.json', x23)], 2, /Embedding/],
    ['shape that contradicts the model', () => ['run', 'tl.Serial(tl.Dense(4), tl.Residual(tl.Dense(5)))', '--inputs', file('in.json', x23)], 2, /cannot add the shortcut/],
    ['shape against the declared input', () => ['run', file('m.strata.json', JSON.stringify({ format: 'strata', version: 1, input: [{ dtype: 'float32', shape: ['B', 5] }], root: { id: 'a', kind: 'Dense', params: { n_units: 2 } } })), '--inputs', file('in.json', x23)], 2, /declares float32\[B,5\]: axis 1 is 3, not 5/],
    ['too few inputs', () => ['run', 'tl.Add()', '--inputs', file('in.json', x23)], 2, /takes 2 inputs/],
    ['corrupt weights file', () => ['run', MLP, '--inputs', file('in.json', x23), '--weights', file('w.npz', 'PK\u0003\u0004 garbage')], 2, /./],
    ['weights file missing a key', () => ['run', MLP, '--inputs', file('in.json', x23), '--weights', file('w.npz', writeNpz([['Serial[0]/Dense/kernel', { dtype: 'float32', dims: [3, 4], data: new Float32Array(12) }]]))], 2, /no 'Serial\[0\]\/Dense\/bias'/],
    ['weights of the wrong shape', () => ['run', MLP, '--inputs', file('in.json', x23), '--weights', file('w.npz', writeNpz([['Serial[0]/Dense/kernel', { dtype: 'float32', dims: [4, 4], data: new Float32Array(16) }]]))], 2, /'Serial\[0\]\/Dense\/kernel' is float32\[4,4\] in the weights file, the model needs float32\[3,4\]/],
    ['missing inputs file', () => ['run', MLP, '--inputs', join(dir, 'nope.json')], 1, /cannot read inputs file/],
    ['missing --inputs', () => ['run', MLP], 1, /--inputs/],
    ['bad --mode', () => ['run', MLP, '--inputs', file('in.json', x23), '--mode', 'fast'], 1, /--mode must be one of/],
    ['bad --provider', () => ['run', MLP, '--inputs', file('in.json', x23), '--provider', 'tpu'], 1, /--provider must be one of/],
    ['unknown probe path', () => ['run', MLP, '--inputs', file('in.json', x23), '--probe', 'Serial[9]'], 2, /no layer at probe path 'Serial\[9\]'/],
  ];
  for (const [what, args, code, msg] of bad) {
    it(`rejects ${what} with exit ${code}`, () => {
      const r = strata([...args(), '--json']);
      expect(r.code, r.out + r.err).toBe(code);
      const text = code === 2 ? r.json?.error?.message : r.err;
      expect(text, r.out + r.err).toMatch(msg);
      expect(r.err).not.toMatch(/at .*\.js:\d+|TypeError|RangeError/);
    });
  }
});

describe('strata export', () => {
  it('writes an ONNX file that onnxruntime loads and that gives the logits strata run gives, its size within 1% of the weights', async () => {
    const out = join(dir, 'lm.onnx');
    const model = 'trax.models.TransformerLM(vocab_size=32000)';
    const e = strata(['export', model, '--input', 'int32[1,16]', '-o', out, '--json']);
    expect(e.code, e.err).toBe(0);
    const params = 52_763_904;
    const size = statSync(out).size;
    expect(Math.abs(size - params * 4) / (params * 4)).toBeLessThan(0.01);
    const tokens = Array.from({ length: 16 }, (_, i) => (i * 977) % 32000);
    const r = strata(['run', model, '--inputs', file('in.json', JSON.stringify([{ dtype: 'int32', shape: [1, 16], data: tokens }])), '--json']);
    expect(r.code, r.err).toBe(0);
    const session = await ort.InferenceSession.create(out);
    const res = await session.run({ [session.inputNames[0]]: new ort.Tensor('int32', Int32Array.from(tokens), [1, 16]) });
    const logits = Array.from(res[session.outputNames[0]].data as Float32Array);
    const want: number[] = r.json.outputs[0].data;
    expect(logits.length).toBe(16 * 32000);
    let worst = 0;
    logits.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - want[i]) / (1e-5 + 1e-5 * Math.abs(want[i]))); });
    expect(worst).toBeLessThanOrEqual(1);
    await session.release();
  }, 180_000);

  it('inlines functions on request and needs concrete sizes', () => {
    const out = join(dir, 'attn.onnx');
    const withFns = strata(['export', 'tl.CausalAttention(8, n_heads=2)', '--input', 'float32[2,4,8]', '-o', out, '--json']);
    expect(withFns.code, withFns.err).toBe(0);
    expect(withFns.json.functions).toBeGreaterThan(0);
    const inlined = strata(['export', 'tl.CausalAttention(8, n_heads=2)', '--input', 'float32[2,4,8]', '-o', out, '--inline-functions', '--json']);
    expect(inlined.json.functions).toBe(0);
    const symbolic = strata(['export', 'tl.Dense(4)', '--input', 'float32[B,3]', '-o', out]);
    expect(symbolic.code).toBe(1);
    expect(symbolic.err).toContain('concrete sizes');
  });
});
