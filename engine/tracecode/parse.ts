/**
 * Trax Python → document. Accepts `tl.Dense(128)`, `trax.layers.Dense`,
 * `trax.layers.core.Dense`, bare `Dense`, `trax.models.TransformerLM`, keyword
 * and positional arguments, literals, `tl.Fn` with a lambda, initializer calls
 * and `name = expr` assignments (a layer variable used twice shares its
 * weights, as the same layer object does in Trax). Anything outside the
 * subset is a CodeError with a line and column, never a silent drop.
 */
import { type ErrorCode, LayerError } from '../core/errors';
import {
  type PyCall, type PyModule, type PyNode, type PyPos, PySyntaxError, dottedName, formatNode, parseModule,
} from '../core/python';
import { type ShapeDtype, SignatureSyntaxError, isDType, parseShapeDtype } from '../core/shape';
import { type LayerDef, type ParamSpec, type PyValue, type SlotSpec, type VariadicSpec } from '../layers/def';
import { initializerArgs } from '../layers/initializers';
import { lookupKind } from '../layers/registry';
import { canonicalParams } from '../document/params';
import { type DocNode, FORMAT, FORMAT_VERSION, type StrataDocument, assignIds } from '../document/schema';

export class CodeError extends LayerError {
  constructor(code: ErrorCode, message: string, readonly line: number, readonly col: number, readonly kind?: string) {
    super(code, message);
    this.name = 'CodeError';
  }
}

function err(code: ErrorCode, message: string, pos: PyPos, kind?: string): CodeError {
  return new CodeError(code, message, pos.line, pos.col, kind);
}

/** Where layers may live: `tl.X`, `trax.layers.X`, `trax.layers.<module>.X`, `trax.models.X`, bare `X`. */
const LAYER_PREFIXES = [/^$/, /^tl$/, /^layers$/, /^trax\.layers$/, /^trax\.layers\.(research\.)?[a-z_]+$/, /^tl\.(research\.)?[a-z_]+$/, /^trax\.models$/, /^models$/, /^trax\.models\.[a-z_.]+$/];
const INIT_PREFIXES = [/^$/, /^tl\.initializers$/, /^trax\.layers\.initializers$/, /^initializers$/, /^init$/];
const DTYPE_PREFIXES = ['jnp', 'np', 'numpy', 'jax.numpy'];

function splitName(dotted: string): { prefix: string; name: string } {
  const i = dotted.lastIndexOf('.');
  return i < 0 ? { prefix: '', name: dotted } : { prefix: dotted.slice(0, i), name: dotted.slice(i + 1) };
}

/** The catalog kind a dotted name refers to, if it names one. */
export function kindOfName(dotted: string): LayerDef | undefined {
  const { prefix, name } = splitName(dotted);
  if (!LAYER_PREFIXES.some((re) => re.test(prefix))) return undefined;
  const def = lookupKind(name);
  return def;
}

/** The `# input: int32[B,L], …` line the printer writes, read back. */
const INPUT_COMMENT = /^\s*#\s*input:\s*(.*?)\s*$/m;

// a variable reference is turned into the node it names; later references share its weights
interface Shared { source: DocNode }
type Binding = { kind: 'layer'; node: DocNode; expr: PyNode; uses: number } | { kind: 'value'; value: PyValue };

class Converter {
  private readonly vars = new Map<string, Binding>();
  /** copies that share a source node's weights, resolved to ids after ids are assigned */
  readonly sharing = new Map<DocNode, Shared>();

  constructor(private readonly mod: PyModule) {}

  convertModule(): DocNode {
    let model: PyNode | undefined;
    let lastAssigned: DocNode | undefined;
    for (const st of this.mod.body) {
      if (st.type === 'Import') continue;
      if (st.type === 'Assign') {
        const layerish = this.isLayerExpr(st.value);
        if (layerish) {
          const node = this.layer(st.value);
          this.vars.set(st.target.id, { kind: 'layer', node, expr: st.value, uses: 0 });
          lastAssigned = node;
        } else {
          this.vars.set(st.target.id, { kind: 'value', value: this.literal(st.value, undefined, '') });
        }
        continue;
      }
      if (model) throw err('unsupported', 'a model file holds one Trax expression; found a second one', st.pos);
      model = st.value;
    }
    if (model) return this.layer(model);
    if (lastAssigned) {
      // `model = tl.Serial(...)` alone: the last assigned layer is the model
      const last = [...this.vars.values()].reverse().find((b) => b.kind === 'layer');
      if (last && last.kind === 'layer') return last.node;
    }
    throw new CodeError('syntax', 'no Trax expression found: write a layer such as tl.Serial(tl.Dense(128), tl.Relu())', 1, 1);
  }

