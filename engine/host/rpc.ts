/**
 * One request to the host as plain data, the same on every transport
 * (WebSocket, worker thread, Electron IPC and utility process):
 * `{ id, method, params }` → `{ id, result }` or `{ id, error: { message } }`.
 */
import type { HostApi, HostMethod } from './api';
import { validateCall } from './validate';

export interface RpcRequest { id: number; method: string; params?: unknown[] }
export type RpcResponse = { id: number; result: unknown } | { id: number; error: { message: string } };

/** Validates and dispatches one call; never throws (a failure is `{ error }` with a message for the user). */
export async function dispatch(api: Partial<HostApi>, id: number, method: unknown, params: unknown): Promise<RpcResponse> {
  try {
    const call = validateCall(method, params);
    const f = api[call.method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (!f) throw new Error(`${call.method} is not served here`);
    const result = await f(...call.args);
    // JSON has no undefined: a void result is null
    return { id, result: result === undefined ? null : result };
  } catch (e) {
    return { id, error: { message: e instanceof Error ? e.message : String(e) } };
  }
}

/** The methods that run onnxruntime (blocking the thread they run on), training included: the numeric side serves them. */
export const NUMERIC_METHODS = ['run', 'tensorSlice', 'exportModel', 'trainStart', 'trainStatus', 'trainStop', 'trainRuns', 'exportTrained'] as const satisfies readonly HostMethod[];
export type NumericMethod = (typeof NUMERIC_METHODS)[number];
