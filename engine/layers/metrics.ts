/**
 * The `metrics` module: losses and evaluation metrics. Each returns a scalar.
 * Those Trax writes as one Fn are leaves here; those it builds as a Serial of
 * other layers (Accuracy, CrossEntropyLoss, ...) are `expand`s over the
 * module-private helpers Trax uses (_Accuracy, _WeightedMean, ...), kept as
 * internal kinds under Trax's names.
 */
import { type Dim } from '../core/dim';
import { LayerError } from '../core/errors';
import {
  type DType, type ShapeDtype, broadcastShapes, floatOf, formatShape, formatShapeDtype, promote, sameShape,
} from '../core/shape';
import { type ExpandNode, P, fixed } from './def';
import { type FamilyEntry, family, type SpecNote } from './family';
import type { Emitter, LowerSig } from '../core/onnx';
import {
  argExtremum, cast, computeFloat, constantOf, dims, int, logSoftmax, logicalOr, oneHot, reduceOver, reshape,
} from './lowering';

const SCALAR = (dtype: DType): ShapeDtype => ({ dtype, shape: [] });

/** jnp.argmax(y, axis=-1): the shape without the category axis. */
function argmaxShape(y: ShapeDtype, who: string): Dim[] {
  if (y.shape.length === 0) {
    throw new LayerError('rank', `${who}: the model output must have a category axis to take argmax over (rank >= 1), got a scalar ${formatShapeDtype(y)}`, { expected: 'model output of rank >= 1' });
  }
  return y.shape.slice(0, -1);
}

/** shapes.assert_same_shape(argmax(y), targets). */
function requireArgmaxMatches(y: ShapeDtype, t: ShapeDtype, who: string): Dim[] {
  const pred = argmaxShape(y, who);
  if (!sameShape(pred, t.shape)) {
    throw new LayerError('shape_mismatch', `${who}: argmax of the model output ${formatShapeDtype(y)} over the last axis has shape ${formatShape(pred)}, but the targets ${formatShapeDtype(t)} have shape ${formatShape(t.shape)}`, {
      expected: `targets of shape ${formatShape(pred)} (the model output without its category axis)`,
    });
  }
  return pred;
}

/** shapes.assert_same_shape(a, b). */
function requireSame(a: ShapeDtype, b: ShapeDtype, who: string, aName: string, bName: string): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new LayerError('shape_mismatch', `${who}: the ${bName} ${formatShapeDtype(b)} must have the shape of the ${aName} ${formatShapeDtype(a)}`, {
      expected: `${bName} of shape ${formatShape(a.shape)}`,
    });
  }
}

/** NumPy broadcasting of two operands, with a message naming them. */
function bcast(a: readonly Dim[], b: readonly Dim[], who: string, aName: string, bName: string): Dim[] {
  try {
    return broadcastShapes(a, b);
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    throw new LayerError('shape_mismatch', `${who}: the ${aName} (shape ${formatShape(a)}) and the ${bName} (shape ${formatShape(b)}) do not broadcast together: ${e.message}`, {
      expected: `${bName} of shape ${formatShape(a)} or one that broadcasts to it`,
    });
  }
}

/** Per-item category cross-entropy shape: one_hot(t, N) * log_softmax(y), summed over the last axis. */
function crossEntropyShape(y: ShapeDtype, t: ShapeDtype, who: string): Dim[] {
  const items = argmaxShape(y, who);
  return bcast(items, t.shape, who, 'model output without its category axis', 'targets');
}

/** A metric that is one Fn: n_in inputs -> a scalar. */
function fnMetric(
  summary: string, nIn: number, args: FamilyEntry['args'],
  infer: (inputs: readonly ShapeDtype[], p: Record<string, any>) => ShapeDtype, // eslint-disable-line @typescript-eslint/no-explicit-any
  lower: MetricLowering,
): FamilyEntry {
  return { summary, args, arity: fixed(nIn, 1), infer: (inputs, p) => [infer(inputs, p)], lower: (e, ins, p, sig) => [lower(e, ins, p, sig)] };
}

