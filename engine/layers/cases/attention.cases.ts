import type { CaseNode, LayerCase } from './types';

const dense = (n: number): CaseNode => ({ kind: 'Dense', params: { n_units: n } });
const causalCore: CaseNode = { kind: 'DotProductCausalAttention' };
/** Dense q/k/v (d x d + d each) and the output Dense */
const qkvoParams = (d: number): number => 4 * (d * d + d);

export const cases: LayerCase[] = [
  // Attention: (x, mask) -> (y, mask); the mask must be exactly [b,1,1,l]
  {
    kind: 'Attention', params: { d_feature: 8, n_heads: 2 },
    inputs: ['float32[2,3,8]', 'bool[2,1,1,3]'], outputs: ['float32[2,3,8]', 'bool[2,1,1,3]'], nIn: 2, nOut: 2, paramCount: qkvoParams(8),
  },
  {
    kind: 'Attention', note: 'symbolic batch and length', params: { d_feature: 16, n_heads: 4, dropout: 0.1 },
    inputs: ['float32[B,L,16]', 'bool[B,1,1,L]'], outputs: ['float32[B,L,16]', 'bool[B,1,1,L]'], paramCount: qkvoParams(16),
  },
  {
    kind: 'Attention', note: 'mask [b,1,l,l] is not [b,1,1,l]', params: { d_feature: 8, n_heads: 2 },
    inputs: ['float32[2,3,8]', 'bool[2,1,3,3]'], error: { code: 'shape_mismatch', message: 'mask must have shape [b,1,1,l], but its axis 2 is 3, not 1' },
  },
  {
    kind: 'Attention', note: 'mask length differs from the activations', params: { d_feature: 8 },
    inputs: ['float32[2,3,8]', 'bool[2,1,1,4]'], error: { code: 'shape_mismatch', message: 'axis 3 (l) is 4 while l = 3' },
  },
  {
    kind: 'Attention', note: 'input depth must equal d_feature (bld -> bld)', params: { d_feature: 8 },
    inputs: ['float32[2,3,6]', 'bool[2,1,1,3]'], error: { code: 'shape_mismatch', message: 'd = d_feature = 8, but its axis 2 is 6', param: 'd_feature' },
  },
  {
    kind: 'Attention', note: 'mask of rank 2', params: { d_feature: 8 },
    inputs: ['float32[2,3,8]', 'bool[2,3]'], error: { code: 'rank', message: 'mask must have shape [b,1,1,l] (rank 4)' },
  },
  {
    kind: 'Attention', note: 'd_feature not a multiple of n_heads (PureAttention raises)', params: { d_feature: 8, n_heads: 3 },
    inputs: ['float32[2,3,8]', 'bool[2,1,1,3]'], error: { code: 'shape_mismatch', message: 'query depth 8 is not a multiple of n_heads = 3' },
  },
  { kind: 'Attention', note: 'd_feature is required', inputs: ['float32[2,3,8]', 'bool[2,1,1,3]'], error: { code: 'missing_param', message: 'd_feature', param: 'd_feature' } },

  // AttentionQKV: queries may be shorter/longer than keys
  {
    kind: 'AttentionQKV', note: 'conformance attention_qkv_shape', params: { d_feature: 8, n_heads: 2 },
    inputs: ['float32[2,3,8]', 'float32[2,5,8]', 'float32[2,5,8]', 'bool[2,1,3,5]'], outputs: ['float32[2,3,8]', 'bool[2,1,3,5]'], nIn: 4, nOut: 2, paramCount: qkvoParams(8),
  },
  {
    kind: 'AttentionQKV', note: 'different input depths, encoder-decoder mask', params: { d_feature: 8, n_heads: 4 },
    inputs: ['float32[B,Lq,6]', 'float32[B,Lk,10]', 'float32[B,Lk,12]', 'bool[B,1,1,Lk]'], outputs: ['float32[B,Lq,8]', 'bool[B,1,1,Lk]'],
    paramCount: (6 * 8 + 8) + (10 * 8 + 8) + (12 * 8 + 8) + (8 * 8 + 8),
  },
  {
    kind: 'AttentionQKV', note: "q_sparsity='noop', result_sparsity='noop'", params: { d_feature: 8, n_heads: 2, q_sparsity: 'noop', result_sparsity: 'noop' },
    inputs: ['float32[2,3,8]', 'float32[2,5,4]', 'float32[2,5,4]', 'bool[2,1,3,5]'], outputs: ['float32[2,3,8]', 'bool[2,1,3,5]'], paramCount: 2 * (4 * 8 + 8),
  },
  {
    kind: 'AttentionQKV', note: 'cache_KV_in_predict wraps K/V Dense in Cache', params: { d_feature: 8, mode: 'predict', cache_KV_in_predict: true },
    inputs: ['float32[2,1,8]', 'float32[2,5,8]', 'float32[2,5,8]', 'bool[2,1,1,5]'], outputs: ['float32[2,1,8]', 'bool[2,1,1,5]'], paramCount: qkvoParams(8),
  },
  {
    kind: 'AttentionQKV', note: 'keys and values of different lengths', params: { d_feature: 8 },
    inputs: ['float32[2,3,8]', 'float32[2,5,8]', 'float32[2,4,8]', 'bool[2,1,3,5]'], error: { code: 'shape_mismatch', message: 'values must have shape [b,l,v], but its axis 1 (l) is 4 while l = 5' },
  },
  {
    kind: 'AttentionQKV', note: 'sparse processing is not available', params: { d_feature: 8, q_sparsity: 4 },
    inputs: ['float32[2,3,8]', 'float32[2,5,8]', 'float32[2,5,8]', 'bool[2,1,3,5]'], error: { code: 'unsupported', message: 'sparsity layers', param: 'q_sparsity' },
  },

  // PureAttention
  {
    kind: 'PureAttention', note: 'conformance pure_attention_values_2heads (shapes)', params: { n_heads: 2, mode: 'eval' },
    inputs: ['float32[1,3,4]', 'float32[1,3,4]', 'float32[1,3,4]', 'bool[1,1,1,3]'], outputs: ['float32[1,3,4]', 'bool[1,1,1,3]'], nIn: 4, nOut: 2,
  },
  {
    kind: 'PureAttention', note: 'queries of another length, values of another depth', params: { n_heads: 2 },
    inputs: ['float32[B,3,8]', 'float32[B,5,8]', 'float32[B,5,6]', 'bool[B,1,3,5]'], outputs: ['float32[B,3,6]', 'bool[B,1,3,5]'],
  },
  {
    kind: 'PureAttention', note: 'int activations give float32', params: { mode: 'viz' },
    inputs: ['bfloat16[2,3,4]', 'bfloat16[2,3,4]', 'bfloat16[2,3,4]', 'bool[2,1,1,3]'], outputs: ['float32[2,3,4]', 'bool[2,1,1,3]'],
  },
  {
    kind: 'PureAttention', params: { n_heads: 3 },
    inputs: ['float32[1,3,4]', 'float32[1,3,4]', 'float32[1,3,4]', 'bool[1,1,1,3]'], error: { code: 'shape_mismatch', message: 'query depth 4 is not a multiple of n_heads = 3', param: 'n_heads' },
  },
  {
    kind: 'PureAttention', note: 'keys of another depth than queries',
    inputs: ['float32[1,3,4]', 'float32[1,3,5]', 'float32[1,3,4]', 'bool[1,1,1,3]'], error: { code: 'shape_mismatch', message: 'keys must have shape [b,k,q], but its axis 2 (q) is 5 while q = 4' },
  },
  {
    kind: 'PureAttention', note: 'mask batch must match',
    inputs: ['float32[2,3,4]', 'float32[2,3,4]', 'float32[2,3,4]', 'bool[1,1,1,3]'], error: { code: 'shape_mismatch', message: 'mask must have shape [b,1,x,k]' },
  },
  { kind: 'PureAttention', params: { dropout: 1.0 }, inputs: ['float32[1,3,4]', 'float32[1,3,4]', 'float32[1,3,4]', 'bool[1,1,1,3]'], error: { code: 'bad_param', message: 'dropout', param: 'dropout' } },

  // DotProductAttention
  {
    kind: 'DotProductAttention', inputs: ['float32[B*2,3,4]', 'float32[B*2,5,4]', 'float32[B*2,5,6]', 'bool[B*2,1,5]'], outputs: ['float32[B*2,3,6]'], nIn: 4, nOut: 1,
  },
  {
    kind: 'DotProductAttention', note: 'heads axis kept', params: { dropout: 0.1, mode: 'eval' },
    inputs: ['float32[2,4,7,8]', 'float32[2,4,7,8]', 'float32[2,4,7,8]', 'bool[2,1,1,7]'], outputs: ['float32[2,4,7,8]'],
  },
  {
    kind: 'DotProductAttention', note: 'q/k depth mismatch',
    inputs: ['float32[2,3,4]', 'float32[2,5,3]', 'float32[2,5,6]', 'bool[2,1,5]'], error: { code: 'shape_mismatch', message: 'queries have depth 4 but keys have depth 3' },
  },
  {
    kind: 'DotProductAttention', note: 'mask does not broadcast',
    inputs: ['float32[2,3,4]', 'float32[2,5,4]', 'float32[2,5,6]', 'bool[2,3,4]'], error: { code: 'shape_mismatch', message: 'does not broadcast to the attention logits [2,3,5]' },
  },

  // SplitIntoHeads / MergeHeads
  { kind: 'SplitIntoHeads', params: { n_heads: 2 }, inputs: ['float32[B,L,8]'], outputs: ['float32[B*2,L,4]'] },
  { kind: 'SplitIntoHeads', params: { n_heads: 8 }, inputs: ['bfloat16[3,5,64]'], outputs: ['bfloat16[24,5,8]'] },
  { kind: 'SplitIntoHeads', params: { n_heads: 2, merged_batch_and_head: false }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,2,L,4]'] },
  { kind: 'SplitIntoHeads', params: { n_heads: 2 }, inputs: ['float32[2,3,5]'], error: { code: 'shape_mismatch', message: 'feature depth 5 is not a multiple of n_heads = 2', param: 'n_heads' } },
  { kind: 'SplitIntoHeads', params: { n_heads: 2 }, inputs: ['float32[2,8]'], error: { code: 'rank', message: 'must have rank 3' } },
  { kind: 'SplitIntoHeads', inputs: ['float32[2,3,8]'], error: { code: 'missing_param', message: 'n_heads', param: 'n_heads' } },
  { kind: 'MergeHeads', params: { n_heads: 2 }, inputs: ['float32[B*2,L,4]'], outputs: ['float32[B,L,8]'] },
  { kind: 'MergeHeads', params: { n_heads: 8 }, inputs: ['float32[24,5,8]'], outputs: ['float32[3,5,64]'] },
  { kind: 'MergeHeads', params: { n_heads: 2, merged_batch_and_head: false }, inputs: ['float32[B,2,L,4]'], outputs: ['float32[B,L,8]'] },
  { kind: 'MergeHeads', params: { n_heads: 2 }, inputs: ['float32[3,4,5]'], error: { code: 'shape_mismatch', message: 'first axis 3 (batch*n_heads) is not a multiple of n_heads = 2' } },
  { kind: 'MergeHeads', params: { n_heads: 2, merged_batch_and_head: false }, inputs: ['float32[2,3,4,5]'], error: { code: 'shape_mismatch', message: 'axis 1 holds 3 heads, but n_heads = 2' } },

  // ConfigurableAttention
  {
    kind: 'ConfigurableAttention', params: { n_heads: 2 },
    slots: { q_layer: dense(8), k_layer: dense(8), v_layer: dense(8), final_layer: dense(8), qkv_attention_layer: causalCore },
    inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'], nIn: 1, nOut: 1, paramCount: qkvoParams(8),
  },
  {
    kind: 'ConfigurableAttention', note: 'input of rank 2', params: { n_heads: 2 },
    slots: { q_layer: dense(8), k_layer: dense(8), v_layer: dense(8), final_layer: dense(8), qkv_attention_layer: causalCore },
    inputs: ['float32[2,8]'], error: { code: 'rank', message: 'ConfigurableAttention: activations must have shape [b,l,d] (rank 3)' },
  },
  {
    kind: 'ConfigurableAttention', note: 'depth not divisible by n_heads', params: { n_heads: 3 },
    slots: { q_layer: dense(8), k_layer: dense(8), v_layer: dense(8), final_layer: dense(8), qkv_attention_layer: causalCore },
    inputs: ['float32[2,3,8]'], error: { code: 'shape_mismatch', message: 'SplitIntoHeads: feature depth 8 is not a multiple of n_heads = 3' },
  },
  {
    kind: 'ConfigurableAttention', note: 'a layer argument is missing', params: { n_heads: 2 },
    slots: { q_layer: dense(8), k_layer: dense(8), v_layer: dense(8), final_layer: dense(8) },
    inputs: ['float32[2,3,8]'], error: { code: 'missing_param', message: 'qkv_attention_layer', param: 'qkv_attention_layer' },
  },

  // CausalAttention
  { kind: 'CausalAttention', params: { d_feature: 8, n_heads: 2 }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'], nIn: 1, nOut: 1, paramCount: qkvoParams(8) },
  { kind: 'CausalAttention', params: { d_feature: 512, n_heads: 8, dropout: 0.1, mode: 'eval' }, inputs: ['float32[2,7,512]'], outputs: ['float32[2,7,512]'], paramCount: qkvoParams(512) },
  { kind: 'CausalAttention', note: 'use_dconv: CausalDepthwiseConv after each Q/K/V Dense', params: { d_feature: 8, n_heads: 2, use_dconv: true }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'] },
  { kind: 'CausalAttention', note: 'conformance causal_attention_bad_heads', params: { d_feature: 5, n_heads: 2 }, inputs: ['float32[2,3,5]'], error: { code: 'construct', message: 'multiple', param: 'n_heads' } },
  { kind: 'CausalAttention', note: 'input depth must equal d_feature', params: { d_feature: 8, n_heads: 2 }, inputs: ['float32[2,3,6]'], error: { code: 'shape_mismatch', message: 'd = d_feature = 8', param: 'd_feature' } },
  { kind: 'CausalAttention', params: { d_feature: 8 }, inputs: ['float32[2,8]'], error: { code: 'rank', message: 'activations must have shape [b,l,d] (rank 3)' } },

  // DotProductCausalAttention
  { kind: 'DotProductCausalAttention', inputs: ['float32[B*2,L,4]', 'float32[B*2,L,4]', 'float32[B*2,L,4]'], outputs: ['float32[B*2,L,4]'], nIn: 3, nOut: 1 },
  { kind: 'DotProductCausalAttention', note: 'predict mode: K/V caches in state', params: { mode: 'predict', max_inference_length: 16 }, inputs: ['float32[6,1,4]', 'float32[6,1,4]', 'float32[6,1,4]'], outputs: ['float32[6,1,4]'] },
  { kind: 'DotProductCausalAttention', note: 'keys of another length', inputs: ['float32[2,3,4]', 'float32[2,5,4]', 'float32[2,5,4]'], error: { code: 'shape_mismatch', message: 'keys must have shape [b,l,d], but its axis 1 (l) is 5 while l = 3' } },

  // ShiftRight
  { kind: 'ShiftRight', note: 'conformance shift_right_float', inputs: ['float32[2,4,3]'], outputs: ['float32[2,4,3]'], nIn: 1, nOut: 1 },
  { kind: 'ShiftRight', note: 'token ids keep their dtype', params: { n_positions: 2 }, inputs: ['int32[B,L]'], outputs: ['int32[B,L]'] },
  { kind: 'ShiftRight', note: 'quirk: n_positions=0 keeps nothing', params: { n_positions: 0 }, inputs: ['int32[2,5]'], outputs: ['int32[2,0]'] },
  { kind: 'ShiftRight', note: 'predict mode is the identity', params: { n_positions: 0, mode: 'predict' }, inputs: ['int32[2,5]'], outputs: ['int32[2,5]'] },
  { kind: 'ShiftRight', inputs: ['int32[5]'], error: { code: 'rank', message: 'rank >= 2' } },

  // PaddingMask
  { kind: 'PaddingMask', note: 'conformance padding_mask', inputs: ['float32[3,5]'], outputs: ['bool[3,1,1,5]'], nIn: 1, nOut: 1 },
  { kind: 'PaddingMask', params: { pad: 1 }, inputs: ['int32[B,L]'], outputs: ['bool[B,1,1,L]'] },
  { kind: 'PaddingMask', inputs: ['int32[2,3,4]'], error: { code: 'rank', message: 'Input to PaddingMask must be a rank 2 tensor' } },

  // EncoderDecoderMask
  { kind: 'EncoderDecoderMask', inputs: ['float32[2,7,16]', 'bool[2,1,1,5]'], outputs: ['float32[2,1,7,5]'], nIn: 2, nOut: 1 },
  { kind: 'EncoderDecoderMask', inputs: ['float32[B,Ld,16]', 'bool[B,Le]'], outputs: ['float32[B,1,Ld,Le]'] },
  { kind: 'EncoderDecoderMask', inputs: ['int32[2,7]', 'bool[2,1,1,5]'], error: { code: 'rank', message: 'must be a rank 3 tensor' } },
  { kind: 'EncoderDecoderMask', inputs: ['float32[2,7,16]', 'bool[2,1,3,5]'], error: { code: 'shape_mismatch', message: 'axis 2 of size 3' } },

  // PositionalEncoding
  { kind: 'PositionalEncoding', inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'], weights: ['float32[2048,8]'], paramCount: 2048 * 8 },
  { kind: 'PositionalEncoding', params: { max_len: 16, use_bfloat16: true, mode: 'predict' }, inputs: ['bfloat16[2,1,6]'], outputs: ['bfloat16[2,1,6]'], weights: ['bfloat16[16,6]'] },
  { kind: 'PositionalEncoding', note: 'd_feature: pe [max_len, d_feature] and ff [d_feature, d]', params: { max_len: 16, d_feature: 4 }, inputs: ['float32[2,10,6]'], outputs: ['float32[2,10,6]'], weights: ['float32[16,4]', 'float32[4,6]'], paramCount: 16 * 4 + 4 * 6 },
  { kind: 'PositionalEncoding', params: { max_len: 16 }, inputs: ['float32[2,20,8]'], error: { code: 'shape_mismatch', message: 'input length 20 exceeds max_len = 16', param: 'max_len' } },
  { kind: 'PositionalEncoding', inputs: ['float32[2,10,5]'], error: { code: 'shape_mismatch', message: 'even depth' } },
  { kind: 'PositionalEncoding', params: { d_feature: 3 }, inputs: ['float32[2,10,6]'], error: { code: 'shape_mismatch', message: 'd_feature 3', param: 'd_feature' } },
  { kind: 'PositionalEncoding', params: { dropout: 1.0 }, inputs: ['float32[2,10,6]'], error: { code: 'bad_param', message: 'dropout', param: 'dropout' } },
  { kind: 'PositionalEncoding', inputs: ['float32[10,6]'], error: { code: 'rank', message: 'rank 3' } },

  // AssertShape (internal)
  { kind: 'AssertShape', params: { specification: '...d,...d' }, inputs: ['float32[2,3,4]', 'int32[2,3,4]'], outputs: ['float32[2,3,4]', 'int32[2,3,4]'], nIn: 2, nOut: 2 },
  { kind: 'AssertShape', params: { specification: '...d,...d' }, inputs: ['float32[2,3,4]', 'int32[2,4]'], error: { code: 'shape_mismatch', message: 'leading axes of input 1 [2] differ from those of input 0 [2,3]' } },
];
