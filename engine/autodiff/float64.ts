/**
 * toFloat64: the same model computed in float64, for gradient checks
 * (finite differences need the precision float32 does not have).
 *
 * Every float type (float32, float16, bfloat16) becomes float64: graph
 * inputs and outputs, initializers, Constant and ConstantOfShape values,
 * Cast targets, subgraph signatures. onnxruntime's CPU provider has no
 * float64 kernel for some ops lowerings emit (measured with onnxruntime-node
 * 1.30: Elu, LeakyRelu, Softplus, Erf, Conv, ConvTranspose, AveragePool), so
 * those are rewritten into ops that have one:
 *   Elu, LeakyRelu  -> Where(x < 0, ..., x)
 *   Softplus        -> max(x, 0) + log(1 + exp(-|x|))
 *   Erf             -> Taylor series (|x| < 2, 33 terms) / continued fraction of erfc (|x| >= 2, 50 terms): < 3e-16 absolute
 *   Conv            -> im2col: a Gather with a static index table + MatMul (shapes are static)
 *   AveragePool     -> the same patches, ReduceSum, times a static 1/count
 * Calls of model-local functions that take a float input are inlined first
 * (the rewrites need static shapes); functions whose inputs are all integers
 * (the random-number hash UniformHash) stay float32 inside, with their
 * float results cast to float64: their float32 rounding is part of what
 * they compute, so dropout masks stay the same bits.
 */
import type { Attr, ElemType, Graph, Model, OnnxNode, TensorValue, ValueInfo } from '../core/onnx';
import { ONNX_DTYPE, STRATA_DOMAIN } from '../core/onnx';
import { tensorNumbers } from '../weights/init';
import { GraphBuilder, Names } from './builder';
import { graphNames, inlineFunctions } from './inline';
import { AutodiffError, Shapes, attrFloat, attrInt, attrInts, elemTypeOf, isFloatType, numel, windowOf } from './shapes';

const F64 = ONNX_DTYPE.float64;

function wide(d: ElemType): ElemType {
  return isFloatType(d) ? 'float64' : d;
}
function wideTensor(t: TensorValue): TensorValue {
  return isFloatType(t.dtype) && t.dtype !== 'float64' ? { dtype: 'float64', dims: t.dims, data: tensorNumbers(t) } : t;
}
function wideInfo(v: ValueInfo): ValueInfo {
  return { ...v, dtype: wide(v.dtype) };
}

/** A node with its dtypes widened (Cast targets, constants, subgraphs). */
function wideNode(n: OnnxNode): OnnxNode {
  if (!n.attrs) return n;
  const attrs: Record<string, Attr> = {};
  for (const [k, a] of Object.entries(n.attrs)) {
    if ('tensor' in a) attrs[k] = { tensor: wideTensor(a.tensor) };
    else if (k === 'to' && n.op === 'Cast' && 'int' in a && isFloatType(elemTypeOf(a.int))) attrs[k] = { int: F64 };
    else attrs[k] = a;
  }
  return { ...n, attrs };
}

/** The calls (in the graph and in its subgraphs) that take a float argument. */
function floatCalls(nodes: readonly OnnxNode[], shapes: Shapes, out: Set<OnnxNode>): Set<OnnxNode> {
  for (const n of nodes) {
    if (n.domain === STRATA_DOMAIN && n.inputs.some((v) => v && isFloatType(shapes.dtype(v)))) out.add(n);
    for (const a of Object.values(n.attrs ?? {})) {
      if (!('graph' in a)) continue;
      const inner = shapes.child();
      inner.addGraph(a.graph);
      floatCalls(a.graph.nodes, inner, out);
    }
  }
  return out;
}

/** Inlines, round by round, the calls that take a float argument (nested calls surface one level a round). */
function inlineFloatCalls(model: Model): Model {
  for (;;) {
    const chosen = floatCalls(model.graph.nodes, Shapes.ofModel(model), new Set());
    if (!chosen.size) return model;
    model = inlineFunctions(model, (call) => chosen.has(call));
  }
}

export function toFloat64(input: Model): Model {
  const model = inlineFloatCalls(input);
  const names = new Names(graphNames(model.graph));
  const shapes = Shapes.ofModel(model);
  return { ...model, graph: convert(model.graph, shapes, names) };
}

/**
 * One graph (main or subgraph) in float64: types widened, calls of the
 * integer-input functions left in float32 with a Cast after them, and the
 * ops without float64 kernels rewritten. `shapes` holds this graph's types
 * as lowered (the rewrites need only their shapes).
 */
