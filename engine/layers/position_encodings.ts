/**
 * The `research.position_encodings` module: axial, sin/cos (block layout),
 * fixed-base, infinite and time-bin position encodings. All keep the shape of
 * their input [batch, length, depth].
 */
import { type Dim, dimFloorDiv } from '../core/dim';
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype, promote } from '../core/shape';
import { INIT, P, REQUIRED, type WeightDecl, construct, fixed } from './def';
import { family, type SpecNote } from './family';
import { type Emitter, type LowerSig, ONNX_DTYPE } from '../core/onnx';
import type { Params } from './def';
import { cast, dims, int, iotaF32, layerSalt, randomUniform, reshape, toFloat32 } from './lowering';

const DROPOUT = { min: 0, max: 1, maxExclusive: true } as const;

function requireRank3(x: ShapeDtype): void {
  if (x.shape.length !== 3) {
    throw new LayerError('rank', `input must have rank 3 [batch, length, depth], got ${formatShapeDtype(x)}`, { expected: 'rank 3' });
  }
}

/** x + a float32 encoding */
function added(x: ShapeDtype): ShapeDtype {
  return { dtype: promote(x.dtype, 'float32'), shape: x.shape };
}

const counter = (shape: Dim[] = []): WeightDecl => ({ name: 'position', shape, dtype: 'int32', init: { fill: 0 } });

// ---------------------------------------------------------------- lowering

const runDropout = (e: Emitter, rate: number): number => (e.mode === 'train' ? rate : 0);
const predicting = (e: Emitter, p: Params): boolean => e.mode === 'predict' && p.mode === 'predict';

/** x + enc with x cast to float32 and the result cast to the output dtype. */
function addEncoding(e: Emitter, xin: string, enc: string, sig: LowerSig): string {
  return cast(e, e.op1('Add', [toFloat32(e, xin, sig.inputs[0].dtype), enc]), 'float32', sig.outputs[0].dtype);
}

/** enc * (keep / keep_prob) with a keep mask of `noise` shape (broadcast dims already 1). */
function dropEncoding(e: Emitter, enc: string, noise: readonly number[], rate: number, salt: string): string {
  if (rate <= 0) return enc;
  const keep = e.op1('Less', [randomUniform(e, noise, `${salt}/dropout`), e.f32(1 - rate)]);
  return e.op1('Mul', [enc, e.op1('Where', [keep, e.f32(1 / (1 - rate)), e.f32(0)])]);
}

/** `shape` with the (possibly negative) broadcast dims set to 1. */
function noiseShape(shape: readonly number[], broadcastDims: readonly number[]): number[] {
  const s = [...shape];
  for (const a of broadcastDims) s[a < 0 ? a + s.length : a] = 1;
  return s;
}

/** rows start..start+len-1 of x along `axis`, start (a float scalar) clamped to [0, n - len] as dynamic_slice does. */
function dynamicRows(e: Emitter, x: string, start: string, n: number, len: number, axis: number): string {
  const s = e.op1('Min', [e.op1('Max', [start, e.f32(0)]), e.f32(n - len)]);
  return e.op1('Gather', [x, e.op1('Cast', [e.op1('Add', [s, iotaF32(e, len)])], { to: int(ONNX_DTYPE.int32) })], { axis: int(axis) });
}

/** floor(u * n) of one U[0,1) value: an integer in [0, n) as a float (exact for n <= 2^24). */
function randInt(e: Emitter, u: string, n: number): string {
  return e.op1('Floor', [e.op1('Mul', [u, e.f32(n)])]);
}

/** Element i of a [k] uniform vector as a [1] tensor. */
function pick(e: Emitter, u: string, i: number): string {
  return e.op1('Slice', [u, e.i64([i]), e.i64([i + 1]), e.i64([0])]);
}

