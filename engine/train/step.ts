/**
 * The training step as ONE ONNX model: forward (train mode), loss and
 * metrics, backward (engine/autodiff), gradient clipping and the optimizer
 * update. Weights, optimizer slots, layer state, the step number and the
 * step's random salt are graph inputs; the loss, the metrics and the new
 * weights, slots and state are graph outputs, fed back as the next step's
 * inputs (on WebGPU without leaving the GPU). The eval graph is the same
 * tree in eval mode without the backward pass.
 *
 * Graph names: a weight's input is its training-tree key
 * (`Serial[0]/Serial[1]/Dense/kernel`), its new value `<key>:new`; a slot's
 * input `opt/<model key>/<slot>` and output `<that>:new`; `step` (float32,
 * counting from 1) and `rng_step` (int32).
 */
import type { Model, TensorValue, ValueInfo } from '../core/onnx';
import type { ShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import type { WeightDecl } from '../layers/def';
import { Scope, ScopeEmitter, type ModelState } from '../onnx/emit';
import { type Lowered, type WeightRef, RNG_INPUT, lowerDocument } from '../onnx/lower';
import { addGradients, graphNames } from '../autodiff';
import { type Optimizer, type SlotDecl, emitOptimizerStep } from './optimizers';
import { type Schedule, emitLearningRate } from './schedules';
import { modelKey, trainingTree } from './objective';

export interface StepConfig {
  /** the model (the document's root) */
  model: DocNode;
  /** the model's inputs, concrete (batch first) */
  modelInput: readonly ShapeDtype[];
  /** what the loss and metrics read after the model's output: targets, weights */
  extra: readonly ShapeDtype[];
  /** catalog kinds */
  loss: string;
  metrics: readonly string[];
  optimizer: Optimizer;
  schedule: Schedule;
  seed: number;
  /** lower for a GPU provider (only ops it places on the GPU) */
  gpu?: boolean;
  /** also output the model's own outputs (what an exported model gives): `StepGraph.outputs` */
  modelOutputs?: boolean;
  /** reversible layers recompute their residual functions in the backward pass instead of keeping activations */
  remat?: boolean;
}

export interface ParamIO {
  /** the model's key (`Serial[1]/Dense/kernel`): weights files and checkpoints */
  key: string;
  ref: WeightRef;
  input: string;
  /** absent: not updated by this graph (integer weights, state no layer writes) */
  output?: string;
}

export interface SlotIO {
  decl: SlotDecl;
  input: string;
  output: string;
}

export interface StepGraph {
  model: Model;
  /** graph input names of the data: model inputs, then targets and weights, in stack order */
  data: string[];
  /** trainable weights (and non-float weights, fed unchanged) */
  params: ParamIO[];
  /** layer state (carried from step to step where a layer updates it) */
  state: ParamIO[];
  slots: SlotIO[];
  /** scalar outputs: the loss, then each metric */
  loss: string;
  metrics: string[];
  /** with `modelOutputs`: the model's outputs, in stack order */
  outputs?: string[];
  /** float32 scalar input: the number of the update (1 for the first) */
  step?: string;
  rng?: string;
}

function lower(cfg: StepConfig, mode: 'train' | 'eval'): Lowered {
  const tree = trainingTree(cfg.model, cfg.loss, cfg.metrics);
  return lowerDocument({ root: tree, input: [...cfg.modelInput, ...cfg.extra] }, {
    mode,
    seed: cfg.seed,
    weights: 'inputs',
    stateIO: true,
    inlineFunctions: true,
    // no Scan/If: the backward pass is taken through the unrolled graph
    unroll: true,
    gpu: !!cfg.gpu,
    rngInput: mode === 'train',
    remat: mode === 'train' && !!cfg.remat,
    ...(cfg.modelOutputs ? { probes: [MODEL_EDGE], probeData: true } : {}),
  });
}

/** The edge after the model in the training tree (its outputs, before the loss). */
const MODEL_EDGE = 'Serial[0]';

function keyOf(ref: WeightRef): string {
  const k = modelKey(ref.key);
  if (k === undefined) throw new Error(`the loss or a metric declares a weight (${ref.key}): losses must have none`);
  return k;
}

function io(low: Lowered): { params: ParamIO[]; state: ParamIO[] } {
  const params: ParamIO[] = [];
  const seen = new Set<string>();
  for (const ref of low.weights) {
    if (ref.role !== 'weight' || seen.has(ref.key)) continue;
    seen.add(ref.key);
    params.push({ key: keyOf(ref), ref, input: ref.key });
  }
  const state = low.state.map((s) => ({ key: keyOf(s.ref), ref: s.ref, input: s.input, output: s.output }));
  return { params, state };
}

const isFloat = (d: WeightDecl): boolean => d.dtype === 'float32' || d.dtype === 'float64' || d.dtype === 'float16' || d.dtype === 'bfloat16';

export function buildTrainStep(cfg: StepConfig): StepGraph {
  const low = lower(cfg, 'train');
  const { params, state } = io(low);
  const loss = low.outputs[0].name;
  const trainable = params.filter((p) => isFloat(p.ref.decl));
  const { model: gm, grads } = addGradients(low.model, { loss, wrt: trainable.map((p) => p.input), stop: low.stopGradients, outputs: false });

  // the update, appended to the same graph
  const ms: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: !!cfg.gpu, mode: 'train', seed: cfg.seed };
  const scope = new Scope(ms, 'graph');
  for (const n of graphNames(gm.graph)) scope.reserve(n);
  const e = new ScopeEmitter(scope, 'update');
  const stepName = 'step';
  scope.reserve(stepName);
  const lr = emitLearningRate(e, cfg.schedule, stepName);
  const newInputs: ValueInfo[] = [{ name: stepName, dtype: 'float32', shape: [] }];
  const newOutputs: ValueInfo[] = [];
  const slots: SlotIO[] = [];
  const identity = (value: string, name: string): void => { scope.reserve(name); scope.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], name }); };
  const items = trainable.map((p) => {
    const weight = { key: p.key, dtype: p.ref.decl.dtype, shape: p.ref.decl.shape.map(Number) };
    const decls = cfg.optimizer.slots(weight);
    for (const d of decls) { scope.reserve(d.name); newInputs.push({ name: d.name, dtype: d.dtype, shape: [...d.shape] }); }
    return { weight, decls, w: p.input, g: grads.get(p.input)!, slots: decls.map((d) => d.name) };
  });
  const upd = emitOptimizerStep(e, cfg.optimizer, items, lr, stepName);
  trainable.forEach((p, i) => {
    p.output = `${p.input}:new`;
    identity(upd.weights[i], p.output);
    newOutputs.push({ name: p.output, dtype: p.ref.decl.dtype, shape: p.ref.decl.shape.map(Number) });
    items[i].decls.forEach((d, j) => {
      const out = `${d.name}:new`;
      identity(upd.slots[i][j], out);
      newOutputs.push({ name: out, dtype: d.dtype, shape: [...d.shape] });
      slots.push({ decl: d, input: d.name, output: out });
    });
  });
  const lrOut = 'lr';
  identity(lr, lrOut);
  newOutputs.push({ name: lrOut, dtype: 'float32', shape: [] });

  const graph = gm.graph;
  const model: Model = {
    ...gm,
    graph: { ...graph, inputs: [...graph.inputs, ...newInputs], outputs: [...graph.outputs, ...newOutputs], nodes: [...graph.nodes, ...scope.nodes] },
  };
  return {
    model,
    data: low.inputs.map((i) => i.name),
    params,
    state,
    slots,
    loss,
    metrics: low.outputs.slice(1, 1 + cfg.metrics.length).map((o) => o.name),
    step: stepName,
    rng: RNG_INPUT,
  };
}

