/**
 * Lowering: the traced tree → an ONNX model. Walks the tree with the stack
 * discipline (combinators wire value names, leaves emit nodes through their
 * `lower`), binds weights by tree path, and can make any edge a graph output
 * (a probe) with its statistics computed in the graph.
 */
import { LayerError, type ModelError } from '../core/errors';
import type { Graph, Model, OnnxNode, TensorValue, ValueInfo, ElemType, LowerSig } from '../core/onnx';
import { STRATA_DOMAIN } from '../core/onnx';
import { type ShapeDtype, formatShapeDtype } from '../core/shape';
import type { LowerKids, Mode, WeightDecl } from '../layers/def';
import type { DocNode, StrataDocument } from '../document/schema';
import { type DocumentTrace, type NodeTrace, childPath, forEachNode, traceDocument } from '../document/trace';
import { Scope, ScopeEmitter, type ModelState } from './emit';

/** Lowering failed on the model (a trace error, symbolic sizes, a layer without lowering). */
export class LowerError extends Error {
  constructor(readonly error: ModelError) {
    super(error.message);
    this.name = 'LowerError';
  }
}

export interface WeightRef {
  /** the key in the weights file: `Serial[1]/Dense/kernel` */
  key: string;
  decl: WeightDecl;
  /** trainable weight or state */
  role: 'weight' | 'state';
}

export interface ProbeRef {
  /** layer location whose after-edge this is ('' = the model's output) */
  path: string;
  kind: string;
  /** position on the stack, 0 = top */
  index: number;
  /** the value name in the graph */
  value: string;
  sig: ShapeDtype;
  /** graph outputs holding [min, max, mean, std, nan_count, inf_count] and, if requested, the data */
  statsOutput: string;
  dataOutput?: string;
}

export interface LowerOptions {
  mode?: Mode;
  seed?: number;
  /** inline Strata's model-local functions (needed for probes inside them) */
  inlineFunctions?: boolean;
  /** lower for a GPU provider: no control-flow ops (Scan/If unroll) */
  gpu?: boolean;
  /**
   * No control flow: Scan and If unroll as for `gpu`, but dtypes stay as
   * they are (gpu also computes bfloat16 as float32). For training graphs:
   * autodiff has no rules for Scan/If.
   */
  unroll?: boolean;
  /** edges to probe: 'all', or layer paths (`Serial[1]`; '' = the model's output) */
  probes?: 'all' | string[];
  /** also return the probed tensors themselves (not only their statistics) */
  probeData?: boolean;
  /**
   * Where weights live: baked in as initializers (values from `weightValue`),
   * or graph inputs named by their keys (training, weights that stay on a device).
   */
  weights?: 'initializers' | 'inputs';
  /**
   * Carry state across runs: state tensors become graph inputs (`state:<key>`)
   * and their new values graph outputs (`state_out:<key>`); else state is
   * fixed at its initial value (initializers).
   */
  stateIO?: boolean;
  weightValue?: (ref: WeightRef) => TensorValue;
  /**
   * Training: an int32 scalar graph input `rng_step` that random streams
   * (dropout) mix in, so each step draws new masks from the same graph.
   */
  rngInput?: boolean;
  /**
   * Training with recomputation: reversible layers' residual functions become
   * kept `Remat` functions whose backward recomputes them (engine/autodiff's
   * remat VJP) instead of keeping their activations.
   */
  remat?: boolean;
}

export interface StateIO {
  ref: WeightRef;
  /** the graph input holding the state before the run */
  input: string;
  /** the graph output with its value after the run (absent: unchanged) */
  output?: string;
}

export interface Lowered {
  model: Model;
  /** with stateIO: every state tensor's input and, where a layer updates it, output */
  state: StateIO[];
  inputs: ValueInfo[];
  /** the model's outputs, then inputs the root did not consume */
  outputs: ValueInfo[];
  weights: WeightRef[];
  probes: ProbeRef[];
  trace: DocumentTrace;
  /** values no gradient flows back through (Emitter.stopGradient): addGradients' `stop` */
  stopGradients: string[];
}

/** A node's structure without ids (the key of a function lowered from it). */
function structureKey(n: DocNode): string {
  const strip = (x: DocNode): unknown => ({
    k: x.kind, p: x.params ?? {},
    c: (x.children ?? []).map(strip),
    s: Object.fromEntries(Object.entries(x.slots ?? {}).map(([k, v]) => [k, v ? strip(v) : null])),
  });
  return JSON.stringify(strip(n));
}

