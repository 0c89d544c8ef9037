/** Catalog rows for the `reversible` module (trax-semantics §10). */
import type { LayerCase } from './types';

const halfRes = (...children: { kind: string; params?: Record<string, number> }[]) => ({ kind: 'ReversibleHalfResidual', children });

export const cases: LayerCase[] = [
  // ReversibleConcatenatePair: (x, y) -> (r, r), r = concat(x, y, -1)
  { kind: 'ReversibleConcatenatePair', inputs: ['int32[1,2]', 'int32[1,2]'], note: 'conformance reversible_concatenate_pair', nIn: 2, nOut: 2, outputs: ['int32[1,4]', 'int32[1,4]'] },
  { kind: 'ReversibleConcatenatePair', inputs: ['float32[B,L,3]', 'float32[B,L,5]'], outputs: ['float32[B,L,8]', 'float32[B,L,8]'] },
  { kind: 'ReversibleConcatenatePair', inputs: ['float32[2,3]', 'float32[3,3]'], error: { code: 'shape_mismatch', message: 'cannot concatenate' } },

  // ReversibleSelect: a permutation of all its inputs
  {
    kind: 'ReversibleSelect', params: { indices: [2, 0, 1] }, inputs: ['float32[1]', 'float32[2]', 'float32[3]'], note: 'conformance reversible_select_reverse (forward)',
    nIn: 3, nOut: 3, outputs: ['float32[3]', 'float32[1]', 'float32[2]'],
  },
  { kind: 'ReversibleSelect', params: { indices: [0, 1, 1] }, inputs: ['float32[B]', 'int32[B]'], nIn: 2, nOut: 3, outputs: ['float32[B]', 'int32[B]', 'int32[B]'] },
  {
    kind: 'ReversibleSelect', params: { indices: [0, 0], n_in: 2 }, inputs: ['float32[1]', 'float32[2]'],
    error: { code: 'construct', message: 'To be reversible, all inputs to Select must be in indices. Did not find 1', param: 'indices' },
  },
  { kind: 'ReversibleSelect', params: { indices: [1] }, inputs: ['float32[1]', 'float32[2]'], error: { code: 'construct', message: 'Did not find 0 in indices', param: 'indices' } },
  { kind: 'ReversibleSelect', params: { indices: [0, 2], n_in: 2 }, inputs: ['float32[1]', 'float32[2]'], error: { code: 'construct', message: 'out of range', param: 'indices' } },

  // ReversibleSwap = ReversibleSelect([1, 0])
  { kind: 'ReversibleSwap', inputs: ['int32[2]', 'int32[2]'], note: 'conformance reversible_swap', nIn: 2, nOut: 2, outputs: ['int32[2]', 'int32[2]'] },
  { kind: 'ReversibleSwap', inputs: ['float32[B,4]', 'int32[B]'], outputs: ['int32[B]', 'float32[B,4]'] },
  { kind: 'ReversibleSwap', params: { indices: [0] }, inputs: ['float32[2]', 'float32[2]'], error: { code: 'unknown_param', message: 'ReversibleSwap has no parameter indices' } },

  // ReversibleReshape: shape1 + rest -> shape2 + rest, on each of n_in inputs
  { kind: 'ReversibleReshape', params: { shape1: [6], shape2: [2, 3] }, inputs: ['float32[6,5]'], nIn: 1, nOut: 1, outputs: ['float32[2,3,5]'] },
  { kind: 'ReversibleReshape', params: { shape1: [2, 3], shape2: [6], n_in: 2 }, inputs: ['float32[2,3,L]', 'int32[2,3]'], nIn: 2, nOut: 2, outputs: ['float32[6,L]', 'int32[6]'] },
  { kind: 'ReversibleReshape', params: { shape1: [4, 2], shape2: [-1] }, inputs: ['float32[4,2,3]'], outputs: ['float32[8,3]'] },
  { kind: 'ReversibleReshape', params: { shape1: [6], shape2: [4] }, inputs: ['float32[6,5]'], error: { code: 'shape_mismatch', message: 'ReversibleReshape: input 0' } },

  // ReversiblePrintShape: identity on n_in items
  { kind: 'ReversiblePrintShape', inputs: ['float32[B,L,4]'], nIn: 1, nOut: 1, outputs: ['float32[B,L,4]'] },
  { kind: 'ReversiblePrintShape', params: { n_in: 2, msg: 'here' }, inputs: ['float32[2,3]', 'int32[2]'], nIn: 2, nOut: 2, outputs: ['float32[2,3]', 'int32[2]'] },
  { kind: 'ReversiblePrintShape', params: { n_in: -1 }, inputs: ['float32[2]'], error: { code: 'bad_param', message: 'n_in', param: 'n_in' } },

  // ReversibleSerial: a Serial of reversible layers (a RevNet block here)
  {
    kind: 'ReversibleSerial', children: [halfRes({ kind: 'Dense', params: { n_units: 4 } }), { kind: 'ReversibleSwap' }, halfRes({ kind: 'Relu' }), { kind: 'ReversibleSwap' }],
    inputs: ['float32[B,4]', 'float32[B,4]'], nIn: 2, nOut: 2, outputs: ['float32[B,4]', 'float32[B,4]'], paramCount: 20,
  },
  { kind: 'ReversibleSerial', inputs: ['float32[2]'], nIn: 1, nOut: 1, outputs: ['float32[2]'] },
  {
    kind: 'ReversibleSerial', children: [{ kind: 'ReversibleSwap' }, { kind: 'Dense', params: { n_units: 4 } }], inputs: ['float32[2,4]', 'float32[2,4]'],
    error: { code: 'construct', message: 'Sub-layer 1 of ReversibleSerial is not reversible: Dense' },
  },

  // ReversibleHalfResidual: [acc, *ctx] -> [acc + f(ctx), *ctx]
  {
    kind: 'ReversibleHalfResidual', children: [{ kind: 'Dense', params: { n_units: 4 } }], inputs: ['float32[B,4]', 'float32[B,3]'],
    nIn: 2, nOut: 2, outputs: ['float32[B,4]', 'float32[B,3]'], paramCount: 16,
  },
  { kind: 'ReversibleHalfResidual', inputs: ['float32[B,4]', 'float32[B,4]'], note: 'no layers: acc + ctx', nIn: 2, nOut: 2, outputs: ['float32[B,4]', 'float32[B,4]'] },
  {
    kind: 'ReversibleHalfResidual', children: [{ kind: 'Relu' }], slots: { attention_layer: { kind: 'Add' } }, note: 'a 2-input attention layer consumes one more context item',
    inputs: ['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,L,4]'], nIn: 3, nOut: 3, outputs: ['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,L,4]'],
  },
  {
    kind: 'ReversibleHalfResidual', children: [{ kind: 'Dense', params: { n_units: 5 } }], inputs: ['float32[B,4]', 'float32[B,3]'],
    error: { code: 'shape_mismatch', message: 'cannot add the residual float32[B,5] to the accumulator float32[B,4]' },
  },
];
