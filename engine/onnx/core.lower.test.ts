/**
 * Numbers of the core, activation_fns and normalization lowerings:
 * onnxruntime (CPU) against small, independent TypeScript references with
 * explicit weights (activations on a grid of values, Dense, Embedding with
 * clipped ids, LayerNorm, BatchNorm, FilterResponseNorm, Softmax/LogSoftmax,
 * the reductions, ArgMax, Flatten, LocallyConnected1d, ...), and the
 * conformance value cases of these layers.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../core/shape';
import type { CaseNode } from '../layers/cases/types';
import { conformanceCases } from '../../test/conformance';
import { type Arr, arr, close, mapRef, rand, reduceRef, run, size, tensor, zipRef } from '../../test/lowering';
import { caseToNode } from '../layers/cases/all';
import { runModel } from '../runtime/run';
import '../../kernels';

/** erf by Simpson's rule on 2/sqrt(pi)·exp(-t²) (double precision; independent of any erf approximation) */
function erf(x: number): number {
  if (x === 0) return 0;
  if (Math.abs(x) > 6) return Math.sign(x);
  const n = 4000, h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (s * h) / 3 * 2 / Math.sqrt(Math.PI);
}
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const logSumExpRef = (xs: number[]): number => { const m = Math.max(...xs); return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0)); };

const GRID = [-30, -8, ...Array.from({ length: 49 }, (_, i) => -6 + i * 0.25), 8, 30].map(Math.fround);

// ---------------------------------------------------------------- activations

describe('activation_fns lowerings against TypeScript references', () => {
  const x = arr([GRID.length], GRID);
  const refs: [string, Record<string, number>, (v: number) => number][] = [
    ['Relu', {}, (v) => (v <= 0 ? 0 : v)],
    ['ParametricRelu', { a: 0.3 }, (v) => Math.max(0.3 * v, 0)],
    ['ParametricRelu', { a: -0.5 }, (v) => Math.max(-0.5 * v, 0)],
    ['LeakyRelu', {}, (v) => (v >= 0 ? v : 0.01 * v)],
    ['LeakyRelu', { a: 0.2 }, (v) => (v >= 0 ? v : 0.2 * v)],
    ['Elu', {}, (v) => (v > 0 ? v : Math.expm1(v))],
    ['Elu', { a: 0.7 }, (v) => (v > 0 ? v : 0.7 * Math.expm1(v))],
    ['Selu', {}, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * Math.expm1(v))],
    ['Selu', { alpha: 1.5, lmbda: 2 }, (v) => 2 * (v > 0 ? v : 1.5 * Math.expm1(v))],
    ['Gelu', {}, (v) => v * 0.5 * (1 + erf(v / Math.SQRT2))],
    ['FastGelu', {}, (v) => 0.5 * v * (1 + Math.tanh(v * 0.7978845608 * (1 + 0.044715 * v * v)))],
    ['Sigmoid', {}, sigmoid],
    ['Tanh', {}, Math.tanh],
    ['HardSigmoid', {}, (v) => Math.max(0, Math.min(1, 1 + v))],
    ['HardTanh', {}, (v) => Math.max(-1, Math.min(1, v))],
    ['Softplus', {}, (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)))],
    ['Exp', {}, Math.exp],
    ['Swish', {}, (v) => v * sigmoid(v)],
  ];
  for (const [kind, params, f] of refs) {
    it(`${kind}(${JSON.stringify(params)}) on a grid from -30 to 30`, async () => {
      const [y] = await run({ kind, params }, [{ a: x }]);
      close(y, mapRef(x, f));
    });
  }

  it('Log on positive values, 0 and negatives (-inf, NaN)', async () => {
    const v = arr([6], [0, -1, 1e-3, 0.5, 1, 1e6]);
    const [y] = await run({ kind: 'Log' }, [{ a: v }]);
    close(y, mapRef(v, Math.log));
  });

  it('integer inputs: Relu, HardSigmoid and HardTanh stay int32; Elu gives float32', async () => {
    const v = arr([7], [-20, -2, -1, 0, 1, 2, 20]);
    for (const [kind, f] of [['Relu', (q: number) => Math.max(q, 0)], ['HardSigmoid', (q: number) => Math.max(0, Math.min(1, 1 + q))], ['HardTanh', (q: number) => Math.max(-1, Math.min(1, q))]] as const) {
      const [y] = await run({ kind }, [{ a: v, dtype: 'int32' }]);
      expect(y.type).toBe('int32');
      expect(y.data).toEqual(v.data.map(f));
    }
    const [e] = await run({ kind: 'Elu' }, [{ a: v, dtype: 'int32' }]);
    expect(e.type).toBe('float32');
    close(e, mapRef(v, (q) => (q > 0 ? q : Math.expm1(q))));
  });

  it('ThresholdedLinearUnit: max(x, threshold weight)', async () => {
    const v = rand([3, 4], 'tlu', 2);
    const [y] = await run({ kind: 'ThresholdedLinearUnit' }, [{ a: v }], { weights: { threshold: arr([], [0.3]) } });
    close(y, mapRef(v, (q) => Math.max(q, Math.fround(0.3))));
  });
});

