import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { HostApi, RunRequest, RunResponse, SliceRequest, SliceResponse, TensorSlice } from './api';
import { createHostService } from './service';
import { createNumericHost, heatmap, histogram, tensorStats } from './numeric';
import { sliceValues } from './slices';
import { HostParamError, validateCall } from './validate';
import { writeNpy } from '../weights';
import { releaseSessions } from '../runtime/run';
import '../../kernels';

const examplesDir = join(import.meta.dirname, '..', '..', 'assets', 'examples');
let dir: string;
let host: HostApi;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-host-'));
  host = createHostService({ examplesDir, dataDir: join(dir, 'data'), desktop: false });
});
afterAll(async () => {
  await releaseSessions();
  rmSync(dir, { recursive: true, force: true });
});

const example = (name: string): unknown => JSON.parse(readFileSync(join(examplesDir, `${name}.strata.json`), 'utf8'));

function req(doc: unknown, extra: Partial<RunRequest> = {}): RunRequest {
  return { doc, inputs: [], seed: 0, mode: 'eval', provider: 'cpu', ...extra };
}

function ok(r: RunResponse): Extract<RunResponse, { ok: true }> {
  if (!r.ok) throw new Error(`run failed: ${r.error.code}: ${r.error.message}`);
  return r;
}

const mlp = (n_units: number | string = 512) => ({
  format: 'strata', version: 1, input: [{ dtype: 'float32', shape: ['B', 28, 28, 1] }],
  root: { id: 'n1', kind: 'Serial', children: [{ id: 'n2', kind: 'Flatten' }, { id: 'n3', kind: 'Dense', params: { n_units } }, { id: 'n4', kind: 'Relu' }] },
});

describe('host service: examples and files', () => {
  it('lists every example with its title and reads one', async () => {
    const list = await host.listExamples();
    expect(list.map((e) => e.name)).toEqual(expect.arrayContaining(['mlp-mnist', 'transformer-lm', 'reformer-lm', 'small-cnn', 'lstm-tagger', 'reversible-block']));
    expect(list.find((e) => e.name === 'mlp-mnist')!.title).toBe('MLP for MNIST');
    const ex = await host.readExample('transformer-lm');
    expect(JSON.parse(ex.text).root.kind).toBe('TransformerLM');
  });

  it('reads examples by name only, never by path', async () => {
    await expect(host.readExample('../../package')).rejects.toThrow(/no example named/);
    await expect(host.readExample('nope')).rejects.toThrow(/no example named "nope"/);
  });

  it('saves atomically, opens, and keeps a recent-files list across restarts', async () => {
    const path = join(dir, 'docs', 'm.strata.json');
    const text = JSON.stringify(mlp(), null, 2);
    expect(await host.saveFile(text, path)).toEqual({ path });
    expect(readdirSync(join(dir, 'docs'))).toEqual(['m.strata.json']);
    expect(await host.openFile(path)).toEqual({ path, text });
    const other = join(dir, 'docs', 'n.strata.json');
    await host.saveFile('{}', other);
    await host.saveFile(text, path);
    const again = createHostService({ examplesDir, dataDir: join(dir, 'data'), desktop: false });
    expect(await again.recentFiles()).toEqual([path, other]);
  });

  it('without a path, open and save answer null (the transport asks the user)', async () => {
    expect(await host.openFile()).toBeNull();
    expect(await host.saveFile('{}')).toBeNull();
  });

  it('says why a file cannot be opened or saved', async () => {
    await expect(host.openFile(join(dir, 'missing.strata.json'))).rejects.toThrow(/cannot open .*missing\.strata\.json: no such file/);
    await expect(host.saveFile('{}', dir)).rejects.toThrow(/cannot save/);
  });

  it('keeps a recovery file until it is cleared', async () => {
    expect(await host.readRecovery()).toBeNull();
    await host.saveRecovery('{"unsaved": true}');
    expect(await host.readRecovery()).toBe('{"unsaved": true}');
    await host.saveRecovery('');
    expect(await host.readRecovery()).toBeNull();
  });

  it('reports its version and providers', async () => {
    const info = await host.info();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.providers).toContain('cpu');
    expect(info.desktop).toBe(false);
  });
});

