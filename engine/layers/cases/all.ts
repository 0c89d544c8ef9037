/// <reference types="vite/client" />
/** Every row of the catalog table (tests only: uses Vite's import.meta.glob), and rows as document nodes. */
import type { DocNode } from '../../document/schema';
import type { CaseNode, LayerCase } from './types';

const modules = import.meta.glob<{ cases: LayerCase[] }>('./*.cases.ts', { eager: true });

export const allCases: LayerCase[] = Object.values(modules).flatMap((m) => m.cases);

let nextId = 0;
export function caseToNode(c: CaseNode): DocNode {
  const n: DocNode = { id: `c${++nextId}`, kind: c.kind };
  if (c.params) n.params = c.params;
  if (c.children) n.children = c.children.map(caseToNode);
  if (c.slots) {
    n.slots = {};
    for (const [k, v] of Object.entries(c.slots)) n.slots[k] = v ? caseToNode(v) : null;
  }
  return n;
}
