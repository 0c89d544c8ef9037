// Bundles the CLI into dist/cli.js (fast start: one file, no TypeScript at run time).
// `node scripts/build.mjs bench/shapes.ts` bundles a benchmark into dist/ the same way
// (measuring the code as shipped, not a TypeScript loader's transform of it).
import { build } from 'esbuild';
import { basename } from 'node:path';

const entry = process.argv[2];
await build({
  entryPoints: [entry ?? 'cli/index.ts'],
  outfile: entry ? `dist/bench-${basename(entry, '.ts')}.js` : 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
