/**
 * onnxruntime-node sessions: execution providers with fallback, one session
 * per model revision (cached), and conversions between Strata tensors and
 * onnxruntime's. Node only.
 */
import * as ort from 'onnxruntime-node';
import { tmpdir } from 'node:os';
import type { ElemType, TensorValue } from '../core/onnx';

// onnxruntime's own log goes to stderr; Strata reports what matters (provider fallbacks) itself
ort.env.logLevel = 'fatal';
// Vulkan's loader complains without a runtime dir; any writable folder does
process.env.XDG_RUNTIME_DIR ??= tmpdir();

export const PROVIDERS = ['cpu', 'webgpu', 'cuda', 'dml'] as const;
export type Provider = (typeof PROVIDERS)[number];

export function isProvider(s: string): s is Provider {
  return (PROVIDERS as readonly string[]).includes(s);
}

/** Why a provider may not start, and what to do about it. */
const HINTS: Record<Provider, string> = {
  cpu: '',
  webgpu: 'the WebGPU provider needs a Vulkan (Linux), D3D12 (Windows) or Metal (macOS) driver; on a machine without a GPU, Mesa\'s lavapipe provides one',
  cuda: 'the CUDA provider\'s binaries are not installed: they download from outside the npm registry; install them with `ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node` (Linux x64, CUDA 12 and cuDNN 9 on the system)',
  dml: 'the DirectML provider exists only on Windows',
};

/** The order providers are tried in, starting from the requested one. */
function chain(requested: Provider): Provider[] {
  const order: Provider[] = requested === 'cpu' ? ['cpu'] : [requested, ...(requested === 'webgpu' ? [] : ['webgpu' as Provider]), 'cpu'];
  return [...new Set(order)];
}

export interface SessionOptions {
  provider?: Provider;
  /** refuse a model any node of which the provider cannot run (no silent CPU fallback inside the graph) */
  disableCpuFallback?: boolean;
  /** graph optimisations: 'all' for runs, 'disabled' to keep every node (probes) */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** fall back to the next provider when the requested one cannot start (default true) */
  fallback?: boolean;
  intraOpThreads?: number;
  /**
   * Where outputs stay (WebGPU): 'gpu-buffer' keeps an output on the device, to
   * be fed back as an input without a copy (training's weights and slots).
   */
  outputLocations?: Record<string, 'cpu' | 'gpu-buffer'>;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
  /** why providers before the one in use were skipped */
  notes: string[];
}

export class ProviderError extends Error {
  constructor(message: string, readonly notes: string[]) {
    super(message);
    this.name = 'ProviderError';
  }
}

function ortOptions(p: Provider, o: SessionOptions): ort.InferenceSession.SessionOptions {
  const opts: ort.InferenceSession.SessionOptions = {
    executionProviders: [p],
    graphOptimizationLevel: o.optimization ?? 'all',
    logSeverityLevel: 3,
  };
  if (o.intraOpThreads) opts.intraOpNumThreads = o.intraOpThreads;
  if (o.outputLocations && p === 'webgpu') opts.preferredOutputLocation = o.outputLocations;
  if (o.disableCpuFallback && p !== 'cpu') opts.extra = { session: { disable_cpu_ep_fallback: '1' } };
  return opts;
}

export async function openSession(model: Uint8Array, o: SessionOptions = {}): Promise<OpenedSession> {
  const requested = o.provider ?? 'cpu';
  const tries = o.fallback === false ? [requested] : chain(requested);
  const notes: string[] = [];
  for (const p of tries) {
    try {
      const session = await ort.InferenceSession.create(model, ortOptions(p, o));
      return { session, provider: p, notes };
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      const isModelError = /ShapeInferenceError|TypeInferenceError|INVALID_GRAPH|INVALID_ARGUMENT|Load model|Node \(/.test(why) && !/provider|Provider|EP/.test(why);
      if (isModelError || p === 'cpu') throw e;
      notes.push(`provider ${p} could not start (${why})${HINTS[p] ? `; ${HINTS[p]}` : ''}`);
    }
  }
  throw new ProviderError(`no execution provider could start: ${notes.join('; ')}`, notes);
}

/** Sessions by model revision key, so a model is compiled once per revision. */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<OpenedSession>>();
  constructor(private readonly limit = 8) {}

  get(key: string, make: () => Uint8Array, o: SessionOptions = {}): Promise<OpenedSession> {
    const k = `${key}|${o.provider ?? 'cpu'}|${o.optimization ?? 'all'}|${o.disableCpuFallback ? 1 : 0}`;
    let s = this.sessions.get(k);
    if (!s) {
      s = openSession(make(), o);
      s.catch(() => this.sessions.delete(k));
      this.sessions.set(k, s);
      if (this.sessions.size > this.limit) {
        const [oldest] = this.sessions.keys();
        const old = this.sessions.get(oldest);
        this.sessions.delete(oldest);
        void old?.then((x) => x.session.release()).catch(() => undefined);
      }
    }
    return s;
  }

  async clear(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of all) await s.then((x) => x.session.release()).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- tensors

export function toOrtTensor(v: TensorValue): ort.Tensor {
  switch (v.dtype) {
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(v.data as ArrayLike<number>, (x) => (x ? 1 : 0)), v.dims);
    case 'int32': return new ort.Tensor('int32', v.data instanceof Int32Array ? v.data : Int32Array.from(v.data as ArrayLike<number>), v.dims);
    case 'int64': return new ort.Tensor('int64', v.data as BigInt64Array, v.dims);
    case 'int8': return new ort.Tensor('int8', Int8Array.from(v.data as ArrayLike<number>), v.dims);
    case 'uint8': return new ort.Tensor('uint8', Uint8Array.from(v.data as ArrayLike<number>), v.dims);
    case 'float64': return new ort.Tensor('float64', v.data instanceof Float64Array ? v.data : Float64Array.from(v.data as ArrayLike<number>), v.dims);
    case 'float16': return new ort.Tensor('float16', v.data as Uint16Array, v.dims);
    default: return new ort.Tensor('float32', v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>), v.dims);
  }
}

export function fromOrtTensor(t: ort.Tensor): TensorValue {
  const dims = [...t.dims];
  switch (t.type) {
    case 'bool': return { dtype: 'bool', dims, data: Int32Array.from(t.data as Uint8Array) };
    case 'int32': return { dtype: 'int32', dims, data: t.data as Int32Array };
    case 'int64': return { dtype: 'int64', dims, data: t.data as BigInt64Array };
    case 'float64': return { dtype: 'float64', dims, data: t.data as Float64Array };
    case 'float16': return { dtype: 'float16', dims, data: t.data as Uint16Array };
    case 'int8': return { dtype: 'int8', dims, data: Int32Array.from(t.data as Int8Array) };
    case 'uint8': return { dtype: 'uint8', dims, data: Int32Array.from(t.data as Uint8Array) };
    default: return { dtype: t.type as ElemType, dims, data: t.data as Float32Array };
  }
}
