/**
 * Test data: one-op graphs for every VJP rule family, with broadcasting and
 * size-1 dims (rules.test.ts checks them against finite differences,
 * webgpu.test.ts runs their backward graphs on the WebGPU provider).
 */
import type { Attr, ElemType, Model, OnnxNode, OpType, TensorValue } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import { tensorFromValues } from '../weights/init';

export type In = { name: string; dtype?: ElemType; shape: number[] } | { name: string; value: TensorValue };

export const f = (name: string, ...shape: number[]): In => ({ name, shape });
const i64 = (name: string, values: number[], dims = [values.length]): In => ({ name, value: tensorFromValues(values, dims, 'int64') });
const i32 = (name: string, values: number[], dims = [values.length]): In => ({ name, value: tensorFromValues(values, dims, 'int32') });
const f32c = (name: string, values: number[], dims: number[] = []): In => ({ name, value: tensorFromValues(values, dims, 'float32') });
const bool = (name: string, values: number[], dims: number[]): In => ({ name, value: tensorFromValues(values, dims, 'bool') });

/** A model of one node; variable inputs are float32 graph inputs, the rest initializers; outputs inferred by name. */
export function oneOp(op: OpType, ins: In[], attrs?: Record<string, Attr>, nOut = 1, outputs?: number[]): { model: Model; wrt: string[]; outs: string[] } {
  const outs = Array.from({ length: nOut }, (_, i) => `y${i}`);
  const node: OnnxNode = { op, inputs: ins.map((x) => x.name), outputs: outs, name: op };
  if (attrs) node.attrs = attrs;
  const vars = ins.filter((x): x is Extract<In, { shape: number[] }> => 'shape' in x && !!x.name);
  const model: Model = {
    graph: {
      name: 'g',
      inputs: vars.map((x) => ({ name: x.name, dtype: x.dtype ?? 'float32', shape: x.shape })),
      outputs: [],
      nodes: [node],
      initializers: ins.flatMap((x) => ('value' in x ? [{ name: x.name, value: x.value }] : [])),
    },
    functions: [], producer: 'test', metadata: {},
  };
  return { model, wrt: vars.map((x) => x.name), outs: (outputs ?? [0]).map((i) => outs[i]) };
}

export interface RuleCase { name: string; op: OpType; ins: In[]; attrs?: Record<string, Attr>; nOut?: number; outputs?: number[]; range?: [number, number] }

