/**
 * Numbers of the metrics family's lowerings (trax-semantics §13): every
 * metric and loss run on onnxruntime (CPU) against a small TypeScript
 * reference, plus every conformance `value` case of the family.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { TensorValue } from '../core/onnx';
import type { DType } from '../core/shape';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import { lowerDocument } from './lower';
import { modelBytes } from './write';
import { rng, toOrt } from '../../test/ort';
import { conformanceCases } from '../../test/conformance';

interface In { shape: number[]; data: number[]; dtype?: DType }

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
function tensor(x: In): TensorValue {
  const dtype = x.dtype ?? 'float32';
  if (dtype === 'int32') return { dtype, dims: x.shape, data: Int32Array.from(x.data) };
  if (dtype === 'bool') return { dtype, dims: x.shape, data: Int32Array.from(x.data, (v) => (v ? 1 : 0)) };
  return { dtype: 'float32', dims: x.shape, data: Float32Array.from(x.data) };
}

/** Runs one layer (a catalog-style node) on onnxruntime's CPU provider; returns its first output's values. */
async function run(c: CaseNode, inputs: In[]): Promise<{ shape: number[]; data: number[] }> {
  const input = inputs.map((x) => ({ dtype: x.dtype ?? 'float32', shape: x.shape }));
  const low = lowerDocument({ root: caseToNode(c), input }, { weightValue: () => { throw new Error('metrics have no weights'); } });
  const session = await ort.InferenceSession.create(modelBytes(low.model));
  const feeds: Record<string, ort.Tensor> = {};
  low.inputs.forEach((info, i) => { feeds[info.name] = toOrt(tensor(inputs[i])); });
  const out = (await session.run(feeds))[low.outputs[0].name];
  await session.release();
  expect(out.type).toBe(low.outputs[0].dtype);
  return { shape: [...out.dims].map(Number), data: Array.from(out.data as ArrayLike<number>, Number) };
}

async function scalar(c: CaseNode, inputs: In[]): Promise<number> {
  const r = await run(c, inputs);
  expect(r.shape).toEqual([]);
  return r.data[0];
}

function near(got: number, want: number, rtol = 1e-5, atol = 1e-6): void {
  if (Number.isNaN(want)) { expect(got).toBeNaN(); return; }
  if (!(Math.abs(got - want) <= atol + rtol * Math.abs(want))) expect(got).toBeCloseTo(want, 6);
}

// ---------------------------------------------------------------- data and references

const floats = (shape: number[], seed: string, lo = -2, hi = 2): In => {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => Math.fround(lo + (hi - lo) * r())) };
};
const ints = (shape: number[], seed: string, n: number): In => {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => Math.floor(r() * n)), dtype: 'int32' };
};

/** argmax over the last axis (first maximum), one entry per row */
function argmaxRows(y: In): number[] {
  const n = y.shape[y.shape.length - 1];
  const out: number[] = [];
  for (let r = 0; r < y.data.length / n; r++) {
    let best = 0;
    for (let j = 1; j < n; j++) if (y.data[r * n + j] > y.data[r * n + best]) best = j;
    out.push(best);
  }
  return out;
}
function logSoftmaxRows(y: In): number[][] {
  const n = y.shape[y.shape.length - 1];
  const rows: number[][] = [];
  for (let r = 0; r < y.data.length / n; r++) {
    const row = y.data.slice(r * n, (r + 1) * n);
    const m = Math.max(...row);
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m;
    rows.push(row.map((v) => v - lse));
  }
  return rows;
}
function ceRows(y: In, t: In, eps: number | null): number[] {
  const n = y.shape[y.shape.length - 1];
  return logSoftmaxRows(y).map((lp, r) => -lp.reduce((a, v, j) => a + v * ((j === t.data[r] ? 1 : 0) * (1 - (eps ?? 0)) + (eps ?? 0) / n), 0));
}
const sum = (xs: number[]): number => xs.reduce((a, v) => a + v, 0);
const mean = (xs: number[]): number => sum(xs) / xs.length;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** per-class F-scores over classes first..n-1 of rank-1 predictions/targets, and the target counts */
function fScores(pred: number[], t: number[], n: number, first: number, beta: number): { f: number[]; count: number[] } {
  const b2 = beta * beta;
  const f: number[] = [], count: number[] = [];
  const safe = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  for (let k = first; k < n; k++) {
    const nc = pred.filter((p, i) => p === k && t[i] === k).length;
    const np = pred.filter((p) => p === k).length, nt = t.filter((v) => v === k).length;
    const P = safe(nc, np), R = safe(nc, nt);
    f.push(safe((b2 + 1) * P * R, b2 * P + R));
    count.push(nt);
  }
  return { f, count };
}

