/**
 * The last run: its settings, its response and which tensor the tensor view
 * shows. A small zustand store of its own, so the canvas can read statistics
 * for its chips (`useRunResult`, `probeFor`) without importing the panels.
 *
 * Probes are keyed as the host returns them: `path` is a layer's location
 * (`Serial[2] > Residual[0]`, the same as the trace's paths and the
 * diagnostics'; '' = the model's output) and `index` the position among that
 * layer's outputs (0 = top of the stack after it).
 */
import { create } from 'zustand';
import { type ModelError, displayPath } from '../../../engine/core/errors';
import type { InputSource, ProbeSummary, RunResponse, TensorSummary } from '../../../engine/host/api';
import type { StrataDocument } from '../../../engine/document/schema';
import type { DocumentTrace } from '../../../engine/document/trace';
import { producerOf } from './traceIndex';

export type InputKind = InputSource['kind'];

export interface InputChoice {
  kind: InputKind;
  /** randint: values below this */
  vocab: number;
  /** file: a .npy or .json path on the host */
  path: string;
}

export interface RunSettings {
  seed: number;
  mode: 'train' | 'eval' | 'predict';
  provider: 'cpu' | 'webgpu' | 'cuda' | 'dml';
  /** per model input (index = stack position); missing entries take a default from the dtype */
  inputs: InputChoice[];
  /** sizes for the symbols of the input signature (B, L, …) */
  sizes: Record<string, number>;
}

export interface TensorRef { path: string; index: number }

export interface RunState {
  settings: RunSettings;
  running: boolean;
  /** the last response (ok or not); null before the first run */
  response: RunResponse | null;
  /** the document the response describes (the chips' statistics are dropped once it changes) */
  forDoc: StrataDocument | null;
  /** the document changed since the run */
  stale: boolean;
  /** a failed run (the host's error, or the transport's) */
  error: ModelError | null;
  /** the tensor the tensor view shows: a probe (path, index) or a model output (path null) */
  open: TensorRef | { path: null; index: number } | null;
}

export const useRunState = create<RunState>()(() => ({
  settings: { seed: 0, mode: 'eval', provider: 'cpu', inputs: [], sizes: {} },
  running: false,
  response: null,
  forDoc: null,
  stale: false,
  error: null,
  open: null,
}));

export function setRunSettings(patch: Partial<RunSettings>): void {
  useRunState.setState((s) => ({ settings: { ...s.settings, ...patch } }));
}

/** What the canvas reads: the probes of a run that still describes the document (empty otherwise). */
export interface RunResultView {
  ok: boolean;
  running: boolean;
  stale: boolean;
  probes: ProbeSummary[];
  outputs: TensorSummary[];
  error: ModelError | null;
}

const EMPTY: RunResultView = { ok: false, running: false, stale: false, probes: [], outputs: [], error: null };
let lastView: RunResultView = EMPTY;
let lastKey: unknown[] = [];

function view(s: RunState): RunResultView {
  const key = [s.response, s.running, s.stale, s.error];
  if (key.every((k, i) => k === lastKey[i])) return lastView;
  lastKey = key;
  const r = s.response;
  const fresh = !!r && r.ok && !s.stale;
  lastView = {
    ok: !!r && r.ok,
    running: s.running,
    stale: s.stale,
    probes: fresh && r.ok ? r.probes : [],
    outputs: fresh && r.ok ? r.outputs : [],
    error: s.error,
  };
  return lastView;
}

/** React hook: the current run's probes and error (re-renders when a run finishes or the document changes). */
export function useRunResult(): RunResultView {
  return useRunState(view);
}

/**
 * The current (non-stale) run's statistics for output `index` of the layer at
 * `path`, if probed. With the trace, `index` may also be any stack position on
 * the edge after that layer (an item that passed by it is found at the layer
 * that produced it).
 */
export function probeFor(path: string, index: number, trace?: DocumentTrace): ProbeSummary | undefined {
  const v = view(useRunState.getState());
  const direct = v.probes.find((p) => p.path === path && p.index === index);
  if (direct || !trace) return direct;
  const from = producerOf(trace, path, index);
  return from && 'path' in from ? v.probes.find((p) => p.path === from.path && p.index === from.index) : undefined;
}

/** Opens the tensor view on a probe (what a click on a chip does, through the 'strata:open-tensor' event). */
export function openTensor(path: string, index: number): void {
  useRunState.setState({ open: { path, index } });
}

export function openOutput(index: number): void {
  useRunState.setState({ open: { path: null, index } });
}

/** The tensor the tensor view shows, if the run has it. */
export function openTensorSummary(s: Pick<RunState, 'open' | 'response'>, trace?: DocumentTrace): (TensorSummary & { label: string }) | null {
  const o = s.open;
  const r = s.response;
  if (!o || !r || !r.ok) return null;
  if (o.path === null) {
    const t = r.outputs[o.index];
    return t ? { ...t, label: `model output ${o.index}` } : null;
  }
  let p = r.probes.find((x) => x.path === o.path && x.index === o.index);
  if (!p && trace) {
    // a stack item that passed by the layer before the edge: the probe of the layer that produced it
    const from = producerOf(trace, o.path, o.index);
    if (from && 'path' in from) p = r.probes.find((x) => x.path === from.path && x.index === from.index);
  }
  return p ? { ...p, label: `${p.path ? `after ${displayPath(p.path, p.kind)}` : 'model output'}${p.index ? ` #${p.index}` : ''}` } : null;
}