/** The graph input that salts random streams per training step (LowerOptions.rngInput). */
export const RNG_INPUT = 'rng_step';

export function weightKey(path: string, kind: string, name: string): string {
  return `${path ? `${path.replace(/ > /g, '/')}/` : ''}${kind}/${name}`;
}

function fail(code: ModelError['code'], message: string, path = '', kind = ''): never {
  throw new LowerError({ code, path, kind, message: path || kind ? `${path ? `${path} > ` : ''}${kind}: ${message}` : message });
}

function concrete(sig: readonly ShapeDtype[], path: string, kind: string): void {
  for (const x of sig) {
    if (x.shape.some((d) => typeof d !== 'number')) {
      fail('unsupported', `lowering needs concrete sizes, but this layer sees ${formatShapeDtype(x)}; give concrete input sizes (e.g. float32[8,128])`, path, kind);
    }
  }
}

function valueInfo(name: string, x: ShapeDtype): ValueInfo {
  return { name, dtype: x.dtype, shape: [...x.shape] };
}

export function lowerDocument(doc: Pick<StrataDocument, 'root' | 'input'>, opts: LowerOptions = {}): Lowered {
  const trace = traceDocument(doc);
  if (trace.errors.length) throw new LowerError(trace.errors[0]);
  concrete(trace.input, '', doc.root.kind);
  const mode = opts.mode ?? 'eval';
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: !!opts.inlineFunctions, gpu: !!opts.gpu, unroll: !!opts.unroll, mode, seed: opts.seed ?? 0 };
  state.stateIO = !!opts.stateIO;
  state.remat = !!opts.remat;
  const main = new Scope(state, 'graph');
  const rngInputs: ValueInfo[] = [];
  if (opts.rngInput) {
    state.rngInput = RNG_INPUT;
    main.reserve(RNG_INPUT);
    rngInputs.push({ name: RNG_INPUT, dtype: 'int32', shape: [] });
  }

  // where every node sits (weight keys, sharing by id)
  const where = new Map<string, { path: string; kind: string }>();
  forEachNode(trace.root, (t, path) => { where.set(t.node.id, { path, kind: t.node.kind }); });

  const weights: WeightRef[] = [];
  const weightNames = new Map<string, string>();
  const initializers: { name: string; value: TensorValue }[] = [];
  const weightInputs: ValueInfo[] = [];
  const stateIO: StateIO[] = [];
  const stateInputs: ValueInfo[] = [];
  const bindValue = (ref: WeightRef): string => {
    const hit = weightNames.get(ref.key);
    if (hit) return hit;
    if (opts.stateIO && ref.role === 'state') {
      const name = `state:${ref.key}`;
      main.reserve(name);
      weightNames.set(ref.key, name);
      weights.push(ref);
      stateIO.push({ ref, input: name });
      stateInputs.push({ name, dtype: ref.decl.dtype, shape: ref.decl.shape.map(Number) });
      return name;
    }
    main.reserve(ref.key);
    weightNames.set(ref.key, ref.key);
    weights.push(ref);
    if (opts.weights === 'inputs' && ref.role === 'weight') {
      weightInputs.push({ name: ref.key, dtype: ref.decl.dtype, shape: ref.decl.shape.map(Number) });
    } else {
      if (!opts.weightValue) fail('unsupported', `no value for weight ${ref.key}`);
      const value = opts.weightValue(ref);
      initializers.push({ name: ref.key, value: opts.gpu && value.dtype === 'bfloat16' ? bfloat16AsFloat32(value) : value });
    }
    return ref.key;
  };

  const inputs: ValueInfo[] = trace.input.map((x, i) => valueInfo(`input_${i}`, x));
  inputs.forEach((x) => state.dtypes.set(x.name, x.dtype as ShapeDtype['dtype']));
  for (const i of inputs) main.reserve(i.name);
  const afterEdges = new Map<string, { kind: string; values: string[]; sigs: ShapeDtype[] }>();

  const lowerTrace = (t: NodeTrace, path: string, ins: string[], e: ScopeEmitter, segKind = t.node.kind): string[] => {
    const def = t.analysis.def;
    const kind = t.node.kind;
    if (!def || !t.inputs || !t.outputs) fail('construct', 'this layer has no known inputs', path, kind);
    if (t.expansion) {
      const ex = t.expansion;
      if (def.lowerAsFunction) {
        // everything that shapes the body: parameters, layer arguments and children (not ids), input shapes, mode
        const key = `${kind}:${structureKey(t.node)}:${t.inputs.map(formatShapeDtype).join(';')}:${mode}:${opts.gpu ? 'gpu' : ''}${opts.unroll ? 'unroll' : ''}`;
        return e.fn(kind, key, ins, t.outputs.length, (fe, fins) => lowerTrace(ex, path, fins, fe as ScopeEmitter, kind), def.summary);
      }
      return lowerTrace(ex, path, ins, e, kind);
    }
    if (!def.lower) fail('unsupported', `${kind} has no ONNX lowering yet`, path, kind);
    concrete(t.inputs, path, kind);
    concrete(t.outputs, path, kind);
    const owner = t.node.shareWeightsOf ? where.get(t.node.shareWeightsOf) : undefined;
    const wPath = owner?.path ?? path, wKind = owner?.kind ?? kind;
    const bindings = {
      weight: (name: string) => {
        const decl = t.weights.find((w) => w.name === name);
        if (!decl) fail('construct', `lowering asks for weight '${name}', which ${kind} does not declare`, path, kind);
        return bindValue({ key: weightKey(wPath, wKind, name), decl, role: 'weight' });
      },
      state: (name: string) => {
        const decl = t.state.find((w) => w.name === name);
        if (!decl) fail('construct', `lowering asks for state '${name}', which ${kind} does not declare`, path, kind);
        return bindValue({ key: weightKey(path, kind, name), decl, role: 'state' });
      },
      setState: (name: string, value: string) => {
        if (!opts.stateIO) return;
        const key = weightKey(path, kind, name);
        bindings.state(name);
        const io = stateIO.find((x) => x.ref.key === key)!;
        const out = main.fresh(`state_out:${key}`);
        main.nodes.push({ op: 'Identity', inputs: [value], outputs: [out], name: out });
        io.output = out;
      },
    };
    const le = e.forLayer(path ? `${path.replace(/ > /g, '/')}/${kind}` : kind, bindings);
    const sig: LowerSig = { inputs: t.inputs, outputs: t.outputs };
    const kidPath = (k: number | string): string => childPath(path, segKind, k);
    const record = (p: string, k: string, values: string[], sigs: ShapeDtype[]): void => {
      if (e.scope.kind === 'graph') afterEdges.set(p, { kind: k, values, sigs });
    };
    const kids: LowerKids = {
      nChildren: t.children.length,
      childArity: (i) => t.children[i].analysis.arity!,
      slotArity: (name) => t.slots[name]?.analysis.arity ?? null,
      child: (i, vals) => {
        const c = t.children[i];
        const out = lowerTrace(c, kidPath(i), vals, e);
        record(kidPath(i), c.node.kind, out, c.outputs ?? []);
        return out;
      },
      slot: (name, vals) => {
        const c = t.slots[name];
        if (!c) fail('construct', `missing layer argument ${name}`, path, kind);
        const out = lowerTrace(c, kidPath(name), vals, e);
        record(kidPath(name), c.node.kind, out, c.outputs ?? []);
        return out;
      },
      series: (stack, from = 0, to = t.children.length) => {
        let cur = [...stack];
        for (let i = from; i < to; i++) {
          const c = t.children[i];
          const a = c.analysis.arity!;
          const out = lowerTrace(c, kidPath(i), cur.slice(0, a.nIn), e);
          cur = [...out, ...cur.slice(a.nIn)];
          const after = t.stacks?.[i + 1];
          record(kidPath(i), c.node.kind, cur, after ?? c.outputs ?? []);
        }
        return cur;
      },
      seriesIn: (se, stack) => {
        let cur = [...stack];
        t.children.forEach((c, i) => {
          const a = c.analysis.arity!;
          cur = [...lowerTrace(c, kidPath(i), cur.slice(0, a.nIn), se as ScopeEmitter), ...cur.slice(a.nIn)];
        });
        return cur;
      },
      slotIn: (se, name, vals) => {
        const c = t.slots[name];
        if (!c) fail('construct', `missing layer argument ${name}`, path, kind);
        return lowerTrace(c, kidPath(name), vals, se as ScopeEmitter);
      },
      slotSig: (name) => {
        const c = t.slots[name];
        if (!c || !c.inputs || !c.outputs) fail('construct', `missing layer argument ${name}`, path, kind);
        return { inputs: c.inputs, outputs: c.outputs };
      },
    };
    try {
      const out = def.lower(le, ins, t.analysis.params, sig, kids);
      if (out.length !== t.outputs.length) fail('construct', `lowering gave ${out.length} outputs, expected ${t.outputs.length} (a bug in Strata)`, path, kind);
      out.forEach((v, i) => { if (!state.dtypes.has(v)) state.dtypes.set(v, t.outputs![i].dtype); });
      return out;
    } catch (err) {
      if (err instanceof LowerError) throw err;
      if (err instanceof LayerError) fail(err.code, err.message, path, kind);
      throw err;
    }
  };

  const rootArity = trace.root.analysis.arity!;
  const e = new ScopeEmitter(main, '');
  // onnxruntime's JavaScript API has no bfloat16 tensors: such inputs and outputs cross as float32, cast in the graph
  const inputValues = inputs.map((info) => {
    if (info.dtype !== 'bfloat16') return info.name;
    if (opts.gpu) { info.dtype = 'float32'; return info.name; }
    info.dtype = 'float32';
    const v = main.fresh(`${info.name}/bfloat16`);
    main.nodes.push({ op: 'Cast', inputs: [info.name], outputs: [v], name: v, attrs: { to: { int: 16 } } });
    state.dtypes.set(v, 'bfloat16');
    return v;
  });
  const rootOut = lowerTrace(trace.root, '', inputValues.slice(0, rootArity.nIn), e);
  const finalStack = [...rootOut, ...inputValues.slice(rootArity.nIn)];
  afterEdges.set('', { kind: trace.root.node.kind, values: finalStack, sigs: trace.output ?? [] });

  // outputs: Identity copies with stable names
  // outputs: `output_i` copies, except where a copy would leave the GPU (Identity has no bool kernel there):
  // an input passed through is its own output, a bool value is named as it is
  const inputNames = new Set(inputs.map((i) => i.name));
  const usedNames = new Set<string>();
  const outputs: ValueInfo[] = finalStack.map((v, i) => {
    const sig = trace.output![i];
    if (sig.dtype === 'bfloat16' && opts.gpu) {
      const name = `output_${i}`;
      main.reserve(name);
      main.nodes.push({ op: 'Identity', inputs: [v], outputs: [name], name });
      return { ...valueInfo(name, sig), dtype: 'float32' };
    }
    if (sig.dtype === 'bfloat16') {
      const name = `output_${i}`;
      main.reserve(name);
      main.nodes.push({ op: 'Cast', inputs: [v], outputs: [name], name, attrs: { to: { int: 1 } } });
      return { ...valueInfo(name, sig), dtype: 'float32' };
    }
    if ((inputNames.has(v) || sig.dtype === 'bool') && !usedNames.has(v)) {
      usedNames.add(v);
      return valueInfo(v, sig);
    }
    const name = `output_${i}`;
    main.reserve(name);
    main.nodes.push({ op: 'Identity', inputs: [v], outputs: [name], name });
    usedNames.add(name);
    return valueInfo(name, sig);
  });

  // probes: the after-edge of each chosen layer, with statistics computed in the graph
  const probes: ProbeRef[] = [];
  const probeOutputs: ValueInfo[] = [];
  if (opts.probes) {
    const wanted = opts.probes === 'all' ? [...afterEdges.keys()] : opts.probes;
    const statsDone = new Map<string, string>();
    for (const p of wanted) {
      const edge = afterEdges.get(p);
      if (!edge) {
        fail('bad_param', `no layer at probe path '${p}'${opts.inlineFunctions ? '' : ' (probes inside Strata functions need --inline-functions)'}`);
      }
      edge.values.forEach((v, index) => {
        const sig = edge.sigs[index];
        let statsOutput = statsDone.get(v);
        if (!statsOutput) {
          statsOutput = emitStats(main, v, sig);
          statsDone.set(v, statsOutput);
          probeOutputs.push({ name: statsOutput, dtype: 'float32', shape: [6] });
        }
        const ref: ProbeRef = { path: p, kind: edge.kind, index, value: v, sig, statsOutput };
        if (opts.probeData) {
          const name = main.fresh(`probe/${p || 'output'}#${index}`);
          main.nodes.push({ op: 'Identity', inputs: [v], outputs: [name], name });
          probeOutputs.push(valueInfo(name, sig));
          ref.dataOutput = name;
        }
        probes.push(ref);
      });
    }
  }

  const stateOutputs: ValueInfo[] = stateIO.filter((x) => x.output).map((x) => ({ name: x.output!, dtype: x.ref.decl.dtype, shape: x.ref.decl.shape.map(Number) }));
  const graph: Graph = {
    name: 'strata',
    inputs: [...inputs, ...weightInputs, ...stateInputs, ...rngInputs],
    outputs: [...outputs, ...probeOutputs, ...stateOutputs],
    nodes: main.nodes,
    initializers,
  };
  const model: Model = {
    graph,
    functions: [...state.functions.values()].map((f) => { const { captured: _c, passthrough: _p, ...rest } = f as typeof f & { captured?: unknown; passthrough?: unknown }; return rest; }),
    producer: 'strata',
    metadata: { mode, seed: String(state.seed) },
  };
  return { model, inputs, outputs, weights, probes, trace, state: stateIO, stopGradients: [...state.stopGradients ?? []] };
}

