/**
 * The Emitter: how layers add ONNX nodes. Names are unique per graph and
 * carry the layer's tree path (`Serial[2]/Dense/MatMul_0`), so the file reads
 * as the tree in Netron and any value can be named by a probe.
 */
import type {
  Attr, Emitter, FunctionDef, Graph, OnnxNode, OpType, TensorValue, ValueInfo,
} from '../core/onnx';
import { STRATA_DOMAIN } from '../core/onnx';
import { BugError } from '../core/errors';
import type { DType } from '../core/shape';

/** Shared by every scope of one model: functions and the counter that keeps names unique. */
export interface ModelState {
  /** dtypes of stack values (layer inputs and outputs), recorded by the lowering driver */
  dtypes: Map<string, DType>;
  functions: Map<string, FunctionDef>;
  /** function key -> function name */
  functionByKey: Map<string, string>;
  inline: boolean;
  gpu: boolean;
  /** no control flow, without gpu's other choices (LowerOptions.unroll) */
  unroll?: boolean;
  mode: 'train' | 'eval' | 'predict';
  seed: number;
  /** the graph input that salts random streams per training step (LowerOptions.rngInput) */
  rngInput?: string;
  /** state tensors are graph inputs and their new values graph outputs (LowerOptions.stateIO) */
  stateIO?: boolean;
  /** main-graph values marked by Emitter.stopGradient */
  stopGradients?: Set<string>;
  /** LowerOptions.remat */
  remat?: boolean;
}

/** Where nodes go: the main graph, a subgraph body, or a function body. */
export class Scope {
  readonly nodes: OnnxNode[] = [];
  private readonly used = new Set<string>();
  private readonly consts = new Map<string, string>();
  constructor(readonly model: ModelState, readonly kind: 'graph' | 'subgraph' | 'function', readonly parent?: Scope) {}

  /** a fresh, unique name with this prefix */
  fresh(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.taken(name); i++) name = `${prefix}_${i}`;
    // enclosing scopes see it too: ONNX needs one name per value across a graph and its subgraphs
    for (let s: Scope | undefined = this; s; s = s.parent) s.used.add(name);
    return name;
  }
  reserve(name: string): void {
    this.used.add(name);
  }
  private taken(name: string): boolean {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.used.has(name)) return true;
    return false;
  }
  /** a constant, shared by every use in this scope (and its subgraphs) */
  constant(key: string, make: () => TensorValue, prefix: string): string {
    for (let s: Scope | undefined = this; s; s = s.kind === 'function' ? undefined : s.parent) {
      const hit = s.consts.get(key);
      if (hit) return hit;
    }
    const name = this.fresh(prefix);
    this.nodes.push({ op: 'Constant', inputs: [], outputs: [name], attrs: { value: { tensor: make() } } });
    this.consts.set(key, name);
    return name;
  }
}

/** How a layer's weights and state are found by name. */
export interface LayerBindings {
  weight(name: string): string;
  state(name: string): string;
  setState?(name: string, value: string): void;
}

const noBindings: LayerBindings = {
  weight: (n) => { throw new BugError(`weight ${n} used outside a layer`); },
  state: (n) => { throw new BugError(`state ${n} used outside a layer`); },
};

/** A constant's dedup key (JSON would map NaN and ±Infinity alike to null). */
function constKey(kind: string, values: number | readonly number[], dims?: readonly number[]): string {
  const vs = typeof values === 'number' ? [values] : values;
  return `${kind}:${typeof values === 'number' ? 's' : 'a'}:${vs.map(String).join(',')}:${dims?.join(',') ?? ''}`;
}

function tensorOf(dtype: 'float32' | 'int64' | 'int32', values: number | readonly number[], dims?: readonly number[]): TensorValue {
  const arr = typeof values === 'number' ? [values] : [...values];
  const shape = dims ? [...dims] : typeof values === 'number' ? [] : [arr.length];
  const data = dtype === 'float32' ? Float32Array.from(arr) : dtype === 'int32' ? Int32Array.from(arr) : BigInt64Array.from(arr.map((x) => BigInt(x)));
  return { dtype, dims: shape, data };
}

export class ScopeEmitter implements Emitter {
  readonly none = '';
  /**
   * @param capture inside a function body: turns a value of the enclosing graph (a weight) into one of the
   *   function's inputs, since a function sees nothing but its inputs
   */
  constructor(readonly scope: Scope, readonly prefix: string, private readonly bindings: LayerBindings = noBindings, readonly capture?: (outer: string) => string) {}

