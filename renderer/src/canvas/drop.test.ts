/** Drop targets and insertion places, on a real projection laid out by the box layout (no browser). */
import { describe, expect, it } from 'vitest';
import type { StrataDocument } from '../../../engine/document/schema';
import { traceDocument } from '../../../engine/document/trace';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { applyEdit } from '../state/edits';
import { type Placed, boxLayout } from './boxLayout';
import { type Rect, dropTargetAt } from './drop';
import { insertEdit, insertionAtSelection, isNoopMove, newNode } from './insert';
import { type Projection, projectDocument } from './project';

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
