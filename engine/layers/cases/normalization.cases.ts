import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  // BatchNorm: weights (beta, gamma) over the axes not in `axis`; state (running_mean, running_var, n_batches)
  { kind: 'BatchNorm', inputs: ['float32[B,H,W,16]'], outputs: ['float32[B,H,W,16]'], weights: ['float32[16]', 'float32[16]'], paramCount: 32, nIn: 1, nOut: 1 },
  { kind: 'BatchNorm', note: 'rank 3 with the default axes: scalar beta and gamma', inputs: ['float32[B,L,D]'], outputs: ['float32[B,L,D]'], weights: ['float32[]', 'float32[]'], paramCount: 2 },
  { kind: 'BatchNorm', note: 'center=False drops beta', params: { center: false }, inputs: ['float32[2,4,4,C]'], weights: ['float32[C]'], paramCount: 'C' },
  { kind: 'BatchNorm', params: { axis: [0], mode: 'eval' }, inputs: ['float32[B,8]'], outputs: ['float32[B,8]'], weights: ['float32[8]', 'float32[8]'] },
  { kind: 'BatchNorm', note: '(quirk) negative axes never match `i not in axis`: full-shape weights', params: { axis: [-1] }, inputs: ['float32[2,3]'], outputs: ['float32[2,3]'], weights: ['float32[2,3]', 'float32[2,3]'] },
  { kind: 'BatchNorm', note: 'no center, no scale: float16 keeps its dtype', params: { center: false, scale: false }, inputs: ['float16[B,H,W,C]'], outputs: ['float16[B,H,W,C]'], weights: [] },
  { kind: 'BatchNorm', note: 'float32 beta/gamma would change a float16 input', inputs: ['float16[B,H,W,C]'], error: { code: 'dtype', message: 'must not change the dtype' } },
  { kind: 'BatchNorm', note: 'integer input', inputs: ['int32[B,H,W,C]'], error: { code: 'dtype', message: 'int32 input gives a float32 output' } },
  { kind: 'BatchNorm', note: 'default axes need rank >= 3', inputs: ['float32[B,8]'], error: { code: 'rank', message: 'BatchNorm axis 2 is out of range' } },
  { kind: 'BatchNorm', note: 'axis must be a tuple', params: { axis: 0 }, inputs: ['float32[B,8]'], error: { code: 'bad_param', message: 'tuple of integers', param: 'axis' } },
  // LayerNorm: scale and bias (d,) in the input dtype
  { kind: 'LayerNorm', note: 'conformance layernorm_shape', inputs: ['float32[3,2,7]'], outputs: ['float32[3,2,7]'], weights: ['float32[7]', 'float32[7]'], paramCount: 14 },
  { kind: 'LayerNorm', inputs: ['float32[B,L,D]'], outputs: ['float32[B,L,D]'], weights: ['float32[D]', 'float32[D]'], paramCount: 'D*2' },
  { kind: 'LayerNorm', note: 'weights in the input dtype', params: { center: false }, inputs: ['float16[B,8]'], outputs: ['float16[B,8]'], weights: ['float16[8]', 'float16[8]'] },
  { kind: 'LayerNorm', note: 'integer input: float32 output, int32 weights', inputs: ['int32[4,3]'], outputs: ['float32[4,3]'], weights: ['int32[3]', 'int32[3]'] },
  { kind: 'Serial', note: 'conformance relu_layernorm_doc', children: [{ kind: 'Relu' }, { kind: 'LayerNorm' }], inputs: ['float32[2,5]'], outputs: ['float32[2,5]'], paramCount: 10 },
  { kind: 'LayerNorm', note: 'scalar input', inputs: ['float32[]'], error: { code: 'rank', message: 'rank >= 1' } },
  { kind: 'LayerNorm', note: 'epsilon must be a number', params: { epsilon: 'small' }, inputs: ['float32[3]'], error: { code: 'bad_param', message: 'epsilon', param: 'epsilon' } },
  // FilterResponseNorm: gamma, beta (C,) float32, plus a scalar learnt epsilon
  { kind: 'FilterResponseNorm', inputs: ['float32[B,H,W,8]'], outputs: ['float32[B,H,W,8]'], weights: ['float32[8]', 'float32[8]'], paramCount: 16 },
  { kind: 'FilterResponseNorm', params: { learn_epsilon: true }, inputs: ['float32[B,H,W,8]'], outputs: ['float32[B,H,W,8]'], weights: ['float32[8]', 'float32[8]', 'float32[]'], paramCount: 17 },
  { kind: 'FilterResponseNorm', note: 'float32 epsilon promotes float16', params: { mode: 'eval' }, inputs: ['float16[2,5,3]'], outputs: ['float32[2,5,3]'] },
  { kind: 'FilterResponseNorm', note: 'init_epsilon must be positive', params: { init_epsilon: 0 }, inputs: ['float32[2,3]'], error: { code: 'bad_param', message: 'init_epsilon', param: 'init_epsilon' } },
  { kind: 'FilterResponseNorm', note: 'scalar input', inputs: ['float32[]'], error: { code: 'rank', message: 'scalar' } },
];
