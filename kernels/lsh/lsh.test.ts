/**
 * The LSH attention kernel on onnxruntime (CPU) against the plain TypeScript
 * reference (kernels/lsh/reference.ts) on small sizes, several
 * configurations; LSH attention with one chunk covering the sequence equals
 * full shared-QK attention; and the layer (PureLSHSelfAttention) reaches the
 * kernel through the registry.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import '../../kernels';
import type { Model, ValueInfo } from '../../engine/core/onnx';
import { type LshAttentionConfig, lshAttentionKernel } from '../../engine/layers/kernels';
import { Scope, ScopeEmitter, type ModelState } from '../../engine/onnx/emit';
import { lowerDocument } from '../../engine/onnx/lower';
import { modelBytes } from '../../engine/onnx/write';
import { rng } from '../../test/ort';
import { combineHashRounds, lshReference, sharedQkAttentionReference } from './reference';
import { rotations } from './lsh';
import { lshRotations } from './rotations';
import { conformanceCases } from '../../test/conformance';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
function rand(n: number, seed: string): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** A model whose graph calls the registered LSH kernel on its inputs. */
function kernelModel(cfg: LshAttentionConfig, inline: boolean): Model {
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline, gpu: false, mode: 'eval', seed: cfg.seed };
  const main = new Scope(state, 'graph');
  const inputs: ValueInfo[] = [
    { name: 'qk', dtype: 'float32', shape: [cfg.rows, cfg.length, cfg.dQk] },
    { name: 'v', dtype: 'float32', shape: [cfg.rows, cfg.length, cfg.dV] },
  ];
  if (cfg.masked) inputs.push({ name: 'mask', dtype: 'bool', shape: [cfg.rows, cfg.length] });
  for (const i of inputs) main.reserve(i.name);
  const e = new ScopeEmitter(main, 'lsh');
  const out = lshAttentionKernel()(e, 'qk', 'v', cfg.masked ? 'mask' : null, cfg);
  main.reserve('out');
  main.nodes.push({ op: 'Identity', inputs: [out], outputs: ['out'] });
  return {
    graph: { name: 'lsh', inputs, outputs: [{ name: 'out', dtype: 'float32', shape: [cfg.rows, cfg.length, cfg.dV] }], nodes: main.nodes, initializers: [] },
    functions: [...state.functions.values()].map((f) => { const { captured: _c, ...rest } = f as typeof f & { captured?: unknown }; return rest; }),
    producer: 'test',
    metadata: {},
  };
}

async function runKernel(cfg: LshAttentionConfig, qk: Float32Array, v: Float32Array, mask: Uint8Array | null, inline = false): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(modelBytes(kernelModel(cfg, inline)));
  const feeds: Record<string, ort.Tensor> = {
    qk: new ort.Tensor('float32', qk, [cfg.rows, cfg.length, cfg.dQk]),
    v: new ort.Tensor('float32', v, [cfg.rows, cfg.length, cfg.dV]),
  };
  if (mask) feeds.mask = new ort.Tensor('bool', mask, [cfg.rows, cfg.length]);
  const out = await session.run(feeds);
  await session.release();
  return out.out.data as Float32Array;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, keep: (i: number) => boolean = () => true, rtol = 1e-4, atol = 1e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < got.length; i++) {
    if (!keep(i)) continue;
    const excess = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(excess <= worst)) { worst = Number.isNaN(excess) ? Infinity : excess; at = i; }
  }
  expect(worst, `element ${at}: got ${got[at]}, want ${want[at]}`).toBeLessThanOrEqual(1);
}

const base: LshAttentionConfig = {
  rows: 3, length: 16, dQk: 4, dV: 3, nHashes: 1, nBuckets: 4, chunkLen: 4, nChunksBefore: 1, nChunksAfter: 0,
  causal: false, masked: false, dropout: 0, seed: 7, salt: 'test',
};

