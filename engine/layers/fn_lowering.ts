/**
 * ONNX lowering of Fn and PureLayer lambdas. The lambda is run by the same
 * interpreter that infers its shapes (./fn), with a hook: after each
 * operation that gives arrays has been interpreted — its shapes, dtypes and
 * arguments checked by the very code inference uses — the hook emits its ONNX
 * nodes and names the result. Python values stay Python values (shapes,
 * `x.shape[0] * 2`, `a if c else b` on constants); Python numbers that meet
 * arrays become ONNX constants of the dtype JAX's weak typing gives them;
 * arrays built from constants (`np.array([3, 4])`, `jnp.arange(5)`,
 * `jnp.eye(3)`) are ONNX constants.
 *
 * Every node comes from the ops every provider runs on its device
 * (notes/gpu.md): no Sign, Round, IsNaN, IsInf, Or, OneHot, LogSoftmax,
 * int64 arithmetic; functions without an ONNX op are written from them
 * (atan and erfinv by float32 polynomial approximations, expm1/log1p by
 * Kahan's and Goldberg's tricks, round-half-even from Floor, gcd as a fixed
 * number of Euclid steps). The only exceptions: integer `%`/`//` use Mod on
 * int32 (fine on the GPU), and a handful of functions are not lowered (they
 * raise an `unsupported` error naming the function): bitwise and shift
 * operators on integer arrays, matrix 2-norms, arange with array bounds.
 */
import type { Emitter, LowerSig, OpType, TensorValue } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import { LayerError } from '../core/errors';
import { type DType, isFloat, normAxis } from '../core/shape';
import { type Args, type FnV, type LowerHook, type SeqV, type SliceV, type TensorV, type Val, evalLowered, fnInternals as I } from './fn';
import { argExtremum, cast, constantOf, int, ints, logicalOr, logicalXor, reduceOver, truthOf } from './lowering';

// ---------------------------------------------------------------- dtypes and values

/** Arithmetic dtype for a result dtype: bools and 8-bit ints in int32, halves in float32 (the CPU provider lacks their kernels). */
function cd(d: DType): DType {
  if (d === 'bool' || d === 'int8' || d === 'uint8') return 'int32';
  if (d === 'float16' || d === 'bfloat16') return 'float32';
  return d;
}
/** Float dtype for a float formula with result dtype d. */
function cf(d: DType): DType {
  return d === 'float64' ? 'float64' : 'float32';
}
const shapeOf = (t: { shape: readonly unknown[] }): number[] => t.shape.map((d) => Number(d));
const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

function notLowered(what: string): never {
  throw new LayerError('unsupported', `${what} has no ONNX lowering (it would need ops that do not run on every execution provider)`);
}

/** A constant tensor of any dtype. */
function constTensor(e: Emitter, values: readonly number[], dims: readonly number[], d: DType): string {
  const finite = values.every(Number.isFinite);
  switch (d) {
    case 'float32': return finite ? e.f32(values, dims) : e.constant({ dtype: 'float32', dims: [...dims], data: Float32Array.from(values) });
    case 'int32': return e.i32(values.map(Math.trunc), dims);
    case 'int64': return e.i64(values.map(Math.trunc), dims);
    case 'float64': return e.constant({ dtype: 'float64', dims: [...dims], data: Float64Array.from(values) });
    case 'bool': return e.constant({ dtype: 'bool', dims: [...dims], data: Int32Array.from(values, (v) => (v ? 1 : 0)) });
    case 'int8': case 'uint8': return e.constant({ dtype: d, dims: [...dims], data: Int32Array.from(values, Math.trunc) });
    default: return cast(e, constTensor(e, values, dims, 'float32'), 'float32', d);
  }
}

/** A tensor of `shape` filled with `value` (ConstantOfShape). */
function filled(e: Emitter, shape: readonly number[], value: number, d: DType): string {
  if (d === 'float16' || d === 'bfloat16') return cast(e, filled(e, shape, value, 'float32'), 'float32', d);
  if (d === 'bool') return cast(e, filled(e, shape, value ? 1 : 0, 'int32'), 'int32', 'bool');
  const data: TensorValue['data'] = d === 'float32' ? Float32Array.of(value) : d === 'float64' ? Float64Array.of(value)
    : d === 'int64' ? BigInt64Array.of(BigInt(Math.trunc(value))) : Int32Array.of(Math.trunc(value));
  return e.op1('ConstantOfShape', [e.i64(shape)], { value: { tensor: { dtype: d, dims: [1], data } } });
}

/** A Python number's value (concrete when lowering). */
function pyNumber(v: Val): number {
  const x = v.t === 'int' || v.t === 'float' || v.t === 'bool' ? I.numVal(v) : null;
  if (typeof x !== 'number') return I.unsupported(`a value that is not known when lowering (${I.describe(v)})`);
  return x;
}

// ---------------------------------------------------------------- float formulas (x in float dtype d)

type F = (e: Emitter, x: string, d: DType) => string;
const k = (e: Emitter, v: number, d: DType): string => constantOf(e, v, d);
const op = (e: Emitter, name: OpType, ...xs: string[]): string => e.op1(name, xs);
const isNan = (e: Emitter, x: string): string => op(e, 'Not', op(e, 'Equal', x, x));
const isInf = (e: Emitter, x: string, d: DType): string => op(e, 'Equal', op(e, 'Abs', x), k(e, Infinity, d));

// ---------------------------------------------------------------- integer and bool arithmetic that stays on the GPU
// (onnxruntime's WebGPU provider has no int32 kernels for Neg, Abs, Mod, MatMul, Slice or TopK, and no bool kernels
// for Concat, Transpose, Slice, Split, Squeeze, Tile, Pad, Identity or Equal: these helpers go around them)

const neg = (e: Emitter, x: string, d: DType): string => (isFloat(d) ? op(e, 'Neg', x) : op(e, 'Sub', k(e, 0, d), x));
const abs = (e: Emitter, x: string, d: DType): string => (isFloat(d) ? op(e, 'Abs', x) : op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), neg(e, x, d), x));
/** The dtype data-movement ops run in: bools move as int32. */
const moveDtype = (d: DType): DType => (d === 'bool' ? 'int32' : d);

/** Integer remainder with the sign of the dividend (C's %), from truncating Div; `y` must not be 0. */
function truncRem(e: Emitter, x: string, y: string): string {
  return op(e, 'Sub', x, op(e, 'Mul', op(e, 'Div', x, y), y));
}

/** Python's x % y on integers (the sign of the divisor); x % 0 = x, as XLA's remainder gives. */
function intMod(e: Emitter, x: string, y: string, d: DType, fmod = false): string {
  const zero = op(e, 'Equal', y, k(e, 0, d));
  const safe = op(e, 'Where', zero, k(e, 1, d), y);
  let r = truncRem(e, x, safe);
  if (!fmod) {
    const lt = (v: string): string => op(e, 'Less', v, k(e, 0, d));
    const fix = op(e, 'And', op(e, 'Not', op(e, 'Equal', r, k(e, 0, d))), logicalXor(e, lt(r), lt(safe)));
    r = op(e, 'Where', fix, op(e, 'Add', r, safe), r);
  }
  return op(e, 'Where', zero, x, r);
}

/** Integer matmul as a broadcast product summed over k (exact in int32; MatMul has no int32 GPU kernel). */
function intMatmul(e: Emitter, a: string, as: number[], b: string, bs: number[], outShape: number[]): string {
  const a2 = as.length === 1 ? e.op1('Unsqueeze', [a, e.i64([0])]) : a;
  const b2 = bs.length === 1 ? e.op1('Unsqueeze', [b, e.i64([-1])]) : b;
  const prodAB = op(e, 'Mul', e.op1('Unsqueeze', [a2, e.i64([-1])]), e.op1('Unsqueeze', [b2, e.i64([-3])]));
  return e.op1('Reshape', [reduceOver(e, 'ReduceSum', prodAB, [-2]), e.i64(outShape)]);
}

interface SliceSpec { axis: number; start: number; stop: number; step: number }
/** x[start:stop:step] on axes: Slice for floats, Gather with explicit indices otherwise (int32 Slice is not on the GPU). */
function sliceAxes(e: Emitter, x: string, d: DType, specs: SliceSpec[]): string {
  if (!specs.length) return x;
  if (isFloat(d)) {
    const end = (s: SliceSpec): number => (s.step < 0 && s.stop < 0 ? -(2 ** 53) : s.stop);
    return e.op1('Slice', [x, e.i64(specs.map((s) => s.start)), e.i64(specs.map(end)), e.i64(specs.map((s) => s.axis)), e.i64(specs.map((s) => s.step))]);
  }
  let y = x;
  for (const s of specs) {
    const ix: number[] = [];
    for (let i = s.start; s.step > 0 ? i < s.stop : i > s.stop; i += s.step) ix.push(i);
    y = e.op1('Gather', [y, e.i32(ix)], { axis: int(s.axis) });
  }
  return y;
}

