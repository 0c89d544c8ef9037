/**
 * User data (`data:FILE`): NumPy (.npz / .npy), CSV (.csv / .tsv) and JSON
 * Lines (.jsonl / .ndjson). Every file becomes a set of examples (inputs,
 * targets, weights), split into train and eval, batched like MNIST.
 *
 * Naming and layout:
 * - .npz: arrays `inputs` or `x` (required), `targets` or `y`, `weights` or
 *   `mask` (optional: ones), first axis = examples. Arrays named with
 *   `_train` and `_test` (or `_eval`) suffixes (Keras's mnist.npz: x_train,
 *   y_train, x_test, y_test) give the split themselves. No targets: the
 *   inputs are integer token sequences and the targets (language modelling).
 *   Any other array name is an error (a misspelt name is not ignored).
 * - .npy: one integer array [N, L] of token sequences (language modelling).
 * - CSV: numeric cells; the first row is a header when none of its cells is a
 *   number; the last column is the label (`labelColumn`: an index, negative
 *   from the end, or a header name), the others are float32 features.
 * - JSONL: one object per line, `{"inputs": …, "targets": …, "weights": …}`
 *   (targets and weights optional, no other fields); values are numbers or
 *   nested rectangular lists. Integer token sequences of different lengths
 *   are padded with 0 to the longest (or to `length`), with weight 0 on the
 *   padding; any other difference in shape is an error.
 *
 * Dtypes: integer values become int32 (class ids, token ids), others float32
 * (`inputDtype`/`targetDtype` force one). Integer targets are classes
 * (CrossEntropyLoss over log-probabilities + accuracy; ids must be >= 0);
 * float targets are regression (L2Loss). Split: the last `evalFraction`
 * (default 10%) of the examples in file order, or `split: 'random'` (a fixed
 * permutation, the same for every seed).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { TensorValue } from '../../core/onnx';
import { readNpy, readNpz, WeightsFileError } from '../../weights/npz';
import { RandomStream } from '../../weights/random';
import {
  DataError, digest, makeTask, orderedBatches, permutation, shuffledBatches, sizeOf, subset,
  type Column, type Examples, type FeedDtype, type Task, type TaskKind,
} from './task';

export interface UserDataOptions {
  batchSize: number;
  seed: number;
  /** the fraction held out for evaluation (default 0.1), unless the file gives its own split */
  evalFraction?: number;
  /** 'last' (default): the last examples in file order; 'random': a fixed seeded choice */
  split?: 'last' | 'random';
  /** CSV: the label column (index, negative from the end, or header name; default -1) */
  labelColumn?: number | string;
  /** pad token sequences to this length (default: the longest) */
  length?: number;
  inputDtype?: FeedDtype;
  targetDtype?: FeedDtype;
  /** caps the eval batches one evaluation runs (default: the whole eval split) */
  evalBatches?: number;
}

export const DATA_FORMATS = ['.npz', '.npy', '.csv', '.tsv', '.jsonl', '.ndjson'] as const;

/** A field of every example, before dtype and padding are settled. */
interface RawField {
  name: string;
  /** per-example shape (the first axis may vary where `lengths` is set) */
  shape: number[];
  values: Float64Array | Int32Array;
  integer: boolean;
  /** token sequences of different lengths: each example's length, values padded to shape[0] */
  lengths: Int32Array | null;
  n: number;
}

interface Parsed {
  inputs: RawField;
  targets: RawField | null;
  weights: RawField | null;
  /** examples from this index on are the eval split (the file gave it) */
  evalFrom?: number;
}

class FileProblem {
  constructor(readonly shown: string) {}
  fail(where: string, msg: string): never {
    throw new DataError('bad_file', `data:${this.shown}: ${where ? `${where}: ` : ''}${msg}`);
  }
}

// ---------------------------------------------------------------- NumPy

const NPZ_ROLES = { inputs: ['inputs', 'x'], targets: ['targets', 'y'], weights: ['weights', 'mask'] } as const;

