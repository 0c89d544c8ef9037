/**
 * The `research.efficient_attention` module: memory-efficient self-attention
 * (SelfAttention), LSH attention (LSHSelfAttention, PureLSHSelfAttention and
 * its wrappers), EncDecAttention and LSHFF.
 *
 * Weights are stacked per head on a leading axis (semantics §11.2/11.3) and
 * initialised Uniform(+-sqrt(6/(d_in + d_head*n_heads))). State follows
 * EfficientAttentionBase: per (example, head) row `example*n_heads + head`,
 * and in predict mode `(mem_end, mem..., per-head state)`. JAX PRNG keys are
 * uint32[2]; Strata has no uint32 dtype, so they are listed as int32[..., 2].
 */
import { type Dim, dimDivisible, dimMul } from '../core/dim';
import { BugError, LayerError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype, promote } from '../core/shape';
import {
  type ExpandNode, INIT, type Initializer, P, type ParamSpec, type Params, type PyValue, REQUIRED, type WeightDecl, badParam, construct, fixed,
} from './def';
import { family, type SpecNote } from './family';
import { checkShapeSpec, emitDotProductAttention } from './attention';
import { elementwise, lastDim } from './rules';
import type { Emitter, LowerSig } from '../core/onnx';
import { cast, dims, int, ints, iotaF32, layerSalt, logSumExp, randomUniform, reshape, seededNormals, toFloat32, truthy } from './lowering';
import { type LshAttentionConfig, lshAttentionKernel, lshBuckets } from './kernels';

// ---------------------------------------------------------------- shared parameter lists

const DROPOUT = { min: 0, max: 1, maxExclusive: true } as const;
const PERF = 'performance/debugging only: accepted, and changes neither the shapes nor the result';

const perfArgs = (nParallelHeads: number | null): ParamSpec[] => [
  P.int('n_parallel_heads', nParallelHeads, { min: 1, nullable: true, doc: `${PERF}. None: all heads at once; 1: one (example, head) at a time; k*n_heads: k examples at a time; a divisor of n_heads: that many heads at a time` }),
  P.bool('use_python_loop', false, { doc: PERF }),
  P.bool('use_reference_code', false, { doc: PERF }),
];

/** LSHSelfAttention / PureLSHSelfAttention signature (spec order). */
const lshArgs = (): ParamSpec[] => [
  P.int('n_heads', 2, { min: 1 }),
  P.int('d_qk', 64, { min: 1 }),
  P.int('d_v', 64, { min: 1 }),
  P.any('share_qk', 'unused', { doc: 'ignored: LSH attention always shares queries and keys' }),
  P.bool('causal', false),
  P.bool('masked', false),
  P.int('chunk_len', 128, { min: 1, nullable: true }),
  P.int('n_chunks_before', 1, { min: 0 }),
  P.int('n_chunks_after', 0, { min: 0 }),
  P.int('n_hashes', 1, { min: 1 }),
  P.intOrInts('n_buckets', null, { min: 2 }),
  P.mode(),
  P.int('predict_mem_len', 2048, { min: 1 }),
  P.int('predict_drop_len', 256, { min: 1 }),
  P.float('attention_dropout', 0.0, DROPOUT),
  P.float('output_dropout', 0.0, DROPOUT),
  P.int('max_length_for_buckets', null, { min: 1 }),
  P.bool('bias', false),
  ...perfArgs(1),
];

/**
 * `**pure_lsh_implementation_kwargs` of the wrappers, forwarded to the
 * PureLSHSelfAttention they build (defaults are that layer's).
 */
const LSH_KWARGS = [
  'share_qk', 'chunk_len', 'n_chunks_before', 'n_chunks_after', 'n_hashes', 'n_buckets', 'predict_mem_len', 'predict_drop_len',
  'max_length_for_buckets', 'bias', 'n_parallel_heads', 'use_python_loop', 'use_reference_code',
] as const;

const LSH_DEFAULTS = new Map(lshArgs().map((a) => [a.name, a.default]));

function lshKwargs(exclude: readonly string[] = []): ParamSpec[] {
  const all = lshArgs();
  return LSH_KWARGS.filter((n) => !exclude.includes(n)).map((n) => ({ ...all.find((a) => a.name === n)!, kwOnly: true, doc: 'passed on to the PureLSHSelfAttention it builds (**pure_lsh_implementation_kwargs)' }));
}

const MODES_DOC = {
  train: 'attention and output dropout active',
  eval: 'no dropout',
  predict: 'causal only: keeps a memory of predict_mem_len input positions in state (dropping predict_drop_len when full)',
} as const;

// ---------------------------------------------------------------- checks

function checkParallelHeads(p: Params): void {
  const n: number | null = p.n_parallel_heads, h: number = p.n_heads;
  if (n && ((n > h && n % h !== 0) || (n < h && h % n !== 0))) {
    construct(`n_parallel_heads must be a multiple or fraction of n_heads (n_parallel_heads = ${n}, n_heads = ${h})`, 'n_parallel_heads');
  }
}

function checkChunks(p: Params): void {
  if (p.chunk_len === null && (p.n_chunks_before !== 0 || p.n_chunks_after !== 0)) {
    construct(`n_chunks_before/n_chunks_after need chunked attention; set chunk_len or make them 0`, p.n_chunks_before !== 0 ? 'n_chunks_before' : 'n_chunks_after');
  }
}

/** Effective (predict_mem_len, predict_drop_len) in predict mode; construction errors as Trax raises them. */
function predictMem(p: Params): { mem: number; drop: number } | null {
  if (p.mode !== 'predict') return null;
  if (!p.causal) construct(`only causal attention supports fast inference (mode='predict' needs causal=True)`, 'causal');
  if (p.chunk_len === null && !(p.predict_mem_len && p.predict_drop_len)) {
    construct(`mode='predict' needs chunk_len, or both predict_mem_len and predict_drop_len`, 'predict_mem_len');
  }
  const mem: number = p.predict_mem_len || p.chunk_len * (1 + p.n_chunks_before);
  const drop: number = p.predict_drop_len || p.chunk_len;
  if (!(drop > 0 && drop <= mem)) {
    construct(`bad parameter values: (predict_mem_len, predict_drop_len) = (${mem}, ${drop}); need 0 < predict_drop_len <= predict_mem_len`, 'predict_drop_len');
  }
  return { mem, drop };
}

function checkBuckets(n: number | number[] | null, param = 'n_buckets'): void {
  if (n === null) return;
  const odd = (Array.isArray(n) ? n : [n]).find((f) => f % 2 !== 0);
  if (odd !== undefined) badParam(param, `n_buckets must be even (each factor of a list too): random rotations give 2 buckets per direction, got ${odd}`, 'even integers');
}

function checkLsh(p: Params): void {
  checkParallelHeads(p);
  checkBuckets(p.n_buckets);
  checkChunks(p);
  if (p.chunk_len === null && p.n_buckets === null) {
    construct('without chunk_len the number of buckets cannot be derived from the length; set chunk_len or n_buckets', 'n_buckets');
  }
  predictMem(p);
}

function requireRank3(x: ShapeDtype, what: string): void {
  if (x.shape.length !== 3) {
    throw new LayerError('rank', `${what} must have rank 3 [batch, length, depth], got ${formatShapeDtype(x)}`, { expected: `${what} of rank 3` });
  }
}

