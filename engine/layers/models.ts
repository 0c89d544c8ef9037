/**
 * The `models` module: Trax's model constructors (trax.models.*) written as
 * macros whose `expand` builds the tree Trax builds (trax-semantics.md §14,
 * trax/models/transformer.py, trax/models/reformer/reformer.py and
 * trax/models/research/configurable_transformer.py).
 *
 * Not modelled: the `assert_shape` / AssertFunction wrappers Trax puts around
 * some of these pieces (they only check shapes at run time and change the
 * nesting of the weight tree, not the flat weights).
 */
import { LayerError } from '../core/errors';
import { type ExpandNode, type Params, type PyValue, P, REQUIRED, construct, fixed } from './def';
import { family, type SpecNote } from './family';
import { elementwise } from './rules';
import { cast, computeFloat, scalarOf } from './lowering';

type N = ExpandNode;
type Mode = 'train' | 'eval' | 'predict';

function node(kind: string, params?: Record<string, PyValue>, children?: N[]): N {
  const n: N = { kind };
  if (params) n.params = params;
  if (children) n.children = children;
  return n;
}

function repeat<T>(n: number, f: (i: number) => T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(...f(i));
  return out;
}

/**
 * A required parameter that failed its check is left undefined by parameter
 * resolution (the bad_param error is already reported); the model cannot be
 * built without it.
 */
function requireValues(p: Params, kind: string, names: readonly string[]): void {
  for (const name of names) {
    if (p[name] === undefined) throw new LayerError('bad_param', `${kind} cannot be built without a valid ${name}`, { param: name });
  }
}

/** Standard attention (CausalAttention, Attention, AttentionQKV) raises unless n_heads divides d_model. */
function requireHeadsDivide(p: Params): void {
  if (p.d_model % p.n_heads !== 0) {
    construct(
      `d_model = ${p.d_model} must be divisible by n_heads = ${p.n_heads} (the attention layers split the ${p.d_model} features into ${p.n_heads} heads; Trax raises ValueError)`,
      'n_heads',
    );
  }
}

// ---------------------------------------------------------------- Transformer pieces (transformer.py)

interface TfOpts {
  d_model: number;
  d_ff: number;
  n_heads: number;
  dropout: number;
  dropout_shared_axes: PyValue;
  mode: Mode;
  ff_activation: string;
}

function tfOpts(p: Params): TfOpts {
  return {
    d_model: p.d_model, d_ff: p.d_ff, n_heads: p.n_heads, dropout: p.dropout,
    dropout_shared_axes: p.dropout_shared_axes ?? null, mode: p.mode, ff_activation: p.ff_activation,
  };
}

/** `tl.Dropout(rate=dropout, shared_axes=dropout_shared_axes, mode=mode)` */
function tfDropout(o: TfOpts): N {
  return node('Dropout', { rate: o.dropout, shared_axes: o.dropout_shared_axes, mode: o.mode });
}

/** _FeedForwardBlock: `[Dense(d_ff), activation(), Dropout, Dense(d_model)]` (dropout after the activation). */
function tfFeedForward(o: TfOpts): N[] {
  return [node('Dense', { n_units: o.d_ff }), node(o.ff_activation), tfDropout(o), node('Dense', { n_units: o.d_model })];
}

/** `Residual(LayerNorm(), *FF, Dropout)` */
function tfFeedForwardResidual(o: TfOpts): N {
  return node('Residual', undefined, [node('LayerNorm'), ...tfFeedForward(o), tfDropout(o)]);
}

/** _EncoderBlock: (vectors, mask) -> (vectors, mask). */
function tfEncoderBlock(o: TfOpts): N[] {
  return [
    node('Residual', undefined, [
      node('LayerNorm'),
      node('Attention', { d_feature: o.d_model, n_heads: o.n_heads, dropout: o.dropout, mode: o.mode }),
      tfDropout(o),
    ]),
    tfFeedForwardResidual(o),
  ];
}

/** _DecoderBlock: vectors -> vectors, with causal self-attention. */
function tfDecoderBlock(o: TfOpts): N[] {
  return [
    node('Residual', undefined, [
      node('LayerNorm'),
      node('CausalAttention', { d_feature: o.d_model, n_heads: o.n_heads, dropout: o.dropout, mode: o.mode }),
      tfDropout(o),
    ]),
    tfFeedForwardResidual(o),
  ];
}