function fieldOfTensor(p: FileProblem, name: string, t: TensorValue): RawField {
  if (t.dims.length === 0) p.fail(`array '${name}'`, 'is a scalar; its first axis must run over the examples');
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') p.fail(`array '${name}'`, `${t.dtype} is not supported; save it as float32`);
  const n = t.dims[0];
  const count = sizeOf(t.dims);
  let values: Float64Array | Int32Array;
  let integer: boolean;
  if (t.dtype === 'int64') {
    const d = t.data as BigInt64Array;
    values = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      if (d[i] > 2147483647n || d[i] < -2147483648n) p.fail(`array '${name}'`, `value ${d[i]} at flat index ${i} does not fit int32`);
      values[i] = Number(d[i]);
    }
    integer = true;
  } else if (t.dtype === 'float32' || t.dtype === 'float64') {
    values = Float64Array.from(t.data as Float32Array | Float64Array);
    integer = false;
    for (let i = 0; i < count; i++) if (!Number.isFinite(values[i])) p.fail(`array '${name}'`, `value ${values[i]} at flat index ${i} is not finite`);
  } else {
    values = Int32Array.from(t.data as Int32Array); // int32, int8, uint8, bool (readNpy gives Int32Array)
    integer = true;
  }
  return { name, shape: t.dims.slice(1), values, integer, lengths: null, n };
}

