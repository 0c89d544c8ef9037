/**
 * The desktop app, through Playwright's Electron support: the window opens
 * the TransformerLM example sandboxed with context isolation, the preload
 * exposes exactly the host's methods, and a run goes through the utility
 * process. Runs where Electron's binary is installed; elsewhere it is
 * reported as skipped, with the reason in its name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ElectronApplication, _electron } from 'playwright-core';
import { HOST_METHODS } from '../engine/host/api';
import { ARTIFACTS, ROOT, electronBinary, ensureBuilt } from './harness';

const binary = electronBinary();
const reason = binary ? '' : ' (SKIPPED: the Electron binary is not installed: node_modules/electron/dist is missing, it downloads from outside the npm registry)';

// say why in the log too: a reporter may list a skipped test by its file only
if (!binary) console.log(`e2e/electron.test.ts: desktop-app test${reason}`);

describe('desktop app (Electron)', () => {
  let app: ElectronApplication;
  let dataDir: string;

  beforeAll(async () => {
    if (!binary) return;
    ensureBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'strata-electron-'));
    app = await _electron.launch({
      executablePath: binary,
      args: [join(ROOT, 'dist', 'electron', 'main.cjs'), '--example', 'transformer-lm'],
      env: { ...process.env, STRATA_DATA_DIR: dataDir, ELECTRON_DISABLE_SANDBOX: process.env.CI ? '1' : '' },
      cwd: ROOT,
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.skipIf(!binary)(`opens TransformerLM sandboxed, with only the host API exposed, and runs it in the utility process${reason}`, async () => {
    const page = await app.firstWindow();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.getByTestId('canvas').waitFor();
    await page.locator('[data-testid="layer-node"][data-kind="TransformerLM"]').first().waitFor();
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const wc = BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences?: () => Record<string, unknown> };
      const p = wc.getLastWebPreferences?.();
      return p ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration } : null;
    });
    if (prefs) expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    type Win = { strata: Record<string, (...a: unknown[]) => Promise<unknown>>; require?: unknown; process?: unknown };
    const exposed = await page.evaluate(() => {
      const w = globalThis as unknown as Win;
      return { keys: Object.keys(w.strata).sort(), node: typeof w.require, process: typeof w.process };
    });
    expect(exposed).toEqual({ keys: [...HOST_METHODS].sort(), node: 'undefined', process: 'undefined' });
    const info = await page.evaluate(() => (globalThis as unknown as Win).strata.info()) as { desktop: boolean };
    expect(info.desktop).toBe(true);
    // bad payloads are refused in the preload, before any IPC
    const refused = await page.evaluate(() => (globalThis as unknown as Win).strata.readExample(42).then(() => 'accepted', (e: Error) => e.message));
    expect(refused).toMatch(/expected a string/);
    await page.getByTestId('run').click();
    await page.locator('[data-testid="stack-chip"].has-stats').first().waitFor({ timeout: 120_000 });
    await page.getByTestId('stack-chip').filter({ hasText: 'float32[B,L,32000]' }).last().click();
    await page.getByTestId('tensor-view').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'electron-transformer-lm.png') });
    // onnxruntime is loaded in the utility process only
    const mainHasOrt = await app.evaluate(() => typeof require !== 'undefined' && Object.keys(require.cache).some((k) => k.includes('onnxruntime')));
    expect(mainHasOrt).toBe(false);
    expect(errors).toEqual([]);
  }, 180_000);
});
