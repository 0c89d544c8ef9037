/**
 * Numbers of the rnn family's lowerings: onnxruntime (CPU) against small
 * TypeScript references with explicit weights — one LSTM and GRU step, an
 * LSTM and a GRU over a short sequence (unrolled), SRU, the helper kinds, and
 * the conformance case gru_cell_values.
 */
import { describe, expect, it } from 'vitest';
import type { TensorValue } from '../core/onnx';
import type { DType } from '../core/shape';
import type { DocNode } from '../document/schema';
import { caseToNode } from '../layers/cases/all';
import type { CaseNode } from '../layers/cases/types';
import { type LowerOptions, lowerDocument } from './lower';
import { rng } from '../../test/ort';
import { close, plain, run as runLowered } from '../../test/lowering';
import { conformanceCases } from '../../test/conformance';

interface Arr { shape: number[]; data: number[] }

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
function rand(shape: number[], seed: string, scale = 1): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => (r() * 2 - 1) * scale) };
}
const f32 = (a: Arr): Arr => ({ shape: a.shape, data: a.data.map(Math.fround) });
const tensor = (a: Arr, dtype: DType = 'float32'): TensorValue => (dtype === 'int32'
  ? { dtype, dims: a.shape, data: Int32Array.from(a.data) }
  : { dtype: 'float32', dims: a.shape, data: Float32Array.from(a.data) });

/** Lowers `root` on the inputs, runs it on onnxruntime's CPU provider, returns the outputs. */
async function run(root: DocNode, inputs: { a: Arr; dtype?: DType }[], weights: Record<string, Arr>, opts: LowerOptions = {}): Promise<Arr[]> {
  return plain(await runLowered(root, inputs, {
    weights: (ref) => {
      const w = weights[ref.key] ?? weights[ref.decl.name];
      if (!w) throw new Error(`no test value for weight ${ref.key}`);
      return w;
    },
    lower: opts,
  }));
}


// ---------------------------------------------------------------- references (row-major, last axis = features)

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** rows of x [.., d] @ w [d, m] + b [m] */
function affine(x: number[], rows: number, d: number, w: Arr, b: Arr): number[] {
  const m = w.shape[1];
  const out = new Array<number>(rows * m).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[r * d + k] * w.data[k * m + j];
      out[r * m + j] = s + b.data[j];
    }
  }
  return out;
}

/** concat on the last axis of two row-major [rows, a] and [rows, b] arrays */
function concatRows(x: number[], a: number, h: number[], b: number, rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(...x.slice(r * a, (r + 1) * a), ...h.slice(r * b, (r + 1) * b));
  return out;
}

/** One LSTM step on rows: x [rows, d], state [rows, 2n] = [c | h]; returns (h', [c' | h']). */
function lstmStep(x: number[], state: number[], rows: number, d: number, n: number, w: Arr, b: Arr): [number[], number[]] {
  const c = [], h = [];
  for (let r = 0; r < rows; r++) { c.push(...state.slice(r * 2 * n, r * 2 * n + n)); h.push(...state.slice(r * 2 * n + n, (r + 1) * 2 * n)); }
  const y = affine(concatRows(x, d, h, n, rows), rows, d + n, w, b);
  const newH: number[] = [], newState: number[] = [];
  for (let r = 0; r < rows; r++) {
    const g = (k: number, j: number): number => y[r * 4 * n + k * n + j];
    const cs: number[] = [], hs: number[] = [];
    for (let j = 0; j < n; j++) {
      const cc = c[r * n + j] * sigmoid(g(2, j)) + sigmoid(g(0, j)) * Math.tanh(g(1, j));
      cs.push(cc);
      hs.push(Math.tanh(cc) * sigmoid(g(3, j)));
    }
    newH.push(...hs);
    newState.push(...cs, ...hs);
  }
  return [newH, newState];
}

/** One GRU step on rows: x [rows, d], h [rows, n]. */
function gruStep(x: number[], h: number[], rows: number, d: number, n: number, w1: Arr, b1: Arr, w2: Arr, b2: Arr): number[] {
  const y = affine(concatRows(x, d, h, n, rows), rows, d + n, w1, b1).map(sigmoid);
  const u: number[] = [], rh: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) { u.push(y[r * 2 * n + j]); rh.push(y[r * 2 * n + n + j] * h[r * n + j]); }
  }
  const c = affine(concatRows(x, d, rh, n, rows), rows, d + n, w2, b2);
  return h.map((hv, i) => u[i] * hv + (1 - u[i]) * Math.tanh(c[i]));
}