describe('metrics lowerings against TypeScript references', () => {
  const y = floats([4, 3, 5], 'y'), t = ints([4, 3], 't', 5), w = floats([4, 3], 'w', 0, 1);
  const pred = argmaxRows(y);

  it('CategoryAccuracy', async () => {
    near(await scalar({ kind: 'CategoryAccuracy' }, [y, t]), mean(pred.map((p, i) => (p === t.data[i] ? 1 : 0))));
  });

  it('WeightedCategoryAccuracy (weights broadcast against the targets)', async () => {
    near(await scalar({ kind: 'WeightedCategoryAccuracy' }, [y, t, w]), sum(pred.map((p, i) => (p === t.data[i] ? w.data[i] : 0))) / sum(w.data));
    const wb = floats([4, 1], 'wb', 0, 1);
    const want = sum(pred.map((p, i) => (p === t.data[i] ? wb.data[Math.floor(i / 3)] : 0))) / sum(wb.data);
    near(await scalar({ kind: 'WeightedCategoryAccuracy' }, [y, t, wb]), want);
  });

  for (const eps of [null, 0.1]) {
    it(`CategoryCrossEntropy (label_smoothing ${eps})`, async () => {
      near(await scalar({ kind: 'CategoryCrossEntropy', params: { label_smoothing: eps } }, [y, t]), mean(ceRows(y, t, eps)));
    });
  }

  it('WeightedCategoryCrossEntropy with and without cutoff', async () => {
    const ce = ceRows(y, t, 0.05);
    near(await scalar({ kind: 'WeightedCategoryCrossEntropy', params: { label_smoothing: 0.05 } }, [y, t, w]), sum(ce.map((c, i) => c * w.data[i])) / sum(w.data));
    const cut = ce.map((c) => Math.max(c, 1.5) - 1.5);
    near(await scalar({ kind: 'WeightedCategoryCrossEntropy', params: { label_smoothing: 0.05, cutoff: 1.5 } }, [y, t, w]), sum(cut.map((c, i) => c * w.data[i])) / sum(w.data));
  });

  it('BinaryCrossEntropy (logits in)', async () => {
    const x = floats([6], 'bx', -4, 4), tb = ints([6], 'bt', 2);
    const want = mean(x.data.map((v, i) => -(tb.data[i] * Math.log(sigmoid(v)) + (1 - tb.data[i]) * Math.log(1 - sigmoid(v)))));
    near(await scalar({ kind: 'BinaryCrossEntropy' }, [x, tb]), want, 1e-5, 1e-5);
  });

  it('MaskedSequenceAccuracy', async () => {
    // make some sequences right by copying the predictions into the targets
    const tt = { ...t, data: t.data.map((v, i) => (Math.floor(i / 3) % 2 === 0 ? pred[i] : v)) };
    const m = { shape: [4, 3], data: [1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0] };
    const want = mean([0, 1, 2, 3].map((b) => ([0, 1, 2].every((j) => pred[b * 3 + j] === tt.data[b * 3 + j] || m.data[b * 3 + j] === 0) ? 1 : 0)));
    near(await scalar({ kind: 'MaskedSequenceAccuracy' }, [y, tt, m]), want);
  });

  it('Accuracy and SequenceAccuracy (ArgMax classifier)', async () => {
    near(await scalar({ kind: 'Accuracy' }, [y, t, w]), sum(pred.map((p, i) => (p === t.data[i] ? w.data[i] : 0))) / sum(w.data));
    const m = { shape: [4, 3], data: [1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 0] };
    const want = mean([0, 1, 2, 3].map((b) => 1 - Math.min(1, sum([0, 1, 2].map((j) => (1 - (pred[b * 3 + j] === t.data[b * 3 + j] ? 1 : 0)) * m.data[b * 3 + j])))));
    near(await scalar({ kind: 'SequenceAccuracy' }, [y, t, m]), want);
  });

  it('CrossEntropyLoss (log-probabilities in), CrossEntropyLossWithLogSoftmax, CrossEntropySum', async () => {
    const lp = logSoftmaxRows(y);
    const ce = lp.map((row, r) => -row[t.data[r]]);
    const logp = { shape: y.shape, data: lp.flat().map(Math.fround) };
    near(await scalar({ kind: 'CrossEntropyLoss' }, [logp, t, w]), sum(ce.map((c, i) => c * w.data[i])) / sum(w.data));
    near(await scalar({ kind: 'CrossEntropyLossWithLogSoftmax' }, [y, t, w]), sum(ce.map((c, i) => c * w.data[i])) / sum(w.data));
    near(await scalar({ kind: 'CrossEntropySum' }, [logp, t, w]), sum(ce.map((c, i) => c * w.data[i])));
  });

  it('CrossEntropyLoss picks the target without a one-hot, and keeps one_hot\'s edge cases: out-of-range targets count 0, an infinity in the row gives NaN', async () => {
    const lp = logSoftmaxRows(y);
    const logp = { shape: y.shape, data: lp.flat().map(Math.fround) };
    const n = y.shape[y.shape.length - 1];
    // targets n and -1 have all-zero one-hots: those items' cross-entropy is 0
    const odd = { ...t, data: t.data.map((v, i) => (i === 1 ? n : i === 2 ? -1 : v)) };
    const ce = lp.map((row, r) => (r === 1 || r === 2 ? 0 : -row[odd.data[r]]));
    near(await scalar({ kind: 'CrossEntropyLoss' }, [logp, odd, w]), sum(ce.map((c, i) => c * w.data[i])) / sum(w.data));
    // -inf at a non-target position: Trax's -inf * 0 is NaN
    const inf = { ...logp, data: logp.data.map((v, i) => (i === (t.data[0] === 0 ? 1 : 0) ? -Infinity : v)) };
    expect(Number.isNaN(await scalar({ kind: 'CrossEntropyLoss' }, [inf, t, w]))).toBe(true);
  });

  it('BinaryCrossEntropyLoss and BinaryCrossEntropySum (probabilities in; rank 1 and rank 2)', async () => {
    const p = floats([5], 'pp', 0.05, 0.95), tb = floats([5], 'pt', 0, 1), wb = floats([5], 'pw', 0, 1);
    const j = -sum(p.data.map((v, i) => tb.data[i] * Math.log(v) + (1 - tb.data[i]) * Math.log(1 - v))) / 5;
    // the per-item value is one scalar here, so the weighted mean is that scalar
    near(await scalar({ kind: 'BinaryCrossEntropyLoss' }, [p, tb, wb]), j);
    near(await scalar({ kind: 'BinaryCrossEntropySum' }, [p, tb, wb]), sum(wb.data.map((v) => v * j)));
    // rank 2 [3, 3]: j = -(t.T @ log p + (1 - t).T @ log(1 - p)) / 3, a 3x3 matrix
    const p2 = floats([3, 3], 'p2', 0.05, 0.95), t2 = floats([3, 3], 't2', 0, 1), w2 = floats([3, 3], 'w2', 0, 1);
    const J: number[] = [];
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += t2.data[k * 3 + a] * Math.log(p2.data[k * 3 + b]) + (1 - t2.data[k * 3 + a]) * Math.log(1 - p2.data[k * 3 + b]);
        J.push(-s / 3);
      }
    }
    near(await scalar({ kind: 'BinaryCrossEntropyLoss' }, [p2, t2, w2]), sum(J.map((v, i) => v * w2.data[i])) / sum(w2.data));
  });

  it('L2Loss and SmoothL1Loss', async () => {
    const a = floats([3, 4], 'la'), b = floats([3, 4], 'lb'), wl = floats([3, 4], 'lw', 0, 1);
    near(await scalar({ kind: 'L2Loss' }, [a, b, wl]), sum(a.data.map((v, i) => wl.data[i] * (v - b.data[i]) ** 2)) / sum(wl.data));
    const smooth = a.data.map((v, i) => { const d = Math.abs(v - b.data[i]); return d < 1 ? 0.5 * d * d : d - 0.5; });
    near(await scalar({ kind: 'SmoothL1Loss' }, [a, b, wl]), sum(smooth.map((v, i) => v * wl.data[i])) / sum(wl.data));
  });

  for (const [beta, first] of [[1, 0], [2, 1], [0.5, 2]]) {
    it(`MacroAveragedFScore and WeightedFScore (beta ${beta}, initial_category_index ${first})`, async () => {
      const yf = floats([12, 4], `fy${first}`), tf = ints([12], `ft${first}`, 4);
      const { f, count } = fScores(argmaxRows(yf), tf.data, 4, first, beta);
      const params = { beta, initial_category_index: first };
      near(await scalar({ kind: 'MacroAveragedFScore', params }, [yf, tf]), mean(f));
      near(await scalar({ kind: 'WeightedFScore', params }, [yf, tf]), sum(f.map((v, i) => v * count[i])) / sum(count));
    });
  }

  it('WeightedSum (float and int)', async () => {
    const a = floats([2, 3], 'sa'), b = floats([2, 3], 'sb');
    near(await scalar({ kind: 'WeightedSum' }, [a, b]), sum(a.data.map((v, i) => v * b.data[i])));
    const ia = ints([4], 'ia', 9), ib = ints([4], 'ib', 9);
    expect(await scalar({ kind: 'WeightedSum' }, [ia, ib])).toBe(sum(ia.data.map((v, i) => v * ib.data[i])));
  });
});

