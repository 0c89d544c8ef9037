/**
 * Helpers shared by the layers' ONNX lowerings. Every op used here runs on
 * onnxruntime's CPU and WebGPU providers (notes/gpu.md): no LogSoftmax (use
 * x - ReduceLogSumExp), no Sign/Selu/IsNaN/IsInf/Round/Or/OneHot/Random*,
 * integer index arithmetic in int32, no variadic Sum/Mean.
 */
import type { Attr, Emitter, OpType } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import type { DType, ShapeDtype } from '../core/shape';

export const int = (v: number): Attr => ({ int: v });
export const ints = (v: readonly number[]): Attr => ({ ints: [...v] });
export const float = (v: number): Attr => ({ float: v });

/** Cast `v` from `from` to `to` (no node when equal). */
export function cast(e: Emitter, v: string, from: DType, to: DType): string {
  // a GPU provider has no bfloat16 kernels: there bfloat16 values are held and computed as float32
  if (e.gpu) { from = gpuDtype(from); to = gpuDtype(to); }
  return from === to ? v : e.op1('Cast', [v], { to: int(ONNX_DTYPE[to]) });
}

/** The dtype a value has in a graph lowered for a GPU provider. */
export function gpuDtype(d: DType): DType {
  return d === 'bfloat16' ? 'float32' : d;
}

/** Casts every input to `to`. */
export function castAll(e: Emitter, vs: readonly string[], sigs: readonly ShapeDtype[], to: DType): string[] {
  return vs.map((v, i) => cast(e, v, sigs[i].dtype, to));
}

/** A binary elementwise op on inputs promoted to the output dtype. */
export function binary(e: Emitter, op: OpType, a: string, b: string, sa: ShapeDtype, sb: ShapeDtype, to: DType): string {
  return e.op1(op, [cast(e, a, sa.dtype, to), cast(e, b, sb.dtype, to)]);
}

/** Static shape of a concrete ShapeDtype (lowering runs on concrete sizes). */
export function dims(x: ShapeDtype): number[] {
  return x.shape.map((d) => Number(d));
}

export function reshape(e: Emitter, v: string, shape: readonly number[]): string {
  return e.op1('Reshape', [v, e.i64(shape)]);
}

/** Swaps axes a and b (Transpose), no node when equal. */
export function swapAxes(e: Emitter, v: string, rank: number, a: number, b: number): string {
  if (a === b) return v;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return e.op1('Transpose', [v], { perm: ints(perm) });
}

/**
 * log_softmax without LogSoftmax (which WebGPU lacks): x - logsumexp(x, axis),
 * the max subtracted first (WebGPU's ReduceLogSumExp does not, and overflows).
 */
export function logSoftmax(e: Emitter, x: string, axis: number): string {
  return e.op1('Sub', [x, logSumExp(e, x, axis)]);
}

/** Reverses `v` along `axis` (Slice with step -1). */
export function reverse(e: Emitter, v: string, axis: number): string {
  return e.op1('Slice', [v, e.i64([-1]), e.i64([-(2 ** 53)]), e.i64([axis]), e.i64([-1])]);
}

/** Normalises a possibly negative axis (after inference has checked it). */
export function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

// ---------------------------------------------------------------- random numbers without Random* ops

/** murmur3's 32-bit finalizer (used in TypeScript to derive keys; the graph has no xor or shifts). */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** FNV-1a of a string, 32 bits. */
function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * The two int32 keys of a random stream: from the run's seed (any integer
 * a double holds), the caller's salt and the graph-unique name of the node
 * that anchors the stream. `key` is odd (it multiplies the counter).
 */
export function randomKeys(seed: number, salt: string | number, anchor: string): [number, number] {
  const s = Math.trunc(seed);
  let k = fmix32((s >>> 0) ^ 0x9e3779b9);
  k = fmix32(k ^ (Math.floor(s / 2 ** 32) | 0));
  k = fmix32(k ^ strHash(String(salt)));
  k = fmix32(k ^ strHash(anchor));
  return [k | 1, fmix32(k + 0x6a09e667)];
}

const f32r = Math.fround;

/** rot16 as the graph computes it: x·2^16 (wrapping) + floor(f32(x)·2^-16). */
function rot16(x: number): number {
  return (Math.imul(x, 65536) + Math.floor(f32r(f32r(x) * 2 ** -16))) | 0;
}

/**
 * The TypeScript mirror of the graph `randomUniform` emits: the value of
 * element `i` for the keys `randomKeys` gives. Bit-exact on onnxruntime's
 * CPU provider (int32 products wrap, int32 -> float32 rounds to nearest even).
 */
