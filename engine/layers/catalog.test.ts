/**
 * The catalog-wide table: every layer kind, a few parameter sets each, shapes
 * checked against hand-worked expectations, and every kind's error path.
 */
import { describe, expect, it } from 'vitest';
import { parseShapeDtype, formatShapeDtype } from '../core/shape';
import { traceDocument } from '../document/trace';
import { allKinds } from './registry';
import type { LayerCase } from './cases/types';
import { allCases, caseToNode } from './cases/all';

const all = allCases;

function title(c: LayerCase): string {
  const p = c.params ? JSON.stringify(c.params) : '';
  return `${c.kind}${p} ${c.inputs.join(', ')}${c.note ? ` (${c.note})` : ''}`;
}

describe('catalog table', () => {
  for (const c of all) {
    it(title(c), () => {
      const t = traceDocument({ root: caseToNode(c), input: c.inputs.map(parseShapeDtype) });
      if (c.error) {
        expect(t.errors.length, 'expected an error').toBeGreaterThan(0);
        const e = t.errors.find((x) => x.code === c.error!.code) ?? t.errors[0];
        expect(e.code).toBe(c.error.code);
        if (typeof c.error.message === 'string') expect(e.message).toContain(c.error.message);
        else expect(e.message).toMatch(c.error.message);
        if (c.error.param) expect(e.param).toBe(c.error.param);
        return;
      }
      expect(t.errors.map((e) => e.message)).toEqual([]);
      if (c.nIn !== undefined) expect(t.root.analysis.arity?.nIn).toBe(c.nIn);
      if (c.nOut !== undefined) expect(t.root.analysis.arity?.nOut).toBe(c.nOut);
      if (c.outputs) expect(t.root.outputs!.map(formatShapeDtype)).toEqual(c.outputs.map((s) => formatShapeDtype(parseShapeDtype(s))));
      if (c.weights) expect(t.root.weights.map((w) => formatShapeDtype(w))).toEqual(c.weights.map((s) => formatShapeDtype(parseShapeDtype(s))));
      if (c.paramCount !== undefined) expect(t.params).toBe(c.paramCount);
    });
  }

  it('covers every kind with a shape case and an error case', () => {
    // tl.Glu() raises at construction in the Trax snapshot (semantics pitfall 19): it has only error rows
    const cannotConstruct = new Set(['Glu']);
    const missing: string[] = [];
    for (const def of allKinds()) {
      if (def.internal) continue;
      const rows = all.filter((c) => c.kind === def.kind);
      if (!rows.some((c) => !c.error) && !cannotConstruct.has(def.kind)) missing.push(`${def.kind}: no shape case`);
      if (!rows.some((c) => c.error)) missing.push(`${def.kind}: no error case`);
    }
    expect(missing).toEqual([]);
  });
});
