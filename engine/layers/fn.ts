/**
 * The Fn lambda interpreter: evaluates the body of a Python lambda (Trax's
 * `tl.Fn(name, f, n_out)`, `tl.PureLayer(forward_fn, ...)`) over abstract
 * values — shapes and dtypes, symbolic dimensions kept symbolic — to give the
 * layer's n_in (the lambda's parameters) and its output signature.
 *
 * Values during interpretation are arrays (dtype + shape, with JAX's "weak
 * type" flag for values that came from Python scalars), Python constants
 * (ints — possibly symbolic dims such as `x.shape[0]` = 'B' — floats, bools,
 * None, strings), tuples/lists of values, dtypes, and the functions and
 * namespaces below. Python constants stay constants, so `jnp.zeros((2, 3))`,
 * `x.reshape(x.shape[0], -1)` and `x / 3` work.
 *
 * Dtypes follow JAX with x64 off: Python ints/floats are weakly typed (an
 * int32 array + 1 stays int32, + 1.0 gives float32, a bfloat16 array * 2.0
 * stays bfloat16); true division of ints gives float32; comparisons give
 * bool; bool + bool and bool * bool stay bool (JAX's logical or/and) while
 * bool - bool is an error; jnp.float64/int64 become float32/int32.
 *
 * Supported (prefixes `jnp.`, `np.`, `numpy.`, `jax.numpy.`, `fastmath.` and
 * `fastmath.numpy.` all name the same functions; `jax.nn.`, `jax.scipy.special.`,
 * `jax.lax.`, `jnp.linalg.` and `tl.` hold the few listed with them):
 *   operators   + - * / // % ** @ & | ^ ~ << >>, unary - + ~ not, comparisons,
 *               `a if c else b` (c a Python constant), `and`/`or` on constants
 *   unary       exp exp2 expm1 log log2 log10 log1p sqrt cbrt square abs absolute
 *               negative positive sign reciprocal floor ceil trunc fix round around rint
 *               sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh
 *               deg2rad rad2deg sinc logical_not bitwise_not invert isnan isinf isfinite signbit
 *   jax.nn      sigmoid relu relu6 softplus silu swish gelu elu selu celu leaky_relu
 *               log_sigmoid soft_sign hard_tanh hard_sigmoid hard_swish softmax log_softmax
 *               one_hot logsumexp
 *   special     erf erfc erfinv expit logit logsumexp (jax.scipy.special)
 *   lax         rsqrt stop_gradient (jax.lax)
 *   binary      add subtract multiply divide true_divide floor_divide mod remainder fmod
 *               power float_power maximum minimum fmax fmin arctan2 hypot copysign logaddexp
 *               logaddexp2 gcd lcm bitwise_and bitwise_or bitwise_xor left_shift right_shift
 *               equal not_equal less less_equal greater greater_equal logical_and
 *               logical_or logical_xor where(c, a, b) clip(x, a_min, a_max)
 *   reductions  sum prod mean max amax min amin argmax argmin any all var std median
 *               count_nonzero nansum nanmean nanmax nanmin logsumexp linalg.norm
 *               (axis = None | int | tuple, keepdims), cumsum cumprod
 *   linear alg. matmul dot outer, `@`
 *   shapes      reshape (with -1) transpose swapaxes moveaxis expand_dims squeeze ravel
 *               concatenate stack split broadcast_to flip roll sort argsort tril triu
 *               shape ndim size
 *   creation    zeros ones empty full zeros_like ones_like empty_like full_like arange
 *               linspace eye identity array asarray, dtype calls (jnp.float32(x))
 *   arrays      x.shape x.shape[i] x.ndim x.size x.dtype x.T x.astype(dtype), the methods
 *               reshape transpose sum mean max min prod argmax argmin any all var std
 *               squeeze flatten ravel clip round swapaxes cumsum cumprod, subscripts with
 *               ints, slices (also symbolic: x[:, :L]), None/jnp.newaxis, `...` and
 *               integer index arrays (a boolean mask is data-dependent: an error)
 *   builtins    len int float bool abs min max sum round tuple list
 *   math        math.sqrt/exp/log/... of Python numbers, math.pi/e/inf/nan
 *
 * A function passed by name (`Fn('Exp', jnp.exp)`, as the code parser keeps
 * `{$lambda: 'jnp.exp'}`) is the lambda of its required positional parameters;
 * one with default args is rejected as Trax's Fn rejects it.
 *
 * The ONNX lowering (./fn_lowering) runs this same interpreter with a hook
 * (`LowerHook`) that emits each operation's nodes once its result's shape
 * and dtype are known, so every function above lowers by the code that
 * infers it.
 *
 * Parsing is cached by source string (infer runs on every keystroke). Every
 * failure is a LayerError naming the construct ("jnp.maximum: shapes [2,3]
 * and [4] do not broadcast ..."); nothing in a lambda's text can make the
 * interpreter throw anything else.
 */
import { type Dim, dimAdd, dimCeilDiv, dimFloorDiv, dimMul, dimProd, dimSub } from '../core/dim';
import { LayerError, type ErrorCode } from '../core/errors';
import {
  type DType, type ShapeDtype, broadcastShapes, floatOf, formatShape, isFloat, normAxis, promote, sameShape,
} from '../core/shape';
import { type PyLambda, type PyNode, PySyntaxError, dottedName, formatNode, parseExpression } from '../core/python';
import type { LambdaValue } from './def';
import { concat as concatRule, reduce as reduceRule, reshape as reshapeRule, splitEven } from './rules';

// ---------------------------------------------------------------- values

/** An array; `name` is its ONNX value when the lambda is being lowered (./fn_lowering). */
interface TensorV { t: 'tensor'; dtype: DType; shape: readonly Dim[]; weak: boolean; name?: string }
/** A Python int: a number, a symbolic dim ('B'), or null when not known (`B % 2`). */
interface IntV { t: 'int'; v: Dim | null }
interface FloatV { t: 'float'; v: number | null }
interface BoolV { t: 'bool'; v: boolean | null }
interface NoneV { t: 'none' }
interface StrV { t: 'str'; v: string }
interface SeqV { t: 'tuple' | 'list'; items: Val[] }
interface SliceV { t: 'slice'; lower: Val; upper: Val; step: Val }
interface EllipsisV { t: 'ellipsis' }
interface DtypeV { t: 'dtype'; dtype: DType }
interface NsV { t: 'ns'; name: string; table: Table }
/** A function; `key` names it for the lowering (`np.exp`, `nn.relu`, `method.sum`, `builtin.abs`). */
interface FnV { t: 'fn'; name: string; impl: Impl; self?: Val; asDtype?: DType; key?: string }

type PyNum = IntV | FloatV | BoolV;
type Val = TensorV | IntV | FloatV | BoolV | NoneV | StrV | SeqV | SliceV | EllipsisV | DtypeV | NsV | FnV;

interface Args { pos: Val[]; kw: Map<string, Val> }
type Impl = (a: Args, self: Val | undefined) => Val;
type Entry = Impl | Val;
type Table = Record<string, Entry>;

const NONE: NoneV = { t: 'none' };
const int = (v: Dim | null): IntV => ({ t: 'int', v });
const flt = (v: number | null): FloatV => ({ t: 'float', v });
const bool = (v: boolean | null): BoolV => ({ t: 'bool', v });
const tensor = (dtype: DType, shape: readonly Dim[], weak = false): TensorV => ({ t: 'tensor', dtype, shape, weak });
const tuple = (items: Val[]): SeqV => ({ t: 'tuple', items });
const list = (items: Val[]): SeqV => ({ t: 'list', items });

/** Biggest tuple `(0,) * n` may build; bigger is surely a mistake (and would exhaust memory). */
const MAX_SEQ = 10_000;

// ---------------------------------------------------------------- errors

function fail(code: ErrorCode, message: string, expected?: string): never {
  throw new LayerError(code, message, expected ? { expected } : {});
}
const unsupported = (message: string): never => fail('unsupported', message);
/** A Python TypeError/ValueError inside the lambda: the lambda is wrong. */
const wrong = (message: string): never => fail('bad_param', message);

function short(node: PyNode): string {
  const s = formatNode(node);
  return s.length > 48 ? `${s.slice(0, 45)}...` : s;
}

function fmtT(x: { dtype: DType; shape: readonly Dim[] }): string {
  return `${x.dtype}${formatShape(x.shape)}`;
}

function describe(v: Val): string {
  switch (v.t) {
    case 'tensor': return `an array ${fmtT(v)}`;
    case 'int': return v.v === null ? 'a Python int' : `the int ${v.v}`;
    case 'float': return v.v === null ? 'a Python float' : `the float ${v.v}`;
    case 'bool': return v.v === null ? 'a Python bool' : v.v ? 'True' : 'False';
    case 'none': return 'None';
    case 'str': return `the string '${v.v}'`;
    case 'tuple': return `a tuple of ${v.items.length}`;
    case 'list': return `a list of ${v.items.length}`;
    case 'slice': return 'a slice';
    case 'ellipsis': return 'Ellipsis';
    case 'dtype': return `the dtype ${v.dtype}`;
    case 'ns': return `the module ${v.name}`;
    case 'fn': return `the function ${v.name}`;
  }
}

// ---------------------------------------------------------------- dtypes

type Kind = 0 | 1 | 2;
function kindOf(d: DType): Kind {
  return d === 'bool' ? 0 : isFloat(d) ? 2 : 1;
}

interface TypeInfo { dtype: DType; weak: boolean }

/** JAX's promotion with weak types: a weak (Python-scalar) operand takes the other's dtype when its kind fits. */
function join(a: TypeInfo, b: TypeInfo): TypeInfo {
  if (a.weak === b.weak) return { dtype: promote(a.dtype, b.dtype), weak: a.weak };
  const [w, s] = a.weak ? [a, b] : [b, a];
  if (kindOf(w.dtype) <= kindOf(s.dtype)) return { dtype: s.dtype, weak: false };
  return { dtype: w.dtype, weak: true };
}

/** x64 is off: 64-bit requests give 32-bit arrays. */
function canonDtype(d: DType): DType {
  return d === 'float64' ? 'float32' : d === 'int64' ? 'int32' : d;
}

const DTYPE_NAMES: Record<string, DType> = {
  float32: 'float32', float16: 'float16', bfloat16: 'bfloat16', float64: 'float32', float_: 'float32', double: 'float32', single: 'float32', half: 'float16',
  int32: 'int32', int64: 'int32', int_: 'int32', int8: 'int8', uint8: 'uint8', bool_: 'bool', bool: 'bool',
};

// ---------------------------------------------------------------- conversions

function isArrayLike(v: Val): v is TensorV | IntV | FloatV | BoolV {
  return v.t === 'tensor' || v.t === 'int' || v.t === 'float' || v.t === 'bool';
}

/** An operand of a jnp function: an array, or a Python scalar as a weak rank-0 array. */
function asTensor(v: Val, what = 'argument'): TensorV {
  switch (v.t) {
    case 'tensor': return v;
    case 'int': return tensor('int32', [], true);
    case 'float': return tensor('float32', [], true);
    case 'bool': return tensor('bool', [], false);
    case 'tuple':
    case 'list':
      return wrong(`${what} is ${describe(v)}, not an array; JAX functions do not take Python ${v.t}s (wrap it in jnp.array(...))`);
    default:
      return wrong(`${what} must be an array or a number, got ${describe(v)}`);
  }
}

/** A Python int constant with a known numeric value. */
function asNumber(v: Val, what: string): number {
  if (v.t === 'int' && typeof v.v === 'number') return v.v;
  if (v.t === 'bool' && v.v !== null) return v.v ? 1 : 0;
  if (v.t === 'int' && typeof v.v === 'string') return unsupported(`${what} must be a concrete Python int, but depends on the symbolic dimension ${v.v}`);
  if (v.t === 'tensor') return wrong(`${what} must be a Python int, not ${describe(v)} (array values are not known when shapes are traced)`);
  return wrong(`${what} must be a Python int, got ${describe(v)}`);
}

/** A dimension: a Python int that may be symbolic. */
function asDim(v: Val, what: string): Dim {
  if (v.t === 'int') {
    if (v.v === null) return unsupported(`${what} is an int whose value cannot be worked out from the symbolic input shapes`);
    return v.v;
  }
  if (v.t === 'bool' && v.v !== null) return v.v ? 1 : 0;
  if (v.t === 'tensor') return wrong(`${what} must be a Python int, not ${describe(v)} (array values are not known when shapes are traced)`);
  return wrong(`${what} must be an int, got ${describe(v)}`);
}

/** A size: a non-negative int, possibly symbolic. */
function asSize(v: Val, what: string): Dim {
  const d = asDim(v, what);
  if (typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0)) wrong(`${what} must be a non-negative int, got ${d}`);
  return d;
}

