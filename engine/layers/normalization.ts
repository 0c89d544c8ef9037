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
import { axisOf, cast, dims, int, reshape, scalarOf, viaFloat } from './lowering';

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
    // train: batch statistics (mean, E[x^2] - mean^2), and where the run carries state (training)
    // the running statistics' update momentum*old + (1-momentum)*new and n_batches + 1.
    // eval/predict: the running statistics.
    // z = (x - mean) / sqrt(var + eps); gamma and beta expanded to the statistics' shape.
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0];
      const rank = xin.shape.length;
      const stats = dims({ dtype: xin.dtype, shape: batchNormStatsShape(xin, p) });
      return [viaFloat(e, x, xin.dtype, s.outputs[0].dtype, (v, d) => {
        let mean: string, variance: string;
        if (e.mode === 'train') {
          const axes = e.i64((p.axis as number[]).map((a) => axisOf(a, rank)));
          mean = e.op1('ReduceMean', [v, axes], { keepdims: int(1) });
          const m1 = e.op1('ReduceMean', [e.op1('Mul', [v, v]), axes], { keepdims: int(1) });
          variance = e.op1('Sub', [m1, e.op1('Mul', [mean, mean])]);
          if (e.carriesState) {
            const update = (name: string, batch: string): void => {
              const old = e.state(name);
              const fresh = cast(e, batch, d, 'float32');
              e.setState(name, e.op1('Add', [e.op1('Mul', [old, e.f32(p.momentum)]), e.op1('Mul', [fresh, e.f32(1 - p.momentum)])]));
            };
            update('running_mean', mean);
            update('running_var', variance);
            e.setState('n_batches', e.op1('Add', [e.state('n_batches'), e.i32(1)]));
          }
        } else {
          mean = cast(e, e.state('running_mean'), 'float32', d);
          variance = cast(e, e.state('running_var'), 'float32', d);
        }
        const std = e.op1('Sqrt', [e.op1('Add', [variance, scalarOf(e, p.epsilon, d)])]);
        let y = e.op1('Div', [e.op1('Sub', [v, mean]), std]);
        if (p.scale) y = e.op1('Mul', [reshape(e, cast(e, e.weight('gamma'), 'float32', d), stats), y]);
        if (p.center) y = e.op1('Add', [y, reshape(e, cast(e, e.weight('beta'), 'float32', d), stats)]);
        return y;
      })];
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
    // primitive ops in Trax's order (two-pass variance). Not the LayerNormalization op: onnxruntime's
    // WebGPU kernel computes E[x^2] - E[x]^2 in float32, which loses the variance when |mean| >> std
    // (rows 1000 + 0.01·sin: off by 8.6; 100 + 0.001·sin: NaN; its CPU kernel is exact).
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0];
      return [viaFloat(e, x, xin.dtype, s.outputs[0].dtype, (v, d) => {
        const last = e.i64([-1]);
        const c = p.center ? e.op1('Sub', [v, e.op1('ReduceMean', [v, last], { keepdims: int(1) })]) : v;
        const variance = e.op1('ReduceMean', [e.op1('Mul', [c, c]), last], { keepdims: int(1) });
        const norm = e.op1('Div', [c, e.op1('Sqrt', [e.op1('Add', [variance, scalarOf(e, p.epsilon, d)])])]);
        const y = e.op1('Mul', [norm, cast(e, e.weight('scale'), xin.dtype, d)]);
        return p.center ? e.op1('Add', [y, cast(e, e.weight('bias'), xin.dtype, d)]) : y;
      })];
    },
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
    // nu2 = mean(x^2 over axes 1..rank-2) (no reduction below rank 3); y = gamma * x * rsqrt(nu2 + eps) + beta
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0];
      const rank = xin.shape.length;
      return [viaFloat(e, x, xin.dtype, s.outputs[0].dtype, (v, d) => {
        const sq = e.op1('Mul', [v, v]);
        const axes = Array.from({ length: Math.max(rank - 2, 0) }, (_, i) => i + 1);
        const nu2 = axes.length ? e.op1('ReduceMean', [sq, e.i64(axes)], { keepdims: int(1) }) : sq;
        let eps = scalarOf(e, p.init_epsilon, d);
        if (p.learn_epsilon) eps = e.op1('Add', [eps, e.op1('Abs', [cast(e, e.weight('epsilon_l'), 'float32', d)])]);
        const xn = e.op1('Mul', [v, e.op1('Reciprocal', [e.op1('Sqrt', [e.op1('Add', [nu2, eps])])])]);
        const f32 = (w: string): string => cast(e, e.weight(w), 'float32', d);
        return e.op1('Add', [e.op1('Mul', [f32('gamma'), xn]), f32('beta')]);
      })];
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const normalizationNotes: Record<string, SpecNote> = {};
