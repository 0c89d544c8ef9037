// Builds the renderer with vite into dist/renderer.
//   node scripts/build-renderer.mjs              always
//   node scripts/build-renderer.mjs --if-stale   only when a source under renderer/ or engine/ is newer than the build
//   node scripts/build-renderer.mjs --if-missing only when there is no build
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const index = 'dist/renderer/index.html';
const mode = process.argv[2];

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

if (existsSync(index)) {
  if (mode === '--if-missing') process.exit(0);
  if (mode === '--if-stale') {
    const built = statSync(index).mtimeMs;
    if (Math.max(newest('renderer'), newest('engine'), statSync('package.json').mtimeMs) <= built) process.exit(0);
  }
}
const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
process.exit(r.status ?? 1);
