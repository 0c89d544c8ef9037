/**
 * The stack trace: walks the tree with Trax's stack discipline and gives, for
 * every node, its inputs and outputs and, for every edge between siblings of
 * a series combinator, the whole local stack at that point.
 *
 * Runs on every keystroke, so it is memoised by node identity: a document
 * edited immutably re-analyses only the nodes on the path to the change, and
 * a node whose inputs did not change reuses its previous trace.
 */
import { type Dim, dimAdd, dimProd } from '../core/dim';
import { BugError, type ErrorCode, LayerError, type ModelError, displayPath } from '../core/errors';
import { type ShapeDtype, formatStack, sameShapeDtype, signatureKey } from '../core/shape';
import { type Arity, type ChildArities, type ExpandNode, type InferCtx, type LayerDef, type Params, REQUIRED, type WeightDecl } from '../layers/def';
import { lookupKind } from '../layers/registry';
import { type DocNode, type StrataDocument, walkNodes } from './schema';
import { resolveParams } from './params';

// ---------------------------------------------------------------- analysis (no shapes)

/** What a node is, independent of its inputs. */
export interface NodeAnalysis {
  def: LayerDef | undefined;
  params: Params;
  /** parameter and construction errors; any of them stops shape inference at this node */
  errors: LayerError[];
  /** null when it cannot be known (unknown kind, or a child's arity is unknown) */
  arity: Arity | null;
  /** macros (layer functions, models): the subtree Trax builds */
  expansion?: DocNode;
}

/** One memo entry per node object: its analysis and its last trace (keyed by its inputs' signature; `inputs` the last ones seen). */
interface Memo { analysis: NodeAnalysis; key?: string; trace?: NodeTrace; inputs?: ShapeDtype[] | null }
const memo = new WeakMap<DocNode, Memo>();

export function analyze(node: DocNode): NodeAnalysis {
  const hit = memo.get(node);
  if (hit) return hit.analysis;
  const a = analyzeUncached(node);
  memo.set(node, { analysis: a });
  return a;
}

function analyzeUncached(node: DocNode): NodeAnalysis {
  const def = lookupKind(node.kind);
  if (!def) {
    return {
      def: undefined,
      params: node.params ?? {},
      errors: [new LayerError('unknown_kind', `unknown layer kind '${node.kind}'; it is kept as a placeholder with its parameters`, {
        fix: 'pick a layer from the palette, or check the spelling',
      })],
      arity: null,
    };
  }
  const { values, errors } = resolveParams(def, node.params);
  const children = node.children ?? [];
  const slots = node.slots ?? {};
  const slotSpecs = def.args.filter((x) => x.arg === 'slot');
  const takesLayers = def.args.some((x) => x.arg === 'layers');
  if (!takesLayers && children.length > 0) {
    errors.push(new LayerError('construct', `${def.kind} takes no sublayers, but has ${children.length}`));
  }
  for (const name of Object.keys(slots)) {
    if (!slotSpecs.some((s) => s.name === name)) {
      errors.push(new LayerError('construct', `${def.kind} has no layer argument '${name}'`));
    }
  }
  for (const s of slotSpecs) {
    if (!s.optional && !s.defaultKind && !slots[s.name]) {
      errors.push(new LayerError('missing_param', `${def.kind}: layer argument ${s.name} is missing`, { param: s.name }));
    }
  }
  // children arities (analysed first, bottom-up)
  let known = true;
  const childArities: Arity[] = children.map((c) => {
    const ca = analyze(c).arity;
    if (!ca) known = false;
    return ca ?? { nIn: 0, nOut: 0 };
  });
  const slotArities: Record<string, Arity | null> = {};
  for (const s of slotSpecs) {
    const c = slots[s.name] ?? (s.defaultKind ? defaultSlotNode(node, s.name, s.defaultKind) : null);
    if (c) {
      const ca = analyze(c).arity;
      if (!ca) known = false;
      slotArities[s.name] = ca;
    } else {
      slotArities[s.name] = null;
    }
  }
  const kids: ChildArities = { children: childArities, slots: slotArities };
  // a required parameter without a valid value (missing, or rejected above) leaves nothing to build from
  const blocking = errors.some((e) => e.code === 'missing_param')
    || def.args.some((x) => x.arg === 'param' && x.default === REQUIRED && values[x.name] === undefined);

  if (def.expand) {
    if (blocking) return { def, params: values, errors, arity: null };
    try {
      def.check?.(values, kids);
      const slotNodes: Record<string, ExpandNode | null> = {};
      for (const [k, v] of Object.entries(slots)) slotNodes[k] = v;
      const expansion = materialize(def.expand(values, slotNodes, children, kids), node.id);
      const ea = analyze(expansion);
      return { def, params: values, errors, arity: ea.arity, expansion };
    } catch (e) {
      return { def, params: values, errors: [...errors, asLayerError(e)], arity: null };
    }
  }

  let arity: Arity | null = null;
  if (known && !blocking) {
    try {
      def.check?.(values, kids);
      arity = def.arity ? def.arity(values, kids) : { nIn: 1, nOut: 1 };
    } catch (e) {
      errors.push(asLayerError(e));
      // arity may still be computable although a check failed (e.g. Parallel with one child)
      try { arity = def.arity ? def.arity(values, kids) : { nIn: 1, nOut: 1 }; } catch { arity = null; }
    }
  } else if (known) {
    // a bad required parameter: the arity usually does not depend on it (Dense is 1 -> 1 whatever n_units is),
    // and knowing it keeps the stacks before this node known
    try {
      const a = def.arity ? def.arity(values, kids) : { nIn: 1, nOut: 1 };
      arity = Number.isInteger(a.nIn) && Number.isInteger(a.nOut) && a.nIn >= 0 && a.nOut >= 0 ? a : null;
    } catch {
      arity = null;
    }
  }
  return { def, params: values, errors, arity };
}

