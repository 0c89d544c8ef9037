/**
 * A plain layout of the canvas graph, for graphs too large for elkjs (its
 * layered algorithm recurses along a long chain and overflows a worker's
 * stack at a few thousand nodes) or when elkjs fails: each container's
 * children form chains (a column; Branch lanes and layer arguments side by
 * side, started by a fork node), each chain stacked top-down and centred.
 * Linear time; the same ELK JSON in and out (x, y, width, height filled in).
 */
import type { ElkInput } from './project';

export interface Placed extends ElkInput {
  x?: number;
  y?: number;
  children?: Placed[];
}

const GAP_Y = 8;
const GAP_X = 18;

function padding(g: ElkInput): { top: number; left: number; bottom: number; right: number } {
  const s = g.layoutOptions?.['elk.padding'] ?? '';
  const get = (k: string): number => Number(new RegExp(`${k}=(-?[\\d.]+)`).exec(s)?.[1] ?? 12);
  return { top: get('top'), left: get('left'), bottom: get('bottom'), right: get('right') };
}

function minimum(g: ElkInput): { w: number; h: number } {
  const m = /\((-?[\d.]+),(-?[\d.]+)\)/.exec(g.layoutOptions?.['elk.nodeSize.minimum'] ?? '');
  return m ? { w: Number(m[1]), h: Number(m[2]) } : { w: 0, h: 0 };
}

/** Counts the nodes of a graph (to choose the layout). */
export function countNodes(g: ElkInput): number {
  let n = 0;
  const stack: ElkInput[] = [g];
  while (stack.length) {
    const x = stack.pop()!;
    n++;
    if (x.children) stack.push(...x.children);
  }
  return n;
}

/** Lays out `g` in place (iteratively over containers, children first) and returns it. */
export function boxLayout(g: ElkInput): Placed {
  // post-order without recursion: containers are sized after their children
  const order: ElkInput[] = [];
  const stack: ElkInput[] = [g];
  while (stack.length) {
    const x = stack.pop()!;
    order.push(x);
    if (x.children) for (const c of x.children) if (c.children) stack.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) layoutContainer(order[i] as Placed);
  const root = g as Placed;
  root.x = 0;
  root.y = 0;
  return root;
}

function layoutContainer(g: Placed): void {
  const kids = (g.children ?? []) as Placed[];
  const byId = new Map(kids.map((k) => [k.id, k]));
  const next = new Map<string, string>();
  const hasIn = new Set<string>();
  const fork = kids.find((k) => k.id.startsWith('f:'));
  const heads: string[] = [];
  for (const e of g.edges ?? []) {
    const s = e.sources[0], t = e.targets[0];
    if (fork && s === fork.id) { heads.push(t); continue; }
    if (!next.has(s)) next.set(s, t);
    hasIn.add(t);
  }
  if (!fork) for (const k of kids) if (!hasIn.has(k.id)) heads.push(k.id);
  // chains, in the children's order; anything not reached stands alone
  const seen = new Set<string>(fork ? [fork.id] : []);
  const chains: Placed[][] = [];
  const order = new Map(kids.map((k, i) => [k.id, i]));
  heads.sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  for (const h of heads) {
    const chain: Placed[] = [];
    for (let id: string | undefined = h; id && !seen.has(id); id = next.get(id)) {
      const n = byId.get(id);
      if (!n) break;
      seen.add(id);
      chain.push(n);
    }
    if (chain.length) chains.push(chain);
  }
  for (const k of kids) if (!seen.has(k.id)) { seen.add(k.id); chains.push([k]); }

  const pad = padding(g);
  let x = pad.left;
  let height = 0;
  for (const chain of chains) {
    const w = Math.max(...chain.map((n) => n.width ?? 0));
    let y = pad.top;
    for (const n of chain) {
      n.x = x + (w - (n.width ?? 0)) / 2;
      n.y = y;
      y += (n.height ?? 0) + GAP_Y;
    }
    height = Math.max(height, y - GAP_Y - pad.top);
    x += w + GAP_X;
  }
  if (fork) { fork.x = pad.left; fork.y = pad.top; fork.width = 0; fork.height = 0; }
  const inner = chains.length ? x - GAP_X - pad.left : 0;
  const min = minimum(g);
  g.width = Math.max(inner + pad.left + pad.right, min.w);
  g.height = Math.max(height + pad.top + pad.bottom, min.h);
  // centre the chains when the minimum width is wider than they are
  const extra = g.width - (inner + pad.left + pad.right);
  if (extra > 0) for (const k of kids) k.x = (k.x ?? 0) + extra / 2;
}

/** Each node's rectangle relative to its container, and its absolute x, y: [x, y, w, h, ax, ay]. */
export function rectsOf(root: Placed): Record<string, [number, number, number, number, number, number]> {
  const out: Record<string, [number, number, number, number, number, number]> = {};
  const stack: [Placed, number, number][] = [[root, 0, 0]];
  while (stack.length) {
    const [n, ox, oy] = stack.pop()!;
    for (const c of n.children ?? []) {
      const x = c.x ?? 0, y = c.y ?? 0;
      out[c.id] = [x, y, c.width ?? 0, c.height ?? 0, ox + x, oy + y];
      if (c.children) stack.push([c, ox + x, oy + y]);
    }
  }
  return out;
}
