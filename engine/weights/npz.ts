/**
 * Weights files: NumPy's .npz (a zip of `<key>.npy` arrays, as `np.savez`
 * writes and `np.load` reads), so a model's weights open in Python with
 * `np.load('model.npz')['Serial[1]/Dense/kernel']`.
 *
 * Writing: NPY format 1.0 (2.0 when a header outgrows 64 KiB), headers
 * exactly as NumPy writes them (same dict, same growth padding, total header
 * aligned to 64 bytes), stored (uncompressed) zip entries with a fixed
 * timestamp, so the same weights give the same bytes. bfloat16 has no NumPy
 * descr: it is written as '<f4' (exact: every bfloat16 is a float32).
 *
 * Reading: what np.savez / np.savez_compressed write (stored or deflated
 * entries, zip64 records, NPY versions 1.0, 2.0 and 3.0, little- and
 * big-endian data, 0-d and empty arrays). Fortran order is accepted only
 * where its bytes equal C order (at most one axis longer than 1). Every
 * problem (a corrupt zip, a CRC mismatch, a bad header, an unsupported
 * dtype, truncated data) is a WeightsFileError, never another exception.
 */
import { inflateSync, zipSync } from 'fflate';
import type { ElemType, TensorValue } from '../core/onnx';

/** A weights file that cannot be read or does not fit the model; `key` names the array when one is at fault. */
export class WeightsFileError extends Error {
  constructor(message: string, readonly key?: string) {
    super(message);
    this.name = 'WeightsFileError';
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

// ---------------------------------------------------------------- dtypes

interface NpyType {
  dtype: ElemType;
  size: number;
}

/** NPY type codes (without the byte-order character) that Strata reads. */
const NPY_TYPES: Record<string, NpyType> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  f2: { dtype: 'float16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  u1: { dtype: 'uint8', size: 1 },
  b1: { dtype: 'bool', size: 1 },
};

/** The NPY descr a dtype is written with. */
export const NPY_DESCR: Record<ElemType, string> = {
  float32: '<f4', float64: '<f8', float16: '<f2', int32: '<i4', int64: '<i8', int8: '|i1', uint8: '|u1', bool: '|b1',
  bfloat16: '<f4', // no NumPy descr: written as float32 (exact)
};

const fmtShape = (dims: readonly number[]): string => `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;

// ---------------------------------------------------------------- writing

/** Little-endian bytes of a tensor's data in its NPY descr. */
function dataBytes(key: string, t: TensorValue): Uint8Array {
  const n = t.dims.reduce((a, d) => a * d, 1);
  const d = t.data;
  if (d.length !== n) throw new WeightsFileError(`'${key}': shape ${fmtShape(t.dims)} needs ${n} values, the tensor holds ${d.length}`, key);
  let out: ArrayBufferView;
  switch (t.dtype) {
    case 'bfloat16': {
      const f = new Float32Array(n);
      const u = new Uint32Array(f.buffer);
      for (let i = 0; i < n; i++) u[i] = ((d[i] as number) & 0xffff) << 16;
      out = f;
      break;
    }
    case 'bool': out = Uint8Array.from(d as ArrayLike<number>, (x) => (x ? 1 : 0)); break;
    case 'int8': out = Int8Array.from(d as ArrayLike<number>); break;
    case 'uint8': out = Uint8Array.from(d as ArrayLike<number>); break;
    case 'float32': out = d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>); break;
    case 'float64': out = d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>); break;
    case 'float16': out = d instanceof Uint16Array ? d : Uint16Array.from(d as ArrayLike<number>); break;
    case 'int32': out = d instanceof Int32Array ? d : Int32Array.from(d as ArrayLike<number>); break;
    case 'int64': {
      if (!(d instanceof BigInt64Array)) throw new WeightsFileError(`'${key}': int64 data must be a BigInt64Array`, key);
      out = d;
      break;
    }
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const item = (out as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  return LITTLE_ENDIAN || item === 1 ? bytes : swapped(bytes, item);
}

function swapped(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j];
  return out;
}

/** numpy.lib.format: headers are padded so that shape[0] can grow in place (GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_AXIS_MAX_DIGITS = 21;
const ARRAY_ALIGN = 64;

/** The NPY header (magic, version, length, dict) NumPy writes for this descr and shape. */
export function npyHeader(descr: string, dims: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${fmtShape(dims)}, }`;
  if (dims.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(dims[0]).length));
  for (const version of [1, 2]) {
    const lenBytes = version === 1 ? 2 : 4;
    const hlen = dict.length + 1;
    const pad = ARRAY_ALIGN - ((8 + lenBytes + hlen) % ARRAY_ALIGN);
    const total = hlen + pad;
    if (version === 1 && total >= 65536) continue;
    const out = new Uint8Array(8 + lenBytes + total);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const dv = new DataView(out.buffer);
    if (version === 1) dv.setUint16(8, total, true);
    else dv.setUint32(8, total, true);
    const text = dict + ' '.repeat(pad) + '\n';
    for (let i = 0; i < text.length; i++) out[8 + lenBytes + i] = text.charCodeAt(i);
    return out;
  }
  throw new WeightsFileError(`an NPY header of ${dict.length} bytes is too long`);
}

