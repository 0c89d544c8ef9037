/**
 * The `pooling` module: MaxPool, SumPool, AvgPool (Fn layers over
 * lax.reduce_window). Windows cover every axis but the first and the last;
 * (quirk) strides default to 1, not to pool_size.
 */
import type { Dim } from '../core/dim';
import { LayerError } from '../core/errors';
import { type DType, type ShapeDtype, floatOf, formatShape } from '../core/shape';
import { type FamilyEntry, family, type SpecNote } from './family';
import { P, badParam, fixed } from './def';
import { PADDINGS, onnxPads, windowOutput, windowPads } from './convolution';
import { cast, dims, int, ints } from './lowering';

/**
 * Pools over the window axes: the input (B, spatial..., C) is transposed to
 * (B, C, spatial...) for ONNX and back. MaxPool: MaxPool (pads are never the
 * max: -inf). AvgPool: AveragePool with count_include_pad=0 (divides by the real
 * elements). SumPool: a depthwise Conv with a ones kernel (zero padding). All in
 * float32 (integer inputs are exact below 2^24) and cast to the output dtype.
 */
function lowerPool(kind: 'MaxPool' | 'SumPool' | 'AvgPool'): NonNullable<FamilyEntry['lower']> {
  return (e, [x], p, s) => {
    const xin = s.inputs[0];
    const shape = dims(xin);
    const rank = shape.length;
    const size = p.pool_size as number[];
    const strides = p.strides && p.strides.length ? (p.strides as number[]) : size.map(() => 1);
    const pads = onnxPads(size.map((k, i) => windowPads(shape[i + 1], k, strides[i], p.padding)));
    const toNC = [0, rank - 1, ...size.map((_, i) => i + 1)];
    const back = [0, ...size.map((_, i) => i + 2), 1];
    const v = e.op1('Transpose', [cast(e, x, xin.dtype, 'float32')], { perm: ints(toNC) });
    const attrs = { kernel_shape: ints(size), strides: ints(strides), pads: ints(pads) };
    let y: string;
    if (kind === 'MaxPool') y = e.op1('MaxPool', [v], attrs);
    else if (kind === 'AvgPool') y = e.op1('AveragePool', [v], { ...attrs, count_include_pad: int(0) });
    else {
      const c = shape[rank - 1];
      const n = c * size.reduce((a, b) => a * b, 1);
      const ones = e.f32(new Array<number>(n).fill(1), [c, 1, ...size]);
      y = e.op1('Conv', [v, ones], { ...attrs, group: int(c) });
    }
    return [cast(e, e.op1('Transpose', [y], { perm: ints(back) }), 'float32', s.outputs[0].dtype)];
  };
}

function fmtTuple(xs: readonly number[]): string {
  return xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`;
}

function pool(kind: string, summary: string, dtype: (d: DType) => DType): FamilyEntry {
  return {
    summary,
    args: [P.ints('pool_size', [2, 2], { min: 1 }), P.ints('strides', null, { nullable: true, min: 1 }), P.str('padding', 'VALID', { choices: PADDINGS })],
    check: (p) => {
      const strides = p.strides as number[] | null;
      if (strides && strides.length > 0 && strides.length !== p.pool_size.length) {
        badParam('strides', `${kind}: strides ${fmtTuple(strides)} must have the same length as pool_size ${fmtTuple(p.pool_size)}`, `${p.pool_size.length} strides`);
      }
    },
    arity: fixed(1, 1),
    infer: ([x]: readonly ShapeDtype[], p) => {
      const size = p.pool_size as number[];
      const strides = p.strides as number[] | null;
      if (x.shape.length !== size.length + 2) {
        throw new LayerError('rank', `${kind} with pool_size ${fmtTuple(size)} pools ${size.length} window ${size.length === 1 ? 'axis' : 'axes'} between the batch and channel axes, so it needs an input of rank ${size.length + 2}, got shape ${formatShape(x.shape)}`, {
          expected: `rank ${size.length + 2} (batch, ${size.length} window ${size.length === 1 ? 'axis' : 'axes'}, channels)`,
        });
      }
      const shape: Dim[] = [...x.shape];
      size.forEach((k, i) => {
        shape[i + 1] = windowOutput(x.shape[i + 1], k, strides && strides.length ? strides[i] : 1, p.padding, `${kind} on axis ${i + 1}`);
      });
      return [{ dtype: dtype(x.dtype), shape }];
    },
    lower: lowerPool(kind as 'MaxPool' | 'SumPool' | 'AvgPool'),
  };
}

export const poolingLayers = family('pooling', {
  MaxPool: pool('MaxPool', 'Max over each window of the axes between batch and channels (SAME pads with -inf); strides default to 1.', (d) => d),
  SumPool: pool('SumPool', 'Sum over each window of the axes between batch and channels (SAME pads with 0); strides default to 1.', (d) => d),
  AvgPool: pool('AvgPool', 'Mean over each window of the axes between batch and channels; SAME divides by the count of real (unpadded) elements; strides default to 1.', floatOf),
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const poolingNotes: Record<string, SpecNote> = {};
