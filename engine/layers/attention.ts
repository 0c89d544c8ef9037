/**
 * The `attention` module: standard (dense) multi-head attention, its masks,
 * head splitting and the sin/cos PositionalEncoding.
 *
 * Attention, AttentionQKV, ConfigurableAttention and CausalAttention are Trax
 * layer functions that return Serials; they are written as expansions that
 * build the same tree. Trax wraps those functions in `assert_shape`
 * contracts (`Serial(AssertShape, layer, AssertShape)`, semantics §1.6); here
 * the contract is the internal `AssertShape` kind placed first in the
 * expansion, with the sizes the output check would bind (e.g. Attention's
 * `d` = d_feature) bound up front.
 */
import { type Dim, dimDivisible, dimFloorDiv, dimMul } from '../core/dim';
import { LayerError } from '../core/errors';
import {
  type DType, type ShapeDtype, broadcastShapes, formatShape, formatShapeDtype, promote,
} from '../core/shape';
import {
  type ExpandNode, INIT, MODES, P, type PyValue, REQUIRED, type WeightDecl, badParam, construct, fixed,
} from './def';
import { family, type SpecNote } from './family';
import { lastDim } from './rules';
import type { Emitter, LowerSig } from '../core/onnx';
import type { Params } from './def';
import { cast, dims, int, ints, iotaF32, layerSalt, logSumExp, randomUniform, reshape, toFloat32, truthy } from './lowering';

// ---------------------------------------------------------------- shape contracts (assert_shape)

interface ParsedSpec {
  /** per input: its tokens ('...', a letter or a digit) */
  readonly parts: readonly (readonly string[])[];
}

const specCache = new Map<string, ParsedSpec>();

function parseSpec(spec: string): ParsedSpec {
  const hit = specCache.get(spec);
  if (hit) return hit;
  const parts = spec.split(',').map((part) => {
    const tokens: string[] = [];
    const s = part.trim();
    for (let i = 0; i < s.length; i++) {
      if (s.startsWith('...', i)) { tokens.push('...'); i += 2; continue; }
      const c = s[i];
      if (!/[A-Za-z0-9]/.test(c)) construct(`shape specification '${spec}' has an unexpected character '${c}'`, 'specification');
      tokens.push(c);
    }
    if (tokens.filter((t) => t === '...').length > 1) construct(`shape specification '${part}' has more than one '...'`, 'specification');
    return tokens;
  });
  const p = { parts };
  specCache.set(spec, p);
  return p;
}

function prettySpec(tokens: readonly string[]): string {
  return `[${tokens.join(',')}]`;
}

function isDigit(t: string): boolean {
  return t.length === 1 && t >= '0' && t <= '9';
}

/**
 * Checks inputs against an assert_shape specification ('bld,b11l'): letters
 * bind sizes across all inputs (and to `sizes` given up front), digits must
 * equal that size, '...' binds a run of axes that must be the same wherever it
 * appears. Symbolic dims bind by name.
 */
export function checkShapeSpec(
  inputs: readonly ShapeDtype[], spec: string,
  opts: { layer?: string | null; names?: readonly string[] | null; sizes?: readonly (readonly [string, Dim, string])[] } = {},
): void {
  const { parts } = parseSpec(spec);
  const who = opts.layer ? `${opts.layer}: ` : '';
  const nameOf = (i: number): string => opts.names?.[i] ?? `input ${i}`;
  /** letter -> size and where it came from (an axis of an input, or a parameter) */
  const bound = new Map<string, { dim: Dim; from: string; param?: string }>();
  for (const [letter, dim, param] of opts.sizes ?? []) bound.set(letter, { dim, from: param, param });
  let ellipsis: { dims: Dim[]; from: string } | undefined;
  inputs.forEach((x, i) => {
    const tokens = parts[i];
    if (!tokens) return;
    const name = nameOf(i);
    const expected = prettySpec(tokens);
    const e = tokens.indexOf('...');
    const fixedCount = e >= 0 ? tokens.length - 1 : tokens.length;
    const rank = x.shape.length;
    if (e < 0 ? rank !== fixedCount : rank < fixedCount) {
      throw new LayerError('rank', `${who}${name} must have shape ${expected} (rank ${e < 0 ? fixedCount : `>= ${fixedCount}`}), got ${formatShapeDtype(x)}`, {
        expected: `${name} of shape ${expected}`,
      });
    }
    const runLen = rank - fixedCount;
    let axis = 0;
    for (const t of tokens) {
      if (t === '...') {
        const dims = x.shape.slice(axis, axis + runLen) as Dim[];
        if (ellipsis) {
          const same = ellipsis.dims.length === dims.length && dims.every((d, k) => d === ellipsis!.dims[k]);
          if (!same) {
            throw new LayerError('shape_mismatch', `${who}the leading axes of ${name} ${formatShape(dims)} differ from those of ${ellipsis.from} ${formatShape(ellipsis.dims)}`, {
              expected: `${name} of shape ${expected} with the same leading axes as ${ellipsis.from}`,
            });
          }
        } else {
          ellipsis = { dims, from: name };
        }
        axis += runLen;
        continue;
      }
      const d = x.shape[axis];
      if (isDigit(t)) {
        if (typeof d === 'number' && d !== Number(t)) {
          throw new LayerError('shape_mismatch', `${who}${name} must have shape ${expected}, but its axis ${axis} is ${d}, not ${t} (got ${formatShapeDtype(x)})`, {
            expected: `${name} of shape ${expected}`,
          });
        }
      } else {
        const b = bound.get(t);
        if (!b) bound.set(t, { dim: d, from: `axis ${axis} of ${name}` });
        else if (b.dim !== d) {
          if (b.param) {
            throw new LayerError('shape_mismatch', `${who}${name} must have shape ${expected} with ${t} = ${b.param} = ${b.dim}, but its axis ${axis} is ${d} (got ${formatShapeDtype(x)})`, {
              expected: `${name} of shape ${expected} with ${t} = ${b.dim}`, param: b.param,
            });
          }
          throw new LayerError('shape_mismatch', `${who}${name} must have shape ${expected}, but its axis ${axis} (${t}) is ${d} while ${t} = ${b.dim} from ${b.from} (got ${formatShapeDtype(x)})`, {
            expected: `${name} of shape ${expected} with ${t} = ${b.dim}`,
          });
        }
      }
      axis++;
    }
  });
}

