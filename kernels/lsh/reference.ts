/**
 * A plain TypeScript reference of LSH self-attention (semantics §11.1–11.3),
 * written as Trax's PureLSHSelfAttention.forward_unbatched reads, row by row:
 * one global sort of the n_hashes*T keys T*(bucket + round*n_buckets) +
 * position, chunked attend() with look_adjacent, unsort, logsumexp
 * combination of the rounds. Used only by tests (kernels/lsh/lsh.test.ts)
 * to check the ONNX kernel, with dropout 0.
 *
 * Arithmetic is float64 except where float32 rounding is part of the
 * semantics: the subtractive masks (dots - 1e9 etc.) are rounded to float32,
 * as Trax computes them.
 */
import type { LshAttentionConfig } from '../../engine/layers/kernels';

const f32 = Math.fround;

export interface LshReferenceResult {
  /** [rows, T, dv] */
  out: Float64Array;
  /** the smallest gap between the winning rotated value and the runner-up (ties make buckets ambiguous in float32) */
  minArgmaxGap: number;
}

/**
 * logsumexp as JAX computes it in float32: max + log(sum(exp(x - max))),
 * rounded to float32. The rounding matters: near a -1e5 self penalty the
 * float32 spacing is 2^-7, so log(2) for two equal logits becomes 0.6953
 * and such rows keep 99.8% of their mass — in Trax too.
 */
function logSumExp32(x: readonly number[]): number {
  const m = Math.max(...x);
  return f32(m + f32(Math.log(x.reduce((a, v) => a + Math.exp(f32(v - m)), 0))));
}

/** Python's concatenate([x[i:], x[:i]]) over n chunks: the chunk index that lands at position c. */
function rolled(c: number, n: number, i: number): number {
  const s = i < 0 ? Math.max(n + i, 0) : Math.min(i, n);
  if (s === 0 || s === n) return c;
  return (c + s) % n;
}

/** argmax (first maximum) of concat([x, -x]) and the gap to the runner-up. */
function argmaxSigned(x: readonly number[]): { idx: number; gap: number } {
  const cat = [...x, ...x.map((v) => -v)];
  let idx = 0;
  for (let i = 1; i < cat.length; i++) if (cat[i] > cat[idx]) idx = i;
  let second = -Infinity;
  for (let i = 0; i < cat.length; i++) if (i !== idx && cat[i] > second) second = cat[i];
  return { idx, gap: cat[idx] - second };
}

/**
 * LSH attention of every row: qk [rows, T, d], v [rows, T, dv], mask [rows, T]
 * (1 = real token; only when cfg.masked), rotations [rows, d, n_hashes *
 * rot_size/2] (lshRotations). cfg.dropout must be 0.
 */
