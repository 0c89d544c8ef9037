import type { LayerCase } from './types';

const lshConf = { n_heads: 5, d_qk: 7, d_v: 17, causal: true, chunk_len: 8, n_chunks_before: 1, n_chunks_after: 0, n_hashes: 2, n_buckets: 4, use_reference_code: true, attention_dropout: 0.0, mode: 'train' };
const wrapperConf = {
  n_heads: 5, d_qk: 8, d_v: 8, causal: true, masked: false, chunk_len: 8, n_chunks_before: 1, n_chunks_after: 0, n_hashes: 2, n_buckets: 4,
  bias: false, pure_lsh_implementation: 'PureLSHSelfAttention', mode: 'train', num_weights: 3,
};

export const cases: LayerCase[] = [
  // SelfAttention
  {
    kind: 'SelfAttention', note: 'defaults: per-head w_q, w_k, w_v (h, d_model, 64) and w_o (h, 64, d_model)',
    inputs: ['float32[B,L,32]'], outputs: ['float32[B,L,32]'], nIn: 1, nOut: 1,
    weights: ['float32[2,32,64]', 'float32[2,32,64]', 'float32[2,32,64]', 'float32[2,64,32]'], paramCount: 3 * 2 * 32 * 64 + 2 * 64 * 32,
  },
  {
    kind: 'SelfAttention', note: 'share_qk, bias, masked, chunked', params: { n_heads: 2, d_qk: 8, d_v: 8, share_qk: true, bias: true, masked: true, causal: true, chunk_len: 4, n_chunks_before: 1 },
    inputs: ['float32[2,8,16]', 'bool[2,8]'], outputs: ['float32[2,8,16]'], nIn: 2, nOut: 1,
    weights: ['float32[2,16,8]', 'float32[2,16,8]', 'float32[2,8,16]', 'float32[2,8]', 'float32[2,8]'],
  },
  {
    kind: 'SelfAttention', note: 'predict: one token at a time', params: { n_heads: 2, d_qk: 8, d_v: 8, causal: true, chunk_len: 4, n_chunks_before: 1, mode: 'predict' },
    inputs: ['float32[2,1,16]'], outputs: ['float32[2,1,16]'],
  },
  {
    kind: 'SelfAttention', params: { d_qk: 8, d_v: 8, chunk_len: 4 }, inputs: ['float32[2,10,16]'],
    error: { code: 'shape_mismatch', message: 'sequence length 10 must be divisible by chunk_len = 4', param: 'chunk_len' },
  },
  { kind: 'SelfAttention', note: 'predict needs causal', params: { chunk_len: 4, mode: 'predict' }, inputs: ['float32[2,1,16]'], error: { code: 'construct', message: 'only causal attention supports fast inference', param: 'causal' } },
  { kind: 'SelfAttention', params: { n_heads: 2, n_parallel_heads: 3 }, inputs: ['float32[2,4,16]'], error: { code: 'construct', message: 'multiple or fraction of n_heads', param: 'n_parallel_heads' } },
  { kind: 'SelfAttention', params: { masked: true }, inputs: ['float32[2,8,16]', 'bool[2,9]'], error: { code: 'shape_mismatch', message: 'mask must have shape [b,l]' } },
  { kind: 'SelfAttention', note: 'adjacent chunks need chunking', params: { n_chunks_before: 1 }, inputs: ['float32[2,8,16]'], error: { code: 'construct', message: 'set chunk_len', param: 'n_chunks_before' } },

  // LSHSelfAttention
  {
    kind: 'LSHSelfAttention', note: 'conformance lsh_self_attention_deterministic', params: lshConf,
    inputs: ['float32[3,32,8]'], outputs: ['float32[3,32,8]'], nIn: 1, nOut: 1,
    weights: ['float32[5,8,7]', 'float32[5,8,17]', 'float32[5,17,8]'], paramCount: 5 * (8 * 7 + 8 * 17 + 17 * 8),
  },
  {
    kind: 'LSHSelfAttention', note: 'defaults, symbolic length (chunk_len 128 cannot be checked)', inputs: ['float32[B,L,32]'], outputs: ['float32[B,L,32]'],
    weights: ['float32[2,32,64]', 'float32[2,32,64]', 'float32[2,64,32]'],
  },
  {
    kind: 'LSHSelfAttention', note: 'masked, with biases', params: { n_heads: 2, d_qk: 4, d_v: 4, masked: true, bias: true, chunk_len: 8 },
    inputs: ['float32[2,16,8]', 'bool[2,16]'], outputs: ['float32[2,16,8]'], nIn: 2,
    weights: ['float32[2,8,4]', 'float32[2,8,4]', 'float32[2,4,8]', 'float32[2,4]', 'float32[2,4]'],
  },
  {
    kind: 'LSHSelfAttention', params: { chunk_len: 8, n_hashes: 2 }, inputs: ['float32[2,30,8]'],
    error: { code: 'shape_mismatch', message: 'n_hashes * length = 2 * 30 = 60) must be divisible by chunk_len = 8', param: 'chunk_len' },
  },
  { kind: 'LSHSelfAttention', note: 'no chunking', params: { chunk_len: null, n_chunks_before: 0, n_buckets: 4 }, inputs: ['float32[2,30,8]'], outputs: ['float32[2,30,8]'] },
  { kind: 'LSHSelfAttention', note: 'no chunking and no n_buckets', params: { chunk_len: null, n_chunks_before: 0 }, inputs: ['float32[2,30,8]'], error: { code: 'construct', message: 'set chunk_len or n_buckets', param: 'n_buckets' } },
  { kind: 'LSHSelfAttention', params: { n_buckets: 5 }, inputs: ['float32[2,128,8]'], error: { code: 'bad_param', message: 'n_buckets must be even', param: 'n_buckets' } },
  { kind: 'LSHSelfAttention', params: { chunk_len: 8, max_length_for_buckets: 16 }, inputs: ['float32[2,32,8]'], error: { code: 'shape_mismatch', message: 'exceeds max_length_for_buckets = 16', param: 'max_length_for_buckets' } },

  // PureLSHSelfAttention
  {
    kind: 'PureLSHSelfAttention', params: { n_heads: 5, d_qk: 8, d_v: 8, causal: true, chunk_len: 8, n_hashes: 2, n_buckets: 4 },
    inputs: ['float32[15,32,8]', 'float32[15,32,8]'], outputs: ['float32[15,32,8]'], nIn: 2, nOut: 1, paramCount: 0,
  },
  {
    kind: 'PureLSHSelfAttention', note: 'masked: mask is [batch, length]', params: { n_heads: 2, masked: true, chunk_len: 8 },
    inputs: ['float32[B*2,L,4]', 'float32[B*2,L,4]', 'bool[B,L]'], outputs: ['float32[B*2,L,4]'], nIn: 3,
  },
  {
    kind: 'PureLSHSelfAttention', params: { n_heads: 2, chunk_len: 8 }, inputs: ['float32[4,16,8]', 'float32[4,16,6]'],
    error: { code: 'shape_mismatch', message: 'd_v must equal d_qk' },
  },
  {
    kind: 'PureLSHSelfAttention', params: { n_heads: 2, masked: true, chunk_len: 8 }, inputs: ['float32[4,16,8]', 'float32[4,16,8]', 'bool[4,16]'],
    error: { code: 'shape_mismatch', message: 'with batch * n_heads (2) = 4' },
  },
  { kind: 'PureLSHSelfAttention', params: { n_parallel_heads: null }, inputs: ['float32[4,128,8]', 'float32[4,128,8]'], error: { code: 'construct', message: 'n_parallel_heads != 1', param: 'n_parallel_heads' } },

  // MixedLSHSelfAttention
  {
    kind: 'MixedLSHSelfAttention', note: 'causal: LSH path', params: { n_heads: 2, d_qk: 4, d_v: 4, causal: true, chunk_len: 4 },
    inputs: ['float32[4,8,4]', 'float32[4,8,4]'], outputs: ['float32[4,8,4]'], nIn: 2, nOut: 1,
  },
  {
    kind: 'MixedLSHSelfAttention', note: 'masked, shorter than std_length: standard attention', params: { n_heads: 2, d_qk: 4, d_v: 4, masked: true, std_length: 16, chunk_len: 4 },
    inputs: ['float32[4,8,4]', 'float32[4,8,4]', 'bool[2,8]'], outputs: ['float32[4,8,4]'], nIn: 3,
  },
  { kind: 'MixedLSHSelfAttention', params: { causal: true, masked: true }, inputs: ['float32[4,8,4]', 'float32[4,8,4]', 'bool[2,8]'], error: { code: 'construct', message: 'n_in diff: 2 != 3', param: 'masked' } },

  // PureLSHSelfAttentionWrapper
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'conformance pure_lsh_wrapper_causal_w3', params: wrapperConf,
    inputs: ['float32[3,32,40]'], outputs: ['float32[3,32,40]'], nIn: 1, nOut: 1, paramCount: 4 * 40 * 40,
  },
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'num_weights=2, masked, biases', params: { n_heads: 4, d_qk: 8, d_v: 8, masked: true, num_weights: 2, chunk_len: 8, pure_lsh_implementation: 'PureLSHSelfAttention' },
    inputs: ['float32[2,16,32]', 'bool[2,16]'], outputs: ['float32[2,16,32]'], nIn: 2, nOut: 1, paramCount: 3 * (32 * 32 + 32),
  },
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'rotary embeddings, MixedLSHSelfAttention', params: { n_heads: 2, d_qk: 8, d_v: 8, causal: true, rotary_position_emb: true, chunk_len: 8, pure_lsh_implementation: 'MixedLSHSelfAttention', std_length: 4 },
    inputs: ['float32[B,16,16]'], outputs: ['float32[B,16,16]'], paramCount: 4 * (16 * 16 + 16),
  },
  { kind: 'PureLSHSelfAttentionWrapper', note: 'no implementation given', inputs: ['float32[2,128,64]'], error: { code: 'construct', message: 'needs pure_lsh_implementation', param: 'pure_lsh_implementation' } },
  {
    kind: 'PureLSHSelfAttentionWrapper', params: { pure_lsh_implementation: 'PureLSHSelfAttention', weights_format: 'sparse' }, inputs: ['float32[2,128,64]'],
    error: { code: 'unsupported', message: 'sparsity layers', param: 'weights_format' },
  },
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'the output has depth d_model = d_qk * n_heads, whatever the input depth', params: { n_heads: 2, d_qk: 8, chunk_len: 8, pure_lsh_implementation: 'PureLSHSelfAttention' },
    inputs: ['float32[2,16,12]'], outputs: ['float32[2,16,16]'], paramCount: 3 * (12 * 16 + 16) + (16 * 16 + 16),
  },
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'a kwarg the implementation checks', params: { n_heads: 2, d_qk: 8, chunk_len: 8, n_hashes: 2, pure_lsh_implementation: 'PureLSHSelfAttention' },
    inputs: ['float32[2,10,16]'], error: { code: 'shape_mismatch', message: '2 * 10 = 20) must be divisible by chunk_len = 8', param: 'chunk_len' },
  },
  {
    kind: 'PureLSHSelfAttentionWrapper', note: 'std_length only exists on MixedLSHSelfAttention', params: { std_length: 8, pure_lsh_implementation: 'PureLSHSelfAttention' },
    inputs: ['float32[2,128,64]'], error: { code: 'unknown_param', message: 'PureLSHSelfAttention has no parameter std_length' },
  },

  // EncDecAttention
  {
    kind: 'EncDecAttention', inputs: ['float32[B,Lq,32]', 'float32[B,Lk,16]', 'bool[B,Lk]'], outputs: ['float32[B,Lq,32]'], nIn: 3, nOut: 1,
    weights: ['float32[2,32,64]', 'float32[2,16,64]', 'float32[2,16,64]', 'float32[2,64,32]'],
  },
  { kind: 'EncDecAttention', params: { masked: false, n_heads: 4, d_qk: 8, d_v: 8 }, inputs: ['float32[2,5,32]', 'float32[2,7,32]'], outputs: ['float32[2,5,32]'], nIn: 2, paramCount: 4 * (3 * 32 * 8 + 8 * 32) },
  { kind: 'EncDecAttention', note: 'mask over the queries instead of the keys', inputs: ['float32[2,5,32]', 'float32[2,7,16]', 'bool[2,5]'], error: { code: 'shape_mismatch', message: 'mask must have shape [b,k]' } },
  { kind: 'EncDecAttention', inputs: ['float32[2,32]', 'float32[2,7,16]', 'bool[2,7]'], error: { code: 'rank', message: 'q_antecedent must have rank 3' } },

  // LSHFF
  { kind: 'LSHFF', params: { d_ff: 64, n_buckets: 8 }, inputs: ['float32[B,L,16]'], outputs: ['float32[B,L,16]'], weights: ['float32[64,16]', 'float32[64,16]', 'float32[16]'], paramCount: 2 * 64 * 16 + 16 },
  { kind: 'LSHFF', params: { d_ff: 8, n_buckets: [4, 2], n_hashes: 2 }, inputs: ['bfloat16[3,4]'], outputs: ['float32[3,4]'] },
  { kind: 'LSHFF', params: { d_ff: 64, n_buckets: 3 }, inputs: ['float32[2,16]'], error: { code: 'bad_param', message: 'n_buckets must be even', param: 'n_buckets' } },
  { kind: 'LSHFF', params: { d_ff: 64 }, inputs: ['float32[2,16]'], error: { code: 'missing_param', message: 'n_buckets', param: 'n_buckets' } },
];
