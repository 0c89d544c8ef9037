import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  // MaxPool: windows over the axes between batch and channels; (quirk) strides default to 1
  { kind: 'MaxPool', note: 'default strides are 1', inputs: ['float32[1,4,4,3]'], outputs: ['float32[1,3,3,3]'], nIn: 1, nOut: 1, paramCount: 0 },
  { kind: 'MaxPool', note: 'conformance maxpool_values_2x2', params: { pool_size: [2, 2], strides: [2, 2] }, inputs: ['int32[1,2,4,3]'], outputs: ['int32[1,1,2,3]'] },
  { kind: 'MaxPool', note: 'conformance maxpool_same_1d (length 5)', params: { pool_size: [3], strides: [3], padding: 'SAME' }, inputs: ['int32[1,5,2]'], outputs: ['int32[1,2,2]'] },
  { kind: 'MaxPool', note: 'conformance maxpool_same_1d (length 4)', params: { pool_size: [3], strides: [3], padding: 'SAME' }, inputs: ['int32[1,4,2]'], outputs: ['int32[1,2,2]'] },
  { kind: 'MaxPool', note: 'symbolic VALID, stride 2', params: { pool_size: [2, 2], strides: [2, 2] }, inputs: ['float32[B,H,W,C]'], outputs: ['float32[B,floor((H-2)/2)+1,floor((W-2)/2)+1,C]'] },
  { kind: 'MaxPool', note: 'symbolic SAME, stride 2', params: { pool_size: [3, 3], strides: [2, 2], padding: 'SAME' }, inputs: ['float32[B,H,W,C]'], outputs: ['float32[B,ceil(H/2),ceil(W/2),C]'] },
  { kind: 'MaxPool', note: 'symbolic VALID, stride 1', params: { pool_size: [3, 3] }, inputs: ['float32[B,H,W,C]'], outputs: ['float32[B,H-2,W-2,C]'] },
  { kind: 'MaxPool', note: 'pool_size (2, 2) needs rank 4', inputs: ['float32[B,L,D]'], error: { code: 'rank', message: 'needs an input of rank 4' } },
  { kind: 'MaxPool', note: 'strides of another length', params: { pool_size: [2, 2], strides: [2] }, inputs: ['float32[1,4,4,3]'], error: { code: 'bad_param', message: 'same length as pool_size', param: 'strides' } },
  { kind: 'MaxPool', note: 'window larger than the input', params: { pool_size: [3, 3] }, inputs: ['float32[1,2,8,3]'], error: { code: 'shape_mismatch', message: 'does not fit in size 2' } },
  // SumPool
  { kind: 'SumPool', params: { pool_size: [2], strides: [2] }, inputs: ['int32[B,8,4]'], outputs: ['int32[B,4,4]'] },
  { kind: 'SumPool', params: { pool_size: [2, 2], padding: 'SAME' }, inputs: ['float32[2,5,5,1]'], outputs: ['float32[2,5,5,1]'] },
  { kind: 'SumPool', note: 'unknown padding', params: { padding: 'FULL' }, inputs: ['float32[1,4,4,3]'], error: { code: 'bad_param', message: 'padding', param: 'padding' } },
  // AvgPool
  { kind: 'AvgPool', params: { pool_size: [2, 2], strides: [2, 2] }, inputs: ['float32[B,32,32,3]'], outputs: ['float32[B,16,16,3]'] },
  { kind: 'AvgPool', note: 'integers average to float32', params: { pool_size: [3], padding: 'SAME' }, inputs: ['int32[1,5,2]'], outputs: ['float32[1,5,2]'] },
  { kind: 'AvgPool', note: '3-D windows', params: { pool_size: [2, 2, 2], strides: [2, 2, 2] }, inputs: ['float32[B,D,H,W,C]'], outputs: ['float32[B,floor((D-2)/2)+1,floor((H-2)/2)+1,floor((W-2)/2)+1,C]'] },
  { kind: 'AvgPool', note: 'stride 0', params: { strides: [0, 1] }, inputs: ['float32[1,4,4,3]'], error: { code: 'bad_param', message: 'strides', param: 'strides' } },
];