export function uniformHash([key, key2]: readonly [number, number], i: number): number {
  let x = Math.imul(i, key);
  const y = x;
  const z = (y + key2) | 0;
  x = rot16((Math.imul(x, x) + y) | 0);
  x = rot16((Math.imul(x, x) + z) | 0);
  x = rot16((Math.imul(x, x) + y) | 0);
  x = (Math.imul(x, x) + z) | 0;
  return Math.min(f32r(f32r(f32r(x) + 2 ** 31) * 2 ** -32), f32r(1 - 2 ** -24));
}

/**
 * float32 values uniform in [0, 1) of the given static shape, from `e.seed`,
 * `salt` and the element's row-major index, using only ops every provider
 * runs on its device (no Random*: those fall back to the CPU and are not
 * reproducible).
 *
 * Construction: a counter-based generator after Widynski's "Squares" (2020),
 * in 32 bits because the graph has int32 Mul and Add (both wrap mod 2^32)
 * but no xor or shifts. With the element index i and keys (key odd, key2):
 *   x = i·key; y = x; z = y + key2
 *   three rounds  x = rot16(x·x + y | z)   (y, z, y)
 *   x = x·x + z;  u = (f32(x) + 2^31) · 2^-32, capped at 1 - 2^-24
 * where rot16(x) = x·2^16 + floor(f32(x)·2^-16) swaps the halves (the low half
 * shifted up by the wrapping product; the high half brought down through
 * float32, whose 24-bit rounding makes it off by one now and then —
 * deterministic, so harmless). Squaring is what makes it nonlinear: products
 * by constants and sums alone are linear mod 2^32 and give a lattice.
 * The keys come from fmix32 of the seed, the salt and the name of the index
 * node (the layer's tree path in the main graph), so every call site has its
 * own stream. u has 24 significant bits near 0 and 2^-24 spacing near 1.
 *
 * Quality (measured on 2^20 values for 5 seeds; engine/onnx/random.lower.test.ts
 * checks it): |mean - 1/2| <= 6e-4 and |variance - 1/12| <= 2e-4 (about 2 sd),
 * correlations at lags 1, 2, 1024, 4096 <= 2e-3 (their sd is 1e-3), 16×16 pair
 * and 8×8×8 triple chi-squares within 2 sd of their degrees of freedom, and
 * streams of neighbouring seeds or salts uncorrelated. Not cryptographic;
 * fine for dropout masks and random rotations.
 *
 * Reproducible: the same document, seed and salt give the same values
 * (bit-exact on the CPU provider; `uniformHash` is the TS mirror). The index
 * node's name differs between a function body and its inlined copy, and a
 * function body or a loop body is one stream for every call or iteration:
 * a caller that needs distinct streams there passes distinct salts.
 */
export function randomUniform(e: Emitter, shape: readonly number[], salt: string | number): string {
  const n = shape.reduce((a, d) => a * d, 1);
  const index = e.op1('Range', [e.i32(0), e.i32(n), e.i32(1)]);
  const [key, key2] = randomKeys(e.seed, salt, index);
  // in a training step, the step's rng input moves key2 (an odd multiplier keeps steps' keys distinct)
  const step = e.rngStep();
  const k2 = step ? e.op1('Add', [e.i32(key2), e.op1('Mul', [step, e.i32(0x2545f491)])]) : e.i32(key2);
  const [flat] = e.fn('UniformHash', 'UniformHash', [index, e.i32(key), k2], 1, (fe, [i, k, k2]) => {
    const sq = (a: string, b: string): string => fe.op1('Add', [fe.op1('Mul', [a, a]), b]);
    const rot = (a: string): string => {
      const high = fe.op1('Floor', [fe.op1('Mul', [fe.op1('Cast', [a], { to: int(ONNX_DTYPE.float32) }), fe.f32(2 ** -16)])]);
      return fe.op1('Add', [fe.op1('Mul', [a, fe.i32(65536)]), fe.op1('Cast', [high], { to: int(ONNX_DTYPE.int32) })]);
    };
    const y = fe.op1('Mul', [i, k]);
    const z = fe.op1('Add', [y, k2]);
    let x = rot(sq(y, y));
    x = rot(sq(x, z));
    x = rot(sq(x, y));
    x = sq(x, z);
    const u = fe.op1('Mul', [fe.op1('Add', [fe.op1('Cast', [x], { to: int(ONNX_DTYPE.float32) }), fe.f32(2 ** 31)]), fe.f32(2 ** -32)]);
    return [fe.op1('Min', [u, fe.f32(1 - 2 ** -24)])];
  }, 'float32 U[0,1) from an int32 counter and two keys (32-bit Squares-style hash; see engine/layers/lowering.ts randomUniform)');
  return reshape(e, flat, shape);
}

// ---------------------------------------------------------------- float formulas on any input dtype