/** bfloat16 bits (the upper half of a float32) as float32 values. */
function bfloat16AsFloat32(v: TensorValue): TensorValue {
  const bits = v.data as Uint16Array;
  const out = new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return { dtype: 'float32', dims: v.dims, data: out };
}

/** [min, max, mean, std, nan_count, inf_count] of a value, as one float32[6] graph output. */
function emitStats(scope: Scope, v: string, sig: ShapeDtype): string {
  const e = new ScopeEmitter(scope, `stats/${v}`);
  const x = sig.dtype === 'float32' ? v : e.op1('Cast', [v], { to: { int: 1 } });
  const flat = e.op1('Reshape', [x, e.i64([-1])]);
  const n = sig.shape.reduce<number>((a, d) => a * Number(d), 1);
  if (n === 0) return e.op1('Identity', [e.f32([NaN, NaN, NaN, NaN, 0, 0])]);
  const isNan = e.op1('Not', [e.op1('Equal', [flat, flat])]);
  const isInf = e.op1('Equal', [e.op1('Abs', [flat]), e.f32(Infinity)]);
  // (Or is not on every GPU provider; |x| < inf is false for NaN and for ±inf)
  const finite = e.op1('Less', [e.op1('Abs', [flat]), e.f32(Infinity)]);
  const zero = e.f32(0);
  const clean = e.op1('Where', [finite, flat, zero]);
  const nFinite = e.op1('ReduceSum', [e.op1('Cast', [finite], { to: { int: 1 } })], { keepdims: { int: 1 } });
  const big = e.f32(3.4e38);
  const minV = e.op1('ReduceMin', [e.op1('Where', [finite, flat, big])], { keepdims: { int: 1 } });
  const maxV = e.op1('ReduceMax', [e.op1('Where', [finite, flat, e.f32(-3.4e38)])], { keepdims: { int: 1 } });
  const denom = e.op1('Max', [nFinite, e.f32(1)]);
  const mean = e.op1('Div', [e.op1('ReduceSum', [clean], { keepdims: { int: 1 } }), denom]);
  const centered = e.op1('Where', [finite, e.op1('Sub', [flat, mean]), zero]);
  const varV = e.op1('Div', [e.op1('ReduceSum', [e.op1('Mul', [centered, centered])], { keepdims: { int: 1 } }), denom]);
  const std = e.op1('Sqrt', [varV]);
  const nan = e.op1('ReduceSum', [e.op1('Cast', [isNan], { to: { int: 1 } })], { keepdims: { int: 1 } });
  const inf = e.op1('ReduceSum', [e.op1('Cast', [isInf], { to: { int: 1 } })], { keepdims: { int: 1 } });
  return e.op1('Concat', [minV, maxV, mean, std, nan, inf], { axis: { int: 0 } });
}

export function elemTypeOf(x: ShapeDtype): ElemType {
  return x.dtype;
}

/** Nodes of all graphs (main, subgraphs, functions), for tests and the text form. */
export function allNodes(model: Model): OnnxNode[] {
  const out: OnnxNode[] = [];
  const walk = (nodes: OnnxNode[]): void => {
    for (const n of nodes) {
      out.push(n);
      for (const a of Object.values(n.attrs ?? {})) if ('graph' in a) walk(a.graph.nodes);
    }
  };
  walk(model.graph.nodes);
  for (const f of model.functions) walk(f.nodes);
  return out;
}

export { STRATA_DOMAIN };
