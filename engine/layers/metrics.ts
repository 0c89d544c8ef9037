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
function fnMetric(summary: string, nIn: number, args: FamilyEntry['args'], infer: (inputs: readonly ShapeDtype[], p: Record<string, any>) => ShapeDtype): FamilyEntry { // eslint-disable-line @typescript-eslint/no-explicit-any
  return { summary, args, arity: fixed(nIn, 1), infer: (inputs, p) => [infer(inputs, p)] };
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
  }),
  WeightedCategoryAccuracy: fnMetric('sum((argmax(y, -1) == t) * w) / sum(w).', 3, [], ([y, t, w]) => {
    const pred = requireArgmaxMatches(y, t, 'WeightedCategoryAccuracy');
    bcast(pred, w.shape, 'WeightedCategoryAccuracy', 'targets', 'weights');
    return SCALAR(floatOf(w.dtype));
  }),
  CategoryCrossEntropy: fnMetric('mean(-sum(one_hot(t) * log_softmax(y), -1)) (targets smoothed by label_smoothing).', 2, [labelSmoothing], ([y, t]) => {
    crossEntropyShape(y, t, 'CategoryCrossEntropy');
    return SCALAR(promote(floatOf(y.dtype), 'float32'));
  }),
  WeightedCategoryCrossEntropy: fnMetric('sum(ce * w) / sum(w), ce the per-item cross-entropy (with cutoff > 0: max(ce, cutoff) - cutoff).', 3, [labelSmoothing, P.float('cutoff', 0.0)], ([y, t, w]) => {
    const ce = crossEntropyShape(y, t, 'WeightedCategoryCrossEntropy');
    bcast(ce, w.shape, 'WeightedCategoryCrossEntropy', 'per-item cross-entropies', 'weights');
    return SCALAR(floatOf(promote(promote(floatOf(y.dtype), 'float32'), w.dtype)));
  }),
  BinaryCrossEntropy: fnMetric('logits in: p = sigmoid(y); mean(-(t*log p + (1-t)*log(1-p))).', 2, [], ([y, t]) => {
    bcast(y.shape, t.shape, 'BinaryCrossEntropy', 'model output', 'targets');
    return SCALAR(floatOf(promote(floatOf(y.dtype), t.dtype)));
  }),
  MaskedSequenceAccuracy: fnMetric('a sequence is right if argmax(y) == t at every position with w != 0 (last axis); mean over sequences.', 3, [], ([y, t, w]) => {
    const pred = requireArgmaxMatches(y, t, 'MaskedSequenceAccuracy');
    const pos = bcast(pred, w.shape, 'MaskedSequenceAccuracy', 'targets', 'weights');
    if (pos.length === 0) {
      throw new LayerError('rank', `MaskedSequenceAccuracy: the targets ${formatShapeDtype(t)} need a sequence axis (rank >= 1) to judge sequences over`, { expected: 'targets of rank >= 1 (model output of rank >= 2)' });
    }
    return SCALAR('float32');
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
  }),
  SmoothL1Loss: fnMetric('d = |y - t|; weighted mean of (0.5*d^2 if d < 1 else d - 0.5); y, t and w must have the same shape.', 3, [], ([y, t, w]) => {
    requireSame(y, t, 'SmoothL1Loss', 'model output', 'targets');
    requireSame(y, w, 'SmoothL1Loss', 'model output', 'weights');
    return SCALAR(floatOf(promote(promote(y.dtype, t.dtype), w.dtype)));
  }),
  MacroAveragedFScore: fnMetric('mean over classes initial_category_index..N-1 of F = (b^2+1)PR/(b^2 P + R) (NaN -> 0).', 2,
    [P.float('beta', 1.0), P.int('initial_category_index', 0, { min: 0 })], fScoreInfer('MacroAveragedFScore')),
  WeightedFScore: fnMetric('per-class F-scores (as MacroAveragedFScore) averaged with weights = per-class target counts.', 2,
    [P.float('beta', 1.0), P.int('initial_category_index', 0, { min: 0 })], fScoreInfer('WeightedFScore')),
  WeightedSum: fnMetric('sum(v * w).', 2, [], ([v, w]) => {
    bcast(v.shape, w.shape, 'WeightedSum', 'values', 'weights');
    return SCALAR(promote(v.dtype, w.dtype));
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
  },
  _CrossEntropy: {
    summary: '(log_probs, targets) -> -sum(log_probs * one_hot(targets, N), -1): per-item cross-entropy from LOG-probabilities.',
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: ([y, t]) => [{ dtype: promote(y.dtype, 'float32'), shape: crossEntropyShape(y, t, 'cross-entropy') }],
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
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const metricsNotes: Record<string, SpecNote> = {};