function concatFields(a: RawField, b: RawField, p: FileProblem): RawField {
  if (a.integer !== b.integer) p.fail(`arrays '${a.name}' and '${b.name}'`, 'one is integer, the other floating point');
  if (a.shape.join() !== b.shape.join()) p.fail(`arrays '${a.name}' and '${b.name}'`, `examples of shape [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  const values = a.integer ? new Int32Array(a.values.length + b.values.length) : new Float64Array(a.values.length + b.values.length);
  values.set(a.values);
  values.set(b.values, a.values.length);
  return { name: `${a.name}+${b.name}`, shape: a.shape, values, integer: a.integer, lengths: null, n: a.n + b.n };
}

function parseNpz(bytes: Uint8Array, p: FileProblem): Parsed {
  let arrays: Map<string, TensorValue>;
  try {
    arrays = readNpz(bytes);
  } catch (e) {
    return p.fail('', (e as WeightsFileError).message);
  }
  const names = [...arrays.keys()];
  const known = new Set<string>();
  const find = (role: keyof typeof NPZ_ROLES): { all?: RawField; train?: RawField; test?: RawField } => {
    const hits: { all?: RawField; train?: RawField; test?: RawField } = {};
    for (const alias of NPZ_ROLES[role]) {
      for (const [suffix, slot] of [['', 'all'], ['_train', 'train'], ['_test', 'test'], ['_eval', 'test']] as const) {
        const key = alias + suffix;
        const t = arrays.get(key);
        if (!t) continue;
        known.add(key);
        if (hits[slot]) p.fail(`array '${key}'`, `gives the ${role}${slot === 'all' ? '' : ` (${slot})`} a second time; keep one of ${NPZ_ROLES[role].map((a) => `'${a}${suffix}'`).join(', ')}`);
        hits[slot] = fieldOfTensor(p, key, t);
      }
    }
    return hits;
  };
  const inputs = find('inputs');
  const targets = find('targets');
  const weights = find('weights');
  const unknown = names.filter((k) => !known.has(k));
  if (unknown.length) p.fail(`array '${unknown[0]}'`, `is not a known name; the arrays are inputs|x, targets|y, weights|mask (optionally with _train and _test suffixes); the file holds ${names.map((k) => `'${k}'`).join(', ')}`);
  const split = !!(inputs.train || inputs.test);
  const pick = (role: string, h: { all?: RawField; train?: RawField; test?: RawField }, required: boolean): RawField | null => {
    if (split) {
      if (h.all) p.fail(`array '${h.all.name}'`, `the file splits its examples (_train/_test arrays), so the ${role} need _train and _test arrays too`);
      if (!h.train !== !h.test) p.fail('', `the ${role} have a ${h.train ? '_train' : '_test'} array but no ${h.train ? '_test (or _eval)' : '_train'} array`);
      if (!h.train || !h.test) return required ? p.fail('', `no ${role} arrays`) : null;
      return concatFields(h.train, h.test, p);
    }
    if (h.train || h.test) p.fail(`array '${(h.train ?? h.test)!.name}'`, `a _train/_test array of the ${role}, but the inputs are not split that way`);
    if (!h.all && required) p.fail('', `no inputs array: name it 'inputs' or 'x' (the file holds ${names.length ? names.map((k) => `'${k}'`).join(', ') : 'no arrays'})`);
    return h.all ?? null;
  };
  const x = pick('inputs', inputs, true)!;
  const y = pick('targets', targets, false);
  const w = pick('weights', weights, false);
  for (const f of [y, w]) if (f && f.n !== x.n) p.fail(`array '${f.name}'`, `has ${f.n} examples (first axis), the inputs '${x.name}' have ${x.n}`);
  if (split && y && (inputs.train!.n !== targets.train!.n)) p.fail(`array '${targets.train!.name}'`, `has ${targets.train!.n} examples, '${inputs.train!.name}' has ${inputs.train!.n}`);
  return { inputs: x, targets: y, weights: w, evalFrom: split ? inputs.train!.n : undefined };
}

function parseNpy(bytes: Uint8Array, p: FileProblem): Parsed {
  let t: TensorValue;
  try {
    t = readNpy(bytes, 'array');
  } catch (e) {
    return p.fail('', (e as WeightsFileError).message);
  }
  const f = fieldOfTensor(p, 'array', t);
  if (!f.integer || t.dims.length !== 2) {
    p.fail('', `a .npy file holds one array, read as integer token sequences [N, L] for language modelling; this one is ${t.dtype} of shape [${t.dims.join(', ')}]. For features and targets use an .npz (inputs/targets or x/y), a CSV or JSONL file`);
  }
  return { inputs: f, targets: null, weights: null };
}

// ---------------------------------------------------------------- CSV

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** RFC 4180 records (quoted fields, "" escapes, CRLF), each with the line it starts on; blank lines are skipped. */
function csvRecords(text: string, sep: string, p: FileProblem): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    for (;;) {
      if (i >= text.length) {
        if (quoted) p.fail(`line ${start}`, 'a quoted cell is not closed');
        cells.push(cell);
        break;
      }
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') { cell += '"'; i += 2; continue; }
          quoted = false;
          i++;
          continue;
        }
        if (c === '\n') line++;
        cell += c;
        i++;
        continue;
      }
      if (c === '"' && cell.trim() === '') { quoted = true; cell = ''; i++; continue; }
      if (c === sep) { cells.push(cell); cell = ''; i++; continue; }
      if (c === '\n' || c === '\r') {
        cells.push(cell);
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      }
      cell += c;
      i++;
    }
    if (!(cells.length === 1 && cells[0].trim() === '')) out.push({ line: start, cells: cells.map((s) => s.trim()) });
  }
  return out;
}

function parseCsv(text: string, sep: string, p: FileProblem, o: UserDataOptions): Parsed {
  const records = csvRecords(text, sep, p);
  if (records.length === 0) p.fail('', 'the file is empty');
  const first = records[0];
  const header = first.cells.every((c) => !NUMBER.test(c)) ? first.cells : null;
  const rows = header ? records.slice(1) : records;
  if (rows.length === 0) p.fail('', `the file has a header (line ${first.line}) but no data rows`);
  const width = (header ?? rows[0].cells).length;
  if (width < 2) p.fail(`line ${first.line}`, `has ${width} column; a CSV needs at least one feature column and a label column`);
  const colName = (c: number): string => (header ? `column ${c + 1} ('${header[c]}')` : `column ${c + 1}`);
  let label = width - 1;
  // a header has no numeric cells, so a numeric string (from the command line) is an index
  const lc = typeof o.labelColumn === 'string' && /^-?\d+$/.test(o.labelColumn.trim()) ? Number(o.labelColumn) : o.labelColumn;
  if (typeof lc === 'string') {
    if (!header) p.fail('', `labelColumn '${lc}' names a column, but the file has no header row`);
    label = header.indexOf(lc);
    if (label < 0) p.fail(`line ${first.line}`, `no column is named '${lc}'; the header has ${header.map((h) => `'${h}'`).join(', ')}`);
  } else if (lc !== undefined) {
    if (!Number.isSafeInteger(lc) || lc >= width || lc < -width) throw new DataError('bad_option', `data:${p.shown}: labelColumn ${lc} is outside the ${width} columns (0..${width - 1}, or -1..-${width} from the end)`);
    label = lc < 0 ? width + lc : lc;
  }
  const n = rows.length;
  const features = new Float64Array(n * (width - 1));
  const labels = new Float64Array(n);
  let integer = true;
  rows.forEach(({ line, cells }, r) => {
    if (cells.length !== width) p.fail(`line ${line}`, `has ${cells.length} cells, ${header ? `the header (line ${first.line})` : `line ${rows[0].line}`} has ${width}`);
    let f = 0;
    cells.forEach((cell, c) => {
      if (cell === '') p.fail(`line ${line}, ${colName(c)}`, 'the cell is empty');
      if (!NUMBER.test(cell)) p.fail(`line ${line}, ${colName(c)}`, `'${cell.length > 40 ? `${cell.slice(0, 40)}…` : cell}' is not a number${r === 0 && !header ? ' (a header row must have no numeric cells)' : ''}`);
      const v = Number(cell);
      if (!Number.isFinite(v)) p.fail(`line ${line}, ${colName(c)}`, `${cell} is out of range`);
      if (c === label) {
        labels[r] = v;
        if (!Number.isInteger(v)) integer = false;
      } else features[r * (width - 1) + f++] = v;
    });
  });
  const targetName = header ? header[label] : `column ${label + 1}`;
  return {
    inputs: { name: 'features', shape: [width - 1], values: features, integer: false, lengths: null, n },
    targets: { name: targetName, shape: [], values: integer ? Int32Array.from(labels) : labels, integer, lengths: null, n },
    weights: null,
  };
}

// ---------------------------------------------------------------- JSONL

const JSONL_FIELDS = ['inputs', 'targets', 'weights'] as const;

interface Item {
  line: number;
  shape: number[];
  flat: number[];
}

/** A number or nested rectangular list as (shape, flat values). */
function tensorOf(v: unknown, where: string, p: FileProblem, depth = 0): { shape: number[]; flat: number[] } {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) p.fail(where, `${v} is not a finite number`);
    return { shape: [], flat: [v] };
  }
  if (!Array.isArray(v)) return p.fail(where, `expected a number or a list of numbers, got ${v === null ? 'null' : typeof v}${typeof v === 'string' ? ` ${JSON.stringify(v.slice(0, 40))}` : ''}`);
  if (depth > 16) p.fail(where, 'lists nested deeper than 16 levels');
  const parts = v.map((x, i) => tensorOf(x, `${where}[${i}]`, p, depth + 1));
  const inner = parts[0]?.shape ?? [];
  parts.forEach((x, i) => {
    if (x.shape.join() !== inner.join()) p.fail(where, `is ragged: item 0 has shape [${inner.join(', ')}], item ${i} has shape [${x.shape.join(', ')}]`);
  });
  return { shape: [v.length, ...inner], flat: parts.flatMap((x) => x.flat) };
}

function parseJsonl(text: string, p: FileProblem): Parsed {
  const fields: Record<(typeof JSONL_FIELDS)[number], Item[]> = { inputs: [], targets: [], weights: [] };
  let n = 0;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (!s) return;
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch (e) {
      p.fail(`line ${line}`, `not JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) p.fail(`line ${line}`, 'expected an object {"inputs": …, "targets": …}');
    const o = obj as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!(JSONL_FIELDS as readonly string[]).includes(k)) p.fail(`line ${line}`, `unknown field '${k}'; the fields are ${JSONL_FIELDS.map((f) => `'${f}'`).join(', ')}`);
    }
    if (!('inputs' in o)) p.fail(`line ${line}`, "no 'inputs' field");
    for (const k of JSONL_FIELDS) {
      if (k in o) fields[k].push({ line, ...tensorOf(o[k], `line ${line}, '${k}'`, p) });
    }
    n++;
  });
  if (n === 0) p.fail('', 'the file is empty (no JSON lines)');
  for (const k of ['targets', 'weights'] as const) {
    const c = fields[k].length;
    if (c > 0 && c < n) {
      const has = new Set(fields[k].map((x) => x.line));
      const missing = fields.inputs.find((x) => !has.has(x.line))!;
      p.fail(`line ${missing.line}`, `no '${k}' field, but other lines have one (every line needs the same fields)`);
    }
  }
  const inputs = fieldOfItems(p, 'inputs', fields.inputs);
  const targets = fields.targets.length ? fieldOfItems(p, 'targets', fields.targets) : null;
  let weights: RawField | null = null;
  if (fields.weights.length) {
    const of = targets ? 'targets' : 'inputs';
    fields.weights.forEach((w, r) => {
      const t = fields[of][r];
      if (w.shape.join() !== t.shape.join()) p.fail(`line ${w.line}, 'weights'`, `has shape [${w.shape.join(', ')}], '${of}' has [${t.shape.join(', ')}] (weights go with the ${of}, value for value)`);
    });
    weights = fieldOfItems(p, 'weights', fields.weights, true);
  }
  return { inputs, targets, weights };
}

