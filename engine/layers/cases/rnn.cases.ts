/** Catalog rows for the `rnn` module (shapes worked by hand from trax-semantics §9). */
import type { LayerCase } from './types';

const dense = (n: number) => ({ kind: 'Dense', params: { n_units: n } });

export const cases: LayerCase[] = [
  // LSTMCell: W (d_in + n, 4n), b (4n); state = concat(c, h) of depth 2n
  {
    kind: 'LSTMCell', params: { n_units: 4 }, inputs: ['float32[B,3]', 'float32[B,8]'],
    nIn: 2, nOut: 2, outputs: ['float32[B,4]', 'float32[B,8]'], weights: ['float32[7,16]', 'float32[16]'], paramCount: 7 * 16 + 16,
  },
  {
    kind: 'LSTMCell', params: { n_units: 2 }, inputs: ['float32[2,5,3]', 'float32[2,5,4]'],
    outputs: ['float32[2,5,2]', 'float32[2,5,4]'], weights: ['float32[5,8]', 'float32[8]'], paramCount: 48,
  },
  { kind: 'LSTMCell', params: { n_units: 3 }, inputs: ['float32[B,D]', 'float32[B,6]'], outputs: ['float32[B,3]', 'float32[B,6]'], weights: ['float32[D+3,12]', 'float32[12]'], paramCount: 'D*12+48' },
  {
    kind: 'LSTMCell', params: { n_units: 4 }, inputs: ['float32[B,3]', 'float32[B,6]'], note: 'state depth must be 2*n_units',
    error: { code: 'shape_mismatch', message: 'state depth 6 must equal 2*n_units = 8' },
  },
  {
    kind: 'LSTMCell', params: { n_units: 4 }, inputs: ['float32[2,3]', 'float32[3,8]'], note: 'x and state must agree but on the last axis',
    error: { code: 'shape_mismatch', message: 'must agree on every axis but the last' },
  },
  { kind: 'LSTMCell', params: { n_units: 0 }, inputs: ['float32[2,3]', 'float32[2,0]'], error: { code: 'bad_param', message: 'n_units', param: 'n_units' } },

  // MakeZeroState: zeros [batch, multiplier * depth] from a rank-3 input
  { kind: 'MakeZeroState', inputs: ['float32[B,L,5]'], outputs: ['float32[B,5]'] },
  { kind: 'MakeZeroState', params: { depth_multiplier: 2 }, inputs: ['int32[2,7,3]'], outputs: ['float32[2,6]'] },
  { kind: 'MakeZeroState', inputs: ['float32[2,3]'], error: { code: 'rank', message: 'rank-3 tensor' } },

  // LSTM: Serial(Branch([], MakeZeroState(2)), Scan(LSTMCell(n), axis=1), Select([0], n_in=2))
  { kind: 'LSTM', params: { n_units: 4 }, inputs: ['float32[B,L,4]'], nIn: 1, nOut: 1, outputs: ['float32[B,L,4]'], paramCount: 8 * 16 + 16 },
  { kind: 'LSTM', params: { n_units: 4, return_state: true }, inputs: ['float32[2,5,4]'], nIn: 1, nOut: 2, outputs: ['float32[2,5,4]', 'float32[2,8]'], paramCount: 144 },
  {
    kind: 'LSTM', params: { n_units: 4, initial_state: true, return_state: true }, inputs: ['float32[2,5,3]', 'float32[2,8]'], note: 'a given state lifts the input-depth quirk',
    nIn: 2, nOut: 2, outputs: ['float32[2,5,4]', 'float32[2,8]'], paramCount: 7 * 16 + 16,
  },
  { kind: 'LSTM', params: { n_units: 4, initial_state: true }, inputs: ['float32[B,L,4]', 'float32[B,8]'], nIn: 2, nOut: 1, outputs: ['float32[B,L,4]'] },
  { kind: 'LSTM', params: { n_units: 4, mode: 'predict' }, inputs: ['float32[1,1,4]'], outputs: ['float32[1,1,4]'] },
  {
    kind: 'LSTM', params: { n_units: 4 }, inputs: ['float32[B,L,3]'], note: 'zero state is built from the input depth (quirk)',
    error: { code: 'shape_mismatch', message: 'state depth 6 must equal 2*n_units = 8' },
  },

  // GRUCell: w1 (d_in+n, 2n), b1 (2n), w2 (d_in+n, n), b2 (n)
  {
    kind: 'GRUCell', params: { n_units: 9 }, inputs: ['float32[8,7,9]', 'float32[8,7,9]'], note: 'conformance gru_cell_shape',
    nIn: 2, nOut: 2, outputs: ['float32[8,7,9]', 'float32[8,7,9]'], weights: ['float32[18,18]', 'float32[18]', 'float32[18,9]', 'float32[9]'], paramCount: 18 * 18 + 18 + 18 * 9 + 9,
  },
  {
    kind: 'GRUCell', params: { n_units: 1 }, inputs: ['float32[1,1]', 'float32[1,1]'], note: 'conformance gru_cell_values (shapes)',
    outputs: ['float32[1,1]', 'float32[1,1]'], weights: ['float32[2,2]', 'float32[2]', 'float32[2,1]', 'float32[1]'],
  },
  { kind: 'GRUCell', params: { n_units: 4 }, inputs: ['float32[B,3]', 'float32[B,3]'], error: { code: 'shape_mismatch', message: 'state depth 3 must equal n_units = 4' } },

  // GRU: like LSTM with MakeZeroState(1) and GRUCell
  { kind: 'GRU', params: { n_units: 8 }, inputs: ['float32[2,3,8]'], nIn: 1, nOut: 1, outputs: ['float32[2,3,8]'], paramCount: 16 * 16 + 16 + 16 * 8 + 8 },
  { kind: 'GRU', params: { n_units: 8 }, inputs: ['float32[B,L,8]'], outputs: ['float32[B,L,8]'] },
  { kind: 'GRU', params: { n_units: 8 }, inputs: ['float32[2,3,5]'], error: { code: 'shape_mismatch', message: 'state depth 5 must equal n_units = 8' } },
  { kind: 'GRU', params: { n_units: 8 }, inputs: ['float32[2,8]'], error: { code: 'rank', message: 'rank-3 tensor' } },

  // ConvGRUCell: GeneralGRUCell with three Conv(n, kernel, SAME) transforms
  { kind: 'ConvGRUCell', params: { n_units: 4 }, inputs: ['float32[2,8,8,4]'], nIn: 1, nOut: 1, outputs: ['float32[2,8,8,4]'], paramCount: 3 * (3 * 3 * 4 * 4 + 4) },
  { kind: 'ConvGRUCell', params: { n_units: 2, kernel_size: [1, 1] }, inputs: ['float32[B,H,W,2]'], outputs: ['float32[B,H,W,2]'], paramCount: 3 * (2 * 2 + 2) },
  { kind: 'ConvGRUCell', params: { n_units: 4, kernel_size: [0, 3] }, inputs: ['float32[2,8,8,4]'], error: { code: 'bad_param', message: 'kernel_size', param: 'kernel_size' } },

  // GeneralGRUCell: Serial(Branch(memory, gate, candidate), Gate()); candidate_transform copied three times
  { kind: 'GeneralGRUCell', slots: { candidate_transform: dense(4) }, inputs: ['float32[B,4]'], nIn: 1, nOut: 1, outputs: ['float32[B,4]'], paramCount: 3 * (16 + 4) },
  {
    kind: 'GeneralGRUCell', params: { gate_nonlinearity: 'HardSigmoid', candidate_nonlinearity: 'HardTanh', dropout_rate_c: 0 },
    slots: { candidate_transform: dense(4), memory_transform_fn: dense(4) }, inputs: ['float32[2,4]'], outputs: ['float32[2,4]'], paramCount: 4 * (16 + 4),
  },
  { kind: 'GeneralGRUCell', inputs: ['float32[2,4]'], error: { code: 'missing_param', message: 'candidate_transform', param: 'candidate_transform' } },
  {
    kind: 'GeneralGRUCell', slots: { candidate_transform: dense(4) }, inputs: ['float32[2,3]'], note: 'the transform must keep the state depth',
    error: { code: 'shape_mismatch', message: /do not broadcast/ },
  },

  // InnerSRUCell: (x*(1-f), f, c) -> (c', c')
  { kind: 'InnerSRUCell', inputs: ['float32[B,4]', 'float32[B,4]', 'float32[B,4]'], nIn: 3, nOut: 2, outputs: ['float32[B,4]', 'float32[B,4]'] },
  { kind: 'InnerSRUCell', inputs: ['float32[B,4]', 'float32[B,3]', 'float32[B,4]'], error: { code: 'shape_mismatch', message: 'InnerSRUCell' } },

  // ScanSRUCell: Scan(InnerSRUCell(), axis=1, mode=mode)
  {
    kind: 'ScanSRUCell', params: { mode: 'train' }, inputs: ['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,4]'],
    nIn: 3, nOut: 2, outputs: ['float32[B,L,4]', 'float32[B,4]'],
  },
  { kind: 'ScanSRUCell', inputs: ['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,4]'], error: { code: 'missing_param', message: 'mode', param: 'mode' } },
  {
    kind: 'ScanSRUCell', params: { mode: 'predict', monkey_patched_mask: 'mask' }, inputs: ['float32[B,L,4]', 'float32[B,L,4]', 'float32[B,4]'],
    error: { code: 'unsupported', message: 'monkey_patched_mask', param: 'monkey_patched_mask' },
  },

  // SRU: only the Dense(3n) has weights
  { kind: 'SRU', params: { n_units: 7 }, inputs: ['float32[8,9,7]'], note: 'conformance sru_shape', nIn: 1, nOut: 1, outputs: ['float32[8,9,7]'], paramCount: 7 * 21 + 21 },
  { kind: 'SRU', params: { n_units: 4, mode: 'eval' }, slots: { activation: { kind: 'Relu' } }, inputs: ['float32[B,L,4]'], outputs: ['float32[B,L,4]'], paramCount: 4 * 12 + 12 },
  { kind: 'SRU', params: { n_units: 7 }, inputs: ['float32[8,9,5]'], error: { code: 'shape_mismatch', message: 'input depth to equal n_units' } },
  { kind: 'SRU', params: { n_units: 7 }, inputs: ['float32[8,7]'], error: { code: 'rank', message: 'rank-3 tensor' } },
];