const configs: [string, Partial<LshAttentionConfig>][] = [
  ['non-causal, 1 hash, chunks 1 before', {}],
  ['causal, 2 hashes, chunks 1 before', { causal: true, nHashes: 2 }],
  ['non-causal, 2 hashes, 1 before and 1 after', { nHashes: 2, nChunksAfter: 1 }],
  ['causal, 2 chunks before (wrapping), 8 buckets', { causal: true, nChunksBefore: 2, nBuckets: 8, chunkLen: 8 }],
  ['factorised buckets [4, 2], 3 hashes', { nBuckets: [4, 2], nHashes: 3, chunkLen: 8 }],
  ['no chunking (one window over all rounds)', { chunkLen: null, nChunksBefore: 0, nHashes: 2 }],
  ['masked (padding bucket, kv_info sign), 2 hashes', { masked: true, nHashes: 2 }],
  ['masked and causal, 1 hash, 1 after', { masked: true, causal: true, nChunksAfter: 1 }],
  ['more neighbours than chunks (no wrap beyond the sequence)', { length: 8, chunkLen: 4, nChunksBefore: 3, nChunksAfter: 2 }],
];

describe('LSH attention kernel vs the TypeScript reference', () => {
  for (const [name, over] of configs) {
    it(name, async () => {
      const cfg: LshAttentionConfig = { ...base, ...over };
      const qk = rand(cfg.rows * cfg.length * cfg.dQk, `qk:${name}`);
      const v = rand(cfg.rows * cfg.length * cfg.dV, `v:${name}`);
      // padding at the end of each row; positions 0 and 1 always real
      const mask = cfg.masked ? Uint8Array.from({ length: cfg.rows * cfg.length }, (_, i) => ((i % cfg.length) < cfg.length - 3 - (Math.floor(i / cfg.length) % 3) ? 1 : 0)) : null;
      const ref = lshReference(qk, v, mask, lshRotations(cfg), cfg);
      // the data must not sit on a bucket boundary (float32 vs float64 would disagree there)
      expect(ref.minArgmaxGap).toBeGreaterThan(1e-4);
      const got = await runKernel(cfg, qk, v, mask);
      // padded queries may see only padded keys: their logits all sit near -1e9 where float32 keeps nothing; compare real tokens
      expectClose(got, ref.out, (i) => !mask || mask[Math.floor(i / cfg.dV)] === 1);
    });
  }

  it('inlined (no function) gives the same numbers', async () => {
    const cfg: LshAttentionConfig = { ...base, causal: true, nHashes: 2 };
    const qk = rand(size([cfg.rows, cfg.length, cfg.dQk]), 'qk:inline');
    const v = rand(size([cfg.rows, cfg.length, cfg.dV]), 'v:inline');
    const a = await runKernel(cfg, qk, v, null, false);
    const b = await runKernel(cfg, qk, v, null, true);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('rotations differ per row and per salt, and follow the seed', () => {
    const a = lshRotations(base), b = lshRotations({ ...base, salt: 'other' }), c = lshRotations({ ...base, seed: 8 });
    const per = base.dQk * 2;
    expect(a.length).toBe(base.rows * per);
    expect(Array.from(a.slice(0, per))).not.toEqual(Array.from(a.slice(per, 2 * per)));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(lshRotations(base))).toEqual(Array.from(a));
  });
});

describe('in a training step, new rotations every step (as Trax\'s hash_rng)', () => {
  it('drawn in the graph from the step\'s rng input: N(0, 1), the same for a step, new for the next', async () => {
    const cfg: LshAttentionConfig = { ...base, rows: 8, dQk: 16 };
    const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: false, mode: 'train', seed: cfg.seed, rngInput: 'rng_step' };
    const main = new Scope(state, 'graph');
    main.reserve('rng_step');
    const rot = rotations(new ScopeEmitter(main, 'lsh'), cfg);
    main.reserve('rot');
    main.nodes.push({ op: 'Identity', inputs: [rot], outputs: ['rot'] });
    const n = lshRotations(cfg).length;
    // no rotations baked in as a constant
    expect(main.nodes.filter((x) => x.op === 'Constant').every((x) => { const t = x.attrs!.value as { tensor: { data: ArrayLike<number> } }; return t.tensor.data.length < n; })).toBe(true);
    const model: Model = { graph: { name: 'rot', inputs: [{ name: 'rng_step', dtype: 'int32', shape: [] }], outputs: [{ name: 'rot', dtype: 'float32', shape: [cfg.rows, cfg.dQk, 2] }], nodes: main.nodes, initializers: [] }, functions: [], producer: 'test', metadata: {} };
    const session = await ort.InferenceSession.create(modelBytes(model));
    const at = async (step: number): Promise<Float32Array> => (await session.run({ rng_step: new ort.Tensor('int32', Int32Array.of(step), []) })).rot.data as Float32Array;
    const [a, a2, b] = [await at(3), await at(3), await at(4)];
    await session.release();
    expect(a.length).toBe(n);
    expect(Array.from(a2)).toEqual(Array.from(a));
    const same = a.filter((x, i) => x === b[i]).length;
    expect(same).toBeLessThan(n / 100);
    const mean = a.reduce((s, x) => s + x, 0) / n;
    const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    // n values: the mean's sd is 1/sqrt(n)
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    expect(a.every(Number.isFinite)).toBe(true);
  });
});

