#!/usr/bin/env node
// The `strata` command: runs the bundled CLI (built by `npm run build`, which `npm install` runs).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('strata: the CLI is not built; run `npm run build` (npm install does it)\n');
  process.exit(1);
}
const { run } = await import(bundle);
process.exitCode = await run(process.argv.slice(2));
