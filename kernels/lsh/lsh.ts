/**
 * The LSH self-attention kernel (semantics §11.1–11.3, Trax's
 * PureLSHSelfAttention.forward_unbatched batched over rows) as the ONNX
 * function `ai.strata.LSHAttention`, built with the engine's Emitter.
 *
 * Per row (an example x head pair) with qk [T, d] and v [T, dv]:
 *   1. hash: rot = qk @ R (R ~ N(0, 1) of shape (d, n_hashes, rot_size/2),
 *      drawn at lowering time from the run's seed, one draw per row);
 *      bucket = argmax(concat([rot, -rot])) (mixed radix for factor lists,
 *      first factor least significant); padding tokens (masked) get the
 *      extra bucket n_buckets.
 *   2. sort each hash round by (bucket, position): TopK(largest=0) of the
 *      exact float key T*bucket + position (or, when that key would pass
 *      2^24, of the bucket alone, relying on TopK's documented tie-break
 *      "lower index first"). Rounds are sorted separately, which is the same
 *      order as Trax's single sort of T*(bucket + round*n_buckets) + position.
 *   3. gather qk, v and the infos (positions, ± for padding) in sorted order;
 *      attend() over chunks of chunk_len with look_adjacent, shared QK (keys =
 *      length-normalised queries / sqrt(d)), subtractive causal (1e9),
 *      self (1e5) and padding (1e9) masks, attention dropout in train mode.
 *   4. unsort outputs and logsumexps (the inverse permutation by
 *      ScatterElements, then Gather), and combine rounds:
 *      o = sum_r o_r * exp(lse_r - logsumexp_r(lse)).
 * Every op is on the WebGPU list (notes/gpu.md); no int64 arithmetic, casts
 * or shape ops: TopK's int64 indices only index GatherElements/ScatterElements
 * of same-shaped float tensors (positions come out of them as floats), and the
 * row gathers use int32 indices.
 *
 * Rotations are fixed per (seed, layer, row): Trax re-draws them each
 * forward pass from a hash rng kept in state; here a new seed gives new ones.
 */
import { type Emitter, ONNX_DTYPE } from '../../engine/core/onnx';
import type { LshAttentionConfig } from '../../engine/layers/kernels';
import { bucketSizes, emitAttend, emitHashBuckets } from '../../engine/layers/efficient_attention';
import { int, ints, iotaF32, logSumExp, randomUniform, reshape } from '../../engine/layers/lowering';
import { lshRotations } from './rotations';

/** The configuration without what only selects the rotations (they come in as an input). */
function bodyKey(cfg: LshAttentionConfig): string {
  const { seed, salt, ...rest } = cfg;
  return `LSHAttention:${JSON.stringify(rest)}${cfg.dropout > 0 ? `:${seed}:${salt}` : ''}`;
}

/**
 * Emits LSH attention on qk [R, T, d], v [R, T, dv] (float32) and mask [R, T]
 * (bool, true = real token; only when cfg.masked) as a call of the function
 * ai.strata.LSHAttention, whose last input is the rows' rotations (a constant
 * made here). Returns the float32 output [R, T, dv].
 */
export function lshAttention(e: Emitter, qk: string, v: string, mask: string | null, cfg: LshAttentionConfig): string {
  const rot = rotations(e, cfg);
  const ins = cfg.masked ? [qk, v, rot, mask!] : [qk, v, rot];
  return e.fn('LSHAttention', bodyKey(cfg), ins, 1, (fe, fins) => [lshBody(fe, fins[0], fins[1], fins[2], cfg.masked ? fins[3] : null, cfg)],
    'LSH self-attention: hash by random rotations, sort by (bucket, position), chunked attention with look-adjacent chunks, unsort, combine hash rounds')[0];
}

/**
 * The rows' random rotations [R, d, n_hashes * rot_size/2]: drawn at lowering
 * time from the seed (a constant), except in a training step, where Trax
 * draws new ones every forward pass (its hash_rng): there they are N(0, 1)
 * made in the graph by Box-Muller from two uniform streams that the step's
 * rng input salts, so every step hashes with fresh rotations.
 */
export function rotations(e: Emitter, cfg: LshAttentionConfig): string {
  const { half } = bucketSizes(cfg.nBuckets);
  const dims = [cfg.rows, cfg.dQk, cfg.nHashes * half];
  if (!e.rngStep()) return e.constant({ dtype: 'float32', dims, data: lshRotations(cfg) });
  const u1 = randomUniform(e, dims, `${cfg.salt}/rotations/u1`);
  const u2 = randomUniform(e, dims, `${cfg.salt}/rotations/u2`);
  // sqrt(-2 ln(1 - u1)) cos(2 pi u2); 1 - u1 is in (0, 1]
  const radius = e.op1('Sqrt', [e.op1('Mul', [e.f32(-2), e.op1('Log', [e.op1('Sub', [e.f32(1), u1])])])]);
  return e.op1('Mul', [radius, e.op1('Cos', [e.op1('Mul', [e.f32(2 * Math.PI), u2])])]);
}

