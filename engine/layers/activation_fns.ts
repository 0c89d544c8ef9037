/**
 * The `activation_fns` module: elementwise, shape-preserving layers
 * (Fn layers in Trax, so integer inputs keep their dtype where the formula
 * does, and become float32 where it needs floats).
 */
import { LayerError } from '../core/errors';
import { type ShapeDtype, floatOf } from '../core/shape';
import { type FamilyEntry, family, type SpecNote } from './family';
import { type ParamSpec, P, construct, fixed } from './def';

/** An elementwise activation; `float` when the formula leaves the integers (exp, tanh, …). */
function act(summary: string, args: ParamSpec[] = [], float = true): FamilyEntry {
  return {
    summary,
    args,
    arity: fixed(1, 1),
    infer: (x: readonly ShapeDtype[]) => [float ? { dtype: floatOf(x[0].dtype), shape: x[0].shape } : x[0]],
  };
}

export const activation_fnsLayers = family('activation_fns', {
  Relu: { ...act('where(x <= 0, 0, x); integer inputs stay integers.', [], false), lower: (e, [x]) => [e.op1('Relu', [x])] },
  ParametricRelu: act('max(a*x, 0): a scales the positive side.', [P.float('a', 1.0)]),
  LeakyRelu: act('where(x >= 0, x, a*x).', [P.float('a', 0.01)]),
  Elu: act('where(x > 0, x, a*expm1(x)).', [P.float('a', 1.0)]),
  Selu: act('lmbda * where(x > 0, x, alpha*expm1(x)).', [P.float('alpha', 1.6732632423543772), P.float('lmbda', 1.0507009873554805)]),
  Gelu: act('x * 0.5 * (1 + erf(x / sqrt(2))) (exact).'),
  FastGelu: act('0.5*x*(1 + tanh(x*0.7978845608*(1 + 0.044715*x*x))) (tanh approximation).'),
  Sigmoid: act('1 / (1 + exp(-x)).'),
  Tanh: act('tanh(x).'),
  HardSigmoid: act('max(0, min(1, 1 + x)).', [], false),
  HardTanh: act('max(-1, min(1, x)).', [], false),
  Softplus: act('log(1 + exp(x)) = logaddexp(x, 0).'),
  Exp: act('exp(x).'),
  Log: act('log(x).'),
  Swish: act('x * sigmoid(x).'),
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
  },
});

export const activation_fnsNotes: Record<string, SpecNote> = {};
