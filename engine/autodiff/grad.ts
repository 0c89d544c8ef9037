/**
 * Reverse-mode autodiff over a lowered ONNX model: appends the backward
 * nodes of d loss / d wrt to the main graph (engine/autodiff/README.md).
 *
 * 1. Calls of model-local functions that take a value depending on `wrt`
 *    are inlined (inline.ts), except functions with a registered custom VJP
 *    (`registerFunctionVjp`: Trax's has_backward), which stay calls.
 * 2. Every value gets a static type (shapes.ts).
 * 3. Pruning: only nodes on a path wrt -> loss are differentiated, and a
 *    rule is asked only for the inputs that need a gradient (`needGI`).
 * 4. Nodes are visited in reverse order; each value's gradient is summed
 *    once, when its producer needs it (one accumulation per value, named
 *    `<value>_grad`); a missing output gradient is zeros of its shape.
 * 5. Every gradient a rule returns is checked against its input's shape and
 *    dtype, so a wrong rule fails here with the op's name, not in onnxruntime.
 */
import type { ElemType, Model, OnnxNode, ValueInfo } from '../core/onnx';
import { STRATA_DOMAIN } from '../core/onnx';
import { GraphBuilder, Names } from './builder';
import { graphNames, inlineFunctions, nodeInputs } from './inline';
import { NON_DIFFERENTIABLE, type NonDiffEntry, VJP, type VjpContext, type VjpRule } from './rules';
import { AutodiffError, Shapes, formatType, isFloatType, numel } from './shapes';

// ---------------------------------------------------------------- custom VJPs of functions (has_backward)

const functionVjps = new Map<string, VjpRule>();

/**
 * Gives the model-local function `name` (ai.strata.<name>, also its
 * numbered variants `<name>_2`, … that lowering makes for other shapes) its
 * own VJP: calls of it stay calls and are differentiated by `rule` instead
 * of by the rules of the ops in its body. The rule sees the call node:
 * `I(i)`/`O(i)` are the call's arguments/results.
 */
export function registerFunctionVjp(name: string, rule: VjpRule): void {
  functionVjps.set(name, rule);
}

/** Removes a registration (tests). */
export function unregisterFunctionVjp(name: string): void {
  functionVjps.delete(name);
}

export function functionVjp(fname: string): VjpRule | undefined {
  return functionVjps.get(fname) ?? functionVjps.get(fname.replace(/_\d+$/, ''));
}

// ---------------------------------------------------------------- the pass

export interface GradientOptions {
  /** a scalar float value (any shape with one element) */
  loss: string;
  /** values to differentiate with respect to (graph inputs: weights, stack inputs) */
  wrt: readonly string[];
  /** values treated as constants (JAX's stop_gradient; the lowering's `stopGradients`): no gradient flows through them */
  stop?: Iterable<string>;
  /** add each gradient as a graph output named `<wrt>_grad` (default true) */
  outputs?: boolean;
  /**
   * how a value's several gradient contributions are summed: a chain of Add
   * (default: every provider runs it; WebGPU has no variadic Sum) or one n-ary Sum
   */
  accumulate?: 'Add' | 'Sum';
}

export interface Gradients {
  model: Model;
  /** wrt name -> the value holding d loss / d wrt */
  grads: Map<string, string>;
  /** wrt names the loss does not depend on differentiably (their gradient is zeros) */
  unreached: string[];
}

type Node = OnnxNode;

function ruleOf(n: Node): VjpRule | NonDiffEntry | undefined {
  if (n.domain === STRATA_DOMAIN) return functionVjp(n.op);
  if (n.domain) return undefined;
  return (VJP as Record<string, VjpRule>)[n.op] ?? (NON_DIFFERENTIABLE as Record<string, NonDiffEntry>)[n.op];
}
const isRule = (r: VjpRule | NonDiffEntry | undefined): r is VjpRule => !!r && 'vjp' in r;
const nodeLabel = (n: Node): string => `${n.domain ? `${n.domain}.` : ''}${n.op} node '${n.name ?? n.outputs[0]}'`;

