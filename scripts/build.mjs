// Bundles the Node entry points into dist/ (fast start: one file each, no TypeScript at run time):
//   dist/cli.js          the CLI
//   dist/web.js          `npm run web` (the renderer's server and the engine host)
//   dist/host-worker.js  the web server's worker thread for runs and exports
//   dist/electron/{main,preload,engine}.cjs   the desktop app (main process, preload, engine utility process)
// `node scripts/build.mjs bench/shapes.ts` bundles a benchmark into dist/ the same way
// (measuring the code as shipped, not a TypeScript loader's transform of it).
// The renderer is built by vite (scripts/build-renderer.mjs).
import { build } from 'esbuild';
import { basename } from 'node:path';

const node = { bundle: true, platform: 'node', target: 'node20', packages: 'external', sourcemap: true, logLevel: 'warning' };

const entry = process.argv[2];
if (entry) {
  await build({ ...node, entryPoints: [entry], outfile: `dist/bench-${basename(entry, '.ts')}.js`, format: 'esm' });
} else {
  await Promise.all([
    build({ ...node, entryPoints: ['cli/index.ts'], outfile: 'dist/cli.js', format: 'esm' }),
    build({ ...node, entryPoints: ['cli/web.ts'], outfile: 'dist/web.js', format: 'esm' }),
    build({ ...node, entryPoints: ['cli/host-worker.ts'], outfile: 'dist/host-worker.js', format: 'esm' }),
    // Electron loads CommonJS main and utility scripts; electron itself comes from the runtime
    build({ ...node, entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.cjs', format: 'cjs', target: 'node22' }),
    build({ ...node, entryPoints: ['electron/engine.ts'], outfile: 'dist/electron/engine.cjs', format: 'cjs', target: 'node22' }),
    // a sandboxed preload may require only 'electron' (and a few built-ins): everything else is bundled in
    build({ ...node, entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs', format: 'cjs', target: 'chrome140', packages: undefined, external: ['electron'] }),
  ]);
}