/** Forward, loss and metrics in eval mode (weights as inputs): the evaluation graph. */
export function buildEvalGraph(cfg: StepConfig): StepGraph {
  const low = lower(cfg, 'eval');
  const { params, state } = io(low);
  const g: StepGraph = { model: low.model, data: low.inputs.map((i) => i.name), params, state, slots: [], loss: low.outputs[0].name, metrics: low.outputs.slice(1, 1 + cfg.metrics.length).map((o) => o.name) };
  if (cfg.modelOutputs) {
    const nOut = low.trace.root.children[0].outputs?.length ?? 0;
    g.outputs = low.probes.filter((p) => p.path === MODEL_EDGE && p.index < nOut).map((p) => p.dataOutput!);
  }
  return g;
}

/** A slot's initial value. */
export function slotValue(d: SlotDecl): TensorValue {
  const n = d.shape.reduce((a, x) => a * x, 1);
  if (d.dtype === 'float64') return { dtype: 'float64', dims: [...d.shape], data: new Float64Array(n).fill(d.fill) };
  if (d.dtype !== 'float32') throw new Error(`optimizer slot ${d.name} is ${d.dtype}: only float32 and float64 slots are supported`);
  return { dtype: 'float32', dims: [...d.shape], data: new Float32Array(n).fill(d.fill) };
}
