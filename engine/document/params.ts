/**
 * Parameter checking against a layer's schema: every problem is a LayerError
 * naming the parameter (bad_param / missing_param / unknown_param).
 */
import { LayerError } from '../core/errors';
import { isDType } from '../core/shape';
import { checkInitializer } from '../layers/initializers';
import {
  type LayerDef, type ParamSpec, type Params, type PyValue, REQUIRED, isInitCall, isLambda,
} from '../layers/def';

const paramSpecCache = new WeakMap<LayerDef, Map<string, ParamSpec>>();

export function paramSpecs(def: LayerDef): Map<string, ParamSpec> {
  let m = paramSpecCache.get(def);
  if (!m) {
    m = new Map();
    for (const a of def.args) if (a.arg === 'param') m.set(a.name, a);
    paramSpecCache.set(def, m);
  }
  return m;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v)})`;
  if (isInitCall(v)) return `initializer ${v.$init}`;
  if (isLambda(v)) return 'a lambda';
  if (typeof v === 'string') return `the string '${v}'`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

function bad(spec: ParamSpec, kind: string, got: unknown, expected: string): LayerError {
  return new LayerError('bad_param', `${kind}: parameter ${spec.name} must be ${expected}, got ${describe(got)}`, {
    param: spec.name,
    expected,
  });
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Checks one value against its spec; returns the (possibly normalised) value or throws LayerError. */
export function checkParam(spec: ParamSpec, v: PyValue, kind: string): PyValue {
  if (v === null) {
    if (spec.nullable || spec.default === null) return null;
    throw bad(spec, kind, v, expectedOf(spec));
  }
  switch (spec.type) {
    case 'int': {
      if (typeof v === 'boolean' || !isInt(v)) throw bad(spec, kind, v, 'an integer');
      if (spec.min !== undefined && v < spec.min) throw bad(spec, kind, v, `an integer >= ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw bad(spec, kind, v, `an integer <= ${spec.max}`);
      return v;
    }
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(spec, kind, v, 'a number');
      const lo = spec.min, hi = spec.max;
      if (lo !== undefined && (spec.minExclusive ? v <= lo : v < lo)) throw bad(spec, kind, v, `a number ${spec.minExclusive ? '>' : '>='} ${lo}`);
      if (hi !== undefined && (spec.maxExclusive ? v >= hi : v > hi)) throw bad(spec, kind, v, `a number ${spec.maxExclusive ? '<' : '<='} ${hi}`);
      return v;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw bad(spec, kind, v, 'True or False');
      return v;
    case 'str':
      if (typeof v !== 'string') throw bad(spec, kind, v, spec.choices ? `one of ${spec.choices.map((c) => `'${c}'`).join(', ')}` : 'a string');
      if (spec.choices && !spec.choices.includes(v)) throw bad(spec, kind, v, `one of ${spec.choices.map((c) => `'${c}'`).join(', ')}`);
      return v;
    case 'ints': {
      if (!Array.isArray(v) || !v.every(isInt)) throw bad(spec, kind, v, 'a tuple of integers');
      const arr = v as number[];
      if (spec.minLength !== undefined && arr.length < spec.minLength) throw bad(spec, kind, v, `at least ${spec.minLength} integers`);
      if (spec.maxLength !== undefined && arr.length > spec.maxLength) throw bad(spec, kind, v, `at most ${spec.maxLength} integers`);
      if (spec.min !== undefined && arr.some((x) => x < spec.min!)) throw bad(spec, kind, v, `integers >= ${spec.min}`);
      return v;
    }
    case 'int_or_ints': {
      if (isInt(v)) {
        if (spec.min !== undefined && v < spec.min) throw bad(spec, kind, v, `an integer >= ${spec.min}`);
        return v;
      }
      if (!Array.isArray(v) || v.length === 0 || !v.every(isInt)) throw bad(spec, kind, v, 'an integer or a tuple of integers');
      if (spec.min !== undefined && (v as number[]).some((x) => x < spec.min!)) throw bad(spec, kind, v, `integers >= ${spec.min}`);
      return v;
    }
    case 'numbers':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw bad(spec, kind, v, 'a tuple of numbers');
      return v;
    case 'strs':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(spec, kind, v, 'a tuple of strings');
      return v;
    case 'dtype':
      if (!isDType(v)) throw bad(spec, kind, v, 'a dtype such as jnp.float32');
      return v;
    case 'initializer': {
      if (!isInitCall(v) && !isLambda(v)) throw bad(spec, kind, v, 'an initializer, e.g. tl.initializers.GlorotUniformInitializer()');
      const e = isInitCall(v) ? checkInitializer(v, spec.name) : null;
      if (e) throw new LayerError(e.code, `${kind}: ${e.message}`, e.detail);
      return v;
    }
    case 'lambda':
      if (!isLambda(v)) throw bad(spec, kind, v, 'a lambda');
      return v;
    case 'layer_class':
      if (typeof v !== 'string') throw bad(spec, kind, v, 'a layer class such as tl.Relu');
      if (spec.choices && !spec.choices.includes(v)) throw bad(spec, kind, v, `one of ${spec.choices.map((c) => `tl.${c}`).join(', ')}`);
      return v;
    case 'layer_classes':
      if (typeof v === 'string') return v;
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) throw bad(spec, kind, v, 'a layer class or a list of them');
      return v;
    case 'any':
      return v;
  }
}

function expectedOf(spec: ParamSpec): string {
  switch (spec.type) {
    case 'int': return 'an integer';
    case 'float': return 'a number';
    case 'bool': return 'True or False';
    case 'str': return 'a string';
    default: return `a value of type ${spec.type}`;
  }
}

export interface ResolvedParams {
  values: Params;
  errors: LayerError[];
}

/**
 * Fills defaults and checks every given parameter. A bad value is reported and
 * replaced by the default, so the rest of the trace can still run.
 */
export function resolveParams(def: LayerDef, given: Record<string, PyValue> | undefined): ResolvedParams {
  const specs = paramSpecs(def);
  const values: Record<string, unknown> = {};
  const errors: LayerError[] = [];
  for (const [name, spec] of specs) {
    if (given && Object.prototype.hasOwnProperty.call(given, name)) {
      try {
        values[name] = checkParam(spec, given[name], def.kind);
        continue;
      } catch (e) {
        if (!(e instanceof LayerError)) throw e;
        errors.push(e);
      }
    }
    if (spec.default === REQUIRED) {
      if (!given || !Object.prototype.hasOwnProperty.call(given, name)) {
        errors.push(new LayerError('missing_param', `${def.kind}: required parameter ${name} is missing`, { param: name, expected: expectedOf(spec) }));
      }
      values[name] = undefined;
    } else {
      values[name] = spec.default;
    }
  }
  if (given) {
    for (const name of Object.keys(given)) {
      if (!specs.has(name)) {
        const known = [...specs.keys()];
        errors.push(new LayerError('unknown_param', `${def.kind} has no parameter ${name}${known.length ? `; it takes ${known.join(', ')}` : '; it takes none'}`, { param: name }));
      }
    }
  }
  return { values, errors };
}

/** Drops parameters equal to their default (documents store only what was set). */
export function canonicalParams(def: LayerDef, given: Record<string, PyValue>): Record<string, PyValue> {
  const specs = paramSpecs(def);
  const out: Record<string, PyValue> = {};
  for (const [k, v] of Object.entries(given)) {
    const spec = specs.get(k);
    if (spec && spec.default !== REQUIRED && jsonEqual(spec.default, v)) continue;
    out[k] = v;
  }
  return out;
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