/** One field over all lines: equal shapes, or integer sequences of different lengths (padded with 0). */
function fieldOfItems(p: FileProblem, name: string, items: Item[], isWeights = false): RawField {
  const integer = items.every((x) => x.flat.every(Number.isInteger));
  const first = items[0];
  const sameShape = items.every((x) => x.shape.join() === first.shape.join());
  if (sameShape) {
    const values = integer && !isWeights ? new Int32Array(items.length * first.flat.length) : new Float64Array(items.length * first.flat.length);
    items.forEach((x, r) => {
      if (integer && !isWeights) checkInt32(p, x, name);
      values.set(x.flat, r * first.flat.length);
    });
    return { name, shape: first.shape, values, integer: integer && !isWeights, lengths: null, n: items.length };
  }
  // only a sequence's length may vary (rank 1, integer tokens; weights follow their field)
  const odd = items.find((x) => x.shape.length !== 1 || first.shape.length !== 1) ?? items.find((x) => x.shape.join() !== first.shape.join())!;
  if (first.shape.length !== 1 || odd.shape.length !== 1 || !(integer || isWeights)) {
    p.fail(`line ${odd.line}, '${name}'`, `has shape [${odd.shape.join(', ')}], line ${first.line} has [${first.shape.join(', ')}] (only integer token sequences may differ in length; they are padded)`);
  }
  const longest = items.reduce((m, x) => Math.max(m, x.shape[0]), 0);
  const values = isWeights ? new Float64Array(items.length * longest) : new Int32Array(items.length * longest);
  const lengths = new Int32Array(items.length);
  items.forEach((x, r) => {
    if (!isWeights) checkInt32(p, x, name);
    values.set(x.flat, r * longest);
    lengths[r] = x.shape[0];
  });
  return { name, shape: [longest], values, integer: !isWeights, lengths, n: items.length };
}