// ---------------------------------------------------------------- core

/** x [.., d] @ w [d, m] (+ b) */
function denseRef(x: Arr, w: Arr, b?: Arr): Arr {
  const d = w.shape[0], m = w.shape[1], rows = size(x.shape) / d;
  const data: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) {
      let s = b ? b.data[j] : 0;
      for (let k = 0; k < d; k++) s += x.data[r * d + k] * w.data[k * m + j];
      data.push(s);
    }
  }
  return { shape: [...x.shape.slice(0, -1), m], data };
}

describe('core lowerings against TypeScript references', () => {
  it('Dense with bias on a rank-3 input, and without bias on int32', async () => {
    const x = rand([2, 3, 4], 'dx'), w = rand([4, 5], 'dw'), b = rand([5], 'db');
    const [y] = await run({ kind: 'Dense', params: { n_units: 5 } }, [{ a: x }], { weights: { kernel: w, bias: b } });
    close(y, denseRef(x, w, b));
    const xi = arr([2, 4], [1, -2, 3, 0, 5, 6, -7, 8]);
    const [yi] = await run({ kind: 'Dense', params: { n_units: 5, use_bias: false } }, [{ a: xi, dtype: 'int32' }], { weights: { kernel: w } });
    expect(yi.type).toBe('float32');
    close(yi, denseRef(xi, w));
  });

  it('Embedding clips out-of-range ids into [0, vocab_size - 1]', async () => {
    const table = rand([6, 3], 'emb');
    const ids = arr([2, 4], [-5, 0, 3, -1, 5, 6, 100, 2]);
    const [y] = await run({ kind: 'Embedding', params: { vocab_size: 6, d_feature: 3 } }, [{ a: ids, dtype: 'int32' }], { weights: { embedding: table } });
    const rows = ids.data.map((i) => Math.min(Math.max(i, 0), 5));
    close(y, arr([2, 4, 3], rows.flatMap((r) => table.data.slice(r * 3, r * 3 + 3))), 0, 0);
  });

  it('Softmax, LogSoftmax and LogSumExp on both axes, with logits far above exp overflow', async () => {
    const x = rand([3, 5], 'sm', 6);
    x.data.splice(5, 5, 1000, 999, -1e9, 0, 120);
    for (const axis of [-1, 0]) {
      const ax = axis < 0 ? 1 : 0;
      const lse = reduceRef(x, [ax], logSumExpRef, true);
      const [ls] = await run({ kind: 'LogSoftmax', params: { axis } }, [{ a: x }]);
      // (1000 - 1000.313: float32 spacing at 1000 is 6e-5)
      close(ls, zipRef(x, lse, (v, l) => v - l), 1e-5, 1e-4);
      const [sm] = await run({ kind: 'Softmax', params: { axis } }, [{ a: x }]);
      close(sm, zipRef(x, lse, (v, l) => Math.exp(v - l)));
      const [l] = await run({ kind: 'LogSumExp', params: { axis } }, [{ a: x }]);
      close(l, lse);
    }
    const xi = arr([2, 3], [1, 2, 3, -4, 0, 4]);
    const [li] = await run({ kind: 'LogSoftmax' }, [{ a: xi, dtype: 'int32' }]);
    expect(li.type).toBe('float32');
    close(li, zipRef(xi, reduceRef(xi, [1], logSumExpRef, true), (v, q) => v - q));
  });

  it('Mean, Min, Max and Sum over axes, keepdims, all axes; integer and bool dtypes', async () => {
    const x = rand([2, 3, 4], 'red', 3);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const cases: [CaseNode, Arr][] = [
      [{ kind: 'Mean' }, reduceRef(x, [2], mean)],
      [{ kind: 'Mean', params: { axis: [0, 2], keepdims: true } }, reduceRef(x, [0, 2], mean, true)],
      [{ kind: 'Mean', params: { axis: null } }, { shape: [], data: [mean(x.data)] }],
      [{ kind: 'Max', params: { axis: 1 } }, reduceRef(x, [1], (xs) => Math.max(...xs))],
      [{ kind: 'Min', params: { axis: null, keepdims: true } }, { shape: [1, 1, 1], data: [Math.min(...x.data)] }],
      [{ kind: 'Sum' }, { shape: [], data: [sum(x.data)] }],
      [{ kind: 'Sum', params: { axis: -2 } }, reduceRef(x, [1], sum)],
    ];
    for (const [node, want] of cases) {
      const [y] = await run(node, [{ a: x }]);
      close(y, want, 1e-5, 1e-5);
    }
    const xi = arr([2, 3], [1, 2, 4, -8, 16, 32]);
    const [si] = await run({ kind: 'Sum', params: { axis: -1 } }, [{ a: xi, dtype: 'int32' }]);
    expect([si.type, si.data]).toEqual(['int32', [7, 40]]);
    const [mi] = await run({ kind: 'Mean', params: { axis: 0 } }, [{ a: xi, dtype: 'int32' }]);
    expect([mi.type, mi.data]).toEqual(['float32', [-3.5, 9, 18]]);
    const [mx] = await run({ kind: 'Max', params: { axis: 0 } }, [{ a: xi, dtype: 'int32' }]);
    expect([mx.type, mx.data]).toEqual(['int32', [1, 16, 32]]);
    const [sb] = await run({ kind: 'Sum', params: { axis: 1, keepdims: true } }, [{ a: arr([2, 3], [1, 0, 1, 1, 1, 1]), dtype: 'bool' }]);
    expect([sb.type, sb.shape, sb.data]).toEqual(['int32', [2, 1], [2, 3]]);
  });

  it('ArgMax over the last axis, axis 0 and the flattened input (first index on ties), as int32', async () => {
    const x = arr([3, 4], [1, 5, 5, 0, -1, -2, -3, -1, 7, 7, 7, 7]);
    const [a] = await run({ kind: 'ArgMax' }, [{ a: x }]);
    expect([a.type, a.data]).toEqual(['int32', [1, 0, 0]]);
    const [b] = await run({ kind: 'ArgMax', params: { axis: 0 } }, [{ a: x }]);
    expect(b.data).toEqual([2, 2, 2, 2]);
    const [c] = await run({ kind: 'ArgMax', params: { axis: null } }, [{ a: x }]);
    expect([c.shape, c.data]).toEqual([[], [8]]);
    const [d] = await run({ kind: 'ArgMax' }, [{ a: arr([2, 3], [3, 9, 9, -4, -5, -4]), dtype: 'int32' }]);
    expect(d.data).toEqual([1, 0]);
  });

  it('Flatten, ToFloat, Negate, ThresholdToBinary (strict), StopGradient, PrintShape, SummaryScalar', async () => {
    const x = rand([2, 3, 4], 'misc');
    const [f1] = await run({ kind: 'Flatten' }, [{ a: x }]);
    expect([f1.shape, f1.data]).toEqual([[2, 12], x.data]);
    const [f2] = await run({ kind: 'Flatten', params: { n_axes_to_keep: 2 } }, [{ a: x }]);
    expect(f2.shape).toEqual([2, 3, 4]);
    const xi = arr([5], [-3, 0, 2, 7, -2147483647]);
    const [tf] = await run({ kind: 'ToFloat' }, [{ a: xi, dtype: 'int32' }]);
    expect([tf.type, tf.data]).toEqual(['float32', xi.data.map(Math.fround)]);
    const [ng] = await run({ kind: 'Negate' }, [{ a: xi, dtype: 'int32' }]);
    expect([ng.type, ng.data]).toEqual(['int32', xi.data.map((v) => 0 - v)]);
    const [nf] = await run({ kind: 'Negate' }, [{ a: x }]);
    close(nf, mapRef(x, (v) => -v), 0, 0);
    const t = arr([6], [0.3, 0.49, 0.5, 0.51, 0.7, -1]);
    const [tb] = await run({ kind: 'ThresholdToBinary' }, [{ a: t }]);
    expect([tb.type, tb.data]).toEqual(['int32', [0, 0, 0, 1, 1, 0]]);
    const [tz] = await run({ kind: 'ThresholdToBinary', params: { threshold: 2 } }, [{ a: arr([4], [1, 2, 3, -5]), dtype: 'int32' }]);
    expect(tz.data).toEqual([0, 0, 1, 0]);
    for (const kind of ['StopGradient', 'SummaryScalar']) {
      const [y] = await run({ kind, params: kind === 'SummaryScalar' ? { name: 'm' } : {} }, [{ a: x }]);
      expect(y.data).toEqual(x.data);
    }
    const [p0, p1] = await run({ kind: 'PrintShape', params: { n_in: 2 } }, [{ a: x }, { a: xi, dtype: 'int32' }]);
    expect([p0.data, p1.data]).toEqual([x.data, xi.data]);
  });

  it('SummaryImage returns its inputs; with n_in=1 (quirk) x[:1]', async () => {
    const x = rand([3, 2, 2, 1], 'img');
    const [y] = await run({ kind: 'SummaryImage', params: { name: 'i', n_in: 1 } }, [{ a: x }]);
    expect([y.shape, y.data]).toEqual([[1, 2, 2, 1], x.data.slice(0, 4)]);
    const z = rand([3, 4, 2, 1], 'img2');
    const [a, b] = await run({ kind: 'SummaryImage', params: { name: 'i', n_in: 2 } }, [{ a: x }, { a: z }]);
    expect([a.data, b.data]).toEqual([x.data, z.data]);
  });

  it('Weights returns its weight', async () => {
    const w = rand([2, 3], 'wts');
    const [y] = await run({ kind: 'Weights', params: { initializer: { $init: 'GlorotUniformInitializer' }, shape: [2, 3] } }, [], { weights: { weights: w } });
    expect([y.shape, y.data]).toEqual([[2, 3], w.data]);
  });
});

