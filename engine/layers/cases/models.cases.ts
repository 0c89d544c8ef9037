/**
 * trax.models: TransformerLM, TransformerDecoder, TransformerEncoder,
 * Transformer, ReformerLM, Reformer. Parameter counts worked out by hand.
 *
 * Building blocks (d = d_model, f = d_ff, V = vocab):
 *   Embedding V*d; PositionalEncoding table max_len*d (a trainable weight in Trax);
 *   LayerNorm 2d; standard attention (CausalAttention / Attention / AttentionQKV)
 *   4*(d*d + d); FF Dense(f) + Dense(d) = d*f + f + f*d + d.
 *   Efficient SelfAttention (bias=False): w_q, w_k, w_v (h, d, dk|dv) + w_o (h, dv, d);
 *   LSHSelfAttention: w_qk, w_v, w_o (no separate w_k).
 */
import type { LayerCase } from './types';

// ---- TransformerLM(16, d_model=32, d_ff=64, n_layers=2, n_heads=2), max_len 2048:
//   Embedding 16*32 = 512; PositionalEncoding 2048*32 = 65536;
//   per layer: LN 64 + CausalAttention 4*(32*32+32) = 4224 + LN 64 + FF (32*64+64)+(64*32+32) = 4192 -> 8544; x2 = 17088;
//   final LN 64; Dense 32*16+16 = 528.  Total 512+65536+17088+64+528 = 83728.
const LM = { vocab_size: 16, d_model: 32, d_ff: 64, n_layers: 2, n_heads: 2 };

// ---- TransformerLM defaults (vocab 32000, d 512, f 2048, 6 layers, 8 heads, max_len 2048):
//   Embedding 32000*512 = 16384000; PE 2048*512 = 1048576;
//   per layer: LN 1024 + attention 4*(512*512+512) = 1050624 + LN 1024 + FF (512*2048+2048)+(2048*512+512) = 2099712
//     -> 3152384; x6 = 18914304;  final LN 1024; Dense 512*32000+32000 = 16416000.
//   Total 16384000+1048576+18914304+1024+16416000 = 52763904.

// ---- TransformerEncoder(16, n_classes=10, d 32, f 64, 2 layers, 2 heads):
//   512 + 65536 + 2*(64+4224+64+4192 = 8544) + LN 64 + Dense 32*10+10 = 330 -> 83530.

// ---- Transformer(16, 50, d 32, f 64, 2+2 layers, 2 heads):
//   encoder: Embedding 512 + PE 65536 + 2*8544 + LN 64 = 83200;
//   decoder: Embedding 50*32 = 1600 + PE 65536
//     + per layer (LN 64 + CausalAttention 4224 + LN 64 + AttentionQKV 4224 + LN 64 + FF 4192 = 12832) x2 = 25664
//     + LN 64 + Dense 32*50+50 = 1650.
//   Total 83200 + 1600 + 65536 + 25664 + 64 + 1650 = 177714.
//   Shared embedding (output_vocab_size None): no decoder Embedding, Dense 32*16+16 = 528:
//   177714 - 1600 - 1650 + 528 = 174992.
const TF = { d_model: 32, d_ff: 64, n_encoder_layers: 2, n_decoder_layers: 2, n_heads: 2 };

