/**
 * The model as Trax Python (CodeMirror 6). Typing is applied to the document
 * after a pause (CODE_DELAY_MS); a parse error is marked in the editor (its
 * line, the token, a message below) and the canvas stays as it was. When the
 * document changes elsewhere the text follows, except while the user's own
 * typing is waiting to be applied.
 */
import { useEffect, useRef } from 'react';
import { EditorView, basicSetup } from 'codemirror';
import { python } from '@codemirror/lang-python';
import { Annotation, EditorState, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import { Decoration, type DecorationSet, keymap } from '@codemirror/view';
import type { StoreApi } from 'zustand/vanilla';
import { CodeError, codeToDocument } from '../../../engine/tracecode/parse';
import { documentToCode } from '../../../engine/tracecode/print';
import type { CodeProblem, StrataState } from '../state/store';
import { useStrata, useStrataStore } from './context';
import { traceIndex } from './traceIndex';

export const CODE_DELAY_MS = 400;

/** Transactions the app makes (the document changed elsewhere), as opposed to typing. */
const External = Annotation.define<boolean>();
const setProblem = StateEffect.define<CodeProblem | null>();

const problemLine = Decoration.line({ class: 'cm-problem-line' });
const problemMark = Decoration.mark({ class: 'cm-problem-mark' });

const problemField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setProblem)) continue;
      const p = e.value;
      if (!p) { deco = Decoration.none; continue; }
      const doc = tr.state.doc;
      const lineNo = Math.min(Math.max(1, p.line), doc.lines);
      const line = doc.line(lineNo);
      const from = Math.min(line.from + Math.max(0, p.col - 1), line.to);
      // the token at the position (or one character)
      const rest = doc.sliceString(from, line.to);
      const len = Math.max(1, /^[\w.]+|^\S/.exec(rest)?.[0].length ?? 1);
      const to = Math.min(from + len, line.to);
      const b = new RangeSetBuilder<Decoration>();
      b.add(line.from, line.from, problemLine);
      if (to > from) b.add(from, to, problemMark);
      deco = b.finish();
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const theme = EditorView.theme({
  '&': { height: '100%', fontSize: '12.5px' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.45' },
  '.cm-problem-line': { backgroundColor: 'rgba(220, 38, 38, 0.10)' },
  '.cm-problem-mark': { textDecoration: 'underline wavy #dc2626', textDecorationSkipInk: 'none' },
});

/** Applies the editor's text to the document: setCode, keeping the selection on the same tree positions. */
function applyText(store: StoreApi<StrataState>, text: string): void {
  const before = store.getState();
  // no change to the model (only spacing or comments): no edit, no history entry
  try {
    const parsed = codeToDocument(text);
    const printed = documentToCode({ root: parsed.root, input: parsed.input.length ? parsed.input : before.doc.input });
    if (printed === before.code) {
      if (before.codeProblem) store.setState({ codeProblem: null });
      return;
    }
  } catch (e) {
    if (!(e instanceof CodeError)) throw e;
  }
  const oldIdx = traceIndex(before.trace);
  const paths = before.selection.map((id) => oldIdx.byId.get(id)?.indexPath).filter((p): p is string => p !== undefined);
  before.setCode(text);
  const after = store.getState();
  if (after.doc !== before.doc && paths.length) {
    const byIndex = new Map(traceIndex(after.trace).order.map((i) => [i.indexPath, i.trace.node.id]));
    after.select(paths.map((p) => byIndex.get(p)).filter((id): id is string => !!id));
  }
}

export function CodeView() {
  const store = useStrataStore();
  const host = useRef<HTMLDivElement>(null);
  const problem = useStrata((s) => s.codeProblem);
  const viewRef = useRef<EditorView | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    /** while the editor's own text is being applied (the store's new code is not written back over the user's text) */
    let applying = false;
    const flush = (): void => {
      clearTimeout(timer);
      if (!pending) return;
      pending = false;
      applying = true;
      try {
        applyText(store, view.state.doc.toString());
      } finally {
        applying = false;
      }
    };
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: store.getState().code,
        extensions: [
          basicSetup,
          python(),
          problemField,
          theme,
          keymap.of([{ key: 'Mod-Enter', run: () => { pending = true; flush(); return true; } }]),
          EditorView.contentAttributes.of({ 'aria-label': 'Trax code', 'data-testid': 'code-editor' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && !u.transactions.some((t) => t.annotation(External))) {
              pending = true;
              clearTimeout(timer);
              timer = setTimeout(flush, CODE_DELAY_MS);
            }
            if (u.focusChanged && !u.view.hasFocus) {
              // leaving the editor: apply now, then show the canonical text if the model parsed
              flush();
              const s = store.getState();
              if (!s.codeProblem && view.state.doc.toString() !== s.code) replace(s.code);
            }
          }),
        ],
      }),
    });
    viewRef.current = view;
    const replace = (code: string): void => {
      const cur = view.state.doc.toString();
      if (cur === code) return;
      const head = Math.min(view.state.selection.main.head, code.length);
      // only the changed middle: the editor then re-parses and redraws just that (an edit changes a line or two of
      // a model's code, and replacing all of a 2,000-layer model's text took tens of milliseconds per keystroke)
      let from = 0;
      const max = Math.min(cur.length, code.length);
      while (from < max && cur.charCodeAt(from) === code.charCodeAt(from)) from++;
      let end = 0;
      while (end < max - from && cur.charCodeAt(cur.length - 1 - end) === code.charCodeAt(code.length - 1 - end)) end++;
      const changes = { from, to: cur.length - end, insert: code.slice(from, code.length - end) };
      view.dispatch({ changes, selection: { anchor: head }, annotations: External.of(true) });
    };
    const unsub = store.subscribe((s, prev) => {
      if (s.codeProblem !== prev.codeProblem) view.dispatch({ effects: setProblem.of(s.codeProblem) });
      if (s.code === prev.code) return;
      if (pending || applying) return;
      replace(s.code);
    });
    return () => {
      clearTimeout(timer);
      unsub();
      view.destroy();
      viewRef.current = null;
    };
  }, [store]);

  return (
    <section className="code-view" data-testid="code-view" aria-label="Code view">
      <div className="pane-title">
        Trax code <span className="muted">edits apply after a pause · Ctrl+Enter applies now</span>
      </div>
      <div className="code-host" ref={host} />
      {problem && (
        <div className="code-problem" data-testid="code-problem" data-line={problem.line} data-col={problem.col}>
          line {problem.line}, col {problem.col}: {problem.message} <span className="muted">(the canvas keeps the last valid model)</span>
        </div>
      )}
    </section>
  );
}
