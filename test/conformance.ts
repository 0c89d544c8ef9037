/** The conformance cases of ../shared, and a check of one case's shapes through the trace. */
import { expect } from 'vitest';
import { readFileSync } from 'node:fs';
import type { DType } from '../engine/core/shape';
import type { DocNode } from '../engine/document/schema';
import { traceDocument } from '../engine/document/trace';
import { sharedPath } from './shared';

export interface ConformanceCase {
  id: string;
  kind: 'shape' | 'value' | 'error';
  model: string;
  input_signature: { shape: (number | string)[]; dtype: DType }[];
  expected: {
    n_in?: number; n_out?: number; output_shapes?: (number | string)[][];
    error?: { raises: string; when: string; message_contains?: string };
    [k: string]: unknown;
  };
}

let cached: Map<string, ConformanceCase> | undefined;

export function conformanceCases(): Map<string, ConformanceCase> {
  cached ??= new Map((JSON.parse(readFileSync(sharedPath('conformance/trax-cases.json'), 'utf8')) as ConformanceCase[]).map((c) => [c.id, c]));
  return cached;
}

/** Traces `root` on the case's input signature and checks n_in, n_out and output shapes. */
export function checkConformance(id: string, root: DocNode): void {
  const c = conformanceCases().get(id);
  if (!c) throw new Error(`no conformance case ${id}`);
  const t = traceDocument({ root, input: c.input_signature.map((s) => ({ dtype: s.dtype, shape: s.shape })) });
  expect(t.errors.map((e) => e.message)).toEqual([]);
  if (c.expected.n_in !== undefined) expect(t.root.analysis.arity!.nIn).toBe(c.expected.n_in);
  if (c.expected.n_out !== undefined) expect(t.root.analysis.arity!.nOut).toBe(c.expected.n_out);
  if (c.expected.output_shapes) expect(t.root.outputs!.map((x) => [...x.shape])).toEqual(c.expected.output_shapes);
}
