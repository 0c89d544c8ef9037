/** The `core` module: Dense, Embedding, Dropout and the tensor-function layers. */
import { floatOf } from '../core/shape';
import { INIT, P, REQUIRED, fixed } from './def';
import { family, type SpecNote } from './family';
import { lastDim, matmulLast } from './rules';

export const coreLayers = family('core', {
  Dense: {
    summary: 'y = x @ W + b over the last axis; W has shape (d_in, n_units).',
    args: [
      P.int('n_units', REQUIRED, { min: 1 }),
      P.init('kernel_initializer', INIT.glorotUniform()),
      P.init('bias_initializer', INIT.normal(1e-6)),
      P.bool('use_bias', true),
      P.bool('use_bfloat16', false),
    ],
    arity: fixed(1, 1),
    infer: ([x], p) => [{ dtype: p.use_bfloat16 ? 'bfloat16' : floatOf(x.dtype), shape: matmulLast(x, lastDim(x), p.n_units, 'Dense') }],
    weights: ([x], p) => {
      const w = { name: 'kernel', shape: [lastDim(x), p.n_units], dtype: p.use_bfloat16 ? 'bfloat16' as const : 'float32' as const, init: p.kernel_initializer };
      return p.use_bias ? [w, { name: 'bias', shape: [p.n_units], dtype: w.dtype, init: p.bias_initializer }] : [w];
    },
  },
  Embedding: {
    summary: 'Looks up integer ids in a (vocab_size, d_feature) table; ids outside the vocabulary are clipped.',
    args: [
      P.int('vocab_size', REQUIRED, { min: 1 }),
      P.int('d_feature', REQUIRED, { min: 1 }),
      P.bool('use_bfloat16', false),
      P.init('kernel_initializer', INIT.scaled({ out_dim: -1, in_dim: -2, scale: 1.0, mode: 'fan_out', distribution: 'uniform' })),
    ],
    arity: fixed(1, 1),
    infer: ([x], p) => [{ dtype: p.use_bfloat16 ? 'bfloat16' : 'float32', shape: [...x.shape, p.d_feature] }],
    weights: (_x, p) => [{ name: 'embedding', shape: [p.vocab_size, p.d_feature], dtype: p.use_bfloat16 ? 'bfloat16' : 'float32', init: p.kernel_initializer }],
  },
  Dropout: {
    summary: 'In train mode zeroes each element with probability rate and scales the rest by 1/(1-rate); identity otherwise.',
    args: [P.float('rate', 0.0, { min: 0, max: 1, maxExclusive: true }), P.ints('shared_axes', null, { nullable: true }), P.mode()],
    modes: { train: 'active (random mask, scaled by 1/(1-rate))', eval: 'identity', predict: 'identity' },
    arity: fixed(1, 1),
    infer: (x) => [x[0]],
    state: () => [{ name: 'rate', shape: [], dtype: 'float32', init: { fill: 0 } }],
  },
});

export const coreNotes: Record<string, SpecNote> = {};
