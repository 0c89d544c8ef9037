/**
 * Trax's optimizers (trax/optimizers/{base,momentum,adam,adafactor,rms_prop}.py)
 * as ONNX graph pieces: given the value names of a weight, its gradient,
 * its slots, the learning rate and the step, an update adds the nodes that
 * compute the new weight and slots. The training step graph takes weights,
 * slots and the step as inputs and returns the new ones, so the state can
 * stay on the GPU between steps.
 *
 * Semantics are Trax's, formula for formula, including its choices:
 * weight decay multiplies the weight by (1 - weight_decay_rate) each step
 * (not scaled by the learning rate); Adam's bias correction uses
 * `b ** (step + 1)` with the step Trax passes (its first update is step 1,
 * see schedules.ts); RMSProp's slot starts at ones; Adafactor factors the
 * second moment of every weight of rank ≥ 2 (Trax has no size threshold).
 * Gradient clipping by global norm (clip.ts) runs across all weights
 * before the per-weight updates, as `tree_update` does.
 *
 * Slots are named from the weight key (`opt/<key>/m`), so checkpoints
 * store them by name.
 */
import type { Emitter, Graph, Model, OpType, ValueInfo } from '../core/onnx';
import type { DType } from '../core/shape';
import { Scope, ScopeEmitter, type ModelState } from '../onnx/emit';
import { type ComputeDtype, type GradValue, castTo, clipByGlobalNorm, computeDtypeOf, scalar } from './clip';
import { HyperParamError, type HyperOverrides, type HyperSpec, type HyperValue, resolveHyper } from './hyper';
import { type Schedule, emitLearningRate } from './schedules';

export type OptimizerName = 'sgd' | 'momentum' | 'adam' | 'adafactor' | 'rmsprop';

/** A trainable weight as the optimizer sees it. */
export interface WeightSpec {
  /** the key in the weights file (`Serial[1]/Dense/kernel`) */
  readonly key: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** One optimizer slot of one weight: a graph input, a graph output, a checkpoint entry. */
export interface SlotDecl {
  /** `opt/<weight key>/<slot>` */
  readonly name: string;
  /** the slot's own name (Trax's variable name: `m`, `v`, `velocity`, `v_row`, …) */
  readonly slot: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** every element's initial value */
  readonly fill: number;
}

/** The value names one update reads. `lr` and `step` are float32 scalars (see schedules.ts). */
export interface UpdateInputs {
  readonly w: string;
  readonly g: string;
  /** in the order of `slots(weight)` */
  readonly slots: readonly string[];
  readonly lr: string;
  readonly step: string;
}

export interface Optimizer {
  readonly name: OptimizerName;
  /** every hyper-parameter, Trax's names and (unless overridden) Trax's defaults */
  readonly hyper: Readonly<Record<string, HyperValue>>;
  /** the learning rate a constant schedule uses when none is given (the `learning_rate` hyper-parameter) */
  readonly learningRate: number;
  /** Trax's `clip_grad_norm`: clip all gradients by their global norm first (null: no clipping) */
  readonly clipGradNorm: number | null;
  slots(weight: WeightSpec): SlotDecl[];
  /** Emits one weight's update; returns the new weight (the weight's dtype) and new slots (in slot order). */
  update(e: Emitter, weight: WeightSpec, v: UpdateInputs): { w: string; slots: string[] };
}

export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'momentum', 'adam', 'adafactor', 'rmsprop'];

export function slotName(key: string, slot: string): string {
  return `opt/${key}/${slot}`;
}

// ---------------------------------------------------------------- hyper-parameters

const rate: HyperSpec = { kind: 'number', min: 0 };
const fraction: HyperSpec = { kind: 'number', min: 0, max: 1, maxExclusive: true };
const positive: HyperSpec = { kind: 'number', min: 0, minExclusive: true };
const flag: HyperSpec = { kind: 'boolean' };
const clip: HyperSpec = { kind: 'number?', min: 0, minExclusive: true };

