/**
 * The Fn lambda interpreter: a broad table of lambda bodies and the output
 * signatures they give, the errors (always LayerErrors, naming the construct),
 * a fuzz over garbage sources, and the conformance cases that involve Fn,
 * traced through hand-built documents.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../core/errors';
import { formatShapeDtype, parseShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { traceDocument } from '../document/trace';
import { sharedPath } from '../../test/shared';
import { SUPPORTED_FUNCTIONS, _parseCacheSize, checkFnLambda, fnArity, inferFn, inferPure } from './fn';

function infer(src: string, inputs: string[], nOut = 1): string[] {
  return inferFn({ $lambda: src }, inputs.map(parseShapeDtype), nOut).map(formatShapeDtype);
}

function errorOf(f: () => unknown): LayerError {
  try {
    f();
  } catch (e) {
    if (e instanceof LayerError) return e;
    throw new Error(`expected a LayerError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  throw new Error('expected an error');
}

// [lambda, inputs, expected outputs, n_out?]
const TABLE: [string, string[], string[], number?][] = [
  // literals and dtypes (JAX, x64 off, weak Python scalars)
  ['lambda: 1', [], ['int32[]']],
  ['lambda: 1.5', [], ['float32[]']],
  ['lambda: True', [], ['bool[]']],
  ['lambda: 7 // 2 + 2 ** 3', [], ['int32[]']],
  ['lambda: 7 / 2', [], ['float32[]']],
  ['lambda: jnp.array([[1, 2], [3, 4.5]])', [], ['float32[2,2]']],
  ['lambda: jnp.array([True, False])', [], ['bool[2]']],
  ['lambda: jnp.asarray([1, 2, 3], dtype=jnp.float16)', [], ['float16[3]']],
  ['lambda: jnp.array([])', [], ['float32[0]']],
  ['lambda x: x + 1', ['int32[3]'], ['int32[3]']],
  ['lambda x: x + 1', ['int8[3]'], ['int8[3]']],
  ['lambda x: x + 1.0', ['int32[3]'], ['float32[3]']],
  ['lambda x: x + 1.0', ['float16[3]'], ['float16[3]']],
  ['lambda x: x * 2.0', ['bfloat16[3]'], ['bfloat16[3]']],
  ['lambda x: x / 2', ['int32[3]'], ['float32[3]']],
  ['lambda x: x / 2', ['bfloat16[3]'], ['bfloat16[3]']],
  ['lambda x: x // 2', ['int32[3]'], ['int32[3]']],
  ['lambda x: x % 2', ['float32[3]'], ['float32[3]']],
  ['lambda x: x ** 2', ['int32[3]'], ['int32[3]']],
  ['lambda x, y: x + y', ['int32[3]', 'float32[3]'], ['float32[3]']],
  ['lambda x, y: x + y', ['bfloat16[3]', 'float16[3]'], ['float32[3]']],
  ['lambda x, y: x + y', ['bool[3]', 'bool[3]'], ['bool[3]']],
  ['lambda x, y: x * y', ['bool[3]', 'int32[3]'], ['int32[3]']],
  ['lambda x: x + 1', ['bool[3]'], ['int32[3]']],
  ['lambda x: x < 3', ['int32[3]'], ['bool[3]']],
  ['lambda x, y: (x > 0) & (y < 1)', ['float32[3]', 'float32[3]'], ['bool[3]']],
  ['lambda x, y: x | y', ['int32[3]', 'int32[3]'], ['int32[3]']],
  ['lambda x: ~x', ['bool[3]'], ['bool[3]']],
  ['lambda x: -x', ['float32[B]'], ['float32[B]']],
  ['lambda x: not True', [], ['bool[]']],
  ['lambda x: x.astype(jnp.float32)', ['int32[3]'], ['float32[3]']],
  ['lambda x: x.astype(np.int64)', ['float32[3]'], ['int32[3]']],
  ['lambda x: x.astype(float)', ['int32[3]'], ['float32[3]']],
  ['lambda x: x.astype("bool")', ['int32[3]'], ['bool[3]']],
  ['lambda x: x.astype(x.dtype)', ['int8[3]'], ['int8[3]']],
  ['lambda x: jnp.float32(x)', ['int32[3]'], ['float32[3]']],
  ['lambda x: jnp.int32(2)', ['int32[3]'], ['int32[]']],
  ['lambda x, y: x * y', ['int32[B,1]', 'int32[1,L]'], ['int32[B,L]']],
  // elementwise functions
  ['lambda x: jnp.exp(x)', ['int32[2]'], ['float32[2]']],
  ['lambda x: np.tanh(x)', ['bfloat16[2]'], ['bfloat16[2]']],
  ['lambda x: jnp.abs(x)', ['int32[2]'], ['int32[2]']],
  ['lambda x: jnp.floor(x)', ['int32[2]'], ['int32[2]']],
  ['lambda x: jnp.square(x) + jnp.sign(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: jax.nn.sigmoid(x)', ['float32[B,4]'], ['float32[B,4]']],
  ['lambda x: jax.nn.relu(x)', ['int32[3]'], ['int32[3]']],
  ['lambda x: jax.nn.softmax(x, axis=1)', ['float32[2,3]'], ['float32[2,3]']],
  ['lambda x: jax.nn.gelu(x, approximate=False)', ['float32[2,3]'], ['float32[2,3]']],
  ['lambda x: jnp.logical_not(x)', ['int32[2]'], ['bool[2]']],
  ['lambda x: jnp.isnan(x)', ['float32[2]'], ['bool[2]']],
  ['lambda x: fastmath.expit(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: jax.scipy.special.erf(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: jax.lax.rsqrt(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: jax.numpy.sqrt(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: numpy.log1p(x)', ['float32[2]'], ['float32[2]']],
  ['lambda x: jnp.maximum(x, 0)', ['int32[B,L]'], ['int32[B,L]']],
  ['lambda x, y: jnp.minimum(x, y)', ['float32[3,1]', 'float32[4]'], ['float32[3,4]']],
  ['lambda x, y: jnp.power(x, y)', ['float32[3]', 'int32[3]'], ['float32[3]']],
  ['lambda x, y: jnp.arctan2(x, y)', ['int32[3]', 'int32[3]'], ['float32[3]']],
  ['lambda x, y: jnp.logaddexp(x, y)', ['float32[3]', 'float32[3]'], ['float32[3]']],
  ['lambda x, y: jnp.lcm(x, y)', ['int32[3]', 'int32[3]'], ['int32[3]']],
  ['lambda x, y: jnp.floor_divide(x, y)', ['int32[3]', 'int32[3]'], ['int32[3]']],
  ['lambda x, y: jnp.mod(x, y)', ['int32[3]', 'int32[3]'], ['int32[3]']],
  ['lambda x, y: jnp.divide(x, y)', ['int32[3]', 'int32[3]'], ['float32[3]']],
  ['lambda x, y: jnp.equal(x, y)', ['int32[3]', 'float32[3]'], ['bool[3]']],
  ['lambda x, y: jnp.logical_or(x, y)', ['bool[3]', 'bool[3]'], ['bool[3]']],
  ['lambda c, x, y: jnp.where(c, x, y)', ['bool[B,1]', 'float32[1,L]', 'float32[]'], ['float32[B,L]']],
  ['lambda x: jnp.where(x > 0, x, 0)', ['int32[3]'], ['int32[3]']],
  ['lambda x: jnp.clip(x, 0, 6)', ['float32[3]'], ['float32[3]']],
  ['lambda x: jnp.clip(x, a_max=1.0)', ['int32[3]'], ['float32[3]']],
  ['lambda x: x.clip(0, 1)', ['float32[3]'], ['float32[3]']],
  // reductions
  ['lambda x: jnp.sum(x)', ['float32[B,3]'], ['float32[]']],
  ['lambda x: jnp.sum(x, axis=1)', ['bool[B,3]'], ['int32[B]']],
  ['lambda x: jnp.sum(x, axis=(0, 2), keepdims=True)', ['int8[2,3,4]'], ['int32[1,3,1]']],
  ['lambda x: jnp.sum(x, axis=-1, dtype=jnp.float32)', ['int32[2,3]'], ['float32[2]']],
  ['lambda x: jnp.mean(x, axis=0)', ['int32[2,3]'], ['float32[3]']],
  ['lambda x: jnp.max(x, axis=-1)', ['int32[2,3]'], ['int32[2]']],
  ['lambda x: jnp.min(x, -1, keepdims=True)', ['int32[2,3]'], ['int32[2,1]']],
  ['lambda x: jnp.prod(x)', ['bool[2,3]'], ['int32[]']],
  ['lambda x: jnp.argmax(x, axis=-1)', ['float32[B,L,V]'], ['int32[B,L]']],
  ['lambda x: jnp.argmin(x)', ['float32[B,L,V]'], ['int32[]']],
  ['lambda x: jnp.any(x, axis=0)', ['float32[2,3]'], ['bool[3]']],
  ['lambda x: jnp.all(x)', ['bool[2,3]'], ['bool[]']],
  ['lambda x: jnp.var(x, axis=1)', ['int32[2,3]'], ['float32[2]']],
  ['lambda x: jnp.std(x, axis=1, keepdims=True)', ['float32[2,3]'], ['float32[2,1]']],
  ['lambda x: jax.scipy.special.logsumexp(x, axis=-1)', ['float32[B,V]'], ['float32[B]']],
  ['lambda x: jax.nn.logsumexp(x, axis=-1, keepdims=True)', ['float32[B,V]'], ['float32[B,1]']],
  ['lambda x: jnp.linalg.norm(x, axis=-1)', ['float32[B,D]'], ['float32[B]']],
  ['lambda x: x.sum(axis=-1)', ['float32[B,D]'], ['float32[B]']],
  ['lambda x: x.mean()', ['int32[B,D]'], ['float32[]']],
  ['lambda x: x.max(0)', ['int32[B,D]'], ['int32[D]']],
  ['lambda x: jnp.cumsum(x, axis=1)', ['bool[2,3]'], ['int32[2,3]']],
  ['lambda x: jnp.cumsum(x)', ['float32[2,3]'], ['float32[6]']],
  // linear algebra
  ['lambda x, y: x @ y', ['float32[B,3,4]', 'float32[4,5]'], ['float32[B,3,5]']],
  ['lambda x, y: x @ y', ['float32[4]', 'float32[4,5]'], ['float32[5]']],
  ['lambda x, y: x @ y', ['float32[3,4]', 'float32[4]'], ['float32[3]']],
  ['lambda x, y: x @ y', ['float32[4]', 'float32[4]'], ['float32[]']],
  ['lambda x, y: jnp.matmul(x, y)', ['int32[2,1,3,4]', 'float32[5,4,6]'], ['float32[2,5,3,6]']],
  ['lambda x, y: jnp.dot(x, y)', ['float32[2,3,4]', 'float32[5,4,6]'], ['float32[2,3,5,6]']],
  ['lambda x, y: jnp.dot(x, y)', ['float32[3]', 'float32[]'], ['float32[3]']],
  ['lambda x, y: jnp.outer(x, y)', ['float32[3]', 'float32[2,2]'], ['float32[3,4]']],
  ['lambda q, k: q @ k.T', ['float32[L,D]', 'float32[M,D]'], ['float32[L,M]']],
  // shapes
  ['lambda x: x.reshape(x.shape[0], -1)', ['float32[B,L,8]'], ['float32[B,L*8]']],
  ['lambda x: x.reshape((-1,))', ['float32[2,3]'], ['float32[6]']],
  ['lambda x: jnp.reshape(x, (2, -1, 4))', ['float32[4,3,4]'], ['float32[2,6,4]']],
  ['lambda x: jnp.reshape(x, x.shape[:-1] + (2, -1))', ['float32[B,L,8]'], ['float32[B,L,2,4]']],
  ['lambda x: x.reshape(-1, x.shape[-1])', ['float32[B,L,D]'], ['float32[B*L,D]']],
  ['lambda x: x.reshape(x.shape[0] * x.shape[1], 4)', ['float32[B,L,4]'], ['float32[B*L,4]']],
  ['lambda x: jnp.transpose(x)', ['float32[2,3,4]'], ['float32[4,3,2]']],
  ['lambda x: jnp.transpose(x, (0, 2, 1))', ['float32[B,L,D]'], ['float32[B,D,L]']],
  ['lambda x: x.transpose(1, 0, 2)', ['float32[B,L,D]'], ['float32[L,B,D]']],
  ['lambda x: x.T', ['float32[2,3]'], ['float32[3,2]']],
  ['lambda x: jnp.swapaxes(x, 1, 2)', ['float32[B,L,D]'], ['float32[B,D,L]']],
  ['lambda x: jnp.moveaxis(x, 0, -1)', ['float32[A,B,C]'], ['float32[B,C,A]']],
  ['lambda x: jnp.expand_dims(x, 1)', ['float32[B,L]'], ['float32[B,1,L]']],
  ['lambda x: jnp.expand_dims(x, (0, -1))', ['float32[B,L]'], ['float32[1,B,L,1]']],
  ['lambda x: jnp.squeeze(x)', ['float32[B,1,L,1]'], ['float32[B,L]']],
  ['lambda x: jnp.squeeze(x, (1, 2))', ['float32[B,1,1,L]'], ['float32[B,L]']],
  ['lambda x: x.squeeze(-1)', ['float32[B,1]'], ['float32[B]']],
  ['lambda x: x.flatten()', ['float32[B,3]'], ['float32[B*3]']],
  ['lambda x: jnp.ravel(x)', ['float32[2,3]'], ['float32[6]']],
  ['lambda x, y: jnp.concatenate([x, y], axis=-1)', ['float32[B,L,3]', 'float32[B,L,5]'], ['float32[B,L,8]']],
  ['lambda x, y: jnp.concatenate((x, y))', ['int32[2,3]', 'float32[4,3]'], ['float32[6,3]']],
  ['lambda x, y: jnp.concatenate([x, y], axis=None)', ['float32[2,3]', 'float32[4]'], ['float32[10]']],
  ['lambda x, y: jnp.stack([x, y])', ['float32[B,3]', 'float32[B,3]'], ['float32[2,B,3]']],
  ['lambda x, y: jnp.stack([x, y], axis=-1)', ['float32[B,3]', 'float32[B,3]'], ['float32[B,3,2]']],
  ['lambda x: jnp.split(x, 2, axis=-1)', ['float32[B,8]'], ['float32[B,4]', 'float32[B,4]'], 2],
  ['lambda x: tuple(jnp.split(x, [2, 5]))', ['float32[8,3]'], ['float32[2,3]', 'float32[3,3]', 'float32[3,3]'], 3],
  ['lambda x: jnp.split(x, 2)[1]', ['float32[8,3]'], ['float32[4,3]']],
  ['lambda x: jnp.broadcast_to(x, (4, 3))', ['float32[3]'], ['float32[4,3]']],
  ['lambda x: jnp.flip(x, axis=1)', ['float32[2,3]'], ['float32[2,3]']],
  ['lambda x: jnp.roll(x, 1, axis=-1)', ['float32[2,3]'], ['float32[2,3]']],
  ['lambda x: jnp.argsort(x, axis=-1)', ['float32[2,3]'], ['int32[2,3]']],
  ['lambda x: jnp.tril(x)', ['float32[3,3]'], ['float32[3,3]']],
  ['lambda x: jnp.shape(x)[0] + jnp.ndim(x)', ['float32[2,3]'], ['int32[]']],
  // creation
  ['lambda: jnp.zeros((2, 3))', [], ['float32[2,3]']],
  ['lambda: jnp.ones(4, dtype=jnp.int32)', [], ['int32[4]']],
  ['lambda: jnp.zeros(())', [], ['float32[]']],
  ['lambda x: jnp.zeros((x.shape[0], 3), jnp.bool_)', ['float32[B,L]'], ['bool[B,3]']],
  ['lambda x: jnp.zeros_like(x)', ['int32[B,L]'], ['int32[B,L]']],
  ['lambda x: jnp.ones_like(x, dtype=jnp.float32)', ['int32[B,L]'], ['float32[B,L]']],
  ['lambda x: jnp.full_like(x, 7)', ['int32[B,L]'], ['int32[B,L]']],
  ['lambda: jnp.full((2, 2), 1.5)', [], ['float32[2,2]']],
  ['lambda: jnp.full((2,), True)', [], ['bool[2]']],
  ['lambda: jnp.arange(5)', [], ['int32[5]']],
  ['lambda: jnp.arange(2, 10, 3)', [], ['int32[3]']],
  ['lambda: jnp.arange(0.0, 1.0, 0.25)', [], ['float32[4]']],
  ['lambda x: jnp.arange(x.shape[1])', ['float32[B,L]'], ['int32[L]']],
  ['lambda x: jnp.arange(1, x.shape[1] + 1)', ['float32[B,L]'], ['int32[L]']],
  ['lambda: jnp.linspace(0, 1, 11)', [], ['float32[11]']],
  ['lambda: jnp.eye(3)', [], ['float32[3,3]']],
  ['lambda x: jnp.tril(jnp.ones((x.shape[1], x.shape[1]), dtype=jnp.bool_))', ['float32[B,L]'], ['bool[L,L]']],
  ['lambda x: jax.nn.one_hot(x, 10)', ['int32[B,L]'], ['float32[B,L,10]']],
  ['lambda x: tl.one_hot(x, 5, dtype=jnp.int32)', ['int32[B]'], ['int32[B,5]']],
  // attributes, subscripts, Python values
  ['lambda x: x.shape[-1]', ['float32[B,7]'], ['int32[]']],
  ['lambda x: x.ndim', ['float32[B,7]'], ['int32[]']],
  ['lambda x: len(x)', ['float32[B,7]'], ['int32[]']],
  ['lambda x: x / x.shape[-1]', ['int32[B,7]'], ['float32[B,7]']],
  ['lambda x: x * jnp.sqrt(x.shape[-1])', ['bfloat16[B,7]'], ['bfloat16[B,7]']],
  ['lambda x: x / math.sqrt(x.shape[-1])', ['float32[B,D]'], ['float32[B,D]']],
  ['lambda x: x * math.pi', ['float16[2]'], ['float16[2]']],
  ['lambda x: x[0]', ['float32[B,L,D]'], ['float32[L,D]']],
  ['lambda x: x[-1]', ['float32[3,4]'], ['float32[4]']],
  ['lambda x: x[:, 0]', ['float32[B,L,D]'], ['float32[B,D]']],
  ['lambda x: x[..., 0]', ['float32[B,L,D]'], ['float32[B,L]']],
  ['lambda x: x[..., None]', ['float32[B,L]'], ['float32[B,L,1]']],
  ['lambda x: x[:, None, None, :]', ['float32[B,L]'], ['float32[B,1,1,L]']],
  ['lambda x: x[None]', ['float32[3]'], ['float32[1,3]']],
  ['lambda x: x[jnp.newaxis, :]', ['float32[3]'], ['float32[1,3]']],
  ['lambda x: x[1:3]', ['float32[10,2]'], ['float32[2,2]']],
  ['lambda x: x[1:3]', ['float32[B,2]'], ['float32[2,2]']],
  ['lambda x: x[-3:]', ['float32[10]'], ['float32[3]']],
  ['lambda x: x[-3:]', ['float32[L]'], ['float32[3]']],
  ['lambda x: x[:-1]', ['float32[L]'], ['float32[L-1]']],
  ['lambda x: x[1:]', ['float32[L]'], ['float32[L-1]']],
  ['lambda x: x[8:20]', ['float32[10]'], ['float32[2]']],
  ['lambda x: x[::-1]', ['float32[L]'], ['float32[L]']],
  ['lambda x: x[::-2]', ['float32[5]'], ['float32[3]']],
  ['lambda x: x[:, ::2]', ['float32[B,7]'], ['float32[B,4]']],
  ['lambda x: x[:, ::2]', ['float32[B,L]'], ['float32[B,ceil(L/2)]']],
  ['lambda x, y: x[:, :y.shape[1]]', ['float32[B,L]', 'float32[B,M]'], ['float32[B,M]']],
  ['lambda x: x[:, : x.shape[1] // 2]', ['float32[B,L]'], ['float32[B,floor(L/2)]']],
  ['lambda x: x[:, 1:-1, ...]', ['float32[B,L,D]'], ['float32[B,L-2,D]']],
  ['lambda x, i: x[i]', ['float32[10,4]', 'int32[B,3]'], ['float32[B,3,4]']],
  ['lambda x, i: x[:, i]', ['float32[2,10,4]', 'int32[5]'], ['float32[2,5,4]']],
  ['lambda x, i: x[0, :, i]', ['float32[2,10,4]', 'int32[5]'], ['float32[5,10]']],
  ['lambda x: x[[0, 2]]', ['float32[4,3]'], ['float32[2,3]']],
  ['lambda x: x[0][1]', ['float32[4,3,2]'], ['float32[2]']],
  ['lambda x: x.shape', ['float32[2,3]'], ['int32[]', 'int32[]'], 2],
  ['lambda x: (x, x.shape[0])', ['float32[B,3]'], ['float32[B,3]', 'int32[]'], 2],
  ['lambda x: x if 2 > 1 else x[0]', ['float32[3,4]'], ['float32[3,4]']],
  ['lambda x: x[0] if x.ndim == 3 else x', ['float32[B,3,4]'], ['float32[3,4]']],
  ['lambda x: x[0] if x.shape[-1] == 4 else x', ['float32[B,3,4]'], ['float32[3,4]']],
  ['lambda x: x if x.shape[0] is None else -x', ['float32[3]'], ['float32[3]']],
  ['lambda x: jnp.reshape(x, (x.shape[0], x.shape[1] * x.shape[2]))', ['float32[B,L,D]'], ['float32[B,D*L]']],
  ['lambda x: jnp.zeros(x.shape[:1] + (4,) * 2)', ['float32[B,L]'], ['float32[B,4,4]']],
  ['lambda x: sum([x, x, x])', ['float32[3]'], ['float32[3]']],
  ['lambda x: max(x.shape[0], 4) * jnp.ones(2)', ['float32[3]'], ['float32[2]']],
  ['lambda x: abs(x)', ['int32[3]'], ['int32[3]']],
  ['lambda x: int(3.7) + float(2)', [], ['float32[]']],
  ['lambda x, y: [x, y]', ['float32[3]', 'int32[2]'], ['float32[3]', 'int32[2]'], 2],
  ['lambda x: ()', ['float32[3]'], [], 0],
  ['lambda x: (x,)', ['float32[3]'], ['float32[3]']],
  ['lambda x: jnp.array([x, x])', ['float32[3]'], ['float32[2,3]']],
  ['lambda x: 1 < 2 < 3', [], ['bool[]']],
];

describe('Fn lambdas: output signatures', () => {
  for (const [src, ins, outs, nOut] of TABLE) {
    it(`${src}  on ${ins.join(', ') || '()'}`, () => {
      expect(infer(src, ins, nOut ?? 1)).toEqual(outs.map((s) => formatShapeDtype(parseShapeDtype(s))));
    });
  }

  it('n_in is the number of parameters', () => {
    expect(fnArity({ $lambda: 'lambda: 1' })).toBe(0);
    expect(fnArity({ $lambda: 'lambda a, b, c: a' })).toBe(3);
  });

  it('caches parsing by source', () => {
    const src = 'lambda x: x * 12345.5';
    infer(src, ['float32[2]']);
    const n = _parseCacheSize();
    for (let i = 0; i < 5; i++) infer(src, ['float32[3]']);
    expect(_parseCacheSize()).toBe(n);
  });

  it('lists what it supports', () => {
    expect(SUPPORTED_FUNCTIONS['jnp / np / fastmath']).toContain('maximum');
    expect(SUPPORTED_FUNCTIONS['jax.nn']).toContain('sigmoid');
  });
});

// [lambda, inputs, code, message fragment, n_out?]
const ERRORS: [string, string[], string, string | RegExp, number?][] = [
  ['lambda x, y: jnp.maximum(x, y)', ['float32[2,3]', 'float32[4]'], 'shape_mismatch', 'jnp.maximum: shapes [2,3] and [4] do not broadcast'],
  ['lambda x, y: x + y', ['float32[B]', 'float32[3]'], 'shape_mismatch', 'x + y: shapes [B] and [3] do not broadcast'],
  ['lambda x, y: x @ y', ['float32[2,3]', 'float32[4,5]'], 'shape_mismatch', 'x @ y: contraction dimensions differ'],
  ['lambda x, y: jnp.matmul(x, y)', ['float32[2,3]', 'float32[]'], 'rank', 'jnp.matmul: matmul does not take scalars'],
  ["lambda x: jnp.einsum('ij->i', x)", ['float32[2,3]'], 'unsupported', /^unsupported in an Fn lambda: jnp\.einsum; supported: .*maximum/],
  ['lambda x: jax.nn.glu(x)', ['float32[2,3]'], 'unsupported', 'unsupported in an Fn lambda: jax.nn.glu; supported: '],
  ['lambda x: x.cumulate()', ['float32[2,3]'], 'unsupported', 'the array attribute .cumulate'],
  ['lambda x: y + 1', ['float32[2]'], 'unsupported', "unknown name 'y'"],
  ['lambda x: x if x > 0 else -x', ['float32[2]'], 'unsupported', 'data-dependent Python control flow is not supported; use jnp.where'],
  ['lambda x: x > 0 and x < 1', ['float32[2]'], 'unsupported', 'data-dependent Python control flow is not supported'],
  ['lambda x: 0 < x < 1', ['float32[2]'], 'unsupported', 'chained comparison'],
  ['lambda x: x if x.shape[0] > 2 else -x', ['float32[B]'], 'unsupported', 'symbolic'],
  ['lambda x: x, x', ['float32[2]'], 'bad_param', 'must be a lambda expression'],
  ['lambda x: (x, x)', ['float32[2]'], 'arity', 'returns a tuple of 2 values, but n_out = 1; set n_out=2'],
  ['lambda x: x', ['float32[2]'], 'arity', 'returns one value', 3],
  ['lambda x: [x, x, x]', ['float32[2]'], 'arity', 'returns a list of 3 values, but n_out = 2', 2],
  ['lambda x: None', ['float32[2]'], 'bad_param', 'its result is None, not an array'],
  ['lambda x: jnp', ['float32[2]'], 'bad_param', 'not an array'],
  ['lambda x: ((x, x), x)', ['float32[2]'], 'bad_param', 'output 0 is a tuple of 2 of arrays', 2],
  ['lambda x: x.reshape(3, 3)', ['float32[2,4]'], 'shape_mismatch', 'cannot reshape [2,4] (8 elements) to [3,3]'],
  ['lambda x: x.reshape(3, -1)', ['float32[2,4]'], 'shape_mismatch', 'does not divide'],
  ['lambda x: x.reshape(-1, -1)', ['float32[2,4]'], 'bad_param', 'only infer one dimension'],
  ['lambda x: x[0, 0, 0]', ['float32[2,4]'], 'rank', 'x[0, 0, 0]: too many indices'],
  ['lambda x: x[5]', ['float32[2,4]'], 'shape_mismatch', 'index 5 is out of bounds for axis 0 with size 2'],
  ['lambda x: x[..., ...]', ['float32[2,4]'], 'bad_param', 'single ellipsis'],
  ['lambda x: x[x > 0]', ['float32[2,4]'], 'unsupported', 'boolean mask'],
  ['lambda x: x[1.5]', ['float32[2,4]'], 'bad_param', 'an index must be'],
  ['lambda x: x[::0]', ['float32[2,4]'], 'bad_param', 'slice step cannot be zero'],
  ['lambda x: jnp.sum(x, axis=2)', ['float32[2,4]'], 'rank', 'jnp.sum: axis 2 is out of range for an input of rank 2'],
  ['lambda x: jnp.sum(x, axis=(1, -1))', ['float32[2,4]'], 'shape_mismatch', 'appears twice'],
  ['lambda x: jnp.argmax(x, axis=(0, 1))', ['float32[2,4]'], 'bad_param', 'axis must be an int or None'],
  ['lambda x: jnp.sum(x, axiz=1)', ['float32[2,4]'], 'bad_param', "jnp.sum: got an unexpected keyword argument 'axiz'"],
  ['lambda x: jnp.exp(x, x)', ['float32[2,4]'], 'bad_param', 'jnp.exp: takes at most 1 positional argument'],
  ['lambda x: jnp.where(x)', ['float32[2,4]'], 'unsupported', 'data-dependent length'],
  ['lambda x: jnp.concatenate([x, x[0]])', ['float32[2,4]'], 'rank', 'jnp.concatenate: cannot concatenate'],
  ['lambda x: jnp.concatenate([x, x.T], axis=1)', ['float32[2,4]'], 'shape_mismatch', 'differ on axis 0'],
  ['lambda x: jnp.concatenate(x)', ['float32[2,4]'], 'bad_param', 'must be a list or tuple of arrays'],
  ['lambda x: jnp.stack([x, x.T])', ['float32[2,4]'], 'shape_mismatch', 'jnp.stack: all input arrays must have the same shape'],
  ['lambda x: jnp.split(x, 3, axis=-1)', ['float32[2,4]'], 'shape_mismatch', 'into 3 equal parts', 3],
  ['lambda x: jnp.squeeze(x, 1)', ['float32[2,4]'], 'shape_mismatch', 'cannot squeeze axis 1'],
  ['lambda x: jnp.transpose(x, (0, 0))', ['float32[2,4]'], 'shape_mismatch', 'not a permutation'],
  ['lambda x: jnp.transpose(x, (0,))', ['float32[2,4]'], 'rank', 'must list each of the 2 axes'],
  ['lambda x: jnp.broadcast_to(x, (3, 4))', ['float32[2,4]'], 'shape_mismatch', 'do not broadcast'],
  ['lambda x: jnp.gcd(x, x)', ['float32[2]'], 'dtype', 'jnp.gcd: it needs integer arrays, got float32'],
  ['lambda x: x & x', ['float32[2]'], 'dtype', 'bool or integer'],
  ['lambda x: ~x', ['float32[2]'], 'dtype', 'bool or integer'],
  ['lambda x, y: x - y', ['bool[2]', 'bool[2]'], 'dtype', 'subtracting boolean arrays'],
  ['lambda x: x + [1, 2]', ['float32[2]'], 'bad_param', 'jnp.array'],
  ['lambda x: jnp.maximum(x, [1, 2])', ['float32[2]'], 'bad_param', 'JAX functions do not take Python lists'],
  ['lambda x: x.astype(jnp.complex64)', ['float32[2]'], 'unsupported', 'jnp.complex64'],
  ['lambda x: x.astype(jnp.int16)', ['float32[2]'], 'unsupported', 'jnp.int16'],
  ['lambda x: x.astype("int16")', ['float32[2]'], 'unsupported', 'dtype must be a dtype'],
  ['lambda x: jnp.zeros((x.shape[0] % 2, 3))', ['float32[B]'], 'unsupported', 'cannot be worked out'],
  ['lambda x: jnp.zeros((-1, 3))', ['float32[B]'], 'bad_param', 'negative dimension'],
  ['lambda x: jnp.zeros((2.5, 3))', ['float32[B]'], 'bad_param', 'must be an int'],
  ['lambda x: jnp.arange(x)', ['int32[]'], 'unsupported', 'data-dependent length'],
  ['lambda x: jnp.array([[1, 2], [3]])', [], 'bad_param', 'ragged'],
  ['lambda x: int(x)', ['float32[]'], 'unsupported', 'int() of an array'],
  ['lambda x: len(x)', ['float32[]'], 'bad_param', 'len() of a 0-d array'],
  ['lambda x: x(1)', ['float32[]'], 'bad_param', 'not a function'],
  ['lambda x: (lambda y: y)(x)', ['float32[]'], 'unsupported', 'a lambda inside an Fn lambda'],
  ['lambda x: {1: x}', ['float32[]'], 'unsupported', 'dict literals'],
  ['lambda x: 1 / 0', [], 'bad_param', 'division by zero'],
  ['lambda x: 10 ** 400', [], 'unsupported', 'too large'],
  ['lambda x: (0,) * 100000', [], 'unsupported', 'longer than'],
  ['lambda x: math.sqrt(x)', ['float32[2]'], 'unsupported', 'for arrays use the jnp function'],
  ['lambda x: min(x, 0)', ['float32[2]'], 'unsupported', 'use jnp.minimum'],
  ['lambda x: x.shape[2]', ['float32[2,3]'], 'shape_mismatch', 'tuple index 2 out of range'],
  ['lambda x: jnp.where(x > 0, x, x[0, :2])', ['float32[2,3]'], 'shape_mismatch', 'jnp.where: shapes [2,3] and [2] do not broadcast'],
];

describe('Fn lambdas: errors', () => {
  for (const [src, ins, code, msg, nOut] of ERRORS) {
    it(`${src}  on ${ins.join(', ') || '()'} -> ${code}`, () => {
      const e = errorOf(() => inferFn({ $lambda: src }, ins.map(parseShapeDtype), nOut ?? 1));
      expect(e.code).toBe(code);
      if (typeof msg === 'string') expect(e.message).toContain(msg);
      else expect(e.message).toMatch(msg);
      expect(e.detail.param).toBe('f');
      expect(e.message).not.toContain('a bug in Strata');
    });
  }

  it('construction checks: *args, **kwargs, defaults', () => {
    const check = (src: string) => errorOf(() => checkFnLambda({ $lambda: src }));
    expect(check('lambda *args: args[0]').message).toContain('variable arg');
    expect(check('lambda x, *rest: x').message).toContain('variable arg');
    expect(check('lambda **kwargs: 1').message).toContain('keyword arg');
    expect(check('lambda x, y=2: x').message).toContain('default arg');
    for (const src of ['lambda *args: args[0]', 'lambda **kwargs: 1', 'lambda x, y=2: x']) {
      expect(check(src).code).toBe('construct');
      expect(check(src).detail.param).toBe('f');
    }
  });

  it('unparsable sources are bad_param on f with the position', () => {
    const e = errorOf(() => checkFnLambda({ $lambda: 'lambda x: x +* 2' }));
    expect(e.code).toBe('bad_param');
    expect(e.detail.param).toBe('f');
    expect(e.message).toMatch(/line 1, col \d+/);
    expect(errorOf(() => checkFnLambda({ $lambda: 'lambda x: [y for y in x]' })).message).toContain('list comprehensions');
    expect(errorOf(() => checkFnLambda('lambda x: x')).code).toBe('bad_param');
    expect(errorOf(() => checkFnLambda({ $lambda: '' })).message).toContain('found end of input');
  });
});

describe('Fn nodes: errors through the trace', () => {
  const trace = (f: string, inputs: string[], nOut?: number) => traceDocument({
    root: { id: 'r', kind: 'Fn', params: { name: 'F', f: { $lambda: f }, ...(nOut === undefined ? {} : { n_out: nOut }) } },
    input: inputs.map(parseShapeDtype),
  });
  it('a syntax error is bad_param on f with its position', () => {
    const t = trace('lambda x: x +', ['float32[2]']);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0].code).toBe('bad_param');
    expect(t.errors[0].param).toBe('f');
    expect(t.errors[0].message).toMatch(/line 1, col 14/);
  });
  it('a non-lambda is bad_param on f', () => {
    const t = trace('x + 1', ['float32[2]']);
    expect(t.errors.map((e) => [e.code, e.param])).toEqual([['bad_param', 'f']]);
    expect(t.errors[0].message).toContain('must be a lambda expression');
  });
  it('shape errors name the construct and the node', () => {
    const t = trace('lambda x, y: jnp.maximum(x, y)', ['float32[2,3]', 'float32[4]']);
    expect(t.errors[0].message).toBe('Fn: jnp.maximum: shapes [2,3] and [4] do not broadcast: axis -1 has 3 and 4');
    expect(t.errors[0].code).toBe('shape_mismatch');
  });
  it('construction errors stop inference but keep n_in', () => {
    const t = trace('lambda x, *rest: x', ['float32[2]']);
    expect(t.errors.map((e) => e.code)).toEqual(['construct']);
    expect(t.root.analysis.arity).toEqual({ nIn: 1, nOut: 1 });
  });
});

describe('Fn with a function passed by name', () => {
  it('takes n_in from the function (as Trax inspects it)', () => {
    expect(fnArity({ $lambda: 'jnp.exp' })).toBe(1);
    expect(fnArity({ $lambda: 'jnp.maximum' })).toBe(2);
    expect(fnArity({ $lambda: 'jax.nn.relu' })).toBe(1);
    expect(infer('jnp.matmul', ['float32[B,3]', 'float32[3,4]'])).toEqual(['float32[B,4]']);
    expect(infer('fastmath.numpy.tanh', ['int32[3]'])).toEqual(['float32[3]']);
  });
  it('rejects functions with default args, and ones it cannot inspect', () => {
    expect(errorOf(() => checkFnLambda({ $lambda: 'jnp.mean' })).message).toContain('default arg');
    expect(errorOf(() => checkFnLambda({ $lambda: 'jax.nn.softmax' })).message).toContain('default arg');
    expect(errorOf(() => checkFnLambda({ $lambda: 'jnp.einsum' })).message).toContain('unsupported in an Fn lambda: jnp.einsum');
    expect(errorOf(() => checkFnLambda({ $lambda: 'len' })).message).toContain('write a lambda');
    expect(errorOf(() => checkFnLambda({ $lambda: 'jnp.pi' })).code).toBe('bad_param');
  });
});

// ---------------------------------------------------------------- fuzz

/** mulberry32: a small seeded PRNG, so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  'x', 'y', 'x.shape', 'x.shape[0]', 'x.T', 'x.ndim', '1', '2', '-1', '0', '2.5', 'True', 'None', '...', "'a'", 'jnp', 'np.pi',
  'jnp.float32', 'x.dtype', '()', '[]', '[1, 2]', '(1, 2)', 'len', 'math', '-5', '10 ** 20', '1e30', '0.5', 'x.shape[-1] - 10',
  '(x.shape[0], -1)', 'x.shape[1:]', 'jnp.newaxis', 'y.shape[0] // 3', 'float("inf")', '3',
];
const FUNCS = [
  'jnp.sum', 'jnp.maximum', 'jnp.reshape', 'jnp.zeros', 'jnp.concatenate', 'jnp.stack', 'jnp.where', 'jnp.transpose',
  'jnp.expand_dims', 'jnp.squeeze', 'jnp.arange', 'jnp.array', 'jnp.split', 'jnp.matmul', 'jnp.dot', 'jnp.mean',
  'jnp.argmax', 'jnp.clip', 'jnp.full', 'jnp.einsum', 'jax.nn.one_hot', 'x.reshape', 'x.astype', 'x.sum', 'len', 'int',
  'max', 'sum', 'tuple', 'jnp.moveaxis', 'jnp.broadcast_to', 'jnp.linspace', 'jnp.eye', 'jnp.swapaxes',
];
const BINOPS = ['+', '-', '*', '/', '//', '%', '**', '@', '&', '|', '^', '<<', '>>', '<', '==', 'and', 'or', 'is', 'in'];

function randomExpr(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  if (depth <= 0 || r() < 0.25) return pick(ATOMS);
  switch (Math.floor(r() * 9)) {
    case 0: return `${randomExpr(r, depth - 1)} ${pick(BINOPS)} ${randomExpr(r, depth - 1)}`;
    case 1: return `${pick(['-', '~', 'not '])}${randomExpr(r, depth - 1)}`;
    case 2: {
      const n = Math.floor(r() * 4);
      const args = Array.from({ length: n }, () => randomExpr(r, depth - 1));
      if (r() < 0.3) args.push(`${pick(['axis', 'keepdims', 'dtype', 'foo'])}=${randomExpr(r, depth - 1)}`);
      return `${pick(FUNCS)}(${args.join(', ')})`;
    }
    case 3: {
      const idx = Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick([':', '::2', '1:', ':-1', 'None', '...', '0', '-1', randomExpr(r, depth - 1)]));
      return `${randomExpr(r, depth - 1)}[${idx.join(', ')}]`;
    }
    case 4: return `(${randomExpr(r, depth - 1)}, ${randomExpr(r, depth - 1)})`;
    case 5: return `[${randomExpr(r, depth - 1)}]`;
    case 6: return `${randomExpr(r, depth - 1)} if ${randomExpr(r, depth - 1)} else ${randomExpr(r, depth - 1)}`;
    case 7: return `${randomExpr(r, depth - 1)}.${pick(['shape', 'T', 'dtype', 'reshape', 'sum', 'foo', 'astype', 'ndim'])}`;
    default: return `(${randomExpr(r, depth - 1)})`;
  }
}

/** Random characters from Python's punctuation and keywords: mostly unparsable. */
function garbage(r: () => number): string {
  const bits = ['lambda', ' ', 'x', ',', ':', '(', ')', '[', ']', '*', '**', '=', '.', 'jnp', '1', '"', "'", '\\', '#', '\n', 'if', 'else', '...', '@', 'é', '\u0000'];
  let s = '';
  const n = Math.floor(r() * 20);
  for (let i = 0; i < n; i++) s += bits[Math.floor(r() * bits.length)];
  return s;
}