/** An AssertShape node for an expansion. */
function assertShape(specification: string, layer: string, names: string[], sizes?: [string, number, string][]): ExpandNode {
  const params: Record<string, PyValue> = { specification, message: layer, names };
  if (sizes && sizes.length) params.sizes = sizes;
  return { kind: 'AssertShape', params };
}

// ---------------------------------------------------------------- helpers

const dense = (n: PyValue, extra: Record<string, PyValue> = {}): ExpandNode => ({ kind: 'Dense', params: { n_units: n, ...extra } });

function requireRank3(x: ShapeDtype, what: string): void {
  if (x.shape.length !== 3) {
    throw new LayerError('rank', `${what} must have rank 3 [batch, length, depth], got ${formatShapeDtype(x)}`, { expected: `${what} of rank 3` });
  }
}

function divisibleByHeads(d: Dim, nHeads: number, what = 'feature depth'): void {
  if (dimDivisible(d, nHeads) === false) {
    throw new LayerError('shape_mismatch', `${what} ${d} is not a multiple of n_heads = ${nHeads}`, {
      expected: `a depth divisible by n_heads = ${nHeads}`, param: 'n_heads',
    });
  }
}

/** q [..., lq, d], k [..., lk, d], v [..., lk, dv], mask broadcastable to [..., lq, lk] -> [..., lq, dv] (float32). */
function dotProductShapes(q: ShapeDtype, k: ShapeDtype, v: ShapeDtype, mask: ShapeDtype | null): ShapeDtype {
  for (const [x, n] of [[q, 'queries'], [k, 'keys'], [v, 'values']] as const) {
    if (x.shape.length < 2) throw new LayerError('rank', `${n} must have rank >= 2 [..., length, depth], got ${formatShapeDtype(x)}`, { expected: `${n} of rank >= 2` });
  }
  const dq = q.shape[q.shape.length - 1], dk = k.shape[k.shape.length - 1];
  if (dq !== dk) {
    throw new LayerError('shape_mismatch', `queries have depth ${dq} but keys have depth ${dk}`, { expected: 'queries and keys of the same depth' });
  }
  const lk = k.shape[k.shape.length - 2], lv = v.shape[v.shape.length - 2];
  if (lk !== lv) {
    throw new LayerError('shape_mismatch', `keys have length ${lk} but values have length ${lv}`, { expected: 'as many values as keys' });
  }
  let lead: Dim[];
  try {
    lead = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
  } catch {
    throw new LayerError('shape_mismatch', `the leading axes of queries ${formatShape(q.shape)}, keys ${formatShape(k.shape)} and values ${formatShape(v.shape)} do not match`, { expected: 'the same batch (and head) axes' });
  }
  const lq = q.shape[q.shape.length - 2];
  if (mask) {
    try {
      broadcastShapes([...lead, lq, lk], mask.shape);
    } catch {
      throw new LayerError('shape_mismatch', `mask ${formatShapeDtype(mask)} does not broadcast to the attention logits [${[...lead, lq, lk].join(',')}]`, {
        expected: `a mask broadcastable to [${[...lead, lq, lk].join(',')}]`,
      });
    }
  }
  return { dtype: 'float32', shape: [...lead, lq, v.shape[v.shape.length - 1]] };
}

const DROPOUT = { min: 0, max: 1, maxExclusive: true } as const;
const ATTN_MODES = [...MODES, 'viz'] as const;

// ---------------------------------------------------------------- lowering

/** PositionalEncoding's weight table pe [max_len, d]: pe[p, 2i] = sin(p * exp(-2i ln(10000) / d)), pe[p, 2i+1] = cos(same). */
export function positionalEncodingTable(maxLen: number, d: number): Float32Array {
  const pe = new Float32Array(maxLen * d);
  const half = Math.ceil(d / 2);
  for (let i = 0; i < half; i++) {
    const div = Math.exp(2 * i * -(Math.log(10000) / d));
    for (let p = 0; p < maxLen; p++) {
      pe[p * d + 2 * i] = Math.sin(p * div);
      if (2 * i + 1 < d) pe[p * d + 2 * i + 1] = Math.cos(p * div);
    }
  }
  return pe;
}

/** Static broadcast of two numeric shapes. */
function broadcastNums(a: readonly number[], b: readonly number[]): number[] {
  return broadcastShapes(a, b).map(Number);
}