function convert(g: Graph, shapes: Shapes, names: Names): Graph {
  const b = new GraphBuilder(shapes, names);
  for (const n of g.nodes) {
    if (n.domain === STRATA_DOMAIN) {
      const call = { ...n, outputs: n.outputs.map((o) => (o && isFloatType(shapes.dtype(o)) ? names.fresh(`${o}/float32`) : o)) };
      b.nodes.push(call);
      n.outputs.forEach((o, i) => { if (call.outputs[i] !== o) b.nodes.push({ op: 'Cast', inputs: [call.outputs[i]], outputs: [o], name: names.fresh(`${o}/float64`), attrs: { to: { int: F64 } } }); });
      continue;
    }
    const rewrite = REWRITES[n.op];
    if (!n.domain && rewrite && isFloatType(shapes.dtype(n.outputs[0]))) {
      b.prefix = `${n.name ?? n.outputs[0]}/f64`;
      rewrite(b, n);
      continue;
    }
    const wn = wideNode(n);
    if (n.attrs && Object.values(n.attrs).some((a) => 'graph' in a)) {
      wn.attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, a]): [string, Attr] => {
        if (!('graph' in a)) return [k, wn.attrs![k]];
        const inner = shapes.child();
        inner.addGraph(a.graph);
        return [k, { graph: convert(a.graph, inner, names) }];
      }));
    }
    b.nodes.push(wn);
  }
  return {
    ...g,
    inputs: g.inputs.map(wideInfo),
    outputs: g.outputs.map(wideInfo),
    initializers: g.initializers.map((i) => ({ name: i.name, value: wideTensor(i.value) })),
    nodes: b.nodes,
  };
}

// ---------------------------------------------------------------- rewrites (each ends in a node named as the original output)

type Rewrite = (b: GraphBuilder, n: OnnxNode) => void;
const c64 = (b: GraphBuilder, x: number): string => b.scalar(x, 'float64');

const REWRITES: Record<string, Rewrite> = {
  Elu: (b, n) => {
    const x = n.inputs[0];
    const neg = b.op1('Mul', [c64(b, attrFloat(n, 'alpha', 1)), b.op1('Sub', [b.op1('Exp', [x]), c64(b, 1)])]);
    b.op1('Where', [b.op1('Less', [x, c64(b, 0)]), neg, x], undefined, n.outputs[0]);
  },
  LeakyRelu: (b, n) => {
    const x = n.inputs[0];
    b.op1('Where', [b.op1('Less', [x, c64(b, 0)]), b.op1('Mul', [x, c64(b, attrFloat(n, 'alpha', 0.01))]), x], undefined, n.outputs[0]);
  },
  Softplus: (b, n) => {
    const x = n.inputs[0];
    const tail = b.op1('Log', [b.op1('Add', [c64(b, 1), b.op1('Exp', [b.op1('Neg', [b.op1('Abs', [x])])])])]);
    b.op1('Add', [b.op1('Relu', [x]), tail], undefined, n.outputs[0]);
  },
  Erf: (b, n) => {
    const x = n.inputs[0];
    const T = 2;
    const a = b.op1('Abs', [x]);
    // |x| < 2: erf = 2/sqrt(pi) x sum_n (-1)^n x^2n / (n! (2n+1))
    const xs = b.op1('Min', [a, c64(b, T)]);
    const z = b.op1('Mul', [xs, xs]);
    const coef: number[] = [];
    for (let k = 0, f = 1; k <= 32; k++) { if (k) f *= k; coef.push((k % 2 ? -1 : 1) / (f * (2 * k + 1))); }
    let p = c64(b, coef[32]);
    for (let k = 31; k >= 0; k--) p = b.op1('Add', [b.op1('Mul', [p, z]), c64(b, coef[k])]);
    const small = b.op1('Mul', [b.op1('Mul', [xs, p]), c64(b, 2 / Math.sqrt(Math.PI))]);
    // |x| >= 2: erfc = e^(-x^2) / sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
    const xl = b.op1('Max', [a, c64(b, T)]);
    let t = xl;
    for (let k = 50; k >= 1; k--) t = b.op1('Add', [xl, b.op1('Div', [c64(b, k / 2), t])]);
    const erfc = b.op1('Div', [b.op1('Exp', [b.op1('Neg', [b.op1('Mul', [xl, xl])])]), b.op1('Mul', [t, c64(b, Math.sqrt(Math.PI))])]);
    const large = b.op1('Sub', [c64(b, 1), erfc]);
    const r = b.op1('Where', [b.op1('Less', [a, c64(b, T)]), small, large]);
    b.op1('Where', [b.op1('Less', [x, c64(b, 0)]), b.op1('Neg', [r]), r], undefined, n.outputs[0]);
  },
  Conv: (b, n) => {
    const [x, w, bias] = n.inputs;
    const xs = b.shapes.shape(x), ws = b.shapes.shape(w);
    const [N, , ...S] = xs;
    const [M, Cg, ...K] = ws;
    const G = attrInt(n, 'group', 1);
    const win = windowOf(n, S, attrInts(n, 'kernel_shape') ?? K);
    const { patches, O } = im2col(b, x, xs, K, win, 0);
    const P = numel(O), Kn = numel(K);
    // [N, C, P, K] -> [N, G, C/G, P, K] -> [N, G, P, C/G, K] -> [N, G, P, C/G*K]
    const pt = b.reshape(b.transpose(b.reshape(patches, [N, G, Cg, P, Kn]), [0, 1, 3, 2, 4]), [N, G, P, Cg * Kn]);
    // w [M, C/G, K] -> [G, M/G, C/G*K] -> [G, C/G*K, M/G]
    const wt = b.transpose(b.reshape(w, [G, M / G, Cg * Kn]), [0, 2, 1]);
    const y = b.reshape(b.transpose(b.op1('MatMul', [pt, wt]), [0, 1, 3, 2]), [N, M, ...O]);
    if (bias) b.op1('Add', [y, b.reshape(bias, [1, M, ...O.map(() => 1)])], undefined, n.outputs[0]);
    else b.op1('Identity', [y], undefined, n.outputs[0]);
  },
  AveragePool: (b, n) => {
    const x = n.inputs[0];
    const xs = b.shapes.shape(x);
    const [N, C, ...S] = xs;
    const K = attrInts(n, 'kernel_shape')!;
    if (attrInt(n, 'ceil_mode', 0)) throw new AutodiffError('AveragePool with ceil_mode has no float64 rewrite');
    const win = windowOf(n, S, K);
    const { patches, O } = im2col(b, x, xs, K, win, 0);
    const sum = b.op1('ReduceSum', [patches, b.i64([3])], { keepdims: { int: 0 } });
    const counts = windowCounts(S, K, win, attrInt(n, 'count_include_pad', 0) === 1);
    const mean = b.op1('Mul', [sum, b.tensor('float64', counts.map((c) => 1 / c), [numel(O)])]);
    b.op1('Reshape', [mean, b.i64([N, C, ...O])], undefined, n.outputs[0]);
  },
};