function lowerAxial(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const [B, L, d] = dims(sig.inputs[0]);
  const shape = p.shape as number[], dEmbs = p.d_embs as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  const embs = shape.map((_, ax) => e.op1('Expand', [e.weight(`axial_${ax}`), e.i64([1, ...shape, dEmbs[ax]])]));
  let emb = e.op1('Concat', embs, { axis: int(-1) }); // [1, *shape, d]
  if (predicting(e, p)) {
    emb = dynamicRows(e, reshape(e, emb, [1, n, d]), e.op1('Cast', [e.state('position')], { to: int(ONNX_DTYPE.float32) }), n, L, 1);
  } else {
    const rate = runDropout(e, p.dropout);
    if (rate > 0) emb = dropEncoding(e, e.op1('Expand', [emb, e.i64([B, ...shape, d])]), noiseShape([B, ...shape, d], p.dropout_broadcast_dims), rate, layerSalt(e));
    emb = reshape(e, emb, [rate > 0 ? B : 1, n, d]);
    // a layer built for predict (shorter inputs) run in another mode: positions 0..L-1
    if (L < n) emb = e.op1('Slice', [emb, e.i64([0]), e.i64([L]), e.i64([1])]);
  }
  return [addEncoding(e, xin, emb, sig)];
}

function lowerSinCos(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const [, L, d] = dims(sig.inputs[0]);
  const half = d / 2;
  const salt = layerSalt(e);
  let pos = iotaF32(e, L, [L, 1]);
  if (predicting(e, p)) {
    pos = e.op1('Add', [pos, e.op1('Cast', [e.state('position')], { to: int(ONNX_DTYPE.float32) })]);
  } else if (e.mode === 'train') {
    // start = randint(0, add_offset) * min(1, randint(0, start_from_zero_one_in)): 0 one time in start_from_zero_one_in
    const u = randomUniform(e, [2], `${salt}/start`);
    const nonzero = e.op1('Min', [randInt(e, pick(e, u, 1), p.start_from_zero_one_in), e.f32(1)]);
    pos = e.op1('Add', [pos, e.op1('Mul', [randInt(e, pick(e, u, 0), p.add_offset), nonzero])]);
  }
  const div = Array.from({ length: half }, (_, i) => Math.exp(2 * i * -(Math.log(10000) / d)));
  const arg = e.op1('Mul', [pos, e.f32(div, [1, half])]);
  let pe = e.op1('Unsqueeze', [e.op1('Concat', [e.op1('Sin', [arg]), e.op1('Cos', [arg])], { axis: int(-1) }), e.i64([0])]);
  pe = dropEncoding(e, pe, noiseShape([1, L, d], p.dropout_broadcast_dims), runDropout(e, p.dropout), salt);
  return [addEncoding(e, xin, pe, sig)];
}

/** a mod m for non-negative int32 a (Mod is not on the WebGPU provider): a - m * (a / m). */
function modI32(e: Emitter, a: string, m: number): string {
  return e.op1('Sub', [a, e.op1('Mul', [e.op1('Div', [a, e.i32(m)]), e.i32(m)])]);
}

