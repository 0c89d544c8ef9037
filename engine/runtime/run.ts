/**
 * Runs a document on onnxruntime: lowers it for the given inputs, opens (or
 * reuses) a session on the requested provider, runs once, and returns the
 * outputs and any probed edges with their statistics. Node only.
 */
import type { TensorValue } from '../core/onnx';
import { type ShapeDtype, formatShapeDtype, isDType } from '../core/shape';
import { LayerError, type ModelError } from '../core/errors';
import type { Mode } from '../layers/def';
import type { DocNode } from '../document/schema';
import { type LowerOptions, type Lowered, type ProbeRef, type WeightRef, lowerDocument } from '../onnx/lower';
import { modelBytes } from '../onnx/write';
import { type Provider, SessionCache, fromOrtTensor, toOrtTensor } from './session';

export interface ProbeStats { min: number; max: number; mean: number; std: number; nan: number; inf: number }

export interface ProbeResult {
  path: string;
  kind: string;
  index: number;
  dtype: string;
  shape: number[];
  stats: ProbeStats;
  data?: TensorValue;
}

export interface RunRequest {
  root: DocNode;
  /** the model's declared input signature (checked against the inputs when given) */
  declared?: readonly ShapeDtype[];
  /** the inputs, top of the stack first */
  inputs: TensorValue[];
  /** the value of each weight and state tensor (from a weights file, or initialized from the seed) */
  weightValue: (ref: WeightRef) => TensorValue;
  mode?: Mode;
  seed?: number;
  provider?: Provider;
  /** the requested provider must start and place every node: no fallback to another provider or to the CPU */
  strictProvider?: boolean;
  disableCpuFallback?: boolean;
  probes?: 'all' | string[];
  probeData?: boolean;
  inlineFunctions?: boolean;
  /** a key naming this document revision and weights (reuses the compiled session) */
  cacheKey?: string;
  /**
   * Carry state across runs (predict-mode carries, caches, counters): the
   * state before this run, by key (absent keys start from their initial
   * values); the result then has the state after it.
   */
  state?: Map<string, TensorValue>;
}

export interface RunResult {
  provider: Provider;
  /** why providers were skipped */
  notes: string[];
  outputs: TensorValue[];
  probes: ProbeResult[];
  lowered: Lowered;
  /** with `state`: every state tensor after the run, by key */
  state?: Map<string, TensorValue>;
}

/** A problem the user can fix, reported like a model error. */
export class RunError extends Error {
  constructor(readonly error: ModelError) {
    super(error.message);
    this.name = 'RunError';
  }
}

function inputError(message: string): RunError {
  return new RunError({ code: 'bad_input', path: '', kind: '', message });
}

/** The signature of the given tensors, checked against the declared one (symbols must bind consistently). */
export function signatureOf(inputs: TensorValue[], declared?: readonly ShapeDtype[]): ShapeDtype[] {
  const sig = inputs.map((t, i): ShapeDtype => {
    if (!isDType(t.dtype)) throw inputError(`input ${i}: dtype ${t.dtype} is not supported`);
    const n = t.dims.reduce((a, d) => a * d, 1);
    if (t.data.length !== n) throw inputError(`input ${i}: shape [${t.dims.join(',')}] needs ${n} values, the data has ${t.data.length}`);
    return { dtype: t.dtype, shape: [...t.dims] };
  });
  if (declared && declared.length) {
    if (sig.length < declared.length) throw inputError(`the model declares ${declared.length} inputs (${declared.map(formatShapeDtype).join(', ')}), got ${sig.length}`);
    const bound = new Map<string, number>();
    declared.forEach((d, i) => {
      const x = sig[i];
      const mismatch = (why: string) => inputError(`input ${i} is ${formatShapeDtype(x)}, but the model declares ${formatShapeDtype(d)}: ${why}`);
      if (d.dtype !== x.dtype) throw mismatch('wrong dtype');
      if (d.shape.length !== x.shape.length) throw mismatch(`rank ${x.shape.length} instead of ${d.shape.length}`);
      d.shape.forEach((dim, a) => {
        const got = x.shape[a] as number;
        if (typeof dim === 'number') {
          if (dim !== got) throw mismatch(`axis ${a} is ${got}, not ${dim}`);
        } else if (/^[A-Za-z_]\w*$/.test(dim)) {
          const b = bound.get(dim);
          if (b !== undefined && b !== got) throw mismatch(`${dim} is ${b} in an earlier axis and ${got} here`);
          bound.set(dim, got);
        }
      });
    });
  }
  return sig;
}