export function lshReference(qk: ArrayLike<number>, v: ArrayLike<number>, mask: ArrayLike<number> | null, rotations: ArrayLike<number>, cfg: LshAttentionConfig): LshReferenceResult {
  if (cfg.dropout > 0) throw new Error('the reference has no dropout');
  const { rows: R, length: T, dQk: d, dV: dv, nHashes: nH } = cfg;
  const factors = typeof cfg.nBuckets === 'number' ? [cfg.nBuckets] : [...cfg.nBuckets];
  const half = factors.reduce((a, b) => a + b, 0) / 2;
  let nb = factors.reduce((a, b) => a * b, 1);
  if (cfg.masked) nb += 1;
  const N = nH * T;
  const out = new Float64Array(R * T * dv);
  let minArgmaxGap = Infinity;
  for (let r = 0; r < R; r++) {
    const q = (t: number, f: number): number => qk[(r * T + t) * d + f];
    const val = (t: number, f: number): number => v[(r * T + t) * dv + f];
    const real = (t: number): boolean => !cfg.masked || mask![r * T + t] !== 0;
    const rot = (f: number, h: number, b: number): number => rotations[((r * d + f) * nH + h) * half + b];
    // 1. buckets [nH * T] with round offsets
    const buckets: number[] = [];
    for (let h = 0; h < nH; h++) {
      for (let t = 0; t < T; t++) {
        const rv: number[] = [];
        for (let b = 0; b < half; b++) {
          let s = 0;
          for (let f = 0; f < d; f++) s += q(t, f) * rot(f, h, b);
          rv.push(s);
        }
        let bucket = 0, cur = 0, prod = 1;
        for (const fct of factors) {
          const { idx, gap } = argmaxSigned(rv.slice(cur, cur + fct / 2));
          minArgmaxGap = Math.min(minArgmaxGap, gap);
          bucket += prod * idx;
          cur += fct / 2;
          prod *= fct;
        }
        if (!real(t)) bucket = nb - 1;
        buckets.push(bucket + h * nb);
      }
    }
    // 2. sort by T*bucket + position; undo_sort
    const keys = buckets.map((b, i) => T * b + (i % T));
    const sticker = Array.from({ length: N }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
    const undo = new Array<number>(N);
    sticker.forEach((s, i) => { undo[s] = i; });
    const st = sticker.map((s) => s % T);
    // 3. attend on the sorted sequence
    const qInfo = st.map((p) => p + 1);
    const kvInfo = cfg.masked ? st.map((p) => p * (real(p) ? 1 : -1) + 1) : qInfo;
    const c = cfg.chunkLen ?? N;
    const nC = N / c;
    const before = cfg.chunkLen === null ? 0 : cfg.nChunksBefore, after = cfg.chunkLen === null ? 0 : cfg.nChunksAfter;
    // keys: length-normalised sorted queries / sqrt(d)
    const key = st.map((p) => {
      const x = Array.from({ length: d }, (_, f) => q(p, f));
      const varr = x.reduce((a, b) => a + b * b, 0) / d;
      return x.map((y) => y / Math.sqrt(varr + 1e-6) / Math.sqrt(d));
    });
    const so: number[][] = [], slse: number[] = [];
    for (let i = 0; i < N; i++) {
      const chunk = Math.floor(i / c);
      const window: number[] = [];
      for (let a = -before; a <= after; a++) {
        const src = rolled(chunk, nC, a);
        for (let j = 0; j < c; j++) window.push(src * c + j);
      }
      const dots = window.map((j) => {
        let s = 0;
        for (let f = 0; f < d; f++) s += q(st[i], f) * key[j][f];
        let x = f32(s);
        if (cfg.causal && qInfo[i] < kvInfo[j]) x = f32(x - 1e9);
        if (qInfo[i] === kvInfo[j]) x = f32(x - 1e5);
        if (cfg.masked && kvInfo[j] < 0) x = f32(x - 1e9);
        return x;
      });
      const lse = logSumExp32(dots);
      const o = new Array<number>(dv).fill(0);
      window.forEach((j, w) => {
        const p = Math.exp(f32(dots[w] - lse));
        for (let f = 0; f < dv; f++) o[f] += p * val(st[j], f);
      });
      so.push(o);
      slse.push(lse);
    }
    // 4. unsort and combine the rounds
    for (let t = 0; t < T; t++) {
      const ls = Array.from({ length: nH }, (_, h) => slse[undo[h * T + t]]);
      const tot = logSumExp32(ls);
      for (let f = 0; f < dv; f++) {
        let s = 0;
        for (let h = 0; h < nH; h++) s += so[undo[h * T + t]][f] * (nH > 1 ? Math.exp(f32(ls[h] - tot)) : 1);
        out[(r * T + t) * dv + f] = s;
      }
    }
  }
  return { out, minArgmaxGap };
}

/**
 * Full (unchunked, unhashed) self-attention with LSH's conventions on one
 * set of rows: keys = length-normalised queries / sqrt(d), self penalised by
 * 1e5, causal masking by 1e9. What LSH attention must equal when one chunk
 * covers the whole sequence (n_hashes = 1).
 */
export function sharedQkAttentionReference(qk: ArrayLike<number>, v: ArrayLike<number>, rows: number, T: number, d: number, dv: number, causal: boolean): Float64Array {
  const out = new Float64Array(rows * T * dv);
  for (let r = 0; r < rows; r++) {
    const q = (t: number, f: number): number => qk[(r * T + t) * d + f];
    const key = Array.from({ length: T }, (_, t) => {
      const x = Array.from({ length: d }, (_, f) => q(t, f));
      const varr = x.reduce((a, b) => a + b * b, 0) / d;
      return x.map((y) => y / Math.sqrt(varr + 1e-6) / Math.sqrt(d));
    });
    for (let i = 0; i < T; i++) {
      const dots = key.map((k, j) => {
        let x = f32(k.reduce((a, kf, f) => a + kf * q(i, f), 0));
        if (causal && i < j) x = f32(x - 1e9);
        if (i === j) x = f32(x - 1e5);
        return x;
      });
      const lse = logSumExp32(dots);
      for (let f = 0; f < dv; f++) out[(r * T + i) * dv + f] = dots.reduce((a, x, j) => a + Math.exp(f32(x - lse)) * v[(r * T + j) * dv + f], 0);
    }
  }
  return out;
}

/** The round combination of LSH attention (semantics §11.3 step 7): o = sum_r o_r exp(lse_r - logsumexp_r(lse)). */
export function combineHashRounds(oPerRound: readonly (readonly (readonly number[])[])[], logitsPerRound: readonly (readonly number[])[]): number[][] {
  const nH = oPerRound.length, T = oPerRound[0].length, dv = oPerRound[0][0].length;
  const res: number[][] = [];
  for (let t = 0; t < T; t++) {
    const ls = Array.from({ length: nH }, (_, h) => logitsPerRound[h][t]);
    const m = Math.max(...ls);
    const tot = m + Math.log(ls.reduce((a, x) => a + Math.exp(x - m), 0));
    res.push(Array.from({ length: dv }, (_, f) => oPerRound.reduce((a, o, h) => a + o[t][f] * Math.exp(ls[h] - tot), 0)));
  }
  return res;
}