/** The sorted LSH sequence (n_hashes * length) is cut into chunks of chunk_len. */
function checkLshChunks(T: Dim, p: Params): void {
  if (p.mode === 'predict' || p.chunk_len === null) return; // predict pads to a multiple of chunk_len
  const total = dimMul(p.n_hashes, T);
  if (dimDivisible(total, p.chunk_len) === false) {
    const how = p.n_hashes === 1 ? `length ${T}` : `n_hashes * length = ${p.n_hashes} * ${T} = ${total}`;
    throw new LayerError('shape_mismatch', `the hash-sorted sequence (${how}) must be divisible by chunk_len = ${p.chunk_len}`, {
      expected: `a length with n_hashes * length divisible by chunk_len = ${p.chunk_len}`, param: 'chunk_len',
    });
  }
  const maxLen: number | null = p.max_length_for_buckets;
  if (maxLen !== null && typeof T === 'number' && T > maxLen) {
    throw new LayerError('shape_mismatch', `input length ${T} exceeds max_length_for_buckets = ${maxLen}`, { expected: `a length <= ${maxLen}`, param: 'max_length_for_buckets' });
  }
}

function checkChunkedLength(T: Dim, p: Params): void {
  const c: number | null = p.chunk_len;
  if (c === null) return;
  if (p.mode === 'predict' && !(typeof T === 'number' && T > c)) return; // one token at a time, or a prefix longer than a chunk
  if (dimDivisible(T, c) === false) {
    throw new LayerError('shape_mismatch', `sequence length ${T} must be divisible by chunk_len = ${c}`, { expected: `a length divisible by ${c}`, param: 'chunk_len' });
  }
}

// ---------------------------------------------------------------- weights and state

/** Uniform(+-sqrt(6/(fanIn + fanOut*n_heads))): Glorot over the concatenation of the heads. */
function headInit(fanIn: Dim, fanOut: Dim, nHeads: number, transposed = false): Initializer {
  if (typeof fanIn === 'number' && typeof fanOut === 'number') {
    return { $init: 'RandomUniformInitializer', args: { lim: Math.sqrt(6 / (fanIn + fanOut * nHeads)) } };
  }
  const [a, b] = transposed ? ['shape[-1]', 'shape[-2]'] : ['shape[-2]', 'shape[-1]'];
  return { $lambda: `lambda shape, rng: tl.initializers.RandomUniformInitializer(math.sqrt(6.0 / (${a} + ${b} * ${nHeads})))(shape, rng)` };
}

function headWeight(name: string, h: number, din: Dim, dout: Dim, transposed = false): WeightDecl {
  // w_o is drawn as (d_model, d_v) per head and transposed: its fans are (d_model, d_v)
  return { name, shape: [h, din, dout], dtype: 'float32', init: transposed ? headInit(dout, din, h, true) : headInit(din, dout, h) };
}

function zeros(name: string, shape: Dim[], dtype: 'int32' | 'float32' = 'float32'): WeightDecl {
  return { name, shape, dtype, init: { fill: 0 } };
}

/** Per-head PRNG keys (uint32[2] in JAX; int32 here). */
function rngKeys(rows: Dim): WeightDecl {
  return { name: 'hash_rng', shape: [rows, 2], dtype: 'int32', init: { table: 'prng_keys' } };
}

/** Predict-mode input memory: [mem_end, one buffer per input [batch, mem_len, ...]]. */
function predictMemory(inputs: readonly ShapeDtype[], mem: number, names: readonly string[]): WeightDecl[] {
  return [
    zeros('mem_end', [], 'int32'),
    ...inputs.map((x, i) => ({ name: `mem_${names[i] ?? i}`, shape: [x.shape[0], mem, ...x.shape.slice(2)], dtype: x.dtype, init: { fill: 0 } as const })),
  ];
}

/** LSH state for `rows` (example, head) pairs of sequences of length T, after the predict memory. */
function lshState(rows: Dim, T: Dim, p: Params, memInputs: readonly ShapeDtype[], memNames: readonly string[]): WeightDecl[] {
  const pm = predictMem(p);
  if (!pm) {
    const len = p.max_length_for_buckets ?? T;
    return [zeros('buckets', [rows, dimMul(p.n_hashes, len)], 'int32'), rngKeys(rows)];
  }
  return [
    ...predictMemory(memInputs, pm.mem, memNames),
    zeros('buckets', [rows, p.n_hashes * pm.mem], 'int32'),
    zeros('buckets_idx', [rows], 'int32'),
    rngKeys(rows),
  ];
}

/** Checks PureLSHSelfAttention's inputs: qk, v [batch*n_heads, T, d] (same depth), mask [batch, T]. */
function checkPureLshInputs(inputs: readonly ShapeDtype[], p: Params): void {
  const [qk, v, mask] = inputs;
  requireRank3(qk, 'qk');
  requireRank3(v, 'v');
  checkShapeSpec([qk, v], 'ntd,nte', { names: ['qk', 'v'] });
  if (qk.shape[2] !== v.shape[2]) {
    throw new LayerError('shape_mismatch', `v has depth ${v.shape[2]} but qk has depth ${qk.shape[2]}; the output is allocated with qk's depth, so d_v must equal d_qk`, { expected: 'qk and v of the same depth' });
  }
  const [bh, T] = qk.shape;
  const h: number = p.n_heads;
  if (p.masked) {
    if (mask.shape.length !== 2) {
      throw new LayerError('rank', `mask must have rank 2 [batch, length], got ${formatShapeDtype(mask)}`, { expected: 'a mask [batch, length]' });
    }
    if (dimMul(mask.shape[0], h) !== bh || mask.shape[1] !== T) {
      throw new LayerError('shape_mismatch', `mask ${formatShapeDtype(mask)} does not fit qk ${formatShapeDtype(qk)}: expected [batch, ${T}] with batch * n_heads (${h}) = ${bh}`, { expected: `a mask [${bh}/${h}, ${T}]` });
    }
  } else if (dimDivisible(bh, h) === false) {
    throw new LayerError('shape_mismatch', `the first axis of qk (${bh}) must be batch * n_heads, a multiple of n_heads = ${h}`, { expected: `a first axis divisible by ${h}`, param: 'n_heads' });
  }
}

/** PureLSHSelfAttention's output: qk's shape, v's dtype. */
function pureLshInfer(inputs: readonly ShapeDtype[], p: Params): ShapeDtype {
  checkPureLshInputs(inputs, p);
  const [qk, v] = inputs;
  checkLshChunks(qk.shape[1], p);
  return { dtype: v.dtype, shape: qk.shape };
}

function pureLshState(inputs: readonly ShapeDtype[], p: Params): WeightDecl[] {
  const [qk, v] = inputs;
  return lshState(qk.shape[0], qk.shape[1], p, [qk, v], ['qk', 'v']);
}

// ---------------------------------------------------------------- lowering: the shared building blocks (semantics §11.1)

/** Python's `concatenate([x[i:], x[:i]], axis)` over `n` chunks on `axis` (look_adjacent's cyclic shift). */
function rollChunks(e: Emitter, x: string, n: number, i: number, axis: number): string {
  const s = i < 0 ? Math.max(n + i, 0) : Math.min(i, n);
  if (s === 0 || s === n) return x; // one of the two slices is empty
  const a = e.op1('Slice', [x, e.i64([s]), e.i64([n]), e.i64([axis])]);
  const b = e.op1('Slice', [x, e.i64([0]), e.i64([s]), e.i64([axis])]);
  return e.op1('Concat', [a, b], { axis: int(axis) });
}

/**
 * look_adjacent on x [rows, n_chunks, chunk_len, ...]: each chunk followed by
 * its neighbours i = -before..after (cyclic), concatenated on the chunk_len axis.
 */
export function lookAdjacent(e: Emitter, x: string, nChunks: number, before: number, after: number): string {
  if (before === 0 && after === 0) return x;
  const parts: string[] = [];
  for (let i = -before; i <= after; i++) parts.push(i === 0 ? x : rollChunks(e, x, nChunks, i, 1));
  return e.op1('Concat', parts, { axis: int(2) });
}

