/**
 * Each optimizer's update graph, run on onnxruntime's CPU provider for two
 * steps (the second fed the first's outputs), against references written
 * here in float64 straight from Trax's formulas (trax/optimizers/*.py):
 * with weight decay and global-norm clipping on and off, in float32
 * (to float32 precision) and in float64 (to 1e-12).
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { modelBytes } from '../onnx/write';
import { float16Bits, float16Value } from '../weights';
import { rng } from '../../test/ort';
import { HyperParamError } from './hyper';
import { type Optimizer, type WeightSpec, parseOptimizer, updateModel } from './optimizers';
import { type Schedule, parseSchedule } from './schedules';

type Vec = number[];
const size = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

function randVec(n: number, seed: string, scale = 1): Vec {
  const r = rng(seed);
  return Array.from({ length: n }, () => Math.fround((r() * 2 - 1) * scale));
}

// ---------------------------------------------------------------- running the graph

interface Case {
  weights: WeightSpec[];
  w0: Vec[];
  /** gradients of step 1 and step 2, per weight */
  grads: [Vec[], Vec[]];
}

interface StepResult {
  weights: Vec[];
  slots: Vec[][];
  lr: number;
  gradNorm?: number;
}

function ortTensor(dtype: string, data: Vec, shape: readonly number[]): ort.Tensor {
  if (dtype === 'float64') return new ort.Tensor('float64', Float64Array.from(data), [...shape]);
  if (dtype === 'float16') return new ort.Tensor('float16', Uint16Array.from(data, float16Bits), [...shape]);
  return new ort.Tensor('float32', Float32Array.from(data), [...shape]);
}
function numbers(t: ort.Tensor): Vec {
  if (t.type === 'float16') return Array.from(t.data as Uint16Array, float16Value);
  return Array.from(t.data as ArrayLike<number>, Number);
}

/** Runs the update model for steps 1 and 2 (Trax's Loop numbering), feeding step 1's outputs back. */
async function runTwoSteps(opt: Optimizer, c: Case, schedule: Schedule): Promise<StepResult[]> {
  const m = updateModel(opt, c.weights, schedule);
  const session = await ort.InferenceSession.create(modelBytes(m.model));
  let weights = c.w0;
  let slots = m.slotDecls.map((ds) => ds.map((d) => new Array<number>(size(d.shape)).fill(d.fill)));
  const results: StepResult[] = [];
  for (const step of [1, 2]) {
    const feeds: Record<string, ort.Tensor> = { [m.inputs.step]: new ort.Tensor('float32', Float32Array.of(step), []) };
    c.weights.forEach((w, i) => {
      feeds[m.inputs.weights[i]] = ortTensor(w.dtype, weights[i], w.shape);
      feeds[m.inputs.grads[i]] = ortTensor(w.dtype, c.grads[step - 1][i], w.shape);
      m.slotDecls[i].forEach((d, j) => { feeds[m.inputs.slots[i][j]] = ortTensor(d.dtype, slots[i][j], d.shape); });
    });
    const out = await session.run(feeds);
    weights = m.outputs.weights.map((n) => numbers(out[n]));
    slots = m.outputs.slots.map((ss) => ss.map((n) => numbers(out[n])));
    results.push({ weights, slots, lr: numbers(out[m.outputs.lr])[0], ...(m.outputs.gradNorm ? { gradNorm: numbers(out[m.outputs.gradNorm])[0] } : {}) });
  }
  await session.release();
  return results;
}

function expectClose(got: Vec, want: Vec, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((v, i) => {
    if (!(Math.abs(v - want[i]) <= atol + rtol * Math.abs(want[i]))) expect(v, `${what}[${i}] (want ${want[i]})`).toBe(want[i]);
  });
}

// ---------------------------------------------------------------- Trax's formulas, plainly, in float64

/** Trax's `Optimizer.tree_update` clipping: where(norm < max, g, g·max/norm) with the norm over all gradients. */
function refClip(grads: Vec[], max: number | null): Vec[] {
  if (max === null) return grads;
  const norm = Math.sqrt(grads.reduce((a, g) => a + g.reduce((b, x) => b + x * x, 0), 0));
  return norm < max ? grads : grads.map((g) => g.map((x) => x * (max / norm)));
}