/** _EncoderDecoderBlock: (vec_d, mask, vec_e) -> same. The causal attention gets NO attention dropout. */
function tfEncoderDecoderBlock(o: TfOpts): N[] {
  return [
    node('Residual', undefined, [
      node('LayerNorm'),
      node('CausalAttention', { d_feature: o.d_model, n_heads: o.n_heads, mode: o.mode }),
      tfDropout(o),
    ]),
    node('Residual', undefined, [
      node('LayerNorm'),
      node('Select', { indices: [0, 2, 2, 1, 2] }),
      node('AttentionQKV', { d_feature: o.d_model, n_heads: o.n_heads, dropout: o.dropout, mode: o.mode, cache_KV_in_predict: true }),
      tfDropout(o),
    ]),
    tfFeedForwardResidual(o),
  ];
}

/** `Branch([], layer)`: keeps the top item and adds layer's outputs. */
function branchKeep(layer: N): N {
  return node('Branch', undefined, [node('Serial'), layer]);
}

// ---------------------------------------------------------------- Reformer pieces (configurable_transformer.py, reformer.py)

/** Constructors that take the efficient-attention keywords (n_heads, d_qk, d_v, causal, masked, dropouts, mode). */
const EFFICIENT_ATTENTION = new Set([
  'SelfAttention', 'LSHSelfAttention', 'PureLSHSelfAttention', 'MixedLSHSelfAttention', 'PureLSHSelfAttentionWrapper',
]);

/**
 * ct.ApplyAttentionLayer: `attention_type(n_heads=, d_qk=, d_v=, causal=, masked=,
 * output_dropout=, attention_dropout=, mode=)`, or, for classes without those
 * keywords (Trax catches the TypeError), `attention_type(d_model, n_heads=,
 * dropout=attention_dropout, mode=)`; then `Chunk(attention, attention_chunk_size)`,
 * which is the attention itself when the size is < 1.
 */
function applyAttentionLayer(
  kind: string, d_model: number, n_heads: number, d_qk: number, d_v: number, causal: boolean, masked: boolean,
  attention_dropout: number, output_dropout: number, attention_chunk_size: number, mode: Mode,
): N {
  const attention = EFFICIENT_ATTENTION.has(kind)
    ? node(kind, { n_heads, d_qk, d_v, causal, masked, output_dropout, attention_dropout, mode })
    : node(kind, { d_feature: d_model, n_heads, dropout: attention_dropout, mode });
  if (attention_chunk_size < 1) return attention;
  return { kind: 'Chunk', params: { chunk_size: attention_chunk_size }, slots: { layer: attention } };
}

/** `ff_use_sru`: an int n (n SRU layers of 32 units) or a pair (n_layers, n_units). */
function sruConfig(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v[1]] : [v, 32];
}

function checkSru(v: number | number[] | undefined): void {
  if (Array.isArray(v) && v.length !== 2) {
    construct(`ff_use_sru must be an int or a pair (n_layers, n_units), got ${v.length} values`, 'ff_use_sru');
  }
}

function checkNoSparsity(p: Params, kind: string): void {
  if (p.ff_sparsity) {
    throw new LayerError('unsupported', `${kind}: ff_sparsity = ${JSON.stringify(p.ff_sparsity)} builds tl.SparseFF (trax.layers.research.sparsity), which Strata's catalog does not include; use ff_sparsity=0`, { param: 'ff_sparsity' });
  }
}

/**
 * ct.FeedForwardWithOptions (dense case): `[LayerNorm, Dense(d_ff),
 * Dropout(ff_dropout, [-2]), activation(), Dense(d_model), Dropout(dropout,
 * dropout_shared_axes)]`; ff_chunk_size > 0 wraps it in
 * `BatchLeadingAxes(Chunk(Serial(...), ff_chunk_size))`; ff_use_sru makes it the
 * shortcut of `Residual(LayerNorm, Dense(u), SRU(u) x n, Dense(d_model))`.
 * Returns the list of layers.
 */