/** The length of a range of numbers, checked to be a usable size. */
function lengthOf(n: number, what: string): number {
  const len = Math.max(0, Math.ceil(n));
  if (!Number.isSafeInteger(len)) wrong(`${what} would have ${n} elements`);
  return len;
}

function asShape(v: Val, what = 'shape'): Dim[] {
  const items = v.t === 'tuple' || v.t === 'list' ? v.items : [v];
  return items.map((x, i) => {
    const d = asDim(x, v.t === 'tuple' || v.t === 'list' ? `${what}[${i}]` : what);
    if (typeof d === 'number' && (d < 0 || !Number.isInteger(d))) wrong(`${what} has the negative dimension ${d}`);
    return d;
  });
}

/** axis=None | int | tuple of ints */
function asAxes(v: Val | undefined, what = 'axis'): number | number[] | null {
  if (v === undefined || v.t === 'none') return null;
  if (v.t === 'tuple' || v.t === 'list') return v.items.map((x, i) => asNumber(x, `${what}[${i}]`));
  return asNumber(v, what);
}

function asBool(v: Val | undefined, what: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v.t === 'bool' && v.v !== null) return v.v;
  if (v.t === 'int' && typeof v.v === 'number') return v.v !== 0;
  return wrong(`${what} must be True or False, got ${describe(v)}`);
}

function asDtype(v: Val | undefined, what = 'dtype'): DType | null {
  if (v === undefined || v.t === 'none') return null;
  if (v.t === 'dtype') return v.dtype;
  if (v.t === 'fn' && v.asDtype) return v.asDtype;
  if (v.t === 'str') {
    const d = DTYPE_NAMES[v.v];
    if (d) return d;
  }
  return unsupported(`${what} must be a dtype such as jnp.float32, jnp.int32 or jnp.bool_, got ${describe(v)}`);
}

function seqItems(v: Val, what: string): Val[] {
  if (v.t === 'tuple' || v.t === 'list') return v.items;
  return wrong(`${what} must be a list or tuple of arrays, got ${describe(v)}`);
}

// ---------------------------------------------------------------- argument binding

/** Python signatures of the functions (for `Fn(name, jnp.exp)`: n_in from the function, as Trax inspects it). */
const SIGNATURES = new WeakMap<Impl, readonly string[]>();
function sig<T extends Impl>(spec: readonly string[], impl: T): T {
  SIGNATURES.set(impl, spec);
  return impl;
}

/** Binds call arguments to a Python signature; names ending in '=' are optional. */
function bind(a: Args, spec: readonly string[]): (Val | undefined)[] {
  const names = spec.map((s) => (s.endsWith('=') ? s.slice(0, -1) : s));
  if (a.pos.length > spec.length) wrong(`takes at most ${spec.length} positional argument${spec.length === 1 ? '' : 's'} (${names.join(', ')}), got ${a.pos.length}`);
  const out: (Val | undefined)[] = new Array(spec.length).fill(undefined);
  a.pos.forEach((v, i) => { out[i] = v; });
  for (const [k, v] of a.kw) {
    const i = names.indexOf(k);
    if (i < 0) wrong(`got an unexpected keyword argument '${k}'; it takes ${names.join(', ')}`);
    if (out[i] !== undefined) wrong(`got multiple values for argument '${k}'`);
    out[i] = v;
  }
  spec.forEach((s, i) => {
    if (!s.endsWith('=') && out[i] === undefined) wrong(`missing the required argument '${names[i]}'`);
  });
  return out;
}

// ---------------------------------------------------------------- elementwise

type DtypeRule = 'same' | 'float' | 'bool' | 'int' | 'bitwise' | 'sum' | 'argidx';

function resultType(rule: DtypeRule, t: TypeInfo, what: string): TypeInfo {
  switch (rule) {
    case 'same': return t;
    case 'float': return { dtype: floatOf(t.dtype), weak: t.weak };
    case 'bool': return { dtype: 'bool', weak: false };
    case 'int':
      if (kindOf(t.dtype) !== 1) fail('dtype', `${what} needs integer arrays, got ${t.dtype}`, 'integer arrays');
      return t;
    case 'bitwise':
      if (isFloat(t.dtype)) fail('dtype', `${what} needs bool or integer arrays, got ${t.dtype}`, 'bool or integer arrays');
      return t;
    case 'sum': return { dtype: t.dtype === 'bool' || t.dtype === 'int8' || t.dtype === 'uint8' ? 'int32' : t.dtype, weak: t.weak };
    case 'argidx': return { dtype: 'int32', weak: false };
  }
}

/** An elementwise op over broadcast operands. */
function elementwise(args: Val[], rule: DtypeRule, what: string): TensorV {
  const ts = args.map((a, i) => asTensor(a, `argument ${i + 1}`));
  let shape: Dim[] = [...ts[0].shape];
  let t: TypeInfo = { dtype: ts[0].dtype, weak: ts[0].weak };
  for (let i = 1; i < ts.length; i++) {
    shape = broadcastShapes(shape, ts[i].shape);
    t = join(t, ts[i]);
  }
  const r = resultType(rule, t, what);
  return tensor(r.dtype, shape, r.weak);
}

const unary = (rule: DtypeRule, extra: readonly string[] = []): Impl => sig(['x', ...extra], (a) => {
  const [x] = bind(a, ['x', ...extra]);
  return elementwise([x!], rule, 'it');
});
const binary = (rule: DtypeRule): Impl => sig(['x1', 'x2'], (a) => {
  const [x, y] = bind(a, ['x1', 'x2']);
  return elementwise([x!, y!], rule, 'it');
});
const binaryOp = (op: string): Impl => sig(['x1', 'x2'], (a) => {
  const [x, y] = bind(a, ['x1', 'x2']);
  return arith(op, x!, y!);
});

/** Binary ops: true division always gives floats; bool - bool is an error, as in JAX. */
function arith(op: string, x: Val, y: Val): TensorV {
  const r = elementwise([x, y], 'same', op);
  switch (op) {
    case '/': {
      if (kindOf(r.dtype) === 2) return r;
      const a = asTensor(x), b = asTensor(y);
      return tensor('float32', r.shape, a.weak && b.weak);
    }
    case '-':
      if (r.dtype === 'bool') fail('dtype', 'subtracting boolean arrays is not supported (JAX raises); use jnp.logical_xor or cast with .astype(jnp.int32)', 'numeric arrays');
      return r;
    case '&': case '|': case '^': case '<<': case '>>':
      return { ...r, ...resultType('bitwise', r, `the operator ${op}`) };
    case '<': case '<=': case '>': case '>=': case '==': case '!=':
      return tensor('bool', r.shape);
    default:
      return r;
  }
}

// ---------------------------------------------------------------- Python scalar arithmetic

function pyKind(v: IntV | FloatV | BoolV): Kind {
  return v.t === 'float' ? 2 : 1;
}
function numVal(v: IntV | FloatV | BoolV): Dim | null {
  if (v.t === 'bool') return v.v === null ? null : v.v ? 1 : 0;
  return v.v;
}

function checkInt(n: number): IntV {
  if (!Number.isSafeInteger(n)) return unsupported(`the Python int ${n} is too large to handle exactly`);
  return int(n);
}

function pyArith(op: string, a: IntV | FloatV | BoolV, b: IntV | FloatV | BoolV): Val {
  const x = numVal(a), y = numVal(b);
  const isF = pyKind(a) === 2 || pyKind(b) === 2 || op === '/';
  if (typeof y === 'number' && y === 0 && (op === '/' || op === '//' || op === '%')) wrong(`division by zero in ${op}`);
  if (typeof x === 'number' && typeof y === 'number') {
    let r: number;
    switch (op) {
      case '+': r = x + y; break;
      case '-': r = x - y; break;
      case '*': r = x * y; break;
      case '/': r = x / y; break;
      case '//': r = Math.floor(x / y); break;
      case '%': r = x - y * Math.floor(x / y); break;
      case '**':
        if (x === 0 && y < 0) wrong('0 cannot be raised to a negative power');
        r = x ** y;
        if (!isF && y < 0) return flt(r);
        break;
      case '&': case '|': case '^': case '<<': case '>>':
        if (isF) wrong(`unsupported operand types for ${op}: float`);
        if (Math.abs(x) > 2 ** 31 || Math.abs(y) > 2 ** 31) unsupported(`the bitwise operator ${op} on ints this large`);
        r = op === '&' ? x & y : op === '|' ? x | y : op === '^' ? x ^ y : op === '<<' ? (y > 52 ? Infinity : x * 2 ** y) : Math.floor(x / 2 ** y);
        if (y < 0 && (op === '<<' || op === '>>')) wrong('negative shift count');
        break;
      case '@':
        return wrong('the operator @ needs arrays, not Python numbers');
      default:
        return unsupported(`the operator ${op}`);
    }
    if (isF) return flt(r);
    return checkInt(r);
  }
  if (op === '@') return wrong('the operator @ needs arrays, not Python numbers');
  // a symbolic dim or an unknown value is involved
  if (isF || x === null || y === null) return isF ? flt(null) : int(null);
  switch (op) {
    case '+': return int(dimAdd(x, y));
    case '-': return int(dimSub(x, y));
    case '*': return int(dimMul(x, y));
    case '//': return typeof y === 'number' && y > 0 ? int(dimFloorDiv(x, y)) : int(null);
    default: return int(null);
  }
}

function pyCompare(op: string, a: IntV | FloatV | BoolV, b: IntV | FloatV | BoolV): BoolV {
  const x = numVal(a), y = numVal(b);
  if (typeof x === 'number' && typeof y === 'number') {
    switch (op) {
      case '<': return bool(x < y);
      case '<=': return bool(x <= y);
      case '>': return bool(x > y);
      case '>=': return bool(x >= y);
      case '==': return bool(x === y);
      case '!=': return bool(x !== y);
    }
  }
  if (x !== null && y !== null && x === y) return bool(op === '==' || op === '<=' || op === '>=');
  if (x !== null && y !== null && (op === '==' || op === '!=')) {
    const d = dimSub(x, y);
    if (typeof d === 'number') return bool((d === 0) === (op === '=='));
  }
  return bool(null);
}

/** Python's truth value, for `if`/`and`/`or`/`not`; arrays are data-dependent. */
function truthy(v: Val, construct: string): boolean {
  switch (v.t) {
    case 'tensor':
      return unsupported(`data-dependent Python control flow is not supported; use jnp.where or jnp.logical_and/or/not (${construct} needs the truth value of ${describe(v)})`);
    case 'bool':
      if (v.v === null) return unsupported(`${construct} depends on the symbolic input dimensions; give the input concrete sizes or use jnp.where`);
      return v.v;
    case 'int':
      if (v.v === null || typeof v.v === 'string') return unsupported(`${construct} depends on the symbolic input dimensions; give the input concrete sizes or use jnp.where`);
      return v.v !== 0;
    case 'float':
      if (v.v === null) return unsupported(`${construct} depends on the symbolic input dimensions`);
      return v.v !== 0;
    case 'none': return false;
    case 'str': return v.v.length > 0;
    case 'tuple': case 'list': return v.items.length > 0;
    default: return true;
  }
}

// ---------------------------------------------------------------- shape functions

function reduction(rule: DtypeRule, opts: { dtypeArg?: boolean; intAxisOnly?: boolean; extra?: readonly string[] } = {}): Impl {
  const spec = ['a', 'axis=', ...(opts.dtypeArg ? ['dtype='] : []), ...(opts.extra ?? []), 'keepdims='];
  return sig(spec, (a, self) => {
    const args = bind(a, self ? spec.slice(1) : spec);
    const vals = self ? [self, ...args] : args;
    const x = asTensor(vals[0]!, 'the array');
    const axisV = vals[1];
    const dt = opts.dtypeArg ? asDtype(vals[2]) : null;
    const keepdims = asBool(vals[vals.length - 1], 'keepdims', false);
    const axis = asAxes(axisV);
    if (opts.intAxisOnly && Array.isArray(axis)) wrong('axis must be an int or None, not a tuple');
    checkAxes(x, axis);
    const r = resultType(rule, x, 'it');
    const out = reduceRule(x, axis, keepdims, dt ? canonDtype(dt) : r.dtype);
    return tensor(out.dtype, out.shape, r.weak && !dt);
  });
}

function checkAxes(x: TensorV, axis: number | number[] | null): void {
  if (axis === null) return;
  const rank = x.shape.length;
  if (typeof axis === 'number') { normAxis(axis, rank); return; }
  const seen = new Set<number>();
  for (const ax of axis) {
    const n = normAxis(ax, rank);
    if (seen.has(n)) fail('shape_mismatch', `axis ${ax} appears twice in axis=(${axis.join(', ')})`, 'distinct axes');
    seen.add(n);
  }
}