function checkInt32(p: FileProblem, x: Item, name: string): void {
  for (const v of x.flat) if (v > 2147483647 || v < -2147483648) p.fail(`line ${x.line}, '${name}'`, `${v} does not fit int32`);
}

// ---------------------------------------------------------------- from fields to examples

/** Pads a rank-1 field to `to` values per example (0s; lengths record the real ones). Never cuts: a longer example is an error. */
function padTo(f: RawField, to: number, p: FileProblem, role: string): RawField {
  const from = f.shape[0];
  const lengths = f.lengths ?? new Int32Array(f.n).fill(from);
  if (to === from) return { ...f, lengths };
  const longest = lengths.reduce((a, b) => Math.max(a, b), 0);
  if (to < longest) {
    const r = lengths.findIndex((l) => l === longest);
    return p.fail(`example ${r + 1}`, `the ${role} '${f.name}' hold ${longest} tokens, more than length ${to} (nothing is cut off: raise the length)`);
  }
  const values = f.values instanceof Int32Array ? new Int32Array(f.n * to) : new Float64Array(f.n * to);
  for (let r = 0; r < f.n; r++) values.set(f.values.subarray(r * from, (r + 1) * from), r * to);
  return { ...f, shape: [to], values, lengths };
}

/** A token sequence field: rank 1 per example, integers (or padded already). */
const isSequence = (f: RawField): boolean => f.shape.length === 1 && (f.integer || f.lengths !== null);