  private isLayerExpr(e: PyNode): boolean {
    if (e.type === 'Call') {
      const n = dottedName(e.func);
      return !!n && !!kindOfName(n);
    }
    if (e.type === 'Name') {
      const b = this.vars.get(e.id);
      return !!b && b.kind === 'layer';
    }
    return false;
  }

  /** A layer expression: a call of a catalog kind, a list (a Serial), None (an empty Serial) or a layer variable. */
  layer(e: PyNode): DocNode {
    switch (e.type) {
      case 'Call': return this.call(e);
      case 'List':
      case 'Tuple': {
        const children = e.elts.flatMap((x) => this.layersFlat(x));
        return children.length ? { id: '', kind: 'Serial', children } : { id: '', kind: 'Serial' };
      }
      case 'Const':
        if (e.value === null) return { id: '', kind: 'Serial' };
        break;
      case 'Name': {
        const b = this.vars.get(e.id);
        if (b && b.kind === 'layer') return this.useVariable(b);
        if (b) throw err('unsupported', `${e.id} is a value, not a layer`, e.pos);
        const def = kindOfName(e.id);
        if (def) throw err('unsupported', `${e.id} is a layer class; call it to make a layer: ${e.id}(…)`, e.pos, def.kind);
        throw err('unsupported', `unknown name '${e.id}': expected a layer such as tl.Dense(128)`, e.pos);
      }
      case 'Attribute': {
        const n = dottedName(e);
        const def = n ? kindOfName(n) : undefined;
        if (def) throw err('unsupported', `${n} is a layer class; call it to make a layer: ${n}(…)`, e.pos, def.kind);
        break;
      }
      default:
        break;
    }
    throw err('unsupported', `expected a layer (such as tl.Dense(128)), found ${describe(e)}`, e.pos);
  }

  /** Layers inside Serial-like lists: nested lists flatten, None adds nothing. */
  private layersFlat(e: PyNode): DocNode[] {
    if (e.type === 'List' || e.type === 'Tuple') return e.elts.flatMap((x) => this.layersFlat(x));
    if (e.type === 'Const' && e.value === null) return [];
    return [this.layer(e)];
  }

  private useVariable(b: Extract<Binding, { kind: 'layer' }>): DocNode {
    b.uses++;
    if (b.uses === 1) return b.node;
    const copy = cloneWithoutIds(b.node);
    this.sharing.set(copy, { source: b.node });
    return copy;
  }

  private call(c: PyCall): DocNode {
    const name = dottedName(c.func);
    if (!name) throw err('unsupported', `expected a layer call such as tl.Dense(128), found a call of ${describe(c.func)}`, c.pos);
    const def = kindOfName(name);
    if (!def) {
      const { prefix, name: last } = splitName(name);
      if (LAYER_PREFIXES.some((re) => re.test(prefix)) && /^[A-Z]/.test(last)) {
        // an unknown layer kind: kept as a placeholder with its raw arguments (the trace reports it)
        const params: Record<string, PyValue> = {};
        if (c.args.length) params['*'] = c.args.map((a) => this.rawValue(a));
        for (const k of c.keywords) params[k.name] = this.rawValue(k.value);
        return { id: '', kind: last, ...(Object.keys(params).length ? { params } : {}) };
      }
      if (/^[a-z]/.test(last) && lookupKind(last) === undefined && LAYER_PREFIXES.some((re) => re.test(prefix))) {
        throw err('unsupported', `${name} is a function, not a layer; use it inside tl.Fn(…, lambda …)`, c.pos);
      }
      throw err('unsupported', `${name} is not a Trax layer`, c.pos);
    }
    const node: DocNode = { id: '', kind: def.kind };
    const params: Record<string, PyValue> = {};
    const slots: Record<string, DocNode | null> = {};
    const children: DocNode[] = [];
    const given = new Set<string>();
    const positional = def.args.filter((a) => !(a.arg !== 'layers' && 'kwOnly' in a && a.kwOnly));
    let pi = 0;
    let variadic: VariadicSpec | undefined;
    for (const a of c.args) {
      if (variadic) { children.push(...this.variadicItem(variadic, a)); continue; }
      const spec = positional[pi++];
      if (!spec) throw err('unsupported', `${def.kind} takes at most ${positional.length} positional arguments, got ${c.args.length}`, a.pos, def.kind);
      if (spec.arg === 'layers') { variadic = spec; children.push(...this.variadicItem(spec, a)); continue; }
      given.add(spec.name);
      this.arg(def, spec, a, params, slots);
    }
    for (const k of c.keywords) {
      const spec = def.args.find((a): a is ParamSpec | SlotSpec => a.name === k.name && a.arg !== 'layers');
      if (!spec) {
        // kept on the node, where the trace reports it (unknown_param) and nothing the user wrote is lost
        params[k.name] = this.rawValue(k.value, def.kind);
        continue;
      }
      if (given.has(spec.name)) throw err('syntax', `${def.kind} got multiple values for ${k.name}`, k.pos, def.kind);
      given.add(spec.name);
      this.arg(def, spec, k.value, params, slots);
    }
    const canon = canonicalParams(def, params);
    if (Object.keys(canon).length) node.params = canon;
    if (children.length) node.children = children;
    if (Object.keys(slots).length) node.slots = slots;
    return node;
  }

