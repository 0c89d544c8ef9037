/**
 * The document: a model is a tree (`*.strata.json`). Plain JSON data; loading
 * never throws on content — problems become errors on nodes, and anything the
 * file held that Strata does not understand is kept and saved back unchanged.
 */
import type { PyValue } from '../layers/def';
import type { ShapeDtype } from '../core/shape';
import { shapeDtypeFromJson, shapeDtypeToJson, SignatureSyntaxError } from '../core/shape';
import { LayerError } from '../core/errors';

export const FORMAT = 'strata';
export const FORMAT_VERSION = 1;

export interface DocNode {
  id: string;
  kind: string;
  /** explicitly set parameters (defaults are omitted); unknown kinds keep theirs raw */
  params?: Record<string, PyValue>;
  /** `*layers` */
  children?: DocNode[];
  /** layer-valued arguments (`shortcut`, `cond`, `layer`, …) */
  slots?: Record<string, DocNode | null>;
  /** reuse another node's weights (Trax's same-layer-object-twice) */
  shareWeightsOf?: string;
  /** canvas state: drawn collapsed */
  collapsed?: boolean;
}

export interface StrataDocument {
  format: typeof FORMAT;
  version: number;
  name?: string;
  /** the model's input signature, top of the stack first */
  input: ShapeDtype[];
  root: DocNode;
  /** fields from a newer or foreign writer, kept verbatim */
  extra?: Record<string, unknown>;
}

export class DocumentError extends LayerError {}

const NODE_KEYS = new Set(['id', 'kind', 'params', 'children', 'slots', 'shareWeightsOf', 'collapsed']);

/**
 * Reads a parsed JSON value as a document. Throws DocumentError only when the
 * value cannot be a document at all (not an object, no root, newer major
 * version); node-level problems are left for validation to report.
 */
export function documentFromJson(v: unknown): StrataDocument {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DocumentError('bad_document', 'a .strata.json document must be a JSON object');
  }
  const o = v as Record<string, unknown>;
  if (o.format !== undefined && o.format !== FORMAT) {
    throw new DocumentError('bad_document', `format is ${JSON.stringify(o.format)}, expected "${FORMAT}"`);
  }
  const version = o.version ?? FORMAT_VERSION;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new DocumentError('bad_document', `version must be a positive integer, got ${JSON.stringify(o.version)}`);
  }
  if (version > FORMAT_VERSION) {
    throw new DocumentError('bad_document', `document version ${version} is newer than this Strata reads (${FORMAT_VERSION}); update Strata`);
  }
  const input: ShapeDtype[] = [];
  if (o.input !== undefined) {
    if (!Array.isArray(o.input)) throw new DocumentError('bad_document', 'input must be an array of signatures');
    o.input.forEach((s, i) => {
      try {
        input.push(shapeDtypeFromJson(s, `input[${i}]`));
      } catch (e) {
        if (e instanceof SignatureSyntaxError) throw new DocumentError('bad_signature', e.message);
        throw e;
      }
    });
  }
  if (o.root === undefined) throw new DocumentError('bad_document', 'the document has no root node');
  const ids = new Set<string>();
  const root = nodeFromJson(o.root, 'root', ids);
  const extra: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (!['format', 'version', 'name', 'input', 'root'].includes(k)) extra[k] = o[k];
  const doc: StrataDocument = { format: FORMAT, version: FORMAT_VERSION, input, root };
  if (typeof o.name === 'string') doc.name = o.name;
  if (Object.keys(extra).length) doc.extra = extra;
  return doc;
}

function nodeFromJson(v: unknown, where: string, ids: Set<string>): DocNode {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new DocumentError('bad_document', `${where}: a node must be an object with "kind"`);
  }
  const o = v as Record<string, unknown>;
  if (typeof o.kind !== 'string' || o.kind === '') throw new DocumentError('bad_document', `${where}: a node needs a "kind" string`);
  let id = typeof o.id === 'string' && o.id !== '' ? o.id : '';
  if (!id || ids.has(id)) id = freshId(ids, id || 'n');
  ids.add(id);
  const node: DocNode = { id, kind: o.kind };
  if (o.params !== undefined) {
    if (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params)) {
      throw new DocumentError('bad_document', `${where} (${o.kind}): params must be an object`);
    }
    node.params = o.params as Record<string, PyValue>;
  }
  if (o.children !== undefined) {
    if (!Array.isArray(o.children)) throw new DocumentError('bad_document', `${where} (${o.kind}): children must be an array`);
    node.children = o.children.map((c, i) => nodeFromJson(c, `${where}.children[${i}]`, ids));
  }
  if (o.slots !== undefined) {
    if (typeof o.slots !== 'object' || o.slots === null || Array.isArray(o.slots)) {
      throw new DocumentError('bad_document', `${where} (${o.kind}): slots must be an object`);
    }
    node.slots = {};
    for (const [k, c] of Object.entries(o.slots as Record<string, unknown>)) {
      node.slots[k] = c === null ? null : nodeFromJson(c, `${where}.slots.${k}`, ids);
    }
  }
  if (typeof o.shareWeightsOf === 'string') node.shareWeightsOf = o.shareWeightsOf;
  if (o.collapsed === true) node.collapsed = true;
  for (const k of Object.keys(o)) {
    if (!NODE_KEYS.has(k)) {
      // keep what a newer writer added, under params it would be lost: store on the node verbatim
      (node as unknown as Record<string, unknown>)[k] = o[k];
    }
  }
  return node;
}

function freshId(ids: Set<string>, base: string): string {
  let i = ids.size + 1;
  while (ids.has(`${base}${i}`)) i++;
  return `${base}${i}`;
}

export function documentToJson(doc: StrataDocument): unknown {
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    ...(doc.name !== undefined ? { name: doc.name } : {}),
    input: doc.input.map(shapeDtypeToJson),
    root: doc.root,
    ...(doc.extra ?? {}),
  };
}

export function serializeDocument(doc: StrataDocument): string {
  return JSON.stringify(documentToJson(doc), null, 2) + '\n';
}

export function parseDocumentText(text: string): StrataDocument {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DocumentError('bad_document', `not valid JSON: ${(e as Error).message}`);
  }
  return documentFromJson(v);
}

/** Visits every node (pre-order), children before slots. */
export function walkNodes(root: DocNode, f: (n: DocNode, parent: DocNode | null) => void): void {
  const go = (n: DocNode, parent: DocNode | null): void => {
    f(n, parent);
    for (const c of n.children ?? []) go(c, n);
    for (const c of Object.values(n.slots ?? {})) if (c) go(c, n);
  };
  go(root, null);
}

/** Assigns ids n1, n2, … in pre-order (deterministic: code → document gives the same ids every time). */
export function assignIds(root: DocNode, prefix = 'n'): void {
  let i = 0;
  walkNodes(root, (n) => { n.id = `${prefix}${++i}`; });
}