describe('host service: summaries', () => {
  it('histograms finite values in equal bins', () => {
    expect(histogram([0, 1, 2, 3, NaN, Infinity], 0, 3, 3)).toEqual([1, 1, 2]);
    expect(histogram([5, 5], 5, 5, 4)).toEqual([2, 0, 0, 0]);
  });

  it('statistics count NaN and infinities apart', () => {
    expect(tensorStats([1, 3, NaN, -Infinity])).toEqual({ min: 1, max: 3, mean: 2, std: 1, nan: 1, inf: 1 });
  });

  it('heatmaps the last two axes at index 0 of the others, at most 64x64 (block means)', () => {
    const dims = [2, 3, 128];
    const values = Float32Array.from({ length: 2 * 3 * 128 }, (_, i) => (i < 3 * 128 ? i % 2 : 100));
    const h = heatmap(values, dims)!;
    expect([h.rows, h.cols]).toEqual([3, 64]);
    expect(h.data.every((x) => x === 0.5)).toBe(true);
    expect(heatmap([1, 2, 3], [3])).toEqual({ rows: 1, cols: 3, data: [1, 2, 3] });
    expect(heatmap([7], [])).toBeUndefined();
  });
});

describe('host service: runs', () => {
  it('runs the MNIST MLP and summarizes every edge', async () => {
    const r = ok(await host.run(req(example('mlp-mnist'))));
    expect(r.provider).toBe('cpu');
    expect(r.outputs).toHaveLength(1);
    expect(r.outputs[0]).toMatchObject({ dtype: 'float32', shape: [2, 10] });
    const kinds = r.probes.map((p) => `${p.path}#${p.index}:${p.kind}`);
    expect(kinds).toContain('Serial[1]#0:Dense');
    expect(kinds).toContain('#0:Serial');
    const dense = r.probes.find((p) => p.path === 'Serial[1]')!;
    expect(dense.shape).toEqual([2, 512]);
    expect(dense.histogram).toHaveLength(30);
    expect(dense.histogram.reduce((a, b) => a + b, 0)).toBe(2 * 512);
    expect(dense.heatmap).toMatchObject({ rows: 2, cols: 64 });
    // log-probabilities: each row's exp sums to 1, and the stats match the run's
    const out = r.probes.find((p) => p.path === '')!;
    expect(out.stats.max as number).toBeLessThanOrEqual(0);
    expect(r.notes.join()).toMatch(/float32\[2,28,28,1\]/);
  });

  it('runs TransformerLM on random token ids below the vocabulary and ships summaries, not tensors', async () => {
    const r = ok(await host.run(req(example('transformer-lm'), { inputs: [{ kind: 'randint', vocab: 32000, seed: 3 }] })));
    expect(r.outputs[0].shape).toEqual([2, 16, 32000]);
    // probes reach inside the decoder blocks (functions are inlined for a run)
    expect(r.probes.length).toBeGreaterThan(100);
    const logits = r.probes.find((p) => p.path === '' && p.index === 0)!;
    expect(logits.heatmap).toMatchObject({ rows: 16, cols: 64 });
    expect(logits.heatmap!.data).toHaveLength(16 * 64);
    // the activations themselves would be over 10x more (float32)
    const raw = r.probes.reduce((a, p) => a + 4 * p.shape.reduce((x, d) => x * d, 1), 0);
    expect(raw).toBeGreaterThan(20_000_000);
    expect(JSON.stringify(r).length).toBeLessThan(raw / 10);
  }, 120_000);

  it('runs ReformerLM with LSH attention (the kernel)', async () => {
    const r = ok(await host.run(req(example('reformer-lm'), { inputs: [{ kind: 'randint', vocab: 256 }] })));
    expect(r.outputs[0].dtype).toBe('float32');
    expect(r.probes.some((p) => /LSH/.test(p.kind) || /ReversibleHalfResidual|ReversibleSwap/.test(p.kind))).toBe(true);
  }, 120_000);

  it('is deterministic in the seed; zeros give a constant input', async () => {
    const a = ok(await host.run(req(mlp(), { seed: 4 })));
    const b = ok(await host.run(req(mlp(), { seed: 4 })));
    const c = ok(await host.run(req(mlp(), { seed: 5 })));
    expect(a.outputs[0].stats).toEqual(b.outputs[0].stats);
    expect(a.outputs[0].stats).not.toEqual(c.outputs[0].stats);
    const z = ok(await host.run(req(mlp(), { inputs: [{ kind: 'zeros' }] })));
    const flat = z.probes.find((p) => p.path === 'Serial[0]')!;
    expect(flat.stats).toMatchObject({ min: 0, max: 0, mean: 0, std: 0 });
  });

  it('reads inputs from .npy and .json files, taking the batch size from them', async () => {
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy({ dtype: 'float32', dims: [3, 28, 28, 1], data: new Float32Array(3 * 784).fill(1) }));
    const r1 = ok(await host.run(req(mlp(), { inputs: [{ kind: 'file', path: npy }] })));
    expect(r1.outputs[0].shape).toEqual([3, 512]);
    const json = join(dir, 'x.json');
    writeFileSync(json, JSON.stringify([{ dtype: 'float32', shape: [1, 28, 28, 1], data: new Array(784).fill(0.5) }]));
    const r2 = ok(await host.run(req(mlp(), { inputs: [{ kind: 'file', path: json }] })));
    expect(r2.outputs[0].shape).toEqual([1, 512]);
  });

  it('answers every failure as a model error, never by throwing', async () => {
    const bad = await host.run(req(mlp(), { inputs: [{ kind: 'file', path: join(dir, 'none.npy') }] }));
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringMatching(/no such file/) } });
    const wrong = join(dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify([{ dtype: 'float32', shape: [2, 5], data: new Array(10).fill(0) }]));
    expect(await host.run(req(mlp(), { inputs: [{ kind: 'file', path: wrong }] }))).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    const mismatch = { ...mlp(), root: { id: 'n1', kind: 'Serial', children: [{ id: 'n2', kind: 'Dense', params: { n_units: 4 } }, { id: 'n3', kind: 'Add' }] } };
    const e = await host.run(req(mismatch));
    expect(e.ok).toBe(false);
    if (!e.ok) expect(e.error.code).toMatch(/stack_underflow|arity/);
    const noInput = await host.run(req({ format: 'strata', version: 1, input: [], root: { id: 'n1', kind: 'Relu' } }));
    expect(noInput).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringMatching(/no input signature/) } });
    expect(await host.run(req({ root: 5 }))).toMatchObject({ ok: false, error: { code: 'bad_document' } });
    const badParam = await host.run(req(mlp('many')));
    expect(badParam).toMatchObject({ ok: false, error: { code: 'bad_param', path: expect.stringMatching(/Serial\[1\]/) } });
  });
});

