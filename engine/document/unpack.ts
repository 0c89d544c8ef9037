/**
 * Unpacking: replace layer functions and models (LSTM, TransformerLM, …) by
 * the tree they build, so every inner layer becomes an editable node.
 */
import { analyze } from './trace';
import type { DocNode } from './schema';

/** A copy of the tree with macros replaced by their expansions (all levels when `deep`). */
export function unpackMacros(root: DocNode, deep = true): DocNode {
  let i = 0;
  const go = (n: DocNode, top: boolean): DocNode => {
    const a = analyze(n);
    if (a.expansion && (deep || top)) return go(a.expansion, false);
    const c: DocNode = { ...n, id: n.id.includes('~') ? `u${++i}` : n.id };
    if (n.children) c.children = n.children.map((x) => go(x, false));
    if (n.slots) {
      c.slots = {};
      for (const [k, v] of Object.entries(n.slots)) c.slots[k] = v ? go(v, false) : null;
    }
    return c;
  };
  return go(root, true);
}
