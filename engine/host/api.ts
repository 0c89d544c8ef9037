/**
 * The one typed API the renderer calls for everything numeric or on disk.
 * Transport-free: implemented in Node by `service.ts`, carried over Electron
 * IPC (preload allow-list) or a local WebSocket (`npm run web`). Every
 * request and response is plain JSON data.
 */
import type { ModelError } from '../core/errors';

export interface ExampleInfo { name: string; title: string }

/** How one model input is made for a run. */
export type InputSource =
  | { kind: 'normal'; seed?: number }
  | { kind: 'randint'; vocab: number; seed?: number }
  | { kind: 'zeros' }
  /** a .npy or .json file on the host's disk */
  | { kind: 'file'; path: string };

export interface TensorSummary {
  dtype: string;
  shape: number[];
  stats: { min: number | string; max: number | string; mean: number | string; std: number | string; nan: number; inf: number };
  /** counts in `bins` equal bins between stats.min and stats.max (finite values) */
  histogram: number[];
  /** a 2-D slice for a heatmap: the last two axes at index 0 of the others (at most 64x64) */
  heatmap?: { rows: number; cols: number; data: number[] };
}

export interface ProbeSummary extends TensorSummary {
  /** layer location (`Serial[1]`; '' = the model's output) */
  path: string;
  kind: string;
  index: number;
}

export interface RunRequest {
  /** the document as JSON (`.strata.json` content) */
  doc: unknown;
  inputs: InputSource[];
  seed: number;
  mode: 'train' | 'eval' | 'predict';
  provider: 'cpu' | 'webgpu' | 'cuda' | 'dml';
}

export type RunResponse =
  /** `runId` names the run the host keeps (its tensors, or what recomputes them) for `tensorSlice` */
  | { ok: true; runId: string; provider: string; notes: string[]; outputs: TensorSummary[]; probes: ProbeSummary[]; ms: number }
  | { ok: false; error: ModelError };

/**
 * A 2-D slice of one tensor of a kept run, for the tensor view's heatmap.
 * The host cuts it (the tensor never leaves the host) and averages blocks
 * down to at most `max`×`max` cells.
 */
export interface SliceRequest {
  /** RunResponse.runId */
  runId: string;
  /** a probe's layer location ('' = the model's output edge); null: model output `index` */
  path: string | null;
  /** the probe's stack position (0 = top), or the model output's index */
  index: number;
  /** the axis drawn down; absent for a tensor of rank < 2 */
  rows?: number;
  /** the axis drawn across; absent for a scalar */
  cols?: number;
  /** the position along every axis, one per axis (the rows and cols axes' entries are ignored) */
  at: number[];
  /** at most max×max cells (default 128, at most 256) */
  max?: number;
}

export interface TensorSlice {
  dtype: string;
  shape: number[];
  rowAxis: number | null;
  colAxis: number | null;
  at: number[];
  rows: number;
  cols: number;
  /** each cell is the mean of a rowStride×colStride block (1×1: every value shown) */
  rowStride: number;
  colStride: number;
  /** row-major cells; null where the block holds a NaN or an infinity */
  data: (number | null)[];
  /** the finite cells' range (null when none is finite) */
  min: number | null;
  max: number | null;
  /** kept from the run, or recomputed for this request (the run's tensors were over the host's memory cap) */
  source: 'kept' | 'recomputed';
}

export type SliceResponse =
  | { ok: true; slice: TensorSlice }
  /** gone: the host no longer has the run (a newer run replaced it, the engine restarted): run again */
  | { ok: false; reason: 'gone' | 'bad_request' | 'not_probed'; message: string };

export interface ExportRequest {
  doc: unknown;
  /** where to write (the host asks with a dialog when absent, in the desktop app) */
  path?: string;
  format: 'onnx' | 'python' | 'weights';
  seed: number;
  inlineFunctions?: boolean;
}

export type ExportResponse = { ok: true; path: string; bytes: number } | { ok: false; error: ModelError };

// ---------------------------------------------------------------- training

/**
 * The choices a training request takes, as the engine names them
 * (engine/train: TASK_NAMES, LOSSES, OPTIMIZER_NAMES, SCHEDULE_KINDS; a host
 * test keeps these lists equal to the engine's). Here so the renderer can
 * offer them without importing the training engine.
 */
export const TRAIN_TASKS = ['mnist', 'copy', 'reverse', 'duplicate', 'addition', 'text:FILE', 'data:FILE'] as const;
export const TRAIN_LOSSES = [
  'CrossEntropyLoss', 'CrossEntropyLossWithLogSoftmax', 'WeightedCategoryCrossEntropy', 'CategoryCrossEntropy',
  'CrossEntropySum', 'BinaryCrossEntropyLoss', 'L2Loss', 'SmoothL1Loss',
] as const;
export const TRAIN_OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adafactor', 'rmsprop'] as const;
export const TRAIN_SCHEDULES = ['constant', 'rsqrt', 'cosine'] as const;
export const TRAIN_PROVIDERS = ['cpu', 'webgpu', 'cuda', 'dml'] as const;