function cumulative(rule: DtypeRule): Impl {
  return (a, self) => {
    const args = bind(a, self ? ['axis=', 'dtype='] : ['a', 'axis=', 'dtype=']);
    const vals = self ? [self, ...args] : args;
    const x = asTensor(vals[0]!, 'the array');
    const axis = asAxes(vals[1]);
    const dt = asDtype(vals[2]);
    const r = resultType(rule, x, 'it');
    const dtype = dt ? canonDtype(dt) : r.dtype;
    if (axis === null) return tensor(dtype, [dimProd(x.shape)]);
    if (Array.isArray(axis)) return wrong('axis must be an int or None');
    normAxis(axis, x.shape.length);
    return tensor(dtype, x.shape, r.weak && !dt);
  };
}

function matmul(av: Val, bv: Val): TensorV {
  const a = asTensor(av, 'the left operand'), b = asTensor(bv, 'the right operand');
  if (a.shape.length === 0 || b.shape.length === 0) {
    fail('rank', `matmul does not take scalars, got ${fmtT(a)} and ${fmtT(b)} (use * to scale)`, 'arrays of rank >= 1');
  }
  const aVec = a.shape.length === 1, bVec = b.shape.length === 1;
  const A = aVec ? [1, a.shape[0]] : a.shape, B = bVec ? [b.shape[0], 1] : b.shape;
  const k1 = A[A.length - 1], k2 = B[B.length - 2];
  if (k1 !== k2) {
    fail('shape_mismatch', `contraction dimensions differ: ${fmtT(a)} @ ${fmtT(b)} contracts ${k1} (the last axis of the left) with ${k2} (${bVec ? 'the right vector' : 'the second-to-last axis of the right'})`, 'equal contraction dimensions');
  }
  const batch = broadcastShapes(A.slice(0, -2), B.slice(0, -2));
  const shape = [...batch, ...(aVec ? [] : [A[A.length - 2]]), ...(bVec ? [] : [B[B.length - 1]])];
  const t = join(a, b);
  return tensor(t.dtype, shape, t.weak);
}

function dot(av: Val, bv: Val): TensorV {
  const a = asTensor(av, 'the left operand'), b = asTensor(bv, 'the right operand');
  if (a.shape.length === 0 || b.shape.length === 0) return arith('*', a, b);
  if (a.shape.length <= 2 && b.shape.length <= 2) return matmul(a, b);
  const k1 = a.shape[a.shape.length - 1];
  const bk = b.shape.length === 1 ? 0 : b.shape.length - 2;
  const k2 = b.shape[bk];
  if (k1 !== k2) {
    fail('shape_mismatch', `contraction dimensions differ: dot(${fmtT(a)}, ${fmtT(b)}) contracts ${k1} with ${k2}`, 'equal contraction dimensions');
  }
  const rest = b.shape.filter((_, i) => i !== bk);
  const t = join(a, b);
  return tensor(t.dtype, [...a.shape.slice(0, -1), ...rest], t.weak);
}

function transpose(x: TensorV, axesV: Val | undefined): TensorV {
  const rank = x.shape.length;
  if (axesV === undefined || axesV.t === 'none') return tensor(x.dtype, [...x.shape].reverse(), x.weak);
  const axes = asAxes(axesV, 'axes');
  const list = typeof axes === 'number' ? [axes] : axes ?? [];
  if (list.length !== rank) fail('rank', `axes (${list.join(', ')}) must list each of the ${rank} axes of ${fmtT(x)} once`, `a permutation of ${rank} axes`);
  const seen = new Set<number>();
  const perm = list.map((ax) => {
    const n = normAxis(ax, rank);
    if (seen.has(n)) fail('shape_mismatch', `axes (${list.join(', ')}) is not a permutation: axis ${ax} repeats`, `a permutation of ${rank} axes`);
    seen.add(n);
    return n;
  });
  return tensor(x.dtype, perm.map((p) => x.shape[p]), x.weak);
}

function reshape(x: TensorV, shapeV: Val): TensorV {
  const items = shapeV.t === 'tuple' || shapeV.t === 'list' ? shapeV.items : [shapeV];
  let minus = 0;
  const target = items.map((v, i) => {
    const d = asDim(v, `new shape[${i}]`);
    if (typeof d === 'number') {
      if (!Number.isInteger(d)) wrong(`new shape[${i}] must be an int, got ${d}`);
      if (d === -1) minus++;
      else if (d < 0) wrong(`new shape[${i}] is ${d}; only -1 (infer this size) may be negative`);
    }
    return d;
  });
  if (minus > 1) wrong(`can only infer one dimension (-1) of the new shape ${formatShape(target)}`);
  if (minus === 0) return tensor(x.dtype, reshapeRule(x, target).shape, x.weak);
  const known = target.filter((d) => d !== -1);
  if (dimProd(known) === 0) wrong(`cannot infer the -1 in ${formatShape(target)}: the other dimensions multiply to 0`);
  const inferred = quotient(x.shape, known);
  if (inferred === null) {
    fail('shape_mismatch', `cannot reshape ${fmtT(x)} (${dimProd(x.shape)} elements) to ${formatShape(target)}: ${dimProd(known)} does not divide the element count`, `a size divisible by ${dimProd(known)}`);
  }
  return tensor(x.dtype, target.map((d) => (d === -1 ? inferred : d)), x.weak);
}

/** Factors of a dim: a number, or the atoms of a monomial ('B*L*8' -> B, L, 8); anything else is one opaque factor. */
function factors(d: Dim): Dim[] {
  if (typeof d === 'number' || !/^[A-Za-z_0-9]+(\*[A-Za-z_0-9]+)*$/.test(d)) return [d];
  return d.split('*').map((f) => (/^[0-9]+$/.test(f) ? Number(f) : f));
}

/** prod(num) / prod(den), cancelling common factors first (B*L*8 / B = L*8); null when numbers show it does not divide. */
function quotient(num: readonly Dim[], den: readonly Dim[]): Dim | null {
  const top: Dim[] = [];
  let n = 1, k = 1;
  for (const d of num) for (const f of factors(d)) { if (typeof f === 'number') n *= f; else top.push(f); }
  const bottom: Dim[] = [];
  for (const d of den) {
    for (const f of factors(d)) {
      if (typeof f === 'number') { k *= f; continue; }
      const i = top.indexOf(f);
      if (i >= 0) top.splice(i, 1); else bottom.push(f);
    }
  }
  if (bottom.length === 0) {
    if (n % k === 0) return dimMul(n / k, dimProd(top));
    if (top.length === 0) return null;
  }
  const q = dimFloorDiv(dimMul(n, dimProd(top)), dimMul(k, dimProd(bottom)));
  return q;
}

function squeeze(x: TensorV, axisV: Val | undefined): TensorV {
  const axis = asAxes(axisV);
  const rank = x.shape.length;
  if (axis === null) return tensor(x.dtype, x.shape.filter((d) => d !== 1), x.weak);
  const axes = new Set((typeof axis === 'number' ? [axis] : axis).map((a) => normAxis(a, rank)));
  for (const a of axes) {
    const d = x.shape[a];
    if (typeof d === 'number' && d !== 1) fail('shape_mismatch', `cannot squeeze axis ${a} of ${fmtT(x)}: its size is ${d}, not 1`, 'axes of size 1');
  }
  return tensor(x.dtype, x.shape.filter((_, i) => !axes.has(i)), x.weak);
}

function expandDims(x: TensorV, axisV: Val): TensorV {
  const axis = asAxes(axisV);
  if (axis === null) return wrong('axis must be an int or a tuple of ints, not None');
  const list = typeof axis === 'number' ? [axis] : axis;
  const outRank = x.shape.length + list.length;
  const at = new Set<number>();
  for (const a of list) {
    const n = normAxis(a, outRank);
    if (at.has(n)) fail('shape_mismatch', `repeated axis ${a} in expand_dims`, 'distinct axes');
    at.add(n);
  }
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < outRank; i++) out.push(at.has(i) ? 1 : x.shape[j++]);
  return tensor(x.dtype, out, x.weak);
}

function swapaxes(x: TensorV, a1: Val, a2: Val): TensorV {
  const rank = x.shape.length;
  const i = normAxis(asNumber(a1, 'axis1'), rank), j = normAxis(asNumber(a2, 'axis2'), rank);
  const s = [...x.shape];
  [s[i], s[j]] = [s[j], s[i]];
  return tensor(x.dtype, s, x.weak);
}

function moveaxis(x: TensorV, srcV: Val, dstV: Val): TensorV {
  const rank = x.shape.length;
  const src = asAxes(srcV, 'source'), dst = asAxes(dstV, 'destination');
  const s = (src === null ? [] : typeof src === 'number' ? [src] : src).map((a) => normAxis(a, rank));
  const d = (dst === null ? [] : typeof dst === 'number' ? [dst] : dst).map((a) => normAxis(a, rank));
  if (s.length !== d.length) wrong('source and destination must have the same number of axes');
  if (new Set(s).size !== s.length || new Set(d).size !== d.length) fail('shape_mismatch', 'repeated axis in moveaxis', 'distinct axes');
  const order = Array.from({ length: rank }, (_, i) => i).filter((i) => !s.includes(i));
  const pairs = d.map((dd, k) => [dd, s[k]] as const).sort((p, q) => p[0] - q[0]);
  for (const [dd, ss] of pairs) order.splice(dd, 0, ss);
  return tensor(x.dtype, order.map((i) => x.shape[i]), x.weak);
}

function concatenate(arrays: Val, axisV: Val | undefined): TensorV {
  const items = seqItems(arrays, 'the arrays argument').map((v, i) => asTensor(v, `array ${i}`));
  if (items.length === 0) return wrong('need at least one array to concatenate');
  let t: TypeInfo = items[0];
  for (const x of items.slice(1)) t = join(t, x);
  if (axisV !== undefined && axisV.t === 'none') {
    let n: Dim = 0;
    for (const x of items) n = dimAdd(n, dimProd(x.shape));
    return tensor(t.dtype, [n], t.weak);
  }
  const axis = axisV === undefined ? 0 : asNumber(axisV, 'axis');
  items.forEach((x, i) => {
    if (x.shape.length === 0) fail('rank', `zero-dimensional arrays cannot be concatenated (array ${i} is ${fmtT(x)})`, 'arrays of rank >= 1');
  });
  const r = concatRule(items, axis);
  return tensor(t.dtype, r.shape, t.weak);
}

function stack(arrays: Val, axisV: Val | undefined): TensorV {
  const items = seqItems(arrays, 'the arrays argument').map((v, i) => asTensor(v, `array ${i}`));
  if (items.length === 0) return wrong('need at least one array to stack');
  let t: TypeInfo = items[0];
  items.forEach((x, i) => {
    if (!sameShape(x.shape, items[0].shape)) {
      fail('shape_mismatch', `all input arrays must have the same shape, but array 0 is ${fmtT(items[0])} and array ${i} is ${fmtT(x)}`, 'arrays of equal shape');
    }
    if (i > 0) t = join(t, x);
  });
  const rank = items[0].shape.length + 1;
  const axis = normAxis(axisV === undefined ? 0 : asNumber(axisV, 'axis'), rank);
  const shape = [...items[0].shape];
  shape.splice(axis, 0, items.length);
  return tensor(t.dtype, shape, t.weak);
}

function split(x: TensorV, secV: Val, axisV: Val | undefined): SeqV {
  const axis = axisV === undefined ? 0 : asNumber(axisV, 'axis');
  const ax = normAxis(axis, x.shape.length);
  if (secV.t === 'tuple' || secV.t === 'list') {
    if (secV.items.length + 1 > MAX_SEQ) unsupported(`splitting into ${secV.items.length + 1} parts`);
    const n = x.shape[ax];
    const bounds: Val[] = [int(0), ...secV.items, NONE];
    const parts: Val[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const len = sliceLen(n, { t: 'slice', lower: bounds[i], upper: bounds[i + 1], step: NONE });
      const shape = [...x.shape];
      shape[ax] = len;
      parts.push(tensor(x.dtype, shape, x.weak));
    }
    return list(parts);
  }
  const n = asNumber(secV, 'indices_or_sections');
  if (n < 1) wrong(`the number of sections must be >= 1, got ${n}`);
  if (n > MAX_SEQ) unsupported(`splitting into ${n} sections`);
  return list(splitEven(x, n, axis).map((p) => tensor(p.dtype, p.shape, x.weak)));
}

