/**
 * The web server of `npm run web`: static files, the WebSocket JSON-RPC
 * endpoint (allow-list, validation, origin check), and runs in the worker
 * thread not blocking other requests. Uses the bundled worker (dist/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WebSocket } from 'ws';
import { type WebServer, startWebServer } from './web-server';

const root = join(import.meta.dirname, '..');
const workerFile = join(root, 'dist', 'host-worker.js');
let dir: string;
let server: WebServer;

beforeAll(async () => {
  if (!existsSync(workerFile) || !existsSync(join(root, 'dist', 'web.js'))) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root });
  dir = mkdtempSync(join(tmpdir(), 'strata-web-'));
  mkdirSync(join(dir, 'renderer', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'renderer', 'index.html'), '<!doctype html><title>Strata</title>');
  writeFileSync(join(dir, 'renderer', 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  server = await startWebServer({
    port: 0, rendererDir: join(dir, 'renderer'), examplesDir: join(root, 'assets', 'examples'),
    dataDir: join(dir, 'data'), workerFile: pathToFileURL(workerFile),
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Client { call(method: string, params?: unknown): Promise<{ result?: unknown; error?: { message: string } }>; close(): void }

async function connect(origin?: string): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/host`, origin ? { origin } : {});
  await new Promise<void>((ok, fail) => { ws.once('open', () => ok()); ws.once('error', fail); });
  let id = 0;
  const waiting = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString()) as { id: number; result?: unknown; error?: { message: string } };
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  return {
    call(method, params = []) {
      const n = ++id;
      return new Promise((ok) => { waiting.set(n, ok); ws.send(JSON.stringify({ id: n, method, params })); });
    },
    close: () => ws.close(),
  };
}

describe('npm run web', () => {
  it('serves the renderer, the page for app paths, and nothing outside it', async () => {
    const get = (p: string) => fetch(`${server.url}${p}`);
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await (await get('/some/route?example=mlp-mnist')).text()).toMatch(/<title>Strata/);
    expect((await get('/assets/app.js')).headers.get('content-type')).toMatch(/javascript/);
    expect((await get('/assets/missing.js')).status).toBe(404);
    expect((await get('/..%2fsecret.txt')).status).toBe(403);
    expect([403, 404]).toContain((await get('/%2e%2e/secret.txt')).status);
  });

  it('answers allow-listed methods and refuses anything else', async () => {
    const c = await connect(server.url);
    expect((await c.call('listExamples')).result).toEqual(expect.arrayContaining([{ name: 'mlp-mnist', title: 'MLP for MNIST' }]));
    expect((await c.call('info')).result).toMatchObject({ desktop: false, providers: expect.arrayContaining(['cpu']) });
    expect((await c.call('readFileSync', ['/etc/passwd'])).error?.message).toMatch(/unknown method/);
    expect((await c.call('toString')).error?.message).toMatch(/unknown method/);
    expect((await c.call('readExample', [42])).error?.message).toMatch(/expected a string/);
    expect((await c.call('readExample', ['nope'])).error?.message).toMatch(/no example named "nope"/);
    expect((await c.call('saveRecovery', ['{}'])).result).toBeNull();
    c.close();
  });

  it('refuses connections from pages of other origins', async () => {
    await expect(connect('http://evil.example')).rejects.toThrow(/403/);
    const c = await connect(`http://localhost:${server.port}`);
    c.close();
  });

  it('runs in a worker thread: other requests are answered during a run', async () => {
    const c = await connect();
    const doc = JSON.parse(readFileSync(join(root, 'assets', 'examples', 'transformer-lm.strata.json'), 'utf8')) as unknown;
    const t0 = Date.now();
    let runDone = 0;
    const run = c.call('run', [{ doc, inputs: [{ kind: 'randint', vocab: 32000 }], seed: 0, mode: 'eval', provider: 'cpu' }]).then((r) => { runDone = Date.now(); return r; });
    await new Promise((r) => setTimeout(r, 300));
    const quick = await c.call('readExample', ['mlp-mnist']);
    const quickDone = Date.now();
    expect(quick.result).toMatchObject({ name: 'mlp-mnist' });
    const r = await run;
    expect(r.result).toMatchObject({ ok: true, outputs: [{ shape: [2, 16, 32000] }] });
    expect(runDone).toBeGreaterThan(quickDone);
    expect(quickDone - t0).toBeLessThan(runDone - t0);
    c.close();
  }, 120_000);

  it('prints exactly its address', async () => {
    const child = spawn(process.execPath, [join(root, 'dist', 'web.js'), '--port', '0', '--data-dir', join(dir, 'd2')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((ok, fail) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) ok(out.split('\n')[0]); });
        child.on('exit', (code) => fail(new Error(`exited ${code}`)));
      });
      if (existsSync(join(root, 'dist', 'renderer', 'index.html'))) expect(line).toMatch(/^Strata ready at http:\/\/127\.0\.0\.1:\d+$/);
    } catch (e) {
      // without a built renderer the server says so and exits 1
      if (existsSync(join(root, 'dist', 'renderer', 'index.html'))) throw e;
    } finally {
      child.kill();
    }
  });
});
