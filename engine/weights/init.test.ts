import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TensorValue } from '../core/onnx';
import type { DType } from '../core/shape';
import type { Initializer } from '../layers/def';
import { INITIALIZERS } from '../layers/initializers';
import { forEachNode, traceDocument } from '../document/trace';
import { caseToNode } from '../layers/cases/all';
import { runnableRows } from '../onnx/catalog-rows';
import { type WeightRef, weightKey } from '../onnx/lower';
import {
  DRAWN_INITIALIZERS, InitializerError, TABLES, TRUNCNORM_STD, bfloat16Bits, bfloat16Value, float16Bits, float16Value, getFans,
  householderQR, initialValue, tensorFromValues, tensorNumbers,
} from './init';
import { readNpz } from './npz';
import { weightStream } from './random';

const fixture = (name: string) => readNpz(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

function ref(init: Initializer, shape: number[], dtype: DType = 'float32', key = 'Serial[0]/Dense/kernel'): WeightRef {
  return { key, role: 'weight', decl: { name: key.slice(key.lastIndexOf('/') + 1), shape, dtype, init } };
}

const values = (init: Initializer, shape: number[], seed = 0, key?: string): Float64Array => tensorNumbers(initialValue(ref(init, shape, 'float32', key), seed));

function stats(xs: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0, s2 = 0, maxAbs = 0;
  for (let i = 0; i < xs.length; i++) {
    s += xs[i];
    s2 += xs[i] * xs[i];
    maxAbs = Math.max(maxAbs, Math.abs(xs[i]));
  }
  const mean = s / xs.length;
  return { mean, std: Math.sqrt(s2 / xs.length - mean * mean), maxAbs };
}

/** mean within 5 standard errors of 0, std within 2% of `std`. */
function expectNormalish(xs: Float64Array, std: number): void {
  const st = stats(xs);
  expect(Math.abs(st.mean)).toBeLessThan((5 * std) / Math.sqrt(xs.length));
  expect(st.std / std).toBeGreaterThan(0.98);
  expect(st.std / std).toBeLessThan(1.02);
}

/** all within [-lim, lim], the extremes within 1% of lim, std = lim/sqrt(3) within 2%. */
function expectUniform(xs: Float64Array, lim: number): void {
  const st = stats(xs);
  expect(st.maxAbs).toBeLessThanOrEqual(Math.fround(lim));
  expect(st.maxAbs).toBeGreaterThan(0.99 * lim);
  expect(Math.abs(st.mean)).toBeLessThan((5 * lim) / Math.sqrt(3 * xs.length));
  expect(st.std / (lim / Math.sqrt(3))).toBeGreaterThan(0.98);
  expect(st.std / (lim / Math.sqrt(3))).toBeLessThan(1.02);
}

describe('Trax initializers (trax-semantics.md §5)', () => {
  it('RandomNormalInitializer(stddev) and its default 1e-2', () => {
    expectNormalish(values({ $init: 'RandomNormalInitializer', args: { stddev: 0.5 } }, [300, 200]), 0.5);
    expectNormalish(values({ $init: 'RandomNormalInitializer' }, [300, 200]), 0.01);
  });

  it('RandomUniformInitializer(lim) and its default 1.0', () => {
    expectUniform(values({ $init: 'RandomUniformInitializer', args: { lim: 0.3 } }, [300, 200]), 0.3);
    expectUniform(values({ $init: 'RandomUniformInitializer' }, [60_000]), 1);
  });

  it('GlorotUniform on a Dense kernel (in, out): limit sqrt(6/(in+out))', () => {
    expectUniform(values({ $init: 'GlorotUniformInitializer' }, [300, 200]), Math.sqrt(6 / 500));
    expectUniform(values({ $init: 'GlorotUniformInitializer', args: { scale: 2 } }, [300, 200]), Math.sqrt(12 / 500));
  });

  it('GlorotNormal: std sqrt(2/(in+out))', () => {
    expectNormalish(values({ $init: 'GlorotNormalInitializer' }, [300, 200]), Math.sqrt(2 / 500));
  });

  it('LeCun: fan_in', () => {
    expectNormalish(values({ $init: 'LeCunNormalInitializer' }, [300, 200]), Math.sqrt(1 / 300));
    expectUniform(values({ $init: 'LeCunUniformInitializer' }, [300, 200]), Math.sqrt(3 / 300));
  });

  it('Kaiming: scale 2/sqrt(1+param^2) (the sqrt quirk), fan_in', () => {
    expectNormalish(values({ $init: 'KaimingNormalInitializer' }, [300, 200]), Math.sqrt(2 / 300));
    // param = 1: Trax's scale is 2/sqrt(2) = 1.414, the textbook 2/(1+1) = 1
    expectNormalish(values({ $init: 'KaimingNormalInitializer', args: { param: 1 } }, [300, 200]), Math.sqrt(Math.SQRT2 / 300));
    expectUniform(values({ $init: 'KaimingUniformInitializer', args: { param: 3 } }, [300, 200]), Math.sqrt((3 * (2 / Math.sqrt(10))) / 300));
  });

  it('ScaledInitializer: modes and distributions; truncated normal within 2 std, divided by 0.8796', () => {
    const sc = (mode: string, distribution: string, scale = 3): Initializer => ({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale, mode, distribution } });
    expectNormalish(values(sc('fan_out', 'normal'), [300, 200]), Math.sqrt(3 / 200));
    expectUniform(values(sc('fan_avg', 'uniform'), [300, 200]), Math.sqrt((3 * 3) / 250));
    const t = values(sc('fan_in', 'truncated_normal'), [300, 200]);
    const sd = Math.sqrt(3 / 300);
    expectNormalish(t, sd); // the division makes the truncated draw's std the target
    expect(stats(t).maxAbs).toBeLessThanOrEqual(Math.fround((2 * sd) / TRUNCNORM_STD) * (1 + 1e-6));
    expect(stats(t).maxAbs).toBeGreaterThan(0.99 * ((2 * sd) / TRUNCNORM_STD));
    // out_dim / in_dim pick the axes
    expectNormalish(values({ $init: 'ScaledInitializer', args: { out_dim: 0, in_dim: 1, scale: 1, mode: 'fan_in', distribution: 'normal' } }, [300, 200]), Math.sqrt(1 / 200));
  });

  it('ignores the receptive field (quirk): a 3x3 conv kernel HWIO uses fan_in = I, fan_out = O', () => {
    const conv: Initializer = { $init: 'GlorotNormalInitializer', args: { out_dim: 3, in_dim: 2 } };
    expectNormalish(values(conv, [3, 3, 64, 128]), Math.sqrt(2 / (64 + 128)));
    expect(getFans([3, 3, 64, 128], 3, 2)).toEqual([64, 128]);
    expect(getFans([7], -1, -2)).toEqual([7, 7]);
    expect(getFans([], -1, -2)).toEqual([1, 1]);
    expect(getFans([5, 6], -1, -2)).toEqual([5, 6]);
    expect(() => getFans([5, 6], 2, 0)).toThrow(RangeError);
    // rank 1: both fans are shape[0]; rank 0: both 1
    expectUniform(values({ $init: 'GlorotUniformInitializer' }, [60_000]), Math.sqrt(6 / 120_000));
    expect(Math.abs(values({ $init: 'GlorotUniformInitializer' }, [])[0])).toBeLessThanOrEqual(Math.sqrt(3));
  });

  it('Orthogonal: W^T W = stddev^2 I (rows >= cols), W W^T when rows < cols, any rank', () => {
    const gram = (w: Float64Array, rows: number, cols: number, byCols: boolean): number => {
      const n = byCols ? cols : rows;
      let err = 0;
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let s = 0;
          if (byCols) for (let i = 0; i < rows; i++) s += w[i * cols + a] * w[i * cols + b];
          else for (let j = 0; j < cols; j++) s += w[a * cols + j] * w[b * cols + j];
          err = Math.max(err, Math.abs(s - (a === b ? 4 : 0)));
        }
      }
      return err;
    };
    const orth: Initializer = { $init: 'OrthogonalInitializer', args: { stddev: 2 } };
    expect(gram(values(orth, [64, 32]), 64, 32, true)).toBeLessThan(1e-5);
    expect(gram(values(orth, [32, 64]), 32, 64, false)).toBeLessThan(1e-5);
    expect(gram(values(orth, [4, 4, 8]), 16, 8, true)).toBeLessThan(1e-5);
    expect(gram(values(orth, [40, 40]), 40, 40, true)).toBeLessThan(1e-5);
    expect(Math.abs(values(orth, [])[0])).toBe(2);
    expect(values(orth, [5]).reduce((a, x) => a + x * x, 0)).toBeCloseTo(4, 5); // a (1, 5) row of norm stddev
    // default stddev 1
    expect(gram(values({ $init: 'OrthogonalInitializer' }, [20, 10]).map((x) => 2 * x), 20, 10, true)).toBeLessThan(1e-5);
  });

  it('Householder QR: Q^T Q = I and Q^T A upper triangular with diag(R)', () => {
    const m = 12, n = 7;
    const s = weightStream(5, 'qr');
    const a = Float64Array.from({ length: m * n }, () => s.normal());
    const { q, rdiag } = householderQR(a.slice(), m, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let qq = 0, qa = 0;
        for (let k = 0; k < m; k++) {
          qq += q[k * n + i] * q[k * n + j];
          qa += q[k * n + i] * a[k * n + j];
        }
        expect(qq).toBeCloseTo(i === j ? 1 : 0, 10);
        if (i > j) expect(qa).toBeCloseTo(0, 10);
        if (i === j) expect(qa).toBeCloseTo(rdiag[i], 10);
      }
    }
  });

  it('AtariConvInit (a function value): U(+-1/sqrt(H*W*fan_in))', () => {
    expectUniform(values({ $lambda: 'tl.initializers.AtariConvInit' }, [8, 8, 4, 400]), 1 / Math.sqrt(8 * 8 * 4));
  });

  it('InitializerFromFile needs a loader; with one it checks the shape', () => {
    const init: Initializer = { $init: 'InitializerFromFile', args: { path: 'w.npy' } };
    expect(() => initialValue(ref(init, [2, 2]), 0)).toThrow(/Serial\[0\]\/Dense\/kernel: InitializerFromFile\('w.npy'\) reads a .npy file/);
    const file: TensorValue = { dtype: 'float32', dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) };
    expect(initialValue(ref(init, [2, 2]), 0, { loadFile: () => file })).toEqual(file);
    expect(initialValue(ref(init, [2, 2], 'bfloat16'), 0, { loadFile: () => file }).data).toEqual(Uint16Array.of(0x3f80, 0x4000, 0x4040, 0x4080));
    expect(() => initialValue(ref(init, [4]), 0, { loadFile: () => file })).toThrow(/holds shape \(2, 2\), but the weight has shape \(4,\)/);
    expect(() => initialValue(ref(init, [4]), 0, { loadFile: () => { throw new Error('no such file'); } })).toThrow(/no such file/);
  });

  it('draws every factory of the catalog (InitializerFromFile loads)', () => {
    expect([...DRAWN_INITIALIZERS, 'InitializerFromFile'].sort()).toEqual(Object.keys(INITIALIZERS).sort());
  });

  it('gives InitializerErrors naming the weight for bad calls', () => {
    const err = (init: Initializer, shape = [3, 4]) => {
      try {
        initialValue(ref(init, shape), 0);
      } catch (e) {
        expect(e).toBeInstanceOf(InitializerError);
        expect((e as InitializerError).key).toBe('Serial[0]/Dense/kernel');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err({ $init: 'NoSuchInitializer' })).toMatch(/unknown initializer NoSuchInitializer/);
    expect(err({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale: 1, mode: 'fan_in' } })).toMatch(/needs its argument distribution/);
    expect(err({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale: 1, mode: 'fan_sum', distribution: 'normal' } })).toMatch(/mode/);
    expect(err({ $init: 'GlorotNormalInitializer', args: { scale: 0 } })).toMatch(/scale/);
    expect(err({ $init: 'GlorotNormalInitializer', args: { out_dim: 5 } })).toMatch(/out_dim=5/);
    expect(err({ table: 'nope' })).toMatch(/unknown table 'nope'; known tables: sincos_interleaved, prng_keys/);
    expect(err({ table: 'sincos_interleaved' }, [4])).toMatch(/\[max_len, d\]/);
    expect(() => initialValue({ key: 'k', role: 'weight', decl: { name: 'k', shape: ['B', 3], dtype: 'float32', init: { fill: 0 } } }, 0)).toThrow(/k: needs a concrete shape/);
    expect(() => initialValue(ref({ fill: 0 }, [2]), NaN)).toThrow(InitializerError);
  });
});

