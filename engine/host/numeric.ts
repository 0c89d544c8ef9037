/**
 * The host's numeric side: runs a document on onnxruntime and exports it.
 * Only summaries leave this module (statistics, a histogram, a ≤64×64
 * heatmap per tensor, and on request a ≤128×128 slice of one tensor):
 * whole tensors stay in the host process, so a run of a large model sends
 * the renderer kilobytes, not the activations. The last runs' tensors are
 * kept (within a memory cap, slices.ts) for the tensor view's slices.
 *
 * onnxruntime-node's `session.run` blocks the JavaScript thread it runs on,
 * so the transports run this module off their event loop (a worker thread in
 * `npm run web`, a utility process in the desktop app).
 */
import { readFileSync } from 'node:fs';
import { listSupportedBackends } from 'onnxruntime-node';
import type { TensorValue } from '../core/onnx';
import type { ModelError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype } from '../core/shape';
import { isSymbolName } from '../core/dim';
import { TensorJsonError, tensorsFromJsonText } from '../core/tensors-json';
import { DocumentError, type StrataDocument, documentFromJson } from '../document/schema';
import { traceDocument } from '../document/trace';
import { walkNodes } from '../document/schema';
import { LowerError, lowerDocument } from '../onnx/lower';
import { modelChunks } from '../onnx/write';
import { documentToCode } from '../tracecode/print';
import { InitializerError, RandomStream, WeightsFileError, initialValue, readNpy, writeNpz } from '../weights';
import { RunError, runModel } from '../runtime/run';
import { PROVIDERS, ProviderError } from '../runtime/session';
import type { NumericMethod } from './rpc';
import type { ExportRequest, ExportResponse, HostApi, InputSource, ProbeSummary, RunRequest, RunResponse, SliceRequest, SliceResponse, TensorSummary } from './api';
import { writeFileAtomic } from './files';
import { KEEP_BYTES, KEEP_RUNS, type KeptTensor, type Recompute, RunKeeper, type TensorKey, numbersOf } from './slices';
import { type TrainHost, createTrainHost } from './training';
import { version } from './version';

export const HISTOGRAM_BINS = 30;
export const HEATMAP_MAX = 64;

/** Sizes tried for a symbolic length (after the batch axis) until the model traces without errors. */
const LENGTH_CANDIDATES = [16, 32, 64, 128, 256, 512, 1024];
/** A symbolic leading (batch) axis. */
const BATCH_SIZE = 2;

export interface NumericHost extends TrainHost {
  providers(): string[];
  run(req: RunRequest): Promise<RunResponse>;
  tensorSlice(req: SliceRequest): Promise<SliceResponse>;
  exportModel(req: ExportRequest): Promise<ExportResponse>;
}

export interface NumericHostOptions {
  /** bytes of run tensors kept for slices, all runs together (over it: recomputed on request) */
  keepBytes?: number;
  /** runs kept for slices */
  keepRuns?: number;
}

function problem(code: ModelError['code'], message: string): { ok: false; error: ModelError } {
  return { ok: false, error: { code, path: '', kind: '', message } };
}

/** Any failure as a ModelError: the transports never see an exception from a run or an export. */
function asModelError(e: unknown): { ok: false; error: ModelError } {
  if (e instanceof RunError || e instanceof LowerError) return { ok: false, error: e.error };
  if (e instanceof DocumentError) return problem(e.code, e.message);
  if (e instanceof TensorJsonError || e instanceof InputError) return problem('bad_input', e.message);
  if (e instanceof WeightsFileError || e instanceof InitializerError) return problem('bad_weights', e.message);
  if (e instanceof ProviderError) return problem('runtime', e.message);
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return problem('runtime', `internal error (a bug in Strata, please report it with the model): ${msg}`);
}

class InputError extends Error {}

// ---------------------------------------------------------------- summaries

export interface Stats { min: number; max: number; mean: number; std: number; nan: number; inf: number }

export function tensorStats(values: ArrayLike<number>): Stats {
  let min = Infinity, max = -Infinity, sum = 0, n = 0, nan = 0, inf = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isNaN(x)) { nan++; continue; }
    if (!Number.isFinite(x)) { inf++; continue; }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    n++;
  }
  const mean = n ? sum / n : NaN;
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (Number.isFinite(x)) sq += (x - mean) * (x - mean);
  }
  return { min: n ? min : NaN, max: n ? max : NaN, mean, std: n ? Math.sqrt(sq / n) : NaN, nan, inf };
}

