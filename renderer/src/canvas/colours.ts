/**
 * Colours of stack items: a value keeps its colour while it moves down the
 * stack (through Select, Swap, Dup, Branch lanes that pass it through, and the
 * layers of a Serial that consume it and put their result in its place), so a
 * reader can follow one tensor. The trace is walked with the stack
 * discipline, carrying a colour per stack item:
 *
 * - Select/Swap/Dup/Drop move colours around (the same tensor, the same colour);
 * - a layer's output k takes the colour of its input k when that input is
 *   consumed (alive nowhere else), otherwise the lowest colour not in use;
 * - a Branch lane's inputs are alive in the other lanes, a Serial's rest of
 *   the stack is alive below the layer it runs.
 *
 * Colours are small integers (an index into the palette); `alive` is a bit
 * mask of colours in use outside the node. Memoised per trace node identity.
 */
import type { NodeTrace } from '../../../engine/document/trace';

export const PALETTE_SIZE = 8;

export interface KidFlow {
  /** colours of the child's inputs, and the mask of colours alive outside it */
  ins: number[];
  alive: number;
  out: number[];
}

export interface Flow {
  out: number[];
  /** series containers: the colours of the local stack before child i (null where unknown) */
  stacks?: (number[] | null)[];
  /** the context each child / slot was walked with */
  kids: Map<number | string, KidFlow>;
}

const NO_KIDS: Map<number | string, KidFlow> = new Map();
const memo = new WeakMap<NodeTrace, { key: string; flow: Flow }>();

export function maskOf(cs: readonly number[]): number {
  let m = 0;
  for (const c of cs) m |= 1 << c;
  return m;
}

/** The lowest colour not in `used` (wraps around when all are in use). */
export function freshColour(used: number, salt = 0): number {
  for (let c = 0; c < PALETTE_SIZE; c++) if (!(used & (1 << c))) return c;
  return salt % PALETTE_SIZE;
}

/** A stack count fit to walk with (an empty Branch's arity is not a number). */
function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? Math.min(n, 1024) : 0;
}
function nIn(t: NodeTrace): number {
  return count(t.analysis.arity?.nIn ?? t.inputs?.length);
}
function nOut(t: NodeTrace): number {
  return count(t.analysis.arity?.nOut ?? t.outputs?.length);
}

/** Output k inherits input k when it is consumed; other outputs get unused colours. */
export function leafColours(ins: readonly number[], n: number, alive: number): number[] {
  n = count(n);
  let used = alive;
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const c = k < ins.length && !(used & (1 << ins[k])) ? ins[k] : freshColour(used | maskOf(ins), k);
    used |= 1 << c;
    out.push(c);
  }
  return out;
}

/** Walks `t` with inputs coloured `ins` while colours `alive` are in use elsewhere. */
export function flowColours(t: NodeTrace, ins: readonly number[], alive: number): Flow {
  const key = `${ins.join(',')}|${alive}`;
  const hit = memo.get(t);
  if (hit && hit.key === key) return hit.flow;
  const flow = flowUncached(t, ins, alive);
  memo.set(t, { key, flow });
  return flow;
}

function series(t: NodeTrace, ins: readonly number[], alive: number, kids: Map<number | string, KidFlow>): (number[] | null)[] {
  let cur: number[] | null = [...ins];
  const stacks: (number[] | null)[] = [cur];
  t.children.forEach((c, i) => {
    const a = c.analysis.arity;
    if (!cur || !a || !Number.isInteger(a.nIn) || a.nIn < 0 || cur.length < a.nIn) {
      cur = null;
    } else {
      const rest = cur.slice(a.nIn);
      const cin = cur.slice(0, a.nIn);
      const calive = alive | maskOf(rest);
      const out = flowColours(c, cin, calive).out;
      kids.set(i, { ins: cin, alive: calive, out });
      cur = [...out, ...rest];
    }
    stacks.push(cur);
  });
  return stacks;
}