/** Names, ranges and Trax's defaults (Momentum's learning_rate has none in Trax; 0.01 is its base class's). */
const HYPER = {
  sgd: {
    specs: { learning_rate: rate, clip_grad_norm: clip },
    defaults: { learning_rate: 0.01, clip_grad_norm: null },
  },
  momentum: {
    specs: { learning_rate: rate, mass: fraction, weight_decay_rate: fraction, nesterov: flag, clip_grad_norm: clip },
    defaults: { learning_rate: 0.01, mass: 0.9, weight_decay_rate: 1e-5, nesterov: true, clip_grad_norm: null },
  },
  adam: {
    specs: { learning_rate: rate, weight_decay_rate: fraction, b1: fraction, b2: fraction, eps: positive, clip_grad_norm: clip },
    defaults: { learning_rate: 0.0001, weight_decay_rate: 1e-5, b1: 0.9, b2: 0.999, eps: 1e-5, clip_grad_norm: null },
  },
  adafactor: {
    specs: {
      learning_rate: rate, factored: flag, multiply_by_parameter_scale: flag, do_clipping: flag, do_momentum: flag,
      momentum_in_bfloat16: flag, beta1: fraction, decay_rate: positive, clipping_threshold: positive,
      weight_decay_rate: fraction, weight_decay_n_steps: { kind: 'number', min: 0, integer: true }, epsilon1: positive, epsilon2: rate,
      clip_grad_norm: clip,
    },
    defaults: {
      learning_rate: 0.05, factored: true, multiply_by_parameter_scale: true, do_clipping: true, do_momentum: false,
      momentum_in_bfloat16: false, beta1: 0, decay_rate: 0.8, clipping_threshold: 1, weight_decay_rate: 1e-5,
      weight_decay_n_steps: 0, epsilon1: 1e-16, epsilon2: 1e-3, clip_grad_norm: null,
    },
  },
  rmsprop: {
    specs: { learning_rate: rate, gamma: fraction, eps: positive, clip_grad_norm: clip },
    defaults: { learning_rate: 0.001, gamma: 0.9, eps: 1e-8, clip_grad_norm: null },
  },
} as const satisfies { [N in OptimizerName]: { specs: Record<string, HyperSpec>; defaults: Record<string, HyperValue> } };

type Hyper<N extends OptimizerName> = { [K in keyof (typeof HYPER)[N]['defaults']]: (typeof HYPER)[N]['defaults'][K] extends boolean ? boolean : (typeof HYPER)[N]['defaults'][K] extends null ? number | null : number };

// ---------------------------------------------------------------- numeric helpers

/** One weight's update in its compute dtype: constants, the inputs cast in, the result cast out. */
class Update {
  readonly dt: ComputeDtype;
  constructor(readonly e: Emitter, readonly weight: WeightSpec) {
    this.dt = computeDtypeOf(weight.dtype, `weight ${weight.key}`);
  }
  c(x: number): string { return scalar(this.e, x, this.dt); }
  /** a value of the weight's dtype, in the compute dtype */
  in(x: string): string { return castTo(this.e, x, this.weight.dtype, this.dt); }
  /** a float32 scalar (lr, step), in the compute dtype */
  in32(x: string): string { return castTo(this.e, x, 'float32', this.dt); }
  out(x: string): string { return castTo(this.e, x, this.dt, this.weight.dtype); }
  op(op: OpType, ...inputs: string[]): string { return this.e.op1(op, inputs); }
  add(a: string, b: string): string { return this.op('Add', a, b); }
  sub(a: string, b: string): string { return this.op('Sub', a, b); }
  mul(a: string, b: string): string { return this.op('Mul', a, b); }
  div(a: string, b: string): string { return this.op('Div', a, b); }
  /** the mean over `axes` (all axes when omitted) */
  mean(x: string, axes?: number[], keepdims = false): string {
    return this.e.op1('ReduceMean', axes ? [x, this.e.i64(axes)] : [x], { keepdims: { int: keepdims ? 1 : 0 } });
  }
  /** (1 - weight_decay_rate)·w - subtrahend: Trax's decay form (not scaled by the learning rate) */
  decayed(w: string, weightDecayRate: number | string, subtrahend: string): string {
    const keep = typeof weightDecayRate === 'number' ? this.c(1 - weightDecayRate) : this.sub(this.c(1), weightDecayRate);
    return this.sub(this.mul(keep, w), subtrahend);
  }
}

