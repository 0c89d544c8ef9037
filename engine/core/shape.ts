/**
 * ShapeDtype: what one stack item is (Trax's `ShapeDtype`). A signature is a
 * list of them, top of the stack first.
 */
import { type Dim, DimSyntaxError, dimProd, isSymbolic, parseDim } from './dim';
import { LayerError } from './errors';

export const DTYPES = ['float32', 'float16', 'bfloat16', 'float64', 'int32', 'int64', 'int8', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

export interface ShapeDtype {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export type Signature = readonly ShapeDtype[];

export function sd(dtype: DType, shape: readonly Dim[]): ShapeDtype {
  return { dtype, shape };
}

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && (DTYPES as readonly string[]).includes(s);
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float16' || d === 'bfloat16' || d === 'float64';
}
export function isInt(d: DType): boolean {
  return d === 'int32' || d === 'int64' || d === 'int8' || d === 'uint8';
}

const RANK: Record<DType, number> = {
  bool: 0, uint8: 1, int8: 1, int32: 2, int64: 3, bfloat16: 4, float16: 4, float32: 5, float64: 6,
};

/** JAX-style promotion (x64 off): bool < ints < floats; two different 16-bit floats give float32. */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if ((a === 'bfloat16' && b === 'float16') || (a === 'float16' && b === 'bfloat16')) return 'float32';
  return RANK[a] >= RANK[b] ? a : b;
}

/** The float dtype a computation on `d` produces (ints and bools become float32). */
export function floatOf(d: DType): DType {
  return isFloat(d) ? d : 'float32';
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(',')}]`;
}

export function formatShapeDtype(x: ShapeDtype): string {
  return `${x.dtype}[${x.shape.join(',')}]`;
}

export function formatStack(stack: readonly ShapeDtype[] | null): string {
  if (stack === null) return '(unknown)';
  return stack.length === 0 ? '(empty)' : stack.map(formatShapeDtype).join(', ');
}

export class SignatureSyntaxError extends Error {}

/** Parses `float32[2,3]`, `int32[B,128]`, `float32[]` (a scalar). */
export function parseShapeDtype(src: string): ShapeDtype {
  const m = /^\s*([a-z0-9]+)\s*\[(.*)\]\s*$/.exec(src);
  if (!m) throw new SignatureSyntaxError(`'${src}' is not a signature; write dtype[dims], e.g. float32[2,3] or int32[B,128]`);
  const dtype = m[1];
  if (!isDType(dtype)) throw new SignatureSyntaxError(`unknown dtype '${dtype}' in '${src}'; expected one of ${DTYPES.join(', ')}`);
  const body = m[2].trim();
  const shape: Dim[] = [];
  if (body !== '') {
    for (const part of splitTopLevel(body)) {
      if (part.trim() === '') throw new SignatureSyntaxError(`empty dimension in '${src}'`);
      let d: Dim;
      try {
        d = parseDim(part);
      } catch (e) {
        if (e instanceof DimSyntaxError) throw new SignatureSyntaxError(`${e.message} in '${src}'`);
        throw e;
      }
      if (typeof d === 'number' && d < 0) throw new SignatureSyntaxError(`negative dimension in '${src}'`);
      shape.push(d);
    }
  }
  return { dtype, shape };
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out;
}

/** Checks a JSON value `{dtype, shape}` (as the CLI and documents carry it). */
export function shapeDtypeFromJson(v: unknown, where: string): ShapeDtype {
  if (typeof v === 'string') return parseShapeDtype(v);
  if (typeof v !== 'object' || v === null) throw new SignatureSyntaxError(`${where}: expected {"dtype", "shape"}`);
  const o = v as Record<string, unknown>;
  const dtype = o.dtype ?? 'float32';
  if (!isDType(dtype)) throw new SignatureSyntaxError(`${where}.dtype: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(o.shape)) throw new SignatureSyntaxError(`${where}.shape: expected an array of dimensions`);
  const shape: Dim[] = o.shape.map((d, i) => {
    if (typeof d === 'number' && Number.isInteger(d) && d >= 0) return d;
    if (typeof d === 'string') {
      try { return parseDim(d); } catch (e) {
        throw new SignatureSyntaxError(`${where}.shape[${i}]: ${(e as Error).message}`);
      }
    }
    throw new SignatureSyntaxError(`${where}.shape[${i}]: expected a non-negative integer or a symbol, got ${JSON.stringify(d)}`);
  });
  return { dtype, shape };
}

export function shapeDtypeToJson(x: ShapeDtype): { dtype: DType; shape: Dim[] } {
  return { dtype: x.dtype, shape: [...x.shape] };
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameShapeDtype(a: ShapeDtype, b: ShapeDtype): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

/** Stable string key of a signature (memo keys). */
export function signatureKey(sig: readonly ShapeDtype[]): string {
  let k = '';
  for (const x of sig) k += `${x.dtype}[${x.shape.join(',')}];`;
  return k;
}

/** Number of elements (symbolic where the shape is). */
export function numel(shape: readonly Dim[]): Dim {
  return dimProd(shape);
}

// ---------------------------------------------------------------- broadcasting

/** NumPy broadcasting of two shapes; a symbol broadcasts against 1 and itself only. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      const hint = isSymbolic(da) || isSymbolic(db) ? ' (a symbolic dimension only broadcasts with 1 or itself)' : '';
      throw new LayerError('shape_mismatch', `shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast: axis ${i - n} has ${da} and ${db}${hint}`, {
        expected: 'shapes that broadcast (equal dimensions, or 1)',
      });
    }
  }
  return out;
}

export function broadcastAll(shapes: readonly (readonly Dim[])[]): Dim[] {
  let acc: Dim[] = [];
  for (const s of shapes) acc = broadcastShapes(acc, s);
  return acc;
}

/** Normalises a possibly negative axis against a rank; LayerError when out of range. */
export function normAxis(axis: number, rank: number, what = 'axis'): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new LayerError('rank', `${what} ${axis} is out of range for an input of rank ${rank}`, {
      expected: `an axis in [${-rank}, ${rank - 1}]`,
    });
  }
  return a;
}

export function requireRank(x: ShapeDtype, min: number, what = 'input'): void {
  if (x.shape.length < min) {
    throw new LayerError('rank', `expects ${what} of rank >= ${min}, got shape ${formatShape(x.shape)}`, {
      expected: `rank >= ${min}`,
    });
  }
}

export function requireExactRank(x: ShapeDtype, rank: number, what = 'input'): void {
  if (x.shape.length !== rank) {
    throw new LayerError('rank', `expects ${what} of rank ${rank}, got shape ${formatShape(x.shape)}`, {
      expected: `rank ${rank}`,
    });
  }
}

/** Two dims that must be equal; symbolic dims must match by name. */
export function requireDimEq(a: Dim, b: Dim, what: string): void {
  if (a !== b) {
    throw new LayerError('shape_mismatch', `${what}: ${a} != ${b}`, { expected: `${what} to match` });
  }
}