// ---------------------------------------------------------------- conformance value cases

interface Call { inputs: unknown[]; output_values: number; layer?: string }

const CASES: Record<string, { node: (call: Call) => CaseNode }> = {
  category_accuracy: { node: () => ({ kind: 'CategoryAccuracy' }) },
  weighted_category_accuracy_even: { node: () => ({ kind: 'WeightedCategoryAccuracy' }) },
  category_cross_entropy: { node: () => ({ kind: 'CategoryCrossEntropy' }) },
  category_cross_entropy_ls: { node: () => ({ kind: 'CategoryCrossEntropy', params: { label_smoothing: 0.01 } }) },
  binary_cross_entropy: { node: () => ({ kind: 'BinaryCrossEntropy' }) },
  accuracy_uneven: { node: () => ({ kind: 'Accuracy' }) },
  accuracy_binary_classifier: { node: () => ({ kind: 'Accuracy', slots: { classifier: { kind: 'ThresholdToBinary' } } }) },
  sequence_accuracy_all_ones: { node: () => ({ kind: 'SequenceAccuracy' }) },
  sequence_accuracy_last_zero_weight: { node: () => ({ kind: 'SequenceAccuracy' }) },
  l2_loss: { node: () => ({ kind: 'L2Loss' }) },
  macro_f_score: { node: (call) => ({ kind: 'MacroAveragedFScore', params: { initial_category_index: call.layer === 'initial_category_index=1' ? 1 : 0 } }) },
};