/** expm1 by Kahan's trick: (u - 1) * x / log(u), u = exp(x); exact near 0. */
const expm1: F = (e, x, d) => {
  const u = op(e, 'Exp', x), um1 = op(e, 'Sub', u, k(e, 1, d));
  let r = op(e, 'Div', op(e, 'Mul', um1, x), op(e, 'Log', u));
  r = op(e, 'Where', op(e, 'Equal', um1, k(e, -1, d)), k(e, -1, d), r);
  r = op(e, 'Where', op(e, 'Equal', u, k(e, 1, d)), x, r);
  return op(e, 'Where', op(e, 'Equal', u, k(e, Infinity, d)), u, r);
};
/** log1p by Goldberg's trick: log(u) * x / (u - 1), u = 1 + x; exact near 0. */
const log1p: F = (e, x, d) => {
  const u = op(e, 'Add', x, k(e, 1, d));
  let r = op(e, 'Div', op(e, 'Mul', op(e, 'Log', u), x), op(e, 'Sub', u, k(e, 1, d)));
  r = op(e, 'Where', op(e, 'Equal', u, k(e, 1, d)), x, r);
  return op(e, 'Where', op(e, 'Equal', u, k(e, Infinity, d)), u, r);
};
/** atan by Cephes' atanf (range reduction to |x| <= tan(pi/8), a degree-9 odd polynomial; ~1e-7 relative). */
const atan: F = (e, x, d) => {
  const a = op(e, 'Abs', x);
  const big = op(e, 'Greater', a, k(e, 2.414213562373095, d)), mid = op(e, 'Greater', a, k(e, 0.4142135623730950, d));
  const xr = op(e, 'Where', big, op(e, 'Neg', op(e, 'Reciprocal', a)), op(e, 'Where', mid, op(e, 'Div', op(e, 'Sub', a, k(e, 1, d)), op(e, 'Add', a, k(e, 1, d))), a));
  const y0 = op(e, 'Where', big, k(e, Math.PI / 2, d), op(e, 'Where', mid, k(e, Math.PI / 4, d), k(e, 0, d)));
  const z = op(e, 'Mul', xr, xr);
  let p = k(e, 8.05374449538e-2, d);
  for (const c of [-1.38776856032e-1, 1.99777106478e-1, -3.33329491539e-1]) p = op(e, 'Add', op(e, 'Mul', p, z), k(e, c, d));
  const y = op(e, 'Add', y0, op(e, 'Add', op(e, 'Mul', op(e, 'Mul', p, z), xr), xr));
  return op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Neg', y), y);
};
/** signbit for floats: x < 0, or x is -0 (1/x < 0). */
const signbit: F = (e, x, d) => logicalOr(e, op(e, 'Less', x, k(e, 0, d)), op(e, 'And', op(e, 'Equal', x, k(e, 0, d)), op(e, 'Less', op(e, 'Reciprocal', x), k(e, 0, d))));
/** atan2(y, x) from atan(y / x) and the quadrant (signed zeros as C's atan2; atan2(±inf, ±inf) is not special-cased). */
function atan2(e: Emitter, y: string, x: string, d: DType): string {
  const bothZero = op(e, 'And', op(e, 'Equal', x, k(e, 0, d)), op(e, 'Equal', y, k(e, 0, d)));
  const base = op(e, 'Where', bothZero, k(e, 0, d), atan(e, op(e, 'Div', y, x), d));
  const pi = k(e, Math.PI, d);
  const shifted = op(e, 'Where', signbit(e, y, d), op(e, 'Sub', base, pi), op(e, 'Add', base, pi));
  return op(e, 'Where', signbit(e, x, d), shifted, base);
}
/** erfc (Numerical Recipes' erfcc: fractional error < 1.2e-7 everywhere, unlike 1 - erf). */
const erfc: F = (e, x, d) => {
  const z = op(e, 'Abs', x);
  const t = op(e, 'Reciprocal', op(e, 'Add', k(e, 1, d), op(e, 'Mul', k(e, 0.5, d), z)));
  let p = k(e, 0.17087277, d);
  for (const c of [-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223]) {
    p = op(e, 'Add', op(e, 'Mul', t, p), k(e, c, d));
  }
  const ans = op(e, 'Mul', t, op(e, 'Exp', op(e, 'Sub', p, op(e, 'Mul', z, z))));
  return op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Sub', k(e, 2, d), ans), ans);
};
/** erfinv by Giles' single-precision approximation (the one XLA uses for float32). */
const erfinv: F = (e, x, d) => {
  const w = op(e, 'Neg', op(e, 'Log', op(e, 'Mul', op(e, 'Sub', k(e, 1, d), x), op(e, 'Add', k(e, 1, d), x))));
  const poly = (v: string, cs: number[]): string => {
    let p = k(e, cs[0], d);
    for (const c of cs.slice(1)) p = op(e, 'Add', k(e, c, d), op(e, 'Mul', p, v));
    return p;
  };
  const small = poly(op(e, 'Sub', w, k(e, 2.5, d)), [2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]);
  const large = poly(op(e, 'Sub', op(e, 'Sqrt', w), k(e, 3, d)), [-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]);
  const r = op(e, 'Mul', op(e, 'Where', op(e, 'Less', w, k(e, 5, d)), small, large), x);
  return op(e, 'Where', op(e, 'Equal', op(e, 'Abs', x), k(e, 1, d)), op(e, 'Mul', x, k(e, Infinity, d)), r);
};
/** round half to even (numpy/JAX round, rint) from Floor. */
const roundEven: F = (e, x, d) => {
  const f = op(e, 'Floor', x), frac = op(e, 'Sub', x, f);
  const half = k(e, 0.5, d), one = k(e, 1, d);
  const odd = op(e, 'Sub', f, op(e, 'Mul', k(e, 2, d), op(e, 'Floor', op(e, 'Mul', f, half))));
  const r = op(e, 'Where', op(e, 'Greater', frac, half), op(e, 'Add', f, one), op(e, 'Where', op(e, 'Less', frac, half), f, op(e, 'Add', f, odd)));
  return op(e, 'Where', op(e, 'Equal', f, x), x, r);
};
const trunc: F = (e, x, d) => op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Ceil', x), op(e, 'Floor', x));
/** logaddexp(a, b) as JAX: amax + log1p(exp(-|a - b|)), NaN when a - b is NaN. */
function logaddexp(e: Emitter, a: string, b: string, d: DType, base2 = false): string {
  const amax = op(e, 'Max', a, b), delta = op(e, 'Sub', a, b);
  const negAbs = op(e, 'Neg', op(e, 'Abs', delta));
  const tail = base2 ? op(e, 'Div', log1p(e, op(e, 'Pow', k(e, 2, d), negAbs), d), k(e, Math.LN2, d)) : log1p(e, op(e, 'Exp', negAbs), d);
  return op(e, 'Where', isNan(e, delta), op(e, 'Add', a, b), op(e, 'Add', amax, tail));
}
const sigmoid: F = (e, x) => op(e, 'Sigmoid', x);
const softplus: F = (e, x, d) => logaddexp(e, x, k(e, 0, d), d);
/** NaN-propagating max/min (jnp.maximum/minimum); `ignoreNan` gives fmax/fmin. */
function maxMin(e: Emitter, which: 'Max' | 'Min', a: string, b: string, d: DType, ignoreNan = false): string {
  const r = op(e, which, a, b);
  if (!isFloat(d)) return r;
  if (ignoreNan) return op(e, 'Where', isNan(e, b), a, op(e, 'Where', isNan(e, a), b, r));
  return op(e, 'Where', isNan(e, a), a, op(e, 'Where', isNan(e, b), b, r));
}
const relu6: F = (e, x, d) => op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), k(e, 0, d), op(e, 'Where', op(e, 'Greater', x, k(e, 6, d)), k(e, 6, d), x));
const hardSigmoid: F = (e, x, d) => op(e, 'Div', relu6(e, op(e, 'Add', x, k(e, 3, d)), d), k(e, 6, d));

/** Float unary functions by name (np.* and jax.nn/special/lax). */
const FLOAT_UNARY: Record<string, F> = {
  exp: (e, x) => op(e, 'Exp', x),
  exp2: (e, x, d) => op(e, 'Pow', k(e, 2, d), x),
  expm1,
  log: (e, x) => op(e, 'Log', x),
  log2: (e, x, d) => op(e, 'Div', op(e, 'Log', x), k(e, Math.LN2, d)),
  log10: (e, x, d) => op(e, 'Div', op(e, 'Log', x), k(e, Math.LN10, d)),
  log1p,
  sqrt: (e, x) => op(e, 'Sqrt', x),
  cbrt: (e, x, d) => {
    const r = op(e, 'Pow', op(e, 'Abs', x), k(e, 1 / 3, d));
    return op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Neg', r), r);
  },
  sin: (e, x) => op(e, 'Sin', x),
  cos: (e, x) => op(e, 'Cos', x),
  tan: (e, x) => op(e, 'Div', op(e, 'Sin', x), op(e, 'Cos', x)),
  arcsin: (e, x, d) => atan2(e, x, op(e, 'Sqrt', op(e, 'Mul', op(e, 'Sub', k(e, 1, d), x), op(e, 'Add', k(e, 1, d), x))), d),
  arccos: (e, x, d) => atan2(e, op(e, 'Sqrt', op(e, 'Mul', op(e, 'Sub', k(e, 1, d), x), op(e, 'Add', k(e, 1, d), x))), x, d),
  arctan: atan,
  sinh: (e, x, d) => {
    const u = expm1(e, op(e, 'Abs', x), d);
    const s = op(e, 'Mul', k(e, 0.5, d), op(e, 'Add', u, op(e, 'Div', u, op(e, 'Add', u, k(e, 1, d)))));
    return op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Neg', s), s);
  },
  cosh: (e, x, d) => op(e, 'Mul', k(e, 0.5, d), op(e, 'Add', op(e, 'Exp', x), op(e, 'Exp', op(e, 'Neg', x)))),
  tanh: (e, x) => op(e, 'Tanh', x),
  arcsinh: (e, x, d) => {
    const a = op(e, 'Abs', x), a2 = op(e, 'Mul', a, a);
    const small = log1p(e, op(e, 'Add', a, op(e, 'Div', a2, op(e, 'Add', k(e, 1, d), op(e, 'Sqrt', op(e, 'Add', k(e, 1, d), a2))))), d);
    const r = op(e, 'Where', op(e, 'Greater', a, k(e, 1e18, d)), op(e, 'Add', op(e, 'Log', a), k(e, Math.LN2, d)), small);
    return op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), op(e, 'Neg', r), r);
  },
  arccosh: (e, x, d) => {
    const t = op(e, 'Sub', x, k(e, 1, d));
    const small = log1p(e, op(e, 'Add', t, op(e, 'Sqrt', op(e, 'Add', op(e, 'Mul', k(e, 2, d), t), op(e, 'Mul', t, t)))), d);
    return op(e, 'Where', op(e, 'Greater', x, k(e, 1e18, d)), op(e, 'Add', op(e, 'Log', x), k(e, Math.LN2, d)), small);
  },
  arctanh: (e, x, d) => op(e, 'Mul', k(e, 0.5, d), log1p(e, op(e, 'Div', op(e, 'Mul', k(e, 2, d), x), op(e, 'Sub', k(e, 1, d), x)), d)),
  deg2rad: (e, x, d) => op(e, 'Mul', x, k(e, Math.PI / 180, d)),
  rad2deg: (e, x, d) => op(e, 'Mul', x, k(e, 180 / Math.PI, d)),
  sinc: (e, x, d) => {
    const zero = op(e, 'Equal', x, k(e, 0, d));
    const pix = op(e, 'Where', zero, k(e, 1, d), op(e, 'Mul', k(e, Math.PI, d), x));
    return op(e, 'Where', zero, k(e, 1, d), op(e, 'Div', op(e, 'Sin', pix), pix));
  },
  rint: roundEven,
  // jax.nn / special / lax
  sigmoid, expit: sigmoid,
  softplus,
  silu: (e, x) => op(e, 'Mul', x, op(e, 'Sigmoid', x)),
  swish: (e, x) => op(e, 'Mul', x, op(e, 'Sigmoid', x)),
  selu: (e, x, d) => {
    const alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
    const pos = op(e, 'Greater', x, k(e, 0, d));
    const neg = op(e, 'Mul', k(e, alpha, d), expm1(e, op(e, 'Where', pos, k(e, 0, d), x), d));
    return op(e, 'Mul', k(e, scale, d), op(e, 'Where', pos, x, neg));
  },
  log_sigmoid: (e, x, d) => op(e, 'Neg', softplus(e, op(e, 'Neg', x), d)),
  soft_sign: (e, x, d) => op(e, 'Div', x, op(e, 'Add', op(e, 'Abs', x), k(e, 1, d))),
  hard_sigmoid: hardSigmoid,
  hard_swish: (e, x, d) => op(e, 'Mul', x, hardSigmoid(e, x, d)),
  erf: (e, x) => op(e, 'Erf', x),
  erfc,
  erfinv,
  logit: (e, x, d) => op(e, 'Log', op(e, 'Div', x, op(e, 'Sub', k(e, 1, d), x))),
  rsqrt: (e, x) => op(e, 'Reciprocal', op(e, 'Sqrt', x)),
};

// ---------------------------------------------------------------- the hook

type Lowerer = (L: Low, a: Args, self: Val | undefined, res: Val, f: FnV) => Val;

class Low implements LowerHook {
  constructor(readonly e: Emitter) {}

