/**
 * The initial value of a weight or state tensor, from its declared
 * initializer (trax-semantics.md §5):
 *
 * - InitCalls (`{ $init: 'GlorotUniformInitializer', args }`): every factory
 *   of engine/layers/initializers.ts, with Trax's fan rules and quirks;
 * - `{ fill }`: a constant;
 * - `{ table }`: a deterministic table a layer defines (TABLES below);
 * - lambdas (`{ $lambda: 'lambda shape, rng: ...' }`): a small evaluator of
 *   the common forms (LAMBDA_FORMS), anything else is a clear error.
 *
 * Random draws come from the weight's own stream (random.ts), derived from
 * the seed and the weight's key, so they match Trax in distribution, not bit
 * for bit (JAX's threefry streams are not reproduced). Values are computed in
 * doubles, rounded to float32 as Trax's initializers return float32, then
 * cast to the declared dtype (float16/bfloat16 as Uint16Array bit patterns,
 * round to nearest even).
 */
import type { ElemType, TensorValue } from '../core/onnx';
import type { DType } from '../core/shape';
import { type PyNode, PySyntaxError, dottedName, parseExpression } from '../core/python';
import { type InitCall, type PyValue, REQUIRED, isInitCall, isLambda } from '../layers/def';
import { INITIALIZERS, checkInitializer } from '../layers/initializers';
import type { WeightRef } from '../onnx/lower';
import { RandomStream } from './random';

/** An initializer that cannot produce a value; names the weight's key. */
export class InitializerError extends Error {
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'InitializerError';
  }
}

export interface InitOptions {
  /**
   * Reads the .npy file of an `InitializerFromFile(path)` (e.g. readNpy of
   * npz.ts over the file's bytes); without it such weights are an error.
   */
  loadFile?: (path: string) => TensorValue;
}

/** Draws the values of one initializer for a shape (row-major, doubles). */
type InitFn = (shape: readonly number[], rng: RandomStream) => Float64Array;

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
const fmtShape = (shape: readonly number[]): string => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

// ---------------------------------------------------------------- dtypes

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bits of a number (rounded to float32 first). */
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** IEEE half-precision bits of a number: rounded to float32, then to nearest even (NumPy's float32 → float16). */
export function float16Bits(x: number): number {
  const u = bitsOf(x);
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry into the exponent is right (up to inf)
  return sign | h;
}

/** The number a float16 bit pattern holds. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of a number: rounded to float32, then to nearest even (NaN stays NaN). */
export function bfloat16Bits(x: number): number {
  const u = bitsOf(x);
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) / 65536) & 0xffff;
}

/** The number a bfloat16 bit pattern holds. */
export function bfloat16Value(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0];
}

/** A float tensor's values as numbers (float16/bfloat16 decoded); ints as numbers too (int64 may lose precision). */
export function tensorNumbers(t: TensorValue): Float64Array {
  const d = t.data;
  if (t.dtype === 'float16') return Float64Array.from(d as Uint16Array, float16Value);
  if (t.dtype === 'bfloat16') return Float64Array.from(d as Uint16Array, bfloat16Value);
  if (d instanceof BigInt64Array) return Float64Array.from(d, Number);
  return Float64Array.from(d as ArrayLike<number>);
}

/**
 * A tensor of `dtype` from values: floats rounded to the dtype; integer
 * dtypes truncate toward zero and wrap as NumPy's astype does; bool is
 * `x != 0`. int8/uint8/bool are held in Int32Array, as the ONNX writer expects.
 */
export function tensorFromValues(values: ArrayLike<number>, dims: readonly number[], dtype: ElemType): TensorValue {
  const n = values.length;
  const shape = [...dims];
  switch (dtype) {
    case 'float32': return { dtype, dims: shape, data: Float32Array.from(values) };
    case 'float64': return { dtype, dims: shape, data: Float64Array.from(values) };
    case 'float16': return { dtype, dims: shape, data: Uint16Array.from(values, float16Bits) };
    case 'bfloat16': return { dtype, dims: shape, data: Uint16Array.from(values, bfloat16Bits) };
    case 'bool': return { dtype, dims: shape, data: Int32Array.from(values, (x) => (x !== 0 ? 1 : 0)) };
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number.isFinite(values[i]) ? BigInt.asIntN(64, BigInt(Math.trunc(values[i]))) : 0n;
      return { dtype, dims: shape, data: out };
    }
    case 'int32': case 'int8': case 'uint8': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        // wrap modulo 2^32 exactly (also for values >= 2^31, e.g. uint32 PRNG words)
        const w = Number.isFinite(v) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(v)))) : 0;
        out[i] = dtype === 'int8' ? (w << 24) >> 24 : dtype === 'uint8' ? w & 0xff : w;
      }
      return { dtype, dims: shape, data: out };
    }
  }
}

// ---------------------------------------------------------------- Trax's initializers