/** length_normalized: x / sqrt(mean(x^2, -1) + 1e-6). */
export function lengthNormalized(e: Emitter, x: string): string {
  const variance = e.op1('ReduceMean', [e.op1('Mul', [x, x]), e.i64([-1])], { keepdims: int(1) });
  return e.op1('Div', [x, e.op1('Sqrt', [e.op1('Add', [variance, e.f32(1e-6)])])]);
}

/** Subtractive masks of mask_self_attention, or EncDecAttention's `dots - 1e9 * kv_info`. */
export type AttendMask = { causal: boolean; excludeSelf: boolean; masked: boolean } | 'encdec' | null;

export interface AttendSpec {
  /** leading rows (example x head pairs) of q, k, v */
  readonly rows: number;
  readonly qLen: number;
  readonly kvLen: number;
  readonly dQk: number;
  readonly dV: number;
  /** chunk length (q and kv; null: no chunking) */
  readonly chunkLen: number | null;
  readonly before: number;
  readonly after: number;
  /** infos as Trax passes them (0-based; attend adds 1), float32 [infoRows, len], or null for the default 1..len */
  readonly qInfo: string | null;
  readonly qInfoRows?: number;
  readonly kvInfo: string | null;
  readonly kvInfoRows?: number;
  readonly mask: AttendMask;
  /** attention dropout in effect (0 outside train mode) */
  readonly dropout: number;
  /** salt of the dropout mask */
  readonly salt: string;
}

/**
 * attend() of efficient_attention (semantics §11.1) on q [rows, qLen, dQk],
 * k [rows, kvLen, dQk] (null: shared QK, keys = length-normalised queries),
 * v [rows, kvLen, dV], all float32. Returns out [rows, qLen, dV] and the
 * logsumexp of the logits [rows, qLen].
 */
export function emitAttend(e: Emitter, q: string, k: string | null, v: string, s: AttendSpec): { out: string; lse: string } {
  const shared = k === null;
  const R = s.rows;
  // infos: 1-based (supplied infos get +1)
  const one = e.f32(1);
  const qi = s.qInfo ? e.op1('Add', [s.qInfo, one]) : iotaF32(e, s.qLen, [1, s.qLen], 1);
  const qiRows = s.qInfo ? s.qInfoRows ?? R : 1;
  let ki: string, kiRows: number;
  if (s.kvInfo) { ki = e.op1('Add', [s.kvInfo, one]); kiRows = s.kvInfoRows ?? R; } else if (shared) { ki = qi; kiRows = qiRows; } else { ki = iotaF32(e, s.kvLen, [1, s.kvLen], 1); kiRows = 1; }
  // chunking (one chunk when there is none)
  const cq = s.chunkLen ?? s.qLen;
  const ckv = s.chunkLen ?? s.kvLen;
  const nC = s.qLen / cq;
  if (s.chunkLen !== null && s.kvLen / ckv !== nC) throw new BugError(`attend: ${s.qLen} queries and ${s.kvLen} keys do not give the same number of chunks of ${s.chunkLen}`);
  const before = s.chunkLen === null ? 0 : s.before, after = s.chunkLen === null ? 0 : s.after;
  const q4 = reshape(e, q, [R, nC, cq, s.dQk]);
  let k4 = shared ? q4 : reshape(e, k, [R, nC, ckv, s.dQk]);
  const v4 = reshape(e, v, [R, nC, ckv, s.dV]);
  const qi3 = reshape(e, qi, [qiRows, nC, cq]);
  const ki3 = reshape(e, ki, [kiRows, nC, ckv]);
  if (shared) k4 = lengthNormalized(e, k4);
  k4 = e.op1('Div', [k4, e.f32(Math.sqrt(s.dQk))]);
  const kA = lookAdjacent(e, k4, nC, before, after);
  const vA = lookAdjacent(e, v4, nC, before, after);
  const kiA = lookAdjacent(e, ki3, nC, before, after);
  const width = ckv * (1 + before + after);
  let dots = e.op1('MatMul', [q4, e.op1('Transpose', [kA], { perm: ints([0, 1, 3, 2]) })]);
  if (s.mask) {
    const kiU = e.op1('Unsqueeze', [kiA, e.i64([2])]);
    const zero = e.f32(0);
    if (s.mask === 'encdec') {
      dots = e.op1('Sub', [dots, e.op1('Mul', [kiU, e.f32(1e9)])]);
    } else {
      const qiU = e.op1('Unsqueeze', [qi3, e.i64([3])]);
      if (s.mask.causal) dots = e.op1('Sub', [dots, e.op1('Where', [e.op1('Less', [qiU, kiU]), e.f32(1e9), zero])]);
      if (s.mask.excludeSelf) dots = e.op1('Sub', [dots, e.op1('Where', [e.op1('Equal', [qiU, kiU]), e.f32(1e5), zero])]);
      if (s.mask.masked) dots = e.op1('Sub', [dots, e.op1('Where', [e.op1('Less', [kiU, zero]), e.f32(1e9), zero])]);
    }
  }
  const lse = logSumExp(e, dots, -1, true);
  let probs = e.op1('Exp', [e.op1('Sub', [dots, lse])]);
  if (s.dropout > 0) {
    // one keep mask of shape (chunk_q, chunk_kv), shared by all chunks, rows (and heads)
    const keep = e.op1('Less', [randomUniform(e, [cq, width], `${s.salt}/attention_dropout`), e.f32(1 - s.dropout)]);
    probs = e.op1('Mul', [probs, e.op1('Where', [keep, e.f32(1 / (1 - s.dropout)), e.f32(0)])]);
  }
  const out = reshape(e, e.op1('MatMul', [probs, vA]), [R, s.qLen, s.dV]);
  return { out, lse: reshape(e, lse, [R, s.qLen]) };
}

/** apply_broadcasted_dropout: one keep mask over the last axis (size d), shared by all positions. */
export function broadcastedDropout(e: Emitter, x: string, d: number, rate: number, salt: string): string {
  if (rate <= 0) return x;
  const keep = e.op1('Less', [randomUniform(e, [d], salt), e.f32(1 - rate)]);
  return e.op1('Mul', [x, e.op1('Where', [keep, e.f32(1 / (1 - rate)), e.f32(0)])]);
}

/**
 * hash_vecs' bucket ids from rotated vectors `rot` [..., rot_size/2]:
 * argmax(concat([rot, -rot])) for an int, mixed radix (first factor least
 * significant) for a list of factors. Float32 ids (exact small integers),
 * shape rot's without the last axis. ArgMax's int64 index becomes a float
 * through a Gather from an iota table (no int64 arithmetic or casts).
 */
export function emitHashBuckets(e: Emitter, rot: string, nBuckets: number | readonly number[]): string {
  const argmaxOf = (part: string, f: number): string => {
    const cat = e.op1('Concat', [part, e.op1('Neg', [part])], { axis: int(-1) });
    return e.op1('Gather', [iotaF32(e, f), e.op1('ArgMax', [cat], { axis: int(-1), keepdims: int(0) })]);
  };
  if (typeof nBuckets === 'number') return argmaxOf(rot, nBuckets);
  if (nBuckets.length === 1) return argmaxOf(rot, nBuckets[0]);
  let b: string | null = null;
  let cur = 0, prod = 1;
  for (const f of nBuckets) {
    const part = e.op1('Slice', [rot, e.i64([cur]), e.i64([cur + f / 2]), e.i64([-1])]);
    cur += f / 2;
    const bi = argmaxOf(part, f);
    b = b === null ? bi : e.op1('Add', [b, e.op1('Mul', [bi, e.f32(prod)])]);
    prod *= f;
  }
  return b!;
}