  /** The ONNX value of `v` in dtype `d` (Python numbers and nested lists become constants). */
  v(x: Val, d: DType): string {
    if (x.t === 'tensor') {
      if (x.name === undefined) throw new LayerError('construct', 'an array without an ONNX value while lowering the lambda (a bug in Strata)');
      return cast(this.e, x.name, x.dtype, d);
    }
    if (x.t === 'int' || x.t === 'float' || x.t === 'bool') return constantOf(this.e, pyNumber(x), d);
    if (x.t === 'tuple' || x.t === 'list') return this.array(x, d);
    return I.wrong(`${I.describe(x)} is not an array`);
  }

  /** jnp.array of a nested list: a constant when every leaf is a number, else stacked values. */
  array(x: SeqV, d: DType): string {
    const t = I.arrayOf(x);
    const leaves: number[] = [];
    const flat = (v: Val): boolean => {
      if (v.t === 'tuple' || v.t === 'list') return v.items.every(flat);
      if (v.t === 'int' || v.t === 'float' || v.t === 'bool') { leaves.push(pyNumber(v)); return true; }
      return false;
    };
    if (flat(x)) return constTensor(this.e, leaves, shapeOf(t), d);
    const md = moveDtype(d);
    const parts = x.items.map((it) => this.e.op1('Unsqueeze', [this.v(it, md), this.e.i64([0])]));
    return cast(this.e, this.e.op1('Concat', parts, { axis: int(0) }), md, d);
  }

  /** x != 0 as bool (jnp's truth value of an element). */
  truth(x: Val): string {
    const d = dtypeOf(x);
    return d === 'bool' ? this.v(x, 'bool') : truthOf(this.e, this.v(x, cd(d)), cd(d));
  }

  /** The result array with its ONNX value: `v` computed in dtype `from`, cast to the result's dtype. */
  named(res: Val, v: string, from: DType): TensorV {
    if (res.t !== 'tensor') throw new LayerError('construct', `expected an array result while lowering, got ${I.describe(res)} (a bug in Strata)`);
    return { ...res, name: cast(this.e, v, from, res.dtype) };
  }

  call(f: FnV, args: Args, result: Val): Val {
    if (!f.key && f.asDtype) {
      // jnp.float32(x): an array of that dtype
      const [x] = I.bind(args, ['x']);
      const d = convertDtype(f.asDtype);
      return this.named(result, d === 'bool' ? this.truth(x!) : this.v(x!, d), d);
    }
    const low = f.key ? LOWERERS[f.key] : undefined;
    if (!low) return notLowered(f.name);
    return low(this, args, f.self, result, f);
  }

  unary(opName: string, v: TensorV, res: TensorV): Val {
    const e = this.e;
    switch (opName) {
      case '+': return this.named(res, this.v(v, res.dtype), res.dtype);
      case '-': {
        const d = cd(res.dtype);
        return this.named(res, neg(e, this.v(v, d), d), d);
      }
      case '~': return this.invert(v, res);
      default: return notLowered(`the operator ${opName}`);
    }
  }

  invert(v: Val, res: TensorV): TensorV {
    if (res.dtype === 'bool') return this.named(res, op(this.e, 'Not', this.v(v, 'bool')), 'bool');
    const d = cd(res.dtype);
    return this.named(res, op(this.e, 'Sub', neg(this.e, this.v(v, d), d), k(this.e, 1, d)), d);
  }

  binop(opName: string, a: Val, b: Val, res: TensorV): Val {
    return this.arith(opName, a, b, res);
  }

  /** The binary operators and their function forms. */
  arith(opName: string, a: Val, b: Val, res: TensorV): TensorV {
    const e = this.e;
    const rd = res.dtype;
    if (rd === 'bool' && ['+', '*', '&', '|', '^', 'and', 'or', 'xor'].includes(opName)) {
      const [x, y] = [this.v(a, 'bool'), this.v(b, 'bool')];
      const r = opName === '*' || opName === '&' || opName === 'and' ? op(e, 'And', x, y) : opName === '^' || opName === 'xor' ? logicalXor(e, x, y) : logicalOr(e, x, y);
      return this.named(res, r, 'bool');
    }
    switch (opName) {
      case '+': case '-': case '*': {
        const d = cd(rd);
        return this.named(res, op(e, opName === '+' ? 'Add' : opName === '-' ? 'Sub' : 'Mul', this.v(a, d), this.v(b, d)), d);
      }
      case '/': {
        const d = cf(rd);
        return this.named(res, op(e, 'Div', this.v(a, d), this.v(b, d)), d);
      }
      case '//': case '%': case 'fmod': {
        const d = cd(rd);
        const [x, y] = [this.v(a, d), this.v(b, d)];
        if (isFloat(d)) {
          const q = op(e, 'Div', x, y);
          if (opName === '//') return this.named(res, op(e, 'Floor', q), d);
          const t = opName === 'fmod' ? trunc(e, q, d) : op(e, 'Floor', q);
          return this.named(res, op(e, 'Sub', x, op(e, 'Mul', y, t)), d);
        }
        // integers: Python's floor semantics from truncating Div (x % 0 = x, as XLA's remainder)
        const m = intMod(e, x, y, d, opName === 'fmod');
        if (opName !== '//') return this.named(res, m, d);
        const safe = op(e, 'Where', op(e, 'Equal', y, k(e, 0, d)), k(e, 1, d), y);
        return this.named(res, op(e, 'Div', op(e, 'Sub', x, m), safe), d);
      }
      case '**': return this.power(a, b, res);
      case '@': return this.matmul(a, b, res);
      case '&': case '|': case '^': return notLowered(`the bitwise operator ${opName} on integer arrays`);
      case '<<': case '>>': return notLowered(`the shift operator ${opName}`);
      default: return notLowered(`the operator ${opName}`);
    }
  }

  /** x ** y: a Python-int exponent is lax.integer_pow (repeated squaring, as XLA expands it); otherwise Pow. */
  power(a: Val, b: Val, res: TensorV): TensorV {
    const e = this.e;
    const d = cd(res.dtype);
    if (b.t === 'int' && typeof b.v === 'number' && Math.abs(b.v) <= 64) {
      const x = this.v(a, d);
      let n = Math.abs(b.v), acc: string | null = null, base = x;
      while (n > 0) {
        if (n & 1) acc = acc === null ? base : op(e, 'Mul', acc, base);
        n >>= 1;
        if (n > 0) base = op(e, 'Mul', base, base);
      }
      if (acc === null) acc = op(e, 'Add', op(e, 'Mul', x, k(e, 0, d)), k(e, 1, d));
      if (b.v < 0) acc = op(e, 'Div', k(e, 1, d), acc);
      return this.named(res, acc, d);
    }
    if (!isFloat(d)) return this.named(res, intPow(e, this.v(a, d), this.v(b, d), d), d);
    return this.named(res, op(e, 'Pow', this.v(a, d), this.v(b, d)), d);
  }

  matmul(a: Val, b: Val, res: TensorV): TensorV {
    const d = cd(res.dtype);
    const [x, y] = [this.v(a, d), this.v(b, d)];
    if (isFloat(d)) return this.named(res, op(this.e, 'MatMul', x, y), d);
    return this.named(res, intMatmul(this.e, x, shapeOf(I.asTensor(a)), y, shapeOf(I.asTensor(b)), shapeOf(res)), d);
  }

  compare(opName: string, a: Val, b: Val, res: TensorV): Val {
    const d0 = I.elementwise([a, b], 'same', opName).dtype;
    const d = d0 === 'bool' ? 'int32' : cd(d0);
    const [x, y] = [this.v(a, d), this.v(b, d)];
    const e = this.e;
    const r = opName === '<' ? op(e, 'Less', x, y) : opName === '<=' ? op(e, 'LessOrEqual', x, y) : opName === '>' ? op(e, 'Greater', x, y)
      : opName === '>=' ? op(e, 'GreaterOrEqual', x, y) : opName === '==' ? op(e, 'Equal', x, y) : op(e, 'Not', op(e, 'Equal', x, y));
    return this.named(res, r, 'bool');
  }

  transposed(v: TensorV, res: TensorV): Val {
    const perm = range(v.shape.length).reverse();
    const md = moveDtype(v.dtype);
    return this.named(res, this.e.op1('Transpose', [this.v(v, md)], { perm: ints(perm) }), md);
  }

  index(v: Val, idx: Val, res: TensorV): Val {
    return lowerIndex(this, v, idx, res);
  }
}

/** jnp.float32(x) and friends convert to the canonical (x64 off) dtype. */
function convertDtype(d: DType): DType {
  return d === 'float64' ? 'float32' : d === 'int64' ? 'int32' : d;
}

/** int ** int array, exactly as JAX's integer power: 31 squarings with the exponent's bits (negative exponents give 0 unless the base is ±1). */
function intPow(e: Emitter, x: string, y: string, d: DType): string {
  const [out] = e.fn('IntPow', `IntPow:${d}`, [x, y], 1, (fe, [base0, exp0]) => {
    const one = k(fe, 1, d), two = k(fe, 2, d), zero = k(fe, 0, d);
    let acc = op(fe, 'Add', op(fe, 'Add', op(fe, 'Mul', base0, zero), op(fe, 'Mul', exp0, zero)), one), base = base0, n = abs(fe, exp0, d);
    for (let i = 0; i < 31; i++) {
      const bit = truncRem(fe, n, two);
      acc = op(fe, 'Mul', acc, op(fe, 'Where', op(fe, 'Equal', bit, one), base, one));
      n = op(fe, 'Div', op(fe, 'Sub', n, bit), two);
      if (i < 30) base = op(fe, 'Mul', base, base);
    }
    // negative exponents: 1 / x^|y| in integers
    const negative = op(fe, 'Less', exp0, zero);
    const inv = op(fe, 'Where', op(fe, 'Equal', acc, zero), zero, op(fe, 'Where', op(fe, 'Equal', abs(fe, acc, d), one), acc, zero));
    return [op(fe, 'Where', negative, inv, acc)];
  }, 'x ** y for integer arrays: square-and-multiply over the 31 bits of |y|');
  return out;
}

/** gcd of integer arrays: a fixed number of Euclid steps (int32 needs at most 46: consecutive Fibonacci numbers). */
function gcd(e: Emitter, a: string, b: string, d: DType): string {
  const steps = d === 'int64' ? 92 : 47;
  const [out] = e.fn('Gcd', `Gcd:${d}`, [a, b], 1, (fe, [a0, b0]) => {
    const zero = k(fe, 0, d), one = k(fe, 1, d);
    let x = abs(fe, a0, d), y = abs(fe, b0, d);
    for (let i = 0; i < steps; i++) {
      const gt = op(fe, 'Greater', x, y);
      const hi = op(fe, 'Where', gt, x, y), lo = op(fe, 'Where', gt, y, x);
      const nz = op(fe, 'Not', op(fe, 'Equal', lo, zero));
      const safe = op(fe, 'Where', nz, lo, one);
      x = op(fe, 'Where', nz, lo, hi);
      y = op(fe, 'Where', nz, truncRem(fe, hi, safe), zero);
    }
    return [x];
  }, `gcd by ${steps} Euclid steps (enough for every ${d} pair)`);
  return out;
}

/** The dtype a value has as an array (Python ints int32, floats float32). */
function dtypeOf(x: Val): DType {
  if (x.t === 'tensor') return x.dtype;
  if (x.t === 'tuple' || x.t === 'list') return I.arrayOf(x).dtype;
  return I.asTensor(x).dtype;
}

// ---------------------------------------------------------------- indexing