/** Shape and dtype of a nested Python list (jnp.array([[1, 2], [3, 4]])). */
function arrayOf(v: Val): TensorV {
  if (v.t !== 'tuple' && v.t !== 'list') {
    const x = asTensor(v, 'the object');
    return tensor(x.dtype, x.shape);
  }
  if (v.items.length === 0) return tensor('float32', [0]);
  const parts = v.items.map(arrayOf);
  let t: TypeInfo = { dtype: parts[0].dtype, weak: isWeakScalar(v.items[0]) };
  parts.forEach((p, i) => {
    if (!sameShape(p.shape, parts[0].shape)) {
      wrong(`the nested sequence is ragged: element 0 has shape ${formatShape(parts[0].shape)} and element ${i} has shape ${formatShape(p.shape)}`);
    }
    if (i > 0) t = join(t, { dtype: p.dtype, weak: isWeakScalar(v.items[i]) });
  });
  return tensor(t.dtype, [v.items.length, ...parts[0].shape]);
}
function isWeakScalar(v: Val): boolean {
  return (v.t === 'int' || v.t === 'float') || ((v.t === 'tuple' || v.t === 'list') && v.items.length > 0 && v.items.every(isWeakScalar));
}

/** Length of x[lower:upper:step] along a dimension of size n (Python slice semantics; symbolic where it must be). */
function sliceLen(n: Dim, s: SliceV): Dim {
  const bound = (v: Val, what: string): Dim | null => (v.t === 'none' ? null : asDim(v, what));
  const lo = bound(s.lower, 'the slice start'), hi = bound(s.upper, 'the slice stop');
  const stV = bound(s.step, 'the slice step');
  if (typeof stV === 'string') return unsupported('a slice step that depends on a symbolic dimension');
  const step = stV ?? 1;
  if (step === 0) return wrong('slice step cannot be zero');
  if (typeof n === 'number' && (lo === null || typeof lo === 'number') && (hi === null || typeof hi === 'number')) {
    let start: number, stop: number;
    if (step > 0) {
      start = lo === null ? 0 : lo < 0 ? Math.max(lo + n, 0) : Math.min(lo, n);
      stop = hi === null ? n : hi < 0 ? Math.max(hi + n, 0) : Math.min(hi, n);
      return Math.max(0, Math.ceil((stop - start) / step));
    }
    start = lo === null ? n - 1 : lo < 0 ? Math.max(lo + n, -1) : Math.min(lo, n - 1);
    stop = hi === null ? -1 : hi < 0 ? Math.max(hi + n, -1) : Math.min(hi, n - 1);
    return Math.max(0, Math.ceil((start - stop) / -step));
  }
  // symbolic: assume the bounds lie inside the axis, as a well-formed model has them
  if (step < 0) {
    if (lo === null && hi === null) return step === -1 ? n : dimCeilDiv(n, -step);
    return unsupported('a reversed slice with bounds on a symbolic dimension');
  }
  const norm = (b: Dim | null, dflt: Dim): Dim => (b === null ? dflt : typeof b === 'number' && b < 0 ? dimAdd(n, b) : b);
  const start = norm(lo, 0), stop = norm(hi, n);
  let len = dimSub(stop, start);
  if (typeof len === 'number' && len < 0) len = 0;
  return step === 1 ? len : dimCeilDiv(len, step);
}

/** x[index]: basic indexing plus one broadcast group of integer index arrays. */
function indexTensor(x: TensorV, idx: Val): TensorV {
  const items = idx.t === 'tuple' ? idx.items : [idx];
  const rank = x.shape.length;
  let consumed = 0, ellipses = 0;
  for (const it of items) {
    if (it.t === 'ellipsis') ellipses++;
    else if (it.t === 'none') continue;
    else if (it.t === 'tensor' && it.dtype === 'bool') {
      return unsupported('boolean mask indexing gives a data-dependent shape; use jnp.where(mask, x, 0) instead');
    } else consumed++;
  }
  if (ellipses > 1) wrong("an index can only have a single ellipsis ('...')");
  if (consumed > rank) fail('rank', `too many indices for ${fmtT(x)}: the array has ${rank} dimension${rank === 1 ? '' : 's'}, but ${consumed} were indexed`, `at most ${rank} indices`);
  const hasArray = items.some((it) => it.t === 'tensor' || it.t === 'list');
  const out: Dim[] = [];
  let advShape: Dim[] | null = null;
  let advAt = -1, lastAdv = -2, adjacent = true;
  let d = 0;
  for (const it of items) {
    if (it.t === 'ellipsis') {
      const n = rank - consumed;
      for (let k = 0; k < n; k++) out.push(x.shape[d++]);
      continue;
    }
    if (it.t === 'none') { out.push(1); continue; }
    const dim = x.shape[d];
    if (it.t === 'slice') { out.push(sliceLen(dim, it)); d++; continue; }
    if (it.t === 'int' || it.t === 'bool' || it.t === 'tensor' || it.t === 'list') {
      if (it.t === 'int' || it.t === 'bool') {
        const i = asDim(it, 'the index');
        if (typeof i === 'number' && typeof dim === 'number' && (i >= dim || i < -dim)) {
          fail('shape_mismatch', `index ${i} is out of bounds for axis ${d} with size ${dim}`, `an index in [${-dim}, ${dim - 1}]`);
        }
        if (!hasArray) { d++; continue; }
      }
      const ix = it.t === 'list' ? arrayOf(it) : asTensor(it);
      if (kindOf(ix.dtype) === 2) fail('dtype', `array indices must be integers, got ${ix.dtype}`, 'an integer index array');
      advShape = advShape === null ? [...ix.shape] : broadcastShapes(advShape, ix.shape);
      if (advAt < 0) advAt = out.length;
      if (lastAdv >= 0 && lastAdv !== d - 1) adjacent = false;
      lastAdv = d;
      d++;
      continue;
    }
    return wrong(`an index must be an int, a slice, None, '...' or an integer array, got ${describe(it)}`);
  }
  while (d < rank) out.push(x.shape[d++]);
  if (advShape !== null) {
    if (adjacent) out.splice(advAt, 0, ...advShape);
    else out.unshift(...advShape);
  }
  return tensor(x.dtype, out, x.weak);
}

function indexSeq(v: SeqV, idx: Val): Val {
  const n = v.items.length;
  if (idx.t === 'slice') {
    const b = (x: Val, what: string): number | null => (x.t === 'none' ? null : asNumber(x, what));
    const step = b(idx.step, 'the slice step') ?? 1;
    if (step === 0) wrong('slice step cannot be zero');
    const lo = b(idx.lower, 'the slice start'), hi = b(idx.upper, 'the slice stop');
    const out: Val[] = [];
    if (step > 0) {
      const start = lo === null ? 0 : lo < 0 ? Math.max(lo + n, 0) : Math.min(lo, n);
      const stop = hi === null ? n : hi < 0 ? Math.max(hi + n, 0) : Math.min(hi, n);
      for (let i = start; i < stop; i += step) out.push(v.items[i]);
    } else {
      const start = lo === null ? n - 1 : lo < 0 ? Math.max(lo + n, -1) : Math.min(lo, n - 1);
      const stop = hi === null ? -1 : hi < 0 ? Math.max(hi + n, -1) : Math.min(hi, n - 1);
      for (let i = start; i > stop; i += step) out.push(v.items[i]);
    }
    return { t: v.t, items: out };
  }
  if (idx.t === 'tuple') return wrong(`${v.t} indices must be integers or slices, not tuple`);
  const i = asNumber(idx, `the ${v.t} index`);
  if (i >= n || i < -n) fail('shape_mismatch', `${v.t} index ${i} out of range for a ${v.t} of ${n}`, `an index in [${-n}, ${n - 1}]`);
  return v.items[i < 0 ? i + n : i];
}

// ---------------------------------------------------------------- function tables

const floatUnary = unary('float');
const sameUnary = unary('same');
const boolUnary = unary('bool');

const roundImpl: Impl = (a, self) => {
  const [x] = self ? [self, ...bind(a, ['decimals='])] : bind(a, ['a', 'decimals=']);
  const t = asTensor(x!, 'the array');
  return tensor(t.dtype, t.shape, t.weak);
};

function creation(fillFromArg: boolean): Impl {
  return (a) => {
    const vals = bind(a, fillFromArg ? ['shape', 'fill_value', 'dtype='] : ['shape', 'dtype=']);
    const shape = asShape(vals[0]!);
    const dt = asDtype(fillFromArg ? vals[2] : vals[1]);
    if (!fillFromArg) return tensor(dt ? canonDtype(dt) : 'float32', shape);
    const fill = asTensor(vals[1]!, 'fill_value');
    const b = broadcastShapes(shape, fill.shape);
    if (b.length !== shape.length || !sameShape(b, shape)) fail('shape_mismatch', `fill_value of shape ${formatShape(fill.shape)} does not broadcast to ${formatShape(shape)}`);
    return tensor(dt ? canonDtype(dt) : fill.dtype, shape);
  };
}

function like(fillFromArg: boolean): Impl {
  return (a) => {
    const vals = bind(a, fillFromArg ? ['a', 'fill_value', 'dtype=', 'shape='] : ['a', 'dtype=', 'shape=']);
    const x = asTensor(vals[0]!, 'the array');
    const dt = asDtype(fillFromArg ? vals[2] : vals[1]);
    const shapeV = fillFromArg ? vals[3] : vals[2];
    const shape = shapeV && shapeV.t !== 'none' ? asShape(shapeV) : x.shape;
    if (fillFromArg) asTensor(vals[1]!, 'fill_value');
    return tensor(dt ? canonDtype(dt) : x.dtype, shape, x.weak && !dt);
  };
}

const arange: Impl = (a) => {
  const [v0, v1, v2, dv] = bind(a, ['start', 'stop=', 'step=', 'dtype=']);
  const present = [v0!, v1, v2].filter((v): v is Val => v !== undefined && v.t !== 'none');
  if (present.length === 0) return wrong('arange needs a stop value, got None');
  const [startV, stopV, stepV] = present.length === 1 ? [int(0), present[0], int(1)] : [present[0], present[1], present[2] ?? int(1)];
  for (const v of [startV, stopV, stepV]) if (v.t === 'tensor') return unsupported('arange with array bounds has a data-dependent length; use Python numbers');
  const isF = [startV, stopV, stepV].some((v) => v.t === 'float');
  const dt = asDtype(dv);
  const dtype = dt ? canonDtype(dt) : isF ? 'float32' : 'int32';
  if (isF) {
    const num = (v: Val) => (v.t === 'float' || v.t === 'int' ? v.v : null);
    const s = num(startV), e = num(stopV), st = num(stepV);
    if (typeof s !== 'number' || typeof e !== 'number' || typeof st !== 'number') return unsupported('arange with float bounds that depend on symbolic dimensions');
    if (st === 0) wrong('arange step cannot be zero');
    return tensor(dtype, [lengthOf((e - s) / st, 'arange')]);
  }
  const s = asDim(startV, 'start'), e = asDim(stopV, 'stop'), st = asDim(stepV, 'step');
  if (typeof st !== 'number') return unsupported('arange with a symbolic step');
  if (st === 0) wrong('arange step cannot be zero');
  if (typeof s === 'number' && typeof e === 'number') return tensor(dtype, [lengthOf((e - s) / st, 'arange')]);
  if (st < 0) return unsupported('a decreasing arange over symbolic bounds');
  const len = dimSub(e, s);
  return tensor(dtype, [st === 1 ? len : dimCeilDiv(len, st)]);
};

const arrayImpl: Impl = (a) => {
  const [obj, dv] = bind(a, ['object', 'dtype=']);
  const x = arrayOf(obj!);
  const dt = asDtype(dv);
  return dt ? tensor(canonDtype(dt), x.shape) : x;
};

const whereImpl: Impl = (a) => {
  const [c, x, y] = bind(a, ['condition', 'x=', 'y=']);
  if (x === undefined || y === undefined) return unsupported('jnp.where with one argument returns indices of data-dependent length; use jnp.where(c, x, y)');
  const ct = asTensor(c!, 'the condition');
  const r = elementwise([x, y], 'same', 'where');
  return tensor(r.dtype, broadcastShapes(ct.shape, r.shape), r.weak);
};

const clipImpl: Impl = (a, self) => {
  const spec = ['x', 'a_min=', 'a_max=', 'min=', 'max='];
  const vals = self ? [self, ...bind(a, spec.slice(1))] : bind(a, spec);
  const bounds = [vals[1] ?? vals[3], vals[2] ?? vals[4]].filter((v): v is Val => v !== undefined && v.t !== 'none');
  return elementwise([vals[0]!, ...bounds], 'same', 'clip');
};

const matmulImpl: Impl = (a) => { const [x, y] = bind(a, ['a', 'b']); return matmul(x!, y!); };
const dotImpl: Impl = (a) => { const [x, y] = bind(a, ['a', 'b']); return dot(x!, y!); };
const outerImpl: Impl = (a) => {
  const [x, y] = bind(a, ['a', 'b']);
  const p = asTensor(x!, 'a'), q = asTensor(y!, 'b');
  const t = join(p, q);
  return tensor(t.dtype, [dimProd(p.shape), dimProd(q.shape)], t.weak);
};

