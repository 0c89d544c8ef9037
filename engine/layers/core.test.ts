import { sharedPath } from '../../test/shared';
/**
 * Edge cases of the core family (and the initializer table) that the
 * catalog-wide table does not reach: state declarations, initializer
 * values, and the conformance cases of these layers.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatShapeDtype, shapeDtypeFromJson } from '../core/shape';
import type { DocNode } from '../document/schema';
import { traceDocument } from '../document/trace';
import type { PyValue } from './def';
import { INITIALIZERS, checkInitializer, initializerArgs } from './initializers';

function trace(kind: string, params: Record<string, PyValue>, inputs: string[]) {
  const root: DocNode = { id: 'n', kind, params };
  return traceDocument({ root, input: inputs.map((s) => shapeDtypeFromJson(s, 'input')) });
}

describe('core state', () => {
  it('Dropout keeps its rate as float32 state', () => {
    const t = trace('Dropout', { rate: 0.25 }, ['float32[2,3]']);
    expect(t.root.state).toEqual([{ name: 'rate', shape: [], dtype: 'float32', init: { fill: 0.25 } }]);
    expect(t.root.weights).toEqual([]);
  });
  it('SummaryScalar stores summary_<name>', () => {
    const t = trace('SummaryScalar', { name: 'test' }, ['float32[2,2]']);
    expect(t.root.state.map((s) => s.name)).toEqual(['summary_test']);
  });
  it('BatchNorm state: running stats shaped like the input with reduced axes 1, and an int counter', () => {
    const t = trace('BatchNorm', {}, ['float32[B,H,W,8]']);
    expect(t.root.state.map(formatShapeDtype)).toEqual(['float32[1,1,1,8]', 'float32[1,1,1,8]', 'int32[]']);
    expect(t.root.state.map((s) => s.init)).toEqual([{ fill: 0 }, { fill: 1 }, { fill: 0 }]);
    expect(t.root.weights.map((w) => w.name)).toEqual(['beta', 'gamma']);
  });
  it('LayerNorm initialises scale to ones and bias to zeros', () => {
    const t = trace('LayerNorm', {}, ['float32[2,5]']);
    expect(t.root.weights.map((w) => [w.name, w.init])).toEqual([['scale', { fill: 1 }], ['bias', { fill: 0 }]]);
  });
});

describe('default initializers', () => {
  it("Conv's kernel defaults to GlorotNormal over the kernel layout's O and I", () => {
    const t = trace('Conv', { filters: 4, kernel_size: [3, 3], dimension_numbers: ['NCHW', 'OIHW', 'NCHW'] }, ['float32[1,3,8,8]']);
    expect(t.root.weights[0].init).toEqual({ $init: 'GlorotNormalInitializer', args: { out_dim: 0, in_dim: 1 } });
    expect(t.root.weights[1].init).toEqual({ $init: 'RandomNormalInitializer', args: { stddev: 1e-6 } });
  });
  it('a given kernel_initializer is kept', () => {
    const k = { $init: 'KaimingUniformInitializer', args: { param: 0.1 } };
    const t = trace('Conv1d', { filters: 4, kernel_size: 3, kernel_initializer: k }, ['float32[1,8,2]']);
    expect(t.root.weights[0].init).toEqual(k);
  });
});

describe('initializer table', () => {
  it('lists the spec factories with their defaults', () => {
    expect(Object.keys(INITIALIZERS)).toHaveLength(11);
    expect(initializerArgs('GlorotUniformInitializer')!.map((a) => [a.name, a.default])).toEqual([['out_dim', -1], ['in_dim', -2], ['scale', 1.0]]);
    expect(initializerArgs('RandomNormalInitializer')!.map((a) => [a.name, a.default])).toEqual([['stddev', 0.01]]);
    expect(initializerArgs('KaimingNormalInitializer')!.map((a) => a.name)).toEqual(['out_dim', 'in_dim', 'param']);
    expect(initializerArgs('Relu')).toBeUndefined();
  });
  it('accepts well-formed calls', () => {
    expect(checkInitializer({ $init: 'GlorotUniformInitializer' })).toBeNull();
    expect(checkInitializer({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale: 1.0, mode: 'fan_out', distribution: 'uniform' } })).toBeNull();
    expect(checkInitializer({ $init: 'InitializerFromFile', args: { path: '/tmp/emb.npy' } })).toBeNull();
  });
  it('rejects unknown factories, unknown or missing arguments and bad values', () => {
    expect(checkInitializer({ $init: 'XavierInitializer' }, 'kernel_initializer')).toMatchObject({ code: 'bad_param', detail: { param: 'kernel_initializer' } });
    expect(checkInitializer({ $init: 'AtariConvInit' })?.message).toContain('not a factory');
    expect(checkInitializer({ $init: 'RandomNormalInitializer', args: { std: 1 } })?.message).toContain('has no argument std');
    expect(checkInitializer({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale: 1 } })?.message).toContain('needs its argument mode');
    expect(checkInitializer({ $init: 'GlorotNormalInitializer', args: { scale: 0 } })?.message).toContain('scale must be a number > 0');
    expect(checkInitializer({ $init: 'ScaledInitializer', args: { out_dim: -1, in_dim: -2, scale: 1, mode: 'fan_max', distribution: 'normal' } })?.message).toContain("'fan_in', 'fan_out', 'fan_avg'");
    expect(checkInitializer({ $init: 'LeCunNormalInitializer', args: { in_dim: 1.5 } })?.message).toContain('in_dim must be an integer');
  });
});

// ---------------------------------------------------------------- conformance cases of these families

interface ConfCase {
  id: string;
  kind: string;
  input_signature: { shape: (number | string)[]; dtype: string }[];
  expected: { n_in?: number; n_out?: number; output_shapes?: (number | string)[][]; error?: { message_contains: string } };
}

const confPath = sharedPath('conformance/trax-cases.json');

/** The conformance models of these families, as document nodes. */
const MODELS: Record<string, DocNode> = {
  dense_no_bias_given_weights: { id: 'n', kind: 'Dense', params: { n_units: 4, use_bias: false } },
  dense_no_bias_weight_shape: { id: 'n', kind: 'Dense', params: { n_units: 4, use_bias: false } },
  chunk_dense: { id: 'n', kind: 'Chunk', params: { chunk_size: 1 }, slots: { layer: { id: 'd', kind: 'Dense', params: { n_units: 4 } } } },
  embedding_clip: { id: 'n', kind: 'Embedding', params: { vocab_size: 5, d_feature: 2, kernel_initializer: { $lambda: 'lambda shape, rng: np.arange(np.prod(shape)).reshape(shape)' } } },
  dropout_eval_noop: { id: 'n', kind: 'Dropout', params: { rate: 0.1, mode: 'eval' } },
  weights_layer_zero: { id: 'n', kind: 'Weights', params: { initializer: { $lambda: 'lambda shape, rng: jnp.zeros(shape, dtype=jnp.float32)' } } },
  summary_scalar: { id: 'n', kind: 'SummaryScalar', params: { name: 'test' } },
  random_uniform_shape: { id: 'n', kind: 'RandomUniform', params: { shape: [5, 10, 3] } },
  locally_connected_k1_wrap: { id: 'n', kind: 'LocallyConnected1d', params: { filters: 6, kernel_size: 1, padding: 'WRAP' } },
  locally_connected_k1_same: { id: 'n', kind: 'LocallyConnected1d', params: { filters: 6, kernel_size: 1, padding: 'SAME' } },
  locally_connected_k1_valid: { id: 'n', kind: 'LocallyConnected1d', params: { filters: 6, kernel_size: 1, padding: 'VALID' } },
  flatten_keep4: { id: 'n', kind: 'Flatten', params: { n_axes_to_keep: 4 } },
  flatten_keep_too_many: { id: 'n', kind: 'Flatten', params: { n_axes_to_keep: 5 } },
  flatten_doc: { id: 'n', kind: 'Flatten', params: { n_axes_to_keep: 1 } },
  min_default: { id: 'n', kind: 'Min' },
  max_axis0_keepdims: { id: 'n', kind: 'Max', params: { axis: 0, keepdims: true } },
  threshold_to_binary: { id: 'n', kind: 'ThresholdToBinary' },
  sum_default_all_axes: { id: 'n', kind: 'Sum' },
  mean_default: { id: 'n', kind: 'Mean' },
  conv_same_stride2: { id: 'n', kind: 'Conv', params: { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'SAME' } },
  conv_valid_stride2: { id: 'n', kind: 'Conv', params: { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: 'VALID' } },
  conv1d_valid_stride2: { id: 'n', kind: 'Conv1d', params: { filters: 5, kernel_size: 3, stride: 2 } },
  maxpool_values_2x2: { id: 'n', kind: 'MaxPool', params: { pool_size: [2, 2], strides: [2, 2] } },
  maxpool_same_1d: { id: 'n', kind: 'MaxPool', params: { pool_size: [3], strides: [3], padding: 'SAME' } },
  layernorm_shape: { id: 'n', kind: 'LayerNorm' },
  layernorm_doc: { id: 'n', kind: 'LayerNorm' },
  relu_layernorm_doc: { id: 'n', kind: 'Serial', children: [{ id: 'r', kind: 'Relu' }, { id: 'l', kind: 'LayerNorm' }] },
};

describe('conformance cases (core, normalization, pooling, convolution)', () => {
  const all: ConfCase[] = JSON.parse(readFileSync(confPath, 'utf8'));
  for (const c of all.filter((x) => MODELS[x.id])) {
    it(c.id, () => {
      const input = c.input_signature.map((s, i) => shapeDtypeFromJson(s, `input[${i}]`));
      const t = traceDocument({ root: MODELS[c.id], input });
      const e = c.expected;
      if (e.n_in !== undefined) expect(t.root.analysis.arity?.nIn).toBe(e.n_in);
      if (e.n_out !== undefined) expect(t.root.analysis.arity?.nOut).toBe(e.n_out);
      if (e.error) {
        expect(t.errors.map((x) => x.message).join('\n')).toContain(e.error.message_contains);
        return;
      }
      expect(t.errors.map((x) => x.message)).toEqual([]);
      if (e.output_shapes) expect(t.root.outputs!.map((o) => o.shape)).toEqual(e.output_shapes);
    });
  }
});