// ---------------------------------------------------------------- lowering (trax-semantics §13)

type MetricLowering = (e: Emitter, ins: string[], p: Record<string, any>, sig: LowerSig) => string; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Casts input i to `to`. */
const inAs = (e: Emitter, ins: string[], sig: LowerSig, i: number, to: DType): string => cast(e, ins[i], sig.inputs[i].dtype, to);

/** The compute float of a metric's output and a way back to the output dtype. */
function outFloat(e: Emitter, sig: LowerSig): { cf: DType; out: (v: string) => string } {
  const to = sig.outputs[0].dtype;
  const cf = computeFloat(to);
  return { cf, out: (v) => cast(e, v, cf, to) };
}

/** The dtype arithmetic on `d` runs in: bools and 8-bit ints as int32, halves as float32 (the CPU provider lacks their kernels). */
function computeDtype(d: DType): DType {
  if (d === 'bool' || d === 'int8' || d === 'uint8') return 'int32';
  if (d === 'float16' || d === 'bfloat16') return 'float32';
  return d;
}

/** jnp.argmax(y, -1) as int32. */
const argmaxLast = (e: Emitter, y: string, ys: ShapeDtype): string => argExtremum(e, y, ys.dtype, dims(ys), ys.shape.length - 1);

/** predictions == targets (jnp.equal: compared in the promoted dtype; bools as int32). */
function equalTo(e: Emitter, a: string, ad: DType, b: string, bd: DType): string {
  const d = computeDtype(promote(ad, bd));
  return e.op1('Equal', [cast(e, a, ad, d), cast(e, b, bd, d)]);
}

const toF = (e: Emitter, v: string, to: DType): string => e.op1('Cast', [v], { to: int(to === 'float64' ? 11 : 1) });
const sumAll = (e: Emitter, v: string): string => reduceOver(e, 'ReduceSum', v, null);
const meanAll = (e: Emitter, v: string): string => reduceOver(e, 'ReduceMean', v, null);

/** jnp.dot of rank >= 2 arrays: contracts a's last axis with b's second-to-last; result a[:-1] + b[:-2] + b[-1:]. */
function dotNd(e: Emitter, a: string, as: number[], b: string, bs: number[]): string {
  const k = as[as.length - 1];
  const p = as.slice(0, -1).reduce((x, d) => x * d, 1);
  const bk = bs.length - 2;
  const perm = [bk, ...bs.map((_, i) => i).filter((i) => i !== bk)];
  const rest = bs.filter((_, i) => i !== bk);
  const q = rest.reduce((x, d) => x * d, 1);
  const bT = reshape(e, e.op1('Transpose', [b], { perm: { ints: perm } }), [k, q]);
  return reshape(e, e.op1('MatMul', [reshape(e, a, [p, k]), bT]), [...as.slice(0, -1), ...rest]);
}

/** Per-item cross-entropy -sum(target_distribution * log_softmax(y), -1), targets smoothed by eps. */
function categoryCrossEntropy(e: Emitter, y: string, ys: ShapeDtype, t: string, ts: ShapeDtype, eps: number | null, cf: DType): string {
  const n = Number(ys.shape[ys.shape.length - 1]);
  let target = oneHot(e, t, ts.dtype, n, cf);
  if (eps) {
    target = e.op1('Add', [e.op1('Mul', [target, constantOf(e, 1 - eps, cf)]), constantOf(e, eps / n, cf)]);
  }
  const logp = logSoftmax(e, cast(e, y, ys.dtype, cf), ys.shape.length - 1);
  return e.op1('Neg', [reduceOver(e, 'ReduceSum', e.op1('Mul', [target, logp]), [-1])]);
}

/**
 * sum(y * one_hot(t, n), -1) for integer targets, without the one-hot: y[..., t] by GatherElements, 0 where
 * t is outside [0, n) (an all-zero one-hot). Exact, NaN included: a NaN or an infinity anywhere in the row
 * makes Trax's product NaN (inf * 0), so a row whose min + max is not finite gives NaN here too (the
 * reductions only decide a Where's condition: no gradient flows through them).
 */