/** `_GetFans`: rank >= 2 → (shape[in_dim], shape[out_dim]); rank 1 → (shape[0], shape[0]); rank 0 → (1, 1). The receptive field is not applied (Trax's quirk). */
export function getFans(shape: readonly number[], outDim: number, inDim: number): [fanIn: number, fanOut: number] {
  const r = shape.length;
  if (r >= 2) {
    const o = outDim < 0 ? outDim + r : outDim;
    const i = inDim < 0 ? inDim + r : inDim;
    if (o < 0 || o >= r || i < 0 || i >= r) {
      throw new RangeError(`out_dim=${outDim} / in_dim=${inDim} do not index a shape of rank ${r} ${fmtShape(shape)}`);
    }
    return [shape[i], shape[o]];
  }
  if (r === 1) return [shape[0], shape[0]];
  return [1, 1];
}

/** scipy.stats.truncnorm.std(a=-2, b=2): Trax divides by it so that the truncated draw has the target std. */
export const TRUNCNORM_STD = 0.87962566103423978;

function scaled(outDim: number, inDim: number, scale: number, mode: string, distribution: string): InitFn {
  if (!(scale > 0)) throw new RangeError(`scale must be > 0, got ${scale}`);
  if (mode !== 'fan_in' && mode !== 'fan_out' && mode !== 'fan_avg') throw new RangeError(`invalid mode for ScaledInitializer: ${mode}`);
  if (distribution !== 'normal' && distribution !== 'uniform' && distribution !== 'truncated_normal') {
    throw new RangeError(`invalid distribution for ScaledInitializer: ${distribution}`);
  }
  return (shape, rng) => {
    const [fanIn, fanOut] = getFans(shape, outDim, inDim);
    const gain = scale / (mode === 'fan_in' ? fanIn : mode === 'fan_out' ? fanOut : (fanIn + fanOut) / 2);
    const out = new Float64Array(size(shape));
    if (distribution === 'truncated_normal') rng.fillTruncatedNormal(out, Math.sqrt(gain) / TRUNCNORM_STD);
    else if (distribution === 'normal') rng.fillNormal(out, Math.sqrt(gain));
    else {
      const lim = Math.sqrt(3 * gain);
      rng.fillUniform(out, -lim, lim);
    }
    return out;
  };
}

/**
 * Householder QR of the row-major m×n matrix `a` (m >= n), in place: returns
 * the thin Q (m×n, row-major) and diag(R).
 */
export function householderQR(a: Float64Array, m: number, n: number): { q: Float64Array; rdiag: Float64Array } {
  const vs: Float64Array[] = [];
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const v = new Float64Array(m - k);
    let norm = 0;
    for (let i = k; i < m; i++) {
      v[i - k] = a[i * n + k];
      norm += v[i - k] * v[i - k];
    }
    norm = Math.sqrt(norm);
    if (norm === 0) { // a zero column: no reflection, R's diagonal is 0
      vs.push(v.fill(0));
      continue;
    }
    const alpha = v[0] > 0 ? -norm : norm;
    v[0] -= alpha;
    let vnorm = 0;
    for (let i = 0; i < v.length; i++) vnorm += v[i] * v[i];
    vnorm = Math.sqrt(vnorm);
    for (let i = 0; i < v.length; i++) v[i] /= vnorm;
    // A[k:, k:] -= 2 v (v^T A[k:, k:])
    for (let j = k; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * a[i * n + j];
      dot *= 2;
      for (let i = k; i < m; i++) a[i * n + j] -= dot * v[i - k];
    }
    rdiag[k] = a[k * n + k];
    vs.push(v);
  }
  // Q = H_0 H_1 ... H_{n-1} I[:, :n]
  const q = new Float64Array(m * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i - k] * q[i * n + j];
      if (dot === 0) continue;
      dot *= 2;
      for (let i = k; i < m; i++) q[i * n + j] -= dot * v[i - k];
    }
  }
  return { q, rdiag };
}

function orthogonal(stddev: number): InitFn {
  return (shape, rng) => {
    const cur = [...shape];
    while (cur.length < 2) cur.unshift(1);
    const nRows = size(cur.slice(0, -1));
    const nCols = cur[cur.length - 1];
    const transposed = nRows < nCols;
    const [m, n] = transposed ? [nCols, nRows] : [nRows, nCols];
    const a = new Float64Array(m * n);
    rng.fillNormal(a);
    const { q, rdiag } = householderQR(a, m, n);
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const v = stddev * q[i * n + j] * Math.sign(rdiag[j]);
        if (transposed) out[j * m + i] = v;
        else out[i * n + j] = v;
      }
    }
    return out;
  };
}

/** `AtariConvInit(kernel_shape, rng)`: U(+-1/sqrt(H*W*fan_in)) for an HWIO kernel. */
const atariConvInit: InitFn = (shape, rng) => {
  if (shape.length !== 4) throw new RangeError(`AtariConvInit needs a 4-d kernel shape (H, W, I, O), got ${fmtShape(shape)}`);
  const [h, w, fanIn] = shape;
  const std = 1 / Math.sqrt(fanIn * h * w);
  const out = new Float64Array(size(shape));
  rng.fillUniform(out, -std, std);
  return out;
};

