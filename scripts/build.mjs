// Bundles the CLI into dist/cli.js (fast start: one file, no TypeScript at run time).
import { build } from 'esbuild';

await build({
  entryPoints: ['cli/index.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
