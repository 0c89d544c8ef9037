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

/** The tensor the tensor view shows, if the run has it; `ref` names it in the run (the probe it resolved to). */
export function openTensorSummary(s: Pick<RunState, 'open' | 'response'>, trace?: DocumentTrace): (TensorSummary & { label: string; ref: { path: string | null; index: number } }) | null {
  const o = s.open;
  const r = s.response;
  if (!o || !r || !r.ok) return null;
  if (o.path === null) {
    const t = r.outputs[o.index];
    return t ? { ...t, label: `model output ${o.index}`, ref: { path: null, index: o.index } } : null;
  }
  let p = r.probes.find((x) => x.path === o.path && x.index === o.index);
  if (!p && trace) {
    // a stack item that passed by the layer before the edge: the probe of the layer that produced it
    const from = producerOf(trace, o.path, o.index);
    if (from && 'path' in from) p = r.probes.find((x) => x.path === from.path && x.index === from.index);
  }
  return p ? { ...p, label: `${p.path ? `after ${displayPath(p.path, p.kind)}` : 'model output'}${p.index ? ` #${p.index}` : ''}`, ref: { path: p.path, index: p.index } } : null;
}

// ---------------------------------------------------------------- statistics on the canvas's edges

/** What an edge shows for one stack item after a run. */
export interface EdgeStat {
  /** the chip's hover text: all the statistics */
  tip: string;
  /** the line under the chip: `μ 0.0123 σ 0.98` */
  line: string;
  /** `NaN 3 · Inf 1` when there are any (a red badge), else '' */
  bad: string;
}

/** The canvas's lookup: the statistics of item `index` on the edge after the layer at `path` (the probe path). */
export interface ProbeStats {
  at(path: string, index: number): EdgeStat | undefined;
}

/** A statistic in at most ~7 characters: 3 significant digits, exponent form when tiny or huge. */
export function shortStat(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(1).replace('e+', 'e') : String(Number(v.toPrecision(3)));
}

export function edgeStat(p: Pick<ProbeSummary, 'dtype' | 'shape' | 'stats'>): EdgeStat {
  const s = p.stats;
  const bad = [s.nan ? `NaN ${s.nan.toLocaleString('en-US')}` : '', s.inf ? `Inf ${s.inf.toLocaleString('en-US')}` : ''].filter(Boolean).join(' · ');
  const tip = `${p.dtype}[${p.shape.join(',')}] · mean ${shortStat(s.mean)} · std ${shortStat(s.std)} · min ${shortStat(s.min)} · max ${shortStat(s.max)}${bad ? ` · ${bad}` : ''} (click for the tensor view)`;
  return { tip, line: `μ ${shortStat(s.mean)} σ ${shortStat(s.std)}`, bad };
}

/**
 * The lookup for a run's probes (undefined without any: the canvas then draws
 * no statistics). With the trace, an item that passed by the layer before
 * the edge is found at the layer that produced it. Each item is formatted
 * once, when first drawn.
 */
export function edgeStats(probes: readonly ProbeSummary[], trace?: DocumentTrace): ProbeStats | undefined {
  if (!probes.length) return undefined;
  const byKey = new Map<string, ProbeSummary>();
  for (const p of probes) byKey.set(`${p.path}#${p.index}`, p);
  const memo = new Map<string, EdgeStat | null>();
  return {
    at(path, index) {
      const k = `${path}#${index}`;
      let hit = memo.get(k);
      if (hit === undefined) {
        let p = byKey.get(k);
        if (!p && trace) {
          const from = producerOf(trace, path, index);
          if (from && 'path' in from) p = byKey.get(`${from.path}#${from.index}`);
        }
        hit = p ? edgeStat(p) : null;
        memo.set(k, hit);
      }
      return hit ?? undefined;
    },
  };
}

// ---------------------------------------------------------------- the tensor view's slice

/** Which 2-D slice the heatmap shows: two axes, and a position along every other one. */
export interface SliceSelection {
  rows: number | null;
  cols: number | null;
  at: number[];
}

/** The run's own heatmap: the last two axes at position 0 of the others. */
export function defaultSelection(shape: readonly number[]): SliceSelection {
  const r = shape.length;
  return { rows: r >= 2 ? r - 2 : null, cols: r >= 1 ? r - 1 : null, at: shape.map(() => 0) };
}

export function sameSelection(a: SliceSelection, b: SliceSelection): boolean {
  return a.rows === b.rows && a.cols === b.cols && a.at.length === b.at.length
    && a.at.every((x, i) => i === a.rows || i === a.cols || x === b.at[i]);
}

/** Sets the rows or cols axis; choosing the other one's axis swaps them. */
export function chooseAxis(sel: SliceSelection, which: 'rows' | 'cols', axis: number): SliceSelection {
  const other = which === 'rows' ? 'cols' : 'rows';
  const next = { ...sel, [which]: axis };
  if (sel[other] === axis) next[other] = sel[which];
  return next;
}

/** A position along an axis, clamped to it. */
export function choosePosition(sel: SliceSelection, shape: readonly number[], axis: number, at: number): SliceSelection {
  const next = [...sel.at];
  next[axis] = Math.max(0, Math.min(shape[axis] - 1, Math.floor(Number.isFinite(at) ? at : 0)));
  return { ...sel, at: next };
}

/** `x[1, :, 3, :]` style: the positions, ':' for the axes drawn. */
export function selectionLabel(sel: SliceSelection): string {
  return `[${sel.at.map((x, a) => (a === sel.rows || a === sel.cols ? ':' : String(x))).join(', ')}]`;
}
