/**
 * The Train panel's state: its settings, the run it follows (started here,
 * trained by the host: the worker thread of `npm run web`, the desktop app's
 * engine process) and what polling the host has gathered — metrics lines,
 * progress, checkpoints. A small zustand store of its own; the pure helpers
 * (request, metrics merge, chart columns, the progress line) are tested in
 * trainState.test.ts.
 */
import { create } from 'zustand';
import type { ModelError } from '../../../engine/core/errors';
import { type StrataDocument, serializeDocument } from '../../../engine/document/schema';
import type {
  ExportTrainedRequest, HostApi, TRAIN_PROVIDERS, TrainMetricsLine, TrainProgress, TrainRequest, TrainRunState, TrainStatusResponse,
} from '../../../engine/host/api';

/** The task choices: the built-in tasks, and text or user data from a file on the host. */
export const TASK_CHOICES = [
  { value: 'mnist', label: 'mnist (digits)' },
  { value: 'copy', label: 'copy' },
  { value: 'reverse', label: 'reverse' },
  { value: 'duplicate', label: 'duplicate (0w0w)' },
  { value: 'addition', label: 'addition' },
  { value: 'text', label: 'text: a UTF-8 file' },
  { value: 'data', label: 'data: .npz/.npy/CSV/JSONL' },
] as const;
export type TaskChoice = (typeof TASK_CHOICES)[number]['value'];

const SEQUENCE_TASKS: readonly TaskChoice[] = ['copy', 'reverse', 'duplicate', 'addition'];

export interface TrainSettings {
  task: TaskChoice;
  /** text/data: the file's path on the host */
  file: string;
  /** '' = the task's default loss */
  loss: string;
  optimizer: string;
  /** '' = the optimizer's default */
  lr: string;
  schedule: string;
  warmup: number;
  steps: number;
  batch: number;
  evalEvery: number;
  seed: number;
  provider: (typeof TRAIN_PROVIDERS)[number];
  /** sequence tasks and text: L ('' = the task's default) */
  length: string;
  /** sequence tasks: the vocabulary ('' = the task's default) */
  vocab: string;
}

export const DEFAULT_SETTINGS: TrainSettings = {
  task: 'mnist', file: '', loss: '', optimizer: 'adam', lr: '', schedule: 'constant', warmup: 0,
  steps: 1000, batch: 32, evalEvery: 100, seed: 0, provider: 'cpu', length: '', vocab: '',
};

/** Which optional fields a task takes. */
export function taskFields(task: TaskChoice): { file: boolean; length: boolean; vocab: boolean } {
  const seq = SEQUENCE_TASKS.includes(task);
  return { file: task === 'text' || task === 'data', length: seq || task === 'text' || task === 'data', vocab: seq };
}

/** The settings as a host request, or the first field that is not usable (named). */
export function buildTrainRequest(doc: StrataDocument, s: TrainSettings): { ok: true; req: TrainRequest } | { ok: false; message: string } {
  const f = taskFields(s.task);
  if (f.file && !s.file.trim()) return { ok: false, message: `the ${s.task} task needs a file: give its path on the host` };
  const positive = (name: string, v: number, min = 1): string | null => (Number.isInteger(v) && v >= min ? null : `${name} must be a whole number ≥ ${min}, got ${Number.isFinite(v) ? v : 'nothing'}`);
  const bad = positive('steps', s.steps) ?? positive('batch', s.batch) ?? positive('eval every', s.evalEvery) ?? positive('seed', s.seed, 0)
    ?? (s.schedule === 'constant' ? null : positive('warmup', s.warmup, 0));
  if (bad) return { ok: false, message: bad };
  const req: TrainRequest = {
    // the run trains this copy: edits made while it trains do not reach it
    doc: JSON.parse(serializeDocument(doc)) as unknown,
    task: f.file ? `${s.task}:${s.file.trim()}` : s.task,
    optimizer: s.optimizer, schedule: s.schedule, steps: s.steps, batch: s.batch, evalEvery: s.evalEvery, seed: s.seed, provider: s.provider,
  };
  if (s.loss) req.loss = s.loss;
  if (s.lr.trim()) {
    const lr = Number(s.lr);
    if (!Number.isFinite(lr) || lr < 0) return { ok: false, message: `learning rate must be a number ≥ 0, got '${s.lr}'` };
    req.lr = lr;
  }
  if (s.schedule !== 'constant') req.warmup = s.warmup;
  for (const [k, on] of [['length', f.length], ['vocab', f.vocab]] as const) {
    const text = s[k].trim();
    if (!on || !text) continue;
    const n = Number(text);
    const min = k === 'vocab' ? 2 : 1;
    if (!Number.isInteger(n) || n < min) return { ok: false, message: `${k} must be a whole number ≥ ${min}, got '${text}'` };
    req[k] = n;
  }
  return { ok: true, req };
}