/** One array as a .npy file (what np.save writes). */
export function writeNpy(t: TensorValue, key = 'array'): Uint8Array {
  if (!Object.prototype.hasOwnProperty.call(NPY_DESCR, t.dtype)) throw new WeightsFileError(`'${key}': dtype ${String(t.dtype)} cannot be written`, key);
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new WeightsFileError(`'${key}': bad shape ${JSON.stringify(t.dims)}`, key);
  const head = npyHeader(NPY_DESCR[t.dtype], t.dims);
  const body = dataBytes(key, t);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A fixed timestamp (1980-01-01 00:00 local: DOS time in the zip is local time) so the bytes depend only on the weights. */
const EPOCH = new Date(1980, 0, 1, 0, 0, 0);

/** An .npz of the entries, in order (uncompressed, as np.savez writes). */
export function writeNpz(entries: readonly (readonly [string, TensorValue])[]): Uint8Array {
  const files: Record<string, Uint8Array> = Object.create(null) as Record<string, Uint8Array>;
  for (const [key, t] of entries) {
    if (!key) throw new WeightsFileError('a weights file key must not be empty', key);
    const name = `${key}.npy`;
    if (name in files) throw new WeightsFileError(`the key '${key}' appears twice`, key);
    files[name] = writeNpy(t, key);
  }
  return zipSync(files, { level: 0, mtime: EPOCH });
}

// ---------------------------------------------------------------- reading: zip

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

function crc32(b: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/** Bounds-checked little-endian reads; any read past the end is a corrupt file. */
class Reader {
  constructor(readonly b: Uint8Array, private readonly what: string) {}
  check(at: number, n: number): void {
    if (!(at >= 0 && n >= 0 && at + n <= this.b.length)) throw new WeightsFileError(`not a valid .npz file: ${this.what} is truncated`);
  }
  u16(at: number): number {
    this.check(at, 2);
    return this.b[at] | (this.b[at + 1] << 8);
  }
  u32(at: number): number {
    this.check(at, 4);
    return (this.b[at] | (this.b[at + 1] << 8) | (this.b[at + 2] << 16) | (this.b[at + 3] << 24)) >>> 0;
  }
  u64(at: number): number {
    const lo = this.u32(at);
    const hi = this.u32(at + 4);
    if (hi >= 0x200000) throw new WeightsFileError(`not a valid .npz file: ${this.what} holds an impossible size`);
    return hi * 4294967296 + lo;
  }
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CEN = 0x02014b50;
const SIG_LOC = 0x04034b50;

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8').decode(bytes);
  let s = '';
  for (const c of bytes) s += String.fromCharCode(c);
  return s;
}

/** The central directory of a zip (bounded by the file's size: no entry count can run away). */
function zipEntries(b: Uint8Array): ZipEntry[] {
  const r = new Reader(b, 'the zip directory');
  if (b.length < 22) throw new WeightsFileError(`not a valid .npz file: ${b.length} bytes is too short for a zip archive`);
  let e = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (r.u32(i) === SIG_EOCD && i + 22 + r.u16(i + 20) <= b.length) { e = i; break; }
  }
  if (e < 0) throw new WeightsFileError('not a valid .npz file: no zip end-of-directory record (is it a zip archive?)');
  let count = r.u16(e + 10);
  let cdSize = r.u32(e + 12);
  let cdOffset = r.u32(e + 16);
  if (e >= 20 && r.u32(e - 20) === SIG_LOC64) {
    const z = r.u64(e - 12);
    if (r.u32(z) !== SIG_EOCD64) throw new WeightsFileError('not a valid .npz file: the zip64 end-of-directory record is missing');
    count = r.u64(z + 32);
    cdSize = r.u64(z + 40);
    cdOffset = r.u64(z + 48);
  }
  r.check(cdOffset, cdSize);
  if (count * 46 > cdSize) throw new WeightsFileError(`not a valid .npz file: ${count} entries do not fit a ${cdSize}-byte zip directory`);
  const out: ZipEntry[] = [];
  let o = cdOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > cdOffset + cdSize || r.u32(o) !== SIG_CEN) throw new WeightsFileError(`not a valid .npz file: zip directory entry ${i} is corrupt`);
    const flags = r.u16(o + 8);
    const method = r.u16(o + 10);
    const crc = r.u32(o + 16);
    let csize = r.u32(o + 20);
    let usize = r.u32(o + 24);
    const nlen = r.u16(o + 28);
    const xlen = r.u16(o + 30);
    const clen = r.u16(o + 32);
    let offset = r.u32(o + 42);
    r.check(o + 46, nlen + xlen + clen);
    const name = decodeName(b.subarray(o + 46, o + 46 + nlen), (flags & 0x800) !== 0);
    // zip64 extra field: the 64-bit values of the fields that are 0xFFFFFFFF, in this order
    let x = o + 46 + nlen;
    const xend = x + xlen;
    while (x + 4 <= xend) {
      const id = r.u16(x);
      const len = r.u16(x + 2);
      if (x + 4 + len > xend) break;
      if (id === 0x0001) {
        let p = x + 4;
        const take = (): number => {
          if (p + 8 > x + 4 + len) throw new WeightsFileError(`not a valid .npz file: the zip64 field of '${name}' is short`);
          const v = r.u64(p);
          p += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (offset === 0xffffffff) offset = take();
      }
      x += 4 + len;
    }
    out.push({ name, method, flags, crc, csize, usize, offset });
    o = xend + clen;
  }
  return out;
}