function lowerFixedBase(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const [B, L] = dims(sig.inputs[0]);
  const bases = p.bases as number[], nd: number = p.n_digits;
  const maxPos = Math.min(...bases) ** nd;
  const salt = layerSalt(e);
  const train = e.mode === 'train', predict = predicting(e, p);
  let res: string | null = null;
  if (!train && !predict) {
    // positions 0..L-1: the digits are constants
    for (const [bn, base] of bases.entries()) {
      const pieces = Array.from({ length: nd }, (_, i) => e.op1('Mul', [e.f32(Array.from({ length: L }, (_, t) => Math.floor(t / base ** i) % base), [1, L, 1]), e.weight(`base${bases[bn]}_digit${i}`)]));
      const emb = e.op1('Concat', pieces, { axis: int(-1) });
      res = res ? e.op1('Add', [res, emb]) : emb;
    }
  } else {
    // positions in int32 (they reach min(bases)^n_digits, beyond float32's exact integers)
    let pos = e.i32(Array.from({ length: L }, (_, t) => t), [1, L]);
    if (predict) pos = e.op1('Add', [pos, e.state('position')]);
    let baseDrop: string | null = null;
    if (train) {
      const u = randomUniform(e, [4, B], `${salt}/start`);
      const row = (i: number): string => reshape(e, e.op1('Slice', [u, e.i64([i]), e.i64([i + 1]), e.i64([0])]), [B]);
      const nonzero = e.op1('Min', [randInt(e, row(0), p.start_from_zero_one_in), e.f32(1)]);
      const toI = (v: string): string => e.op1('Cast', [v], { to: int(ONNX_DTYPE.int32) });
      // a 31-bit random integer from two draws, reduced mod (max_pos - length)
      const r = e.op1('Add', [e.op1('Mul', [toI(randInt(e, row(1), 2 ** 15)), e.i32(2 ** 16)]), toI(randInt(e, row(2), 2 ** 16))]);
      const start = e.op1('Mul', [modI32(e, r, Math.min(maxPos - L, 2 ** 31 - 1)), toI(nonzero)]);
      pos = e.op1('Add', [pos, e.op1('Unsqueeze', [start, e.i64([1])])]);
      baseDrop = e.op1('Unsqueeze', [e.op1('Min', [randInt(e, row(3), p.base_dropout_one_in), e.f32(1)]), e.i64([1, 2])]);
    }
    for (const [bn, base] of bases.entries()) {
      let cur = pos;
      const pieces: string[] = [];
      for (let i = 0; i < nd; i++) {
        const digit = e.op1('Cast', [modI32(e, cur, base)], { to: int(ONNX_DTYPE.float32) });
        cur = e.op1('Div', [cur, e.i32(base)]);
        pieces.push(e.op1('Mul', [e.op1('Unsqueeze', [digit, e.i64([-1])]), e.weight(`base${bases[bn]}_digit${i}`)]));
      }
      let emb = e.op1('Concat', pieces, { axis: int(-1) });
      if (baseDrop) emb = e.op1('Mul', [emb, baseDrop]);
      res = res ? e.op1('Add', [res, emb]) : emb;
    }
  }
  // the learned start vector marks position 0 (in predict: only at the start of the sequence)
  const res0 = e.op1('Slice', [res!, e.i64([0]), e.i64([1]), e.i64([1])]);
  let startPos = e.op1('Add', [res0, e.weight('start_vec')]);
  if (predict) startPos = e.op1('Where', [e.op1('Equal', [e.state('position'), e.i32(0)]), startPos, res0]);
  const enc = L > 1 ? e.op1('Concat', [startPos, e.op1('Slice', [res!, e.i64([1]), e.i64([L]), e.i64([1])])], { axis: int(1) }) : startPos;
  return [addEncoding(e, xin, enc, sig)];
}

// ---------------------------------------------------------------- threefry (InfinitePositionalEncoding's noise)

const u32 = (x: number): number => x >>> 0;
const rotl32 = (x: number, r: number): number => u32((x << r) | (x >>> (32 - r)));

/** JAX's threefry2x32 on one counter pair (20 rounds), uint32 in and out. */
export function threefry2x32(key: readonly [number, number], x: readonly [number, number]): [number, number] {
  const R = [[13, 15, 26, 6], [17, 29, 16, 24]];
  const ks = [u32(key[0]), u32(key[1]), u32(key[0] ^ key[1] ^ 0x1bd11bda)];
  let x0 = u32(x[0] + ks[0]), x1 = u32(x[1] + ks[1]);
  for (let i = 0; i < 5; i++) {
    for (const r of R[i % 2]) {
      x0 = u32(x0 + x1);
      x1 = rotl32(x1, r) ^ x0;
      x1 = u32(x1);
    }
    x0 = u32(x0 + ks[(i + 1) % 3]);
    x1 = u32(x1 + ks[(i + 2) % 3] + i + 1);
  }
  return [x0, x1];
}

