/** Where a new layer goes, and the edit that puts it there (pure; tested without a browser). */
import type { DocNode, StrataDocument } from '../../../engine/document/schema';
import { lookupKind } from '../../../engine/layers/registry';
import { type Edit, type Place, findNode, findParent } from '../state/edits';
import { freshNodeId, starterParams } from './starters';

export type InsertAt = { place: Place } | { wrapRoot: 'before' | 'after' };

/** A new node of `kind` with starting values for its required parameters. */
export function newNode(kind: string): DocNode {
  const def = lookupKind(kind);
  const node: DocNode = { id: freshNodeId(), kind };
  const params = def ? starterParams(def) : {};
  if (Object.keys(params).length) node.params = params;
  return node;
}

function takesLayers(n: DocNode): boolean {
  const def = lookupKind(n.kind);
  return !!def && def.args.some((a) => a.arg === 'layers');
}

/**
 * Insertion at the selection: into a selected (expanded) combinator as its
 * last layer, else right after the selected node in its list (a node in a
 * layer argument: after the combinator holding it). Nothing selected: at the
 * end of the root. A root without a list of layers is wrapped in a Serial.
 */
export function insertionAtSelection(doc: StrataDocument, selection: readonly string[]): InsertAt {
  const id = selection[selection.length - 1];
  let n = id ? findNode(doc.root, id) : undefined;
  if (n && takesLayers(n) && !n.collapsed) return { place: { parent: n.id, children: (n.children ?? []).length } };
  while (n) {
    const at = findParent(doc.root, n.id);
    if (!at) break;
    if ('children' in at.place) return { place: { parent: at.place.parent, children: at.place.children + 1 } };
    n = at.parent;
  }
  if (takesLayers(doc.root)) return { place: { parent: doc.root.id, children: (doc.root.children ?? []).length } };
  return { wrapRoot: 'after' };
}

export function insertEdit(doc: StrataDocument, at: InsertAt, node: DocNode): Edit {
  if ('place' in at) return { type: 'insert', place: at.place, node };
  const children = at.wrapRoot === 'before' ? [node, doc.root] : [doc.root, node];
  return { type: 'replaceRoot', root: { id: freshNodeId(), kind: 'Serial', children } };
}

/** Moving `id` to `place` would leave the document as it is. */
export function isNoopMove(doc: StrataDocument, id: string, place: Place): boolean {
  const at = findParent(doc.root, id);
  if (!at) return true;
  if ('slot' in place) return 'slot' in at.place && at.place.parent === place.parent && at.place.slot === place.slot;
  if (!('children' in at.place) || at.place.parent !== place.parent) return false;
  return place.children === at.place.children || place.children === at.place.children + 1;
}