export interface DotProductSpec {
  /** rank of k (its last two axes are swapped) */
  readonly kRank: number;
  /** depth of one head (the logits are divided by sqrt of it) */
  readonly dHead: number;
  /** dropout rate in effect (0 outside train mode) */
  readonly dropout: number;
  /** the shape of the attention probabilities (the dropout mask's shape) */
  readonly probsShape: readonly number[];
  readonly salt: string;
}

/**
 * _per_head_attention (semantics §6) on float32 q [..., lq, d], k [..., lk, d],
 * v [..., lk, dv]: dots = q k^T / sqrt(d_head); masked logits REPLACED by -1e9
 * (mask: a bool value broadcastable to the logits, or null); p = exp(dots -
 * logsumexp(dots)); dropout on p in train mode; p @ v (float32).
 */
export function emitDotProductAttention(e: Emitter, q: string, k: string, v: string, mask: string | null, s: DotProductSpec): string {
  const perm = Array.from({ length: s.kRank }, (_, i) => i);
  [perm[s.kRank - 1], perm[s.kRank - 2]] = [perm[s.kRank - 2], perm[s.kRank - 1]];
  let dots = e.op1('Div', [e.op1('MatMul', [q, e.op1('Transpose', [k], { perm: ints(perm) })]), e.f32(Math.sqrt(s.dHead))]);
  if (mask) dots = e.op1('Where', [mask, dots, e.f32(-1e9)]);
  let probs = e.op1('Exp', [e.op1('Sub', [dots, logSumExp(e, dots, -1, true)])]);
  if (s.dropout > 0) {
    const keep = e.op1('Less', [randomUniform(e, s.probsShape, `${s.salt}/dropout`), e.f32(1 - s.dropout)]);
    probs = e.op1('Where', [keep, e.op1('Div', [probs, e.f32(1 - s.dropout)]), e.f32(0)]);
  }
  return e.op1('MatMul', [probs, v]);
}

const runDropout = (e: Emitter, rate: number): number => (e.mode === 'train' ? rate : 0);

function sigKey(kind: string, p: object, sig: LowerSig, e: Emitter, random: boolean, salt: string): string {
  return `${kind}:${JSON.stringify(p)}:${sig.inputs.map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(';')}:${e.mode}${random ? `:${e.seed}:${salt}` : ''}`;
}

/** [b, l, d] -> [b, h, l, d/h] */
function splitHeads4(e: Emitter, x: string, b: number, l: number, d: number, h: number): string {
  return e.op1('Transpose', [reshape(e, x, [b, l, h, d / h])], { perm: ints([0, 2, 1, 3]) });
}

/** [b, h, l, dh] -> [b, l, h*dh] */
function mergeHeads4(e: Emitter, x: string, b: number, h: number, l: number, dh: number): string {
  return reshape(e, e.op1('Transpose', [x], { perm: ints([0, 2, 1, 3]) }), [b, l, h * dh]);
}

/** [1, lq, lk] bool: query i sees keys 0..i (tril). */
function causalMask(e: Emitter, l: number): string {
  return e.op1('LessOrEqual', [iotaF32(e, l, [1, 1, l]), iotaF32(e, l, [1, l, 1])]);
}

function lowerPureAttention(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [b, lq, d] = dims(sig.inputs[0]);
  const lk = dims(sig.inputs[1])[1];
  const dv = dims(sig.inputs[2])[2];
  const h: number = p.n_heads;
  const dropout = runDropout(e, p.dropout);
  const salt = layerSalt(e);
  const maskShape = dims(sig.inputs[3]);
  const [y] = e.fn('PureAttention', sigKey('PureAttention', p, sig, e, dropout > 0, salt), ins, 1, (fe, [qi, ki, vi, mi]) => {
    const [q, k, v] = [qi, ki, vi].map((x, i) => toFloat32(fe, x, sig.inputs[i].dtype));
    const out = emitDotProductAttention(fe, splitHeads4(fe, q, b, lq, d, h), splitHeads4(fe, k, b, lk, d, h), splitHeads4(fe, v, b, lk, dv, h), truthy(fe, mi, sig.inputs[3].dtype), {
      kRank: 4, dHead: d / h, dropout, probsShape: broadcastNums([b, h, lq, lk], maskShape), salt,
    });
    return [mergeHeads4(fe, out, b, h, lq, dv / h)];
  }, 'multi-head attention core: split heads, softmax(QK^T/sqrt(d_head)) with masked logits replaced by -1e9, merge heads');
  // the mask passes through outside the function (an Identity of a bool is not on the WebGPU provider)
  return [y, ins[3]];
}

function lowerDotProductAttention(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [qs, ks, , ms] = sig.inputs.map(dims);
  const dropout = runDropout(e, p.dropout);
  const salt = layerSalt(e);
  const logits = [...broadcastNums(qs.slice(0, -1), [...ks.slice(0, -2), 1]), ks[ks.length - 2]];
  return e.fn('DotProductAttention', sigKey('DotProductAttention', p, sig, e, dropout > 0, salt), ins, 1, (fe, [qi, ki, vi, mi]) => {
    const [q, k, v] = [qi, ki, vi].map((x, i) => toFloat32(fe, x, sig.inputs[i].dtype));
    return [emitDotProductAttention(fe, q, k, v, truthy(fe, mi, sig.inputs[3].dtype), {
      kRank: ks.length, dHead: qs[qs.length - 1], dropout, probsShape: broadcastNums(logits, ms), salt,
    })];
  }, 'scaled dot-product attention on split heads: softmax(QK^T/sqrt(d), masked logits replaced by -1e9) V');
}