const reshapeImpl: Impl = (a, self) => {
  if (self) {
    const x = asTensor(self);
    if (a.kw.size > 0 && !(a.kw.size === 1 && a.kw.has('order'))) wrong(`got an unexpected keyword argument '${[...a.kw.keys()].find((k) => k !== 'order')}'`);
    if (a.pos.length === 0) return wrong('missing the new shape');
    return reshape(x, a.pos.length === 1 ? a.pos[0] : tuple(a.pos));
  }
  const [x, s] = bind(a, ['a', 'newshape', 'order=']);
  return reshape(asTensor(x!, 'the array'), s!);
};

const transposeImpl: Impl = (a, self) => {
  if (self) {
    const x = asTensor(self);
    if (a.pos.length <= 1) return transpose(x, a.pos[0] ?? a.kw.get('axes'));
    return transpose(x, tuple(a.pos));
  }
  const [x, axes] = bind(a, ['a', 'axes=']);
  return transpose(asTensor(x!, 'the array'), axes);
};

function method(spec: readonly string[], f: (x: TensorV, ...rest: (Val | undefined)[]) => Val): Impl {
  return sig(spec, (a, self) => {
    if (self) return f(asTensor(self), ...bind(a, spec.slice(1)));
    const vals = bind(a, spec);
    return f(asTensor(vals[0]!, 'the array'), ...vals.slice(1));
  });
}

const squeezeImpl = method(['a', 'axis='], (x, ax) => squeeze(x, ax));
const ravelImpl = method(['a', 'order='], (x) => tensor(x.dtype, [dimProd(x.shape)], x.weak));
const swapaxesImpl = method(['a', 'axis1', 'axis2'], (x, i, j) => swapaxes(x, i!, j!));
const sameShapeOp = (spec: readonly string[], dtype?: DType) => method(spec, (x, ...rest) => {
  const ax = rest[spec.indexOf('axis=') - 1];
  const axis = asAxes(ax);
  if (axis !== null) checkAxes(x, axis);
  return tensor(dtype ?? x.dtype, x.shape, dtype ? false : x.weak);
});

/** jnp.sort / argsort(a, axis=-1): the shape of a; axis=None sorts the flattened array. */
function sortOp(dtype?: DType): Impl {
  return method(['a', 'axis='], (x, ax) => {
    if (ax !== undefined && ax.t === 'none') return tensor(dtype ?? x.dtype, [dimProd(x.shape)], dtype ? false : x.weak);
    if (ax !== undefined) normAxis(asNumber(ax, 'axis'), x.shape.length);
    return tensor(dtype ?? x.dtype, x.shape, dtype ? false : x.weak);
  });
}

const softmaxLike: Impl = (a) => {
  const [x, ax] = bind(a, ['x', 'axis=', 'where=', 'initial=']);
  const t = asTensor(x!, 'x');
  const axis = ax === undefined ? -1 : asAxes(ax);
  if (axis !== null) checkAxes(t, axis);
  return tensor(floatOf(t.dtype), t.shape, t.weak);
};

const oneHot: Impl = (a) => {
  const [x, n, dv, ax] = bind(a, ['x', 'num_classes', 'dtype=', 'axis=']);
  const t = asTensor(x!, 'x');
  const k = asSize(n!, 'num_classes');
  const dt = asDtype(dv);
  const shape = [...t.shape];
  const axis = ax === undefined ? -1 : asNumber(ax, 'axis');
  shape.splice(normAxis(axis, shape.length + 1), 0, k);
  return tensor(dt ? canonDtype(dt) : 'float32', shape);
};

const leakyRelu: Impl = (a) => { const [x] = bind(a, ['x', 'negative_slope=']); return elementwise([x!, flt(0.01)], 'same', 'leaky_relu'); };
const eluLike: Impl = (a) => { const [x] = bind(a, ['x', 'alpha=']); return elementwise([x!], 'float', 'elu'); };
const geluImpl: Impl = (a) => { const [x] = bind(a, ['x', 'approximate=']); return elementwise([x!], 'float', 'gelu'); };

const linspaceImpl: Impl = (a) => {
  const [, , num, , , dv] = bind(a, ['start', 'stop', 'num=', 'endpoint=', 'retstep=', 'dtype=']);
  const n = num === undefined ? 50 : asSize(num, 'num');
  const dt = asDtype(dv);
  return tensor(dt ? canonDtype(dt) : 'float32', [n]);
};
const eyeImpl: Impl = (a) => {
  const [n, m, , dv] = bind(a, ['N', 'M=', 'k=', 'dtype=']);
  const N = asSize(n!, 'N');
  const M = m === undefined || m.t === 'none' ? N : asSize(m, 'M');
  const dt = asDtype(dv);
  return tensor(dt ? canonDtype(dt) : 'float32', [N, M]);
};
const identityImpl: Impl = (a) => {
  const [n, dv] = bind(a, ['n', 'dtype=']);
  const N = asSize(n!, 'n');
  const dt = asDtype(dv);
  return tensor(dt ? canonDtype(dt) : 'float32', [N, N]);
};
const broadcastTo: Impl = (a) => {
  const [x, s] = bind(a, ['array', 'shape']);
  const t = asTensor(x!, 'the array');
  const shape = asShape(s!);
  const b = broadcastShapes(t.shape, shape);
  if (!sameShape(b, shape)) fail('shape_mismatch', `cannot broadcast ${fmtT(t)} to ${formatShape(shape)}`, `a shape that broadcasts to ${formatShape(shape)}`);
  return tensor(t.dtype, shape, t.weak);
};
const shapeFn: Impl = (a) => { const [x] = bind(a, ['a']); return tuple(asTensor(x!).shape.map((d) => int(d))); };
const ndimFn: Impl = (a) => { const [x] = bind(a, ['a']); return int(asTensor(x!).shape.length); };
const sizeFn: Impl = (a) => { const [x] = bind(a, ['a']); return int(dimProd(asTensor(x!).shape)); };

const NP_FUNCS: Table = {
  // unary, promoting to float
  exp: floatUnary, exp2: floatUnary, expm1: floatUnary, log: floatUnary, log2: floatUnary, log10: floatUnary, log1p: floatUnary,
  sqrt: floatUnary, cbrt: floatUnary, sin: floatUnary, cos: floatUnary, tan: floatUnary, arcsin: floatUnary, arccos: floatUnary,
  arctan: floatUnary, sinh: floatUnary, cosh: floatUnary, tanh: floatUnary, arcsinh: floatUnary, arccosh: floatUnary,
  arctanh: floatUnary, deg2rad: floatUnary, rad2deg: floatUnary, sinc: floatUnary, rint: floatUnary,
  // unary, keeping the dtype
  abs: sameUnary, absolute: sameUnary, negative: sameUnary, positive: sameUnary, sign: sameUnary, square: sameUnary,
  reciprocal: sameUnary, floor: sameUnary, ceil: sameUnary, trunc: sameUnary, fix: sameUnary, round: roundImpl, around: roundImpl,
  bitwise_not: unary('bitwise'), invert: unary('bitwise'),
  logical_not: boolUnary, isnan: boolUnary, isinf: boolUnary, isfinite: boolUnary, signbit: boolUnary,
  // binary
  add: binary('same'), subtract: binaryOp('-'), multiply: binary('same'), divide: binaryOp('/'), true_divide: binaryOp('/'),
  floor_divide: binary('same'), mod: binary('same'), remainder: binary('same'), fmod: binary('same'), power: binary('same'),
  float_power: binary('float'), maximum: binary('same'), minimum: binary('same'), fmax: binary('same'), fmin: binary('same'),
  arctan2: binary('float'), hypot: binary('float'), copysign: binary('float'), logaddexp: binary('float'), logaddexp2: binary('float'),
  gcd: binary('int'), lcm: binary('int'),
  bitwise_and: binary('bitwise'), bitwise_or: binary('bitwise'), bitwise_xor: binary('bitwise'),
  left_shift: binary('int'), right_shift: binary('int'),
  equal: binary('bool'), not_equal: binary('bool'), less: binary('bool'), less_equal: binary('bool'), greater: binary('bool'),
  greater_equal: binary('bool'), logical_and: binary('bool'), logical_or: binary('bool'), logical_xor: binary('bool'),
  where: sig(['condition', 'x=', 'y='], whereImpl), clip: sig(['x', 'a_min=', 'a_max='], clipImpl),
  // reductions
  sum: reduction('sum', { dtypeArg: true }), prod: reduction('sum', { dtypeArg: true }), nansum: reduction('sum', { dtypeArg: true }),
  mean: reduction('float', { dtypeArg: true }), nanmean: reduction('float', { dtypeArg: true }),
  var: reduction('float', { dtypeArg: true, extra: ['out=', 'ddof='] }), std: reduction('float', { dtypeArg: true, extra: ['out=', 'ddof='] }),
  max: reduction('same'), amax: reduction('same'), min: reduction('same'), amin: reduction('same'),
  nanmax: reduction('same'), nanmin: reduction('same'), median: reduction('float', { extra: ['out=', 'overwrite_input='] }),
  argmax: reduction('argidx', { intAxisOnly: true, extra: ['out='] }), argmin: reduction('argidx', { intAxisOnly: true, extra: ['out='] }),
  any: reduction('bool'), all: reduction('bool'), count_nonzero: reduction('argidx'),
  cumsum: cumulative('sum'), cumprod: cumulative('sum'),
  // linear algebra
  matmul: sig(['a', 'b'], matmulImpl), dot: sig(['a', 'b'], dotImpl), outer: sig(['a', 'b'], outerImpl),
  // shapes
  reshape: reshapeImpl, transpose: transposeImpl, swapaxes: swapaxesImpl,
  moveaxis: method(['a', 'source', 'destination'], (x, s, d) => moveaxis(x, s!, d!)),
  expand_dims: method(['a', 'axis'], (x, ax) => expandDims(x, ax!)),
  squeeze: squeezeImpl, ravel: ravelImpl,
  concatenate: sig(['arrays', 'axis='], (a) => { const [xs, ax] = bind(a, ['arrays', 'axis=']); return concatenate(xs!, ax); }),
  stack: sig(['arrays', 'axis='], (a) => { const [xs, ax] = bind(a, ['arrays', 'axis=']); return stack(xs!, ax); }),
  split: method(['ary', 'indices_or_sections', 'axis='], (x, s, ax) => split(x, s!, ax)),
  broadcast_to: broadcastTo,
  flip: sameShapeOp(['m', 'axis=']), roll: sameShapeOp(['a', 'shift', 'axis=']),
  sort: sortOp(), argsort: sortOp('int32'),
  tril: sameShapeOp(['m', 'k=']), triu: sameShapeOp(['m', 'k=']),
  shape: shapeFn, ndim: ndimFn, size: sizeFn,
  // creation
  zeros: creation(false), ones: creation(false), empty: creation(false), full: creation(true),
  zeros_like: like(false), ones_like: like(false), empty_like: like(false), full_like: like(true),
  arange, linspace: linspaceImpl, eye: eyeImpl, identity: identityImpl, array: arrayImpl, asarray: arrayImpl,
};

const NP_CONSTS: Table = {
  pi: flt(Math.PI), e: flt(Math.E), inf: flt(Infinity), nan: flt(NaN), newaxis: NONE,
};

/** Dtype objects double as conversion functions (jnp.float32(x)). */
function dtypeEntry(d: DType): FnV {
  return {
    t: 'fn', name: d, asDtype: d,
    impl: (a) => {
      const [x] = bind(a, ['x']);
      const t = arrayOf(x!);
      return tensor(d, t.shape);
    },
  };
}
for (const [name, d] of Object.entries(DTYPE_NAMES)) NP_CONSTS[name] = dtypeEntry(d);

const LINALG: Table = {
  norm: (a) => {
    const [x, , ax, kd] = bind(a, ['x', 'ord=', 'axis=', 'keepdims=']);
    const t = asTensor(x!, 'x');
    const axis = asAxes(ax);
    checkAxes(t, axis);
    const r = reduceRule(t, axis, asBool(kd, 'keepdims', false), floatOf(t.dtype));
    return tensor(r.dtype, r.shape);
  },
};

const NN: Table = {
  sigmoid: floatUnary, relu: sameUnary, relu6: sameUnary, softplus: floatUnary, silu: floatUnary, swish: floatUnary,
  gelu: sig(['x', 'approximate='], geluImpl), elu: sig(['x', 'alpha='], eluLike), selu: floatUnary, celu: sig(['x', 'alpha='], eluLike),
  leaky_relu: sig(['x', 'negative_slope='], leakyRelu), log_sigmoid: floatUnary,
  soft_sign: floatUnary, hard_tanh: sameUnary, hard_sigmoid: floatUnary, hard_swish: floatUnary,
  softmax: sig(['x', 'axis='], softmaxLike), log_softmax: sig(['x', 'axis='], softmaxLike), one_hot: sig(['x', 'num_classes', 'dtype='], oneHot),
  logsumexp: reduction('float', { extra: ['b='] }),
};
const SPECIAL: Table = {
  erf: floatUnary, erfc: floatUnary, erfinv: floatUnary, expit: floatUnary, logit: floatUnary,
  logsumexp: reduction('float', { extra: ['b='] }),
};
const LAX: Table = { rsqrt: floatUnary, stop_gradient: sameUnary };

