/**
 * The worker thread of `npm run web` (dist/host-worker.js): runs and exports
 * on onnxruntime, off the server's event loop (engine/host/threaded.ts).
 */
import { parentPort } from 'node:worker_threads';
import { numericApi } from '../engine/host/numeric';
import { type RpcRequest, dispatch } from '../engine/host/rpc';
// the kernels register their lowerings (LSH attention) with the engine
import '../kernels';

const api = numericApi();
const port = parentPort;
if (!port) throw new Error('host-worker.js runs as a worker thread of the web server');
port.on('message', (m: RpcRequest) => {
  void dispatch(api, m.id, m.method, m.params).then((r) => port.postMessage(r));
});
