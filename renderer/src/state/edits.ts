/**
 * Every document change is an Edit, applied by one pure function. Undo/redo
 * records edits' before/after documents; the store never mutates a document
 * (untouched subtrees keep their identity, so the trace's memo reuses them).
 *
 * A node is addressed by its id; a place to insert is (parent id, where):
 * `{ children: index }` for `*layers`, `{ slot: name }` for a layer argument.
 */
import type { DocNode, StrataDocument } from '../../../engine/document/schema';
import type { PyValue } from '../../../engine/layers/def';
import type { ShapeDtype } from '../../../engine/core/shape';

export type Place = { parent: string; children: number } | { parent: string; slot: string };

export type Edit =
  | { type: 'insert'; place: Place; node: DocNode }
  | { type: 'remove'; id: string }
  | { type: 'move'; id: string; place: Place }
  | { type: 'setParam'; id: string; name: string; value: PyValue | undefined }
  | { type: 'setInput'; input: ShapeDtype[] }
  | { type: 'replaceRoot'; root: DocNode }
  | { type: 'wrap'; ids: string[]; kind: string; id: string }
  | { type: 'unwrap'; id: string }
  | { type: 'setCollapsed'; id: string; collapsed: boolean }
  | { type: 'replaceDocument'; doc: StrataDocument };

export class EditError extends Error {}

/** Returns a copy of `root` with `f` applied to the node `id` (path copy; untouched subtrees shared). */
function updateNode(root: DocNode, id: string, f: (n: DocNode) => DocNode | null): DocNode | null {
  if (root.id === id) return f(root);
  let changed = false;
  let children = root.children;
  if (root.children) {
    const next: DocNode[] = [];
    for (const c of root.children) {
      const u = updateNode(c, id, f);
      if (u !== c) changed = true;
      if (u) next.push(u);
    }
    children = next;
  }
  let slots = root.slots;
  if (root.slots) {
    const next: Record<string, DocNode | null> = {};
    for (const [k, c] of Object.entries(root.slots)) {
      const u = c ? updateNode(c, id, f) : c;
      if (u !== c) changed = true;
      if (u) next[k] = u;
    }
    slots = next;
  }
  if (!changed) return root;
  const n: DocNode = { ...root };
  if (children) n.children = children;
  if (slots) n.slots = slots;
  return n;
}

export function findNode(root: DocNode, id: string): DocNode | undefined {
  if (root.id === id) return root;
  for (const c of root.children ?? []) { const f = findNode(c, id); if (f) return f; }
  for (const c of Object.values(root.slots ?? {})) if (c) { const f = findNode(c, id); if (f) return f; }
  return undefined;
}

export function findParent(root: DocNode, id: string): { parent: DocNode; place: Place } | undefined {
  const kids = root.children ?? [];
  const i = kids.findIndex((c) => c.id === id);
  if (i >= 0) return { parent: root, place: { parent: root.id, children: i } };
  for (const [k, c] of Object.entries(root.slots ?? {})) if (c?.id === id) return { parent: root, place: { parent: root.id, slot: k } };
  for (const c of [...kids, ...Object.values(root.slots ?? {})]) {
    if (!c) continue;
    const f = findParent(c, id);
    if (f) return f;
  }
  return undefined;
}

function insertAt(root: DocNode, place: Place, node: DocNode): DocNode {
  const out = updateNode(root, place.parent, (p) => {
    if ('children' in place) {
      const kids = [...(p.children ?? [])];
      const at = Math.max(0, Math.min(place.children, kids.length));
      kids.splice(at, 0, node);
      return { ...p, children: kids };
    }
    return { ...p, slots: { ...(p.slots ?? {}), [place.slot]: node } };
  });
  if (!out || out === root && !findNode(root, place.parent)) throw new EditError(`no node ${place.parent} to insert into`);
  return out;
}