/** rot_size/2 and the total bucket count of an n_buckets value. */
export function bucketSizes(nBuckets: number | readonly number[]): { half: number; total: number } {
  const fs = typeof nBuckets === 'number' ? [nBuckets] : nBuckets;
  return { half: fs.reduce((a, b) => a + b, 0) / 2, total: fs.reduce((a, b) => a * b, 1) };
}

/** Per-head projection x [B, T, d] @ w [h, d, k] (+ b [h, k]) -> [B*h, T, k] (row = example*h + head). */
function projectHeads(e: Emitter, x: string, w: string, b: string | null, B: number, h: number, T: number, k: number): string {
  let y = e.op1('MatMul', [e.op1('Unsqueeze', [x, e.i64([1])]), w]);
  if (b) y = e.op1('Add', [y, e.op1('Unsqueeze', [b, e.i64([1])])]);
  return reshape(e, y, [B * h, T, k]);
}

/** A per-example [B, T] tensor repeated for each head: [B*h, T]. */
function perHeadRows(e: Emitter, x: string, B: number, h: number, T: number): string {
  if (h === 1) return x;
  const ex = e.op1('Expand', [e.op1('Unsqueeze', [x, e.i64([1])]), e.i64([B, h, T])]);
  return reshape(e, ex, [B * h, T]);
}

/** o [B*h, T, dv] @ w_o per head, summed over heads -> [B, T, d_model]. */
function outputHeads(e: Emitter, o: string, wO: string, B: number, h: number, T: number, dv: number): string {
  const y = e.op1('MatMul', [reshape(e, o, [B, h, T, dv]), wO]);
  return e.op1('ReduceSum', [y, e.i64([1])], { keepdims: int(0) });
}

const effDropout = (e: Emitter, rate: number): number => (e.mode === 'train' ? rate : 0);

/** Cache key of a layer's function: parameters, input signature, mode, and seed/salt when randomness is inside. */
function fnKey(kind: string, p: object, sig: LowerSig, e: Emitter, random: boolean, salt: string): string {
  return `${kind}:${JSON.stringify(p)}:${sig.inputs.map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(';')}:${e.mode}${random ? `:${e.seed}:${salt}` : ''}`;
}

// ---------------------------------------------------------------- lowering: the layers

function lowerSelfAttention(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [B, T, dm] = dims(sig.inputs[0]);
  const h: number = p.n_heads, dqk: number = p.d_qk, dv: number = p.d_v;
  const attnDrop = effDropout(e, p.attention_dropout), outDrop = effDropout(e, p.output_dropout);
  const salt = layerSalt(e);
  // chunking; a predict-mode call shorter than a chunk attends without chunks (as Trax's incremental path)
  const chunk: number | null = p.chunk_len !== null && T % p.chunk_len === 0 ? p.chunk_len : null;
  const key = fnKey('SelfAttention', p, sig, e, attnDrop > 0 || outDrop > 0, salt);
  const pm = e.mode === 'predict' ? predictMem(p) : null;
  if (pm && T <= pm.drop && T < pm.mem) return lowerSelfAttentionStep(e, ins, p, sig, pm, key, salt);
  return e.fn('SelfAttention', key, ins, 1, (fe, fins) => {
    const x = toFloat32(fe, fins[0], sig.inputs[0].dtype);
    const R = B * h;
    const q = projectHeads(fe, x, fe.weight('w_q'), p.bias ? fe.weight('b_q') : null, B, h, T, dqk);
    const k = p.share_qk ? null : projectHeads(fe, x, fe.weight('w_k'), p.bias ? fe.weight('b_k') : null, B, h, T, dqk);
    const v = projectHeads(fe, x, fe.weight('w_v'), p.bias ? fe.weight('b_v') : null, B, h, T, dv);
    const pos = iotaF32(fe, T, [1, T]);
    let kvInfo = pos, kvRows = 1;
    if (p.masked) {
      const sign = fe.op1('Where', [truthy(fe, fins[1], sig.inputs[1].dtype), fe.f32(1), fe.f32(-1)]);
      kvInfo = perHeadRows(fe, fe.op1('Mul', [pos, sign]), B, h, T);
      kvRows = R;
    }
    const { out } = emitAttend(fe, q, k, v, {
      rows: R, qLen: T, kvLen: T, dQk: dqk, dV: dv, chunkLen: chunk, before: p.n_chunks_before, after: p.n_chunks_after,
      qInfo: pos, qInfoRows: 1, kvInfo, kvInfoRows: kvRows,
      mask: { causal: p.causal, excludeSelf: p.share_qk, masked: p.masked }, dropout: attnDrop, salt,
    });
    const y = broadcastedDropout(fe, outputHeads(fe, out, fe.weight('w_o'), B, h, T, dv), dm, outDrop, `${salt}/output_dropout`);
    return [cast(fe, y, 'float32', sig.outputs[0].dtype)];
  }, 'efficient SelfAttention: per-head projections, chunked attention with subtractive masks, output projection summed over heads');
}

/**
 * SelfAttention's fast-inference step (predict mode, a call of at most
 * predict_drop_len positions, _incremental_forward_unbatched): the inputs
 * are written into the input memory at mem_end (after dropping the oldest
 * predict_drop_len positions when it would overflow), the new positions
 * query the whole memory (keys and values of every remembered position,
 * causal masking by position; with shared QK the keys are the
 * length-normalised query projections). The updated memory is not returned
 * (lowering has no state outputs): one call's output is exact.
 */
