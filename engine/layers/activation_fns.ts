/**
 * The `activation_fns` module: elementwise, shape-preserving layers
 * (Fn layers in Trax, so integer inputs keep their dtype where the formula
 * does, and become float32 where it needs floats).
 */
import { LayerError } from '../core/errors';
import { type DType, type ShapeDtype, floatOf, isFloat } from '../core/shape';
import { type FamilyEntry, family, type SpecNote } from './family';
import type { Emitter, LowerSig } from '../core/onnx';
import { type ParamSpec, type Params, P, construct, fixed } from './def';
import { cast, constantOf, float, scalarOf, viaFloat } from './lowering';

/**
 * A lowering that computes `f` in the compute float (float32 for half and
 * integer inputs) and casts to the inferred output dtype.
 */
type Formula = (e: Emitter, x: string, p: Params, dtype: DType) => string;
function lowerVia(f: Formula): (e: Emitter, ins: string[], p: Params, s: LowerSig) => string[] {
  return (e, [x], p, s) => [viaFloat(e, x, s.inputs[0].dtype, s.outputs[0].dtype, (v, d) => f(e, v, p, d))];
}

/** sigmoid(x) */
const sigmoid = (e: Emitter, x: string): string => e.op1('Sigmoid', [x]);

/** An elementwise activation; `toFloat` when the formula leaves the integers (exp, tanh, …); `f` its formula. */
function act(summary: string, args: ParamSpec[], toFloat: boolean, f?: Formula): FamilyEntry {
  return {
    summary,
    args,
    arity: fixed(1, 1),
    infer: (x: readonly ShapeDtype[]) => [toFloat ? { dtype: floatOf(x[0].dtype), shape: x[0].shape } : x[0]],
    ...(f ? { lower: lowerVia(f) } : {}),
  };
}

export const activation_fnsLayers = family('activation_fns', {
  Relu: { ...act('where(x <= 0, 0, x); integer inputs stay integers.', [], false), // (Relu has no integer kernel on WebGPU: max(x, 0) there)
    lower: (e, [x], _p, s) => [isFloat(s.inputs[0].dtype) ? e.op1('Relu', [x]) : e.op1('Max', [x, constantOf(e, 0, s.inputs[0].dtype)])] },
  ParametricRelu: act('max(a*x, 0): a scales the positive side.', [P.float('a', 1.0)], true,
    (e, x, p, d) => e.op1('Relu', [e.op1('Mul', [x, scalarOf(e, p.a, d)])])),
  LeakyRelu: act('where(x >= 0, x, a*x).', [P.float('a', 0.01)], true, (e, x, p) => e.op1('LeakyRelu', [x], { alpha: float(p.a) })),
  Elu: act('where(x > 0, x, a*expm1(x)).', [P.float('a', 1.0)], true, (e, x, p) => e.op1('Elu', [x], { alpha: float(p.a) })),
  // (the Selu op is not on every GPU provider: lmbda * Elu(x, alpha))
  Selu: act('lmbda * where(x > 0, x, alpha*expm1(x)).', [P.float('alpha', 1.6732632423543772), P.float('lmbda', 1.0507009873554805)], true,
    (e, x, p, d) => e.op1('Mul', [e.op1('Elu', [x], { alpha: float(p.alpha) }), scalarOf(e, p.lmbda, d)])),
  Gelu: act('x * 0.5 * (1 + erf(x / sqrt(2))) (exact).', [], true, (e, x, _p, d) => {
    const c = (v: number): string => scalarOf(e, v, d);
    const erf = e.op1('Erf', [e.op1('Mul', [x, c(Math.SQRT1_2)])]);
    return e.op1('Mul', [e.op1('Mul', [x, c(0.5)]), e.op1('Add', [erf, c(1)])]);
  }),
  FastGelu: act('0.5*x*(1 + tanh(x*0.7978845608*(1 + 0.044715*x*x))) (tanh approximation).', [], true, (e, x, _p, d) => {
    const c = (v: number): string => scalarOf(e, v, d);
    const inner = e.op1('Mul', [e.op1('Mul', [x, c(0.7978845608)]), e.op1('Add', [e.op1('Mul', [e.op1('Mul', [x, x]), c(0.044715)]), c(1)])]);
    return e.op1('Mul', [e.op1('Mul', [x, c(0.5)]), e.op1('Add', [e.op1('Tanh', [inner]), c(1)])]);
  }),
  Sigmoid: act('1 / (1 + exp(-x)).', [], true, sigmoid),
  Tanh: act('tanh(x).', [], true, (e, x) => e.op1('Tanh', [x])),
  HardSigmoid: act('max(0, min(1, 1 + x)).', [], false, (e, x, _p, d) => e.op1('Clip', [e.op1('Add', [x, scalarOf(e, 1, d)]), scalarOf(e, 0, d), scalarOf(e, 1, d)])),
  HardTanh: act('max(-1, min(1, x)).', [], false, (e, x, _p, d) => e.op1('Clip', [x, scalarOf(e, -1, d), scalarOf(e, 1, d)])),
  Softplus: act('log(1 + exp(x)) = logaddexp(x, 0).', [], true, (e, x) => e.op1('Softplus', [x])),
  Exp: act('exp(x).', [], true, (e, x) => e.op1('Exp', [x])),
  Log: act('log(x).', [], true, (e, x) => e.op1('Log', [x])),
  Swish: act('x * sigmoid(x).', [], true, (e, x) => e.op1('Mul', [x, sigmoid(e, x)])),
  Glu: {
    summary: 'a * sigmoid(b), a and b the halves of the last axis (cannot be constructed in this Trax snapshot).',
    args: [],
    check: () => construct('Glu cannot be built: its function has a default arg (axis=-1), and Fn rejects functions with a default arg (as tl.Glu() raises in Trax)'),
    arity: fixed(1, 1),
    infer: (x) => {
      const d = x[0].shape[x[0].shape.length - 1];
      if (typeof d === 'number' && d % 2) throw new LayerError('shape_mismatch', `Glu splits the last axis in halves, but it has odd size ${d}`);
      return [x[0]];
    },
  },
  ThresholdedLinearUnit: {
    summary: 'max(x, t) with a learned scalar threshold t (initialised to 0).',
    args: [],
    arity: fixed(1, 1),
    infer: (x) => [{ dtype: floatOf(x[0].dtype), shape: x[0].shape }],
    weights: () => [{ name: 'threshold', shape: [], dtype: 'float32', init: { fill: 0 } }],
    // jnp.maximum(x, weights): the float32 scalar promotes integer inputs
    lower: lowerVia((e, x, _p, d) => e.op1('Max', [x, cast(e, e.weight('threshold'), 'float32', d)])),
  },
});

export const activation_fnsNotes: Record<string, SpecNote> = {};
