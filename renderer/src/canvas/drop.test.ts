/** Drop targets and insertion places, on a real projection laid out by the box layout (no browser). */
import { describe, expect, it } from 'vitest';
import type { StrataDocument } from '../../../engine/document/schema';
import { traceDocument } from '../../../engine/document/trace';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { applyEdit } from '../state/edits';
import { type Placed, boxLayout } from './boxLayout';
import { type Rect, dropTargetAt } from './drop';
import { insertEdit, insertionAtSelection, isNoopMove, newNode } from './insert';
import { type Projection, SIZES, projectDocument } from './project';
import { createStrataStore } from '../state/store';

function laidOut(doc: StrataDocument): { proj: Projection; rects: Map<string, Rect> } {
  const proj = projectDocument(doc, traceDocument(doc));
  const placed = boxLayout(structuredClone(proj.elk));
  const rects = new Map<string, Rect>();
  const walk = (g: Placed, ox: number, oy: number): void => {
    for (const c of g.children ?? []) {
      const r = { x: ox + (c.x ?? 0), y: oy + (c.y ?? 0), w: c.width ?? 0, h: c.height ?? 0 };
      rects.set(c.id, r);
      walk(c, r.x, r.y);
    }
  };
  walk(placed, 0, 0);
  return { proj, rects };
}
const centre = (r: Rect): { x: number; y: number } => ({ x: r.x + r.w / 2, y: r.y + r.h / 2 });

describe('drop targets', () => {
  const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Dense(8), tl.Relu(), tl.Branch(tl.Dense(4), tl.Dense(4)), tl.Concatenate())');
  const { proj, rects } = laidOut(doc);
  const at = (x: number, y: number, exclude?: string) => dropTargetAt({ x, y }, proj, rects, 'n1', exclude);

  it('goes between two layers of a Serial, with a line across the column', () => {
    const dense = rects.get('n2')!, relu = rects.get('n3')!;
    const t = at(centre(relu).x, relu.y - 2);
    expect(t).toMatchObject({ place: { parent: 'n1', children: 1 } });
    if (!t || !('place' in t)) throw new Error('no place');
    expect(t.line.y1).toBeGreaterThan(dense.y + dense.h);
    expect(t.line.y1).toBeLessThan(relu.y);
    expect(t.line.y1).toBe(t.line.y2);
    expect(at(centre(dense).x, dense.y + 5)).toMatchObject({ place: { parent: 'n1', children: 0 } });
    expect(at(centre(dense).x, dense.y + dense.h - 5)).toMatchObject({ place: { parent: 'n1', children: 1 } });
  });

  it('adds a lane to a Branch, and places above and below the model at its ends', () => {
    const lane0 = rects.get('n5')!, lane1 = rects.get('n6')!;
    expect(at(lane0.x + 2, centre(lane0).y)).toMatchObject({ place: { parent: 'n4', children: 0 } });
    expect(at(lane1.x + lane1.w - 2, centre(lane1).y)).toMatchObject({ place: { parent: 'n4', children: 2 } });
    const root = rects.get('n1')!;
    expect(at(centre(root).x, root.y - 50)).toMatchObject({ place: { parent: 'n1', children: 0 } });
    expect(at(centre(root).x, root.y + root.h + 50)).toMatchObject({ place: { parent: 'n1', children: 4 } });
  });

  it('fills an empty combinator or layer argument, and never drops a node into itself', () => {
    const empty = applyEdit(doc, { type: 'insert', place: { parent: 'n1', children: 0 }, node: { id: 's', kind: 'Scan' } });
    const withSerial = applyEdit(empty, { type: 'insert', place: { parent: 'n1', children: 0 }, node: { id: 'e', kind: 'Serial', children: [] } });
    const l = laidOut(withSerial);
    const slot = l.rects.get('e:s:layer')!, box = l.rects.get('e:e')!;
    expect(dropTargetAt(centre(slot), l.proj, l.rects, 'n1')).toMatchObject({ place: { parent: 's', slot: 'layer' } });
    expect(dropTargetAt(centre(box), l.proj, l.rects, 'n1')).toMatchObject({ place: { parent: 'e', children: 0 } });
    // moving the Branch: pointing inside it means its parent's list, not itself
    const lane = rects.get('n5')!;
    expect(at(centre(lane).x, centre(lane).y, 'n4')).toMatchObject({ place: { parent: 'n1' } });
  });

  it('wraps a root that holds no list in a Serial', () => {
    const one = codeToDocument('# input: int32[B,L]\ntl.Embedding(100, 8)');
    const l = laidOut(one);
    const r = l.rects.get(one.root.id)!;
    expect(dropTargetAt({ x: centre(r).x, y: r.y + r.h + 30 }, l.proj, l.rects, one.root.id)).toMatchObject({ wrapRoot: 'after' });
    const e = insertEdit(one, { wrapRoot: 'after' }, { id: 'x', kind: 'Relu' });
    const next = applyEdit(one, e);
    expect(next.root.kind).toBe('Serial');
    expect(next.root.children!.map((c) => c.kind)).toEqual(['Embedding', 'Relu']);
  });
});