const defaultSlotMemo = new WeakMap<DocNode, Map<string, DocNode>>();

/** The node that stands for an absent slot with a default layer (Bidirectional's merge_layer). */
export function defaultSlotNode(owner: DocNode, slot: string, kind: string): DocNode {
  let m = defaultSlotMemo.get(owner);
  if (!m) { m = new Map(); defaultSlotMemo.set(owner, m); }
  let n = m.get(slot);
  if (!n) { n = { id: `${owner.id}/${slot}`, kind }; m.set(slot, n); }
  return n;
}

/**
 * The nodes of the last expansion materialized for each macro node id, by
 * their derived id. A macro whose parameters change expands again into new
 * objects; a generated node equal to the one made last time under the same id
 * (same kind, parameters and sharing, and the very same children and slots)
 * is that one, so unchanged subtrees keep their identity, and the analysis,
 * the trace and the canvas's projection memoised on it are reused.
 */
const lastExpansion = new Map<string, Map<string, DocNode>>();

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Equal as generated nodes: kind, parameters, sharing, and the same child and slot objects. */
function sameGenerated(a: DocNode, b: DocNode): boolean {
  if (a.kind !== b.kind || a.shareWeightsOf !== b.shareWeightsOf || a.collapsed !== b.collapsed || !sameValue(a.params, b.params)) return false;
  const ca = a.children, cb = b.children;
  if (ca?.length !== cb?.length || (ca && !ca.every((c, i) => c === cb![i]))) return false;
  const sa = a.slots, sb = b.slots;
  if (!sa || !sb) return sa === sb;
  const ka = Object.keys(sa);
  return ka.length === Object.keys(sb).length && ka.every((k) => Object.hasOwn(sb, k) && sa[k] === sb[k]);
}

/**
 * Turns an expansion into document nodes. Generated nodes get derived ids; a
 * user's node passed through (a combinator's child or slot) keeps its identity
 * the first time it appears, so its trace and id stay those of the document,
 * and is deep-copied with fresh ids (and its own weights) after that, as
 * Trax's deepcopy does. shareKey becomes shareWeightsOf. A generated node
 * equal to the last one made under its id is that object (see lastExpansion).
 */