  dtypeOf(value: string): DType | undefined {
    return this.scope.model.dtypes.get(value);
  }

  get mode() { return this.scope.model.mode; }
  get path() { return this.prefix; }
  get gpu() { return this.scope.model.gpu; }
  get unroll() { return this.scope.model.gpu || !!this.scope.model.unroll; }
  get seed() { return this.scope.model.seed; }
  rngStep(): string | undefined {
    const r = this.scope.model.rngInput;
    return r && this.capture ? this.capture(r) : r;
  }

  /** an emitter for another layer in the same scope */
  forLayer(prefix: string, bindings: LayerBindings): ScopeEmitter {
    const c = this.capture;
    return new ScopeEmitter(this.scope, prefix, c ? { weight: (n) => c(bindings.weight(n)), state: (n) => c(bindings.state(n)) } : bindings, c);
    // (inside a function, new state values cannot leave it: setState is a no-op there)
  }

  op(op: OpType, inputs: string[], attrs?: Record<string, Attr>, nOut = 1): string[] {
    return this.node(op, inputs, attrs, nOut);
  }
  /** any node: a standard op, or (with `domain`) a call of a model-local function */
  private node(op: string, inputs: string[], attrs: Record<string, Attr> | undefined, nOut: number, domain?: string): string[] {
    const outs = Array.from({ length: nOut }, (_, i) => this.scope.fresh(`${this.prefix}/${op}${nOut > 1 ? `.${i}` : ''}`));
    const node: OnnxNode = { op, inputs, outputs: outs };
    if (attrs && Object.keys(attrs).length) node.attrs = attrs;
    if (domain) node.domain = domain;
    node.name = outs[0];
    this.scope.nodes.push(node);
    return outs;
  }
  op1(op: OpType, inputs: string[], attrs?: Record<string, Attr>): string {
    return this.op(op, inputs, attrs, 1)[0];
  }
  f32(values: number | readonly number[], dims?: readonly number[]): string {
    return this.scope.constant(constKey('f32', values, dims), () => tensorOf('float32', values, dims), 'const_f32');
  }
  i64(values: number | readonly number[], dims?: readonly number[]): string {
    return this.scope.constant(constKey('i64', values, dims), () => tensorOf('int64', values, dims), 'const_i64');
  }
  i32(values: number | readonly number[], dims?: readonly number[]): string {
    return this.scope.constant(constKey('i32', values, dims), () => tensorOf('int32', values, dims), 'const_i32');
  }
  constant(value: TensorValue): string {
    const name = this.scope.fresh(`${this.prefix}/const`);
    this.scope.nodes.push({ op: 'Constant', inputs: [], outputs: [name], attrs: { value: { tensor: value } } });
    return name;
  }
  weight(name: string): string {
    return this.bindings.weight(name);
  }
  state(name: string): string {
    return this.bindings.state(name);
  }
  stopGradient(value: string): string {
    // only main-graph names mean something to the autodiff of the lowered model (a function's or a loop
    // body's names are local; training lowers with functions inlined and loops unrolled)
    if (this.scope.kind === 'graph') (this.scope.model.stopGradients ??= new Set()).add(value);
    return value;
  }
  get carriesState(): boolean {
    return this.scope.kind === 'graph' && !!this.scope.model.stateIO && !!this.bindings.setState;
  }
  setState(name: string, value: string): void {
    if (this.scope.kind === 'graph') this.bindings.setState?.(name, value);
  }

  get remat(): boolean { return !!this.scope.model.remat; }