/** Values that depend on `wrt` through the graph (any op, any dtype: the set that decides what to inline). */
function dependents(nodes: readonly Node[], wrt: readonly string[]): Set<string> {
  const dep = new Set(wrt);
  for (const n of nodes) if (nodeInputs(n).some((v) => dep.has(v))) for (const o of n.outputs) dep.add(o);
  return dep;
}

/** Inlines, round by round, the function calls that take a value depending on wrt (nested calls surface one level a round). */
function inlineOnPath(model: Model, wrt: readonly string[]): Model {
  for (;;) {
    const dep = dependents(model.graph.nodes, wrt);
    const chosen = new Set(model.graph.nodes.filter((n) => n.domain === STRATA_DOMAIN && !functionVjp(n.op) && n.inputs.some((v) => dep.has(v))));
    if (!chosen.size) return model;
    model = inlineFunctions(model, (call) => chosen.has(call));
  }
}

export function addGradients(input: Model, opts: GradientOptions): Gradients {
  const model = inlineOnPath(input, opts.wrt);
  const g = model.graph;
  const shapes = Shapes.ofModel(model);
  const names = new Names(graphNames(g));
  const b = new GraphBuilder(shapes, names);
  for (const w of opts.wrt) if (!shapes.has(w)) throw new AutodiffError(`wrt value '${w}' is not in the graph`);
  if (!shapes.has(opts.loss)) throw new AutodiffError(`loss value '${opts.loss}' is not in the graph`);
  const lossType = shapes.type(opts.loss);
  if (!isFloatType(lossType.dtype) || numel(lossType.shape) !== 1) throw new AutodiffError(`the loss must be a float scalar, but '${opts.loss}' is ${formatType(lossType)}`);
  const float = (v: string): boolean => !!v && isFloatType(shapes.dtype(v));

  // active: float values that depend differentiably on wrt
  const active = new Set(opts.wrt.filter(float));
  const stop = new Set(opts.stop ?? []);
  for (const n of g.nodes) {
    const r = ruleOf(n);
    if (!isRule(r) || !nodeInputs(n).some((v) => active.has(v))) continue;
    for (const o of n.outputs) if (float(o) && !stop.has(o)) active.add(o);
  }
  // reaching: values the loss depends on (through anything), and the differentiable part of it
  const reaches = new Set([opts.loss]);
  const needed = new Set([opts.loss]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (!n.outputs.some((o) => reaches.has(o))) continue;
    for (const v of nodeInputs(n)) if (v) reaches.add(v);
    const r = ruleOf(n);
    const onPath = nodeInputs(n).some((v) => active.has(v));
    if (onPath && !r) throw new AutodiffError(`${nodeLabel(n)} has no VJP rule${n.domain === STRATA_DOMAIN ? ' (register one with registerFunctionVjp)' : ''}`);
    if (onPath && r && !isRule(r) && r.onPath === 'error') throw new AutodiffError(`${nodeLabel(n)} is on a path from a variable to the loss: ${r.why}`);
    if (!isRule(r) || !n.outputs.some((o) => needed.has(o))) continue;
    n.inputs.forEach((v, j) => {
      if (!active.has(v)) return;
      if (r.nonDiff?.includes(j)) throw new AutodiffError(`${nodeLabel(n)}: input ${j} ('${v}') depends on a variable, but this rule gives no gradient for it`);
      needed.add(v);
    });
  }

  // the backward pass
  const contributions = new Map<string, string[]>();
  const accumulated = new Map<string, string | undefined>();
  const add = (v: string, grad: string): void => { const l = contributions.get(v); if (l) l.push(grad); else contributions.set(v, [grad]); };
  const gradOf = (v: string): string | undefined => {
    if (accumulated.has(v)) return accumulated.get(v);
    const parts = contributions.get(v) ?? [];
    let sum: string | undefined;
    if (parts.length === 1) sum = parts[0];
    else if (parts.length > 1) {
      const prefix = b.prefix;
      b.prefix = `${v}_grad`;
      const name = names.fresh(`${v}_grad`);
      if (opts.accumulate === 'Sum') sum = b.op1('Sum', parts, undefined, name);
      else {
        sum = parts[0];
        for (let j = 1; j < parts.length; j++) sum = b.op1('Add', [sum, parts[j]], undefined, j === parts.length - 1 ? name : undefined);
      }
      b.prefix = prefix;
    }
    accumulated.set(v, sum);
    return sum;
  };
  const ltype = shapes.type(opts.loss);
  add(opts.loss, b.tensor(ltype.dtype, [1], ltype.shape));

  const forwardNames = new Set(names.all());
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    const r = ruleOf(n);
    if (!isRule(r) || !n.outputs.some((o) => needed.has(o))) continue;
    const need = n.inputs.map((v, j) => needed.has(v) && active.has(v) && !r.nonDiff?.includes(j));
    if (!need.some((x) => x)) continue;
    b.prefix = `${n.name ?? n.outputs[0]}_grad`;
    const ctx: VjpContext = {
      node: n, b,
      I: (j) => n.inputs[j] ?? '',
      O: (j) => n.outputs[j],
      GO: (j) => { const o = n.outputs[j]; return (o && gradOf(o)) ?? b.zeros(shapes.shape(o), shapes.dtype(o)); },
      hasGO: (j) => !!n.outputs[j] && gradOf(n.outputs[j]) !== undefined,
      needGI: (j) => need[j] ?? false,
      shape: (v) => shapes.shape(v),
      dtype: (v) => shapes.dtype(v),
      values: (v) => shapes.values(v),
      fn: n.domain === STRATA_DOMAIN ? model.functions.find((f) => f.name === n.op) : undefined,
    };
    const gis = r.vjp(ctx);
    need.forEach((yes, j) => {
      if (!yes) return;
      const gi = gis[j];
      const x = n.inputs[j];
      if (!gi) throw new AutodiffError(`the VJP rule of ${nodeLabel(n)} gave no gradient for input ${j} ('${x}')`);
      const want = shapes.type(x), got = shapes.type(gi);
      if (want.dtype !== got.dtype || want.shape.length !== got.shape.length || want.shape.some((d, k) => d !== got.shape[k])) {
        throw new AutodiffError(`the VJP rule of ${nodeLabel(n)} gave ${formatType(got)} for input ${j} ('${x}'), expected ${formatType(want)}`);
      }
      add(x, gi);
    });
  }

  // results: d loss / d wrt (zeros where the loss does not depend on it)
  b.prefix = '';
  const unreached: string[] = [];
  const grads = new Map<string, string>();
  for (const w of opts.wrt) {
    const gw = active.has(w) ? gradOf(w) : undefined;
    if (gw) grads.set(w, gw);
    else { unreached.push(w); grads.set(w, b.zeros(shapes.shape(w), shapes.dtype(w))); }
  }

  // deterministic names: a gradient made by one rule for one value becomes `<value>_grad`
  const owners = new Map<string, string[]>();
  for (const [v, gv] of accumulated) if (gv) owners.set(gv, [...(owners.get(gv) ?? []), v]);
  const rename = new Map<string, string>();
  for (const [gv, vs] of owners) {
    if (vs.length !== 1 || forwardNames.has(gv) || gv.endsWith('_grad') || !b.nodes.some((n) => n.outputs.includes(gv))) continue;
    rename.set(gv, names.fresh(`${vs[0]}_grad`));
  }
  const rn = (v: string): string => rename.get(v) ?? v;
  for (const n of b.nodes) {
    n.inputs = n.inputs.map(rn);
    n.outputs = n.outputs.map(rn);
    if (n.name) n.name = rn(n.name);
  }
  for (const [w, gw] of grads) grads.set(w, rn(gw));

  const outputs: ValueInfo[] = [];
  if (opts.outputs !== false) {
    for (const [w, gw] of grads) {
      let name = gw;
      if (name !== `${w}_grad` || outputs.some((o) => o.name === name)) {
        name = names.fresh(`${w}_grad`);
        b.nodes.push({ op: 'Identity', inputs: [gw], outputs: [name], name });
      }
      const t = shapes.type(w);
      outputs.push({ name, dtype: t.dtype as ElemType, shape: [...t.shape] });
      grads.set(w, name);
    }
  }
  const graph = { ...g, nodes: [...g.nodes, ...b.nodes], outputs: [...g.outputs, ...outputs] };
  return { model: { ...model, graph }, grads, unreached };
}
