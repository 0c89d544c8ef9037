/**
 * Shape rules shared by many layers (elementwise, reductions, concatenation,
 * reshapes). Each throws LayerError with a message a user can act on.
 */
import { type Dim, dimAdd, dimDivisible, dimFloorDiv, dimMul, dimProd } from '../core/dim';
import { LayerError } from '../core/errors';
import {
  type DType, type ShapeDtype, broadcastShapes, formatShape, formatShapeDtype, normAxis, promote,
} from '../core/shape';
import type { Arity, ChildArities } from './def';

/** Serial's running-max rule over a list of arities (n_in = deepest the stack gets). */
export function serialArity(arities: readonly Arity[]): Arity {
  if (arities.length === 0) return { nIn: 1, nOut: 1 };
  let total = 0, max = 0;
  for (const a of arities) {
    total += a.nIn;
    if (total > max) max = total;
    total -= a.nOut;
  }
  return { nIn: max, nOut: max - total };
}

export function childrenSerialArity(k: ChildArities): Arity {
  return serialArity(k.children);
}

/** Elementwise op over broadcast inputs; dtype promoted (or `dtype` if given). */
export function elementwise(inputs: readonly ShapeDtype[], dtype?: DType): ShapeDtype {
  let shape = inputs[0].shape as Dim[];
  let dt = inputs[0].dtype;
  for (let i = 1; i < inputs.length; i++) {
    shape = broadcastShapes(shape, inputs[i].shape);
    dt = promote(dt, inputs[i].dtype);
  }
  return { dtype: dtype ?? dt, shape };
}

/** Reduction over `axis` (null = all axes), as jnp.sum/mean/max do. */
export function reduce(x: ShapeDtype, axis: number | readonly number[] | null, keepdims: boolean, dtype?: DType): ShapeDtype {
  const rank = x.shape.length;
  const axes = new Set<number>(axis === null ? x.shape.map((_, i) => i) : (typeof axis === 'number' ? [axis] : axis).map((a) => normAxis(a, rank)));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.has(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return { dtype: dtype ?? x.dtype, shape };
}

/** Concatenation along `axis`; the other axes must agree. */
export function concat(inputs: readonly ShapeDtype[], axis: number): ShapeDtype {
  const first = inputs[0];
  const rank = first.shape.length;
  const ax = normAxis(axis, rank);
  let dt = first.dtype;
  let total: Dim = 0;
  for (const [i, x] of inputs.entries()) {
    if (x.shape.length !== rank) {
      throw new LayerError('rank', `cannot concatenate ${inputs.map(formatShapeDtype).join(' and ')}: input ${i} has rank ${x.shape.length}, input 0 has rank ${rank}`, { expected: 'inputs of equal rank' });
    }
    for (let j = 0; j < rank; j++) {
      if (j !== ax && x.shape[j] !== first.shape[j]) {
        throw new LayerError('shape_mismatch', `cannot concatenate on axis ${axis}: shapes ${inputs.map((y) => formatShape(y.shape)).join(' and ')} differ on axis ${j}`, { expected: `equal sizes on every axis but ${axis}` });
      }
    }
    dt = promote(dt, x.dtype);
    total = dimAdd(total, x.shape[ax]);
  }
  const shape = [...first.shape];
  shape[ax] = total;
  return { dtype: dt, shape };
}

/** Splits `axis` into n equal parts. */
export function splitEven(x: ShapeDtype, n: number, axis: number): ShapeDtype[] {
  const ax = normAxis(axis, x.shape.length);
  const d = x.shape[ax];
  if (dimDivisible(d, n) === false) {
    throw new LayerError('shape_mismatch', `cannot split axis ${axis} of size ${d} into ${n} equal parts`, { expected: `a size divisible by ${n}` });
  }
  const shape = [...x.shape];
  shape[ax] = dimFloorDiv(d, n);
  return Array.from({ length: n }, () => ({ dtype: x.dtype, shape }));
}

/** Reshape with at most one -1; checks the element count where it is known. */
export function reshape(x: ShapeDtype, target: readonly Dim[]): ShapeDtype {
  const total = dimProd(x.shape);
  const minus = target.findIndex((d) => d === -1);
  if (minus >= 0) {
    const known = dimProd(target.filter((_, i) => i !== minus));
    if (dimDivisible(total, known) === false) {
      throw new LayerError('shape_mismatch', `cannot reshape ${formatShape(x.shape)} to ${formatShape(target)}`, { expected: `a size divisible by ${known}` });
    }
    const shape = [...target];
    shape[minus] = dimFloorDiv(total, known);
    return { dtype: x.dtype, shape };
  }
  const t = dimProd(target);
  if (typeof t === 'number' && typeof total === 'number' && t !== total) {
    throw new LayerError('shape_mismatch', `cannot reshape ${formatShape(x.shape)} (${total} elements) to ${formatShape(target)} (${t} elements)`);
  }
  return { dtype: x.dtype, shape: [...target] };
}

/** x @ w over the last axis of x. */
export function matmulLast(x: ShapeDtype, din: Dim, dout: Dim, what: string): Dim[] {
  const last = x.shape[x.shape.length - 1];
  if (last !== din) {
    throw new LayerError('shape_mismatch', `${what}: input depth ${last} does not match ${din}`, { expected: `input depth ${din}` });
  }
  return [...x.shape.slice(0, -1), dout];
}

export function lastDim(x: ShapeDtype): Dim {
  if (x.shape.length === 0) {
    throw new LayerError('rank', `expects an input of rank >= 1, got a scalar ${formatShapeDtype(x)}`, { expected: 'rank >= 1' });
  }
  return x.shape[x.shape.length - 1];
}

export { dimMul, dimAdd };