const SIGS = [['float32[2,3]', 'int32[2,3]'], ['float32[B,L]', 'bool[B,1]'], ['int32[]', 'float32[4]'], ['bfloat16[B,3,4]', 'float32[4,5]']];

describe('Fn lambdas: fuzz', () => {
  it('random lambda bodies give outputs or LayerErrors, never another exception', () => {
    const r = prng(20240611);
    let ok = 0;
    for (let i = 0; i < 3000; i++) {
      const body = randomExpr(r, 4);
      const src = `lambda x, y: ${body}`;
      const ins = SIGS[i % SIGS.length].map(parseShapeDtype);
      const nOut = 1 + Math.floor(r() * 2);
      try {
        const out = inferFn({ $lambda: src }, ins, nOut);
        expect(out.length).toBe(nOut);
        ok++;
      } catch (e) {
        if (!(e instanceof LayerError)) throw new Error(`${src}: ${e instanceof Error ? e.stack : String(e)}`);
        if (e.message.includes('a bug in Strata')) throw new Error(`${src}: ${e.message}`);
        expect(e.detail.param, src).toBe('f');
      }
    }
    expect(ok).toBeGreaterThan(100);
  });

  it('garbage sources are bad_param on f, never a crash', () => {
    const r = prng(7);
    for (let i = 0; i < 3000; i++) {
      const src = garbage(r);
      for (const f of [() => checkFnLambda({ $lambda: src }), () => inferFn({ $lambda: src }, [], 1)]) {
        try {
          f();
        } catch (e) {
          if (!(e instanceof LayerError)) throw new Error(`${JSON.stringify(src)}: ${e instanceof Error ? e.stack : String(e)}`);
          expect(e.detail.param).toBe('f');
          expect(e.message).not.toContain('a bug in Strata');
        }
      }
    }
  });
});

