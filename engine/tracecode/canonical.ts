/**
 * The canonical form of a tree: ids n1, n2, … in pre-order, parameters equal
 * to their defaults dropped, empty slots removed. Code → document always
 * gives this form, so "print then parse gives the same document" compares
 * canonical forms.
 */
import { lookupKind } from '../layers/registry';
import { canonicalParams } from '../document/params';
import { type DocNode, assignIds, walkNodes } from '../document/schema';

export function canonicalTree(root: DocNode): DocNode {
  const oldToNew = new Map<string, DocNode>();
  const copy = (n: DocNode): DocNode => {
    const def = lookupKind(n.kind);
    const c: DocNode = { id: n.id, kind: n.kind };
    const params = n.params ? (def ? canonicalParams(def, n.params) : n.params) : undefined;
    if (params && Object.keys(params).length) c.params = params;
    if (n.children?.length) c.children = n.children.map(copy);
    if (n.slots) {
      const slots: Record<string, DocNode | null> = {};
      for (const [k, v] of Object.entries(n.slots)) if (v) slots[k] = copy(v);
      if (Object.keys(slots).length) c.slots = slots;
    }
    if (n.shareWeightsOf) c.shareWeightsOf = n.shareWeightsOf;
    oldToNew.set(n.id, c);
    return c;
  };
  const root2 = copy(root);
  const oldIds = new Map<DocNode, string>();
  walkNodes(root2, (n) => { oldIds.set(n, n.id); });
  assignIds(root2);
  const renamed = new Map<string, string>();
  for (const [n, old] of oldIds) renamed.set(old, n.id);
  walkNodes(root2, (n) => {
    if (n.shareWeightsOf) n.shareWeightsOf = renamed.get(n.shareWeightsOf) ?? n.shareWeightsOf;
  });
  return root2;
}