/** jax.random.split(jax.random.PRNGKey(seed))[0] (legacy, non-partitionable threefry). */
export function infiniteNoiseKey(seed = 234234535): [number, number] {
  const key: [number, number] = [0, u32(seed)];
  // threefry_2x32(key, iota(4)) pairs (0, 2) and (1, 3); the first output words form key 0
  return [threefry2x32(key, [0, 2])[0], threefry2x32(key, [1, 3])[0]];
}

/**
 * InfinitePositionalEncoding's cycles [rows, depth] for positions 0..rows-1
 * (before the random phase): c%2/4 + freq[c/2]*t + noise[t, c/2]/4, the
 * noise a float32 cumsum of threefry draws scaled to U(-sqrt 3, sqrt 3),
 * times sqrt(drift). float32 rounding as JAX computes it.
 */
export function infiniteCycles(rows: number, depth: number, drift: number): Float32Array {
  const f = Math.fround;
  const dh = Math.floor((depth + 1) / 2);
  const key = infiniteNoiseKey();
  const noise = new Float32Array(rows * dh);
  const acc = new Float32Array(dh);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < dh; c++) {
      const y = threefry2x32(key, [t * dh + c, 0])[0];
      const v = f(f(f(f(y) / 2 ** 31) - 1) * f(Math.sqrt(3)));
      acc[c] = f(acc[c] + v);
      noise[t * dh + c] = f(acc[c] * f(Math.sqrt(drift)));
    }
  }
  let dr = drift;
  if (depth > 2) dr = drift ** (Math.floor((depth + 1) / 2) / Math.floor(depth / 2));
  const a = 0.5, b = 0.5 * dr ** 2;
  const freq = Array.from({ length: dh }, (_, k) => {
    if (k === 0) return f(a);
    if (k === dh - 1) return f(b);
    return f(10 ** (Math.log10(a) + (k * (Math.log10(b) - Math.log10(a))) / (dh - 1)));
  });
  const out = new Float32Array(rows * depth);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < depth; c++) {
      const k = Math.floor(c / 2);
      out[t * depth + c] = f(f((c % 2) / 4 + f(freq[k] * t)) + f(noise[t * dh + k] / 4));
    }
  }
  return out;
}

/** Rows of the noise table a predict-mode InfinitePositionalEncoding can address. */
const INFINITE_PREDICT_ROWS = 1024;

function lowerInfinite(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const [B, L, d] = dims(sig.inputs[0]);
  const salt = layerSalt(e);
  const predict = predicting(e, p);
  let cycles: string;
  if (predict) {
    // per-example position index [B] (one position per call): rows of a table of the first positions
    const table = e.f32(Array.from(infiniteCycles(INFINITE_PREDICT_ROWS, d, p.drift)), [INFINITE_PREDICT_ROWS, d]);
    const at = e.op1('Clip', [e.state('position'), e.i32(0), e.i32(INFINITE_PREDICT_ROWS - 1)]);
    cycles = e.op1('Unsqueeze', [e.op1('Gather', [table, at], { axis: int(0) }), e.i64([1])]); // [B, 1, d]
  } else {
    cycles = e.f32(Array.from(infiniteCycles(L, d, p.drift)), [1, L, d]);
  }
  if (p.affine) cycles = e.op1('Add', [cycles, randomUniform(e, [1, 1, d], `${salt}/phase`)]);
  let emb = e.op1('Cos', [e.op1('Mul', [cycles, e.f32(2 * Math.PI)])]);
  if (p.time_bin_length !== null) {
    const n: number = p.time_bin_length;
    const feats = predict
      ? timeBinFeatures(e, e.op1('Cast', [e.state('position')], { to: int(ONNX_DTYPE.float32) }), n, [B, 1, 3])
      : e.f32(timeBinTable(L, n), [1, L, 3]);
    emb = e.op1('Concat', [e.op1('Slice', [emb, e.i64([0]), e.i64([d - 3]), e.i64([-1])]), feats], { axis: int(-1) });
  }
  if (p.transform === 'diag') emb = e.op1('Mul', [emb, e.op1('Softplus', [e.weight('scale')])]);
  else if (p.transform === 'any') emb = e.op1('MatMul', [emb, e.weight('transform')]);
  return [addEncoding(e, xin, emb, sig)];
}