function lowerCausalCore(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [b, l, d] = dims(sig.inputs[0]);
  const dropout = runDropout(e, p.dropout);
  const salt = layerSalt(e);
  const cached = e.mode === 'predict' && p.mode === 'predict';
  const states = cached ? [e.state('keys'), e.state('values'), e.state('index')] : [];
  return e.fn('DotProductCausalAttention', sigKey('DotProductCausalAttention', p, sig, e, dropout > 0, salt), [...ins, ...states], 1, (fe, fins) => {
    const [q, k, v] = fins.slice(0, 3).map((x, i) => toFloat32(fe, x, sig.inputs[i].dtype));
    if (!cached) {
      return [emitDotProductAttention(fe, q, k, v, causalMask(fe, l), { kRank: 3, dHead: d, dropout, probsShape: [b, l, l], salt })];
    }
    // predict: write the new keys/values at index (clamped as dynamic_update_slice does), attend over the whole cache
    const m: number = p.max_inference_length;
    const [kc, vc, index] = fins.slice(3);
    const idx = fe.op1('Cast', [index], { to: int(1) });
    const start = fe.op1('Min', [fe.op1('Max', [idx, fe.f32(0)]), fe.f32(m - l)]);
    const rel = fe.op1('Sub', [iotaF32(fe, m), start]);
    const inWindow = fe.op1('Unsqueeze', [fe.op1('And', [fe.op1('GreaterOrEqual', [rel, fe.f32(0)]), fe.op1('Less', [rel, fe.f32(l)])]), fe.i64([0, 2])]);
    const at = fe.op1('Cast', [fe.op1('Clip', [rel, fe.f32(0), fe.f32(l - 1)])], { to: int(6) });
    const write = (x: string, cache: string, dtype: ShapeDtype['dtype']): string => fe.op1('Where', [inWindow, fe.op1('Gather', [x, at], { axis: int(1) }), toFloat32(fe, cache, dtype)]);
    const keys = write(k, kc, sig.inputs[1].dtype), values = write(v, vc, sig.inputs[2].dtype);
    const mask = fe.op1('LessOrEqual', [iotaF32(fe, m, [1, 1, m]), fe.op1('Add', [iotaF32(fe, l, [1, l, 1]), idx])]);
    return [emitDotProductAttention(fe, q, keys, values, mask, { kRank: 3, dHead: d, dropout, probsShape: [b, l, m], salt })];
  }, 'causal scaled dot-product attention: query i sees keys 0..i (masked logits replaced by -1e9)');
}

function lowerShiftRight(e: Emitter, [x]: string[], p: Params, sig: LowerSig): string[] {
  const shape = dims(sig.inputs[0]);
  const dtype = sig.inputs[0].dtype;
  const outLen = dims(sig.outputs[0])[1];
  const n: number = outLen === 0 ? 0 : p.n_positions;
  if (outLen !== 0 && (e.mode === 'predict' || n === 0)) return [x];
  // Pad n zeros at the start of axis 1 and crop n at its end (a negative pad; Slice of ints or
  // bools is not on the WebGPU provider); x[:, :-0] (n_positions = 0) crops everything
  const pads = shape.map(() => 0).concat(shape.map(() => 0));
  pads[1] = n;
  pads[shape.length + 1] = outLen === 0 ? -shape[1] : -n;
  if (dtype === 'bool') {
    const f = e.op1('Pad', [e.op1('Where', [x, e.f32(1), e.f32(0)]), e.i64(pads)]);
    return [e.op1('Greater', [f, e.f32(0.5)])];
  }
  return [e.op1('Pad', [x, e.i64(pads)])];
}

function lowerPaddingMask(e: Emitter, [x]: string[], p: Params, sig: LowerSig): string[] {
  const [b, l] = dims(sig.inputs[0]);
  const dt = sig.inputs[0].dtype;
  const v = dt === 'int32' ? x : cast(e, x, dt, 'float32');
  const pad = dt === 'int32' ? e.i32(p.pad) : e.f32(p.pad);
  return [reshape(e, e.op1('Not', [e.op1('Equal', [v, pad])]), [b, 1, 1, l])];
}

function lowerEncoderDecoderMask(e: Emitter, [, mask]: string[], _p: Params, sig: LowerSig): string[] {
  const out = dims(sig.outputs[0]);
  const [b, , , le] = out;
  const m = reshape(e, toFloat32(e, mask, sig.inputs[1].dtype), [b, 1, 1, le]);
  return [cast(e, e.op1('Expand', [m, e.i64(out)]), 'float32', sig.outputs[0].dtype)];
}