// ---------------------------------------------------------------- LocallyConnected1d

/** Trax's LocallyConnected1d literally: einsum, split by kernel index, pad/cut per piece, sum. */
function locallyConnectedRef(x: Arr, w: Arr, b: Arr | null, K: number, padding: 'VALID' | 'SAME' | 'WRAP'): Arr {
  const [L, , P, F] = w.shape;
  const lead = x.shape.slice(0, -2);
  const N = size(lead);
  // r[n][l][k][f]
  const r = (n: number, l: number, k: number, f: number): number => {
    let s = 0;
    for (let p = 0; p < P; p++) s += x.data[(n * L + l) * P + p] * w.data[((l * K + k) * P + p) * F + f];
    return s;
  };
  const Lout = padding === 'VALID' ? L - K + 1 : L;
  const out = new Array<number>(N * Lout * F).fill(0);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < K; i++) {
      // piece_i along l, then shifted
      const piece = (l: number, f: number): number => r(n, l, i, f);
      for (let t = 0; t < Lout; t++) {
        for (let f = 0; f < F; f++) {
          let v: number;
          if (K === 1) v = piece(t, f);
          else if (padding === 'VALID') v = piece(t + (K - 1 - i), f); // cut [K-1-i : L-i]
          else {
            // pad ((K-1)-i, i), then cut [(K-1)//2 : -(K-1)//2]
            const j = t + (K - 1) / 2 - (K - 1 - i);
            if (padding === 'WRAP') v = piece(((j % L) + L) % L, f);
            else v = j >= 0 && j < L ? piece(j, f) : 0;
          }
          out[(n * Lout + t) * F + f] += v;
        }
      }
    }
  }
  const y = { shape: [...lead, Lout, F], data: out };
  return b ? zipRef(y, b, (a, c) => a + c) : y;
}