/** JSON has no NaN or infinities: they travel as strings. */
function jsonNumber(x: number): number | string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return x;
}

/** Counts of the finite values in `bins` equal bins between min and max (all in the first bin when min = max). */
export function histogram(values: ArrayLike<number>, min: number, max: number, bins = HISTOGRAM_BINS): number[] {
  const counts = new Array<number>(bins).fill(0);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return counts;
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) continue;
    const b = width > 0 ? Math.min(bins - 1, Math.max(0, Math.floor((x - min) / width))) : 0;
    counts[b]++;
  }
  return counts;
}

/**
 * The heatmap of a tensor: its last two axes at index 0 of the others,
 * averaged over blocks down to at most 64×64 (a [16, 32000] logits slice
 * becomes 16×64 cells of 500 columns each). Non-finite values count as 0.
 */
export function heatmap(values: ArrayLike<number>, dims: readonly number[], max = HEATMAP_MAX): TensorSummary['heatmap'] {
  if (dims.length === 0) return undefined;
  const rows = dims.length >= 2 ? dims[dims.length - 2] : 1;
  const cols = dims[dims.length - 1];
  if (rows === 0 || cols === 0) return undefined;
  const outRows = Math.min(rows, max);
  const outCols = Math.min(cols, max);
  const data = new Array<number>(outRows * outCols).fill(0);
  for (let r = 0; r < outRows; r++) {
    const r0 = Math.floor((r * rows) / outRows), r1 = Math.floor(((r + 1) * rows) / outRows);
    for (let c = 0; c < outCols; c++) {
      const c0 = Math.floor((c * cols) / outCols), c1 = Math.floor(((c + 1) * cols) / outCols);
      let s = 0, n = 0;
      for (let i = r0; i < r1; i++) {
        for (let j = c0; j < c1; j++) {
          const x = values[i * cols + j];
          if (Number.isFinite(x)) s += x;
          n++;
        }
      }
      data[r * outCols + c] = n ? Number((s / n).toPrecision(4)) : 0;
    }
  }
  return { rows: outRows, cols: outCols, data };
}

/** What the renderer gets for one tensor: statistics (given, or computed), a histogram and a heatmap. */
export function summarizeTensor(t: TensorValue | undefined, dtype: string, shape: readonly number[], given?: Stats): TensorSummary {
  const values = t ? numbersOf(t) : undefined;
  const s = given ?? (values ? tensorStats(values) : { min: NaN, max: NaN, mean: NaN, std: NaN, nan: 0, inf: 0 });
  const summary: TensorSummary = {
    dtype,
    shape: [...shape],
    stats: { min: jsonNumber(s.min), max: jsonNumber(s.max), mean: jsonNumber(s.mean), std: jsonNumber(s.std), nan: s.nan, inf: s.inf },
    histogram: values ? histogram(values, s.min, s.max) : [],
  };
  if (values) {
    const h = heatmap(values, shape);
    if (h) summary.heatmap = h;
  }
  return summary;
}

// ---------------------------------------------------------------- inputs

function readDoc(v: unknown): StrataDocument {
  return documentFromJson(typeof v === 'string' ? JSON.parse(v) : v);
}

function readInputFile(path: string): TensorValue {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read input file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (/\.npy$/i.test(path)) return readNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
  if (/\.json$/i.test(path)) {
    const ts = tensorsFromJsonText(bytes.toString('utf8'), path);
    if (ts.length !== 1) throw new InputError(`${path}: an input file holds one tensor, this one holds ${ts.length}`);
    return ts[0];
  }
  throw new InputError(`input file ${path}: give a .npy or .json file`);
}

/** The largest vocabulary the model names (for integer inputs drawn without one). */
function modelVocab(doc: StrataDocument): number | undefined {
  let v: number | undefined;
  walkNodes(doc.root, (n) => {
    for (const k of ['vocab_size', 'input_vocab_size', 'n_in', 'vocab']) {
      const x = n.params?.[k];
      if (typeof x === 'number' && Number.isInteger(x) && x > 0) v = Math.max(v ?? 0, x);
    }
  });
  return v;
}

/**
 * Concrete sizes for the document's symbolic input dims: from the input
 * files where one gives a size, the leading (batch) axis 2, and other
 * lengths the smallest of 16, 32, … at which the model traces without errors.
 */