/** Row-major multi-indices of a shape. */
function* multiIndices(shape: readonly number[]): Generator<number[]> {
  const total = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < total; f++) {
    let rem = f;
    for (let i = shape.length - 1; i >= 0; i--) { idx[i] = rem % shape[i]; rem = Math.floor(rem / shape[i]); }
    yield [...idx];
  }
}

/** Window patches of x [N, C, S...] padded with `fill`: [N, C, prod(O), prod(K)], by one Gather with a static table. */
function im2col(b: GraphBuilder, x: string, xs: readonly number[], K: readonly number[], win: ReturnType<typeof windowOf>, fill: number): { patches: string; O: number[] } {
  const [N, C, ...S] = xs;
  const d = S.length;
  const padded = S.map((s, i) => s + win.pads[i] + win.pads[i + d]);
  let xp = x;
  if (win.pads.some((p) => p)) {
    const pads = [0, 0, ...win.pads.slice(0, d), 0, 0, ...win.pads.slice(d)];
    xp = b.op1('Pad', [x, b.i64(pads), c64(b, fill)]);
  }
  const flat = b.reshape(xp, [N, C, numel(padded)]);
  const O = win.out;
  const table: number[] = [];
  for (const o of multiIndices(O)) {
    for (const k of multiIndices(K)) {
      let pos = 0;
      for (let i = 0; i < d; i++) pos = pos * padded[i] + o[i] * win.strides[i] + k[i] * win.dilations[i];
      table.push(pos);
    }
  }
  const patches = b.op1('Gather', [flat, b.tensor('int64', table, [numel(O), numel(K)])], { axis: { int: 2 } });
  return { patches, O };
}

/** The number of elements AveragePool divides by at each output position. */
function windowCounts(S: readonly number[], K: readonly number[], win: ReturnType<typeof windowOf>, includePad: boolean): number[] {
  const d = S.length;
  return [...multiIndices(win.out)].map((o) => {
    let cnt = 1;
    for (let i = 0; i < d; i++) {
      let c = 0;
      for (let t = 0; t < K[i]; t++) {
        const p = o[i] * win.strides[i] + t * win.dilations[i] - win.pads[i];
        if (includePad ? p < S[i] + win.pads[i + d] : p >= 0 && p < S[i]) c++;
      }
      cnt *= c;
    }
    return cnt;
  });
}