/** Applies one edit; throws EditError when it cannot apply (the store then keeps the document as it was). */
export function applyEdit(doc: StrataDocument, e: Edit): StrataDocument {
  switch (e.type) {
    case 'replaceDocument': return e.doc;
    case 'replaceRoot': return { ...doc, root: e.root };
    case 'setInput': return { ...doc, input: e.input };
    case 'insert': return { ...doc, root: insertAt(doc.root, e.place, e.node) };
    case 'remove': {
      if (doc.root.id === e.id) throw new EditError('the root cannot be removed; replace it instead');
      const root = updateNode(doc.root, e.id, () => null);
      if (!root || root === doc.root) throw new EditError(`no node ${e.id}`);
      return { ...doc, root };
    }
    case 'move': {
      const node = findNode(doc.root, e.id);
      if (!node) throw new EditError(`no node ${e.id}`);
      if (findNode(node, e.place.parent)) throw new EditError('a node cannot move into itself');
      const from = findParent(doc.root, e.id);
      let place = e.place;
      // moving later within the same list: the index shifts once the node is taken out
      if (from && 'children' in from.place && 'children' in place && from.place.parent === place.parent && from.place.children < place.children) {
        place = { parent: place.parent, children: place.children - 1 };
      }
      const without = updateNode(doc.root, e.id, () => null)!;
      return { ...doc, root: insertAt(without, place, node) };
    }
    case 'setParam': {
      const root = updateNode(doc.root, e.id, (n) => {
        const params = { ...(n.params ?? {}) };
        if (e.value === undefined) delete params[e.name]; else params[e.name] = e.value;
        const next: DocNode = { ...n, params };
        if (Object.keys(params).length === 0) delete next.params;
        return next;
      });
      if (!root || root === doc.root && !findNode(doc.root, e.id)) throw new EditError(`no node ${e.id}`);
      return { ...doc, root };
    }
    case 'setCollapsed': {
      const root = updateNode(doc.root, e.id, (n) => {
        const next = { ...n };
        if (e.collapsed) next.collapsed = true; else delete next.collapsed;
        return next;
      });
      return { ...doc, root: root ?? doc.root };
    }
    case 'wrap': {
      if (e.ids.length === 0) throw new EditError('nothing selected to wrap');
      const first = findParent(doc.root, e.ids[0]);
      const nodes = e.ids.map((id) => findNode(doc.root, id));
      if (nodes.some((n) => !n)) throw new EditError('a selected node is not in the model');
      if (!first) {
        // wrapping the root
        if (e.ids.length !== 1) throw new EditError('the root can only be wrapped alone');
        return { ...doc, root: { id: e.id, kind: e.kind, children: [doc.root] } };
      }
      if ('slot' in first.place && e.ids.length > 1) throw new EditError('only siblings in a list can be wrapped together');
      const wrapper: DocNode = { id: e.id, kind: e.kind, children: nodes as DocNode[] };
      let root = doc.root;
      for (const id of e.ids.slice(1)) root = updateNode(root, id, () => null)!;
      root = updateNode(root, e.ids[0], () => wrapper)!;
      return { ...doc, root };
    }
    case 'unwrap': {
      const node = findNode(doc.root, e.id);
      if (!node) throw new EditError(`no node ${e.id}`);
      const kids = node.children ?? [];
      const at = findParent(doc.root, e.id);
      if (!at) {
        if (kids.length !== 1) throw new EditError('the root unwraps only when it holds one layer');
        return { ...doc, root: kids[0] };
      }
      if ('slot' in at.place) {
        if (kids.length !== 1) throw new EditError('a layer argument unwraps only to one layer');
        return { ...doc, root: updateNode(doc.root, e.id, () => kids[0])! };
      }
      const place = at.place;
      const root = updateNode(doc.root, at.parent.id, (p) => {
        const list = [...(p.children ?? [])];
        list.splice(place.children, 1, ...kids);
        return { ...p, children: list };
      })!;
      return { ...doc, root };
    }
  }
}