/** Python slice bounds on a dimension of size n (stop -1 with a negative step: down to index 0). */
function sliceBounds(n: number, s: SliceV): { start: number; stop: number; step: number } {
  const num = (v: Val): number | null => (v.t === 'none' ? null : pyNumber(v));
  const step = num(s.step) ?? 1;
  const lo = num(s.lower), hi = num(s.upper);
  if (step > 0) {
    const start = lo === null ? 0 : lo < 0 ? Math.max(lo + n, 0) : Math.min(lo, n);
    const stop = hi === null ? n : hi < 0 ? Math.max(hi + n, 0) : Math.min(hi, n);
    return { start, stop: Math.max(stop, start), step };
  }
  const start = lo === null ? n - 1 : lo < 0 ? Math.max(lo + n, -1) : Math.min(lo, n - 1);
  const stop = hi === null ? -1 : hi < 0 ? Math.max(hi + n, -1) : Math.min(hi, n - 1);
  return { start, stop: Math.min(stop, start), step };
}

/** x[index]: slices (one Slice, or Gathers for non-floats), one Gather for a group of integer index arrays, a Reshape to the result. */
function lowerIndex(L: Low, v: Val, idx: Val, res: TensorV): TensorV {
  const e = L.e;
  const x: TensorV = v.t === 'tensor' ? v : { ...I.asTensor(v), name: L.v(v, I.asTensor(v).dtype) };
  const md = moveDtype(x.dtype);
  const shape = shapeOf(x);
  const rank = shape.length;
  const items = idx.t === 'tuple' ? idx.items : [idx];
  const consumed = items.filter((it) => it.t !== 'ellipsis' && it.t !== 'none').length;
  const hasArray = items.some((it) => it.t === 'tensor' || it.t === 'list');
  type Ix = { kind: 'full' } | { kind: 'slice'; s: SliceV } | { kind: 'int'; i: number } | { kind: 'array'; v: Val };
  const per: Ix[] = [];
  for (const it of items) {
    if (it.t === 'ellipsis') { for (let j = 0; j < rank - consumed; j++) per.push({ kind: 'full' }); continue; }
    if (it.t === 'none') continue;
    if (it.t === 'slice') per.push({ kind: 'slice', s: it });
    else if (!hasArray && (it.t === 'int' || it.t === 'bool')) per.push({ kind: 'int', i: pyNumber(it) });
    else per.push({ kind: 'array', v: it });
  }
  while (per.length < rank) per.push({ kind: 'full' });
  // the basic part
  const specs: SliceSpec[] = [];
  const sliced = [...shape];
  per.forEach((p, d) => {
    if (p.kind === 'slice') {
      const b = sliceBounds(shape[d], p.s);
      if (b.start === 0 && b.stop >= shape[d] && b.step === 1) return;
      specs.push({ axis: d, ...b });
      sliced[d] = Number(I.sliceLen(shape[d], p.s));
    } else if (p.kind === 'int') {
      const i = p.i < 0 ? p.i + shape[d] : p.i;
      specs.push({ axis: d, start: i, stop: i + 1, step: 1 });
      sliced[d] = 1;
    }
  });
  let y = sliceAxes(e, L.v(x, md), md, specs);
  const adv = per.map((p, d) => (p.kind === 'array' ? d : -1)).filter((d) => d >= 0);
  if (adv.length) {
    // integer arrays: normalise negatives, clamp (JAX clamps out-of-range gathers), one linear index over the advanced axes
    let lin: string | null = null;
    let stride = 1;
    for (let j = adv.length - 1; j >= 0; j--) {
      const d = adv[j], n = shape[d];
      let ix = L.v((per[d] as { v: Val }).v, 'int32');
      ix = op(e, 'Where', op(e, 'Less', ix, e.i32(0)), op(e, 'Add', ix, e.i32(n)), ix);
      ix = op(e, 'Min', op(e, 'Max', ix, e.i32(0)), e.i32(Math.max(n - 1, 0)));
      const term = stride === 1 ? ix : op(e, 'Mul', ix, e.i32(stride));
      lin = lin === null ? term : op(e, 'Add', term, lin);
      stride *= n;
    }
    const adjacent = adv.every((d, j) => j === 0 || d === adv[j - 1] + 1);
    const rest = range(rank).filter((d) => !adv.includes(d));
    let at = adv[0];
    if (!adjacent) {
      y = e.op1('Transpose', [y], { perm: ints([...adv, ...rest]) });
      at = 0;
    }
    const order = adjacent ? range(rank) : [...adv, ...rest];
    const merged: number[] = [];
    order.forEach((d) => {
      if (d === adv[0]) merged.push(prod(adv.map((a) => sliced[a])));
      else if (!adv.includes(d)) merged.push(sliced[d]);
    });
    y = e.op1('Reshape', [y, e.i64(merged)]);
    y = e.op1('Gather', [y, lin!], { axis: int(at) });
  }
  return L.named(res, e.op1('Reshape', [y, e.i64(shapeOf(res))]), md);
}

// ---------------------------------------------------------------- the functions

type Spec = readonly string[];
/** Binds a call's arguments as the interpreter did (methods: `self` is the first parameter). */
function args(a: Args, self: Val | undefined, spec: Spec): (Val | undefined)[] {
  return self ? [self, ...I.bind(a, spec.slice(1))] : I.bind(a, spec);
}
const none = (v: Val | undefined): v is undefined => v === undefined || v.t === 'none';
const T = (res: Val): TensorV => {
  if (res.t !== 'tensor') throw new LayerError('construct', `expected an array result while lowering, got ${I.describe(res)} (a bug in Strata)`);
  return res;
};

/** Normalised axes of axis=None|int|tuple (None: every axis). */
function axesOf(v: Val | undefined, rank: number): number[] {
  const a = none(v) ? null : I.asAxes(v);
  if (a === null) return range(rank);
  return (typeof a === 'number' ? [a] : a).map((x) => normAxis(x, rank));
}

const floatUnary = (name: string): Lowerer => (L, a, _s, res) => {
  const [x] = I.bind(a, ['x']);
  const d = cf(T(res).dtype);
  return L.named(res, FLOAT_UNARY[name](L.e, L.v(x!, d), d), d);
};

/** A dtype-keeping unary: `fl` on floats, `it` on ints (identity when absent). */
const sameUnary = (fl: F, it?: F): Lowerer => (L, a, self, res) => {
  const [x] = args(a, self, ['x']);
  const d = cd(T(res).dtype);
  const xv = L.v(x!, d);
  return L.named(res, isFloat(d) ? fl(L.e, xv, d) : it ? it(L.e, xv, d) : xv, d);
};

const signF: F = (e, x, d) => op(e, 'Where', op(e, 'Greater', x, k(e, 0, d)), k(e, 1, d), op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), k(e, -1, d), x));
const intReciprocal: F = (e, x, d) => {
  const zero = op(e, 'Equal', x, k(e, 0, d));
  return op(e, 'Where', zero, k(e, 0, d), op(e, 'Div', k(e, 1, d), op(e, 'Where', zero, k(e, 1, d), x)));
};

/** jnp.round(x, decimals): half to even; decimals scale by 10**decimals (integers: identity for decimals >= 0). */
const roundL: Lowerer = (L, a, self, res) => {
  const [x, dec] = args(a, self, ['a', 'decimals=']);
  const decimals = none(dec) ? 0 : pyNumber(dec!);
  const rd = T(res).dtype;
  if (!isFloat(rd) && decimals >= 0) return L.named(res, L.v(x!, rd), rd);
  const d = cf(rd), e = L.e;
  const xv = L.v(x!, d);
  if (decimals === 0) return L.named(res, roundEven(e, xv, d), d);
  const factor = k(e, 10 ** decimals, d);
  return L.named(res, op(e, 'Div', roundEven(e, op(e, 'Mul', xv, factor), d), factor), d);
};

/** Elementwise predicates on the input's dtype (integers: a constant answer). */
const predicate = (fl: F, intAnswer: boolean | ((e: Emitter, x: string, d: DType) => string)): Lowerer => (L, a, _s, res) => {
  const [x] = I.bind(a, ['x']);
  const xd = dtypeOf(x!);
  const e = L.e;
  if (isFloat(xd)) { const d = cf(xd); return L.named(res, fl(e, L.v(x!, d), d), 'bool'); }
  if (typeof intAnswer === 'function') { const d = cd(xd); return L.named(res, intAnswer(e, L.v(x!, d), d), 'bool'); }
  return L.named(res, filled(e, shapeOf(T(res)), intAnswer ? 1 : 0, 'bool'), 'bool');
};

const binaryOp = (opName: string): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  return L.arith(opName, x!, y!, T(res));
};
const compareOp = (opName: string): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  return L.compare(opName, x!, y!, T(res));
};
/** A binary float formula on operands promoted to the result dtype. */
const floatBinary = (f: (e: Emitter, x: string, y: string, d: DType) => string): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  const d = cd(T(res).dtype);
  return L.named(res, f(L.e, L.v(x!, d), L.v(y!, d), d), d);
};
const logical = (which: 'and' | 'or' | 'xor'): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  const [p, q] = [L.truth(x!), L.truth(y!)];
  const e = L.e;
  return L.named(res, which === 'and' ? op(e, 'And', p, q) : which === 'or' ? logicalOr(e, p, q) : logicalXor(e, p, q), 'bool');
};
const bitwise = (opName: string): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  if (T(res).dtype !== 'bool') return notLowered(`the bitwise function ${opName === '&' ? 'bitwise_and' : opName === '|' ? 'bitwise_or' : 'bitwise_xor'} on integer arrays`);
  return L.arith(opName, x!, y!, T(res));
};

const hypot = floatBinary((e, x, y, d) => {
  const ax = op(e, 'Abs', x), ay = op(e, 'Abs', y);
  const inf = logicalOr(e, isInf(e, ax, d), isInf(e, ay, d));
  const hi = op(e, 'Max', ax, ay), lo = op(e, 'Min', ax, ay);
  const zero = op(e, 'Equal', hi, k(e, 0, d));
  const r = op(e, 'Div', lo, op(e, 'Where', zero, k(e, 1, d), hi));
  const h = op(e, 'Where', zero, hi, op(e, 'Mul', hi, op(e, 'Sqrt', op(e, 'Add', k(e, 1, d), op(e, 'Mul', r, r)))));
  return op(e, 'Where', inf, k(e, Infinity, d), h);
});

const whereL: Lowerer = (L, a, _s, res) => {
  const [c, x, y] = I.bind(a, ['condition', 'x=', 'y=']);
  const d = cd(T(res).dtype);
  return L.named(res, op(L.e, 'Where', L.truth(c!), L.v(x!, d), L.v(y!, d)), d);
};
const clipL: Lowerer = (L, a, self, res) => {
  const vals = args(a, self, ['x', 'a_min=', 'a_max=', 'min=', 'max=']);
  const d = cd(T(res).dtype);
  let r = L.v(vals[0]!, d);
  const lo = vals[1] ?? vals[3], hi = vals[2] ?? vals[4];
  if (!none(lo)) r = maxMin(L.e, 'Max', r, L.v(lo!, d), d);
  if (!none(hi)) r = maxMin(L.e, 'Min', r, L.v(hi!, d), d);
  return L.named(res, r, d);
};

// ---- reductions

