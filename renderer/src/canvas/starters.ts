/**
 * Starting values for a layer dropped on the canvas: every required parameter
 * without a default gets a small, sensible value, so the new node traces
 * (or shows a real shape error) instead of a "missing parameter" error.
 */
import { type LayerDef, type ParamSpec, type PyValue, REQUIRED } from '../../../engine/layers/def';

/** By parameter name (the usual meaning across the catalog). */
const BY_NAME: Record<string, PyValue> = {
  n_units: 32,
  vocab_size: 100,
  input_vocab_size: 100,
  output_vocab_size: 100,
  d_feature: 32,
  d_model: 32,
  d_ff: 64,
  filters: 16,
  n_heads: 1,
  n_buckets: 8,
  chunk_size: 1,
  time_bin_length: 1,
  n_in: 1,
  indices: [0],
  mode: 'train',
};

/** By kind and name, where the name alone would be wrong. */
const BY_KIND: Record<string, Record<string, PyValue>> = {
  Conv: { kernel_size: [3, 3] },
  Conv1d: { kernel_size: 3 },
  LocallyConnected1d: { kernel_size: 3 },
  Fn: { name: 'Fn', f: { $lambda: 'lambda x: x' } },
  PureLayer: { forward_fn: { $lambda: 'lambda x: x' } },
  SummaryScalar: { name: 'scalar' },
  SummaryImage: { name: 'image' },
  ReversibleReshape: { shape1: [-1], shape2: [-1] },
  Weights: { initializer: { $init: 'GlorotUniformInitializer' } },
};

function byType(p: ParamSpec): PyValue {
  switch (p.type) {
    case 'int': return Math.max(p.min ?? 1, 1);
    case 'float': return p.min !== undefined && p.min > 0.1 ? p.min : 0.1;
    case 'bool': return false;
    case 'str': return p.choices?.[0] ?? p.name;
    case 'ints': return Array.from({ length: Math.max(p.minLength ?? 1, 1) }, () => Math.max(p.min ?? 1, 1));
    case 'int_or_ints': return Math.max(p.min ?? 1, 1);
    case 'numbers': return [1];
    case 'strs': return [];
    case 'dtype': return 'float32';
    case 'initializer': return { $init: 'GlorotUniformInitializer' };
    case 'lambda': return { $lambda: 'lambda x: x' };
    case 'layer_class': return p.choices?.[0] ?? 'Relu';
    case 'layer_classes': return 'Relu';
    case 'any': return null;
  }
}

/** Values for the required parameters of `def` that have no default (nothing else is set). */
export function starterParams(def: LayerDef): Record<string, PyValue> {
  const out: Record<string, PyValue> = {};
  for (const a of def.args) {
    if (a.arg !== 'param' || a.default !== REQUIRED) continue;
    const k = BY_KIND[def.kind];
    if (k && a.name in k) out[a.name] = k[a.name];
    else if (a.name in BY_NAME) out[a.name] = BY_NAME[a.name];
    else out[a.name] = byType(a);
  }
  return out;
}

/** A fresh node id for a node created on the canvas. */
export function freshNodeId(): string {
  return `n${Math.random().toString(36).slice(2, 10)}`;
}