  private variadicItem(spec: VariadicSpec, a: PyNode): DocNode[] {
    if (spec.lists === 'serial') return [this.layer(a)];
    return this.layersFlat(a);
  }

  private arg(def: LayerDef, spec: ParamSpec | SlotSpec, v: PyNode, params: Record<string, PyValue>, slots: Record<string, DocNode | null>): void {
    if (spec.arg === 'slot') {
      if (v.type === 'Const' && v.value === null) {
        // None is the same as leaving an optional layer argument out
        if (!spec.optional && !spec.defaultKind) throw err('bad_param', `${def.kind}: ${spec.name} must be a layer, got None`, v.pos, def.kind);
        return;
      }
      slots[spec.name] = this.layer(v);
      return;
    }
    params[spec.name] = this.literal(v, spec, def.kind);
  }

  /** A parameter value, read according to its spec type. */
  literal(e: PyNode, spec: ParamSpec | undefined, kind: string): PyValue {
    const t = spec?.type;
    if (t === 'lambda' || (t === 'initializer' && e.type === 'Lambda')) {
      // a callable: a lambda, or a function named by its dotted path (jnp.max)
      if (e.type !== 'Lambda' && !(t === 'lambda' && dottedName(e))) throw err('bad_param', `${kind}: ${spec!.name} must be a lambda or a function such as jnp.mean`, e.pos, kind);
      return { $lambda: formatNode(e) };
    }
    if (t === 'initializer') return this.initializer(e, kind, spec!.name);
    if (t === 'dtype') {
      const n = e.type === 'Str' ? e.value : dottedName(e);
      if (n) {
        const { prefix, name } = splitName(n);
        if ((prefix === '' || DTYPE_PREFIXES.includes(prefix)) && isDType(name)) return name;
      }
      throw err('bad_param', `${kind}: ${spec!.name} must be a dtype such as jnp.float32, found ${describe(e)}`, e.pos, kind);
    }
    if (t === 'layer_class' || t === 'layer_classes') {
      if (t === 'layer_classes' && (e.type === 'List' || e.type === 'Tuple')) return e.elts.map((x) => this.layerClass(x, kind, spec!.name));
      if (e.type === 'Const' && e.value === null) return null;
      return this.layerClass(e, kind, spec!.name);
    }
    if (t === 'float' && e.type === 'Num') return e.value;
    return this.rawValue(e, kind);
  }

  private layerClass(e: PyNode, kind: string, param: string): string {
    const n = dottedName(e);
    const def = n ? kindOfName(n) : undefined;
    if (!def && n) {
      // an unknown class name is kept (the trace reports it on the node), like an unknown layer kind
      const { prefix, name } = splitName(n);
      if (LAYER_PREFIXES.some((re) => re.test(prefix)) && /^[A-Z]/.test(name)) return name;
    }
    if (!def) throw err('bad_param', `${kind}: ${param} must be a layer class such as tl.Relu, found ${describe(e)}`, e.pos, kind);
    return def.kind;
  }

