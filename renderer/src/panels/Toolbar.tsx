/** The toolbar: files, examples, edit commands, export, and Run. */
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { copySelection, deleteSelection, duplicateSelection, hasClipboard, paste, unwrapSelection, wrapKinds, wrapSelection } from './actions';
import { setStatus, useApp, useHost, useStrata, useStrataStore } from './context';
import { exportModel, newDocument, openDocument, openExample, refreshRecent, saveDocument, saveDocumentAs } from './files';
import { runModel } from './runActions';
import { useRunState } from './runState';

function Menu({ label, testid, children, onOpen }: { label: ReactNode; testid: string; children: (close: () => void) => ReactNode; onOpen?: () => void }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!open) return;
    const down = (e: MouseEvent) => { if (!ref.current?.contains(e.target as Node)) setOpen(false); };
    const key = (e: KeyboardEvent) => { if (e.key === 'Escape') setOpen(false); };
    document.addEventListener('mousedown', down);
    document.addEventListener('keydown', key);
    return () => { document.removeEventListener('mousedown', down); document.removeEventListener('keydown', key); };
  }, [open]);
  return (
    <span className="menu-anchor" ref={ref}>
      <button type="button" data-testid={testid} aria-haspopup="menu" aria-expanded={open} onClick={() => { if (!open) onOpen?.(); setOpen(!open); }}>
        {label} ▾
      </button>
      {open && <div className="menu" role="menu">{children(() => setOpen(false))}</div>}
    </span>
  );
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export function Toolbar() {
  const store = useStrataStore();
  const host = useHost();
  const file = useStrata((s) => s.file);
  const dirty = useStrata((s) => s.dirty);
  const name = useStrata((s) => s.doc.name);
  const canUndo = useStrata((s) => s.past.length > 0);
  const canRedo = useStrata((s) => s.future.length > 0);
  const hasSelection = useStrata((s) => s.selection.length > 0);
  const examples = useApp((s) => s.examples);
  const recent = useApp((s) => s.recent);
  const status = useApp((s) => s.status);
  const running = useRunState((s) => s.running);
  const title = file ? baseName(file) : name ?? 'untitled';
  return (
    <header className="toolbar" role="toolbar">
      <span className="brand">STRATA</span>
      <span className="doc-title" data-testid="doc-title" title={file ?? 'not saved yet'}>
        {title}{dirty && <span className="dirty" data-testid="dirty-marker" title="unsaved changes"> •</span>}
      </span>
      <span className="group">
        <button type="button" data-testid="file-new" onClick={() => void newDocument(store)} title="New model">New</button>
        <button type="button" data-testid="file-open" onClick={() => void openDocument(store, host)} title="Open (Ctrl+O)">Open</button>
        <button type="button" data-testid="file-save" onClick={() => void saveDocument(store, host)} title="Save (Ctrl+S)">Save</button>
        <button type="button" data-testid="file-save-as" onClick={() => void saveDocumentAs(store, host)} title="Save as (Ctrl+Shift+S)">Save as</button>
        <Menu label="Recent" testid="menu-recent" onOpen={() => void refreshRecent(host)}>
          {(close) => recent.length === 0
            ? <div className="menu-note">No recent files</div>
            : recent.map((p) => (
              <button type="button" key={p} title={p} data-testid="recent-item" onClick={() => { close(); void openDocument(store, host, p); }}>{baseName(p)}<span className="muted small"> {p}</span></button>
            ))}
        </Menu>
        <Menu label="Examples" testid="menu-examples">
          {(close) => examples.length === 0
            ? <div className="menu-note">No examples</div>
            : examples.map((x) => (
              <button type="button" key={x.name} data-testid={`example-${x.name}`} onClick={() => { close(); void openExample(store, host, x.name); }}>{x.title}</button>
            ))}
        </Menu>
      </span>
      <span className="group">
        <button type="button" data-testid="undo" disabled={!canUndo} onClick={() => store.getState().undo()} title="Undo (Ctrl+Z)">Undo</button>
        <button type="button" data-testid="redo" disabled={!canRedo} onClick={() => store.getState().redo()} title="Redo (Ctrl+Shift+Z)">Redo</button>
        <Menu label="Edit" testid="menu-edit">
          {(close) => (
            <>
              <button type="button" data-testid="edit-delete" disabled={!hasSelection} onClick={() => { close(); deleteSelection(store); }}>Delete <kbd>Del</kbd></button>
              <button type="button" data-testid="edit-duplicate" disabled={!hasSelection} onClick={() => { close(); duplicateSelection(store); }}>Duplicate <kbd>Ctrl+D</kbd></button>
              <button type="button" data-testid="edit-copy" disabled={!hasSelection} onClick={() => { close(); const n = copySelection(store); if (n) setStatus(`Copied ${n} layer${n > 1 ? 's' : ''}`); }}>Copy <kbd>Ctrl+C</kbd></button>
              <button type="button" data-testid="edit-paste" disabled={!hasClipboard()} onClick={() => { close(); paste(store); }}>Paste <kbd>Ctrl+V</kbd></button>
              <div className="menu-sep" />
              {wrapKinds().map((k) => (
                <button type="button" key={k} data-testid={`wrap-${k}`} disabled={!hasSelection} onClick={() => { close(); wrapSelection(store, k); }}>Wrap in {k}</button>
              ))}
              <button type="button" data-testid="unwrap" disabled={!hasSelection} onClick={() => { close(); unwrapSelection(store); }}>Unwrap</button>
            </>
          )}
        </Menu>
      </span>
      <span className="group">
        <Menu label="Export" testid="menu-export">
          {(close) => (
            <>
              <button type="button" data-testid="export-onnx" onClick={() => { close(); void exportModel(store, host, 'onnx'); }}>ONNX (.onnx)</button>
              <button type="button" data-testid="export-python" onClick={() => { close(); void exportModel(store, host, 'python'); }}>Trax Python (.py)</button>
              <button type="button" data-testid="export-weights" onClick={() => { close(); void exportModel(store, host, 'weights'); }}>Weights</button>
            </>
          )}
        </Menu>
        <button
          type="button"
          className="run-button"
          data-testid="run"
          disabled={running}
          onClick={() => { useApp.setState({ sideTab: useRunState.getState().open ? 'tensor' : 'run' }); void runModel(store, host); }}
          title="Run the model once with the inputs chosen in the Run pane"
        >
          {running ? 'Running…' : '▶ Run'}
        </button>
      </span>
      <span className={`status ${status?.kind ?? ''}`} data-testid="status" role="status">{status?.text}</span>
      <span className="hint muted">Ctrl+K insert · F fit</span>
    </header>
  );
}
