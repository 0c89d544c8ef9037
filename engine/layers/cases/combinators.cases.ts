import type { LayerCase } from './types';

const dense = (n: number) => ({ kind: 'Dense', params: { n_units: n } });
const relu = { kind: 'Relu' };

export const cases: LayerCase[] = [
  // Serial: running-max arity, pass-through of extra inputs
  { kind: 'Serial', children: [dense(4), relu, dense(10)], inputs: ['float32[B,3]'], outputs: ['float32[B,10]'], nIn: 1, nOut: 1, paramCount: 3 * 4 + 4 + 4 * 10 + 10 },
  { kind: 'Serial', note: 'empty Serial is identity', inputs: ['int32[4]', 'int32[3]'], outputs: ['int32[4]'], nIn: 1, nOut: 1 },
  { kind: 'Serial', note: 'Dup then Add', children: [{ kind: 'Dup' }, { kind: 'Add' }], inputs: ['float32[2,3]'], outputs: ['float32[2,3]'], nIn: 1, nOut: 1 },
  { kind: 'Serial', note: 'running max: Select([0,1,1]) then Add', children: [{ kind: 'Select', params: { indices: [0, 1, 1] } }, { kind: 'Add' }], inputs: ['float32[2]', 'float32[2]'], outputs: ['float32[2]', 'float32[2]'], nIn: 2, nOut: 2 },
  { kind: 'Serial', note: 'shape mismatch inside', children: [dense(4), { kind: 'Dup' }, { kind: 'Concatenate', params: { axis: 0 } }, { kind: 'Add' }], inputs: ['float32[2,3]'], error: { code: 'stack_underflow', message: 'the model takes 2 inputs' } },
  { kind: 'Serial', note: 'name must be a string', params: { name: 3 }, inputs: ['float32[2]'], error: { code: 'bad_param', message: 'name', param: 'name' } },
  // Parallel
  { kind: 'Parallel', children: [dense(2), relu], inputs: ['float32[B,3]', 'int32[B,5]'], outputs: ['float32[B,2]', 'int32[B,5]'], nIn: 2, nOut: 2 },
  { kind: 'Parallel', children: [{ kind: 'Dup' }, { kind: 'Swap' }], inputs: ['float32[1]', 'float32[2]', 'float32[3]'], outputs: ['float32[1]', 'float32[1]', 'float32[3]', 'float32[2]'], nIn: 3, nOut: 4 },
  { kind: 'Parallel', note: 'one element', children: [{ kind: 'Dup' }], inputs: ['float32[1]'], error: { code: 'construct', message: 'at least two elements' } },
  // Branch
  { kind: 'Branch', children: [relu, dense(7)], inputs: ['float32[B,5]'], outputs: ['float32[B,5]', 'float32[B,7]'], nIn: 1, nOut: 2 },
  { kind: 'Branch', note: 'n_in = max of branches', children: [{ kind: 'Serial' }, { kind: 'Add' }], inputs: ['float32[3]', 'float32[3]'], outputs: ['float32[3]', 'float32[3]'], nIn: 2, nOut: 2 },
  { kind: 'Branch', note: 'no layers', inputs: ['float32[3]'], error: { code: 'construct', message: 'at least one layer' } },
  // Residual
  { kind: 'Residual', children: [dense(4), relu], inputs: ['float32[B,L,4]'], outputs: ['float32[B,L,4]'], nIn: 1, nOut: 1, paramCount: 20 },
  { kind: 'Residual', note: 'shortcut', children: [relu], slots: { shortcut: dense(3) }, inputs: ['float32[2,3]'], outputs: ['float32[2,3]'], paramCount: 12 },
  { kind: 'Residual', note: '2 -> 2 passes the mask through', children: [{ kind: 'Select', params: { indices: [0, 1] } }], inputs: ['float32[2,4]', 'bool[2,4]'], outputs: ['float32[2,4]', 'bool[2,4]'], nIn: 2, nOut: 2 },
  { kind: 'Residual', note: 'width change', children: [dense(5)], inputs: ['float32[2,3]'], error: { code: 'shape_mismatch', message: 'cannot add the shortcut float32[2,3]' } },
  // Select and friends
  { kind: 'Select', params: { indices: [0, 0] }, inputs: ['float32[3]'], outputs: ['float32[3]', 'float32[3]'], nIn: 1, nOut: 2 },
  { kind: 'Select', params: { indices: [2] }, inputs: ['float32[1]', 'float32[2]', 'int32[3]'], outputs: ['int32[3]'], nIn: 3, nOut: 1 },
  { kind: 'Select', params: { indices: [0], n_in: 3 }, inputs: ['int32[3]', 'int32[2]', 'int32[1]'], outputs: ['int32[3]'], nIn: 3, nOut: 1 },
  { kind: 'Select', note: 'index beyond n_in', params: { indices: [3], n_in: 2 }, inputs: ['float32[1]', 'float32[1]'], error: { code: 'construct', message: 'out of range', param: 'indices' } },
  { kind: 'Select', note: 'negative index', params: { indices: [-1] }, inputs: ['float32[1]'], error: { code: 'bad_param', message: 'indices', param: 'indices' } },
  { kind: 'Drop', inputs: ['int32[3]'], outputs: [], nIn: 1, nOut: 0 },
  { kind: 'Drop', params: { n: 1 }, inputs: ['int32[3]'], error: { code: 'unknown_param', message: 'Drop has no parameter n' } },
  { kind: 'Dup', inputs: ['int32[B]'], outputs: ['int32[B]', 'int32[B]'] },
  { kind: 'Dup', params: { x: 1 }, inputs: ['int32[3]'], error: { code: 'unknown_param', message: 'Dup has no parameter x' } },
  { kind: 'Swap', inputs: ['int32[1]', 'float32[2]'], outputs: ['float32[2]', 'int32[1]'] },
  { kind: 'Swap', params: { axis: 1 }, inputs: ['int32[1]', 'float32[2]'], error: { code: 'unknown_param', message: 'Swap has no parameter axis' } },
  { kind: 'Add', inputs: ['float32[B,1,4]', 'float32[3,1]'], outputs: ['float32[B,3,4]'] },
  { kind: 'Add', note: 'int + float promotes', inputs: ['int32[2]', 'float32[2]'], outputs: ['float32[2]'] },
  { kind: 'Add', note: 'no broadcast', inputs: ['float32[2,3]', 'float32[4]'], error: { code: 'shape_mismatch', message: 'do not broadcast' } },
  { kind: 'Add', note: 'symbol vs number', inputs: ['float32[B]', 'float32[3]'], error: { code: 'shape_mismatch', message: 'symbolic dimension only broadcasts' } },
  { kind: 'SubtractTop', inputs: ['float32[2]', 'float32[2]'], outputs: ['float32[2]'] },
  { kind: 'SubtractTop', inputs: ['float32[2]', 'float32[5]'], error: { code: 'shape_mismatch', message: 'do not broadcast' } },
  { kind: 'Multiply', inputs: ['float32[2,1]', 'float32[1,6]'], outputs: ['float32[2,6]'] },
  { kind: 'Multiply', inputs: ['float32[2]', 'float32[3]'], error: { code: 'shape_mismatch', message: 'do not broadcast' } },
  { kind: 'Gate', inputs: ['float32[2]', 'float32[2]', 'float32[2]'], outputs: ['float32[2]'], nIn: 3, nOut: 1 },
  { kind: 'Gate', inputs: ['float32[2]', 'float32[3]', 'float32[2]'], error: { code: 'shape_mismatch', message: 'do not broadcast' } },
  // Concatenate / Split
  { kind: 'Concatenate', params: { axis: 1 }, inputs: ['int32[2,3]', 'int32[2,3]'], outputs: ['int32[2,6]'] },
  { kind: 'Concatenate', params: { n_items: 3 }, inputs: ['int32[2,3]', 'int32[2,3]', 'int32[2,3]'], outputs: ['int32[2,9]'], nIn: 3 },
  { kind: 'Concatenate', params: { n_items: 3, axis: 0 }, inputs: ['int32[2,3]', 'int32[2,3]', 'int32[2,3]'], outputs: ['int32[6,3]'] },
  { kind: 'Concatenate', note: 'symbolic sum', inputs: ['float32[B,L]', 'float32[B,L]'], outputs: ['float32[B,L*2]'] },
  { kind: 'Concatenate', note: 'mismatch off-axis', inputs: ['float32[2,3]', 'float32[4,3]'], error: { code: 'shape_mismatch', message: 'differ on axis 0' } },
  { kind: 'Concatenate', note: 'axis out of range', params: { axis: 2 }, inputs: ['float32[2,3]', 'float32[2,3]'], error: { code: 'rank', message: 'axis 2 is out of range' } },
  { kind: 'Split', inputs: ['float32[B,8]'], outputs: ['float32[B,4]', 'float32[B,4]'], nOut: 2 },
  { kind: 'Split', params: { n_items: 3, axis: 0 }, inputs: ['float32[6,2]'], outputs: ['float32[2,2]', 'float32[2,2]', 'float32[2,2]'] },
  { kind: 'Split', params: { n_items: 3 }, inputs: ['float32[2,8]'], error: { code: 'shape_mismatch', message: 'into 3 equal parts' } },
  // Scan
  {
    kind: 'Scan', slots: { layer: { kind: 'Serial', children: [{ kind: 'Add' }, { kind: 'Dup' }] } },
    inputs: ['int32[3,4]', 'int32[4]'], outputs: ['int32[3,4]', 'int32[4]'], nIn: 2, nOut: 2,
  },
  {
    kind: 'Scan', note: 'axis 1 (swapaxes semantics)', params: { axis: 1 }, slots: { layer: { kind: 'Serial', children: [{ kind: 'Add' }, { kind: 'Dup' }] } },
    inputs: ['float32[B,T]', 'float32[B]'], outputs: ['float32[B,T]', 'float32[B]'],
  },
  { kind: 'Scan', note: 'map (n_carry 0)', params: { n_carry: 0 }, slots: { layer: dense(5) }, inputs: ['float32[T,B,3]'], outputs: ['float32[T,B,5]'], paramCount: 20 },
  {
    kind: 'Scan', note: 'carry changes shape', slots: { layer: { kind: 'Parallel', children: [relu, dense(3)] } },
    inputs: ['float32[3,4]', 'float32[4]'], error: { code: 'shape_mismatch', message: 'changes carry 0' },
  },
  { kind: 'Scan', note: 'n_carry too large', params: { n_carry: 2 }, slots: { layer: relu }, inputs: ['float32[3]'], error: { code: 'construct', message: 'fewer than n_carry', param: 'n_carry' } },
  // Cond
  {
    kind: 'Cond', slots: { cond: { kind: 'Serial' }, true: dense(5), false: dense(5) },
    inputs: ['bool[]', 'float32[2,3]'], outputs: ['float32[2,5]'], nIn: 2, nOut: 1, paramCount: 40,
  },
  {
    kind: 'Cond', note: 'arity mismatch', slots: { cond: relu, true: { kind: 'Add' }, false: relu },
    inputs: ['float32[]', 'float32[1]', 'float32[1]'], error: { code: 'construct', message: 'n_in' },
  },
  {
    kind: 'Cond', note: 'branches differ', slots: { cond: relu, true: dense(2), false: dense(3) },
    inputs: ['float32[]', 'float32[4]'], error: { code: 'shape_mismatch', message: 'Cond branches give different outputs' },
  },
  // Chunk / Cache / BatchLeadingAxes / Bidirectional / SerialWithSideOutputs
  { kind: 'Chunk', params: { chunk_size: 1 }, slots: { layer: dense(4) }, inputs: ['float32[2,3]'], outputs: ['float32[2,4]'] },
  { kind: 'Chunk', params: { chunk_size: 3 }, slots: { layer: dense(4) }, inputs: ['float32[2,3]'], outputs: ['float32[2,4]'] },
  { kind: 'Chunk', params: { chunk_size: 2, pass_unchunkable: false }, slots: { layer: dense(4) }, inputs: ['float32[3,3]'], error: { code: 'shape_mismatch', message: 'must divide batch size' } },
  { kind: 'Cache', slots: { layer: dense(4) }, inputs: ['float32[B,2]'], outputs: ['float32[B,4]'], paramCount: 12 },
  { kind: 'Cache', note: 'missing layer', inputs: ['float32[2]'], error: { code: 'missing_param', message: 'layer', param: 'layer' } },
  { kind: 'BatchLeadingAxes', slots: { layer: dense(6) }, inputs: ['float32[B,L,4]'], outputs: ['float32[B,L,6]'], paramCount: 30 },
  { kind: 'BatchLeadingAxes', note: 'n_out must be 1', slots: { layer: { kind: 'Dup' } }, inputs: ['float32[2,3]'], error: { code: 'construct', message: 'n_out = 1' } },
  { kind: 'Bidirectional', slots: { forward_layer: dense(8) }, inputs: ['float32[2,3,8]'], outputs: ['float32[2,3,16]'], paramCount: 2 * (8 * 8 + 8) },
  { kind: 'Bidirectional', note: 'bad axis', params: { axis: 4 }, slots: { forward_layer: relu }, inputs: ['float32[2,3,8]'], error: { code: 'rank', message: 'out of range' } },
  {
    kind: 'SerialWithSideOutputs', children: [{ kind: 'Dup' }, { kind: 'Dup' }],
    inputs: ['float32[5]'], outputs: ['float32[5]', 'float32[5]', 'float32[5]'], nIn: 1, nOut: 3,
  },
  {
    kind: 'SerialWithSideOutputs', note: 'more side outputs than outputs', params: { n_side_outputs: 2 }, children: [relu],
    inputs: ['float32[5]'], error: { code: 'construct', message: 'side outputs', param: 'n_side_outputs' },
  },
];