interface Red { x: Val; shape: number[]; axes: number[]; keepdims: boolean; arg: (name: string) => Val | undefined }
function red(a: Args, self: Val | undefined, spec: Spec): Red {
  const vals = args(a, self, spec);
  const names = spec.map((s) => s.replace(/=$/, ''));
  const x = vals[0]!;
  const shape = shapeOf(I.asTensor(x));
  const get = (n: string): Val | undefined => vals[names.indexOf(n)];
  const kd = get('keepdims');
  return { x, shape, axes: axesOf(get('axis'), shape.length), keepdims: none(kd) ? false : I.asBool(kd, 'keepdims', false), arg: get };
}
const SUM_SPEC = ['a', 'axis=', 'dtype=', 'keepdims='];
const MAX_SPEC = ['a', 'axis=', 'keepdims='];
const VAR_SPEC = ['a', 'axis=', 'dtype=', 'out=', 'ddof=', 'keepdims='];

/** NaN where any (or, with `all`, every) reduced element is NaN. */
function nanWhere(e: Emitter, x: string, r: string, axes: number[], keepdims: boolean, d: DType, all = false): string {
  const flag = reduceOver(e, all ? 'ReduceMin' : 'ReduceMax', e.op1('Cast', [isNan(e, x)], { to: int(ONNX_DTYPE.float32) }), axes, keepdims);
  return op(e, 'Where', op(e, 'Greater', flag, e.f32(0.5)), k(e, NaN, d), r);
}

const reduceL = (onnxOp: OpType, spec: Spec = SUM_SPEC, nan?: 'propagate' | 'skip'): Lowerer => (L, a, self, res) => {
  const r = red(a, self, spec);
  const d = cd(T(res).dtype);
  const e = L.e;
  let x = L.v(r.x, d);
  if (nan === 'skip' && isFloat(d)) {
    const fill = onnxOp === 'ReduceMax' ? -Infinity : onnxOp === 'ReduceMin' ? Infinity : onnxOp === 'ReduceProd' ? 1 : 0;
    const raw = x;
    x = op(e, 'Where', isNan(e, x), k(e, fill, d), x);
    const out = reduceOver(e, onnxOp, x, r.axes, r.keepdims);
    return L.named(res, onnxOp === 'ReduceMax' || onnxOp === 'ReduceMin' ? nanWhere(e, raw, out, r.axes, r.keepdims, d, true) : out, d);
  }
  let out = reduceOver(e, onnxOp, x, r.axes, r.keepdims);
  if (nan === 'propagate' && isFloat(d)) out = nanWhere(e, x, out, r.axes, r.keepdims, d);
  return L.named(res, out, d);
};
const meanL = (skipNan: boolean): Lowerer => (L, a, self, res) => {
  const r = red(a, self, SUM_SPEC);
  const d = cd(T(res).dtype);
  const e = L.e;
  const x = L.v(r.x, d);
  if (!skipNan || !isFloat(d)) return L.named(res, reduceOver(e, 'ReduceMean', x, r.axes, r.keepdims), d);
  const ok = op(e, 'Not', isNan(e, x));
  const total = reduceOver(e, 'ReduceSum', op(e, 'Where', ok, x, k(e, 0, d)), r.axes, r.keepdims);
  const count = reduceOver(e, 'ReduceSum', e.op1('Cast', [ok], { to: int(ONNX_DTYPE[d]) }), r.axes, r.keepdims);
  return L.named(res, op(e, 'Div', total, count), d);
};
const anyAll = (which: 'any' | 'all'): Lowerer => (L, a, self, res) => {
  const r = red(a, self, MAX_SPEC);
  const e = L.e;
  const b = e.op1('Cast', [L.truth(r.x)], { to: int(ONNX_DTYPE.float32) });
  return L.named(res, op(e, 'Greater', reduceOver(e, which === 'any' ? 'ReduceMax' : 'ReduceMin', b, r.axes, r.keepdims), e.f32(0.5)), 'bool');
};
const countNonzero: Lowerer = (L, a, self, res) => {
  const r = red(a, self, MAX_SPEC);
  const e = L.e;
  return L.named(res, reduceOver(e, 'ReduceSum', e.op1('Cast', [L.truth(r.x)], { to: int(ONNX_DTYPE.int32) }), r.axes, r.keepdims), 'int32');
};
const varL = (std: boolean): Lowerer => (L, a, self, res) => {
  const r = red(a, self, VAR_SPEC);
  const d = cf(T(res).dtype);
  const e = L.e;
  const ddofV = r.arg('ddof');
  const ddof = none(ddofV) ? 0 : pyNumber(ddofV!);
  const x = L.v(r.x, d);
  const centered = op(e, 'Sub', x, reduceOver(e, 'ReduceMean', x, r.axes, true));
  const n = prod(r.axes.map((ax) => r.shape[ax]));
  const v = op(e, 'Div', reduceOver(e, 'ReduceSum', op(e, 'Mul', centered, centered), r.axes, r.keepdims), k(e, Math.max(n - ddof, 0), d));
  return L.named(res, std ? op(e, 'Sqrt', v) : v, d);
};
const argL = (which: 'max' | 'min'): Lowerer => (L, a, self, res) => {
  const vals = args(a, self, ['a', 'axis=', 'out=', 'keepdims=']);
  const x = vals[0]!;
  const xd = dtypeOf(x);
  let shape = shapeOf(I.asTensor(x));
  let v = L.v(x, xd);
  let axis: number;
  if (none(vals[1])) { v = L.e.op1('Reshape', [v, L.e.i64([-1])]); shape = [prod(shape)]; axis = 0; } else axis = normAxis(I.asNumber(vals[1]!, 'axis'), shape.length);
  const r = argExtremum(L.e, v, xd, shape, axis, which);
  return L.named(res, L.e.op1('Reshape', [r, L.e.i64(shapeOf(T(res)))]), 'int32');
};
/**
 * Each element's position in the stable ascending order along `axis` (NaNs
 * last, as jnp.argsort): the count of elements that go before it. O(n^2)
 * compares, exact, no transposes (onnxruntime would push them onto the bool
 * compares, where WebGPU has no kernel) and no int64 indices.
 */
function ranksAlong(e: Emitter, v: string, shape: number[], axis: number, d: DType): string {
  const n = shape[axis], rank = shape.length;
  const xi = e.op1('Unsqueeze', [v, e.i64([axis + 1])]), xj = e.op1('Unsqueeze', [v, e.i64([axis])]);
  let less = op(e, 'Less', xj, xi), eq = op(e, 'Equal', xj, xi);
  if (isFloat(d)) {
    const ni = isNan(e, xi), nj = isNan(e, xj);
    less = logicalOr(e, less, op(e, 'And', ni, op(e, 'Not', nj)));
    eq = logicalOr(e, eq, op(e, 'And', ni, nj));
  }
  // before[i][j] = j < i, on the axes (axis, axis + 1) of the pairwise compare
  const before = constTensor(e, range(n * n).map((i) => (i % n < Math.floor(i / n) ? 1 : 0)), [n, n, ...new Array(rank - axis - 1).fill(1)], 'bool');
  const earlier = logicalOr(e, less, op(e, 'And', eq, before));
  return reduceOver(e, 'ReduceSum', e.op1('Cast', [earlier], { to: int(ONNX_DTYPE.int32) }), [axis + 1]);
}

/** Ascending sort along `axis`: TopK for floats (NaNs moved last, as jnp.sort puts them), exact ranks for integers. */
function sortAlong(e: Emitter, x: string, shape: number[], axis: number, d: DType): string {
  const n = shape[axis];
  if (!isFloat(d)) return e.op1('ScatterElements', [filled(e, shape, 0, d), ranksAlong(e, x, shape, axis, d), x], { axis: int(axis) });
  const nan = isNan(e, x);
  const keyed = op(e, 'Where', nan, k(e, Infinity, d), x);
  const [sorted] = e.op('TopK', [keyed, e.i64([n])], { axis: int(axis), largest: int(0), sorted: int(1) }, 2);
  const nNan = reduceOver(e, 'ReduceSum', e.op1('Cast', [nan], { to: int(ONNX_DTYPE.float32) }), [axis], true);
  const iota = e.f32(range(n), shape.map((s, i) => (i === axis ? n : 1)));
  return op(e, 'Where', op(e, 'GreaterOrEqual', iota, op(e, 'Sub', e.f32(n), nNan)), k(e, NaN, d), sorted);
}

/** The array (flattened when axis is None) and the axis to work along. */
function alongAxis(L: Low, x: Val, ax: Val | undefined, d: DType): { v: string; shape: number[]; axis: number } {
  let shape = shapeOf(I.asTensor(x));
  let v = L.v(x, d);
  if (ax !== undefined && ax.t === 'none') {
    v = L.e.op1('Reshape', [v, L.e.i64([-1])]);
    shape = [prod(shape)];
    return { v, shape, axis: 0 };
  }
  return { v, shape, axis: normAxis(ax === undefined ? -1 : I.asNumber(ax, 'axis'), shape.length) };
}

