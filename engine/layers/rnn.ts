/**
 * The `rnn` module: LSTM / GRU cells (class layers with weights), the
 * layer-building functions LSTM, GRU, SRU, ConvGRUCell and GeneralGRUCell
 * (written as `expand`, building the tree Trax builds), and the small Fn
 * layers they use (MakeZeroState, InnerSRUCell and internal helpers that
 * stand for Trax's anonymous lambdas).
 */
import { type Dim, dimAdd, dimMul } from '../core/dim';
import { LayerError } from '../core/errors';
import {
  type DType, type ShapeDtype, broadcastShapes, floatOf, formatShape, formatShapeDtype, promote,
} from '../core/shape';
import { type ExpandNode, INIT, MODES, P, REQUIRED, fixed } from './def';
import { family, type SpecNote } from './family';
import type { Emitter, LowerSig } from '../core/onnx';
import { cast, dims, int } from './lowering';

/** The last axis of a recurrent cell's input or state (rank >= 1). */
function depthOf(x: ShapeDtype, cell: string, what: string): Dim {
  if (x.shape.length === 0) {
    throw new LayerError('rank', `${cell}: the ${what} must have rank >= 1 (its last axis is the depth), got a scalar ${formatShapeDtype(x)}`, { expected: 'rank >= 1' });
  }
  return x.shape[x.shape.length - 1];
}

/** jnp.concatenate([x, h], -1) inside a cell: every axis but the last must agree. */
function requireSameLeading(x: ShapeDtype, state: ShapeDtype, cell: string): void {
  const a = x.shape.slice(0, -1), b = state.shape.slice(0, -1);
  const same = a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same) {
    throw new LayerError('shape_mismatch', `${cell}: the input ${formatShapeDtype(x)} and the state ${formatShapeDtype(state)} must agree on every axis but the last (they are concatenated on the last axis), but ${formatShape(a)} != ${formatShape(b)}`, {
      expected: `a state of shape ${formatShape([...a, '…'])}`,
    });
  }
}

/** concat(x, h) @ W + b with float32 weights. */
function cellDtype(x: ShapeDtype, state: ShapeDtype): DType {
  return promote(promote(x.dtype, state.dtype), 'float32');
}

/** Elementwise combination that names what did not fit. */
function combine(inputs: readonly ShapeDtype[], what: string, expected: string): Dim[] {
  let shape: Dim[] = [];
  try {
    for (const x of inputs) shape = broadcastShapes(shape, x.shape);
  } catch (e) {
    if (e instanceof LayerError) {
      throw new LayerError('shape_mismatch', `${what}: ${inputs.map(formatShapeDtype).join(', ')} do not broadcast (${e.message})`, { expected });
    }
    throw e;
  }
  return shape;
}

const EMPTY: ExpandNode = { kind: 'Serial' };

// ---------------------------------------------------------------- lowering

/** A key for a cell's model-local function: everything that changes its body. */
function cellKey(kind: string, p: Record<string, unknown>, sig: LowerSig): string {
  return `${kind}:${p.n_units}:${sig.inputs.map((x) => `${x.dtype}[${x.shape.join(',')}]`).join(';')}`;
}

/** concat(x, h, -1) @ w + b, in the cell's dtype (float32 weights cast when it differs). */
function affine(e: Emitter, x: string, h: string, rank: number, w: string, b: string, to: DType): string {
  const xh = e.op1('Concat', [x, h], { axis: int(rank - 1) });
  return e.op1('Add', [e.op1('MatMul', [xh, cast(e, w, 'float32', to)]), cast(e, b, 'float32', to)]);
}

/** Splits the last axis into equal parts of `size`. */
function splitLast(e: Emitter, v: string, rank: number, size: number, n: number): string[] {
  return e.op('Split', [v, e.i64(Array.from({ length: n }, () => size))], { axis: int(rank - 1) }, n);
}

/** A float scalar constant in the dtype `to` (float32 or float64 in practice). */
function scalar(e: Emitter, v: number, to: DType): string {
  return to === 'float64' ? e.constant({ dtype: 'float64', dims: [], data: Float64Array.of(v) }) : cast(e, e.f32(v), 'float32', to);
}

/** Casts every input of an elementwise Fn to the output dtype. */
function castIns(e: Emitter, ins: readonly string[], sig: LowerSig, to: DType): string[] {
  return ins.map((v, i) => cast(e, v, sig.inputs[i].dtype, to));
}

