/**
 * The `convolution` module: Conv (lax.conv_general_dilated with string
 * dimension numbers), Conv1d, CausalConv, CausalDepthwiseConv. Also the
 * output-size rule for windows (VALID / SAME) that pooling shares.
 */
import { type Dim, dimAdd, dimCeilDiv, dimFloorDiv, dimProd, dimSub } from '../core/dim';
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShape, formatShapeDtype, promote } from '../core/shape';
import {
  type InitCall, type Initializer, type Params, type WeightDecl, INIT, P, REQUIRED, badParam, fixed,
} from './def';
import { family, type SpecNote } from './family';
import { lastDim } from './rules';
import type { Emitter, LowerSig } from '../core/onnx';
import { cast, dims, int, ints, reshape, reverse } from './lowering';

/** Padding names lax.padtype_to_pads accepts. */
export const PADDINGS = ['VALID', 'SAME', 'SAME_LOWER'] as const;

/**
 * Output size of a window axis: VALID floor((n-k)/s)+1, SAME ceil(n/s).
 * `where` names the axis for the error when a VALID window does not fit.
 */
export function windowOutput(n: Dim, k: number, s: number, padding: string, where: string): Dim {
  if (padding !== 'VALID') return dimCeilDiv(n, s);
  if (typeof n === 'number') {
    if (n < k) {
      throw new LayerError('shape_mismatch', `${where}: the window of size ${k} does not fit in size ${n} with padding 'VALID'`, {
        expected: `a size >= ${k}, or padding='SAME'`,
      });
    }
    return Math.floor((n - k) / s) + 1;
  }
  return dimAdd(dimFloorDiv(dimSub(n, k), s), 1);
}

/**
 * (low, high) padding of a window axis as lax.padtype_to_pads gives it: VALID none;
 * SAME total = max((ceil(n/s) - 1)*s + k - n, 0) with low = total//2; SAME_LOWER the other way.
 */
export function windowPads(n: number, k: number, s: number, padding: string): [number, number] {
  if (padding === 'VALID') return [0, 0];
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const half = Math.floor(total / 2);
  return padding === 'SAME_LOWER' ? [total - half, half] : [half, total - half];
}

/** ONNX `pads` (all lows, then all highs). */
export function onnxPads(pads: readonly (readonly [number, number])[]): number[] {
  return [...pads.map((q) => q[0]), ...pads.map((q) => q[1])];
}

// ---------------------------------------------------------------- Conv core

interface ConvGeometry {
  lhs: string;
  rhs: string;
  out: string;
  /** spatial letters in rhs order (the order of kernel_size and strides) */
  spatial: string[];
}

const geometryCache = new Map<string, ConvGeometry>();

/** Parses and checks dimension_numbers; throws bad_param. */
function convGeometry(dn: readonly string[], param = 'dimension_numbers'): ConvGeometry {
  const key = dn.join('|');
  const hit = geometryCache.get(key);
  if (hit) return hit;
  const bad = (msg: string): never => badParam(param, `Conv's dimension_numbers ${fmtDn(dn)}: ${msg}`, "three layouts such as ('NHWC', 'HWIO', 'NHWC')");
  if (dn.length !== 3) bad(`expected three strings (input, kernel, output), got ${dn.length}`);
  const [lhs, rhs, out] = dn;
  if (lhs.length !== rhs.length || lhs.length !== out.length) bad('the three layouts must have the same length');
  if (lhs.length < 3) bad('a layout needs at least one spatial axis besides N and C (O and I for the kernel)');
  for (const s of [lhs, rhs, out]) if (new Set(s).size !== s.length) bad(`'${s}' repeats a letter`);
  for (const s of [lhs, out]) if (!s.includes('N') || !s.includes('C')) bad(`'${s}' must contain N (batch) and C (channels)`);
  if (!rhs.includes('O') || !rhs.includes('I')) bad(`the kernel layout '${rhs}' must contain O (output channels) and I (input channels)`);
  const spatial = [...rhs].filter((c) => c !== 'O' && c !== 'I');
  const spatialOf = (s: string): string => [...s].filter((c) => c !== 'N' && c !== 'C').sort().join('');
  if (spatialOf(lhs) !== [...spatial].sort().join('') || spatialOf(out) !== [...spatial].sort().join('')) {
    bad('the input, kernel and output layouts must name the same spatial axes');
  }
  const g = { lhs, rhs, out, spatial };
  geometryCache.set(key, g);
  return g;
}

function fmtDn(dn: readonly string[]): string {
  return `(${dn.map((s) => `'${s}'`).join(', ')})`;
}