/** x [B, L, d] -> the step at t: [B, d] */
function stepOf(x: Arr, t: number): number[] {
  const [B, L, d] = x.shape;
  const out: number[] = [];
  for (let bi = 0; bi < B; bi++) out.push(...x.data.slice((bi * L + t) * d, (bi * L + t + 1) * d));
  return out;
}
/** stacks per-step [B, n] arrays into [B, L, n] */
function stackSteps(steps: number[][], B: number, n: number): Arr {
  const L = steps.length;
  const data = new Array<number>(B * L * n);
  steps.forEach((s, t) => { for (let bi = 0; bi < B; bi++) for (let j = 0; j < n; j++) data[(bi * L + t) * n + j] = s[bi * n + j]; });
  return { shape: [B, L, n], data };
}

const node = (c: CaseNode): DocNode => caseToNode(c);

describe('rnn lowerings against TypeScript references', () => {
  it('LSTMCell: one step (gates i, j, f, o; state [c | h])', async () => {
    const n = 4, d = 3, B = 2;
    const x = f32(rand([B, d], 'x')), s = f32(rand([B, 2 * n], 's'));
    const w = f32(rand([d + n, 4 * n], 'w', 0.7)), b = f32(rand([4 * n], 'b', 0.5));
    const [h, st] = await run(node({ kind: 'LSTMCell', params: { n_units: n } }), [{ a: x }, { a: s }], { w, b });
    const [rh, rs] = lstmStep(x.data, s.data, B, d, n, w, b);
    close(h, { shape: [B, n], data: rh });
    close(st, { shape: [B, 2 * n], data: rs });
  });

  it('LSTMCell on rank-3 inputs (the dot contracts the last axis)', async () => {
    const n = 2, d = 3;
    const x = f32(rand([2, 5, d], 'x3')), s = f32(rand([2, 5, 2 * n], 's3'));
    const w = f32(rand([d + n, 4 * n], 'w3')), b = f32(rand([4 * n], 'b3'));
    const [h, st] = await run(node({ kind: 'LSTMCell', params: { n_units: n } }), [{ a: x }, { a: s }], { w, b });
    const [rh, rs] = lstmStep(x.data, s.data, 10, d, n, w, b);
    close(h, { shape: [2, 5, n], data: rh });
    close(st, { shape: [2, 5, 2 * n], data: rs });
  });

  it('GRUCell: one step', async () => {
    const n = 3, d = 2, B = 2;
    const x = f32(rand([B, d], 'gx')), h0 = f32(rand([B, n], 'gh'));
    const w1 = f32(rand([d + n, 2 * n], 'w1')), b1 = f32(rand([2 * n], 'b1')), w2 = f32(rand([d + n, n], 'w2')), b2 = f32(rand([n], 'b2'));
    const [h, h2] = await run(node({ kind: 'GRUCell', params: { n_units: n } }), [{ a: x }, { a: h0 }], { w1, b1, w2, b2 });
    const want = { shape: [B, n], data: gruStep(x.data, h0.data, B, d, n, w1, b1, w2, b2) };
    close(h, want);
    close(h2, want);
  });

  it('conformance gru_cell_values', async () => {
    const c = conformanceCases().get('gru_cell_values')!;
    const ex = c.expected as { inputs: number[][][]; output_values: number[][][]; weights: unknown[] };
    const [w1, b1, w2, b2] = ex.weights as [number[][], number[], number[][], number[]];
    const arr2 = (m: number[][]): Arr => ({ shape: [m.length, m[0].length], data: m.flat() });
    const [h, h2] = await run(node({ kind: 'GRUCell', params: { n_units: 1 } }), ex.inputs.map((v) => ({ a: arr2(v) })), {
      w1: arr2(w1), b1: { shape: [2], data: b1 }, w2: arr2(w2), b2: { shape: [1], data: b2 },
    });
    for (const [i, out] of [h, h2].entries()) close(out, arr2(ex.output_values[i]), 0, 1e-6);
  });

  it('LSTM over a sequence equals the unrolled cell from a zero state (and return_state gives the final state)', async () => {
    const n = 4, B = 2, L = 5;
    const x = f32(rand([B, L, n], 'seq'));
    const w = f32(rand([2 * n, 4 * n], 'lw', 0.6)), b = f32(rand([4 * n], 'lb', 0.3));
    const [y, final] = await run(node({ kind: 'LSTM', params: { n_units: n, return_state: true } }), [{ a: x }], { w, b });
    let state = new Array<number>(B * 2 * n).fill(0);
    const hs: number[][] = [];
    for (let t = 0; t < L; t++) {
      const [h, s] = lstmStep(stepOf(x, t), state, B, n, n, w, b);
      hs.push(h);
      state = s;
    }
    close(y, stackSteps(hs, B, n));
    close(final, { shape: [B, 2 * n], data: state });
    // the same model as the default LSTM (one output): the sequence only
    const [y1] = await run(node({ kind: 'LSTM', params: { n_units: n } }), [{ a: x }], { w, b });
    close(y1, stackSteps(hs, B, n));
  });

  it('LSTM with a given initial state and input depth != n_units', async () => {
    const n = 4, B = 2, L = 3, d = 3;
    const x = f32(rand([B, L, d], 'seq2')), s0 = f32(rand([B, 2 * n], 's0'));
    const w = f32(rand([d + n, 4 * n], 'lw2')), b = f32(rand([4 * n], 'lb2'));
    const [y, final] = await run(node({ kind: 'LSTM', params: { n_units: n, initial_state: true, return_state: true } }), [{ a: x }, { a: s0 }], { w, b });
    let state = s0.data;
    const hs: number[][] = [];
    for (let t = 0; t < L; t++) {
      const [h, s] = lstmStep(stepOf(x, t), state, B, d, n, w, b);
      hs.push(h);
      state = s;
    }
    close(y, stackSteps(hs, B, n));
    close(final, { shape: [B, 2 * n], data: state });
  });

  it('GRU over a sequence equals the unrolled cell', async () => {
    const n = 3, B = 2, L = 4;
    const x = f32(rand([B, L, n], 'gseq'));
    const w1 = f32(rand([2 * n, 2 * n], 'gw1')), b1 = f32(rand([2 * n], 'gb1')), w2 = f32(rand([2 * n, n], 'gw2')), b2 = f32(rand([n], 'gb2'));
    const [y] = await run(node({ kind: 'GRU', params: { n_units: n } }), [{ a: x }], { w1, b1, w2, b2 });
    let h = new Array<number>(B * n).fill(0);
    const hs: number[][] = [];
    for (let t = 0; t < L; t++) { h = gruStep(stepOf(x, t), h, B, n, n, w1, b1, w2, b2); hs.push(h); }
    close(y, stackSteps(hs, B, n));
  });

  /** SRU on x [B, L, n]: c_t = f*c + y*(1-f); h = act(c)*r + x*(1-r)*sqrt(3) */
  function sru(x: Arr, kernel: Arr, bias: Arr, activation: 'Relu' | null): Arr {
    const [B, L, n] = x.shape;
    const out = new Array<number>(B * L * n);
    for (let bi = 0; bi < B; bi++) {
      const c = new Array<number>(n).fill(0);
      for (let t = 0; t < L; t++) {
        const xs = x.data.slice((bi * L + t) * n, (bi * L + t + 1) * n);
        const rfy = affine(xs, 1, n, kernel, bias);
        for (let j = 0; j < n; j++) {
          const r = sigmoid(rfy[j]), f = sigmoid(rfy[n + j]), yv = rfy[2 * n + j];
          c[j] = f * c[j] + yv * (1 - f);
          const act = activation === 'Relu' ? Math.max(0, c[j]) : c[j];
          out[(bi * L + t) * n + j] = act * r + xs[j] * (1 - r) * Math.sqrt(3);
        }
      }
    }
    return { shape: x.shape, data: out };
  }

  for (const activation of [null, 'Relu'] as const) {
    it(`SRU${activation ? ` with activation ${activation}` : ''}: recurrence, highway with sqrt(3)`, async () => {
      const n = 3, B = 2, L = 5;
      const x = f32(rand([B, L, n], 'sx'));
      const kernel = f32(rand([n, 3 * n], 'sk')), bias = f32(rand([3 * n], 'sb'));
      const root = node({ kind: 'SRU', params: { n_units: n }, ...(activation ? { slots: { activation: { kind: activation } } } : {}) });
      const [y] = await run(root, [{ a: x }], { kernel, bias });
      close(y, sru(x, kernel, bias, activation));
    });
  }

  it('two SRUs that differ only in their activation slot are two functions (each with its own weights)', async () => {
    const n = 3;
    const x = f32(rand([2, 4, n], 'x2'));
    const k0 = f32(rand([n, 3 * n], 'k0')), b0 = f32(rand([3 * n], 'b0')), k1 = f32(rand([n, 3 * n], 'k1')), b1 = f32(rand([3 * n], 'b1'));
    const root = node({ kind: 'Serial', children: [{ kind: 'SRU', params: { n_units: n } }, { kind: 'SRU', params: { n_units: n }, slots: { activation: { kind: 'Relu' } } }] });
    const input = [{ dtype: 'float32' as const, shape: x.shape }];
    const keys = lowerDocument({ root, input }, { weightValue: (r) => tensor({ shape: r.decl.shape.map(Number), data: new Array(r.decl.shape.map(Number).reduce((a, b) => a * b, 1)).fill(0) }) }).weights.map((w) => w.key);
    const of = (i: number, name: string): string => keys.find((key) => key.startsWith(`Serial[${i}]`) && key.endsWith(`/${name}`))!;
    const [y] = await run(root, [{ a: x }], { [of(0, 'kernel')]: k0, [of(0, 'bias')]: b0, [of(1, 'kernel')]: k1, [of(1, 'bias')]: b1 });
    close(y, sru(sru(x, k0, b0, null), k1, b1, 'Relu'));
  });

  it('MakeZeroState, InnerSRUCell, AddSigmoidBias', async () => {
    const [z] = await run(node({ kind: 'MakeZeroState', params: { depth_multiplier: 2 } }), [{ a: rand([2, 3, 4], 'z') }], {});
    expect(z).toEqual({ shape: [2, 8], data: new Array(16).fill(0) });
    const a = f32(rand([2, 3], 'a')), f = f32(rand([2, 3], 'f')), c = f32(rand([2, 3], 'c'));
    const [r1, r2] = await run(node({ kind: 'InnerSRUCell' }), [{ a }, { a: f }, { a: c }], {});
    const want = { shape: [2, 3], data: a.data.map((v, i) => f.data[i] * c.data[i] + v) };
    close(r1, want);
    close(r2, want);
    const [s] = await run(node({ kind: 'AddSigmoidBias', params: { sigmoid_bias: 0.25 } }), [{ a: { shape: [3], data: [1, 2, 3] }, dtype: 'int32' }], {});
    close(s, { shape: [3], data: [1.25, 2.25, 3.25] });
  });

  it('LSTM is one ai.strata function (its Scan inside), and inlining gives the same numbers', async () => {
    const n = 2;
    const x = f32(rand([1, 3, n], 'fx')), w = f32(rand([2 * n, 4 * n], 'fw')), b = f32(rand([4 * n], 'fb'));
    const input = [{ dtype: 'float32' as const, shape: x.shape }];
    const low = lowerDocument({ root: node({ kind: 'LSTM', params: { n_units: n } }), input }, { weightValue: (ref) => tensor(ref.decl.name === 'w' ? w : b) });
    expect(low.model.functions.map((f) => f.name)).toEqual(expect.arrayContaining(['LSTM', 'LSTMCell']));
    expect(low.model.graph.nodes.some((nd) => nd.op === 'LSTM' && nd.domain === 'ai.strata')).toBe(true);
    const [a] = await run(node({ kind: 'LSTM', params: { n_units: n } }), [{ a: x }], { w, b });
    const [c] = await run(node({ kind: 'LSTM', params: { n_units: n } }), [{ a: x }], { w, b }, { inlineFunctions: true });
    close(c, a, 0, 0);
  });
});
