/**
 * Numbers of the efficient-attention family's lowerings (the LSH layers are
 * checked in kernels/lsh/lsh.test.ts): SelfAttention (chunks, look-adjacent,
 * shared QK, subtractive causal/self/padding masks, the +1 info shift),
 * EncDecAttention (with its masking quirk), LSHFF, QKAvg, Rotate and
 * MixedLSHSelfAttention's standard-attention path — onnxruntime (CPU) against
 * small TypeScript references with explicit weights.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { TensorValue } from '../core/onnx';
import type { DType } from '../core/shape';
import type { DocNode } from '../document/schema';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import type { PyValue } from '../layers/def';
import { hashRotations } from '../layers/efficient_attention';
import { type LowerOptions, type WeightRef, lowerDocument } from './lower';
import { modelBytes } from './write';
import { rng } from '../../test/ort';
import { close as closeTo, plain, run as runLowered } from '../../test/lowering';

interface Arr { shape: number[]; data: number[] }
type Mat = number[][];

const f32 = Math.fround;
const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
function rand(shape: number[], seed: string, scale = 1): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => f32((r() * 2 - 1) * scale)) };
}
const tensor = (a: Arr): TensorValue => ({ dtype: 'float32', dims: a.shape, data: Float32Array.from(a.data) });
function toOrt(a: Arr, dtype: DType): ort.Tensor {
  if (dtype === 'bool') return new ort.Tensor('bool', Uint8Array.from(a.data), a.shape);
  return new ort.Tensor('float32', Float32Array.from(a.data), a.shape);
}
const node = (c: CaseNode): DocNode => caseToNode(c);

async function run(root: DocNode, inputs: { a: Arr; dtype?: DType }[], weights: (ref: WeightRef) => Arr, opts: LowerOptions = {}): Promise<Arr> {
  return plain(await runLowered(root, inputs, { weights, lower: opts }))[0];
}

/** test/lowering's close, with this file's tolerances */
const close = (got: Arr, want: Arr, rtol = 1e-4, atol = 1e-5): void => closeTo(got, want, rtol, atol);

// ---------------------------------------------------------------- references

const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, x, k) => s + x * b[k][j], 0)));
/** slice i of a stacked [n, rows, cols] weight as a matrix */
const mat = (w: Arr, i: number): Mat => {
  const [, r, c] = w.shape;
  return Array.from({ length: r }, (_, a) => w.data.slice((i * r + a) * c, (i * r + a + 1) * c));
};
const rows = (x: Arr, b: number): Mat => {
  const [, l, d] = x.shape;
  return Array.from({ length: l }, (_, t) => x.data.slice((b * l + t) * d, (b * l + t + 1) * d));
};
const addRow = (m: Mat, b: number[]): Mat => m.map((r) => r.map((x, j) => x + b[j]));

function logSumExp32(x: readonly number[]): number {
  const m = Math.max(...x);
  return f32(m + f32(Math.log(x.reduce((a, v) => a + Math.exp(f32(v - m)), 0))));
}

interface AttendRef {
  chunk: number | null; before: number; after: number;
  /** infos as Trax passes them (0-based), or null for 1..len */
  qInfo: number[] | null; kvInfo: number[] | null;
  mask: { causal: boolean; excludeSelf: boolean; masked: boolean } | 'encdec' | null;
}

