/**
 * Random values without Random* ops: the shared `randomUniform` helper
 * (statistics, bit-exact agreement with its TypeScript mirror, seeds and
 * salts), and the layers built on it — Dropout in train mode (rate, scaling,
 * shared axes, reproducibility) and RandomUniform. Where STRATA_WEBGPU is set
 * (scripts/test.sh, lavapipe or a GPU) the same graphs also run on the WebGPU
 * provider with CPU fallback disabled and must give the CPU's values.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Model } from '../core/onnx';
import type { ShapeDtype } from '../core/shape';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import { randomKeys, randomUniform, uniformHash } from '../layers/lowering';
import { Scope, ScopeEmitter, type ModelState } from './emit';
import { lowerDocument } from './lower';
import { modelBytes } from './write';
import { arr, rand, run } from '../../test/lowering';

/** the ops notes/gpu.md lists as placed on the WebGPU provider */
const GPU_OPS = new Set(`Relu Sigmoid Tanh Exp Log Sqrt Neg Abs Erf Softplus Reciprocal Floor Ceil Sin Cos Elu LeakyRelu HardSigmoid Gelu
  Identity Not Add Sub Mul Div Pow Max Min Equal Less Greater LessOrEqual GreaterOrEqual And Where ReduceSum ReduceMean ReduceMax ReduceMin
  ReduceLogSumExp ReduceSumSquare ReduceL2 ReduceProd ArgMax ArgMin MatMul Gemm Einsum Softmax LayerNormalization BatchNormalization
  InstanceNormalization Reshape Transpose Concat Split Slice Gather GatherElements GatherND ScatterElements ScatterND Expand Squeeze Unsqueeze
  Tile Pad Flatten Shape ConstantOfShape Range Cast Trilu CumSum TopK Conv ConvTranspose MaxPool AveragePool GlobalAveragePool Clip Constant`.split(/\s+/));

interface Built { model: Model; anchor: string }

/** a model whose one output is randomUniform(shape, salt) under `seed` */
function build(shape: number[], seed: number, salt: string | number, inline = false): Built {
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline, gpu: false, mode: 'train', seed };
  const scope = new Scope(state, 'graph');
  const e = new ScopeEmitter(scope, 'test');
  const u = randomUniform(e, shape, salt);
  scope.nodes.push({ op: 'Identity', inputs: [u], outputs: ['u'] });
  const anchor = scope.nodes.find((n) => n.op === 'Range')!.outputs[0];
  const functions = [...state.functions.values()].map((f) => { const { captured: _c, ...rest } = f as typeof f & { captured?: unknown }; return rest; });
  return { model: { graph: { name: 't', inputs: [], outputs: [{ name: 'u', dtype: 'float32', shape }], nodes: scope.nodes, initializers: [] }, functions, producer: 't', metadata: {} }, anchor };
}

async function values(model: Model, providers: string[] = ['cpu']): Promise<Float32Array> {
  const opts = providers[0] === 'cpu' ? {} : { executionProviders: providers, extra: { session: { disable_cpu_ep_fallback: '1' } } };
  const s = await ort.InferenceSession.create(modelBytes(model), opts);
  const out = await s.run({});
  await s.release();
  return out.u.data as Float32Array;
}

