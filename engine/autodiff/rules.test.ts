/**
 * Every VJP rule family on one-op graphs, against central finite
 * differences in float64 (onnxruntime CPU), with broadcasting and size-1
 * dims: loss = sum(y * P) for a fixed random P, gradients with respect to
 * every float input.
 */
import { describe, expect, it } from 'vitest';
import type { Model } from '../core/onnx';
import { RULE_CASES, f, oneOp } from './rule-cases';
import { gradCheck, projectionLoss } from '../../test/gradcheck';
import { addGradients } from './grad';
import { NON_DIFFERENTIABLE, RULE_COUNT, VJP } from './rules';

describe('VJP rules on one-op graphs match float64 finite differences', () => {
  it('has a rule or a non-differentiable entry for every op (the types check it; this counts)', () => {
    expect(RULE_COUNT + Object.keys(NON_DIFFERENTIABLE).length).toBeGreaterThan(60);
    expect(Object.keys(VJP).filter((k) => k in NON_DIFFERENTIABLE)).toEqual([]);
  });
  for (const c of RULE_CASES) {
    it(c.name, async () => {
      const { model, wrt, outs } = oneOp(c.op, c.ins, c.attrs, c.nOut, c.outputs);
      const withLoss = projectionLoss(model, outs, c.name);
      const r = await gradCheck(withLoss, { loss: 'loss', wrt, coords: 6, seed: c.name, range: c.range });
      expect(r.unreached).toEqual([]);
      expect(r.mismatches).toEqual([]);
      expect(r.checked).toBeGreaterThan(0);
      if (process.env.GRADCHECK_VERBOSE) console.log(c.name, r.worst.toExponential(2));
    });
  }

  it('catches a wrong rule (the check can fail)', async () => {
    const rule = VJP.Sin;
    const saved = rule.vjp;
    // d sin = cos, not -sin
    (rule as { vjp: typeof saved }).vjp = (c) => [c.b.op1('Neg', [c.b.op1('Mul', [c.GO(0), c.b.op1('Sin', [c.I(0)])])])];
    try {
      const { model, wrt, outs } = oneOp('Sin', [f('x', 5)]);
      const r = await gradCheck(projectionLoss(model, outs), { loss: 'loss', wrt, coords: 5 });
      expect(r.mismatches.length).toBe(5);
    } finally {
      (rule as { vjp: typeof saved }).vjp = saved;
    }
  });
});

describe('the backward pass', () => {
  it('sums fan-out once per value (x used three times), with Add or with Sum', async () => {
    const model: Model = {
      graph: {
        name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }], outputs: [], initializers: [],
        nodes: [
          { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'], name: 'sq' },
          { op: 'Sin', inputs: ['x'], outputs: ['s'], name: 's' },
          { op: 'Add', inputs: ['sq', 's'], outputs: ['y'], name: 'y' },
        ],
      },
      functions: [], producer: 'test', metadata: {},
    };
    const withLoss = projectionLoss(model, ['y']);
    for (const accumulate of ['Add', 'Sum'] as const) {
      const { model: gm, grads } = addGradients(withLoss, { loss: 'loss', wrt: ['x'], accumulate });
      expect(grads.get('x')).toBe('x_grad');
      const into = gm.graph.nodes.filter((n) => n.outputs.includes('x_grad'));
      expect(into.map((n) => n.op)).toEqual([accumulate]);
    }
    const r = await gradCheck(withLoss, { loss: 'loss', wrt: ['x'], coords: 6 });
    expect(r.mismatches).toEqual([]);
  });

  it('gives zeros (and reports it) for a variable the loss does not depend on', () => {
    const { model } = oneOp('Add', [f('a', 2), f('b', 2)]);
    model.graph.inputs.push({ name: 'unused', dtype: 'float32', shape: [3] });
    const { model: gm, grads, unreached } = addGradients(projectionLoss(model, ['y0']), { loss: 'loss', wrt: ['a', 'unused'] });
    expect(unreached).toEqual(['unused']);
    const producer = gm.graph.nodes.find((n) => n.outputs.includes(grads.get('unused')!))!;
    expect(producer.op).toBe('Identity');
    expect(gm.graph.outputs.map((o) => o.name)).toContain('unused_grad');
  });

  it('refuses control flow on the path (also through a captured value), a non-scalar loss and an op without a rule', () => {
    const body = { name: 'b', inputs: [], outputs: [{ name: 'o', dtype: 'float32' as const, shape: [2] }], nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['o'] }], initializers: [] };
    const ifModel: Model = {
      graph: {
        name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: [2] }, { name: 'c', dtype: 'bool', shape: [] }], outputs: [], initializers: [],
        nodes: [{ op: 'If', inputs: ['c'], outputs: ['y'], name: 'if', attrs: { then_branch: { graph: body }, else_branch: { graph: body } } }],
      },
      functions: [], producer: 'test', metadata: {},
    };
    expect(() => addGradients(projectionLoss(ifModel, ['y']), { loss: 'loss', wrt: ['x'] })).toThrow(/If node 'if' is on a path .* lower with `unroll: true`/);
    const { model } = oneOp('Add', [f('a', 2), f('b', 2)]);
    expect(() => addGradients(model, { loss: 'y0', wrt: ['a'] })).toThrow(/must be a float scalar, but 'y0' is float32\[2\]/);
    const sum: Model = { ...model, graph: { ...model.graph, nodes: [{ op: 'Sum', inputs: ['a', 'b'], outputs: ['y0'], name: 'sum' }] } };
    expect(() => addGradients(projectionLoss(sum, ['y0']), { loss: 'loss', wrt: ['a'] })).toThrow(/Sum node 'sum' has no VJP rule/);
  });

  it('checks every gradient a rule gives against its input type, naming the op', () => {
    const broken = VJP.Neg;
    const saved = broken.vjp;
    (broken as { vjp: typeof saved }).vjp = (c) => [c.b.op1('ReduceSum', [c.GO(0)], { keepdims: { int: 0 } })];
    try {
      const { model } = oneOp('Neg', [f('x', 2, 3)]);
      expect(() => addGradients(projectionLoss(model, ['y0']), { loss: 'loss', wrt: ['x'] })).toThrow(/VJP rule of Neg node 'Neg' gave float32\[\] for input 0 \('x'\), expected float32\[2,3\]/);
    } finally {
      (broken as { vjp: typeof saved }).vjp = saved;
    }
  });
});
