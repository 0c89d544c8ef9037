/**
 * The `core` module: Dense, Embedding, Dropout, Weights, LocallyConnected1d
 * and the tensor-function layers (Fn layers in Trax: Flatten, LogSoftmax,
 * Mean, Sum, ArgMax, ...). Dtypes follow JAX with x64 off: a matmul with
 * float32 weights promotes its input, reductions that average give floats,
 * integer inputs stay integers where the formula does.
 */
import { type Dim, dimProd, dimSub } from '../core/dim';
import { LayerError } from '../core/errors';
import { type Emitter, type LowerSig, ONNX_DTYPE } from '../core/onnx';
import {
  argExtremum, axisOf, cast, computeFloat, dims, int, ints, logSumExp, randomUniform, reshape, scalarOf, viaFloat,
} from './lowering';
import {
  type DType, type ShapeDtype, floatOf, formatShape, formatShapeDtype, isFloat, isInt, normAxis, promote,
} from '../core/shape';
import {
  type Initializer, type LambdaValue, type LayerDef, type Params, type WeightDecl, INIT, P, REQUIRED, badParam, construct, fixed,
  isInitCall, isLambda,
} from './def';
import { type FamilyEntry, family, type SpecNote } from './family';
import { lastDim, matmulLast, reduce } from './rules';

// ---------------------------------------------------------------- helpers

/** Axes of a reduction, normalised, with numpy's duplicate check. */
function reduceAxes(x: ShapeDtype, axis: number | readonly number[] | null, what: string): void {
  if (axis === null || typeof axis === 'number') {
    if (typeof axis === 'number') normAxis(axis, x.shape.length, `${what} axis`);
    return;
  }
  const seen = new Set<number>();
  for (const a of axis) {
    const n = normAxis(a, x.shape.length, `${what} axis`);
    if (seen.has(n)) {
      throw new LayerError('shape_mismatch', `${what}: axis ${a} appears twice in axis=(${axis.join(', ')})`, { expected: 'distinct axes' });
    }
    seen.add(n);
  }
}

/** Integer dtypes that jnp.sum widens to the default int (int32 with x64 off). */
function sumDtype(d: DType): DType {
  return d === 'bool' || d === 'int8' || d === 'uint8' ? 'int32' : d;
}

/** A 1 -> 1 Fn layer that keeps shape and computes `dtype` from the input dtype. */
function elementwiseFn(summary: string, dtype: (d: DType) => DType = (d) => d, args: FamilyEntry['args'] = [], lower?: Lower): FamilyEntry {
  return {
    lower,
    summary,
    args,
    arity: fixed(1, 1),
    infer: ([x]) => [{ dtype: dtype(x.dtype), shape: x.shape }],
  };
}

/** A reduction Fn layer (Mean, Min, Max, Sum). */
function reduction(summary: string, defaultAxis: number | null, dtype: (d: DType) => DType, what: string, lower?: Lower): FamilyEntry {
  return {
    lower,
    summary,
    args: [P.intOrInts('axis', defaultAxis, { nullable: true }), P.bool('keepdims', false)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      reduceAxes(x, p.axis, what);
      return [reduce(x, p.axis, p.keepdims, dtype(x.dtype))];
    },
  };
}

