/**
 * Attention families (attention, efficient_attention, position_encodings):
 * the public conformance cases through traceDocument, flat weight and state
 * shapes, and the trees the layer functions expand to.
 */
import { describe, expect, it } from 'vitest';
import { formatShapeDtype, parseShapeDtype } from '../core/shape';
import type { PyValue } from './def';
import type { DocNode } from '../document/schema';
import { type NodeTrace, collectWeights, forEachNode, traceDocument } from '../document/trace';

let nextId = 0;
function node(kind: string, params?: Record<string, PyValue>, extra: Partial<DocNode> = {}): DocNode {
  return { id: `a${++nextId}`, kind, ...(params ? { params } : {}), ...extra };
}
function trace(root: DocNode, inputs: string[]) {
  return traceDocument({ root, input: inputs.map(parseShapeDtype) });
}
const shapes = (xs: { shape: readonly (number | string)[] }[]): (number | string)[][] => xs.map((x) => [...x.shape]);
function flatState(t: NodeTrace): string[] {
  const out: string[] = [];
  forEachNode(t, (n) => { for (const s of n.state) out.push(formatShapeDtype(s)); });
  return out;
}
/** kinds of a macro's expansion children (one level) */
const expansionKinds = (t: NodeTrace): string[] => (t.expansion ? t.expansion.children.map((c) => c.node.kind) : []);

describe('conformance cases', () => {
  it('attention_qkv_shape', () => {
    const t = trace(node('AttentionQKV', { d_feature: 8, n_heads: 2 }), ['float32[2,3,8]', 'float32[2,5,8]', 'float32[2,5,8]', 'bool[2,1,3,5]']);
    expect(t.errors).toEqual([]);
    expect(t.root.analysis.arity).toEqual({ nIn: 4, nOut: 2 });
    expect(shapes(t.root.outputs!)).toEqual([[2, 3, 8], [2, 1, 3, 5]]);
    // flat weights [Wq, bq, Wk, bk, Wv, bv, Wo, bo]
    expect(collectWeights(t.root).map((w) => formatShapeDtype(w))).toEqual(
      ['float32[8,8]', 'float32[8]', 'float32[8,8]', 'float32[8]', 'float32[8,8]', 'float32[8]', 'float32[8,8]', 'float32[8]'],
    );
  });

  it('pure_attention_values_2heads (shapes)', () => {
    const t = trace(node('PureAttention', { n_heads: 2, mode: 'eval' }), ['float32[1,3,4]', 'float32[1,3,4]', 'float32[1,3,4]', 'bool[1,1,1,3]']);
    expect(t.errors).toEqual([]);
    expect(t.root.analysis.arity).toEqual({ nIn: 4, nOut: 2 });
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[1,3,4]', 'bool[1,1,1,3]']);
  });

  it('causal_attention_bad_heads: a construction error mentioning "multiple"', () => {
    const t = trace(node('CausalAttention', { d_feature: 5, n_heads: 2 }), []);
    expect(t.errors.length).toBeGreaterThan(0);
    expect(t.errors[0].code).toBe('construct');
    expect(t.errors[0].message).toContain('multiple');
    expect(t.root.analysis.arity).toBeNull();
  });

  it('lsh_self_attention_deterministic', () => {
    const t = trace(node('LSHSelfAttention', {
      n_heads: 5, d_qk: 7, d_v: 17, causal: true, chunk_len: 8, n_chunks_before: 1, n_chunks_after: 0, n_hashes: 2, n_buckets: 4,
      use_reference_code: true, attention_dropout: 0.0, mode: 'train',
    }), ['float32[3,32,8]']);
    expect(t.errors).toEqual([]);
    expect(t.root.analysis.arity).toEqual({ nIn: 1, nOut: 1 });
    expect(shapes(t.root.outputs!)).toEqual([[3, 32, 8]]);
    // per (example, head): buckets [n_hashes * length] and a hash rng
    expect(flatState(t.root)).toEqual(['int32[15,64]', 'int32[15,2]']);
  });

  it('pure_lsh_wrapper_causal_w3', () => {
    const t = trace(node('PureLSHSelfAttentionWrapper', {
      n_heads: 5, d_qk: 8, d_v: 8, causal: true, masked: false, chunk_len: 8, n_chunks_before: 1, n_chunks_after: 0, n_hashes: 2, n_buckets: 4,
      bias: false, pure_lsh_implementation: 'PureLSHSelfAttention', mode: 'train', num_weights: 3,
    }), ['float32[3,32,40]']);
    expect(t.errors).toEqual([]);
    expect(t.root.analysis.arity).toEqual({ nIn: 1, nOut: 1 });
    expect(shapes(t.root.outputs!)).toEqual([[3, 32, 40]]);
    expect(shapes(collectWeights(t.root))).toEqual([[40, 40], [40, 40], [40, 40], [40, 40]]);
    expect(flatState(t.root).map((s) => s.replace(/^[a-z0-9]+/, ''))).toEqual(['[15,64]', '[15,2]']);
  });

  it('sincos_pe_shape_1_1_8', () => {
    const t = trace(node('SinCosPositionalEncoding'), ['float32[1,1,8]']);
    expect(t.errors).toEqual([]);
    expect(t.root.analysis.arity).toEqual({ nIn: 1, nOut: 1 });
    expect(shapes(t.root.outputs!)).toEqual([[1, 1, 8]]);
  });

  it('padding_mask', () => {
    const t = trace(node('PaddingMask'), ['float32[3,5]']);
    expect(t.errors).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['bool[3,1,1,5]']);
  });

  it('shift_right_float', () => {
    const t = trace(node('ShiftRight'), ['float32[2,4,3]']);
    expect(t.errors).toEqual([]);
    expect(t.root.outputs!.map(formatShapeDtype)).toEqual(['float32[2,4,3]']);
  });
});

