/**
 * All kernels. Importing this module registers every kernel with the
 * engine's registry (engine/layers/kernels.ts); whatever lowers models that
 * use them (the CLI, the runtime, tests) imports it once, for its side effect:
 *   import '<repo>/kernels';
 */
import './lsh';