function ns(name: string, table: Table): NsV {
  return { t: 'ns', name, table };
}

const NP: Table = { ...NP_FUNCS, ...NP_CONSTS };
NP.linalg = ns('linalg', LINALG);
const FASTMATH: Table = { ...NP, ...NN, ...SPECIAL, ...LAX, numpy: ns('numpy', NP) };
const JAX: Table = { numpy: ns('jax.numpy', NP), nn: ns('jax.nn', NN), scipy: ns('jax.scipy', { special: ns('jax.scipy.special', SPECIAL) }), lax: ns('jax.lax', LAX) };
const TL: Table = {
  one_hot: (a) => {
    const [x, n, dv] = bind(a, ['x', 'n_categories', 'dtype=']);
    return oneHot({ pos: [x!, n!], kw: dv ? new Map([['dtype', dv]]) : new Map() }, undefined);
  },
  log_softmax: softmaxLike,
};

function mathFn(f: (x: number) => number, toInt = false): Impl {
  return (a) => {
    const [x] = bind(a, ['x']);
    if (x!.t === 'tensor') return unsupported('Python math functions take Python numbers; for arrays use the jnp function of the same name');
    if (x!.t !== 'int' && x!.t !== 'float' && x!.t !== 'bool') return wrong(`must be a number, got ${describe(x!)}`);
    const v = numVal(x!);
    if (typeof v !== 'number') return toInt ? int(null) : flt(null);
    const r = f(v);
    return toInt ? checkInt(r) : flt(r);
  };
}
const MATH: Table = {
  sqrt: mathFn(Math.sqrt), exp: mathFn(Math.exp), log: mathFn(Math.log), log2: mathFn(Math.log2), log10: mathFn(Math.log10),
  log1p: mathFn(Math.log1p), sin: mathFn(Math.sin), cos: mathFn(Math.cos), tan: mathFn(Math.tan), tanh: mathFn(Math.tanh),
  floor: mathFn(Math.floor, true), ceil: mathFn(Math.ceil, true), fabs: mathFn(Math.abs), erf: mathFn(erfApprox),
  pi: flt(Math.PI), e: flt(Math.E), inf: flt(Infinity), nan: flt(NaN), tau: flt(2 * Math.PI),
};

