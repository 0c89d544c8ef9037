/**
 * `npm run web`: the renderer (dist/renderer, built by vite) and the engine
 * host over a WebSocket JSON-RPC endpoint (`/host`), on 127.0.0.1 only.
 *
 * Requests are `{ id, method, params }` with `params` the method's positional
 * arguments; answers are `{ id, result }` or `{ id, error: { message } }`.
 * Only HOST_METHODS are served and their arguments are type-checked before
 * dispatch (engine/host/validate.ts). A connection must come from a page this
 * server served (its Origin header), so another web site open in the same
 * browser cannot read files through it. Runs go to a worker thread
 * (engine/host/threaded.ts), so a long run never delays a save or the UI's
 * other requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { type ThreadedHost, createThreadedHost } from '../engine/host/threaded';
import { dispatch } from '../engine/host/rpc';
import type { HostApi } from '../engine/host/api';
import { MAX_TEXT } from '../engine/host/validate';

export interface WebServerOptions {
  port: number;
  /** dist/renderer */
  rendererDir: string;
  examplesDir: string;
  dataDir: string;
  /** dist/host-worker.js */
  workerFile: string | URL;
  /** a host to serve instead of the threaded one (tests) */
  host?: HostApi;
}

export interface WebServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The same policy as the desktop app's window (electron/main.ts): scripts only from this server, the host only over its socket. */
export const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
  "font-src 'self' data:", "worker-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
].join('; ');

function serveFile(root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const file = normalize(join(root, pathname));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let target = file;
  const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };
  if (!isFile(target)) {
    // the app is one page: any path without a file extension is the page
    if (extname(pathname) === '' || pathname.endsWith('/')) target = join(root, 'index.html');
    else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
  }
  const ext = extname(target);
  res.writeHead(200, {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Content-Length': statSync(target).size,
    // hashed assets may be cached; the page itself never (a rebuilt renderer shows at once)
    'Cache-Control': target.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    ...(ext === '.html' ? { 'Content-Security-Policy': CSP } : {}),
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(target).pipe(res);
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const rendererDir = resolve(opts.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`the renderer is not built: ${join(rendererDir, 'index.html')} is missing (vite build --config renderer/vite.config.ts)`);
  const threaded: ThreadedHost | null = opts.host ? null : createThreadedHost({ examplesDir: opts.examplesDir, dataDir: opts.dataDir, desktop: false }, opts.workerFile);
  const host: HostApi = opts.host ?? threaded!;

  const http = createServer((req, res) => serveFile(rendererDir, req, res));
  let port = opts.port;
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);
  const wss = new WebSocketServer({
    server: http,
    path: '/host',
    maxPayload: MAX_TEXT * 2,
    // a browser always sends Origin: only pages from this server may call the host
    verifyClient: ({ origin }: { origin?: string }, done: (ok: boolean, code?: number, why?: string) => void) => {
      if (origin === undefined || allowedOrigins().has(origin)) done(true);
      else done(false, 403, 'Forbidden: not a Strata page');
    },
  });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: { id?: unknown; method?: unknown; params?: unknown };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        ws.send(JSON.stringify({ id: null, error: { message: 'not valid JSON' } }));
        return;
      }
      const id = typeof msg.id === 'number' ? msg.id : -1;
      void dispatch(host, id, msg.method, msg.params).then((r) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(r));
      });
    });
  });

  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(opts.port, '127.0.0.1', () => ok());
  });
  const addr = http.address();
  port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      await new Promise<void>((ok) => http.close(() => ok()));
      await threaded?.close();
    },
  };
}