type Args = Record<string, PyValue>;
const num = (a: Args, k: string): number => a[k] as number;
const str = (a: Args, k: string): string => a[k] as string;
const kaimingScale = (param: number): number => 2 / Math.sqrt(1 + param * param); // (quirk) sqrt, as in Trax

/** Every initializer factory of engine/layers/initializers.ts (arguments already defaulted). */
const FACTORIES: Record<string, (a: Args) => InitFn> = {
  RandomNormalInitializer: (a) => (shape, rng) => {
    const out = new Float64Array(size(shape));
    rng.fillNormal(out, num(a, 'stddev'));
    return out;
  },
  RandomUniformInitializer: (a) => (shape, rng) => {
    const out = new Float64Array(size(shape));
    rng.fillUniform(out, -num(a, 'lim'), num(a, 'lim'));
    return out;
  },
  ScaledInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), num(a, 'scale'), str(a, 'mode'), str(a, 'distribution')),
  GlorotNormalInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), num(a, 'scale'), 'fan_avg', 'normal'),
  GlorotUniformInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), num(a, 'scale'), 'fan_avg', 'uniform'),
  LeCunNormalInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), num(a, 'scale'), 'fan_in', 'normal'),
  LeCunUniformInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), num(a, 'scale'), 'fan_in', 'uniform'),
  KaimingNormalInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), kaimingScale(num(a, 'param')), 'fan_in', 'normal'),
  KaimingUniformInitializer: (a) => scaled(num(a, 'out_dim'), num(a, 'in_dim'), kaimingScale(num(a, 'param')), 'fan_in', 'uniform'),
  OrthogonalInitializer: (a) => orthogonal(num(a, 'stddev')),
  // InitializerFromFile is handled in initCallValue: it needs a loader, not a stream
};

/** The factory names this module draws (all of INITIALIZERS but InitializerFromFile, which loads). */
export const DRAWN_INITIALIZERS: readonly string[] = Object.keys(FACTORIES);

/** Arguments with the spec's defaults filled in. */
function withDefaults(call: InitCall): Args {
  const out: Args = {};
  for (const s of INITIALIZERS[call.$init]?.args ?? []) {
    const given = call.args && Object.prototype.hasOwnProperty.call(call.args, s.name);
    if (given) out[s.name] = call.args![s.name];
    else if (s.default !== REQUIRED) out[s.name] = s.default;
  }
  return out;
}

/** The draw function of an InitCall (throws plain Errors; callers add the key). */
function initCallFn(call: InitCall): InitFn {
  const problem = checkInitializer(call);
  if (problem) throw new Error(problem.message);
  const make = FACTORIES[call.$init];
  if (!make) throw new Error(`${call.$init} cannot be drawn here`);
  return make(withDefaults(call));
}

// ---------------------------------------------------------------- tables

/** Deterministic tables layers declare with `{ table: name }`. */
export const TABLES: Record<string, (shape: readonly number[], rng: RandomStream) => Float64Array> = {
  /**
   * PositionalEncoding's [max_len, d] table (trax/layers/attention.py):
   * pe[p, 2i] = sin(p * exp(2i * -(ln 10000 / d))), pe[p, 2i+1] = cos(...).
   */
  sincos_interleaved: (shape) => {
    if (shape.length !== 2) throw new RangeError(`the sin/cos table is [max_len, d], got ${fmtShape(shape)}`);
    const [len, d] = shape;
    const out = new Float64Array(len * d);
    const k = -(Math.log(10000) / d);
    for (let i = 0; 2 * i < d; i++) {
      const div = Math.exp(2 * i * k);
      for (let p = 0; p < len; p++) {
        out[p * d + 2 * i] = Math.sin(p * div);
        if (2 * i + 1 < d) out[p * d + 2 * i + 1] = Math.cos(p * div);
      }
    }
    return out;
  },
  /** PRNG keys held in state (LSH hash rngs, position-encoding rngs): uint32 words of the weight's stream, stored as int32 bit patterns. */
  prng_keys: (shape, rng) => {
    const out = new Float64Array(size(shape));
    for (let i = 0; i < out.length; i++) out[i] = rng.uint32();
    return out;
  },
};

// ---------------------------------------------------------------- lambdas

/** What the lambda evaluator understands (quoted in its errors). */
export const LAMBDA_FORMS = [
  'jnp.zeros(shape, dtype=...)', 'jnp.ones(shape)', 'jnp.full(shape, value)', 'np.arange(np.prod(shape)).reshape(shape)',
  'jax.random.normal/uniform/truncated_normal(rng, shape, ...)', 'tl.initializers.<Factory>(...)(shape, rng)',
  'tl.initializers.AtariConvInit', 'arithmetic with numbers and arrays (+ - * / // % **)', 'shape[i], shape[a:b], len(shape)',
  'math.sqrt/exp/log, np.sqrt/exp/log/sin/cos/abs', '.astype(dtype), .reshape(...)',
].join('; ');

type Val =
  | { k: 'num'; v: number }
  | { k: 'arr'; shape: number[]; data: Float64Array }
  | { k: 'tuple'; items: Val[] }
  | { k: 'fn'; name: string; call: (args: Val[], kw: Map<string, Val>) => Val }
  | { k: 'dtype'; d: DType }
  | { k: 'rng'; make: () => RandomStream }
  | { k: 'str'; v: string }
  | { k: 'none' };

