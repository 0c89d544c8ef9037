/**
 * The `normalization` module: BatchNorm, LayerNorm, FilterResponseNorm.
 * Weight and state shapes follow trax/layers/normalization.py exactly
 * (including BatchNorm's literal `i not in axis` test for its weight shape).
 */
import type { Dim } from '../core/dim';
import { LayerError } from '../core/errors';
import { type DType, type ShapeDtype, floatOf, formatShapeDtype, normAxis, promote } from '../core/shape';
import { MODES, type Params, type WeightDecl, P } from './def';
import { family, type SpecNote } from './family';
import { lastDim } from './rules';

/** BatchNorm's axes, checked against the input rank (jnp.mean raises on out-of-range or repeated axes). */
function batchNormAxes(x: ShapeDtype, axis: readonly number[]): void {
  const seen = new Set<number>();
  for (const a of axis) {
    const n = normAxis(a, x.shape.length, 'BatchNorm axis');
    if (seen.has(n)) {
      throw new LayerError('shape_mismatch', `BatchNorm: axis ${a} appears twice in axis=(${axis.join(', ')})`, { expected: 'distinct axes' });
    }
    seen.add(n);
  }
}

/** Weight shape: the input dims whose index is not in `axis` (Trax tests `i not in axis` literally). */
function batchNormWeightShape(x: ShapeDtype, p: Params): Dim[] {
  const axis = p.axis as number[];
  return x.shape.filter((_, i) => !axis.includes(i));
}

/** Statistics shape: the input shape with the axes in `axis` set to 1. */
function batchNormStatsShape(x: ShapeDtype, p: Params): Dim[] {
  const axis = p.axis as number[];
  return x.shape.map((d, i) => (axis.includes(i) ? 1 : d));
}

export const normalizationLayers = family('normalization', {
  BatchNorm: {
    summary: 'Normalizes over axis with batch statistics (train) or running statistics (eval/predict): gamma * (x - mean)/sqrt(var + epsilon) + beta.',
    args: [
      P.ints('axis', [0, 1, 2]),
      P.float('epsilon', 1e-5),
      P.bool('center', true),
      P.bool('scale', true),
      P.float('momentum', 0.999),
      P.mode(),
    ],
    modes: {
      train: 'normalizes with the batch mean and variance (E[x^2] - E[x]^2) and updates the running statistics: momentum*old + (1-momentum)*new',
      eval: 'normalizes with the running statistics; no update',
      predict: 'normalizes with the running statistics; no update',
    },
    arity: () => ({ nIn: 1, nOut: 1 }),
    infer: ([x], p) => {
      batchNormAxes(x, p.axis);
      // z = (x - mean.astype(x.dtype)) / sqrt(var + eps).astype(x.dtype); beta and gamma are float32
      const z: DType = floatOf(x.dtype);
      const out: DType = p.center || p.scale ? promote(z, 'float32') : z;
      if (out !== x.dtype) {
        throw new LayerError('dtype', `BatchNorm must not change the dtype, but a ${x.dtype} input gives a ${out} output${p.center || p.scale ? ' (its beta and gamma are float32)' : ''}`, {
          expected: p.center || p.scale ? 'a float32 input' : 'a float input',
        });
      }
      return [x];
    },
    weights: ([x], p) => {
      const shape = batchNormWeightShape(x, p);
      const w: WeightDecl[] = [];
      if (p.center) w.push({ name: 'beta', shape, dtype: 'float32', init: { fill: 0 } });
      if (p.scale) w.push({ name: 'gamma', shape, dtype: 'float32', init: { fill: 1 } });
      return w;
    },
    state: ([x], p) => {
      const shape = batchNormStatsShape(x, p);
      return [
        { name: 'running_mean', shape, dtype: 'float32', init: { fill: 0 } },
        { name: 'running_var', shape, dtype: 'float32', init: { fill: 1 } },
        // jnp.int64, which is int32 with x64 off
        { name: 'n_batches', shape: [], dtype: 'int32', init: { fill: 0 } },
      ];
    },
  },
  LayerNorm: {
    summary: '(x - mean) / sqrt(var + epsilon) * scale + bias over the last axis (biased variance); center=False is RMS-norm and ignores bias.',
    args: [P.bool('center', true), P.float('epsilon', 1e-6)],
    arity: () => ({ nIn: 1, nOut: 1 }),
    infer: ([x]) => {
      lastDim(x);
      return [{ dtype: floatOf(x.dtype), shape: x.shape }];
    },
    weights: ([x]) => [
      { name: 'scale', shape: [lastDim(x)], dtype: x.dtype, init: { fill: 1 } },
      { name: 'bias', shape: [lastDim(x)], dtype: x.dtype, init: { fill: 0 } },
    ],
  },
  FilterResponseNorm: {
    summary: 'gamma * x / sqrt(mean(x^2 over axes 1..rank-2) + epsilon) + beta, per channel; epsilon = init_epsilon (+ |learnt| with learn_epsilon).',
    args: [
      P.str('mode', null, { nullable: true, choices: MODES }),
      P.bool('learn_epsilon', false),
      P.float('init_epsilon', 1e-6, { min: 0, minExclusive: true }),
      P.float('init_learnt_epsilon', 1e-4, { min: 0, minExclusive: true }),
    ],
    arity: () => ({ nIn: 1, nOut: 1 }),
    infer: ([x]) => {
      if (x.shape.length < 1) {
        throw new LayerError('rank', `FilterResponseNorm normalizes per channel (the last axis), got a scalar ${formatShapeDtype(x)}`, { expected: 'an input (B, ..., C)' });
      }
      // epsilon is a float32 array, so float16 inputs are promoted as well
      return [{ dtype: promote(floatOf(x.dtype), 'float32'), shape: x.shape }];
    },
    weights: ([x], p) => {
      const c = lastDim(x);
      const w: WeightDecl[] = [
        { name: 'gamma', shape: [c], dtype: 'float32', init: { fill: 1 } },
        { name: 'beta', shape: [c], dtype: 'float32', init: { fill: 0 } },
      ];
      if (p.learn_epsilon) w.push({ name: 'epsilon_l', shape: [], dtype: 'float32', init: { fill: p.init_learnt_epsilon } });
      return w;
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const normalizationNotes: Record<string, SpecNote> = {};
