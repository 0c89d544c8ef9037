/**
 * UI responsiveness benchmark (prints numbers, asserts nothing), with
 * Chromium against the real web app (`npm run bench:ui`):
 *  1. keystroke → updated chips: on the 24-layer ReformerLM
 *     (trax.models.ReformerLM(vocab_size=32000, n_layers=24)), the time from a
 *     key pressed in a parameter field of the inspector to the chips showing
 *     the new shapes (DOM updated and the next frame begun): as opened, fully
 *     expanded at fit-all zoom (every chip drawn), and fully expanded at about
 *     100% (as a reader works: only the nodes in view are drawn);
 *  2. frame times while panning that model fully expanded (every collapsed
 *     combinator opened);
 *  3. a 2,000-layer document opened through File > Open: time to the first
 *     render and to the laid-out canvas, the page's long tasks, and the
 *     longest gap of a 10 ms timer (how long the page could not answer input).
 * Headless Chromium with --disable-gpu: software rendering, so frame times
 * are an upper bound of what a desktop GPU gives. BENCH_TRACE=<folder> also
 * saves Chrome performance traces of the expanded keystrokes and of the open.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { codeToDocument } from '../engine/tracecode/parse';
import { serializeDocument } from '../engine/document/schema';
import { Session, ensureBuilt, launchChromium, startServer } from '../e2e/harness';

const quick = !!process.env.BENCH_QUICK;
/** a folder: Chrome traces of the expanded keystrokes and of opening 2,000 layers are saved there (open them in DevTools' Performance panel) */
const traceDir = process.env.BENCH_TRACE;

/** Runs `f` while Chrome records a performance trace into traceDir/name.json (when BENCH_TRACE is set). */
async function traced<T>(browser: Browser, page: Page, name: string, f: () => Promise<T>): Promise<T> {
  if (!traceDir) return f();
  mkdirSync(traceDir, { recursive: true });
  await browser.startTracing(page, {
    path: join(traceDir, `${name}.json`),
    categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-devtools.timeline.frame', 'v8.execute', 'disabled-by-default-v8.cpu_profiler', 'toplevel', 'blink.user_timing'],
  });
  try {
    return await f();
  } finally {
    await browser.stopTracing();
  }
}

