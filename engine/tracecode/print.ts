/**
 * Document → idiomatic Trax Python, formatted like black (one line when it
 * fits, else one argument a line with a trailing comma). The output parses
 * back to the same tree (engine/tracecode/parse.ts); a node that shares
 * another's weights prints as the same Python variable.
 */
import { formatShapeDtype, type ShapeDtype } from '../core/shape';
import {
  type ArgSpec, type LayerDef, type ParamSpec, type PyValue, REQUIRED, isInitCall, isLambda,
} from '../layers/def';
import { initializerArgs } from '../layers/initializers';
import { lookupKind } from '../layers/registry';
import { type DocNode, walkNodes } from '../document/schema';

export interface PrintOptions {
  /** line width (default 88, black's) */
  width?: number;
  /** write the import lines (default true) */
  imports?: boolean;
}

const INDENT = '    ';

/** Python's repr of a float: shortest round-trip digits, exponent form outside [1e-4, 1e16). */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "float('nan')" : v > 0 ? "float('inf')" : "-float('inf')";
  if (Object.is(v, -0)) return '-0.0';
  if (v === 0) return '0.0';
  const [mant, expStr] = v.toExponential().split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const m = mant.includes('.') ? mant : mant;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  if (s.includes('e')) {
    // JS uses exponents below 1e-6; Python does not until 1e-4
    return v.toFixed(Math.max(0, -exp + (mant.replace(/[-.]/g, '').length - 1)));
  }
  return s.includes('.') ? s : `${s}.0`;
}

export function pyString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}'`;
}