function pickTarget(e: Emitter, y: string, t: string, tDtype: DType, n: number, cf: DType): string {
  const ti = cast(e, t, tDtype, 'int32');
  const inRange = e.op1('And', [e.op1('GreaterOrEqual', [ti, e.i32(0)]), e.op1('Less', [ti, e.i32(n)])]);
  const safe = e.op1('Where', [inRange, ti, e.i32(0)]);
  const axis = e.i64([-1]);
  const picked = e.op1('Squeeze', [e.op1('GatherElements', [y, e.op1('Unsqueeze', [safe, axis])], { axis: int(-1) }), axis]);
  const zero = constantOf(e, 0, cf);
  const value = e.op1('Where', [inRange, picked, zero]);
  const span = e.op1('Add', [e.op1('ReduceMin', [y, axis], { keepdims: int(0) }), e.op1('ReduceMax', [y, axis], { keepdims: int(0) })]);
  const probe = e.op1('Mul', [span, zero]);
  return e.op1('Where', [e.op1('Equal', [probe, probe]), value, constantOf(e, NaN, cf)]);
}

/** num / den with 0/0 (NaN) -> 0, as jnp.nan_to_num of a ratio of counts. */
function safeRatio(e: Emitter, num: string, den: string, cf: DType): string {
  return e.op1('Where', [e.op1('Equal', [den, constantOf(e, 0, cf)]), constantOf(e, 0, cf), e.op1('Div', [num, den])]);
}

/**
 * Per-class F-scores for classes initial_category_index..N-1 ([K, ...]) and
 * the per-class target counts. Counts are Python's sum() over the first axis
 * (as Trax writes them), so rank-1 inputs give one score per class.
 */
function fScores(e: Emitter, ins: string[], p: Record<string, any>, sig: LowerSig, cf: DType): { f: string; nTarget: string } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const [ys, ts] = sig.inputs;
  const n = Number(ys.shape[ys.shape.length - 1]);
  const first: number = p.initial_category_index;
  const k = n - first;
  const pred = argmaxLast(e, ins[0], ys);
  const pShape = dims(ys).slice(0, -1), tShape = dims(ts);
  const rank = Math.max(pShape.length, tShape.length);
  const align = (v: string, shape: number[]): string => reshape(e, v, [1, ...new Array(rank - shape.length).fill(1), ...shape]);
  const classes = e.i32(Array.from({ length: k }, (_, i) => first + i), [k, ...new Array(rank).fill(1)]);
  const isP = e.op1('Equal', [align(pred, pShape), classes]);
  const isT = e.op1('Equal', [align(cast(e, ins[1], ts.dtype, 'int32'), tShape), classes]);
  const count = (b: string): string => (rank === 0 ? toF(e, b, cf) : reduceOver(e, 'ReduceSum', toF(e, b, cf), [1]));
  const nCorrect = count(e.op1('And', [isP, isT])), nPred = count(isP), nTarget = count(isT);
  const precision = safeRatio(e, nCorrect, nPred, cf), recall = safeRatio(e, nCorrect, nTarget, cf);
  const beta2 = (p.beta as number) ** 2;
  const num = e.op1('Mul', [e.op1('Mul', [constantOf(e, beta2 + 1, cf), precision]), recall]);
  const den = e.op1('Add', [e.op1('Mul', [constantOf(e, beta2, cf), precision]), recall]);
  return { f: safeRatio(e, num, den, cf), nTarget };
}

/** The F-score metrics: argmax predictions against targets, per class from initial_category_index. */
function fScoreInfer(who: string) {
  return ([y, t]: readonly ShapeDtype[], p: Record<string, any>): ShapeDtype => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const pred = argmaxShape(y, who);
    bcast(pred, t.shape, who, 'argmax of the model output', 'targets');
    const n = y.shape[y.shape.length - 1];
    if (typeof n === 'number' && p.initial_category_index >= n) {
      throw new LayerError('shape_mismatch', `${who}: initial_category_index = ${p.initial_category_index} leaves no category to score: the model output has ${n} categories (its last axis), so the score would be the mean of nothing (NaN)`, {
        expected: `initial_category_index < ${n}`,
        param: 'initial_category_index',
      });
    }
    return SCALAR('float32');
  };
}

