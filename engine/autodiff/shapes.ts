/**
 * Static shapes and dtypes of every value of a lowered graph.
 *
 * Lowering works on concrete sizes, but it records only the stack values'
 * shapes; autodiff needs every value's (to reduce broadcasts and to check
 * each gradient it emits), and onnxruntime's shape inference is not
 * reachable from the browser-safe engine. So this is a small inference pass
 * over the ops lowerings emit (`OpType`) plus the few the backward pass adds,
 * with constant folding of small integer tensors (the shapes, axes and pads
 * that decide other shapes). One table, typed over those ops, so a new op
 * without a shape rule does not compile.
 */
import type { Attr, ElemType, FunctionDef, Graph, Model, OnnxNode, OpType, TensorValue } from '../core/onnx';
import { ONNX_DTYPE, STRATA_DOMAIN } from '../core/onnx';
import { tensorNumbers } from '../weights/init';

/** Ops the backward pass emits besides those of lowerings (Sum: GradientOptions.accumulate). */
export type ExtraOp = 'Sum';
/** Every op a graph handled here may hold. */
export type GraphOp = OpType | ExtraOp;

export interface ValueType {
  readonly dtype: ElemType;
  readonly shape: readonly number[];
}

/** An autodiff/shape problem in a graph (a rule that does not fit, an op used in a way it does not support). */
export class AutodiffError extends Error {
  constructor(message: string) {
    super(`autodiff: ${message}`);
    this.name = 'AutodiffError';
  }
}

const DTYPE_OF_ONNX = new Map<number, ElemType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as ElemType]));

export function elemTypeOf(onnx: number): ElemType {
  const d = DTYPE_OF_ONNX.get(onnx);
  if (!d) throw new AutodiffError(`ONNX element type ${onnx} is not supported`);
  return d;
}

export const isFloatType = (d: ElemType): boolean => d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
export const numel = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
export const formatType = (t: ValueType): string => `${t.dtype}[${t.shape.join(',')}]`;

// ---------------------------------------------------------------- attributes

export function attrInt(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs?.[name];
  return a && 'int' in a ? a.int : dflt;
}
export function attrInts(n: OnnxNode, name: string): number[] | undefined {
  const a = n.attrs?.[name];
  return a && 'ints' in a ? a.ints : undefined;
}
export function attrFloat(n: OnnxNode, name: string, dflt: number): number {
  const a = n.attrs?.[name];
  return a && 'float' in a ? a.float : dflt;
}
export function attrString(n: OnnxNode, name: string, dflt: string): string {
  const a = n.attrs?.[name];
  return a && 'string' in a ? a.string : dflt;
}
export function attrGraph(n: OnnxNode, name: string): Graph | undefined {
  const a: Attr | undefined = n.attrs?.[name];
  return a && 'graph' in a ? a.graph : undefined;
}

// ---------------------------------------------------------------- shape arithmetic