describe('LocallyConnected1d against the Trax algorithm', () => {
  for (const padding of ['VALID', 'SAME', 'WRAP'] as const) {
    for (const K of [1, 3, 5]) {
      it(`${padding}, kernel_size ${K}`, async () => {
        const L = 7, P = 3, F = 2;
        const x = rand([2, L, P], `lcx${K}`), w = rand([L, K, P, F], `lcw${K}`);
        const Lout = padding === 'VALID' ? L - K + 1 : L;
        const b = rand([Lout, F], `lcb${K}`);
        const [y] = await run({ kind: 'LocallyConnected1d', params: { filters: F, kernel_size: K, padding } }, [{ a: x }], { weights: { kernel: w, bias: b } });
        close(y, locallyConnectedRef(x, w, b, K, padding));
      });
    }
  }
  it('rank 2 input, no bias, int32', async () => {
    const x = arr([4, 2], [1, 2, -3, 4, 5, -6, 7, 8]), w = rand([4, 3, 2, 3], 'lc2');
    const [y] = await run({ kind: 'LocallyConnected1d', params: { filters: 3, kernel_size: 3, use_bias: false, padding: 'SAME' } }, [{ a: x, dtype: 'int32' }], { weights: { kernel: w } });
    close(y, { shape: [4, 3], data: locallyConnectedRef({ shape: [1, 4, 2], data: x.data }, w, null, 3, 'SAME').data }, 1e-5, 1e-5);
  });
});