class Unsupported extends Error {}

const INT_DTYPES = new Set<DType>(['int32', 'int64', 'int8', 'uint8']);
const DTYPE_NAMES: Record<string, DType> = {
  float32: 'float32', float16: 'float16', bfloat16: 'bfloat16', float64: 'float64', int32: 'int32', int64: 'int64',
  int8: 'int8', uint8: 'uint8', bool: 'bool', bool_: 'bool', float_: 'float64', int_: 'int64',
};

/** Prefixes that name the same module. */
const MODULE_ALIASES: [string, string][] = [
  ['jax.numpy.', 'np.'], ['numpy.', 'np.'], ['jnp.', 'np.'], ['onp.', 'np.'],
  ['jax.random.', 'random.'], ['trax.layers.initializers.', 'init.'], ['tl.initializers.', 'init.'], ['initializers.', 'init.'],
];

function canonicalName(dotted: string): string {
  for (const [from, to] of MODULE_ALIASES) if (dotted.startsWith(from)) return to + dotted.slice(from.length);
  return dotted;
}

function describeVal(v: Val): string {
  switch (v.k) {
    case 'num': return String(v.v);
    case 'arr': return `an array ${fmtShape(v.shape)}`;
    case 'tuple': return `a tuple of ${v.items.length}`;
    case 'fn': return `the function ${v.name}`;
    case 'dtype': return `the dtype ${v.d}`;
    case 'rng': return 'the rng';
    case 'str': return `'${v.v}'`;
    case 'none': return 'None';
  }
}

function asNum(v: Val, what: string): number {
  if (v.k === 'num') return v.v;
  if (v.k === 'arr' && v.data.length === 1 && v.shape.length === 0) return v.data[0];
  throw new Unsupported(`${what} must be a number, got ${describeVal(v)}`);
}

function asShape(v: Val, what: string): number[] {
  const items = v.k === 'tuple' ? v.items : v.k === 'num' ? [v] : null;
  if (!items) throw new Unsupported(`${what} must be a shape (a tuple of ints), got ${describeVal(v)}`);
  return items.map((x) => {
    const n = asNum(x, what);
    if (!Number.isInteger(n) || n < 0) throw new Unsupported(`${what} must hold non-negative integers, got ${n}`);
    return n;
  });
}

function asDtype(v: Val | undefined): DType | null {
  if (!v || v.k === 'none') return null;
  if (v.k === 'dtype') return v.d;
  if (v.k === 'str' && DTYPE_NAMES[v.v]) return DTYPE_NAMES[v.v];
  throw new Unsupported(`expected a dtype, got ${describeVal(v)}`);
}

function castData(data: Float64Array, d: DType | null): Float64Array {
  if (d === null) return data;
  if (d === 'bool') return data.map((x) => (x !== 0 ? 1 : 0));
  if (INT_DTYPES.has(d)) return data.map(Math.trunc);
  if (d === 'float32' || d === 'float16' || d === 'bfloat16') return data.map(Math.fround);
  return data;
}

function arr(shape: number[], data: Float64Array, d: DType | null = null): Val {
  return { k: 'arr', shape, data: castData(data, d) };
}

/** NumPy broadcasting of two shapes. */
function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Unsupported(`shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

function gather(v: { shape: number[]; data: Float64Array }, shape: number[]): Float64Array {
  if (v.shape.length === shape.length && v.shape.every((d, i) => d === shape[i])) return v.data;
  const n = size(shape);
  const out = new Float64Array(n);
  const r = shape.length;
  const off = r - v.shape.length;
  const strides = new Array<number>(r).fill(0);
  let s = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    strides[i + off] = v.shape[i] === 1 ? 0 : s;
    s *= v.shape[i];
  }
  for (let flat = 0; flat < n; flat++) {
    let rem = flat;
    let src = 0;
    for (let i = r - 1; i >= 0; i--) {
      src += (rem % shape[i]) * strides[i];
      rem = Math.floor(rem / shape[i]);
    }
    out[flat] = v.data[src];
  }
  return out;
}

const pyMod = (a: number, b: number): number => a - Math.floor(a / b) * b;
const BINOPS: Partial<Record<string, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => a / b,
  '//': (a, b) => Math.floor(a / b), '%': pyMod, '**': (a, b) => a ** b,
};

function binop(op: string, l: Val, r: Val): Val {
  const f = BINOPS[op];
  if (!f) throw new Unsupported(`the operator ${op} is not supported`);
  if (l.k === 'num' && r.k === 'num') {
    if ((op === '/' || op === '//' || op === '%') && r.v === 0) throw new Unsupported('division by zero');
    return { k: 'num', v: f(l.v, r.v) };
  }
  if (l.k === 'tuple' && r.k === 'tuple' && op === '+') return { k: 'tuple', items: [...l.items, ...r.items] };
  const toArr = (v: Val): { shape: number[]; data: Float64Array } => {
    if (v.k === 'arr') return v;
    if (v.k === 'num') return { shape: [], data: Float64Array.of(v.v) };
    throw new Unsupported(`cannot apply ${op} to ${describeVal(v)}`);
  };
  const a = toArr(l);
  const b = toArr(r);
  const shape = broadcastShape(a.shape, b.shape);
  const x = gather(a, shape);
  const y = gather(b, shape);
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]);
  return { k: 'arr', shape, data: out };
}

function elementwise(name: string, f: (x: number) => number): Val {
  return {
    k: 'fn', name, call: ([x]) => {
      if (!x) throw new Unsupported(`${name} needs an argument`);
      if (x.k === 'num') return { k: 'num', v: f(x.v) };
      if (x.k === 'arr') return { k: 'arr', shape: x.shape, data: x.data.map(f) };
      throw new Unsupported(`${name} of ${describeVal(x)}`);
    },
  };
}

/** Positional-or-keyword argument `i` / `name`. */
function arg(args: Val[], kw: Map<string, Val>, i: number, name: string): Val | undefined {
  return kw.get(name) ?? args[i];
}

function need(v: Val | undefined, fn: string, name: string): Val {
  if (!v) throw new Unsupported(`${fn} needs its argument ${name}`);
  return v;
}

function drawFn(name: string, fn: InitFn): Val {
  return {
    k: 'fn', name, call: (args, kw) => {
      const shape = asShape(need(arg(args, kw, 0, 'shape'), name, 'shape'), `${name}'s shape`);
      const rng = need(arg(args, kw, 1, 'rng'), name, 'rng');
      return arr(shape, fn(shape, streamOf(rng, name)), 'float32');
    },
  };
}