// ---------------------------------------------------------------- PureLayer

describe('PureLayer forward_fn', () => {
  const pure = (src: string, ins: string[], nOut = 1) => inferPure({ $lambda: src }, ins.map(parseShapeDtype), nOut).map(formatShapeDtype);
  it('gets the bare array when n_in = 1, a tuple otherwise', () => {
    expect(pure('lambda x: x.sum(-1)', ['float32[B,3]'])).toEqual(['float32[B]']);
    expect(pure('lambda xs: xs[0] * xs[1]', ['float32[3]', 'int32[3]'])).toEqual(['float32[3]']);
    expect(pure('lambda xs: len(xs)', ['float32[3]', 'int32[3]', 'bool[]'])).toEqual(['int32[]']);
    expect(pure('lambda xs: xs', ['float32[3]', 'int32[3]'], 2)).toEqual(['float32[3]', 'int32[3]']);
    expect(pure('lambda xs, k=2: xs * k', ['float32[3]'])).toEqual(['float32[3]']);
  });
  it('rejects a forward_fn that does not take one argument', () => {
    const e = errorOf(() => pure('lambda: 1', []));
    expect(e.code).toBe('construct');
    expect(e.detail.param).toBe('forward_fn');
  });
});

// ---------------------------------------------------------------- conformance through traceDocument