/**
 * The dtype a float formula is computed in: float32, except float64 stays.
 * (float16/bfloat16 widen because onnxruntime's CPU provider lacks most half
 * kernels; integers and bools because the formula leaves them.)
 */
export function computeFloat(d: DType): DType {
  return d === 'float64' ? 'float64' : 'float32';
}

/** Casts x (of dtype `from`) to the compute float, applies `f`, and casts the result to `to`. */
export function viaFloat(e: Emitter, x: string, from: DType, to: DType, f: (x: string, dtype: DType) => string): string {
  const c = computeFloat(from);
  return cast(e, f(cast(e, x, from, c), c), c, to);
}

/** A scalar constant of a float compute dtype. */
export function scalarOf(e: Emitter, v: number, dtype: DType): string {
  return dtype === 'float64' ? e.constant({ dtype: 'float64', dims: [], data: Float64Array.of(v) }) : e.f32(v);
}

// ---------------------------------------------------------------- attention-family helpers

/**
 * logsumexp over `axis` computed as JAX does (max + log(sum(exp(x - max)))),
 * so rows of very negative logits (-1e9 masks) stay finite on every
 * provider, whatever its ReduceLogSumExp does.
 */
export function logSumExp(e: Emitter, x: string, axis: number, keepdims = true): string {
  const ax = e.i64([axis]);
  // the max only keeps exp finite: its gradient cancels exactly, so it is stopped (as jax.nn.logsumexp does)
  const m = e.stopGradient(e.op1('ReduceMax', [x, ax], { keepdims: int(1) }));
  const s = e.op1('ReduceSum', [e.op1('Exp', [e.op1('Sub', [x, m])]), ax], { keepdims: int(1) });
  const lse = e.op1('Add', [e.op1('Log', [s]), m]);
  return keepdims ? lse : e.op1('Squeeze', [lse, ax]);
}

/** A bool tensor: `v` itself when bool, else v != 0 (without a Cast to bool). */
export function truthy(e: Emitter, v: string, dtype: DType): string {
  if (dtype === 'bool') return v;
  const f = cast(e, v, dtype, 'float32');
  return e.op1('Not', [e.op1('Equal', [f, e.f32(0)])]);
}

/** float32 of any stack value (bool through Where: 1 / 0). */
export function toFloat32(e: Emitter, v: string, dtype: DType): string {
  if (dtype === 'bool') return e.op1('Where', [v, e.f32(1), e.f32(0)]);
  return cast(e, v, dtype, 'float32');
}

/** 0, 1, ..., n-1 (+ start) as a float32 constant of the given dims (default [n]). */
export function iotaF32(e: Emitter, n: number, dimsOf?: readonly number[], start = 0): string {
  return e.f32(Array.from({ length: n }, (_, i) => i + start), dimsOf ?? [n]);
}

/** FNV-1a hash of a string (32-bit). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A seeded uniform [0, 1) stream for lowering-time constants (mulberry32
 * seeded by the run's seed and a salt). Deterministic across platforms.
 */