interface RefState { w: Vec[]; slots: Vec[][] }
type RefUpdate = (step: number, lr: number, g: Vec, w: Vec, slots: Vec[], shape: readonly number[]) => { w: Vec; slots: Vec[] };

function refRun(c: Case, lrAt: (step: number) => number, clipNorm: number | null, init: (shape: readonly number[]) => Vec[], update: RefUpdate): RefState[] {
  let st: RefState = { w: c.w0, slots: c.weights.map((w) => init(w.shape)) };
  const out: RefState[] = [];
  for (const step of [1, 2]) {
    const grads = refClip(c.grads[step - 1], clipNorm);
    const next = c.weights.map((w, i) => update(step, lrAt(step), grads[i], st.w[i], st.slots[i], w.shape));
    st = { w: next.map((x) => x.w), slots: next.map((x) => x.slots) };
    out.push(st);
  }
  return out;
}

const zeros = (shape: readonly number[]) => new Array<number>(size(shape)).fill(0);

const refSgd: RefUpdate = (_step, lr, g, w) => ({ w: w.map((x, i) => x - lr * g[i]), slots: [] });

function refMomentum(mass: number, wd: number, nesterov: boolean): RefUpdate {
  return (_step, lr, g, w, [v]) => {
    const newV = v.map((x, i) => mass * x + g[i]);
    const upd = nesterov ? newV.map((x, i) => mass * x + g[i]) : newV;
    return { w: w.map((x, i) => (1 - wd) * x - lr * upd[i]), slots: [newV] };
  };
}

function refAdam(wd: number, b1: number, b2: number, eps: number): RefUpdate {
  return (step, lr, g, w, [m0, v0]) => {
    const m = m0.map((x, i) => (1 - b1) * g[i] + b1 * x);
    const v = v0.map((x, i) => (1 - b2) * g[i] ** 2 + b2 * x);
    const mhat = m.map((x) => x / (1 - b1 ** (step + 1)));
    const vhat = v.map((x) => x / (1 - b2 ** (step + 1)));
    return { w: w.map((x, i) => (1 - wd) * x - (lr * mhat[i]) / (Math.sqrt(vhat[i]) + eps)), slots: [m, v] };
  };
}

function refRmsprop(gamma: number, eps: number): RefUpdate {
  return (_step, lr, g, w, [avg0]) => {
    const avg = avg0.map((x, i) => x * gamma + g[i] ** 2 * (1 - gamma));
    return { w: w.map((x, i) => x - (lr * g[i]) / (Math.sqrt(avg[i]) + eps)), slots: [avg] };
  };
}

interface AdafactorRef {
  factored: boolean; multiply_by_parameter_scale: boolean; do_clipping: boolean; do_momentum: boolean; beta1: number;
  decay_rate: number; clipping_threshold: number; weight_decay_rate: number; weight_decay_n_steps: number; epsilon1: number; epsilon2: number;
}
const ADAFACTOR_DEFAULTS: AdafactorRef = {
  factored: true, multiply_by_parameter_scale: true, do_clipping: true, do_momentum: false, beta1: 0,
  decay_rate: 0.8, clipping_threshold: 1, weight_decay_rate: 1e-5, weight_decay_n_steps: 0, epsilon1: 1e-16, epsilon2: 1e-3,
};
const mean = (xs: Vec) => xs.reduce((a, x) => a + x, 0) / xs.length;

function adafactorInit(p: AdafactorRef): (shape: readonly number[]) => Vec[] {
  return (shape) => {
    const s = p.factored && shape.length >= 2 ? [zeros(shape.slice(0, -1)), zeros([...shape.slice(0, -2), shape[shape.length - 1]])] : [zeros(shape)];
    return p.do_momentum ? [...s, zeros(shape)] : s;
  };
}