/** Lines the host sent from index `from` added to those we have (from < what we have: the file was rewritten). */
export function mergeMetrics(have: readonly TrainMetricsLine[], from: number, lines: readonly TrainMetricsLine[]): TrainMetricsLine[] {
  if (!lines.length && from >= have.length) return have as TrainMetricsLine[];
  return [...have.slice(0, Math.min(from, have.length)), ...lines];
}

/** uPlot's columns: the steps (train and eval together, ascending) and one series per split, null where it has no point. */
export type ChartColumns = [number[], (number | null)[], (number | null)[]];

export function chartColumns(metrics: readonly TrainMetricsLine[], field: 'loss' | 'accuracy'): ChartColumns {
  const steps = [...new Set(metrics.map((m) => m.step))].sort((a, b) => a - b);
  const at = new Map(steps.map((s, i) => [s, i]));
  const train: (number | null)[] = steps.map(() => null);
  const evals: (number | null)[] = steps.map(() => null);
  for (const m of metrics) {
    const v = m[field];
    // JSON carries a NaN loss as null: it is a gap, not a zero
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    (m.split === 'eval' ? evals : train)[at.get(m.step)!] = field === 'accuracy' ? v * 100 : v;
  }
  return [steps, train, evals];
}

export function hasAccuracy(metrics: readonly TrainMetricsLine[]): boolean {
  return metrics.some((m) => typeof m.accuracy === 'number');
}

