/**
 * What a training step computes, as a tree: the model, then its loss and
 * metrics side by side on the same stack —
 *
 *   Serial(model, Branch(loss, metric, ...))      stack in: model inputs, targets, weights
 *
 * exactly how Trax composes a training task (`tl.Serial(model, loss)`), so
 * the loss and the metrics are the catalog's own layers (§13 of the
 * semantics) and lower, trace and differentiate like any other layer. The
 * model's weights keep their keys: the training tree's keys are the model's
 * with `Serial[0]/` in front, which `modelKey` strips.
 */
import { LayerError } from '../core/errors';
import type { ShapeDtype } from '../core/shape';
import { formatShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { type NodeTrace, traceDocument } from '../document/trace';
import { lookupKind } from '../layers/registry';

/** Losses `--loss` accepts: catalog kinds, and what their first input must be. */
export const LOSSES: Record<string, { takes: 'log-probabilities' | 'logits' | 'values' | 'probabilities'; doc: string }> = {
  CrossEntropyLoss: { takes: 'log-probabilities', doc: 'weighted mean cross-entropy; the model ends in LogSoftmax (the default for classification and language modelling)' },
  CrossEntropyLossWithLogSoftmax: { takes: 'logits', doc: 'weighted mean cross-entropy with the log-softmax inside; the model ends in logits' },
  WeightedCategoryCrossEntropy: { takes: 'logits', doc: 'weighted cross-entropy from logits, with label_smoothing' },
  CategoryCrossEntropy: { takes: 'logits', doc: 'mean cross-entropy from logits (ignores the weights)' },
  CrossEntropySum: { takes: 'log-probabilities', doc: 'summed weighted cross-entropy of log-probabilities' },
  BinaryCrossEntropyLoss: { takes: 'probabilities', doc: 'weighted mean binary cross-entropy of probabilities' },
  L2Loss: { takes: 'values', doc: 'weighted mean squared error' },
  SmoothL1Loss: { takes: 'values', doc: 'weighted mean Huber loss' },
};

/** Metrics a task may report (their value is logged as `accuracy`). */
export const ACCURACY_METRICS = ['Accuracy', 'SequenceAccuracy', 'CategoryAccuracy', 'WeightedCategoryAccuracy'] as const;

/** The prefix the training tree puts before the model's weight keys. */
export const MODEL_PREFIX = 'Serial[0]/';

/** The model's own key for a key of the training tree (keys of the loss and metrics have none). */
export function modelKey(trainKey: string): string | undefined {
  return trainKey.startsWith(MODEL_PREFIX) ? trainKey.slice(MODEL_PREFIX.length) : undefined;
}

export class ObjectiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectiveError';
  }
}

/** Loss name as the user wrote it (`CrossEntropyLoss`, `cross-entropy`, `l2`, ...) → catalog kind. */
export function resolveLoss(name: string): string {
  const aliases: Record<string, string> = {
    'cross-entropy': 'CrossEntropyLoss', crossentropy: 'CrossEntropyLoss', ce: 'CrossEntropyLoss',
    'cross-entropy-logits': 'CrossEntropyLossWithLogSoftmax', l2: 'L2Loss', mse: 'L2Loss', 'smooth-l1': 'SmoothL1Loss', huber: 'SmoothL1Loss',
    'binary-cross-entropy': 'BinaryCrossEntropyLoss', bce: 'BinaryCrossEntropyLoss',
  };
  const kind = aliases[name.toLowerCase()] ?? Object.keys(LOSSES).find((k) => k.toLowerCase() === name.toLowerCase());
  if (!kind) throw new ObjectiveError(`unknown loss '${name}'; choose one of ${Object.keys(LOSSES).join(', ')} (or cross-entropy, l2, smooth-l1, bce)`);
  return kind;
}

let ids = 0;
const fresh = (kind: string): DocNode => ({ id: `objective-${kind}-${++ids}`, kind });

/** Serial(model, Branch(loss, ...metrics)) (or Serial(model, loss) without metrics). */
export function trainingTree(model: DocNode, lossKind: string, metricKinds: readonly string[] = []): DocNode {
  for (const k of [lossKind, ...metricKinds]) if (!lookupKind(k)) throw new ObjectiveError(`unknown loss or metric layer '${k}'`);
  const head: DocNode = metricKinds.length
    ? { id: `objective-branch-${++ids}`, kind: 'Branch', children: [fresh(lossKind), ...metricKinds.map(fresh)] }
    : fresh(lossKind);
  return { id: `objective-serial-${++ids}`, kind: 'Serial', children: [model, head] };
}

/** The layer that produces the model's (first) output: the last leaf along Serials and expansions. */
export function finalLayer(t: NodeTrace, path = ''): { trace: NodeTrace; path: string } {
  if (t.expansion) return finalLayer(t.expansion, path);
  if (t.node.kind === 'Serial' && t.children.length) {
    const i = t.children.length - 1;
    return finalLayer(t.children[i], `${path ? `${path} > ` : ''}Serial[${i}]`);
  }
  return { trace: t, path: path ? `${path} > ${t.node.kind}` : t.node.kind };
}

/**
 * Checks that the model and the loss fit: the training tree traces on the
 * task's signature, and a loss that reads log-probabilities gets a model that
 * ends in LogSoftmax. Returns the training tree's trace errors as one clear message.
 */
export function checkObjective(model: DocNode, modelInput: readonly ShapeDtype[], extra: readonly ShapeDtype[], lossKind: string, metricKinds: readonly string[]): void {
  const mt = traceDocument({ root: model, input: [...modelInput] });
  if (mt.errors.length) {
    const e = mt.errors[0];
    throw new ObjectiveError(`the model does not take the task's inputs ${modelInput.map(formatShapeDtype).join(', ')}: ${e.message}`);
  }
  const want = LOSSES[lossKind]?.takes;
  if (want === 'log-probabilities') {
    const last = finalLayer(mt.root);
    if (last.trace.node.kind !== 'LogSoftmax') {
      const kind = last.trace.node.kind;
      const hint = kind === 'Softmax'
        ? 'it ends in Softmax (probabilities): replace it by LogSoftmax'
        : `it ends in ${kind} (${last.path}): add LogSoftmax() at the end, or train with --loss CrossEntropyLossWithLogSoftmax, which takes logits`;
      throw new ObjectiveError(`${lossKind} reads log-probabilities, but the model does not end in them: ${hint}`);
    }
  }
  const tree = trainingTree(model, lossKind, metricKinds);
  const tt = traceDocument({ root: tree, input: [...modelInput, ...extra] });
  if (tt.errors.length) {
    const e = tt.errors[0];
    throw new ObjectiveError(`${lossKind}${metricKinds.length ? ` / ${metricKinds.join(', ')}` : ''} does not fit the model's output ${mt.output?.map(formatShapeDtype).join(', ') ?? '?'} and the task's targets ${extra.map(formatShapeDtype).join(', ')}: ${e.message.replace(/^Serial\[1\] > (Branch\[\d+\] > )?/, '')}`);
  }
  const outs = tt.output ?? [];
  if (!outs.length || outs[0].shape.length !== 0 || !outs[0].dtype.startsWith('float')) {
    throw new LayerError('shape_mismatch', `the loss ${lossKind} must give one float scalar; it gives ${outs.map(formatShapeDtype).join(', ')}`);
  }
}
