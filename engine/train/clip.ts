/**
 * Gradient clipping by global norm, as Trax's `Optimizer.tree_update` does
 * it before any per-weight update: every gradient element of every weight
 * counts as one vector, and if that vector's L2 norm is not below
 * `clip_grad_norm` all gradients are scaled by `clip_grad_norm / norm`.
 *
 * Also the few numeric helpers the optimizer pieces share: the dtype an
 * update computes in, and scalar constants of that dtype.
 */
import { type Emitter, ONNX_DTYPE } from '../core/onnx';
import type { DType } from '../core/shape';
import { HyperParamError } from './hyper';

/** The dtype an update computes in: float64 weights stay float64; 16-bit floats compute in float32. */
export type ComputeDtype = 'float32' | 'float64';

export function computeDtypeOf(dtype: DType, what: string): ComputeDtype {
  if (dtype === 'float64') return 'float64';
  if (dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16') return 'float32';
  throw new HyperParamError('dtype', `${what} has dtype ${dtype}: only floating-point weights can be trained`, 'float32, float64, float16 or bfloat16');
}

const f64Consts = new WeakMap<Emitter, Map<string, string>>();

/** A scalar constant of the compute dtype (float64 ones are shared per emitter, as `e.f32` shares float32 ones). */
export function scalar(e: Emitter, value: number, dtype: ComputeDtype): string {
  if (dtype === 'float32') return e.f32(value);
  let m = f64Consts.get(e);
  if (!m) f64Consts.set(e, (m = new Map()));
  const key = Object.is(value, -0) ? '-0' : String(value);
  let name = m.get(key);
  if (!name) m.set(key, (name = e.constant({ dtype: 'float64', dims: [], data: Float64Array.of(value) })));
  return name;
}

/** `x` (of dtype `from`) as dtype `to`; no node when they agree. */
export function castTo(e: Emitter, x: string, from: DType, to: DType): string {
  return from === to ? x : e.op1('Cast', [x], { to: { int: ONNX_DTYPE[to] } });
}

export interface GradValue {
  /** the gradient's value name in the graph */
  readonly value: string;
  readonly dtype: DType;
}

/**
 * sqrt(Σ over all gradients of Σ g²): Trax's `_l2_norm` of the flattened
 * gradient tree (its `gradients_l2` metric). float32 scalar, or float64
 * when any gradient is float64. A chain of Adds, not variadic Sum (which
 * the WebGPU provider does not run).
 */
export function globalNorm(e: Emitter, grads: readonly GradValue[]): { norm: string; dtype: ComputeDtype } {
  if (grads.length === 0) throw new HyperParamError('weights', 'the global gradient norm needs at least one gradient');
  const dtype: ComputeDtype = grads.some((g) => g.dtype === 'float64') ? 'float64' : 'float32';
  let total: string | undefined;
  for (const g of grads) {
    const x = castTo(e, g.value, g.dtype, computeDtypeOf(g.dtype, 'a gradient'));
    // ReduceSum(x·x) rather than ReduceSumSquare: the ops a lowering may emit are one closed list (core/onnx.ts)
    const sq = castTo(e, e.op1('ReduceSum', [e.op1('Mul', [x, x])], { keepdims: { int: 0 } }), computeDtypeOf(g.dtype, 'a gradient'), dtype);
    total = total === undefined ? sq : e.op1('Add', [total, sq]);
  }
  return { norm: e.op1('Sqrt', [total!]), dtype };
}

/**
 * Trax's clipping: `where(norm < max_norm, g, g * (max_norm / norm))` for
 * every gradient, with one shared factor (a multiply by exactly 1 when the
 * norm is below the threshold, so those gradients pass unchanged).
 * Returns the clipped gradients (same order and dtypes) and the norm
 * before clipping.
 */
export function clipByGlobalNorm(e: Emitter, grads: readonly GradValue[], maxNorm: number): { grads: string[]; norm: string; normDtype: ComputeDtype } {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new HyperParamError('clip_grad_norm', `clip_grad_norm must be a number > 0, got ${maxNorm}`, 'a number > 0');
  }
  const { norm, dtype } = globalNorm(e, grads);
  const max = scalar(e, maxNorm, dtype);
  const factor = e.op1('Where', [e.op1('Less', [norm, max]), scalar(e, 1, dtype), e.op1('Div', [max, norm])]);
  const factors = new Map<DType, string>();
  const clipped = grads.map((g) => {
    let f = factors.get(g.dtype);
    if (!f) factors.set(g.dtype, (f = castTo(e, factor, dtype, g.dtype)));
    return e.op1('Mul', [g.value, f]);
  });
  return { grads: clipped, norm, normDtype: dtype };
}
