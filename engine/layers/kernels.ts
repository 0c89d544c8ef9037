/**
 * The kernel registry. Kernels (kernels/: LSH attention, ...) build ONNX
 * functions with the engine's Emitter and register themselves here; layers
 * find them by name at lowering time and never import kernels/ (DESIGN.md:
 * "the engine finds kernels through that registry, never by import").
 *
 * Registration is a side effect of importing the kernel's module: whatever
 * lowers models (the CLI, the runtime, tests) imports `kernels/index.ts`
 * once before lowering.
 */
import type { Emitter } from '../core/onnx';
import { LayerError } from '../core/errors';

const registry = new Map<string, unknown>();

/** Registers (or replaces) the implementation of kernel `name`. */
export function registerKernel<T>(name: string, impl: T): void {
  registry.set(name, impl);
}

/** Whether kernel `name` is registered. */
export function hasKernel(name: string): boolean {
  return registry.has(name);
}

/** The implementation of kernel `name`; a clear error when it is not registered. */
export function kernel<T>(name: string): T {
  const impl = registry.get(name);
  if (impl === undefined) {
    throw new LayerError('unsupported', `the '${name}' kernel is not registered: import 'kernels' (kernels/index.ts) before lowering models that use it`, {
      fix: "add `import '<repo>/kernels'` to the program that lowers the model",
    });
  }
  return impl as T;
}

// ---------------------------------------------------------------- LSH attention

/** Name under which kernels/lsh registers the LSH attention kernel. */
export const LSH_ATTENTION = 'lsh_attention';

/**
 * One LSH self-attention call over R independent rows (example x head pairs),
 * as semantics §11.1–11.3 describe it, with the row's hash rotations fixed at
 * lowering time. Sizes are static.
 */
export interface LshAttentionConfig {
  /** rows (batch * n_heads) */
  readonly rows: number;
  /** sequence length T */
  readonly length: number;
  /** depth of the shared queries/keys */
  readonly dQk: number;
  /** depth of the values */
  readonly dV: number;
  readonly nHashes: number;
  /** the resolved bucket count (an even int, or a list of even factors); the padding bucket is added by the kernel when masked */
  readonly nBuckets: number | readonly number[];
  /** chunk length of the sorted sequence (null: no chunking, one window over all n_hashes*T positions) */
  readonly chunkLen: number | null;
  readonly nChunksBefore: number;
  readonly nChunksAfter: number;
  readonly causal: boolean;
  /** a [R, T] validity mask is given (padding tokens get their own bucket and the subtractive padding penalty) */
  readonly masked: boolean;
  /** attention dropout rate in effect (0 outside train mode) */
  readonly dropout: number;
  /** the run's seed and a per-layer salt: they fix the random rotations (and the dropout mask) */
  readonly seed: number;
  readonly salt: string;
}

/**
 * Emits the LSH attention of `qk` [R, T, dQk] and `v` [R, T, dV] (float32)
 * with optional `mask` [R, T] (bool, true = real token) and returns the
 * float32 output [R, T, dV].
 */
export type LshAttentionKernel = (e: Emitter, qk: string, v: string, mask: string | null, cfg: LshAttentionConfig) => string;

/** The registered LSH attention kernel. */
export function lshAttentionKernel(): LshAttentionKernel {
  return kernel<LshAttentionKernel>(LSH_ATTENTION);
}

/**
 * Trax's default bucket count for LSH attention (hash_vectors): 2 * max(1,
 * T // chunk_len), factorised into two even factors when above 128.
 */
export function lshBuckets(nBuckets: number | readonly number[] | null, length: number, chunkLen: number | null): number | readonly number[] {
  if (nBuckets !== null) return Array.isArray(nBuckets) && nBuckets.length === 1 ? nBuckets[0] : nBuckets;
  if (chunkLen === null) throw new LayerError('construct', 'without chunk_len the number of buckets cannot be derived from the length; set chunk_len or n_buckets', { param: 'n_buckets' });
  const n = 2 * Math.max(1, Math.floor(length / chunkLen));
  if (n <= 128) return n;
  const div = 2 ** Math.ceil(Math.log2(Math.sqrt(n)));
  return [div, 2 * Math.floor(n / (2 * div))];
}