function materialize(root: ExpandNode, baseId: string): DocNode {
  const firstByKey = new Map<string, string>();
  const seen = new Set<DocNode>();
  const before = lastExpansion.get(baseId);
  const made = new Map<string, DocNode>();
  let i = 0;
  const go = (e: ExpandNode | DocNode, copying: boolean): DocNode => {
    if (!copying && isDocNode(e) && !seen.has(e)) {
      seen.add(e);
      return e;
    }
    const copy = copying || isDocNode(e);
    const id = `${baseId}~${++i}`;
    const n: DocNode = { id, kind: e.kind };
    if (e.params && Object.keys(e.params).length) n.params = e.params;
    if (e.children) n.children = e.children.map((c) => go(c, copy));
    if (e.slots) {
      n.slots = {};
      for (const [k, v] of Object.entries(e.slots)) n.slots[k] = v ? go(v, copy) : null;
    }
    const key = (e as ExpandNode).shareKey;
    if (key !== undefined) {
      const first = firstByKey.get(key);
      if (first) n.shareWeightsOf = first; else firstByKey.set(key, id);
    }
    const prev = before?.get(id);
    const out = prev && sameGenerated(prev, n) ? prev : n;
    made.set(id, out);
    return out;
  };
  const out = go(root, false);
  if (lastExpansion.size > 20_000) lastExpansion.clear();
  lastExpansion.set(baseId, made);
  return out;
}

function isDocNode(e: ExpandNode | DocNode): e is DocNode {
  return typeof (e as DocNode).id === 'string';
}

function asLayerError(e: unknown): LayerError {
  if (e instanceof LayerError) return e;
  if (e instanceof BugError) return new LayerError('construct', e.message);
  const msg = e instanceof Error ? e.message : String(e);
  return new LayerError('construct', `internal error while checking this layer (a bug in Strata): ${msg}`);
}

// ---------------------------------------------------------------- trace

export interface NodeTrace {
  readonly node: DocNode;
  readonly analysis: NodeAnalysis;
  /** exactly n_in items; null when unknown (an error upstream) */
  readonly inputs: ShapeDtype[] | null;
  readonly outputs: ShapeDtype[] | null;
  /** for series combinators: the local stack before child i (i = 0..n), stacks[n] after the last */
  readonly stacks?: (ShapeDtype[] | null)[];
  readonly children: NodeTrace[];
  readonly slots: Record<string, NodeTrace | null>;
  readonly expansion?: NodeTrace;
  /** this node's own weights and state (leaves) */
  readonly weights: WeightDecl[];
  readonly state: WeightDecl[];
  /** trainable parameters in this subtree (a node sharing another's weights adds none) */
  readonly params: Dim;
  /** errors on this node itself (not its children) */
  readonly errors: NodeErrorData[];
  /** this subtree holds an error or a weight-sharing reference (the document trace visits only those) */
  readonly flagged: boolean;
}

export interface NodeErrorData {
  code: ErrorCode;
  message: string;
  expected?: string;
  param?: string;
  fix?: string;
  stack: ShapeDtype[] | null;
}

/** Thrown inside a combinator's inference when a child's outputs are unknown. */
class UnknownStack extends Error {}

export function traceNode(node: DocNode, inputs: ShapeDtype[] | null): NodeTrace {
  analyze(node);
  const m = memo.get(node)!;
  // the very same input items as last time (a series re-traced after an edit passes unchanged children the
  // outputs of their unchanged predecessors): no signature to build
  if (m.trace && m.inputs !== undefined && sameInputs(m.inputs, inputs)) return m.trace;
  const key = inputs ? signatureKey(inputs) : '?';
  m.inputs = inputs;
  if (m.trace && m.key === key) return m.trace;
  const t = traceUncached(node, inputs);
  m.key = key;
  m.trace = t;
  return t;
}

function sameInputs(a: readonly ShapeDtype[] | null, b: readonly ShapeDtype[] | null): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function errorData(e: LayerError, stack: ShapeDtype[] | null): NodeErrorData {
  const d: NodeErrorData = { code: e.code, message: e.message, stack };
  if (e.detail.expected) d.expected = e.detail.expected;
  if (e.detail.param) d.param = e.detail.param;
  if (e.detail.fix) d.fix = e.detail.fix;
  return d;
}