function refAdafactor(p: AdafactorRef): RefUpdate {
  return (step, lr, g, w, slots, shape) => {
    const wd = p.weight_decay_n_steps < 1 ? p.weight_decay_rate : (p.weight_decay_rate * Math.max(p.weight_decay_n_steps - step, 0)) / Math.max(p.weight_decay_n_steps, 0);
    const decay = 1 - (step + 1) ** -p.decay_rate;
    const mixing = 1 - decay;
    let scale = lr;
    if (p.multiply_by_parameter_scale) scale *= Math.max(Math.sqrt(mean(w.map((x) => x * x))), p.epsilon2);
    const gsq = g.map((x) => x * x);
    const newSlots: Vec[] = [];
    let y: Vec;
    if (p.factored && shape.length >= 2) {
      // [..., R, C] as [B, R, C]
      const C = shape[shape.length - 1], R = shape[shape.length - 2];
      const at = (b: number, r: number, col: number) => (b * R + r) * C + col;
      const vRow = slots[0].map((x, k) => { const b = Math.floor(k / R), r = k % R; return decay * x + mixing * mean(Array.from({ length: C }, (_, col) => gsq[at(b, r, col)])); });
      const vCol = slots[1].map((x, k) => { const b = Math.floor(k / C), col = k % C; return decay * x + mixing * mean(Array.from({ length: R }, (_, r) => gsq[at(b, r, col)])); });
      newSlots.push(vRow, vCol);
      y = g.map((x, k) => {
        const b = Math.floor(k / (R * C)), r = Math.floor(k / C) % R, col = k % C;
        const rowMean = mean(vRow.slice(b * R, b * R + R));
        const rowFactor = (rowMean / (vRow[b * R + r] + p.epsilon1)) ** 0.5;
        const colFactor = (vCol[b * C + col] + p.epsilon1) ** -0.5;
        return x * rowFactor * colFactor;
      });
    } else {
      const v = slots[0].map((x, i) => decay * x + mixing * gsq[i]);
      newSlots.push(v);
      y = g.map((x, i) => x * (v[i] + p.epsilon1) ** -0.5);
    }
    if (p.do_clipping) {
      const denom = Math.max(1, Math.sqrt(mean(y.map((x) => x * x))) / p.clipping_threshold);
      y = y.map((x) => x / denom);
    }
    let sub = y.map((x) => scale * x);
    if (p.do_momentum) {
      const m = slots[slots.length - 1];
      sub = sub.map((x, i) => p.beta1 * m[i] + (1 - p.beta1) * x);
      newSlots.push(sub);
    }
    return { w: w.map((x, i) => (1 - wd) * x - sub[i]), slots: newSlots };
  };
}

// ---------------------------------------------------------------- the cases

function makeCase(shapes: number[][], dtype: 'float32' | 'float64', seed: string, gradScale = 1): Case {
  const weights = shapes.map((shape, i) => ({ key: `Serial[${i}]/Dense/w${i}`, dtype, shape }));
  return {
    weights,
    w0: shapes.map((s, i) => randVec(size(s), `${seed}:w${i}`, 0.5)),
    grads: [shapes.map((s, i) => randVec(size(s), `${seed}:g1:${i}`, gradScale)), shapes.map((s, i) => randVec(size(s), `${seed}:g2:${i}`, gradScale))],
  };
}

const LR = 0.05;
const constant = parseSchedule('constant', { value: LR });
// ramps over step 1 and decays after: lr differs between the two steps
const rsqrt = parseSchedule('rsqrt', { n_warmup_steps: 1, max_value: 0.2 });
const rsqrtAt = (step: number) => (step < 2 ? (step / 2) * 0.2 : 0.2 * (Math.sqrt(2) / Math.sqrt(step)));

interface OptCase {
  name: string;
  overrides: Record<string, number | boolean | null>;
  init: (shape: readonly number[]) => Vec[];
  ref: RefUpdate;
  shapes?: number[][];
}

