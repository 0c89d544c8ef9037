/**
 * One VJP rule per differentiable op that lowerings emit, in one table typed
 * over `OpType` (engine/core/onnx.ts): an op added to the union without a
 * rule here or an entry in NON_DIFFERENTIABLE does not compile.
 *
 * A rule is symbolic (ORT style): given the forward node's inputs `I(i)`,
 * outputs `O(i)` and output gradients `GO(i)`, it emits standard ai.onnx
 * nodes through `c.b` and returns each input's gradient (undefined where
 * `needGI(i)` is false). Static shapes are known (`c.shape`), so broadcasts
 * are reduced with static axes (`c.b.unbroadcast`). Every returned gradient
 * is checked against its input's shape and dtype by the caller (grad.ts).
 * Rules stay on ops that onnxruntime's WebGPU provider runs (notes/gpu.md;
 * webgpu.test.ts checks every rule's graph with CPU fallback disabled): no
 * Sign, no variadic Sum, no int64 arithmetic, no ConvTranspose, no
 * com.microsoft *Grad kernels (absent from onnxruntime-node).
 */
import type { ElemType, FunctionDef, OnnxNode, OpType } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import type { GraphBuilder } from './builder';
import { AutodiffError, attrFloat, attrInt, attrInts, attrString, normAxis, numel, sliceRanges, windowOf } from './shapes';

export interface VjpContext {
  readonly node: OnnxNode;
  /** emits backward nodes (named after the forward node) */
  readonly b: GraphBuilder;
  /** forward input i ('' when an optional input is absent) */
  I(i: number): string;
  /** forward output i */
  O(i: number): string;
  /** the gradient of output i (zeros when nothing downstream gives it one) */
  GO(i: number): string;
  hasGO(i: number): boolean;
  /** whether input i needs a gradient (it depends on a variable and is float) */
  needGI(i: number): boolean;
  shape(v: string): readonly number[];
  dtype(v: string): ElemType;
  /** a value's contents when known at build time (constants, folded shapes) */
  values(v: string): number[] | undefined;
  /** for a call of a model-local function: its definition */
  readonly fn?: FunctionDef;
}

export interface VjpRule {
  /** inputs that never get a gradient (indices, shapes, axes, conditions) */
  readonly nonDiff?: readonly number[];
  /** the inputs' gradients, by input index */
  vjp(c: VjpContext): (string | undefined)[];
}

/** Ops through which no gradient flows, and why. */
export type NonDiffOp =
  | 'ArgMax' | 'And' | 'Not' | 'Equal' | 'Greater' | 'GreaterOrEqual' | 'Less' | 'LessOrEqual'
  | 'Floor' | 'Ceil' | 'Constant' | 'ConstantOfShape' | 'Range' | 'Scan' | 'If';
export type DiffOp = Exclude<OpType, NonDiffOp>;

type Assert<T extends true> = T;
/** type-level checks: the two lists are ops, disjoint, and together every op */
export type NonDiffOpsAreOps = Assert<NonDiffOp extends OpType ? true : false>;
export type DiffAndNonDiffDisjoint = Assert<[DiffOp & NonDiffOp] extends [never] ? true : false>;
export type DiffAndNonDiffCoverOpType = Assert<[Exclude<OpType, DiffOp | NonDiffOp>] extends [never] ? true : false>;

export interface NonDiffEntry {
  readonly why: string;
  /** 'error': being on a path from a variable to the loss is an error (no gradient would be silently wrong) */
  readonly onPath?: 'error';
}

const BOOL_OUT: NonDiffEntry = { why: 'its output is boolean' };
export const NON_DIFFERENTIABLE: { readonly [K in NonDiffOp]: NonDiffEntry } = {
  ArgMax: { why: 'its output is an integer index' },
  And: BOOL_OUT, Not: BOOL_OUT, Equal: BOOL_OUT, Greater: BOOL_OUT, GreaterOrEqual: BOOL_OUT, Less: BOOL_OUT, LessOrEqual: BOOL_OUT,
  Floor: { why: 'piecewise constant: its derivative is zero almost everywhere' },
  Ceil: { why: 'piecewise constant: its derivative is zero almost everywhere' },
  Constant: { why: 'it has no inputs' },
  ConstantOfShape: { why: 'its input is a shape' },
  Range: { why: 'it builds an index sequence from scalars' },
  Scan: { why: 'control flow (Scan) has no VJP rule: lower with `unroll: true` for training', onPath: 'error' },
  If: { why: 'control flow (If) has no VJP rule: lower with `unroll: true` for training', onPath: 'error' },
};

// ---------------------------------------------------------------- helpers

const k = (c: VjpContext, x: number, like: string): string => c.b.scalar(x, c.dtype(like));
const mul = (c: VjpContext, a: string, b: string): string => c.b.op1('Mul', [a, b]);
/** g reduced to input i's shape */
const un = (c: VjpContext, g: string, i: number): string => c.b.unbroadcast(g, c.shape(c.I(i)));
/** a unary rule: gx = f(g) */
const unary = (f: (c: VjpContext, g: string) => string): VjpRule => ({ vjp: (c) => [c.needGI(0) ? f(c, c.GO(0)) : undefined] });
/** gx = reshape(g) for ops that only move data without changing order */
const reshapeBack: VjpRule = { nonDiff: [1], vjp: (c) => [c.b.reshape(c.GO(0), c.shape(c.I(0)))] };
const lastTwo = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
const inversePerm = (perm: readonly number[]): number[] => { const inv = new Array<number>(perm.length); perm.forEach((p, i) => { inv[p] = i; }); return inv; };