function erfApprox(x: number): number {
  // Abramowitz-Stegun 7.1.26: only the value of a constant is at stake here
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

// ---------------------------------------------------------------- builtins

function builtinNumberConv(kind: 'int' | 'float' | 'bool'): FnV {
  return {
    t: 'fn', name: kind, asDtype: kind === 'int' ? 'int32' : kind === 'float' ? 'float32' : 'bool',
    impl: (a) => {
      const [x] = bind(a, ['x=']);
      if (x === undefined) return kind === 'int' ? int(0) : kind === 'float' ? flt(0) : bool(false);
      if (x.t === 'tensor') return unsupported(`${kind}() of an array needs its value, which is not known when shapes are traced (use .astype(jnp.${kind === 'bool' ? 'bool_' : `${kind}32`}))`);
      if (kind === 'bool') return bool(truthy(x, 'bool()'));
      if (x.t !== 'int' && x.t !== 'float' && x.t !== 'bool') return wrong(`${kind}() of ${describe(x)}`);
      const v = numVal(x);
      if (kind === 'float') return flt(typeof v === 'number' ? v : null);
      if (typeof v === 'number') return Number.isFinite(v) ? checkInt(Math.trunc(v)) : wrong(`cannot convert ${v} to an int`);
      return x.t === 'int' ? x : int(null);
    },
  };
}

function pyMinMax(which: 'min' | 'max'): Impl {
  return (a) => {
    if (a.kw.size) wrong(`${which}() keyword arguments are not supported`);
    const items = a.pos.length === 1 ? seqItems(a.pos[0], `${which}()'s argument`) : a.pos;
    if (items.length === 0) return wrong(`${which}() of an empty sequence`);
    let best: Val = items[0];
    for (const it of items.slice(1)) {
      if (best.t === 'tensor' || it.t === 'tensor') return unsupported(`Python's ${which}() on arrays is data-dependent; use jnp.${which === 'min' ? 'minimum' : 'maximum'}`);
      if (!(isArrayLike(best) && isArrayLike(it))) return wrong(`${which}() of ${describe(it)}`);
      const c = pyCompare(which === 'max' ? '>' : '<', it as PyNum, best as PyNum);
      if (c.v === null) return it.t === 'float' || best.t === 'float' ? flt(null) : int(null);
      if (c.v) best = it;
    }
    return best;
  };
}

const BUILTINS: Table = {
  len: (a) => {
    const [x] = bind(a, ['obj']);
    if (x!.t === 'tensor') {
      if (x!.shape.length === 0) return wrong(`len() of a 0-d array (${fmtT(x!)})`);
      return int(x!.shape[0]);
    }
    if (x!.t === 'tuple' || x!.t === 'list') return int(x!.items.length);
    if (x!.t === 'str') return int(x!.v.length);
    return wrong(`len() of ${describe(x!)}`);
  },
  int: builtinNumberConv('int'),
  float: builtinNumberConv('float'),
  bool: builtinNumberConv('bool'),
  abs: (a) => {
    const [x] = bind(a, ['x']) as [Val];
    if (x.t === 'int' || x.t === 'bool') {
      const v = numVal(x);
      return typeof v === 'number' ? checkInt(Math.abs(v)) : int(v);
    }
    if (x.t === 'float') return flt(x.v === null ? null : Math.abs(x.v));
    return elementwise([x], 'same', 'abs');
  },
  round: (a) => {
    const [x, nd] = bind(a, ['number', 'ndigits=']) as [Val, Val | undefined];
    if (x.t === 'tensor') return tensor(x.dtype, x.shape, x.weak);
    if (x.t === 'int' || x.t === 'bool') return int(numVal(x));
    if (x.t === 'float') {
      if (nd !== undefined && nd.t !== 'none') {
        const k = asNumber(nd, 'ndigits');
        return flt(x.v === null || k < 0 || k > 15 ? x.v : Math.round(x.v * 10 ** k) / 10 ** k);
      }
      if (x.v === null) return int(null);
      if (!Number.isFinite(x.v)) return wrong(`cannot convert ${x.v} to an int`);
      const r = Math.abs(x.v % 1) === 0.5 ? 2 * Math.round(x.v / 2) : Math.round(x.v);
      return checkInt(r);
    }
    return wrong(`round() of ${describe(x)}`);
  },
  min: pyMinMax('min'),
  max: pyMinMax('max'),
  sum: (a) => {
    const [xs, start] = bind(a, ['iterable', 'start=']);
    let acc: Val = start ?? int(0);
    if (xs!.t === 'tensor') return unsupported("Python's sum() over an array iterates its values; use jnp.sum");
    for (const it of seqItems(xs!, "sum()'s argument")) acc = binop('+', acc, it);
    return acc;
  },
  tuple: (a) => {
    const [x] = bind(a, ['iterable=']);
    if (x === undefined) return tuple([]);
    return tuple(seqItems(x, "tuple()'s argument"));
  },
  list: (a) => {
    const [x] = bind(a, ['iterable=']);
    if (x === undefined) return list([]);
    return list(seqItems(x, "list()'s argument"));
  },
};

const ROOTS: Table = {
  jnp: ns('jnp', NP), np: ns('np', NP), numpy: ns('numpy', NP), onp: ns('onp', NP), jax: ns('jax', JAX),
  fastmath: ns('fastmath', FASTMATH), math: ns('math', MATH), tl: ns('tl', TL),
  trax: ns('trax', { layers: ns('trax.layers', TL), fastmath: ns('trax.fastmath', FASTMATH) }),
};

/** Array attributes (x.shape, ...) and methods (x.sum(), ...). */
const ARRAY_METHODS: Table = {
  astype: (a, self) => {
    const [dv] = bind(a, ['dtype']);
    const x = asTensor(self!);
    return tensor(canonDtype(asDtype(dv) ?? x.dtype), x.shape);
  },
  reshape: reshapeImpl, transpose: transposeImpl, squeeze: squeezeImpl, flatten: ravelImpl, ravel: ravelImpl,
  swapaxes: swapaxesImpl, clip: clipImpl, round: roundImpl,
  sum: NP_FUNCS.sum, mean: NP_FUNCS.mean, max: NP_FUNCS.max, min: NP_FUNCS.min, prod: NP_FUNCS.prod,
  argmax: NP_FUNCS.argmax, argmin: NP_FUNCS.argmin, any: NP_FUNCS.any, all: NP_FUNCS.all, var: NP_FUNCS.var, std: NP_FUNCS.std,
  cumsum: NP_FUNCS.cumsum, cumprod: NP_FUNCS.cumprod,
};
const ARRAY_ATTRS = ['shape', 'ndim', 'size', 'dtype', 'T'];

function listOf(t: Table): string {
  return Object.keys(t).filter((k) => typeof t[k] === 'function' || (t[k] as Val).t === 'fn').sort().join(', ');
}

/** Every function name the interpreter knows (for documentation and the palette's help). */
export const SUPPORTED_FUNCTIONS: Readonly<Record<string, readonly string[]>> = {
  'jnp / np / fastmath': Object.keys(NP_FUNCS).sort(),
  'jax.nn': Object.keys(NN).sort(),
  'jax.scipy.special': Object.keys(SPECIAL).sort(),
  'jax.lax': Object.keys(LAX).sort(),
  'jnp.linalg': Object.keys(LINALG),
  math: Object.keys(MATH).sort(),
  builtins: Object.keys(BUILTINS).sort(),
  'array methods': [...ARRAY_ATTRS, ...Object.keys(ARRAY_METHODS)].sort(),
};

// ---------------------------------------------------------------- the evaluator

function pyUnary(op: string, v: Val): Val {
  if (v.t === 'int' || v.t === 'float' || v.t === 'bool') {
    const x = numVal(v);
    if (op === 'not') return bool(!truthy(v, 'not'));
    if (op === '~') {
      if (v.t === 'float') return wrong("bad operand type for unary ~: 'float'");
      return typeof x === 'number' ? checkInt(-x - 1) : int(null);
    }
    if (op === '+') return v.t === 'bool' ? int(x) : v;
    if (v.t === 'float') return flt(typeof x === 'number' ? -x : null);
    return x === null ? int(null) : typeof x === 'number' ? checkInt(-x) : int(dimSub(0, x));
  }
  if (v.t === 'tensor') {
    if (op === 'not') return bool(truthy(v, '`not`'));
    if (op === '~') {
      if (isFloat(v.dtype)) fail('dtype', `~ needs a bool or integer array, got ${fmtT(v)}`, 'a bool or integer array');
      return v;
    }
    if (op === '-' && v.dtype === 'bool') fail('dtype', `negating a boolean array is not supported (JAX raises); use ~x or jnp.logical_not`, 'a numeric array');
    return v;
  }
  if (op === 'not') return bool(!truthy(v, 'not'));
  return wrong(`bad operand type for unary ${op}: ${describe(v)}`);
}

function binop(op: string, a: Val, b: Val): Val {
  if (a.t === 'tensor' || b.t === 'tensor') {
    if (!isArrayLike(a) || !isArrayLike(b)) {
      const other = a.t === 'tensor' ? b : a;
      return wrong(`unsupported operand for ${op} with an array: ${describe(other)}${other.t === 'tuple' || other.t === 'list' ? ' (wrap it in jnp.array(...))' : ''}`);
    }
    if (op === '@') return matmul(a, b);
    return arith(op, a, b);
  }
  if (isArrayLike(a) && isArrayLike(b)) return pyArith(op, a, b);
  if ((a.t === 'tuple' || a.t === 'list') && a.t === b.t && op === '+') {
    if (a.items.length + (b as SeqV).items.length > MAX_SEQ) unsupported(`a ${a.t} longer than ${MAX_SEQ}`);
    return { t: a.t, items: [...a.items, ...(b as SeqV).items] };
  }
  if (op === '*' && ((a.t === 'tuple' || a.t === 'list') !== (b.t === 'tuple' || b.t === 'list'))) {
    const [s, n] = a.t === 'tuple' || a.t === 'list' ? [a, b] : [b as SeqV, a];
    const k = asNumber(n, `the ${s.t} repeat count`);
    if (k * s.items.length > MAX_SEQ) unsupported(`a ${s.t} longer than ${MAX_SEQ}`);
    const items: Val[] = [];
    for (let i = 0; i < k; i++) items.push(...s.items);
    return { t: s.t, items };
  }
  return wrong(`unsupported operand types for ${op}: ${describe(a)} and ${describe(b)}`);
}

function compare(op: string, a: Val, b: Val): Val {
  if (op === 'is' || op === 'is not') {
    let same: boolean | null;
    if (a.t === 'none' || b.t === 'none') same = a.t === b.t;
    else if (a.t === 'bool' && b.t === 'bool' && a.v !== null && b.v !== null) same = a.v === b.v;
    else if (a.t === 'tensor' || b.t === 'tensor') same = false;
    else return unsupported(`'${op}' between ${describe(a)} and ${describe(b)}; use == / !=`);
    return bool(op === 'is' ? same : !same);
  }
  if (op === 'in' || op === 'not in') {
    if (b.t !== 'tuple' && b.t !== 'list') return unsupported(`'${op}' on ${describe(b)}`);
    let found: boolean | null = false;
    for (const it of b.items) {
      const eq = compare('==', a, it);
      if (eq.t !== 'bool') return unsupported(`'${op}' with arrays is data-dependent`);
      if (eq.v === true) { found = true; break; }
      if (eq.v === null) found = null;
    }
    return bool(found === null ? null : op === 'in' ? found : !found);
  }
  if (a.t === 'tensor' || b.t === 'tensor') {
    if (!isArrayLike(a) || !isArrayLike(b)) {
      if ((a.t === 'none' || b.t === 'none') && (op === '==' || op === '!=')) return bool(op === '!=');
      return wrong(`cannot compare ${describe(a)} and ${describe(b)} with ${op}`);
    }
    return arith(op, a, b);
  }
  if (isArrayLike(a) && isArrayLike(b)) return pyCompare(op, a, b);
  if (op === '==' || op === '!=') {
    const eq = structEq(a, b);
    return bool(eq === null ? null : op === '==' ? eq : !eq);
  }
  return wrong(`cannot compare ${describe(a)} and ${describe(b)} with ${op}`);
}

function structEq(a: Val, b: Val): boolean | null {
  if (a.t !== b.t) {
    if (isArrayLike(a) && isArrayLike(b) && a.t !== 'tensor' && b.t !== 'tensor') return pyCompare('==', a, b).v;
    return false;
  }
  switch (a.t) {
    case 'none': return true;
    case 'str': return a.v === (b as StrV).v;
    case 'dtype': return a.dtype === (b as DtypeV).dtype;
    case 'tuple': case 'list': {
      const bi = (b as SeqV).items;
      if (a.items.length !== bi.length) return false;
      let all: boolean | null = true;
      for (let i = 0; i < bi.length; i++) {
        const e = structEq(a.items[i], bi[i]);
        if (e === false) return false;
        if (e === null) all = null;
      }
      return all;
    }
    default: return a === b;
  }
}

/**
 * What the lowering (./fn_lowering) adds to the interpreter: after each
 * operation that gives arrays has been interpreted (shapes and dtypes, by the
 * very code that infers them), the hook emits its ONNX nodes and returns the
 * result with the ONNX value names attached.
 */
export interface LowerHook {
  call(f: FnV, args: Args, result: Val): Val;
  unary(op: string, v: TensorV, result: TensorV): Val;
  binop(op: string, a: Val, b: Val, result: TensorV): Val;
  compare(op: string, a: Val, b: Val, result: TensorV): Val;
  /** `v` is the indexed array, or a Python number indexed as a 0-d array */
  index(v: Val, idx: Val, result: TensorV): Val;
  transposed(v: TensorV, result: TensorV): Val;
}

/** Which lowering table a namespace's entries belong to. */
const TABLE_KEYS = new Map<Table, string>([[NP, 'np'], [NN, 'nn'], [SPECIAL, 'special'], [LAX, 'lax'], [LINALG, 'linalg'], [TL, 'tl'], [MATH, 'math']]);

/** The lowering key of `table[attr]` (`np.exp`); fastmath's merged table resolves to the table the entry came from. */
function tableKey(table: Table, attr: string): string {
  const k = TABLE_KEYS.get(table);
  if (k) return `${k}.${attr}`;
  for (const [t, name] of [[LAX, 'lax'], [SPECIAL, 'special'], [NN, 'nn'], [NP, 'np']] as const) {
    if (Object.prototype.hasOwnProperty.call(t, attr) && t[attr] === table[attr]) return `${name}.${attr}`;
  }
  return `?.${attr}`;
}

/** Whether a value is or holds an array (what the lowering must give ONNX names). */
function holdsTensor(v: Val): boolean {
  return v.t === 'tensor' || ((v.t === 'tuple' || v.t === 'list') && v.items.some(holdsTensor));
}

class Interp {
  constructor(private readonly env: Map<string, Val>, private readonly params: readonly string[], private readonly hook?: LowerHook) {}

  eval(node: PyNode): Val {
    switch (node.type) {
      case 'Num':
        if (!node.isFloat) {
          if (!Number.isSafeInteger(node.value)) return unsupported(`the integer literal ${node.raw} is too large`);
          return int(node.value);
        }
        return flt(node.value);
      case 'Str': return { t: 'str', v: node.value };
      case 'Const': return node.value === null ? NONE : bool(node.value);
      case 'Ellipsis': return { t: 'ellipsis' };
      case 'Name': return this.name(node.id);
      case 'Attribute': return this.attribute(node.value, node.attr, node);
      case 'Call': return this.call(node);
      case 'Tuple': return tuple(node.elts.map((e) => this.eval(e)));
      case 'List': return list(node.elts.map((e) => this.eval(e)));
      case 'Dict': return unsupported('dict literals in an Fn lambda');
      case 'Slice': return this.slice(node);
      case 'Subscript': return this.subscript(node);
      case 'UnaryOp': {
        const v = this.eval(node.operand);
        const r = this.located(node, () => pyUnary(node.op, v));
        return this.hook && v.t === 'tensor' && r.t === 'tensor' ? this.located(node, () => this.hook!.unary(node.op, v, r)) : r;
      }
      case 'BinOp': {
        const l = this.eval(node.left), r = this.eval(node.right);
        const res = this.located(node, () => binop(node.op, l, r));
        return this.hook && res.t === 'tensor' ? this.located(node, () => this.hook!.binop(node.op, l, r, res)) : res;
      }
      case 'BoolOp': {
        let v = this.eval(node.values[0]);
        for (let i = 1; i < node.values.length; i++) {
          const t = truthy(v, `\`${node.op}\` (in ${short(node)})`);
          if (node.op === 'and' ? !t : t) return v;
          v = this.eval(node.values[i]);
        }
        return v;
      }
      case 'Compare': {
        let left = this.eval(node.left);
        const last = node.ops.length - 1;
        for (let i = 0; ; i++) {
          const right = this.eval(node.comparators[i]);
          const l0 = left;
          let r = this.located(node, () => compare(node.ops[i], l0, right));
          if (this.hook && r.t === 'tensor') { const res = r; r = this.located(node, () => this.hook!.compare(node.ops[i], l0, right, res)); }
          if (last > 0 && r.t === 'tensor') {
            return unsupported(`the chained comparison ${short(node)} on arrays needs Python's \`and\`, which is data-dependent; write jnp.logical_and(a < b, b < c)`);
          }
          if (i === last || !truthy(r, `the chained comparison ${short(node)}`)) return r;
          left = right;
        }
      }
      case 'IfExp': {
        const c = this.eval(node.test);
        if (c.t === 'tensor') {
          return unsupported(`data-dependent Python control flow is not supported; use jnp.where(c, a, b) (the condition of \`${short(node)}\` is ${describe(c)})`);
        }
        return truthy(c, `the condition of ${short(node)}`) ? this.eval(node.body) : this.eval(node.orelse);
      }
      case 'Lambda':
        return unsupported('a lambda inside an Fn lambda');
    }
  }

  /** Runs an operation, prefixing its LayerErrors with the construct (`x0 + x1: ...`). */
  private located<T>(node: PyNode, f: () => T, label?: string): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof LayerError) throw new LayerError(e.code, `${label ?? short(node)}: ${e.message}`, e.detail);
      throw e;
    }
  }

  private name(id: string): Val {
    const bound = this.env.get(id);
    if (bound) return bound;
    if (Object.prototype.hasOwnProperty.call(ROOTS, id)) return ROOTS[id] as Val;
    if (Object.prototype.hasOwnProperty.call(BUILTINS, id)) {
      const b = BUILTINS[id];
      return typeof b === 'function' ? { t: 'fn', name: id, impl: b, key: `builtin.${id}` } : b;
    }
    const params = this.params.length ? `its parameters (${this.params.join(', ')})` : 'no parameters';
    return unsupported(`unknown name '${id}' in the Fn lambda: it has ${params}, and can use jnp, np, jax, fastmath, math and the builtins ${Object.keys(BUILTINS).join(', ')}`);
  }

  private attribute(target: PyNode, attr: string, node: PyNode): Val {
    const v = this.eval(target);
    if (v.t === 'ns') {
      if (!Object.prototype.hasOwnProperty.call(v.table, attr)) {
        const supported = listOf(v.table);
        return unsupported(`unsupported in an Fn lambda: ${dottedName(node) ?? `${v.name}.${attr}`}; supported: ${supported || Object.keys(v.table).join(', ')}`);
      }
      const e = v.table[attr];
      return typeof e === 'function' ? { t: 'fn', name: dottedName(node) ?? `${v.name}.${attr}`, impl: e, key: tableKey(v.table, attr) } : e;
    }
    if (v.t === 'tensor') {
      switch (attr) {
        case 'shape': return tuple(v.shape.map((d) => int(d)));
        case 'ndim': return int(v.shape.length);
        case 'size': return int(dimProd(v.shape));
        case 'dtype': return { t: 'dtype', dtype: v.dtype };
        case 'T': {
          const r = tensor(v.dtype, [...v.shape].reverse(), v.weak);
          return this.hook ? this.located(node, () => this.hook!.transposed(v, r)) : r;
        }
      }
      if (Object.prototype.hasOwnProperty.call(ARRAY_METHODS, attr)) {
        return { t: 'fn', name: `.${attr}`, impl: ARRAY_METHODS[attr] as Impl, self: v, key: `method.${attr}` };
      }
      return unsupported(`unsupported in an Fn lambda: the array attribute .${attr}; supported: ${[...ARRAY_ATTRS, ...Object.keys(ARRAY_METHODS)].join(', ')}`);
    }
    if (v.t === 'int' || v.t === 'float' || v.t === 'bool') {
      // Python scalars used as arrays: x.shape / x.dtype of a constant
      if (attr === 'shape') return tuple([]);
      if (attr === 'ndim') return int(0);
    }
    if (v.t === 'dtype' && attr === 'itemsize') return int(v.dtype === 'bool' || v.dtype === 'int8' || v.dtype === 'uint8' ? 1 : v.dtype === 'float16' || v.dtype === 'bfloat16' ? 2 : v.dtype.endsWith('64') ? 8 : 4);
    return unsupported(`${describe(v)} has no attribute '${attr}' in an Fn lambda`);
  }

  private call(node: PyNode & { type: 'Call' }): Val {
    const f = this.eval(node.func);
    const args: Args = { pos: node.args.map((a) => this.eval(a)), kw: new Map() };
    for (const k of node.keywords) args.kw.set(k.name, this.eval(k.value));
    const label = dottedName(node.func) ?? (f.t === 'fn' ? f.name : short(node.func));
    if (f.t !== 'fn') {
      if (f.t !== 'dtype') return wrong(`${short(node.func)} is ${describe(f)}, not a function`);
      const d = dtypeEntry(f.dtype);
      const r = this.located(node, () => d.impl(args, undefined), label);
      return this.hook ? this.located(node, () => this.hook!.call(d, args, r), label) : r;
    }
    const r = this.located(node, () => f.impl(args, f.self), label);
    return this.hook && holdsTensor(r) ? this.located(node, () => this.hook!.call(f, args, r), label) : r;
  }

  private slice(node: PyNode & { type: 'Slice' }): SliceV {
    const part = (n: PyNode | null): Val => (n === null ? NONE : this.eval(n));
    return { t: 'slice', lower: part(node.lower), upper: part(node.upper), step: part(node.step) };
  }

  private subscript(node: PyNode & { type: 'Subscript' }): Val {
    const v = this.eval(node.value);
    const idx = this.eval(node.slice);
    return this.located(node, () => {
      if (v.t === 'tuple' || v.t === 'list') return indexSeq(v, idx);
      if (v.t !== 'tensor' && v.t !== 'int' && v.t !== 'float' && v.t !== 'bool') return wrong(`${describe(v)} cannot be indexed`);
      const x = v.t === 'tensor' ? v : asTensor(v);
      const r = indexTensor(x, idx);
      return this.hook ? this.hook.index(v, idx, r) : r;
    });
  }
}

