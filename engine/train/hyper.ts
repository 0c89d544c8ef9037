/**
 * Hyper-parameters of optimizers and schedules: one error type that names
 * the field, and the checks both use. Values come from code or from the
 * command line (strings), so each check also parses.
 */

/** A bad optimizer or schedule setting: `param` is the field's name (Trax's spelling). */
export class HyperParamError extends Error {
  readonly code = 'bad_param' as const;
  constructor(readonly param: string, message: string, readonly expected?: string) {
    super(message);
    this.name = 'HyperParamError';
  }
}

export type HyperValue = number | boolean | null;
export type HyperOverrides = Readonly<Record<string, number | boolean | string | null | undefined>>;

/** What a field may hold. */
export type HyperSpec =
  | { kind: 'number'; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean; integer?: boolean }
  | { kind: 'boolean' }
  | { kind: 'number?'; min?: number; minExclusive?: boolean };

function describe(s: HyperSpec): string {
  if (s.kind === 'boolean') return 'true or false';
  const lo = s.min === undefined ? '' : `${s.minExclusive ? '>' : '>='} ${s.min}`;
  const hi = s.kind === 'number' && s.max !== undefined ? `${s.maxExclusive ? '<' : '<='} ${s.max}` : '';
  const kind = s.kind === 'number' && s.integer ? 'an integer' : 'a number';
  const range = [lo, hi].filter(Boolean).join(' and ');
  return `${kind}${range ? ` ${range}` : ''}${s.kind === 'number?' ? ' (or none)' : ''}`;
}

/** Parses and range-checks one field; `owner` names the optimizer or schedule in the message. */
export function checkHyper(owner: string, param: string, spec: HyperSpec, raw: number | boolean | string | null | undefined): HyperValue {
  const bad = (got: string): never => {
    throw new HyperParamError(param, `${owner}: ${param} must be ${describe(spec)}, got ${got}`, describe(spec));
  };
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'True') return true;
    if (raw === 'false' || raw === 'False') return false;
    return bad(JSON.stringify(raw));
  }
  if (spec.kind === 'number?' && (raw === null || raw === 'none' || raw === 'None')) return null;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n)) return bad(JSON.stringify(raw));
  if (spec.kind === 'number' && spec.integer && !Number.isInteger(n)) bad(String(n));
  if (spec.min !== undefined && (spec.minExclusive ? n <= spec.min : n < spec.min)) bad(String(n));
  if (spec.kind === 'number' && spec.max !== undefined && (spec.maxExclusive ? n >= spec.max : n > spec.max)) bad(String(n));
  return n;
}

/**
 * Defaults overridden by `overrides`, each checked; an override naming no
 * field is an error (never silently ignored).
 */
export function resolveHyper<K extends string>(
  owner: string, specs: Readonly<Record<K, HyperSpec>>, defaults: Readonly<Record<K, HyperValue>>, overrides: HyperOverrides,
): Record<K, HyperValue> {
  const known = Object.keys(specs) as K[];
  for (const k of Object.keys(overrides)) {
    if (!(known as string[]).includes(k)) {
      throw new HyperParamError(k, `${owner} has no hyper-parameter '${k}'; it takes ${known.join(', ')}`, known.join(', '));
    }
  }
  const out = {} as Record<K, HyperValue>;
  for (const k of known) {
    const raw = overrides[k];
    out[k] = raw === undefined ? defaults[k] : checkHyper(owner, k, specs[k], raw);
  }
  return out;
}
