/** The LSH kernel's random rotations, shared by the ONNX builder and the TypeScript reference. */
import type { LshAttentionConfig } from '../../engine/layers/kernels';
import { bucketSizes, hashRotations } from '../../engine/layers/efficient_attention';

/**
 * The rotations of every row: [rows, d, n_hashes * rot_size/2], row r's
 * (d, n_hashes, rot_size/2) draw of N(0, 1) in row-major order, from the
 * run's seed, the layer's salt and the row.
 */
export function lshRotations(cfg: LshAttentionConfig): Float32Array {
  const { half } = bucketSizes(cfg.nBuckets);
  const per = cfg.dQk * cfg.nHashes * half;
  const out = new Float32Array(cfg.rows * per);
  for (let r = 0; r < cfg.rows; r++) out.set(hashRotations(cfg.seed, `${cfg.salt}/row${r}`, cfg.dQk, cfg.nHashes, half), r * per);
  return out;
}