/** Reduce axes of a Reduce* node (normalised; all axes when absent). */
function reduceAxes(c: VjpContext): number[] {
  const n = c.node, x = c.I(0), rank = c.shape(x).length;
  const given = n.inputs[1] ? c.values(n.inputs[1]) : undefined;
  if (n.inputs[1] && !given) throw new AutodiffError(`${n.op} ${n.name}: axes must be constant`);
  if (given && given.length) return given.map((a) => normAxis(a, rank));
  if (given && attrInt(n, 'noop_with_empty_axes', 0)) return [];
  return Array.from({ length: rank }, (_, i) => i);
}
/** a Reduce* output (or its gradient) reshaped to keepdims form, ready to broadcast against the input */
function keepDims(c: VjpContext, v: string, axes: readonly number[]): string {
  return c.b.reshape(v, c.shape(c.I(0)).map((d, i) => (axes.includes(i) ? 1 : d)));
}

/** (g selected where `cond`, else 0), reduced to input i */
function where(c: VjpContext, cond: string, g: string, i: number, whenTrue = true): string {
  const z = k(c, 0, g);
  return un(c, c.b.op1('Where', whenTrue ? [cond, g, z] : [cond, z, g]), i);
}

// ---------------------------------------------------------------- convolution via Conv (no ConvTranspose, no *Grad kernels)

interface ConvGeom { x: readonly number[]; w: readonly number[]; strides: number[]; pads: number[]; dilations: number[]; group: number; out: number[] }

function convGeom(n: OnnxNode, x: readonly number[], w: readonly number[]): ConvGeom {
  const win = windowOf(n, x.slice(2), attrInts(n, 'kernel_shape') ?? w.slice(2));
  return { x, w, strides: win.strides, pads: win.pads, dilations: win.dilations, group: attrInt(n, 'group', 1), out: win.out };
}

/** Pad with per-axis (begin, end) amounts that may be negative (a crop): a Slice for crops, a Pad for the rest. */
function padOrCrop(b: GraphBuilder, v: string, begin: number[], end: number[], axis0: number): string {
  const shape = b.shapes.shape(v);
  let out = v;
  if (begin.some((p) => p < 0) || end.some((p) => p < 0)) {
    const axes = begin.map((_, i) => axis0 + i);
    out = b.op1('Slice', [out, b.i64(begin.map((p) => Math.max(-p, 0))), b.i64(end.map((p, i) => shape[axis0 + i] - Math.max(-p, 0))), b.i64(axes)]);
  }
  if (begin.some((p) => p > 0) || end.some((p) => p > 0)) {
    const rank = shape.length;
    const pads = new Array<number>(2 * rank).fill(0);
    begin.forEach((p, i) => { pads[axis0 + i] = Math.max(p, 0); });
    end.forEach((p, i) => { pads[rank + axis0 + i] = Math.max(p, 0); });
    out = b.op1('Pad', [out, b.i64(pads)]);
  }
  return out;
}

/**
 * d loss / d x of y = Conv(x, w): a Conv of g (dilated by the strides) with w
 * flipped in space and with its in/out channels swapped per group.
 * gx[i] = sum_k gdil[i + pb - k d] w[k] = sum_k' gdil[i + pb - (K-1)d + k'd] wflip[k'].
 */
export function convInputGrad(b: GraphBuilder, g: string, w: string, geom: ConvGeom): string {
  const [, C, ...S] = geom.x;
  const [M, Cg, ...K] = geom.w;
  const G = geom.group, d = S.length;
  const gs = b.shapes.shape(g);
  const O = gs.slice(2);
  // dilate: [N, M, O1, 1, O2, 1, ...] padded to [N, M, O1, s1, ...] and merged
  let gd = g;
  if (geom.strides.some((s) => s > 1)) {
    const split = [gs[0], gs[1], ...O.flatMap((o) => [o, 1])];
    const pads = new Array<number>(2 * split.length).fill(0);
    geom.strides.forEach((s, i) => { pads[split.length + 3 + 2 * i] = s - 1; });
    gd = b.reshape(b.op1('Pad', [b.reshape(g, split), b.i64(pads)]), [gs[0], gs[1], ...O.map((o, i) => o * geom.strides[i])]);
  }
  const Ld = O.map((o, i) => o * geom.strides[i]);
  const begin = K.map((kk, i) => (kk - 1) * geom.dilations[i] - geom.pads[i]);
  const end = S.map((s, i) => s - Ld[i] + geom.pads[i]);
  let convPads = [...begin, ...end];
  if (convPads.some((p) => p < 0)) { gd = padOrCrop(b, gd, begin, end, 2); convPads = new Array<number>(2 * d).fill(0); }
  // w [M, C/G, K] -> [G, M/G, C/G, K] -> [G, C/G, M/G, K] -> [C, M/G, K], flipped in space
  let wt = b.reshape(b.transpose(b.reshape(w, [G, M / G, Cg, ...K]), [0, 2, 1, ...K.map((_, i) => 3 + i)]), [C, M / G, ...K]);
  const spatial = K.map((_, i) => 2 + i);
  wt = b.op1('Slice', [wt, b.i64(K.map(() => -1)), b.i64(K.map(() => -(2 ** 53))), b.i64(spatial), b.i64(K.map(() => -1))]);
  return b.op1('Conv', [gd, wt], { kernel_shape: { ints: K }, dilations: { ints: geom.dilations }, pads: { ints: convPads }, group: { int: G } });
}

