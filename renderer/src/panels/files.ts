/**
 * Files and examples: new, open, save, save as, recent files, examples,
 * export, and the recovery autosave. In the desktop app the host asks for
 * paths with native dialogs; in the browser the app asks (askPath).
 */
import type { StoreApi } from 'zustand/vanilla';
import { DocumentError, type StrataDocument, parseDocumentText, serializeDocument } from '../../../engine/document/schema';
import type { ExportRequest, HostApi } from '../../../engine/host/api';
import { sd } from '../../../engine/core/shape';
import type { StrataState } from '../state/store';
import { askConfirm, askPath, setStatus, useApp } from './context';
import { useRunState } from './runState';

type Store = StoreApi<StrataState>;

/** What New gives: an empty Serial over a flat float input. */
export function emptyDocument(): StrataDocument {
  return { format: 'strata', version: 1, input: [sd('float32', ['B', 784])], root: { id: 'n1', kind: 'Serial', children: [] } };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

export async function refreshRecent(host: HostApi): Promise<void> {
  try {
    useApp.setState({ recent: await host.recentFiles() });
  } catch { /* the list is a convenience */ }
}

/** Asks before throwing away unsaved changes; true when it is fine to go on. */
export async function confirmDiscard(store: Store): Promise<boolean> {
  if (!store.getState().dirty) return true;
  return askConfirm('The model has unsaved changes. Discard them?', 'Discard changes');
}

function loadDoc(store: Store, doc: StrataDocument, file: string | null): void {
  store.getState().load(doc, file);
  useRunState.setState({ response: null, error: null, forDoc: null, stale: false, open: null, settings: { ...useRunState.getState().settings, inputs: [] } });
  useApp.setState({ sideTab: 'run' });
}

export async function newDocument(store: Store): Promise<void> {
  if (!(await confirmDiscard(store))) return;
  loadDoc(store, emptyDocument(), null);
  setStatus('New model: drag layers from the palette');
}

/** Parses and loads file text; a broken file is reported, the current model stays. */
function loadText(store: Store, text: string, file: string | null, what: string): boolean {
  try {
    loadDoc(store, parseDocumentText(text), file);
    return true;
  } catch (e) {
    if (e instanceof DocumentError) { setStatus(`${what}: ${e.message}`, 'error'); return false; }
    throw e;
  }
}

export async function openDocument(store: Store, host: HostApi, path?: string): Promise<void> {
  if (!(await confirmDiscard(store))) return;
  try {
    let target = path;
    if (!target && !useApp.getState().desktop) {
      const got = await askPath('Open a model', 'Open', store.getState().file ?? '', useApp.getState().recent);
      if (!got) return;
      target = got;
    }
    const r = await host.openFile(target);
    if (!r) return;
    if (loadText(store, r.text, r.path, `cannot open ${r.path}`)) setStatus(`Opened ${baseName(r.path)}`);
  } catch (e) {
    setStatus(message(e), 'error');
  }
  void refreshRecent(host);
}

async function saveTo(store: Store, host: HostApi, path: string | undefined): Promise<boolean> {
  const { doc } = store.getState();
  try {
    const r = await host.saveFile(serializeDocument(doc), path);
    if (!r) return false;
    // edits made while saving keep the document dirty
    if (store.getState().doc === doc) store.getState().markSaved(r.path);
    else store.setState({ file: r.path });
    setStatus(`Saved ${baseName(r.path)}`);
    void host.saveRecovery('').catch(() => undefined);
    void refreshRecent(host);
    return true;
  } catch (e) {
    setStatus(message(e), 'error');
    return false;
  }
}

function suggestedName(doc: StrataDocument, ext: string): string {
  const name = (doc.name ?? 'model').replace(/\s*\(.*\)\s*/g, '').trim().replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  return `${name}${ext}`;
}

export async function saveDocumentAs(store: Store, host: HostApi): Promise<boolean> {
  const { file, doc } = store.getState();
  let path: string | undefined;
  if (!useApp.getState().desktop) {
    const got = await askPath('Save the model as', 'Save', file ?? suggestedName(doc, '.strata.json'), useApp.getState().recent);
    if (!got) return false;
    path = got;
  }
  return saveTo(store, host, path);
}

export async function saveDocument(store: Store, host: HostApi): Promise<boolean> {
  const { file } = store.getState();
  if (!file) return saveDocumentAs(store, host);
  return saveTo(store, host, file);
}

export async function openExample(store: Store, host: HostApi, name: string, ask = true): Promise<boolean> {
  if (ask && !(await confirmDiscard(store))) return false;
  try {
    const r = await host.readExample(name);
    if (!loadText(store, r.text, null, `example ${name}`)) return false;
    setStatus(`Example: ${store.getState().doc.name ?? name}`);
    return true;
  } catch (e) {
    setStatus(message(e), 'error');
    return false;
  }
}

const EXT: Record<ExportRequest['format'], string> = { onnx: '.onnx', python: '.py', weights: '.weights.npz' };

export async function exportModel(store: Store, host: HostApi, format: ExportRequest['format']): Promise<void> {
  const { doc } = store.getState();
  let path: string | undefined;
  if (!useApp.getState().desktop) {
    const base = store.getState().file?.replace(/\.strata\.json$/, '') ?? suggestedName(doc, '');
    const got = await askPath(`Export ${format === 'onnx' ? 'ONNX' : format === 'python' ? 'Trax Python' : 'weights'}`, 'Export', `${base}${EXT[format]}`);
    if (!got) return;
    path = got;
  }
  try {
    const r = await host.exportModel({ doc: JSON.parse(serializeDocument(doc)), path, format, seed: useRunState.getState().settings.seed });
    if (r.ok) setStatus(`Exported ${baseName(r.path)} (${r.bytes.toLocaleString('en-US')} bytes)`);
    else setStatus(`Export failed: ${r.error.message}`, 'error');
  } catch (e) {
    setStatus(`Export failed: ${message(e)}`, 'error');
  }
}

/**
 * Autosave: the unsaved document goes to the host's recovery file a second
 * after the last change; a saved (or freshly opened) document clears it.
 * Returns the unsubscribe function.
 */
export function startRecovery(store: Store, host: HostApi, delayMs = 1000): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  // true at start: a recovery file left by an earlier session is cleared once the document is saved or replaced
  let written = true;
  const flush = (): void => {
    const { dirty, doc } = store.getState();
    if (dirty) {
      written = true;
      host.saveRecovery(serializeDocument(doc)).catch(() => undefined);
    } else if (written) {
      written = false;
      host.saveRecovery('').catch(() => undefined);
    }
  };
  const unsub = store.subscribe((s, prev) => {
    if (s.doc === prev.doc && s.dirty === prev.dirty) return;
    clearTimeout(timer);
    timer = setTimeout(flush, delayMs);
  });
  return () => { clearTimeout(timer); unsub(); };
}

/** The document to start with: ?example=<name>, else the recovery file, else the TransformerLM example. */
export async function initialDocument(host: HostApi, search: string): Promise<{ doc: StrataDocument; recovered: boolean; note?: string }> {
  const example = new URLSearchParams(search).get('example');
  const tryExample = async (name: string): Promise<StrataDocument | null> => {
    try {
      return parseDocumentText((await host.readExample(name)).text);
    } catch {
      return null;
    }
  };
  if (example) {
    const doc = await tryExample(example);
    if (doc) return { doc, recovered: false };
  }
  if (!example) {
    try {
      const text = await host.readRecovery();
      if (text && text.trim()) return { doc: parseDocumentText(text), recovered: true, note: 'Recovered the unsaved model of the last session' };
    } catch { /* a broken recovery file: start as new */ }
  }
  const doc = await tryExample('transformer-lm');
  if (doc) return { doc, recovered: false, note: example ? `no example named ${example}` : undefined };
  return { doc: emptyDocument(), recovered: false, note: example ? `no example named ${example}` : undefined };
}
