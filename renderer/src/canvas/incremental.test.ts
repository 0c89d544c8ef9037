/**
 * What keeps an edit cheap on a large canvas: what nodes show is kept apart
 * from where they are (NodeContents), a re-projection keeps the objects of
 * what did not change, and a small change of text leaves the layout graph the
 * same object (no new layout, nothing moves).
 */
import { describe, expect, it } from 'vitest';
import type { StrataDocument } from '../../../engine/document/schema';
import { forEachNode, traceDocument } from '../../../engine/document/trace';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { applyEdit } from '../state/edits';
import { NodeContents, sameContent } from './contents';
import { type ProjNode, type Projection, projectDocument } from './project';

describe('NodeContents', () => {
  it('keeps the object of unchanged content, and tells only the nodes whose content changed, on flush', () => {
    const c = new NodeContents();
    const a1 = { chips: [{ text: 'float32[B,4]', colour: 0 }] }, b1 = { kind: 'Dense', detail: 'n_units=4' };
    c.update([{ id: 'a', data: a1 }, { id: 'b', data: b1 }]);
    const heard: string[] = [];
    c.subscribe('a', () => heard.push('a'));
    c.subscribe('b', () => heard.push('b'));
    // a new but equal object for a, a changed one for b
    c.update([{ id: 'a', data: { chips: [{ text: 'float32[B,4]', colour: 0 }] } }, { id: 'b', data: { kind: 'Dense', detail: 'n_units=5' } }]);
    expect(c.get('a')).toBe(a1);
    expect(c.get('b')).toEqual({ kind: 'Dense', detail: 'n_units=5' });
    expect(heard).toEqual([]); // nothing said while rendering
    c.flush();
    expect(heard).toEqual(['b']);
    c.flush();
    expect(heard).toEqual(['b']);
  });

  it('forgets nodes no longer drawn, and stops telling a component that unsubscribed', () => {
    const c = new NodeContents();
    c.update([{ id: 'a', data: { x: 1 } }]);
    let n = 0;
    const off = c.subscribe('a', () => n++);
    c.update([]);
    expect(c.get('a')).toBeUndefined();
    c.update([{ id: 'a', data: { x: 2 } }]);
    off();
    c.update([{ id: 'a', data: { x: 3 } }]);
    c.flush();
    expect(n).toBe(0);
  });

  it('compares plain data by value', () => {
    expect(sameContent({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(sameContent({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
    expect(sameContent({ a: undefined }, {})).toBe(false);
    expect(sameContent([1], { 0: 1 })).toBe(false);
    expect(sameContent(null, {})).toBe(false);
  });
});

const reformer = (): StrataDocument => codeToDocument('# input: int32[B,L]\nimport trax\nmodel = trax.models.ReformerLM(vocab_size=32000, n_layers=4)\n');
/** Every combinator of the expansion open (as the benchmark's "fully expanded"). */
function allOpen(doc: StrataDocument): Map<string, boolean> {
  const m = new Map<string, boolean>();
  forEachNode(traceDocument(doc).root, (t, path) => { if (path) m.set(t.node.id, false); });
  return m;
}
const setParam = (doc: StrataDocument, name: string, value: number): StrataDocument =>
  applyEdit(doc, { type: 'setParam', id: doc.root.id, name, value });
const project = (doc: StrataDocument, local: ReadonlyMap<string, boolean>): Projection => projectDocument(doc, traceDocument(doc), { localCollapsed: local });
const byId = (p: Projection): Map<string, ProjNode> => new Map(p.nodes.map((n) => [n.id, n]));

describe('re-projecting after an edit', () => {
  it('keeps the node objects of everything a parameter change of a model leaves alone', () => {
    const doc = reformer();
    const local = allOpen(doc);
    const p1 = project(doc, local);
    const p2 = project(setParam(doc, 'vocab_size', 3200), local);
    const before = byId(p1);
    const changed = p2.nodes.filter((n) => before.get(n.id) !== n).map((n) => n.id);
    expect(p2.nodes.length).toBe(p1.nodes.length);
    // the model's own box, its column's rows around the embedding and the logits, and those two layers
    expect(changed.length).toBeLessThan(12);
    expect(changed.length).toBeGreaterThan(0);
    const logits = p2.nodes.find((n) => n.type === 'stack' && n.data.chips?.some((c) => c.text === 'float32[B,L,3200]'));
    expect(logits).toBeDefined();
  });

  it('leaves the layout graph the same object when typing changes text by a character or two', () => {
    const doc = reformer();
    const local = allOpen(doc);
    const wide = setParam(doc, 'd_model', 512);
    project(wide, local);
    const p1 = project(setParam(wide, 'd_model', 5120), local);
    // every chip changed (d_model 512 → 5120), but every size still fits: no new layout
    const p2 = project(setParam(wide, 'd_model', 512), local);
    const p3 = project(setParam(wide, 'd_model', 5120), local);
    expect(p2.elk).toBe(p1.elk);
    expect(p3.elk).toBe(p1.elk);
    const chips = (p: Projection) => p.nodes.flatMap((n) => (n.type === 'stack' ? n.data.chips ?? [] : []).map((c) => c.text));
    expect(chips(p2)).toContain('float32[B,L,512]');
    expect(chips(p3)).toContain('float32[B,L,5120]');
    expect(chips(p3)).not.toContain('float32[B,L,512]');
  });

  it('asks for a new layout when the text no longer fits', () => {
    const doc = codeToDocument('# input: float32[B,4]\nfrom trax import layers as tl\nmodel = tl.Serial(tl.Dense(8), tl.Relu())\n');
    const local = new Map<string, boolean>();
    const p1 = project(doc, local);
    const dense = doc.root.children![0].id;
    const p2 = project(applyEdit(doc, { type: 'setParam', id: dense, name: 'n_units', value: 123456789012 }), local);
    expect(p2.elk).not.toBe(p1.elk);
    const row = (p: Projection) => p.nodes.find((n) => n.id === `s:${doc.root.id}:0`)!;
    expect(row(p2).width).toBeGreaterThan(row(p1).width!);
  });

  it('re-makes only the rows whose stack changed in a 2,000-layer Serial', () => {
    const doc = codeToDocument(`# input: float32[B,64]\nfrom trax import layers as tl\nmodel = tl.Serial(${Array.from({ length: 2000 }, (_, i) => (i % 2 ? 'tl.Tanh()' : 'tl.Dense(64)')).join(', ')})\n`);
    const local = new Map<string, boolean>();
    const p1 = project(doc, local);
    const first = doc.root.children![0].id;
    const p2 = project(applyEdit(doc, { type: 'setParam', id: first, name: 'n_units', value: 640 }), local);
    const before = byId(p1);
    const changedRows = p2.nodes.filter((n) => n.type === 'stack' && before.get(n.id) !== n).map((n) => n.id);
    // after the Dense (64 → 640), the Tanh that follows it, and the next Dense (traced again: its input changed;
    // back to [B,64]); from there on the trace reuses the children's outputs, and the rows are the same objects
    const r = doc.root.id;
    expect(changedRows).toEqual([`s:${r}:0`, `s:${r}:1`, `s:${r}:2`]);
    const chip = (id: string) => { const n = p2.nodes.find((x) => x.id === id); return n?.type === 'stack' ? n.data.chips?.[0]?.text : undefined; };
    expect([chip(`s:${r}:0`), chip(`s:${r}:1`), chip(`s:${r}:2`)]).toEqual(['float32[B,640]', 'float32[B,640]', 'float32[B,64]']);
  });
});