export function seededUniform(seed: number, salt: string): () => number {
  let a = (hashString(`${seed}|${salt}`) ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` N(0, 1) samples (Box-Muller over seededUniform) as float32: LSH random rotations. */
export function seededNormals(seed: number, salt: string, n: number): Float32Array {
  const u = seededUniform(seed, salt);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

// ---------------------------------------------------------------- reductions, argmax, one-hot, logic (metrics, Fn, rnn)

/** A scalar constant of any stack dtype (halves and float64 through a Cast of float32, bool as a bool tensor). */
export function constantOf(e: Emitter, v: number | boolean, dtype: DType): string {
  const x = typeof v === 'boolean' ? (v ? 1 : 0) : v;
  // non-finite values skip the deduplicating constants (their keys print NaN and ±Infinity alike)
  if (!Number.isFinite(x) && (dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16')) {
    return cast(e, e.constant({ dtype: 'float32', dims: [], data: Float32Array.of(x) }), 'float32', dtype);
  }
  switch (dtype) {
    case 'float32': return e.f32(x);
    case 'int32': return e.i32(x);
    case 'int64': return e.i64(x);
    case 'bool': return e.constant({ dtype: 'bool', dims: [], data: Int32Array.of(x ? 1 : 0) });
    case 'float64': return e.constant({ dtype: 'float64', dims: [], data: Float64Array.of(x) });
    case 'int8': case 'uint8': return e.constant({ dtype, dims: [], data: Int32Array.of(x) });
    default: return cast(e, e.f32(x), 'float32', dtype);
  }
}

/** Reduce op over `axes` (null: all axes); an empty axis list reduces nothing (unlike ONNX's default). */
export function reduceOver(e: Emitter, op: OpType, x: string, axes: readonly number[] | null, keepdims = false): string {
  if (axes && axes.length === 0) return x;
  return e.op1(op, axes ? [x, e.i64(axes)] : [x], { keepdims: int(keepdims ? 1 : 0) });
}

/**
 * jnp.argmax / argmin over `axis` as int32, without ArgMax's int64 output
 * (int64 arithmetic and casts fall back to the CPU on WebGPU): the first
 * index where x equals its extremum, found as the min of a float iota (exact
 * below 2^24 entries). As in JAX, a NaN counts as the extremum (the first NaN
 * wins). `shape` is x's static shape.
 */
export function argExtremum(e: Emitter, x: string, dtype: DType, shape: readonly number[], axis: number, which: 'max' | 'min' = 'max', keepdims = false): string {
  const rank = shape.length;
  const n = shape[axis];
  const vd: DType = dtype === 'bool' || dtype === 'int8' || dtype === 'uint8' ? 'int32' : dtype === 'float16' || dtype === 'bfloat16' ? 'float32' : dtype;
  const v = cast(e, x, dtype, vd);
  const ext = e.op1(which === 'max' ? 'ReduceMax' : 'ReduceMin', [v, e.i64([axis])], { keepdims: int(1) });
  let hit = e.op1('Equal', [v, ext]);
  if (vd === 'float32' || vd === 'float64') {
    const nan = e.op1('Not', [e.op1('Equal', [v, v])]);
    const anyNan = e.op1('Greater', [e.op1('ReduceMax', [e.op1('Cast', [nan], { to: int(ONNX_DTYPE.float32) }), e.i64([axis])], { keepdims: int(1) }), e.f32(0)]);
    // (Where has no bool kernel on the CPU provider) hit = anyNan ? nan : hit
    hit = logicalOr(e, e.op1('And', [anyNan, nan]), e.op1('And', [e.op1('Not', [anyNan]), hit]));
  }
  const iota = e.f32(Array.from({ length: n }, (_, i) => i), shape.map((d, i) => (i === axis ? n : 1)).slice(0, rank));
  const first = e.op1('ReduceMin', [e.op1('Where', [hit, iota, e.f32(n)]), e.i64([axis])], { keepdims: int(keepdims ? 1 : 0) });
  return e.op1('Cast', [first], { to: int(ONNX_DTYPE.int32) });
}

/** one_hot(t, n) (t's shape + [n]) of dtype `to`: Equal against a constant arange (OneHot is not on every GPU provider). */
export function oneHot(e: Emitter, t: string, tDtype: DType, n: number, to: DType = 'float32'): string {
  const f = isFloatDtype(tDtype);
  const ar = Array.from({ length: n }, (_, i) => i);
  const tt = cast(e, t, tDtype, f ? 'float32' : 'int32');
  const eq = e.op1('Equal', [e.op1('Unsqueeze', [tt, e.i64([-1])]), f ? e.f32(ar) : e.i32(ar)]);
  return e.op1('Cast', [eq], { to: int(ONNX_DTYPE[to]) });
}

function isFloatDtype(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}

/** a OR b on bools (Or is not on every GPU provider): not(not a and not b). */
export function logicalOr(e: Emitter, a: string, b: string): string {
  return e.op1('Not', [e.op1('And', [e.op1('Not', [a]), e.op1('Not', [b])])]);
}

/** a XOR b on bools: (a or b) and not (a and b). */
export function logicalXor(e: Emitter, a: string, b: string): string {
  return e.op1('And', [logicalOr(e, a, b), e.op1('Not', [e.op1('And', [a, b])])]);
}

/** x != 0 as bool (bools pass through). */
export function truthOf(e: Emitter, x: string, dtype: DType): string {
  return dtype === 'bool' ? x : e.op1('Not', [e.op1('Equal', [x, constantOf(e, 0, dtype)])]);
}

/**
 * A string naming the layer being lowered (its tree path: the prefix the
 * emitter gives its nodes), for salts of random streams and lowering-time
 * random constants (LSH rotations) that must differ between layers even when
 * they are drawn inside a shared function body. Stable for a document; ''
 * for an emitter that has no such prefix.
 */
export function layerSalt(e: Emitter): string {
  return e.path;
}

/** Where(cond, a, b) for any dtype: bool values go through int32 (onnxruntime's CPU Where has no bool kernel). */
export function select(e: Emitter, cond: string, a: string, b: string, dtype: DType): string {
  if (dtype !== 'bool') return e.op1('Where', [cond, a, b]);
  const i = (v: string) => e.op1('Cast', [v], { to: int(ONNX_DTYPE.int32) });
  return e.op1('Cast', [e.op1('Where', [cond, i(a), i(b)])], { to: int(ONNX_DTYPE.bool) });
}