function lowerPositionalEncoding(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const [, L, din] = dims(sig.inputs[0]);
  const maxLen: number = p.max_len;
  const peType = p.use_bfloat16 ? 'bfloat16' : 'float32';
  const salt = layerSalt(e);
  const x = toFloat32(e, xin, sig.inputs[0].dtype);
  const pe = cast(e, e.weight('pe'), peType, 'float32');
  const rowsFrom = (start: string): string => {
    // pe[start : start + L], start clamped to [0, max_len - L] as dynamic_slice does
    const s = e.op1('Min', [e.op1('Max', [start, e.f32(0)]), e.f32(maxLen - L)]);
    return e.op1('Gather', [pe, e.op1('Cast', [e.op1('Add', [s, iotaF32(e, L)])], { to: int(6) })], { axis: int(0) });
  };
  let px: string;
  if (e.mode === 'predict' && p.mode === 'predict') {
    px = rowsFrom(e.op1('Cast', [e.state('position')], { to: int(1) }));
  } else if (e.mode === 'train' && p.start_from_zero_prob < 1 && p.max_offset_to_add > 0 && p.d_feature === null) {
    const u = randomUniform(e, [2], `${salt}/start`);
    const u1 = e.op1('Slice', [u, e.i64([0]), e.i64([1]), e.i64([0])]);
    const u2 = e.op1('Slice', [u, e.i64([1]), e.i64([2]), e.i64([0])]);
    const start = e.op1('Where', [e.op1('Less', [u2, e.f32(p.start_from_zero_prob)]), e.f32(0), e.op1('Floor', [e.op1('Mul', [u1, e.f32(p.max_offset_to_add)])])]);
    px = rowsFrom(start);
  } else {
    px = e.op1('Slice', [pe, e.i64([0]), e.i64([L]), e.i64([0])]);
  }
  if (p.d_feature !== null) px = e.op1('MatMul', [px, e.weight('ff')]);
  const rate = runDropout(e, p.dropout);
  if (rate > 0) {
    const noise = [1, L, din];
    for (const a of p.dropout_broadcast_dims as number[]) noise[a < 0 ? a + 3 : a] = 1;
    const keep = e.op1('Less', [randomUniform(e, noise, `${salt}/dropout`), e.f32(1 - rate)]);
    px = e.op1('Mul', [px, e.op1('Where', [keep, e.f32(1 / (1 - rate)), e.f32(0)])]);
  }
  return [cast(e, e.op1('Add', [x, px]), 'float32', sig.outputs[0].dtype)];
}

function lowerSplitIntoHeads(e: Emitter, [x]: string[], p: Params, sig: LowerSig): string[] {
  const [b, l, d] = dims(sig.inputs[0]);
  const h: number = p.n_heads;
  const y = splitHeads4(e, x, b, l, d, h);
  return [p.merged_batch_and_head ? reshape(e, y, [b * h, l, d / h]) : y];
}

function lowerMergeHeads(e: Emitter, [x]: string[], p: Params, sig: LowerSig): string[] {
  const [b, l, d] = dims(sig.outputs[0]);
  const h: number = p.n_heads;
  const x4 = p.merged_batch_and_head ? reshape(e, x, [b, h, l, d / h]) : x;
  return [mergeHeads4(e, x4, b, h, l, d / h)];
}

// ---------------------------------------------------------------- the family