/** (1/(1+bin), (t mod len)/len, bin parity) for t = 0..L-1, row-major [L, 3]. */
function timeBinTable(L: number, n: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < L; t++) {
    const inter = Math.floor(t / n), intra = t % n;
    out.push(1 / (1 + inter), intra / n, inter % 2);
  }
  return out;
}

/** The time-bin features of float positions t [B] as [B, 1, 3] (reshaped to `shape`). */
function timeBinFeatures(e: Emitter, t: string, n: number, shape: readonly number[]): string {
  const inter = e.op1('Floor', [e.op1('Div', [t, e.f32(n)])]);
  const intra = e.op1('Sub', [t, e.op1('Mul', [inter, e.f32(n)])]);
  const parity = e.op1('Sub', [inter, e.op1('Mul', [e.op1('Floor', [e.op1('Div', [inter, e.f32(2)])]), e.f32(2)])]);
  const u = (v: string): string => e.op1('Unsqueeze', [v, e.i64([-1])]);
  const f = e.op1('Concat', [u(e.op1('Div', [e.f32(1), e.op1('Add', [inter, e.f32(1)])])), u(e.op1('Div', [intra, e.f32(n)])), u(parity)], { axis: int(-1) });
  return reshape(e, f, shape);
}

function lowerTimeBin(e: Emitter, [xin]: string[], p: Params, sig: LowerSig): string[] {
  const xs = dims(sig.inputs[0]);
  const depth = xs[xs.length - 1], L = xs[xs.length - 2];
  const n: number = p.time_bin_length;
  const x = toFloat32(e, xin, sig.inputs[0].dtype);
  const full = [...xs.slice(0, -1), 3];
  const feats = predicting(e, p)
    ? e.op1('Expand', [timeBinFeatures(e, e.op1('Cast', [e.state('position')], { to: int(ONNX_DTYPE.float32) }), n, [xs[0], 1, 3]), e.i64(full)])
    : e.op1('Expand', [e.f32(timeBinTable(L, n), [L, 3]), e.i64(full)]);
  // concatenate([x[..., :-3], emb])[..., -depth:]
  const keep = Math.max(depth - 3, 0);
  let y = keep > 0 ? e.op1('Concat', [e.op1('Slice', [x, e.i64([0]), e.i64([keep]), e.i64([-1])]), feats], { axis: int(-1) }) : feats;
  if (depth < 3) y = e.op1('Slice', [y, e.i64([3 - depth]), e.i64([3]), e.i64([-1])]);
  return [cast(e, y, 'float32', sig.outputs[0].dtype)];
}


