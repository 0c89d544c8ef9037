/** Registers the LSH attention kernel with the engine (import for its side effect). */
import { LSH_ATTENTION, registerKernel, type LshAttentionKernel } from '../../engine/layers/kernels';
import { lshAttention } from './lsh';

registerKernel<LshAttentionKernel>(LSH_ATTENTION, lshAttention);

export { lshAttention, lshBody } from './lsh';
export { lshRotations } from './rotations';