export const rnnLayers = family('rnn', {
  LSTMCell: {
    summary: 'One LSTM step: (x, [c|h]) -> (h\', [c\'|h\']); concat(x, h) @ W + b split into gates (i, j, f, o).',
    args: [
      P.int('n_units', REQUIRED, { min: 1 }),
      P.float('forget_bias', 1.0, { doc: 'added (quirk) to ALL 4*n_units bias entries at init, not only the forget gate' }),
      P.init('kernel_initializer', INIT.glorotUniform()),
      P.init('bias_initializer', INIT.normal(1e-6), { doc: 'the bias is this initializer plus forget_bias' }),
    ],
    arity: fixed(2, 2),
    infer: ([x, state], p) => {
      const n: number = p.n_units;
      depthOf(x, 'LSTMCell', 'input x');
      const sd = depthOf(state, 'LSTMCell', 'state');
      if (sd !== 2 * n) {
        throw new LayerError('shape_mismatch', `LSTMCell: the state depth ${sd} must equal 2*n_units = ${2 * n} (the state is concat(c, h)); note that LSTM builds its zero state from the input depth (2 * input depth), so LSTM only works when the input depth equals n_units`, {
          expected: `state depth 2*n_units = ${2 * n}`,
          param: 'n_units',
        });
      }
      requireSameLeading(x, state, 'LSTMCell');
      const dtype = cellDtype(x, state);
      const lead = state.shape.slice(0, -1);
      return [{ dtype, shape: [...lead, n] }, { dtype, shape: [...lead, 2 * n] }];
    },
    weights: ([x], p) => {
      const n: number = p.n_units;
      const din = dimAdd(x.shape[x.shape.length - 1], n);
      return [
        { name: 'w', shape: [din, 4 * n], dtype: 'float32', init: p.kernel_initializer },
        // (quirk) Trax adds forget_bias to every entry of this bias after the initializer.
        { name: 'b', shape: [4 * n], dtype: 'float32', init: { base: p.bias_initializer, offset: p.forget_bias } },
      ];
    },
    lower: (e, ins, p, sig) => e.fn('LSTMCell', cellKey('LSTMCell', p, sig), ins, 2, (fe, [x0, s0]) => {
      const n: number = p.n_units;
      const to = sig.outputs[0].dtype;
      const rank = sig.inputs[1].shape.length;
      const x = cast(fe, x0, sig.inputs[0].dtype, to), state = cast(fe, s0, sig.inputs[1].dtype, to);
      const [c, h] = splitLast(fe, state, rank, n, 2);
      // i = input gate, j = new input, f = forget gate, o = output gate
      const [i, j, f, o] = splitLast(fe, affine(fe, x, h, rank, fe.weight('w'), fe.weight('b'), to), rank, n, 4);
      const sig_ = (v: string): string => fe.op1('Sigmoid', [v]);
      const newC = fe.op1('Add', [fe.op1('Mul', [c, sig_(f)]), fe.op1('Mul', [sig_(i), fe.op1('Tanh', [j])])]);
      const newH = fe.op1('Mul', [fe.op1('Tanh', [newC]), sig_(o)]);
      return [newH, fe.op1('Concat', [newC, newH], { axis: int(rank - 1) })];
    }, 'One LSTM step: y = concat(x, h) @ w + b; i, j, f, o = split(y); c\' = c*sigmoid(f) + sigmoid(i)*tanh(j); h\' = tanh(c\')*sigmoid(o); returns (h\', [c\'|h\'])'),
  },
  MakeZeroState: {
    summary: 'Zeros of shape [batch, depth_multiplier * depth] from a [batch, length, depth] input (the RNN initial state).',
    args: [P.int('depth_multiplier', 1, { min: 0 })],
    arity: fixed(1, 1),
    infer: ([x], p) => {
      if (x.shape.length !== 3) {
        throw new LayerError('rank', `MakeZeroState: the input should be a rank-3 tensor (batch_size, sequence_length, feature_depth), got ${formatShapeDtype(x)}`, { expected: 'rank 3' });
      }
      return [{ dtype: 'float32', shape: [x.shape[0], dimMul(p.depth_multiplier, x.shape[2])] }];
    },
    lower: (e, _ins, _p, sig) => [e.op1('ConstantOfShape', [e.i64(dims(sig.outputs[0]))], { value: { tensor: { dtype: 'float32', dims: [1], data: Float32Array.of(0) } } })],
  },
  LSTM: {
    summary: 'An LSTM over axis 1: Serial(Branch([], MakeZeroState(2)), Scan(LSTMCell(n_units), axis=1), Select([0], n_in=2)); the input depth must equal n_units.',
    args: [P.int('n_units', REQUIRED, { min: 1 }), P.mode(), P.bool('return_state', false), P.bool('initial_state', false)],
    modes: { predict: 'the final (c, h) state is kept between calls (Scan in predict mode) for one-step-at-a-time inference' },
    lowerAsFunction: true,
    expand: (p): ExpandNode => {
      const scan: ExpandNode = { kind: 'Scan', params: { axis: 1, mode: p.mode }, slots: { layer: { kind: 'LSTMCell', params: { n_units: p.n_units } } } };
      const children: ExpandNode[] = [];
      if (!p.initial_state) children.push({ kind: 'Branch', children: [EMPTY, { kind: 'MakeZeroState', params: { depth_multiplier: 2 } }] });
      children.push(scan);
      if (!p.return_state) children.push({ kind: 'Select', params: { indices: [0], n_in: 2 } });
      return { kind: 'Serial', params: { name: `LSTM_${p.n_units}` }, children };
    },
  },
  GRUCell: {
    summary: 'One GRU step: u, r = split(sigmoid(concat(x, h) @ W1 + b1)); c = concat(x, r*h) @ W2 + b2; h\' = u*h + (1-u)*tanh(c); returns (h\', h\').',
    args: [
      P.int('n_units', REQUIRED, { min: 1 }),
      P.float('forget_bias', 0.0, { doc: 'added to b1 (both gates) at init' }),
      P.init('kernel_initializer', INIT.uniform(0.01)),
      P.init('bias_initializer', INIT.normal(1e-6)),
    ],
    arity: fixed(2, 2),
    infer: ([x, state], p) => {
      const n: number = p.n_units;
      depthOf(x, 'GRUCell', 'input x');
      const sd = depthOf(state, 'GRUCell', 'state');
      if (sd !== n) {
        throw new LayerError('shape_mismatch', `GRUCell: the state depth ${sd} must equal n_units = ${n}; note that GRU builds its zero state from the input depth, so GRU only works when the input depth equals n_units`, {
          expected: `state depth n_units = ${n}`,
          param: 'n_units',
        });
      }
      requireSameLeading(x, state, 'GRUCell');
      const out = { dtype: cellDtype(x, state), shape: state.shape };
      return [out, out];
    },
    weights: ([x], p) => {
      const n: number = p.n_units;
      const din = dimAdd(x.shape[x.shape.length - 1], n);
      return [
        { name: 'w1', shape: [din, 2 * n], dtype: 'float32', init: p.kernel_initializer },
        // Trax adds forget_bias to b1 after the initializer.
        { name: 'b1', shape: [2 * n], dtype: 'float32', init: { base: p.bias_initializer, offset: p.forget_bias } },
        { name: 'w2', shape: [din, n], dtype: 'float32', init: p.kernel_initializer },
        { name: 'b2', shape: [n], dtype: 'float32', init: p.bias_initializer },
      ];
    },
    lower: (e, ins, p, sig) => e.fn('GRUCell', cellKey('GRUCell', p, sig), ins, 2, (fe, [x0, s0]) => {
      const n: number = p.n_units;
      const to = sig.outputs[0].dtype;
      const rank = sig.inputs[1].shape.length;
      const x = cast(fe, x0, sig.inputs[0].dtype, to), h = cast(fe, s0, sig.inputs[1].dtype, to);
      const [u, r] = splitLast(fe, fe.op1('Sigmoid', [affine(fe, x, h, rank, fe.weight('w1'), fe.weight('b1'), to)]), rank, n, 2);
      const c = affine(fe, x, fe.op1('Mul', [r, h]), rank, fe.weight('w2'), fe.weight('b2'), to);
      const oneMinusU = fe.op1('Sub', [scalar(fe, 1, to), u]);
      const newH = fe.op1('Add', [fe.op1('Mul', [u, h]), fe.op1('Mul', [oneMinusU, fe.op1('Tanh', [c])])]);
      return [newH, fe.op1('Identity', [newH])];
    }, 'One GRU step: u, r = split(sigmoid(concat(x, h) @ w1 + b1)); c = concat(x, r*h) @ w2 + b2; h\' = u*h + (1-u)*tanh(c); returns (h\', h\')'),
  },
  GRU: {
    summary: 'A GRU over axis 1: Serial(Branch([], MakeZeroState(1)), Scan(GRUCell(n_units), axis=1), Select([0], n_in=2)); the input depth must equal n_units.',
    args: [P.int('n_units', REQUIRED, { min: 1 }), P.mode()],
    modes: { predict: 'the final state is kept between calls (Scan in predict mode) for one-step-at-a-time inference' },
    lowerAsFunction: true,
    expand: (p): ExpandNode => ({
      kind: 'Serial',
      params: { name: `GRU_${p.n_units}` },
      children: [
        { kind: 'Branch', children: [EMPTY, { kind: 'MakeZeroState', params: { depth_multiplier: 1 } }] },
        { kind: 'Scan', params: { axis: 1, mode: p.mode }, slots: { layer: { kind: 'GRUCell', params: { n_units: p.n_units } } } },
        { kind: 'Select', params: { indices: [0], n_in: 2 } },
      ],
    }),
  },
  ConvGRUCell: {
    summary: 'A convolutional GRU cell: GeneralGRUCell with Conv(n_units, kernel_size, padding=\'SAME\') transforms; 1 -> 1, shape-preserving when channels == n_units. (quirk) its Dropout(0.1) is always in train mode.',
    args: [P.int('n_units', REQUIRED, { min: 1 }), P.ints('kernel_size', [3, 3], { min: 1 })],
    expand: (p): ExpandNode => ({
      kind: 'GeneralGRUCell',
      params: { gate_nonlinearity: 'Sigmoid', candidate_nonlinearity: 'Tanh' },
      slots: { candidate_transform: { kind: 'Conv', params: { filters: p.n_units, kernel_size: p.kernel_size, padding: 'SAME' } } },
    }),
  },
  GeneralGRUCell: {
    summary: 'A GRU cell built from a transform: Serial(Branch(memory_transform or [], gate_block, candidate_block), Gate()); each use of candidate_transform is a fresh copy with its own weights.',
    args: [
      P.slot('candidate_transform', { doc: 'the layer Trax\'s factory would build; used three times (update gate, reset gate, candidate), each a fresh copy with its own weights' }),
      P.slot('memory_transform_fn', { optional: true, doc: 'optional transform of the memory before gating (the layer its factory would build)' }),
      P.layerClass('gate_nonlinearity', 'Sigmoid'),
      P.layerClass('candidate_nonlinearity', 'Tanh'),
      P.float('dropout_rate_c', 0.1, { min: 0, max: 1, maxExclusive: true }),
      P.float('sigmoid_bias', 0.5),
    ],
    modes: { train: '(quirk) the candidate Dropout is built with mode \'train\' whatever the model\'s mode, so the cell is stochastic at eval time too' },
    expand: (p, slots): ExpandNode => {
      const ct = slots.candidate_transform!;
      const gate = (): ExpandNode[] => [ct, { kind: 'AddSigmoidBias', params: { sigmoid_bias: p.sigmoid_bias } }, { kind: p.gate_nonlinearity }];
      // Trax's Serial deep-flattens the nested reset block into the candidate block.
      const candidate: ExpandNode = {
        kind: 'Serial',
        children: [{ kind: 'Dup' }, ...gate(), { kind: 'Multiply' }, ct, { kind: p.candidate_nonlinearity }, { kind: 'Dropout', params: { rate: p.dropout_rate_c } }],
      };
      return {
        kind: 'Serial',
        children: [
          { kind: 'Branch', children: [slots.memory_transform_fn ?? EMPTY, { kind: 'Serial', children: gate() }, candidate] },
          { kind: 'Gate' },
        ],
      };
    },
  },
  AddSigmoidBias: {
    summary: 'x + sigmoid_bias (the Fn GeneralGRUCell puts before its gate nonlinearities).',
    internal: true,
    args: [P.float('sigmoid_bias', 0.5)],
    arity: fixed(1, 1),
    infer: ([x]) => [{ dtype: floatOf(x.dtype), shape: x.shape }],
    lower: (e, [x], p, sig) => {
      const to = sig.outputs[0].dtype;
      return [e.op1('Add', [cast(e, x, sig.inputs[0].dtype, to), scalar(e, p.sigmoid_bias, to)])];
    },
  },
  InnerSRUCell: {
    summary: 'One SRU step: (x*(1-f), f, c) -> (c\', c\') with c\' = f*c + x*(1-f).',
    args: [],
    arity: fixed(3, 2),
    infer: (inputs) => {
      const shape = combine(inputs, 'InnerSRUCell: f * c + x*(1-f)', 'x*(1-f), f and the state c of shapes that broadcast');
      const dtype = floatOf(promote(promote(inputs[0].dtype, inputs[1].dtype), inputs[2].dtype));
      const out = { dtype, shape };
      return [out, out];
    },
    // res = f * c + x*(1-f); returns (res, res)
    lower: (e, ins, _p, sig) => {
      const [xf, f, c] = castIns(e, ins, sig, sig.outputs[0].dtype);
      const res = e.op1('Add', [e.op1('Mul', [f, c]), xf]);
      return [res, e.op1('Identity', [res])];
    },
  },
  ScanSRUCell: {
    summary: 'Scan(InnerSRUCell(), axis=1, mode=mode): the SRU recurrence over the length axis.',
    args: [P.str('mode', REQUIRED, { choices: MODES }), P.any('monkey_patched_mask', null, { nullable: true })],
    check: (p) => {
      if (p.monkey_patched_mask !== null) {
        throw new LayerError('unsupported', 'ScanSRUCell: monkey_patched_mask (a Terraformer-only hook that patches a mask layer in, predict mode only) is not supported; leave it None', { param: 'monkey_patched_mask' });
      }
    },
    expand: (p): ExpandNode => ({ kind: 'Scan', params: { axis: 1, mode: p.mode }, slots: { layer: { kind: 'InnerSRUCell' } } }),
  },
  SRU: {
    summary: 'Simple Recurrent Unit over axis 1: c_t = f_t*c_{t-1} + (1-f_t)*y_t, h = r*act(c) + (1-r)*x*sqrt(3) (quirk: the sqrt(3)); input depth must equal n_units.',
    args: [P.int('n_units', REQUIRED, { min: 1 }), P.slot('activation', { optional: true }), P.mode()],
    modes: { predict: 'the final carry is kept between calls (Scan in predict mode)' },
    lowerAsFunction: true,
    expand: (p, slots): ExpandNode => ({
      kind: 'Serial',
      params: { name: `SRU_${p.n_units}` },
      children: [
        { kind: 'Branch', children: [{ kind: 'Dense', params: { n_units: 3 * p.n_units } }, EMPTY] }, // r_f_y, x
        { kind: 'Split', params: { n_items: 3 } }, // r, f, y, x
        { kind: 'Parallel', children: [{ kind: 'Sigmoid' }, { kind: 'Sigmoid' }] }, // r, f, y, x
        { kind: 'SRUGates' }, // y*(1-f), f, r, x
        { kind: 'Parallel', children: [EMPTY, EMPTY, { kind: 'Branch', children: [{ kind: 'MakeZeroState' }, EMPTY] }] },
        { kind: 'ScanSRUCell', params: { mode: p.mode } }, // c, c_final, r, x
        { kind: 'Select', params: { indices: [0], n_in: 2 } }, // c, r, x
        slots.activation ?? EMPTY,
        { kind: 'FinalSRUGate' },
      ],
    }),
  },
  SRUGates: {
    summary: '(r, f, y) -> (y*(1-f), f, r): the unnamed Fn inside SRU.',
    internal: true,
    args: [],
    arity: fixed(3, 3),
    infer: ([r, f, y]) => {
      const shape = combine([y, f], 'SRU: y * (1 - f)', 'y and f of the same shape');
      return [{ dtype: floatOf(promote(y.dtype, f.dtype)), shape }, f, r];
    },
    // (r, f, y) -> (y * (1.0 - f), f, r)
    lower: (e, [r, f, y], _p, sig) => {
      const to = sig.outputs[0].dtype;
      const f1 = cast(e, f, sig.inputs[1].dtype, to);
      return [e.op1('Mul', [cast(e, y, sig.inputs[2].dtype, to), e.op1('Sub', [scalar(e, 1, to), f1])]), f, r];
    },
  },
  FinalSRUGate: {
    summary: '(c, r, x) -> c*r + x*(1-r)*sqrt(3): the highway output of SRU.',
    internal: true,
    args: [],
    arity: fixed(3, 1),
    infer: ([c, r, x]) => {
      let shape: Dim[];
      try {
        shape = broadcastShapes(broadcastShapes(c.shape, r.shape), x.shape);
      } catch (e) {
        if (!(e instanceof LayerError)) throw e;
        throw new LayerError('shape_mismatch', `SRU: the highway term x*(1-r) needs the input depth to equal n_units: the input is ${formatShapeDtype(x)} but the recurrent output is ${formatShapeDtype(c)}`, {
          expected: `an input of depth ${String(c.shape[c.shape.length - 1])} (= n_units)`,
        });
      }
      return [{ dtype: floatOf(promote(promote(c.dtype, r.dtype), x.dtype)), shape }];
    },
    // c * r + x * (1 - r) * 3**0.5, in Python's evaluation order
    lower: (e, ins, _p, sig) => {
      const to = sig.outputs[0].dtype;
      const [c, r, x] = castIns(e, ins, sig, to);
      const highway = e.op1('Mul', [e.op1('Mul', [x, e.op1('Sub', [scalar(e, 1, to), r])]), scalar(e, Math.sqrt(3), to)]);
      return [e.op1('Add', [e.op1('Mul', [c, r]), highway])];
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const rnnNotes: Record<string, SpecNote> = {};
