/**
 * stop_gradient: values the lowering marks (the max that keeps logsumexp's
 * exp finite) get no gradient, so the backward pass has no path through
 * them; the gradients still equal finite differences (catalog.test.ts and
 * models.test.ts pass the marks), since that path's gradient cancels exactly.
 */
import { describe, expect, it } from 'vitest';
import { lowerDocument } from '../onnx/lower';
import { caseToNode } from '../layers/cases/all';
import { addGradients } from './grad';
import { projectionLoss } from '../../test/gradcheck';

describe('stopGradient', () => {
  it('cuts the backward pass at the marked values (LogSoftmax: no gradient through its max)', () => {
    const low = lowerDocument({ root: caseToNode({ kind: 'LogSoftmax' }), input: [{ dtype: 'float32', shape: [3, 5] }] }, { mode: 'train', weights: 'inputs', unroll: true });
    expect(low.stopGradients).toHaveLength(1);
    const max = low.model.graph.nodes.find((n) => n.outputs[0] === low.stopGradients[0])!;
    expect(max.op).toBe('ReduceMax');
    const withLoss = projectionLoss(low.model, [low.outputs[0].name]);
    const through = (stop?: string[]): string[] => addGradients(withLoss, { loss: 'loss', wrt: ['input_0'], stop }).model.graph.nodes.map((n) => n.name ?? '').filter((n) => n.includes('ReduceMax_grad'));
    expect(through()).not.toEqual([]);
    expect(through(low.stopGradients)).toEqual([]);
  });
});