interface ConfCase {
  id: string;
  kind: string;
  input_signature: { shape: (number | string)[]; dtype: string }[];
  expected: { n_in?: number; n_out?: number; output_shapes?: (number | string)[][]; error?: { message_contains?: string } };
}

let nextId = 0;
const node = (kind: string, params?: DocNode['params'], children?: DocNode[], slots?: DocNode['slots']): DocNode => {
  const n: DocNode = { id: `n${++nextId}`, kind };
  if (params) n.params = params;
  if (children) n.children = children;
  if (slots) n.slots = slots;
  return n;
};
const Fn = (name: string, f: string, nOut?: number): DocNode => node('Fn', { name, f: { $lambda: f }, ...(nOut === undefined ? {} : { n_out: nOut }) });

/** The conformance models, built by hand (the code parser is tested elsewhere). */
const MODELS: Record<string, () => DocNode> = {
  fn_sum_and_max: () => Fn('SumAndMax', 'lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1))', 2),
  fn_sum_and_max_doc: () => Fn('SumAndMax', 'lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1))', 2),
  fn_gcd_doc: () => Fn('Gcd', 'lambda x0, x1: jnp.gcd(x0, x1)'),
  fn_bad_variable_arg: () => Fn('', 'lambda *args: args[0]'),
  serial_one_in_one_out: () => node('Serial', undefined, [Fn('DivideBy', 'lambda x: x / 3')]),
  serial_one_in_two_out: () => node('Serial', undefined, [Fn('DivideBy', 'lambda x: x / 3'), Fn('ReturnConst', 'lambda: np.array([3, 4, 5, 6])')]),
  cond_basic_true: () => node('Cond', undefined, undefined, {
    cond: Fn('ReturnConst', 'lambda: True'), true: Fn('ReturnConst', 'lambda: [2]'), false: Fn('ReturnConst', 'lambda: [5]'),
  }),
  cond_complex_blocks: () => node('Cond', undefined, undefined, {
    cond: Fn('ReturnConst', 'lambda: True'), true: Fn('DivideBy', 'lambda x: x / 2.0'), false: Fn('DivideBy', 'lambda x: x / 4.0'),
  }),
  cond_nin_mismatch: () => node('Cond', undefined, undefined, {
    cond: Fn('SmallerThan', 'lambda x: x < 3.0'), true: Fn('ReturnConst', 'lambda: 2.'), false: Fn('DivideBy', 'lambda x: x / 2.0'),
  }),
  scan_default_axis: () => node('Scan', undefined, undefined, { layer: Fn('AddWithCarry', 'lambda x, carry: (x + carry, x + carry)', 2) }),
  scan_no_carry: () => node('Scan', { n_carry: 0 }, undefined, { layer: Fn('AddOne', 'lambda x: x + 1') }),
  residual_shortcut: () => node('Residual', undefined, [Fn('Double', 'lambda x: 2 * x')], { shortcut: Fn('AddOne', 'lambda x: x + 1') }),
  residual_two_in_two_out_passthrough: () => node('Residual', undefined, [Fn('MulByMask', 'lambda x, m: (x * m, m)', 2)]),
  branch_relu_times100_doc: () => node('Branch', undefined, [node('Relu'), Fn('Times100', 'lambda x: x * 100.0')]),
  cond_weights_state: () => node('Cond', undefined, undefined, {
    cond: Fn('SmallerThan', 'lambda x: x < 3.0'), true: node('Dense', { n_units: 5 }), false: node('Dense', { n_units: 5 }),
  }),
  cache_returns_first_result: () => node('Cache', undefined, undefined, { layer: Fn('AddOne', 'lambda x: x + 1') }),
};