function toColumn(f: RawField, dtype: FeedDtype, p: FileProblem, role: string): Column {
  if (dtype === 'float32') return { dtype, shape: f.shape, data: Float32Array.from(f.values) };
  if (!f.integer) {
    const i = f.values.findIndex((v) => !Number.isInteger(v));
    if (i >= 0) p.fail(`the ${role} '${f.name}'`, `value ${f.values[i]} (example ${Math.floor(i / Math.max(1, sizeOf(f.shape))) + 1}) is not an integer, but int32 was asked for`);
  }
  return { dtype, shape: f.shape, data: f.values instanceof Int32Array ? f.values : Int32Array.from(f.values) };
}

/** The weights: the given ones (checked), else 1 where a padded sequence has a token, else ones. */
function weightsFor(w: RawField | null, of: RawField, hasTargets: boolean, p: FileProblem): Column {
  if (w) {
    if (w.shape.join() !== of.shape.join()) p.fail(`the weights '${w.name}'`, `have examples of shape [${w.shape.join(', ')}], the ${hasTargets ? 'targets' : 'inputs'} '${of.name}' [${of.shape.join(', ')}]`);
    for (let i = 0; i < w.values.length; i++) {
      if (!(w.values[i] >= 0)) p.fail(`the weights '${w.name}'`, `value ${w.values[i]} (example ${Math.floor(i / Math.max(1, sizeOf(w.shape))) + 1}) is negative`);
    }
    return { dtype: 'float32', shape: w.shape, data: Float32Array.from(w.values) };
  }
  const size = sizeOf(of.shape);
  const data = new Float32Array(of.n * size);
  if (of.lengths) for (let r = 0; r < of.n; r++) data.fill(1, r * size, r * size + of.lengths[r]);
  else data.fill(1);
  return { dtype: 'float32', shape: of.shape, data };
}

function maxOf(c: Column): number {
  let m = -Infinity;
  for (const v of c.data) if (v > m) m = v;
  return m;
}

function checkClasses(c: Column, name: string, p: FileProblem, role: string): void {
  const size = Math.max(1, sizeOf(c.shape));
  for (let i = 0; i < c.data.length; i++) {
    if (c.data[i] < 0) p.fail(`the ${role} '${name}'`, `value ${c.data[i]} (example ${Math.floor(i / size) + 1}) is negative; integer ${role} are class ids 0..K-1 (for regression give targetDtype float32)`);
  }
}

function readParsed(file: string, p: FileProblem, o: UserDataOptions): { parsed: Parsed; bytes: Uint8Array } {
  const ext = extname(file).toLowerCase();
  if (!(DATA_FORMATS as readonly string[]).includes(ext)) {
    throw new DataError('bad_file', `data:${p.shown}: unknown format '${ext || '(no extension)'}'; data files are ${DATA_FORMATS.join(', ')}`);
  }
  const bytes = readFileSync(file);
  if (bytes.length === 0) p.fail('', 'the file is empty');
  if (ext === '.npz') return { parsed: parseNpz(bytes, p), bytes };
  if (ext === '.npy') return { parsed: parseNpy(bytes, p), bytes };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return p.fail('', 'not UTF-8 text');
  }
  if (ext === '.jsonl' || ext === '.ndjson') return { parsed: parseJsonl(text, p), bytes };
  return { parsed: parseCsv(text, ext === '.tsv' ? '\t' : ',', p, o), bytes };
}