export function broadcast(shapes: readonly (readonly number[])[], what: string): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      const d = s[i];
      if (d === out[j] || d === 1) continue;
      if (out[j] === 1) out[j] = d;
      else throw new AutodiffError(`${what}: shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
    }
  }
  return out;
}

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The window sizes of Conv/MaxPool/AveragePool along each spatial axis. */
export interface Window {
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
  out: number[];
}

export function windowOf(n: OnnxNode, spatial: readonly number[], kernel: readonly number[]): Window {
  const d = spatial.length;
  const autoPad = attrString(n, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET') throw new AutodiffError(`${n.op} with auto_pad=${autoPad} is not supported (lowerings give explicit pads)`);
  const strides = attrInts(n, 'strides') ?? new Array<number>(d).fill(1);
  const pads = attrInts(n, 'pads') ?? new Array<number>(2 * d).fill(0);
  const dilations = attrInts(n, 'dilations') ?? new Array<number>(d).fill(1);
  const ceil = attrInt(n, 'ceil_mode', 0) === 1;
  const out = spatial.map((s, i) => {
    const span = s + pads[i] + pads[i + d] - ((kernel[i] - 1) * dilations[i] + 1);
    return (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
  });
  return { kernel: [...kernel], strides, pads, dilations, out };
}

// ---------------------------------------------------------------- the pass

type Infer = (s: Shapes, n: OnnxNode) => ValueType[];

const same: Infer = (s, n) => [s.type(n.inputs[0])];
const toBool: Infer = (s, n) => [{ dtype: 'bool', shape: broadcast(n.inputs.map((v) => s.type(v).shape), n.op) }];
const elementwise: Infer = (s, n) => [{ dtype: s.type(n.inputs[0]).dtype, shape: broadcast(n.inputs.filter((v) => v).map((v) => s.type(v).shape), n.op) }];

function reduceShape(s: Shapes, n: OnnxNode, dtype?: ElemType): ValueType[] {
  const x = s.type(n.inputs[0]);
  const keep = attrInt(n, 'keepdims', 1) === 1;
  const given = n.inputs[1] ? s.ints(n.inputs[1], n) : undefined;
  const axes = given && given.length ? given.map((a) => normAxis(a, x.shape.length))
    : given && attrInt(n, 'noop_with_empty_axes', 0) ? [] : x.shape.map((_, i) => i);
  const shape = keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  return [{ dtype: dtype ?? x.dtype, shape }];
}

function sliceShape(s: Shapes, n: OnnxNode): ValueType[] {
  const x = s.type(n.inputs[0]);
  const shape = [...x.shape];
  for (const r of sliceRanges(s, n)) shape[r.axis] = r.indices.length;
  return [{ dtype: x.dtype, shape }];
}

/** The indices a Slice node takes along each sliced axis (ONNX's clamping rules). */
export function sliceRanges(s: Shapes, n: OnnxNode): { axis: number; indices: number[] }[] {
  const x = s.type(n.inputs[0]);
  const starts = s.ints(n.inputs[1], n), ends = s.ints(n.inputs[2], n);
  const axes = n.inputs[3] ? s.ints(n.inputs[3], n) : starts.map((_, i) => i);
  const steps = n.inputs[4] ? s.ints(n.inputs[4], n) : starts.map(() => 1);
  return axes.map((a, i) => {
    const axis = normAxis(a, x.shape.length);
    const dim = x.shape[axis];
    const step = steps[i];
    let start = starts[i] < 0 ? starts[i] + dim : starts[i];
    let end = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) { start = Math.min(Math.max(start, 0), dim); end = Math.min(Math.max(end, 0), dim); } else { start = Math.min(Math.max(start, 0), dim - 1); end = Math.min(Math.max(end, -1), dim - 1); }
    const indices: number[] = [];
    for (let k = start; step > 0 ? k < end : k > end; k += step) indices.push(k);
    return { axis, indices };
  });
}

function matmulShape(a: readonly number[], b: readonly number[]): number[] {
  const a2 = a.length === 1 ? [1, a[0]] : a, b2 = b.length === 1 ? [b[0], 1] : b;
  if (a2[a2.length - 1] !== b2[b2.length - 2]) throw new AutodiffError(`MatMul: [${a.join(',')}] @ [${b.join(',')}] do not fit`);
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)], 'MatMul');
  const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function poolShape(s: Shapes, n: OnnxNode): ValueType[] {
  const x = s.type(n.inputs[0]);
  const kernel = attrInts(n, 'kernel_shape');
  if (!kernel) throw new AutodiffError(`${n.op} without kernel_shape`);
  const w = windowOf(n, x.shape.slice(2), kernel);
  const y = { dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...w.out] };
  return n.outputs.length > 1 ? [y, { dtype: 'int64', shape: y.shape }] : [y];
}

const INFER: { readonly [K in GraphOp]: Infer } = {
  Abs: same, Ceil: same, Cos: same, Elu: same, Erf: same, Exp: same, Floor: same, Identity: same, LeakyRelu: same, Log: same,
  Neg: same, Reciprocal: same, Relu: same, Sigmoid: same, Sin: same, Softplus: same, Sqrt: same, Tanh: same, Softmax: same,
  CumSum: same, Clip: same, Not: same,
  Add: elementwise, Sub: elementwise, Mul: elementwise, Div: elementwise, Max: elementwise, Min: elementwise, Sum: elementwise,
  Pow: (s, n) => [{ dtype: s.type(n.inputs[0]).dtype, shape: broadcast([s.type(n.inputs[0]).shape, s.type(n.inputs[1]).shape], 'Pow') }],
  And: toBool, Equal: toBool, Greater: toBool, GreaterOrEqual: toBool, Less: toBool, LessOrEqual: toBool,
  Where: (s, n) => [{ dtype: s.type(n.inputs[1]).dtype, shape: broadcast(n.inputs.map((v) => s.type(v).shape), 'Where') }],
  Cast: (s, n) => [{ dtype: elemTypeOf(attrInt(n, 'to', 0)), shape: s.type(n.inputs[0]).shape }],
  Constant: (_s, n) => {
    const a = n.attrs?.value;
    if (!a || !('tensor' in a)) throw new AutodiffError(`Constant ${n.outputs[0]} without a tensor value`);
    return [{ dtype: a.tensor.dtype, shape: a.tensor.dims }];
  },
  ConstantOfShape: (s, n) => {
    const a = n.attrs?.value;
    return [{ dtype: a && 'tensor' in a ? a.tensor.dtype : 'float32', shape: s.ints(n.inputs[0], n) }];
  },
  Range: (s, n) => {
    const [start, limit, delta] = n.inputs.map((v) => s.ints(v, n, true)[0]);
    return [{ dtype: s.type(n.inputs[0]).dtype, shape: [Math.max(Math.ceil((limit - start) / delta), 0)] }];
  },
  MatMul: (s, n) => [{ dtype: s.type(n.inputs[0]).dtype, shape: matmulShape(s.type(n.inputs[0]).shape, s.type(n.inputs[1]).shape) }],
  Transpose: (s, n) => {
    const x = s.type(n.inputs[0]);
    const perm = attrInts(n, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  Reshape: (s, n) => {
    const x = s.type(n.inputs[0]);
    const want = s.ints(n.inputs[1], n);
    const allowZero = attrInt(n, 'allowzero', 0) === 1;
    const shape = want.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
    const minus = shape.indexOf(-1);
    if (minus >= 0) shape[minus] = numel(x.shape) / numel(shape.filter((_, i) => i !== minus));
    if (numel(shape) !== numel(x.shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new AutodiffError(`Reshape ${n.outputs[0]}: [${x.shape.join(',')}] cannot become [${want.join(',')}]`);
    }
    return [{ dtype: x.dtype, shape }];
  },
  Unsqueeze: (s, n) => {
    const x = s.type(n.inputs[0]);
    const rank = x.shape.length + s.ints(n.inputs[1], n).length;
    const axes = s.ints(n.inputs[1], n).map((a) => normAxis(a, rank));
    const shape: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : x.shape[k++]);
    return [{ dtype: x.dtype, shape }];
  },
  Squeeze: (s, n) => {
    const x = s.type(n.inputs[0]);
    const axes = n.inputs[1] ? s.ints(n.inputs[1], n).map((a) => normAxis(a, x.shape.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
  },
  Expand: (s, n) => [{ dtype: s.type(n.inputs[0]).dtype, shape: broadcast([s.type(n.inputs[0]).shape, s.ints(n.inputs[1], n)], 'Expand') }],
  Concat: (s, n) => {
    const xs = n.inputs.map((v) => s.type(v));
    const axis = normAxis(attrInt(n, 'axis', 0), xs[0].shape.length);
    const shape = [...xs[0].shape];
    shape[axis] = xs.reduce((a, x) => a + x.shape[axis], 0);
    return [{ dtype: xs[0].dtype, shape }];
  },
  Split: (s, n) => {
    const x = s.type(n.inputs[0]);
    const axis = normAxis(attrInt(n, 'axis', 0), x.shape.length);
    const k = n.outputs.length;
    const sizes = n.inputs[1] ? s.ints(n.inputs[1], n) : Array.from({ length: k }, (_, i) => Math.min(Math.ceil(x.shape[axis] / k), x.shape[axis] - i * Math.ceil(x.shape[axis] / k)));
    return sizes.map((d) => ({ dtype: x.dtype, shape: x.shape.map((v, i) => (i === axis ? d : v)) }));
  },
  Slice: sliceShape,
  Gather: (s, n) => {
    const x = s.type(n.inputs[0]), ind = s.type(n.inputs[1]);
    const axis = normAxis(attrInt(n, 'axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)] }];
  },
  GatherElements: (s, n) => [{ dtype: s.type(n.inputs[0]).dtype, shape: s.type(n.inputs[1]).shape }],
  ScatterElements: same,
  Pad: (s, n) => {
    const x = s.type(n.inputs[0]);
    const pads = s.ints(n.inputs[1], n);
    const axes = n.inputs[3] ? s.ints(n.inputs[3], n).map((a) => normAxis(a, x.shape.length)) : x.shape.map((_, i) => i);
    const shape = [...x.shape];
    axes.forEach((a, i) => { shape[a] += pads[i] + pads[i + axes.length]; });
    return [{ dtype: x.dtype, shape }];
  },
  ReduceMax: (s, n) => reduceShape(s, n), ReduceMin: (s, n) => reduceShape(s, n), ReduceMean: (s, n) => reduceShape(s, n),
  ReduceSum: (s, n) => reduceShape(s, n), ReduceProd: (s, n) => reduceShape(s, n),
  ArgMax: (s, n) => {
    const x = s.type(n.inputs[0]);
    const axis = normAxis(attrInt(n, 'axis', 0), x.shape.length);
    const keep = attrInt(n, 'keepdims', 1) === 1;
    return [{ dtype: 'int64', shape: keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis) }];
  },
  TopK: (s, n) => {
    const x = s.type(n.inputs[0]);
    const axis = normAxis(attrInt(n, 'axis', -1), x.shape.length);
    const k = s.ints(n.inputs[1], n)[0];
    const shape = x.shape.map((d, i) => (i === axis ? k : d));
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
  Conv: (s, n) => {
    const x = s.type(n.inputs[0]), w = s.type(n.inputs[1]);
    const win = windowOf(n, x.shape.slice(2), attrInts(n, 'kernel_shape') ?? w.shape.slice(2));
    return [{ dtype: x.dtype, shape: [x.shape[0], w.shape[0], ...win.out] }];
  },
  MaxPool: poolShape,
  AveragePool: poolShape,
  If: (_s, n) => attrGraph(n, 'then_branch')!.outputs.map((o) => ({ dtype: o.dtype, shape: o.shape.map(Number) })),
  Scan: (s, n) => {
    const body = attrGraph(n, 'body')!;
    const m = attrInt(n, 'num_scan_inputs', 0);
    const nState = n.inputs.length - m;
    const inAxes = attrInts(n, 'scan_input_axes') ?? new Array<number>(m).fill(0);
    const outAxes = attrInts(n, 'scan_output_axes') ?? new Array<number>(body.outputs.length - nState).fill(0);
    const first = s.type(n.inputs[nState]);
    const len = first.shape[normAxis(inAxes[0], first.shape.length)];
    return body.outputs.map((o, i) => {
      const shape = o.shape.map(Number);
      if (i < nState) return { dtype: o.dtype, shape };
      const at = normAxis(outAxes[i - nState], shape.length + 1);
      return { dtype: o.dtype, shape: [...shape.slice(0, at), len, ...shape.slice(at)] };
    });
  },
};

/** Ops whose small integer results are folded (they compute shapes, axes and pads). */
const FOLD: Partial<Record<GraphOp, (xs: number[][], n: OnnxNode, types: ValueType[]) => number[]>> = {
  Identity: ([x]) => x,
  Cast: ([x], n) => (isFloatType(elemTypeOf(attrInt(n, 'to', 0))) ? x : x.map(Math.trunc)),
  Reshape: ([x]) => x, Unsqueeze: ([x]) => x, Squeeze: ([x]) => x,
  Concat: (xs) => xs.flat(),
  Neg: ([x]) => x.map((v) => -v),
  Add: ([a, b]) => zipScalar(a, b, (x, y) => x + y),
  Sub: ([a, b]) => zipScalar(a, b, (x, y) => x - y),
  Mul: ([a, b]) => zipScalar(a, b, (x, y) => x * y),
  Range: ([[start], , [delta]], _n, [t]) => Array.from({ length: t.shape[0] }, (_, i) => start + i * delta),
};

function zipScalar(a: number[], b: number[], f: (x: number, y: number) => number): number[] {
  if (a.length === b.length) return a.map((x, i) => f(x, b[i]));
  if (b.length === 1) return a.map((x) => f(x, b[0]));
  if (a.length === 1) return b.map((y) => f(a[0], y));
  return [];
}

const FOLD_LIMIT = 4096;

/** Types (and small constant values) of a graph's values. */
export class Shapes {
  private readonly types = new Map<string, ValueType>();
  private readonly consts = new Map<string, TensorValue>();
  private readonly folded = new Map<string, number[]>();
  private readonly functions: Map<string, FunctionDef>;

  /** @param parent the enclosing graph's shapes (a subgraph sees its values) */
  constructor(functions: readonly FunctionDef[] = [], private readonly parent?: Shapes) {
    this.functions = new Map(functions.map((f) => [f.name, f]));
  }

  /** Shapes for a subgraph (a Scan or If body) of this graph: its own names, and this graph's as the outer scope. */
  child(): Shapes {
    return new Shapes([...this.functions.values()], this);
  }

  /** Shapes of a model's main graph (every node inferred in order). */
  static ofModel(model: Model): Shapes {
    const s = new Shapes(model.functions);
    s.addGraph(model.graph);
    return s;
  }

  addGraph(g: Graph): void {
    for (const i of g.inputs) this.set(i.name, { dtype: i.dtype, shape: i.shape.map(Number) });
    for (const i of g.initializers) { this.set(i.name, { dtype: i.value.dtype, shape: i.value.dims }); this.consts.set(i.name, i.value); }
    for (const n of g.nodes) this.infer(n);
  }

  has(v: string): boolean {
    return this.types.has(v) || !!this.parent?.has(v);
  }
  set(v: string, t: ValueType): void {
    this.types.set(v, { dtype: t.dtype, shape: [...t.shape] });
  }
  type(v: string): ValueType {
    const t = this.types.get(v) ?? (this.parent?.has(v) ? this.parent.type(v) : undefined);
    if (!t) throw new AutodiffError(`no shape known for value '${v}'`);
    return t;
  }
  shape(v: string): readonly number[] {
    return this.type(v).shape;
  }
  dtype(v: string): ElemType {
    return this.type(v).dtype;
  }
  /** the constant tensor behind a value (a Constant node or an initializer), if any */
  constant(v: string): TensorValue | undefined {
    return this.consts.get(v) ?? (this.types.has(v) ? undefined : this.parent?.constant(v));
  }
  /** a value's contents when known at build time (constants and small folded integer tensors) */
  values(v: string): number[] | undefined {
    const f = this.folded.get(v);
    if (f) return f;
    if (!this.types.has(v) && this.parent) return this.parent.values(v);
    const c = this.consts.get(v);
    if (!c || c.data.length > 1 << 20) return undefined;
    const out = Array.from(tensorNumbers(c));
    this.folded.set(v, out);
    return out;
  }
  /** the contents of a value that decides a shape; an error naming the node when not known */
  ints(v: string, n: OnnxNode, anyNumber = false): number[] {
    const x = this.values(v);
    if (!x) throw new AutodiffError(`${n.op} ${n.name ?? n.outputs[0]}: input '${v}' must be known at build time (it decides a shape)`);
    return anyNumber ? x : x.map(Math.trunc);
  }

  /** Infers a node's outputs (and folds small constants). */
  infer(n: OnnxNode): ValueType[] {
    let outs: ValueType[];
    if (n.domain === STRATA_DOMAIN) outs = this.inferCall(n);
    else {
      const rule = (INFER as Record<string, Infer>)[n.op];
      if (!rule) throw new AutodiffError(`no shape rule for op ${n.op} (node ${n.name ?? n.outputs[0]})`);
      outs = rule(this, n);
    }
    n.outputs.forEach((o, i) => { if (o) this.set(o, outs[i]); });
    if (n.op === 'Constant' && !n.domain) {
      const a = n.attrs!.value as { tensor: TensorValue };
      this.consts.set(n.outputs[0], a.tensor);
    } else if (!n.domain) this.fold(n, outs);
    return outs;
  }

  private fold(n: OnnxNode, outs: ValueType[]): void {
    const f = FOLD[n.op as GraphOp];
    if (f && outs.length === 1 && numel(outs[0].shape) <= FOLD_LIMIT && !isFloatType(outs[0].dtype)) {
      const xs = n.inputs.map((v) => (v ? this.values(v) : []));
      if (xs.every((x) => x !== undefined)) {
        const r = f(xs as number[][], n, outs);
        if (r.length === numel(outs[0].shape)) this.folded.set(n.outputs[0], r);
      }
    } else if (n.op === 'ConstantOfShape' && numel(outs[0].shape) <= FOLD_LIMIT) {
      const a = n.attrs?.value;
      const fill = a && 'tensor' in a ? tensorNumbers(a.tensor)[0] : 0;
      this.folded.set(n.outputs[0], new Array<number>(numel(outs[0].shape)).fill(fill));
    }
  }

  /** A call of a model-local function: its body inferred on the call's argument types. */
  private inferCall(n: OnnxNode): ValueType[] {
    const f = this.functions.get(n.op);
    if (!f) throw new AutodiffError(`call of unknown function ${n.domain}.${n.op}`);
    const inner = new Shapes([...this.functions.values()]);
    f.inputs.forEach((formal, i) => {
      const actual = n.inputs[i];
      if (!actual) return;
      inner.set(formal, this.type(actual));
      const c = this.constant(actual);
      if (c) inner.consts.set(formal, c);
      const k = this.folded.get(actual) ?? (c ? undefined : this.parent?.values(actual));
      if (k) inner.folded.set(formal, k);
    });
    for (const b of f.nodes) inner.infer(b);
    return f.outputs.map((o) => inner.type(o));
  }
}
