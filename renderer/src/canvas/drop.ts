/**
 * Where a layer dropped at a point of the canvas goes: into the innermost
 * editable container under the pointer, between the two children around it
 * (or as a new lane of a Branch/Parallel), into an empty slot placeholder
 * (required or optional layer arguments), onto a filled layer argument
 * (Residual's shortcut, Scan's layer, Cond's branches), replacing the layer
 * there, or, when the model's root holds no list of layers, beside the root
 * (wrapped in a Serial). Pure geometry over the projection and the laid-out
 * rectangles.
 */
import type { Place } from '../state/edits';
import { type Projection, SIZES } from './project';

export interface Rect { x: number; y: number; w: number; h: number }
export interface Line { x1: number; y1: number; x2: number; y2: number }

export type DropTarget =
  /** `replace`: the place is a filled layer argument; the drop replaces the layer drawn in `box` */
  | { place: Place; line: Line; replace?: { id: string; kind: string; box: Rect } }
  /** the root takes no layers: wrap it in a Serial with the new layer before or after it */
  | { wrapRoot: 'before' | 'after'; line: Line };

interface P { x: number; y: number }

const inside = (p: P, r: Rect): boolean => p.x >= r.x && p.x <= r.x + r.w && p.y >= r.y && p.y <= r.y + r.h;
/** near the top or bottom border of a container: the pointer means "before/after it", not "inside" */
const EDGE = 10;

/**
 * The drop target at `p` (flow coordinates). `exclude` is a node being moved:
 * the drop never goes inside it.
 */
export function dropTargetAt(p: P, proj: Projection, rects: ReadonlyMap<string, Rect>, rootId: string, exclude?: string): DropTarget | null {
  const descend = (id: string): DropTarget | null => {
    const info = proj.containers.get(id);
    const box = rects.get(id);
    if (!info || !box) return null;
    // a child container or placeholder under the pointer
    for (const cid of [...info.children, ...info.slots.map((s) => s.id)]) {
      const r = rects.get(cid);
      if (!r || !inside(p, r)) continue;
      if (cid.startsWith('e:')) {
        const node = proj.nodes.find((n) => n.id === cid);
        if (node?.type === 'empty' && node.data.place) return { place: node.data.place, line: { x1: r.x + 6, y1: r.y + r.h / 2, x2: r.x + r.w - 6, y2: r.y + r.h / 2 } };
        return null;
      }
      const slot = info.slots.find((s) => s.id === cid);
      // a container filling a layer argument: its header band means the argument itself (replace it)
      const top = slot ? Math.max(EDGE, SIZES.headerH) : EDGE;
      if (cid !== exclude && proj.containers.has(cid) && p.y > r.y + top && p.y < r.y + r.h - EDGE) {
        const t = descend(cid);
        if (t) return t;
      }
      if (slot) {
        if (!info.docId || cid === exclude) return null;
        const node = proj.nodes.find((n) => n.id === cid);
        const kind = node && (node.type === 'layer' || node.type === 'box') ? node.data.kind : 'layer';
        return { place: { parent: info.docId, slot: slot.name }, line: { x1: r.x, y1: r.y, x2: r.x + r.w, y2: r.y }, replace: { id: cid, kind, box: r } };
      }
      break;
    }
    if (!info.docId) return null;
    const kids = info.children.map((c) => rects.get(c)).filter((r): r is Rect => !!r);
    if (kids.length !== info.children.length) return null;
    if (kids.length === 0) {
      const ph = rects.get(`e:${id}`);
      const y = ph ? ph.y + ph.h / 2 : box.y + box.h / 2;
      return { place: { parent: info.docId, children: 0 }, line: { x1: box.x + 8, y1: y, x2: box.x + box.w - 8, y2: y } };
    }
    if (info.lanes) {
      let i = 0;
      while (i < kids.length && kids[i].x + kids[i].w / 2 < p.x) i++;
      const x = i === 0 ? kids[0].x - 9 : i === kids.length ? kids[i - 1].x + kids[i - 1].w + 9 : (kids[i - 1].x + kids[i - 1].w + kids[i].x) / 2;
      const y1 = Math.min(...kids.map((k) => k.y));
      const y2 = Math.max(...kids.map((k) => k.y + k.h));
      return { place: { parent: info.docId, children: i }, line: { x1: x, y1, x2: x, y2 } };
    }
    let i = 0;
    while (i < kids.length && kids[i].y + kids[i].h / 2 < p.y) i++;
    const y = i === 0 ? kids[0].y - 5 : i === kids.length ? kids[i - 1].y + kids[i - 1].h + 5 : (kids[i - 1].y + kids[i - 1].h + kids[i].y) / 2;
    return { place: { parent: info.docId, children: i }, line: { x1: box.x + 8, y1: y, x2: box.x + box.w - 8, y2: y } };
  };

  const root = rects.get(rootId);
  if (!root) return null;
  const info = proj.containers.get(rootId);
  if (info?.docId) {
    // anywhere on the canvas: the root's list (above it: first, below it: last)
    const t = descend(rootId);
    if (t) return t;
    if (inside(p, root)) return null;
  } else if (inside(p, root)) {
    const t = info ? descend(rootId) : null;
    if (t) return t;
  }
  if (exclude) return null;
  const after = p.y > root.y + root.h / 2;
  const y = after ? root.y + root.h + 5 : root.y - 5;
  return { wrapRoot: after ? 'after' : 'before', line: { x1: root.x, y1: y, x2: root.x + root.w, y2: y } };
}