describe('expansions build the Trax trees', () => {
  it('Attention = Serial(AssertShape, Select([0,0,0]), AttentionQKV)', () => {
    const t = trace(node('Attention', { d_feature: 8, n_heads: 2 }), ['float32[2,3,8]', 'bool[2,1,1,3]']);
    expect(expansionKinds(t.root)).toEqual(['AssertShape', 'Select', 'AttentionQKV']);
    const qkv = t.root.expansion!.children[2];
    expect(expansionKinds(qkv)).toEqual(['AssertShape', 'Parallel', 'PureAttention', 'Dense']);
    // the edge stacks inside the expansion: [x, mask] -> [x, x, x, mask] -> [y, mask]
    expect(t.root.expansion!.stacks!.map((s) => s!.length)).toEqual([2, 2, 4, 2]);
  });

  it('an Attention mask error names the mask and the expected [b,1,1,l]', () => {
    const t = trace(node('Attention', { d_feature: 8 }), ['float32[2,3,8]', 'bool[2,1,3,3]']);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0].path).toBe('Attention[0]');
    expect(t.errors[0].message).toBe('Attention[0] > AssertShape: Attention: mask must have shape [b,1,1,l], but its axis 2 is 3, not 1 (got bool[2,1,3,3])');
  });

  it('CausalAttention = ConfigurableAttention(Dense x3, Dense, DotProductCausalAttention)', () => {
    const t = trace(node('CausalAttention', { d_feature: 8, n_heads: 2 }), ['float32[B,L,8]']);
    expect(t.errors).toEqual([]);
    expect(expansionKinds(t.root)).toEqual(['AssertShape', 'ConfigurableAttention']);
    const conf = t.root.expansion!.children[1];
    expect(expansionKinds(conf)).toEqual(['AssertShape', 'Branch', 'DotProductCausalAttention', 'MergeHeads', 'Dense', 'AssertShape']);
    const branch = conf.expansion!.children[1];
    expect(branch.children.map((c) => c.children.map((k) => k.node.kind))).toEqual([
      ['Serial', 'SplitIntoHeads'], ['Serial', 'SplitIntoHeads'], ['Serial', 'SplitIntoHeads'],
    ]);
    // heads are merged into the batch axis between the Branch and MergeHeads
    expect(conf.expansion!.stacks![2]!.map(formatShapeDtype)).toEqual(['float32[B*2,L,4]', 'float32[B*2,L,4]', 'float32[B*2,L,4]']);
  });

  it('CausalAttention(use_dconv=True) adds CausalDepthwiseConv after each Q/K/V Dense', () => {
    const t = trace(node('CausalAttention', { d_feature: 8, n_heads: 2, use_dconv: true }), ['float32[2,5,8]']);
    expect(t.errors).toEqual([]);
    const conf = t.root.expansion!.children[1];
    const q = conf.expansion!.children[1].children[0].children[0];
    expect(q.children.map((c) => c.node.kind)).toEqual(['Dense', 'CausalDepthwiseConv']);
  });

  it('ConfigurableAttention keeps the user layers it is given', () => {
    const q = node('Dense', { n_units: 8 });
    const t = trace(node('ConfigurableAttention', { n_heads: 4 }, {
      slots: { q_layer: q, k_layer: node('Dense', { n_units: 8 }), v_layer: node('Dense', { n_units: 8 }), final_layer: node('Dense', { n_units: 8 }), qkv_attention_layer: node('DotProductCausalAttention') },
    }), ['float32[2,5,8]']);
    expect(t.errors).toEqual([]);
    expect(t.root.expansion!.children[1].children[0].children[0].node).toBe(q);
  });

  it('PureLSHSelfAttentionWrapper with num_weights=3 averages q and k', () => {
    const t = trace(node('PureLSHSelfAttentionWrapper', { n_heads: 2, d_qk: 4, d_v: 4, chunk_len: 4, pure_lsh_implementation: 'PureLSHSelfAttention' }), ['float32[2,8,8]']);
    expect(t.errors).toEqual([]);
    expect(expansionKinds(t.root)).toEqual(['Serial', 'PureLSHSelfAttention', 'MergeHeads', 'Dense']);
    expect(t.root.expansion!.children[0].children.map((c) => c.node.kind)).toEqual(['Branch', 'QKAvg', 'Parallel']);
    expect(t.root.expansion!.children[1].node.params).toMatchObject({ n_heads: 2, chunk_len: 4 });
  });
});

