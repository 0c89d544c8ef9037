/**
 * The `research.position_encodings` module: axial, sin/cos (block layout),
 * fixed-base, infinite and time-bin position encodings. All keep the shape of
 * their input [batch, length, depth].
 */
import { type Dim, dimFloorDiv } from '../core/dim';
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype, promote } from '../core/shape';
import { INIT, P, REQUIRED, type WeightDecl, construct, fixed } from './def';
import { family, type SpecNote } from './family';

const DROPOUT = { min: 0, max: 1, maxExclusive: true } as const;

function requireRank3(x: ShapeDtype): void {
  if (x.shape.length !== 3) {
    throw new LayerError('rank', `input must have rank 3 [batch, length, depth], got ${formatShapeDtype(x)}`, { expected: 'rank 3' });
  }
}

/** x + a float32 encoding */
function added(x: ShapeDtype): ShapeDtype {
  return { dtype: promote(x.dtype, 'float32'), shape: x.shape };
}

const counter = (shape: Dim[] = []): WeightDecl => ({ name: 'position', shape, dtype: 'int32', init: { fill: 0 } });

export const position_encodingsLayers = family('position_encodings', {
  AxialPositionalEncoding: {
    summary: 'Adds learned axial encodings: one weight per axis of the grid `shape` (d_embs[i] features each), broadcast over the grid, concatenated on features (sum(d_embs) = d) and flattened row-major over the length (length = prod(shape)).',
    args: [
      P.ints('shape', [64, 64, 3], { min: 1, minLength: 1 }),
      P.ints('d_embs', [384, 384, 256], { min: 1, minLength: 1 }),
      P.init('kernel_initializer', INIT.normal(1.0)),
      P.float('dropout', 0.0, DROPOUT),
      P.ints('dropout_broadcast_dims', []),
      P.mode(),
    ],
    modes: { train: 'dropout on the encoding', eval: 'adds the encoding', predict: 'state = position counter; adds the encoding of positions state..state+L' },
    check: (p) => {
      if (p.shape.length !== p.d_embs.length) {
        construct(`shape has ${p.shape.length} axes but d_embs has ${p.d_embs.length} entries; give one embedding size per axis`, 'd_embs');
      }
    },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2], L = x.shape[1];
      const sum = (p.d_embs as number[]).reduce((a, b) => a + b, 0);
      if (typeof d === 'number' && d !== sum) {
        throw new LayerError('shape_mismatch', `sum(d_embs) = ${(p.d_embs as number[]).join(' + ')} = ${sum} must equal the input depth ${d}`, { expected: `input depth ${sum}`, param: 'd_embs' });
      }
      const n = (p.shape as number[]).reduce((a, b) => a * b, 1);
      if (p.mode === 'predict') {
        if (typeof L === 'number' && L > n) {
          throw new LayerError('shape_mismatch', `input length ${L} exceeds the ${n} positions of the axial grid shape = (${(p.shape as number[]).join(', ')})`, { expected: `a length <= ${n}`, param: 'shape' });
        }
      } else if (typeof L === 'number' && L !== n) {
        throw new LayerError('shape_mismatch', `input length ${L} must equal prod(shape) = ${(p.shape as number[]).join(' * ')} = ${n} (variable-length sequences are not supported outside predict mode)`, { expected: `length ${n}`, param: 'shape' });
      }
      return [added(x)];
    },
    weights: (_x, p) => (p.shape as number[]).map((_, ax) => {
      const s: Dim[] = [1, ...(p.shape as number[]).map((n, i) => (i === ax ? n : 1)), p.d_embs[ax]];
      return { name: `axial_${ax}`, shape: s, dtype: 'float32', init: p.kernel_initializer };
    }),
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
  },
  SinCosPositionalEncoding: {
    summary: 'Adds the fixed sin/cos encoding laid out as [sin block | cos block] (not interleaved); no weights; train mode starts at a random offset in [0, add_offset) except one time in start_from_zero_one_in.',
    args: [
      P.int('add_offset', 2048, { min: 1 }),
      P.float('dropout', 0.0, DROPOUT),
      P.ints('dropout_broadcast_dims', [-2]),
      P.int('start_from_zero_one_in', 2, { min: 1 }),
      P.mode(),
    ],
    modes: { train: 'random start offset and dropout', eval: 'positions from 0', predict: 'state = position counter, advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x]) => {
      requireRank3(x);
      const d = x.shape[2];
      if (typeof d === 'number' && d % 2 !== 0) {
        throw new LayerError('shape_mismatch', `needs an even depth (a sin block and a cos block of d/2 each), got ${d}`, { expected: 'an even depth' });
      }
      return [added(x)];
    },
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
  },
  FixedBasePositionalEncoding: {
    summary: 'Adds digit-wise encodings of the position in each base (n_digits digits, each times a learned (1, d/n_digits) vector) plus a learned start vector at position 0; random offsets in train mode.',
    args: [
      P.ints('bases', [11, 13, 14, 15], { style: 'list', min: 2, minLength: 1 }),
      P.int('n_digits', 8, { min: 1 }),
      P.int('start_from_zero_one_in', 2, { min: 1 }),
      P.int('base_dropout_one_in', 100, { min: 1 }),
      P.mode(),
      P.init('initializer', INIT.uniform(1e-4)),
    ],
    modes: { train: 'random start offsets and per-base dropout', eval: 'positions from 0', predict: 'state = position counter, advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2], L = x.shape[1];
      if (typeof d === 'number' && d % p.n_digits !== 0) {
        throw new LayerError('shape_mismatch', `d_feature(${d}) % n_digits(${p.n_digits}) != 0`, { expected: `a depth divisible by n_digits = ${p.n_digits}`, param: 'n_digits' });
      }
      const maxPos = Math.min(...(p.bases as number[])) ** p.n_digits;
      if (typeof L === 'number' && L >= maxPos) {
        throw new LayerError('shape_mismatch', `length (${L}) >= max_pos (${maxPos} = min(bases) ** n_digits)`, { expected: `a length < ${maxPos}`, param: 'n_digits' });
      }
      return [added(x)];
    },
    weights: ([x], p) => {
      const d = x.shape[2];
      const dw = dimFloorDiv(d, p.n_digits);
      const w: WeightDecl[] = [];
      for (const b of p.bases as number[]) {
        for (let i = 0; i < p.n_digits; i++) w.push({ name: `base${b}_digit${i}`, shape: [1, dw], dtype: 'float32', init: p.initializer });
      }
      w.push({ name: 'start_vec', shape: [1, 1, d], dtype: 'float32', init: p.initializer });
      return w;
    },
    state: (_x, p) => (p.mode === 'predict' ? [counter()] : []),
  },
  InfinitePositionalEncoding: {
    summary: "Adds cosine features of drifting frequencies (deterministic threefry noise), times a learned (d, d) orthogonal-initialised matrix ('any'), softplus of a learned (d,) vector ('diag'), or as is ('none').",
    args: [
      P.float('drift', 0.03, { min: 0 }),
      P.bool('affine', true),
      P.str('transform', 'any', { choices: ['any', 'diag', 'none'] }),
      P.int('time_bin_length', null, { min: 1 }),
      P.mode(),
    ],
    modes: { train: 'random phase per call when affine', predict: 'state = (per-example position [batch], rng); one position per call' },
    arity: fixed(1, 1),
    infer: ([x], p) => {
      requireRank3(x);
      const d = x.shape[2];
      if (p.time_bin_length !== null && typeof d === 'number' && d < 3) {
        throw new LayerError('shape_mismatch', `with time_bin_length the last 3 channels hold time-bin features, so the depth must be >= 3, got ${d}`, { expected: 'a depth >= 3', param: 'time_bin_length' });
      }
      return [added(x)];
    },
    weights: ([x], p) => {
      const d = x.shape[2];
      if (p.transform === 'diag') return [{ name: 'scale', shape: [d], dtype: 'float32', init: { fill: 1e-4 } }];
      if (p.transform === 'any') return [{ name: 'transform', shape: [d, d], dtype: 'float32', init: { $init: 'OrthogonalInitializer' } }];
      return [];
    },
    state: ([x], p) => (p.mode === 'predict'
      ? [counter([x.shape[0]]), { name: 'rng', shape: [2], dtype: 'int32', init: { table: 'prng_keys' } }]
      : []),
  },
  TimeBinPositionalEncoding: {
    summary: 'Replaces the last 3 channels with time-bin features (1/(1+bin), (t mod len)/len, bin parity), bin = t // time_bin_length; shape kept.',
    args: [P.int('time_bin_length', REQUIRED, { min: 1 }), P.mode()],
    modes: { predict: 'state = per-example position [batch], advanced by each call' },
    arity: fixed(1, 1),
    infer: ([x]) => {
      if (x.shape.length < 2) {
        throw new LayerError('rank', `input must have rank >= 2 [..., length, depth], got ${formatShapeDtype(x)}`, { expected: 'rank >= 2' });
      }
      return [added(x)];
    },
    state: ([x], p) => (p.mode === 'predict' ? [counter([x.shape[0]])] : []),
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const position_encodingsNotes: Record<string, SpecNote> = {
  threefry_2x32_prf: { status: 'function', reason: "the threefry-2x32 pseudo-random function on uint32[..., 2] (InfinitePositionalEncoding's deterministic noise); implemented by the lowering" },
  threefry_2x32_prange: { status: 'function', reason: "splits a uint32[2] key into keys [hi - lo, 2] with threefry in counter mode (InfinitePositionalEncoding's noise); implemented by the lowering" },
};