describe('LSH attention with one chunk over the whole sequence equals full attention', () => {
  for (const causal of [false, true]) {
    it(`${causal ? 'causal' : 'non-causal'}: the buckets only reorder, sorting is undone`, async () => {
      const cfg: LshAttentionConfig = { ...base, rows: 2, length: 12, nBuckets: 2, chunkLen: 12, nChunksBefore: 0, causal };
      const qk = rand(cfg.rows * cfg.length * cfg.dQk, `full:qk:${causal}`);
      const v = rand(cfg.rows * cfg.length * cfg.dV, `full:v:${causal}`);
      const want = sharedQkAttentionReference(qk, v, cfg.rows, cfg.length, cfg.dQk, cfg.dV, causal);
      expectClose(await runKernel(cfg, qk, v, null), want);
      // and the reference agrees with itself through its own hashing and sorting
      expectClose(lshReference(qk, v, null, lshRotations(cfg), cfg).out, want, () => true, 1e-9, 1e-12);
    });
  }
});

describe('the LSH layers reach the kernel through the registry', () => {
  it('PureLSHSelfAttention (masked, 2 heads) equals the reference with the layer salt', async () => {
    const B = 2, h = 2, T = 8, d = 4;
    const params = { n_heads: h, d_qk: d, d_v: d, masked: true, causal: true, chunk_len: 4, n_hashes: 2, n_buckets: 4 };
    const input = [{ dtype: 'float32' as const, shape: [B * h, T, d] }, { dtype: 'float32' as const, shape: [B * h, T, d] }, { dtype: 'bool' as const, shape: [B, T] }];
    const low = lowerDocument({ root: { id: 'n', kind: 'PureLSHSelfAttention', params }, input }, { seed: 3, weightValue: () => { throw new Error('no weights'); } });
    const qk = rand(B * h * T * d, 'layer:qk'), v = rand(B * h * T * d, 'layer:v');
    const mask = Uint8Array.from({ length: B * T }, (_, i) => ((i % T) < T - 1 - (i >= T ? 2 : 0) ? 1 : 0));
    const session = await ort.InferenceSession.create(modelBytes(low.model));
    const out = await session.run({
      [low.inputs[0].name]: new ort.Tensor('float32', qk, [B * h, T, d]),
      [low.inputs[1].name]: new ort.Tensor('float32', v, [B * h, T, d]),
      [low.inputs[2].name]: new ort.Tensor('bool', mask, [B, T]),
    });
    const got = out[low.outputs[0].name].data as Float32Array;
    const cfg: LshAttentionConfig = {
      rows: B * h, length: T, dQk: d, dV: d, nHashes: 2, nBuckets: 4, chunkLen: 4, nChunksBefore: 1, nChunksAfter: 0,
      causal: true, masked: true, dropout: 0, seed: 3, salt: 'PureLSHSelfAttention',
    };
    const rowMask = Uint8Array.from({ length: B * h * T }, (_, i) => mask[Math.floor(Math.floor(i / T) / h) * T + (i % T)]);
    const ref = lshReference(qk, v, rowMask, lshRotations(cfg), cfg);
    expect(ref.minArgmaxGap).toBeGreaterThan(1e-4);
    expectClose(got, ref.out, (i) => rowMask[Math.floor(i / d)] === 1);
    expect(low.model.functions.map((f) => f.name)).toContain('LSHAttention');
  });
});

describe('conformance lsh_combine_hashes', () => {
  it('rounds are weighted by exp(lse_r - logsumexp_r(lse))', () => {
    const c = conformanceCases().get('lsh_combine_hashes')!;
    const inp = c.expected.inputs as { o_per_round: number[][][]; logits_per_round: number[][][] };
    const got = combineHashRounds(inp.o_per_round, inp.logits_per_round.map((r) => r.map((x) => x[0])));
    const want = c.expected.output_values as number[][];
    got.forEach((row, t) => row.forEach((x, f) => expect(Math.abs(x - want[t][f])).toBeLessThan(1e-6)));
  });
});