/** One training run, as `strata train` takes it (cli/train.ts maps its flags to the same fields). */
export interface TrainRequest {
  /** the document as JSON: the run trains this copy, whatever happens to the open document later */
  doc: unknown;
  /** mnist, copy, reverse, duplicate, addition, text:FILE or data:FILE (FILE a path on the host) */
  task: string;
  /** a loss of TRAIN_LOSSES (or an alias: cross-entropy, l2, …); absent: the task's */
  loss?: string;
  optimizer: string;
  /** the peak learning rate; absent: the optimizer's default */
  lr?: number;
  schedule: string;
  /** warmup steps (rsqrt, cosine) */
  warmup?: number;
  steps: number;
  batch: number;
  evalEvery: number;
  seed: number;
  provider: (typeof TRAIN_PROVIDERS)[number];
  /** sequence tasks and text: the sequence length L */
  length?: number;
  /** sequence tasks: token ids below this */
  vocab?: number;
  /** the run directory; absent: a new folder under the host's data folder (runs/<time>-<model name>) */
  dir?: string;
  /** continue the run in `dir` from its latest checkpoint (to `steps` in all) */
  resume?: boolean;
}

export type TrainStartResponse = { ok: true; runId: string; dir: string } | { ok: false; error: ModelError };

export type TrainRunState = 'running' | 'stopping' | 'done' | 'failed' | 'stopped';

export interface TrainRunInfo { runId: string; dir: string; state: TrainRunState; task: string }

/** One line of RUN_DIR/metrics.jsonl, as written. */
export interface TrainMetricsLine {
  step: number;
  split: 'train' | 'eval';
  loss: number;
  accuracy?: number;
  lr: number;
  steps_per_s: number;
  time_s: number;
}

/** The loop's last progress report on the training split (`etaS` null while unknown). */
export interface TrainProgress {
  step: number;
  steps: number;
  loss: number;
  accuracy?: number;
  lr: number;
  stepsPerS: number;
  etaS: number | null;
}

export interface TrainStatusRequest {
  runId: string;
  /** the number of metrics lines the caller has: the answer holds the ones after */
  since: number;
}

export type TrainStatusResponse =
  | {
    ok: true;
    runId: string;
    dir: string;
    state: TrainRunState;
    /** what the task feeds, in a line */
    task: string;
    /** metrics lines from index `from` (normally the request's `since`; 0 when the file was rewritten: replace what you have) */
    from: number;
    metrics: TrainMetricsLine[];
    progress: TrainProgress | null;
    /** provider notes, resume notes */
    notes: string[];
    /** the failure's message (state 'failed') */
    error?: string;
    /** the steps of the run directory's complete checkpoints, oldest first */
    checkpoints: number[];
    /** when the run ended ('done' or 'stopped') */
    result?: { step: number; eval: { loss: number | null; accuracy?: number | null }; provider: string };
  }
  /** gone: the host has no such run (the engine restarted); its directory still holds the checkpoints */
  | { ok: false; reason: 'gone'; message: string };

export type TrainStopResponse = { ok: true; state: TrainRunState } | { ok: false; reason: 'gone'; message: string };

export interface ExportTrainedRequest {
  /** a run of this host (its directory), or a run directory on the host's disk */
  runId?: string;
  dir?: string;
  /** onnx: for inference (eval mode, trained weights); npz: the weights; trax: Trax Python and a weights loader */
  format: 'onnx' | 'npz' | 'trax';
  /** where to write (the host asks with a dialog when absent, in the desktop app) */
  path?: string;
  /** this checkpoint's weights (default: the latest) */
  checkpoint?: number;
}

export type ExportTrainedResponse = { ok: true; path: string; bytes: number; notes: string[] } | { ok: false; error: ModelError };

export interface HostApi {
  info(): Promise<{ version: string; providers: string[]; desktop: boolean }>;
  listExamples(): Promise<ExampleInfo[]>;
  readExample(name: string): Promise<{ text: string; name: string }>;
  /** `path` absent: the host asks (desktop file dialog) or the renderer supplies it */
  openFile(path?: string): Promise<{ path: string; text: string } | null>;
  saveFile(text: string, path?: string): Promise<{ path: string } | null>;
  recentFiles(): Promise<string[]>;
  /** autosave: the unsaved document, so a crash loses nothing */
  saveRecovery(text: string): Promise<void>;
  readRecovery(): Promise<string | null>;
  run(req: RunRequest): Promise<RunResponse>;
  /** a 2-D slice of a tensor of a run the host still keeps */
  tensorSlice(req: SliceRequest): Promise<SliceResponse>;
  exportModel(req: ExportRequest): Promise<ExportResponse>;
  /** starts training (one run at a time per host); validation errors answer `{ ok: false }` at once */
  trainStart(req: TrainRequest): Promise<TrainStartResponse>;
  /** a run's state, progress and new metrics lines (poll it) */
  trainStatus(req: TrainStatusRequest): Promise<TrainStatusResponse>;
  /** stops a run after it writes a checkpoint */
  trainStop(req: { runId: string }): Promise<TrainStopResponse>;
  /** the runs this host knows, oldest first (a reloaded page finds the one still training) */
  trainRuns(): Promise<TrainRunInfo[]>;
  /** a trained model out of a run directory */
  exportTrained(req: ExportTrainedRequest): Promise<ExportTrainedResponse>;
}

/** The names of the API's methods: the allow-list of channels and RPC methods. */
export const HOST_METHODS = [
  'info', 'listExamples', 'readExample', 'openFile', 'saveFile', 'recentFiles', 'saveRecovery', 'readRecovery', 'run', 'tensorSlice', 'exportModel',
  'trainStart', 'trainStatus', 'trainStop', 'trainRuns', 'exportTrained',
] as const satisfies readonly (keyof HostApi)[];

export type HostMethod = (typeof HOST_METHODS)[number];
