/**
 * The desktop app's engine (dist/electron/engine.cjs): a utility process
 * that runs and exports models on onnxruntime, so that neither the main
 * process (menus, windows, IPC) nor the renderer ever blocks on a run or
 * loads a native module. Requests arrive from the main process as
 * `{ id, method, params }` and are answered in kind (engine/host/rpc.ts).
 */
import type { MessageEvent } from 'electron';
import { numericApi } from '../engine/host/numeric';
import { type RpcRequest, dispatch } from '../engine/host/rpc';
// the kernels register their lowerings (LSH attention) with the engine
import '../kernels';

const api = numericApi();
const port = process.parentPort;
port.on('message', (e: MessageEvent) => {
  const m = e.data as RpcRequest;
  void dispatch(api, m.id, m.method, m.params).then((r) => port.postMessage(r));
});