/** The uncompressed bytes of one entry, CRC-checked. */
function entryData(b: Uint8Array, z: ZipEntry, key: string): Uint8Array {
  const r = new Reader(b, `the zip entry '${z.name}'`);
  if (z.flags & 1) throw new WeightsFileError(`'${key}': encrypted zip entries are not supported`, key);
  if (r.u32(z.offset) !== SIG_LOC) throw new WeightsFileError(`not a valid .npz file: the zip entry '${z.name}' is corrupt`, key);
  const start = z.offset + 30 + r.u16(z.offset + 26) + r.u16(z.offset + 28);
  r.check(start, z.csize);
  const raw = b.subarray(start, start + z.csize);
  let data: Uint8Array;
  if (z.method === 0) data = raw;
  else if (z.method === 8) {
    if (z.usize > z.csize * 1032 + 1024) throw new WeightsFileError(`not a valid .npz file: the zip entry '${z.name}' claims an impossible size`, key);
    try {
      data = inflateSync(raw);
    } catch (e) {
      throw new WeightsFileError(`not a valid .npz file: the zip entry '${z.name}' does not inflate (${(e as Error).message})`, key);
    }
  } else throw new WeightsFileError(`'${key}': zip compression method ${z.method} is not supported (only stored and deflated entries)`, key);
  if (data.length !== z.usize) throw new WeightsFileError(`not a valid .npz file: the zip entry '${z.name}' holds ${data.length} bytes, its directory says ${z.usize}`, key);
  if (crc32(data) !== z.crc) throw new WeightsFileError(`not a valid .npz file: the zip entry '${z.name}' fails its CRC check (the file is corrupt)`, key);
  return data;
}