export function concreteSignature(doc: StrataDocument, files: (TensorValue | undefined)[]): ShapeDtype[] {
  if (doc.input.length === 0) throw new InputError('the model has no input signature: set it at the root (dtype and dims) before running');
  const bound = new Map<string, number>();
  doc.input.forEach((sig, i) => {
    const f = files[i];
    if (!f) return;
    if (f.dims.length !== sig.shape.length) throw new InputError(`input ${i}: the file holds ${f.dtype}[${f.dims.join(',')}], the model declares ${formatShapeDtype(sig)}`);
    sig.shape.forEach((d, a) => {
      if (typeof d === 'string' && isSymbolName(d) && !bound.has(d)) bound.set(d, f.dims[a]);
    });
  });
  const free: string[] = [];
  const batch = new Set<string>();
  doc.input.forEach((sig) => sig.shape.forEach((d, a) => {
    if (typeof d !== 'string') return;
    if (!isSymbolName(d)) throw new InputError(`input dims like ${d} need concrete sizes to run: give the input signature plain sizes or symbols`);
    if (!bound.has(d) && !free.includes(d)) free.push(d);
    if (a === 0) batch.add(d);
  }));
  const sigWith = (len: number): ShapeDtype[] => doc.input.map((sig) => ({
    dtype: sig.dtype,
    shape: sig.shape.map((d) => (typeof d === 'number' ? d : bound.get(d) ?? (batch.has(d) ? BATCH_SIZE : len))),
  }));
  if (free.every((s) => batch.has(s))) return sigWith(0);
  for (const len of LENGTH_CANDIDATES) {
    const sig = sigWith(len);
    if (traceDocument({ root: doc.root, input: sig }).errors.length === 0) return sig;
  }
  return sigWith(LENGTH_CANDIDATES[0]);
}

function makeInput(src: InputSource | undefined, sig: ShapeDtype, index: number, seed: number, vocab: number | undefined): TensorValue {
  const dims = sig.shape as number[];
  const n = dims.reduce((a, d) => a * d, 1);
  const int = sig.dtype.startsWith('int') || sig.dtype === 'uint8' || sig.dtype === 'bool';
  const kind = src?.kind ?? (int ? 'randint' : 'normal');
  const rng = () => RandomStream.for(src && 'seed' in src && src.seed !== undefined ? src.seed : seed, `input:${index}`);
  let values: Float64Array;
  if (kind === 'zeros') values = new Float64Array(n);
  else if (kind === 'randint' || int) {
    const below = Math.max(1, sig.dtype === 'bool' ? 2 : src?.kind === 'randint' ? src.vocab : vocab ?? 10);
    const r = rng();
    values = Float64Array.from({ length: n }, () => Math.floor(r.float() * below));
  } else {
    const r = rng();
    values = Float64Array.from({ length: n }, () => r.normal());
  }
  switch (sig.dtype) {
    case 'int64': return { dtype: 'int64', dims, data: BigInt64Array.from(values, (x) => BigInt(x)) };
    case 'float64': return { dtype: 'float64', dims, data: values };
    case 'float32': case 'float16': case 'bfloat16': return { dtype: 'float32', dims, data: Float32Array.from(values) };
    default: return { dtype: sig.dtype, dims, data: Int32Array.from(values) };
  }
}

// ---------------------------------------------------------------- the host

/** Re-runs a kept run's model probing one edge (or for its outputs): the same inputs, seed and weights. */
const recompute: Recompute = async (src, key: TensorKey) => {
  const r = await runModel({
    root: src.root, declared: src.declared, inputs: src.inputs, mode: src.mode, seed: src.seed, provider: src.provider,
    probes: key.path === null ? undefined : [key.path], probeData: key.path !== null, inlineFunctions: true,
    weightValue: (ref) => initialValue(ref, src.seed),
  });
  if (key.path === null) return r.outputs[key.index];
  return r.probes.find((p) => p.index === key.index)?.data;
};