/** attend() of efficient_attention, written from semantics §11.1 (float32 rounding at masks and logsumexp). */
function attendRef(q: Mat, k: Mat | null, v: Mat, o: AttendRef): Mat {
  const shared = k === null;
  const qi = o.qInfo ? o.qInfo.map((x) => x + 1) : q.map((_, i) => i + 1);
  const ki = o.kvInfo ? o.kvInfo.map((x) => x + 1) : shared ? qi : v.map((_, i) => i + 1);
  const d = q[0].length;
  const keys = (shared ? q : k!).map((r) => {
    const norm = shared ? Math.sqrt(r.reduce((s, x) => s + x * x, 0) / d + 1e-6) : 1;
    return r.map((x) => x / norm / Math.sqrt(d));
  });
  const c = o.chunk ?? q.length, ck = o.chunk ?? v.length;
  const nC = q.length / c;
  const before = o.chunk === null ? 0 : o.before, after = o.chunk === null ? 0 : o.after;
  return q.map((qr, i) => {
    const chunk = Math.floor(i / c);
    const win: number[] = [];
    for (let a = -before; a <= after; a++) {
      const s = a < 0 ? Math.max(nC + a, 0) : Math.min(a, nC);
      const src = s === 0 || s === nC ? chunk : (chunk + s) % nC;
      for (let j = 0; j < ck; j++) win.push(src * ck + j);
    }
    const dots = win.map((j) => {
      let x = f32(keys[j].reduce((s, kf, f) => s + kf * qr[f], 0));
      if (o.mask === 'encdec') x = f32(x - 1e9 * ki[j]);
      else if (o.mask) {
        if (o.mask.causal && qi[i] < ki[j]) x = f32(x - 1e9);
        if (o.mask.excludeSelf && qi[i] === ki[j]) x = f32(x - 1e5);
        if (o.mask.masked && ki[j] < 0) x = f32(x - 1e9);
      }
      return x;
    });
    const lse = logSumExp32(dots);
    return v[0].map((_, f) => win.reduce((s, j, w) => s + Math.exp(f32(dots[w] - lse)) * v[j][f], 0));
  });
}

/** Sum over heads of attendRef(...) @ w_o[h], per example. */
function headsRef(B: number, h: number, perHead: (b: number, hh: number) => Mat, wO: Arr): Arr {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let acc: Mat | null = null;
    for (let hh = 0; hh < h; hh++) {
      const y = matmul(perHead(b, hh), mat(wO, hh));
      acc = acc ? acc.map((r, i) => r.map((x, j) => x + y[i][j])) : y;
    }
    out.push(...acc!.flat());
  }
  const T = out.length / B / wO.shape[2];
  return { shape: [B, T, wO.shape[2]], data: out };
}

const weightsOf = (seed: string) => {
  const ws = new Map<string, Arr>();
  const get = (r: WeightRef): Arr => {
    if (!ws.has(r.decl.name)) ws.set(r.decl.name, rand(r.decl.shape.map(Number), `${seed}:${r.decl.name}`, 0.7));
    return ws.get(r.decl.name)!;
  };
  return { get, w: (n: string): Arr => ws.get(n)! };
};

// ---------------------------------------------------------------- SelfAttention