/** Expected dtypes where the case's shapes alone do not show them. */
const DTYPES: Record<string, string[]> = {
  serial_one_in_two_out: ['int32[4]', 'float32[4]'],
  serial_one_in_one_out: ['float32[4]'],
  cond_basic_true: ['int32[]'],
  branch_relu_times100_doc: ['int32[2,5]', 'float32[2,5]'],
};

describe('conformance cases with Fn, traced', () => {
  const all = JSON.parse(readFileSync(sharedPath('conformance/trax-cases.json'), 'utf8')) as ConfCase[];
  const byId = new Map(all.map((c) => [c.id, c]));
  for (const [id, build] of Object.entries(MODELS)) {
    it(id, () => {
      const c = byId.get(id);
      expect(c, `conformance case ${id}`).toBeDefined();
      const input = (c!.input_signature ?? []).map((s) => ({ dtype: s.dtype as 'float32', shape: s.shape }));
      const t = traceDocument({ root: build(), input });
      const e = c!.expected;
      if (c!.kind === 'error') {
        expect(t.errors.length).toBeGreaterThan(0);
        if (e.error?.message_contains) expect(t.errors.map((x) => x.message).join('\n')).toContain(e.error.message_contains);
        return;
      }
      expect(t.errors.map((x) => x.message)).toEqual([]);
      if (e.n_in !== undefined) expect(t.root.analysis.arity?.nIn).toBe(e.n_in);
      if (e.n_out !== undefined) expect(t.root.analysis.arity?.nOut).toBe(e.n_out);
      if (e.output_shapes) expect(t.root.outputs!.map((o) => o.shape)).toEqual(e.output_shapes);
      if (DTYPES[id]) expect(t.root.outputs!.map(formatShapeDtype)).toEqual(DTYPES[id]);
    });
  }
});