/** Construction checks shared by Conv-like layers. */
function checkConv(kernel: readonly number[], strides: readonly number[] | null, dn: readonly string[], names: { kernel: string; strides: string }): void {
  const g = convGeometry(dn);
  if (kernel.length !== g.spatial.length) {
    badParam(names.kernel, `Conv's kernel layout '${g.rhs}' has ${g.spatial.length} spatial ${g.spatial.length === 1 ? 'axis' : 'axes'}, but kernel_size has ${kernel.length} entries`, `${g.spatial.length} kernel sizes`);
  }
  if (strides && strides.length > 0 && strides.length !== kernel.length) {
    badParam(names.strides, `Conv has ${kernel.length} window ${kernel.length === 1 ? 'axis' : 'axes'}, but strides has ${strides.length} entries`, `${kernel.length} strides`);
  }
}

interface ConvResult {
  out: ShapeDtype;
  inChannels: Dim;
}

/** Output of lax.conv_general_dilated (with Trax's folding of leading axes for NHWC). */
function convInfer(x: ShapeDtype, filters: number, kernel: readonly number[], strides: readonly number[] | null, padding: string, dn: readonly string[], what: string): ConvResult {
  const g = convGeometry(dn);
  if (x.dtype !== 'float32') {
    throw new LayerError('dtype', `${what}: lax.conv_general_dilated needs the input and the float32 kernel to have the same dtype, got ${formatShapeDtype(x)}`, {
      expected: 'a float32 input',
    });
  }
  const rank = x.shape.length;
  const n = g.lhs.length;
  let shape: readonly Dim[] = x.shape;
  let lead: Dim[] | null = null;
  if (rank > 4 && n === 4) {
    if (g.lhs !== 'NHWC' || g.out !== 'NHWC') {
      throw new LayerError('rank', `${what}: convolutions on more than 4 dimensions are only supported in NHWC, got ${formatShape(x.shape)} with ${fmtDn(dn)}`, { expected: 'a rank-4 input' });
    }
    lead = x.shape.slice(0, rank - 3) as Dim[];
    shape = [dimProd(lead), ...x.shape.slice(rank - 3)];
  } else if (rank !== n) {
    throw new LayerError('rank', `${what}: the input layout '${g.lhs}' needs an input of rank ${n}${n === 4 ? ' (or more, folded into the batch)' : ''}, got shape ${formatShape(x.shape)}`, {
      expected: `rank ${n} (${g.lhs})`,
    });
  }
  const sizes = new Map<string, Dim>();
  g.spatial.forEach((c, i) => {
    const axis = g.lhs.indexOf(c);
    const s = strides && strides.length ? strides[i] : 1;
    sizes.set(c, windowOutput(shape[axis], kernel[i], s, padding, `${what} on input axis ${lead ? axis + rank - 4 : axis} ('${c}')`));
  });
  const outShape = [...g.out].map((c) => (c === 'N' ? shape[g.lhs.indexOf('N')] : c === 'C' ? filters : sizes.get(c)!));
  const inChannels = shape[g.lhs.indexOf('C')];
  return {
    out: { dtype: x.dtype, shape: lead ? [...lead, ...outShape.slice(1)] : outShape },
    inChannels,
  };
}

function convWeights(x: ShapeDtype, filters: number, kernel: readonly number[], dn: readonly string[], p: Params): WeightDecl[] {
  const g = convGeometry(dn);
  const rank = x.shape.length;
  const inChannels = rank > 4 && g.lhs.length === 4 ? x.shape[rank - 1] : x.shape[g.lhs.indexOf('C')];
  let k = 0;
  const kshape = [...g.rhs].map((c) => (c === 'O' ? filters : c === 'I' ? inChannels : kernel[k++]));
  const init: Initializer = p.kernel_initializer ?? ({ $init: 'GlorotNormalInitializer', args: { out_dim: g.rhs.indexOf('O'), in_dim: g.rhs.indexOf('I') } } satisfies InitCall);
  const w: WeightDecl = { name: 'kernel', shape: kshape, dtype: 'float32', init };
  if (!p.use_bias) return [w];
  // the output layout with C -> filters and 1 elsewhere, leading 1s dropped (quirk: filters=1 in NHWC gives shape ())
  const b = [...g.out].map((c) => (c === 'C' ? filters : 1));
  const first = b.findIndex((d) => d !== 1);
  return [w, { name: 'bias', shape: first < 0 ? [] : b.slice(first), dtype: 'float32', init: p.bias_initializer }];
}

