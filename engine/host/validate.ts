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

/** Bigger than any rank a model has: a longer `at` is not a real request. */
const MAX_RANK = 64;

const sliceRequest: Check = (v, where) => {
  const o = obj(v, where);
  str(o.runId, `${where}.runId`);
  if (o.path !== null) str(o.path, `${where}.path`);
  int(o.index, `${where}.index`);
  if ((o.index as number) < 0) throw new HostParamError(`${where}.index: must be 0 or more`);
  for (const k of ['rows', 'cols', 'max'] as const) {
    if (o[k] === undefined) continue;
    int(o[k], `${where}.${k}`);
    if ((o[k] as number) < (k === 'max' ? 1 : 0)) throw new HostParamError(`${where}.${k}: must be ${k === 'max' ? 'at least 1' : '0 or more'}`);
  }
  if (!Array.isArray(o.at)) fail(`${where}.at`, 'an array', o.at);
  const at = o.at as unknown[];
  if (at.length > MAX_RANK) throw new HostParamError(`${where}.at: more than ${MAX_RANK} axes`);
  at.forEach((x, i) => int(x, `${where}.at[${i}]`));
};

const exportRequest: Check = (v, where) => {
  const o = obj(v, where);
  docValue(o.doc, `${where}.doc`);
  optStr(o.path, `${where}.path`);
  oneOf(['onnx', 'python', 'weights'])(o.format, `${where}.format`);
  int(o.seed, `${where}.seed`);
  if (o.inlineFunctions !== undefined && typeof o.inlineFunctions !== 'boolean') fail(`${where}.inlineFunctions`, 'a boolean', o.inlineFunctions);
};

/** Bigger than any training run anyone starts from the app (and within float32's exact integers, the step input). */
const MAX_STEPS = 1e7;

const intIn = (lo: number, hi: number): Check => (v, where) => {
  int(v, where);
  const n = v as number;
  if (n < lo || n > hi) throw new HostParamError(`${where}: must be ${hi === Number.MAX_SAFE_INTEGER ? `at least ${lo}` : `between ${lo} and ${hi}`}, got ${n}`);
};
const optional = (check: Check): Check => (v, where) => { if (v !== undefined && v !== null) check(v, where); };

const trainRequest: Check = (v, where) => {
  const o = obj(v, where);
  docValue(o.doc, `${where}.doc`);
  // names (task, loss, optimizer, schedule) are checked by the engine, whose message lists the choices
  str(o.task, `${where}.task`);
  optStr(o.loss, `${where}.loss`);
  str(o.optimizer, `${where}.optimizer`);
  str(o.schedule, `${where}.schedule`);
  optional((x, w) => { num(x, w); if ((x as number) < 0) throw new HostParamError(`${w}: must be 0 or more, got ${x as number}`); })(o.lr, `${where}.lr`);
  optional(intIn(0, MAX_STEPS))(o.warmup, `${where}.warmup`);
  intIn(1, MAX_STEPS)(o.steps, `${where}.steps`);
  intIn(1, 1 << 20)(o.batch, `${where}.batch`);
  intIn(1, MAX_STEPS)(o.evalEvery, `${where}.evalEvery`);
  intIn(0, Number.MAX_SAFE_INTEGER)(o.seed, `${where}.seed`);
  oneOf(['cpu', 'webgpu', 'cuda', 'dml'])(o.provider, `${where}.provider`);
  optional(intIn(1, 1 << 20))(o.length, `${where}.length`);
  optional(intIn(2, 1 << 24))(o.vocab, `${where}.vocab`);
  optStr(o.dir, `${where}.dir`);
  if (o.resume !== undefined && typeof o.resume !== 'boolean') fail(`${where}.resume`, 'a boolean', o.resume);
  if (o.resume && !o.dir) throw new HostParamError(`${where}.resume: give the run directory to resume (dir)`);
};

const trainStatusRequest: Check = (v, where) => {
  const o = obj(v, where);
  str(o.runId, `${where}.runId`);
  intIn(0, Number.MAX_SAFE_INTEGER)(o.since, `${where}.since`);
};

const trainStopRequest: Check = (v, where) => {
  str(obj(v, where).runId, `${where}.runId`);
};

const exportTrainedRequest: Check = (v, where) => {
  const o = obj(v, where);
  optStr(o.runId, `${where}.runId`);
  optStr(o.dir, `${where}.dir`);
  if ((o.runId === undefined || o.runId === null) === (o.dir === undefined || o.dir === null)) throw new HostParamError(`${where}: give either runId or dir`);
  oneOf(['onnx', 'npz', 'trax'])(o.format, `${where}.format`);
  optStr(o.path, `${where}.path`);
  optional(intIn(0, Number.MAX_SAFE_INTEGER))(o.checkpoint, `${where}.checkpoint`);
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
  tensorSlice: [[sliceRequest, true]],
  exportModel: [[exportRequest, true]],
  trainStart: [[trainRequest, true]],
  trainStatus: [[trainStatusRequest, true]],
  trainStop: [[trainStopRequest, true]],
  trainRuns: [],
  exportTrained: [[exportTrainedRequest, true]],
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