function stats(xs: number[]): string {
  if (!xs.length) return 'n/a';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (n=${s.length})`;
}

async function settled(page: Page, timeout = 120_000): Promise<void> {
  await page.locator('[data-layout="ready"]').first().waitFor({ timeout });
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))');
}

/** Opens a document file through the app's own File > Open. */
async function openFile(page: Page, path: string): Promise<void> {
  await page.getByTestId('file-open').click();
  const confirm = page.getByTestId('confirm-ok');
  if (await confirm.count()) await confirm.click();
  await page.getByTestId('path-input').fill(path);
  await page.getByTestId('path-ok').click();
}

/** In the page: resolves with the ms from the next keydown to the first chip whose text matches, plus one frame (NaN after 10 s). */
async function armKeystrokeTimer(page: Page, pattern: string): Promise<void> {
  await page.evaluate(`(() => {
    const re = new RegExp(${JSON.stringify(pattern)});
    window.__keyResult = new Promise((resolve) => {
      setTimeout(() => resolve(NaN), 10000);
      let t0 = 0;
      const onKey = () => { t0 = performance.now(); window.removeEventListener('keydown', onKey, true); };
      window.addEventListener('keydown', onKey, true);
      const done = () => requestAnimationFrame(() => resolve(performance.now() - t0));
      const obs = new MutationObserver(() => {
        if (!t0) return;
        for (const c of document.querySelectorAll('[data-testid="stack-chip"]')) {
          if (re.test(c.textContent || '')) { obs.disconnect(); done(); return; }
        }
      });
      obs.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  })()`);
}

async function keystrokeToChips(page: Page, only?: 'wide'): Promise<{ small: number[]; wide: number[] }> {
  // select the root (through the store: at fit-all zoom its header is a few pixels tall)
  await page.evaluate(() => {
    const st = (globalThis as unknown as { __strataStore: { getState(): { doc: { root: { id: string } }; select(ids: string[]): void } } }).__strataStore.getState();
    st.select([st.doc.root.id]);
  });
  const vocab = page.getByTestId('inspector').getByTestId('param-vocab_size');
  const dModel = page.getByTestId('inspector').getByTestId('param-d_model');
  const small: number[] = [];
  const wide: number[] = [];
  const rounds = quick ? 3 : 10;
  for (let i = 0; i < rounds; i++) {
    if (only !== 'wide') {
      // vocab_size 32000 → 3200 → 32000: one chip changes (the logits)
      await vocab.focus();
      await vocab.press('End');
      await armKeystrokeTimer(page, '^float32\\[B,L,3200\\]$');
      await page.keyboard.press('Backspace');
      small.push(await page.evaluate('window.__keyResult') as number);
      await armKeystrokeTimer(page, '^float32\\[B,L,32000\\]$');
      await page.keyboard.press('0');
      small.push(await page.evaluate('window.__keyResult') as number);
    }
    // d_model 512 → 5120 → 512: nearly every chip changes
    await dModel.focus();
    await dModel.press('End');
    await armKeystrokeTimer(page, '^float32\\[B,L,5120\\]$');
    await page.keyboard.press('0');
    wide.push(await page.evaluate('window.__keyResult') as number);
    await armKeystrokeTimer(page, '^float32\\[B,L,512\\]$');
    await page.keyboard.press('Backspace');
    wide.push(await page.evaluate('window.__keyResult') as number);
  }
  const done = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  return { small: done(small), wide: done(wide) };
}

/** Opens every collapsed combinator, until none is left; returns the number of layer boxes shown. */
async function expandAll(page: Page): Promise<{ clicks: number; nodes: number; chips: number }> {
  let clicks = 0;
  for (let round = 0; round < 50; round++) {
    const n = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ click(): void }> } }).document;
      const toggles = Array.from(d.querySelectorAll('[data-testid="layer-node"][data-collapsed="true"] [data-testid="collapse-toggle"]'));
      toggles.forEach((t) => t.click());
      return toggles.length;
    });
    if (!n) break;
    clicks += n;
    await settled(page);
    await page.waitForTimeout(300);
    // fit the whole model, so that nodes drawn only when visible are drawn
    await page.getByTestId('canvas').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('f');
    await settled(page);
    await page.waitForTimeout(500);
  }
  return {
    clicks,
    nodes: await page.getByTestId('layer-node').count(),
    chips: await page.getByTestId('stack-chip').count(),
  };
}

const viewportTransform = (page: Page) => page.evaluate(() => {
  const d = (globalThis as unknown as { document: { querySelector(s: string): { style: { transform: string } } | null } }).document;
  return d.querySelector('.react-flow__viewport')?.style.transform ?? '';
});

/** Zooms to about 100% around the middle of the canvas (chips legible, as a reader works); returns the viewport transform. */
async function zoomToReading(page: Page): Promise<string> {
  const box = (await page.getByTestId('canvas').boundingBox())!;
  const scaleOf = (t: string) => Number(/scale\(([\d.]+)\)/.exec(t)?.[1] ?? 1);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 80; i++) {
    const sc = scaleOf(await viewportTransform(page));
    if (sc > 0.87 && sc < 1.15) break;
    await page.mouse.wheel(0, sc < 1 ? -100 : 100);
    await page.waitForTimeout(20);
  }
  await settled(page);
  await page.waitForTimeout(300);
  return viewportTransform(page);
}

async function panFrames(page: Page): Promise<{ frames: number[]; zoom: string }> {
  const canvas = page.getByTestId('canvas');
  const box = (await canvas.boundingBox())!;
  // at about 100%, pan across the model
  const zoom = await zoomToReading(page);
  await page.evaluate(`(() => {
    window.__frames = [];
    let last = performance.now();
    const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__framesOn) requestAnimationFrame(tick); };
    window.__framesOn = true;
    requestAnimationFrame(tick);
  })()`);
  // drag on the background: React Flow pans
  const x0 = box.x + box.width - 20, y0 = box.y + box.height - 20;
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  const steps = quick ? 60 : 240;
  for (let i = 1; i <= steps; i++) {
    // down the model and a little sideways, as a reader follows it
    await page.mouse.move(x0 - (i % 40) * 2, y0 - i * 12 % (box.height - 40));
  }
  await page.mouse.up();
  const frames = await page.evaluate('(() => { window.__framesOn = false; return window.__frames.slice(1); })()') as number[];
  return { frames, zoom };
}

/** In the opened 2,000-layer model: keystrokes in the first Dense's n_units (64 → 640 → 6400) to its chip; restores it. */
async function editBig(page: Page): Promise<number[]> {
  await page.evaluate(() => {
    const st = (globalThis as unknown as { __strataStore: { getState(): { doc: { root: { children: { id: string }[] } }; select(ids: string[]): void } } }).__strataStore.getState();
    st.select([st.doc.root.children[0].id]);
  });
  const units = page.getByTestId('inspector').getByTestId('param-n_units');
  const out: number[] = [];
  for (let i = 0; i < (quick ? 2 : 5); i++) {
    await units.focus();
    await units.press('End');
    for (const dims of ['640', '6400']) {
      await armKeystrokeTimer(page, `^float32\\[B,${dims}\\]$`);
      await page.keyboard.press('0');
      out.push(await page.evaluate('window.__keyResult') as number);
    }
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.waitForTimeout(300);
  }
  return out.filter((x) => Number.isFinite(x));
}

async function openBig(page: Page, path: string): Promise<{ firstRender: number; laidOut: number; longTasks: number[]; maxGap: number }> {
  await page.evaluate(`(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
    window.__gap = 0;
    let last = performance.now();
    window.__gapTimer = setInterval(() => { const t = performance.now(); window.__gap = Math.max(window.__gap, t - last - 10); last = t; }, 10);
  })()`);
  await page.getByTestId('file-open').click();
  await page.getByTestId('path-input').fill(path);
  const t0 = await page.evaluate('performance.now()') as number;
  await page.getByTestId('path-ok').click();
  // the first render: a layer of the new document drawn
  await page.locator('[data-testid="layer-node"][data-kind="Tanh"]').first().waitFor({ timeout: 120_000 });
  const firstRender = (await page.evaluate('performance.now()') as number) - t0;
  await settled(page);
  const laidOut = (await page.evaluate('performance.now()') as number) - t0;
  await page.waitForTimeout(500);
  const r = await page.evaluate('(() => { clearInterval(window.__gapTimer); return { long: window.__long, gap: window.__gap }; })()') as { long: number[]; gap: number };
  return { firstRender, laidOut, longTasks: r.long, maxGap: r.gap };
}

ensureBuilt();
const server = await startServer();
const browser = await launchChromium();
try {
  console.log('strata UI benchmark (headless Chromium, software rendering)\n');
  const reformer = codeToDocument('# input: int32[B,L]\nimport trax\nmodel = trax.models.ReformerLM(vocab_size=32000, n_layers=24)\n');
  reformer.name = 'ReformerLM, 24 layers';
  const reformerPath = join(server.workDir, 'reformer-24.strata.json');
  writeFileSync(reformerPath, serializeDocument(reformer));

  const s = await Session.open(browser, server, 'bench-ui', '?example=mlp-mnist');
  const page = s.page;
  await settled(page);
  await openFile(page, reformerPath);
  await page.locator('[data-testid="layer-node"][data-kind="ReformerLM"]').first().waitFor();
  await settled(page);
  const shown = await page.getByTestId('stack-chip').count();
  console.log(`1. keystroke → updated chips, ReformerLM(vocab_size=32000, n_layers=24) (${shown} chips drawn)`);
  const k = await keystrokeToChips(page);
  console.log(`   as opened (the reversible blocks collapsed):`);
  console.log(`     vocab_size (the logits chip changes):  ${stats(k.small)}`);
  console.log(`     d_model (nearly every chip changes):   ${stats(k.wide)}`);
  const ex = await expandAll(page);
  const k2 = await traced(browser, page, 'keystrokes-expanded', () => keystrokeToChips(page));
  console.log(`   fully expanded (${ex.clicks} combinators opened):`);
  console.log(`     vocab_size (the logits chip changes):  ${stats(k2.small)}`);
  console.log(`     d_model (nearly every chip changes):   ${stats(k2.wide)}`);
  // as a reader works: at about 100%, the canvas draws only the nodes in view
  const readingZoom = await zoomToReading(page);
  const inView = await page.getByTestId('stack-chip').count();
  const k3 = await keystrokeToChips(page, 'wide');
  console.log(`   fully expanded, at about 100% zoom (${inView} chips drawn; ${readingZoom}):`);
  console.log(`     d_model (nearly every chip changes):   ${stats(k3.wide)}`);

  const p = await panFrames(page);
  const over = p.frames.filter((f) => f > 1000 / 60 + 1).length;
  console.log(`\n2. panning ReformerLM fully expanded (the canvas draws what is in view: ${ex.nodes} layer boxes and ${ex.chips} chips in the DOM at fit-all zoom, where the expanded keystroke times above were taken; viewport while panning ${p.zoom})`);
  console.log(`   frame times: ${stats(p.frames)}; ${over} of ${p.frames.length} frames over 16.7 ms`);

  const kinds = ['Dense', 'Tanh'];
  const big = codeToDocument(`# input: float32[B,64]\nfrom trax import layers as tl\nmodel = tl.Serial(${Array.from({ length: 2000 }, (_, i) => (kinds[i % 2] === 'Dense' ? 'tl.Dense(64)' : 'tl.Tanh()')).join(', ')})\n`);
  big.name = '2,000 layers';
  const bigPath = join(server.workDir, 'serial-2000.strata.json');
  writeFileSync(bigPath, serializeDocument(big));
  const s2 = await Session.open(browser, server, 'bench-ui-2000', '?example=mlp-mnist');
  await settled(s2.page);
  const b = await traced(browser, s2.page, 'open-2000', () => openBig(s2.page, bigPath));
  console.log('\n3. opening a 2,000-layer Serial (File > Open)');
  console.log(`   first render ${b.firstRender.toFixed(0)} ms, laid out ${b.laidOut.toFixed(0)} ms`);
  console.log(`   long tasks (>50 ms): ${b.longTasks.length}, longest ${Math.max(0, ...b.longTasks).toFixed(0)} ms, total ${b.longTasks.reduce((a, x) => a + x, 0).toFixed(0)} ms`);
  console.log(`   longest the page could not answer (10 ms timer gap): ${b.maxGap.toFixed(0)} ms`);
  const e2 = await editBig(s2.page);
  console.log(`   then editing it: keystroke in the first Dense's n_units → its chip: ${stats(e2)}`);
  const errors = [...s.errors, ...s2.errors];
  if (errors.length) console.log(`\nconsole errors during the benchmark:\n  ${errors.join('\n  ')}`);
  await s.close();
  await s2.close();
} finally {
  await browser.close();
  await server.stop();
}