function feedForwardWithOptions(
  d_model: number, d_ff: number, dropout: number, dropout_shared_axes: PyValue, ff_activation: string,
  ff_dropout: number | null, ff_chunk_size: number, ff_use_sru: number | number[], mode: Mode,
): N[] {
  const actDropout = ff_dropout ?? dropout;
  let res: N[] = [
    node('LayerNorm'),
    node('Dense', { n_units: d_ff }),
    node('Dropout', { rate: actDropout, shared_axes: [-2], mode }),
    node(ff_activation),
    node('Dense', { n_units: d_model }),
    node('Dropout', { rate: dropout, shared_axes: dropout_shared_axes, mode }),
  ];
  if (ff_chunk_size > 0) {
    res = [{
      kind: 'BatchLeadingAxes',
      slots: { layer: { kind: 'Chunk', params: { chunk_size: ff_chunk_size }, slots: { layer: node('Serial', undefined, res) } } },
    }];
  }
  const [sruLayers, sruUnits] = sruConfig(ff_use_sru);
  if (sruLayers > 0) {
    const block = [
      node('LayerNorm'),
      node('Dense', { n_units: sruUnits }),
      ...Array.from({ length: sruLayers }, () => node('SRU', { n_units: sruUnits, mode })),
      node('Dense', { n_units: d_model }),
    ];
    const shortcut = res.length === 1 ? res[0] : node('Serial', undefined, res);
    res = [{ kind: 'Residual', children: block, slots: { shortcut } }];
  }
  return res;
}

/** The positional encodings `pos_type` selects (ct.PositionalEncoder). */
const POS_TYPES = ['sin-cos', 'fixed-base', 'infinite', 'infinite-affine', 'time-bin', 'no'];

function checkPosType(p: Params): void {
  const t: string | null = p.pos_type;
  if (!t) return;
  if (t === 'time-bin') {
    construct("pos_type='time-bin' builds tl.TimeBinPositionalEncoding() without its required time_bin_length, which Trax rejects (TypeError)", 'pos_type');
  }
  if (POS_TYPES.includes(t)) return;
  // any other non-empty value: axial positional encoding
  if (p.pos_d_axial_embs == null) {
    construct(`pos_type='${t}' selects AxialPositionalEncoding, which needs pos_d_axial_embs (Trax asserts it is not None)`, 'pos_d_axial_embs');
  }
  if (p.pos_axial_shape == null) {
    construct(`pos_type='${t}' selects AxialPositionalEncoding, which needs pos_axial_shape (got None)`, 'pos_axial_shape');
  }
}

function positionalEncoder(
  mode: Mode, dropout: number, max_len: number, pos_type: string | null, pos_axial_shape: number[] | null,
  pos_d_axial_embs: number[] | null, pos_start_from_zero_prob: number, pos_max_offset_to_add: number,
): N {
  if (!pos_type) {
    return node('PositionalEncoding', {
      max_len, dropout, use_bfloat16: false, start_from_zero_prob: pos_start_from_zero_prob, max_offset_to_add: pos_max_offset_to_add, mode,
    });
  }
  switch (pos_type) {
    case 'sin-cos': return node('SinCosPositionalEncoding', { mode });
    case 'fixed-base': return node('FixedBasePositionalEncoding', { mode });
    case 'infinite': return node('InfinitePositionalEncoding', { affine: false });
    case 'infinite-affine': return node('InfinitePositionalEncoding');
    case 'time-bin': return node('TimeBinPositionalEncoding');
    case 'no': return node('Serial');
    default: {
      const shape = pos_axial_shape ?? [];
      return node('AxialPositionalEncoding', {
        shape, d_embs: pos_d_axial_embs, dropout_broadcast_dims: shape.map((_, i) => i + 1), dropout, mode,
      });
    }
  }
}

