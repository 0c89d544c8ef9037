/**
 * Entry of `npm run web` (dist/web.js): serves the renderer and the engine
 * host on 127.0.0.1 (cli/web-server.ts).
 *
 *   node dist/web.js [--port PORT] [--data-dir DIR] [--example NAME]
 *
 * PORT 0 picks a free port. DIR holds the recent-files list and the recovery
 * file (default $STRATA_DATA_DIR, else ~/.strata).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, flag, intFlag, parseFlags } from './args';
import { startWebServer } from './web-server';

const here = fileURLToPath(new URL('.', import.meta.url));

async function main(argv: string[]): Promise<number> {
  let p;
  try {
    p = parseFlags(argv, { port: { value: true }, 'data-dir': { value: true }, example: { value: true }, help: { value: false, alias: 'h' } });
    if (p.positional.length) throw new UsageError(`unexpected argument ${p.positional[0]}`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`strata web: ${e.message}\nusage: npm run web -- [--port PORT] [--data-dir DIR]\n`);
      return 1;
    }
    throw e;
  }
  if (p.flags.has('help')) {
    process.stdout.write('usage: npm run web -- [--port PORT] [--data-dir DIR] [--example NAME]\n  serves the Strata IDE and its engine host on http://127.0.0.1:PORT (default 8080; 0 picks a free port)\n');
    return 0;
  }
  let port: number;
  try {
    port = intFlag(p, 'port', 8080);
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  } catch (e) {
    process.stderr.write(`strata web: ${(e as Error).message}\n`);
    return 1;
  }
  const server = await startWebServer({
    port,
    rendererDir: join(here, 'renderer'),
    examplesDir: join(here, '..', 'assets', 'examples'),
    dataDir: flag(p, 'data-dir') ?? process.env.STRATA_DATA_DIR ?? join(homedir(), '.strata'),
    workerFile: new URL('./host-worker.js', import.meta.url),
  }).catch((e: NodeJS.ErrnoException) => {
    process.stderr.write(`strata web: ${e.code === 'EADDRINUSE' ? `port ${port} is in use; give another with --port` : e.message}\n`);
    return null;
  });
  if (!server) return 1;
  process.stdout.write(`Strata ready at ${server.url}\n`);
  const example = flag(p, 'example');
  if (example) process.stdout.write(`Open ${server.url}/?example=${encodeURIComponent(example)}\n`);
  const stop = () => { void server.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
