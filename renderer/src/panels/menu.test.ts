/** The desktop menu's commands reach the store (headless: no window needed for these). */
import { describe, expect, it } from 'vitest';
import type { HostApi } from '../../../engine/host/api';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { createStrataStore } from '../state/store';
import { runMenuCommand, type MenuCommand } from './menu';

describe('desktop menu commands', () => {
  it('undo and redo edit the document; an unknown command is left to the menu', () => {
    const store = createStrataStore(codeToDocument('# input: float32[B,4]\ntl.Serial(tl.Dense(8), tl.Relu())'));
    const host = {} as HostApi;
    store.getState().edit({ type: 'setParam', id: 'n2', name: 'n_units', value: 3 });
    expect(runMenuCommand(store, host, { command: 'undo' })).toBe(true);
    expect(store.getState().doc.root.children![0].params).toEqual({ n_units: 8 });
    expect(runMenuCommand(store, host, { command: 'redo' })).toBe(true);
    expect(store.getState().doc.root.children![0].params).toEqual({ n_units: 3 });
    expect(runMenuCommand(store, host, { command: 'print' } as unknown as MenuCommand)).toBe(false);
  });
});
