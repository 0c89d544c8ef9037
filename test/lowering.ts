/**
 * Test support for the lowerings' numbers: lower a document, run it on
 * onnxruntime's CPU provider with explicit inputs and weights, compare with
 * TypeScript references (row-major arrays and small helpers to build them).
 */
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { TensorValue } from '../engine/core/onnx';
import type { DType } from '../engine/core/shape';
import type { DocNode } from '../engine/document/schema';
import type { Mode, WeightDecl } from '../engine/layers/def';
import { caseToNode } from '../engine/layers/cases/all';
import type { CaseNode } from '../engine/layers/cases/types';
import { type LowerOptions, type Lowered, type WeightRef, lowerDocument } from '../engine/onnx/lower';
import { modelBytes } from '../engine/onnx/write';
import { rng, toOrt } from './ort';

export interface Arr { shape: number[]; data: number[] }

export const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
export const arr = (shape: number[], data: number[]): Arr => ({ shape, data });
export function rand(shape: number[], seed: string, scale = 1, offset = 0): Arr {
  const r = rng(seed);
  return { shape, data: Array.from({ length: size(shape) }, () => Math.fround(offset + (r() * 2 - 1) * scale)) };
}
export function tensor(a: Arr, dtype: DType): TensorValue {
  switch (dtype) {
    case 'int32': return { dtype, dims: a.shape, data: Int32Array.from(a.data) };
    case 'bool': return { dtype, dims: a.shape, data: Int32Array.from(a.data) };
    default: return { dtype: 'float32', dims: a.shape, data: Float32Array.from(a.data) };
  }
}

export interface RunOpts {
  mode?: Mode;
  seed?: number;
  /** weight values by key or by name, or a function of the weight */
  weights?: Record<string, Arr> | ((ref: WeightRef) => Arr);
  inlineFunctions?: boolean;
  /** any other lowering option */
  lower?: LowerOptions;
  onLowered?: (low: Lowered) => void;
}

/** A weight's test value: given (by key, by name, or by a function), else its constant fill. */
function weightOf(ref: WeightRef, weights: RunOpts['weights'] = {}): TensorValue {
  const decl: WeightDecl = ref.decl;
  const w = typeof weights === 'function' ? weights(ref) : weights[ref.key] ?? weights[decl.name];
  const shape = decl.shape.map(Number);
  if (w) {
    expect(w.shape).toEqual(shape);
    return tensor(w, decl.dtype);
  }
  if ('fill' in decl.init) return tensor(arr(shape, new Array<number>(size(shape)).fill(decl.init.fill)), decl.dtype);
  throw new Error(`no test value for weight ${decl.name}`);
}

/** Lowers `root` on the inputs, runs it on onnxruntime's CPU provider, returns the outputs (and their dtypes). */
export async function run(root: DocNode | CaseNode, inputs: { a: Arr; dtype?: DType }[], o: RunOpts = {}): Promise<(Arr & { type: string })[]> {
  const doc = 'id' in root ? root : caseToNode(root);
  const input = inputs.map((x) => ({ dtype: x.dtype ?? 'float32', shape: x.a.shape }));
  const low = lowerDocument({ root: doc, input }, { ...o.lower, mode: o.mode ?? o.lower?.mode, seed: o.seed ?? o.lower?.seed, inlineFunctions: o.inlineFunctions ?? o.lower?.inlineFunctions, weightValue: (ref) => weightOf(ref, o.weights) });
  o.onLowered?.(low);
  const session = await ort.InferenceSession.create(modelBytes(low.model));
  const feeds: Record<string, ort.Tensor> = {};
  low.inputs.forEach((info, i) => { feeds[info.name] = toOrt(tensor(inputs[i].a, inputs[i].dtype ?? 'float32')); });
  const out = await session.run(feeds);
  await session.release();
  return low.outputs.map((v) => ({
    shape: [...out[v.name].dims].map(Number), data: Array.from(out[v.name].data as ArrayLike<number | bigint | boolean>, Number), type: out[v.name].type,
  }));
}

/** Outputs as plain arrays (shape and data only), as tests compare them. */
export function plain(outs: readonly Arr[]): Arr[] {
  return outs.map(({ shape, data }) => ({ shape, data }));
}

/** |got - want| <= atol + rtol·|want| elementwise (NaN matches NaN, infinities must be equal). */
export function close(got: Arr, want: Arr, rtol = 1e-5, atol = 1e-6): void {
  expect(got.shape).toEqual(want.shape);
  got.data.forEach((v, i) => {
    const w = want.data[i];
    if (Number.isNaN(w)) { expect(v, `element ${i}`).toBeNaN(); return; }
    if (!Number.isFinite(w)) { expect(v, `element ${i}`).toBe(w); return; }
    if (!(Math.abs(v - w) <= atol + rtol * Math.abs(w))) expect(v, `element ${i} (want ${w})`).toBeCloseTo(w, 6);
  });
}

// ---------------------------------------------------------------- array helpers (row-major)

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
/** every multi-index of a shape, in row-major order */
export function* indices(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return;
  const ix = new Array<number>(shape.length).fill(0);
  for (;;) {
    yield [...ix];
    let k = shape.length - 1;
    while (k >= 0 && ++ix[k] === shape[k]) ix[k--] = 0;
    if (k < 0) return;
  }
}
export const at = (a: Arr, ix: readonly number[]): number => a.data[ix.reduce((o, v, i) => o + v * stridesOf(a.shape)[i], 0)];
export function transpose(a: Arr, perm: readonly number[]): Arr {
  const shape = perm.map((p) => a.shape[p]);
  const data: number[] = [];
  for (const ix of indices(shape)) {
    const src = new Array<number>(ix.length);
    perm.forEach((p, i) => { src[p] = ix[i]; });
    data.push(at(a, src));
  }
  return { shape, data };
}
/** reduce over `axes` (keepdims) with f over the values of each group */
export function reduceRef(a: Arr, axes: readonly number[], f: (xs: number[]) => number, keepdims = false): Arr {
  const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  const os = stridesOf(outShape);
  for (const ix of indices(a.shape)) {
    const key = ix.reduce((o, v, i) => o + (axes.includes(i) ? 0 : v) * os[i], 0);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(at(a, ix));
  }
  const data = Array.from({ length: size(outShape) }, (_, k) => f(groups.get(k)!));
  return { shape: keepdims ? outShape : a.shape.filter((_, i) => !axes.includes(i)), data };
}
/** broadcast a [.. with 1s ..] against `shape` with f(x, y) */
export function zipRef(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]): number[] => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape), sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const data: number[] = [];
  for (const ix of indices(shape)) {
    data.push(f(at({ shape: sa, data: a.data }, ix.map((v, i) => (sa[i] === 1 ? 0 : v))), at({ shape: sb, data: b.data }, ix.map((v, i) => (sb[i] === 1 ? 0 : v)))));
  }
  return { shape, data };
}
export const mapRef = (a: Arr, f: (x: number) => number): Arr => ({ shape: a.shape, data: a.data.map(f) });