const X64_OFF: Partial<Record<DType, DType>> = { float64: 'float32', int64: 'int32' };
const LAMBDA_DTYPE = /\b(?:jnp|np|numpy|jax\.numpy)\.(float32|float16|bfloat16|float64|int32|int64|int8|uint8|bool_?)\b|dtype\s*=\s*['"](float32|float16|bfloat16|float64|int32|int64|int8|uint8|bool)['"]/;

/** The dtype an initializer produces: Trax's initializers give float32; a lambda naming one dtype gives that. */
function initializerDtype(init: Initializer | null | undefined): DType {
  if (init && isLambda(init)) {
    const m = LAMBDA_DTYPE.exec(init.$lambda);
    if (m) {
      const name = (m[1] ?? m[2]).replace(/_$/, '') as DType;
      return X64_OFF[name] ?? name;
    }
  }
  return 'float32';
}

/** Scaled-family initializers accept the nonreceptive_dims argument LocallyConnected1d passes. */
const SCALED_FAMILY = new Set([
  'ScaledInitializer', 'GlorotNormalInitializer', 'GlorotUniformInitializer', 'LeCunNormalInitializer',
  'LeCunUniformInitializer', 'KaimingNormalInitializer', 'KaimingUniformInitializer',
]);

function bias(name: string, shape: readonly Dim[], dtype: DType, init: Initializer): WeightDecl {
  return { name, shape, dtype, init };
}

function localLength(x: ShapeDtype, p: Params): Dim {
  const L = x.shape[x.shape.length - 2];
  if (p.padding !== 'VALID') return L;
  const k: number = p.kernel_size;
  if (typeof L === 'number' && L < k) {
    throw new LayerError('shape_mismatch', `LocallyConnected1d: kernel_size ${k} is longer than the input length ${L} (axis -2) with padding 'VALID'`, {
      expected: `an input length >= ${k}`,
    });
  }
  return dimSub(L, k - 1);
}

// ---------------------------------------------------------------- lowering helpers

type Lower = NonNullable<LayerDef['lower']>;

/** Normalised reduction axes; null = all axes. */
function axesOf(axis: number | readonly number[] | null, rank: number): number[] | null {
  if (axis === null) return null;
  return (typeof axis === 'number' ? [axis] : axis).map((a) => axisOf(a, rank));
}

/**
 * The dtype a reduction runs in: floats in the compute float; int32/int64 as
 * they are (exact); narrow integers and bools widened to int32.
 */
function reduceDtype(d: DType, float: boolean): DType {
  if (float || isFloat(d)) return computeFloat(d);
  return d === 'int64' ? 'int64' : 'int32';
}

/** Mean / Min / Max / Sum: ReduceX over `axis` (None: all axes) with keepdims. */
function lowerReduce(op: 'ReduceMean' | 'ReduceMin' | 'ReduceMax' | 'ReduceSum'): Lower {
  return (e, [x], p, s) => {
    const xin = s.inputs[0], out = s.outputs[0];
    const rank = xin.shape.length;
    const axes = axesOf(p.axis, rank);
    const cd = reduceDtype(xin.dtype, op === 'ReduceMean');
    const xc = cast(e, x, xin.dtype, cd);
    // a scalar, or axis=() (numpy reduces nothing): the value itself
    if (rank === 0 || (axes && axes.length === 0)) return [cast(e, xc, cd, out.dtype)];
    const ins = axes ? [xc, e.i64(axes)] : [xc];
    return [cast(e, e.op1(op, ins, { keepdims: int(p.keepdims ? 1 : 0) }), cd, out.dtype)];
  };
}

/** An identity on n values (PrintShape, SummaryScalar, StopGradient). */
const identity: Lower = (_e, ins) => [...ins];

/**
 * LocallyConnected1d exactly as Trax computes it: r[..., l, k, :] = x[..., l, :] @ W[l, k]
 * for every input position l, then output t sums r[src(t, k), k] over k with
 * SAME/WRAP src = t + k - (K-1)/2 (zero / cyclic outside) and VALID
 * src = t + K-1-k (Trax shifts the VALID pieces the other way round).
 */
function lowerLocallyConnected(e: Emitter, x: string, p: Params, s: LowerSig): string {
  const xin = s.inputs[0], out = s.outputs[0];
  const shape = dims(xin);
  const L = shape[shape.length - 2], P = shape[shape.length - 1];
  const lead = shape.slice(0, -2);
  const N = lead.reduce((a, d) => a * d, 1);
  const K: number = p.kernel_size, F: number = p.filters;
  const Lout = p.padding === 'VALID' ? L - K + 1 : L;
  const xf = cast(e, x, xin.dtype, 'float32');
  const xt = e.op1('Transpose', [reshape(e, xf, [N, L, P])], { perm: ints([1, 0, 2]) });
  const w = reshape(e, e.op1('Transpose', [e.weight('kernel')], { perm: ints([0, 2, 1, 3]) }), [L, P, K * F]);
  const r = e.op1('MatMul', [xt, w]); // (L, N, K*F)
  let y: string;
  if (K === 1) {
    y = reshape(e, r, [L, N, F]);
  } else {
    const rk = reshape(e, e.op1('Transpose', [reshape(e, r, [L, N, K, F])], { perm: ints([0, 2, 1, 3]) }), [L * K, N, F]);
    const h = (K - 1) / 2;
    const index: number[] = [];
    const valid: number[] = [];
    for (let t = 0; t < Lout; t++) {
      for (let k = 0; k < K; k++) {
        let src = p.padding === 'VALID' ? t + K - 1 - k : t + k - h;
        const ok = src >= 0 && src < L;
        if (p.padding === 'WRAP') src = ((src % L) + L) % L;
        valid.push(ok || p.padding === 'WRAP' ? 1 : 0);
        index.push((ok || p.padding === 'WRAP' ? src : 0) * K + k);
      }
    }
    let g = e.op1('Gather', [rk, e.i32(index, [Lout, K])], { axis: int(0) }); // (L', K, N, F)
    if (valid.includes(0)) {
      g = e.op1('Where', [e.constant({ dtype: 'bool', dims: [Lout, K, 1, 1], data: Int32Array.from(valid) }), g, e.f32(0)]);
    }
    y = e.op1('ReduceSum', [g, e.i64([1])], { keepdims: int(0) });
  }
  y = reshape(e, e.op1('Transpose', [y], { perm: ints([1, 0, 2]) }), [...lead, Lout, F]);
  if (p.use_bias) y = e.op1('Add', [y, e.weight('bias')]);
  return cast(e, y, 'float32', out.dtype);
}

// ---------------------------------------------------------------- the family

export const coreLayers = family('core', {
  Dense: {
    summary: 'y = x @ W + b over the last axis; W has shape (d_in, n_units).',
    args: [
      P.int('n_units', REQUIRED, { min: 1 }),
      P.init('kernel_initializer', INIT.glorotUniform()),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
      P.bool('use_bfloat16', false),
    ],
    arity: fixed(1, 1),
    // jnp.dot(x, W) + b: the input dtype promotes with the weights' (float32, or bfloat16)
    infer: ([x], p) => [{ dtype: promote(x.dtype, p.use_bfloat16 ? 'bfloat16' : 'float32'), shape: matmulLast(x, lastDim(x), p.n_units, 'Dense') }],
    weights: ([x], p) => {
      const dtype: DType = p.use_bfloat16 ? 'bfloat16' : 'float32';
      const w: WeightDecl = { name: 'kernel', shape: [lastDim(x), p.n_units], dtype, init: p.kernel_initializer };
      return p.use_bias ? [w, bias('bias', [p.n_units], dtype, p.bias_initializer)] : [w];
    },
    lower: (e, [x], p, s) => {
      // 16-bit floats are multiplied in float32 (as XLA accumulates them; onnxruntime's CPU MatMul has no bfloat16)
      const out = s.outputs[0].dtype;
      const acc: DType = out === 'bfloat16' || out === 'float16' ? 'float32' : out;
      const wt: DType = p.use_bfloat16 ? 'bfloat16' : 'float32';
      const y = e.op1('MatMul', [cast(e, x, s.inputs[0].dtype, acc), cast(e, e.weight('kernel'), wt, acc)]);
      return [cast(e, p.use_bias ? e.op1('Add', [y, cast(e, e.weight('bias'), wt, acc)]) : y, acc, out)];
    },
  },
  Embedding: {
    summary: 'Looks up integer ids in a (vocab_size, d_feature) table; ids outside the vocabulary are clipped.',
    args: [
      P.int('vocab_size', REQUIRED, { min: 1 }),
      P.int('d_feature', REQUIRED, { min: 1 }),
      P.bool('use_bfloat16', false),
      P.init('kernel_initializer', INIT.scaled({ out_dim: -1, in_dim: -2, scale: 1.0, mode: 'fan_out', distribution: 'uniform' })),
    ],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (!isInt(x.dtype)) {
        throw new LayerError('dtype', `Embedding looks up integer token ids, got ${formatShapeDtype(x)}`, { expected: 'an integer input such as int32[B,L]' });
      }
      // jnp.take(W, ids) has W's dtype; with use_bfloat16 the result is cast back to float32
      const dtype = p.use_bfloat16 ? 'float32' : initializerDtype(p.kernel_initializer);
      return [{ dtype, shape: [...x.shape, p.d_feature] }];
    },
    weights: (_x, p) => [{ name: 'embedding', shape: [p.vocab_size, p.d_feature], dtype: p.use_bfloat16 ? 'bfloat16' : initializerDtype(p.kernel_initializer), init: p.kernel_initializer }],
    // take(W, ids, axis=0, mode='clip'): ids clipped into [0, vocab_size - 1] (int32), then Gather
    lower: (e, [ids], p, s) => {
      const table: DType = p.use_bfloat16 ? 'bfloat16' : initializerDtype(p.kernel_initializer);
      const clipped = e.op1('Clip', [cast(e, ids, s.inputs[0].dtype, 'int32'), e.i32(0), e.i32(p.vocab_size - 1)]);
      // (the table is cast before the Gather: a bfloat16 initializer's Cast folds away; a bfloat16 Gather has no GPU kernel)
      return [e.op1('Gather', [cast(e, e.weight('embedding'), table, s.outputs[0].dtype), clipped], { axis: int(0) })];
    },
  },
  Dropout: {
    summary: 'In train mode zeroes each element with probability rate and scales the rest by 1/(1-rate); identity otherwise.',
    args: [P.float('rate', 0.0, { min: 0, max: 1, maxExclusive: true }), P.ints('shared_axes', null, { nullable: true, style: 'list' }), P.mode()],
    modes: { train: 'active (random mask, scaled by 1/(1-rate))', eval: 'identity', predict: 'identity' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (p.mode !== 'train') return [x];
      for (const a of (p.shared_axes ?? []) as number[]) normAxis(a, x.shape.length, 'Dropout shared axis');
      // x * mask with mask = keep.astype(x.dtype) / keep_prob: integer inputs become float32
      return [{ dtype: floatOf(x.dtype), shape: x.shape }];
    },
    state: (_x, p) => [{ name: 'rate', shape: [], dtype: 'float32', init: { fill: p.rate } }],
    // train: keep = u < 1 - rate (u from randomUniform, one per element of the mask shape: x's shape
    // with the shared axes set to 1, broadcast); y = x * where(keep, 1/(1-rate), 0).
    // The rate is the constructor's (the state Trax keeps holds the same value).
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0], out = s.outputs[0];
      if (e.mode !== 'train' || p.rate === 0) return [cast(e, x, xin.dtype, out.dtype)];
      const shape = dims(xin);
      const maskShape = [...shape];
      for (const a of (p.shared_axes ?? []) as number[]) maskShape[axisOf(a, shape.length)] = 1;
      const keepProb = Math.fround(1 - p.rate);
      const u = randomUniform(e, maskShape, 'Dropout');
      const mask = e.op1('Where', [e.op1('Less', [u, e.f32(keepProb)]), e.f32(Math.fround(1 / keepProb)), e.f32(0)]);
      return [viaFloat(e, x, xin.dtype, out.dtype, (v, d) => e.op1('Mul', [v, cast(e, mask, 'float32', d)]))];
    },
  },
  Weights: {
    summary: 'A learnable tensor as a layer: takes no input and returns its weight (initializer(shape, rng)).',
    args: [P.init('initializer', REQUIRED), P.ints('shape', [], { min: 0 }), P.bool('use_bfloat16', false)],
    arity: fixed(0, 1),
    infer: (_x, p) => [{ dtype: p.use_bfloat16 ? 'bfloat16' : initializerDtype(p.initializer), shape: p.shape }],
    weights: (_x, p) => [{ name: 'weights', shape: p.shape, dtype: p.use_bfloat16 ? 'bfloat16' : initializerDtype(p.initializer), init: p.initializer }],
    lower: (e) => [e.weight('weights')],
  },
  PrintShape: {
    summary: 'Prints the shapes and dtypes of its n_in inputs (with msg) and returns them unchanged.',
    args: [P.int('n_in', 1, { min: 0 }), P.str('msg', '')],
    arity: (p) => ({ nIn: p.n_in, nOut: p.n_in }),
    infer: (xs) => [...xs],
    lower: identity,
  },
  SummaryImage: {
    summary: 'Returns its inputs and stores up to num_summaries batch items (concatenated over the inputs) as TensorBoard images in its state.',
    args: [P.str('name', REQUIRED), P.int('n_in', REQUIRED, { min: 1 }), P.int('num_summaries', 5, { min: 0 }), P.lambda('recover_fn', null, { nullable: true })],
    arity: (p) => ({ nIn: p.n_in, nOut: p.n_in }),
    infer: (xs, p) => {
      const images = p.num_summaries > 0 && !p.recover_fn;
      if (p.n_in === 1) {
        // (quirk) with one input Trax gets the bare tensor: x[0] is its first row and it returns x[:1]
        const [x] = xs;
        const need = images ? 3 : 2;
        if (x.shape.length < need) {
          throw new LayerError('rank', `SummaryImage with n_in=1 indexes x[0][s] and concatenates the images, so it needs an input of rank >= ${need}, got shape ${formatShape(x.shape)}`, { expected: `rank >= ${need}` });
        }
        const b = x.shape[0];
        return [{ dtype: x.dtype, shape: [typeof b === 'number' ? Math.min(b, 1) : 1, ...x.shape.slice(1)] }];
      }
      xs.forEach((x, i) => {
        if (x.shape.length < (images ? 2 : 1)) {
          throw new LayerError('rank', `SummaryImage takes batch item s of every input, so input ${i} needs rank >= ${images ? 2 : 1}, got shape ${formatShape(x.shape)}`, { expected: 'a batch of images' });
        }
        if (images && formatShape(x.shape.slice(2)) !== formatShape(xs[0].shape.slice(2))) {
          throw new LayerError('shape_mismatch', `SummaryImage concatenates each batch item of its inputs along their first axis, but input ${i} has shape ${formatShape(x.shape)} and input 0 ${formatShape(xs[0].shape)}`, {
            expected: 'inputs equal on every axis after the first two',
          });
        }
      });
      return [...xs];
    },
    state: (_x, p) => [{ name: `summary_${p.name}`, shape: [], dtype: 'float32', init: { fill: 0 } }],
    // returns its inputs (the images go to TensorBoard state, not an output here); n_in=1 returns x[:1]
    lower: (e, ins, p) => (p.n_in === 1 ? [e.op1('Slice', [ins[0], e.i64([0]), e.i64([1]), e.i64([0])])] : [...ins]),
  },
  SummaryScalar: {
    summary: 'Returns its input and stores aggregation_fun(x) (mean by default) in its state as a TensorBoard scalar.',
    args: [P.str('name', REQUIRED), P.lambda('aggregation_fun', { $lambda: 'jnp.mean' } satisfies LambdaValue)],
    arity: fixed(1, 1),
    infer: (xs) => [xs[0]],
    state: (_x, p) => [{ name: `summary_${p.name}`, shape: [], dtype: 'float32', init: { fill: 0 } }],
    // identity (the aggregated scalar is TensorBoard state, not an output here)
    lower: identity,
  },
  RandomUniform: {
    summary: 'Takes no input and returns a fresh tensor of the given shape, uniform in [min_val, max_val).',
    args: [
      P.float('min_val', 0.0), P.float('max_val', 1.0), P.ints('shape', [], { min: 0 }), P.dtype('dtype', 'float32'),
      P.bool('sync', false),
    ],
    check: (p) => {
      if (!isFloat(p.dtype)) badParam('dtype', `RandomUniform samples floats (jax.random.uniform), so dtype must be a float dtype, got ${p.dtype}`, 'a float dtype such as jnp.float32');
    },
    arity: fixed(0, 1),
    infer: (_x, p) => [{ dtype: p.dtype, shape: p.shape }],
    // random in every mode (a fresh draw per seed): min + (max - min) * u
    lower: (e, _x, p, s) => {
      const u = randomUniform(e, p.shape, 'RandomUniform');
      const y = e.op1('Add', [e.op1('Mul', [u, e.f32(p.max_val - p.min_val)]), e.f32(p.min_val)]);
      return [cast(e, y, 'float32', s.outputs[0].dtype)];
    },
  },
  LocallyConnected1d: {
    summary: 'A 1-D convolution with separate weights per position: W (L, kernel_size, d_in, filters); VALID shrinks L by kernel_size-1, SAME pads with zeros, WRAP cyclically.',
    args: [
      P.int('filters', REQUIRED, { min: 1 }),
      P.int('kernel_size', REQUIRED, { min: 1 }),
      P.init('kernel_initializer', INIT.glorotUniform()),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
      P.str('padding', 'VALID', { choices: ['VALID', 'SAME', 'WRAP'] }),
    ],
    check: (p) => {
      if (p.kernel_size % 2 !== 1) construct(`LocallyConnected1d needs an odd kernel_size, got ${p.kernel_size}`, 'kernel_size');
      const k = p.kernel_initializer;
      const ok = isInitCall(k) ? SCALED_FAMILY.has(k.$init) : isLambda(k) ? /nonreceptive_dims|\*\*/.test(k.$lambda) : true;
      if (!ok) {
        badParam('kernel_initializer', `LocallyConnected1d calls its kernel_initializer with nonreceptive_dims=[0], which ${isInitCall(k) ? k.$init : 'this lambda'} does not accept (TypeError at init)`, 'a Glorot/LeCun/Kaiming/Scaled initializer');
      }
    },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length < 2) {
        throw new LayerError('rank', `LocallyConnected1d expects an input (..., L, d) of rank >= 2, got shape ${formatShape(x.shape)}`, { expected: 'rank >= 2' });
      }
      return [{ dtype: promote(x.dtype, 'float32'), shape: [...x.shape.slice(0, -2), localLength(x, p), p.filters] }];
    },
    weights: ([x], p) => {
      const L = x.shape[x.shape.length - 2];
      const w: WeightDecl = { name: 'kernel', shape: [L, p.kernel_size, lastDim(x), p.filters], dtype: 'float32', init: p.kernel_initializer };
      return p.use_bias ? [w, bias('bias', [localLength(x, p), p.filters], 'float32', p.bias_initializer)] : [w];
    },
    lower: (e, [x], p, s) => [lowerLocallyConnected(e, x, p, s)],
  },
  Flatten: {
    summary: 'Reshapes to shape[:n_axes_to_keep] + (-1,): collapses the trailing axes into one.',
    args: [P.int('n_axes_to_keep', 1, { min: 0 })],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      const k: number = p.n_axes_to_keep;
      if (x.shape.length <= k) {
        throw new LayerError('rank', `Input rank (${x.shape.length}) must exceed the number of axes to keep (${k}) after flattening`, { expected: `rank > ${k}` });
      }
      return [{ dtype: x.dtype, shape: [...x.shape.slice(0, k), dimProd(x.shape.slice(k))] }];
    },
    lower: (e, [x], _p, s) => [reshape(e, x, dims(s.outputs[0]))],
  },
  LogSoftmax: {
    summary: 'x - logsumexp(x, axis, keepdims=True): log-probabilities along axis.',
    args: [P.int('axis', -1)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      normAxis(p.axis, x.shape.length, 'LogSoftmax axis');
      return [{ dtype: floatOf(x.dtype), shape: x.shape }];
    },
    // x - logsumexp(x): the LogSoftmax op is not on every GPU provider, and WebGPU's ReduceLogSumExp
    // overflows (exp without the max subtracted: inf for logits > 88), so max + log(sum(exp(x - max)))
    lower: (e, [x], p, s) => [viaFloat(e, x, s.inputs[0].dtype, s.outputs[0].dtype, (v) =>
      e.op1('Sub', [v, logSumExp(e, v, axisOf(p.axis, s.inputs[0].shape.length))]))],
  },
  LogSumExp: {
    summary: 'log(sum(exp(x))) along axis, keeping the axis (size 1).',
    args: [P.int('axis', -1)],
    arity: fixed(1, 1),
    infer: ([x], p) => [reduce(x, normAxis(p.axis, x.shape.length, 'LogSumExp axis'), true, floatOf(x.dtype))],
    // (as LogSoftmax: not WebGPU's ReduceLogSumExp, which overflows)
    lower: (e, [x], p, s) => [viaFloat(e, x, s.inputs[0].dtype, s.outputs[0].dtype, (v) => logSumExp(e, v, axisOf(p.axis, s.inputs[0].shape.length)))],
  },
  Softmax: {
    summary: 'exp(log_softmax(x, axis)): probabilities along axis.',
    args: [P.int('axis', -1)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      normAxis(p.axis, x.shape.length, 'Softmax axis');
      return [{ dtype: floatOf(x.dtype), shape: x.shape }];
    },
    lower: (e, [x], p, s) => [viaFloat(e, x, s.inputs[0].dtype, s.outputs[0].dtype, (v) =>
      e.op1('Softmax', [v], { axis: int(axisOf(p.axis, s.inputs[0].shape.length)) }))],
  },
  ToFloat: elementwiseFn('x.astype(float32).', () => 'float32', [], (e, [x], _p, s) => [cast(e, x, s.inputs[0].dtype, 'float32')]),
  Mean: reduction('Mean over axis (None: all axes); integers give float32.', -1, floatOf, 'Mean', lowerReduce('ReduceMean')),
  Min: reduction('Minimum over axis (None: all axes).', -1, (d) => d, 'Min', lowerReduce('ReduceMin')),
  Max: reduction('Maximum over axis (None: all axes).', -1, (d) => d, 'Max', lowerReduce('ReduceMax')),
  Sum: reduction('Sum over axis; (quirk) the default axis=None sums ALL elements.', null, sumDtype, 'Sum', lowerReduce('ReduceSum')),
  ThresholdToBinary: elementwiseFn('(x > threshold) as int32 (strict).', () => 'int32', [P.float('threshold', 0.5)], (e, [x], p, s) => {
    const d = computeFloat(s.inputs[0].dtype);
    const above = e.op1('Greater', [cast(e, x, s.inputs[0].dtype, d), scalarOf(e, p.threshold, d)]);
    return [e.op1('Cast', [above], { to: int(ONNX_DTYPE.int32) })];
  }),
  ArgMax: {
    summary: 'Index of the largest value along axis (int32); axis=None: over the flattened tensor.',
    args: [P.int('axis', -1, { nullable: true })],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (p.axis === null) return [{ dtype: 'int32', shape: [] }];
      return [reduce(x, normAxis(p.axis, x.shape.length, 'ArgMax axis'), false, 'int32')];
    },
    // the first index of the maximum as int32, without ArgMax's int64 (not castable on WebGPU)
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0];
      const shape = dims(xin);
      if (p.axis !== null) return [argExtremum(e, x, xin.dtype, shape, axisOf(p.axis, shape.length))];
      const n = shape.reduce((a, d) => a * d, 1);
      return [argExtremum(e, reshape(e, x, [n]), xin.dtype, [n], 0)];
    },
  },
  Negate: elementwiseFn('-x.', (d) => d, [], (e, [x], _p, s) => {
    const d = s.inputs[0].dtype;
    if (d === 'bool') return [e.op1('Not', [x])];
    if (isFloat(d)) return [viaFloat(e, x, d, d, (v) => e.op1('Neg', [v]))];
    // (Neg has no int32 kernel on WebGPU) 0 - x
    const c = reduceDtype(d, false);
    return [cast(e, e.op1('Sub', [c === 'int64' ? e.i64(0) : e.i32(0), cast(e, x, d, c)]), c, d)];
  }),
  StopGradient: elementwiseFn('Identity forward; blocks gradients (lax.stop_gradient).', (d) => d, [], identity),
});

export const coreNotes: Record<string, SpecNote> = {
  one_hot: { status: 'function', reason: 'one_hot(x, n_categories, dtype=float32) = (x[..., None] == arange(n)): a tensor function for Fn lambdas and metrics, shape x.shape + (n,)' },
  log_softmax: { status: 'function', reason: 'log_softmax(x, axis=-1) = x - logsumexp(x, axis, keepdims=True): the function behind LogSoftmax, for Fn lambdas' },
  log_gaussian_pdf: { status: 'function', reason: 'log N(x | mu, sigma) with a full covariance (slogdet, solve): a tensor function for Fn lambdas' },
  log_gaussian_diag_pdf: { status: 'function', reason: 'log N(x | mu, diag) for Fn lambdas; (quirk) it computes x - mu/diag_sigma (operator precedence) where x - mu is meant' },
  multigaussian_loss: { status: 'function', reason: 'mixture-of-Gaussians loss over preds (logits, mus, sigmas) and targets: a tensor function for Fn lambdas, not a layer' },
  logsoftmax_sample: { status: 'function', reason: 'samples ids from log-probabilities with a temperature (Gumbel trick, numpy rng): used by decoding loops, not a layer' },
};
