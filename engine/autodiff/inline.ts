/**
 * Inlines calls of Strata's model-local functions (domain ai.strata) into
 * the main graph — the algorithm of onnx.inliner.inline_local_functions:
 * each call is replaced by a copy of the body whose inner values get fresh
 * names derived from the call (`<call>/<inner>`), formals bound to the
 * call's arguments and the body's outputs to the call's outputs.
 *
 * Unlike lowering with `inlineFunctions: true`, this keeps every constant
 * the lowering computed for the function version (random streams keyed by
 * node names, LSH rotations), so the inlined model computes exactly what
 * the function model computes.
 */
import type { Attr, FunctionDef, Graph, Model, OnnxNode } from '../core/onnx';
import { STRATA_DOMAIN } from '../core/onnx';
import { Names } from './builder';
import { AutodiffError } from './shapes';

/** Every value name a graph (and its subgraphs) mentions. */
export function graphNames(g: Graph): Set<string> {
  const out = new Set<string>();
  const walk = (h: Graph): void => {
    for (const v of [...h.inputs, ...h.outputs]) out.add(v.name);
    for (const i of h.initializers) out.add(i.name);
    for (const n of h.nodes) {
      for (const v of [...n.inputs, ...n.outputs]) if (v) out.add(v);
      if (n.name) out.add(n.name);
      for (const a of Object.values(n.attrs ?? {})) if ('graph' in a) walk(a.graph);
    }
  };
  walk(g);
  return out;
}

/** Names a subgraph reads from the enclosing scope (not defined inside it). */
function outerRefs(g: Graph, out: Set<string>): void {
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.map((i) => i.name)]);
  for (const n of g.nodes) {
    for (const v of n.inputs) if (v && !defined.has(v)) out.add(v);
    for (const a of Object.values(n.attrs ?? {})) {
      if (!('graph' in a)) continue;
      const inner = new Set<string>();
      outerRefs(a.graph, inner);
      for (const v of inner) if (!defined.has(v)) out.add(v);
    }
    for (const o of n.outputs) if (o) defined.add(o);
  }
}

/** A node's inputs, including the values its subgraphs (If branches, Scan bodies) capture from outside. */
export function nodeInputs(n: OnnxNode): string[] {
  const graphs = Object.values(n.attrs ?? {}).filter((a): a is { graph: Graph } => 'graph' in a);
  if (!graphs.length) return n.inputs;
  const refs = new Set<string>();
  for (const a of graphs) outerRefs(a.graph, refs);
  return [...n.inputs, ...[...refs].filter((v) => !n.inputs.includes(v))];
}

/** A subgraph with every name passed through `rename` (a function body sees only its own names). */
function renameGraph(g: Graph, rename: (v: string) => string): Graph {
  return {
    name: g.name,
    inputs: g.inputs.map((v) => ({ ...v, name: rename(v.name) })),
    outputs: g.outputs.map((v) => ({ ...v, name: rename(v.name) })),
    initializers: g.initializers.map((i) => ({ ...i, name: rename(i.name) })),
    nodes: g.nodes.map((n) => renameNode(n, rename)),
  };
}

function renameNode(n: OnnxNode, rename: (v: string) => string): OnnxNode {
  const out: OnnxNode = { ...n, inputs: n.inputs.map((v) => (v ? rename(v) : v)), outputs: n.outputs.map((v) => (v ? rename(v) : v)) };
  if (n.name) out.name = rename(n.name);
  if (n.attrs) {
    out.attrs = Object.fromEntries(Object.entries(n.attrs).map(([k, a]): [string, Attr] => [k, 'graph' in a ? { graph: renameGraph(a.graph, rename) } : a]));
  }
  return out;
}

/**
 * The model with calls of its model-local functions replaced by their
 * bodies (nested calls too). `inline(call)` picks the calls to inline
 * (default: all); functions no longer called are dropped.
 */
export function inlineFunctions(model: Model, inline: (call: OnnxNode, fn: FunctionDef) => boolean = () => true): Model {
  const fns = new Map(model.functions.map((f) => [f.name, f]));
  const names = new Names(graphNames(model.graph));

  const expand = (nodes: readonly OnnxNode[]): OnnxNode[] => {
    const out: OnnxNode[] = [];
    for (const n of nodes) {
      const fn = n.domain === STRATA_DOMAIN ? fns.get(n.op) : undefined;
      if (n.domain === STRATA_DOMAIN && !fn) throw new AutodiffError(`call of unknown function ${n.domain}.${n.op}`);
      if (!fn || !inline(n, fn)) { out.push(withSubgraphs(n)); continue; }
      const site = n.name ?? n.outputs[0];
      const bound = new Map<string, string>();
      fn.inputs.forEach((f, i) => bound.set(f, n.inputs[i] ?? ''));
      fn.outputs.forEach((f, i) => { if (!bound.has(f)) bound.set(f, n.outputs[i]); });
      const rename = (v: string): string => {
        let r = bound.get(v);
        if (r === undefined) { r = names.fresh(`${site}/${v}`); bound.set(v, r); }
        return r;
      };
      const body = fn.nodes.map((b) => renameNode(b, rename));
      out.push(...expand(body));
      // an output that is one of the formals (not produced in the body) is copied
      fn.outputs.forEach((f, i) => {
        if (fn.inputs.includes(f) && n.outputs[i]) out.push({ op: 'Identity', inputs: [bound.get(f)!], outputs: [n.outputs[i]], name: n.outputs[i] });
      });
    }
    return out;
  };
  // calls inside Scan/If bodies are inlined there
  const withSubgraphs = (n: OnnxNode): OnnxNode => {
    if (!n.attrs || !Object.values(n.attrs).some((a) => 'graph' in a)) return n;
    return { ...n, attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, a]): [string, Attr] => [k, 'graph' in a ? { graph: { ...a.graph, nodes: expand(a.graph.nodes) } } : a])) };
  };

  const nodes = expand(model.graph.nodes);
  // keep the functions still called (from the graph or from kept bodies)
  const called = new Set<string>();
  const visit = (ns: readonly OnnxNode[]): void => {
    for (const n of ns) {
      if (n.domain === STRATA_DOMAIN && !called.has(n.op)) { called.add(n.op); const f = fns.get(n.op); if (f) visit(f.nodes); }
      for (const a of Object.values(n.attrs ?? {})) if ('graph' in a) visit(a.graph.nodes);
    }
  };
  visit(nodes);
  return { ...model, graph: { ...model.graph, nodes }, functions: model.functions.filter((f) => called.has(f.name)) };
}