export const attentionLayers = family('attention', {
  Attention: {
    summary: 'Multi-head self-attention with a padding mask: (x [b,l,d], mask [b,1,1,l]) -> (y [b,l,d], mask); Serial(Select([0,0,0]), AttentionQKV).',
    args: [
      P.int('d_feature', REQUIRED, { min: 1 }),
      P.int('n_heads', 1, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.mode(),
    ],
    modes: { train: 'attention dropout active', eval: 'no dropout', predict: 'no dropout' },
    lowerAsFunction: true,
    expand: (p): ExpandNode => ({
      kind: 'Serial',
      children: [
        assertShape('bld,b11l', 'Attention', ['activations', 'mask'], [['d', p.d_feature, 'd_feature']]),
        { kind: 'Select', params: { indices: [0, 0, 0] } },
        { kind: 'AttentionQKV', params: { d_feature: p.d_feature, n_heads: p.n_heads, dropout: p.dropout, mode: p.mode } },
      ],
    }),
  },
  AttentionQKV: {
    summary: 'Multi-head attention on separate (q, k, v, mask): Serial(Parallel(Dense(d) x3), PureAttention, Dense(d)); q length may differ from k/v length.',
    args: [
      P.int('d_feature', REQUIRED, { min: 1 }),
      P.int('n_heads', 1, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.mode(),
      P.bool('cache_KV_in_predict', false),
      P.any('q_sparsity', null, { doc: "None: Dense; 'noop': no processing; an int: a sparse layer (not available in Strata)" }),
      P.any('result_sparsity', null, { doc: "None: Dense; 'noop': no processing; an int: a sparse layer (not available in Strata)" }),
    ],
    modes: { train: 'attention dropout active', predict: 'with cache_KV_in_predict the K/V Dense layers are wrapped in Cache' },
    check: (p) => {
      for (const name of ['q_sparsity', 'result_sparsity']) {
        const v = p[name];
        if (v === null || v === 'noop') continue;
        if (typeof v === 'number' && Number.isInteger(v) && v >= 1) {
          throw new LayerError('unsupported', `${name}=${v} needs Trax's sparsity layers (MultiplicativeSparseDense, LocallyConvDense), which Strata does not provide; use None or 'noop'`, { param: name });
        }
        badParam(name, `${name} must be None, 'noop' or a positive integer, got ${JSON.stringify(v)}`, "None or 'noop'");
      }
    },
    lowerAsFunction: true,
    expand: (p): ExpandNode => {
      const d = p.d_feature;
      const proc = (s: PyValue): ExpandNode => (s === 'noop' ? { kind: 'Serial' } : dense(d));
      const cached = (n: ExpandNode): ExpandNode => (p.cache_KV_in_predict && p.mode === 'predict' ? { kind: 'Cache', slots: { layer: n } } : n);
      return {
        kind: 'Serial',
        children: [
          assertShape('bSq,blk,blv,b1xl', 'AttentionQKV', ['queries', 'keys', 'values', 'mask']),
          { kind: 'Parallel', children: [proc(p.q_sparsity), cached(dense(d)), cached(dense(d))] },
          { kind: 'PureAttention', params: { n_heads: p.n_heads, dropout: p.dropout, mode: p.mode } },
          proc(p.result_sparsity),
        ],
      };
    },
  },
  PureAttention: {
    summary: 'Multi-head attention core without weights: (Q [b,lq,d], K [b,lk,d], V [b,lk,dv], mask [b,1,x,lk]) -> (activations [b,lq,dv] float32, mask); masked logits are replaced by -1e9.',
    args: [P.int('n_heads', 1, { min: 1 }), P.float('dropout', 0.0, DROPOUT), P.str('mode', 'train', { choices: ATTN_MODES })],
    modes: { train: "dropout on the attention probabilities ('viz' mode, Trax's extra mode, also stores the attention matrix in state when called)" },
    arity: fixed(4, 2),
    infer: ([q, k, v, mask], p) => {
      checkShapeSpec([q, k, v, mask], 'blq,bkq,bkd,b1xk', { names: ['queries', 'keys', 'values', 'mask'] });
      divisibleByHeads(lastDim(q), p.n_heads, 'query depth');
      divisibleByHeads(lastDim(v), p.n_heads, 'value depth');
      return [{ dtype: 'float32', shape: [q.shape[0], q.shape[1], v.shape[2]] }, mask];
    },
    lower: (e, ins, p, sig) => lowerPureAttention(e, ins, p, sig),
  },
  DotProductAttention: {
    summary: 'Per-head scaled dot-product attention on already split heads: (Q, K, V, mask) -> softmax(QK^T/sqrt(d), masked by -1e9) V (float32).',
    args: [P.float('dropout', 0.0, DROPOUT), P.str('mode', 'train', { choices: ATTN_MODES })],
    modes: { train: "dropout on the attention probabilities ('viz' mode, Trax's extra mode, also stores the attention matrix in state when called)" },
    arity: fixed(4, 1),
    infer: ([q, k, v, mask]) => [dotProductShapes(q, k, v, mask)],
    lower: (e, ins, p, sig) => lowerDotProductAttention(e, ins, p, sig),
  },
  SplitIntoHeads: {
    summary: 'Reshapes [b,l,d] into heads: [b*h, l, d/h] (merged_batch_and_head) or [b, h, l, d/h]; head i owns features i*d/h..(i+1)*d/h-1.',
    args: [P.int('n_heads', REQUIRED, { min: 1 }), P.bool('merged_batch_and_head', true)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x, 'the input');
      const [b, l, d] = x.shape;
      const h: number = p.n_heads;
      divisibleByHeads(d, h);
      const dh = dimFloorDiv(d, h);
      return [{ dtype: x.dtype, shape: p.merged_batch_and_head ? [dimMul(b, h), l, dh] : [b, h, l, dh] }];
    },
    lower: (e, ins, p, sig) => lowerSplitIntoHeads(e, ins, p, sig),
  },
  MergeHeads: {
    summary: 'Inverse of SplitIntoHeads: [b*h, l, d/h] (or [b, h, l, d/h]) -> [b, l, d].',
    args: [P.int('n_heads', REQUIRED, { min: 1 }), P.bool('merged_batch_and_head', true)],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      const h: number = p.n_heads;
      if (p.merged_batch_and_head) {
        if (x.shape.length !== 3) {
          throw new LayerError('rank', `input must have rank 3 [batch*n_heads, length, d_head], got ${formatShapeDtype(x)}`, { expected: 'rank 3' });
        }
        const [bh, l, dh] = x.shape;
        if (dimDivisible(bh, h) === false) {
          throw new LayerError('shape_mismatch', `the first axis ${bh} (batch*n_heads) is not a multiple of n_heads = ${h}`, { expected: `a first axis divisible by ${h}`, param: 'n_heads' });
        }
        return [{ dtype: x.dtype, shape: [dimFloorDiv(bh, h), l, dimMul(dh, h)] }];
      }
      if (x.shape.length !== 4) {
        throw new LayerError('rank', `with merged_batch_and_head=False the input must have rank 4 [batch, n_heads, length, d_head], got ${formatShapeDtype(x)}`, { expected: 'rank 4' });
      }
      const [b, hh, l, dh] = x.shape;
      if (typeof hh === 'number' && hh !== h) {
        throw new LayerError('shape_mismatch', `axis 1 holds ${hh} heads, but n_heads = ${h}`, { expected: `axis 1 of size ${h}`, param: 'n_heads' });
      }
      return [{ dtype: x.dtype, shape: [b, l, dimMul(dh, h)] }];
    },
    lower: (e, ins, p, sig) => lowerMergeHeads(e, ins, p, sig),
  },
  ConfigurableAttention: {
    summary: 'Self-attention from parts: Serial(Branch([q_layer, SplitIntoHeads], [k_layer, SplitIntoHeads], [v_layer, SplitIntoHeads]), qkv_attention_layer, MergeHeads, final_layer).',
    args: [
      P.slot('q_layer'), P.slot('k_layer'), P.slot('v_layer'), P.slot('final_layer'), P.slot('qkv_attention_layer'),
      P.int('n_heads', 1, { min: 1 }),
    ],
    expand: (p, slots): ExpandNode => {
      const h = p.n_heads;
      const split: ExpandNode = { kind: 'SplitIntoHeads', params: { n_heads: h } };
      return {
        kind: 'Serial',
        children: [
          assertShape('bld', 'ConfigurableAttention', ['activations']),
          {
            kind: 'Branch',
            children: [
              { kind: 'Serial', children: [slots.q_layer!, split] },
              { kind: 'Serial', children: [slots.k_layer!, split] },
              { kind: 'Serial', children: [slots.v_layer!, split] },
            ],
          },
          slots.qkv_attention_layer!,
          { kind: 'MergeHeads', params: { n_heads: h } },
          slots.final_layer!,
          assertShape('bld', 'ConfigurableAttention', ['output']),
        ],
      };
    },
  },
  CausalAttention: {
    summary: 'Multi-head causal self-attention [b,l,d] -> [b,l,d]: ConfigurableAttention with Dense(d) Q/K/V (+ CausalDepthwiseConv with use_dconv), DotProductCausalAttention, final Dense(d).',
    args: [
      P.int('d_feature', REQUIRED, { min: 1 }),
      P.int('n_heads', 1, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.int('max_inference_length', 2048, { min: 1 }),
      P.bool('use_dconv', false),
      P.mode(),
    ],
    modes: { train: 'attention dropout active', predict: 'keys and values are cached (max_inference_length positions); one call per new position' },
    check: (p) => {
      if (p.d_feature % p.n_heads !== 0) {
        construct(`dimensionality of feature embedding (${p.d_feature}) is not a multiple of the requested number of attention heads (${p.n_heads})`, 'n_heads');
      }
    },
    lowerAsFunction: true,
    expand: (p): ExpandNode => {
      const d = p.d_feature;
      const qkv = (): ExpandNode => ({ kind: 'Serial', children: p.use_dconv ? [dense(d), { kind: 'CausalDepthwiseConv' }] : [dense(d)] });
      return {
        kind: 'Serial',
        children: [
          assertShape('bld', 'CausalAttention', ['activations'], [['d', d, 'd_feature']]),
          {
            kind: 'ConfigurableAttention',
            params: { n_heads: p.n_heads },
            slots: {
              q_layer: qkv(), k_layer: qkv(), v_layer: qkv(), final_layer: dense(d),
              qkv_attention_layer: { kind: 'DotProductCausalAttention', params: { dropout: p.dropout, max_inference_length: p.max_inference_length, mode: p.mode } },
            },
          },
        ],
      };
    },
  },
  DotProductCausalAttention: {
    summary: 'Per-head causal attention (q, k, v all [b,l,d]) -> [b,l,d] float32: query i sees keys 0..i.',
    args: [P.float('dropout', 0.0, DROPOUT), P.int('max_inference_length', 2048, { min: 1 }), P.mode()],
    modes: { train: 'dropout on the attention probabilities', predict: 'state caches keys/values [b, max_inference_length, d] and an index; each call appends' },
    arity: fixed(3, 1),
    infer: ([q, k, v]) => {
      checkShapeSpec([q, k, v], 'bld,bld,bld', { names: ['queries', 'keys', 'values'] });
      return [{ dtype: 'float32', shape: q.shape }];
    },
    state: ([, k, v], p) => (p.mode === 'predict'
      ? [
        { name: 'keys', shape: [k.shape[0], p.max_inference_length, k.shape[2]], dtype: k.dtype, init: { fill: 0 } },
        { name: 'values', shape: [v.shape[0], p.max_inference_length, v.shape[2]], dtype: v.dtype, init: { fill: 0 } },
        { name: 'index', shape: [], dtype: 'int32', init: { fill: 0 } },
      ]
      : []),
    lower: (e, ins, p, sig) => lowerCausalCore(e, ins, p, sig),
  },
  ShiftRight: {
    summary: 'Shifts axis 1 right by n_positions, padding with zeros at the start (dtype kept); identity in predict mode. (quirk: n_positions=0 gives length 0, as x[:, :-0] does.)',
    args: [P.int('n_positions', 1, { min: 0 }), P.mode()],
    modes: { train: 'shifts', eval: 'shifts', predict: 'identity' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length < 2) {
        throw new LayerError('rank', `shifts axis 1, so the input needs rank >= 2 ([batch, length, ...]), got ${formatShapeDtype(x)}`, { expected: 'rank >= 2' });
      }
      if (p.mode !== 'predict' && p.n_positions === 0) {
        const shape = [...x.shape];
        shape[1] = 0;
        return [{ dtype: x.dtype, shape }];
      }
      return [x];
    },
    lower: (e, ins, p, sig) => lowerShiftRight(e, ins, p, sig),
  },
  PaddingMask: {
    summary: 'Token ids [b, l] -> bool mask [b, 1, 1, l] (x != pad), broadcastable over heads and query positions.',
    args: [P.int('pad', 0)],
    arity: fixed(1, 1),
    infer: ([x]) => {
      if (x.shape.length !== 2) {
        throw new LayerError('rank', `Input to PaddingMask must be a rank 2 tensor with shape (batch_size, sequence_length); instead got ${formatShapeDtype(x)}`, { expected: 'rank 2 [batch, length]' });
      }
      return [{ dtype: 'bool', shape: [x.shape[0], 1, 1, x.shape[1]] }];
    },
    lower: (e, ins, p, sig) => lowerPaddingMask(e, ins, p, sig),
  },
  EncoderDecoderMask: {
    summary: '(decoder activations [b, ld, d], encoder mask [b,1,1,le]) -> float mask [b, 1, ld, le] for encoder-decoder attention.',
    args: [],
    arity: fixed(2, 1),
    infer: ([dec, mask]) => {
      if (dec.shape.length !== 3) {
        throw new LayerError('rank', `Decoder input to EncoderDecoderMask must be a rank 3 tensor with shape (batch_size, decoder_sequence_length, d_model); instead got ${formatShapeDtype(dec)}`, { expected: 'decoder activations of rank 3' });
      }
      if (mask.shape.length < 2) {
        throw new LayerError('rank', `the encoder mask must be [batch, 1, 1, encoder_length] (or [batch, encoder_length]), got ${formatShapeDtype(mask)}`, { expected: 'a mask of rank >= 2' });
      }
      const mid = mask.shape.slice(1, -1);
      const bad = mid.findIndex((d) => typeof d === 'number' && d !== 1);
      if (bad >= 0) {
        throw new LayerError('shape_mismatch', `reshapes the encoder mask to [batch, 1, 1, encoder_length], but ${formatShapeDtype(mask)} has axis ${bad + 1} of size ${mid[bad]}`, { expected: 'an encoder mask [batch, 1, 1, encoder_length]' });
      }
      return [{ dtype: promote(mask.dtype, 'float32'), shape: [mask.shape[0], 1, dec.shape[1], mask.shape[mask.shape.length - 1]] }];
    },
    lower: (e, ins, p, sig) => lowerEncoderDecoderMask(e, ins, p, sig),
  },
  PositionalEncoding: {
    summary: 'Adds the trainable interleaved sin/cos table pe[:L] ([max_len, d]: even = sin, odd = cos) to x [b, L, d]; with d_feature, adds pe[:L] @ ff.',
    args: [
      P.int('max_len', 2048, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.ints('dropout_broadcast_dims', [-2]),
      P.bool('use_bfloat16', false),
      P.float('start_from_zero_prob', 1.0, { min: 0, max: 1 }),
      P.int('max_offset_to_add', 0, { min: 0 }),
      P.int('d_feature', null, { min: 1 }),
      P.mode(),
    ],
    modes: {
      train: 'dropout on the encoding; random start offset when start_from_zero_prob < 1',
      eval: 'adds pe[:L]',
      predict: 'state = position counter; adds pe[state : state+L] and advances it',
    },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length !== 3) {
        throw new LayerError('rank', `adds pe[:L] along axis 1, so the input must have rank 3 [batch, length, depth], got ${formatShapeDtype(x)}`, { expected: 'rank 3' });
      }
      const L = x.shape[1];
      if (typeof L === 'number' && L > p.max_len) {
        throw new LayerError('shape_mismatch', `input length ${L} exceeds max_len = ${p.max_len}`, { expected: `a length <= ${p.max_len}`, param: 'max_len' });
      }
      const d = p.d_feature ?? lastDim(x);
      if (typeof d === 'number' && d % 2 !== 0) {
        throw new LayerError('shape_mismatch', `needs an even depth for its sin/cos pairs, got ${p.d_feature !== null ? 'd_feature' : 'input depth'} ${d}`, {
          expected: 'an even depth', ...(p.d_feature !== null ? { param: 'd_feature' } : {}),
        });
      }
      const pe: DType = p.use_bfloat16 ? 'bfloat16' : 'float32';
      return [{ dtype: promote(x.dtype, p.d_feature !== null ? 'float32' : pe), shape: x.shape }];
    },
    weights: ([x], p) => {
      const din = lastDim(x);
      const d = p.d_feature ?? din;
      const w: WeightDecl[] = [{ name: 'pe', shape: [p.max_len, d], dtype: p.use_bfloat16 ? 'bfloat16' : 'float32', init: { table: 'sincos_interleaved' } }];
      if (p.d_feature !== null) w.push({ name: 'ff', shape: [p.d_feature, din], dtype: 'float32', init: INIT.glorotUniform() });
      return w;
    },
    state: (_x, p) => (p.mode === 'predict' ? [{ name: 'position', shape: [], dtype: 'int32', init: { fill: 0 } }] : []),
    lower: (e, ins, p, sig) => lowerPositionalEncoding(e, ins, p, sig),
  },
  AssertShape: {
    summary: 'Identity that checks the shapes of its inputs against an assert_shape specification (Trax wraps attention functions in these).',
    internal: true,
    args: [
      P.str('specification', REQUIRED),
      P.str('message', null, { nullable: true }),
      P.strs('names', null, { nullable: true }),
      P.any('sizes', null, { doc: 'letters bound up front by parameters: [[letter, size, parameter name], ...]' }),
    ],
    check: (p) => { parseSpec(p.specification); },
    arity: (p) => {
      const n = parseSpec(p.specification).parts.length;
      return { nIn: n, nOut: n };
    },
    infer: (inputs, p) => {
      const sizes = Array.isArray(p.sizes) ? (p.sizes as [string, Dim, string][]) : [];
      checkShapeSpec(inputs, p.specification, { layer: p.message, names: p.names, sizes });
      return [...inputs];
    },
    lower: (_e, ins) => [...ins],
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const attentionNotes: Record<string, SpecNote> = {};
