/**
 * trax.layers.metrics: the trees the Serial-built metrics expand to, the
 * traced classifier slot, and every metric conformance case of the module.
 * Shapes and errors of every kind are in cases/metrics.cases.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../test/conformance';
import { formatShapeDtype, parseShapeDtype } from '../core/shape';
import { analyze, traceDocument } from '../document/trace';
import type { DocNode } from '../document/schema';
import type { PyValue } from './def';

let nextId = 0;
function node(kind: string, params?: Record<string, PyValue>, slots?: Record<string, DocNode>): DocNode {
  const n: DocNode = { id: `m${++nextId}`, kind };
  if (params) n.params = params;
  if (slots) n.slots = slots;
  return n;
}
const sig = (...s: string[]) => s.map(parseShapeDtype);
const kinds = (ns: readonly DocNode[] | undefined): string[] => (ns ?? []).map((n) => n.kind);


describe('metrics built from layers', () => {
  const trees: [string, string[]][] = [
    ['Accuracy', ['ArgMax', '_Accuracy', '_WeightedMean']],
    ['SequenceAccuracy', ['ArgMax', '_Accuracy', '_WeightedSequenceMean']],
    ['CrossEntropyLoss', ['_CrossEntropy', '_WeightedMean']],
    ['CrossEntropyLossWithLogSoftmax', ['LogSoftmax', '_CrossEntropy', '_WeightedMean']],
    ['BinaryCrossEntropyLoss', ['_BinaryCrossEntropy', '_WeightedMean']],
    ['CrossEntropySum', ['_CrossEntropy', 'WeightedSum']],
    ['BinaryCrossEntropySum', ['_BinaryCrossEntropy', 'WeightedSum']],
  ];
  for (const [kind, children] of trees) {
    it(`${kind} = Serial(${children.join(', ')})`, () => {
      const a = analyze(node(kind));
      expect(a.errors).toEqual([]);
      expect(a.expansion!.kind).toBe('Serial');
      expect(a.expansion!.params).toEqual({ name: kind });
      expect(kinds(a.expansion!.children)).toEqual(children);
      expect(a.arity).toEqual({ nIn: 3, nOut: 1 });
    });
  }

  it('traces a custom classifier in Accuracy', () => {
    const cls = node('ThresholdToBinary', { threshold: 0.25 });
    const t = traceDocument({ root: node('Accuracy', undefined, { classifier: cls }), input: sig('float32[2,4]', 'int32[2,4]', 'int32[2,4]') });
    expect(t.errors).toEqual([]);
    const first = t.root.expansion!.children[0];
    expect(first.node).toBe(cls);
    expect(first.inputs!.map(formatShapeDtype)).toEqual(['float32[2,4]']);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[]']);
  });

  it('accepts label_smoothing at both ends of [0, 1]', () => {
    for (const ls of [0, 1]) {
      const t = traceDocument({ root: node('CategoryCrossEntropy', { label_smoothing: ls }), input: sig('float32[2,4]', 'int32[2]') });
      expect(t.errors).toEqual([]);
    }
  });

  it('binary cross-entropy of rank-2 probabilities is a [K, K] matrix (jnp.dot of the transposed targets)', () => {
    const t = traceDocument({ root: node('_BinaryCrossEntropy'), input: sig('float32[B,3]', 'float32[B,3]') });
    expect(t.errors).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[3,3]']);
  });
});

describe('conformance (metrics)', () => {
  const models: Record<string, DocNode> = {
    category_accuracy: node('CategoryAccuracy'),
    weighted_category_accuracy_even: node('WeightedCategoryAccuracy'),
    category_cross_entropy: node('CategoryCrossEntropy'),
    category_cross_entropy_ls: node('CategoryCrossEntropy', { label_smoothing: 0.01 }),
    binary_cross_entropy: node('BinaryCrossEntropy'),
    accuracy_uneven: node('Accuracy'),
    accuracy_binary_classifier: node('Accuracy', undefined, { classifier: node('ThresholdToBinary') }),
    sequence_accuracy_all_ones: node('SequenceAccuracy'),
    sequence_accuracy_last_zero_weight: node('SequenceAccuracy'),
    l2_loss: node('L2Loss'),
    macro_f_score: node('MacroAveragedFScore'),
  };
  for (const [id, root] of Object.entries(models)) {
    it(id, () => checkConformance(id, root));
  }
  it('macro_f_score (initial_category_index=1)', () => checkConformance('macro_f_score', node('MacroAveragedFScore', { initial_category_index: 1 })));
});