// ---- ReformerLM(16, d_model=32, d_ff=64, d_attention_key=16, d_attention_value=16, n_layers=2, n_heads=2, max_len=64):
//   Embedding 512; PositionalEncoding 64*32 = 2048;
//   per layer: attention half: LN 64 + SelfAttention 2*32*16*3 + 2*16*32 = 4096 -> 4160;
//              FF half: LN 64 + Dense 32*64+64 = 2112 + Dense 64*32+32 = 2080 -> 4256;  = 8416; x2 = 16832;
//   Concatenate -> width 64: LN 128; Dense 64*16+16 = 1040.
//   Total 512+2048+16832+128+1040 = 20560.
//   LSHSelfAttention instead: 3 * 1024 = 3072 per layer -> 7392 per layer; with max_len 256 (PE 256*32 = 8192, so that
//     length 256 = 2 chunks of 128 fits): 512+8192+14784+128+1040 = 24656.
//   [SelfAttention, LSHSelfAttention] cycled, max_len 128 (PE 4096): 8416+7392 = 15808 -> 512+4096+15808+128+1040 = 21584.
//   pos_type 'no' or 'sin-cos' (no weights): 20560 - 2048 = 18512.
//   Axial (8,8) x (16,16): weights [1,8,1,16] + [1,1,8,16] = 256 -> 20560 - 2048 + 256 = 18768.
//   ff_use_sru=1 (32 units): + per layer LN 64 + Dense 32*32+32 = 1056 + SRU Dense(32 -> 96) 3168 + Dense 1056 = 5344;
//     x2 = 10688 -> 31248.
//   attention_type CausalAttention (no d_qk keyword -> CausalAttention(d_model, n_heads, dropout, mode)):
//     4*(32*32+32) = 4224 per layer instead of 4096 -> 20560 + 2*128 = 20816.
const RLM = { vocab_size: 16, d_model: 32, d_ff: 64, d_attention_key: 16, d_attention_value: 16, n_layers: 2, n_heads: 2, max_len: 64 };

// ---- Reformer(16, 20, d_model=32, d_ff=64, 2+2 layers, n_heads=2, max_len=64) (d_qk = d_v = 32/2 = 16):
//   encoder: Embedding 512 + PE 2048 + 2*(LN 64 + masked SelfAttention 4096 + FF 4256 = 8416) + LN 64 = 19456;
//   decoder: Embedding 20*32 = 640 + PE 2048
//     + per layer (LN 64 + SelfAttention 4096 + LN 64 + EncDecAttention 4*2*32*16 = 4096 + FF 4256 = 12576) x2 = 25152
//     + LN 64 + Dense 32*20+20 = 660.
//   Total 19456 + 640 + 2048 + 25152 + 64 + 660 = 48020.
//   Shared (output_vocab_size None): 48020 - 640 - 660 + 528 = 47248.
const RF = { d_model: 32, d_ff: 64, n_encoder_layers: 2, n_decoder_layers: 2, n_heads: 2, max_len: 64 };

