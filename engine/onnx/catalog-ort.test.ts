/**
 * The catalog-wide execution table: every row of the catalog table (symbols
 * replaced by small sizes) is lowered, run on onnxruntime's CPU provider, and
 * the shapes and dtypes onnxruntime produces must equal the engine's
 * inferred ones. Numbers are checked per family against small references.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { formatShapeDtype } from '../core/shape';
import { allKinds } from '../layers/registry';
import { caseToNode } from '../layers/cases/all';
import { runnableRows } from './catalog-rows';
import { lowerDocument } from './lower';
import { modelBytes } from './write';
import { feedsFor, randomTensor } from '../../test/ort';
import '../../kernels';

const rows = runnableRows();

describe('every catalog row runs on onnxruntime with the inferred shapes', () => {
  for (const [i, { row, input }] of rows.entries()) {
    it(`${row.kind} #${i} ${input.map(formatShapeDtype).join(', ')}${row.note ? ` (${row.note})` : ''}`, async () => {
      const root = caseToNode(row);
      const low = lowerDocument({ root, input }, { weightValue: (ref) => randomTensor(ref.decl, ref.key) });
      if (low.outputs.length === 0) { expect(low.trace.output).toEqual([]); return; }
      const session = await ort.InferenceSession.create(modelBytes(low.model));
      const out = await session.run(feedsFor(low.inputs, input));
      const got = low.outputs.map((o) => {
        const v = out[o.name];
        return `${v.type}[${v.dims.join(',')}]`;
      });
      // bfloat16 outputs cross as float32 (onnxruntime's JavaScript API has no bfloat16)
      const want = low.trace.output!.map((x) => formatShapeDtype(x).replace(/^bfloat16/, 'float32'));
      expect(got).toEqual(want);
    });
  }

  it('exercises every kind with a lowering', () => {
    const seen = new Set(rows.map((r) => r.row.kind));
    const missing = allKinds().filter((d) => !d.internal && !seen.has(d.kind) && d.kind !== 'Glu').map((d) => d.kind);
    expect(missing).toEqual([]);
  });
});
