/**
 * Numbers of the attention family's lowerings: onnxruntime (CPU) against
 * small TypeScript references with explicit inputs and weights —
 * PureAttention / DotProductAttention / causal attention with masks (masked
 * logits REPLACED by -1e9), CausalAttention with its Dense weights,
 * SplitIntoHeads/MergeHeads, ShiftRight, PaddingMask, EncoderDecoderMask,
 * PositionalEncoding (its interleaved table, d_feature, predict, dropout), and
 * the conformance value cases pure_attention_values_2heads, shift_right_float
 * and padding_mask.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../core/shape';
import type { DocNode } from '../document/schema';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import { positionalEncodingTable } from '../layers/attention';
import type { LowerOptions, WeightRef } from './lower';
import { rng } from '../../test/ort';
import { close, plain, run as runLowered } from '../../test/lowering';
import { conformanceCases } from '../../test/conformance';

interface Arr { shape: number[]; data: number[] }

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
function rand(shape: number[], seed: string, scale = 1): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => Math.fround((r() * 2 - 1) * scale)) };
}
function bools(shape: number[], seed: string, pTrue = 0.7): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => (r() < pTrue ? 1 : 0)) };
}
const node = (c: CaseNode): DocNode => caseToNode(c);

/** Lowers `root` on the inputs, runs it on onnxruntime's CPU provider, returns the outputs. */
async function run(root: DocNode, inputs: { a: Arr; dtype?: DType }[], weights: (ref: WeightRef) => Arr = (r) => { throw new Error(`no value for ${r.key}`); }, opts: LowerOptions = {}): Promise<Arr[]> {
  return plain(await runLowered(root, inputs, { weights, lower: opts }));
}


// ---------------------------------------------------------------- references

/** Row-major index of `idx` in `shape`, broadcasting axes of size 1. */
function at(a: Arr, idx: number[]): number {
  const s = a.shape, off = idx.length - s.length;
  let k = 0;
  for (let i = 0; i < s.length; i++) k = k * s[i] + (s[i] === 1 ? 0 : idx[i + off]);
  return a.data[k];
}

/**
 * _per_head_attention on one [lq, d] x [lk, d] x [lk, dv] slice:
 * softmax(q k^T / sqrt(d), masked logits replaced by -1e9) v.
 */
function headAttention(q: number[][], k: number[][], v: number[][], visible: (i: number, j: number) => boolean): number[][] {
  const d = q[0].length;
  return q.map((qi, i) => {
    const dots = k.map((kj, j) => (visible(i, j) ? kj.reduce((s, x, f) => s + x * qi[f], 0) / Math.sqrt(d) : -1e9));
    // exp(dots - logsumexp(dots)) with float32 rounding of the logits and of logsumexp, as Trax computes it
    const x32 = dots.map(Math.fround);
    const m = Math.max(...x32);
    const lse = Math.fround(m + Math.fround(Math.log(x32.reduce((s, x) => s + Math.exp(x - m), 0))));
    const p = x32.map((x) => Math.exp(Math.fround(x - lse)));
    return v[0].map((_, f) => p.reduce((s, pj, j) => s + pj * v[j][f], 0));
  });
}

/** rows [from, from+n) of a [.., rows, cols] slice at `lead` (cols from c0, c1). */
function slice2(a: Arr, lead: number[], rows: number, c0: number, c1: number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: c1 - c0 }, (_, f) => at(a, [...lead, i, c0 + f])));
}

/** PureAttention: heads split on the last axis, attention per (batch, head), heads merged. */
function pureAttentionRef(q: Arr, k: Arr, v: Arr, mask: Arr, h: number): Arr {
  const [b, lq, d] = q.shape, lk = k.shape[1], dv = v.shape[2];
  const dh = d / h, dvh = dv / h;
  const out = new Array<number>(b * lq * dv).fill(0);
  for (let bi = 0; bi < b; bi++) {
    for (let hh = 0; hh < h; hh++) {
      const o = headAttention(slice2(q, [bi], lq, hh * dh, (hh + 1) * dh), slice2(k, [bi], lk, hh * dh, (hh + 1) * dh), slice2(v, [bi], lk, hh * dvh, (hh + 1) * dvh),
        (i, j) => at(mask, [bi, hh, i, j]) !== 0);
      o.forEach((row, i) => row.forEach((x, f) => { out[(bi * lq + i) * dv + hh * dvh + f] = x; }));
    }
  }
  return { shape: [b, lq, dv], data: out };
}