function cases(): OptCase[] {
  const ada = (o: Partial<AdafactorRef>, name: string, shapes?: number[][]): OptCase => {
    const p = { ...ADAFACTOR_DEFAULTS, ...o };
    return { name, overrides: { ...o }, init: adafactorInit(p), ref: refAdafactor(p), ...(shapes ? { shapes } : {}) };
  };
  return [
    { name: 'sgd', overrides: {}, init: () => [], ref: refSgd },
    { name: 'momentum', overrides: {}, init: (s) => [zeros(s)], ref: refMomentum(0.9, 1e-5, true) },
    { name: 'momentum', overrides: { weight_decay_rate: 0.1, nesterov: false, mass: 0.8 }, init: (s) => [zeros(s)], ref: refMomentum(0.8, 0.1, false) },
    { name: 'momentum', overrides: { weight_decay_rate: 0 }, init: (s) => [zeros(s)], ref: refMomentum(0.9, 0, true) },
    { name: 'adam', overrides: {}, init: (s) => [zeros(s), zeros(s)], ref: refAdam(1e-5, 0.9, 0.999, 1e-5) },
    { name: 'adam', overrides: { weight_decay_rate: 0.1, b1: 0.8, b2: 0.99, eps: 1e-3 }, init: (s) => [zeros(s), zeros(s)], ref: refAdam(0.1, 0.8, 0.99, 1e-3) },
    { name: 'adam', overrides: { weight_decay_rate: 0 }, init: (s) => [zeros(s), zeros(s)], ref: refAdam(0, 0.9, 0.999, 1e-5) },
    { name: 'rmsprop', overrides: {}, init: (s) => [new Array<number>(size(s)).fill(1)], ref: refRmsprop(0.9, 1e-8) },
    { name: 'rmsprop', overrides: { gamma: 0.5, eps: 1e-3 }, init: (s) => [new Array<number>(size(s)).fill(1)], ref: refRmsprop(0.5, 1e-3) },
    ada({}, 'adafactor', [[3, 4], [4], [2, 2, 3], []]),
    ada({ weight_decay_rate: 0.1, decay_rate: 0.5 }, 'adafactor'),
    ada({ weight_decay_rate: 0 }, 'adafactor'),
    ada({ weight_decay_rate: 0.1, weight_decay_n_steps: 3 }, 'adafactor'),
    ada({ factored: false, multiply_by_parameter_scale: false }, 'adafactor'),
    ada({ do_clipping: false, do_momentum: true, beta1: 0.9 }, 'adafactor', [[3, 4], [4], [2, 2, 3]]),
    ada({ clipping_threshold: 0.5, epsilon2: 0.3 }, 'adafactor'),
  ];
}

const SHAPES = [[3, 4], [4]];

