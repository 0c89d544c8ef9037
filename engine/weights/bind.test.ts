import { describe, expect, it } from 'vitest';
import type { TensorValue } from '../core/onnx';
import { parseShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { type WeightRef, lowerDocument } from '../onnx/lower';
import { similarKeys, weightSource, weightsToNpz } from './bind';
import { initialValue } from './init';
import { WeightsFileError, readNpz } from './npz';

const kernel: WeightRef = { key: 'Serial[0]/Dense/kernel', role: 'weight', decl: { name: 'kernel', shape: [3, 2], dtype: 'float32', init: { $init: 'GlorotUniformInitializer' } } };
const bias: WeightRef = { key: 'Serial[0]/Dense/bias', role: 'weight', decl: { name: 'bias', shape: [2], dtype: 'float32', init: { $init: 'RandomNormalInitializer', args: { stddev: 1e-6 } } } };
const counter: WeightRef = { key: 'Serial[1]/PositionalEncoding/position', role: 'state', decl: { name: 'position', shape: [], dtype: 'int32', init: { fill: 0 } } };
const refs = [kernel, bias, counter];

const f32 = (dims: number[], ...v: number[]): TensorValue => ({ dtype: 'float32', dims, data: Float32Array.from(v) });

function fileError(f: () => unknown): WeightsFileError {
  try {
    f();
  } catch (e) {
    if (e instanceof WeightsFileError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('weightSource', () => {
  it('initializes every ref from the seed without a file', () => {
    const src = weightSource(refs, { seed: 5 });
    for (const r of refs) expect(src(r)).toEqual(initialValue(r, 5));
  });

  it('takes values from the file; state missing from it starts from its initializer', () => {
    const file = new Map([[kernel.key, f32([3, 2], 1, 2, 3, 4, 5, 6)], [bias.key, f32([2], 7, 8)]]);
    const src = weightSource(refs, { seed: 0, file });
    expect(src(kernel)).toBe(file.get(kernel.key));
    expect(src(bias).data).toEqual(Float32Array.of(7, 8));
    expect(src(counter)).toEqual({ dtype: 'int32', dims: [], data: Int32Array.of(0) });
    // state in the file wins
    const withState = new Map([...file, [counter.key, { dtype: 'int32', dims: [], data: Int32Array.of(9) } as TensorValue]]);
    expect(weightSource(refs, { seed: 0, file: withState })(counter).data).toEqual(Int32Array.of(9));
  });

  it('names a missing weight, with similar keys of the file', () => {
    const file = new Map([['Serial[0]/Dense_1/kernel', f32([3, 2], 1, 2, 3, 4, 5, 6)], [bias.key, f32([2], 7, 8)], ['Other/thing', f32([1], 0)]]);
    const e = fileError(() => weightSource(refs, { seed: 0, file, allowExtra: true }));
    expect(e.key).toBe(kernel.key);
    expect(e.message).toBe("the weights file has no 'Serial[0]/Dense/kernel' (float32[3,2]); similar keys in the file: 'Serial[0]/Dense_1/kernel', 'Serial[0]/Dense/bias', 'Other/thing'");
    expect(fileError(() => weightSource(refs, { seed: 0, file: new Map() })).message).toMatch(/the file is empty/);
  });

  it('names a shape or dtype mismatch: expected and found', () => {
    const wrongShape = new Map([[kernel.key, f32([2, 3], 1, 2, 3, 4, 5, 6)], [bias.key, f32([2], 7, 8)]]);
    expect(fileError(() => weightSource(refs, { seed: 0, file: wrongShape })).message)
      .toBe("'Serial[0]/Dense/kernel' is float32[2,3] in the weights file, the model needs float32[3,2]");
    const wrongDtype = new Map([[kernel.key, f32([3, 2], 1, 2, 3, 4, 5, 6)], [bias.key, { dtype: 'float64', dims: [2], data: Float64Array.of(1, 2) } as TensorValue]]);
    const e = fileError(() => weightSource(refs, { seed: 0, file: wrongDtype }));
    expect(e.key).toBe(bias.key);
    expect(e.message).toBe("'Serial[0]/Dense/bias' is float64[2] in the weights file, the model needs float32[2]");
    const wrongState = new Map([[kernel.key, f32([3, 2], 1, 2, 3, 4, 5, 6)], [bias.key, f32([2], 7, 8)], [counter.key, f32([], 0)]]);
    expect(fileError(() => weightSource(refs, { seed: 0, file: wrongState })).key).toBe(counter.key);
  });

  it('rejects keys the model does not use, unless allowExtra', () => {
    const extra = Array.from({ length: 7 }, (_, i) => [`Old/w${i}`, f32([1], i)] as [string, TensorValue]);
    const file = new Map([[kernel.key, f32([3, 2], 1, 2, 3, 4, 5, 6)], [bias.key, f32([2], 7, 8)], ...extra]);
    const e = fileError(() => weightSource(refs, { seed: 0, file }));
    expect(e.message).toBe("the weights file has keys the model does not use: 'Old/w0', 'Old/w1', 'Old/w2', 'Old/w3', 'Old/w4' and 2 more");
    expect(e.key).toBe('Old/w0');
    expect(weightSource(refs, { seed: 0, file, allowExtra: true })(bias).data).toEqual(Float32Array.of(7, 8));
  });

  it('checks refs it was not built with when they are asked for', () => {
    const file = new Map([[kernel.key, f32([3, 2], 1, 2, 3, 4, 5, 6)]]);
    const src = weightSource([kernel], { seed: 0, file });
    expect(fileError(() => src(bias)).key).toBe(bias.key);
  });

  it('reads a bfloat16 weight from float32 (how .npz files hold bfloat16)', () => {
    const b16: WeightRef = { ...kernel, decl: { ...kernel.decl, dtype: 'bfloat16' } };
    const file = new Map([[kernel.key, f32([3, 2], 1, -2, 0.5, 3.140625, 0, 1e-3)]]);
    const v = weightSource([b16], { seed: 0, file })(b16);
    expect(v.dtype).toBe('bfloat16');
    expect(Array.from(v.data as Uint16Array).slice(0, 4)).toEqual([0x3f80, 0xc000, 0x3f00, 0x4049]);
  });

  it('orders similar keys by edit distance, favouring the same weight name', () => {
    expect(similarKeys('A/Dense/kernel', ['B/Conv/kernel', 'A/Dense/bias', 'A/Dense/kernal', 'zzz'], 2)).toEqual(['A/Dense/kernal', 'B/Conv/kernel']);
    expect(similarKeys('Serial[3]/Dense/kernel', ['Serial[3]/Dense/bias', 'Serial[4]/Dense/kernel'], 1)).toEqual(['Serial[4]/Dense/kernel']);
  });
});

describe('weightsToNpz', () => {
  it('writes every ref once by key and reads back equal', () => {
    const src = weightSource(refs, { seed: 1 });
    const back = readNpz(weightsToNpz([...refs, kernel], src));
    expect([...back.keys()]).toEqual(refs.map((r) => r.key));
    for (const r of refs) expect(back.get(r.key)).toEqual(src(r));
  });
});

describe('with a lowered model', () => {
  const root: DocNode = {
    id: 'r', kind: 'Serial', children: [
      { id: 'd', kind: 'Dense', params: { n_units: 4 } },
      { id: 'n', kind: 'LayerNorm' },
      { id: 'e', kind: 'Dense', params: { n_units: 2, kernel_initializer: { $init: 'OrthogonalInitializer' } } },
    ],
  };
  const input = [parseShapeDtype('float32[2,3]')];

  it('initial weights → .npz → the same weights from the file', () => {
    const first = lowerDocument({ root, input }, { weightValue: weightSource([], { seed: 7 }) });
    expect(first.weights.map((w) => w.key)).toEqual([
      'Serial[0]/Dense/kernel', 'Serial[0]/Dense/bias', 'Serial[1]/LayerNorm/scale', 'Serial[1]/LayerNorm/bias', 'Serial[2]/Dense/kernel', 'Serial[2]/Dense/bias',
    ]);
    const npz = weightsToNpz(first.weights, weightSource(first.weights, { seed: 7 }));
    const file = readNpz(npz);
    const second = lowerDocument({ root, input }, { weightValue: weightSource(first.weights, { seed: 123, file }) });
    expect(second.model.graph.initializers).toEqual(first.model.graph.initializers);
    const third = lowerDocument({ root, input }, { weightValue: weightSource(first.weights, { seed: 8 }) });
    expect(third.model.graph.initializers).not.toEqual(first.model.graph.initializers);
  });
});
