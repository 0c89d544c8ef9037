/**
 * The desktop app's main process (dist/electron/main.cjs).
 *
 * - One window, sandboxed, with context isolation and no Node integration;
 *   it loads dist/renderer/index.html through the `strata://app/` scheme
 *   (a custom protocol rather than file://, with a content security policy).
 * - The renderer reaches the host through the preload's `window.strata`:
 *   one channel per HostApi method (`strata:<method>`), each checking the
 *   sender and the arguments before anything runs.
 * - Files (open, save, recent, recovery, examples) are served here, next to
 *   the native file dialogs they need; runs, exports and training go to a
 *   utility process (electron/engine.ts): onnxruntime never loads in this process
 *   or in the renderer, and a run never stalls menus or the window.
 * - Native menus drive the renderer by dispatching a cancelable
 *   `strata:menu` CustomEvent on its window (`detail: { command, … }`); a
 *   command the renderer does not handle falls back to the keyboard shortcut
 *   it answers (Ctrl+Z, Ctrl+Shift+Z, Ctrl+S, Ctrl+O, F) or to a page load
 *   (examples, New).
 *
 *   electron dist/electron/main.cjs [--example NAME]
 */
import {
  BrowserWindow, Menu, type MenuItemConstructorOptions, type UtilityProcess, app, dialog, ipcMain, net, protocol, session, utilityProcess,
} from 'electron';
import { existsSync } from 'node:fs';
import { basename, dirname, join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HOST_METHODS, type ExportRequest, type ExportTrainedRequest, type HostMethod, type TrainRequest } from '../engine/host/api';
import { createFileHost, docFileName, newRunDir } from '../engine/host/files';
import { type Remote, createRemote } from '../engine/host/remote';
import type { RpcResponse } from '../engine/host/rpc';
import { validateCall } from '../engine/host/validate';
import { version } from '../engine/host/version';

const SCHEME = 'strata';
const ORIGIN = `${SCHEME}://app`;
/** The repository (or packaged app) root: the nearest folder above this script holding assets/examples. */
function appRoot(): string {
  for (let d = __dirname; ; d = dirname(d)) {
    if (existsSync(join(d, 'assets', 'examples'))) return d;
    if (dirname(d) === d) return join(__dirname, '..', '..');
  }
}
const rendererDir = normalize(join(appRoot(), 'dist', 'renderer'));
const examplesDir = join(appRoot(), 'assets', 'examples');
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
  "font-src 'self' data:", "worker-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
].join('; ');

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

let files: ReturnType<typeof createFileHost>;
/** recent files, recovery, training runs (set when the app is ready) */
let dataDir = '';
let win: BrowserWindow | null = null;

// ---------------------------------------------------------------- the engine (utility process)

let engine: { proc: UtilityProcess; remote: Remote } | null = null;

function startEngine(): Remote {
  if (engine) return engine.remote;
  const proc = utilityProcess.fork(join(__dirname, 'engine.cjs'), [], { serviceName: 'Strata engine', stdio: 'inherit' });
  const remote = createRemote((req) => proc.postMessage(req));
  proc.on('message', (m: RpcResponse) => remote.receive(m));
  proc.on('exit', (code) => {
    if (engine?.proc === proc) engine = null;
    remote.failAll(`the engine stopped (exit code ${code}); run again to restart it`);
  });
  engine = { proc, remote };
  return remote;
}

// ---------------------------------------------------------------- the host methods

const DOC_FILTERS = [{ name: 'Strata documents', extensions: ['strata.json', 'json'] }, { name: 'All files', extensions: ['*'] }];
const EXPORT_FILTERS: Record<ExportRequest['format'], { name: string; extensions: string[]; suffix: string }> = {
  onnx: { name: 'ONNX model', extensions: ['onnx'], suffix: '.onnx' },
  python: { name: 'Trax Python', extensions: ['py'], suffix: '.py' },
  weights: { name: 'Weights (NumPy .npz)', extensions: ['npz'], suffix: '.npz' },
};

const TRAINED_FILTERS: Record<ExportTrainedRequest['format'], { name: string; extensions: string[]; suffix: string }> = {
  onnx: { name: 'ONNX model', extensions: ['onnx'], suffix: '.onnx' },
  npz: { name: 'Weights (NumPy .npz)', extensions: ['npz'], suffix: '.npz' },
  trax: { name: 'Trax Python', extensions: ['py'], suffix: '.py' },
};

const docName = docFileName;

async function askSavePath(title: string, defaultName: string, filters: { name: string; extensions: string[] }[]): Promise<string | null> {
  const opts = { title, defaultPath: join(app.getPath('documents'), defaultName), filters };
  const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
  return r.canceled || !r.filePath ? null : r.filePath;
}

type Handler = (...args: unknown[]) => Promise<unknown>;

