/**
 * Editing commands the toolbar, the palette, the keyboard and the canvas
 * share: insert at the selection, delete, duplicate, copy/paste, wrap and
 * unwrap. Each is one store edit (compound changes become one
 * replaceDocument), so one undo step undoes one command.
 */
import type { StoreApi } from 'zustand/vanilla';
import type { DocNode, StrataDocument } from '../../../engine/document/schema';
import { walkNodes } from '../../../engine/document/schema';
import { lookupKind } from '../../../engine/layers/registry';
import { type Edit, EditError, type Place, applyEdit, findNode, findParent } from '../state/edits';
import type { StrataState } from '../state/store';
import { traceIndex } from './traceIndex';
import { starterParams } from '../canvas/starters';

type Store = StoreApi<StrataState>;

/** Kinds that hold `*layers` (what a selection can be wrapped in). */
export function takesLayers(kind: string): boolean {
  return !!lookupKind(kind)?.args.some((a) => a.arg === 'layers');
}

/** A source of ids unused in `root`: n<k> above the largest numbered id. */
export function idSource(root: DocNode): () => string {
  let max = 0;
  const used = new Set<string>();
  walkNodes(root, (n) => {
    used.add(n.id);
    const m = /^n(\d+)$/.exec(n.id);
    if (m) max = Math.max(max, Number(m[1]));
  });
  return () => {
    let id: string;
    do id = `n${++max}`; while (used.has(id));
    used.add(id);
    return id;
  };
}

/** A new node of a kind, with a fresh id and starting values for its required parameters (as a canvas drop gives). */
export function newNode(kind: string, fresh: () => string): DocNode {
  const def = lookupKind(kind);
  const params = def ? starterParams(def) : {};
  return Object.keys(params).length ? { id: fresh(), kind, params } : { id: fresh(), kind };
}

/** A deep copy with fresh ids; weight-sharing references inside the copy follow it. */
export function cloneFresh(n: DocNode, fresh: () => string): DocNode {
  const map = new Map<string, string>();
  const go = (x: DocNode): DocNode => {
    const id = fresh();
    map.set(x.id, id);
    const c: DocNode = { ...x, id };
    if (x.children) c.children = x.children.map(go);
    if (x.slots) {
      c.slots = {};
      for (const [k, v] of Object.entries(x.slots)) c.slots[k] = v ? go(v) : null;
    }
    return c;
  };
  const out = go(n);
  walkNodes(out, (x) => { if (x.shareWeightsOf && map.has(x.shareWeightsOf)) x.shareWeightsOf = map.get(x.shareWeightsOf); });
  return out;
}

/** Applies several edits as one document change (one undo step). Returns false (and sets editError) when one cannot apply. */
export function compound(store: Store, edits: Edit[]): boolean {
  const { doc } = store.getState();
  let next: StrataDocument = doc;
  try {
    for (const e of edits) next = applyEdit(next, e);
  } catch (err) {
    if (err instanceof EditError) { store.setState({ editError: err.message }); return false; }
    throw err;
  }
  if (next === doc) return true;
  return store.getState().edit({ type: 'replaceDocument', doc: next });
}

/** The selected ids that are document nodes (a macro's expansion is drawn but not in the document). */
function selectedDocIds(s: StrataState): string[] {
  return s.selection.filter((id) => findNode(s.doc.root, id));
}

/** The nearest document node for an id (an expansion node: its macro). */
function docAnchor(s: StrataState, id: string): string | null {
  if (findNode(s.doc.root, id)) return id;
  const idx = traceIndex(s.trace);
  let cur = idx.byId.get(id);
  while (cur) {
    if (findNode(s.doc.root, cur.trace.node.id)) return cur.trace.node.id;
    cur = cur.parentId ? idx.byId.get(cur.parentId) : undefined;
  }
  return null;
}

/**
 * Where "insert at the selection" puts a layer: into a selected combinator
 * (as its last layer), after a selected layer in a list, or at the end of the
 * root. `null`: the root holds no list (a single layer): it gets wrapped in a Serial.
 */
export function insertionPlace(s: StrataState): Place | null {
  const root = s.doc.root;
  const last = s.selection[s.selection.length - 1];
  let anchor = last ? docAnchor(s, last) : null;
  if (anchor) {
    const node = findNode(root, anchor)!;
    if (takesLayers(node.kind) && !node.collapsed) return { parent: node.id, children: (node.children ?? []).length };
    // climb out of layer arguments to the nearest list
    for (;;) {
      const at = findParent(root, anchor);
      if (!at) break;
      if ('children' in at.place) return { parent: at.place.parent, children: at.place.children + 1 };
      anchor = at.parent.id;
    }
    if (anchor !== root.id) return null;
  }
  if (takesLayers(root.kind)) return { parent: root.id, children: (root.children ?? []).length };
  return null;
}

/** Inserts nodes at the selection (in order) as one edit and selects them. */
export function insertNodes(store: Store, nodes: DocNode[]): boolean {
  if (nodes.length === 0) return false;
  const s = store.getState();
  const place = insertionPlace(s);
  let ok: boolean;
  if (place && 'children' in place) {
    ok = compound(store, nodes.map((node, i) => ({ type: 'insert', place: { parent: place.parent, children: place.children + i }, node })));
  } else {
    // a root that is one layer: it becomes Serial(root, new…)
    const fresh = idSource(s.doc.root);
    const root: DocNode = { id: fresh(), kind: 'Serial', children: [s.doc.root, ...nodes] };
    ok = s.edit({ type: 'replaceRoot', root });
  }
  if (ok) store.getState().select(nodes.map((n) => n.id));
  return ok;
}

