import { describe, expect, it } from 'vitest';
import { parseShapeDtype } from '../core/shape';
import { traceDocument } from './trace';
import type { DocNode } from './schema';

const sig = (s: string) => parseShapeDtype(s);

/** Every node of an expansion by id. */
function byId(root: DocNode): Map<string, DocNode> {
  const m = new Map<string, DocNode>();
  const go = (n: DocNode): void => {
    m.set(n.id, n);
    for (const c of n.children ?? []) go(c);
    for (const c of Object.values(n.slots ?? {})) if (c) go(c);
  };
  go(root);
  return m;
}

describe('re-expanding a macro', () => {
  const reformer = (params: Record<string, number>): DocNode => ({ id: 'rlm', kind: 'ReformerLM', params: { vocab_size: 32000, n_layers: 2, ...params } });

  it('keeps the objects (and traces) of the subtrees a parameter change leaves alone', () => {
    const input = [sig('int32[B,L]')];
    const a = traceDocument({ root: reformer({}), input });
    const b = traceDocument({ root: reformer({ vocab_size: 3200 }), input });
    const ea = a.root.expansion!, eb = b.root.expansion!;
    // the Serial holding the model is new (two of its children changed) …
    expect(eb.node).not.toBe(ea.node);
    const kinds = eb.node.children!.map((c) => c.kind);
    const at = (k: string) => kinds.indexOf(k);
    // … the embedding (vocab_size) and the output Dense are new …
    expect(eb.children[at('Embedding')].node).not.toBe(ea.children[at('Embedding')].node);
    expect(eb.children[at('Dense')].node).not.toBe(ea.children[at('Dense')].node);
    expect(eb.children[at('Dense')].outputs).toEqual([sig('float32[B,L,3200]')]);
    // … and the reversible blocks are the very same nodes and traces
    expect(eb.children[at('ReversibleSerial')].node).toBe(ea.children[at('ReversibleSerial')].node);
    expect(eb.children[at('ReversibleSerial')]).toBe(ea.children[at('ReversibleSerial')]);
    expect(eb.children[at('LayerNorm')]).toBe(ea.children[at('LayerNorm')]);
  });

  it('gives the same tree as a fresh expansion', () => {
    const input = [sig('int32[B,L]')];
    traceDocument({ root: reformer({ d_model: 64 }), input });
    const again = traceDocument({ root: reformer({ d_model: 128 }), input });
    // a macro node with another id has no earlier expansion to reuse
    const fresh = traceDocument({ root: { ...reformer({ d_model: 128 }), id: 'other' }, input });
    const text = (n: DocNode) => JSON.stringify(n).replaceAll('"other', '"rlm');
    expect(text(fresh.root.expansion!.node)).toBe(text(again.root.expansion!.node));
    expect(again.output).toEqual(fresh.output);
    expect(again.params).toBe(fresh.params);
    // nodes sized by d_model were made again
    const dense = [...byId(again.root.expansion!.node).values()].filter((n) => n.kind === 'Dense' && n.params?.n_units === 128);
    expect(dense.length).toBeGreaterThan(0);
  });

  it('does not reuse a node whose children changed, even with the same id and parameters', () => {
    const input = [sig('int32[B,L]')];
    const one = traceDocument({ root: reformer({ n_layers: 1 }), input });
    const two = traceDocument({ root: reformer({ n_layers: 2 }), input });
    const rs = (t: typeof one) => t.root.expansion!.children.find((c) => c.node.kind === 'ReversibleSerial')!;
    expect(rs(two).node).not.toBe(rs(one).node);
    expect(rs(two).node.children!.length).toBe(2 * rs(one).node.children!.length);
    // its first block is unchanged, and kept
    expect(rs(two).node.children![0]).toBe(rs(one).node.children![0]);
  });
});