const handlers: Record<HostMethod, Handler> = {
  info: async () => {
    const providers = await startEngine().call('info', []).then((i) => (i as { providers: string[] }).providers).catch(() => ['cpu']);
    return { version, providers, desktop: true };
  },
  listExamples: () => files.listExamples(),
  readExample: (name) => files.readExample(name as string),
  openFile: async (path) => {
    let p = path as string | undefined;
    if (!p) {
      const opts = { title: 'Open a Strata document', properties: ['openFile' as const], filters: DOC_FILTERS };
      const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
      if (r.canceled || !r.filePaths[0]) return null;
      p = r.filePaths[0];
    }
    const opened = await files.openFile(p);
    void buildMenu();
    return opened;
  },
  saveFile: async (text, path) => {
    const p = (path as string | undefined) ?? await askSavePath('Save the document', `${docName(text)}.strata.json`, DOC_FILTERS);
    if (!p) return null;
    const saved = await files.saveFile(text as string, p);
    void buildMenu();
    return saved;
  },
  recentFiles: () => files.recentFiles(),
  saveRecovery: (text) => files.saveRecovery(text as string),
  readRecovery: () => files.readRecovery(),
  run: (req) => startEngine().call('run', [req]),
  // the engine process keeps the runs it made (a restarted engine answers 'gone': run again)
  tensorSlice: (req) => startEngine().call('tensorSlice', [req]),
  exportModel: async (r) => {
    const req = r as ExportRequest;
    if (!req.path) {
      const f = EXPORT_FILTERS[req.format];
      const p = await askSavePath(`Export as ${f.name}`, `${docName(req.doc)}${f.suffix}`, [f]);
      if (!p) return { ok: false, error: { code: 'bad_input', path: '', kind: '', message: 'export cancelled' } };
      req.path = p;
    }
    return startEngine().call('exportModel', [req]);
  },
  // training runs in the engine process; a run without a directory gets one under the app's data folder
  trainStart: (r) => {
    const req = r as TrainRequest;
    return startEngine().call('trainStart', [{ ...req, dir: req.dir || newRunDir(dataDir, req.doc) }]);
  },
  trainStatus: (req) => startEngine().call('trainStatus', [req]),
  trainStop: (req) => startEngine().call('trainStop', [req]),
  trainRuns: () => startEngine().call('trainRuns', []),
  exportTrained: async (r) => {
    const req = r as ExportTrainedRequest;
    if (!req.path) {
      const f = TRAINED_FILTERS[req.format];
      const p = await askSavePath(`Export the trained model as ${f.name}`, `${req.dir ? basename(req.dir) : 'trained-model'}${f.suffix}`, [f]);
      if (!p) return { ok: false, error: { code: 'bad_input', path: '', kind: '', message: 'export cancelled' } };
      req.path = p;
    }
    return startEngine().call('exportTrained', [req]);
  },
};

/** Only the app's own pages may call the host. */
function trustedSender(e: Electron.IpcMainInvokeEvent): boolean {
  const url = e.senderFrame?.url ?? '';
  return url.startsWith(`${ORIGIN}/`) && e.sender === win?.webContents;
}

function registerChannels(): void {
  for (const m of HOST_METHODS) {
    ipcMain.handle(`${SCHEME}:${m}`, async (e, ...params: unknown[]): Promise<RpcResponse> => {
      try {
        if (!trustedSender(e)) throw new Error('refused: the request did not come from the Strata window');
        const call = validateCall(m, params);
        const result = await handlers[call.method](...call.args);
        return { id: 0, result: result === undefined ? null : result };
      } catch (err) {
        return { id: 0, error: { message: err instanceof Error ? err.message : String(err) } };
      }
    });
  }
}

// ---------------------------------------------------------------- menus

type MenuCommand =
  | { command: 'new' } | { command: 'open' } | { command: 'save' } | { command: 'saveAs' }
  | { command: 'openRecent'; path: string } | { command: 'undo' } | { command: 'redo' } | { command: 'fit' }
  | { command: 'example'; name: string } | { command: 'export'; format: ExportRequest['format'] };

const mod = process.platform === 'darwin' ? 'meta' : 'control';

function sendKey(keyCode: string, modifiers: ('control' | 'meta' | 'shift')[]): void {
  const wc = win?.webContents;
  if (!wc) return;
  wc.sendInputEvent({ type: 'keyDown', keyCode, modifiers });
  wc.sendInputEvent({ type: 'keyUp', keyCode, modifiers });
}

function loadPage(query: Record<string, string> = {}): void {
  const q = new URLSearchParams(query).toString();
  void win?.loadURL(`${ORIGIN}/index.html${q ? `?${q}` : ''}`);
}

