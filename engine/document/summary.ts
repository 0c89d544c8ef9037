/**
 * One row per layer of a traced document, as `strata summary` / `strata shapes`
 * and the canvas's diagnostics read it.
 */
import type { Dim } from '../core/dim';
import type { ModelError } from '../core/errors';
import type { ShapeDtype } from '../core/shape';
import { type DocumentTrace, type NodeTrace, childPath, edgeStacks, visibleChildren } from './trace';

export interface SummaryRow {
  /** location (`Serial[2] > Residual[0]`); '' for the root */
  path: string;
  kind: string;
  nodeId: string;
  depth: number;
  nIn: number | null;
  nOut: number | null;
  stackBefore: ShapeDtype[] | null;
  stackAfter: ShapeDtype[] | null;
  /** trainable parameters of the subtree */
  params: Dim;
  /** shares another node's weights */
  shared: boolean;
  hasError: boolean;
}

/** Every node in pre-order; the root row's stacks are the document's whole input and output. */
export function summaryRows(t: DocumentTrace): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const visit = (n: NodeTrace, path: string, depth: number, before: ShapeDtype[] | null, after: ShapeDtype[] | null): void => {
    const a = n.analysis.arity;
    rows.push({
      path, kind: n.node.kind, nodeId: n.node.id, depth,
      nIn: a?.nIn ?? null, nOut: a?.nOut ?? null,
      stackBefore: before, stackAfter: after, params: n.params,
      shared: !!n.node.shareWeightsOf, hasError: n.errors.length > 0,
    });
    for (const { key, trace, owner } of visibleChildren(n)) {
      const s = edgeStacks(owner, key, trace);
      visit(trace, childPath(path, n.node.kind, key), depth + 1, s.before, s.after);
    }
  };
  visit(t.root, '', 0, t.root.inputs ? t.input : null, t.output);
  return rows;
}

/** The first error in tree order (the one upstream of the others). */
export function firstError(t: DocumentTrace): ModelError | undefined {
  return t.errors[0];
}