const medianL: Lowerer = (L, a, self, res) => {
  const r = red(a, self, ['a', 'axis=', 'out=', 'overwrite_input=', 'keepdims=']);
  const d = cf(T(res).dtype);
  const e = L.e;
  const x = L.v(r.x, d);
  // NaN anywhere in a group gives NaN; the sort sees NaN as +inf (the NaN flags stay off the transposed path)
  const anyNan = op(e, 'Greater', reduceOver(e, 'ReduceMax', e.op1('Cast', [isNan(e, x)], { to: int(ONNX_DTYPE.float32) }), r.axes, true), e.f32(0.5));
  let keyed = op(e, 'Where', isNan(e, x), k(e, Infinity, d), x);
  const lead = range(r.shape.length).filter((ax) => !r.axes.includes(ax));
  const n = prod(r.axes.map((ax) => r.shape[ax]));
  const perm = [...lead, ...r.axes];
  if (!perm.every((p, i) => p === i)) keyed = e.op1('Transpose', [keyed], { perm: ints(perm) });
  const flat = [...lead.map((ax) => r.shape[ax]), n];
  keyed = e.op1('Reshape', [keyed, e.i64(flat)]);
  const [sorted] = e.op('TopK', [keyed, e.i64([n])], { axis: int(-1), largest: int(0), sorted: int(1) }, 2);
  const pick = (i: number): string => e.op1('Slice', [sorted, e.i64([i]), e.i64([i + 1]), e.i64([-1])]);
  const lo = Math.floor((n - 1) / 2), hi = Math.ceil((n - 1) / 2);
  const m = lo === hi ? pick(lo) : op(e, 'Mul', op(e, 'Add', pick(lo), pick(hi)), k(e, 0.5, d));
  const keep = r.shape.map((s, i) => (r.axes.includes(i) ? 1 : s));
  const med = op(e, 'Where', anyNan, k(e, NaN, d), e.op1('Reshape', [m, e.i64(keep)]));
  return L.named(res, e.op1('Reshape', [med, e.i64(shapeOf(T(res)))]), d);
};
const logsumexpL: Lowerer = (L, a, self, res) => {
  const r = red(a, self, ['a', 'axis=', 'b=', 'keepdims=']);
  const d = cf(T(res).dtype);
  const e = L.e;
  const x = L.v(r.x, d);
  let amax = reduceOver(e, 'ReduceMax', x, r.axes, true);
  amax = op(e, 'Where', op(e, 'Less', op(e, 'Abs', amax), k(e, Infinity, d)), amax, k(e, 0, d));
  let ex = op(e, 'Exp', op(e, 'Sub', x, amax));
  const b = r.arg('b');
  if (!none(b)) ex = op(e, 'Mul', ex, L.v(b!, d));
  const s = reduceOver(e, 'ReduceSum', ex, r.axes, r.keepdims);
  let out = op(e, 'Log', op(e, 'Abs', s));
  if (!none(b)) out = op(e, 'Where', op(e, 'Less', s, k(e, 0, d)), k(e, NaN, d), out);
  const am = r.keepdims ? amax : e.op1('Reshape', [amax, e.i64(shapeOf(T(res)))]);
  return L.named(res, op(e, 'Add', out, am), d);
};
/** cumsum / cumprod over one axis (axis=None: the flattened array). */
const cumulativeL = (which: 'sum' | 'prod'): Lowerer => (L, a, self, res) => {
  const [x, ax] = args(a, self, ['a', 'axis=', 'dtype=']);
  const d = cd(T(res).dtype);
  const e = L.e;
  let v = L.v(x!, d);
  let shape = shapeOf(I.asTensor(x!));
  let axis: number;
  if (none(ax)) { v = e.op1('Reshape', [v, e.i64([-1])]); shape = [prod(shape)]; axis = 0; } else axis = normAxis(I.asNumber(ax!, 'axis'), shape.length);
  if (which === 'sum') return L.named(res, e.op1('CumSum', [v, e.i64(axis)]), d);
  // products: a lower-triangular mask over the axis and ReduceProd (no CumProd op, no transposes)
  const n = shape[axis], rank = shape.length;
  const mask = constTensor(e, range(n * n).map((i) => (i % n <= Math.floor(i / n) ? 1 : 0)), [n, n, ...new Array(rank - axis - 1).fill(1)], 'bool');
  const spread = op(e, 'Where', mask, e.op1('Unsqueeze', [v, e.i64([axis])]), k(e, 1, d));
  return L.named(res, reduceOver(e, 'ReduceProd', spread, [axis + 1], false), d);
};
/** jnp.linalg.norm for vector norms (any ord) and the Frobenius, 1 and inf matrix norms. */
const normL: Lowerer = (L, a, _s, res) => {
  const [x, ordV, axV, kdV] = I.bind(a, ['x', 'ord=', 'axis=', 'keepdims=']);
  const d = cf(T(res).dtype);
  const e = L.e;
  const shape = shapeOf(I.asTensor(x!));
  const keepdims = none(kdV) ? false : I.asBool(kdV, 'keepdims', false);
  const v = op(e, 'Abs', L.v(x!, d));
  const axes = axesOf(axV, shape.length);
  const ordNone = none(ordV);
  const ord = ordNone ? null : ordV!.t === 'str' ? ordV!.v : pyNumber(ordV!);
  const sq = (): string => op(e, 'Sqrt', reduceOver(e, 'ReduceSum', op(e, 'Mul', v, v), axes, keepdims));
  if (ordNone || (ord === 'fro' && axes.length === 2)) return L.named(res, sq(), d);
  if (axes.length === 1 && typeof ord === 'number') {
    if (ord === Infinity) return L.named(res, reduceOver(e, 'ReduceMax', v, axes, keepdims), d);
    if (ord === -Infinity) return L.named(res, reduceOver(e, 'ReduceMin', v, axes, keepdims), d);
    if (ord === 0) return L.named(res, reduceOver(e, 'ReduceSum', e.op1('Cast', [op(e, 'Not', op(e, 'Equal', v, k(e, 0, d)))], { to: int(ONNX_DTYPE[d]) }), axes, keepdims), d);
    if (ord === 1) return L.named(res, reduceOver(e, 'ReduceSum', v, axes, keepdims), d);
    if (ord === 2) return L.named(res, sq(), d);
    const p = k(e, ord, d);
    return L.named(res, op(e, 'Pow', reduceOver(e, 'ReduceSum', op(e, 'Pow', v, p), axes, keepdims), k(e, 1 / ord, d)), d);
  }
  if (axes.length === 2 && (ord === 1 || ord === -1 || ord === Infinity || ord === -Infinity)) {
    // 1: max over columns of the column sums; inf: max over rows of the row sums
    const [rowAx, colAx] = axes;
    const sumAx = ord === 1 || ord === -1 ? rowAx : colAx, outAx = ord === 1 || ord === -1 ? colAx : rowAx;
    const sums = reduceOver(e, 'ReduceSum', v, [sumAx], true);
    const ext = reduceOver(e, ord > 0 ? 'ReduceMax' : 'ReduceMin', sums, [outAx], true);
    return L.named(res, e.op1('Reshape', [ext, e.i64(shapeOf(T(res)))]), d);
  }
  return notLowered(`jnp.linalg.norm with ord=${String(ord)} over ${axes.length} axes`);
};

// ---- linear algebra

/** jnp.dot of rank >= 2 arrays (b of rank >= 2): contracts a's last axis with b's second-to-last. */
function dotNd(e: Emitter, a: string, as: number[], b: string, bs: number[], d: DType): string {
  const kk = as[as.length - 1];
  const p = prod(as.slice(0, -1));
  const bk = bs.length === 1 ? 0 : bs.length - 2;
  const perm = [bk, ...range(bs.length).filter((i) => i !== bk)];
  const rest = bs.filter((_, i) => i !== bk);
  const bT = e.op1('Reshape', [e.op1('Transpose', [b], { perm: ints(perm) }), e.i64([kk, prod(rest)])]);
  const a2 = e.op1('Reshape', [a, e.i64([p, kk])]);
  const out = [...as.slice(0, -1), ...rest];
  return isFloat(d) ? e.op1('Reshape', [e.op1('MatMul', [a2, bT]), e.i64(out)]) : intMatmul(e, a2, [p, kk], bT, [kk, prod(rest)], out);
}
const dotL: Lowerer = (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['a', 'b']);
  const [xs, ys] = [shapeOf(I.asTensor(x!)), shapeOf(I.asTensor(y!))];
  if (xs.length === 0 || ys.length === 0) return L.arith('*', x!, y!, T(res));
  if (xs.length <= 2 && ys.length <= 2) return L.matmul(x!, y!, T(res));
  const d = cd(T(res).dtype);
  return L.named(res, dotNd(L.e, L.v(x!, d), xs, L.v(y!, d), ys, d), d);
};
const outerL: Lowerer = (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['a', 'b']);
  const d = cd(T(res).dtype);
  const e = L.e;
  return L.named(res, op(e, 'Mul', e.op1('Reshape', [L.v(x!, d), e.i64([-1, 1])]), e.op1('Reshape', [L.v(y!, d), e.i64([1, -1])])), d);
};

// ---- shapes

/** A Reshape of the first argument (or self) to the result's shape: reshape, squeeze, expand_dims, ravel. */
const reshapeL: Lowerer = (L, a, self, res) => {
  const x = self ?? a.pos[0] ?? a.kw.get('a') ?? a.kw.get('ary');
  if (!x) return I.wrong('missing the array');
  const rd = T(res).dtype;
  return L.named(res, L.e.op1('Reshape', [L.v(x, rd), L.e.i64(shapeOf(T(res)))]), rd);
};
const permuteL = (permOf: (a: Args, self: Val | undefined, rank: number) => { x: Val; perm: number[] }): Lowerer => (L, a, self, res) => {
  const x0 = self ?? a.pos[0] ?? a.kw.get('a');
  const rank = I.asTensor(x0!).shape.length;
  const { x, perm } = permOf(a, self, rank);
  const md = moveDtype(T(res).dtype);
  return L.named(res, L.e.op1('Transpose', [L.v(x, md)], { perm: ints(perm) }), md);
};
const transposeL = permuteL((a, self, rank) => {
  let x: Val, axesV: Val | undefined;
  if (self) { x = self; axesV = a.pos.length <= 1 ? (a.pos[0] ?? a.kw.get('axes')) : I.tuple(a.pos); } else { const b = I.bind(a, ['a', 'axes=']); x = b[0]!; axesV = b[1]; }
  const perm = none(axesV) ? range(rank).reverse() : axesOf(axesV, rank);
  return { x, perm };
});
const swapaxesL = permuteL((a, self, rank) => {
  const [x, i, j] = args(a, self, ['a', 'axis1', 'axis2']);
  const perm = range(rank);
  const [p, q] = [normAxis(I.asNumber(i!, 'axis1'), rank), normAxis(I.asNumber(j!, 'axis2'), rank)];
  [perm[p], perm[q]] = [perm[q], perm[p]];
  return { x: x!, perm };
});
const moveaxisL = permuteL((a, self, rank) => {
  const [x, srcV, dstV] = args(a, self, ['a', 'source', 'destination']);
  const s = axesOf(srcV, rank), d = axesOf(dstV, rank);
  const order = range(rank).filter((i) => !s.includes(i));
  const pairs = d.map((dd, j) => [dd, s[j]] as const).sort((p, q) => p[0] - q[0]);
  for (const [dd, ss] of pairs) order.splice(dd, 0, ss);
  return { x: x!, perm: order };
});
const concatenateL: Lowerer = (L, a, _s, res) => {
  const [xs, ax] = I.bind(a, ['arrays', 'axis=']);
  const rd = moveDtype(T(res).dtype);
  const e = L.e;
  const items = (xs as SeqV).items;
  if (!none(ax) || ax === undefined) {
    const rank = I.asTensor(items[0]).shape.length;
    const axis = normAxis(ax === undefined ? 0 : I.asNumber(ax, 'axis'), rank);
    return L.named(res, e.op1('Concat', items.map((it) => L.v(it, rd)), { axis: int(axis) }), rd);
  }
  return L.named(res, e.op1('Concat', items.map((it) => e.op1('Reshape', [L.v(it, rd), e.i64([-1])])), { axis: int(0) }), rd);
};
const stackL: Lowerer = (L, a, _s, res) => {
  const [xs, ax] = I.bind(a, ['arrays', 'axis=']);
  const rd = moveDtype(T(res).dtype);
  const e = L.e;
  const items = (xs as SeqV).items;
  const axis = normAxis(none(ax) ? 0 : I.asNumber(ax!, 'axis'), T(res).shape.length);
  return L.named(res, e.op1('Concat', items.map((it) => e.op1('Unsqueeze', [L.v(it, rd), e.i64([axis])])), { axis: int(axis) }), rd);
};
const splitL: Lowerer = (L, a, self, res) => {
  const [x, , ax] = args(a, self, ['ary', 'indices_or_sections', 'axis=']);
  const parts = (res as SeqV).items.map(T);
  const rank = I.asTensor(x!).shape.length;
  const axis = normAxis(none(ax) ? 0 : I.asNumber(ax!, 'axis'), rank);
  const md = moveDtype(parts[0].dtype);
  const outs = L.e.op('Split', [L.v(x!, md), L.e.i64(parts.map((p) => Number(p.shape[axis])))], { axis: int(axis) }, parts.length);
  return { t: res.t as 'list', items: parts.map((p, i) => L.named(p, outs[i], md)) };
};
const broadcastToL: Lowerer = (L, a, _s, res) => {
  const [x] = I.bind(a, ['array', 'shape']);
  const rd = T(res).dtype;
  return L.named(res, L.e.op1('Expand', [L.v(x!, rd), L.e.i64(shapeOf(T(res)))]), rd);
};
const flipL: Lowerer = (L, a, _s, res) => {
  const [x, ax] = I.bind(a, ['m', 'axis=']);
  const md = moveDtype(T(res).dtype);
  const shape = shapeOf(T(res));
  const v = L.v(x!, md);
  const out = sliceAxes(L.e, v, md, axesOf(ax, shape.length).map((axis) => ({ axis, start: shape[axis] - 1, stop: -1, step: -1 })));
  return L.named(res, out, md);
};
const rollL: Lowerer = (L, a, _s, res) => {
  const [x, shiftV, ax] = I.bind(a, ['a', 'shift', 'axis=']);
  const rd = moveDtype(T(res).dtype);
  const e = L.e;
  const shape = shapeOf(T(res));
  if (shiftV!.t === 'tensor') return notLowered('jnp.roll with an array shift');
  const shifts = shiftV!.t === 'tuple' || shiftV!.t === 'list' ? shiftV!.items.map(pyNumber) : [pyNumber(shiftV!)];
  let v = L.v(x!, rd);
  let dims = shape, axes: number[];
  if (none(ax)) { v = e.op1('Reshape', [v, e.i64([-1])]); dims = [prod(shape)]; axes = [0]; } else axes = axesOf(ax, shape.length);
  const shiftOf = (i: number): number => shifts[shifts.length === 1 ? 0 : i];
  axes.forEach((axis, i) => {
    const n = dims[axis];
    if (n === 0) return;
    const s = ((shiftOf(i) % n) + n) % n;
    if (s === 0) return;
    v = e.op1('Gather', [v, e.i32(range(n).map((i) => (i - s + n) % n))], { axis: int(axis) });
  });
  return L.named(res, e.op1('Reshape', [v, e.i64(shape)]), rd);
};
const sortL: Lowerer = (L, a, self, res) => {
  const [x, ax] = args(a, self, ['a', 'axis=']);
  const d = cd(T(res).dtype);
  const { v, shape, axis } = alongAxis(L, x!, ax, d);
  return L.named(res, sortAlong(L.e, v, shape, axis, d), d);
};
/** argsort (stable, NaNs last, as jnp.argsort): each element's rank, scattered to its position. */
const argsortL: Lowerer = (L, a, self, res) => {
  const [x, ax] = args(a, self, ['a', 'axis=']);
  const d = cd(dtypeOf(x!));
  const e = L.e;
  const { v, shape, axis } = alongAxis(L, x!, ax, d);
  const n = shape[axis];
  const iota = e.op1('Expand', [e.i32(range(n), shape.map((s, i) => (i === axis ? n : 1))), e.i64(shape)]);
  return L.named(res, e.op1('ScatterElements', [filled(e, shape, 0, 'int32'), ranksAlong(e, v, shape, axis, d), iota], { axis: int(axis) }), 'int32');
};
const triL = (upper: boolean): Lowerer => (L, a, _s, res) => {
  const [x, kV] = I.bind(a, ['m', 'k=']);
  const t = T(res);
  const shape = shapeOf(t);
  if (shape.length < 2) return notLowered(`jnp.${upper ? 'triu' : 'tril'} of an array of rank < 2`);
  const kk = none(kV) ? 0 : pyNumber(kV!);
  const [r, c] = shape.slice(-2);
  const mask = constTensor(L.e, range(r * c).map((i) => { const row = Math.floor(i / c), col = i % c; return (upper ? col >= row + kk : col <= row + kk) ? 1 : 0; }), [r, c], 'bool');
  const d = cd(t.dtype);
  return L.named(res, op(L.e, 'Where', mask, L.v(x!, d), k(L.e, 0, d)), d);
};

