/**
 * Tensors as JSON (`strata run --inputs FILE.json` and its output):
 * `{"dtype": "float32", "shape": [2, 3], "data": [...flat...]}`. Nested data
 * arrays are accepted too; every problem is an error naming the tensor and
 * the field.
 */
import type { TensorValue } from './onnx';
import { DTYPES, isDType } from './shape';

export class TensorJsonError extends Error {}

function num(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === 'nan' || v === 'NaN') return NaN;
  if (v === 'inf' || v === 'Infinity') return Infinity;
  if (v === '-inf' || v === '-Infinity') return -Infinity;
  throw new TensorJsonError(`${where}: ${JSON.stringify(v)} is not a number`);
}

function flatten(v: unknown, where: string, out: unknown[]): void {
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) flatten(v[i], where, out);
  else out.push(v);
}

export function tensorFromJson(v: unknown, where: string): TensorValue {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TensorJsonError(`${where}: expected {"dtype", "shape", "data"}`);
  const o = v as Record<string, unknown>;
  const dtype = o.dtype ?? 'float32';
  if (!isDType(dtype)) throw new TensorJsonError(`${where}.dtype: ${JSON.stringify(dtype)} is not one of ${DTYPES.join(', ')}`);
  if (!Array.isArray(o.shape) || !o.shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new TensorJsonError(`${where}.shape: expected an array of non-negative integers, got ${JSON.stringify(o.shape)}`);
  }
  const dims = o.shape as number[];
  const n = dims.reduce((a, d) => a * d, 1);
  const flat: unknown[] = [];
  if (o.data === undefined) throw new TensorJsonError(`${where}.data: missing`);
  flatten(o.data, `${where}.data`, flat);
  if (flat.length !== n) throw new TensorJsonError(`${where}.data: shape [${dims.join(',')}] needs ${n} values, got ${flat.length}`);
  const values = flat.map((x, i) => num(x, `${where}.data[${i}]`));
  switch (dtype) {
    case 'float32': case 'float16': case 'bfloat16': return { dtype: 'float32', dims, data: Float32Array.from(values) };
    case 'float64': return { dtype: 'float64', dims, data: Float64Array.from(values) };
    case 'bool': return { dtype: 'bool', dims, data: Int32Array.from(values, (x) => (x ? 1 : 0)) };
    default: {
      const bad = values.findIndex((x) => !Number.isInteger(x));
      if (bad >= 0) throw new TensorJsonError(`${where}.data[${bad}]: ${values[bad]} is not an integer, as ${dtype} needs`);
      if (dtype === 'int64') return { dtype: 'int64', dims, data: BigInt64Array.from(values.map((x) => BigInt(x))) };
      return { dtype, dims, data: Int32Array.from(values) };
    }
  }
}

export function tensorsFromJsonText(text: string, file: string): TensorValue[] {
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new TensorJsonError(`${file}: not valid JSON: ${(e as Error).message}`); }
  if (!Array.isArray(v)) throw new TensorJsonError(`${file}: expected an array of tensors in stack order (top first)`);
  return v.map((t, i) => tensorFromJson(t, `${file}[${i}]`));
}

/** JSON-safe numbers (NaN and infinities as strings). */
function jsonNumber(x: number): number | string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return x;
}

export function tensorToJson(t: TensorValue): { dtype: string; shape: number[]; data: (number | string | boolean)[] } {
  const data = t.dtype === 'bool'
    ? Array.from(t.data as ArrayLike<number>, (x) => !!x)
    : t.dtype === 'int64' ? Array.from(t.data as BigInt64Array, (x) => Number(x)) : Array.from(t.data as ArrayLike<number>, jsonNumber);
  return { dtype: t.dtype, shape: [...t.dims], data };
}