/** `file` is the path to read; `shown` is how messages name it. */
export function userDataTask(file: string, shown: string, o: UserDataOptions): Task {
  const p = new FileProblem(shown);
  const spec = `data:${shown}`;
  const badOption = (msg: string): never => { throw new DataError('bad_option', `${spec}: ${msg}`); };
  const fraction = o.evalFraction ?? 0.1;
  if (!(fraction >= 0 && fraction < 1)) badOption(`evalFraction must be in [0, 1), got ${fraction}`);
  if (o.split !== undefined && o.split !== 'last' && o.split !== 'random') badOption(`split must be 'last' or 'random', got ${JSON.stringify(o.split)}`);
  if (o.length !== undefined && !(Number.isSafeInteger(o.length) && o.length >= 1)) badOption(`length must be a positive integer, got ${o.length}`);
  if (o.evalBatches !== undefined && !(Number.isSafeInteger(o.evalBatches) && o.evalBatches >= 1)) badOption(`evalBatches must be a positive integer, got ${o.evalBatches}`);
  for (const k of ['inputDtype', 'targetDtype'] as const) {
    if (o[k] !== undefined && o[k] !== 'float32' && o[k] !== 'int32') badOption(`${k} must be 'float32' or 'int32', got ${JSON.stringify(o[k])}`);
  }

  if (o.labelColumn !== undefined && !/\.(csv|tsv)$/i.test(file)) badOption('labelColumn applies only to CSV files');
  const { parsed, bytes } = readParsed(file, p, o);
  if (parsed.inputs.n === 0) p.fail('', 'holds no examples');
  let inputs = parsed.inputs;
  let targets = parsed.targets;
  let weights = parsed.weights;
  if (o.length !== undefined) {
    if (!isSequence(inputs) && !(targets && isSequence(targets))) badOption('length applies to token sequences, and this file holds none');
    if (isSequence(inputs)) inputs = padTo(inputs, o.length, p, 'inputs');
    if (targets && isSequence(targets)) targets = padTo(targets, o.length, p, 'targets');
  }
  // weights given value for value with padded targets are padded with them (weight 0 on the padding)
  const weighed = parsed.targets ?? parsed.inputs;
  if (weights && weights.shape.length === 1 && weights.shape.join() === weighed.shape.join()) weights = padTo(weights, (targets ?? inputs).shape[0], p, 'weights');

  // kind, dtypes, loss
  let kind: TaskKind;
  if (!targets) {
    if (!inputs.integer || inputs.shape.length !== 1) p.fail('', `no targets, so this is language modelling, which needs integer token sequences; the inputs '${inputs.name}' are ${inputs.integer ? 'integers' : 'floats'} of shape [${inputs.shape.join(', ')}] per example`);
    kind = 'language_model';
  } else {
    const targetDtype = o.targetDtype ?? (targets.integer ? 'int32' : 'float32');
    kind = targetDtype === 'float32' ? 'regression' : targets.shape.length === 0 ? 'classification' : 'sequence';
  }
  const inputDtype = o.inputDtype ?? (inputs.integer ? 'int32' : 'float32');
  if (kind === 'language_model' && inputDtype !== 'int32') badOption('inputDtype float32 leaves a language-modelling file (no targets) without token ids');
  const inCol = toColumn(inputs, inputDtype, p, 'inputs');
  const tgCol = targets ? toColumn(targets, kind === 'regression' ? 'float32' : 'int32', p, 'targets') : null;
  if (tgCol && kind !== 'regression') checkClasses(tgCol, targets!.name, p, 'targets');
  if (kind === 'language_model') checkClasses(inCol, inputs.name, p, 'inputs');
  const wCol = weightsFor(weights, targets ?? inputs, !!targets, p);
  const all: Examples = { n: inputs.n, inputs: [inCol], targets: tgCol, weights: wCol };

  // split
  let trainRows: Int32Array;
  let evalRows: Int32Array;
  if (parsed.evalFrom !== undefined) {
    if (o.evalFraction !== undefined || o.split !== undefined) badOption('the file splits its examples itself (_train/_test arrays); evalFraction and split do not apply');
    trainRows = Int32Array.from({ length: parsed.evalFrom }, (_, i) => i);
    evalRows = Int32Array.from({ length: all.n - parsed.evalFrom }, (_, i) => parsed.evalFrom! + i);
  } else {
    const nEval = fraction > 0 ? Math.max(1, Math.round(all.n * fraction)) : 0;
    if (all.n - nEval < 1) p.fail('', `holds ${all.n} example${all.n === 1 ? '' : 's'}: too few to hold out ${nEval} for evaluation (evalFraction ${fraction})`);
    const order = o.split === 'random' ? permutation(RandomStream.for(0, 'data/split', 0), all.n) : Int32Array.from({ length: all.n }, (_, i) => i);
    trainRows = order.slice(0, all.n - nEval).sort();
    evalRows = order.slice(all.n - nEval).sort();
  }
  if (trainRows.length === 0) p.fail('', 'the training split is empty');
  const train = subset(all, trainRows);
  let evalSet = subset(all, evalRows);
  const B = o.batchSize;
  if (o.evalBatches !== undefined && evalSet.n > o.evalBatches * B) evalSet = subset(evalSet, Int32Array.from({ length: o.evalBatches * B }, (_, i) => i));
  const evalBatches = evalSet.n > 0 ? orderedBatches(evalSet, B) : null;

  const tokens = inputDtype === 'int32';
  const nClasses = tgCol && kind !== 'regression' ? maxOf(tgCol) + 1 : kind === 'language_model' ? maxOf(inCol) + 1 : undefined;
  const vocabSize = kind === 'language_model' ? nClasses : tokens && inputs.shape.length === 1 ? Math.max(maxOf(inCol) + 1, kind === 'sequence' ? nClasses! : 0) : undefined;
  const range = (c: Column): [number, number] | undefined => (c.dtype === 'int32' && c === inCol && vocabSize !== undefined ? [0, vocabSize - 1] : undefined);
  const shapeOf = (c: Column): number[] => [B, ...c.shape];
  const format = extname(file).toLowerCase().slice(1);
  const splitText = parsed.evalFrom !== undefined ? 'split by the file' : `${o.split === 'random' ? 'a fixed random' : 'the last'} ${Math.round(fraction * 100)}% held out`;
  return makeTask({
    spec,
    kind,
    description: `${spec}: ${format}, ${kind.replace('_', ' ')}, ${train.n} train / ${evalSet.n} eval examples (${splitText}), inputs ${inCol.dtype}[${inCol.shape.join(', ')}]${tgCol ? `, targets ${tgCol.dtype}[${tgCol.shape.join(', ')}]` : ''}${nClasses !== undefined ? `, ${nClasses} classes` : ''}`,
    signature: {
      inputs: [{ name: 'inputs', dtype: inCol.dtype, shape: shapeOf(inCol), range: range(inCol) }],
      targets: tgCol
        ? { name: 'targets', dtype: tgCol.dtype, shape: shapeOf(tgCol), range: kind === 'regression' ? undefined : [0, nClasses! - 1] }
        : { name: 'inputs', dtype: 'int32', shape: shapeOf(inCol), range: [0, vocabSize! - 1] },
      weights: { name: 'weights', dtype: 'float32', shape: shapeOf(wCol) },
      targetsAreInputs: !tgCol,
    },
    loss: kind === 'regression' ? 'L2Loss' : 'CrossEntropyLoss',
    metrics: kind === 'regression' ? [] : kind === 'sequence' ? ['WeightedCategoryAccuracy', 'MaskedSequenceAccuracy'] : ['WeightedCategoryAccuracy'],
    vocabSize,
    nClasses,
    batchSize: B,
    seed: o.seed,
    trainExamples: train.n,
    evalExamples: evalSet.n,
    evalBatchCount: evalBatches?.count ?? 0,
    fingerprint: digest('data', bytes, JSON.stringify({ ...o, batchSize: undefined, seed: undefined, evalBatches: undefined })),
    trainBatch: shuffledBatches(train, B, o.seed, 'data/train'),
    evalBatch: (i) => {
      if (!evalBatches) throw new DataError('bad_position', `${spec}: there are no eval batches (evalFraction is 0)`);
      return evalBatches.batch(i);
    },
  });
}