function flatShape(v: unknown): { shape: number[]; data: number[] } {
  if (!Array.isArray(v)) return { shape: [], data: [Number(v)] };
  const parts = v.map(flatShape);
  return { shape: [v.length, ...(parts[0]?.shape ?? [])], data: parts.flatMap((p) => p.data) };
}

describe('conformance value cases of the metrics family', () => {
  it('covers every metrics value case of the conformance file', () => {
    const metricsCases = [...conformanceCases().values()].filter((c) => c.kind === 'value' && /^tl\.(CategoryAccuracy|WeightedCategoryAccuracy|CategoryCrossEntropy|BinaryCrossEntropy|Accuracy|SequenceAccuracy|L2Loss|MacroAveragedFScore|WeightedFScore|SmoothL1Loss|MaskedSequenceAccuracy|WeightedCategoryCrossEntropy)\(/.test(c.model));
    expect(metricsCases.map((c) => c.id).filter((id) => !(id in CASES))).toEqual([]);
  });

  for (const [id, { node }] of Object.entries(CASES)) {
    it(id, async () => {
      const c = conformanceCases().get(id)!;
      const tol = (c as unknown as { tolerance?: { atol?: number; rtol?: number } }).tolerance;
      const calls = (c.expected as { calls: Call[] }).calls;
      for (const call of calls) {
        const inputs = call.inputs.map((v, i) => ({ ...flatShape(v), dtype: c.input_signature[i].dtype }));
        const got = await scalar(node(call), inputs);
        const atol = tol?.atol ?? 1e-6, rtol = tol?.rtol ?? 1e-6;
        expect(Math.abs(got - call.output_values), `${id}: ${got} vs ${call.output_values}`).toBeLessThanOrEqual(atol + rtol * Math.abs(call.output_values));
      }
    });
  }
});