describe('optimizer updates match Trax\'s formulas for two steps', () => {
  for (const oc of cases()) {
    for (const clip of [null, 0.5]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const label = `${oc.name} ${JSON.stringify(oc.overrides)} clip_grad_norm=${clip} ${dtype}`;
        it(label, async () => {
          const opt = parseOptimizer(oc.name, { ...oc.overrides, clip_grad_norm: clip });
          const c = makeCase(oc.shapes ?? SHAPES, dtype, label);
          // a changing learning rate for one run in two shows the lr input is used per step
          const useRsqrt = oc.name !== 'sgd' && clip !== null;
          const got = await runTwoSteps(opt, c, useRsqrt ? rsqrt : constant);
          // the reference takes the float32 learning rate the graph used (checked against the schedule's formula below)
          const want = refRun(c, (step) => got[step - 1].lr, clip, oc.init, oc.ref);
          // float32: hyper-parameters such as b2 = 0.999 are rounded to float32 in the graph (as in Trax, whose
          // opt_params are float32 arrays), and 1 - b2^(step+1) amplifies that to ~1e-5 relative in Adam's step
          const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-14] : [2e-5, 5e-6];
          for (const s of [0, 1]) {
            expect(got[s].lr).toBeCloseTo(useRsqrt ? rsqrtAt(s + 1) : LR, 6);
            c.weights.forEach((w, i) => {
              expectClose(got[s].weights[i], want[s].w[i], rtol, atol, `step ${s + 1} ${w.key}`);
              got[s].slots[i].forEach((v, j) => expectClose(v, want[s].slots[i][j], rtol, atol, `step ${s + 1} ${opt.slots(w)[j].name}`));
            });
          }
          if (clip !== null) {
            const norm = Math.sqrt(c.grads[1].flat().reduce((a, x) => a + x * x, 0));
            expect(norm).toBeGreaterThan(clip); // the clip did act
            expect(got[1].gradNorm).toBeCloseTo(norm, 5);
          }
        });
      }
    }
  }

  it('weight decay and clipping change the result (the tests above can tell them apart)', async () => {
    const c = makeCase(SHAPES, 'float64', 'distinct');
    const run = async (o: Record<string, number | null>) => (await runTwoSteps(parseOptimizer('adam', o), c, constant))[1].weights[0];
    const plain = await run({ weight_decay_rate: 0 });
    const decayed = await run({ weight_decay_rate: 0.1 });
    const clipped = await run({ weight_decay_rate: 0, clip_grad_norm: 0.5 });
    expect(Math.max(...plain.map((x, i) => Math.abs(x - decayed[i])))).toBeGreaterThan(1e-3);
    expect(Math.max(...plain.map((x, i) => Math.abs(x - clipped[i])))).toBeGreaterThan(1e-4);
  });

  it('float16 weights update in float32 and are rounded back', async () => {
    const c = makeCase([[2, 3]], 'float32', 'half');
    const half: Case = {
      weights: [{ key: 'w', dtype: 'float16', shape: [2, 3] }],
      w0: c.w0.map((v) => v.map((x) => float16Value(float16Bits(x)))),
      grads: [c.grads[0].map((v) => v.map((x) => float16Value(float16Bits(x)))), c.grads[1].map((v) => v.map((x) => float16Value(float16Bits(x))))],
    };
    const opt = parseOptimizer('adam', { learning_rate: 0.01 });
    expect(opt.slots(half.weights[0]).map((s) => s.dtype)).toEqual(['float32', 'float32']);
    const got = await runTwoSteps(opt, half, parseSchedule('constant', { value: 0.01 }));
    const want = refRun(half, () => 0.01, null, (s) => [zeros(s), zeros(s)], refAdam(1e-5, 0.9, 0.999, 1e-5));
    // step 1's weights were rounded to float16 before step 2, as the reference's were not: float16 precision
    expectClose(got[1].weights[0], want[1].w[0], 2e-3, 1e-3, 'w');
  });
});

describe('slots', () => {
  const kernel: WeightSpec = { key: 'Serial[1]/Dense/weights', dtype: 'float32', shape: [3, 4] };
  const bias: WeightSpec = { key: 'Serial[1]/Dense/bias', dtype: 'float32', shape: [4] };
  const slots = (name: string, w: WeightSpec, o = {}) => parseOptimizer(name, o).slots(w).map((s) => [s.name, s.shape, s.fill]);

  it('are named from the weight key and sized as Trax makes them', () => {
    expect(slots('sgd', kernel)).toEqual([]);
    expect(slots('momentum', kernel)).toEqual([['opt/Serial[1]/Dense/weights/velocity', [3, 4], 0]]);
    expect(slots('adam', bias)).toEqual([['opt/Serial[1]/Dense/bias/m', [4], 0], ['opt/Serial[1]/Dense/bias/v', [4], 0]]);
    expect(slots('rmsprop', bias)).toEqual([['opt/Serial[1]/Dense/bias/avg_sq_grad', [4], 1]]);
    expect(slots('adafactor', kernel)).toEqual([['opt/Serial[1]/Dense/weights/v_row', [3], 0], ['opt/Serial[1]/Dense/weights/v_col', [4], 0]]);
    expect(slots('adafactor', { ...kernel, shape: [2, 5, 3] })).toEqual([['opt/Serial[1]/Dense/weights/v_row', [2, 5], 0], ['opt/Serial[1]/Dense/weights/v_col', [2, 3], 0]]);
    expect(slots('adafactor', bias)).toEqual([['opt/Serial[1]/Dense/bias/v', [4], 0]]);
    expect(slots('adafactor', kernel, { factored: false, do_momentum: true })).toEqual([['opt/Serial[1]/Dense/weights/v', [3, 4], 0], ['opt/Serial[1]/Dense/weights/m', [3, 4], 0]]);
  });

  it('an update given the wrong number of slot values says how many it takes', () => {
    const opt = parseOptimizer('adam');
    const m = updateModel(opt, [kernel], constant);
    expect(m.inputs.slots[0]).toHaveLength(2);
    expect(() => opt.update(undefined as never, kernel, { w: 'w', g: 'g', slots: ['m'], lr: 'lr', step: 'step' })).toThrow(/adam: weight Serial\[1\]\/Dense\/weights has 2 slot\(s\) \(m, v\), got 1/);
  });

  it('integer weights are refused', () => {
    expect(() => parseOptimizer('adam').slots({ key: 'ids', dtype: 'int32', shape: [3] })).toThrow(/weight ids has dtype int32: only floating-point weights can be trained/);
  });
});