/**
 * The stream a random call draws from. JAX's rule "same key, same numbers"
 * holds: each call restarts the weight's stream.
 */
function streamOf(rng: Val, fn: string): RandomStream {
  if (rng.k !== 'rng') throw new Unsupported(`${fn} needs the lambda's rng, got ${describeVal(rng)}`);
  return rng.make();
}

function fill(name: string, value: (args: Val[], kw: Map<string, Val>) => number, dtypeAt: number): Val {
  return {
    k: 'fn', name, call: (args, kw) => {
      const shape = asShape(need(arg(args, kw, 0, 'shape'), name, 'shape'), `${name}'s shape`);
      return arr(shape, new Float64Array(size(shape)).fill(value(args, kw)), asDtype(arg(args, kw, dtypeAt, 'dtype')));
    },
  };
}

function reshape(a: Val, shape: number[]): Val {
  if (a.k !== 'arr' && a.k !== 'num') throw new Unsupported(`cannot reshape ${describeVal(a)}`);
  const data = a.k === 'num' ? Float64Array.of(a.v) : a.data;
  const unknown = shape.indexOf(-1);
  const s = [...shape];
  if (unknown >= 0) {
    const rest = size(s.filter((_, i) => i !== unknown));
    if (rest === 0 || data.length % rest !== 0) throw new Unsupported(`cannot reshape ${data.length} values to ${fmtShape(shape)}`);
    s[unknown] = data.length / rest;
  }
  if (size(s) !== data.length) throw new Unsupported(`cannot reshape ${data.length} values to ${fmtShape(shape)}`);
  return { k: 'arr', shape: s, data };
}

function shapeArgs(args: Val[]): number[] {
  // x.reshape(shape) or x.reshape(a, b, c)
  if (args.length === 1) return asShapeSigned(args[0]);
  return args.map((v) => asNum(v, 'reshape'));
}

function asShapeSigned(v: Val): number[] {
  const items = v.k === 'tuple' ? v.items : [v];
  return items.map((x) => asNum(x, 'a shape'));
}