function stats(u: ArrayLike<number>, lags: number[]): { mean: number; variance: number; corr: Record<number, number>; chi2: number } {
  const n = u.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += u[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (u[i] - m) ** 2;
  v /= n;
  const corr: Record<number, number> = {};
  for (const lag of lags) {
    let c = 0;
    for (let i = 0; i + lag < n; i++) c += (u[i] - m) * (u[i + lag] - m);
    corr[lag] = c / (n - lag) / v;
  }
  const bins = new Array<number>(64).fill(0);
  for (let i = 0; i < n; i++) bins[Math.floor(u[i] * 64)]++;
  const chi2 = bins.reduce((s, b) => s + (b - n / 64) ** 2 / (n / 64), 0);
  return { mean: m, variance: v, corr, chi2 };
}

describe('randomUniform (the shared helper)', () => {
  const shape = [256, 1024];

  it('uses only ops the WebGPU provider places on the GPU', () => {
    const { model } = build([4, 5], 1, 'x');
    const ops = [...model.graph.nodes, ...model.functions.flatMap((f) => f.nodes)].map((n) => n.op).filter((op) => op !== 'UniformHash');
    expect(ops.filter((op) => !GPU_OPS.has(op))).toEqual([]);
    expect(ops.some((op) => op.startsWith('Random'))).toBe(false);
  });

  it('is uniform on [0, 1): mean 1/2, variance 1/12, flat histogram, no correlation between neighbours or rows', async () => {
    const u = await values(build(shape, 0, 'stats').model);
    expect(u.length).toBe(262144);
    expect(Math.min(...u.subarray(0, 65536))).toBeGreaterThanOrEqual(0);
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const s = stats(u, [1, 2, 3, 1024, 4096]);
    // sd of the mean: 0.289/512 = 5.6e-4; of the variance ~1.5e-4; of a correlation 2e-3
    expect(Math.abs(s.mean - 0.5)).toBeLessThan(3e-3);
    expect(Math.abs(s.variance - 1 / 12)).toBeLessThan(1e-3);
    for (const [lag, c] of Object.entries(s.corr)) expect(Math.abs(c), `lag ${lag}`).toBeLessThan(0.01);
    // 63 degrees of freedom: p(chi2 > 120) ~ 2e-5
    expect(s.chi2).toBeLessThan(120);
  });

  it('is bit-exact with its TypeScript mirror on the CPU provider, and reproducible', async () => {
    const { model, anchor } = build([3, 7, 11], 42, 'mirror');
    const keys = randomKeys(42, 'mirror', anchor);
    const u = await values(model);
    expect(Array.from(u)).toEqual(Array.from({ length: 231 }, (_, i) => uniformHash(keys, i)));
    expect(Array.from(await values(build([3, 7, 11], 42, 'mirror').model))).toEqual(Array.from(u));
  });

  it('changes with the seed and with the salt (uncorrelated streams)', async () => {
    const a = await values(build(shape, 1, 's').model);
    const b = await values(build(shape, 2, 's').model);
    const c = await values(build(shape, 1, 't').model);
    const d = await values(build(shape, 2 ** 40 + 1, 's').model);
    for (const other of [b, c, d]) {
      let same = 0, cov = 0;
      for (let i = 0; i < a.length; i++) { if (a[i] === other[i]) same++; cov += (a[i] - 0.5) * (other[i] - 0.5); }
      expect(same).toBeLessThan(10);
      expect(Math.abs((cov / a.length) * 12)).toBeLessThan(0.01);
    }
  });

  it('gives the same values through a model-local function and inlined, for the same anchor', async () => {
    const f = build([5, 5], 9, 'fn');
    const g = build([5, 5], 9, 'fn', true);
    expect(f.anchor).toBe(g.anchor);
    expect(Array.from(await values(g.model))).toEqual(Array.from(await values(f.model)));
  });
});

describe('Dropout in train mode', () => {
  const ones = arr([8, 64, 128], new Array<number>(65536).fill(1));

  it('eval and predict are the identity', async () => {
    const x = rand([4, 5], 'dx');
    for (const mode of ['eval', 'predict'] as const) {
      const [y] = await run({ kind: 'Dropout', params: { rate: 0.5 } }, [{ a: x }], { mode, seed: 3 });
      expect(y.data).toEqual(x.data);
    }
  });

  it('zeroes about rate of the elements and scales the survivors by 1/(1-rate)', async () => {
    for (const rate of [0.1, 0.3, 0.9]) {
      const [y] = await run({ kind: 'Dropout', params: { rate } }, [{ a: ones }], { mode: 'train', seed: 7 });
      const zeros = y.data.filter((v) => v === 0).length / y.data.length;
      // sd of the fraction: sqrt(rate(1-rate)/65536) <= 2e-3
      expect(Math.abs(zeros - rate), `rate ${rate}`).toBeLessThan(0.01);
      const scale = Math.fround(1 / Math.fround(1 - rate));
      expect(y.data.every((v) => v === 0 || v === scale)).toBe(true);
    }
  });

  it('the same seed gives the same mask, another seed another one; x is multiplied by the mask', async () => {
    const x = rand([16, 32], 'dropx');
    const node = { kind: 'Dropout', params: { rate: 0.5 } };
    const [a] = await run(node, [{ a: x }], { mode: 'train', seed: 11 });
    const [b] = await run(node, [{ a: x }], { mode: 'train', seed: 11 });
    const [c] = await run(node, [{ a: x }], { mode: 'train', seed: 12 });
    expect(b.data).toEqual(a.data);
    const differ = a.data.filter((v, i) => (v === 0) !== (c.data[i] === 0)).length / a.data.length;
    expect(differ).toBeGreaterThan(0.35); // 0.5 expected for independent masks
    a.data.forEach((v, i) => { if (v !== 0) expect(v).toBe(Math.fround(x.data[i] * 2)); });
  });

  it('two Dropout layers on the same value draw different masks', async () => {
    const [p, q] = await run({ kind: 'Branch', children: [{ kind: 'Dropout', params: { rate: 0.5 } }, { kind: 'Dropout', params: { rate: 0.5 } }] }, [{ a: ones }], { mode: 'train', seed: 5 });
    const differ = p.data.filter((v, i) => (v === 0) !== (q.data[i] === 0)).length / p.data.length;
    expect(Math.abs(differ - 0.5)).toBeLessThan(0.02);
  });

  it('shared_axes: one mask broadcast along the shared axes', async () => {
    const [y] = await run({ kind: 'Dropout', params: { rate: 0.4, shared_axes: [0, -1] } }, [{ a: ones }], { mode: 'train', seed: 2 });
    const [B, L, D] = ones.shape;
    const row = (b: number, l: number): number => y.data[(b * L + l) * D];
    let zeros = 0;
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        for (let d = 0; d < D; d++) expect(y.data[(b * L + l) * D + d]).toBe(row(0, l));
      }
    }
    for (let l = 0; l < L; l++) if (row(0, l) === 0) zeros++;
    expect(zeros).toBeGreaterThan(5);
    expect(zeros).toBeLessThan(L - 5);
  });

  it('integer inputs become float32; rate 0 is the identity', async () => {
    const xi = arr([4, 4], Array.from({ length: 16 }, (_, i) => i - 8));
    const [y] = await run({ kind: 'Dropout', params: { rate: 0.5 } }, [{ a: xi, dtype: 'int32' }], { mode: 'train', seed: 1 });
    expect(y.type).toBe('float32');
    y.data.forEach((v, i) => expect(v === 0 || v === xi.data[i] * 2).toBe(true));
    const x = rand([3, 3], 'r0');
    const [z] = await run({ kind: 'Dropout', params: { rate: 0 } }, [{ a: x }], { mode: 'train', seed: 1 });
    expect(z.data).toEqual(x.data);
  });
});

