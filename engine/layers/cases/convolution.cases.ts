import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  // Conv: kernel from the rhs layout (HWIO -> (kh, kw, C_in, filters)), bias (filters,)
  { kind: 'Conv', note: 'conformance conv_same_stride2', params: { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'SAME' }, inputs: ['float32[1,5,5,2]'], outputs: ['float32[1,3,3,4]'], weights: ['float32[3,3,2,4]', 'float32[4]'], paramCount: 76, nIn: 1, nOut: 1 },
  { kind: 'Conv', note: 'conformance conv_valid_stride2', params: { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'VALID' }, inputs: ['float32[1,6,7,2]'], outputs: ['float32[1,2,3,4]'] },
  { kind: 'Conv', note: 'symbolic SAME stride 2', params: { filters: 8, kernel_size: [3, 3], strides: [2, 2], padding: 'SAME' }, inputs: ['float32[B,H,W,3]'], outputs: ['float32[B,ceil(H/2),ceil(W/2),8]'], weights: ['float32[3,3,3,8]', 'float32[8]'], paramCount: 224 },
  { kind: 'Conv', note: 'symbolic VALID stride 2', params: { filters: 8, kernel_size: [3, 3], strides: [2, 2] }, inputs: ['float32[B,H,W,3]'], outputs: ['float32[B,floor((H-3)/2)+1,floor((W-3)/2)+1,8]'] },
  { kind: 'Conv', note: 'symbolic VALID stride 1', params: { filters: 16, kernel_size: [5, 3] }, inputs: ['float32[B,H,W,C]'], outputs: ['float32[B,H-4,W-2,16]'], weights: ['float32[5,3,C,16]', 'float32[16]'], paramCount: 'C*240+16' },
  { kind: 'Conv', note: '(quirk) filters=1: the bias has shape ()', params: { filters: 1, kernel_size: [3, 3] }, inputs: ['float32[2,8,8,3]'], outputs: ['float32[2,6,6,1]'], weights: ['float32[3,3,3,1]', 'float32[]'], paramCount: 28 },
  { kind: 'Conv', note: 'NCHW: kernel OIHW, bias (filters, 1, 1)', params: { filters: 4, kernel_size: [3, 3], dimension_numbers: ['NCHW', 'OIHW', 'NCHW'] }, inputs: ['float32[2,3,8,8]'], outputs: ['float32[2,4,6,6]'], weights: ['float32[4,3,3,3]', 'float32[4,1,1]'] },
  { kind: 'Conv', note: 'rank 5 folds the leading axes into the batch', params: { filters: 4, kernel_size: [3, 3] }, inputs: ['float32[2,5,8,8,3]'], outputs: ['float32[2,5,6,6,4]'], weights: ['float32[3,3,3,4]', 'float32[4]'] },
  { kind: 'Conv', note: 'no bias', params: { filters: 4, kernel_size: [1, 1], use_bias: false }, inputs: ['float32[B,H,W,3]'], outputs: ['float32[B,H,W,4]'], weights: ['float32[1,1,3,4]'], paramCount: 12 },
  { kind: 'Conv', note: '1-D layouts', params: { filters: 6, kernel_size: [4], strides: [2], dimension_numbers: ['NWC', 'WIO', 'NWC'] }, inputs: ['float32[B,L,3]'], outputs: ['float32[B,floor((L-4)/2)+1,6]'], weights: ['float32[4,3,6]', 'float32[6]'] },
  { kind: 'Conv', note: 'kernel_size must be a tuple', params: { filters: 4, kernel_size: 3 }, inputs: ['float32[1,5,5,2]'], error: { code: 'bad_param', message: 'tuple of integers', param: 'kernel_size' } },
  { kind: 'Conv', note: 'kernel_size of the wrong length', params: { filters: 4, kernel_size: [3] }, inputs: ['float32[1,5,5,2]'], error: { code: 'bad_param', message: 'has 2 spatial axes, but kernel_size has 1', param: 'kernel_size' } },
  { kind: 'Conv', note: 'strides of the wrong length', params: { filters: 4, kernel_size: [3, 3], strides: [2, 2, 2] }, inputs: ['float32[1,5,5,2]'], error: { code: 'bad_param', message: 'strides has 3 entries', param: 'strides' } },
  { kind: 'Conv', note: 'malformed dimension_numbers', params: { filters: 4, kernel_size: [3, 3], dimension_numbers: ['NHWC', 'HWIO', 'NCHX'] }, inputs: ['float32[1,5,5,2]'], error: { code: 'bad_param', message: 'same spatial axes', param: 'dimension_numbers' } },
  { kind: 'Conv', note: 'integer input', params: { filters: 4, kernel_size: [3, 3] }, inputs: ['int32[1,5,5,2]'], error: { code: 'dtype', message: 'same dtype' } },
  { kind: 'Conv', note: 'rank 3 input for NHWC', params: { filters: 4, kernel_size: [3, 3] }, inputs: ['float32[5,5,2]'], error: { code: 'rank', message: "the input layout 'NHWC' needs an input of rank 4" } },
  { kind: 'Conv', note: 'rank 5 needs NHWC', params: { filters: 4, kernel_size: [3, 3], dimension_numbers: ['NCHW', 'OIHW', 'NCHW'] }, inputs: ['float32[2,2,3,8,8]'], error: { code: 'rank', message: 'only supported in NHWC' } },
  { kind: 'Conv', note: 'kernel larger than the input', params: { filters: 4, kernel_size: [3, 3] }, inputs: ['float32[1,2,5,2]'], error: { code: 'shape_mismatch', message: "input axis 1 ('H')" } },
  // Conv1d = Conv(filters, (kernel_size,), strides=(stride,), dimension_numbers=('NWC', 'WIO', 'NWC'))
  { kind: 'Conv1d', note: 'conformance conv1d_valid_stride2', params: { filters: 5, kernel_size: 3, stride: 2 }, inputs: ['float32[2,10,3]'], outputs: ['float32[2,4,5]'], weights: ['float32[3,3,5]', 'float32[5]'], paramCount: 50 },
  { kind: 'Conv1d', params: { filters: 32, kernel_size: 3, padding: 'SAME' }, inputs: ['float32[B,L,16]'], outputs: ['float32[B,L,32]'], weights: ['float32[3,16,32]', 'float32[32]'], paramCount: 1568 },
  { kind: 'Conv1d', note: 'needs (batch, length, channels)', params: { filters: 5, kernel_size: 3 }, inputs: ['float32[2,10,3,1]'], error: { code: 'rank', message: 'needs an input of rank 3' } },
  { kind: 'Conv1d', note: 'kernel_size 0', params: { filters: 5, kernel_size: 0 }, inputs: ['float32[2,10,3]'], error: { code: 'bad_param', message: 'kernel_size', param: 'kernel_size' } },
  // CausalConv: left-pad time with kernel_width-1 zeros, then VALID
  { kind: 'CausalConv', params: { filters: 8 }, inputs: ['float32[B,L,4]'], outputs: ['float32[B,L,8]'], weights: ['float32[3,4,8]', 'float32[8]'], paramCount: 104 },
  { kind: 'CausalConv', params: { filters: 2, kernel_width: 5, use_bias: false }, inputs: ['float32[2,3,6]'], outputs: ['float32[2,3,2]'], weights: ['float32[5,6,2]'], paramCount: 60 },
  { kind: 'CausalConv', note: 'needs (batch, time, depth)', params: { filters: 8 }, inputs: ['float32[B,H,W,4]'], error: { code: 'rank', message: 'needs rank 3' } },
  // CausalDepthwiseConv: w (kernel_size, d)
  { kind: 'CausalDepthwiseConv', inputs: ['float32[B,L,16]'], outputs: ['float32[B,L,16]'], weights: ['float32[3,16]'], paramCount: 48 },
  { kind: 'CausalDepthwiseConv', params: { kernel_size: 5, use_bfloat16: true }, inputs: ['float32[B,L,D]'], outputs: ['float32[B,L,D]'], weights: ['bfloat16[5,D]'], paramCount: 'D*5' },
  { kind: 'CausalDepthwiseConv', note: 'needs (batch, time, depth)', inputs: ['float32[L,16]'], error: { code: 'rank', message: 'rank >= 3' } },
];
