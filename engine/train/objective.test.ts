import { describe, expect, it } from 'vitest';
import type { ShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { checkObjective, modelKey, resolveLoss, trainingTree } from './objective';

let n = 0;
const node = (kind: string, params?: DocNode['params'], children?: DocNode[]): DocNode => ({ id: `t${++n}`, kind, ...(params ? { params } : {}), ...(children ? { children } : {}) });
const mlp = (last?: string): DocNode => node('Serial', undefined, [node('Flatten'), node('Dense', { n_units: 10 }), ...(last ? [node(last)] : [])]);
const images: ShapeDtype[] = [{ dtype: 'float32', shape: [4, 28, 28, 1] }];
const labels: ShapeDtype[] = [{ dtype: 'int32', shape: [4] }, { dtype: 'float32', shape: [4] }];

describe('the training objective', () => {
  it('accepts a classifier ending in LogSoftmax', () => {
    expect(() => checkObjective(mlp('LogSoftmax'), images, labels, 'CrossEntropyLoss', ['Accuracy'])).not.toThrow();
  });

  it('refuses a model that does not end in log-probabilities, saying what to do', () => {
    expect(() => checkObjective(mlp(), images, labels, 'CrossEntropyLoss', [])).toThrow(/does not end in them: it ends in Dense .*add LogSoftmax\(\).*CrossEntropyLossWithLogSoftmax/);
    expect(() => checkObjective(mlp('Softmax'), images, labels, 'CrossEntropyLoss', [])).toThrow(/ends in Softmax \(probabilities\): replace it by LogSoftmax/);
    // a loss that takes logits is fine with it
    expect(() => checkObjective(mlp(), images, labels, 'CrossEntropyLossWithLogSoftmax', [])).not.toThrow();
  });

  it('sees through macros: TransformerLM ends in Dense (logits, as in Trax)', () => {
    const tokens: ShapeDtype[] = [{ dtype: 'int32', shape: [2, 8] }];
    const extra: ShapeDtype[] = [{ dtype: 'int32', shape: [2, 8] }, { dtype: 'float32', shape: [2, 8] }];
    const lm = (): DocNode => node('TransformerLM', { vocab_size: 16, d_model: 8, d_ff: 16, n_layers: 1, n_heads: 2 });
    expect(() => checkObjective(lm(), tokens, extra, 'CrossEntropyLoss', ['Accuracy'])).toThrow(/it ends in Dense \(Serial\[\d+\] > Dense\)/);
    expect(() => checkObjective(node('Serial', undefined, [lm(), node('LogSoftmax')]), tokens, extra, 'CrossEntropyLoss', ['Accuracy'])).not.toThrow();
    expect(() => checkObjective(lm(), tokens, extra, 'CrossEntropyLossWithLogSoftmax', ['Accuracy'])).not.toThrow();
  });

  it('names the mismatch between model output and targets', () => {
    const bad: ShapeDtype[] = [{ dtype: 'int32', shape: [4, 3] }, { dtype: 'float32', shape: [4, 3] }];
    expect(() => checkObjective(mlp('LogSoftmax'), images, bad, 'CrossEntropyLoss', [])).toThrow(/does not fit the model's output float32\[4,10\] and the task's targets int32\[4,3\]/);
    expect(() => checkObjective(mlp('LogSoftmax'), [{ dtype: 'float32', shape: [4, 5] }], labels, 'CrossEntropyLoss', [])).not.toThrow();
  });

  it('keys: the training tree prefixes the model', () => {
    const tree = trainingTree(mlp('LogSoftmax'), 'CrossEntropyLoss', ['Accuracy']);
    expect(tree.children?.[1].kind).toBe('Branch');
    expect(modelKey('Serial[0]/Serial[1]/Dense/kernel')).toBe('Serial[1]/Dense/kernel');
    expect(modelKey('Serial[1]/Branch[0]/x')).toBeUndefined();
  });

  it('resolves loss names and aliases; unknown ones are listed', () => {
    expect(resolveLoss('cross-entropy')).toBe('CrossEntropyLoss');
    expect(resolveLoss('l2loss')).toBe('L2Loss');
    expect(() => resolveLoss('hinge')).toThrow(/unknown loss 'hinge'; choose one of CrossEntropyLoss/);
  });
});
