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
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype, promote } from '../core/shape';
import {
  type ExpandNode, INIT, type Initializer, P, type ParamSpec, type Params, type PyValue, REQUIRED, type WeightDecl, badParam, construct, fixed,
} from './def';
import { family, type SpecNote } from './family';
import { checkShapeSpec } from './attention';
import { elementwise, lastDim } from './rules';

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

// ---------------------------------------------------------------- the family

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
    infer: (inputs, p) => {
      const x = inputs[0];
      requireRank3(x, 'input');
      if (p.masked) checkShapeSpec([x, inputs[1]], 'bld,bl', { names: ['activations', 'mask'] });
      checkChunkedLength(x.shape[1], p);
      return [x];
    },
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
  },
  LSHSelfAttention: {
    summary: 'LSH self-attention: queries (= keys) hashed into buckets by random rotations, sorted, attended within chunks of chunk_len (+ n_chunks_before/after); buckets and a hash rng per (example, head) live in state.',
    args: lshArgs(),
    modes: MODES_DOC,
    check: (p) => checkLsh(p),
    arity: (p) => ({ nIn: p.masked ? 2 : 1, nOut: 1 }),
    infer: (inputs, p) => {
      const x = inputs[0];
      requireRank3(x, 'input');
      if (p.masked) checkShapeSpec([x, inputs[1]], 'bld,bl', { names: ['activations', 'mask'] });
      checkLshChunks(x.shape[1], p);
      return [x];
    },
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