describe('state', () => {
  it('DotProductCausalAttention caches keys and values in predict mode', () => {
    const t = trace(node('DotProductCausalAttention', { mode: 'predict', max_inference_length: 16 }), ['float32[6,1,4]', 'float32[6,1,4]', 'float32[6,1,4]']);
    expect(flatState(t.root)).toEqual(['float32[6,16,4]', 'float32[6,16,4]', 'int32[]']);
  });

  it('PositionalEncoding counts positions in predict mode', () => {
    const t = trace(node('PositionalEncoding', { mode: 'predict' }), ['float32[2,1,8]']);
    expect(flatState(t.root)).toEqual(['int32[]']);
    expect(flatState(trace(node('PositionalEncoding'), ['float32[2,3,8]']).root)).toEqual([]);
  });

  it('SelfAttention in predict mode keeps (mem_end, mem)', () => {
    const t = trace(node('SelfAttention', { n_heads: 2, d_qk: 8, d_v: 8, causal: true, chunk_len: 4, n_chunks_before: 1, mode: 'predict' }), ['float32[2,1,16]']);
    expect(t.errors).toEqual([]);
    expect(flatState(t.root)).toEqual(['int32[]', 'float32[2,8,16]']);
  });

  it('LSHSelfAttention in predict mode keeps memory, buckets, bucket index and rng per (example, head)', () => {
    const t = trace(node('LSHSelfAttention', { n_heads: 2, d_qk: 8, d_v: 8, causal: true, chunk_len: 4, n_hashes: 2, predict_mem_len: 16, predict_drop_len: 4, mode: 'predict' }), ['float32[B,1,16]']);
    expect(t.errors).toEqual([]);
    expect(flatState(t.root)).toEqual(['int32[]', 'float32[B,16,16]', 'int32[B*2,32]', 'int32[B*2]', 'int32[B*2,2]']);
  });

  it('LSHSelfAttention buckets use max_length_for_buckets', () => {
    const t = trace(node('LSHSelfAttention', { chunk_len: 4, max_length_for_buckets: 64 }), ['float32[3,16,8]']);
    expect(flatState(t.root)).toEqual(['int32[6,64]', 'int32[6,2]']);
  });
});

describe('symbolic dims', () => {
  it('SplitIntoHeads / MergeHeads round trip keeps B', () => {
    const t = trace(node('Serial', undefined, { children: [node('SplitIntoHeads', { n_heads: 8 }), node('MergeHeads', { n_heads: 8 })] }), ['float32[B,L,512]']);
    expect(t.errors).toEqual([]);
    expect(t.root.stacks!.map((s) => s!.map(formatShapeDtype))).toEqual([['float32[B,L,512]'], ['float32[B*8,L,64]'], ['float32[B,L,512]']]);
  });

  it('SelfAttention efficient-attention init is Uniform(+-sqrt(6/(d_in + d_head*n_heads)))', () => {
    const t = trace(node('SelfAttention', { n_heads: 4, d_qk: 16, d_v: 8 }), ['float32[2,8,32]']);
    const [wq, , , wo] = t.root.weights;
    expect(wq.init).toEqual({ $init: 'RandomUniformInitializer', args: { lim: Math.sqrt(6 / (32 + 16 * 4)) } });
    expect(wo.init).toEqual({ $init: 'RandomUniformInitializer', args: { lim: Math.sqrt(6 / (32 + 8 * 4)) } });
    const s = trace(node('SelfAttention'), ['float32[2,8,D]']);
    expect(s.root.weights[0].init).toHaveProperty('$lambda');
  });
});