export const position_encodingsLayers = family('position_encodings', {
  AxialPositionalEncoding: {
    summary: 'Adds learned axial encodings: one weight per axis of the grid `shape` (d_embs[i] features each), broadcast over the grid, concatenated on features (sum(d_embs) = d) and flattened row-major over the length (length = prod(shape)).',
    args: [
      P.ints('shape', [64, 64, 3], { min: 1, minLength: 1 }),
      P.ints('d_embs', [384, 384, 256], { min: 1, minLength: 1 }),
      P.init('kernel_initializer', INIT.normal(1.0)),
      P.float('dropout', 0.0, DROPOUT),
      P.ints('dropout_broadcast_dims', []),
      P.mode(),
    ],
    modes: { train: 'dropout on the encoding', eval: 'adds the encoding', predict: 'state = position counter; adds the encoding of positions state..state+L' },
    check: (p) => {
      if (p.shape.length !== p.d_embs.length) {
        construct(`shape has ${p.shape.length} axes but d_embs has ${p.d_embs.length} entries; give one embedding size per axis`, 'd_embs');
      }
    },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2], L = x.shape[1];
      const sum = (p.d_embs as number[]).reduce((a, b) => a + b, 0);
      if (typeof d === 'number' && d !== sum) {
        throw new LayerError('shape_mismatch', `sum(d_embs) = ${(p.d_embs as number[]).join(' + ')} = ${sum} must equal the input depth ${d}`, { expected: `input depth ${sum}`, param: 'd_embs' });
      }
      const n = (p.shape as number[]).reduce((a, b) => a * b, 1);
      if (p.mode === 'predict') {
        if (typeof L === 'number' && L > n) {
          throw new LayerError('shape_mismatch', `input length ${L} exceeds the ${n} positions of the axial grid shape = (${(p.shape as number[]).join(', ')})`, { expected: `a length <= ${n}`, param: 'shape' });
        }
      } else if (typeof L === 'number' && L !== n) {
        throw new LayerError('shape_mismatch', `input length ${L} must equal prod(shape) = ${(p.shape as number[]).join(' * ')} = ${n} (variable-length sequences are not supported outside predict mode)`, { expected: `length ${n}`, param: 'shape' });
      }
      return [added(x)];
    },
    weights: (_x, p) => (p.shape as number[]).map((_, ax) => {
      const s: Dim[] = [1, ...(p.shape as number[]).map((n, i) => (i === ax ? n : 1)), p.d_embs[ax]];
      return { name: `axial_${ax}`, shape: s, dtype: 'float32', init: p.kernel_initializer };
    }),
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
    lower: (e, ins, p, sig) => lowerAxial(e, ins, p, sig),
  },
  SinCosPositionalEncoding: {
    summary: 'Adds the fixed sin/cos encoding laid out as [sin block | cos block] (not interleaved); no weights; train mode starts at a random offset in [0, add_offset) except one time in start_from_zero_one_in.',
    args: [
      P.int('add_offset', 2048, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.ints('dropout_broadcast_dims', [-2]),
      P.int('start_from_zero_one_in', 2, { min: 1 }),
      P.mode(),
    ],
    modes: { train: 'random start offset and dropout', eval: 'positions from 0', predict: 'state = position counter, advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x]) => {
      requireRank3(x);
      const d = x.shape[2];
      if (typeof d === 'number' && d % 2 !== 0) {
        throw new LayerError('shape_mismatch', `needs an even depth (a sin block and a cos block of d/2 each), got ${d}`, { expected: 'an even depth' });
      }
      return [added(x)];
    },
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
    lower: (e, ins, p, sig) => lowerSinCos(e, ins, p, sig),
  },
  FixedBasePositionalEncoding: {
    summary: 'Adds digit-wise encodings of the position in each base (n_digits digits, each times a learned (1, d/n_digits) vector) plus a learned start vector at position 0; random offsets in train mode.',
    args: [
      P.ints('bases', [11, 13, 14, 15], { style: 'list', min: 2, minLength: 1 }),
      P.int('n_digits', 8, { min: 1 }),
      P.int('start_from_zero_one_in', 2, { min: 1 }),
      P.int('base_dropout_one_in', 100, { min: 1 }),
      P.mode(),
      P.init('initializer', INIT.uniform(1e-4)),
    ],
    modes: { train: 'random start offsets and per-base dropout', eval: 'positions from 0', predict: 'state = position counter, advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2], L = x.shape[1];
      if (typeof d === 'number' && d % p.n_digits !== 0) {
        throw new LayerError('shape_mismatch', `d_feature(${d}) % n_digits(${p.n_digits}) != 0`, { expected: `a depth divisible by n_digits = ${p.n_digits}`, param: 'n_digits' });
      }
      const maxPos = Math.min(...(p.bases as number[])) ** p.n_digits;
      if (typeof L === 'number' && L >= maxPos) {
        throw new LayerError('shape_mismatch', `length (${L}) >= max_pos (${maxPos} = min(bases) ** n_digits)`, { expected: `a length < ${maxPos}`, param: 'n_digits' });
      }
      return [added(x)];
    },
    weights: ([x], p) => {
      const d = x.shape[2];
      const dw = dimFloorDiv(d, p.n_digits);
      const w: WeightDecl[] = [];
      for (const b of p.bases as number[]) {
        for (let i = 0; i < p.n_digits; i++) w.push({ name: `base${b}_digit${i}`, shape: [1, dw], dtype: 'float32', init: p.initializer });
      }
      w.push({ name: 'start_vec', shape: [1, 1, d], dtype: 'float32', init: p.initializer });
      return w;
    },
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
    lower: (e, ins, p, sig) => lowerFixedBase(e, ins, p, sig),
  },
  InfinitePositionalEncoding: {
    summary: "Adds cosine features of drifting frequencies (deterministic threefry noise), times a learned (d, d) orthogonal-initialised matrix ('any'), softplus of a learned (d,) vector ('diag'), or as is ('none').",
    args: [
      P.float('drift', 0.03, { min: 0 }),
      P.bool('affine', true),
      P.str('transform', 'any', { choices: ['any', 'diag', 'none'] }),
      P.int('time_bin_length', null, { min: 1 }),
      P.mode(),
    ],
    modes: { train: 'random phase per call when affine', predict: 'state = (per-example position [batch], rng); one position per call' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2];
      if (p.time_bin_length !== null && typeof d === 'number' && d < 3) {
        throw new LayerError('shape_mismatch', `with time_bin_length the last 3 channels hold time-bin features, so the depth must be >= 3, got ${d}`, { expected: 'a depth >= 3', param: 'time_bin_length' });
      }
      return [added(x)];
    },
    weights: ([x], p) => {
      const d = x.shape[2];
      if (p.transform === 'diag') return [{ name: 'scale', shape: [d], dtype: 'float32', init: { fill: 1e-4 } }];
      if (p.transform === 'any') return [{ name: 'transform', shape: [d, d], dtype: 'float32', init: { $init: 'OrthogonalInitializer' } }];
      return [];
    },
    state: ([x], p) => (p.mode === 'predict'
      ? [counter([x.shape[0]]), { name: 'rng', shape: [2], dtype: 'int32', init: { table: 'prng_keys' } }]
      : []),
    lower: (e, ins, p, sig) => lowerInfinite(e, ins, p, sig),
  },
  TimeBinPositionalEncoding: {
    summary: 'Replaces the last 3 channels with time-bin features (1/(1+bin), (t mod len)/len, bin parity), bin = t // time_bin_length; shape kept.',
    args: [P.int('time_bin_length', REQUIRED, { min: 1 }), P.mode()],
    modes: { predict: 'state = per-example position [batch], advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x]) => {
      if (x.shape.length < 2) {
        throw new LayerError('rank', `input must have rank >= 2 [..., length, depth], got ${formatShapeDtype(x)}`, { expected: 'rank >= 2' });
      }
      return [added(x)];
    },
    state: ([x], p) => (p.mode === 'predict' ? [counter([x.shape[0]])] : []),
    lower: (e, ins, p, sig) => lowerTimeBin(e, ins, p, sig),
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const position_encodingsNotes: Record<string, SpecNote> = {
  threefry_2x32_prf: { status: 'function', reason: "the threefry-2x32 pseudo-random function on uint32[..., 2] (InfinitePositionalEncoding's deterministic noise); implemented by the lowering" },
  threefry_2x32_prange: { status: 'function', reason: "splits a uint32[2] key into keys [hi - lo, 2] with threefry in counter mode (InfinitePositionalEncoding's noise); implemented by the lowering" },
};