const BUILTINS: Record<string, Val> = {
  'np.zeros': fill('jnp.zeros', () => 0, 1),
  'np.ones': fill('jnp.ones', () => 1, 1),
  'np.full': fill('jnp.full', (args, kw) => asNum(need(arg(args, kw, 1, 'fill_value'), 'jnp.full', 'fill_value'), 'fill_value'), 2),
  'np.empty': fill('jnp.empty', () => 0, 1),
  'np.arange': {
    k: 'fn', name: 'np.arange', call: (args, kw) => {
      const nums = args.map((v) => asNum(v, 'np.arange'));
      const [start, stop, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
      if (nums.length === 0 || nums.length > 3 || step === 0) throw new Unsupported('np.arange takes (stop), (start, stop) or (start, stop, step)');
      const n = Math.max(0, Math.ceil((stop - start) / step));
      if (n > 2 ** 28) throw new Unsupported(`np.arange of ${n} values is too large`);
      return arr([n], Float64Array.from({ length: n }, (_, i) => start + i * step), asDtype(kw.get('dtype')));
    },
  },
  'np.prod': {
    k: 'fn', name: 'np.prod', call: ([x]) => {
      if (x?.k === 'tuple') return { k: 'num', v: x.items.reduce((a, v) => a * asNum(v, 'np.prod'), 1) };
      if (x?.k === 'arr') return { k: 'num', v: x.data.reduce((a, v) => a * v, 1) };
      if (x?.k === 'num') return x;
      throw new Unsupported('np.prod needs a shape or an array');
    },
  },
  'np.reshape': { k: 'fn', name: 'np.reshape', call: ([a, s]) => reshape(need(a, 'np.reshape', 'a'), asShapeSigned(need(s, 'np.reshape', 'newshape'))) },
  'np.eye': {
    k: 'fn', name: 'np.eye', call: (args, kw) => {
      const n = asNum(need(arg(args, kw, 0, 'N'), 'np.eye', 'N'), 'N');
      const mv = arg(args, kw, 1, 'M');
      const m = mv && mv.k !== 'none' ? asNum(mv, 'M') : n;
      const out = new Float64Array(n * m);
      for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1;
      return arr([n, m], out, asDtype(kw.get('dtype')));
    },
  },
  'np.sqrt': elementwise('np.sqrt', Math.sqrt), 'np.exp': elementwise('np.exp', Math.exp), 'np.log': elementwise('np.log', Math.log),
  'np.sin': elementwise('np.sin', Math.sin), 'np.cos': elementwise('np.cos', Math.cos), 'np.abs': elementwise('np.abs', Math.abs),
  'math.sqrt': elementwise('math.sqrt', Math.sqrt), 'math.exp': elementwise('math.exp', Math.exp), 'math.log': elementwise('math.log', Math.log),
  'np.pi': { k: 'num', v: Math.PI }, 'math.pi': { k: 'num', v: Math.PI }, 'np.e': { k: 'num', v: Math.E }, 'math.e': { k: 'num', v: Math.E },
  int: elementwise('int', Math.trunc), float: elementwise('float', (x) => x), abs: elementwise('abs', Math.abs),
  len: {
    k: 'fn', name: 'len', call: ([x]) => {
      if (x?.k === 'tuple') return { k: 'num', v: x.items.length };
      if (x?.k === 'arr' && x.shape.length) return { k: 'num', v: x.shape[0] };
      throw new Unsupported('len needs a tuple or an array');
    },
  },
  'random.normal': {
    k: 'fn', name: 'jax.random.normal', call: (args, kw) => {
      const shape = asShape(arg(args, kw, 1, 'shape') ?? { k: 'tuple', items: [] }, 'shape');
      const out = new Float64Array(size(shape));
      streamOf(need(arg(args, kw, 0, 'key'), 'jax.random.normal', 'key'), 'jax.random.normal').fillNormal(out);
      return arr(shape, out, asDtype(arg(args, kw, 2, 'dtype')) ?? 'float32');
    },
  },
  'random.uniform': {
    k: 'fn', name: 'jax.random.uniform', call: (args, kw) => {
      const shape = asShape(arg(args, kw, 1, 'shape') ?? { k: 'tuple', items: [] }, 'shape');
      const lo = asNum(arg(args, kw, 3, 'minval') ?? { k: 'num', v: 0 }, 'minval');
      const hi = asNum(arg(args, kw, 4, 'maxval') ?? { k: 'num', v: 1 }, 'maxval');
      const out = new Float64Array(size(shape));
      streamOf(need(arg(args, kw, 0, 'key'), 'jax.random.uniform', 'key'), 'jax.random.uniform').fillUniform(out, lo, hi);
      return arr(shape, out, asDtype(arg(args, kw, 2, 'dtype')) ?? 'float32');
    },
  },
  'random.truncated_normal': {
    k: 'fn', name: 'jax.random.truncated_normal', call: (args, kw) => {
      const lo = asNum(need(arg(args, kw, 1, 'lower'), 'truncated_normal', 'lower'), 'lower');
      const hi = asNum(need(arg(args, kw, 2, 'upper'), 'truncated_normal', 'upper'), 'upper');
      if (!(lo < hi) || hi < -8 || lo > 8) throw new Unsupported(`truncated_normal needs lower < upper around 0, got [${lo}, ${hi}]`);
      const shape = asShape(arg(args, kw, 3, 'shape') ?? { k: 'tuple', items: [] }, 'shape');
      const out = new Float64Array(size(shape));
      streamOf(need(arg(args, kw, 0, 'key'), 'jax.random.truncated_normal', 'key'), 'jax.random.truncated_normal').fillTruncatedNormal(out, 1, lo, hi);
      return arr(shape, out, asDtype(arg(args, kw, 4, 'dtype')) ?? 'float32');
    },
  },
  'init.AtariConvInit': drawFn('AtariConvInit', atariConvInit),
};
for (const [name, d] of Object.entries(DTYPE_NAMES)) BUILTINS[`np.${name}`] = { k: 'dtype', d };

function initFactory(name: string): Val | undefined {
  if (!Object.prototype.hasOwnProperty.call(FACTORIES, name)) return undefined;
  const spec = INITIALIZERS[name].args;
  return {
    k: 'fn', name, call: (args, kw) => {
      const a: Record<string, PyValue> = {};
      const put = (pname: string, v: Val) => {
        if (v.k === 'num') a[pname] = v.v;
        else if (v.k === 'str') a[pname] = v.v;
        else throw new Unsupported(`${name}'s argument ${pname} must be a number or a string, got ${describeVal(v)}`);
      };
      args.forEach((v, i) => {
        if (i >= spec.length) throw new Unsupported(`${name} takes ${spec.length} arguments`);
        put(spec[i].name, v);
      });
      for (const [k, v] of kw) put(k, v);
      return drawFn(name, initCallFn({ $init: name, args: a }));
    },
  };
}

interface Scope {
  shapeName: string | null;
  shape: number[];
  rngName: string | null;
  rng: () => RandomStream;
  others: Set<string>;
}

function evaluate(n: PyNode, s: Scope): Val {
  switch (n.type) {
    case 'Num': return { k: 'num', v: n.value };
    case 'Str': return { k: 'str', v: n.value };
    case 'Const': return n.value === null ? { k: 'none' } : { k: 'num', v: n.value ? 1 : 0 };
    case 'Tuple': case 'List': return { k: 'tuple', items: n.elts.map((e) => evaluate(e, s)) };
    case 'Name':
      if (n.id === s.shapeName) return { k: 'tuple', items: s.shape.map((v) => ({ k: 'num', v })) };
      if (n.id === s.rngName) return { k: 'rng', make: s.rng };
      if (s.others.has(n.id)) return { k: 'none' };
      return lookup(n.id, n);
    case 'Attribute': {
      const dotted = dottedName(n);
      if (dotted && !isParam(dotted.split('.')[0], s)) return lookup(dotted, n);
      const v = evaluate(n.value, s);
      if (v.k === 'arr') {
        if (n.attr === 'shape') return { k: 'tuple', items: v.shape.map((d) => ({ k: 'num', v: d })) };
        if (n.attr === 'reshape') return { k: 'fn', name: 'reshape', call: (args) => reshape(v, shapeArgs(args)) };
        if (n.attr === 'astype') return { k: 'fn', name: 'astype', call: ([d]) => arr(v.shape, v.data, asDtype(need(d, 'astype', 'dtype'))) };
        if (n.attr === 'T' && v.shape.length <= 2) {
          if (v.shape.length < 2) return v;
          const [r, c] = v.shape;
          const out = new Float64Array(r * c);
          for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = v.data[i * c + j];
          return { k: 'arr', shape: [c, r], data: out };
        }
      }
      throw new Unsupported(`the attribute .${n.attr} of ${describeVal(v)} is not supported`);
    }
    case 'Call': {
      const f = evaluate(n.func, s);
      if (f.k !== 'fn') throw new Unsupported(`${describeVal(f)} is not callable`);
      const kw = new Map<string, Val>();
      for (const k of n.keywords) kw.set(k.name, evaluate(k.value, s));
      return f.call(n.args.map((a) => evaluate(a, s)), kw);
    }
    case 'BinOp': return binop(n.op, evaluate(n.left, s), evaluate(n.right, s));
    case 'UnaryOp': {
      const v = evaluate(n.operand, s);
      if (n.op === '+') return v;
      if (n.op === '-') return binop('*', { k: 'num', v: -1 }, v);
      throw new Unsupported(`the operator ${n.op} is not supported`);
    }
    case 'Subscript': {
      const v = evaluate(n.value, s);
      if (v.k !== 'tuple') throw new Unsupported(`indexing ${describeVal(v)} is not supported`);
      if (n.slice.type === 'Slice') {
        const len = v.items.length;
        const at = (x: PyNode | null, d: number): number => {
          if (!x) return d;
          const i = asNum(evaluate(x, s), 'a slice bound');
          return Math.min(len, Math.max(0, i < 0 ? i + len : i));
        };
        if (n.slice.step) throw new Unsupported('slices with a step are not supported');
        return { k: 'tuple', items: v.items.slice(at(n.slice.lower, 0), at(n.slice.upper, len)) };
      }
      const i = asNum(evaluate(n.slice, s), 'an index');
      const j = i < 0 ? i + v.items.length : i;
      if (!Number.isInteger(j) || j < 0 || j >= v.items.length) throw new Unsupported(`index ${i} is out of range for a tuple of ${v.items.length}`);
      return v.items[j];
    }
    default:
      throw new Unsupported(`${n.type} expressions are not supported`);
  }
}

function isParam(name: string, s: Scope): boolean {
  return name === s.shapeName || name === s.rngName || s.others.has(name);
}

function lookup(dotted: string, n: PyNode): Val {
  const name = canonicalName(dotted);
  const hit = Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : name.startsWith('init.') ? initFactory(name.slice(5)) : undefined;
  if (!hit) throw new Unsupported(`${dotted} is not supported (at column ${n.pos.col})`);
  return hit;
}

/** Evaluates a lambda initializer for `shape` (throws Unsupported or plain Errors). */
function lambdaValues(src: string, shape: readonly number[], stream: () => RandomStream): Float64Array {
  const ast = parseExpression(src);
  const scope: Scope = { shapeName: null, shape: [...shape], rngName: null, rng: stream, others: new Set() };
  let body = ast;
  if (ast.type === 'Lambda') {
    if (ast.varargs || ast.params.length < 1) throw new Unsupported('the lambda must take (shape, rng)');
    scope.shapeName = ast.params[0].name;
    scope.rngName = ast.params[1]?.name ?? null;
    for (const p of ast.params.slice(2)) scope.others.add(p.name);
    body = ast.body;
  }
  let v = evaluate(body, scope);
  // a function value (tl.initializers.AtariConvInit, tl.initializers.GlorotUniformInitializer()): Trax calls it with (shape, rng)
  if (ast.type !== 'Lambda' && v.k === 'fn') v = v.call([{ k: 'tuple', items: shape.map((d) => ({ k: 'num', v: d })) }, { k: 'rng', make: stream }], new Map());
  if (v.k === 'num' && shape.length === 0) return Float64Array.of(v.v);
  if (v.k !== 'arr') throw new Unsupported(`it returns ${describeVal(v)}, not an array`);
  if (v.shape.length !== shape.length || v.shape.some((d, i) => d !== shape[i])) {
    throw new Unsupported(`it returns shape ${fmtShape(v.shape)} but the weight has shape ${fmtShape(shape)}`);
  }
  return v.data;
}

// ---------------------------------------------------------------- the entry point

function concreteShape(ref: WeightRef): number[] {
  return ref.decl.shape.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new InitializerError(ref.key, `needs a concrete shape, got ${JSON.stringify(ref.decl.shape)}; give the model concrete input sizes`);
    }
    return d;
  });
}

