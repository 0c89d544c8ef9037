/**
 * A parameter's value as the inspector's text field shows it, and the text
 * the user types read back as a value. Plain types are read here; values
 * with Python syntax (initializers, lambdas, layer classes, anything else)
 * are read by the code view's own parser, so both sides accept the same text.
 */
import { LayerError } from '../../../engine/core/errors';
import { checkParam, jsonEqual } from '../../../engine/document/params';
import { type ParamSpec, type PyValue, REQUIRED, isInitCall, isLambda } from '../../../engine/layers/def';
import { CodeError, codeToTree } from '../../../engine/tracecode/parse';
import { pyFloat, pyParam } from '../../../engine/tracecode/print';

/** The text shown for a value (`2, 2` for a tuple; a string without quotes; Python for the rest). */
export function valueToText(spec: ParamSpec, v: PyValue | undefined): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  switch (spec.type) {
    case 'int': return typeof v === 'number' ? String(v) : pyParam(spec, v);
    case 'float': return typeof v === 'number' ? pyFloat(v) : pyParam(spec, v);
    case 'str': return typeof v === 'string' ? v : pyParam(spec, v);
    case 'ints':
    case 'numbers':
    case 'int_or_ints':
      return Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? String(x) : JSON.stringify(x))).join(', ') : String(v);
    case 'strs':
      return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ') : String(v);
    case 'lambda':
      return isLambda(v) ? v.$lambda : pyParam(spec, v);
    case 'dtype':
      return typeof v === 'string' ? v : pyParam(spec, v);
    default:
      return pyParam(spec, v);
  }
}

export type ParsedText =
  /** value undefined: the parameter's default (the document drops it) */
  | { ok: true; value: PyValue | undefined }
  | { ok: false; message: string };

const INT = /^[+-]?\d+$/;

function num(s: string): number | undefined {
  const t = s.trim().replace(/_/g, '');
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function listItems(text: string): string[] {
  let t = text.trim();
  if ((t.startsWith('(') && t.endsWith(')')) || (t.startsWith('[') && t.endsWith(']'))) t = t.slice(1, -1);
  const items = t.split(',').map((x) => x.trim());
  // a trailing comma: (2,)
  if (items.length > 1 && items[items.length - 1] === '') items.pop();
  return items;
}

function unquote(s: string): string {
  const m = /^(['"])(.*)\1$/.exec(s);
  return m ? m[2] : s;
}

/** Reads Python syntax for one parameter with the code parser: `tl.Kind(name=<text>)`. */
function viaParser(kind: string, spec: ParamSpec, text: string): ParsedText {
  try {
    const n = codeToTree(`tl.${kind}(${spec.name}=${text})`);
    const v = n.params?.[spec.name];
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof CodeError) {
      // the message names the wrapper's columns; say it about the field
      return { ok: false, message: e.message.replace(/ at line 1, col \d+/, '') };
    }
    throw e;
  }
}

/** Reads the text typed for a parameter. Text that is no value at all is refused; a value the schema rejects is still read (checkParam says why). */
export function textToValue(kind: string, spec: ParamSpec, text: string): ParsedText {
  const t = text.trim();
  if (t === '') {
    if (spec.default === REQUIRED) return { ok: false, message: `${spec.name} is required` };
    return { ok: true, value: undefined };
  }
  if (t === 'None' && (spec.nullable || spec.default === null)) return { ok: true, value: null };
  switch (spec.type) {
    case 'int': {
      if (!INT.test(t.replace(/_/g, ''))) {
        const n = num(t);
        // 12.5 is a number the schema rejects (shown on the node); 'abc' is no number at all
        return n === undefined ? { ok: false, message: 'expected an integer' } : { ok: true, value: n };
      }
      return { ok: true, value: Number(t.replace(/_/g, '')) };
    }
    case 'float': {
      const n = num(t);
      return n === undefined ? { ok: false, message: 'expected a number' } : { ok: true, value: n };
    }
    case 'bool':
      if (t === 'True' || t === 'true') return { ok: true, value: true };
      if (t === 'False' || t === 'false') return { ok: true, value: false };
      return { ok: false, message: 'expected True or False' };
    case 'str':
      return { ok: true, value: unquote(t) };
    case 'dtype':
      return { ok: true, value: t.replace(/^(jnp|np|numpy|jax\.numpy)\./, '') };
    case 'ints':
    case 'numbers':
    case 'int_or_ints': {
      const items = listItems(t);
      const out: number[] = [];
      for (const x of items) {
        const n = num(x);
        if (n === undefined) return { ok: false, message: `'${x}' is not a number; write numbers separated by commas, e.g. 2, 2` };
        out.push(n);
      }
      if (spec.type === 'int_or_ints' && out.length === 1 && !/[,([]/.test(t)) return { ok: true, value: out[0] };
      return { ok: true, value: out };
    }
    case 'strs':
      return { ok: true, value: listItems(t).map(unquote) };
    default:
      return viaParser(kind, spec, t);
  }
}

/** Why a value does not fit its schema ('' when it does). */
export function paramProblem(kind: string, spec: ParamSpec, v: PyValue | undefined): string {
  if (v === undefined) return '';
  try {
    checkParam(spec, v, kind);
    return '';
  } catch (e) {
    if (e instanceof LayerError) return e.message.replace(`${kind}: `, '');
    throw e;
  }
}

/** The value to store: undefined when it equals the default (documents keep only what was set). */
export function storedValue(spec: ParamSpec, v: PyValue | undefined): PyValue | undefined {
  if (v === undefined) return undefined;
  if (spec.default !== REQUIRED && jsonEqual(spec.default, v)) return undefined;
  return v;
}

/** The value in effect: the set one, else the default (undefined when required and unset). */
export function effectiveValue(spec: ParamSpec, given: PyValue | undefined): PyValue | undefined {
  if (given !== undefined) return given;
  return spec.default === REQUIRED ? undefined : spec.default;
}

export function initName(v: PyValue | undefined): string {
  if (isInitCall(v)) return v.$init;
  if (isLambda(v)) return '(lambda)';
  if (v === null) return 'None';
  return '';
}