function lowerSelfAttentionStep(e: Emitter, ins: string[], p: Params, sig: LowerSig, pm: { mem: number; drop: number }, key: string, salt: string): string[] {
  const [B, T, dm] = dims(sig.inputs[0]);
  const h: number = p.n_heads, dqk: number = p.d_qk, dv: number = p.d_v;
  const M = pm.mem, D = pm.drop;
  if (p.masked) throw new LayerError('unsupported', 'predict-mode SelfAttention with masked=True (a mask memory) is not lowered', { param: 'masked' });
  if (p.chunk_len !== null && T > p.chunk_len) throw new LayerError('unsupported', `a predict-mode SelfAttention call longer than chunk_len (${T} > ${p.chunk_len}) but not longer than predict_drop_len is not lowered`, { param: 'chunk_len' });
  const attnDrop = effDropout(e, p.attention_dropout), outDrop = effDropout(e, p.output_dropout);
  return e.fn('SelfAttentionStep', `${key}:step`, [ins[0], e.state('mem_end'), e.state('mem_x')], 1, (fe, [xin, memEnd, memX]) => {
    const x = toFloat32(fe, xin, sig.inputs[0].dtype);
    const mem = toFloat32(fe, memX, sig.inputs[0].dtype);
    const toI32 = (v: string): string => fe.op1('Cast', [v], { to: int(6) });
    // roll the memory when the new positions would not fit: drop the oldest D
    const end = fe.op1('Cast', [memEnd], { to: int(1) });
    const shift = fe.op1('Where', [fe.op1('Greater', [fe.op1('Add', [end, fe.f32(T)]), fe.f32(M)]), fe.f32(D), fe.f32(0)]);
    const start = fe.op1('Sub', [end, shift]);
    const pos = iotaF32(fe, M);
    const src = fe.op1('Add', [pos, shift]);
    const column = (b: string): string => fe.op1('Unsqueeze', [b, fe.i64([0, 2])]);
    const old = fe.op1('Gather', [mem, toI32(fe.op1('Min', [src, fe.f32(M - 1)]))], { axis: int(1) });
    const kept = fe.op1('Where', [column(fe.op1('Less', [src, fe.f32(M)])), old, fe.f32(0)]);
    // write the new positions at start..start+T-1
    const rel = fe.op1('Sub', [pos, start]);
    const inWindow = column(fe.op1('And', [fe.op1('GreaterOrEqual', [rel, fe.f32(0)]), fe.op1('Less', [rel, fe.f32(T)])]));
    const written = fe.op1('Gather', [x, toI32(fe.op1('Clip', [rel, fe.f32(0), fe.f32(T - 1)]))], { axis: int(1) });
    const full = fe.op1('Where', [inWindow, written, kept]); // [B, M, dm]
    const R = B * h;
    const q = projectHeads(fe, x, fe.weight('w_q'), p.bias ? fe.weight('b_q') : null, B, h, T, dqk);
    const k = p.share_qk
      ? lengthNormalized(fe, projectHeads(fe, full, fe.weight('w_q'), p.bias ? fe.weight('b_q') : null, B, h, M, dqk))
      : projectHeads(fe, full, fe.weight('w_k'), p.bias ? fe.weight('b_k') : null, B, h, M, dqk);
    const v = projectHeads(fe, full, fe.weight('w_v'), p.bias ? fe.weight('b_v') : null, B, h, M, dv);
    const qInfo = fe.op1('Add', [iotaF32(fe, T, [1, T]), start]);
    const { out } = emitAttend(fe, q, k, v, {
      rows: R, qLen: T, kvLen: M, dQk: dqk, dV: dv, chunkLen: null, before: 0, after: 0,
      qInfo, qInfoRows: 1, kvInfo: iotaF32(fe, M, [1, M]), kvInfoRows: 1,
      mask: { causal: p.causal, excludeSelf: p.share_qk, masked: false }, dropout: attnDrop, salt,
    });
    const y = broadcastedDropout(fe, outputHeads(fe, out, fe.weight('w_o'), B, h, T, dv), dm, outDrop, `${salt}/output_dropout`);
    return [cast(fe, y, 'float32', sig.outputs[0].dtype)];
  }, 'SelfAttention fast inference: new positions written into the input memory, attending over all remembered positions');
}

/** The LSH kernel's configuration for a layer's parameters. */
function lshConfig(e: Emitter, p: Params, rows: number, T: number, dqk: number, dv: number, masked: boolean, dropout: number, salt: string): LshAttentionConfig {
  const chunk: number | null = p.chunk_len;
  if (chunk !== null && (p.n_hashes * T) % chunk !== 0) {
    throw new LayerError('unsupported', `the hash-sorted sequence (n_hashes * length = ${p.n_hashes * T}) is not a multiple of chunk_len = ${chunk}; predict-mode calls shorter than a chunk need the LSH predict memory, which lowering does not implement`, { param: 'chunk_len' });
  }
  return {
    rows, length: T, dQk: dqk, dV: dv, nHashes: p.n_hashes, nBuckets: lshBuckets(p.n_buckets, T, chunk),
    chunkLen: chunk, nChunksBefore: p.n_chunks_before, nChunksAfter: p.n_chunks_after, causal: p.causal, masked,
    dropout, seed: e.seed, salt,
  };
}

function lowerLshSelfAttention(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [B, T, dm] = dims(sig.inputs[0]);
  const h: number = p.n_heads, dqk: number = p.d_qk, dv: number = p.d_v;
  const salt = layerSalt(e);
  const x = toFloat32(e, ins[0], sig.inputs[0].dtype);
  const q = projectHeads(e, x, e.weight('w_qk'), p.bias ? e.weight('b_qk') : null, B, h, T, dqk);
  const v = projectHeads(e, x, e.weight('w_v'), p.bias ? e.weight('b_v') : null, B, h, T, dv);
  const mask = p.masked ? perHeadRows(e, truthy(e, ins[1], sig.inputs[1].dtype), B, h, T) : null;
  const cfg = lshConfig(e, p, B * h, T, dqk, dv, p.masked, effDropout(e, p.attention_dropout), salt);
  const o = lshAttentionKernel()(e, q, v, mask, cfg);
  const y = broadcastedDropout(e, outputHeads(e, o, e.weight('w_o'), B, h, T, dv), dm, effDropout(e, p.output_dropout), `${salt}/output_dropout`);
  return [cast(e, y, 'float32', sig.outputs[0].dtype)];
}

function lowerPureLsh(e: Emitter, ins: string[], p: Params, sig: LowerSig, dropout: number): string[] {
  const [R, T, d] = dims(sig.inputs[0]);
  const h: number = p.n_heads;
  const qk = toFloat32(e, ins[0], sig.inputs[0].dtype);
  const v = toFloat32(e, ins[1], sig.inputs[1].dtype);
  // mask [batch, T]: row idx uses mask[idx // n_heads]
  const mask = p.masked ? perHeadRows(e, truthy(e, ins[2], sig.inputs[2].dtype), R / h, h, T) : null;
  const cfg = lshConfig(e, p, R, T, d, dims(sig.inputs[1])[2], p.masked, dropout, layerSalt(e));
  return [cast(e, lshAttentionKernel()(e, qk, v, mask, cfg), 'float32', sig.outputs[0].dtype)];
}

function lowerMixedLsh(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [R, T, d] = dims(sig.inputs[0]);
  const dropout = p.force_no_dropout ? 0 : effDropout(e, p.attention_dropout);
  if (p.std_length === null || T > p.std_length) return lowerPureLsh(e, ins, p, sig, dropout);
  // standard attention: causal -> DotProductCausalAttention(qk, qk, v); masked -> DotProductAttention(qk, qk, v, mask per head row)
  const salt = layerSalt(e);
  const qk = toFloat32(e, ins[0], sig.inputs[0].dtype);
  const v = toFloat32(e, ins[1], sig.inputs[1].dtype);
  let mask: string;
  if (p.causal) {
    mask = causalMask(e, T, T);
  } else {
    const h: number = p.n_heads;
    mask = e.op1('Unsqueeze', [perHeadRows(e, truthy(e, ins[2], sig.inputs[2].dtype), R / h, h, T), e.i64([1])]);
  }
  const out = emitDotProductAttention(e, qk, qk, v, mask, { kRank: 3, dHead: d, dropout, probsShape: [R, T, T], salt });
  return [cast(e, out, 'float32', sig.outputs[0].dtype)];
}

/** [1, lq, lk] bool: key j visible from query i iff j <= i + offset. */
function causalMask(e: Emitter, lq: number, lk: number): string {
  return e.op1('LessOrEqual', [iotaF32(e, lk, [1, 1, lk]), iotaF32(e, lq, [1, lq, 1])]);
}