function flowUncached(t: NodeTrace, ins: readonly number[], alive: number): Flow {
  // a macro is a black box from outside (its expansion is walked with the same colours when drawn),
  // except one that only moves its inputs around (ReversibleSwap): then the same tensors keep their colours
  if (t.expansion) {
    const inner = flowColours(t.expansion, ins, alive).out;
    const routing = inner.length === nOut(t) && inner.every((c) => ins.includes(c)) && new Set(inner).size === inner.length;
    return { out: routing ? inner : leafColours(ins, nOut(t), alive), kids: NO_KIDS };
  }
  const kind = t.node.kind;
  const n = nOut(t);
  if (t.analysis.def) {
    switch (kind) {
      case 'Select': {
        const idx: unknown = t.analysis.params.indices;
        if (Array.isArray(idx) && idx.every((i) => Number.isInteger(i) && i >= 0 && i < ins.length)) {
          return { out: (idx as number[]).map((i) => ins[i]), kids: NO_KIDS };
        }
        break;
      }
      case 'Swap':
        if (ins.length >= 2) return { out: [ins[1], ins[0]], kids: NO_KIDS };
        break;
      case 'Dup':
        if (ins.length >= 1) return { out: [ins[0], ins[0]], kids: NO_KIDS };
        break;
      case 'Drop':
        return { out: [], kids: NO_KIDS };
    }
  }
  const hasKids = t.children.length > 0 || Object.values(t.slots).some((s) => s);
  // an empty Serial is the identity (a `None` lane of a Branch)
  if (!hasKids && !(t.stacks && kind === 'Serial')) return { out: leafColours(ins, n, alive), kids: NO_KIDS };

  const kids = new Map<number | string, KidFlow>();
  const slotKids = (extraAlive: number): void => {
    for (const [k, c] of Object.entries(t.slots)) {
      if (!c) continue;
      const m = nIn(c);
      const cin = m <= ins.length ? ins.slice(0, m) : leafColours([], m, alive | maskOf(ins));
      const calive = alive | extraAlive | maskOf(ins.slice(m));
      kids.set(k, { ins: cin, alive: calive, out: flowColours(c, cin, calive).out });
    }
  };

  if (t.stacks) {
    const serial = kind === 'Serial';
    // a combinator other than Serial may use its inputs again after the series (Residual's shortcut)
    const stacks = series(t, ins, serial ? alive : alive | maskOf(ins), kids);
    slotKids(0);
    const last = stacks[stacks.length - 1];
    const out = serial && last && last.length === n ? last : leafColours(ins, n, alive);
    return { out, stacks, kids };
  }

  if (kind === 'Branch' || kind === 'Parallel') {
    const outs: number[] = [];
    let off = 0;
    const lanesIns = t.children.map((c) => {
      const m = nIn(c);
      const r = kind === 'Branch' ? [0, m] : [off, off + m];
      off += m;
      return r;
    });
    t.children.forEach((c, j) => {
      const [from, to] = lanesIns[j];
      const cin = ins.slice(from, to);
      let others = 0;
      lanesIns.forEach(([f2, t2], k) => { if (k !== j) others |= maskOf(ins.slice(f2, t2)); });
      const calive = alive | others | maskOf(outs);
      const out = flowColours(c, cin, calive).out;
      kids.set(j, { ins: cin, alive: calive, out });
      outs.push(...out);
    });
    slotKids(maskOf(outs));
    return { out: outs.length === n ? outs : leafColours(ins, n, alive), kids };
  }

  // other combinators (Scan, Cond, Cache, …): their children see the inputs, the outputs are new
  t.children.forEach((c, i) => {
    const m = nIn(c);
    const cin = m <= ins.length ? ins.slice(0, m) : leafColours([], m, alive | maskOf(ins));
    const calive = alive | maskOf(ins.slice(m));
    kids.set(i, { ins: cin, alive: calive, out: flowColours(c, cin, calive).out });
  });
  slotKids(0);
  return { out: leafColours(ins, n, alive), kids };
}
