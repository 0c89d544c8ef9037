/**
 * The catalog table's rows made runnable (tests only): symbols replaced by
 * small sizes chosen to satisfy the usual divisibility rules; rows whose
 * trace then fails are left out (and listed).
 */
import type { Dim } from '../core/dim';
import { type ShapeDtype, parseShapeDtype } from '../core/shape';
import { traceDocument } from '../document/trace';
import { allCases, caseToNode } from '../layers/cases/all';
import type { LayerCase } from '../layers/cases/types';

const SIZES: Record<string, number> = { B: 2, L: 8, T: 8, H: 9, W: 7, M: 4, N: 3, S: 6, C: 4, D: 8, batch: 2 };

function concretize(s: string): ShapeDtype {
  const x = parseShapeDtype(s);
  return { dtype: x.dtype, shape: x.shape.map((d: Dim) => (typeof d === 'number' ? d : SIZES[d] ?? 4)) };
}

export interface RunnableRow { row: LayerCase; input: ShapeDtype[] }

let cached: { rows: RunnableRow[]; excluded: string[] } | undefined;

export function runnable(): { rows: RunnableRow[]; excluded: string[] } {
  if (cached) return cached;
  const rows: RunnableRow[] = [];
  const excluded: string[] = [];
  for (const row of allCases) {
    if (row.error) continue;
    const input = row.inputs.map(concretize);
    const t = traceDocument({ root: caseToNode(row), input });
    if (t.errors.length) { excluded.push(`${row.kind}: ${t.errors[0].message}`); continue; }
    rows.push({ row, input });
  }
  cached = { rows, excluded };
  return cached;
}

export function runnableRows(): RunnableRow[] {
  return runnable().rows;
}