describe('RandomUniform', () => {
  it('draws from [min_val, max_val) in every mode, reproducibly, and differently for another seed', async () => {
    const node = { kind: 'RandomUniform', params: { min_val: -2, max_val: 3, shape: [64, 64] } };
    const [a] = await run(node, [], { mode: 'train', seed: 4 });
    const [b] = await run(node, [], { mode: 'eval', seed: 4 });
    const [c] = await run(node, [], { mode: 'eval', seed: 5 });
    expect(a.shape).toEqual([64, 64]);
    expect(a.data.every((v) => v >= -2 && v < 3)).toBe(true);
    const mean = a.data.reduce((s, v) => s + v, 0) / a.data.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.1); // sd 1.44/64
    expect(b.data).toEqual(a.data);
    expect(c.data.filter((v, i) => v === a.data[i]).length).toBeLessThan(5);
  });
});

describe.runIf(!!process.env.STRATA_WEBGPU)('on the WebGPU provider (every node on the GPU): the CPU provider\'s values', () => {
  it('randomUniform bit for bit', async () => {
    const { model } = build([64, 96], 123, 'gpu');
    expect(Array.from(await values(model, ['webgpu']))).toEqual(Array.from(await values(model)));
  });

  it('Dropout (train, shared axes) and RandomUniform', async () => {
    const cases: [CaseNode, ShapeDtype[]][] = [
      [{ kind: 'Dropout', params: { rate: 0.3, shared_axes: [1] } }, [{ dtype: 'float32', shape: [4, 6, 8] }]],
      [{ kind: 'RandomUniform', params: { shape: [10, 10], min_val: -1 } }, []],
    ];
    for (const [root, input] of cases) {
      const low = lowerDocument({ root: caseToNode(root), input }, { mode: 'train', seed: 8, weightValue: () => { throw new Error('no weights'); } });
      const feeds: Record<string, ort.Tensor> = {};
      low.inputs.forEach((i) => { feeds[i.name] = new ort.Tensor('float32', Float32Array.from({ length: 192 }, (_, k) => k / 7), i.shape as number[]); });
      const cpu = await ort.InferenceSession.create(modelBytes(low.model));
      const gpu = await ort.InferenceSession.create(modelBytes(low.model), { executionProviders: ['webgpu'], extra: { session: { disable_cpu_ep_fallback: '1' } } });
      const [a, b] = [await cpu.run(feeds), await gpu.run(feeds)];
      expect(Array.from(b.output_0.data as Float32Array)).toEqual(Array.from(a.output_0.data as Float32Array));
    }
  });
});
