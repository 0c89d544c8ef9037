/** Test support: seeded random tensors and onnxruntime feeds. */
import * as ort from 'onnxruntime-node';
import type { TensorValue, ValueInfo } from '../engine/core/onnx';
import type { ShapeDtype } from '../engine/core/shape';
import type { WeightDecl } from '../engine/layers/def';
import { float16Bits } from '../engine/weights';

/** mulberry32 seeded by a string */
export function rng(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) { h = Math.imul(h ^ seed.charCodeAt(i), 3432918353); h = (h << 13) | (h >>> 19); }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function count(shape: readonly (number | string)[]): number {
  return shape.reduce<number>((a, d) => a * Number(d), 1);
}

/** Random values for a weight or state (floats in [-0.5, 0.5), ints small, bools half true). */
export function randomTensor(decl: WeightDecl | ShapeDtype, seed: string): TensorValue {
  const r = rng(seed);
  const n = count(decl.shape);
  const dims = decl.shape.map(Number);
  switch (decl.dtype) {
    case 'int32': return { dtype: 'int32', dims, data: Int32Array.from({ length: n }, () => Math.floor(r() * 4)) };
    case 'bool': return { dtype: 'bool', dims, data: Int32Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)) };
    case 'float16': return { dtype: 'float16', dims, data: Uint16Array.from({ length: n }, () => float16Bits(r() - 0.5)) };
    default: return { dtype: 'float32', dims, data: Float32Array.from({ length: n }, () => r() - 0.5) };
  }
}

export function toOrt(v: TensorValue): ort.Tensor {
  switch (v.dtype) {
    case 'bool': return new ort.Tensor('bool', Uint8Array.from(v.data as Int32Array, (x) => (x ? 1 : 0)), v.dims);
    case 'int32': return new ort.Tensor('int32', v.data as Int32Array, v.dims);
    case 'int64': return new ort.Tensor('int64', v.data as BigInt64Array, v.dims);
    case 'float16': return new ort.Tensor('float16', v.data as Uint16Array, v.dims);
    default: return new ort.Tensor('float32', v.data as Float32Array, v.dims);
  }
}

/** Seeded random feeds for a lowered model's inputs. */
export function feedsFor(inputs: ValueInfo[], sigs: ShapeDtype[], seed = 'inputs'): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  // the graph's input dtype (bfloat16 stack inputs cross as float32)
  inputs.forEach((info, i) => { feeds[info.name] = toOrt(randomTensor({ ...sigs[i], dtype: info.dtype as ShapeDtype['dtype'] }, `${seed}:${i}`)); });
  return feeds;
}