describe('parseOptimizer', () => {
  const fails = (name: string, o: Record<string, unknown>, param: string, msg: RegExp) => {
    let err: unknown;
    try { parseOptimizer(name, o as Record<string, number>); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(HyperParamError);
    expect((err as HyperParamError).param).toBe(param);
    expect((err as HyperParamError).message).toMatch(msg);
  };

  it('has Trax\'s defaults', () => {
    expect(parseOptimizer('adam').hyper).toEqual({ learning_rate: 0.0001, weight_decay_rate: 1e-5, b1: 0.9, b2: 0.999, eps: 1e-5, clip_grad_norm: null });
    expect(parseOptimizer('momentum').hyper).toMatchObject({ mass: 0.9, weight_decay_rate: 1e-5, nesterov: true });
    expect(parseOptimizer('rmsprop').hyper).toMatchObject({ learning_rate: 0.001, gamma: 0.9, eps: 1e-8 });
    expect(parseOptimizer('adafactor').hyper).toMatchObject({
      learning_rate: 0.05, factored: true, multiply_by_parameter_scale: true, do_clipping: true, do_momentum: false, beta1: 0,
      decay_rate: 0.8, clipping_threshold: 1, weight_decay_rate: 1e-5, weight_decay_n_steps: 0, epsilon1: 1e-16, epsilon2: 1e-3,
    });
    expect(parseOptimizer('sgd').learningRate).toBe(0.01);
  });

  it('takes overrides as numbers, booleans or command-line strings', () => {
    const o = parseOptimizer('Adam', { learning_rate: '0.003', b1: 0.5, clip_grad_norm: '1.5' });
    expect([o.name, o.learningRate, o.hyper.b1, o.clipGradNorm]).toEqual(['adam', 0.003, 0.5, 1.5]);
    expect(parseOptimizer('momentum', { nesterov: 'false' }).hyper.nesterov).toBe(false);
    expect(parseOptimizer('sgd', { clip_grad_norm: 'none' }).clipGradNorm).toBeNull();
  });

  it('names the bad field', () => {
    fails('adamw', {}, 'optimizer', /unknown optimizer 'adamw'; expected one of sgd, momentum, adam, adafactor, rmsprop/);
    fails('adam', { learning_rate: -0.1 }, 'learning_rate', /adam: learning_rate must be a number >= 0, got -0.1/);
    fails('adam', { b1: 1 }, 'b1', /adam: b1 must be a number >= 0 and < 1, got 1/);
    fails('adam', { b2: 'x' }, 'b2', /b2 must be a number .* got "x"/);
    fails('adam', { eps: 0 }, 'eps', /eps must be a number > 0, got 0/);
    fails('adam', { mass: 0.9 }, 'mass', /adam has no hyper-parameter 'mass'; it takes learning_rate, weight_decay_rate, b1, b2, eps, clip_grad_norm/);
    fails('sgd', { weight_decay_rate: 0.1 }, 'weight_decay_rate', /sgd has no hyper-parameter 'weight_decay_rate'/);
    fails('momentum', { nesterov: 1 }, 'nesterov', /nesterov must be true or false, got 1/);
    fails('rmsprop', { clip_grad_norm: 0 }, 'clip_grad_norm', /clip_grad_norm must be a number > 0 \(or none\), got 0/);
    fails('adafactor', { weight_decay_n_steps: 1.5 }, 'weight_decay_n_steps', /must be an integer >= 0, got 1.5/);
    fails('adafactor', { momentum_in_bfloat16: true }, 'momentum_in_bfloat16', /not supported/);
  });
});