/** Tells the renderer; when it does not handle the command, does what the command's shortcut or a page load does. */
async function menu(cmd: MenuCommand): Promise<void> {
  const wc = win?.webContents;
  if (!wc) return;
  const handled = await wc.executeJavaScript(
    `!window.dispatchEvent(new CustomEvent('strata:menu', { cancelable: true, detail: ${JSON.stringify(cmd)} }))`,
  ).catch(() => false) as boolean;
  if (handled) return;
  switch (cmd.command) {
    case 'undo': return sendKey('Z', [mod]);
    case 'redo': return sendKey('Z', [mod, 'shift']);
    case 'save': return sendKey('S', [mod]);
    case 'saveAs': return sendKey('S', [mod, 'shift']);
    case 'open': return sendKey('O', [mod]);
    case 'fit':
      await wc.executeJavaScript('document.activeElement instanceof HTMLElement && document.activeElement.blur()').catch(() => undefined);
      return sendKey('F', []);
    case 'example': return loadPage({ example: cmd.name });
    case 'new': return loadPage({ new: '1' });
    default:
      void dialog.showMessageBox(win!, { type: 'info', message: `This version of the window does not handle “${cmd.command}” yet.` });
  }
}

async function buildMenu(): Promise<void> {
  const [examples, recent] = await Promise.all([files.listExamples(), files.recentFiles()]);
  const item = (label: string, cmd: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({
    label, accelerator,
    // the window answers its own shortcuts (in the canvas, and natively in the code editor): the menu only shows them
    registerAccelerator: false,
    click: () => { void menu(cmd); },
  });
  const template: MenuItemConstructorOptions[] = [
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        item('New', { command: 'new' }, 'CmdOrCtrl+N'),
        item('Open…', { command: 'open' }, 'CmdOrCtrl+O'),
        {
          label: 'Open Recent',
          submenu: recent.length ? recent.map((p) => item(p, { command: 'openRecent', path: p })) : [{ label: 'No recent files', enabled: false }],
        },
        { type: 'separator' },
        item('Save', { command: 'save' }, 'CmdOrCtrl+S'),
        item('Save As…', { command: 'saveAs' }, 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        {
          label: 'Export',
          submenu: [
            item('ONNX…', { command: 'export', format: 'onnx' }),
            item('Trax Python…', { command: 'export', format: 'python' }),
            item('Weights (.npz)…', { command: 'export', format: 'weights' }),
          ],
        },
        { type: 'separator' },
        process.platform === 'darwin' ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [
        item('Undo', { command: 'undo' }, 'CmdOrCtrl+Z'),
        item('Redo', { command: 'redo' }, 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' },
      ],
    },
    {
      label: '&View',
      submenu: [
        item('Fit', { command: 'fit' }, 'F'),
        { type: 'separator' },
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' },
        { role: 'togglefullscreen' }, { role: 'toggleDevTools' },
      ],
    },
    {
      label: 'E&xamples',
      submenu: examples.length ? examples.map((x) => item(x.title, { command: 'example', name: x.name })) : [{ label: 'No examples found', enabled: false }],
    },
    { role: 'help', submenu: [{ label: `Strata ${version}`, enabled: false }] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// ---------------------------------------------------------------- the window

function serveRenderer(): void {
  protocol.handle(SCHEME, async (req) => {
    const url = new URL(req.url);
    const file = normalize(join(rendererDir, decodeURIComponent(url.pathname)));
    if (url.host !== 'app' || (file !== rendererDir && !file.startsWith(rendererDir + sep))) return new Response('forbidden', { status: 403 });
    const res = await net.fetch(pathToFileURL(file).toString()).catch(() => null);
    if (!res || !res.ok) return new Response('not found', { status: 404 });
    const headers = new Headers(res.headers);
    if (file.endsWith('.html')) headers.set('Content-Security-Policy', CSP);
    return new Response(res.body, { status: 200, headers });
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1440, height: 900, title: 'Strata', show: false, backgroundColor: '#ffffff',
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win?.show());
  // unsaved changes: the renderer's beforeunload asks; the answer is a native dialog
  win.webContents.on('will-prevent-unload', (e) => {
    const choice = dialog.showMessageBoxSync(win!, {
      type: 'question', buttons: ['Discard changes', 'Cancel'], defaultId: 1, cancelId: 1,
      message: 'The document has unsaved changes.', detail: 'Discard them?',
    });
    if (choice === 0) e.preventDefault();
  });
  win.on('closed', () => { win = null; });
  const example = argValue('example');
  loadPage(example ? { example } : {});
}

app.on('web-contents-created', (_e, contents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (e, url) => { if (!url.startsWith(`${ORIGIN}/`)) e.preventDefault(); });
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

void app.whenReady().then(async () => {
  dataDir = process.env.STRATA_DATA_DIR ?? app.getPath('userData');
  files = createFileHost({ examplesDir, dataDir });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  serveRenderer();
  registerChannels();
  await buildMenu();
  createWindow();
  app.on('activate', () => { if (!win) createWindow(); });
});

app.on('window-all-closed', () => app.quit());
app.on('before-quit', () => { engine?.proc.kill(); engine = null; });
