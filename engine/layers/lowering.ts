/**
 * Helpers shared by the layers' ONNX lowerings. Every op used here runs on
 * onnxruntime's CPU and WebGPU providers (notes/gpu.md): no LogSoftmax (use
 * x - ReduceLogSumExp), no Sign/Selu/IsNaN/IsInf/Round/Or/OneHot/Random*,
 * integer index arithmetic in int32, no variadic Sum/Mean.
 */
import type { Attr, Emitter } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import type { DType, ShapeDtype } from '../core/shape';

export const int = (v: number): Attr => ({ int: v });
export const ints = (v: readonly number[]): Attr => ({ ints: [...v] });
export const float = (v: number): Attr => ({ float: v });

/** Cast `v` from `from` to `to` (no node when equal). */
export function cast(e: Emitter, v: string, from: DType, to: DType): string {
  return from === to ? v : e.op1('Cast', [v], { to: int(ONNX_DTYPE[to]) });
}

/** Casts every input to `to`. */
export function castAll(e: Emitter, vs: readonly string[], sigs: readonly ShapeDtype[], to: DType): string[] {
  return vs.map((v, i) => cast(e, v, sigs[i].dtype, to));
}

/** A binary elementwise op on inputs promoted to the output dtype. */
export function binary(e: Emitter, op: string, a: string, b: string, sa: ShapeDtype, sb: ShapeDtype, to: DType): string {
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

/** log_softmax without LogSoftmax (which WebGPU lacks): x - logsumexp(x, axis). */
export function logSoftmax(e: Emitter, x: string, axis: number): string {
  return e.op1('Sub', [x, e.op1('ReduceLogSumExp', [x, e.i64([axis])], { keepdims: int(1) })]);
}

/** Reverses `v` along `axis` (Slice with step -1). */
export function reverse(e: Emitter, v: string, axis: number): string {
  return e.op1('Slice', [v, e.i64([-1]), e.i64([-(2 ** 53)]), e.i64([axis]), e.i64([-1])]);
}

/** Normalises a possibly negative axis (after inference has checked it). */
export function axisOf(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}