const cache = new SessionCache();

export async function runModel(req: RunRequest): Promise<RunResult> {
  const input = signatureOf(req.inputs, req.declared);
  const opts: LowerOptions = {
    mode: req.mode ?? 'eval',
    seed: req.seed ?? 0,
    inlineFunctions: req.inlineFunctions,
    // a GPU provider gets a graph with only ops it places on the GPU (no Scan/If)
    gpu: req.provider === 'webgpu',
    probes: req.probes,
    probeData: req.probeData,
    weightValue: req.weightValue,
    stateIO: !!req.state,
  };
  let lowered: Lowered;
  try {
    lowered = lowerDocument({ root: req.root, input }, opts);
  } catch (e) {
    if (e instanceof LayerError) throw new RunError({ code: e.code, path: '', kind: '', message: e.message });
    throw e;
  }
  if (lowered.outputs.length === 0 && lowered.probes.length === 0) {
    // nothing comes out (a model of Drop): onnxruntime cannot build a graph without outputs, and needs not
    return { provider: req.provider ?? 'cpu', notes: [], outputs: [], probes: [], lowered };
  }
  const key = req.cacheKey ? `${req.cacheKey}|${input.map(formatShapeDtype).join(';')}|${opts.mode}|${opts.seed}|${JSON.stringify(opts.probes ?? null)}|${opts.probeData ? 1 : 0}|${opts.inlineFunctions ? 1 : 0}` : `nocache:${Math.random()}`;
  const opened = await cache.get(key, () => modelBytes(lowered.model), {
    provider: req.provider, disableCpuFallback: req.disableCpuFallback || req.strictProvider, fallback: !req.strictProvider,
    // probes read values the optimiser would fuse away
    optimization: req.probes ? 'disabled' : 'all',
  });
  const feeds: Record<string, ReturnType<typeof toOrtTensor>> = {};
  lowered.inputs.forEach((info, i) => { feeds[info.name] = toOrtTensor(req.inputs[i]); });
  const stateBefore = new Map<string, TensorValue>();
  for (const io of lowered.state) {
    const given = req.state?.get(io.ref.key);
    const want = `${io.ref.decl.dtype}[${io.ref.decl.shape.join(',')}]`;
    if (given && `${given.dtype}[${given.dims.join(',')}]` !== want) {
      throw new RunError({ code: 'bad_weights', path: '', kind: '', message: `state '${io.ref.key}' is ${given.dtype}[${given.dims.join(',')}] in the state file, the model needs ${want}` });
    }
    const v = given ?? req.weightValue(io.ref);
    stateBefore.set(io.ref.key, v);
    feeds[io.input] = toOrtTensor(v);
  }
  let out: Awaited<ReturnType<typeof opened.session.run>>;
  try {
    out = await opened.session.run(feeds);
  } catch (e) {
    throw new RunError({ code: 'runtime', path: '', kind: '', message: `onnxruntime: ${(e as Error).message.split('\n')[0]}` });
  }
  if (!req.cacheKey) await opened.session.release();
  const outputs = lowered.outputs.map((o) => fromOrtTensor(out[o.name]));
  const probes = lowered.probes.map((p: ProbeRef): ProbeResult => {
    const s = out[p.statsOutput].data as Float32Array;
    const r: ProbeResult = {
      path: p.path, kind: p.kind, index: p.index, dtype: p.sig.dtype, shape: p.sig.shape.map(Number),
      stats: { min: s[0], max: s[1], mean: s[2], std: s[3], nan: s[4], inf: s[5] },
    };
    if (p.dataOutput) r.data = fromOrtTensor(out[p.dataOutput]);
    return r;
  });
  const result: RunResult = { provider: opened.provider, notes: opened.notes, outputs, probes, lowered };
  if (req.state) {
    result.state = new Map(stateBefore);
    for (const io of lowered.state) if (io.output) result.state.set(io.ref.key, fromOrtTensor(out[io.output]));
  }
  return result;
}

export async function releaseSessions(): Promise<void> {
  await cache.clear();
}
