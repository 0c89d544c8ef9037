/**
 * The tensor view's chosen 2-D slices: the host keeps the tensors of its last
 * few runs (within a memory cap) and cuts a slice on request, so a tensor
 * never travels to the renderer whole. A tensor over the cap is not kept;
 * its run keeps what recomputes it (the document, the inputs, the seed: the
 * weights come from the seed), and a slice request re-runs the model probing
 * only that edge.
 */
import { randomUUID } from 'node:crypto';
import type { TensorValue } from '../core/onnx';
import type { ShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { bfloat16Value, float16Value } from '../weights';
import type { SliceRequest, SliceResponse, TensorSlice } from './api';

export const SLICE_MAX = 128;
export const SLICE_MAX_LIMIT = 256;
/** What a host keeps of its runs' tensors, all runs together. */
export const KEEP_BYTES = 256 * 1024 * 1024;
export const KEEP_RUNS = 4;

// ---------------------------------------------------------------- values

/** A tensor's values as numbers (int64 through Number; float16/bfloat16 from their bit patterns). */
export function numbersOf(t: TensorValue): ArrayLike<number> {
  if (t.data instanceof BigInt64Array) return Array.from(t.data, Number);
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return Float32Array.from(t.data as Uint16Array, t.dtype === 'bfloat16' ? bfloat16Value : float16Value);
  return t.data as ArrayLike<number>;
}

export function tensorBytes(t: TensorValue): number {
  return (t.data as { byteLength?: number }).byteLength ?? t.data.length * 8;
}

// ---------------------------------------------------------------- the slice

export class SliceError extends Error {}

/** Checks a request's axes and positions against a shape; throws SliceError naming the field. */
export function checkSlice(shape: readonly number[], req: Pick<SliceRequest, 'rows' | 'cols' | 'at'>): { rows: number | null; cols: number | null } {
  const rank = shape.length;
  const axis = (v: number | undefined, name: string): number | null => {
    if (v === undefined) return null;
    if (!Number.isInteger(v) || v < 0 || v >= rank) throw new SliceError(`${name}: axis ${v} is not an axis of a rank-${rank} tensor [${shape.join(', ')}]`);
    return v;
  };
  const rows = axis(req.rows, 'rows');
  const cols = axis(req.cols, 'cols');
  if (rank >= 2 && (rows === null || cols === null)) throw new SliceError(`a rank-${rank} tensor needs both a rows axis and a cols axis`);
  if (rank === 1 && (rows !== null || cols !== 0)) throw new SliceError('a rank-1 tensor is drawn as one row: cols is axis 0, rows is absent');
  if (rank === 0 && (rows !== null || cols !== null)) throw new SliceError('a scalar has no axes to draw');
  if (rows !== null && rows === cols) throw new SliceError(`rows and cols are both axis ${rows}: choose two different axes`);
  if (req.at.length !== rank) throw new SliceError(`at: give one position per axis (${rank}), got ${req.at.length}`);
  req.at.forEach((x, a) => {
    if (a === rows || a === cols) return;
    if (!Number.isInteger(x) || x < 0 || x >= shape[a]) throw new SliceError(`at[${a}]: ${x} is outside axis ${a} (size ${shape[a]}: 0 to ${shape[a] - 1})`);
  });
  return { rows, cols };
}

/**
 * The slice of `values` (row-major, `shape`) along axes `rows` × `cols` at the
 * positions `at` of the other axes, in blocks of ⌈n / max⌉ per axis, each
 * cell the block's mean to 4 significant digits (null when the block holds a NaN or an infinity).
 */
export function sliceValues(values: ArrayLike<number>, shape: readonly number[], req: Pick<SliceRequest, 'rows' | 'cols' | 'at' | 'max'>): Omit<TensorSlice, 'dtype' | 'source'> {
  const { rows, cols } = checkSlice(shape, req);
  const max = Math.max(1, Math.min(SLICE_MAX_LIMIT, Math.floor(req.max ?? SLICE_MAX)));
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) { strides[a] = s; s *= shape[a]; }
  let base = 0;
  shape.forEach((_, a) => { if (a !== rows && a !== cols) base += req.at[a] * strides[a]; });
  const R = rows === null ? 1 : shape[rows];
  const C = cols === null ? 1 : shape[cols];
  const sr = rows === null ? 0 : strides[rows];
  const sc = cols === null ? 0 : strides[cols];
  const rowStride = Math.max(1, Math.ceil(R / max));
  const colStride = Math.max(1, Math.ceil(C / max));
  const outR = Math.ceil(R / rowStride);
  const outC = Math.ceil(C / colStride);
  const data = new Array<number | null>(outR * outC);
  let lo = Infinity, hi = -Infinity;
  for (let r = 0; r < outR; r++) {
    const r1 = Math.min(R, (r + 1) * rowStride);
    for (let c = 0; c < outC; c++) {
      const c1 = Math.min(C, (c + 1) * colStride);
      let sum = 0, n = 0, bad = false;
      for (let i = r * rowStride; i < r1 && !bad; i++) {
        const off = base + i * sr;
        for (let j = c * colStride; j < c1; j++) {
          const x = values[off + j * sc];
          if (!Number.isFinite(x)) { bad = true; break; }
          sum += x;
          n++;
        }
      }
      const v = bad || n === 0 ? null : Number((sum / n).toPrecision(4));
      data[r * outC + c] = v;
      if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
  }
  return {
    shape: [...shape], rowAxis: rows, colAxis: cols, at: [...req.at], rows: outR, cols: outC, rowStride, colStride, data,
    min: lo <= hi ? lo : null, max: lo <= hi ? hi : null,
  };
}

// ---------------------------------------------------------------- the runs kept

/** What re-runs a model to recompute a tensor that was not kept. */
export interface RunSource {
  root: DocNode;
  declared: readonly ShapeDtype[];
  inputs: TensorValue[];
  mode: 'train' | 'eval' | 'predict';
  seed: number;
  provider: 'cpu' | 'webgpu' | 'cuda' | 'dml';
}

/** One tensor of a run: a probe (path, index) or model output `index` (path null). */
export interface TensorKey { path: string | null; index: number }

/** A run's tensor as the keeper takes it: its key, its value (absent: recomputed on request), its signature. */
export type KeptTensor = [TensorKey, TensorValue | undefined, { dtype: string; shape: number[] }];

const keyOf = (k: TensorKey): string => (k.path === null ? `out#${k.index}` : `probe:${k.path}#${k.index}`);

interface KeptRun {
  id: string;
  source: RunSource;
  /** every tensor the run has (kept or not), by key: its dtype and shape */
  known: Map<string, { dtype: string; shape: number[] }>;
  kept: Map<string, TensorValue>;
  /** distinct tensor objects kept (probes of one value share one) */
  held: Set<TensorValue>;
  bytes: number;
}

/** Recomputes one tensor of a run (a re-run of the model probing it). */
export type Recompute = (source: RunSource, key: TensorKey) => Promise<TensorValue | undefined>;

export class RunKeeper {
  private readonly runs = new Map<string, KeptRun>();

  constructor(readonly capBytes = KEEP_BYTES, readonly maxRuns = KEEP_RUNS) {}

  /** Bytes held, all runs together. */
  bytes(): number {
    let n = 0;
    for (const r of this.runs.values()) n += r.bytes;
    return n;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /**
   * Keeps a new run (evicting the oldest runs past maxRuns or the memory cap):
   * its tensors in order while they fit; the others are recomputed on request.
   */
  add(source: RunSource, tensors: readonly KeptTensor[]): string {
    const run: KeptRun = { id: randomUUID(), source, known: new Map(), kept: new Map(), held: new Set(), bytes: 0 };
    run.bytes = source.inputs.reduce((a, t) => a + tensorBytes(t), 0);
    while (this.runs.size >= this.maxRuns) this.evictOldest();
    // the new run's tensors come first: older runs go to make room
    let room = this.capBytes - run.bytes;
    for (const [key, t, sig] of tensors) {
      const k = keyOf(key);
      run.known.set(k, sig);
      if (!t) continue;
      if (run.held.has(t)) { run.kept.set(k, t); continue; }
      const b = tensorBytes(t);
      if (b > room) continue;
      room -= b;
      run.held.add(t);
      run.kept.set(k, t);
      run.bytes += b;
    }
    while (this.runs.size > 0 && this.bytes() + run.bytes > this.capBytes) this.evictOldest();
    this.runs.set(run.id, run);
    return run.id;
  }

  private evictOldest(): void {
    const first = this.runs.keys().next();
    if (!first.done) this.runs.delete(first.value);
  }

  /** The slice a request asks for, from a kept tensor or a recomputed one. */
  async slice(req: SliceRequest, recompute: Recompute): Promise<SliceResponse> {
    const run = this.runs.get(req.runId);
    if (!run) return { ok: false, reason: 'gone', message: 'the host no longer has this run (a newer run replaced it, or the engine restarted): run the model again' };
    const key: TensorKey = { path: req.path, index: req.index };
    const k = keyOf(key);
    const sig = run.known.get(k);
    const what = req.path === null ? `model output ${req.index}` : `the edge after '${req.path || 'the model'}' #${req.index}`;
    if (!sig) return { ok: false, reason: 'not_probed', message: `the run did not probe ${what}` };
    try {
      checkSlice(sig.shape, req);
    } catch (e) {
      if (e instanceof SliceError) return { ok: false, reason: 'bad_request', message: `${what}: ${e.message}` };
      throw e;
    }
    let t = run.kept.get(k);
    let source: TensorSlice['source'] = 'kept';
    if (!t) {
      t = await recompute(run.source, key);
      if (!t) return { ok: false, reason: 'not_probed', message: `${what} could not be recomputed` };
      source = 'recomputed';
      // kept for the next slice of it while it fits (a slider moved along an axis asks again at once)
      const b = tensorBytes(t);
      if (this.runs.has(run.id) && this.bytes() + b <= this.capBytes) { run.kept.set(k, t); run.held.add(t); run.bytes += b; }
    }
    return { ok: true, slice: { dtype: sig.dtype, ...sliceValues(numbersOf(t), sig.shape, req), source } };
  }
}