const POS: [number, number] = [0.3, 1.5];
export const RULE_CASES: RuleCase[] = [
  // unary
  ...(['Abs', 'Neg', 'Exp', 'Sigmoid', 'Tanh', 'Relu', 'Softplus', 'Sin', 'Cos', 'Identity'] as OpType[]).map((op): RuleCase => ({ name: op, op, ins: [f('x', 2, 1, 3)] })),
  { name: 'Log', op: 'Log', ins: [f('x', 4)], range: POS },
  { name: 'Sqrt', op: 'Sqrt', ins: [f('x', 4)], range: POS },
  { name: 'Reciprocal', op: 'Reciprocal', ins: [f('x', 4)], range: POS },
  { name: 'LeakyRelu alpha 0.2', op: 'LeakyRelu', ins: [f('x', 3, 4)], attrs: { alpha: { float: 0.2 } } },
  { name: 'Elu alpha 0.7', op: 'Elu', ins: [f('x', 3, 4)], attrs: { alpha: { float: 0.7 } } },
  { name: 'Erf (both branches of the float64 rewrite)', op: 'Erf', ins: [f('x', 12)], range: [-3.5, 3.5] },
  { name: 'Cast to float16', op: 'Cast', ins: [f('x', 2, 3)], attrs: { to: { int: ONNX_DTYPE.float16 } } },
  { name: 'Softmax axis 1', op: 'Softmax', ins: [f('x', 2, 3, 4)], attrs: { axis: { int: 1 } } },
  // broadcasting binaries
  { name: 'Add [2,3] + [3]', op: 'Add', ins: [f('a', 2, 3), f('b', 3)] },
  { name: 'Sub [2,1,3] - [4,1]', op: 'Sub', ins: [f('a', 2, 1, 3), f('b', 4, 1)] },
  { name: 'Mul [2,3] * [1,3]', op: 'Mul', ins: [f('a', 2, 3), f('b', 1, 3)] },
  { name: 'Mul by a constant scalar', op: 'Mul', ins: [f('a', 2, 3), f32c('c', [1.5])] },
  { name: 'Div [3] / [2,3]', op: 'Div', ins: [f('a', 3), f('b', 2, 3)], range: POS },
  { name: 'Pow [2,3] ^ [3]', op: 'Pow', ins: [f('a', 2, 3), f('b', 3)], range: POS },
  { name: 'Max of three, broadcast', op: 'Max', ins: [f('a', 2, 3), f('b', 3), f('c', 1, 1)] },
  { name: 'Min of two', op: 'Min', ins: [f('a', 2, 3), f('b', 2, 1)] },
  { name: 'Where(cond [2,3], a [2,3], b [3])', op: 'Where', ins: [bool('c', [1, 0, 1, 0, 0, 1], [2, 3]), f('a', 2, 3), f('b', 3)] },
  { name: 'Clip with constant bounds', op: 'Clip', ins: [f('x', 3, 4), f32c('lo', [-0.2]), f32c('hi', [0.25])] },
  { name: 'Clip with variable bounds', op: 'Clip', ins: [f('x', 3, 4), f('lo'), f('hi')], range: [-0.5, 0.5] },
  { name: 'Clip with an upper bound only', op: 'Clip', ins: [f('x', 3, 4), { name: '', shape: [] }, f32c('hi', [0.1])] },
  // products
  { name: 'MatMul [2,3] @ [3,4]', op: 'MatMul', ins: [f('a', 2, 3), f('b', 3, 4)] },
  { name: 'MatMul [3] @ [3,4]', op: 'MatMul', ins: [f('a', 3), f('b', 3, 4)] },
  { name: 'MatMul [2,3] @ [3]', op: 'MatMul', ins: [f('a', 2, 3), f('b', 3)] },
  { name: 'MatMul [3] @ [3]', op: 'MatMul', ins: [f('a', 3), f('b', 3)] },
  { name: 'MatMul batch broadcast [2,1,3,4] @ [5,4,2]', op: 'MatMul', ins: [f('a', 2, 1, 3, 4), f('b', 5, 4, 2)] },
  { name: 'MatMul [2,5,3] @ weight [3,4]', op: 'MatMul', ins: [f('a', 2, 5, 3), f('b', 3, 4)] },
  { name: 'MatMul weight [4,3] @ [2,3,5]', op: 'MatMul', ins: [f('a', 4, 3), f('b', 2, 3, 5)] },
  { name: 'Conv 1-D with bias', op: 'Conv', ins: [f('x', 2, 3, 7), f('w', 4, 3, 3), f('b', 4)], attrs: { kernel_shape: { ints: [3] } } },
  { name: 'Conv 2-D stride 2, pads, dilation 2', op: 'Conv', ins: [f('x', 1, 2, 7, 6), f('w', 3, 2, 2, 3)], attrs: { kernel_shape: { ints: [2, 3] }, strides: { ints: [2, 1] }, pads: { ints: [1, 0, 0, 2] }, dilations: { ints: [1, 2] } } },
  { name: 'Conv groups 2', op: 'Conv', ins: [f('x', 2, 4, 5), f('w', 6, 2, 2)], attrs: { kernel_shape: { ints: [2] }, group: { int: 2 } } },
  { name: 'Conv depthwise, causal pads', op: 'Conv', ins: [f('x', 1, 3, 6), f('w', 3, 1, 3)], attrs: { kernel_shape: { ints: [3] }, group: { int: 3 }, pads: { ints: [2, 0] } } },
  { name: 'Conv pads wider than the kernel, stride 3', op: 'Conv', ins: [f('x', 1, 1, 8), f('w', 2, 1, 2)], attrs: { kernel_shape: { ints: [2] }, strides: { ints: [3] }, pads: { ints: [3, 2] } } },
  { name: 'AveragePool 2-D pads, no pad count', op: 'AveragePool', ins: [f('x', 1, 2, 5, 4)], attrs: { kernel_shape: { ints: [3, 2] }, strides: { ints: [2, 1] }, pads: { ints: [1, 0, 1, 1] }, count_include_pad: { int: 0 } } },
  { name: 'AveragePool counting pads', op: 'AveragePool', ins: [f('x', 2, 1, 6)], attrs: { kernel_shape: { ints: [3] }, pads: { ints: [1, 1] }, count_include_pad: { int: 1 } } },
  { name: 'MaxPool 2-D strides and pads', op: 'MaxPool', ins: [f('x', 2, 2, 5, 5)], attrs: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, pads: { ints: [0, 1, 1, 0] } } },
  // reductions
  { name: 'ReduceSum axis 1', op: 'ReduceSum', ins: [f('x', 2, 3, 4), i64('axes', [1])], attrs: { keepdims: { int: 0 } } },
  { name: 'ReduceSum all axes, keepdims', op: 'ReduceSum', ins: [f('x', 2, 3)] },
  { name: 'ReduceMean axes [0,2]', op: 'ReduceMean', ins: [f('x', 2, 3, 4), i64('axes', [0, -1])], attrs: { keepdims: { int: 0 } } },
  { name: 'ReduceMax axis 2 keepdims', op: 'ReduceMax', ins: [f('x', 2, 3, 4), i64('axes', [2])] },
  { name: 'ReduceMin all', op: 'ReduceMin', ins: [f('x', 3, 4)], attrs: { keepdims: { int: 0 } } },
  { name: 'ReduceProd axis 0', op: 'ReduceProd', ins: [f('x', 3, 2), i64('axes', [0])], range: POS },
  { name: 'CumSum', op: 'CumSum', ins: [f('x', 2, 5), i64('axis', [1], [])] },
  { name: 'CumSum exclusive reverse', op: 'CumSum', ins: [f('x', 2, 5), i64('axis', [1], [])], attrs: { exclusive: { int: 1 }, reverse: { int: 1 } } },
  // data movement
  { name: 'Reshape', op: 'Reshape', ins: [f('x', 2, 3, 4), i64('s', [4, -1])] },
  { name: 'Squeeze', op: 'Squeeze', ins: [f('x', 2, 1, 3), i64('axes', [1])] },
  { name: 'Unsqueeze', op: 'Unsqueeze', ins: [f('x', 2, 3), i64('axes', [0, -1])] },
  { name: 'Transpose', op: 'Transpose', ins: [f('x', 2, 3, 4)], attrs: { perm: { ints: [1, 2, 0] } } },
  { name: 'Expand [3,1] to [2,3,4]', op: 'Expand', ins: [f('x', 3, 1), i64('s', [2, 3, 4])] },
  { name: 'Concat of three on axis 1', op: 'Concat', ins: [f('a', 2, 1), f('b', 2, 3), f('c', 2, 2)], attrs: { axis: { int: 1 } } },
  { name: 'Split [1,3] on axis 1, one output used', op: 'Split', ins: [f('x', 2, 4, 3), i64('split', [1, 3])], attrs: { axis: { int: 1 } }, nOut: 2, outputs: [1] },
  { name: 'Split into three', op: 'Split', ins: [f('x', 6, 2), i64('split', [2, 2, 2])], attrs: { axis: { int: 0 } }, nOut: 3, outputs: [0, 1, 2] },
  { name: 'Slice unit steps', op: 'Slice', ins: [f('x', 4, 5), i64('s', [1, -4]), i64('e', [3, 100]), i64('a', [0, 1])] },
  { name: 'Slice reversed', op: 'Slice', ins: [f('x', 3, 4), i64('s', [-1]), i64('e', [-(2 ** 53)]), i64('a', [1]), i64('st', [-1])] },
  { name: 'Slice step 2', op: 'Slice', ins: [f('x', 7, 2), i64('s', [1]), i64('e', [7]), i64('a', [0]), i64('st', [2])] },
  { name: 'Pad positive', op: 'Pad', ins: [f('x', 2, 3), i64('p', [1, 0, 0, 2])] },
  { name: 'Pad negative (crop) and positive', op: 'Pad', ins: [f('x', 3, 4), i64('p', [0, -1, 0, 2])] },
  { name: 'Pad with a variable value', op: 'Pad', ins: [f('x', 2, 3), i64('p', [1, 1, 1, 1]), f('v')] },
  { name: 'Gather axis 0, repeated and negative indices', op: 'Gather', ins: [f('x', 5, 3), i64('i', [0, 2, 2, -1], [2, 2])] },
  { name: 'Gather axis 1, int32 indices', op: 'Gather', ins: [f('x', 2, 4, 3), i32('i', [3, 0, 3])], attrs: { axis: { int: 1 } } },
  { name: 'Gather a constant scalar index', op: 'Gather', ins: [f('x', 3, 4), i64('i', [2], [])], attrs: { axis: { int: 1 } } },
  { name: 'GatherElements axis 1', op: 'GatherElements', ins: [f('x', 2, 4), i64('i', [0, 3, 3, 1, 2, 2], [2, 3])], attrs: { axis: { int: 1 } } },
  { name: 'ScatterElements (data and updates)', op: 'ScatterElements', ins: [f('x', 2, 4), i64('i', [1, 3, 0, 2], [2, 2]), f('u', 2, 2)], attrs: { axis: { int: 1 } } },
  { name: 'TopK values', op: 'TopK', ins: [f('x', 3, 5), i64('k', [2])], attrs: { axis: { int: 1 } }, nOut: 2, outputs: [0] },
];