function traceUncached(node: DocNode, inputs: ShapeDtype[] | null): NodeTrace {
  const a = analyze(node);
  const errors: NodeErrorData[] = a.errors.map((e) => errorData(e, inputs));
  const children: (NodeTrace | undefined)[] = new Array((node.children ?? []).length);
  const slots: Record<string, NodeTrace | null> = {};
  let outputs: ShapeDtype[] | null = null;
  let weights: WeightDecl[] = [];
  let state: WeightDecl[] = [];
  let stacks: (ShapeDtype[] | null)[] | undefined;
  let expansion: NodeTrace | undefined;

  if (a.expansion) {
    expansion = traceNode(a.expansion, inputs);
    outputs = expansion.outputs;
  } else if (a.def && a.def.infer) {
    const def = a.def;
    const infer = a.def.infer;
    const kids = node.children ?? [];
    const slotNodes = node.slots ?? {};
    const slotNode = (name: string): DocNode | null => {
      const given = slotNodes[name];
      if (given) return given;
      const spec = def.args.find((x) => x.arg === 'slot' && x.name === name);
      return spec && spec.arg === 'slot' && spec.defaultKind ? defaultSlotNode(node, name, spec.defaultKind) : null;
    };
    const runChild = (c: DocNode, ins: readonly ShapeDtype[]): NodeTrace => {
      const ca = analyze(c).arity;
      if (!ca || ins.length !== ca.nIn) throw new BugError(`${def.kind} passed ${ins.length} inputs to ${c.kind}, which takes ${ca?.nIn}`);
      return traceNode(c, [...ins]);
    };
    const ctx: InferCtx = {
      nChildren: kids.length,
      childArity: (i) => analyze(kids[i]).arity!,
      slotArity: (name) => {
        const n = slotNode(name);
        return n ? analyze(n).arity : null;
      },
      child: (i, ins) => {
        const t = runChild(kids[i], ins);
        children[i] = t;
        if (!t.outputs) throw new UnknownStack();
        return t.outputs;
      },
      slot: (name, ins) => {
        const n = slotNode(name);
        if (!n) throw new BugError(`${def.kind} ran its absent layer argument ${name}`);
        const t = runChild(n, ins);
        slots[name] = t;
        if (!t.outputs) throw new UnknownStack();
        return t.outputs;
      },
      series: (stack, from = 0, to = kids.length) => {
        stacks ??= new Array(kids.length + 1).fill(null);
        let cur = [...stack];
        for (let i = from; i < to; i++) {
          stacks[i] = cur;
          const ca = analyze(kids[i]).arity!;
          if (cur.length < ca.nIn) {
            const t = traceNode(kids[i], null);
            children[i] = withError(t, new LayerError('stack_underflow',
              `${kids[i].kind} takes ${ca.nIn} stack items, but the stack holds ${cur.length}: ${formatStack(cur)}`,
              { expected: `${ca.nIn} items on the stack` }), cur);
            throw new UnknownStack();
          }
          const t = traceNode(kids[i], cur.slice(0, ca.nIn));
          children[i] = t;
          if (!t.outputs) throw new UnknownStack();
          cur = [...t.outputs, ...cur.slice(ca.nIn)];
        }
        stacks[to] = cur;
        return cur;
      },
    };
    if (inputs && a.arity && a.errors.length === 0) {
      try {
        const out = infer(inputs, a.params, ctx);
        if (out.length !== a.arity.nOut) throw new BugError(`${def.kind} inferred ${out.length} outputs but declares n_out = ${a.arity.nOut}`);
        weights = def.weights?.(inputs, a.params) ?? [];
        state = def.state?.(inputs, a.params, out) ?? [];
        outputs = out;
      } catch (e) {
        if (!(e instanceof UnknownStack)) errors.push(errorData(asLayerError(e), inputs));
      }
    }
    // children the inference did not reach are still traced (with unknown inputs), so every node is shown
    for (let i = 0; i < kids.length; i++) if (!children[i]) children[i] = traceNode(kids[i], null);
    for (const s of def.args) {
      if (s.arg !== 'slot' || s.name in slots) continue;
      const n = slotNode(s.name);
      slots[s.name] = n ? traceNode(n, null) : null;
    }
  } else if (!a.def) {
    // unknown kind: show its children (if any) with unknown inputs
    (node.children ?? []).forEach((c, i) => { children[i] = traceNode(c, null); });
    for (const [k, c] of Object.entries(node.slots ?? {})) slots[k] = c ? traceNode(c, null) : null;
  }

  let params: Dim = 0;
  if (!node.shareWeightsOf) for (const w of weights) params = dimAdd(params, dimProd(w.shape));
  for (const c of children) if (c) params = dimAdd(params, c.params);
  for (const c of Object.values(slots)) if (c) params = dimAdd(params, c.params);
  if (expansion) params = dimAdd(params, expansion.params);

  let flagged = errors.length > 0 || !!node.shareWeightsOf || !!expansion?.flagged;
  for (const c of children) if (c?.flagged) flagged = true;
  for (const c of Object.values(slots)) if (c?.flagged) flagged = true;
  const t: NodeTrace = {
    node, analysis: a, inputs, outputs, children: children as NodeTrace[], slots, weights, state, params, errors, flagged,
  };
  if (stacks) (t as { stacks?: (ShapeDtype[] | null)[] }).stacks = stacks;
  if (expansion) (t as { expansion?: NodeTrace }).expansion = expansion;
  return t;
}

