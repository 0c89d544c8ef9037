/**
 * The calling side of a host served elsewhere (a worker thread, a utility
 * process): one pending-promise map keyed by request id.
 */
import type { HostMethod } from './api';
import type { RpcRequest, RpcResponse } from './rpc';

export interface Remote {
  call(method: HostMethod, args: unknown[]): Promise<unknown>;
  /** feed a response from the other side */
  receive(resp: RpcResponse): void;
  /** the other side is gone: every pending call fails with this message */
  failAll(message: string): void;
  pending(): number;
}

export function createRemote(post: (req: RpcRequest) => void): Remote {
  let next = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  return {
    call(method, args) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        try {
          post({ id, method, params: args });
        } catch (e) {
          waiting.delete(id);
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    },
    receive(resp) {
      const w = waiting.get(resp.id);
      if (!w) return;
      waiting.delete(resp.id);
      if ('error' in resp) w.reject(new Error(resp.error.message));
      else w.resolve(resp.result);
    },
    failAll(message) {
      const all = [...waiting.values()];
      waiting.clear();
      for (const w of all) w.reject(new Error(message));
    },
    pending: () => waiting.size,
  };
}