/** Dense: x [.., din] @ w [din, n] + b */
function dense(x: Arr, w: Arr, b: Arr): Arr {
  const din = w.shape[0], n = w.shape[1], rows = size(x.shape) / din;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) {
    let s = b.data[j];
    for (let i = 0; i < din; i++) s += x.data[r * din + i] * w.data[i * n + j];
    out.push(s);
  }
  return { shape: [...x.shape.slice(0, -1), n], data: out };
}

// ---------------------------------------------------------------- standard attention

describe('PureAttention, DotProductAttention, causal attention', () => {
  it('PureAttention, 2 heads, queries shorter than keys, padding mask [b,1,1,lk]', async () => {
    const q = rand([2, 3, 4], 'q'), k = rand([2, 5, 4], 'k'), v = rand([2, 5, 6], 'v'), mask = bools([2, 1, 1, 5], 'm');
    const [y, m] = await run(node({ kind: 'PureAttention', params: { n_heads: 2 } }), [{ a: q }, { a: k }, { a: v }, { a: mask, dtype: 'bool' }]);
    close(y, pureAttentionRef(q, k, v, mask, 2));
    expect(m.data).toEqual(mask.data);
  });

  it('PureAttention with a per-query mask [b,1,lq,lk]; a fully masked row gives the SUM of V (float32: log(n) vanishes next to -1e9)', async () => {
    const q = rand([1, 3, 4], 'q2'), k = rand([1, 3, 4], 'k2'), v = rand([1, 3, 4], 'v2');
    const mask: Arr = { shape: [1, 1, 3, 3], data: [1, 0, 0, 1, 1, 0, 0, 0, 0] };
    const [y] = await run(node({ kind: 'PureAttention', params: { n_heads: 1 } }), [{ a: q }, { a: k }, { a: v }, { a: mask, dtype: 'bool' }]);
    close(y, pureAttentionRef(q, k, v, mask, 1));
    // every logit is -1e9, logsumexp = -1e9 + log(3) = -1e9 in float32, so each probability is exp(0) = 1 (as JAX computes it)
    for (let f = 0; f < 4; f++) expect(y.data[8 + f]).toBeCloseTo(v.data[f] + v.data[4 + f] + v.data[8 + f], 5);
  });

  it('conformance pure_attention_values_2heads', async () => {
    const c = conformanceCases().get('pure_attention_values_2heads')!;
    const ins = c.expected.inputs as unknown[];
    const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [typeof x === 'boolean' ? Number(x) : (x as number)]);
    const arrs = ins.map((x, i) => ({ a: { shape: c.input_signature[i].shape as number[], data: flat(x) }, dtype: c.input_signature[i].dtype }));
    const [y, m] = await run(node({ kind: 'PureAttention', params: { n_heads: 2, mode: 'eval' } }), arrs);
    const want = c.expected.output_values as unknown[];
    close(y, { shape: [1, 3, 4], data: flat(want[0]) }, 0, 1e-5);
    expect(m.data).toEqual(flat(want[1]));
  });

  it('DotProductAttention on split heads, mask [bh,1,lk]', async () => {
    const q = rand([4, 3, 4], 'dq'), k = rand([4, 5, 4], 'dk'), v = rand([4, 5, 6], 'dv'), mask = bools([4, 1, 5], 'dm');
    const [y] = await run(node({ kind: 'DotProductAttention' }), [{ a: q }, { a: k }, { a: v }, { a: mask, dtype: 'bool' }]);
    const want: number[] = [];
    for (let r = 0; r < 4; r++) want.push(...headAttention(slice2(q, [r], 3, 0, 4), slice2(k, [r], 5, 0, 4), slice2(v, [r], 5, 0, 6), (_i, j) => at(mask, [r, 0, j]) !== 0).flat());
    close(y, { shape: [4, 3, 6], data: want });
  });

  it('DotProductCausalAttention: query i sees keys 0..i', async () => {
    const q = rand([2, 5, 4], 'cq'), k = rand([2, 5, 4], 'ck'), v = rand([2, 5, 4], 'cv');
    const [y] = await run(node({ kind: 'DotProductCausalAttention' }), [{ a: q }, { a: k }, { a: v }]);
    const want: number[] = [];
    for (let r = 0; r < 2; r++) want.push(...headAttention(slice2(q, [r], 5, 0, 4), slice2(k, [r], 5, 0, 4), slice2(v, [r], 5, 0, 4), (i, j) => j <= i).flat());
    close(y, { shape: [2, 5, 4], data: want });
  });

  it('DotProductCausalAttention in predict mode attends over the key/value cache up to index', async () => {
    const q = rand([2, 1, 4], 'pq'), k = rand([2, 1, 4], 'pk'), v = rand([2, 1, 4], 'pv');
    const kc = rand([2, 6, 4], 'pkc'), vc = rand([2, 6, 4], 'pvc');
    const index = 3;
    const state = (r: WeightRef): Arr => (r.decl.name === 'keys' ? kc : r.decl.name === 'values' ? vc : { shape: [], data: [index] });
    const [y] = await run(node({ kind: 'DotProductCausalAttention', params: { mode: 'predict', max_inference_length: 6 } }), [{ a: q }, { a: k }, { a: v }], state, { mode: 'predict' });
    const want: number[] = [];
    for (let r = 0; r < 2; r++) {
      const keys = slice2(kc, [r], 6, 0, 4), vals = slice2(vc, [r], 6, 0, 4);
      keys[index] = slice2(k, [r], 1, 0, 4)[0];
      vals[index] = slice2(v, [r], 1, 0, 4)[0];
      want.push(...headAttention(slice2(q, [r], 1, 0, 4), keys, vals, (_i, j) => j <= index).flat());
    }
    close(y, { shape: [2, 1, 4], data: want });
  });

  it('train-mode dropout on the probabilities: rows of kept probabilities scaled by 1/(1-rate), reproducible per seed', async () => {
    const q = rand([1, 4, 4], 'tq');
    // v = identity: the output rows are the (dropped) attention probabilities
    const v: Arr = { shape: [1, 4, 4], data: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] };
    const doc = node({ kind: 'DotProductCausalAttention', params: { dropout: 0.5 } });
    const ins = [{ a: q }, { a: q }, { a: v }];
    const [evalY] = await run(doc, ins);
    const [a] = await run(doc, ins, undefined, { mode: 'train', seed: 1 });
    const [b] = await run(doc, ins, undefined, { mode: 'train', seed: 1 });
    const [c] = await run(doc, ins, undefined, { mode: 'train', seed: 2 });
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    a.data.forEach((x, i) => {
      if (x !== 0) expect(x).toBeCloseTo(2 * evalY.data[i], 6);
    });
    expect(a.data.some((x, i) => x === 0 && evalY.data[i] !== 0)).toBe(true);
  });

  it('CausalAttention (Dense q/k/v, 2 heads, Dense out) with explicit weights', async () => {
    const d = 4, h = 2, B = 2, L = 3;
    const x = rand([B, L, d], 'cax');
    const ws = new Map<string, Arr>();
    const weights = (r: WeightRef): Arr => {
      if (!ws.has(r.key)) ws.set(r.key, rand(r.decl.shape.map(Number), r.key, 0.5));
      return ws.get(r.key)!;
    };
    const doc = node({ kind: 'CausalAttention', params: { d_feature: d, n_heads: h } });
    const [y] = await run(doc, [{ a: x }], weights, { inlineFunctions: true });
    const w = (part: RegExp, name: string): Arr => [...ws.entries()].find(([key]) => part.test(key) && key.endsWith(`/${name}`))![1];
    const proj = (i: number): Arr => dense(x, w(new RegExp(`Branch\\[${i}\\]/`), 'kernel'), w(new RegExp(`Branch\\[${i}\\]/`), 'bias'));
    const [qq, kk, vv] = [0, 1, 2].map(proj);
    const heads = pureAttentionRef(qq, kk, vv, { shape: [1, 1, L, L], data: Array.from({ length: L * L }, (_, i) => (i % L <= Math.floor(i / L) ? 1 : 0)) }, h);
    // the final Dense is the 5th part of ConfigurableAttention's Serial
    close(y, dense(heads, w(/ConfigurableAttention\[4\]\//, 'kernel'), w(/ConfigurableAttention\[4\]\//, 'bias')), 1e-4, 1e-5);
  });
});

// ---------------------------------------------------------------- heads, shifts, masks

describe('SplitIntoHeads / MergeHeads', () => {
  it('head i owns features i*d/h..(i+1)*d/h-1; rows are batch*h + head', async () => {
    const x: Arr = { shape: [2, 3, 4], data: Array.from({ length: 24 }, (_, i) => i) };
    const [y] = await run(node({ kind: 'SplitIntoHeads', params: { n_heads: 2 } }), [{ a: x }]);
    expect(y.shape).toEqual([4, 3, 2]);
    // row 1 = batch 0, head 1: features 2..3 of each position
    expect(y.data.slice(6, 12)).toEqual([2, 3, 6, 7, 10, 11]);
    const [z] = await run(node({ kind: 'SplitIntoHeads', params: { n_heads: 2, merged_batch_and_head: false } }), [{ a: x }]);
    expect(z.shape).toEqual([2, 2, 3, 2]);
    expect(z.data.slice(6, 12)).toEqual([2, 3, 6, 7, 10, 11]);
  });

  for (const merged of [true, false]) {
    it(`MergeHeads inverts SplitIntoHeads (merged_batch_and_head=${merged})`, async () => {
      const x = rand([2, 5, 6], `split:${merged}`);
      const doc = node({ kind: 'Serial', children: [{ kind: 'SplitIntoHeads', params: { n_heads: 3, merged_batch_and_head: merged } }, { kind: 'MergeHeads', params: { n_heads: 3, merged_batch_and_head: merged } }] });
      const [y] = await run(doc, [{ a: x }]);
      expect(y).toEqual(x);
    });
  }
});

describe('ShiftRight, PaddingMask, EncoderDecoderMask', () => {
  it('conformance shift_right_float', async () => {
    const c = conformanceCases().get('shift_right_float')!;
    const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
    const [y] = await run(node({ kind: 'ShiftRight' }), [{ a: { shape: [2, 4, 3], data: flat(c.expected.inputs) } }]);
    expect(y).toEqual({ shape: [2, 4, 3], data: flat(c.expected.output_values) });
  });

  it('token ids shift by n_positions with zeros (int32 kept); predict mode is the identity', async () => {
    const x: Arr = { shape: [2, 5], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] };
    const doc = node({ kind: 'ShiftRight', params: { n_positions: 2 } });
    const [y] = await run(doc, [{ a: x, dtype: 'int32' }]);
    expect(y.data).toEqual([0, 0, 1, 2, 3, 0, 0, 6, 7, 8]);
    const [z] = await run(doc, [{ a: x, dtype: 'int32' }], undefined, { mode: 'predict' });
    expect(z.data).toEqual(x.data);
  });

  it('bool inputs shift too; n_positions=0 keeps nothing (x[:, :-0])', async () => {
    const x: Arr = { shape: [1, 4], data: [1, 0, 1, 1] };
    const [y] = await run(node({ kind: 'ShiftRight' }), [{ a: x, dtype: 'bool' }]);
    expect(y.data).toEqual([0, 1, 0, 1]);
    const [z] = await run(node({ kind: 'ShiftRight', params: { n_positions: 0 } }), [{ a: { shape: [2, 5], data: new Array(10).fill(3) }, dtype: 'int32' }]);
    expect(z).toEqual({ shape: [2, 0], data: [] });
  });

  it('conformance padding_mask (float ids)', async () => {
    const c = conformanceCases().get('padding_mask')!;
    const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [Number(x)]);
    const [y] = await run(node({ kind: 'PaddingMask' }), [{ a: { shape: [3, 5], data: flat(c.expected.inputs) } }]);
    expect(y).toEqual({ shape: [3, 1, 1, 5], data: flat(c.expected.output_values) });
  });

  it('PaddingMask with pad=1 on int32 ids', async () => {
    const [y] = await run(node({ kind: 'PaddingMask', params: { pad: 1 } }), [{ a: { shape: [1, 4], data: [1, 0, 2, 1] }, dtype: 'int32' }]);
    expect(y).toEqual({ shape: [1, 1, 1, 4], data: [0, 1, 1, 0] });
  });

  it('EncoderDecoderMask broadcasts the encoder mask over decoder positions (float)', async () => {
    const dec = rand([2, 3, 4], 'dec');
    const mask: Arr = { shape: [2, 1, 1, 2], data: [1, 0, 0, 1] };
    const [y] = await run(node({ kind: 'EncoderDecoderMask' }), [{ a: dec }, { a: mask, dtype: 'bool' }]);
    expect(y).toEqual({ shape: [2, 1, 3, 2], data: [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1] });
  });
});

