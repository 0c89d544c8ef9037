/**
 * The `initializers` module. These are not layers but parameter values
 * (`kernel_initializer=tl.initializers.GlorotUniformInitializer()`), stored
 * in documents as InitCalls `{ $init, args }`. The table below gives each
 * factory's Python signature (spec order, spec defaults) so that code
 * generation can order arguments and the document layer can validate them
 * (`checkInitializer`).
 */
import { LayerError } from '../core/errors';
import { type InitCall, type ParamSpec, type PyValue, P, REQUIRED, isInitCall, isLambda } from './def';
import { family, type SpecNote } from './family';

export const initializersLayers = family('initializers', {});

export interface InitializerSpec {
  /** one line: what it draws */
  summary: string;
  /** the factory's arguments in spec order */
  args: ParamSpec[];
}

const fans = (scale: ParamSpec): ParamSpec[] => [P.int('out_dim', -1), P.int('in_dim', -2), scale];
const positiveScale = (d: number | typeof REQUIRED): ParamSpec => P.float('scale', d, { min: 0, minExclusive: true });

/** Every initializer factory of the spec, by name. */
export const INITIALIZERS: Record<string, InitializerSpec> = {
  InitializerFromFile: {
    summary: 'Loads the weight from a .npy file; its shape must equal the weight shape.',
    args: [P.str('path', REQUIRED)],
  },
  RandomNormalInitializer: {
    summary: 'stddev * N(0, 1), float32.',
    args: [P.float('stddev', 0.01)],
  },
  RandomUniformInitializer: {
    summary: 'U(-lim, lim), float32.',
    args: [P.float('lim', 1.0)],
  },
  ScaledInitializer: {
    summary: 'gain = scale / fan_in | fan_out | (fan_in+fan_out)/2 (fans from shape[in_dim], shape[out_dim]); normal N(0,1)*sqrt(gain), uniform U(+-sqrt(3*gain)), truncated_normal truncnorm(-2,2)*sqrt(gain)/0.8796.',
    args: [
      P.int('out_dim', REQUIRED),
      P.int('in_dim', REQUIRED),
      positiveScale(REQUIRED),
      P.str('mode', REQUIRED, { choices: ['fan_in', 'fan_out', 'fan_avg'] }),
      P.str('distribution', REQUIRED, { choices: ['normal', 'uniform', 'truncated_normal'] }),
    ],
  },
  GlorotNormalInitializer: { summary: "ScaledInitializer(mode='fan_avg', distribution='normal').", args: fans(positiveScale(1.0)) },
  GlorotUniformInitializer: { summary: "ScaledInitializer(mode='fan_avg', distribution='uniform'): U(+-sqrt(6/(fan_in+fan_out))).", args: fans(positiveScale(1.0)) },
  LeCunNormalInitializer: { summary: "ScaledInitializer(mode='fan_in', distribution='normal').", args: fans(positiveScale(1.0)) },
  LeCunUniformInitializer: { summary: "ScaledInitializer(mode='fan_in', distribution='uniform').", args: fans(positiveScale(1.0)) },
  KaimingNormalInitializer: { summary: "ScaledInitializer(scale=2/sqrt(1+param^2), mode='fan_in', distribution='normal') (quirk: sqrt).", args: fans(P.float('param', 0.0)) },
  KaimingUniformInitializer: { summary: "ScaledInitializer(scale=2/sqrt(1+param^2), mode='fan_in', distribution='uniform') (quirk: sqrt).", args: fans(P.float('param', 0.0)) },
  OrthogonalInitializer: {
    summary: 'stddev * Q of the QR of a normal (prod(shape[:-1]), shape[-1]) matrix, columns sign-fixed by sign(diag(R)).',
    args: [P.float('stddev', 1.0)],
  },
};