// ---------------------------------------------------------------- normalization

function layerNormRef(x: Arr, scale: Arr, bias: Arr, center: boolean, eps = 1e-6): Arr {
  const d = x.shape[x.shape.length - 1];
  const data: number[] = [];
  for (let r = 0; r < x.data.length / d; r++) {
    const row = x.data.slice(r * d, (r + 1) * d);
    const m = row.reduce((a, b) => a + b, 0) / d;
    const c = center ? row.map((v) => v - m) : row;
    const v = c.reduce((a, b) => a + b * b, 0) / d;
    data.push(...c.map((q, j) => (q / Math.sqrt(v + eps)) * scale.data[j] + (center ? bias.data[j] : 0)));
  }
  return { shape: x.shape, data };
}

describe('normalization lowerings against TypeScript references', () => {
  it('LayerNorm: eps inside the sqrt, biased variance; center=False is RMS-norm ignoring bias', async () => {
    const x = rand([2, 3, 6], 'lnx', 2), scale = rand([6], 'lns'), bias = rand([6], 'lnb');
    for (const center of [true, false]) {
      const [y] = await run({ kind: 'LayerNorm', params: { center } }, [{ a: x }], { weights: { scale, bias } });
      close(y, layerNormRef(x, scale, bias, center), 1e-5, 1e-5);
    }
    const [e] = await run({ kind: 'LayerNorm', params: { epsilon: 0.5 } }, [{ a: x }], { weights: { scale, bias } });
    close(e, layerNormRef(x, scale, bias, true, 0.5), 1e-5, 1e-5);
  });

  it('LayerNorm keeps the variance of rows far from 0 (two-pass, as Trax)', async () => {
    const x = rand([2, 16], 'lnoff', 0.01, 1000);
    const ones = arr([16], new Array<number>(16).fill(1)), zeros = arr([16], new Array<number>(16).fill(0));
    const [y] = await run({ kind: 'LayerNorm' }, [{ a: x }], { weights: { scale: ones, bias: zeros } });
    // float32 rounding of the mean (spacing 6e-5 at 1000) against a std of ~0.006
    close(y, layerNormRef(x, ones, zeros, true), 0, 2e-2);
  });

  it('BatchNorm: running statistics in eval, batch statistics (E[x^2] - E[x]^2) in train', async () => {
    const x = rand([4, 3, 2, 5], 'bnx', 2, 0.5);
    const beta = rand([5], 'bnb'), gamma = rand([5], 'bng');
    const rm = rand([1, 1, 1, 5], 'bnm'), rv = mapRef(rand([1, 1, 1, 5], 'bnv'), (v) => Math.fround(1 + Math.abs(v)));
    const weights = { beta, gamma, running_mean: rm, running_var: rv, n_batches: arr([], [0]) };
    const norm = (mean: Arr, vr: Arr, eps = 1e-5): Arr => {
      const z = zipRef(zipRef(x, mean, (a, b) => a - b), vr, (a, b) => a / Math.sqrt(b + eps));
      return zipRef(zipRef(z, gamma, (a, b) => a * b), beta, (a, b) => a + b);
    };
    const [ev] = await run({ kind: 'BatchNorm' }, [{ a: x }], { weights });
    close(ev, norm(rm, rv), 1e-5, 1e-5);
    const [tr] = await run({ kind: 'BatchNorm' }, [{ a: x }], { weights, mode: 'train' });
    const mean = reduceRef(x, [0, 1, 2], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, true);
    const m2 = reduceRef(mapRef(x, (v) => v * v), [0, 1, 2], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, true);
    close(tr, norm(mean, zipRef(m2, mean, (a, b) => a - b * b)), 1e-4, 1e-4);
  });

  it('BatchNorm in train mode updates its running statistics where the run carries state (training)', async () => {
    const x = rand([4, 3, 2, 5], 'bnx2', 2, 0.5);
    const rm = rand([1, 1, 1, 5], 'bnm2');
    const rv = mapRef(rand([1, 1, 1, 5], 'bnv2'), (v) => Math.fround(1 + Math.abs(v)));
    const values: Record<string, Arr> = { beta: rand([5], 'bnb2'), gamma: rand([5], 'bng2'), running_mean: rm, running_var: rv, n_batches: arr([], [7]) };
    const r = await runModel({
      root: caseToNode({ kind: 'BatchNorm', params: { momentum: 0.9 } }), inputs: [tensor(x, 'float32')], mode: 'train', seed: 0,
      weightValue: (ref) => tensor(values[ref.decl.name], ref.decl.dtype), state: new Map(),
    });
    const mean = reduceRef(x, [0, 1, 2], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, true);
    const m2 = reduceRef(mapRef(x, (v) => v * v), [0, 1, 2], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, true);
    const variance = zipRef(m2, mean, (a, b) => a - b * b);
    const got = (name: string): Arr => { const t = r.state!.get(`BatchNorm/${name}`)!; return { shape: t.dims, data: Array.from(t.data as Float32Array) }; };
    close(got('running_mean'), zipRef(rm, mean, (o, b) => 0.9 * o + 0.1 * b), 1e-5, 1e-5);
    close(got('running_var'), zipRef(rv, variance, (o, b) => 0.9 * o + 0.1 * b), 1e-4, 1e-4);
    expect(Array.from(r.state!.get('BatchNorm/n_batches')!.data as Int32Array)).toEqual([8]);
    // eval mode reads them and changes nothing
    const ev = await runModel({ root: caseToNode({ kind: 'BatchNorm' }), inputs: [tensor(x, 'float32')], mode: 'eval', seed: 0, weightValue: (ref) => tensor(values[ref.decl.name], ref.decl.dtype), state: new Map() });
    expect(Array.from(ev.state!.get('BatchNorm/running_mean')!.data as Float32Array)).toEqual(rm.data);
  });

  it('BatchNorm with axis (0,) on a rank-2 input, no center', async () => {
    const x = rand([3, 4], 'bn2');
    const gamma = rand([4], 'bn2g'), rm = rand([1, 4], 'bn2m'), rv = arr([1, 4], [1, 2, 3, 4]);
    const [y] = await run({ kind: 'BatchNorm', params: { axis: [0], center: false } }, [{ a: x }], { weights: { gamma, running_mean: rm, running_var: rv, n_batches: arr([], [0]) } });
    close(y, zipRef(zipRef(zipRef(x, rm, (a, b) => a - b), rv, (a, b) => a / Math.sqrt(b + 1e-5)), gamma, (a, b) => a * b), 1e-5, 1e-5);
  });

  it('FilterResponseNorm: x * rsqrt(mean(x^2 over axes 1..rank-2) + eps), learnt epsilon', async () => {
    const x = rand([2, 3, 4, 5], 'frn', 2);
    const gamma = rand([5], 'frg'), beta = rand([5], 'frb');
    const nu2 = reduceRef(mapRef(x, (v) => v * v), [1, 2], (xs) => xs.reduce((a, b) => a + b, 0) / xs.length, true);
    const ref = (eps: number): Arr => zipRef(zipRef(zipRef(x, nu2, (a, b) => a / Math.sqrt(b + eps)), gamma, (a, b) => a * b), beta, (a, b) => a + b);
    const [y] = await run({ kind: 'FilterResponseNorm' }, [{ a: x }], { weights: { gamma, beta } });
    close(y, ref(1e-6), 1e-5, 1e-5);
    const [l] = await run({ kind: 'FilterResponseNorm', params: { learn_epsilon: true } }, [{ a: x }], { weights: { gamma, beta, epsilon_l: arr([], [-0.5]) } });
    close(l, ref(1e-6 + 0.5), 1e-5, 1e-5);
  });
});

