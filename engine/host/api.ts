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
  | { ok: true; provider: string; notes: string[]; outputs: TensorSummary[]; probes: ProbeSummary[]; ms: number }
  | { ok: false; error: ModelError };

export interface ExportRequest {
  doc: unknown;
  /** where to write (the host asks with a dialog when absent, in the desktop app) */
  path?: string;
  format: 'onnx' | 'python' | 'weights';
  seed: number;
  inlineFunctions?: boolean;
}

export type ExportResponse = { ok: true; path: string; bytes: number } | { ok: false; error: ModelError };

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
  exportModel(req: ExportRequest): Promise<ExportResponse>;
}

/** The names of the API's methods: the allow-list of channels and RPC methods. */
export const HOST_METHODS = [
  'info', 'listExamples', 'readExample', 'openFile', 'saveFile', 'recentFiles', 'saveRecovery', 'readRecovery', 'run', 'exportModel',
] as const satisfies readonly (keyof HostApi)[];

export type HostMethod = (typeof HOST_METHODS)[number];
