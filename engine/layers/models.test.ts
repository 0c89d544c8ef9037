/**
 * trax.models: the trees the expansions build (what Trax builds), checked on
 * the expansion itself; shapes and parameter counts are in cases/models.cases.ts.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../document/trace';
import type { DocNode } from '../document/schema';
import type { PyValue } from './def';

let nextId = 0;
function expansionOf(kind: string, params: Record<string, PyValue>): DocNode {
  const a = analyze({ id: `m${++nextId}`, kind, params });
  expect(a.errors.map((e) => e.message)).toEqual([]);
  expect(a.expansion).toBeDefined();
  return a.expansion!;
}

function kinds(nodes: readonly DocNode[] | undefined): string[] {
  return (nodes ?? []).map((n) => n.kind);
}

function walk(n: DocNode, f: (n: DocNode) => void): void {
  f(n);
  for (const c of n.children ?? []) walk(c, f);
  for (const s of Object.values(n.slots ?? {})) if (s) walk(s, f);
}

function all(n: DocNode, kind: string): DocNode[] {
  const out: DocNode[] = [];
  walk(n, (x) => { if (x.kind === kind) out.push(x); });
  return out;
}

const LM = { vocab_size: 16, d_model: 32, d_ff: 64, n_layers: 2, n_heads: 2 };

describe('TransformerLM', () => {
  it('builds ShiftRight, Embedding, Dropout, PositionalEncoding, n_layers x 2 residuals, LayerNorm, Dense', () => {
    const e = expansionOf('TransformerLM', LM);
    expect(e.kind).toBe('Serial');
    expect(kinds(e.children)).toEqual([
      'ShiftRight', 'Embedding', 'Dropout', 'PositionalEncoding',
      'Residual', 'Residual', 'Residual', 'Residual',
      'LayerNorm', 'Dense',
    ]);
    const [att, ff] = e.children!.slice(4, 6);
    expect(kinds(att.children)).toEqual(['LayerNorm', 'CausalAttention', 'Dropout']);
    expect(att.children![1].params).toEqual({ d_feature: 32, n_heads: 2, dropout: 0.1, mode: 'train' });
    // dropout AFTER the activation in the Transformer FF
    expect(kinds(ff.children)).toEqual(['LayerNorm', 'Dense', 'Relu', 'Dropout', 'Dense', 'Dropout']);
    expect(e.children![3].params).toEqual({ max_len: 2048, mode: 'train' });
    expect(e.children![9].params).toEqual({ n_units: 16 });
  });

  it('uses the ff_activation class and passes dropout_shared_axes to every Dropout', () => {
    const e = expansionOf('TransformerLM', { ...LM, ff_activation: 'Gelu', dropout_shared_axes: [0, 1], dropout: 0.2 });
    expect(all(e, 'Gelu')).toHaveLength(2);
    for (const d of all(e, 'Dropout')) expect(d.params).toEqual({ rate: 0.2, shared_axes: [0, 1], mode: 'train' });
  });
});

describe('Transformer', () => {
  const TF = { input_vocab_size: 16, d_model: 32, d_ff: 64, n_encoder_layers: 2, n_decoder_layers: 1, n_heads: 2 };

  it('shares the embedding between encoder and decoder when output_vocab_size is None', () => {
    const e = expansionOf('Transformer', TF);
    const emb = all(e, 'Embedding');
    expect(emb).toHaveLength(2);
    expect(emb[0].shareWeightsOf).toBeUndefined();
    expect(emb[1].shareWeightsOf).toBe(emb[0].id);
    expect(e.children!.at(-1)!.params).toEqual({ n_units: 16 });
  });

  it('has separate embeddings when output_vocab_size is given', () => {
    const e = expansionOf('Transformer', { ...TF, output_vocab_size: 50 });
    const emb = all(e, 'Embedding');
    expect(emb.map((x) => x.shareWeightsOf)).toEqual([undefined, undefined]);
    expect(emb.map((x) => x.params!.vocab_size)).toEqual([16, 50]);
    expect(e.children!.at(-1)!.params).toEqual({ n_units: 50 });
  });

  it('lays out the encoder-decoder stack as Trax does', () => {
    const e = expansionOf('Transformer', TF);
    expect(kinds(e.children)).toEqual([
      'Select', 'Branch', 'Serial', 'Select', 'ShiftRight', 'Embedding', 'Dropout', 'PositionalEncoding', 'Branch',
      'Residual', 'Residual', 'Residual', 'LayerNorm', 'Select', 'Dense',
    ]);
    const encoder = e.children![2];
    expect(kinds(encoder.children)).toEqual(['Embedding', 'Dropout', 'PositionalEncoding', 'Residual', 'Residual', 'Residual', 'Residual', 'LayerNorm']);
    expect(kinds(encoder.children![3].children)).toEqual(['LayerNorm', 'Attention', 'Dropout']);
    const [selfAtt, cross] = e.children!.slice(9, 11);
    // no attention dropout in the decoder's causal attention
    expect(selfAtt.children![1].params).toEqual({ d_feature: 32, n_heads: 2, mode: 'train' });
    expect(kinds(cross.children)).toEqual(['LayerNorm', 'Select', 'AttentionQKV', 'Dropout']);
    expect(cross.children![1].params).toEqual({ indices: [0, 2, 2, 1, 2] });
    expect(cross.children![2].params).toEqual({ d_feature: 32, n_heads: 2, dropout: 0.1, mode: 'train', cache_KV_in_predict: true });
    expect(kinds(e.children![1].children)).toEqual(['Serial', 'PaddingMask']);
    expect(kinds(e.children![8].children)).toEqual(['Serial', 'EncoderDecoderMask']);
  });

  it("wraps the encoder in Cache in predict mode, with its positional encoding in 'eval'", () => {
    const e = expansionOf('Transformer', { ...TF, mode: 'predict' });
    const cache = e.children![2];
    expect(cache.kind).toBe('Cache');
    const encoder = cache.slots!.layer!;
    expect(encoder.children![2].params).toEqual({ max_len: 2048, mode: 'eval' });
    // the decoder's positional encoding runs in predict mode
    expect(e.children![7].params).toEqual({ max_len: 2048, mode: 'predict' });
    // the shared embedding reference still points at the encoder's embedding inside the Cache
    const emb = all(e, 'Embedding');
    expect(emb[1].shareWeightsOf).toBe(emb[0].id);
  });
});

describe('TransformerEncoder / TransformerDecoder', () => {
  it('encoder: padding mask branch, blocks, Select, LayerNorm, Mean(axis=1), Dense(n_classes)', () => {
    const e = expansionOf('TransformerEncoder', { ...LM, n_classes: 3 });
    expect(kinds(e.children)).toEqual([
      'Branch', 'Embedding', 'Dropout', 'PositionalEncoding', 'Residual', 'Residual', 'Residual', 'Residual',
      'Select', 'LayerNorm', 'Mean', 'Dense',
    ]);
    expect(e.children![10].params).toEqual({ axis: 1 });
    expect(e.children![11].params).toEqual({ n_units: 3 });
  });

  it('decoder: Dense instead of Embedding when vocab_size is None, no final Dense', () => {
    const e = expansionOf('TransformerDecoder', { ...LM, vocab_size: null });
    expect(kinds(e.children)).toEqual(['Dense', 'Dropout', 'PositionalEncoding', 'Residual', 'Residual', 'Residual', 'Residual', 'LayerNorm']);
    expect(e.children![0].params).toEqual({ n_units: 32 });
  });
});

describe('ReformerLM', () => {
  const RLM = { vocab_size: 16, d_model: 32, d_ff: 64, d_attention_key: 16, d_attention_value: 16, n_layers: 2, n_heads: 2, max_len: 64 };

  it('builds the reversible decoder stack with SelfAttention by default', () => {
    const e = expansionOf('ReformerLM', RLM);
    expect(kinds(e.children)).toEqual([
      'ShiftRight', 'Embedding', 'Dropout', 'PositionalEncoding', 'Dup', 'ReversibleSerial', 'Concatenate', 'LayerNorm', 'Dropout', 'Dense',
    ]);
    expect(e.children![2].params).toEqual({ rate: 0.1, shared_axes: [-2], mode: 'train' });
    expect(e.children![3].params).toMatchObject({ max_len: 64, dropout: 0.1, mode: 'train' });
    const rs = e.children![5];
    expect(kinds(rs.children)).toEqual([
      'ReversibleHalfResidual', 'ReversibleSwap', 'ReversibleHalfResidual', 'ReversibleSwap',
      'ReversibleHalfResidual', 'ReversibleSwap', 'ReversibleHalfResidual', 'ReversibleSwap',
    ]);
    const attHalf = rs.children![0];
    expect(kinds(attHalf.children)).toEqual(['LayerNorm']);
    const att = attHalf.slots!.attention_layer!;
    expect(att.kind).toBe('SelfAttention');
    expect(att.params).toEqual({
      n_heads: 2, d_qk: 16, d_v: 16, causal: true, masked: false, output_dropout: 0.1, attention_dropout: 0.1, mode: 'train',
    });
    // dropout BEFORE the activation in the Reformer FF; FastGelu by default
    expect(kinds(rs.children![2].children)).toEqual(['LayerNorm', 'Dense', 'Dropout', 'FastGelu', 'Dense', 'Dropout']);
  });

  it('passes the efficient-attention keywords to LSHSelfAttention and keeps its own chunk_len / n_hashes', () => {
    const e = expansionOf('ReformerLM', { ...RLM, attention_type: 'LSHSelfAttention' });
    const att = all(e, 'LSHSelfAttention');
    expect(att).toHaveLength(2);
    expect(att[0].params).not.toHaveProperty('chunk_len');
    expect(att[0].params).not.toHaveProperty('n_hashes');
    expect(att[0].params).toMatchObject({ causal: true, masked: false, d_qk: 16, d_v: 16 });
  });

  it('cycles a list of attention classes over the layers', () => {
    const e = expansionOf('ReformerLM', { ...RLM, n_layers: 4, attention_type: ['SelfAttention', 'LSHSelfAttention'] });
    const rs = e.children![5];
    const atts = rs.children!.filter((_, i) => i % 4 === 0).map((h) => h.slots!.attention_layer!.kind);
    expect(atts).toEqual(['SelfAttention', 'LSHSelfAttention', 'SelfAttention', 'LSHSelfAttention']);
  });

  it('falls back to (d_model, n_heads, dropout, mode) for attention classes without d_qk', () => {
    const e = expansionOf('ReformerLM', { ...RLM, attention_type: 'CausalAttention' });
    expect(all(e, 'CausalAttention')[0].params).toEqual({ d_feature: 32, n_heads: 2, dropout: 0.1, mode: 'train' });
  });

  it('wraps attention in Chunk when attention_chunk_size > 0', () => {
    const e = expansionOf('ReformerLM', { ...RLM, attention_chunk_size: 2 });
    const att = e.children![5].children![0].slots!.attention_layer!;
    expect(att.kind).toBe('Chunk');
    expect(att.params).toEqual({ chunk_size: 2 });
    expect(att.slots!.layer!.kind).toBe('SelfAttention');
  });

  it.each([
    [null, 'PositionalEncoding'],
    ['sin-cos', 'SinCosPositionalEncoding'],
    ['fixed-base', 'FixedBasePositionalEncoding'],
    ['infinite', 'InfinitePositionalEncoding'],
    ['infinite-affine', 'InfinitePositionalEncoding'],
    ['no', 'Serial'],
  ])('pos_type %s -> %s', (posType, kind) => {
    const e = expansionOf('ReformerLM', { ...RLM, pos_type: posType });
    expect(e.children![3].kind).toBe(kind);
    if (posType === 'infinite') expect(e.children![3].params).toEqual({ affine: false });
    if (posType === 'no') expect(e.children![3].children).toBeUndefined();
  });

  it('any other pos_type selects AxialPositionalEncoding broadcasting dropout over the grid axes', () => {
    const e = expansionOf('ReformerLM', { ...RLM, pos_type: 'axial', pos_axial_shape: [4, 4, 4], pos_d_axial_embs: [8, 8, 16] });
    expect(e.children![3].kind).toBe('AxialPositionalEncoding');
    expect(e.children![3].params).toEqual({ shape: [4, 4, 4], d_embs: [8, 8, 16], dropout_broadcast_dims: [1, 2, 3], dropout: 0.1, mode: 'train' });
  });

  it('pos_axial_shape alone does not enable axial encoding', () => {
    const e = expansionOf('ReformerLM', { ...RLM, pos_axial_shape: [8, 8], pos_d_axial_embs: [16, 16] });
    expect(e.children![3].kind).toBe('PositionalEncoding');
  });

  it('ff_chunk_size wraps the FF in BatchLeadingAxes(Chunk(Serial(FF)))', () => {
    const e = expansionOf('ReformerLM', { ...RLM, ff_chunk_size: 8 });
    const ffHalf = e.children![5].children![2];
    expect(kinds(ffHalf.children)).toEqual(['BatchLeadingAxes']);
    const chunk = ffHalf.children![0].slots!.layer!;
    expect(chunk.kind).toBe('Chunk');
    expect(chunk.params).toEqual({ chunk_size: 8 });
    expect(kinds(chunk.slots!.layer!.children)).toEqual(['LayerNorm', 'Dense', 'Dropout', 'FastGelu', 'Dense', 'Dropout']);
  });

  it('ff_use_sru adds an SRU residual branch with the FF as its shortcut', () => {
    const e = expansionOf('ReformerLM', { ...RLM, ff_use_sru: [2, 16] });
    const ffHalf = e.children![5].children![2];
    expect(kinds(ffHalf.children)).toEqual(['Residual']);
    const res = ffHalf.children![0];
    expect(kinds(res.children)).toEqual(['LayerNorm', 'Dense', 'SRU', 'SRU', 'Dense']);
    expect(res.children![2].params).toEqual({ n_units: 16, mode: 'train' });
    expect(kinds(res.slots!.shortcut!.children)).toEqual(['LayerNorm', 'Dense', 'Dropout', 'FastGelu', 'Dense', 'Dropout']);
  });
});

describe('Reformer', () => {
  const RF = { input_vocab_size: 16, d_model: 32, d_ff: 64, n_encoder_layers: 1, n_decoder_layers: 1, n_heads: 2, max_len: 64 };

  it('builds encoder and encoder-decoder reversible stacks merged with XYAvg', () => {
    const e = expansionOf('Reformer', { ...RF, output_vocab_size: 20 });
    expect(kinds(e.children)).toEqual([
      'Select', 'Branch', 'Serial', 'Select', 'ShiftRight', 'Embedding', 'Dropout', 'PositionalEncoding',
      'Dup', 'ReversibleSerial', 'XYAvg', 'LayerNorm', 'Select', 'Dense',
    ]);
    expect(kinds(e.children![1].children![1].children)).toEqual(['PaddingMask', 'RemoveAxes12']);
    const encoder = e.children![2];
    expect(kinds(encoder.children)).toEqual(['Embedding', 'Dropout', 'PositionalEncoding', 'Dup', 'ReversibleSerial', 'XYAvg', 'LayerNorm']);
    const encAtt = encoder.children![4].children![0].slots!.attention_layer!;
    expect(encAtt.params).toMatchObject({ n_heads: 2, d_qk: 16, d_v: 16, causal: false, masked: true });
    const dec = e.children![9].children!;
    expect(kinds(dec)).toEqual([
      'ReversibleHalfResidual', 'ReversibleSwap', 'ReversibleHalfResidual', 'ReversibleSwap', 'ReversibleHalfResidual', 'ReversibleSwap',
    ]);
    expect(dec[0].slots!.attention_layer!.kind).toBe('SelfAttention');
    expect(dec[0].slots!.attention_layer!.params).toMatchObject({ causal: true });
    expect(dec[2].slots!.attention_layer!.kind).toBe('EncDecAttention');
    // Reformer's FF defaults to Relu
    expect(kinds(dec[4].children)).toEqual(['LayerNorm', 'Dense', 'Dropout', 'Relu', 'Dense', 'Dropout']);
  });

  it('shares the embedder (Embedding and its Dropout) when output_vocab_size is None', () => {
    const e = expansionOf('Reformer', RF);
    const emb = all(e, 'Embedding');
    expect(emb[1].shareWeightsOf).toBe(emb[0].id);
  });

  it("caches the encoder in predict mode and runs it in 'eval'", () => {
    const e = expansionOf('Reformer', { ...RF, mode: 'predict' });
    expect(e.children![2].kind).toBe('Cache');
    const encoder = e.children![2].slots!.layer!;
    for (const d of all(encoder, 'Dropout')) expect(d.params!.mode).toBe('eval');
    expect(all(encoder, 'SelfAttention')[0].params!.mode).toBe('eval');
    expect(e.children![9].children![0].slots!.attention_layer!.params!.mode).toBe('predict');
  });
});