function lowerEncDec(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const [B, lq, dm] = dims(sig.inputs[0]);
  const lk = dims(sig.inputs[1])[1];
  const h: number = p.n_heads, dqk: number = p.d_qk, dv: number = p.d_v;
  const attnDrop = effDropout(e, p.attention_dropout), outDrop = effDropout(e, p.output_dropout);
  const salt = layerSalt(e);
  const key = fnKey('EncDecAttention', p, sig, e, attnDrop > 0 || outDrop > 0, salt);
  return e.fn('EncDecAttention', key, ins, 1, (fe, fins) => {
    const qa = toFloat32(fe, fins[0], sig.inputs[0].dtype);
    const kva = toFloat32(fe, fins[1], sig.inputs[1].dtype);
    const R = B * h;
    const q = projectHeads(fe, qa, fe.weight('w_q'), null, B, h, lq, dqk);
    const k = projectHeads(fe, kva, fe.weight('w_k'), null, B, h, lk, dqk);
    const v = projectHeads(fe, kva, fe.weight('w_v'), null, B, h, lk, dv);
    // masked: kv_info = (~mask) as int (attend adds 1: 1 for real keys, 2 for padding), dots -= 1e9 * kv_info
    const kvInfo = p.masked ? perHeadRows(fe, fe.op1('Where', [truthy(fe, fins[2], sig.inputs[2].dtype), fe.f32(0), fe.f32(1)]), B, h, lk) : null;
    const { out } = emitAttend(fe, q, k, v, {
      rows: R, qLen: lq, kvLen: lk, dQk: dqk, dV: dv, chunkLen: null, before: 0, after: 0,
      qInfo: null, kvInfo, kvInfoRows: R, mask: p.masked ? 'encdec' : null, dropout: attnDrop, salt,
    });
    const y = broadcastedDropout(fe, outputHeads(fe, out, fe.weight('w_o'), B, h, lq, dv), dm, outDrop, `${salt}/output_dropout`);
    return [cast(fe, y, 'float32', sig.outputs[0].dtype)];
  }, 'efficient encoder-decoder attention: per-head projections, attention (masked keys penalised by 1e9 * (1 + padding)), output projection summed over heads');
}

/** Random rotations (d, n_hashes, rot_size/2) of hash_vecs, drawn at lowering time from the run's seed. */
export function hashRotations(seed: number, salt: string, d: number, nHashes: number, half: number): Float32Array {
  return seededNormals(seed, `${salt}/rotations`, d * nHashes * half);
}

function lowerLshff(e: Emitter, ins: string[], p: Params, sig: LowerSig): string[] {
  const xs = dims(sig.inputs[0]);
  const d = xs[xs.length - 1];
  const n = xs.slice(0, -1).reduce((a, b) => a * b, 1);
  const dff: number = p.d_ff, nH: number = p.n_hashes;
  const nb = lshBuckets(p.n_buckets, 0, null);
  const { half } = bucketSizes(nb);
  const salt = layerSalt(e);
  const rot = e.constant({ dtype: 'float32', dims: [d, nH * half], data: hashRotations(e.seed, salt, d, nH, half) });
  const key = `LSHFF:${JSON.stringify(p)}:${sig.inputs[0].dtype}[${xs.join(',')}]`;
  return e.fn('LSHFF', key, [ins[0], rot], 1, (fe, [xin, r]) => {
    const x = reshape(fe, toFloat32(fe, xin, sig.inputs[0].dtype), [n, d]);
    const w1 = fe.weight('w1');
    // the same rotations hash the inputs and the rows of w1: buckets [rows, n_hashes]
    const bucketsOf = (v: string, rows: number): string => emitHashBuckets(fe, reshape(fe, fe.op1('MatMul', [v, r]), [rows, nH, half]), nb);
    const xb = fe.op1('Unsqueeze', [bucketsOf(x, n), fe.i64([1])]);
    const wb = fe.op1('Unsqueeze', [bucketsOf(w1, dff), fe.i64([0])]);
    // 1 where the buckets agree in some round
    const same = fe.op1('Where', [fe.op1('Equal', [xb, wb]), fe.f32(1), fe.f32(0)]);
    const hashMask = fe.op1('ReduceMax', [same, fe.i64([2])], { keepdims: int(0) });
    const mid = fe.op1('Mul', [fe.op1('MatMul', [x, fe.op1('Transpose', [w1], { perm: ints([1, 0]) })]), hashMask]);
    const res = fe.op1('Add', [fe.op1('MatMul', [fe.op1('Relu', [mid]), fe.weight('w2')]), fe.weight('b2')]);
    return [cast(fe, reshape(fe, res, xs), 'float32', sig.outputs[0].dtype)];
  }, 'LSH feed-forward: x @ w1^T kept where x and the row of w1 share a hash bucket, Relu, @ w2 + b2');
}

/** Rotary position embedding (research.rotary_positional_embedding.rotate) of x [b, l, d]. */
function lowerRotate(e: Emitter, ins: string[], sig: LowerSig): string[] {
  const [, l, d] = dims(sig.inputs[0]);
  const half = d / 2;
  const x = toFloat32(e, ins[0], sig.inputs[0].dtype);
  // freqs[i, j] = i * exp(2k * -(ln(10000) / d)), k = j mod d/2 (concat(freqs, freqs))
  const inv = Array.from({ length: d }, (_, j) => Math.exp(2 * (j % half) * -(Math.log(10000) / d)));
  const freqs = e.op1('Mul', [iotaF32(e, l, [l, 1]), e.f32(inv, [1, d])]);
  const x1 = e.op1('Slice', [x, e.i64([0]), e.i64([half]), e.i64([-1])]);
  const x2 = e.op1('Slice', [x, e.i64([half]), e.i64([d]), e.i64([-1])]);
  const rotated = e.op1('Concat', [e.op1('Neg', [x2]), x1], { axis: int(-1) });
  const y = e.op1('Add', [e.op1('Mul', [x, e.op1('Cos', [freqs])]), e.op1('Mul', [rotated, e.op1('Sin', [freqs])])]);
  return [cast(e, y, 'float32', sig.outputs[0].dtype)];
}

// ---------------------------------------------------------------- the family

/** (x [b, l, d] [, mask [b, l] when masked]) -> x's signature; `checkLength` checks l against the chunking. */
function selfAttentionShapes(checkLength: (length: Dim, p: Params) => void): (inputs: readonly ShapeDtype[], p: Params) => ShapeDtype[] {
  return (inputs, p) => {
    const x = inputs[0];
    requireRank3(x, 'input');
    if (p.masked) checkShapeSpec([x, inputs[1]], 'bld,bl', { names: ['activations', 'mask'] });
    checkLength(x.shape[1], p);
    return [x];
  };
}

