/**
 * The weights of a model: initial values from the layers' initializers
 * (seeded, per-key streams), weights files (.npz), and binding either to a
 * lowered model's weight refs. Browser-safe: no Node built-ins.
 */
export { RandomStream, hashKey, philox4x32, weightStream } from './random';
export {
  DRAWN_INITIALIZERS, type InitOptions, InitializerError, LAMBDA_FORMS, TABLES, TRUNCNORM_STD,
  bfloat16Bits, bfloat16Value, float16Bits, float16Value, getFans, householderQR, initialValue, tensorFromValues, tensorNumbers,
} from './init';
export { NPY_DESCR, WeightsFileError, npyHeader, readNpy, readNpz, writeNpy, writeNpz } from './npz';
export { type WeightSourceOptions, similarKeys, weightSource, weightsToNpz } from './bind';
