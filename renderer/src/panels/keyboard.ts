/**
 * Global keys: Delete, Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y, Ctrl+S (Ctrl+Shift+S:
 * save as), Ctrl+O, Ctrl+K (quick insert), F (fit), Ctrl+C / Ctrl+V
 * (layers), Ctrl+D (duplicate). Not while typing in a field or the code
 * editor, where keys belong to the text.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { HostApi } from '../../../engine/host/api';
import type { StrataState } from '../state/store';
import { copySelection, deleteSelection, duplicateSelection, paste } from './actions';
import { setStatus, useApp } from './context';
import { openDocument, saveDocument, saveDocumentAs } from './files';

/** Events the panels send to the canvas (it listens on window). */
export const EVENTS = {
  /** {id}: scroll the canvas to the node */
  focus: 'strata:focus',
  /** no detail: fit the whole model in view */
  fit: 'strata:fit',
  /** no detail: open the canvas's search-and-insert box at the selection */
  quickInsert: 'strata:quick-insert',
  /** {path, index}: the canvas asks for the tensor view of a chip */
  openTensor: 'strata:open-tensor',
} as const;

export function dispatch(name: string, detail?: unknown): void {
  window.dispatchEvent(new CustomEvent(name, { detail }));
}

export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest('.cm-editor')) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'range', 'color', 'file'].includes(target.type);
  }
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || (target as HTMLElement).isContentEditable;
}

export function installKeyboard(store: StoreApi<StrataState>, host: HostApi): () => void {
  const onKey = (e: KeyboardEvent): void => {
    if (e.defaultPrevented) return;
    const app = useApp.getState();
    // a dialog takes its own keys
    if (app.pathRequest || app.confirmRequest) return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const s = store.getState();
    // saving and opening work from anywhere, the editor included
    if (mod && key === 's') {
      e.preventDefault();
      void (e.shiftKey ? saveDocumentAs(store, host) : saveDocument(store, host));
      return;
    }
    if (mod && key === 'o') {
      e.preventDefault();
      void openDocument(store, host);
      return;
    }
    if (isTyping(e.target)) return;
    if (mod && key === 'z') {
      e.preventDefault();
      if (e.shiftKey) s.redo(); else s.undo();
      return;
    }
    if (mod && key === 'y') {
      e.preventDefault();
      s.redo();
      return;
    }
    if (mod && key === 'k') {
      e.preventDefault();
      dispatch(EVENTS.quickInsert);
      return;
    }
    if (mod && key === 'c') {
      const n = copySelection(store);
      if (n) { e.preventDefault(); setStatus(`Copied ${n} layer${n > 1 ? 's' : ''}`); }
      return;
    }
    if (mod && key === 'v') {
      if (paste(store)) e.preventDefault();
      return;
    }
    if (mod && key === 'd') {
      e.preventDefault();
      duplicateSelection(store);
      return;
    }
    if (mod || e.altKey) return;
    if (key === 'Delete' || key === 'Backspace') {
      if (deleteSelection(store)) e.preventDefault();
      return;
    }
    if (key === 'f') {
      e.preventDefault();
      dispatch(EVENTS.fit);
      return;
    }
    if (key === 'Escape' && s.selection.length) {
      s.select([]);
    }
  };
  const onBeforeUnload = (e: BeforeUnloadEvent): void => {
    if (!store.getState().dirty) return;
    e.preventDefault();
    // older browsers and Electron read returnValue
    e.returnValue = '';
  };
  window.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', onBeforeUnload);
  return () => {
    window.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onBeforeUnload);
  };
}
