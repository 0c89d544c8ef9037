/**
 * The host for `npm run web`: the file side answers on the server's event
 * loop; runs, slices, exports and training go to a worker thread, because onnxruntime-node's
 * `session.run` is synchronous and would otherwise stall every WebSocket
 * and HTTP request (a save, an example) for the length of a run. The worker
 * is started on the first numeric call and restarted if it dies.
 */
import { Worker } from 'node:worker_threads';
import type {
  ExportRequest, ExportResponse, ExportTrainedRequest, ExportTrainedResponse, HostApi, RunRequest, RunResponse, SliceRequest, SliceResponse,
  TrainRequest, TrainRunInfo, TrainStartResponse, TrainStatusRequest, TrainStatusResponse, TrainStopResponse,
} from './api';
import { createFileHost, newRunDir } from './files';
import { type Remote, createRemote } from './remote';
import type { HostServiceOptions } from './service';
import type { RpcResponse } from './rpc';
import { version } from './version';

export interface ThreadedHost extends HostApi {
  close(): Promise<void>;
}

export function createThreadedHost(opts: HostServiceOptions, workerFile: string | URL): ThreadedHost {
  const files = createFileHost(opts);
  let worker: Worker | null = null;
  let remote: Remote | null = null;
  let providers: Promise<string[]> | null = null;

  const start = (): Remote => {
    if (remote && worker) return remote;
    const w = new Worker(workerFile);
    const r = createRemote((req) => w.postMessage(req));
    w.on('message', (m: RpcResponse) => r.receive(m));
    const gone = (why: string) => {
      if (worker === w) { worker = null; remote = null; providers = null; }
      r.failAll(`the engine stopped (${why}); run again to restart it`);
    };
    w.on('error', (e) => gone(e.message));
    w.on('exit', (code) => gone(`exit code ${code}`));
    // an idle worker must not keep the server alive on its own
    w.unref();
    worker = w;
    remote = r;
    return r;
  };

  return {
    ...files,
    async info() {
      providers ??= start().call('info', []).then((i) => (i as { providers: string[] }).providers).catch(() => ['cpu']);
      return { version, providers: await providers, desktop: opts.desktop };
    },
    run: (req: RunRequest) => start().call('run', [req]) as Promise<RunResponse>,
    // the worker keeps the runs: a new worker (after a crash) has none and answers 'gone'
    tensorSlice: (req: SliceRequest) => start().call('tensorSlice', [req]) as Promise<SliceResponse>,
    exportModel: (req: ExportRequest) => start().call('exportModel', [req]) as Promise<ExportResponse>,
    // training runs in the worker too (a new worker after a crash has no runs: trainStatus answers 'gone')
    trainStart: (req: TrainRequest) => start().call('trainStart', [{ ...req, dir: req.dir || newRunDir(opts.dataDir, req.doc) }]) as Promise<TrainStartResponse>,
    trainStatus: (req: TrainStatusRequest) => start().call('trainStatus', [req]) as Promise<TrainStatusResponse>,
    trainStop: (req: { runId: string }) => start().call('trainStop', [req]) as Promise<TrainStopResponse>,
    trainRuns: () => start().call('trainRuns', []) as Promise<TrainRunInfo[]>,
    exportTrained: (req: ExportTrainedRequest) => start().call('exportTrained', [req]) as Promise<ExportTrainedResponse>,
    async close() {
      const w = worker;
      worker = null;
      remote = null;
      if (w) await w.terminate();
    },
  };
}
