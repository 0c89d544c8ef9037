/**
 * trax.layers.reversible: ReversibleSerial's reversibility check, the
 * HalfResidual stack discipline, and the conformance cases of the module.
 * Shapes of every kind are in cases/reversible.cases.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../test/conformance';
import { formatShapeDtype, parseShapeDtype } from '../core/shape';
import { analyze, traceDocument } from '../document/trace';
import type { DocNode } from '../document/schema';
import type { PyValue } from './def';

let nextId = 0;
function node(kind: string, params?: Record<string, PyValue>, children?: DocNode[], slots?: Record<string, DocNode>): DocNode {
  const n: DocNode = { id: `v${++nextId}`, kind };
  if (params) n.params = params;
  if (children) n.children = children;
  if (slots) n.slots = slots;
  return n;
}
const sig = (...s: string[]) => s.map(parseShapeDtype);


describe('ReversibleSwap / ReversibleSelect', () => {
  it('ReversibleSwap is ReversibleSelect([1, 0])', () => {
    const a = analyze(node('ReversibleSwap'));
    expect(a.errors).toEqual([]);
    expect(a.expansion!.kind).toBe('ReversibleSelect');
    expect(a.expansion!.params).toEqual({ indices: [1, 0], name: 'ReversibleSwap' });
    expect(a.arity).toEqual({ nIn: 2, nOut: 2 });
  });

  it('rejects a Select that drops an input, naming the missing index', () => {
    const a = analyze(node('ReversibleSelect', { indices: [0, 2, 2] }));
    expect(a.errors.map((e) => e.message)).toEqual(['To be reversible, all inputs to Select must be in indices. Did not find 1 in indices [0, 2, 2]']);
  });
});

describe('ReversibleSerial', () => {
  const half = (k: string) => node('ReversibleHalfResidual', undefined, [node(k)]);

  it('accepts reversible children, including macros and nested ReversibleSerials', () => {
    const root = node('ReversibleSerial', undefined, [
      half('Relu'), node('ReversibleSwap'),
      node('ReversibleSerial', undefined, [half('Tanh'), node('ReversibleSwap')]),
      node('ReversiblePrintShape', { n_in: 2 }),
    ]);
    const t = traceDocument({ root, input: sig('float32[B,8]', 'float32[B,8]') });
    expect(t.errors).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[B,8]', 'float32[B,8]']);
    expect(t.root.analysis.arity).toEqual({ nIn: 2, nOut: 2 });
  });

  it('rejects a child that is not reversible (Trax ValueError at construction)', () => {
    const t = traceDocument({ root: node('ReversibleSerial', undefined, [node('ReversibleSwap'), node('Serial', undefined, [node('ReversibleSwap')])]), input: sig('float32[2]', 'float32[2]') });
    expect(t.errors.map((e) => [e.code, e.kind, e.message])).toEqual([
      ['construct', 'ReversibleSerial', 'ReversibleSerial: Sub-layer 1 of ReversibleSerial is not reversible: Serial (use Reversible* layers, ReversibleHalfResidual, or ReversibleSerial)'],
    ]);
  });

  it('leaves an unknown child to its own error', () => {
    const t = traceDocument({ root: node('ReversibleSerial', undefined, [node('NoSuchLayer')]), input: sig('float32[2]') });
    expect(t.errors.map((e) => e.code)).toEqual(['unknown_kind']);
  });
});

describe('ReversibleHalfResidual', () => {
  it('n_in = 1 + running max of (Serial(residual_layers), attention_layer); context passes through', () => {
    // a 1->1 residual layer, then a 2-input "attention" that also takes a mask from the context: n_in = 3
    const root = node('ReversibleHalfResidual', undefined, [node('Relu')], { attention_layer: node('Multiply') });
    expect(analyze(root).arity).toEqual({ nIn: 3, nOut: 3 });
    const t = traceDocument({ root, input: sig('float32[B,L,4]', 'float32[B,L,4]', 'float32[B,L,1]') });
    expect(t.errors.map((e) => e.message)).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,L,1]']);
    // the residual layers run on the context only; their edges are recorded
    expect(t.root.stacks![0]!.map(formatShapeDtype)).toEqual(['float32[B,L,4]', 'float32[B,L,1]']);
    expect(t.root.slots.attention_layer!.inputs!.map(formatShapeDtype)).toEqual(['float32[B,L,4]', 'float32[B,L,1]']);
  });

  it('a RevNet block [x1, x2] -> [x1 + F(x2), x2 + G(y1)] keeps the shapes', () => {
    const root = node('ReversibleSerial', undefined, [
      node('ReversibleHalfResidual', undefined, [node('Dense', { n_units: 6 })]), node('ReversibleSwap'),
      node('ReversibleHalfResidual', undefined, [node('Dense', { n_units: 6 })]), node('ReversibleSwap'),
    ]);
    const t = traceDocument({ root, input: sig('float32[B,L,6]', 'float32[B,L,6]') });
    expect(t.errors).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[B,L,6]', 'float32[B,L,6]']);
    expect(t.params).toBe(2 * (36 + 6));
  });
});

describe('conformance (reversible)', () => {
  const models: Record<string, DocNode> = {
    reversible_swap: node('ReversibleSwap'),
    reversible_select_reverse: node('ReversibleSelect', { indices: [2, 0, 1] }),
    reversible_concatenate_pair: node('ReversibleConcatenatePair'),
  };
  for (const [id, root] of Object.entries(models)) {
    it(id, () => checkConformance(id, root));
  }
});