describe('SelfAttention', () => {
  const cases: [string, Record<string, PyValue>, boolean][] = [
    ['separate q/k, not causal, no chunking', { n_heads: 2, d_qk: 3, d_v: 2 }, false],
    ['causal, chunk_len 4 with 1 chunk before (wrapping hidden by causality)', { n_heads: 2, d_qk: 3, d_v: 2, causal: true, chunk_len: 4, n_chunks_before: 1 }, false],
    ['share_qk (self penalised by 1e5), bias, 1 chunk after (wrapping visible)', { n_heads: 1, d_qk: 4, d_v: 3, share_qk: true, bias: true, chunk_len: 4, n_chunks_after: 1 }, false],
    ['masked padding (the +1 info shift leaves positions 0 and 1 unmasked), causal, shared QK', { n_heads: 2, d_qk: 3, d_v: 2, masked: true, causal: true, share_qk: true, chunk_len: 4, n_chunks_before: 1 }, true],
  ];
  for (const [name, params, masked] of cases) {
    it(name, async () => {
      const B = 2, T = 8, dm = 5;
      const h = params.n_heads as number;
      const x = rand([B, T, dm], `sa:x:${name}`);
      // example 0: positions 0, 1 and 6, 7 padded; example 1: the last three
      const mask: Arr = { shape: [B, T], data: [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0] };
      const W = weightsOf(name);
      const y = await run(node({ kind: 'SelfAttention', params }), masked ? [{ a: x }, { a: mask, dtype: 'bool' }] : [{ a: x }], W.get);
      const share = !!params.share_qk, bias = !!params.bias;
      const want = headsRef(B, h, (b, hh) => {
        const xb = rows(x, b);
        const biasRow = (bn: string): number[] => { const bw = W.w(bn); const k = bw.shape[1]; return bw.data.slice(hh * k, (hh + 1) * k); };
        const proj = (w: string, bn: string): Mat => (bias ? addRow(matmul(xb, mat(W.w(w), hh)), biasRow(bn)) : matmul(xb, mat(W.w(w), hh)));
        const q = proj('w_q', 'b_q'), v = proj('w_v', 'b_v');
        const k = share ? null : proj('w_k', 'b_k');
        const pos = Array.from({ length: T }, (_, t) => t);
        const kvInfo = masked ? pos.map((p) => p * (mask.data[b * T + p] ? 1 : -1)) : pos;
        return attendRef(q, k, v, {
          chunk: (params.chunk_len as number | undefined) ?? null, before: (params.n_chunks_before as number | undefined) ?? 0, after: (params.n_chunks_after as number | undefined) ?? 0,
          qInfo: pos, kvInfo, mask: { causal: !!params.causal, excludeSelf: share, masked },
        });
      }, W.w('w_o'));
      close(y, want);
    });
  }
});

describe('SelfAttention fast inference (predict)', () => {
  for (const [memEnd, share] of [[2, false], [8, false], [5, true]] as const) {
    it(`one new position at mem_end = ${memEnd}${memEnd + 1 > 8 ? ' (the memory rolls by predict_drop_len first)' : ''}${share ? ', shared QK' : ''}: attends over the whole input memory`, async () => {
      const B = 2, dm = 4, h = 2, M = 8, D = 4;
      const params = { n_heads: h, d_qk: 3, d_v: 2, causal: true, share_qk: share, chunk_len: 4, n_chunks_before: 1, mode: 'predict' };
      const x = rand([B, 1, dm], `sp:x:${memEnd}`);
      const mem = rand([B, M, dm], `sp:mem:${memEnd}`);
      const W = weightsOf(`sp:${memEnd}`);
      const weights = (r: WeightRef): Arr => (r.decl.name === 'mem_end' ? { shape: [], data: [memEnd] } : r.decl.name === 'mem_x' ? mem : W.get(r));
      const low = lowerDocument({ root: node({ kind: 'SelfAttention', params }), input: [{ dtype: 'float32', shape: [B, 1, dm] }] }, {
        mode: 'predict', weightValue: (ref) => (ref.decl.dtype === 'int32' ? { dtype: 'int32', dims: [], data: Int32Array.of(memEnd) } : tensor(weights(ref))),
      });
      const session = await ort.InferenceSession.create(modelBytes(low.model));
      const out = await session.run({ [low.inputs[0].name]: toOrt(x, 'float32') });
      const y: Arr = { shape: [...out[low.outputs[0].name].dims].map(Number), data: Array.from(out[low.outputs[0].name].data as Float32Array) };
      const shift = memEnd + 1 > M ? D : 0, start = memEnd - shift;
      const want = headsRef(B, h, (b, hh) => {
        const full: Mat = Array.from({ length: M }, (_, p) => (p === start ? rows(x, b)[0] : p + shift < M ? rows(mem, b)[p + shift] : new Array(dm).fill(0)));
        const q = matmul(rows(x, b), mat(W.w('w_q'), hh));
        let k = matmul(full, mat(W.w(share ? 'w_q' : 'w_k'), hh));
        if (share) k = k.map((r) => { const n = Math.sqrt(r.reduce((s, z) => s + z * z, 0) / r.length + 1e-6); return r.map((z) => z / n); });
        const v = matmul(full, mat(W.w('w_v'), hh));
        return attendRef(q, k, v, { chunk: null, before: 0, after: 0, qInfo: [start], kvInfo: Array.from({ length: M }, (_, j) => j), mask: { causal: true, excludeSelf: share, masked: false } });
      }, W.w('w_o'));
      close(y, want);
    });
  }
});