/** The attention class of each layer: a list is cycled over the layers. */
function attentionTypes(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

// ---------------------------------------------------------------- shared parameter lists

const dModel = (): ReturnType<typeof P.int> => P.int('d_model', 512, { min: 1 });
const dFf = (): ReturnType<typeof P.int> => P.int('d_ff', 2048, { min: 1 });
const nHeads = (): ReturnType<typeof P.int> => P.int('n_heads', 8, { min: 1 });
const maxLen = (): ReturnType<typeof P.int> => P.int('max_len', 2048, { min: 1 });
const dropoutRate = (): ReturnType<typeof P.float> => P.float('dropout', 0.1, { min: 0, max: 1, maxExclusive: true });
const sharedAxes = (): ReturnType<typeof P.ints> => P.ints('dropout_shared_axes', null, { nullable: true });

const TRANSFORMER_MODES = {
  train: 'dropout active',
  eval: 'dropout off',
  predict: 'fast inference: ShiftRight is the identity, attention and positional encoding keep caches in state',
};

export const modelsLayers = family('models', {
  TransformerLM: {
    pyName: 'trax.models.TransformerLM',
    summary: 'Transformer decoder-only language model: int tokens [b, l] -> logits [b, l, vocab_size] (ShiftRight, embedding, n_layers pre-norm causal-attention/FF blocks, LayerNorm, Dense).',
    args: [
      P.int('vocab_size', REQUIRED, { min: 1 }), dModel(), dFf(), P.int('n_layers', 6, { min: 0 }), nHeads(), maxLen(),
      dropoutRate(), sharedAxes(), P.mode(), P.layerClass('ff_activation', 'Relu'),
    ],
    modes: TRANSFORMER_MODES,
    check: (p) => {
      requireValues(p, 'TransformerLM', ['vocab_size']);
      requireHeadsDivide(p);
    },
    expand: (p): N => {
      const o = tfOpts(p);
      return node('Serial', undefined, [
        node('ShiftRight', { mode: o.mode }),
        node('Embedding', { vocab_size: p.vocab_size, d_feature: o.d_model }),
        tfDropout(o),
        node('PositionalEncoding', { max_len: p.max_len, mode: o.mode }),
        ...repeat(p.n_layers, () => tfDecoderBlock(o)),
        node('LayerNorm'),
        node('Dense', { n_units: p.vocab_size }),
      ]);
    },
  },

  TransformerDecoder: {
    pyName: 'trax.models.TransformerDecoder',
    summary: 'Transformer decoder without ShiftRight or output Dense: tokens [b, l] (or vectors [b, l, d_model] when vocab_size is None) -> [b, l, d_model].',
    args: [
      P.int('vocab_size', null, { min: 1, nullable: true }), dModel(), dFf(), P.int('n_layers', 6, { min: 0 }), nHeads(), maxLen(),
      dropoutRate(), sharedAxes(), P.mode(), P.layerClass('ff_activation', 'Relu'),
    ],
    modes: TRANSFORMER_MODES,
    check: (p) => requireHeadsDivide(p),
    expand: (p): N => {
      const o = tfOpts(p);
      return node('Serial', undefined, [
        p.vocab_size != null ? node('Embedding', { vocab_size: p.vocab_size, d_feature: o.d_model }) : node('Dense', { n_units: o.d_model }),
        tfDropout(o),
        node('PositionalEncoding', { max_len: p.max_len }),
        ...repeat(p.n_layers, () => tfDecoderBlock(o)),
        node('LayerNorm'),
      ]);
    },
  },

  TransformerEncoder: {
    pyName: 'trax.models.TransformerEncoder',
    summary: 'Transformer encoder with an n_classes head: tokens [b, l] -> activations [b, n_classes] (padding-masked self-attention blocks, LayerNorm, mean over the sequence, Dense).',
    args: [
      P.int('vocab_size', REQUIRED, { min: 1 }), P.int('n_classes', 10, { min: 1 }), dModel(), dFf(), P.int('n_layers', 6, { min: 0 }),
      nHeads(), maxLen(), dropoutRate(), sharedAxes(), P.mode(), P.layerClass('ff_activation', 'Relu'),
    ],
    modes: { train: 'dropout active', eval: 'dropout off', predict: 'dropout off' },
    check: (p) => {
      requireValues(p, 'TransformerEncoder', ['vocab_size']);
      requireHeadsDivide(p);
    },
    expand: (p): N => {
      const o = tfOpts(p);
      return node('Serial', undefined, [
        branchKeep(node('PaddingMask')),
        node('Embedding', { vocab_size: p.vocab_size, d_feature: o.d_model }),
        tfDropout(o),
        node('PositionalEncoding', { max_len: p.max_len }),
        ...repeat(p.n_layers, () => tfEncoderBlock(o)),
        node('Select', { indices: [0], n_in: 2 }),
        node('LayerNorm'),
        node('Mean', { axis: 1 }),
        node('Dense', { n_units: p.n_classes }),
      ]);
    },
  },

  Transformer: {
    pyName: 'trax.models.Transformer',
    summary: 'Encoder-decoder Transformer: (source tokens, target tokens) -> (logits [b, l, output_vocab_size], target tokens); the embedding is shared when output_vocab_size is None.',
    args: [
      P.int('input_vocab_size', REQUIRED, { min: 1 }), P.int('output_vocab_size', null, { min: 1, nullable: true }), dModel(), dFf(),
      P.int('n_encoder_layers', 6, { min: 0 }), P.int('n_decoder_layers', 6, { min: 0 }), nHeads(), maxLen(),
      dropoutRate(), sharedAxes(), P.mode(), P.layerClass('ff_activation', 'Relu'),
    ],
    modes: {
      ...TRANSFORMER_MODES,
      predict: "fast inference: the encoder is wrapped in Cache (its positional encoding runs in 'eval'), the decoder keeps caches in state",
    },
    check: (p) => {
      requireValues(p, 'Transformer', ['input_vocab_size']);
      requireHeadsDivide(p);
    },
    expand: (p): N => {
      const o = tfOpts(p);
      const encMode: Mode = o.mode === 'predict' ? 'eval' : o.mode;
      const shared = p.output_vocab_size == null;
      const inEmbed: N = node('Embedding', { vocab_size: p.input_vocab_size, d_feature: o.d_model });
      const outEmbed: N = shared
        ? { ...node('Embedding', { vocab_size: p.input_vocab_size, d_feature: o.d_model }), shareKey: 'embedding' }
        : node('Embedding', { vocab_size: p.output_vocab_size, d_feature: o.d_model });
      if (shared) inEmbed.shareKey = 'embedding';
      const outVocab: number = p.output_vocab_size ?? p.input_vocab_size;
      const encoder = node('Serial', undefined, [
        inEmbed,
        tfDropout(o),
        node('PositionalEncoding', { max_len: p.max_len, mode: encMode }),
        ...repeat(p.n_encoder_layers, () => tfEncoderBlock(o)),
        node('LayerNorm'),
      ]);
      return node('Serial', undefined, [
        node('Select', { indices: [0, 1, 1] }), // tok_e tok_d tok_d
        branchKeep(node('PaddingMask')), // tok_e mask tok_d tok_d
        o.mode === 'predict' ? { kind: 'Cache', slots: { layer: encoder } } : encoder, // vec_e mask tok_d tok_d
        node('Select', { indices: [2, 1, 0] }), // tok_d mask vec_e tok_d
        node('ShiftRight', { mode: o.mode }),
        outEmbed,
        tfDropout(o),
        node('PositionalEncoding', { max_len: p.max_len, mode: o.mode }),
        branchKeep(node('EncoderDecoderMask')), // vec_d masks vec_e tok_d
        ...repeat(p.n_decoder_layers, () => tfEncoderDecoderBlock(o)),
        node('LayerNorm'),
        node('Select', { indices: [0], n_in: 3 }), // vec_d tok_d
        node('Dense', { n_units: outVocab }),
      ]);
    },
  },

  ReformerLM: {
    pyName: 'trax.models.ReformerLM',
    summary: 'Reversible Transformer language model: int tokens [b, l] -> logits [b, l, vocab_size]; the activations are duplicated into two halves run through ReversibleSerial blocks (attention_type per layer) and concatenated (width 2*d_model) before LayerNorm and Dense.',
    args: [
      P.int('vocab_size', REQUIRED, { min: 1 }), dModel(), dFf(),
      P.int('d_attention_key', 64, { min: 1 }), P.int('d_attention_value', 64, { min: 1 }),
      P.int('n_layers', 6, { min: 0 }), nHeads(), dropoutRate(), maxLen(),
      P.layerClasses('attention_type', 'SelfAttention'),
      P.str('pos_type', null, { nullable: true }),
      P.ints('pos_axial_shape', [], { min: 1 }),
      P.ints('pos_d_axial_embs', null, { nullable: true, min: 1 }),
      P.float('pos_start_from_zero_prob', 1.0, { min: 0, max: 1 }),
      P.int('pos_max_offset_to_add', 0, { min: 0 }),
      P.layerClass('ff_activation', 'FastGelu'),
      P.intOrInts('ff_use_sru', 0, { min: 0 }),
      P.int('ff_chunk_size', 0),
      P.int('ff_sparsity', 0, { min: 0 }),
      P.str('loss_sparsity_type', 'mult', { nullable: true }),
      P.int('loss_sparsity', 0, { min: 0 }),
      P.int('loss_d_lowrank', 0, { min: 0 }),
      P.float('loss_sparsity_prob', null, { nullable: true, min: 0, max: 1 }),
      P.int('attention_chunk_size', 0),
      P.mode(),
    ],
    modes: {
      train: 'dropout active',
      eval: 'dropout off',
      predict: 'fast inference: ShiftRight is the identity, attention and positional encoding keep caches in state',
    },
    check: (p) => {
      requireValues(p, 'ReformerLM', ['vocab_size']);
      const types = attentionTypes(p.attention_type);
      if (Array.isArray(p.attention_type) && p.n_layers % types.length !== 0) {
        construct(`n_layers = ${p.n_layers} must be a multiple of the number of attention types (${types.length}); the list is cycled over the layers (Trax asserts this)`, 'attention_type');
      }
      checkPosType(p);
      checkSru(p.ff_use_sru);
      checkNoSparsity(p, 'ReformerLM');
      if (p.loss_sparsity_prob != null) {
        throw new LayerError('unsupported', `ReformerLM: loss_sparsity_prob = ${p.loss_sparsity_prob} builds a RandomLayer between sparse and dense output layers (trax.layers.research.sparsity), which Strata's catalog does not include; use None`, { param: 'loss_sparsity_prob' });
      }
      if (p.loss_sparsity_type != null && p.loss_sparsity_type !== 'None' && p.loss_sparsity !== 0) {
        throw new LayerError('unsupported', `ReformerLM: loss_sparsity = ${p.loss_sparsity} builds a sparse output layer (SparseDenseWithOptions, trax.layers.research.sparsity), which Strata's catalog does not include; use loss_sparsity=0`, { param: 'loss_sparsity' });
      }
    },
    expand: (p): N => {
      const mode: Mode = p.mode;
      const dropout: number = p.dropout;
      const types = attentionTypes(p.attention_type);
      const blocks = repeat(p.n_layers, (i) => [
        // DecoderBlock (n_attention_layers = n_feedforward_layers = 1)
        {
          kind: 'ReversibleHalfResidual',
          params: { name: 'ReversibleHalfResidualDecoderAttn' },
          children: [node('LayerNorm')],
          slots: {
            attention_layer: applyAttentionLayer(
              types[i % types.length], p.d_model, p.n_heads, p.d_attention_key, p.d_attention_value,
              true, false, dropout, dropout, p.attention_chunk_size, mode,
            ),
          },
        },
        node('ReversibleSwap'),
        node('ReversibleHalfResidual', { name: 'ReversibleHalfResidualDecoderFF' }, feedForwardWithOptions(
          p.d_model, p.d_ff, dropout, [-2], p.ff_activation, dropout, p.ff_chunk_size, p.ff_use_sru, mode,
        )),
        node('ReversibleSwap'),
      ]);
      return node('Serial', undefined, [
        node('ShiftRight', { mode }),
        node('Embedding', { vocab_size: p.vocab_size, d_feature: p.d_model }),
        node('Dropout', { rate: dropout, shared_axes: [-2], mode }),
        positionalEncoder(mode, dropout, p.max_len, p.pos_type, p.pos_axial_shape, p.pos_d_axial_embs, p.pos_start_from_zero_prob, p.pos_max_offset_to_add),
        node('Dup'),
        node('ReversibleSerial', undefined, blocks),
        node('Concatenate'),
        node('LayerNorm'),
        node('Dropout', { rate: dropout, shared_axes: [-2], mode }),
        // SparseDenseWithOptions with no sparsity is a plain Dense
        node('Dense', { n_units: p.vocab_size }),
      ]);
    },
  },

  Reformer: {
    pyName: 'trax.models.Reformer',
    summary: 'Reversible encoder-decoder Transformer: (source tokens, target tokens) -> (logits [b, l, output_vocab_size], target tokens); halves merged with (x+y)/2; embeddings shared when output_vocab_size is None.',
    args: [
      P.int('input_vocab_size', REQUIRED, { min: 1 }), P.int('output_vocab_size', null, { min: 1, nullable: true }), dModel(), dFf(),
      P.int('n_encoder_layers', 6, { min: 0 }), P.int('n_decoder_layers', 6, { min: 0 }), nHeads(), dropoutRate(), maxLen(),
      P.layerClass('ff_activation', 'Relu'),
      P.float('ff_dropout', null, { nullable: true, min: 0, max: 1, maxExclusive: true }),
      P.mode(),
      P.str('pos_type', null, { nullable: true }),
      P.ints('pos_axial_shape', null, { nullable: true, min: 1 }),
      P.ints('pos_d_axial_embs', null, { nullable: true, min: 1 }),
      P.intOrInts('ff_use_sru', 0, { min: 0 }),
      P.int('ff_chunk_size', 0),
      P.int('ff_sparsity', 0, { min: 0 }),
    ],
    modes: {
      train: 'dropout active',
      eval: 'dropout off',
      predict: "fast inference: the encoder is wrapped in Cache and runs in 'eval'; the decoder keeps caches in state",
    },
    check: (p) => {
      requireValues(p, 'Reformer', ['input_vocab_size']);
      checkPosType(p);
      checkSru(p.ff_use_sru);
      checkNoSparsity(p, 'Reformer');
    },
    expand: (p): N => {
      const mode: Mode = p.mode;
      const encMode: Mode = mode === 'predict' ? 'eval' : mode;
      const dropout: number = p.dropout;
      const d: number = p.d_model;
      const dHead = Math.floor(d / p.n_heads);
      const shared = p.output_vocab_size == null;
      const pe = (m: Mode): N => positionalEncoder(m, dropout, p.max_len, p.pos_type, p.pos_axial_shape, p.pos_d_axial_embs, 1.0, 0);
      const ff = (m: Mode): N[] => feedForwardWithOptions(d, p.d_ff, dropout, [-2], p.ff_activation, p.ff_dropout, p.ff_chunk_size, p.ff_use_sru, m);

      // ct.EmbeddingAndPositionalEncodings: the decoder reuses the encoder's
      // embedder objects (Embedding and its Dropout) when output_vocab_size is None.
      const embedder = (vocab: number, m: Mode, key?: string): N[] => {
        const e = node('Embedding', { vocab_size: vocab, d_feature: d });
        const dr = node('Dropout', { rate: dropout, shared_axes: [-2], mode: m });
        if (key) { e.shareKey = `${key}/embedding`; dr.shareKey = `${key}/dropout`; }
        return [e, dr];
      };
      const inEncoder = [...embedder(p.input_vocab_size, encMode, shared ? 'embedder' : undefined), pe(encMode)];
      const outEncoder = [
        ...(shared ? embedder(p.input_vocab_size, encMode, 'embedder') : embedder(p.output_vocab_size, mode)),
        pe(mode),
      ];

      // EncoderBlock (runs in 'eval' when mode is 'predict')
      const encoderBlock = (): N[] => [
        {
          kind: 'ReversibleHalfResidual',
          params: { name: 'ReversibleHalfResidualEncoderAttn' },
          children: [node('LayerNorm')],
          slots: { attention_layer: applyAttentionLayer('SelfAttention', d, p.n_heads, dHead, dHead, false, true, dropout, dropout, 0, encMode) },
        },
        node('ReversibleSwap'),
        node('ReversibleHalfResidual', { name: 'ReversibleHalfResidualEncoderFF' }, ff(encMode)),
        node('ReversibleSwap'),
      ];
      const encoderDecoderBlock = (): N[] => [
        {
          kind: 'ReversibleHalfResidual',
          children: [node('LayerNorm')],
          slots: {
            attention_layer: node('SelfAttention', {
              n_heads: p.n_heads, d_qk: dHead, d_v: dHead, causal: true, attention_dropout: dropout, output_dropout: dropout, mode,
            }),
          },
        },
        node('ReversibleSwap'),
        {
          kind: 'ReversibleHalfResidual',
          children: [node('LayerNorm')],
          slots: {
            attention_layer: node('EncDecAttention', {
              n_heads: p.n_heads, d_qk: dHead, d_v: dHead, attention_dropout: dropout, output_dropout: dropout, mode,
            }),
          },
        },
        node('ReversibleSwap'),
        node('ReversibleHalfResidual', undefined, ff(mode)),
        node('ReversibleSwap'),
      ];

      const encoder = node('Serial', undefined, [
        ...inEncoder,
        node('Dup'),
        node('ReversibleSerial', undefined, repeat(p.n_encoder_layers, encoderBlock)),
        node('XYAvg'),
        node('LayerNorm'),
      ]);
      return node('Serial', undefined, [
        node('Select', { indices: [0, 1, 1] }), // tok_e tok_d tok_d
        branchKeep(node('Serial', undefined, [node('PaddingMask'), node('RemoveAxes12')])), // tok_e mask tok_d tok_d
        mode === 'predict' ? { kind: 'Cache', slots: { layer: encoder } } : encoder, // vec_e mask tok_d tok_d
        node('Select', { indices: [2, 0, 1] }), // tok_d vec_e mask tok_d
        node('ShiftRight', { mode }),
        ...outEncoder, // vec_d vec_e mask tok_d
        node('Dup'),
        node('ReversibleSerial', undefined, repeat(p.n_decoder_layers, encoderDecoderBlock)),
        node('XYAvg'),
        node('LayerNorm'),
        node('Select', { indices: [0], n_in: 3 }), // vec_d tok_d
        node('Dense', { n_units: p.output_vocab_size ?? p.input_vocab_size }),
      ]);
    },
  },

  // ---- helper Fn layers of reformer.py (not spec entries)
  XYAvg: {
    internal: true,
    summary: "(x + y) / 2: Trax's tl.Fn('XYAvg', lambda x, y: (x + y) / 2.0), merging the two reversible halves in Reformer.",
    args: [],
    arity: fixed(2, 1),
    infer: (x) => [elementwise(x)],
    // (x + y) / 2.0 in the output dtype (floats: exactly a halving)
    lower: (e, [x, y], _p, sig) => {
      const to = sig.outputs[0].dtype;
      const f = computeFloat(to);
      const sum = e.op1('Add', [cast(e, x, sig.inputs[0].dtype, f), cast(e, y, sig.inputs[1].dtype, f)]);
      return [cast(e, e.op1('Div', [sum, scalarOf(e, 2, f)]), f, to)];
    },
  },
  RemoveAxes12: {
    internal: true,
    summary: "Squeezes axes 1 and 2 (which must have size 1): Trax's tl.Fn('RemoveAxes12', lambda x: jnp.squeeze(x, (1, 2))), turning a padding mask [b,1,1,l] into [b,l].",
    args: [],
    arity: fixed(1, 1),
    infer: ([x]) => {
      if (x.shape.length < 3) {
        throw new LayerError('rank', `RemoveAxes12 squeezes axes 1 and 2, but the input has rank ${x.shape.length} ([${x.shape.join(',')}])`, { expected: 'rank >= 3' });
      }
      for (const ax of [1, 2]) {
        if (x.shape[ax] !== 1) {
          throw new LayerError('shape_mismatch', `RemoveAxes12 squeezes axis ${ax}, which must have size 1, but it is ${x.shape[ax]}`, { expected: `size 1 on axis ${ax}` });
        }
      }
      return [{ dtype: x.dtype, shape: [x.shape[0], ...x.shape.slice(3)] }];
    },
    // a Reshape (Squeeze has no bool kernel on WebGPU, and the mask is bool)
    lower: (e, [x], _p, sig) => [e.op1('Reshape', [x, e.i64(sig.outputs[0].shape.map(Number))])],
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const modelsNotes: Record<string, SpecNote> = {};