describe('host service: slices of a run', () => {
  const slice = (r: SliceResponse): TensorSlice => {
    if (!r.ok) throw new Error(`slice failed: ${r.reason}: ${r.message}`);
    return r.slice;
  };

  it('cuts any two axes at the given positions of the others, block means beyond max, null for NaN/Inf', () => {
    // x[i, j, k] = 100 i + 10 j + k
    const shape = [2, 3, 4];
    const x = Float32Array.from({ length: 24 }, (_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4));
    const s = sliceValues(x, shape, { rows: 0, cols: 2, at: [0, 1, 0] });
    expect([s.rows, s.cols, s.rowStride, s.colStride]).toEqual([2, 4, 1, 1]);
    expect(s.data).toEqual([10, 11, 12, 13, 110, 111, 112, 113]);
    // rows and cols swapped: the transpose
    expect(sliceValues(x, shape, { rows: 2, cols: 0, at: [0, 2, 0] }).data).toEqual([20, 120, 21, 121, 22, 122, 23, 123]);
    // downsampled: blocks of 2 along the last axis
    const d = sliceValues(x, shape, { rows: 1, cols: 2, at: [1, 0, 0], max: 2 });
    expect([d.rows, d.cols, d.rowStride, d.colStride]).toEqual([2, 2, 2, 2]);
    expect(d.data).toEqual([105.5, 107.5, 120.5, 122.5]);
    expect([d.min, d.max]).toEqual([105.5, 122.5]);
    const bad = Float32Array.from([1, NaN, 3, Infinity]);
    expect(sliceValues(bad, [4], { cols: 0, at: [0] }).data).toEqual([1, null, 3, null]);
    expect(sliceValues([7], [], { at: [] }).data).toEqual([7]);
    expect(() => sliceValues(x, shape, { rows: 1, cols: 1, at: [0, 0, 0] })).toThrow(/both axis 1/);
    expect(() => sliceValues(x, shape, { rows: 0, cols: 2, at: [0, 3, 0] })).toThrow(/at\[1\]: 3 is outside axis 1 \(size 3/);
    expect(() => sliceValues(x, shape, { rows: 0, cols: 5, at: [0, 0, 0] })).toThrow(/cols: axis 5/);
  });

  it('slices a probed tensor of a run the host keeps (known values through a real run)', async () => {
    // input x[i, j, k] = 100 i + 10 j + k - 5 from a file; Relu clips the negatives
    const json = join(dir, 'ramp.json');
    const values = Array.from({ length: 24 }, (_, n) => 100 * Math.floor(n / 12) + 10 * (Math.floor(n / 4) % 3) + (n % 4) - 5);
    writeFileSync(json, JSON.stringify([{ dtype: 'float32', shape: [2, 3, 4], data: values }]));
    const doc = { format: 'strata', version: 1, input: [{ dtype: 'float32', shape: ['B', 3, 4] }], root: { id: 'n1', kind: 'Serial', children: [{ id: 'n2', kind: 'Relu' }] } };
    const r = ok(await host.run(req(doc, { inputs: [{ kind: 'file', path: json }] })));
    expect(r.runId).toMatch(/\w{8}-/);
    const at = (path: string | null, rows: number, cols: number, pos: number[]): SliceRequest => ({ runId: r.runId, path, index: 0, rows, cols, at: pos });
    const s = slice(await host.tensorSlice(at('Serial[0]', 1, 2, [0, 0, 0])));
    expect(s).toMatchObject({ dtype: 'float32', shape: [2, 3, 4], rows: 3, cols: 4, rowStride: 1, colStride: 1, source: 'kept' });
    expect(s.data).toEqual([0, 0, 0, 0, 5, 6, 7, 8, 15, 16, 17, 18]);
    const s1 = slice(await host.tensorSlice(at('Serial[0]', 1, 2, [1, 0, 0])));
    expect(s1.data).toEqual([95, 96, 97, 98, 105, 106, 107, 108, 115, 116, 117, 118]);
    // the model's output (path null) is the same tensor
    expect(slice(await host.tensorSlice(at(null, 0, 2, [0, 2, 0]))).data).toEqual([15, 16, 17, 18, 115, 116, 117, 118]);
  });

  it('downsamples TransformerLM logits to at most 128 columns, with the stride, per chosen batch row', async () => {
    const r = ok(await host.run(req(example('transformer-lm'), { inputs: [{ kind: 'randint', vocab: 32000, seed: 3 }] })));
    const logits = (b: number) => ({ runId: r.runId, path: '', index: 0, rows: 1, cols: 2, at: [b, 0, 0] });
    const a = slice(await host.tensorSlice(logits(0)));
    expect([a.rows, a.cols, a.rowStride, a.colStride]).toEqual([16, 128, 1, 250]);
    expect(a.data).toHaveLength(16 * 128);
    const b = slice(await host.tensorSlice(logits(1)));
    expect(b.data).not.toEqual(a.data);
    // the run's own heatmap is batch row 0 (64 columns): the slice's pairs of cells average to it
    const hm = r.probes.find((p) => p.path === '' && p.index === 0)!.heatmap!;
    for (const i of [0, 5, 63]) expect(((a.data[2 * i]! + a.data[2 * i + 1]!) / 2)).toBeCloseTo(hm.data[i], 2);
    // a small response: the slice, not the tensor
    expect(JSON.stringify(a).length).toBeLessThan(40_000);
  }, 120_000);

  it('recomputes a tensor over the memory cap by re-running the model (same values), and says when a run is gone', async () => {
    const small = createHostService({ examplesDir, dataDir: join(dir, 'data-small'), desktop: false }, createNumericHost({ keepBytes: 4096, keepRuns: 1 }));
    const a = ok(await small.run(req(mlp(), { seed: 7 })));
    const b = ok(await host.run(req(mlp(), { seed: 7 })));
    const dense = (runId: string): SliceRequest => ({ runId, path: 'Serial[1]', index: 0, rows: 0, cols: 1, at: [0, 0] });
    const recomputed = slice(await small.tensorSlice(dense(a.runId)));
    const kept = slice(await host.tensorSlice(dense(b.runId)));
    expect(recomputed.source).toBe('recomputed');
    expect(kept.source).toBe('kept');
    expect(recomputed.data).toEqual(kept.data);
    expect([recomputed.rows, recomputed.cols, recomputed.colStride]).toEqual([2, 128, 4]);
    // one run kept: a newer run makes the first one gone
    ok(await small.run(req(mlp(), { seed: 8 })));
    expect(await small.tensorSlice(dense(a.runId))).toMatchObject({ ok: false, reason: 'gone', message: expect.stringMatching(/run the model again/) });
    expect(await host.tensorSlice(dense('no-such-run'))).toMatchObject({ ok: false, reason: 'gone' });
  });

  it('answers a request that does not fit the tensor with a message naming the field', async () => {
    const r = ok(await host.run(req(mlp())));
    const base = { runId: r.runId, path: 'Serial[1]', index: 0, rows: 0, cols: 1, at: [0, 0] };
    expect(await host.tensorSlice({ ...base, cols: 2 })).toMatchObject({ ok: false, reason: 'bad_request', message: expect.stringMatching(/cols: axis 2 is not an axis of a rank-2 tensor \[2, 512\]/) });
    expect(await host.tensorSlice({ ...base, rows: 1 })).toMatchObject({ ok: false, reason: 'bad_request', message: expect.stringMatching(/two different axes/) });
    expect(await host.tensorSlice({ ...base, at: [0] })).toMatchObject({ ok: false, reason: 'bad_request', message: expect.stringMatching(/one position per axis/) });
    expect(await host.tensorSlice({ ...base, path: 'Serial[9]' })).toMatchObject({ ok: false, reason: 'not_probed' });
    expect(() => validateCall('tensorSlice', [{ ...base, at: [0.5, 0] }])).toThrow(/at\[1\]|at\[0\]: expected an integer/);
    expect(() => validateCall('tensorSlice', [{ ...base, runId: 3 }])).toThrow(/runId: expected a string/);
    expect(() => validateCall('tensorSlice', [{ ...base, rows: -1 }])).toThrow(/rows: must be 0 or more/);
    expect(validateCall('tensorSlice', [{ ...base, path: null }]).method).toBe('tensorSlice');
  });
});

describe('host service: exports', () => {
  it('exports ONNX that onnxruntime loads, Trax Python, and weights', async () => {
    const onnx = join(dir, 'out', 'mlp.onnx');
    const r = await host.exportModel({ doc: example('mlp-mnist'), path: onnx, format: 'onnx', seed: 0 });
    expect(r).toMatchObject({ ok: true, path: onnx });
    const s = await ort.InferenceSession.create(readFileSync(onnx));
    expect(s.inputNames).toHaveLength(1);
    await s.release();
    const py = join(dir, 'out', 'mlp.py');
    expect(await host.exportModel({ doc: example('mlp-mnist'), path: py, format: 'python', seed: 0 })).toMatchObject({ ok: true });
    expect(readFileSync(py, 'utf8')).toMatch(/model = tl\.Serial\(/);
    const npz = join(dir, 'out', 'mlp.npz');
    const w = await host.exportModel({ doc: example('mlp-mnist'), path: npz, format: 'weights', seed: 0 });
    expect(w.ok && w.bytes).toBeGreaterThan(4 * 784 * 512);
    expect(readdirSync(join(dir, 'out')).sort()).toEqual(['mlp.npz', 'mlp.onnx', 'mlp.py']);
  });

  it('needs a path, and reports model errors', async () => {
    expect(await host.exportModel({ doc: example('mlp-mnist'), format: 'onnx', seed: 0 })).toMatchObject({ ok: false, error: { code: 'bad_input' } });
    expect(await host.exportModel({ doc: mlp('x'), path: join(dir, 'x.onnx'), format: 'onnx', seed: 0 })).toMatchObject({ ok: false, error: { code: 'bad_param' } });
    expect(existsSync(join(dir, 'x.onnx'))).toBe(false);
  });
});

describe('host calls are validated before dispatch', () => {
  it('accepts well-typed calls', () => {
    expect(validateCall('openFile', [])).toEqual({ method: 'openFile', args: [] });
    expect(validateCall('saveFile', ['{}', null])).toEqual({ method: 'saveFile', args: ['{}', undefined] });
    expect(validateCall('run', [req(mlp(), { inputs: [{ kind: 'randint', vocab: 10 }] })]).method).toBe('run');
  });

  it('refuses unknown methods and wrong types', () => {
    const bad: [unknown, unknown, RegExp][] = [
      ['constructor', [], /unknown method/],
      ['__proto__', [], /unknown method/],
      ['readExample', [], /argument 1 is missing/],
      ['readExample', [3], /expected a string, got number/],
      ['saveFile', ['{}', 'a', 'b'], /at most 2 arguments/],
      ['openFile', 'x', /params must be an array/],
      ['run', [{ ...req(mlp()), seed: 'x' }], /seed: expected a finite number/],
      ['run', [{ ...req(mlp()), mode: 'fast' }], /mode: expected one of train, eval, predict/],
      ['run', [{ ...req(mlp()), inputs: [{ kind: 'randint' }] }], /inputs\[0\]\.vocab/],
      ['exportModel', [{ doc: {}, format: 'tflite', seed: 0 }], /format/],
    ];
    for (const [m, p, why] of bad) expect(() => validateCall(m, p), String(m)).toThrow(why);
    expect(() => validateCall('readExample', [1])).toThrow(HostParamError);
  });
});

