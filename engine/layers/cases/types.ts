/**
 * One row of the catalog-wide table (engine/layers/catalog.test.ts): a layer
 * with parameters (and children), its inputs, and either the hand-worked
 * outputs or the error it must give.
 */
import type { PyValue } from '../def';

export interface CaseNode {
  kind: string;
  params?: Record<string, PyValue>;
  children?: CaseNode[];
  slots?: Record<string, CaseNode | null>;
}

export interface LayerCase extends CaseNode {
  /** what the row checks, for the test name */
  note?: string;
  /** input signature, top of the stack first: 'float32[2,3]', 'int32[B,L]' */
  inputs: string[];
  /** expected outputs (n_out items) */
  outputs?: string[];
  /** expected n_in / n_out when they are the point */
  nIn?: number;
  nOut?: number;
  /** expected weight shapes of the node itself (leaves), in order: 'float32[3,4]' */
  weights?: string[];
  /** expected trainable parameter count of the subtree (`params` holds the layer's parameters) */
  paramCount?: number | string;
  /** the error it must give instead */
  error?: { code: string; message: RegExp | string; param?: string };
}
