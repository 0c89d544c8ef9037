/** The store without a browser: edits, undo/redo, code both ways (a headless driver for UI logic). */
import { describe, expect, it } from 'vitest';
import { parseShapeDtype, formatShapeDtype } from '../../../engine/core/shape';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { createStrataStore } from './store';

const mlp = () => codeToDocument('# input: float32[B,784]\ntl.Serial(tl.Dense(128), tl.Relu(), tl.Dense(10))');

describe('the store', () => {
  it('traces the document and re-traces on every edit', () => {
    const s = createStrataStore(mlp());
    expect(s.getState().trace.output!.map(formatShapeDtype)).toEqual(['float32[B,10]']);
    s.getState().edit({ type: 'setParam', id: 'n4', name: 'n_units', value: 5 });
    expect(s.getState().trace.output!.map(formatShapeDtype)).toEqual(['float32[B,5]']);
    expect(s.getState().code).toContain('tl.Dense(5)');
    expect(s.getState().dirty).toBe(true);
  });

  it('undoes and redoes every change', () => {
    const s = createStrataStore(mlp());
    const before = s.getState().doc;
    s.getState().edit({ type: 'insert', place: { parent: 'n1', children: 1 }, node: { id: 'x', kind: 'Dropout', params: { rate: 0.1 } } });
    s.getState().edit({ type: 'remove', id: 'n3' });
    expect(s.getState().doc.root.children!.map((c) => c.kind)).toEqual(['Dense', 'Dropout', 'Dense']);
    s.getState().undo();
    s.getState().undo();
    expect(s.getState().doc).toBe(before);
    s.getState().redo();
    expect(s.getState().doc.root.children!.map((c) => c.kind)).toEqual(['Dense', 'Dropout', 'Relu', 'Dense']);
  });

  it('follows the code view, and keeps the canvas on a parse error', () => {
    const s = createStrataStore(mlp());
    s.getState().setCode('tl.Serial(tl.Dense(64), tl.Tanh())');
    expect(s.getState().doc.root.children!.map((c) => c.kind)).toEqual(['Dense', 'Tanh']);
    expect(s.getState().doc.input).toEqual([parseShapeDtype('float32[B,784]')]);
    const doc = s.getState().doc;
    s.getState().setCode('tl.Serial(tl.Dense(64), tl.Tanh(');
    expect(s.getState().doc).toBe(doc);
    expect(s.getState().codeProblem).toMatchObject({ line: 1 });
  });

  it('wraps and unwraps, moves, and refuses impossible edits with a message', () => {
    const s = createStrataStore(mlp());
    expect(s.getState().edit({ type: 'wrap', ids: ['n2', 'n3'], kind: 'Residual', id: 'w' })).toBe(true);
    expect(s.getState().doc.root.children!.map((c) => c.kind)).toEqual(['Residual', 'Dense']);
    expect(s.getState().trace.errors[0]?.code).toBe('shape_mismatch');
    s.getState().edit({ type: 'unwrap', id: 'w' });
    expect(s.getState().doc.root.children!.map((c) => c.kind)).toEqual(['Dense', 'Relu', 'Dense']);
    s.getState().edit({ type: 'move', id: 'n2', place: { parent: 'n1', children: 3 } });
    expect(s.getState().doc.root.children!.map((c) => c.id)).toEqual(['n3', 'n4', 'n2']);
    expect(s.getState().edit({ type: 'remove', id: 'n1' })).toBe(false);
    expect(s.getState().editError).toContain('root');
  });
});