/**
 * d loss / d w of y = Conv(x, w): a Conv over the batch, with x's batch and
 * channel axes swapped and g as the kernel (dilated by the forward strides,
 * strided by the forward dilations): gw[m, c, k] = sum_{n,o} g[n,m,o] xpad[n,c,o s + k d].
 */
export function convWeightGrad(b: GraphBuilder, x: string, g: string, geom: ConvGeom): string {
  const [N, , ...S] = geom.x;
  const [, Cg, ...K] = geom.w;
  const G = geom.group;
  const O = b.shapes.shape(g).slice(2);
  const sp = (from: number) => S.map((_, i) => from + i);
  // x [N, C, S] -> [N, G, C/G, S] -> [C/G, G, N, S] -> [C/G, G*N, S]
  const xt = b.reshape(b.transpose(b.reshape(x, [N, G, Cg, ...S]), [2, 1, 0, ...sp(3)]), [Cg, G * N, ...S]);
  // g [N, M, O] -> [M, N, O]
  const gt = b.transpose(g, [1, 0, ...sp(2)]);
  let y = b.op1('Conv', [xt, gt], { kernel_shape: { ints: O }, strides: { ints: geom.dilations }, dilations: { ints: geom.strides }, pads: { ints: geom.pads }, group: { int: G } });
  const ys = b.shapes.shape(y);
  if (ys.slice(2).some((v, i) => v !== K[i])) y = b.op1('Slice', [y, b.i64(K.map(() => 0)), b.i64(K), b.i64(sp(2))]);
  return b.transpose(y, [1, 0, ...sp(2)]);
}

/** 1 / (the number of elements AveragePool divides by) at each output position, as [1, 1, O...]. */
function avgPoolScale(n: OnnxNode, S: readonly number[], K: readonly number[], strides: number[], pads: number[], dilations: number[], O: number[]): number[] {
  const d = S.length;
  if (attrInt(n, 'count_include_pad', 0) === 1) return new Array<number>(numel(O)).fill(1 / numel(K));
  // per axis: how many window taps land inside [0, S)
  const per = O.map((o, i) => Array.from({ length: o }, (_, j) => {
    let cnt = 0;
    for (let t = 0; t < K[i]; t++) { const p = j * strides[i] + t * dilations[i] - pads[i]; if (p >= 0 && p < S[i]) cnt++; }
    return cnt;
  }));
  const out: number[] = [];
  const idx = new Array<number>(d).fill(0);
  for (let f = 0; f < numel(O); f++) {
    let rem = f;
    for (let i = d - 1; i >= 0; i--) { idx[i] = rem % O[i]; rem = Math.floor(rem / O[i]); }
    out.push(1 / idx.reduce((a, j, i) => a * per[i][j], 1));
  }
  return out;
}

// ---------------------------------------------------------------- the table