function checkSlots(name: OptimizerName, weight: WeightSpec, decls: readonly SlotDecl[], v: UpdateInputs): void {
  if (v.slots.length !== decls.length) {
    throw new HyperParamError('slots', `${name}: weight ${weight.key} has ${decls.length} slot(s) (${decls.map((d) => d.slot).join(', ') || 'none'}), got ${v.slots.length} value(s)`);
  }
}

function slot(weight: WeightSpec, name: string, fill: number, shape: readonly number[] = weight.shape): SlotDecl {
  // slots are in the dtype the update computes in: 16-bit float weights keep float32 slots
  return { name: slotName(weight.key, name), slot: name, dtype: computeDtypeOf(weight.dtype, `weight ${weight.key}`), shape: [...shape], fill };
}

// ---------------------------------------------------------------- the optimizers

function sgd(h: Hyper<'sgd'>): Optimizer {
  return {
    name: 'sgd', hyper: h, learningRate: h.learning_rate, clipGradNorm: h.clip_grad_norm,
    slots: () => [],
    update(e, weight, v) {
      checkSlots('sgd', weight, [], v);
      const u = new Update(e, weight);
      // w - lr·g
      return { w: u.out(u.sub(u.in(v.w), u.mul(u.in32(v.lr), u.in(v.g)))), slots: [] };
    },
  };
}

function momentum(h: Hyper<'momentum'>): Optimizer {
  const slots = (weight: WeightSpec) => [slot(weight, 'velocity', 0)];
  return {
    name: 'momentum', hyper: h, learningRate: h.learning_rate, clipGradNorm: h.clip_grad_norm, slots,
    update(e, weight, v) {
      checkSlots('momentum', weight, slots(weight), v);
      const u = new Update(e, weight);
      const g = u.in(v.g);
      const mu = u.c(h.mass);
      // new_v = mu·v + g;  update = mu·new_v + g (Nesterov) or new_v;  w' = (1 - α)·w - lr·update
      const newV = u.add(u.mul(mu, v.slots[0]), g);
      const step = h.nesterov ? u.add(u.mul(mu, newV), g) : newV;
      const w = u.decayed(u.in(v.w), h.weight_decay_rate, u.mul(u.in32(v.lr), step));
      return { w: u.out(w), slots: [newV] };
    },
  };
}

function adam(h: Hyper<'adam'>): Optimizer {
  const slots = (weight: WeightSpec) => [slot(weight, 'm', 0), slot(weight, 'v', 0)];
  return {
    name: 'adam', hyper: h, learningRate: h.learning_rate, clipGradNorm: h.clip_grad_norm, slots,
    update(e, weight, v) {
      checkSlots('adam', weight, slots(weight), v);
      const u = new Update(e, weight);
      const g = u.in(v.g);
      // m = (1 - b1)·g + b1·m;  v = (1 - b2)·g² + b2·v
      const m = u.add(u.mul(u.c(1 - h.b1), g), u.mul(u.c(h.b1), v.slots[0]));
      const vv = u.add(u.mul(u.c(1 - h.b2), u.mul(g, g)), u.mul(u.c(h.b2), v.slots[1]));
      // bias correction with Trax's exponent step + 1
      const t = u.add(u.in32(v.step), u.c(1));
      const mhat = u.div(m, u.sub(u.c(1), u.op('Pow', u.c(h.b1), t)));
      const vhat = u.div(vv, u.sub(u.c(1), u.op('Pow', u.c(h.b2), t)));
      const sub = u.div(u.mul(u.in32(v.lr), mhat), u.add(u.op('Sqrt', vhat), u.c(h.eps)));
      return { w: u.out(u.decayed(u.in(v.w), h.weight_decay_rate, sub)), slots: [m, vv] };
    },
  };
}