export const efficient_attentionLayers = family('efficient_attention', {
  SelfAttention: {
    summary: 'Memory-efficient multi-head self-attention with per-head stacked weights, optional chunking (chunk_len), causal and padding masks; (x [, mask [b,l] bool]) -> [b,l,d_model], summed over heads.',
    args: [
      P.int('n_heads', 2, { min: 1 }),
      P.int('d_qk', 64, { min: 1 }),
      P.int('d_v', 64, { min: 1 }),
      P.bool('share_qk', false),
      P.bool('causal', false),
      P.bool('masked', false),
      P.int('chunk_len', null, { min: 1 }),
      P.int('n_chunks_before', 0, { min: 0 }),
      P.int('n_chunks_after', 0, { min: 0 }),
      P.bool('bias', false),
      P.mode(),
      P.int('predict_mem_len', null, { min: 1 }),
      P.int('predict_drop_len', null, { min: 1 }),
      P.float('attention_dropout', 0.0, DROPOUT),
      P.float('output_dropout', 0.0, DROPOUT),
      ...perfArgs(null),
    ],
    modes: MODES_DOC,
    check: (p) => {
      checkParallelHeads(p);
      checkChunks(p);
      predictMem(p);
    },
    arity: (p) => ({ nIn: p.masked ? 2 : 1, nOut: 1 }),
    infer: selfAttentionShapes(checkChunkedLength),
    weights: ([x], p) => {
      const d = lastDim(x), h: number = p.n_heads;
      const w = [headWeight('w_q', h, d, p.d_qk)];
      if (!p.share_qk) w.push(headWeight('w_k', h, d, p.d_qk));
      w.push(headWeight('w_v', h, d, p.d_v), headWeight('w_o', h, p.d_v, d, true));
      if (p.bias) {
        w.push(zeros('b_q', [h, p.d_qk]));
        if (!p.share_qk) w.push(zeros('b_k', [h, p.d_qk]));
        w.push(zeros('b_v', [h, p.d_v]));
      }
      return w;
    },
    state: ([x], p) => {
      const pm = predictMem(p);
      return pm ? predictMemory([x], pm.mem, ['x']) : [];
    },
    lower: (e, ins, p, sig) => lowerSelfAttention(e, ins, p, sig),
  },
  LSHSelfAttention: {
    summary: 'LSH self-attention: queries (= keys) hashed into buckets by random rotations, sorted, attended within chunks of chunk_len (+ n_chunks_before/after); buckets and a hash rng per (example, head) live in state.',
    args: lshArgs(),
    modes: MODES_DOC,
    check: (p) => checkLsh(p),
    arity: (p) => ({ nIn: p.masked ? 2 : 1, nOut: 1 }),
    infer: selfAttentionShapes(checkLshChunks),
    weights: ([x], p) => {
      const d = lastDim(x), h: number = p.n_heads;
      const w = [headWeight('w_qk', h, d, p.d_qk), headWeight('w_v', h, d, p.d_v), headWeight('w_o', h, p.d_v, d, true)];
      if (p.bias) w.push(zeros('b_qk', [h, p.d_qk]), zeros('b_v', [h, p.d_v]));
      return w;
    },
    state: (inputs, p) => {
      const x = inputs[0];
      return lshState(dimMul(x.shape[0], p.n_heads), x.shape[1], p, inputs, ['x', 'mask']);
    },
    lower: (e, ins, p, sig) => lowerLshSelfAttention(e, ins, p, sig),
  },
  PureLSHSelfAttention: {
    summary: 'LSH self-attention without weights on projected, head-split inputs: (qk, v [batch*n_heads, T, d] [, mask [batch, T]]) -> [batch*n_heads, T, d].',
    args: lshArgs(),
    modes: { ...MODES_DOC, train: 'attention dropout active (no output dropout here)' },
    check: (p) => {
      checkLsh(p);
      if (p.n_parallel_heads !== 1) construct(`PureLSHSelfAttention is not implemented for n_parallel_heads != 1 (got ${p.n_parallel_heads ?? 'None'})`, 'n_parallel_heads');
      if (p.use_reference_code) construct('Reference code not implemented for PureLSHSelfAttention', 'use_reference_code');
    },
    arity: (p) => ({ nIn: p.masked ? 3 : 2, nOut: 1 }),
    infer: (inputs, p) => [pureLshInfer(inputs, p)],
    state: (inputs, p) => pureLshState(inputs, p),
    lower: (e, ins, p, sig) => lowerPureLsh(e, ins, p, sig, effDropout(e, p.attention_dropout)),
  },
  MixedLSHSelfAttention: {
    summary: 'PureLSHSelfAttention for sequences longer than std_length, exact dot-product attention (causal, or padding-masked) otherwise; (qk, v [, mask]) -> [batch*n_heads, T, d].',
    args: [
      P.int('n_heads', 1, { min: 1 }),
      P.int('d_qk', 64, { min: 1 }),
      P.int('d_v', 64, { min: 1 }),
      P.bool('causal', false),
      P.bool('masked', false),
      P.int('std_length', null, { min: 0 }),
      P.mode(),
      P.float('output_dropout', 0.0, DROPOUT),
      P.float('attention_dropout', 0.0, DROPOUT),
      P.bool('force_no_dropout', false),
      ...lshKwargs(),
    ],
    modes: MODES_DOC,
    check: (p) => {
      if (p.causal === p.masked) {
        const lsh = p.masked ? 3 : 2, std = p.causal ? 2 : 3;
        construct(`n_in diff: ${std} != ${lsh}; the standard attention takes ${p.causal ? '(qk, v) when causal' : '(qk, v, mask) when not causal'}, the LSH attention ${p.masked ? '(qk, v, mask) when masked' : '(qk, v) when not masked'}; use causal=True with masked=False, or causal=False with masked=True`, 'masked');
      }
      checkLsh(p);
      if (p.n_parallel_heads !== 1) construct(`PureLSHSelfAttention is not implemented for n_parallel_heads != 1 (got ${p.n_parallel_heads ?? 'None'})`, 'n_parallel_heads');
    },
    arity: (p) => ({ nIn: p.masked ? 3 : 2, nOut: 1 }),
    infer: (inputs, p) => {
      const T = inputs[0].shape[1];
      const std = p.std_length !== null && typeof T === 'number' && T <= p.std_length;
      if (!std) return [pureLshInfer(inputs, p)];
      // standard (dot-product) attention on the same inputs: float32 output
      checkPureLshInputs(inputs, p);
      return [{ dtype: 'float32', shape: inputs[0].shape }];
    },
    state: (inputs, p) => {
      const s = pureLshState(inputs, p);
      if (p.mode === 'predict' && p.causal) {
        const [qk, v] = inputs;
        s.push(zeros('keys', [qk.shape[0], 2048, qk.shape[2]]), zeros('values', [v.shape[0], 2048, v.shape[2]]), zeros('index', [], 'int32'));
      }
      return s;
    },
    lower: (e, ins, p, sig) => lowerMixedLsh(e, ins, p, sig),
  },
  PureLSHSelfAttentionWrapper: {
    summary: 'Serial(project and split heads, pure_lsh_implementation, MergeHeads, Dense(d_model)) with d_model = d_qk * n_heads; num_weights=3: Dense q, k, v with qk = (q + k) / 2; num_weights=2: Dense qk and Dense v.',
    args: [
      P.int('n_heads', 1, { min: 1 }),
      P.int('d_qk', 64, { min: 1 }),
      P.int('d_v', 64, { min: 1 }),
      P.bool('causal', false),
      P.bool('masked', false),
      P.float('output_dropout', 0.0, DROPOUT),
      P.float('attention_dropout', 0.0, DROPOUT),
      P.layerClass('pure_lsh_implementation', null, { choices: ['PureLSHSelfAttention', 'MixedLSHSelfAttention'] }),
      P.bool('bias', true),
      P.mode(),
      P.int('num_weights', 3, { min: 2, max: 3 }),
      P.int('sparsity', 16, { min: 1 }),
      P.str('weights_format', 'model', { choices: ['heads', 'model', 'sparse'] }),
      P.bool('rotary_position_emb', false),
      ...lshKwargs(['bias']),
      P.int('std_length', null, { min: 0, kwOnly: true, doc: 'passed on to MixedLSHSelfAttention' }),
      P.bool('force_no_dropout', false, { kwOnly: true, doc: 'passed on to MixedLSHSelfAttention' }),
    ],
    modes: MODES_DOC,
    check: (p) => {
      if (p.pure_lsh_implementation === null) {
        construct('PureLSHSelfAttentionWrapper needs pure_lsh_implementation (e.g. tl.PureLSHSelfAttention); with None Trax fails calling it', 'pure_lsh_implementation');
      }
      if (p.weights_format === 'sparse') {
        throw new LayerError('unsupported', "weights_format='sparse' needs Trax's sparsity layers (FactoredDense, LocallyConvDense), which Strata does not provide", { param: 'weights_format' });
      }
      if (p.weights_format === 'heads') {
        construct("weights_format='heads' is not implemented in Trax (only 'model' and 'sparse')", 'weights_format');
      }
    },
    expand: (p): ExpandNode => {
      const h: number = p.n_heads;
      const dModel = p.d_qk * h;
      const dense = (): ExpandNode => ({ kind: 'Dense', params: { n_units: dModel, use_bias: p.bias } });
      const split = (): ExpandNode => ({ kind: 'SplitIntoHeads', params: { n_heads: h } });
      const rotate = (): ExpandNode => ({ kind: 'Rotate' });
      let project: ExpandNode;
      if (p.num_weights === 3) {
        const steps: ExpandNode[] = [{ kind: 'Branch', children: [dense(), dense(), dense()] }];
        if (p.rotary_position_emb) steps.push({ kind: 'Parallel', children: [rotate(), rotate(), { kind: 'Serial' }] });
        steps.push({ kind: 'QKAvg' }, { kind: 'Parallel', children: [split(), split()] });
        project = { kind: 'Serial', children: steps };
      } else {
        project = {
          kind: 'Branch',
          children: [
            { kind: 'Serial', children: p.rotary_position_emb ? [dense(), rotate(), split()] : [dense(), split()] },
            { kind: 'Serial', children: [dense(), split()] },
          ],
        };
      }
      const implParams: Record<string, PyValue> = {
        n_heads: h, d_qk: p.d_qk, d_v: p.d_v, causal: p.causal, masked: p.masked, mode: p.mode,
        output_dropout: p.output_dropout, attention_dropout: p.attention_dropout,
      };
      for (const k of LSH_KWARGS) {
        if (k === 'bias') continue;
        if (JSON.stringify(p[k]) !== JSON.stringify(LSH_DEFAULTS.get(k))) implParams[k] = p[k];
      }
      if (p.std_length !== null) implParams.std_length = p.std_length;
      if (p.force_no_dropout) implParams.force_no_dropout = true;
      return {
        kind: 'Serial',
        children: [project, { kind: p.pure_lsh_implementation, params: implParams }, { kind: 'MergeHeads', params: { n_heads: h } }, dense()],
      };
    },
  },
  EncDecAttention: {
    summary: 'Memory-efficient encoder-decoder attention: (queries [b,lq,d_model], keys/values source [b,lkv,d_kv] [, mask [b,lkv] bool]) -> [b,lq,d_model], per-head stacked weights.',
    args: [
      P.int('n_heads', 2, { min: 1 }),
      P.int('d_qk', 64, { min: 1 }),
      P.int('d_v', 64, { min: 1 }),
      P.bool('masked', true),
      P.mode(),
      P.float('attention_dropout', 0.0, DROPOUT),
      P.float('output_dropout', 0.0, DROPOUT),
      ...perfArgs(null),
    ],
    modes: { train: 'attention and output dropout active', eval: 'no dropout', predict: 'no dropout' },
    check: (p) => checkParallelHeads(p),
    arity: (p) => ({ nIn: p.masked ? 3 : 2, nOut: 1 }),
    infer: (inputs, p) => {
      const [q, kv] = inputs;
      requireRank3(q, 'q_antecedent');
      requireRank3(kv, 'kv_antecedent');
      if (p.masked) checkShapeSpec(inputs, 'bld,bke,bk', { names: ['q_antecedent', 'kv_antecedent', 'mask'] });
      else checkShapeSpec(inputs, 'bld,bke', { names: ['q_antecedent', 'kv_antecedent'] });
      return [q];
    },
    weights: ([q, kv], p) => {
      const d = lastDim(q), dkv = lastDim(kv), h: number = p.n_heads;
      return [headWeight('w_q', h, d, p.d_qk), headWeight('w_k', h, dkv, p.d_qk), headWeight('w_v', h, dkv, p.d_v), headWeight('w_o', h, p.d_v, d, true)];
    },
    lower: (e, ins, p, sig) => lowerEncDec(e, ins, p, sig),
  },
  LSHFF: {
    summary: 'Feed-forward block with LSH: x @ w1^T kept only where x and the row of w1 share a hash bucket in some round, then Relu, @ w2 + b2 (w1, w2: (d_ff, d)).',
    args: [
      P.int('d_ff', REQUIRED, { min: 1 }),
      P.intOrInts('n_buckets', REQUIRED, { min: 2 }),
      P.int('n_hashes', 4, { min: 1 }),
      P.mode(),
      P.init('kernel_initializer', INIT.glorotUniform()),
      P.init('bias_initializer', INIT.normal(1e-6)),
    ],
    check: (p) => checkBuckets(p.n_buckets),
    arity: fixed(1, 1),
    infer: ([x]) => {
      lastDim(x);
      return [{ dtype: promote(x.dtype, 'float32'), shape: x.shape }];
    },
    weights: ([x], p) => {
      const d = lastDim(x);
      return [
        { name: 'w1', shape: [p.d_ff, d], dtype: 'float32', init: p.kernel_initializer },
        { name: 'w2', shape: [p.d_ff, d], dtype: 'float32', init: p.kernel_initializer },
        { name: 'b2', shape: [d], dtype: 'float32', init: p.bias_initializer },
      ];
    },
    lower: (e, ins, p, sig) => lowerLshff(e, ins, p, sig),
  },
  QKAvg: {
    summary: "(q, k) -> (q + k) / 2: averages the query and key projections (Trax's Fn('QKAvg') in PureLSHSelfAttentionWrapper).",
    internal: true,
    args: [],
    arity: fixed(2, 1),
    infer: (inputs) => {
      const y = elementwise(inputs);
      return [{ dtype: promote(y.dtype, 'float32'), shape: y.shape }];
    },
    lower: (e, [a, b], _p, sig) => [cast(e, e.op1('Div', [e.op1('Add', [toFloat32(e, a, sig.inputs[0].dtype), toFloat32(e, b, sig.inputs[1].dtype)]), e.f32(2)]), 'float32', sig.outputs[0].dtype)],
  },
  Rotate: {
    summary: 'Rotary position embedding of [batch, length, d] activations (research.rotary_positional_embedding.Rotate); shape-preserving.',
    internal: true,
    args: [],
    arity: fixed(1, 1),
    infer: ([x]) => {
      requireRank3(x, 'input');
      const d = x.shape[2];
      if (typeof d === 'number' && d % 2 !== 0) {
        throw new LayerError('shape_mismatch', `rotates pairs of features, so the depth must be even, got ${d}`, { expected: 'an even depth' });
      }
      return [{ dtype: promote(x.dtype, 'float32'), shape: x.shape }];
    },
    lower: (e, ins, _p, sig) => lowerRotate(e, ins, sig),
  },
});