describe('layer arguments: replace a filled one, fill an optional one', () => {
  const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Residual(tl.Dense(16), shortcut=tl.Dense(16)), tl.Scan(tl.Serial(tl.Dense(8), tl.Relu()), n_carry=0), tl.Residual(tl.Relu()))');
  const { proj, rects } = laidOut(doc);
  const at = (p: { x: number; y: number }, exclude?: string) => dropTargetAt(p, proj, rects, 'n1', exclude);

  it('a drop on the layer filling an argument replaces it, and the indicator boxes that layer', () => {
    const shortcut = rects.get('n4')!;
    const t = at(centre(shortcut));
    expect(t).toMatchObject({ place: { parent: 'n2', slot: 'shortcut' }, replace: { id: 'n4', kind: 'Dense', box: shortcut } });
    // the Residual's own layers still take insertions between them
    const dense = rects.get('n3')!;
    expect(at({ x: centre(dense).x, y: dense.y + 3 })).toMatchObject({ place: { parent: 'n2', children: 0 } });
    expect(at({ x: centre(dense).x, y: dense.y + 3 })).not.toHaveProperty('replace');
  });

  it('a container filling an argument: its header replaces it, its body takes layers', () => {
    const body = rects.get('n6')!;
    expect(at({ x: centre(body).x, y: body.y + SIZES.headerH / 2 })).toMatchObject({ place: { parent: 'n5', slot: 'layer' }, replace: { id: 'n6', kind: 'Serial' } });
    const relu = rects.get('n8')!;
    expect(at({ x: centre(relu).x, y: relu.y + relu.h - 3 })).toMatchObject({ place: { parent: 'n6', children: 2 } });
  });

  it('replacing is one undoable edit', () => {
    const store = createStrataStore(doc);
    const t = at(centre(rects.get('n4')!));
    if (!t || !('place' in t)) throw new Error('no place');
    expect(store.getState().edit(insertEdit(store.getState().doc, { place: t.place }, { id: 'x', kind: 'Relu' }))).toBe(true);
    expect(store.getState().doc.root.children![0].slots).toEqual({ shortcut: { id: 'x', kind: 'Relu' } });
    store.getState().undo();
    expect(store.getState().doc).toEqual(doc);
  });

  it('moving the layer over its own argument replaces nothing; moving another one there replaces', () => {
    const self = at(centre(rects.get('n4')!), 'n4');
    expect(self).not.toHaveProperty('replace');
    expect(self).not.toMatchObject({ place: { slot: 'shortcut' } });
    const t = at(centre(rects.get('n4')!), 'n3');
    expect(t).toMatchObject({ place: { parent: 'n2', slot: 'shortcut' }, replace: { id: 'n4' } });
    if (!t || !('place' in t)) throw new Error('no place');
    const moved = applyEdit(doc, { type: 'move', id: 'n3', place: t.place });
    expect(moved.root.children![0]).toMatchObject({ children: [], slots: { shortcut: { id: 'n3', kind: 'Dense' } } });
  });

  it('an optional argument left out is a placeholder you can drop into', () => {
    const empties = proj.nodes.filter((n) => n.type === 'empty').map((n) => n.type === 'empty' && [n.id, n.data.label, n.data.optional]);
    expect(empties).toEqual([['e:n9:shortcut', 'shortcut (optional)', true]]);
    const ph = rects.get('e:n9:shortcut')!;
    expect(at(centre(ph))).toMatchObject({ place: { parent: 'n9', slot: 'shortcut' } });
    const filled = applyEdit(doc, insertEdit(doc, { place: { parent: 'n9', slot: 'shortcut' } }, { id: 'y', kind: 'Relu' }));
    expect(traceDocument(filled).errors).toEqual([]);
    expect(laidOut(filled).proj.nodes.some((n) => n.id === 'e:n9:shortcut')).toBe(false);
    // inside a macro's expansion nothing can be dropped: no placeholders for its Residuals' shortcuts
    const lm = codeToDocument('# input: int32[B,L]\nimport trax\ntrax.models.TransformerLM(100, d_model=8, d_ff=16, n_layers=1, n_heads=2)');
    const lmProj = projectDocument(lm, traceDocument(lm));
    expect(lmProj.nodes.some((n) => n.type === 'box' && n.data.kind === 'Residual')).toBe(true);
    expect(lmProj.nodes.filter((n) => n.type === 'empty')).toEqual([]);
  });
});

describe('insertion at the selection', () => {
  const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Dense(8), tl.Residual(tl.Relu()), tl.Scan(tl.Dense(8)))');
  it('goes after the selected node, into a selected combinator, or at the end', () => {
    expect(insertionAtSelection(doc, ['n2'])).toEqual({ place: { parent: 'n1', children: 1 } });
    expect(insertionAtSelection(doc, ['n3'])).toEqual({ place: { parent: 'n3', children: 1 } });
    expect(insertionAtSelection(doc, ['n4'])).toEqual({ place: { parent: 'n3', children: 1 } });
    // a layer argument holds one layer: after the combinator holding it
    expect(insertionAtSelection(doc, ['n6'])).toEqual({ place: { parent: 'n1', children: 3 } });
    expect(insertionAtSelection(doc, [])).toEqual({ place: { parent: 'n1', children: 3 } });
    const collapsed = applyEdit(doc, { type: 'setCollapsed', id: 'n3', collapsed: true });
    expect(insertionAtSelection(collapsed, ['n3'])).toEqual({ place: { parent: 'n1', children: 2 } });
  });
  it('makes new nodes with starting parameters', () => {
    const n = newNode('Dense');
    expect(n).toMatchObject({ kind: 'Dense', params: { n_units: 32 } });
    expect(newNode('Relu').params).toBeUndefined();
  });
  it('knows a move that changes nothing', () => {
    expect(isNoopMove(doc, 'n2', { parent: 'n1', children: 0 })).toBe(true);
    expect(isNoopMove(doc, 'n2', { parent: 'n1', children: 1 })).toBe(true);
    expect(isNoopMove(doc, 'n2', { parent: 'n1', children: 2 })).toBe(false);
    expect(isNoopMove(doc, 'n2', { parent: 'n3', children: 0 })).toBe(false);
  });
});