/** A copy of a trace with one more error (the trace objects themselves are shared by the memo). */
function withError(t: NodeTrace, e: LayerError, stack: ShapeDtype[] | null): NodeTrace {
  return { ...t, errors: [...t.errors, errorData(e, stack)], flagged: true };
}

// ---------------------------------------------------------------- document trace

export interface DocumentTrace {
  root: NodeTrace;
  /** the whole stack the document starts from (its input signature) */
  input: ShapeDtype[];
  /** the model's outputs followed by inputs the root did not consume; null if unknown */
  output: ShapeDtype[] | null;
  /** errors on the root not attributable to a child, plus every node's errors, in tree order */
  errors: ModelError[];
  /** trainable parameters, shared weights counted once */
  params: Dim;
}

export function traceDocument(doc: Pick<StrataDocument, 'root' | 'input'>): DocumentTrace {
  const a = analyze(doc.root);
  let root: NodeTrace;
  let output: ShapeDtype[] | null = null;
  if (a.arity && doc.input.length < a.arity.nIn) {
    root = withError(traceNode(doc.root, null), new LayerError('stack_underflow',
      `the model takes ${a.arity.nIn} inputs, but the input signature has ${doc.input.length}: ${formatStack(doc.input)}`,
      { expected: `${a.arity.nIn} inputs`, fix: 'add inputs to the model\'s input signature (strata: --input SIG)' }), doc.input);
  } else if (a.arity) {
    root = traceNode(doc.root, doc.input.slice(0, a.arity.nIn));
    if (root.outputs) output = [...root.outputs, ...doc.input.slice(a.arity.nIn)];
  } else {
    root = traceNode(doc.root, null);
  }
  const errors: ModelError[] = [];
  const sharingErrors = root.flagged ? checkSharing(root) : new Map<string, LayerError>();
  forEachNode(root, (t, path) => {
    for (const e of t.errors) errors.push(toModelError(e, t, path));
    const se = sharingErrors.get(t.node.id);
    if (se) errors.push(toModelError(errorData(se, t.inputs), t, path));
  }, '', 0, (t) => t.flagged);
  return { root, input: doc.input, output, errors, params: root.params };
}

function toModelError(e: NodeErrorData, t: NodeTrace, path: string): ModelError {
  const m: ModelError = {
    code: e.code, path, kind: t.node.kind, nodeId: t.node.id,
    message: `${displayPath(path, t.node.kind)}: ${e.message}`,
    stack: e.stack,
  };
  if (e.expected) m.expected = e.expected;
  if (e.param) m.param = e.param;
  if (e.fix) m.fix = e.fix;
  return m;
}