// ---------------------------------------------------------------- EncDecAttention

describe('EncDecAttention', () => {
  for (const masked of [false, true]) {
    it(masked
      ? 'masked: dots - 1e9 * (1 + padding) — every valid key gets the same float32 logit, so the output is the SUM of the valid values (as JAX computes it)'
      : 'not masked: plain attention with keys scaled by 1/sqrt(d_qk)', async () => {
      const B = 2, lq = 3, lk = 4, dm = 5, dkv = 3, h = 2, dqk = 2, dv = 2;
      const q = rand([B, lq, dm], `ed:q:${masked}`), kv = rand([B, lk, dkv], `ed:kv:${masked}`);
      const mask: Arr = { shape: [B, lk], data: [1, 1, 0, 1, 1, 0, 0, 0] };
      const W = weightsOf(`ed:${masked}`);
      const params = { n_heads: h, d_qk: dqk, d_v: dv, masked };
      const y = await run(node({ kind: 'EncDecAttention', params }), masked ? [{ a: q }, { a: kv }, { a: mask, dtype: 'bool' }] : [{ a: q }, { a: kv }], W.get);
      const want = headsRef(B, h, (b, hh) => {
        const qq = matmul(rows(q, b), mat(W.w('w_q'), hh));
        const kk = matmul(rows(kv, b), mat(W.w('w_k'), hh));
        const vv = matmul(rows(kv, b), mat(W.w('w_v'), hh));
        const kvInfo = masked ? Array.from({ length: lk }, (_, j) => (mask.data[b * lk + j] ? 0 : 1)) : null;
        return attendRef(qq, kk, vv, { chunk: null, before: 0, after: 0, qInfo: null, kvInfo, mask: masked ? 'encdec' : null });
      }, W.w('w_o'));
      close(y, want);
      if (masked) {
        // the degenerate case of the quirk: attention over example 0 = v(key 0) + v(key 1) + v(key 3) exactly
        const vv = matmul(rows(kv, 0), mat(W.w('w_v'), 0));
        const o = attendRef(matmul(rows(q, 0), mat(W.w('w_q'), 0)), matmul(rows(kv, 0), mat(W.w('w_k'), 0)), vv, { chunk: null, before: 0, after: 0, qInfo: null, kvInfo: [0, 0, 1, 0], mask: 'encdec' });
        o[0].forEach((x, f) => expect(x).toBeCloseTo(vv[0][f] + vv[1][f] + vv[3][f], 5));
      }
    });
  }
});

// ---------------------------------------------------------------- LSHFF, QKAvg, Rotate, MixedLSHSelfAttention (standard path)