const NWC = ['NWC', 'WIO', 'NWC'];

interface ConvLowering {
  filters: number;
  kernel: readonly number[];
  strides: readonly number[] | null;
  /** a padding name, or explicit (low, high) per spatial axis in kernel order */
  padding: string | readonly (readonly [number, number])[];
  dn: readonly string[];
  useBias: boolean;
}

/**
 * lax.conv_general_dilated as an ONNX Conv: the input (leading axes folded into
 * the batch for rank > 4 NHWC) is transposed to (N, C, spatial in kernel order),
 * the kernel to (O, I, spatial), and the result back to the output layout.
 */
function lowerConv(e: Emitter, x: string, s: LowerSig, c: ConvLowering): string {
  const g = convGeometry(c.dn);
  const xin = s.inputs[0];
  let shape = dims(xin);
  let v = cast(e, x, xin.dtype, 'float32');
  const folded = shape.length > g.lhs.length;
  if (folded) {
    shape = [shape.slice(0, shape.length - 3).reduce((a, d) => a * d, 1), ...shape.slice(shape.length - 3)];
    v = reshape(e, v, shape);
  }
  const identity = (perm: number[]): boolean => perm.every((q, i) => q === i);
  const transpose = (t: string, perm: number[]): string => (identity(perm) ? t : e.op1('Transpose', [t], { perm: ints(perm) }));
  const xPerm = [g.lhs.indexOf('N'), g.lhs.indexOf('C'), ...g.spatial.map((ch) => g.lhs.indexOf(ch))];
  const wPerm = [g.rhs.indexOf('O'), g.rhs.indexOf('I'), ...g.spatial.map((ch) => g.rhs.indexOf(ch))];
  const strides = c.strides && c.strides.length ? [...c.strides] : c.kernel.map(() => 1);
  const pads = typeof c.padding === 'string'
    ? g.spatial.map((ch, i) => windowPads(shape[g.lhs.indexOf(ch)], c.kernel[i], strides[i], c.padding as string))
    : c.padding;
  const ins = [transpose(v, xPerm), transpose(e.weight('kernel'), wPerm)];
  if (c.useBias) ins.push(reshape(e, e.weight('bias'), [c.filters]));
  const y = e.op1('Conv', ins, { kernel_shape: ints(c.kernel), strides: ints(strides), pads: ints(onnxPads(pads)) });
  const order = ['N', 'C', ...g.spatial];
  let out = transpose(y, [...g.out].map((ch) => order.indexOf(ch)));
  if (folded) out = reshape(e, out, dims(s.outputs[0]));
  return cast(e, out, 'float32', s.outputs[0].dtype);
}

// ---------------------------------------------------------------- the family

