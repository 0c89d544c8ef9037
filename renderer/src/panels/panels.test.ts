/** The panels' logic without a browser: parameter text, editing commands, run requests, stack-item producers. */
import { describe, expect, it } from 'vitest';
import { formatShapeDtype } from '../../../engine/core/shape';
import { paramSpecs } from '../../../engine/document/params';
import { lookupKind } from '../../../engine/layers/registry';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { createStrataStore } from '../state/store';
import { copySelection, deleteSelection, duplicateSelection, insertKind, paste, unwrapSelection, wrapSelection } from './actions';
import { paramProblem, storedValue, textToValue, valueToText } from './paramText';
import { bindDim, buildRunRequest, inputSymbols } from './runActions';
import { producerOf, traceIndex } from './traceIndex';

const spec = (kind: string, name: string) => paramSpecs(lookupKind(kind)!).get(name)!;
const mlp = () => createStrataStore(codeToDocument('# input: float32[B,784]\ntl.Serial(tl.Dense(128), tl.Relu(), tl.Dense(10))'));
const kinds = (s: ReturnType<typeof mlp>) => s.getState().doc.root.children!.map((c) => c.kind);

describe('parameter text', () => {
  it('reads plain types and refuses text that is no value', () => {
    expect(textToValue('Dense', spec('Dense', 'n_units'), '256')).toEqual({ ok: true, value: 256 });
    expect(textToValue('Dense', spec('Dense', 'n_units'), 'abc').ok).toBe(false);
    expect(textToValue('Dense', spec('Dense', 'n_units'), '').ok).toBe(false);
    // a number the schema rejects is still read; the problem is the schema's
    const v = textToValue('Dense', spec('Dense', 'n_units'), '0');
    expect(v).toEqual({ ok: true, value: 0 });
    expect(paramProblem('Dense', spec('Dense', 'n_units'), 0)).toMatch(/>= 1/);
    expect(textToValue('Dropout', spec('Dropout', 'rate'), '')).toEqual({ ok: true, value: undefined });
  });

  it('reads tuples as comma lists and Python values with the code parser', () => {
    const pool = spec('MaxPool', 'pool_size');
    expect(textToValue('MaxPool', pool, '3, 3')).toEqual({ ok: true, value: [3, 3] });
    expect(valueToText(pool, [2, 2])).toBe('2, 2');
    const init = spec('Dense', 'kernel_initializer');
    expect(textToValue('Dense', init, 'tl.initializers.RandomNormalInitializer(0.02)')).toEqual({ ok: true, value: { $init: 'RandomNormalInitializer', args: { stddev: 0.02 } } });
    expect(textToValue('Dense', init, '3').ok).toBe(false);
  });

  it('stores a default as absent', () => {
    expect(storedValue(spec('Dense', 'use_bias'), true)).toBeUndefined();
    expect(storedValue(spec('Dense', 'use_bias'), false)).toBe(false);
  });
});

describe('editing commands', () => {
  it('inserts at the selection, duplicates, deletes, undoes in one step each', () => {
    const s = mlp();
    s.getState().select(['n2']);
    insertKind(s, 'LayerNorm');
    expect(kinds(s)).toEqual(['Dense', 'LayerNorm', 'Relu', 'Dense']);
    duplicateSelection(s);
    expect(kinds(s)).toEqual(['Dense', 'LayerNorm', 'LayerNorm', 'Relu', 'Dense']);
    deleteSelection(s);
    s.getState().undo();
    s.getState().undo();
    expect(kinds(s)).toEqual(['Dense', 'LayerNorm', 'Relu', 'Dense']);
  });

  it('wraps siblings and unwraps them; copy and paste get fresh ids', () => {
    const s = mlp();
    s.getState().select(['n3', 'n2']);
    expect(wrapSelection(s, 'Residual')).toBe(true);
    expect(kinds(s)).toEqual(['Residual', 'Dense']);
    expect(s.getState().doc.root.children![0].children!.map((c) => c.id)).toEqual(['n2', 'n3']);
    expect(unwrapSelection(s)).toBe(true);
    expect(kinds(s)).toEqual(['Dense', 'Relu', 'Dense']);
    s.getState().select(['n2']);
    copySelection(s);
    paste(s);
    const ids = s.getState().doc.root.children!.map((c) => c.id);
    expect(new Set(ids).size).toBe(4);
  });

  it('wraps a root that is one layer in a Serial to insert after it', () => {
    const s = createStrataStore(codeToDocument('# input: int32[B,L]\ntl.Embedding(100, 16)'));
    insertKind(s, 'Relu');
    expect(s.getState().doc.root.kind).toBe('Serial');
    expect(kinds(s)).toEqual(['Embedding', 'Relu']);
  });
});

describe('runs', () => {
  it('binds the symbols of the input signature', () => {
    const s = mlp();
    expect(inputSymbols(s.getState().doc.input)).toEqual(['B']);
    expect(bindDim('L*2', { L: 8 })).toBe(16);
    const req = buildRunRequest(s.getState().doc, s.getState().trace, { seed: 3, mode: 'eval', provider: 'cpu', inputs: [], sizes: { B: 4 } });
    expect((req.doc as { input: unknown[] }).input).toEqual([{ dtype: 'float32', shape: [4, 784] }]);
    expect(req.inputs).toEqual([{ kind: 'normal' }]);
  });

  it('finds the layer that produced a stack item', () => {
    const s = createStrataStore(codeToDocument('# input: float32[B,4]\ntl.Serial(tl.Branch(tl.Dense(3), None), tl.Relu(), tl.Add())'));
    const t = s.getState().trace;
    // after Relu the stack is [relu(dense), x]: item 1 passed by Relu and Branch's second lane (None)
    expect(producerOf(t, 'Serial[1]', 0)).toEqual({ path: 'Serial[1]', index: 0 });
    expect(producerOf(t, 'Serial[1]', 1)).toEqual({ path: 'Serial[0]', index: 1 });
    expect(traceIndex(t).byPath.get('Serial[1]')!.after!.map(formatShapeDtype)).toEqual(['float32[B,3]', 'float32[B,4]']);
  });
});
