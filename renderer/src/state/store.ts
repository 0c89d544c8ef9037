/**
 * The one store of the app: plain, serializable data (the document, the
 * selection, history) plus what is derived from it (the stack trace, the
 * code). React Flow nodes are a projection computed from it. Every document
 * change goes through `edit`, which records history for undo/redo.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { StrataDocument } from '../../../engine/document/schema';
import { type DocumentTrace, traceDocument } from '../../../engine/document/trace';
import { documentToCode } from '../../../engine/tracecode/print';
import { CodeError, codeToDocument } from '../../../engine/tracecode/parse';
import { type Edit, EditError, applyEdit } from './edits';

export interface CodeProblem { line: number; col: number; message: string }

export interface StrataState {
  doc: StrataDocument;
  /** the file the document was opened from / saved to */
  file: string | null;
  dirty: boolean;
  selection: string[];
  past: StrataDocument[];
  future: StrataDocument[];
  trace: DocumentTrace;
  /** the document as Trax code (what the code view shows unless the user is typing) */
  code: string;
  codeProblem: CodeProblem | null;
  /** the last edit that could not apply, for a message */
  editError: string | null;

  edit(e: Edit): boolean;
  undo(): void;
  redo(): void;
  select(ids: string[]): void;
  /** text from the code view: parsed into the document, or a problem marked (the canvas stays as it was) */
  setCode(text: string): void;
  load(doc: StrataDocument, file: string | null): void;
  markSaved(file: string): void;
}

const HISTORY = 200;

function derive(doc: StrataDocument): Pick<StrataState, 'trace' | 'code'> {
  return { trace: traceDocument(doc), code: documentToCode(doc) };
}

export function createStrataStore(initial: StrataDocument): StoreApi<StrataState> {
  return createStore<StrataState>()((set, get) => ({
    doc: initial,
    file: null,
    dirty: false,
    selection: [],
    past: [],
    future: [],
    ...derive(initial),
    codeProblem: null,
    editError: null,

    edit(e) {
      const { doc, past } = get();
      let next: StrataDocument;
      try {
        next = applyEdit(doc, e);
      } catch (err) {
        if (err instanceof EditError) { set({ editError: err.message }); return false; }
        throw err;
      }
      if (next === doc) return true;
      set({ doc: next, ...derive(next), past: [...past.slice(-HISTORY + 1), doc], future: [], dirty: true, editError: null, codeProblem: null });
      return true;
    },
    undo() {
      const { past, doc, future } = get();
      const prev = past[past.length - 1];
      if (!prev) return;
      set({ doc: prev, ...derive(prev), past: past.slice(0, -1), future: [doc, ...future], dirty: true, codeProblem: null });
    },
    redo() {
      const { past, doc, future } = get();
      const next = future[0];
      if (!next) return;
      set({ doc: next, ...derive(next), past: [...past, doc], future: future.slice(1), dirty: true, codeProblem: null });
    },
    select(ids) {
      set({ selection: ids });
    },
    setCode(text) {
      let parsed: StrataDocument;
      try {
        parsed = codeToDocument(text);
      } catch (err) {
        if (err instanceof CodeError) { set({ codeProblem: { line: err.line, col: err.col, message: err.message } }); return; }
        throw err;
      }
      const { doc } = get();
      // the code view's `# input:` line, when absent, keeps the document's signature
      const next: StrataDocument = { ...doc, root: parsed.root, input: parsed.input.length ? parsed.input : doc.input };
      get().edit({ type: 'replaceDocument', doc: next });
      set({ codeProblem: null });
    },
    load(doc, file) {
      set({ doc, file, ...derive(doc), past: [], future: [], dirty: false, selection: [], codeProblem: null, editError: null });
    },
    markSaved(file) {
      set({ file, dirty: false });
    },
  }));
}