function adafactor(h: Hyper<'adafactor'>): Optimizer {
  if (h.momentum_in_bfloat16) {
    throw new HyperParamError('momentum_in_bfloat16', 'adafactor: momentum_in_bfloat16 is not supported (the WebGPU provider has no bfloat16 kernels); its momentum slot is kept in float32', 'false');
  }
  const factoredFor = (weight: WeightSpec) => h.factored && weight.shape.length >= 2;
  const slots = (weight: WeightSpec): SlotDecl[] => {
    const s = weight.shape;
    // (Trax keeps the factored moments in float32 whatever the weight's dtype; here every slot is in the compute dtype)
    const second = factoredFor(weight)
      ? [slot(weight, 'v_row', 0, s.slice(0, -1)), slot(weight, 'v_col', 0, [...s.slice(0, -2), s[s.length - 1]])]
      : [slot(weight, 'v', 0)];
    return h.do_momentum ? [...second, slot(weight, 'm', 0)] : second;
  };
  return {
    name: 'adafactor', hyper: h, learningRate: h.learning_rate, clipGradNorm: h.clip_grad_norm, slots,
    update(e, weight, v) {
      checkSlots('adafactor', weight, slots(weight), v);
      const u = new Update(e, weight);
      const g = u.in(v.g);
      const w = u.in(v.w);
      const step = u.in32(v.step);
      // weight_decay_n_steps < 1: the plain rate; else it falls linearly to 0 at that step
      const decayRate: number | string = h.weight_decay_n_steps < 1
        ? h.weight_decay_rate
        : u.div(u.mul(u.c(h.weight_decay_rate), u.op('Max', u.sub(u.c(h.weight_decay_n_steps), step), u.c(0))), u.c(h.weight_decay_n_steps));
      // decay_rate = 1 - (step + 1)^(-decay_rate exponent)
      const decay = u.sub(u.c(1), u.op('Pow', u.add(step, u.c(1)), u.c(-h.decay_rate)));
      const mixing = u.sub(u.c(1), decay);
      let scale = u.in32(v.lr);
      if (h.multiply_by_parameter_scale) scale = u.mul(scale, u.op('Max', u.op('Sqrt', u.mean(u.mul(w, w))), u.c(h.epsilon2)));
      const gsq = u.mul(g, g);
      const newSlots: string[] = [];
      let y: string;
      if (factoredFor(weight)) {
        const vRow = u.add(u.mul(decay, v.slots[0]), u.mul(mixing, u.mean(gsq, [-1])));
        const vCol = u.add(u.mul(decay, v.slots[1]), u.mul(mixing, u.mean(gsq, [-2])));
        newSlots.push(vRow, vCol);
        const rowMean = u.mean(vRow, [-1], true);
        const rowFactor = u.op('Sqrt', u.div(rowMean, u.add(vRow, u.c(h.epsilon1))));
        const colFactor = u.op('Reciprocal', u.op('Sqrt', u.add(vCol, u.c(h.epsilon1))));
        y = u.mul(u.mul(g, e.op1('Unsqueeze', [rowFactor, e.i64([-1])])), e.op1('Unsqueeze', [colFactor, e.i64([-2])]));
      } else {
        const nv = u.add(u.mul(decay, v.slots[0]), u.mul(mixing, gsq));
        newSlots.push(nv);
        y = u.mul(g, u.op('Reciprocal', u.op('Sqrt', u.add(nv, u.c(h.epsilon1)))));
      }
      if (h.do_clipping) {
        // y / max(1, rms(y) / clipping_threshold)
        const denom = u.op('Max', u.c(1), u.div(u.op('Sqrt', u.mean(u.mul(y, y))), u.c(h.clipping_threshold)));
        y = u.div(y, denom);
      }
      let subtrahend = u.mul(scale, y);
      if (h.do_momentum) {
        subtrahend = u.add(u.mul(u.c(h.beta1), v.slots[v.slots.length - 1]), u.mul(u.c(1 - h.beta1), subtrahend));
        newSlots.push(subtrahend);
      }
      return { w: u.out(u.decayed(w, decayRate, subtrahend)), slots: newSlots };
    },
  };
}