const labelSmoothing = P.float('label_smoothing', null, { nullable: true, min: 0, max: 1, doc: 'creates soft targets one_hot*(1-eps) + eps/N; must be between 0 and 1' });

const serial = (name: string, children: ExpandNode[]): ExpandNode => ({ kind: 'Serial', params: { name }, children });

export const metricsLayers = family('metrics', {
  CategoryAccuracy: fnMetric('mean(argmax(y, -1) == t); argmax of the model output must have the targets\' shape.', 2, [], ([y, t]) => {
    requireArgmaxMatches(y, t, 'CategoryAccuracy');
    return SCALAR('float32');
  }, (e, [y, t], _p, sig) => {
    // n_correct / n_total: an int32 count over a Python int, in float32
    const [ys, ts] = sig.inputs;
    const eq = equalTo(e, argmaxLast(e, y, ys), 'int32', t, ts.dtype);
    const n = dims(ts).reduce((a, d) => a * d, 1);
    return e.op1('Div', [sumAll(e, toF(e, eq, 'float32')), e.f32(n)]);
  }),
  WeightedCategoryAccuracy: fnMetric('sum((argmax(y, -1) == t) * w) / sum(w).', 3, [], ([y, t, w]) => {
    const pred = requireArgmaxMatches(y, t, 'WeightedCategoryAccuracy');
    bcast(pred, w.shape, 'WeightedCategoryAccuracy', 'targets', 'weights');
    return SCALAR(floatOf(w.dtype));
  }, (e, ins, _p, sig) => {
    // sum(equal * w) / sum(w): the numerator sums the broadcast product, the denominator w itself
    const { cf, out } = outFloat(e, sig);
    const [ys, ts] = sig.inputs;
    const eq = toF(e, equalTo(e, argmaxLast(e, ins[0], ys), 'int32', ins[1], ts.dtype), cf);
    const w = inAs(e, ins, sig, 2, cf);
    return out(e.op1('Div', [sumAll(e, e.op1('Mul', [eq, w])), sumAll(e, w)]));
  }),
  CategoryCrossEntropy: fnMetric('mean(-sum(one_hot(t) * log_softmax(y), -1)) (targets smoothed by label_smoothing).', 2, [labelSmoothing], ([y, t]) => {
    crossEntropyShape(y, t, 'CategoryCrossEntropy');
    return SCALAR(promote(floatOf(y.dtype), 'float32'));
  }, (e, [y, t], p, sig) => {
    const { cf, out } = outFloat(e, sig);
    return out(meanAll(e, categoryCrossEntropy(e, y, sig.inputs[0], t, sig.inputs[1], p.label_smoothing, cf)));
  }),
  WeightedCategoryCrossEntropy: fnMetric('sum(ce * w) / sum(w), ce the per-item cross-entropy (with cutoff > 0: max(ce, cutoff) - cutoff).', 3, [labelSmoothing, P.float('cutoff', 0.0)], ([y, t, w]) => {
    const ce = crossEntropyShape(y, t, 'WeightedCategoryCrossEntropy');
    bcast(ce, w.shape, 'WeightedCategoryCrossEntropy', 'per-item cross-entropies', 'weights');
    return SCALAR(floatOf(promote(promote(floatOf(y.dtype), 'float32'), w.dtype)));
  }, (e, ins, p, sig) => {
    const { cf, out } = outFloat(e, sig);
    let ce = categoryCrossEntropy(e, ins[0], sig.inputs[0], ins[1], sig.inputs[1], p.label_smoothing, cf);
    const cutoff: number = p.cutoff;
    if (cutoff > 0) ce = e.op1('Sub', [e.op1('Max', [ce, constantOf(e, cutoff, cf)]), constantOf(e, cutoff, cf)]);
    const w = inAs(e, ins, sig, 2, cf);
    return out(e.op1('Div', [sumAll(e, e.op1('Mul', [ce, w])), sumAll(e, w)]));
  }),
  BinaryCrossEntropy: fnMetric('logits in: p = sigmoid(y); mean(-(t*log p + (1-t)*log(1-p))).', 2, [], ([y, t]) => {
    bcast(y.shape, t.shape, 'BinaryCrossEntropy', 'model output', 'targets');
    return SCALAR(floatOf(promote(floatOf(y.dtype), t.dtype)));
  }, (e, ins, _p, sig) => {
    // p = expit(y); -(t * log(p) + (1 - t) * log(1 - p)), averaged
    const { cf, out } = outFloat(e, sig);
    const prob = e.op1('Sigmoid', [inAs(e, ins, sig, 0, cf)]);
    const t = inAs(e, ins, sig, 1, cf);
    const one = constantOf(e, 1, cf);
    const pos = e.op1('Mul', [t, e.op1('Log', [prob])]);
    const neg = e.op1('Mul', [e.op1('Sub', [one, t]), e.op1('Log', [e.op1('Sub', [one, prob])])]);
    return out(meanAll(e, e.op1('Neg', [e.op1('Add', [pos, neg])])));
  }),
  MaskedSequenceAccuracy: fnMetric('a sequence is right if argmax(y) == t at every position with w != 0 (last axis); mean over sequences.', 3, [], ([y, t, w]) => {
    const pred = requireArgmaxMatches(y, t, 'MaskedSequenceAccuracy');
    const pos = bcast(pred, w.shape, 'MaskedSequenceAccuracy', 'targets', 'weights');
    if (pos.length === 0) {
      throw new LayerError('rank', `MaskedSequenceAccuracy: the targets ${formatShapeDtype(t)} need a sequence axis (rank >= 1) to judge sequences over`, { expected: 'targets of rank >= 1 (model output of rank >= 2)' });
    }
    return SCALAR('float32');
  }, (e, ins, _p, sig) => {
    // a position is right if argmax == t or w == 0; a sequence if all its positions are (last axis); averaged
    const [ys, ts, ws] = sig.inputs;
    const eq = equalTo(e, argmaxLast(e, ins[0], ys), 'int32', ins[1], ts.dtype);
    const wd = computeDtype(ws.dtype);
    const pad = e.op1('Equal', [cast(e, ins[2], ws.dtype, wd), constantOf(e, 0, wd)]);
    const ok = toF(e, logicalOr(e, eq, pad), 'float32');
    return meanAll(e, reduceOver(e, 'ReduceMin', ok, [-1]));
  }),
  Accuracy: {
    summary: '(deprecated) Serial(classifier, _Accuracy, _WeightedMean): sum((classifier(y) == t) * w) / sum(w).',
    args: [P.slot('classifier', { defaultKind: 'ArgMax', doc: 'turns the model output into category predictions (ArgMax(), ThresholdToBinary(), ...)' })],
    expand: (_p, slots): ExpandNode => serial('Accuracy', [slots.classifier ?? { kind: 'ArgMax' }, { kind: '_Accuracy' }, { kind: '_WeightedMean' }]),
  },
  SequenceAccuracy: {
    summary: '(deprecated) Serial(classifier, _Accuracy, _WeightedSequenceMean): a sequence is right iff no weighted position is wrong; mean over the batch.',
    args: [P.slot('classifier', { defaultKind: 'ArgMax', doc: 'turns the model output into category predictions' })],
    expand: (_p, slots): ExpandNode => serial('SequenceAccuracy', [slots.classifier ?? { kind: 'ArgMax' }, { kind: '_Accuracy' }, { kind: '_WeightedSequenceMean' }]),
  },
  CrossEntropyLoss: {
    summary: '(deprecated) Serial(_CrossEntropy, _WeightedMean); expects LOG-probabilities (no log-softmax inside).',
    args: [],
    expand: (): ExpandNode => serial('CrossEntropyLoss', [{ kind: '_CrossEntropy' }, { kind: '_WeightedMean' }]),
  },
  CrossEntropyLossWithLogSoftmax: {
    summary: 'Serial(LogSoftmax, _CrossEntropy, _WeightedMean): weighted mean cross-entropy from logits.',
    args: [],
    expand: (): ExpandNode => serial('CrossEntropyLossWithLogSoftmax', [{ kind: 'LogSoftmax' }, { kind: '_CrossEntropy' }, { kind: '_WeightedMean' }]),
  },
  BinaryCrossEntropyLoss: {
    summary: '(deprecated) Serial(_BinaryCrossEntropy, _WeightedMean); expects probabilities (NaN when p == 1 and t == 1: 0*log 0).',
    args: [],
    expand: (): ExpandNode => serial('BinaryCrossEntropyLoss', [{ kind: '_BinaryCrossEntropy' }, { kind: '_WeightedMean' }]),
  },
  L2Loss: fnMetric('sum(w * (y - t)^2) / sum(w); y, t and w must have the same shape.', 3, [], ([y, t, w]) => {
    requireSame(y, t, 'L2Loss', 'model output', 'targets');
    requireSame(y, w, 'L2Loss', 'model output', 'weights');
    return SCALAR(floatOf(promote(promote(y.dtype, t.dtype), w.dtype)));
  }, (e, ins, _p, sig) => {
    const { cf, out } = outFloat(e, sig);
    const [y, t, w] = [0, 1, 2].map((i) => inAs(e, ins, sig, i, cf));
    const d = e.op1('Sub', [y, t]);
    return out(e.op1('Div', [sumAll(e, e.op1('Mul', [w, e.op1('Mul', [d, d])])), sumAll(e, w)]));
  }),
  SmoothL1Loss: fnMetric('d = |y - t|; weighted mean of (0.5*d^2 if d < 1 else d - 0.5); y, t and w must have the same shape.', 3, [], ([y, t, w]) => {
    requireSame(y, t, 'SmoothL1Loss', 'model output', 'targets');
    requireSame(y, w, 'SmoothL1Loss', 'model output', 'weights');
    return SCALAR(floatOf(promote(promote(y.dtype, t.dtype), w.dtype)));
  }, (e, ins, _p, sig) => {
    // where(|y - t| < 1, 0.5 * d**2, d - 0.5), weighted mean
    const { cf, out } = outFloat(e, sig);
    const [y, t, w] = [0, 1, 2].map((i) => inAs(e, ins, sig, i, cf));
    const d = e.op1('Abs', [e.op1('Sub', [y, t])]);
    const half = constantOf(e, 0.5, cf);
    const smooth = e.op1('Where', [e.op1('Less', [d, constantOf(e, 1, cf)]), e.op1('Mul', [half, e.op1('Mul', [d, d])]), e.op1('Sub', [d, half])]);
    return out(e.op1('Div', [sumAll(e, e.op1('Mul', [w, smooth])), sumAll(e, w)]));
  }),
  MacroAveragedFScore: fnMetric('mean over classes initial_category_index..N-1 of F = (b^2+1)PR/(b^2 P + R) (NaN -> 0).', 2,
    [P.float('beta', 1.0), P.int('initial_category_index', 0, { min: 0 })], fScoreInfer('MacroAveragedFScore'), (e, ins, p, sig) => {
      const { cf, out } = outFloat(e, sig);
      return out(meanAll(e, fScores(e, ins, p, sig, cf).f));
    }),
  WeightedFScore: fnMetric('per-class F-scores (as MacroAveragedFScore) averaged with weights = per-class target counts.', 2,
    [P.float('beta', 1.0), P.int('initial_category_index', 0, { min: 0 })], fScoreInfer('WeightedFScore'), (e, ins, p, sig) => {
      // jnp.average(f_scores, weights=n_targets)
      const { cf, out } = outFloat(e, sig);
      const { f, nTarget } = fScores(e, ins, p, sig, cf);
      return out(e.op1('Div', [sumAll(e, e.op1('Mul', [f, nTarget])), sumAll(e, nTarget)]));
    }),
  WeightedSum: fnMetric('sum(v * w).', 2, [], ([v, w]) => {
    bcast(v.shape, w.shape, 'WeightedSum', 'values', 'weights');
    return SCALAR(promote(v.dtype, w.dtype));
  }, (e, ins, _p, sig) => {
    const to = sig.outputs[0].dtype;
    const d = computeDtype(to);
    return cast(e, sumAll(e, e.op1('Mul', [inAs(e, ins, sig, 0, d), inAs(e, ins, sig, 1, d)])), d, to);
  }),
  CrossEntropySum: {
    summary: 'Serial(_CrossEntropy, WeightedSum): sum of per-item cross-entropies (log-probabilities in) times weights.',
    args: [],
    expand: (): ExpandNode => serial('CrossEntropySum', [{ kind: '_CrossEntropy' }, { kind: 'WeightedSum' }]),
  },
  BinaryCrossEntropySum: {
    summary: 'Serial(_BinaryCrossEntropy, WeightedSum): binary cross-entropy (probabilities in) times weights, summed.',
    args: [],
    expand: (): ExpandNode => serial('BinaryCrossEntropySum', [{ kind: '_BinaryCrossEntropy' }, { kind: 'WeightedSum' }]),
  },

  // ---------------------------------------------------------------- Trax's module-private helpers
  _Accuracy: {
    summary: '(predicted, target) -> float32(predicted == target), elementwise.',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([pred, t]) => [{ dtype: 'float32', shape: bcast(pred.shape, t.shape, 'Accuracy', 'predictions', 'targets') }],
    lower: (e, [pred, t], _p, sig) => [toF(e, equalTo(e, pred, sig.inputs[0].dtype, t, sig.inputs[1].dtype), 'float32')],
  },
  _WeightedMean: {
    summary: '(values, weights) -> sum(values * weights) / sum(weights).',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([v, w]) => {
      bcast(v.shape, w.shape, 'weighted mean', 'values', 'weights');
      return [SCALAR(floatOf(promote(v.dtype, w.dtype)))];
    },
    // sum(values * weights) / sum(weights); integer sums are exact int32 sums, then a true division
    lower: (e, ins, _p, sig) => {
      const to = sig.outputs[0].dtype;
      const d = computeDtype(promote(sig.inputs[0].dtype, sig.inputs[1].dtype));
      const cf = computeFloat(to);
      const [v, w] = [0, 1].map((i) => inAs(e, ins, sig, i, d));
      const num = cast(e, sumAll(e, e.op1('Mul', [v, w])), d, cf), den = cast(e, sumAll(e, w), d, cf);
      return [cast(e, e.op1('Div', [num, den]), cf, to)];
    },
  },
  _WeightedSequenceMean: {
    summary: '(values, weights) -> mean over the batch of [sum over non-batch axes of (1 - values) * weights == 0].',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([v, w]) => {
      bcast(v.shape, w.shape, 'weighted sequence mean', 'values', 'weights');
      return [SCALAR(floatOf(promote(v.dtype, w.dtype)))];
    },
    // not_correct = (1 - v) * w summed over all axes but the batch; correct = 1 - min(1, that); mean over the batch
    lower: (e, ins, _p, sig) => {
      const { cf, out } = outFloat(e, sig);
      const [v, w] = [0, 1].map((i) => inAs(e, ins, sig, i, cf));
      const one = constantOf(e, 1, cf);
      const notCorrect = e.op1('Mul', [e.op1('Sub', [one, v]), w]);
      const rank = Math.max(sig.inputs[0].shape.length, sig.inputs[1].shape.length);
      const perSeq = reduceOver(e, 'ReduceSum', notCorrect, Array.from({ length: Math.max(0, rank - 1) }, (_, i) => i + 1));
      return [out(meanAll(e, e.op1('Sub', [one, e.op1('Min', [one, perSeq])])))];
    },
  },
  _CrossEntropy: {
    summary: '(log_probs, targets) -> -sum(log_probs * one_hot(targets, N), -1): per-item cross-entropy from LOG-probabilities.',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([y, t]) => [{ dtype: promote(y.dtype, 'float32'), shape: crossEntropyShape(y, t, 'cross-entropy') }],
    // -1.0 * sum(log_probs * one_hot(targets, N), -1). Integer targets pick their log-probability instead
    // (GatherElements): the same value without the one-hot and the product, each as large as the logits,
    // in the forward pass and again in the backward pass (a language model's vocabulary makes them the
    // largest tensors of a training step).
    lower: (e, [y, t], _p, sig) => {
      const { cf, out } = outFloat(e, sig);
      const [ys, ts] = sig.inputs;
      const n = Number(ys.shape[ys.shape.length - 1]);
      if (ts.dtype === 'int32' || ts.dtype === 'int64') return [out(e.op1('Neg', [pickTarget(e, cast(e, y, ys.dtype, cf), t, ts.dtype, n, cf)]))];
      const target = oneHot(e, t, ts.dtype, n, cf);
      return [out(e.op1('Mul', [constantOf(e, -1, cf), reduceOver(e, 'ReduceSum', e.op1('Mul', [cast(e, y, ys.dtype, cf), target]), [-1])]))];
    },
  },
  _BinaryCrossEntropy: {
    summary: '(probs, targets) -> -(t^T . log p + (1-t)^T . log(1-p)) / batch, squeezed (a scalar for rank-1 inputs).',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([y, t]) => {
      requireSame(y, t, 'binary cross-entropy', 'model output', 'targets');
      const dtype = floatOf(promote(floatOf(y.dtype), t.dtype));
      const s = y.shape;
      if (s.length === 0) {
        throw new LayerError('rank', `binary cross-entropy: the model output needs a batch axis (rank >= 1), got a scalar ${formatShapeDtype(y)}`, { expected: 'rank >= 1' });
      }
      if (s.length === 1) return [SCALAR(dtype)];
      // jnp.dot(t.T, log p): t.T has the axes reversed; dot contracts its last axis with p's second-to-last.
      const a = [...s].reverse();
      const b = s;
      if (a[a.length - 1] !== b[b.length - 2]) {
        throw new LayerError('shape_mismatch', `binary cross-entropy: jnp.dot(targets.T, log(p)) needs axis 0 (${String(a[a.length - 1])}) to equal axis -2 (${String(b[b.length - 2])}) for an input of shape ${formatShape(s)}`, { expected: 'rank-1 or rank-2 model output and targets' });
      }
      const out = [...a.slice(0, -1), ...b.slice(0, -2), b[b.length - 1]].filter((d) => d !== 1);
      return [{ dtype, shape: out }];
    },
    // j = dot(t.T, log p) + dot((1 - t).T, log(1 - p)); -1.0 / batch * squeeze(j)
    lower: (e, ins, _p, sig) => {
      const { cf, out } = outFloat(e, sig);
      const s = dims(sig.inputs[0]);
      const [p, t] = [0, 1].map((i) => inAs(e, ins, sig, i, cf));
      const one = constantOf(e, 1, cf);
      const dotT = (a: string, b: string): string => {
        if (s.length === 1) return sumAll(e, e.op1('Mul', [a, b]));
        const aT = e.op1('Transpose', [a], { perm: { ints: s.map((_, i) => s.length - 1 - i) } });
        if (s.length === 2) return e.op1('MatMul', [aT, b]);
        return dotNd(e, aT, [...s].reverse(), b, s);
      };
      const j = e.op1('Add', [dotT(t, e.op1('Log', [p])), dotT(e.op1('Sub', [one, t]), e.op1('Log', [e.op1('Sub', [one, p])]))]);
      return [out(e.op1('Mul', [constantOf(e, -1 / s[0], cf), reshape(e, j, dims(sig.outputs[0]))]))];
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const metricsNotes: Record<string, SpecNote> = {};