// ---------------------------------------------------------------- parsing (cached)

type Parsed =
  | { ok: true; fn: PyLambda; ref?: { name: string; spec: readonly string[] } }
  | { ok: false; error: PySyntaxError | null; what: string; message?: string };

const parseCache = new Map<string, Parsed>();
const PARSE_CACHE_MAX = 2000;

function parseCached(src: string): Parsed {
  const hit = parseCache.get(src);
  if (hit) return hit;
  let p: Parsed;
  try {
    const node = parseExpression(src);
    p = node.type === 'Lambda' ? { ok: true, fn: node } : functionRef(node);
  } catch (e) {
    if (!(e instanceof PySyntaxError)) throw e;
    p = { ok: false, error: e, what: 'syntax' };
  }
  if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
  parseCache.set(src, p);
  return p;
}

/**
 * `Fn('Exp', jnp.exp)`: a function passed by name is the lambda of its
 * required positional parameters (Trax inspects the function's signature).
 */
function functionRef(node: PyNode): Parsed {
  const name = dottedName(node);
  if (name === undefined) return { ok: false, error: null, what: node.type };
  let v: Val | undefined;
  try {
    v = new Interp(new Map(), []).eval(node);
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    return { ok: false, error: null, what: 'ref', message: e.message };
  }
  const spec = v.t === 'fn' && !v.self ? SIGNATURES.get(v.impl) : undefined;
  if (!spec) {
    return { ok: false, error: null, what: 'ref', message: `${name} is ${describe(v)}, whose parameters Fn cannot inspect here; write a lambda, e.g. lambda x: ${name}(x)` };
  }
  const required = spec.filter((s) => !s.endsWith('='));
  const params = required.map((_, i) => (required.length === 1 ? 'x' : `x${i}`));
  const fn = parseExpression(`lambda ${params.join(', ')}: ${name}(${params.join(', ')})`) as PyLambda;
  return { ok: true, fn, ref: { name, spec } };
}

/** The lambda of a parameter value; bad_param on `param` when it is not one (with the syntax error's position). */
export function lambdaOf(v: unknown, param: string): PyLambda {
  const src = typeof v === 'object' && v !== null && typeof (v as LambdaValue).$lambda === 'string' ? (v as LambdaValue).$lambda : null;
  if (src === null) {
    throw new LayerError('bad_param', `${param} must be a lambda, e.g. lambda x: x + 1`, { param, expected: 'a lambda' });
  }
  const p = parseCached(src);
  if (p.ok) return p.fn;
  if (p.error) {
    const code = p.error.code === 'unsupported' ? 'unsupported' : 'syntax error';
    throw new LayerError('bad_param', `${param} is not a valid lambda (${code} at line ${p.error.line}, col ${p.error.col}): ${p.error.reason}`, {
      param, expected: 'a Python lambda, e.g. lambda x: x + 1',
    });
  }
  if (p.message) throw new LayerError('bad_param', `${param}: ${p.message}`, { param, expected: 'a Python lambda, e.g. lambda x: x + 1' });
  throw new LayerError('bad_param', `${param} must be a lambda expression (lambda x: ...) or a function such as jnp.exp, got ${src.trim() ? `\`${src.trim().slice(0, 40)}\`` : 'nothing'}`, {
    param, expected: 'a Python lambda, e.g. lambda x: x + 1',
  });
}

/** The function a parameter names (`jnp.exp`), if it is a reference rather than a lambda. */
function refOf(v: unknown): { name: string; spec: readonly string[] } | undefined {
  const src = typeof v === 'object' && v !== null ? (v as LambdaValue).$lambda : undefined;
  if (typeof src !== 'string') return undefined;
  const p = parseCache.get(src);
  return p && p.ok ? p.ref : undefined;
}

/**
 * Trax's Fn checks at construction (ValueError): no *args, no **kwargs, no
 * default values. Thrown as a construct error on `param`.
 */
export function checkFnLambda(v: unknown, param = 'f'): PyLambda {
  const fn = lambdaOf(v, param);
  const ref = refOf(v);
  const optional = ref?.spec.filter((s) => s.endsWith('=')) ?? [];
  if (ref && optional.length) {
    throw new LayerError('construct', `Function has default arg values (${ref.name} takes ${optional.map((s) => `${s}...`).join(', ')}); those are not allowed: write a lambda, e.g. lambda x: ${ref.name}(x)`, { param });
  }
  if (fn.varargs) throw new LayerError('construct', `Function has a variable arg (*${fn.varargs.name}); those are not allowed: n_in is the number of positional parameters`, { param });
  if (fn.kwargs) throw new LayerError('construct', `Function has a keyword arg (**${fn.kwargs.name}); those are not allowed`, { param });
  const withDefault = fn.params.filter((p) => p.default !== null);
  if (withDefault.length) {
    throw new LayerError('construct', `Function has default arg values (${withDefault.map((p) => `${p.name}=${formatNode(p.default!)}`).join(', ')}); those are not allowed`, { param });
  }
  return fn;
}

/** n_in of an Fn: the lambda's positional parameters. */
export function fnArity(v: unknown, param = 'f'): number {
  return lambdaOf(v, param).params.length;
}

// ---------------------------------------------------------------- running a lambda

function toOutput(v: Val, i: number, n: number): ShapeDtype {
  const which = n === 1 ? 'its result' : `output ${i}`;
  if (v.t === 'tensor') {
    const bad = v.shape.find((d) => typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0));
    if (bad !== undefined) wrong(`${which} would have the impossible shape ${formatShape(v.shape)}`);
    return { dtype: v.dtype, shape: [...v.shape] };
  }
  if (v.t === 'int') return { dtype: 'int32', shape: [] };
  if (v.t === 'float') return { dtype: 'float32', shape: [] };
  if (v.t === 'bool') return { dtype: 'bool', shape: [] };
  if (v.t === 'tuple' || v.t === 'list') {
    const allScalars = v.items.every((x) => x.t === 'int' || x.t === 'float' || x.t === 'bool' || (x.t === 'tuple' || x.t === 'list'));
    if (allScalars && v.items.length > 0) {
      const t = arrayOf(v);
      return { dtype: t.dtype, shape: [...t.shape] };
    }
    return wrong(`${which} is ${describe(v)} of arrays; each output must be one array (return a flat tuple with n_out items)`);
  }
  return wrong(`${which} is ${describe(v)}, not an array`);
}

/** Turns a lambda's return value into n_out stack items: a tuple gives its items, a list (quirk) too, else one item. */
function outputsOf(v: Val, nOut: number): ShapeDtype[] {
  const items = resultItems(v, nOut);
  return items.map((x, i) => toOutput(x, i, items.length));
}

/** The n_out values a lambda's result stands for (errors when the count is wrong). */
function resultItems(v: Val, nOut: number): Val[] {
  let items: Val[];
  if (v.t === 'tuple' || v.t === 'list') {
    items = v.items;
    if (items.length !== nOut) {
      throw new LayerError('arity', `the lambda returns a ${v.t} of ${v.items.length} value${v.items.length === 1 ? '' : 's'}, but n_out = ${nOut}${v.items.length > 0 ? `; set n_out=${v.items.length}` : ''}`, {
        expected: `${nOut} output${nOut === 1 ? '' : 's'}`,
      });
    }
  } else {
    if (nOut !== 1) {
      throw new LayerError('arity', `the lambda returns one value (${describe(v)}), but n_out = ${nOut}; return a tuple of ${nOut} values or set n_out=1`, {
        expected: `${nOut} outputs`,
      });
    }
    items = [v];
  }
  return items;
}

function inputVal(x: ShapeDtype): TensorV {
  return tensor(x.dtype, x.shape, false);
}

/** Evaluates a lambda body with its parameters bound; every failure becomes a LayerError naming `param`. */
function run(fn: PyLambda, bindings: Val[], param: string, nOut: number): ShapeDtype[] {
  return guarded(param, () => outputsOf(evalBody(fn, bindings), nOut));
}

function evalBody(fn: PyLambda, bindings: Val[], hook?: LowerHook): Val {
  const env = new Map<string, Val>();
  fn.params.forEach((p, i) => env.set(p.name, bindings[i]));
  return new Interp(env, fn.params.map((p) => p.name), hook).eval(fn.body);
}

/** Runs `f`, turning every failure into a LayerError naming `param`. */
function guarded<T>(param: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LayerError) {
      if (e.detail.param) throw e;
      throw new LayerError(e.code, e.message, { ...e.detail, param });
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new LayerError('construct', `internal error while evaluating the lambda (a bug in Strata): ${msg}`, { param });
  }
}

/** Output signature of `Fn(name, f, n_out)` on `inputs` (exactly n_in of them). */
export function inferFn(f: unknown, inputs: readonly ShapeDtype[], nOut: number, param = 'f'): ShapeDtype[] {
  const fn = lambdaOf(f, param);
  return run(fn, inputs.map(inputVal), param, nOut);
}

/**
 * PureLayer's forward_fn takes ONE argument: the inputs packaged as Trax
 * packages them (the bare array when n_in = 1, else a tuple of n_in arrays).
 */
export function checkPureLambda(v: unknown, param = 'forward_fn'): PyLambda {
  const fn = lambdaOf(v, param);
  const required = fn.params.filter((p) => p.default === null).length;
  const ok = (required === 1) || (required === 0 && (fn.params.length > 0 || fn.varargs !== null));
  if (!ok) {
    throw new LayerError('construct', `PureLayer calls forward_fn with one argument (the inputs: the array itself when n_in = 1, else a tuple of n_in arrays), but this lambda takes ${required} required parameter${required === 1 ? '' : 's'}`, {
      param, expected: 'lambda inputs: ...',
    });
  }
  return fn;
}

export function inferPure(forwardFn: unknown, inputs: readonly ShapeDtype[], nOut: number, param = 'forward_fn'): ShapeDtype[] {
  const [fn, bindings] = pureBindings(forwardFn, inputs.map(inputVal), param);
  return run(fn, bindings, param, nOut);
}

/** PureLayer's lambda and its arguments: the packaged inputs, then the defaults of later parameters. */
function pureBindings(forwardFn: unknown, inputs: TensorV[], param: string): [PyLambda, Val[]] {
  const fn = checkPureLambda(forwardFn, param);
  const packed: Val = inputs.length === 1 ? inputs[0] : tuple(inputs);
  if (fn.params.length === 0 && fn.varargs) return [{ ...fn, params: [{ name: fn.varargs.name, default: null, pos: fn.varargs.pos }] }, [tuple([packed])]];
  const bindings: Val[] = fn.params.length ? [packed] : [];
  // parameters after the first keep their defaults (evaluated as constants)
  for (let i = 1; i < fn.params.length; i++) {
    const d = fn.params[i].default!;
    bindings.push(evalConstant(d, param));
  }
  return [fn, bindings];
}

/**
 * For the lowering: runs Fn's `f` (kind 'fn') or PureLayer's `forward_fn`
 * (kind 'pure') on arrays that carry their ONNX names, with `hook` emitting
 * the nodes, and returns the n_out result values.
 */
export function evalLowered(kind: 'fn' | 'pure', src: unknown, inputs: TensorV[], nOut: number, param: string, hook: LowerHook): Val[] {
  return guarded(param, () => {
    if (kind === 'fn') return resultItems(evalBody(lambdaOf(src, param), inputs, hook), nOut);
    const [fn, bindings] = pureBindings(src, inputs, param);
    return resultItems(evalBody(fn, bindings, hook), nOut);
  });
}

function evalConstant(node: PyNode, param: string): Val {
  try {
    return new Interp(new Map(), []).eval(node);
  } catch (e) {
    if (e instanceof LayerError) throw new LayerError(e.code, `a default value: ${e.message}`, { ...e.detail, param });
    throw new LayerError('construct', `internal error while evaluating a default value (a bug in Strata): ${e instanceof Error ? e.message : String(e)}`, { param });
  }
}

/** For tests: parse-cache size. */
export function _parseCacheSize(): number {
  return parseCache.size;
}

// ---------------------------------------------------------------- for the lowering (./fn_lowering)

export type { Val, TensorV, FnV, Args, SeqV, SliceV, IntV, FloatV, BoolV, Impl };
/** The interpreter's pieces the lowering reuses, so shapes, dtypes and argument handling stay one code. */
export const fnInternals = {
  bind, asTensor, asNumber, asAxes, asBool, asDtype, asShape, elementwise, join, canonDtype, sliceLen, arrayOf, numVal, binop,
  unsupported, wrong, describe, tensor, int, flt, bool, tuple, list, NONE,
};