function seq(items: string[], style: 'tuple' | 'list'): string {
  if (style === 'list') return `[${items.join(', ')}]`;
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** Any JSON-ish value as Python (lists stay lists). */
function pyGeneric(v: PyValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : pyFloat(v);
  if (typeof v === 'string') return pyString(v);
  if (Array.isArray(v)) return seq(v.map(pyGeneric), 'list');
  if (isLambda(v)) return v.$lambda;
  if (isInitCall(v)) return pyInit(v.$init, v.args);
  return pyString(JSON.stringify(v));
}

function pyInit(name: string, args: Record<string, PyValue> | undefined): string {
  const specs = initializerArgs(name) ?? [];
  const parts: string[] = [];
  const keys = Object.keys(args ?? {});
  const ordered = [...specs.map((s) => s.name).filter((k) => keys.includes(k)), ...keys.filter((k) => !specs.some((s) => s.name === k))];
  for (const k of ordered) {
    const spec = specs.find((s) => s.name === k);
    parts.push(`${k}=${spec ? pyParam(spec, args![k]) : pyGeneric(args![k])}`);
  }
  return `tl.initializers.${name}(${parts.join(', ')})`;
}

/** A parameter value as Python, by its spec type. */
export function pyParam(spec: ParamSpec, v: PyValue): string {
  if (v === null) return 'None';
  switch (spec.type) {
    case 'float':
      return typeof v === 'number' ? pyFloat(v) : pyGeneric(v);
    case 'ints':
    case 'numbers':
    case 'strs':
      return Array.isArray(v) ? seq(v.map(pyGeneric), spec.style) : pyGeneric(v);
    case 'int_or_ints':
      return Array.isArray(v) ? seq(v.map(pyGeneric), 'tuple') : pyGeneric(v);
    case 'dtype':
      return typeof v === 'string' ? `jnp.${v}` : pyGeneric(v);
    case 'layer_class':
      return typeof v === 'string' ? pyKindName(v) : pyGeneric(v);
    case 'layer_classes':
      return typeof v === 'string' ? pyKindName(v) : Array.isArray(v) ? seq(v.map((x) => (typeof x === 'string' ? pyKindName(x) : pyGeneric(x))), 'list') : pyGeneric(v);
    default:
      return pyGeneric(v);
  }
}

function pyKindName(kind: string): string {
  const def = lookupKind(kind);
  return def?.pyName ?? `tl.${kind}`;
}

interface Ctx {
  width: number;
  /** source node id → variable name */
  vars: Map<string, string>;
  /** print the source node itself (in its assignment) instead of its variable */
  defining?: string;
}

/** A call as a head and its argument strings (formatted later for the width). */
interface CallDoc { head: string; args: Doc[]; listForm?: boolean }
type Doc = string | CallDoc;

function render(d: Doc, indent: string, width: number): string {
  if (typeof d === 'string') return d;
  const open = d.listForm ? '[' : `${d.head}(`;
  const close = d.listForm ? ']' : ')';
  const flatArgs = d.args.map((a) => render(a, indent, Infinity));
  const flat = `${open}${flatArgs.join(', ')}${close}`;
  if (indent.length + flat.length <= width && !flat.includes('\n')) return flat;
  if (d.args.length === 0) return flat;
  const inner = indent + INDENT;
  const lines = d.args.map((a) => `${inner}${render(a, inner, width)},`);
  return `${open}\n${lines.join('\n')}\n${indent}${close}`;
}

function nodeDoc(n: DocNode, ctx: Ctx, laneOf?: 'serial'): Doc {
  const v = ctx.vars.get(n.shareWeightsOf ?? n.id);
  if (v && ctx.defining !== n.id) return v;
  const def = lookupKind(n.kind);
  if (!def) return unknownDoc(n, ctx);
  const inner: Ctx = ctx.defining === n.id ? { ...ctx, defining: undefined } : ctx;
  // a plain Serial in a Parallel/Branch lane reads best as a list
  if (laneOf === 'serial' && n.kind === 'Serial' && !n.params && !n.slots) {
    return { head: '', args: (n.children ?? []).map((c) => nodeDoc(c, inner)), listForm: true };
  }
  return { head: def.pyName ?? `tl.${def.kind}`, args: argDocs(def, n, inner) };
}

function argDocs(def: LayerDef, n: DocNode, ctx: Ctx): Doc[] {
  const out: Doc[] = [];
  let positional = true;
  const params = n.params ?? {};
  const slots = n.slots ?? {};
  for (const a of def.args as readonly ArgSpec[]) {
    if (a.arg === 'layers') {
      const kids = (n.children ?? []).map((c) => nodeDoc(c, ctx, a.lists === 'serial' ? 'serial' : undefined));
      if (a.form === 'list') {
        const list: CallDoc = { head: '', args: kids, listForm: true };
        if (positional) out.push(list); else out.push(kw(a.name, list));
      } else {
        out.push(...kids);
        positional = false; // after *layers only keywords
      }
      continue;
    }
    if (a.arg === 'slot') {
      const c = slots[a.name];
      if (!c) { if (!a.optional && !a.defaultKind) { /* missing: nothing to print */ } positional = false; continue; }
      const d = nodeDoc(c, ctx);
      if (positional && !a.kwOnly && !a.defaultKind) out.push(d);
      else { positional = false; out.push(kw(a.name, d)); }
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(params, a.name)) { positional = false; continue; }
    const s = pyParam(a, params[a.name]);
    if (positional && !a.kwOnly && a.default === REQUIRED) out.push(s);
    else { positional = false; out.push(`${a.name}=${s}`); }
  }
  // parameters the schema does not know (kept from a newer writer): still printed, the trace reports them
  for (const k of Object.keys(params)) {
    if (!def.args.some((a) => a.arg === 'param' && a.name === k)) out.push(`${k}=${pyGeneric(params[k])}`);
  }
  return out;
}

function kw(name: string, d: Doc): Doc {
  if (typeof d === 'string') return `${name}=${d}`;
  return { ...d, head: d.listForm ? d.head : d.head, args: d.args, listForm: d.listForm, ...{ kwName: name } } as CallDoc & { kwName: string };
}

function unknownDoc(n: DocNode, ctx: Ctx): Doc {
  const params = n.params ?? {};
  const args: Doc[] = [];
  const pos = params['*'];
  if (Array.isArray(pos)) args.push(...pos.map(pyGeneric));
  for (const [k, v] of Object.entries(params)) if (k !== '*') args.push(`${k}=${pyGeneric(v)}`);
  for (const c of n.children ?? []) args.push(nodeDoc(c, ctx));
  for (const [k, c] of Object.entries(n.slots ?? {})) if (c) args.push(kw(k, nodeDoc(c, ctx)));
  return { head: `tl.${n.kind}`, args };
}

function snake(kind: string): string {
  return kind.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** Imports the printed code needs. */
function imports(root: DocNode): string[] {
  let models = false, jnp = false;
  walkNodes(root, (n) => {
    const def = lookupKind(n.kind);
    if (def?.pyName?.startsWith('trax.models')) models = true;
    for (const v of Object.values(n.params ?? {})) {
      const s = JSON.stringify(v);
      if (s.includes('jnp.') || (def && def.args.some((a) => a.arg === 'param' && a.type === 'dtype'))) jnp = jnp || s.includes('jnp.') || typeof v === 'string' && def!.args.some((a) => a.arg === 'param' && a.type === 'dtype' && n.params?.[a.name] === v);
      if (s.includes('np.')) jnp = true;
    }
  });
  const out: string[] = [];
  if (models) out.push('import trax');
  out.push('from trax import layers as tl');
  if (jnp) out.push('import jax.numpy as jnp', 'import numpy as np');
  return out;
}

export function treeToCode(root: DocNode, input: readonly ShapeDtype[] = [], opts: PrintOptions = {}): string {
  const width = opts.width ?? 88;
  // nodes whose weights are shared become variables, defined in pre-order
  const shared = new Set<string>();
  const ids = new Set<string>();
  walkNodes(root, (n) => { ids.add(n.id); });
  walkNodes(root, (n) => { if (n.shareWeightsOf && ids.has(n.shareWeightsOf)) shared.add(n.shareWeightsOf); });
  const vars = new Map<string, string>();
  const used = new Set<string>(['model', 'tl', 'trax', 'jnp', 'np']);
  const defs: DocNode[] = [];
  walkNodes(root, (n) => {
    if (!shared.has(n.id)) return;
    let name = `shared_${snake(n.kind)}`;
    for (let i = 2; used.has(name); i++) name = `shared_${snake(n.kind)}_${i}`;
    used.add(name);
    vars.set(n.id, name);
    defs.push(n);
  });
  const lines: string[] = [];
  if (input.length) lines.push(`# input: ${input.map(formatShapeDtype).join(', ')}`);
  if (opts.imports !== false) lines.push(...imports(root), '');
  // a variable's definition may use earlier variables only
  const defined = new Map<string, string>();
  for (const n of defs) {
    const ctx: Ctx = { width, vars: defined, defining: n.id };
    lines.push(`${vars.get(n.id)} = ${render(withKw(nodeDoc(n, ctx)), '', width)}`);
    defined.set(n.id, vars.get(n.id)!);
  }
  const top = nodeDoc(root, { width, vars });
  lines.push(`model = ${render(withKw(top), '', width)}`);
  return lines.join('\n') + '\n';
}

/** Keyword arguments that hold calls: rendered as `name=call(…)`. */
function withKw(d: Doc): Doc {
  if (typeof d === 'string') return d;
  const args = d.args.map((a) => {
    if (typeof a !== 'string' && 'kwName' in a) {
      const { kwName, ...rest } = a as CallDoc & { kwName: string };
      const inner = withKw(rest);
      return typeof inner === 'string' ? `${kwName}=${inner}` : { ...inner, head: inner.listForm ? `${kwName}=` : `${kwName}=${inner.head}` };
    }
    return withKw(a);
  });
  return { ...d, args };
}

export function documentToCode(doc: { root: DocNode; input: readonly ShapeDtype[] }, opts: PrintOptions = {}): string {
  return treeToCode(doc.root, doc.input, opts);
}
