/**
 * The e2e harness: builds what is stale (the Node bundles, the renderer),
 * starts the real web server (`dist/web.js`: real host, real onnxruntime in
 * its worker thread) on a free port with a throw-away data folder, and
 * opens pages in Chromium that record every console error and page error
 * (a test fails on any) and save a screenshot per step under
 * test-results/e2e/<test>/ (the artifact).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

export const ROOT = join(import.meta.dirname, '..');
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const ARTIFACTS = join(ROOT, 'test-results', 'e2e');

export const chromiumInstalled = existsSync(CHROMIUM);

/** The installed Electron binary, or null (never `require('electron')`: it would try to download one). */
export function electronBinary(): string | null {
  const dir = join(ROOT, 'node_modules', 'electron');
  try {
    const p = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

/** One build at a time across test files (vitest runs files in parallel processes). */
function withLock<T>(name: string, f: () => T): T {
  const lock = join(ROOT, 'dist', `.${name}.lock`);
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock older than 5 minutes was left by a killed run
      try { if (Date.now() - statSync(lock).mtimeMs > 300_000) rmdirSync(lock); } catch { /* gone already */ }
      if (Date.now() - t0 > 300_000) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return f();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Builds the bundles and, when any source is newer than it, the renderer. */
export function ensureBuilt(): void {
  withLock('e2e-build', () => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
    execFileSync(process.execPath, ['scripts/build-renderer.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
  });
}

export interface Server {
  url: string;
  dataDir: string;
  /** a folder for files the test saves */
  workDir: string;
  stop(): Promise<void>;
}

/** Starts `node dist/web.js --port 0` and waits for "Strata ready at URL". */
export async function startServer(): Promise<Server> {
  const base = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
  const dataDir = join(base, 'data');
  const workDir = join(base, 'work');
  mkdirSync(workDir, { recursive: true });
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'web.js'), '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`the web server did not start in 30 s: ${out}${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^Strata ready at (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`the web server exited (${code}): ${stderr}`)); });
  });
  return {
    url, dataDir, workDir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => { child.once('exit', r); setTimeout(r, 5000); });
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A page that records problems and takes a screenshot at each step. */
export class Session {
  readonly errors: string[] = [];
  private n = 0;
  private readonly dir: string;

  private constructor(readonly context: BrowserContext, readonly page: Page, readonly server: Server, name: string) {
    this.dir = join(ARTIFACTS, name.replace(/[^\w-]+/g, '-'));
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
  }

  static async open(browser: Browser, server: Server, name: string, query = '', viewport = { width: 1440, height: 900 }): Promise<Session> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    const s = new Session(context, page, server, name);
    page.on('console', (m) => { if (m.type() === 'error') s.errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => s.errors.push(`page error: ${e.message}`));
    page.on('crash', () => s.errors.push('the page crashed'));
    page.setDefaultTimeout(15_000);
    await page.goto(`${server.url}/${query}`);
    await page.getByTestId('canvas').waitFor();
    return s;
  }

  /** Saves test-results/e2e/<test>/<nn>-<name>.png. */
  async step(name: string): Promise<void> {
    this.n++;
    await this.page.screenshot({ path: join(this.dir, `${String(this.n).padStart(2, '0')}-${name.replace(/[^\w-]+/g, '-')}.png`) });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