// ---- creation

const fillL = (value: number | null, spec: Spec, fillAt = -1): Lowerer => (L, a, _s, res) => {
  const vals = I.bind(a, spec);
  const t = T(res);
  const shape = shapeOf(t);
  const fill = fillAt >= 0 ? vals[fillAt]! : null;
  if (fill === null || fill.t !== 'tensor') {
    const v = fill === null ? value! : pyNumber(fill);
    return L.named(res, filled(L.e, shape, v, t.dtype), t.dtype);
  }
  return L.named(res, L.e.op1('Expand', [L.v(fill, t.dtype), L.e.i64(shape)]), t.dtype);
};
const arangeL: Lowerer = (L, a, _s, res) => {
  const [v0, v1, v2] = I.bind(a, ['start', 'stop=', 'step=', 'dtype=']);
  const present = [v0!, v1, v2].filter((v): v is Val => !none(v));
  const [start, , step] = present.length === 1 ? [0, pyNumber(present[0]), 1] : [pyNumber(present[0]), pyNumber(present[1]), present[2] ? pyNumber(present[2]) : 1];
  const t = T(res);
  const n = shapeOf(t)[0];
  return L.named(res, constTensor(L.e, range(n).map((i) => start + i * step), [n], t.dtype), t.dtype);
};
const linspaceL: Lowerer = (L, a, _s, res) => {
  const [s0, s1, num, ep, rs] = I.bind(a, ['start', 'stop', 'num=', 'endpoint=', 'retstep=', 'dtype=']);
  if (s0!.t === 'tensor' || s1!.t === 'tensor') return notLowered('jnp.linspace with array bounds');
  if (!none(rs) && I.asBool(rs, 'retstep', false)) return notLowered('jnp.linspace with retstep=True');
  const start = pyNumber(s0!), stop = pyNumber(s1!);
  const n = none(num) ? 50 : pyNumber(num!);
  const endpoint = none(ep) ? true : I.asBool(ep, 'endpoint', true);
  const div = endpoint ? n - 1 : n;
  const t = T(res);
  const vals = range(n).map((i) => (endpoint && i === n - 1 && n > 1 ? stop : start + ((stop - start) * i) / (div || 1)));
  return L.named(res, constTensor(L.e, isFloat(t.dtype) ? vals : vals.map(Math.floor), [n], t.dtype), t.dtype);
};
const eyeL: Lowerer = (L, a, _s, res) => {
  const vals = I.bind(a, ['N', 'M=', 'k=', 'dtype=']);
  const kk = none(vals[2]) ? 0 : pyNumber(vals[2]!);
  const t = T(res);
  const [r, c] = shapeOf(t);
  return L.named(res, constTensor(L.e, range(r * c).map((i) => (i % c === Math.floor(i / c) + kk ? 1 : 0)), [r, c], t.dtype), t.dtype);
};
const identityL: Lowerer = (L, _a, _s, res) => {
  const t = T(res);
  const [r, c] = shapeOf(t);
  return L.named(res, constTensor(L.e, range(r * c).map((i) => (i % c === Math.floor(i / c) ? 1 : 0)), [r, c], t.dtype), t.dtype);
};
const arrayL: Lowerer = (L, a, _s, res) => {
  const [x] = I.bind(a, ['object', 'dtype=']);
  const t = T(res);
  return L.named(res, t.dtype === 'bool' && dtypeOf(x!) !== 'bool' ? L.truth(x!) : L.v(x!, t.dtype), t.dtype);
};
const astypeL: Lowerer = (L, _a, self, res) => {
  const t = T(res);
  return L.named(res, t.dtype === 'bool' ? L.truth(self!) : L.v(self!, t.dtype), t.dtype);
};

// ---- jax.nn

const softmaxL = (log: boolean): Lowerer => (L, a, _s, res) => {
  const [x, ax] = I.bind(a, ['x', 'axis=']);
  const t = T(res);
  const d = cf(t.dtype);
  const e = L.e;
  const axes = ax === undefined ? [t.shape.length - 1] : axesOf(ax, t.shape.length);
  const v = L.v(x!, d);
  const shifted = op(e, 'Sub', v, reduceOver(e, 'ReduceMax', v, axes, true));
  const ex = op(e, 'Exp', shifted);
  const sum = reduceOver(e, 'ReduceSum', ex, axes, true);
  return L.named(res, log ? op(e, 'Sub', shifted, op(e, 'Log', sum)) : op(e, 'Div', ex, sum), d);
};
const oneHotL = (spec: Spec): Lowerer => (L, a, _s, res) => {
  const [x, , , ax] = I.bind(a, spec);
  const t = T(res);
  const e = L.e;
  const xd = dtypeOf(x!);
  const rank = t.shape.length;
  const axis = normAxis(none(ax) ? -1 : pyNumber(ax!), rank);
  const n = shapeOf(t)[axis];
  const d = isFloat(xd) ? cf(xd) : 'int32';
  const iota = constTensor(e, range(n), shapeOf(t).map((s, i) => (i === axis ? n : 1)), d);
  const eq = op(e, 'Equal', e.op1('Unsqueeze', [L.v(x!, d), e.i64([axis])]), iota);
  return L.named(res, t.dtype === 'bool' ? eq : e.op1('Cast', [eq], { to: int(ONNX_DTYPE[cd(t.dtype)]) }), t.dtype === 'bool' ? 'bool' : cd(t.dtype));
};
const withParam = (spec: Spec, dflt: number, f: (e: Emitter, x: string, p: number, d: DType) => string, float = true): Lowerer => (L, a, _s, res) => {
  const [x, pv] = I.bind(a, spec);
  const p = none(pv) ? dflt : pyNumber(pv!);
  const d = float ? cf(T(res).dtype) : cd(T(res).dtype);
  return L.named(res, f(L.e, L.v(x!, d), p, d), d);
};
const geluL: Lowerer = (L, a, _s, res) => {
  const [x, ap] = I.bind(a, ['x', 'approximate=']);
  const approximate = none(ap) ? true : I.asBool(ap, 'approximate', true);
  const d = cf(T(res).dtype);
  const e = L.e;
  const v = L.v(x!, d);
  if (!approximate) return L.named(res, op(e, 'Div', op(e, 'Mul', v, op(e, 'Add', op(e, 'Erf', op(e, 'Div', v, k(e, Math.SQRT2, d))), k(e, 1, d))), k(e, 2, d)), d);
  const cube = op(e, 'Mul', op(e, 'Mul', v, v), v);
  const inner = op(e, 'Mul', k(e, Math.sqrt(2 / Math.PI), d), op(e, 'Add', v, op(e, 'Mul', k(e, 0.044715, d), cube)));
  return L.named(res, op(e, 'Mul', v, op(e, 'Mul', k(e, 0.5, d), op(e, 'Add', k(e, 1, d), op(e, 'Tanh', inner)))), d);
};

/** gcd / lcm on integer arrays. */
const gcdL = (lcm: boolean): Lowerer => (L, a, _s, res) => {
  const [x, y] = I.bind(a, ['x1', 'x2']);
  const d = cd(T(res).dtype);
  const e = L.e;
  const [xv, yv] = [L.v(x!, d), L.v(y!, d)];
  const g = gcd(e, xv, yv, d);
  if (!lcm) return L.named(res, g, d);
  const zero = op(e, 'Equal', g, k(e, 0, d));
  const q = op(e, 'Div', yv, op(e, 'Where', zero, k(e, 1, d), g));
  return L.named(res, op(e, 'Where', zero, k(e, 0, d), abs(e, op(e, 'Mul', xv, q), d)), d);
};

/** Python's builtin sum over a list of arrays: a chain of additions from `start`. */
const builtinSumL: Lowerer = (L, a, _s, res) => {
  const [xs, start] = I.bind(a, ['iterable', 'start=']);
  let acc: Val = start ?? I.int(0);
  for (const it of (xs as SeqV).items) {
    const r = I.binop('+', acc, it);
    acc = r.t === 'tensor' ? L.arith('+', acc, it, r) : r;
  }
  return acc.t === 'tensor' ? acc : L.named(res, L.v(acc, T(res).dtype), T(res).dtype);
};

