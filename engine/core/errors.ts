/**
 * Two kinds of error. User errors (bad shapes, parameters, files) are data:
 * a stable code, the layer's path, what was expected and what the stack held.
 * Broken invariants are bugs (`BugError`) and say so.
 */
import type { ShapeDtype } from './shape';

export const ERROR_CODES = {
  unknown_kind: 'the layer kind is not in the catalog',
  bad_param: 'a parameter has the wrong type or is out of range',
  missing_param: 'a required parameter is missing',
  unknown_param: 'a parameter name the layer does not take',
  construct: 'the layer cannot be built from these parameters or children',
  arity: 'a child takes or returns the wrong number of stack items',
  stack_underflow: 'the layer needs more stack items than there are',
  shape_mismatch: 'input shapes do not fit together',
  rank: 'an input has the wrong number of axes',
  dtype: 'an input has the wrong dtype',
  bad_reference: 'a weight-sharing reference is broken',
  bad_document: 'the document is malformed',
  bad_signature: 'an input signature is malformed',
  syntax: 'the Trax code has a syntax error',
  unsupported: 'the code uses something outside the supported subset',
  not_applicable: 'the spec entry has no meaning in a visual IDE',
  bad_input: 'an input tensor does not fit the model (dtype, shape, data)',
  bad_weights: 'a weights file does not fit the model (missing key, wrong shape or dtype, corrupt file)',
  runtime: 'onnxruntime could not run the model',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorDetail {
  expected?: string;
  /** parameter name, for bad_param / missing_param */
  param?: string;
  fix?: string;
}

/** Thrown by layer rules (shape inference, parameter checks); caught by the trace and turned into a ModelError. */
export class LayerError extends Error {
  readonly code: ErrorCode;
  readonly detail: ErrorDetail;
  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}) {
    super(message);
    this.name = 'LayerError';
    this.code = code;
    this.detail = detail;
  }
}

/** An error attached to a node of the tree: plain data. */
export interface ModelError {
  code: ErrorCode;
  /** location of the node: `Serial[2] > Residual[0]` ('' for the root) */
  path: string;
  kind: string;
  nodeId?: string;
  message: string;
  expected?: string;
  param?: string;
  fix?: string;
  /** what the stack held at the node (null if unknown) */
  stack?: ShapeDtype[] | null;
}

/** A broken invariant: a bug in Strata, not in the user's model. */
export class BugError extends Error {
  constructor(message: string) {
    super(`internal error (a bug in Strata, please report it): ${message}`);
    this.name = 'BugError';
  }
}

/** The node as a reader sees it: `Serial[2] > Residual[0] > Dense`. */
export function displayPath(path: string, kind: string): string {
  return path ? `${path} > ${kind}` : kind;
}