export const VJP: { readonly [K in DiffOp]: VjpRule } = {
  // y = x
  Identity: unary((_c, g) => g),
  // y = -x: gx = -g
  Neg: unary((c, g) => c.b.op1('Neg', [g])),
  // y = |x|: gx = g sign(x) (Sign is not on WebGPU: Where(x < 0, -g, g); x = 0 has measure zero)
  Abs: unary((c, g) => c.b.op1('Where', [c.b.op1('Less', [c.I(0), k(c, 0, c.I(0))]), c.b.op1('Neg', [g]), g])),
  // y = e^x: gx = g y
  Exp: unary((c, g) => mul(c, g, c.O(0))),
  // y = log x: gx = g / x
  Log: unary((c, g) => c.b.op1('Div', [g, c.I(0)])),
  // y = sqrt x: gx = g / (2 y)
  Sqrt: unary((c, g) => c.b.op1('Div', [g, mul(c, c.O(0), k(c, 2, c.O(0)))])),
  // y = 1/x: gx = -g y^2
  Reciprocal: unary((c, g) => c.b.op1('Neg', [mul(c, g, mul(c, c.O(0), c.O(0)))])),
  // y = s(x): gx = g y (1 - y)
  Sigmoid: unary((c, g) => mul(c, g, mul(c, c.O(0), c.b.op1('Sub', [k(c, 1, c.O(0)), c.O(0)])))),
  // y = tanh x: gx = g (1 - y^2)
  Tanh: unary((c, g) => mul(c, g, c.b.op1('Sub', [k(c, 1, c.O(0)), mul(c, c.O(0), c.O(0))]))),
  // y = max(x, 0): gx = g [x > 0]
  Relu: unary((c, g) => c.b.op1('Where', [c.b.op1('Greater', [c.I(0), k(c, 0, c.I(0))]), g, k(c, 0, g)])),
  // y = x (x >= 0), alpha x (x < 0): gx = g or alpha g
  LeakyRelu: unary((c, g) => c.b.op1('Where', [c.b.op1('Less', [c.I(0), k(c, 0, c.I(0))]), mul(c, g, k(c, attrFloat(c.node, 'alpha', 0.01), g)), g])),
  // y = x (x >= 0), alpha (e^x - 1) (x < 0): gx = g or g (y + alpha)
  Elu: unary((c, g) => c.b.op1('Where', [c.b.op1('Less', [c.I(0), k(c, 0, c.I(0))]), mul(c, g, c.b.op1('Add', [c.O(0), k(c, attrFloat(c.node, 'alpha', 1), c.O(0))])), g])),
  // y = log(1 + e^x): gx = g s(x)
  Softplus: unary((c, g) => mul(c, g, c.b.op1('Sigmoid', [c.I(0)]))),
  // y = erf x: gx = g 2/sqrt(pi) e^(-x^2)
  Erf: unary((c, g) => mul(c, g, mul(c, k(c, 2 / Math.sqrt(Math.PI), g), c.b.op1('Exp', [c.b.op1('Neg', [mul(c, c.I(0), c.I(0))])])))),
  // y = sin x: gx = g cos x
  Sin: unary((c, g) => mul(c, g, c.b.op1('Cos', [c.I(0)]))),
  // y = cos x: gx = -g sin x
  Cos: unary((c, g) => c.b.op1('Neg', [mul(c, g, c.b.op1('Sin', [c.I(0)]))])),
  // y = cast(x): gx = cast(g) back to x's dtype (only float -> float carries a gradient)
  Cast: unary((c, g) => (c.dtype(g) === c.dtype(c.I(0)) ? g : c.b.op1('Cast', [g], { to: { int: ONNX_DTYPE[c.dtype(c.I(0))] } }))),

  // y = a + b: ga = g, gb = g (each reduced over its broadcast axes)
  Add: { vjp: (c) => [0, 1].map((i) => (c.needGI(i) ? un(c, c.GO(0), i) : undefined)) },
  // y = a - b: ga = g, gb = -g
  Sub: { vjp: (c) => [c.needGI(0) ? un(c, c.GO(0), 0) : undefined, c.needGI(1) ? un(c, c.b.op1('Neg', [c.GO(0)]), 1) : undefined] },
  // y = a b: ga = g b, gb = g a
  Mul: { vjp: (c) => [c.needGI(0) ? un(c, mul(c, c.GO(0), c.I(1)), 0) : undefined, c.needGI(1) ? un(c, mul(c, c.GO(0), c.I(0)), 1) : undefined] },
  // y = a / b: ga = g / b, gb = -g y / b
  Div: {
    vjp: (c) => {
      const gOverB = c.b.op1('Div', [c.GO(0), c.I(1)]);
      return [c.needGI(0) ? un(c, gOverB, 0) : undefined, c.needGI(1) ? un(c, c.b.op1('Neg', [mul(c, gOverB, c.O(0))]), 1) : undefined];
    },
  },
  // y = a^b: ga = g b a^(b-1), gb = g y log a
  Pow: {
    vjp: (c) => {
      const [a, p, g] = [c.I(0), c.I(1), c.GO(0)];
      const pa = c.dtype(p) === c.dtype(a) ? p : c.b.op1('Cast', [p], { to: { int: ONNX_DTYPE[c.dtype(a)] } });
      const ga = c.needGI(0) ? un(c, mul(c, g, mul(c, pa, c.b.op1('Pow', [a, c.b.op1('Sub', [pa, k(c, 1, a)])]))), 0) : undefined;
      const gb = c.needGI(1) ? un(c, mul(c, g, mul(c, c.O(0), c.b.op1('Log', [a]))), 1) : undefined;
      return [ga, gb];
    },
  },
  // y = max/min(x0, x1, ...): g goes to the first input equal to y (ties measure zero; first wins, as one subgradient)
  Max: { vjp: (c) => extremumInputs(c) },
  Min: { vjp: (c) => extremumInputs(c) },
  // y = where(cond, a, b): ga = g [cond], gb = g [!cond]
  Where: {
    nonDiff: [0],
    vjp: (c) => [undefined, c.needGI(1) ? where(c, c.I(0), c.GO(0), 1) : undefined, c.needGI(2) ? where(c, c.I(0), c.GO(0), 2, false) : undefined],
  },
  // y = clip(x, lo, hi): gx = g [lo <= x <= hi]; glo = sum g [x < lo]; ghi = sum g [x > hi]
  Clip: {
    vjp: (c) => {
      const [x, lo, hi] = [c.I(0), c.I(1), c.I(2)];
      const g = c.GO(0);
      let inside: string | undefined;
      if (lo) inside = c.b.op1('GreaterOrEqual', [x, lo]);
      if (hi) { const le = c.b.op1('LessOrEqual', [x, hi]); inside = inside ? c.b.op1('And', [inside, le]) : le; }
      const gx = c.needGI(0) ? (inside ? c.b.op1('Where', [inside, g, k(c, 0, g)]) : g) : undefined;
      const bound = (i: number, op: 'Less' | 'Greater'): string | undefined => (c.needGI(i) ? un(c, c.b.op1('Where', [c.b.op1(op, [x, c.I(i)]), g, k(c, 0, g)]), i) : undefined);
      return [gx, lo ? bound(1, 'Less') : undefined, hi ? bound(2, 'Greater') : undefined];
    },
  },

  // y = a @ b (batched, broadcast): ga = g @ b^T, gb = a^T @ g (1-D operands promoted as ONNX does)
  MatMul: {
    vjp: (c) => {
      const b = c.b;
      const [a, w, g] = [c.I(0), c.I(1), c.GO(0)];
      const as = c.shape(a), ws = c.shape(w);
      const a2 = as.length === 1 ? b.reshape(a, [1, as[0]]) : a;
      const w2 = ws.length === 1 ? b.reshape(w, [ws[0], 1]) : w;
      const gs = [...c.shape(g)];
      if (as.length === 1) gs.splice(ws.length === 1 ? gs.length : gs.length - 1, 0, 1);
      if (ws.length === 1) gs.push(1);
      const g2 = b.reshape(g, gs);
      const a2s = b.shapes.shape(a2), w2s = b.shapes.shape(w2);
      const T = (v: string) => b.transpose(v, lastTwo(b.shapes.shape(v).length));
      let ga: string | undefined, gb: string | undefined;
      if (c.needGI(0)) ga = b.reshape(b.unbroadcast(b.op1('MatMul', [g2, T(w2)]), a2s), as);
      if (c.needGI(1)) {
        if (w2s.length === 2 && a2s.length > 2) {
          // a weight [K, N]: fold the batch into the rows, one product (ORT's GetMatMulGradient does the same)
          const K = a2s[a2s.length - 1], N = w2s[1];
          gb = b.op1('MatMul', [b.transpose(b.reshape(a2, [numel(a2s) / K, K]), [1, 0]), b.reshape(g2, [numel(gs) / N, N])]);
        } else gb = b.unbroadcast(b.op1('MatMul', [T(a2), g2]), w2s);
        gb = b.reshape(gb, ws);
      }
      return [ga, gb];
    },
  },
  // y = conv(x, w) + bias: see convInputGrad / convWeightGrad; gbias = sum of g over all but the channel axis
  Conv: {
    vjp: (c) => {
      const [x, w, bias] = [c.I(0), c.I(1), c.I(2)];
      const g = c.GO(0);
      const geom = convGeom(c.node, c.shape(x), c.shape(w));
      const gs = c.shape(g);
      return [
        c.needGI(0) ? convInputGrad(c.b, g, w, geom) : undefined,
        c.needGI(1) ? convWeightGrad(c.b, x, g, geom) : undefined,
        bias && c.needGI(2) ? c.b.op1('ReduceSum', [g, c.b.i64(gs.map((_, i) => i).filter((i) => i !== 1))], { keepdims: { int: 0 } }) : undefined,
      ];
    },
  },
  // y = average over windows: gx = the window-sum transposed (a depthwise ones-kernel Conv's input gradient) of g / count
  AveragePool: {
    vjp: (c) => {
      const x = c.I(0), xs = c.shape(x);
      const K = attrInts(c.node, 'kernel_shape')!;
      if (attrInt(c.node, 'ceil_mode', 0)) throw new AutodiffError(`AveragePool ${c.node.name}: ceil_mode is not supported`);
      const win = windowOf(c.node, xs.slice(2), K);
      const scale = c.b.tensor(c.dtype(x), avgPoolScale(c.node, xs.slice(2), K, win.strides, win.pads, win.dilations, win.out), [1, 1, ...win.out]);
      const C = xs[1];
      const ones = c.b.tensor(c.dtype(x), new Array<number>(C * numel(K)).fill(1), [C, 1, ...K]);
      const geom: ConvGeom = { x: xs, w: [C, 1, ...K], strides: win.strides, pads: win.pads, dilations: win.dilations, group: C, out: win.out };
      return [convInputGrad(c.b, mul(c, c.GO(0), scale), ones, geom)];
    },
  },
  // y = max over windows: g shared equally by each window's elements equal to its max. The windows are
  // taken by a depthwise Conv with one-hot kernels (im2col as a Conv), and put back by that Conv's input
  // gradient (col2im): float ops only, no int64 Indices output (int64 ops are not on WebGPU)
  MaxPool: {
    vjp: (c) => {
      const b = c.b, x = c.I(0), xs = c.shape(x), dt = c.dtype(x);
      if (attrInt(c.node, 'storage_order', 0)) throw new AutodiffError(`MaxPool ${c.node.name}: storage_order=1 is not supported`);
      if (attrInt(c.node, 'ceil_mode', 0)) throw new AutodiffError(`MaxPool ${c.node.name}: ceil_mode is not supported`);
      const [N, C, ...S] = xs;
      const K = attrInts(c.node, 'kernel_shape')!;
      const win = windowOf(c.node, S, K);
      const d = S.length, nK = numel(K);
      // padding with the lowest float (not -inf: 0 * -inf would be NaN in the one-hot products)
      const lowest = dt === 'float64' ? -Number.MAX_VALUE : -3.4028234663852886e38;
      const begin = win.pads.slice(0, d), end = win.pads.slice(d);
      const xp = win.pads.some((p) => p) ? b.op1('Pad', [x, b.i64([0, 0, ...begin, 0, 0, ...end]), b.scalar(lowest, dt)]) : x;
      const Sp = S.map((s, i) => s + begin[i] + end[i]);
      // one-hot kernels [C*K, 1, K...]: output channel c*K + k copies tap k of channel c
      const onehot = new Array<number>(C * nK * nK).fill(0);
      for (let ch = 0; ch < C; ch++) for (let k = 0; k < nK; k++) onehot[(ch * nK + k) * nK + k] = 1;
      const w = b.tensor(dt, onehot, [C * nK, 1, ...K]);
      const attrs = { kernel_shape: { ints: K }, strides: { ints: win.strides }, dilations: { ints: win.dilations }, group: { int: C } };
      const O = win.out;
      const patches = b.reshape(b.op1('Conv', [xp, w], attrs), [N, C, nK, ...O]);
      const y = b.reshape(c.O(0), [N, C, 1, ...O]);
      const mask = b.op1('Cast', [b.op1('Equal', [patches, y])], { to: { int: ONNX_DTYPE[dt] } });
      const share = b.op1('Div', [b.reshape(c.GO(0), [N, C, 1, ...O]), b.op1('ReduceSum', [mask, b.i64([2])], { keepdims: { int: 1 } })]);
      const cols = b.reshape(b.op1('Mul', [mask, share]), [N, C * nK, ...O]);
      const geom: ConvGeom = { x: [N, C, ...Sp], w: [C * nK, 1, ...K], strides: win.strides, pads: new Array<number>(2 * d).fill(0), dilations: win.dilations, group: C, out: O };
      const gp = convInputGrad(b, cols, w, geom);
      return [win.pads.some((p) => p) ? b.op1('Slice', [gp, b.i64(begin), b.i64(S.map((s, i) => s + begin[i])), b.i64(S.map((_, i) => 2 + i))]) : gp];
    },
  },

  // y = x e^... along axis: gx = y (g - sum(g y))
  Softmax: {
    vjp: (c) => {
      const y = c.O(0), g = c.GO(0);
      const axis = normAxis(attrInt(c.node, 'axis', -1), c.shape(y).length);
      const s = c.b.op1('ReduceSum', [mul(c, g, y), c.b.i64([axis])], { keepdims: { int: 1 } });
      return [mul(c, y, c.b.op1('Sub', [g, s]))];
    },
  },
  // y = sum over axes: gx = g broadcast back
  ReduceSum: {
    nonDiff: [1],
    vjp: (c) => [c.b.op1('Expand', [keepDims(c, c.GO(0), reduceAxes(c)), c.b.i64(c.shape(c.I(0)))])],
  },
  // y = mean over axes: gx = g / n broadcast back
  ReduceMean: {
    nonDiff: [1],
    vjp: (c) => {
      const axes = reduceAxes(c), xs = c.shape(c.I(0));
      const n = axes.reduce((a, i) => a * xs[i], 1);
      return [c.b.op1('Expand', [keepDims(c, mul(c, c.GO(0), k(c, 1 / n, c.GO(0))), axes), c.b.i64(xs)])];
    },
  },
  // y = max over axes: g shared equally by the inputs equal to y
  ReduceMax: { nonDiff: [1], vjp: (c) => [reduceExtremum(c)] },
  ReduceMin: { nonDiff: [1], vjp: (c) => [reduceExtremum(c)] },
  // y = prod over axes: gx = g y / x (x != 0)
  ReduceProd: {
    nonDiff: [1],
    vjp: (c) => {
      const axes = reduceAxes(c);
      return [c.b.op1('Div', [mul(c, keepDims(c, c.GO(0), axes), keepDims(c, c.O(0), axes)), c.I(0)])];
    },
  },
  // y = cumsum(x): gx = the reverse cumsum of g (same exclusivity)
  CumSum: {
    nonDiff: [1],
    vjp: (c) => [c.b.op1('CumSum', [c.GO(0), c.I(1)], { exclusive: { int: attrInt(c.node, 'exclusive', 0) }, reverse: { int: 1 - attrInt(c.node, 'reverse', 0) } })],
  },

  // data movement
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  // y = transpose(x, p): gx = transpose(g, p^-1)
  Transpose: {
    vjp: (c) => {
      const rank = c.shape(c.I(0)).length;
      const perm = attrInts(c.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      return [c.b.transpose(c.GO(0), inversePerm(perm))];
    },
  },
  // y = expand(x, shape): gx = g reduced over the broadcast axes
  Expand: { nonDiff: [1], vjp: (c) => [un(c, c.GO(0), 0)] },
  // y = concat(x0, x1, ...): gx_i = the slice of g at x_i's place
  Concat: {
    vjp: (c) => {
      const rank = c.shape(c.I(0)).length;
      const axis = normAxis(attrInt(c.node, 'axis', 0), rank);
      let at = 0;
      return c.node.inputs.map((x, i) => {
        const len = c.shape(x)[axis];
        const from = at;
        at += len;
        if (!c.needGI(i)) return undefined;
        return c.b.op1('Slice', [c.GO(0), c.b.i64([from]), c.b.i64([from + len]), c.b.i64([axis])]);
      });
    },
  },
  // y_i = split(x)_i: gx = concat of the g_i (zeros for parts without a gradient)
  Split: {
    nonDiff: [1],
    vjp: (c) => {
      const axis = normAxis(attrInt(c.node, 'axis', 0), c.shape(c.I(0)).length);
      return [c.b.op1('Concat', c.node.outputs.map((_, i) => c.GO(i)), { axis: { int: axis } })];
    },
  },
  // y = x[slices]: g put back at the sliced places (Pad for unit steps; a static Gather table otherwise)
  Slice: {
    nonDiff: [1, 2, 3, 4],
    vjp: (c) => {
      const x = c.I(0), xs = c.shape(x), g = c.GO(0);
      const ranges = sliceRanges(c.b.shapes, c.node);
      const unit = ranges.every((r) => r.indices.length === 0 || r.indices.every((v, j) => j === 0 || v === r.indices[j - 1] + 1));
      if (ranges.some((r) => r.indices.length === 0)) return [c.b.zeros(xs, c.dtype(x))];
      if (unit) {
        const pads = new Array<number>(2 * xs.length).fill(0);
        for (const r of ranges) { pads[r.axis] = r.indices[0]; pads[xs.length + r.axis] = xs[r.axis] - r.indices[r.indices.length - 1] - 1; }
        return [pads.some((p) => p) ? c.b.op1('Pad', [g, c.b.i64(pads)]) : g];
      }
      // position in g of each element of x, or the sentinel numel(g) (an appended zero)
      const gs = c.shape(g);
      const per = xs.map((d, axis) => {
        const r = ranges.find((q) => q.axis === axis);
        const map = new Array<number>(d).fill(-1);
        if (r) r.indices.forEach((v, j) => { map[v] = j; }); else for (let i = 0; i < d; i++) map[i] = i;
        return map;
      });
      const total = numel(gs);
      const table: number[] = [];
      const idx = new Array<number>(xs.length).fill(0);
      for (let f = 0; f < numel(xs); f++) {
        let rem = f;
        for (let a = xs.length - 1; a >= 0; a--) { idx[a] = rem % xs[a]; rem = Math.floor(rem / xs[a]); }
        let pos = 0, hit = true;
        for (let a = 0; a < xs.length; a++) { const j = per[a][idx[a]]; if (j < 0) { hit = false; break; } pos = pos * gs[a] + j; }
        table.push(hit ? pos : total);
      }
      const flat = c.b.op1('Concat', [c.b.reshape(g, [total]), c.b.zeros([1], c.dtype(g))], { axis: { int: 0 } });
      return [c.b.reshape(c.b.op1('Gather', [flat, c.b.tensor('int64', table, [table.length])], { axis: { int: 0 } }), xs)];
    },
  },
  // y = pad(x, pads, value): gx = the unpadded part of g; gvalue = sum of g over the padding
  Pad: {
    nonDiff: [1, 3],
    vjp: (c) => {
      const x = c.I(0), xs = c.shape(x), g = c.GO(0);
      const mode = attrString(c.node, 'mode', 'constant');
      if (mode !== 'constant') throw new AutodiffError(`Pad ${c.node.name}: mode '${mode}' has no VJP rule (only 'constant')`);
      const pads = c.values(c.I(1));
      if (!pads) throw new AutodiffError(`Pad ${c.node.name}: pads must be constant`);
      const axesV = c.node.inputs[3] ? c.values(c.I(3)) : undefined;
      const axes = axesV ? axesV.map((a) => normAxis(a, xs.length)) : xs.map((_, i) => i);
      const begin = new Array<number>(xs.length).fill(0), end = new Array<number>(xs.length).fill(0);
      axes.forEach((a, i) => { begin[a] = pads[i]; end[a] = pads[i + axes.length]; });
      // undo: crop what was padded, zero-pad what was cropped
      const gx = padOrCrop(c.b, g, begin.map((p) => -p), end.map((p) => -p), 0);
      let gv: string | undefined;
      if (c.node.inputs[2] && c.needGI(2)) {
        const all = (v: string) => c.b.op1('ReduceSum', [v], { keepdims: { int: 0 } });
        gv = c.b.reshape(c.b.op1('Sub', [all(g), all(gx)]), c.shape(c.I(2)));
      }
      return [c.needGI(0) ? gx : undefined, undefined, gv];
    },
  },
  // y = data[..., indices, ...] along axis: g scatter-added back into zeros of data's shape
  Gather: {
    nonDiff: [1],
    vjp: (c) => {
      const b = c.b;
      const [data, ind, g] = [c.I(0), c.I(1), c.GO(0)];
      const ds = c.shape(data), is = c.shape(ind);
      const axis = normAxis(attrInt(c.node, 'axis', 0), ds.length);
      const known = c.values(ind);
      if (known && is.length === 0) {
        // one constant index: g goes to one slab (a Pad, no scatter)
        const at = known[0] < 0 ? known[0] + ds[axis] : known[0];
        const pads = new Array<number>(2 * ds.length).fill(0);
        pads[axis] = at;
        pads[ds.length + axis] = ds[axis] - at - 1;
        return [b.op1('Pad', [b.op1('Unsqueeze', [g, b.i64([axis])]), b.i64(pads)])];
      }
      // ScatterElements over [D_axis, rest] with the indices as they are (int32 or int64; negative ones count
      // from the end, as in Gather): no int64 arithmetic, which WebGPU lacks
      const q = is.length, nI = numel(is);
      const rest = numel(ds) / ds[axis];
      // g's axes: [pre (axis)] [indices (q)] [post]; bring the index axes first
      const pre = Array.from({ length: axis }, (_, i) => i);
      const inds = Array.from({ length: q }, (_, i) => axis + i);
      const post = Array.from({ length: ds.length - axis - 1 }, (_, i) => axis + q + i);
      const gT = b.reshape(b.transpose(g, [...inds, ...pre, ...post]), [nI, rest]);
      const idx = b.op1('Expand', [b.reshape(ind, [nI, 1]), b.i64([nI, rest])]);
      const scattered = b.op1('ScatterElements', [b.zeros([ds[axis], rest], c.dtype(data)), idx, gT], { axis: { int: 0 }, reduction: { string: 'add' } });
      const zs = [ds[axis], ...ds.slice(0, axis), ...ds.slice(axis + 1)];
      // back: axis 0 of scattered goes to `axis`
      return [b.transpose(b.reshape(scattered, zs), [...Array.from({ length: axis }, (_, i) => i + 1), 0, ...Array.from({ length: ds.length - axis - 1 }, (_, i) => axis + 1 + i)])];
    },
  },
  // y = gather_elements(data, indices): g scatter-added back
  GatherElements: {
    nonDiff: [1],
    vjp: (c) => [c.b.op1('ScatterElements', [c.b.zeros(c.shape(c.I(0)), c.dtype(c.I(0))), c.I(1), c.GO(0)], { axis: { int: attrInt(c.node, 'axis', 0) }, reduction: { string: 'add' } })],
  },
  // y = data with updates written at indices (no reduction): gdata = g with those places zeroed; gupdates = g at those places
  ScatterElements: {
    nonDiff: [1],
    vjp: (c) => {
      if (attrString(c.node, 'reduction', 'none') !== 'none') throw new AutodiffError(`ScatterElements ${c.node.name}: reduction has no VJP rule`);
      const axis = { axis: { int: attrInt(c.node, 'axis', 0) } };
      const g = c.GO(0);
      return [
        c.needGI(0) ? c.b.op1('ScatterElements', [g, c.I(1), c.b.zeros(c.shape(c.I(2)), c.dtype(g))], axis) : undefined,
        undefined,
        c.needGI(2) ? c.b.op1('GatherElements', [g, c.I(1)], axis) : undefined,
      ];
    },
  },
  // (values, indices) = topk(x): g of the values scatter-added back at the indices
  TopK: {
    nonDiff: [1],
    vjp: (c) => [c.b.op1('ScatterElements', [c.b.zeros(c.shape(c.I(0)), c.dtype(c.I(0))), c.O(1), c.GO(0)], { axis: { int: attrInt(c.node, 'axis', -1) }, reduction: { string: 'add' } })],
  },
};

/** Max/Min: each needed input gets g where it is the first input equal to y. */
function extremumInputs(c: VjpContext): (string | undefined)[] {
  const y = c.O(0), g = c.GO(0);
  const last = Math.max(...c.node.inputs.map((_, i) => (c.needGI(i) ? i : -1)));
  const out: (string | undefined)[] = [];
  let taken: string | undefined;
  for (let i = 0; i <= last; i++) {
    const eq = c.b.op1('Equal', [c.I(i), y]);
    const sel = taken ? c.b.op1('And', [eq, c.b.op1('Not', [taken])]) : eq;
    out.push(c.needGI(i) ? where(c, sel, g, i) : undefined);
    if (i < last) taken = taken ? c.b.op1('Not', [c.b.op1('And', [c.b.op1('Not', [taken]), c.b.op1('Not', [eq])])]) : eq;
  }
  return out;
}

/** ReduceMax/ReduceMin: g shared equally by the elements equal to the extremum. */
function reduceExtremum(c: VjpContext): string {
  const x = c.I(0), axes = reduceAxes(c);
  const mask = c.b.op1('Cast', [c.b.op1('Equal', [x, keepDims(c, c.O(0), axes)])], { to: { int: ONNX_DTYPE[c.dtype(x)] } });
  const count = c.b.op1('ReduceSum', [mask, c.b.i64(axes)], { keepdims: { int: 1 } });
  return mul(c, mask, c.b.op1('Div', [keepDims(c, c.GO(0), axes), count]));
}

/** The number of rules (for reports). */
export const RULE_COUNT = Object.keys(VJP).length;