function fromFile(ref: WeightRef, call: InitCall, shape: number[], opts: InitOptions): TensorValue {
  const path = call.args?.path;
  if (typeof path !== 'string') throw new InitializerError(ref.key, 'InitializerFromFile needs its argument path');
  if (!opts.loadFile) throw new InitializerError(ref.key, `InitializerFromFile('${path}') reads a .npy file: load the weights from a weights file, or give a file loader`);
  let t: TensorValue;
  try {
    t = opts.loadFile(path);
  } catch (e) {
    throw new InitializerError(ref.key, `InitializerFromFile('${path}'): ${(e as Error).message}`);
  }
  if (t.dims.length !== shape.length || t.dims.some((d, i) => d !== shape[i])) {
    throw new InitializerError(ref.key, `InitializerFromFile('${path}') holds shape ${fmtShape(t.dims)}, but the weight has shape ${fmtShape(shape)}`);
  }
  return t.dtype === ref.decl.dtype ? t : tensorFromValues(tensorNumbers(t), shape, ref.decl.dtype);
}

/**
 * The initial value of a weight or state tensor: deterministic in (seed,
 * ref.key, ref.decl). Throws InitializerError (naming the key) when the
 * initializer cannot be evaluated.
 */
export function initialValue(ref: WeightRef, seed: number, opts: InitOptions = {}): TensorValue {
  const init0 = ref.decl.init;
  if ('base' in init0) {
    // an initializer plus a constant: drawn as the base initializer, then shifted
    const base = initialValue({ ...ref, decl: { ...ref.decl, init: init0.base } }, seed, opts);
    return tensorFromValues(Float64Array.from(tensorNumbers(base), (x) => x + init0.offset), base.dims, ref.decl.dtype);
  }
  const shape = concreteShape(ref);
  if (!Number.isFinite(seed)) throw new InitializerError(ref.key, `the seed must be a finite number, got ${seed}`);
  const { init, dtype } = ref.decl;
  const stream = () => RandomStream.for(seed, ref.key);
  let values: Float64Array;
  if (isInitCall(init)) {
    if (init.$init === 'InitializerFromFile') return fromFile(ref, init, shape, opts);
    try {
      values = initCallFn(init)(shape, stream());
    } catch (e) {
      throw new InitializerError(ref.key, `${init.$init}: ${(e as Error).message}`);
    }
  } else if (isLambda(init)) {
    try {
      values = lambdaValues(init.$lambda, shape, stream);
    } catch (e) {
      if (e instanceof InitializerError) throw e;
      const why = e instanceof PySyntaxError ? `it does not parse (${e.message})` : (e as Error).message;
      throw new InitializerError(ref.key, `cannot evaluate the initializer \`${init.$lambda}\`: ${why}. Supported forms: ${LAMBDA_FORMS}`);
    }
  } else if ('fill' in init) {
    values = new Float64Array(size(shape)).fill(init.fill);
  } else if ('table' in init) {
    const table = Object.prototype.hasOwnProperty.call(TABLES, init.table) ? TABLES[init.table] : undefined;
    if (!table) throw new InitializerError(ref.key, `unknown table '${init.table}'; known tables: ${Object.keys(TABLES).join(', ')}`);
    try {
      values = table(shape, stream());
    } catch (e) {
      throw new InitializerError(ref.key, `table '${init.table}': ${(e as Error).message}`);
    }
  } else {
    throw new InitializerError(ref.key, `unknown initializer ${JSON.stringify(init)}`);
  }
  // float16/bfloat16 round through float32 first, as Trax casts its float32 draws
  return tensorFromValues(values, shape, dtype);
}
