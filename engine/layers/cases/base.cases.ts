import type { LayerCase } from './types';

const fn = (f: string, nOut?: number) => ({ kind: 'Fn', params: { name: 'F', f: { $lambda: f }, ...(nOut === undefined ? {} : { n_out: nOut }) } });
const pure = (f: string, nIn?: number, nOut?: number) => ({
  kind: 'PureLayer',
  params: { forward_fn: { $lambda: f }, ...(nIn === undefined ? {} : { n_in: nIn }), ...(nOut === undefined ? {} : { n_out: nOut }) },
});

export const cases: LayerCase[] = [
  // Fn: the conformance lambdas
  { ...fn('lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1))', 2), note: 'SumAndMax', inputs: ['int32[5]', 'int32[5]'], outputs: ['int32[5]', 'int32[5]'], nIn: 2, nOut: 2 },
  { ...fn('lambda x0, x1: jnp.gcd(x0, x1)'), note: 'Gcd', inputs: ['int32[10]', 'int32[10]'], outputs: ['int32[10]'], nIn: 2, nOut: 1 },
  { ...fn('lambda x: x / 3'), note: 'int / int is float32', inputs: ['int32[4]'], outputs: ['float32[4]'], nIn: 1 },
  { ...fn('lambda: np.array([3, 4, 5, 6])'), note: 'no inputs', inputs: [], outputs: ['int32[4]'], nIn: 0, nOut: 1 },
  { ...fn('lambda x, carry: (x + carry, x + carry)', 2), note: 'Scan step', inputs: ['int32[4]', 'int32[4]'], outputs: ['int32[4]', 'int32[4]'], nIn: 2, nOut: 2 },
  { ...fn('lambda x: x < 3.0'), note: 'comparison gives bool', inputs: ['float32[]'], outputs: ['bool[]'] },
  { ...fn('lambda x, m: (x * m, m)', 2), note: 'MulByMask', inputs: ['int32[2]', 'int32[2]'], outputs: ['int32[2]', 'int32[2]'] },
  { ...fn('lambda: True'), inputs: [], outputs: ['bool[]'], nIn: 0 },
  { ...fn('lambda: [2]'), note: '(quirk) a returned list gives one stack item per element', inputs: [], outputs: ['int32[]'] },
  { ...fn('lambda: 2.0'), inputs: [], outputs: ['float32[]'] },
  { ...fn('jnp.exp'), note: 'a function passed by name: n_in from its signature', inputs: ['int32[B,3]'], outputs: ['float32[B,3]'], nIn: 1 },
  { ...fn('jnp.maximum'), inputs: ['int32[3]', 'float32[]'], outputs: ['float32[3]'], nIn: 2 },
  { ...fn('lambda x: x * 100.0'), note: 'int * float literal', inputs: ['int32[2,5]'], outputs: ['float32[2,5]'] },
  { ...fn('lambda x: 2 * x'), note: 'int literal is weak', inputs: ['int32[3]'], outputs: ['int32[3]'] },
  { ...fn('lambda x: x * 2.0'), note: 'float literal keeps bfloat16', inputs: ['bfloat16[B,4]'], outputs: ['bfloat16[B,4]'] },
  // symbolic
  { ...fn('lambda x: x.reshape(x.shape[0], -1)'), note: 'flatten by reshape', inputs: ['float32[B,L,8]'], outputs: ['float32[B,L*8]'] },
  { ...fn('lambda x, y: x[:, :y.shape[1]]'), note: 'symbolic slice', inputs: ['float32[B,L]', 'int32[B,M]'], outputs: ['float32[B,M]'] },
  { ...fn('lambda x: jnp.mean(x, axis=-1, keepdims=True)'), inputs: ['int32[B,L,D]'], outputs: ['float32[B,L,1]'] },
  { ...fn('lambda q, k: jnp.matmul(q, jnp.swapaxes(k, -1, -2)) / jnp.sqrt(q.shape[-1])'), note: 'attention logits', inputs: ['float32[B,L,D]', 'float32[B,M,D]'], outputs: ['float32[B,L,M]'] },
  { ...fn('lambda x: (x[..., None], jnp.concatenate([x, x], axis=1))', 2), inputs: ['float32[B,L]'], outputs: ['float32[B,L,1]', 'float32[B,L*2]'] },
  // Fn errors
  { ...fn('lambda *args: args[0]'), note: 'Trax: ValueError', inputs: [], error: { code: 'construct', message: 'variable arg', param: 'f' } },
  { ...fn('lambda x, **kwargs: x'), inputs: ['float32[2]'], error: { code: 'construct', message: 'keyword arg', param: 'f' } },
  { ...fn('lambda x, axis=-1: x'), inputs: ['float32[2]'], error: { code: 'construct', message: 'default arg', param: 'f' } },
  { ...fn('lambda x, y: jnp.maximum(x, y)'), note: 'broadcast failure', inputs: ['float32[2,3]', 'float32[4]'], error: { code: 'shape_mismatch', message: 'jnp.maximum: shapes [2,3] and [4] do not broadcast', param: 'f' } },
  { ...fn('lambda x: (x, x)'), note: 'n_out mismatch', inputs: ['float32[2]'], error: { code: 'arity', message: 'returns a tuple of 2 values, but n_out = 1', param: 'f' } },
  { ...fn('lambda x: x', 2), note: 'one value for n_out = 2', inputs: ['float32[2]'], error: { code: 'arity', message: 'but n_out = 2' } },
  { ...fn("lambda x: jnp.einsum('ij->i', x)"), note: 'unsupported function', inputs: ['float32[2,3]'], error: { code: 'unsupported', message: 'unsupported in an Fn lambda: jnp.einsum; supported: ', param: 'f' } },
  { ...fn('jnp.sum'), note: 'jnp.sum has default args (Trax: ValueError)', inputs: ['float32[2]'], error: { code: 'construct', message: 'default arg', param: 'f' } },
  { ...fn('lambda x: x if x > 0 else -x'), note: 'data-dependent if', inputs: ['float32[2]'], error: { code: 'unsupported', message: 'data-dependent Python control flow is not supported; use jnp.where' } },
  { kind: 'Fn', note: 'f is required', params: { name: 'F' }, inputs: ['float32[2]'], error: { code: 'missing_param', message: 'f', param: 'f' } },
  // PureLayer
  { ...pure('lambda x: x * 2'), inputs: ['float32[B,3]'], outputs: ['float32[B,3]'], nIn: 1, nOut: 1 },
  { ...pure('lambda xs: (xs[0] + xs[1], xs[1])', 2, 2), note: 'n_in > 1: one tuple argument', inputs: ['float32[3]', 'float32[3]'], outputs: ['float32[3]', 'float32[3]'], nIn: 2, nOut: 2 },
  { ...pure('lambda xs: ()', 0, 0), note: 'n_in = 0: an empty tuple', inputs: [], outputs: [], nIn: 0, nOut: 0 },
  { ...pure('lambda x, y: x + y', 2), note: 'forward_fn takes one argument', inputs: ['float32[3]', 'float32[3]'], error: { code: 'construct', message: 'one argument', param: 'forward_fn' } },
  { ...pure('lambda xs: xs[2]', 2), note: 'tuple index out of range', inputs: ['float32[3]', 'float32[3]'], error: { code: 'shape_mismatch', message: 'tuple index 2 out of range', param: 'forward_fn' } },
];