describe('LSHFF, QKAvg, Rotate, MixedLSHSelfAttention', () => {
  it('LSHFF: x @ w1^T kept where x and the row of w1 share a bucket in some round (same rotations), Relu, @ w2 + b2', async () => {
    const d = 4, dff = 6, nH = 2, nb = 4, half = 2, seed = 5;
    const x = rand([2, 3, d], 'ff:x');
    const W = weightsOf('ff');
    const y = await run(node({ kind: 'LSHFF', params: { d_ff: dff, n_buckets: nb, n_hashes: nH } }), [{ a: x }], W.get, { seed });
    // the layer's rotations: its salt is its path ('LSHFF' at the root)
    const rot = hashRotations(seed, 'LSHFF', d, nH, half);
    const bucketsOf = (v: number[]): number[] => Array.from({ length: nH }, (_, hh) => {
      const r = Array.from({ length: half }, (_, b) => v.reduce((s, vf, f) => s + vf * rot[(f * nH + hh) * half + b], 0));
      const cat = [...r, ...r.map((z) => -z)];
      return cat.indexOf(Math.max(...cat));
    });
    const w1 = mat({ shape: [1, dff, d], data: W.w('w1').data }, 0), w2 = mat({ shape: [1, dff, d], data: W.w('w2').data }, 0), b2 = W.w('b2').data;
    const wb = w1.map(bucketsOf);
    const out: number[] = [];
    for (let n = 0; n < 6; n++) {
      const xv = x.data.slice(n * d, (n + 1) * d);
      const xb = bucketsOf(xv);
      const mid = w1.map((wr, j) => (xb.some((b, hh) => b === wb[j][hh]) ? Math.max(0, wr.reduce((s, w, f) => s + w * xv[f], 0)) : 0));
      for (let f = 0; f < d; f++) out.push(b2[f] + mid.reduce((s, m, j) => s + m * w2[j][f], 0));
    }
    close(y, { shape: [2, 3, d], data: out });
  });

  it('QKAvg: (q + k) / 2', async () => {
    const a = rand([2, 3], 'qa'), b = rand([2, 3], 'qb');
    const y = await run(node({ kind: 'QKAvg' }), [{ a }, { a: b }], () => { throw new Error('no weights'); });
    close(y, { shape: [2, 3], data: a.data.map((v, i) => (v + b.data[i]) / 2) }, 1e-6, 1e-7);
  });

  it('Rotate: x cos(emb) + rotate_half(x) sin(emb), emb = concat(freqs, freqs)', async () => {
    const L = 5, d = 6;
    const x = rand([2, L, d], 'rot');
    const y = await run(node({ kind: 'Rotate' }), [{ a: x }], () => { throw new Error('no weights'); });
    const want: number[] = [];
    for (let b = 0; b < 2; b++) for (let t = 0; t < L; t++) for (let j = 0; j < d; j++) {
      const k = j % (d / 2);
      const e = t * Math.exp(2 * k * -(Math.log(10000) / d));
      const xi = (jj: number): number => x.data[(b * L + t) * d + jj];
      const half = j < d / 2 ? -xi(j + d / 2) : xi(j - d / 2);
      want.push(xi(j) * Math.cos(e) + half * Math.sin(e));
    }
    close(y, { shape: [2, L, d], data: want }, 1e-5, 1e-6);
  });

  it('MixedLSHSelfAttention shorter than std_length: DotProductAttention(qk, qk, v, padding mask per head row)', async () => {
    const h = 2, B = 2, T = 4, d = 3;
    const qk = rand([B * h, T, d], 'mx:qk'), v = rand([B * h, T, d], 'mx:v');
    const mask: Arr = { shape: [B, T], data: [1, 1, 0, 1, 1, 0, 0, 1] };
    const y = await run(node({ kind: 'MixedLSHSelfAttention', params: { n_heads: h, d_qk: d, d_v: d, masked: true, std_length: 8, chunk_len: 2 } }),
      [{ a: qk }, { a: v }, { a: mask, dtype: 'bool' }], () => { throw new Error('no weights'); });
    const out: number[] = [];
    for (let r = 0; r < B * h; r++) {
      const q = rows(qk, r), vv = rows(v, r);
      for (let i = 0; i < T; i++) {
        const dots = q.map((kj, j) => (mask.data[Math.floor(r / h) * T + j] ? kj.reduce((s, x, f) => s + x * q[i][f], 0) / Math.sqrt(d) : -1e9));
        const m = Math.max(...dots), z = dots.reduce((s, x) => s + Math.exp(x - m), 0);
        for (let f = 0; f < d; f++) out.push(dots.reduce((s, x, j) => s + (Math.exp(x - m) / z) * vv[j][f], 0));
      }
    }
    close(y, { shape: [B * h, T, d], data: out });
  });
});