  private initializer(e: PyNode, kind: string, param: string): PyValue {
    if (e.type === 'Const' && e.value === null) return null;
    if (e.type !== 'Call') throw err('bad_param', `${kind}: ${param} must be an initializer such as tl.initializers.GlorotUniformInitializer(), found ${describe(e)}`, e.pos, kind);
    const n = dottedName(e.func) ?? '';
    const { prefix, name } = splitName(n);
    const specs = INIT_PREFIXES.some((re) => re.test(prefix)) ? initializerArgs(name) : undefined;
    if (!specs) throw err('bad_param', `${kind}: ${param}: ${n || describe(e.func)} is not a Trax initializer`, e.pos, kind);
    const args: Record<string, PyValue> = {};
    e.args.forEach((a, i) => {
      const s = specs[i];
      if (!s) throw err('bad_param', `${name} takes at most ${specs.length} positional arguments`, a.pos, kind);
      args[s.name] = this.literal(a, s, name);
    });
    for (const k of e.keywords) {
      const s = specs.find((x) => x.name === k.name);
      if (!s) throw err('bad_param', `${name} has no argument ${k.name}; it takes ${specs.map((x) => x.name).join(', ') || 'none'}`, k.pos, kind);
      args[s.name] = this.literal(k.value, s, name);
    }
    return Object.keys(args).length ? { $init: name, args } : { $init: name };
  }

  /** A plain Python literal: numbers, strings, None/True/False, lists/tuples of them, value variables. */
  rawValue(e: PyNode, kind = ''): PyValue {
    switch (e.type) {
      case 'Num': return e.value;
      case 'Str': return e.value;
      case 'Const': return e.value;
      case 'List':
      case 'Tuple': return e.elts.map((x) => this.rawValue(x, kind));
      case 'UnaryOp':
        if ((e.op === '-' || e.op === '+') && e.operand.type === 'Num') return e.op === '-' ? -e.operand.value : e.operand.value;
        break;
      case 'Lambda': return { $lambda: formatNode(e) };
      case 'Name': {
        const b = this.vars.get(e.id);
        if (b && b.kind === 'value') return b.value;
        break;
      }
      case 'Attribute': {
        const n = dottedName(e);
        if (n) {
          const { prefix, name } = splitName(n);
          if (DTYPE_PREFIXES.includes(prefix) && isDType(name)) return name;
          const def = kindOfName(n);
          if (def) return def.kind;
        }
        break;
      }
      default: break;
    }
    throw err('unsupported', `${kind ? `${kind}: ` : ''}unsupported value ${describe(e)}: parameters are numbers, strings, None/True/False, tuples and lists of them, dtypes, initializers, layer classes and lambdas`, e.pos, kind || undefined);
  }
}

function describe(e: PyNode): string {
  const src = formatNode(e);
  return `'${src.length > 40 ? `${src.slice(0, 37)}…` : src}'`;
}

function cloneWithoutIds(n: DocNode): DocNode {
  const c: DocNode = { id: '', kind: n.kind };
  if (n.params) c.params = n.params;
  if (n.children) c.children = n.children.map(cloneWithoutIds);
  if (n.slots) {
    c.slots = {};
    for (const [k, v] of Object.entries(n.slots)) c.slots[k] = v ? cloneWithoutIds(v) : null;
  }
  return c;
}

/** Parses Trax code into a model tree with ids n1, n2, … in pre-order. Throws CodeError. */
export function codeToTree(src: string): DocNode {
  let mod: PyModule;
  try {
    mod = parseModule(src);
  } catch (e) {
    if (e instanceof PySyntaxError) throw new CodeError(e.code, e.reason, e.line, e.col);
    throw e;
  }
  const conv = new Converter(mod);
  const root = conv.convertModule();
  assignIds(root);
  for (const [copy, { source }] of conv.sharing) copy.shareWeightsOf = source.id;
  return root;
}

/** Reads the `# input: …` comment the printer writes, if present. */
export function inputFromCode(src: string): ShapeDtype[] | undefined {
  const m = INPUT_COMMENT.exec(src);
  if (!m || m[1] === '') return undefined;
  const lineNo = src.slice(0, m.index).split('\n').length;
  try {
    return splitSignatures(m[1]).map(parseShapeDtype);
  } catch (e) {
    if (e instanceof SignatureSyntaxError) throw new CodeError('bad_signature', e.message, lineNo, 1);
    throw e;
  }
}

function splitSignatures(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']') depth--;
    else if (s[i] === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

export function codeToDocument(src: string): StrataDocument {
  const root = codeToTree(src);
  return { format: FORMAT, version: FORMAT_VERSION, input: inputFromCode(src) ?? [], root };
}