// ---------------------------------------------------------------- conformance value cases

/** the document each conformance case's `model` string builds, with its weights */
const CONFORMANCE: Record<string, { node: CaseNode; weights?: Record<string, Arr> }> = {
  relu_doc_int: { node: { kind: 'Relu' } },
  parametric_relu: { node: { kind: 'ParametricRelu', params: { a: 0.25 } } },
  min_default: { node: { kind: 'Min' } },
  max_axis0_keepdims: { node: { kind: 'Max', params: { axis: 0, keepdims: true } } },
  threshold_to_binary: { node: { kind: 'ThresholdToBinary' } },
  sum_default_all_axes: { node: { kind: 'Sum' } },
  mean_default: { node: { kind: 'Mean' } },
  flatten_doc: { node: { kind: 'Flatten', params: { n_axes_to_keep: 1 } } },
  layernorm_doc: { node: { kind: 'LayerNorm' } },
  relu_layernorm_doc: { node: { kind: 'Serial', children: [{ kind: 'Relu' }, { kind: 'LayerNorm' }] } },
  maxpool_values_2x2: { node: { kind: 'MaxPool', params: { pool_size: [2, 2], strides: [2, 2] } } },
  maxpool_same_1d: { node: { kind: 'MaxPool', params: { pool_size: [3], strides: [3], padding: 'SAME' } } },
  dense_no_bias_given_weights: { node: { kind: 'Dense', params: { n_units: 4, use_bias: false } } },
  embedding_clip: {
    node: { kind: 'Embedding', params: { vocab_size: 5, d_feature: 2, kernel_initializer: { $lambda: 'lambda shape, rng: np.arange(np.prod(shape)).reshape(shape)' } } },
    weights: { embedding: arr([5, 2], Array.from({ length: 10 }, (_, i) => i)) },
  },
  dropout_eval_noop: { node: { kind: 'Dropout', params: { rate: 0.1, mode: 'eval' } } },
  weights_layer_zero: { node: { kind: 'Weights', params: { initializer: { $lambda: 'lambda shape, rng: jnp.zeros(shape, dtype=jnp.float32)' } } }, weights: { weights: arr([], [0]) } },
  summary_scalar: { node: { kind: 'SummaryScalar', params: { name: 'test' } } },
};