/** Checks weight-sharing references: the target exists, is the same kind and has weights of the same shapes. */
function checkSharing(root: NodeTrace): Map<string, LayerError> {
  const out = new Map<string, LayerError>();
  let any = false;
  forEachNode(root, (t) => { if (t.node.shareWeightsOf) any = true; }, '', 0, (t) => t.flagged);
  if (!any) return out;
  const byId = new Map<string, NodeTrace>();
  forEachNode(root, (t) => { byId.set(t.node.id, t); });
  for (const t of byId.values()) {
    const ref = t.node.shareWeightsOf;
    if (!ref) continue;
    const src = byId.get(ref);
    if (!src) { out.set(t.node.id, new LayerError('bad_reference', `shares the weights of node '${ref}', which is not in the model`)); continue; }
    if (src.node.kind !== t.node.kind) { out.set(t.node.id, new LayerError('bad_reference', `shares the weights of a ${src.node.kind}, but is a ${t.node.kind}`)); continue; }
    if (!t.outputs || !src.outputs) continue;
    const wa = collectWeights(t), wb = collectWeights(src);
    const same = wa.length === wb.length && wa.every((w, i) => w.dtype === wb[i].dtype && sameShapeDtype(w, wb[i]));
    if (!same) {
      out.set(t.node.id, new LayerError('bad_reference', `shares the weights of '${ref}', but its weights would be ${wa.map(fmtW).join(', ') || 'none'} and those are ${wb.map(fmtW).join(', ') || 'none'}`, {
        expected: 'the same input depth as the layer whose weights it shares',
      }));
    }
  }
  return out;
}

function fmtW(w: WeightDecl): string {
  return `${w.dtype}[${w.shape.join(',')}]`;
}

/** All leaf weights of a subtree, in tree order. */
export function collectWeights(t: NodeTrace): WeightDecl[] {
  const out: WeightDecl[] = [];
  forEachNode(t, (n) => { out.push(...n.weights); });
  return out;
}

/** Child location segment: `Serial[2]`, `Cond[true]`. */
export function childPath(parentPath: string, parentKind: string, index: number | string): string {
  const seg = `${parentKind}[${index}]`;
  return parentPath ? `${parentPath} > ${seg}` : seg;
}

/** The children of a trace as drawn: a macro shows its expansion's children. */
export function visibleChildren(t: NodeTrace): { key: number | string; trace: NodeTrace; owner: NodeTrace }[] {
  const owner = t.expansion ?? t;
  const out: { key: number | string; trace: NodeTrace; owner: NodeTrace }[] = [];
  if (t.expansion && owner.children.length === 0 && Object.keys(owner.slots).length === 0) {
    return [];
  }
  owner.children.forEach((c, i) => out.push({ key: i, trace: c, owner }));
  for (const [k, c] of Object.entries(owner.slots)) if (c) out.push({ key: k, trace: c, owner });
  return out;
}

/** Pre-order walk with location paths (macros walk their expansion under their own kind). */
export function forEachNode(
  root: NodeTrace, f: (t: NodeTrace, path: string, depth: number) => void, path = '', depth = 0,
  enter: (t: NodeTrace) => boolean = () => true,
): void {
  if (!enter(root)) return;
  f(root, path, depth);
  for (const { key, trace } of visibleChildren(root)) forEachNode(trace, f, childPath(path, root.node.kind, key), depth + 1, enter);
}

/** The stack before and after a child, as drawn on the edges around it. */
export function edgeStacks(owner: NodeTrace, key: number | string, child: NodeTrace): { before: ShapeDtype[] | null; after: ShapeDtype[] | null } {
  if (typeof key === 'number' && owner.stacks) {
    return { before: owner.stacks[key] ?? null, after: owner.stacks[key + 1] ?? null };
  }
  return { before: child.inputs, after: child.outputs };
}

/** Every document node by id (for sharing and the UI). */
export function nodesById(root: DocNode): Map<string, DocNode> {
  const m = new Map<string, DocNode>();
  walkNodes(root, (n) => { m.set(n.id, n); });
  return m;
}