/** Palette click / Enter / quick insert: a new layer of `kind` at the selection. */
export function insertKind(store: Store, kind: string): boolean {
  const fresh = idSource(store.getState().doc.root);
  return insertNodes(store, [newNode(kind, fresh)]);
}

/** Inserts a new layer of `kind` at an explicit place (a drop target), as one edit, and selects it. */
export function insertKindAt(store: Store, kind: string, place: Place): boolean {
  const fresh = idSource(store.getState().doc.root);
  const node = newNode(kind, fresh);
  const ok = store.getState().edit({ type: 'insert', place, node });
  if (ok) store.getState().select([node.id]);
  return ok;
}

export function deleteSelection(store: Store): boolean {
  const s = store.getState();
  const ids = selectedDocIds(s);
  if (ids.length === 0) return false;
  // a node inside another selected node goes with it
  const top = ids.filter((id) => !ids.some((o) => o !== id && findNode(findNode(s.doc.root, o)!, id)));
  const edits: Edit[] = [];
  for (const id of top) {
    if (id === s.doc.root.id) {
      const fresh = idSource(s.doc.root);
      edits.push({ type: 'replaceRoot', root: { id: fresh(), kind: 'Serial', children: [] } });
    } else {
      edits.push({ type: 'remove', id });
    }
  }
  const ok = compound(store, edits);
  if (ok) store.getState().select([]);
  return ok;
}

export function duplicateSelection(store: Store): boolean {
  const s = store.getState();
  const ids = selectedDocIds(s).filter((id) => id !== s.doc.root.id);
  if (ids.length === 0) { store.setState({ editError: 'select a layer inside the model to duplicate it' }); return false; }
  const fresh = idSource(s.doc.root);
  const edits: Edit[] = [];
  const copies: string[] = [];
  let doc = s.doc;
  for (const id of ids) {
    const at = findParent(doc.root, id);
    if (!at || !('children' in at.place)) continue;
    const copy = cloneFresh(findNode(doc.root, id)!, fresh);
    const e: Edit = { type: 'insert', place: { parent: at.place.parent, children: at.place.children + 1 }, node: copy };
    doc = applyEdit(doc, e);
    edits.push(e);
    copies.push(copy.id);
  }
  if (edits.length === 0) { store.setState({ editError: 'a layer argument holds one layer: it cannot be duplicated in place' }); return false; }
  const ok = compound(store, edits);
  if (ok) store.getState().select(copies);
  return ok;
}

let clipboard: DocNode[] = [];

export function copySelection(store: Store): number {
  const s = store.getState();
  const ids = selectedDocIds(s);
  clipboard = ids.map((id) => findNode(s.doc.root, id)!).filter((n) => !ids.some((o) => o !== n.id && findNode(findNode(s.doc.root, o)!, n.id)));
  return clipboard.length;
}

export function hasClipboard(): boolean {
  return clipboard.length > 0;
}

export function paste(store: Store): boolean {
  if (clipboard.length === 0) return false;
  const fresh = idSource(store.getState().doc.root);
  return insertNodes(store, clipboard.map((n) => cloneFresh(n, fresh)));
}

/** Wraps the selected siblings (in list order) in a new combinator. */
export function wrapSelection(store: Store, kind: string): boolean {
  const s = store.getState();
  const ids = selectedDocIds(s);
  if (ids.length === 0) { store.setState({ editError: 'select the layers to wrap first' }); return false; }
  const parents = ids.map((id) => findParent(s.doc.root, id));
  const p0 = parents[0];
  let sorted = ids;
  if (ids.length > 1) {
    if (parents.some((p) => !p || !('children' in p.place) || p.place.parent !== p0?.place.parent)) {
      store.setState({ editError: 'only layers side by side in one list can be wrapped together' });
      return false;
    }
    const at = new Map(ids.map((id, i) => [id, (parents[i]!.place as { children: number }).children]));
    sorted = [...ids].sort((a, b) => at.get(a)! - at.get(b)!);
  }
  const id = idSource(s.doc.root)();
  const ok = s.edit({ type: 'wrap', ids: sorted, kind, id });
  if (ok) store.getState().select([id]);
  return ok;
}

export function unwrapSelection(store: Store): boolean {
  const s = store.getState();
  const ids = selectedDocIds(s);
  if (ids.length !== 1) { store.setState({ editError: 'select one combinator to unwrap' }); return false; }
  const node = findNode(s.doc.root, ids[0])!;
  if (!node.children || node.children.length === 0) { store.setState({ editError: `${node.kind} holds no layers to unwrap` }); return false; }
  const kids = node.children.map((c) => c.id);
  const ok = s.edit({ type: 'unwrap', id: node.id });
  if (ok) store.getState().select(kids);
  return ok;
}

/** Kinds offered in the Wrap menu: every catalog combinator that takes `*layers`, Serial first. */
export function wrapKinds(): string[] {
  const order = ['Serial', 'Residual', 'Branch', 'Parallel'];
  const all = ['Serial', 'Residual', 'Branch', 'Parallel', 'SerialWithSideOutputs', 'ReversibleSerial', 'ReversibleHalfResidual'].filter(takesLayers);
  return [...order.filter((k) => all.includes(k)), ...all.filter((k) => !order.includes(k))];
}
