/**
 * The one object the renderer sees (window.strata): exactly the HostApi's
 * methods, each checking its arguments (engine/host/validate.ts) and
 * invoking its own allow-listed channel `strata:<method>`. No ipcRenderer,
 * no Node: the renderer stays sandboxed with context isolation.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { HOST_METHODS, type HostApi } from '../engine/host/api';
import type { RpcResponse } from '../engine/host/rpc';
import { validateCall } from '../engine/host/validate';

function method(name: (typeof HOST_METHODS)[number]) {
  return async (...args: unknown[]): Promise<unknown> => {
    // drop trailing absent optional arguments, so openFile() and openFile(undefined) are one call
    while (args.length && args[args.length - 1] === undefined) args.pop();
    const call = validateCall(name, args);
    const r = (await ipcRenderer.invoke(`strata:${name}`, ...call.args)) as RpcResponse;
    if ('error' in r) throw new Error(r.error.message);
    return r.result;
  };
}

const api = Object.fromEntries(HOST_METHODS.map((m) => [m, method(m)])) as unknown as HostApi;
contextBridge.exposeInMainWorld('strata', api);