function rmsprop(h: Hyper<'rmsprop'>): Optimizer {
  // Trax starts the average of squared gradients at ones
  const slots = (weight: WeightSpec) => [slot(weight, 'avg_sq_grad', 1)];
  return {
    name: 'rmsprop', hyper: h, learningRate: h.learning_rate, clipGradNorm: h.clip_grad_norm, slots,
    update(e, weight, v) {
      checkSlots('rmsprop', weight, slots(weight), v);
      const u = new Update(e, weight);
      const g = u.in(v.g);
      // avg = γ·avg + (1 - γ)·g²;  w' = w - lr·g / (sqrt(avg) + eps)   (no weight decay in Trax's RMSProp)
      const avg = u.add(u.mul(v.slots[0], u.c(h.gamma)), u.mul(u.mul(g, g), u.c(1 - h.gamma)));
      const sub = u.div(u.mul(u.in32(v.lr), g), u.add(u.op('Sqrt', avg), u.c(h.eps)));
      return { w: u.out(u.sub(u.in(v.w), sub)), slots: [avg] };
    },
  };
}

const BUILD: { [N in OptimizerName]: (h: Hyper<N>) => Optimizer } = { sgd, momentum, adam, adafactor, rmsprop };

/**
 * An optimizer by name (`--optimizer adam|sgd|momentum|adafactor|rmsprop`)
 * with hyper-parameters overridden by Trax's names (`learning_rate`, `b1`,
 * `clip_grad_norm`, …; numbers, booleans or their strings). An unknown
 * name or field, or a value out of range, is a HyperParamError naming it.
 */
export function parseOptimizer(name: string, overrides: HyperOverrides = {}): Optimizer {
  const n = name.toLowerCase();
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(n)) {
    throw new HyperParamError('optimizer', `unknown optimizer '${name}'; expected one of ${OPTIMIZER_NAMES.join(', ')}`, OPTIMIZER_NAMES.join(', '));
  }
  const o = n as OptimizerName;
  const { specs, defaults } = HYPER[o];
  const h = resolveHyper(o, specs as Record<string, HyperSpec>, defaults as Record<string, HyperValue>, overrides);
  return (BUILD[o] as (h: Record<string, HyperValue>) => Optimizer)(h);
}

// ---------------------------------------------------------------- all weights at once

/** One trainable weight's values in the step graph. */
export interface TrainableValues {
  readonly weight: WeightSpec;
  readonly w: string;
  readonly g: string;
  /** in the order of `opt.slots(weight)` */
  readonly slots: readonly string[];
}

export interface OptimizerStep {
  /** new weights, in the order given */
  weights: string[];
  /** new slots, per weight, in slot order */
  slots: string[][];
  /** the gradients' global L2 norm before clipping (Trax's `gradients_l2`), when clipping computed it */
  gradNorm?: { value: string; dtype: 'float32' | 'float64' };
}

/** Clips all gradients by their global norm (when the optimizer's clip_grad_norm is set), then updates every weight. */
export function emitOptimizerStep(e: Emitter, opt: Optimizer, items: readonly TrainableValues[], lr: string, step: string): OptimizerStep {
  let grads = items.map((x) => x.g);
  let gradNorm: OptimizerStep['gradNorm'];
  if (opt.clipGradNorm !== null && items.length > 0) {
    const gv: GradValue[] = items.map((x) => ({ value: x.g, dtype: x.weight.dtype }));
    const c = clipByGlobalNorm(e, gv, opt.clipGradNorm);
    grads = c.grads;
    gradNorm = { value: c.norm, dtype: c.normDtype };
  }
  const weights: string[] = [];
  const slots: string[][] = [];
  items.forEach((x, i) => {
    const r = opt.update(scoped(e, `opt/${x.weight.key}`), x.weight, { w: x.w, g: grads[i], slots: x.slots, lr, step });
    weights.push(r.w);
    slots.push(r.slots);
  });
  return gradNorm ? { weights, slots, gradNorm } : { weights, slots };
}