const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [Number(v)]);
function shapeOf(v: unknown): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length ? shapeOf(v[0]) : [])] : [];
}

describe('conformance value cases of these layers', () => {
  for (const [id, { node, weights }] of Object.entries(CONFORMANCE)) {
    it(id, async () => {
      const c = conformanceCases().get(id);
      if (!c) throw new Error(`no conformance case ${id}`);
      const ex = c.expected as Record<string, unknown>;
      const atol = (c as unknown as { tolerance?: { atol?: number } }).tolerance?.atol ?? 1e-5;
      const given = ex.weights ? { kernel: arr(shapeOf(ex.weights), flat(ex.weights)) } : weights;
      const calls = (ex.calls as { inputs: unknown; output_values: unknown }[] | undefined) ?? [{ inputs: ex.inputs, output_values: ex.output_values }];
      for (const call of calls) {
        const sig = c.input_signature;
        const ins = sig.length === 1 ? [call.inputs] : sig.length === 0 ? [] : (call.inputs as unknown[]);
        // (dropout_eval_noop gives no values: its input is np.ones)
        const feeds = id === 'dropout_eval_noop'
          ? [{ a: arr([2, 5, 1000], new Array<number>(10000).fill(1)), dtype: 'float32' as DType }]
          : ins.map((v, i) => ({ a: arr(shapeOf(v), flat(v)), dtype: sig[i].dtype }));
        const [y] = await run(node, feeds, { weights: given });
        if (id === 'dropout_eval_noop') {
          expect(y.data.filter((v) => v !== 0).length).toBe(ex.output_nonzero_count);
          continue;
        }
        const want = arr(shapeOf(call.output_values), flat(call.output_values));
        close(y, want, 0, atol);
      }
    });
  }

  it('selu_elu_sigmoid_etc (each layer on the case input)', async () => {
    const c = conformanceCases().get('selu_elu_sigmoid_etc')!;
    const ex = c.expected as { inputs: number[]; per_layer_values: Record<string, number[]> };
    for (const [kind, values] of Object.entries(ex.per_layer_values)) {
      const [y] = await run({ kind }, [{ a: arr([ex.inputs.length], ex.inputs) }]);
      close(y, arr([values.length], values), 0, 1e-5);
    }
  });
});