export function createNumericHost(opts: NumericHostOptions = {}): NumericHost {
  const keeper = new RunKeeper(opts.keepBytes ?? KEEP_BYTES, opts.keepRuns ?? KEEP_RUNS);
  // training runs live here too: they need onnxruntime, off the transports' event loops
  const training = createTrainHost();
  return {
    ...training,
    providers() {
      try {
        const names = listSupportedBackends().map((b) => b.name);
        return PROVIDERS.filter((p) => names.includes(p));
      } catch {
        return ['cpu'];
      }
    },

    async run(req) {
      const t0 = performance.now();
      try {
        const doc = readDoc(req.doc);
        const files = doc.input.map((_, i) => {
          const src = req.inputs[i];
          return src?.kind === 'file' ? readInputFile(src.path) : undefined;
        });
        const sig = concreteSignature(doc, files);
        const vocab = modelVocab(doc);
        const inputs = sig.map((s, i) => files[i] ?? makeInput(req.inputs[i], s, i, req.seed, vocab));
        const result = await runModel({
          root: doc.root, declared: doc.input, inputs, mode: req.mode, seed: req.seed, provider: req.provider,
          probes: 'all', probeData: true,
          // probes reach inside repeated blocks only when their functions are inlined
          inlineFunctions: true,
          weightValue: (ref) => initialValue(ref, req.seed),
        });
        const outputs = result.outputs.map((o) => summarizeTensor(o, o.dtype, o.dims));
        const probes = result.probes.map((p): ProbeSummary => ({
          path: p.path, kind: p.kind, index: p.index,
          ...summarizeTensor(p.data, p.dtype, p.shape, p.stats),
        }));
        const notes = [...result.notes];
        const symbols = doc.input.some((s) => s.shape.some((d) => typeof d === 'string'));
        if (symbols) notes.push(`inputs: ${inputs.map((x) => `${x.dtype}[${x.dims.join(',')}]`).join(', ')}`);
        // the tensors stay here for slices; probes of one graph value share one tensor
        const byValue = new Map<string, TensorValue>();
        const tensors: KeptTensor[] = result.probes.map((p, i) => {
          const value = result.lowered.probes[i]?.value;
          let t = p.data;
          if (t && value !== undefined) { const seen = byValue.get(value); if (seen) t = seen; else byValue.set(value, t); }
          return [{ path: p.path, index: p.index }, t, { dtype: p.dtype, shape: p.shape }];
        });
        result.outputs.forEach((o, i) => {
          // the model's output i is also the probe of edge '' #i
          const same = tensors.find(([k]) => k.path === '' && k.index === i)?.[1];
          tensors.push([{ path: null, index: i }, same && same.dims.join() === o.dims.join() ? same : o, { dtype: o.dtype, shape: [...o.dims] }]);
        });
        const runId = keeper.add({ root: doc.root, declared: doc.input, inputs, mode: req.mode, seed: req.seed, provider: req.provider }, tensors);
        return { ok: true, runId, provider: result.provider, notes, outputs, probes, ms: Math.round(performance.now() - t0) };
      } catch (e) {
        return asModelError(e);
      }
    },

    async tensorSlice(req) {
      try {
        return await keeper.slice(req, recompute);
      } catch (e) {
        const m = asModelError(e);
        return { ok: false, reason: 'not_probed', message: `the host could not recompute this tensor: ${m.error.message}` };
      }
    },

    async exportModel(req) {
      try {
        if (!req.path) return problem('bad_input', 'export needs a file to write: choose where to save it');
        const doc = readDoc(req.doc);
        let bytes: number;
        if (req.format === 'python') {
          bytes = writeFileAtomic(req.path, documentToCode(doc));
        } else {
          const input = concreteSignature(doc, []);
          const entries: [string, TensorValue][] = [];
          const low = lowerDocument({ root: doc.root, input }, {
            seed: req.seed, inlineFunctions: req.inlineFunctions,
            weightValue: (ref) => { const v = initialValue(ref, req.seed); entries.push([ref.key, v]); return v; },
          });
          if (req.format === 'weights') bytes = writeFileAtomic(req.path, writeNpz(entries));
          else bytes = writeFileAtomic(req.path, modelChunks(low.model));
        }
        return { ok: true, path: req.path, bytes };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return problem('runtime', `cannot write ${req.path}: ${(e as Error).message}`);
        return asModelError(e);
      }
    },
  };
}

/** The numeric side as the part of the HostApi a worker or utility process serves. */
export function numericApi(numeric: NumericHost = createNumericHost()): Pick<HostApi, 'info' | NumericMethod> {
  return {
    info: async () => ({ version, providers: numeric.providers(), desktop: false }),
    run: (req) => numeric.run(req),
    tensorSlice: (req) => numeric.tensorSlice(req),
    exportModel: (req) => numeric.exportModel(req),
    trainStart: (req) => numeric.trainStart(req),
    trainStatus: (req) => numeric.trainStatus(req),
    trainStop: (req) => numeric.trainStop(req),
    trainRuns: () => numeric.trainRuns(),
    exportTrained: (req) => numeric.exportTrained(req),
  };
}
