import type { LayerCase } from './types';

/** Every activation keeps the shape; those whose formula leaves the integers give float32 for int input. */
const floatActs = ['ParametricRelu', 'LeakyRelu', 'Elu', 'Selu', 'Gelu', 'FastGelu', 'Sigmoid', 'Tanh', 'Softplus', 'Exp', 'Log', 'Swish'];
const intKeeping = ['Relu', 'HardSigmoid', 'HardTanh'];

export const cases: LayerCase[] = [
  ...floatActs.flatMap((kind): LayerCase[] => [
    { kind, inputs: ['float32[B,L,512]'], outputs: ['float32[B,L,512]'], nIn: 1, nOut: 1, paramCount: 0 },
    { kind, note: 'int input becomes float', inputs: ['int32[2,5]'], outputs: ['float32[2,5]'] },
    { kind, note: 'scalar', inputs: ['float16[]'], outputs: ['float16[]'] },
  ]),
  ...intKeeping.flatMap((kind): LayerCase[] => [
    { kind, inputs: ['float32[B,7]'], outputs: ['float32[B,7]'], nIn: 1, nOut: 1 },
    { kind, note: 'integers stay integers', inputs: ['int32[2,5]'], outputs: ['int32[2,5]'] },
  ]),
  // error paths: parameterless activations reject parameters; parameterised ones check types
  ...[...floatActs, ...intKeeping].filter((k) => !['ParametricRelu', 'LeakyRelu', 'Elu', 'Selu'].includes(k)).map((kind): LayerCase => (
    { kind, note: 'takes no parameters', params: { alpha: 1 }, inputs: ['float32[2]'], error: { code: 'unknown_param', message: `${kind} has no parameter alpha`, param: 'alpha' } }
  )),
  { kind: 'ParametricRelu', params: { a: 0.25 }, inputs: ['float32[6]'], outputs: ['float32[6]'] },
  { kind: 'ParametricRelu', params: { a: 'big' }, inputs: ['float32[6]'], error: { code: 'bad_param', message: 'parameter a must be a number', param: 'a' } },
  { kind: 'LeakyRelu', params: { a: true }, inputs: ['float32[6]'], error: { code: 'bad_param', message: 'parameter a must be a number', param: 'a' } },
  { kind: 'Elu', params: { a: null }, inputs: ['float32[6]'], error: { code: 'bad_param', message: 'parameter a must be a number', param: 'a' } },
  { kind: 'Selu', params: { alpha: 1.5, lmbda: 1 }, inputs: ['float32[3]'], outputs: ['float32[3]'] },
  { kind: 'Selu', params: { lmbda: [1] }, inputs: ['float32[3]'], error: { code: 'bad_param', message: 'parameter lmbda must be a number', param: 'lmbda' } },
  { kind: 'ThresholdedLinearUnit', inputs: ['float32[B,4]'], outputs: ['float32[B,4]'], weights: ['float32[]'], paramCount: 1 },
  { kind: 'ThresholdedLinearUnit', params: { t: 1 }, inputs: ['float32[4]'], error: { code: 'unknown_param', message: 'ThresholdedLinearUnit has no parameter t' } },
  { kind: 'Glu', note: 'cannot be built in this Trax snapshot', inputs: ['float32[2,4]'], error: { code: 'construct', message: 'default arg' } },
];