// ---------------------------------------------------------------- reading: npy

type HeaderValue = string | number | boolean | null | HeaderValue[] | { [k: string]: HeaderValue };

/** Parses the Python literal of an NPY header (a dict of strings, bools, ints, tuples and lists); throws plain Errors. */
function parseHeader(text: string): HeaderValue {
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const fail = (what: string): never => { throw new Error(`${what} at character ${i}`); };
  const value = (depth: number): HeaderValue => {
    if (depth > 32) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{' || c === '(' || c === '[') {
      const close = c === '{' ? '}' : c === '(' ? ')' : ']';
      i++;
      const items: HeaderValue[] = [];
      const dict: Record<string, HeaderValue> = Object.create(null) as Record<string, HeaderValue>;
      for (;;) {
        ws();
        if (text[i] === close) { i++; break; }
        const v = value(depth + 1);
        if (c === '{') {
          if (typeof v !== 'string') fail('a dict key that is not a string');
          ws();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          dict[v as string] = value(depth + 1);
        } else items.push(v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
      }
      return c === '{' ? dict : items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('an unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (!m) return fail('an unexpected character');
    i += m[0].length;
    return m[0] === 'True' ? true : m[0] === 'False' ? false : m[0] === 'None' ? null : Number(m[0].replace(/L$/, ''));
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing text');
  return v;
}

/** One .npy file's array (`key` names it in errors). Throws only WeightsFileError. */
export function readNpy(bytes: Uint8Array, key = 'array'): TensorValue {
  return guarded(() => parseNpy(bytes, key), key);
}

function parseNpy(bytes: Uint8Array, key: string): TensorValue {
  const bad = (why: string): never => { throw new WeightsFileError(`'${key}': ${why}`, key); };
  const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) bad('not an .npy array (no \\x93NUMPY magic)');
  const major = bytes[6];
  const minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) bad(`unsupported .npy format version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) bad('the .npy header is truncated');
  const hlen = major === 1 ? bytes[8] | (bytes[9] << 8) : (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (bytes[11] << 24)) >>> 0;
  const start = 8 + lenBytes;
  if (start + hlen > bytes.length) bad(`the .npy header is truncated (it claims ${hlen} bytes, ${bytes.length - start} remain)`);
  const raw = bytes.subarray(start, start + hlen);
  let text = '';
  if (major === 3) {
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch { bad('the .npy header is not UTF-8'); }
  } else for (const c of raw) text += String.fromCharCode(c);
  let h: HeaderValue;
  try {
    h = parseHeader(text);
  } catch (e) {
    return bad(`bad .npy header ${JSON.stringify(text.trim().slice(0, 100))}: ${(e as Error).message}`);
  }
  if (typeof h !== 'object' || h === null || Array.isArray(h)) return bad('bad .npy header: not a dict');
  const keys = Object.keys(h).sort().join(',');
  if (keys !== 'descr,fortran_order,shape') bad(`bad .npy header: keys ${keys || '(none)'}, expected descr, fortran_order, shape`);
  const { descr, fortran_order: fortran, shape } = h as Record<string, HeaderValue>;
  if (typeof descr !== 'string') return bad(`unsupported dtype ${JSON.stringify(descr)} (structured arrays cannot be weights)`);
  if (typeof fortran !== 'boolean') bad('bad .npy header: fortran_order is not True or False');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return bad(`bad .npy header: shape ${JSON.stringify(shape)} is not a tuple of non-negative integers`);
  }
  const dims = shape as number[];
  const order = descr[0];
  const code = descr.slice(1);
  const type = Object.prototype.hasOwnProperty.call(NPY_TYPES, code) ? NPY_TYPES[code] : undefined;
  if (!type || !'<>|='.includes(order) || descr.length !== 3) {
    const hint = code === 'V2' ? ' (bfloat16? write it as float32)' : '';
    return bad(`unsupported dtype '${descr}'${hint}; weights files hold ${Object.keys(NPY_TYPES).join(', ')}`);
  }
  if (type.size > 1 && order === '|') bad(`bad dtype '${descr}': a ${type.size}-byte type needs a byte order`);
  const bigEndian = type.size > 1 && (order === '>' || (order === '=' && !LITTLE_ENDIAN));
  if (fortran && dims.filter((d) => d > 1).length > 1) {
    bad(`Fortran-order arrays are not supported (shape ${fmtShape(dims)}); save it in C order (np.ascontiguousarray)`);
  }
  const dataStart = start + hlen;
  const available = bytes.length - dataStart;
  let count = 1;
  for (const d of dims) count *= d;
  if (count * type.size > available) bad(`the data is truncated: shape ${fmtShape(dims)} of '${descr}' needs ${count * type.size} bytes, ${available} remain`);
  // a copy, aligned and owned (not slice(): a Node Buffer's slice shares memory)
  let body = new Uint8Array(count * type.size);
  body.set(bytes.subarray(dataStart, dataStart + body.length));
  if (bigEndian !== !LITTLE_ENDIAN && type.size > 1) body = swapped(body, type.size);
  const buf = body.buffer;
  let data: TensorValue['data'];
  switch (type.dtype) {
    case 'float32': data = new Float32Array(buf, 0, count); break;
    case 'float64': data = new Float64Array(buf, 0, count); break;
    case 'float16': data = new Uint16Array(buf, 0, count); break;
    case 'int32': data = new Int32Array(buf, 0, count); break;
    case 'int64': data = new BigInt64Array(buf, 0, count); break;
    case 'int8': data = Int32Array.from(new Int8Array(buf, 0, count)); break;
    case 'uint8': data = Int32Array.from(body); break;
    default: data = Int32Array.from(body, (x) => (x ? 1 : 0)); break; // bool
  }
  return { dtype: type.dtype, dims: [...dims], data };
}

/** Entries zip tools add that are not arrays. */
const isJunk = (name: string): boolean => name.endsWith('/') || name.startsWith('__MACOSX/');

/**
 * The arrays of an .npz file by key (the entry name without `.npy`), in file
 * order. Throws only WeightsFileError.
 */
export function readNpz(bytes: Uint8Array): Map<string, TensorValue> {
  return guarded(() => {
    const out = new Map<string, TensorValue>();
    for (const z of zipEntries(bytes)) {
      if (isJunk(z.name)) continue;
      if (!z.name.endsWith('.npy')) throw new WeightsFileError(`the entry '${z.name}' is not an .npy array`, z.name);
      const key = z.name.slice(0, -4);
      if (out.has(key)) throw new WeightsFileError(`the key '${key}' appears twice`, key);
      out.set(key, parseNpy(entryData(bytes, z, key), key));
    }
    return out;
  });
}

/** Runs a reader; anything but a WeightsFileError (a bug, an exhausted resource) is reported as a file problem rather than a crash. */
function guarded<T>(read: () => T, key?: string): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof WeightsFileError) throw e;
    throw new WeightsFileError(`cannot read the weights file${key ? ` entry '${key}'` : ''}: ${e instanceof Error ? e.message : String(e)}`, key);
  }
}
