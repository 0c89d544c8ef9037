/**
 * Lookups over a document trace that the panels need: a node's trace, its
 * location path and the stacks on its edges, by id; a node id by path.
 * Computed once per trace object (the store derives a new trace per edit).
 */
import type { ShapeDtype } from '../../../engine/core/shape';
import { type DocumentTrace, type NodeTrace, childPath, edgeStacks, visibleChildren } from '../../../engine/document/trace';

export interface NodeInfo {
  trace: NodeTrace;
  /** location: `Serial[2] > Residual[0]` ('' for the root) */
  path: string;
  /** index path as the canvas's data-path: child indices from the root, slots by name ('' for the root) */
  indexPath: string;
  parentId: string | null;
  /** the trace that holds this node as a child (a macro's expansion for its layers), and the child's key there */
  owner: NodeTrace | null;
  key: number | string | null;
  /** the location of the parent ('' for the root's children; null for the root) */
  parentPath: string | null;
  before: ShapeDtype[] | null;
  after: ShapeDtype[] | null;
  depth: number;
}

export interface TraceIndex {
  byId: Map<string, NodeInfo>;
  byPath: Map<string, NodeInfo>;
  /** pre-order */
  order: NodeInfo[];
}

const cache = new WeakMap<DocumentTrace, TraceIndex>();

export function traceIndex(t: DocumentTrace): TraceIndex {
  const hit = cache.get(t);
  if (hit) return hit;
  const byId = new Map<string, NodeInfo>();
  const byPath = new Map<string, NodeInfo>();
  const order: NodeInfo[] = [];
  const visit = (
    n: NodeTrace, path: string, indexPath: string, parentId: string | null, depth: number, before: ShapeDtype[] | null, after: ShapeDtype[] | null,
    owner: NodeTrace | null, key: number | string | null, parentPath: string | null,
  ): void => {
    const info: NodeInfo = { trace: n, path, indexPath, parentId, owner, key, parentPath, before, after, depth };
    if (!byId.has(n.node.id)) byId.set(n.node.id, info);
    byPath.set(path, info);
    order.push(info);
    for (const { key, trace, owner } of visibleChildren(n)) {
      const s = edgeStacks(owner, key, trace);
      visit(trace, childPath(path, n.node.kind, key), indexPath === '' ? String(key) : `${indexPath}.${key}`, n.node.id, depth + 1, s.before, s.after, owner, key, path);
    }
  };
  visit(t.root, '', '', null, 0, t.root.inputs ? t.input : null, t.output, null, null, null);
  const idx = { byId, byPath, order };
  cache.set(t, idx);
  return idx;
}

/**
 * Which layer output a stack item is. The item at `index` on the edge after
 * the layer at `path` is that layer's output `index` when the layer produced
 * it, else an item that passed by it: followed back through the series
 * (Serial's stack discipline), Branch lanes (same inputs) and Parallel lanes
 * (inputs one after another). Returns the probe key (`path`, `index`), or
 * `{ input: k }` for the model's input k, or null where it cannot be told.
 */
export function producerOf(t: DocumentTrace, path: string, index: number): { path: string; index: number } | { input: number } | null {
  const idx = traceIndex(t);
  if (path === '') {
    // the model's output edge: the root's outputs, then the inputs it did not consume
    const nOut = t.root.outputs?.length ?? t.root.analysis.arity?.nOut;
    if (nOut === undefined) return null;
    if (index < nOut) return { path: '', index };
    const nIn = t.root.analysis.arity?.nIn ?? 0;
    return { input: index - nOut + nIn };
  }
  const after = (info: NodeInfo, k: number, depth: number): { path: string; index: number } | { input: number } | null => {
    const a = info.trace.analysis.arity;
    if (!a || depth > 10_000) return null;
    if (k < a.nOut) return { path: info.path, index: k };
    return before(info, k - a.nOut + a.nIn, depth + 1);
  };
  const before = (info: NodeInfo, k: number, depth: number): { path: string; index: number } | { input: number } | null => {
    if (info.parentPath === null) return { input: k };
    const parent = idx.byPath.get(info.parentPath);
    const owner = info.owner;
    if (!parent || !owner || typeof info.key !== 'number') return null;
    const kind = owner.node.kind;
    if (owner.stacks) {
      if (info.key === 0) return before(parent, k, depth + 1);
      const prev = idx.byPath.get(childPath(info.parentPath, parent.trace.node.kind, info.key - 1));
      return prev ? after(prev, k, depth + 1) : null;
    }
    if (kind === 'Branch') return before(parent, k, depth + 1);
    if (kind === 'Parallel') {
      let offset = 0;
      for (let i = 0; i < info.key; i++) offset += owner.children[i]?.analysis.arity?.nIn ?? 0;
      return before(parent, k + offset, depth + 1);
    }
    return null;
  };
  const info = idx.byPath.get(path);
  return info ? after(info, index, 0) : null;
}
