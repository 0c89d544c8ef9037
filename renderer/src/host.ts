/**
 * The renderer's one way to the engine host (engine/host/api.ts): in the
 * desktop app the preload's `window.strata` (Electron IPC), in a browser a
 * WebSocket to the server that served the page (`npm run web`), which
 * reconnects by itself when the connection drops. Calls made while the
 * socket is (re)connecting wait for it; calls in flight when it drops fail
 * with a message (a run is not silently repeated).
 */
import type { HostApi, HostMethod } from '../../engine/host/api';

declare global {
  interface Window {
    /** the desktop app's preload object (electron/preload.ts) */
    strata?: HostApi;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** The host over a WebSocket JSON-RPC endpoint: `{ id, method, params }` → `{ id, result }` | `{ id, error: { message } }`. */
export function createSocketHost(url: string): HostApi & { close(): void } {
  let socket: WebSocket | null = null;
  let open = false;
  let closed = false;
  let retry = 250;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  /** requests made while not connected: sent on open */
  const queue: string[] = [];

  const connect = (): void => {
    if (closed) return;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      open = true;
      retry = 250;
      for (const m of queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (ev: MessageEvent) => {
      let msg: { id?: number; result?: unknown; error?: { message?: string } };
      try {
        msg = JSON.parse(String(ev.data)) as typeof msg;
      } catch {
        return;
      }
      const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
      if (!p) return;
      pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(msg.error.message ?? 'the host failed'));
      else p.resolve(msg.result);
    };
    ws.onclose = () => {
      const wasOpen = open;
      open = false;
      if (socket === ws) socket = null;
      if (wasOpen) {
        // answers to these will never come: the host may have restarted
        const lost = [...pending.values()];
        pending.clear();
        for (const p of lost) p.reject(new Error('lost the connection to the Strata host; try again'));
      }
      if (!closed) {
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 5000);
      }
    };
    // onerror is always followed by onclose, which reconnects
    ws.onerror = () => undefined;
  };

  const call = (method: HostMethod, args: unknown[]): Promise<unknown> => {
    while (args.length && args[args.length - 1] === undefined) args.pop();
    const id = nextId++;
    // JSON has no undefined: an absent optional argument in the middle travels as null
    const msg = JSON.stringify({ id, method, params: args.map((a) => (a === undefined ? null : a)) });
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (open && socket) socket.send(msg);
      else {
        queue.push(msg);
        if (!socket) connect();
      }
    });
  };

  connect();
  const api = {
    info: () => call('info', []),
    listExamples: () => call('listExamples', []),
    readExample: (name: string) => call('readExample', [name]),
    openFile: (path?: string) => call('openFile', [path]),
    saveFile: (text: string, path?: string) => call('saveFile', [text, path]),
    recentFiles: () => call('recentFiles', []),
    saveRecovery: (text: string) => call('saveRecovery', [text]),
    readRecovery: () => call('readRecovery', []),
    run: (req) => call('run', [req]),
    tensorSlice: (req) => call('tensorSlice', [req]),
    exportModel: (req) => call('exportModel', [req]),
    trainStart: (req) => call('trainStart', [req]),
    trainStatus: (req) => call('trainStatus', [req]),
    trainStop: (req) => call('trainStop', [req]),
    trainRuns: () => call('trainRuns', []),
    exportTrained: (req) => call('exportTrained', [req]),
  } as HostApi;
  return {
    ...api,
    close() {
      closed = true;
      socket?.close();
    },
  };
}

/** The host for this window: the desktop app's preload object, else the server that served the page. */
export function createHost(): HostApi {
  if (typeof window !== 'undefined' && window.strata) return window.strata;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createSocketHost(`${proto}//${location.host}/host`);
}