// ---------------------------------------------------------------- PositionalEncoding

describe('PositionalEncoding', () => {
  it('the weight table interleaves sin (even features) and cos (odd features)', () => {
    const d = 6, pe = positionalEncodingTable(16, d);
    for (const p of [0, 1, 7, 15]) {
      for (let i = 0; i < d / 2; i++) {
        const w = p * Math.exp((-2 * i * Math.log(10000)) / d);
        expect(pe[p * d + 2 * i]).toBeCloseTo(Math.sin(w), 6);
        expect(pe[p * d + 2 * i + 1]).toBeCloseTo(Math.cos(w), 6);
      }
    }
    expect(pe[6]).toBeCloseTo(0.841471, 6); // pe[1, 0] = sin(1)
    expect(pe[7]).toBeCloseTo(0.540302, 6); // pe[1, 1] = cos(1)
  });

  const peOf = (maxLen: number, d: number): Arr => ({ shape: [maxLen, d], data: Array.from(positionalEncodingTable(maxLen, d)) });

  it('eval: x + pe[:L]', async () => {
    const x = rand([2, 5, 6], 'pex');
    const pe = peOf(16, 6);
    const [y] = await run(node({ kind: 'PositionalEncoding', params: { max_len: 16 } }), [{ a: x }], () => pe);
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + pe.data[i % 30]) });
  });

  it('d_feature: x + pe[:L] @ ff', async () => {
    const x = rand([1, 3, 5], 'pfx'), ff = rand([4, 5], 'ff');
    const pe = peOf(8, 4);
    const [y] = await run(node({ kind: 'PositionalEncoding', params: { max_len: 8, d_feature: 4 } }), [{ a: x }], (r) => (r.decl.name === 'pe' ? pe : ff));
    const enc = dense({ shape: [3, 4], data: pe.data.slice(0, 12) }, ff, { shape: [5], data: [0, 0, 0, 0, 0] });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + enc.data[i]) });
  });

  it('predict: x + pe[position : position + L]', async () => {
    const x = rand([2, 1, 6], 'ppx');
    const pe = peOf(16, 6);
    const [y] = await run(node({ kind: 'PositionalEncoding', params: { max_len: 16, mode: 'predict' } }), [{ a: x }], (r) => (r.decl.name === 'pe' ? pe : { shape: [], data: [5] }), { mode: 'predict' });
    close(y, { shape: x.shape, data: x.data.map((v, i) => v + pe.data[5 * 6 + (i % 6)]) });
  });

  it('train: dropout on the encoding, one keep mask per feature shared along the length (dropout_broadcast_dims=(-2,))', async () => {
    const x: Arr = { shape: [1, 6, 8], data: new Array(48).fill(0) };
    const pe = peOf(8, 8);
    const [y] = await run(node({ kind: 'PositionalEncoding', params: { max_len: 8, dropout: 0.5 } }), [{ a: x }], () => pe, { mode: 'train', seed: 4 });
    const factors = new Set<number>();
    for (let f = 0; f < 8; f++) {
      // y = pe * (keep_f / 0.5): one factor per feature, 0 or 2, the same at every position
      const ratios = [0, 1, 2, 3, 4, 5].filter((p) => Math.abs(pe.data[p * 8 + f]) > 1e-3).map((p) => y.data[p * 8 + f] / pe.data[p * 8 + f]);
      for (const r of ratios) expect(r).toBeCloseTo(ratios[0], 5);
      expect([0, 2].some((k) => Math.abs(ratios[0] - k) < 1e-5)).toBe(true);
      factors.add(Math.round(ratios[0]));
    }
    expect([...factors].sort()).toEqual([0, 2]);
  });
});
