// `npm start`: the desktop app with the TransformerLM example. Where Electron's binary is not
// installed (it downloads during `npm install` from outside the npm registry), says so in one
// line and serves the browser version instead (as `npm run web`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const example = 'transformer-lm';

/** The installed binary; never `require('electron')`, which would try to download it. */
function electronBinary() {
  const dir = 'node_modules/electron';
  try {
    const path = join(dir, 'dist', readFileSync(join(dir, 'path.txt'), 'utf8').trim());
    return existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

const built = spawnSync(process.execPath, ['scripts/build-renderer.mjs', '--if-stale'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const electron = electronBinary();
const child = electron
  ? spawn(electron, ['dist/electron/main.cjs', '--example', example, ...args], { stdio: 'inherit' })
  : (console.log('Electron is not installed here (node_modules/electron has no binary: it downloads from outside the npm registry); serving the browser version instead.'),
    spawn(process.execPath, ['dist/web.js', '--example', example, ...args], { stdio: 'inherit' }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
