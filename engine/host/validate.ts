/**
 * The checks every transport makes before a request reaches the host: the
 * method is one of HOST_METHODS, and its arguments (positional, as the
 * HostApi declares them) have the right types. Pure TypeScript: the
 * WebSocket server, the Electron preload and main process, and the worker
 * all use it.
 */
import { HOST_METHODS, type HostMethod } from './api';

export class HostParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostParamError';
  }
}

/** Bigger than any document or request the renderer sends (a 2,000-layer document is ~200 KB). */
export const MAX_TEXT = 64 * 1024 * 1024;

type Check = (v: unknown, where: string) => void;

const fail = (where: string, want: string, v: unknown): never => {
  const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
  throw new HostParamError(`${where}: expected ${want}, got ${got}`);
};

const str: Check = (v, where) => {
  if (typeof v !== 'string') fail(where, 'a string', v);
  if ((v as string).length > MAX_TEXT) throw new HostParamError(`${where}: longer than ${MAX_TEXT} characters`);
};
const optStr: Check = (v, where) => { if (v !== undefined && v !== null) str(v, where); };
const num: Check = (v, where) => { if (typeof v !== 'number' || !Number.isFinite(v)) fail(where, 'a finite number', v); };
const int: Check = (v, where) => { num(v, where); if (!Number.isInteger(v)) fail(where, 'an integer', v); };
const obj = (v: unknown, where: string): Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, 'an object', v);
  return v as Record<string, unknown>;
};
const oneOf = (choices: readonly string[]): Check => (v, where) => {
  if (typeof v !== 'string' || !choices.includes(v)) fail(where, `one of ${choices.join(', ')}`, v);
};
/** A document: its JSON value or its text. */
const docValue: Check = (v, where) => {
  if (typeof v === 'string') return str(v, where);
  obj(v, where);
};

const inputSource: Check = (v, where) => {
  const o = obj(v, where);
  oneOf(['normal', 'randint', 'zeros', 'file'])(o.kind, `${where}.kind`);
  if (o.seed !== undefined) int(o.seed, `${where}.seed`);
  if (o.kind === 'randint') { int(o.vocab, `${where}.vocab`); if ((o.vocab as number) < 1) throw new HostParamError(`${where}.vocab: must be at least 1`); }
  if (o.kind === 'file') str(o.path, `${where}.path`);
};

const runRequest: Check = (v, where) => {
  const o = obj(v, where);
  docValue(o.doc, `${where}.doc`);
  if (!Array.isArray(o.inputs)) fail(`${where}.inputs`, 'an array', o.inputs);
  (o.inputs as unknown[]).forEach((x, i) => inputSource(x, `${where}.inputs[${i}]`));
  int(o.seed, `${where}.seed`);
  oneOf(['train', 'eval', 'predict'])(o.mode, `${where}.mode`);
  oneOf(['cpu', 'webgpu', 'cuda', 'dml'])(o.provider, `${where}.provider`);
};

const exportRequest: Check = (v, where) => {
  const o = obj(v, where);
  docValue(o.doc, `${where}.doc`);
  optStr(o.path, `${where}.path`);
  oneOf(['onnx', 'python', 'weights'])(o.format, `${where}.format`);
  int(o.seed, `${where}.seed`);
  if (o.inlineFunctions !== undefined && typeof o.inlineFunctions !== 'boolean') fail(`${where}.inlineFunctions`, 'a boolean', o.inlineFunctions);
};

/** Each method's arguments: [check, required]. */
const SIGNATURES: Record<HostMethod, [Check, boolean][]> = {
  info: [],
  listExamples: [],
  readExample: [[str, true]],
  openFile: [[optStr, false]],
  saveFile: [[str, true], [optStr, false]],
  recentFiles: [],
  saveRecovery: [[str, true]],
  readRecovery: [],
  run: [[runRequest, true]],
  exportModel: [[exportRequest, true]],
};

export function isHostMethod(m: unknown): m is HostMethod {
  return typeof m === 'string' && (HOST_METHODS as readonly string[]).includes(m);
}

/** The method's arguments, checked; throws HostParamError naming the first problem. */
export function validateCall(method: unknown, params: unknown): { method: HostMethod; args: unknown[] } {
  if (!isHostMethod(method)) throw new HostParamError(`unknown method ${JSON.stringify(method)}`);
  const args = params === undefined ? [] : params;
  if (!Array.isArray(args)) throw new HostParamError(`${method}: params must be an array of arguments`);
  const sig = SIGNATURES[method];
  if (args.length > sig.length) throw new HostParamError(`${method}: takes at most ${sig.length} arguments, got ${args.length}`);
  sig.forEach(([check, required], i) => {
    if (args[i] === undefined || args[i] === null) {
      if (required) throw new HostParamError(`${method}: argument ${i + 1} is missing`);
      return;
    }
    check(args[i], `${method} argument ${i + 1}`);
  });
  // null stands for an absent optional argument (JSON has no undefined)
  return { method, args: args.map((a) => (a === null ? undefined : a)) };
}
