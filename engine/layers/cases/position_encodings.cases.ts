import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  // AxialPositionalEncoding
  {
    kind: 'AxialPositionalEncoding', params: { shape: [4, 8], d_embs: [8, 8] }, inputs: ['float32[B,32,16]'], outputs: ['float32[B,32,16]'],
    weights: ['float32[1,4,1,8]', 'float32[1,1,8,8]'], paramCount: 4 * 8 + 8 * 8,
  },
  {
    kind: 'AxialPositionalEncoding', note: 'defaults: (64, 64, 3) grid, 384 + 384 + 256 features', inputs: ['float32[1,12288,1024]'], outputs: ['float32[1,12288,1024]'],
    weights: ['float32[1,64,1,1,384]', 'float32[1,1,64,1,384]', 'float32[1,1,1,3,256]'],
  },
  { kind: 'AxialPositionalEncoding', note: 'predict: shorter inputs', params: { shape: [4, 8], d_embs: [8, 8], mode: 'predict' }, inputs: ['float32[2,1,16]'], outputs: ['float32[2,1,16]'] },
  { kind: 'AxialPositionalEncoding', params: { shape: [4, 8], d_embs: [8, 4] }, inputs: ['float32[2,32,16]'], error: { code: 'shape_mismatch', message: 'sum(d_embs) = 8 + 4 = 12 must equal the input depth 16', param: 'd_embs' } },
  { kind: 'AxialPositionalEncoding', params: { shape: [4, 8], d_embs: [8, 8] }, inputs: ['float32[2,30,16]'], error: { code: 'shape_mismatch', message: 'input length 30 must equal prod(shape) = 4 * 8 = 32', param: 'shape' } },
  { kind: 'AxialPositionalEncoding', params: { shape: [4, 8], d_embs: [8, 8], mode: 'predict' }, inputs: ['float32[2,40,16]'], error: { code: 'shape_mismatch', message: 'exceeds the 32 positions', param: 'shape' } },
  { kind: 'AxialPositionalEncoding', params: { shape: [4, 8], d_embs: [16] }, inputs: ['float32[2,32,16]'], error: { code: 'construct', message: 'one embedding size per axis', param: 'd_embs' } },

  // SinCosPositionalEncoding
  { kind: 'SinCosPositionalEncoding', note: 'conformance sincos_pe_shape_1_1_8', inputs: ['float32[1,1,8]'], outputs: ['float32[1,1,8]'], nIn: 1, nOut: 1, paramCount: 0 },
  { kind: 'SinCosPositionalEncoding', params: { add_offset: 100, mode: 'eval' }, inputs: ['bfloat16[B,L,512]'], outputs: ['float32[B,L,512]'] },
  { kind: 'SinCosPositionalEncoding', inputs: ['float32[2,4,7]'], error: { code: 'shape_mismatch', message: 'even depth' } },
  { kind: 'SinCosPositionalEncoding', inputs: ['float32[2,8]'], error: { code: 'rank', message: 'rank 3' } },

  // FixedBasePositionalEncoding
  {
    kind: 'FixedBasePositionalEncoding', inputs: ['float32[B,L,32]'], outputs: ['float32[B,L,32]'],
    weights: [...Array.from({ length: 32 }, () => 'float32[1,4]'), 'float32[1,1,32]'], paramCount: 32 * 4 + 32,
  },
  { kind: 'FixedBasePositionalEncoding', params: { bases: [2, 3], n_digits: 2 }, inputs: ['float32[2,3,6]'], outputs: ['float32[2,3,6]'], weights: ['float32[1,3]', 'float32[1,3]', 'float32[1,3]', 'float32[1,3]', 'float32[1,1,6]'] },
  { kind: 'FixedBasePositionalEncoding', inputs: ['float32[2,8,30]'], error: { code: 'shape_mismatch', message: 'd_feature(30) % n_digits(8) != 0', param: 'n_digits' } },
  { kind: 'FixedBasePositionalEncoding', params: { bases: [2, 3], n_digits: 2 }, inputs: ['float32[2,4,6]'], error: { code: 'shape_mismatch', message: 'length (4) >= max_pos (4' } },

  // InfinitePositionalEncoding
  { kind: 'InfinitePositionalEncoding', inputs: ['float32[B,L,16]'], outputs: ['float32[B,L,16]'], weights: ['float32[16,16]'] },
  { kind: 'InfinitePositionalEncoding', params: { transform: 'diag', time_bin_length: 8 }, inputs: ['float32[2,5,16]'], outputs: ['float32[2,5,16]'], weights: ['float32[16]'] },
  { kind: 'InfinitePositionalEncoding', params: { transform: 'none', mode: 'predict' }, inputs: ['float32[2,1,16]'], outputs: ['float32[2,1,16]'], weights: [] },
  { kind: 'InfinitePositionalEncoding', params: { transform: 'full' }, inputs: ['float32[2,5,16]'], error: { code: 'bad_param', message: 'transform', param: 'transform' } },
  { kind: 'InfinitePositionalEncoding', params: { time_bin_length: 8 }, inputs: ['float32[2,5,2]'], error: { code: 'shape_mismatch', message: 'depth must be >= 3', param: 'time_bin_length' } },

  // TimeBinPositionalEncoding
  { kind: 'TimeBinPositionalEncoding', params: { time_bin_length: 4 }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'], paramCount: 0 },
  { kind: 'TimeBinPositionalEncoding', note: 'depth below 3 keeps the depth', params: { time_bin_length: 4 }, inputs: ['int32[2,5,2]'], outputs: ['float32[2,5,2]'] },
  { kind: 'TimeBinPositionalEncoding', inputs: ['float32[2,5,8]'], error: { code: 'missing_param', message: 'time_bin_length', param: 'time_bin_length' } },
  { kind: 'TimeBinPositionalEncoding', params: { time_bin_length: 4 }, inputs: ['float32[8]'], error: { code: 'rank', message: 'rank >= 2' } },
];