/** The body of LSHAttention (see the file comment). */
export function lshBody(e: Emitter, qk: string, v: string, rot: string, mask: string | null, cfg: LshAttentionConfig): string {
  const { rows: R, length: T, dQk: d, dV: dv, nHashes: nH } = cfg;
  const N = nH * T;
  const { half, total } = bucketSizes(cfg.nBuckets);
  // 1. buckets [R, nH, T] (float ids)
  const rotated = e.op1('Transpose', [reshape(e, e.op1('MatMul', [qk, rot]), [R, T, nH, half])], { perm: ints([0, 2, 1, 3]) });
  let buckets = emitHashBuckets(e, rotated, cfg.nBuckets);
  let nb = total;
  // the mask as float 1/0 (bool tensors stay out of shape ops)
  const maskF = mask ? e.op1('Where', [mask, e.f32(1), e.f32(0)]) : null;
  if (maskF) {
    buckets = e.op1('Where', [e.op1('Greater', [e.op1('Unsqueeze', [maskF, e.i64([1])]), e.f32(0.5)]), buckets, e.f32(nb)]);
    nb += 1;
  }
  // 2. sort each round by (bucket, position)
  const exactKey = T * nb <= 2 ** 24;
  const iotaT = e.op1('Expand', [iotaF32(e, T, [1, 1, T]), e.i64([R, nH, T])]);
  const key = exactKey ? e.op1('Add', [e.op1('Mul', [buckets, e.f32(T)]), iotaT]) : buckets;
  const [, st] = e.op('TopK', [key, e.i64([T])], { axis: int(-1), largest: int(0), sorted: int(1) }, 2);
  // 3. gather in sorted order. TopK's int64 indices only index GatherElements/ScatterElements of
  // same-shaped float tensors (int64 Unsqueeze/Expand/Cast are not on the WebGPU provider); the
  // row gathers use int32 indices r*T + position.
  const posF = e.op1('GatherElements', [iotaT, st], { axis: int(2) }); // [R, nH, T]: positions in sorted order
  const toI32 = (v: string): string => e.op1('Cast', [v], { to: int(ONNX_DTYPE.int32) });
  const rowOffsets = (stride: number, shape: number[]): string => e.i32(Array.from({ length: R }, (_, r) => r * stride), shape);
  const gidx = reshape(e, e.op1('Add', [toI32(posF), rowOffsets(T, [R, 1, 1])]), [R, N]);
  const sq = e.op1('Gather', [reshape(e, qk, [R * T, d]), gidx], { axis: int(0) }); // [R, N, d]
  const sv = e.op1('Gather', [reshape(e, v, [R * T, dv]), gidx], { axis: int(0) });
  const qInfo = reshape(e, posF, [R, N]);
  let kvInfo: string | null = null;
  if (maskF) {
    const sign = e.op1('Sub', [e.op1('Mul', [maskF, e.f32(2)]), e.f32(1)]); // +1 real, -1 padding
    const ssign = e.op1('GatherElements', [e.op1('Expand', [e.op1('Unsqueeze', [sign, e.i64([1])]), e.i64([R, nH, T])]), st], { axis: int(2) });
    kvInfo = e.op1('Mul', [qInfo, reshape(e, ssign, [R, N])]);
  }
  const { out, lse } = emitAttend(e, sq, null, sv, {
    rows: R, qLen: N, kvLen: N, dQk: d, dV: dv, chunkLen: cfg.chunkLen, before: cfg.nChunksBefore, after: cfg.nChunksAfter,
    qInfo, qInfoRows: R, kvInfo, kvInfoRows: R,
    mask: { causal: cfg.causal, excludeSelf: true, masked: cfg.masked }, dropout: cfg.dropout, salt: cfg.salt,
  });
  // 4. unsort (undo[r, round, position] = index in the round's sorted order) and combine the rounds
  const undoF = e.op1('ScatterElements', [e.op1('Expand', [e.f32(0), e.i64([R, nH, T])]), st, iotaT], { axis: int(2) });
  const roundOffsets = e.i32(Array.from({ length: R * nH }, (_, i) => Math.floor(i / nH) * N + (i % nH) * T), [R, nH, 1]);
  const uidx = e.op1('Add', [toI32(undoF), roundOffsets]); // [R, nH, T]
  const o = e.op1('Gather', [reshape(e, out, [R * N, dv]), uidx], { axis: int(0) }); // [R, nH, T, dv]
  if (nH === 1) return reshape(e, o, [R, T, dv]);
  const l = e.op1('Gather', [reshape(e, lse, [R * N]), uidx], { axis: int(0) }); // [R, nH, T]
  const w = e.op1('Exp', [e.op1('Sub', [l, logSumExp(e, l, 1, true)])]);
  return e.op1('ReduceSum', [e.op1('Mul', [o, e.op1('Unsqueeze', [w, e.i64([-1])])]), e.i64([1])], { keepdims: int(0) });
}