const LOWERED = "implemented by the LSH kernel's lowering";

/** Spec entries of this module that are not catalog kinds, and why. */
export const efficient_attentionNotes: Record<string, SpecNote> = {
  length_normalized: { status: 'function', reason: `x / sqrt(mean(x^2, -1) + eps): RMS normalisation of the LSH keys; ${LOWERED}` },
  hash_vecs: { status: 'function', reason: `random-rotation hashing of vectors into buckets (argmax over [R x, -R x]); ${LOWERED}` },
  look_adjacent: { status: 'function', reason: `concatenates each chunk with its n_chunks_before/after neighbours (cyclically); ${LOWERED}` },
  mask_self_attention: { status: 'function', reason: `subtractive causal (1e9), self (1e5) and padding (1e9) masks on the logits; ${LOWERED}` },
  attend: { status: 'function', reason: `chunked dot-product attention returning (output, logsumexp); ${LOWERED}` },
  apply_broadcasted_dropout: { status: 'function', reason: `dropout with one keep mask over the last axis; ${LOWERED}` },
  permute_via_gather: { status: 'function', reason: `gather-based permutation with a custom gradient (LSH sort/unsort); ${LOWERED}` },
  permute_via_sort: { status: 'function', reason: `sort-based permutation with a custom gradient (LSH sort/unsort); ${LOWERED}` },
  EfficientAttentionBase: { status: 'internal', reason: 'abstract base class (batching over examples and heads, predict-mode memory); its concrete layers SelfAttention, LSHSelfAttention and EncDecAttention are catalog kinds' },
};