const noBindings = {
  weight: (n: string): never => { throw new HyperParamError('weights', `an optimizer update has no layer weight ${n}`); },
  state: (n: string): never => { throw new HyperParamError('weights', `an optimizer update has no layer state ${n}`); },
};

/** Nodes named after the weight they update (`opt/<key>/Mul`), when the emitter can say so. */
function scoped(e: Emitter, path: string): Emitter {
  return e instanceof ScopeEmitter ? e.forLayer(path, noBindings) : e;
}

// ---------------------------------------------------------------- a standalone update model

export interface UpdateModel {
  model: Model;
  /** graph input names */
  inputs: { step: string; weights: string[]; grads: string[]; slots: string[][] };
  /** graph output names */
  outputs: { lr: string; weights: string[]; slots: string[][]; gradNorm?: string };
  slotDecls: SlotDecl[][];
}

/**
 * A model that only updates: inputs `step`, the weights (by key), their
 * gradients (`grad/<key>`) and slots (by slot name); outputs the learning
 * rate, the new weights and slots (and the gradient norm when clipping).
 * What tests run, and a template for splicing the update into a step graph.
 */
export function updateModel(opt: Optimizer, weights: readonly WeightSpec[], schedule: Schedule, opts: { gpu?: boolean } = {}): UpdateModel {
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: !!opts.gpu, mode: 'train', seed: 0 };
  const scope = new Scope(state, 'graph');
  const info = (name: string, dtype: DType, shape: readonly number[]): ValueInfo => {
    scope.reserve(name);
    return { name, dtype, shape: [...shape] };
  };
  const stepIn = info('step', 'float32', []);
  const slotDecls = weights.map((w) => opt.slots(w));
  const wIn = weights.map((w) => info(w.key, w.dtype, w.shape));
  const gIn = weights.map((w) => info(`grad/${w.key}`, w.dtype, w.shape));
  const sIn = slotDecls.map((ds) => ds.map((d) => info(d.name, d.dtype, d.shape)));
  const e = new ScopeEmitter(scope, 'train');
  const lr = emitLearningRate(e, schedule, stepIn.name);
  const items = weights.map((weight, i) => ({ weight, w: wIn[i].name, g: gIn[i].name, slots: sIn[i].map((s) => s.name) }));
  const r = emitOptimizerStep(e, opt, items, lr, stepIn.name);
  const outputs: ValueInfo[] = [
    { name: lr, dtype: 'float32', shape: [] },
    ...r.weights.map((n, i) => ({ name: n, dtype: weights[i].dtype, shape: [...weights[i].shape] })),
    ...r.slots.flatMap((ss, i) => ss.map((n, j) => ({ name: n, dtype: slotDecls[i][j].dtype, shape: [...slotDecls[i][j].shape] }))),
  ];
  if (r.gradNorm) outputs.push({ name: r.gradNorm.value, dtype: r.gradNorm.dtype, shape: [] });
  const graph: Graph = { name: `strata-${opt.name}-update`, inputs: [stepIn, ...wIn, ...gIn, ...sIn.flat()], outputs, nodes: scope.nodes, initializers: [] };
  return {
    model: { graph, functions: [], producer: 'strata', metadata: { optimizer: opt.name } },
    inputs: { step: stepIn.name, weights: wIn.map((x) => x.name), grads: gIn.map((x) => x.name), slots: sIn.map((ss) => ss.map((s) => s.name)) },
    outputs: { lr, weights: r.weights, slots: r.slots, ...(r.gradNorm ? { gradNorm: r.gradNorm.value } : {}) },
    slotDecls,
  };
}