describe('determinism', () => {
  const kernel = ref({ $init: 'GlorotUniformInitializer' }, [16, 8], 'float32', 'Serial[0]/Dense/kernel');
  const bias = ref({ $init: 'RandomNormalInitializer', args: { stddev: 1e-6 } }, [8], 'float32', 'Serial[0]/Dense/bias');
  const other = ref({ $init: 'GlorotUniformInitializer' }, [16, 8], 'float32', 'Serial[2]/Dense/kernel');

  it('a weight depends on (seed, key) only, not on which weights were drawn before', () => {
    const k1 = initialValue(kernel, 42);
    const b1 = initialValue(bias, 42);
    const b2 = initialValue(bias, 42);
    const k2 = initialValue(kernel, 42);
    expect(k2).toEqual(k1);
    expect(b2).toEqual(b1);
    expect(initialValue(kernel, 43)).not.toEqual(k1);
    expect(initialValue(other, 42)).not.toEqual(k1);
  });
});

describe('fills, dtypes and tables', () => {
  it('fills a constant in the declared dtype', () => {
    expect(initialValue(ref({ fill: 1 }, [3]), 0)).toEqual({ dtype: 'float32', dims: [3], data: Float32Array.of(1, 1, 1) });
    expect(initialValue(ref({ fill: 0 }, [], 'int32'), 0)).toEqual({ dtype: 'int32', dims: [], data: Int32Array.of(0) });
    expect(initialValue(ref({ fill: 1e-4 }, [2], 'float64'), 0).data).toEqual(Float64Array.of(1e-4, 1e-4));
    expect(initialValue(ref({ fill: 1 }, [2], 'float16'), 0).data).toEqual(Uint16Array.of(0x3c00, 0x3c00));
    expect(initialValue(ref({ fill: 1 }, [2], 'bfloat16'), 0).data).toEqual(Uint16Array.of(0x3f80, 0x3f80));
    expect(initialValue(ref({ fill: 2 }, [2], 'bool'), 0)).toEqual({ dtype: 'bool', dims: [2], data: Int32Array.of(1, 1) });
    expect(initialValue(ref({ fill: 0 }, [0, 3]), 0)).toEqual({ dtype: 'float32', dims: [0, 3], data: new Float32Array(0) });
  });

  it('casts float weights: bfloat16 and float16 of the float32 draw (use_bfloat16)', () => {
    const f = initialValue(ref({ $init: 'GlorotUniformInitializer' }, [8, 8]), 1);
    const b = initialValue(ref({ $init: 'GlorotUniformInitializer' }, [8, 8], 'bfloat16'), 1);
    expect(b.data).toEqual(Uint16Array.from(f.data as Float32Array, bfloat16Bits));
    const h = initialValue(ref({ $init: 'GlorotUniformInitializer' }, [8, 8], 'float16'), 1);
    expect(h.data).toEqual(Uint16Array.from(f.data as Float32Array, float16Bits));
  });

  it('converts to float16 exactly as NumPy casts float32 (ties, subnormals, overflow, specials)', () => {
    const m = fixture('f16.npz');
    const src = m.get('src')!.data as Float32Array;
    const half = m.get('half')!.data as Uint16Array;
    expect(Array.from(src, float16Bits)).toEqual(Array.from(half));
    for (const bits of half) if (!Number.isNaN(float16Value(bits))) expect(float16Bits(float16Value(bits))).toBe(bits);
  });

  it('converts to bfloat16 with round to nearest even', () => {
    expect(bfloat16Bits(1)).toBe(0x3f80);
    expect(bfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(bfloat16Bits(1 + 2 ** -7 + 2 ** -8)).toBe(0x3f82); // tie, odd rounds up
    expect(bfloat16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(bfloat16Bits(-2)).toBe(0xc000);
    expect(bfloat16Bits(Infinity)).toBe(0x7f80);
    expect(bfloat16Bits(3.4e38)).toBe(0x7f80); // rounds up to inf
    expect(Number.isNaN(bfloat16Value(bfloat16Bits(NaN)))).toBe(true);
    expect(bfloat16Value(0x3f80)).toBe(1);
    expect(bfloat16Value(0xc049)).toBe(-3.140625);
    expect(Object.is(bfloat16Value(bfloat16Bits(-0)), -0)).toBe(true);
  });

  it('casts to integer dtypes as NumPy astype does (truncate, wrap)', () => {
    expect(tensorFromValues([1.9, -1.9, 2 ** 32 + 5, 2 ** 31], [4], 'int32').data).toEqual(Int32Array.of(1, -1, 5, -(2 ** 31)));
    expect(tensorFromValues([300, -129], [2], 'int8').data).toEqual(Int32Array.of(44, 127));
    expect(tensorFromValues([300, -1], [2], 'uint8').data).toEqual(Int32Array.of(44, 255));
    expect(tensorFromValues([2 ** 40, -3.5], [2], 'int64').data).toEqual(BigInt64Array.of(2n ** 40n, -3n));
  });

  it("PositionalEncoding's interleaved sin/cos table equals Trax's (NumPy fixture), bit for bit", () => {
    const m = fixture('pe.npz');
    for (const k of ['pe', 'pe_small']) {
      const want = m.get(k)!;
      const got = initialValue(ref({ table: 'sincos_interleaved' }, want.dims, 'float32', 'PositionalEncoding/pe'), 0);
      expect(got.dims).toEqual(want.dims);
      expect(Array.from(got.data as Float32Array)).toEqual(Array.from(want.data as Float32Array));
    }
    // the formula, spelled out
    const pe = values({ table: 'sincos_interleaved' }, [50, 8]);
    for (const [p, i] of [[3, 0], [17, 1], [49, 3]]) {
      const a = p * Math.exp((-2 * i * Math.log(10000)) / 8);
      expect(pe[p * 8 + 2 * i]).toBeCloseTo(Math.sin(a), 6);
      expect(pe[p * 8 + 2 * i + 1]).toBeCloseTo(Math.cos(a), 6);
    }
  });

  it('PRNG-key tables: int32 words from the weight stream, deterministic, per key', () => {
    const r = (key: string) => initialValue({ key, role: 'state', decl: { name: 'hash_rng', shape: [3, 2], dtype: 'int32', init: { table: 'prng_keys' } } }, 9);
    const a = r('Serial[0]/LSHSelfAttention/hash_rng');
    expect(a.dtype).toBe('int32');
    expect(a.dims).toEqual([3, 2]);
    expect(new Set(a.data as Int32Array).size).toBe(6);
    expect(r('Serial[0]/LSHSelfAttention/hash_rng')).toEqual(a);
    expect(r('Serial[1]/LSHSelfAttention/hash_rng')).not.toEqual(a);
  });

  it('knows every table the layers declare', () => {
    const dir = new URL('../layers/', import.meta.url);
    const used = new Set<string>();
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.ts')) continue;
      for (const m of readFileSync(new URL(f, dir), 'utf8').matchAll(/table:\s*'([^']+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(0);
    for (const t of used) expect(Object.keys(TABLES)).toContain(t);
  });
});

describe('lambda initializers', () => {
  const lam = (src: string, shape: number[], dtype: DType = 'float32', seed = 0) => initialValue(ref({ $lambda: src }, shape, dtype), seed);
  const nums = (src: string, shape: number[]) => Array.from(tensorNumbers(lam(src, shape)));

  it('evaluates the common constant forms', () => {
    expect(lam('lambda shape, rng: jnp.zeros(shape, dtype=jnp.int32)', [2, 2], 'int32')).toEqual({ dtype: 'int32', dims: [2, 2], data: new Int32Array(4) });
    expect(nums('lambda shape, rng: jnp.ones(shape)', [3])).toEqual([1, 1, 1]);
    expect(nums('lambda shape, rng: jnp.full(shape, 0.5)', [2])).toEqual([0.5, 0.5]);
    expect(nums('lambda shape, rng: jnp.full(shape, fill_value=-2.0, dtype=jnp.float32)', [2])).toEqual([-2, -2]);
    expect(nums('lambda shape, rng: np.arange(np.prod(shape)).reshape(shape)', [2, 3])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(nums('lambda shape, rng: np.arange(np.prod(shape)).reshape(shape) * 2', [2, 2])).toEqual([0, 2, 4, 6]);
    expect(nums('lambda shape, rng: 0.5 * np.arange(np.prod(shape)).reshape(shape) + 1', [3])).toEqual([1, 1.5, 2]);
    expect(nums('lambda shape, rng: jnp.ones(shape) * 3 - 1', [2])).toEqual([2, 2]);
    expect(nums('lambda shape, rng: jnp.ones(shape) / shape[-1]', [2, 4])).toEqual(new Array(8).fill(0.25));
    expect(nums('lambda s, key: numpy.arange(s[0] * s[1]).reshape(s[0], s[1]) ** 2', [2, 2])).toEqual([0, 1, 4, 9]);
    expect(nums('lambda shape, rng: np.arange(np.prod(shape), dtype=np.float32).reshape((-1, shape[-1]))', [2, 2])).toEqual([0, 1, 2, 3]);
    expect(nums('lambda shape, rng: jnp.eye(shape[0], shape[1])', [2, 3])).toEqual([1, 0, 0, 0, 1, 0]);
    expect(nums('lambda shape, rng: jnp.full(shape, 7.9).astype(jnp.int32)', [1])).toEqual([7]);
    expect(nums('lambda shape, rng: 3.0', [])).toEqual([3]);
    expect(nums('lambda shape, rng: jnp.zeros(shape) + jnp.arange(shape[-1])', [2, 3])).toEqual([0, 1, 2, 0, 1, 2]);
    expect(nums('lambda shape, rng, nonreceptive_dims=None: jnp.ones(shape)', [2])).toEqual([1, 1]);
  });

  it('evaluates random forms and initializer calls with the weight stream', () => {
    const big = [200, 300];
    expectNormalish(tensorNumbers(lam('lambda shape, rng: jax.random.normal(rng, shape) * 0.02', big)), 0.02);
    expectUniform(tensorNumbers(lam('lambda shape, rng: jax.random.uniform(rng, shape, minval=-0.1, maxval=0.1)', big)), 0.1);
    const t = tensorNumbers(lam('lambda shape, rng: jax.random.truncated_normal(rng, -2.0, 2.0, shape)', big));
    expect(stats(t).maxAbs).toBeLessThanOrEqual(2);
    // efficient attention's per-head Glorot when its sizes were symbolic
    const heads = lam('lambda shape, rng: tl.initializers.RandomUniformInitializer(math.sqrt(6.0 / (shape[-2] + shape[-1] * 4)))(shape, rng)', [4, 64, 160]);
    expectUniform(tensorNumbers(heads), Math.sqrt(6 / (64 + 160 * 4)));
    expectNormalish(tensorNumbers(lam('lambda shape, rng: trax.layers.initializers.GlorotNormalInitializer(scale=2.0)(shape, rng)', big)), Math.sqrt(4 / 500));
    // an initializer object as the value: called with (shape, rng)
    expectUniform(tensorNumbers(lam('tl.initializers.GlorotUniformInitializer()', big)), Math.sqrt(6 / 500));
    // same rng, same numbers (JAX's rule): the same value as the initializer itself
    expect(lam('lambda shape, rng: tl.initializers.GlorotUniformInitializer()(shape, rng)', [5, 5], 'float32', 3))
      .toEqual(initialValue(ref({ $init: 'GlorotUniformInitializer' }, [5, 5]), 3));
  });

  it('rejects other forms with an error naming the weight and the supported forms', () => {
    const msg = (src: string, shape = [2, 2]) => {
      try {
        lam(src, shape);
      } catch (e) {
        expect(e).toBeInstanceOf(InitializerError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    const m = msg('lambda shape, rng: my_init(shape)');
    expect(m).toMatch(/^Serial\[0\]\/Dense\/kernel: cannot evaluate the initializer `lambda shape, rng: my_init\(shape\)`: my_init is not supported/);
    expect(m).toMatch(/Supported forms: jnp.zeros\(shape, dtype=...\)/);
    expect(msg('lambda shape, rng: jnp.zeros(shape')).toMatch(/does not parse/);
    expect(msg('lambda shape, rng: jnp.zeros((3,))')).toMatch(/returns shape \(3,\) but the weight has shape \(2, 2\)/);
    expect(msg('lambda shape, rng: [x for x in shape]')).toMatch(/cannot evaluate/);
    expect(msg('lambda shape, rng: shape')).toMatch(/returns a tuple of 2, not an array/);
    expect(msg('lambda shape, rng: jnp.ones(shape) @ jnp.ones(shape)')).toMatch(/operator @/);
    expect(msg('lambda shape, rng: jnp.ones(shape) + jnp.ones((3,))')).toMatch(/do not broadcast/);
    expect(msg('lambda shape, rng: shape[5]')).toMatch(/out of range/);
    expect(msg('lambda shape, rng: tl.initializers.Nope()(shape, rng)')).toMatch(/tl.initializers.Nope is not supported/);
    expect(msg('lambda shape, rng: 1 // 0')).toMatch(/division by zero/);
  });
});

describe('every weight and state of the catalog', () => {
  it('has an initial value of its declared shape and dtype', () => {
    const failures: string[] = [];
    let count = 0;
    for (const { row, input } of runnableRows()) {
      const t = traceDocument({ root: caseToNode(row), input });
      forEachNode(t.root, (n, path) => {
        for (const [role, decls] of [['weight', n.weights], ['state', n.state]] as const) {
          for (const decl of decls) {
            const r: WeightRef = { key: weightKey(path, n.node.kind, decl.name), decl, role };
            try {
              const v = initialValue(r, 0);
              count++;
              if (v.dtype !== decl.dtype || v.dims.join() !== decl.shape.join()) failures.push(`${row.kind}: ${r.key} is ${v.dtype}[${v.dims}]`);
            } catch (e) {
              failures.push(`${row.kind}: ${(e as Error).message}`);
            }
          }
        }
      });
    }
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThan(100);
  });
});
