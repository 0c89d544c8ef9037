/**
 * The desktop app's main process and preload with Electron's modules
 * stubbed: the logic that runs around Electron (allow-listed channels,
 * sender checks, argument validation, dialogs when no path is given, runs
 * forwarded to the engine process, menus) is checked everywhere, also where
 * the Electron binary is not installed (the real app is e2e/electron.test.ts).
 * The engine "utility process" here is the real numeric host, in-process.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_METHODS } from '../engine/host/api';
import type { RpcRequest, RpcResponse } from '../engine/host/rpc';

type Handler = (e: unknown, ...args: unknown[]) => Promise<RpcResponse>;
interface MenuItem { label?: string; role?: string; submenu?: MenuItem[]; click?: () => void; registerAccelerator?: boolean; accelerator?: string }

const h = vi.hoisted(() => ({
  handlers: new Map<string, Handler>(),
  exposed: new Map<string, unknown>(),
  invoked: [] as { channel: string; args: unknown[] }[],
  menu: [] as unknown[],
  dialogPath: null as string | null,
  dialogs: [] as string[],
  forked: [] as string[],
  executed: [] as string[],
  keys: [] as unknown[],
  loaded: [] as string[],
  webPreferences: null as Record<string, unknown> | null,
  schemes: [] as unknown[],
  ready: null as null | (() => void),
  mainHandle: null as null | ((channel: string, ...args: unknown[]) => Promise<unknown>),
}));

vi.mock('electron', async () => {
  const { EventEmitter: EE } = await import('node:events');
  const { numericApi } = await import('../engine/host/numeric');
  const { dispatch } = await import('../engine/host/rpc');
  await import('../kernels');
  class FakeUtility extends EE {
    private readonly api = numericApi();
    postMessage(m: RpcRequest) { void dispatch(this.api, m.id, m.method, m.params).then((r) => this.emit('message', r)); }
    kill() { this.emit('exit', 0); }
  }
  const webContents = Object.assign(new EE(), {
    executeJavaScript: async (code: string) => { h.executed.push(code); return false; },
    sendInputEvent: (e: unknown) => { h.keys.push(e); },
    setWindowOpenHandler: () => undefined,
  });
  class BrowserWindow extends EE {
    static windows: BrowserWindow[] = [];
    webContents = webContents;
    constructor(opts: { webPreferences: Record<string, unknown> }) { super(); h.webPreferences = opts.webPreferences; BrowserWindow.windows.push(this); }
    static getAllWindows() { return BrowserWindow.windows; }
    loadURL(u: string) { h.loaded.push(u); return Promise.resolve(); }
    show() {}
  }
  const ipcMain = { handle: (c: string, f: Handler) => { h.handlers.set(c, f); } };
  const ready = new Promise<void>((r) => { h.ready = r; });
  return {
    app: Object.assign(new EE(), { whenReady: () => ready, getPath: () => tmpdir(), quit: () => undefined }),
    BrowserWindow,
    Menu: { buildFromTemplate: (t: unknown[]) => t, setApplicationMenu: (m: unknown[]) => { h.menu = m; } },
    dialog: {
      showOpenDialog: async () => { h.dialogs.push('open'); return h.dialogPath ? { canceled: false, filePaths: [h.dialogPath] } : { canceled: true, filePaths: [] }; },
      showSaveDialog: async () => { h.dialogs.push('save'); return h.dialogPath ? { canceled: false, filePath: h.dialogPath } : { canceled: true, filePath: '' }; },
      showMessageBox: async () => ({ response: 0 }),
      showMessageBoxSync: () => 0,
    },
    ipcMain,
    net: { fetch: async () => new Response('') },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => { h.schemes.push(...s); }, handle: () => undefined },
    session: { defaultSession: { setPermissionRequestHandler: () => undefined } },
    utilityProcess: { fork: (p: string) => { h.forked.push(p); return new FakeUtility(); } },
    // the preload's side
    contextBridge: { exposeInMainWorld: (k: string, v: Record<string, unknown>) => { for (const [m, f] of Object.entries(v)) h.exposed.set(`${k}.${m}`, f); } },
    ipcRenderer: { invoke: async (channel: string, ...args: unknown[]) => { h.invoked.push({ channel, args }); return h.mainHandle!(channel, ...args); } },
  };
});

let dir: string;
const TRUSTED = () => ({ senderFrame: { url: 'strata://app/index.html' }, sender: (h as unknown as { win: unknown }).win });

async function call(channel: string, ...args: unknown[]): Promise<RpcResponse> {
  const f = h.handlers.get(channel);
  if (!f) throw new Error(`no handler for ${channel}`);
  return f(TRUSTED(), ...args);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'strata-electron-stub-'));
  process.env.STRATA_DATA_DIR = join(dir, 'data');
  process.argv.push('--example', 'mlp-mnist');
  await import('../electron/main');
  h.ready!();
  const { BrowserWindow } = await import('electron');
  await vi.waitFor(() => expect(BrowserWindow.getAllWindows().length).toBe(1));
  (h as unknown as { win: unknown }).win = BrowserWindow.getAllWindows()[0].webContents;
  h.mainHandle = async (channel, ...args) => call(channel, ...args);
  await import('../electron/preload');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('desktop main process and preload (Electron stubbed)', () => {
  it('opens a sandboxed, isolated window on the example, through its own scheme', () => {
    expect(h.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(String(h.webPreferences!.preload)).toMatch(/preload\.cjs$/);
    expect(h.loaded[0]).toBe('strata://app/index.html?example=mlp-mnist');
    expect(h.schemes).toEqual([expect.objectContaining({ scheme: 'strata' })]);
  });

  it('has one channel per host method and the preload exposes exactly those methods', () => {
    expect([...h.handlers.keys()].sort()).toEqual(HOST_METHODS.map((m) => `strata:${m}`).sort());
    expect([...h.exposed.keys()].sort()).toEqual(HOST_METHODS.map((m) => `strata.${m}`).sort());
  });

  it('refuses calls from other frames and bad arguments', async () => {
    const f = h.handlers.get('strata:listExamples')!;
    expect(await f({ senderFrame: { url: 'https://evil.example/' }, sender: (h as unknown as { win: unknown }).win })).toMatchObject({ error: { message: expect.stringMatching(/refused/) } });
    expect(await call('strata:readExample', 7)).toMatchObject({ error: { message: expect.stringMatching(/expected a string/) } });
    const readExample = h.exposed.get('strata.readExample') as (x: unknown) => Promise<unknown>;
    const before = h.invoked.length;
    await expect(readExample(7)).rejects.toThrow(/expected a string/);
    // refused in the preload: nothing was sent
    expect(h.invoked.length).toBe(before);
    await expect(readExample('mlp-mnist')).resolves.toMatchObject({ name: 'mlp-mnist' });
  });

  it('asks for a path with a dialog when none is given, and saves/opens through the file host', async () => {
    const saveFile = h.exposed.get('strata.saveFile') as (t: string, p?: string) => Promise<{ path: string } | null>;
    const openFile = h.exposed.get('strata.openFile') as (p?: string) => Promise<{ path: string; text: string } | null>;
    h.dialogPath = null;
    expect(await saveFile('{"name":"x"}')).toBeNull();
    expect(h.dialogs).toEqual(['save']);
    h.dialogPath = join(dir, 'chosen.strata.json');
    expect(await saveFile('{"name":"x"}')).toEqual({ path: h.dialogPath });
    expect(readFileSync(h.dialogPath, 'utf8')).toBe('{"name":"x"}');
    expect(await openFile()).toEqual({ path: h.dialogPath, text: '{"name":"x"}' });
    expect(h.dialogs).toEqual(['save', 'save', 'open']);
    const recent = h.exposed.get('strata.recentFiles') as () => Promise<string[]>;
    expect(await recent()).toEqual([h.dialogPath]);
  });

  it('runs and exports in the engine process, never in main', async () => {
    const run = h.exposed.get('strata.run') as (r: unknown) => Promise<{ ok: boolean; outputs: { shape: number[] }[] }>;
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'assets', 'examples', 'mlp-mnist.strata.json'), 'utf8')) as unknown;
    const r = await run({ doc, inputs: [{ kind: 'zeros' }], seed: 0, mode: 'eval', provider: 'cpu' });
    expect(r).toMatchObject({ ok: true, outputs: [{ shape: [2, 10] }] });
    expect(h.forked).toEqual([expect.stringMatching(/engine\.cjs$/)]);
    const info = h.exposed.get('strata.info') as () => Promise<{ desktop: boolean; providers: string[] }>;
    expect(await info()).toMatchObject({ desktop: true, providers: expect.arrayContaining(['cpu']) });
    const exportModel = h.exposed.get('strata.exportModel') as (r: unknown) => Promise<{ ok: boolean; path?: string }>;
    h.dialogPath = null;
    expect(await exportModel({ doc, format: 'python', seed: 0 })).toMatchObject({ ok: false, error: { message: 'export cancelled' } });
    h.dialogPath = join(dir, 'model.py');
    expect(await exportModel({ doc, format: 'python', seed: 0 })).toMatchObject({ ok: true, path: h.dialogPath });
    expect(readFileSync(h.dialogPath, 'utf8')).toMatch(/tl\.Serial/);
    // onnxruntime stays out of the main process: it imports no numeric module (the stub engine runs here only because it is in-process)
    const imports = readFileSync(join(import.meta.dirname, '..', 'electron', 'main.ts'), 'utf8').split('\n').filter((l) => /^import|^} from/.test(l)).join('\n');
    expect(imports).toMatch(/engine\/host\/files/);
    expect(imports).not.toMatch(/onnxruntime|engine\/host\/(numeric|service|threaded)|engine\/runtime|kernels/);
  });

  it('trains in the engine process: a run folder under the app data, polled to the end, exported through a save dialog', async () => {
    const doc = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'assets', 'examples', 'mlp-mnist.strata.json'), 'utf8')) as unknown;
    const trainStart = h.exposed.get('strata.trainStart') as (r: unknown) => Promise<{ ok: boolean; runId: string; dir: string }>;
    const trainStatus = h.exposed.get('strata.trainStatus') as (r: unknown) => Promise<{ ok: boolean; state: string; checkpoints: number[]; metrics: unknown[] }>;
    const exportTrained = h.exposed.get('strata.exportTrained') as (r: unknown) => Promise<{ ok: boolean; path?: string }>;
    const started = await trainStart({ doc, task: 'mnist', optimizer: 'adam', schedule: 'constant', steps: 6, batch: 8, evalEvery: 3, seed: 0, provider: 'cpu' });
    expect(started).toMatchObject({ ok: true });
    expect(started.dir.startsWith(dir)).toBe(true);
    let status = await trainStatus({ runId: started.runId, since: 0 });
    for (let i = 0; i < 600 && status.ok && (status.state === 'running' || status.state === 'stopping'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await trainStatus({ runId: started.runId, since: 0 });
    }
    expect(status).toMatchObject({ ok: true, state: 'done', checkpoints: [3, 6] });
    // refused in the preload, before anything is sent
    await expect(trainStatus({ runId: 7 })).rejects.toThrow(/runId: expected a string/);
    h.dialogPath = join(dir, 'trained.onnx');
    expect(await exportTrained({ runId: started.runId, format: 'onnx' })).toMatchObject({ ok: true, path: h.dialogPath });
    expect(readFileSync(h.dialogPath).length).toBeGreaterThan(1000);
  });

  it('builds native menus that drive the window', async () => {
    const menu = h.menu as MenuItem[];
    const labels = menu.map((m) => m.label ?? m.role);
    expect(labels).toEqual(expect.arrayContaining(['&File', '&Edit', '&View', 'E&xamples']));
    const file = menu.find((m) => m.label === '&File')!.submenu!;
    expect(file.map((m) => m.label).filter(Boolean)).toEqual(['New', 'Open…', 'Open Recent', 'Save', 'Save As…', 'Export']);
    const examples = menu.find((m) => m.label === 'E&xamples')!.submenu!;
    expect(examples.map((m) => m.label)).toContain('MLP for MNIST');
    const edit = menu.find((m) => m.label === '&Edit')!.submenu!;
    const undo = edit.find((m) => m.label === 'Undo')!;
    // the window keeps its own shortcuts: the menu shows them without taking them
    expect(undo).toMatchObject({ accelerator: 'CmdOrCtrl+Z', registerAccelerator: false });
    undo.click!();
    await vi.waitFor(() => expect(h.keys.length).toBe(2));
    expect(h.executed.at(-1)).toMatch(/strata:menu.*"command":"undo"/);
    expect(h.keys[0]).toMatchObject({ type: 'keyDown', keyCode: 'Z' });
    examples.find((m) => m.label === 'MLP for MNIST')!.click!();
    await vi.waitFor(() => expect(h.loaded.at(-1)).toBe('strata://app/index.html?example=mlp-mnist'));
  });
});