const LOWERERS: Record<string, Lowerer> = {};
for (const name of Object.keys(FLOAT_UNARY)) {
  for (const ns of ['np', 'nn', 'special', 'lax']) LOWERERS[`${ns}.${name}`] = floatUnary(name);
}
Object.assign(LOWERERS, {
  'np.abs': sameUnary(abs, abs),
  'np.absolute': sameUnary(abs, abs),
  'np.negative': sameUnary(neg, neg),
  'np.positive': sameUnary((_e, x) => x),
  'np.sign': sameUnary(signF, signF),
  'np.square': sameUnary((e, x) => op(e, 'Mul', x, x), (e, x) => op(e, 'Mul', x, x)),
  'np.reciprocal': sameUnary((e, x) => op(e, 'Reciprocal', x), intReciprocal),
  'np.floor': sameUnary((e, x) => op(e, 'Floor', x)),
  'np.ceil': sameUnary((e, x) => op(e, 'Ceil', x)),
  'np.trunc': sameUnary(trunc), 'np.fix': sameUnary(trunc),
  'np.round': roundL, 'np.around': roundL,
  'np.bitwise_not': ((L, a, _s, res) => L.invert(I.bind(a, ['x'])[0]!, T(res))) as Lowerer,
  'np.invert': ((L, a, _s, res) => L.invert(I.bind(a, ['x'])[0]!, T(res))) as Lowerer,
  'np.logical_not': ((L, a, _s, res) => L.named(res, op(L.e, 'Not', L.truth(I.bind(a, ['x'])[0]!)), 'bool')) as Lowerer,
  'np.isnan': predicate((e, x) => isNan(e, x), false),
  'np.isinf': predicate((e, x, d) => isInf(e, x, d), false),
  'np.isfinite': predicate((e, x, d) => op(e, 'Less', op(e, 'Abs', x), k(e, Infinity, d)), true),
  'np.signbit': predicate(signbit, (e, x, d) => op(e, 'Less', x, k(e, 0, d))),
  'np.add': binaryOp('+'), 'np.subtract': binaryOp('-'), 'np.multiply': binaryOp('*'), 'np.divide': binaryOp('/'), 'np.true_divide': binaryOp('/'),
  'np.floor_divide': binaryOp('//'), 'np.mod': binaryOp('%'), 'np.remainder': binaryOp('%'), 'np.fmod': binaryOp('fmod'), 'np.power': binaryOp('**'),
  'np.float_power': floatBinary((e, x, y) => op(e, 'Pow', x, y)),
  'np.maximum': floatBinary((e, x, y, d) => maxMin(e, 'Max', x, y, d)), 'np.minimum': floatBinary((e, x, y, d) => maxMin(e, 'Min', x, y, d)),
  'np.fmax': floatBinary((e, x, y, d) => maxMin(e, 'Max', x, y, d, true)), 'np.fmin': floatBinary((e, x, y, d) => maxMin(e, 'Min', x, y, d, true)),
  'np.arctan2': floatBinary((e, x, y, d) => atan2(e, x, y, d)),
  'np.hypot': hypot,
  'np.copysign': floatBinary((e, x, y, d) => op(e, 'Where', signbit(e, y, d), op(e, 'Neg', op(e, 'Abs', x)), op(e, 'Abs', x))),
  'np.logaddexp': floatBinary((e, x, y, d) => logaddexp(e, x, y, d)),
  'np.logaddexp2': floatBinary((e, x, y, d) => logaddexp(e, x, y, d, true)),
  'np.gcd': gcdL(false), 'np.lcm': gcdL(true),
  'np.bitwise_and': bitwise('&'), 'np.bitwise_or': bitwise('|'), 'np.bitwise_xor': bitwise('^'),
  'np.equal': compareOp('=='), 'np.not_equal': compareOp('!='), 'np.less': compareOp('<'), 'np.less_equal': compareOp('<='),
  'np.greater': compareOp('>'), 'np.greater_equal': compareOp('>='),
  'np.logical_and': logical('and'), 'np.logical_or': logical('or'), 'np.logical_xor': logical('xor'),
  'np.where': whereL, 'np.clip': clipL,
  'np.sum': reduceL('ReduceSum'), 'np.prod': reduceL('ReduceProd'), 'np.nansum': reduceL('ReduceSum', SUM_SPEC, 'skip'),
  'np.mean': meanL(false), 'np.nanmean': meanL(true),
  'np.var': varL(false), 'np.std': varL(true),
  'np.max': reduceL('ReduceMax', MAX_SPEC, 'propagate'), 'np.amax': reduceL('ReduceMax', MAX_SPEC, 'propagate'),
  'np.min': reduceL('ReduceMin', MAX_SPEC, 'propagate'), 'np.amin': reduceL('ReduceMin', MAX_SPEC, 'propagate'),
  'np.nanmax': reduceL('ReduceMax', MAX_SPEC, 'skip'), 'np.nanmin': reduceL('ReduceMin', MAX_SPEC, 'skip'),
  'np.median': medianL,
  'np.argmax': argL('max'), 'np.argmin': argL('min'),
  'np.any': anyAll('any'), 'np.all': anyAll('all'), 'np.count_nonzero': countNonzero,
  'np.cumsum': cumulativeL('sum'), 'np.cumprod': cumulativeL('prod'),
  'np.matmul': ((L, a, _s, res) => { const [x, y] = I.bind(a, ['a', 'b']); return L.matmul(x!, y!, T(res)); }) as Lowerer,
  'np.dot': dotL, 'np.outer': outerL,
  'np.reshape': reshapeL, 'np.transpose': transposeL, 'np.swapaxes': swapaxesL, 'np.moveaxis': moveaxisL,
  'np.expand_dims': reshapeL, 'np.squeeze': reshapeL, 'np.ravel': reshapeL,
  'np.concatenate': concatenateL, 'np.stack': stackL, 'np.split': splitL, 'np.broadcast_to': broadcastToL,
  'np.flip': flipL, 'np.roll': rollL, 'np.sort': sortL, 'np.argsort': argsortL, 'np.tril': triL(false), 'np.triu': triL(true),
  'np.zeros': fillL(0, ['shape', 'dtype=']), 'np.ones': fillL(1, ['shape', 'dtype=']), 'np.empty': fillL(0, ['shape', 'dtype=']),
  'np.full': fillL(null, ['shape', 'fill_value', 'dtype='], 1),
  'np.zeros_like': fillL(0, ['a', 'dtype=', 'shape=']), 'np.ones_like': fillL(1, ['a', 'dtype=', 'shape=']), 'np.empty_like': fillL(0, ['a', 'dtype=', 'shape=']),
  'np.full_like': fillL(null, ['a', 'fill_value', 'dtype=', 'shape='], 1),
  'np.arange': arangeL, 'np.linspace': linspaceL, 'np.eye': eyeL, 'np.identity': identityL, 'np.array': arrayL, 'np.asarray': arrayL,
  'linalg.norm': normL,
  'nn.relu': sameUnary((e, x, d) => op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), k(e, 0, d), x), (e, x, d) => op(e, 'Where', op(e, 'Less', x, k(e, 0, d)), k(e, 0, d), x)),
  'nn.relu6': sameUnary(relu6, relu6),
  'nn.hard_tanh': sameUnary((e, x, d) => op(e, 'Where', op(e, 'Greater', x, k(e, 1, d)), k(e, 1, d), op(e, 'Where', op(e, 'Less', x, k(e, -1, d)), k(e, -1, d), x)),
    (e, x, d) => op(e, 'Where', op(e, 'Greater', x, k(e, 1, d)), k(e, 1, d), op(e, 'Where', op(e, 'Less', x, k(e, -1, d)), k(e, -1, d), x))),
  'nn.gelu': geluL,
  'nn.elu': withParam(['x', 'alpha='], 1, (e, x, alpha, d) => {
    const pos = op(e, 'Greater', x, k(e, 0, d));
    return op(e, 'Where', pos, x, op(e, 'Mul', k(e, alpha, d), expm1(e, op(e, 'Where', pos, k(e, 0, d), x), d)));
  }),
  'nn.celu': withParam(['x', 'alpha='], 1, (e, x, alpha, d) => op(e, 'Add', maxMin(e, 'Max', x, k(e, 0, d), d),
    op(e, 'Mul', k(e, alpha, d), expm1(e, op(e, 'Div', maxMin(e, 'Min', x, k(e, 0, d), d), k(e, alpha, d)), d)))),
  'nn.leaky_relu': withParam(['x', 'negative_slope='], 0.01, (e, x, s, d) => op(e, 'Where', op(e, 'GreaterOrEqual', x, k(e, 0, d)), x, op(e, 'Mul', k(e, s, d), x)), false),
  'nn.softmax': softmaxL(false), 'nn.log_softmax': softmaxL(true), 'tl.log_softmax': softmaxL(true),
  'nn.one_hot': oneHotL(['x', 'num_classes', 'dtype=', 'axis=']), 'tl.one_hot': oneHotL(['x', 'n_categories', 'dtype=', 'axis=']),
  'nn.logsumexp': logsumexpL, 'special.logsumexp': logsumexpL,
  'lax.stop_gradient': sameUnary((_e, x) => x),
  'builtin.abs': sameUnary(abs, abs),
  'builtin.round': ((L, a, _s, res, f) => {
    const [x, nd] = I.bind(a, ['number', 'ndigits=']);
    return roundL(L, { pos: [x!, ...(none(nd) ? [] : [nd!])], kw: new Map() }, undefined, res, f);
  }) as Lowerer,
  'builtin.sum': builtinSumL,
  'builtin.tuple': ((_L, _a, _s, res) => res) as Lowerer,
  'builtin.list': ((_L, _a, _s, res) => res) as Lowerer,
  'method.astype': astypeL,
  'method.flatten': reshapeL,
});
// array methods: the function of the same name with the array as its first argument
for (const m of ['reshape', 'transpose', 'squeeze', 'ravel', 'swapaxes', 'clip', 'round', 'sum', 'mean', 'max', 'min', 'prod', 'argmax', 'argmin', 'any', 'all', 'var', 'std', 'cumsum', 'cumprod']) {
  LOWERERS[`method.${m}`] = LOWERERS[`np.${m}`];
}

// ---------------------------------------------------------------- entry points

/** The ONNX values of a Fn's (kind 'fn') or PureLayer's (kind 'pure') outputs, in the output dtypes. */
export function lowerLambda(e: Emitter, kind: 'fn' | 'pure', src: unknown, ins: string[], sig: LowerSig, nOut: number, param: string): string[] {
  const L = new Low(e);
  const inputs: TensorV[] = sig.inputs.map((x, i) => ({ ...I.tensor(x.dtype, x.shape), name: ins[i] }));
  const items = evalLowered(kind, src, inputs, nOut, param, L);
  return items.map((v, i) => {
    const d = sig.outputs[i].dtype;
    try {
      return L.v(v, d);
    } catch (err) {
      if (err instanceof LayerError) throw new LayerError(err.code, err.message, { ...err.detail, param });
      throw err;
    }
  });
}

/** For tests: every key the lowering knows (functions the interpreter supports without a lowering raise `unsupported`). */
export const LOWERED_FUNCTIONS: readonly string[] = Object.keys(LOWERERS).sort();