/** `1:05`, `1:02:05`; '?' when unknown. */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '?';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(sec).padStart(2, '0')}`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** `step 20/30 · loss 2.1396 · acc 28.1% · eval loss 2.0485 acc 42.3% · 27.8 steps/s · ETA 0:01` */
export function progressText(p: TrainProgress | null, metrics: readonly TrainMetricsLine[], ended: boolean): string {
  const lastEval = [...metrics].reverse().find((m) => m.split === 'eval');
  const parts: string[] = [];
  if (p) {
    parts.push(`step ${p.step}/${p.steps}`, `loss ${p.loss.toFixed(4)}`);
    if (p.accuracy !== undefined && p.accuracy !== null) parts.push(`acc ${pct(p.accuracy)}`);
  }
  if (lastEval) {
    const loss = typeof lastEval.loss === 'number' ? lastEval.loss.toFixed(4) : '?';
    parts.push(`eval loss ${loss}${typeof lastEval.accuracy === 'number' ? ` acc ${pct(lastEval.accuracy)}` : ''}`);
  }
  if (p) {
    parts.push(`${p.stepsPerS.toFixed(1)} steps/s`);
    if (!ended) parts.push(`ETA ${fmtDuration(p.etaS)}`);
  }
  return parts.join(' · ');
}

// ---------------------------------------------------------------- the store

export type PanelRunState = TrainRunState | 'starting';

export interface TrainState {
  settings: TrainSettings;
  /** the run followed (null before the first Start) */
  runId: string | null;
  dir: string | null;
  state: PanelRunState | null;
  task: string;
  metrics: TrainMetricsLine[];
  progress: TrainProgress | null;
  notes: string[];
  checkpoints: number[];
  result: Extract<TrainStatusResponse, { ok: true }>['result'] | null;
  /** a refused start, a failed run, a lost run, a settings mistake */
  error: ModelError | null;
  /** the document and request the run trains (Resume continues exactly these) */
  startedDoc: StrataDocument | null;
  startedReq: TrainRequest | null;
  /** the last export's outcome */
  exported: { ok: boolean; text: string } | null;
  exporting: boolean;
}

export const useTrainState = create<TrainState>()(() => ({
  settings: DEFAULT_SETTINGS,
  runId: null, dir: null, state: null, task: '', metrics: [], progress: null, notes: [], checkpoints: [], result: null, error: null,
  startedDoc: null, startedReq: null, exported: null, exporting: false,
}));

export function setTrainSettings(patch: Partial<TrainSettings>): void {
  useTrainState.setState((s) => ({ settings: { ...s.settings, ...patch } }));
}

export const isActive = (s: PanelRunState | null): boolean => s === 'starting' || s === 'running' || s === 'stopping';

const problem = (message: string, code: ModelError['code'] = 'bad_input'): ModelError => ({ code, path: '', kind: '', message });

/** How often the panel asks the host (the host answers between training steps). */
export const POLL_MS = 400;

let polling: ReturnType<typeof setTimeout> | undefined;

/** One poll: merges what the host reports into the state; false once the run has ended (or is lost). */
export async function pollOnce(host: HostApi): Promise<boolean> {
  const s = useTrainState.getState();
  if (!s.runId) return false;
  const runId = s.runId;
  let r: TrainStatusResponse;
  try {
    r = await host.trainStatus({ runId, since: s.metrics.length });
  } catch (e) {
    // the transport dropped (the socket reconnects by itself): keep asking
    useTrainState.setState({ notes: [...s.notes.filter((n) => !n.startsWith('host: ')), `host: ${(e as Error).message}`] });
    return true;
  }
  if (useTrainState.getState().runId !== runId) return false;
  if (!r.ok) {
    useTrainState.setState({ state: 'failed', error: problem(`${r.message}${s.dir ? ` (${s.dir})` : ''}`, 'runtime') });
    return false;
  }
  const now = useTrainState.getState();
  useTrainState.setState({
    state: r.state, task: r.task, dir: r.dir,
    metrics: mergeMetrics(now.metrics, r.from, r.metrics),
    progress: r.progress ?? now.progress,
    notes: r.notes, checkpoints: r.checkpoints, result: r.result ?? null,
    error: r.state === 'failed' ? problem(r.error ?? 'the run failed', 'runtime') : null,
  });
  return isActive(r.state);
}

/** Polls every POLL_MS until the run ends (one chain at a time). */
export function startPolling(host: HostApi): void {
  clearTimeout(polling);
  const tick = async (): Promise<void> => {
    if (await pollOnce(host)) polling = setTimeout(() => void tick(), POLL_MS);
  };
  polling = setTimeout(() => void tick(), POLL_MS);
}

export function stopPolling(): void {
  clearTimeout(polling);
}

/**
 * A page loaded (or reloaded) while the host trains finds that run and
 * follows it: its metrics so far, progress, checkpoints, Stop.
 */
export async function followHostRun(host: HostApi): Promise<void> {
  if (useTrainState.getState().runId) return;
  let runs: Awaited<ReturnType<HostApi['trainRuns']>>;
  try {
    runs = await host.trainRuns();
  } catch {
    return;
  }
  const live = [...runs].reverse().find((r) => isActive(r.state));
  if (!live || useTrainState.getState().runId) return;
  useTrainState.setState({ runId: live.runId, dir: live.dir, state: live.state, task: live.task, metrics: [], progress: null, error: null, result: null });
  startPolling(host);
}

/** Start (or, with `resume`, continue the last run's directory to the Steps setting). */
export async function startTraining(doc: StrataDocument, host: HostApi, resume = false): Promise<void> {
  const s = useTrainState.getState();
  if (isActive(s.state)) return;
  let req: TrainRequest;
  if (resume) {
    if (!s.startedReq || !s.dir || !s.startedDoc) return;
    const reached = Math.max(s.result?.step ?? 0, s.checkpoints.at(-1) ?? 0);
    if (s.settings.steps <= reached) {
      useTrainState.setState({ error: problem(`the run is at step ${reached}: set Steps above ${reached} to continue it`) });
      return;
    }
    // the run's own model and settings (a resume with others is refused by the engine); more steps, any provider
    req = { ...s.startedReq, steps: s.settings.steps, provider: s.settings.provider, dir: s.dir, resume: true };
  } else {
    const built = buildTrainRequest(doc, s.settings);
    if (!built.ok) {
      useTrainState.setState({ error: problem(built.message) });
      return;
    }
    req = built.req;
  }
  const startedDoc = resume ? s.startedDoc : doc;
  // the last run stays on show until the host accepts the new one (a refused start leaves it as it was)
  useTrainState.setState({ state: 'starting', error: null, exported: null });
  try {
    const r = await host.trainStart(req);
    if (!r.ok) {
      useTrainState.setState({ state: s.state, error: r.error });
      return;
    }
    useTrainState.setState({
      runId: r.runId, dir: r.dir, state: 'running', startedDoc, startedReq: { ...req, dir: r.dir, resume: undefined },
      // a resumed run's metrics file starts with the earlier lines: the host sends what is new after them
      ...(resume ? { result: null } : { metrics: [], progress: null, notes: [], checkpoints: [], result: null, task: '' }),
    });
    startPolling(host);
  } catch (e) {
    useTrainState.setState({ state: s.state, error: problem(`the host could not start training: ${(e as Error).message}`, 'runtime') });
  }
}

export async function stopTraining(host: HostApi): Promise<void> {
  const { runId, state } = useTrainState.getState();
  if (!runId || state !== 'running') return;
  try {
    const r = await host.trainStop({ runId });
    if (r.ok) useTrainState.setState({ state: r.state });
    else useTrainState.setState({ state: 'failed', error: problem(r.message, 'runtime') });
  } catch (e) {
    useTrainState.setState({ error: problem(`the host could not stop the run: ${(e as Error).message}`, 'runtime') });
  }
}

export const EXPORT_FORMATS: { value: ExportTrainedRequest['format']; label: string; ext: string }[] = [
  { value: 'onnx', label: 'ONNX (.onnx)', ext: '.onnx' },
  { value: 'npz', label: 'Weights (.npz)', ext: '.npz' },
  { value: 'trax', label: 'Trax Python (.py)', ext: '.py' },
];

/** Exports the followed run's model; `path` absent: the host asks (desktop dialog). */
export async function exportTrainedModel(host: HostApi, format: ExportTrainedRequest['format'], path: string | undefined, checkpoint?: number): Promise<void> {
  const { dir } = useTrainState.getState();
  if (!dir) return;
  useTrainState.setState({ exporting: true, exported: null });
  try {
    const r = await host.exportTrained({ dir, format, path, ...(checkpoint === undefined ? {} : { checkpoint }) });
    useTrainState.setState({
      exported: r.ok
        ? { ok: true, text: `Exported ${r.path} (${r.bytes.toLocaleString('en-US')} bytes)${r.notes.length ? `; ${r.notes.join('; ')}` : ''}` }
        : { ok: false, text: `Export failed: ${r.error.message}` },
    });
  } catch (e) {
    useTrainState.setState({ exported: { ok: false, text: `Export failed: ${(e as Error).message}` } });
  } finally {
    useTrainState.setState({ exporting: false });
  }
}