  fn(name: string, key: string, inputs: string[], nOut: number, build: (e: Emitter, inputs: string[]) => string[], doc?: string, opts?: { keep?: boolean }): string[] {
    const m = this.scope.model;
    if (m.inline && !opts?.keep) return build(this, inputs);
    let fname = m.functionByKey.get(key);
    if (!fname) {
      fname = name;
      for (let i = 2; m.functions.has(fname); i++) fname = `${name}_${i}`;
      const body = new Scope(m, 'function');
      const formals = inputs.map((_, i) => { const f = `in${i}`; body.reserve(f); return f; });
      // inside a function, weights and state come in as inputs: the caller passes them
      const captured: string[] = [];
      const capture = (outer: string): string => {
        const at = captured.indexOf(outer);
        if (at >= 0) return `w${at}`;
        captured.push(outer);
        const f = `w${captured.length - 1}`;
        body.reserve(f);
        return f;
      };
      const inner = new ScopeEmitter(body, name, {
        weight: (n) => capture(this.bindings.weight(n)),
        state: (n) => capture(this.bindings.state(n)),
      }, (outer) => capture(this.capture ? this.capture(outer) : outer));
      const outs = build(inner, formals);
      // an output that is one of the function's own inputs is not returned: the call site uses its argument
      // (no Identity inside the body, which a GPU provider may not have for every dtype, e.g. bool)
      const passthrough = outs.map((o) => formals.indexOf(o));
      const seenOut = new Set<string>();
      const outNames = outs.filter((_, i) => passthrough[i] < 0).map((o, i) => {
        const dup = seenOut.has(o);
        seenOut.add(o);
        if (dup || captured.some((_, j) => o === `w${j}`)) {
          const id = body.fresh(`out${i}`);
          body.nodes.push({ op: 'Identity', inputs: [o], outputs: [id] });
          return id;
        }
        return o;
      });
      const def: FunctionDef = { name: fname, domain: STRATA_DOMAIN, inputs: [...formals, ...captured.map((_, i) => `w${i}`)], outputs: outNames, nodes: body.nodes };
      if (doc) def.doc = doc;
      m.functions.set(fname, def);
      m.functionByKey.set(key, fname);
      (def as FunctionDef & { captured?: string[]; passthrough?: number[] }).captured = captured;
      (def as FunctionDef & { passthrough?: number[] }).passthrough = passthrough;
    }
    const def = m.functions.get(fname)! as FunctionDef & { captured?: string[]; passthrough?: number[] };
    // the same function reused by another layer: pass that layer's own weights
    const callWeights = this.rebindCaptured(def, build, inputs);
    const through = def.passthrough ?? [];
    const results = this.node(fname, [...inputs, ...callWeights], undefined, def.outputs.length, STRATA_DOMAIN);
    let j = 0;
    return Array.from({ length: nOut }, (_, i) => (through[i] >= 0 ? inputs[through[i]] : results[j++]));
  }

  /** The outer names of a function's captured weights for this call (re-running the capture against this layer's bindings). */
  private rebindCaptured(def: FunctionDef & { captured?: string[] }, build: (e: Emitter, inputs: string[]) => string[], inputs: string[]): string[] {
    const n = def.captured?.length ?? 0;
    if (n === 0) return [];
    const outer: string[] = [];
    const probe = new Scope(this.scope.model, 'function');
    const record = (o: string): string => { if (!outer.includes(o)) outer.push(o); return `w${outer.indexOf(o)}`; };
    const e = new ScopeEmitter(probe, 'probe', {
      weight: (w) => record(this.bindings.weight(w)),
      state: (w) => record(this.bindings.state(w)),
    }, (o) => record(this.capture ? this.capture(o) : o));
    build(e, inputs.map((_, i) => `in${i}`));
    if (outer.length !== n) throw new BugError(`function ${def.name} captures ${n} weights, this call ${outer.length}`);
    return outer;
  }

  subgraph(name: string, inputs: ValueInfo[], build: (e: Emitter, inputs: string[]) => string[], outputs: (names: string[]) => ValueInfo[]): Graph {
    const body = new Scope(this.scope.model, 'subgraph', this.scope);
    for (const i of inputs) body.reserve(i.name);
    const e = new ScopeEmitter(body, `${this.prefix}/${name}`, this.bindings, this.capture);
    const outs = build(e, inputs.map((i) => i.name));
    // a body output must be produced inside the body (not a formal input or an outer value)
    const produced = new Set(body.nodes.flatMap((n) => n.outputs));
    const taken = new Set<string>();
    const outNames = outs.map((o, i) => {
      // each output its own name: a value returned twice (Dup) is copied
      if (produced.has(o) && !taken.has(o)) { taken.add(o); return o; }
      const id = body.fresh(`${this.prefix}/${name}/out${i}`);
      body.nodes.push({ op: 'Identity', inputs: [o], outputs: [id] });
      return id;
    });
    return { name: `${this.prefix}/${name}`, inputs, outputs: outputs(outNames), nodes: body.nodes, initializers: [] };
  }
}