export const cases: LayerCase[] = [
  // ------------------------------------------------------------ TransformerLM
  { kind: 'TransformerLM', params: LM, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], nIn: 1, nOut: 1, paramCount: 83728 },
  { kind: 'TransformerLM', note: 'conformance transformer_lm_shape', params: LM, inputs: ['int32[3,5]'], outputs: ['float32[3,5,16]'], nIn: 1, nOut: 1 },
  { kind: 'TransformerLM', note: 'all defaults', params: { vocab_size: 32000 }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,32000]'], paramCount: 52763904 },
  { kind: 'TransformerLM', note: 'FastGelu, eval mode, shared dropout axes', params: { ...LM, ff_activation: 'FastGelu', mode: 'eval', dropout_shared_axes: [1] }, inputs: ['int32[4,7]'], outputs: ['float32[4,7,16]'], paramCount: 83728 },
  { kind: 'TransformerLM', note: 'no layers', params: { ...LM, n_layers: 0 }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], paramCount: 512 + 65536 + 64 + 528 },
  {
    kind: 'TransformerLM', note: 'n_heads must divide d_model', params: { ...LM, d_model: 30, n_heads: 4 }, inputs: ['int32[B,L]'],
    error: { code: 'construct', message: 'd_model = 30 must be divisible by n_heads = 4', param: 'n_heads' },
  },
  {
    kind: 'TransformerLM', note: 'vocab_size 0', params: { ...LM, vocab_size: 0 }, inputs: ['int32[B,L]'],
    error: { code: 'bad_param', message: 'vocab_size must be an integer >= 1', param: 'vocab_size' },
  },
  {
    kind: 'TransformerLM', note: 'vocab_size missing', params: { d_model: 32 }, inputs: ['int32[B,L]'],
    error: { code: 'missing_param', message: 'vocab_size', param: 'vocab_size' },
  },
  {
    kind: 'TransformerLM', note: 'unknown parameter', params: { ...LM, n_encoder_layers: 2 }, inputs: ['int32[B,L]'],
    error: { code: 'unknown_param', message: 'n_encoder_layers', param: 'n_encoder_layers' },
  },

  // ------------------------------------------------------------ TransformerDecoder
  // Embedding 512 + PE 65536 + 2*8544 + LN 64 = 83200
  { kind: 'TransformerDecoder', params: LM, inputs: ['int32[B,L]'], outputs: ['float32[B,L,32]'], paramCount: 83200 },
  // vocab_size None: Dense(32) on depth 8: 8*32+32 = 288; 288 + 65536 + 17088 + 64 = 82976
  { kind: 'TransformerDecoder', note: 'continuous input', params: { ...LM, vocab_size: null }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,32]'], paramCount: 82976 },
  {
    kind: 'TransformerDecoder', note: 'n_heads must divide d_model', params: { d_model: 10, n_heads: 3 }, inputs: ['int32[B,L]'],
    error: { code: 'construct', message: 'd_model = 10 must be divisible by n_heads = 3', param: 'n_heads' },
  },

  // ------------------------------------------------------------ TransformerEncoder
  { kind: 'TransformerEncoder', params: { ...LM, n_classes: 10 }, inputs: ['int32[B,L]'], outputs: ['float32[B,10]'], paramCount: 83530 },
  { kind: 'TransformerEncoder', note: 'conformance transformer_encoder_shape', params: { ...LM, n_classes: 10 }, inputs: ['int32[3,5]'], outputs: ['float32[3,10]'], nIn: 1, nOut: 1 },
  {
    kind: 'TransformerEncoder', note: 'n_classes 0', params: { ...LM, n_classes: 0 }, inputs: ['int32[B,L]'],
    error: { code: 'bad_param', message: 'n_classes must be an integer >= 1', param: 'n_classes' },
  },
  {
    kind: 'TransformerEncoder', note: 'float input cannot be padding-masked as tokens of rank 2', params: LM, inputs: ['float32[B,L,8]'],
    error: { code: 'rank', message: /rank|axes/ },
  },

  // ------------------------------------------------------------ Transformer
  {
    kind: 'Transformer', note: 'conformance transformer_shape_different_size', params: { input_vocab_size: 16, output_vocab_size: 50, ...TF },
    inputs: ['int32[3,5]', 'int32[3,5]'], outputs: ['float32[3,5,50]', 'int32[3,5]'], nIn: 2, nOut: 2, paramCount: 177714,
  },
  {
    kind: 'Transformer', note: 'symbolic lengths, source and target differ', params: { input_vocab_size: 16, output_vocab_size: 50, ...TF },
    inputs: ['int32[B,L]', 'int32[B,M]'], outputs: ['float32[B,M,50]', 'int32[B,M]'], paramCount: 177714,
  },
  {
    kind: 'Transformer', note: 'shared embedding', params: { input_vocab_size: 16, ...TF },
    inputs: ['int32[B,L]', 'int32[B,L]'], outputs: ['float32[B,L,16]', 'int32[B,L]'], paramCount: 174992,
  },
  {
    kind: 'Transformer', note: 'predict mode (cached encoder)', params: { input_vocab_size: 16, ...TF, mode: 'predict' },
    inputs: ['int32[2,5]', 'int32[2,1]'], outputs: ['float32[2,1,16]', 'int32[2,1]'], paramCount: 174992,
  },
  // defaults (vocab 32000 shared): encoder 16384000 + 1048576 + 6 x 3152384 + 1024 = 36347904;
  //   decoder PE 1048576 + 6 x (1024 + 1050624 + 1024 + 1050624 + 1024 + 2099712 = 4204032) + LN 1024 + Dense 16416000 = 42689792.
  { kind: 'Transformer', note: 'all defaults', params: { input_vocab_size: 32000 }, inputs: ['int32[B,L]', 'int32[B,L]'], outputs: ['float32[B,L,32000]', 'int32[B,L]'], paramCount: 79037696 },
  {
    kind: 'Transformer', note: 'n_heads must divide d_model', params: { input_vocab_size: 16, ...TF, n_heads: 5 }, inputs: ['int32[B,L]', 'int32[B,L]'],
    error: { code: 'construct', message: 'd_model = 32 must be divisible by n_heads = 5', param: 'n_heads' },
  },
  {
    kind: 'Transformer', note: 'output_vocab_size 0', params: { input_vocab_size: 16, output_vocab_size: 0, ...TF }, inputs: ['int32[B,L]', 'int32[B,L]'],
    error: { code: 'bad_param', message: 'output_vocab_size must be an integer >= 1', param: 'output_vocab_size' },
  },

  // ------------------------------------------------------------ ReformerLM
  { kind: 'ReformerLM', note: 'SelfAttention (default)', params: RLM, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], nIn: 1, nOut: 1, paramCount: 20560 },
  // defaults (vocab 32000, d 512, f 2048, dk = dv = 64, 6 layers, 8 heads, max_len 2048):
  //   Embedding 16384000 + PE 1048576 + 6 x (LN 1024 + SelfAttention 4*8*512*64 = 1048576 + LN 1024 + FF 1050624 + 1049088)
  //   = 6 x 3150336 = 18902016; LN(1024) 2048; Dense 1024*32000+32000 = 32800000.  Total 69136640.
  { kind: 'ReformerLM', note: 'all defaults', params: { vocab_size: 32000 }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,32000]'], paramCount: 69136640 },
  { kind: 'ReformerLM', note: 'SelfAttention, concrete', params: RLM, inputs: ['int32[2,16]'], outputs: ['float32[2,16,16]'], paramCount: 20560 },
  {
    kind: 'ReformerLM', note: 'LSHSelfAttention (chunk_len 128 default), length 256', params: { ...RLM, max_len: 256, attention_type: 'LSHSelfAttention' },
    inputs: ['int32[2,256]'], outputs: ['float32[2,256,16]'], paramCount: 24656,
  },
  {
    kind: 'ReformerLM', note: 'attention types cycled over layers', params: { ...RLM, max_len: 128, attention_type: ['SelfAttention', 'LSHSelfAttention'] },
    inputs: ['int32[2,128]'], outputs: ['float32[2,128,16]'], paramCount: 21584,
  },
  { kind: 'ReformerLM', note: "pos_type 'no'", params: { ...RLM, pos_type: 'no' }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], paramCount: 18512 },
  { kind: 'ReformerLM', note: "pos_type 'sin-cos'", params: { ...RLM, pos_type: 'sin-cos' }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], paramCount: 18512 },
  {
    kind: 'ReformerLM', note: 'axial positional encoding', params: { ...RLM, pos_type: 'axial', pos_axial_shape: [8, 8], pos_d_axial_embs: [16, 16] },
    inputs: ['int32[2,64]'], outputs: ['float32[2,64,16]'], paramCount: 18768,
  },
  { kind: 'ReformerLM', note: 'chunked feed-forward', params: { ...RLM, ff_chunk_size: 4 }, inputs: ['int32[2,8]'], outputs: ['float32[2,8,16]'], paramCount: 20560 },
  { kind: 'ReformerLM', note: 'SRU branch in the feed-forward', params: { ...RLM, ff_use_sru: 1 }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], paramCount: 31248 },
  { kind: 'ReformerLM', note: 'standard CausalAttention as attention_type', params: { ...RLM, attention_type: 'CausalAttention' }, inputs: ['int32[B,L]'], outputs: ['float32[B,L,16]'], paramCount: 20816 },
  { kind: 'ReformerLM', note: 'chunked attention', params: { ...RLM, attention_chunk_size: 2 }, inputs: ['int32[4,8]'], outputs: ['float32[4,8,16]'], paramCount: 20560 },
  {
    kind: 'ReformerLM', note: 'n_layers not a multiple of the attention types', params: { ...RLM, n_layers: 3, attention_type: ['SelfAttention', 'LSHSelfAttention'] }, inputs: ['int32[B,L]'],
    error: { code: 'construct', message: 'n_layers = 3 must be a multiple of the number of attention types (2)', param: 'attention_type' },
  },
  {
    kind: 'ReformerLM', note: 'axial encoding without pos_d_axial_embs', params: { ...RLM, pos_type: 'axial', pos_axial_shape: [8, 8] }, inputs: ['int32[B,L]'],
    error: { code: 'construct', message: 'needs pos_d_axial_embs', param: 'pos_d_axial_embs' },
  },
  {
    kind: 'ReformerLM', note: "pos_type 'time-bin'", params: { ...RLM, pos_type: 'time-bin' }, inputs: ['int32[B,L]'],
    error: { code: 'construct', message: 'time_bin_length', param: 'pos_type' },
  },
  {
    kind: 'ReformerLM', note: 'sparse loss layer', params: { ...RLM, loss_sparsity: 4 }, inputs: ['int32[B,L]'],
    error: { code: 'unsupported', message: 'SparseDenseWithOptions', param: 'loss_sparsity' },
  },
  {
    kind: 'ReformerLM', note: 'sparse feed-forward', params: { ...RLM, ff_sparsity: 16 }, inputs: ['int32[B,L]'],
    error: { code: 'unsupported', message: 'SparseFF', param: 'ff_sparsity' },
  },
  {
    kind: 'ReformerLM', note: 'unknown attention class', params: { ...RLM, attention_type: 'NoSuchAttention' }, inputs: ['int32[B,L]'],
    error: { code: 'unknown_kind', message: 'NoSuchAttention' },
  },

  // ------------------------------------------------------------ Reformer
  {
    kind: 'Reformer', params: { input_vocab_size: 16, output_vocab_size: 20, ...RF },
    inputs: ['int32[B,L]', 'int32[B,L]'], outputs: ['float32[B,L,20]', 'int32[B,L]'], nIn: 2, nOut: 2, paramCount: 48020,
  },
  {
    kind: 'Reformer', note: 'source and target lengths differ', params: { input_vocab_size: 16, output_vocab_size: 20, ...RF },
    inputs: ['int32[2,6]', 'int32[2,4]'], outputs: ['float32[2,4,20]', 'int32[2,4]'], paramCount: 48020,
  },
  {
    kind: 'Reformer', note: 'shared embedding', params: { input_vocab_size: 16, ...RF },
    inputs: ['int32[B,L]', 'int32[B,L]'], outputs: ['float32[B,L,16]', 'int32[B,L]'], paramCount: 47248,
  },
  {
    kind: 'Reformer', note: 'sparse feed-forward', params: { input_vocab_size: 16, ...RF, ff_sparsity: 8 }, inputs: ['int32[B,L]', 'int32[B,L]'],
    error: { code: 'unsupported', message: 'SparseFF', param: 'ff_sparsity' },
  },
  {
    kind: 'Reformer', note: 'input_vocab_size missing', params: RF, inputs: ['int32[B,L]', 'int32[B,L]'],
    error: { code: 'missing_param', message: 'input_vocab_size', param: 'input_vocab_size' },
  },

  // ------------------------------------------------------------ helper Fn layers (internal)
  { kind: 'XYAvg', inputs: ['float32[B,L,8]', 'float32[B,L,8]'], outputs: ['float32[B,L,8]'] },
  { kind: 'XYAvg', note: 'shapes must broadcast', inputs: ['float32[B,L,8]', 'float32[B,L,4]'], error: { code: 'shape_mismatch', message: /8|4/ } },
  { kind: 'RemoveAxes12', inputs: ['bool[B,1,1,L]'], outputs: ['bool[B,L]'] },
  { kind: 'RemoveAxes12', note: 'axis 2 not size 1', inputs: ['bool[B,1,3,L]'], error: { code: 'shape_mismatch', message: 'axis 2, which must have size 1, but it is 3' } },
];
