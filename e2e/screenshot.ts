/**
 * The README's screenshot (assets/screenshot.png): the web app on the
 * TransformerLM example after a run, the embedding's tensor open. Not a test:
 *   npx tsx e2e/screenshot.ts [example]
 */
import { Session, ROOT, ensureBuilt, launchChromium, startServer } from './harness';
import { join } from 'node:path';

const example = process.argv[2] ?? 'transformer-lm';
ensureBuilt();
const server = await startServer();
const browser = await launchChromium();
try {
  const s = await Session.open(browser, server, 'screenshot', `?example=${example}`, { width: 1400, height: 860 });
  const page = s.page;
  await page.waitForTimeout(1000);
  await page.locator('[data-testid="layer-node"][data-path="1"]').click();
  await page.getByTestId('run').click();
  await page.locator('[data-testid="stack-chip"].has-stats').first().waitFor({ timeout: 60_000 });
  await page.getByTestId('stack-chip').nth(process.argv[3] ? Number(process.argv[3]) : 2).click();
  await page.getByTestId('tensor-view').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(ROOT, 'assets', 'screenshot.png') });
  if (s.errors.length) console.error(s.errors.join('\n'));
  await s.close();
} finally {
  await browser.close();
  await server.stop();
}