/** The arguments of an initializer factory in spec order, or undefined for an unknown name. */
export function initializerArgs(name: string): readonly ParamSpec[] | undefined {
  return Object.prototype.hasOwnProperty.call(INITIALIZERS, name) ? INITIALIZERS[name].args : undefined;
}

function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return `'${v}'`;
  if (isInitCall(v)) return `initializer ${v.$init}`;
  if (isLambda(v)) return 'a lambda';
  return JSON.stringify(v);
}

/** Checks one argument value; returns what was expected, or null when it fits. */
function argProblem(spec: ParamSpec, v: PyValue): string | null {
  if (v === null) return spec.nullable ? null : expectedOf(spec);
  switch (spec.type) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'an integer';
      return null;
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'a number';
      if (spec.min !== undefined && (spec.minExclusive ? v <= spec.min : v < spec.min)) return `a number ${spec.minExclusive ? '>' : '>='} ${spec.min}`;
      return null;
    }
    case 'str':
      if (typeof v !== 'string') return expectedOf(spec);
      if (spec.choices && !spec.choices.includes(v)) return expectedOf(spec);
      return null;
    default:
      return null;
  }
}

function expectedOf(spec: ParamSpec): string {
  if (spec.type === 'str' && spec.choices) return `one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`;
  return spec.type === 'int' ? 'an integer' : spec.type === 'float' ? 'a number' : spec.type === 'str' ? 'a string' : spec.type;
}

/**
 * Validates an InitCall against the table: a known factory, known argument
 * names, every required argument, and values of the right type and range
 * (Trax raises ValueError for scale <= 0 or an unknown mode). `param` names
 * the layer parameter holding the value, for the error.
 */
export function checkInitializer(v: InitCall, param?: string): LayerError | null {
  const where = param ? `${param}: ` : '';
  const detail = (expected: string) => (param ? { param, expected } : { expected });
  const spec = initializerArgs(v.$init);
  if (!spec) {
    if (v.$init === 'AtariConvInit') {
      return new LayerError('bad_param', `${where}AtariConvInit is an initializer function itself, not a factory: pass it uncalled (kernel_initializer=tl.initializers.AtariConvInit)`, detail('an initializer factory call, or a function value'));
    }
    return new LayerError('bad_param', `${where}unknown initializer ${v.$init}; expected one of ${Object.keys(INITIALIZERS).join(', ')}`, detail('a tl.initializers factory'));
  }
  const args = v.args ?? {};
  for (const name of Object.keys(args)) {
    if (!spec.some((s) => s.name === name)) {
      const known = spec.map((s) => s.name);
      return new LayerError('bad_param', `${where}${v.$init} has no argument ${name}; it takes ${known.join(', ')}`, detail(`arguments among ${known.join(', ')}`));
    }
  }
  for (const s of spec) {
    const has = Object.prototype.hasOwnProperty.call(args, s.name);
    if (!has) {
      if (s.default === REQUIRED) return new LayerError('bad_param', `${where}${v.$init} needs its argument ${s.name}`, detail(`${s.name}=${expectedOf(s)}`));
      continue;
    }
    const problem = argProblem(s, args[s.name]);
    if (problem) return new LayerError('bad_param', `${where}${v.$init}'s argument ${s.name} must be ${problem}, got ${describe(args[s.name])}`, detail(problem));
  }
  return null;
}

const AS_PARAM = 'used as a parameter value (kernel_initializer=...)';

/** Spec entries of this module that are not catalog kinds, and why. */
export const initializersNotes: Record<string, SpecNote> = {
  ...Object.fromEntries(Object.keys(INITIALIZERS).map((k) => [k, { status: 'initializer', reason: AS_PARAM } satisfies SpecNote])),
  AtariConvInit: {
    status: 'function',
    reason: 'an initializer function (kernel_shape, rng, dtype) -> U(+-1/sqrt(H*W*fan_in)) itself, not a factory: it is passed uncalled (kernel_initializer=tl.initializers.AtariConvInit) and kept as a function value',
  },
};