export const convolutionLayers = family('convolution', {
  Conv: {
    summary: 'General convolution (cross-correlation) over the spatial axes of dimension_numbers; kernel from the kernel layout, bias per filter.',
    args: [
      P.int('filters', REQUIRED, { min: 1 }),
      P.ints('kernel_size', REQUIRED, { min: 1, minLength: 1 }),
      P.ints('strides', null, { nullable: true, min: 1 }),
      P.str('padding', 'VALID', { choices: PADDINGS }),
      P.strs('dimension_numbers', ['NHWC', 'HWIO', 'NHWC']),
      P.init('kernel_initializer', null, { nullable: true, doc: "None: GlorotNormalInitializer(out_dim=index of 'O', in_dim=index of 'I')" }),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
    ],
    check: (p) => checkConv(p.kernel_size, p.strides, p.dimension_numbers, { kernel: 'kernel_size', strides: 'strides' }),
    arity: fixed(1, 1),
    infer: ([x], p) => [convInfer(x, p.filters, p.kernel_size, p.strides, p.padding, p.dimension_numbers, 'Conv').out],
    weights: ([x], p) => convWeights(x, p.filters, p.kernel_size, p.dimension_numbers, p),
    lower: (e, [x], p, s) => [lowerConv(e, x, s, {
      filters: p.filters, kernel: p.kernel_size, strides: p.strides, padding: p.padding, dn: p.dimension_numbers, useBias: p.use_bias,
    })],
  },
  Conv1d: {
    summary: "Conv with layouts ('NWC', 'WIO', 'NWC'): a 1-D convolution over axis 1 of (batch, length, channels).",
    args: [
      P.int('filters', REQUIRED, { min: 1 }),
      P.int('kernel_size', REQUIRED, { min: 1 }),
      P.int('stride', 1, { min: 1 }),
      P.str('padding', 'VALID', { choices: PADDINGS }),
      P.init('kernel_initializer', null, { nullable: true, doc: 'None: GlorotNormalInitializer(out_dim=2, in_dim=1)' }),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
    ],
    arity: fixed(1, 1),
    infer: ([x], p) => [convInfer(x, p.filters, [p.kernel_size], [p.stride], p.padding, NWC, 'Conv1d').out],
    weights: ([x], p) => convWeights(x, p.filters, [p.kernel_size], NWC, p),
    lower: (e, [x], p, s) => [lowerConv(e, x, s, {
      filters: p.filters, kernel: [p.kernel_size], strides: [p.stride], padding: p.padding, dn: NWC, useBias: p.use_bias,
    })],
  },
  CausalConv: {
    summary: 'Causal 1-D convolution over (batch, time, depth): left-pads time with kernel_width-1 zeros, then a VALID Conv (length kept).',
    args: [
      P.int('filters', REQUIRED, { min: 1 }),
      P.int('kernel_width', 3, { min: 1 }),
      P.init('kernel_initializer', null, { nullable: true, doc: 'None: GlorotNormalInitializer(out_dim=2, in_dim=1)' }),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
    ],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length !== 3) {
        throw new LayerError('rank', `CausalConv pads the time axis of a (batch, time, depth) input, so it needs rank 3, got shape ${formatShape(x.shape)}`, { expected: 'rank 3 (batch, time, depth)' });
      }
      const padded: ShapeDtype = { dtype: x.dtype, shape: [x.shape[0], dimAdd(x.shape[1], p.kernel_width - 1), x.shape[2]] };
      const { out } = convInfer(padded, p.filters, [p.kernel_width], null, 'VALID', NWC, 'CausalConv');
      return [{ dtype: out.dtype, shape: [x.shape[0], x.shape[1], p.filters] }];
    },
    weights: ([x], p) => convWeights(x, p.filters, [p.kernel_width], NWC, p),
    // the left padding of kernel_width - 1 zeros is the Conv's own
    lower: (e, [x], p, s) => [lowerConv(e, x, s, {
      filters: p.filters, kernel: [p.kernel_width], strides: null, padding: [[p.kernel_width - 1, 0]], dn: NWC, useBias: p.use_bias,
    })],
  },
  CausalDepthwiseConv: {
    summary: 'Causal depthwise convolution over time: y[t] = sum_i x[t-i] * w[i] per channel (zeros before t = 0); w has shape (kernel_size, d).',
    args: [P.int('kernel_size', 3, { min: 1 }), P.init('kernel_initializer', INIT.glorotUniform()), P.bool('use_bfloat16', false)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length < 3) {
        throw new LayerError('rank', `CausalDepthwiseConv shifts the time axis of a (batch, time, depth) input, so it needs rank >= 3, got shape ${formatShape(x.shape)}`, { expected: 'rank 3 (batch, time, depth)' });
      }
      return [{ dtype: promote(x.dtype, p.use_bfloat16 ? 'bfloat16' : 'float32'), shape: x.shape }];
    },
    weights: ([x], p) => [{ name: 'kernel', shape: [p.kernel_size, lastDim(x)], dtype: p.use_bfloat16 ? 'bfloat16' : 'float32', init: p.kernel_initializer }],
    // a depthwise Conv over time (group = d, left padding k - 1, the kernel reversed so that
    // y[t] = sum_i x[t-i] w[i]); axes between time and depth are folded into the batch
    lower: (e, [x], p, s) => {
      const xin = s.inputs[0];
      const shape = dims(xin);
      const r = shape.length, k: number = p.kernel_size, d = shape[r - 1];
      const toEnd = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
      const back = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
      const moved = toEnd.map((a) => shape[a]);
      const batch = moved.slice(0, -2).reduce((a, b) => a * b, 1);
      const v = reshape(e, e.op1('Transpose', [cast(e, x, xin.dtype, 'float32')], { perm: ints(toEnd) }), [batch, d, shape[1]]);
      const w = cast(e, e.weight('kernel'), p.use_bfloat16 ? 'bfloat16' : 'float32', 'float32');
      const wk = reshape(e, reverse(e, e.op1('Transpose', [w], { perm: ints([1, 0]) }), 1), [d, 1, k]);
      const y = e.op1('Conv', [v, wk], { group: int(d), kernel_shape: ints([k]), pads: ints([k - 1, 0]) });
      const out = e.op1('Transpose', [reshape(e, y, moved)], { perm: ints(back) });
      return [cast(e, out, 'float32', s.outputs[0].dtype)];
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const convolutionNotes: Record<string, SpecNote> = {};
