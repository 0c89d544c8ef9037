/**
 * The canvas as a projection of the store: from the document's stack trace,
 * the React Flow nodes (layers, containers, stack-chip rows, empty-slot
 * placeholders), the edges between them, and the graph elkjs lays out.
 *
 * A combinator is a container holding its children: a column for Serial-like
 * combinators (with a row of stack chips between consecutive children), side
 * by side lanes for Branch/Parallel and for layer arguments (each with the
 * lane's outputs below it). A macro (LSTM, TransformerLM, …) shows its
 * expansion's children. Collapsed combinators and leaves are compact boxes.
 *
 * Pure: no React, no DOM. Memoised per trace-node identity, so an edit
 * re-projects only the subtrees whose trace changed, and unchanged subtrees
 * keep their node objects (React Flow then skips re-rendering them).
 */
import type { Dim } from '../../../engine/core/dim';
import { type ShapeDtype, formatShapeDtype } from '../../../engine/core/shape';
import type { ErrorCode } from '../../../engine/core/errors';
import type { StrataDocument } from '../../../engine/document/schema';
import { walkNodes } from '../../../engine/document/schema';
import { type DocumentTrace, type NodeTrace, childPath, edgeStacks, visibleChildren } from '../../../engine/document/trace';
import { type PyValue, isInitCall, isLambda } from '../../../engine/layers/def';
import type { Place } from '../state/edits';
import { PALETTE_SIZE, flowColours, leafColours, maskOf } from './colours';

// ---------------------------------------------------------------- data carried by React Flow nodes

export type Chip = { text: string; colour: number };

export type LayerData = {
  id: string;
  kind: string;
  /** index path from the root: child indices and slot names (`0.2.1`, `1.1.layer`); '' for the root */
  path: string;
  /** location as errors and probes name it (`Serial[1] > Residual[0]`) */
  loc: string;
  /** key parameters (`n_units=512`) */
  detail: string;
  /** `n_in → n_out` (null when unknown) */
  arity: string | null;
  /** trainable parameter count, formatted ('' when none) */
  params: string;
  error: { code: ErrorCode; message: string } | null;
  /** an error somewhere inside (shown on collapsed containers) */
  errorInside: boolean;
  /** the input is unknown (an error upstream) */
  unknown: boolean;
  /** drawn as a container holding its children */
  group: boolean;
  /** a combinator or macro that can collapse/expand */
  collapsible: boolean;
  collapsed: boolean;
  /** a node of the document (editable, draggable); false inside a macro's expansion */
  doc: boolean;
  /** the document node that stands for it (itself, or the macro whose expansion holds it) */
  owner: string;
  /** the layer argument it fills (`layer`, `shortcut`) */
  slot: string | null;
  /** Residual with the identity shortcut: drawn along the container's side */
  shortcut: boolean;
  /** children side by side (Branch, Parallel) */
  lanes: boolean;
};

export type StackData = {
  /** top first; null when the stack is unknown (an error upstream) */
  chips: Chip[] | null;
  /** the probe path of this edge (the layer before it, as `run` names it): '' for the model's output, null for its input */
  probe: string | null;
  role: 'input' | 'output' | 'edge';
};

export type EmptyData = {
  label: string;
  /** where a dropped layer goes (null when it is not editable: inside a macro) */
  place: Place | null;
  /** an optional layer argument left out (drawn lighter) */
  optional?: boolean;
};

export type ProjNode =
  | { id: string; type: 'layer' | 'box'; parentId?: string; data: LayerData; width?: number; height?: number }
  | { id: string; type: 'stack'; parentId?: string; data: StackData; width: number; height: number }
  | { id: string; type: 'empty'; parentId?: string; data: EmptyData; width: number; height: number };

export interface ProjEdge { id: string; source: string; target: string }

/** The part of ELK's JSON graph the canvas uses. */
export interface ElkInput {
  id: string;
  width?: number;
  height?: number;
  layoutOptions?: Record<string, string>;
  children?: ElkInput[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
}

/** A drawn container, for drop targets. */
export interface ContainerInfo {
  id: string;
  /** the document node whose own children/slots these are; null when not editable (a macro's expansion) */
  docId: string | null;
  lanes: boolean;
  /** visible children with index keys, in order (the document children when editable) */
  children: string[];
  /** layer arguments: the node filling each (or its empty placeholder) */
  slots: { name: string; id: string }[];
}

export interface Projection {
  nodes: ProjNode[];
  edges: ProjEdge[];
  elk: ElkInput;
  containers: Map<string, ContainerInfo>;
  /** every layer node's container (absent for the root) */
  parentOf: Map<string, string>;
}

export interface ProjectOptions {
  /** collapse state of nodes outside the document (in macro expansions), id → collapsed */
  localCollapsed?: ReadonlyMap<string, boolean>;
  /** after a run: stack rows are taller, with a statistics line under the chips */
  edgeStats?: boolean;
}

// ---------------------------------------------------------------- sizes (estimated; the CSS uses the same fonts)

export const SIZES = {
  titleChar: 9.2,
  smallChar: 6.6,
  monoChar: 6.7,
  leafH: 46,
  slotH: 14,
  lineH: 15,
  headerH: 28,
  chipH: 20,
  statsH: 13,
  chipPad: 12,
  chipGap: 4,
  pad: 12,
  shortcutPad: 30,
  minLeafW: 120,
  maxLeafW: 340,
};

export function chipWidth(text: string): number {
  return Math.ceil(text.length * SIZES.monoChar + SIZES.chipPad);
}

function rowWidth(chips: Chip[] | null): number {
  if (!chips) return chipWidth('?') + 24;
  if (chips.length === 0) return 84;
  return chips.reduce((w, c) => w + chipWidth(c.text), 0) + SIZES.chipGap * (chips.length - 1) + 4;
}

/**
 * Widths a little wider than the text needs, kept while the text still fits
 * (and is not much narrower): typing a parameter changes the text of many
 * chips and boxes by a character or two, and those then keep their size, so
 * the layout graph stays the same object and nothing moves (no new layout,
 * no React Flow update of every node after each keystroke).
 */
const SLACK = 14;
const roomyWidths = new Map<string, number>();
function roomy(key: string, need: number): number {
  const prev = roomyWidths.get(key);
  // kept unless much too wide: text that flips between two lengths as one types (a parameter shown or cut
  // short with …) keeps the wider size
  if (prev !== undefined && need <= prev && need >= prev - Math.max(3 * SLACK, prev * 0.3)) return prev;
  const w = Math.ceil((need + SLACK) / 8) * 8;
  if (roomyWidths.size > 50_000) roomyWidths.clear();
  roomyWidths.set(key, w);
  return w;
}

function leafWidth(d: LayerData): number {
  const w = Math.max(d.kind.length * SIZES.titleChar + (d.collapsible ? 22 : 0), subtitle(d).length * SIZES.smallChar,
    (d.collapsed ? collapsedLine(d).length : 0) * SIZES.smallChar, (d.slot?.length ?? 0) * SIZES.smallChar + 14,
    (d.error ? d.error.message.split('\n')[0].length : 0) * SIZES.smallChar);
  return Math.round(Math.min(SIZES.maxLeafW, Math.max(SIZES.minLeafW, roomy(`l:${d.id}`, w + 24))));
}

function headerWidth(d: LayerData): number {
  const right = [d.arity, d.params].filter(Boolean).join(' · ');
  return roomy(`h:${d.id}`, Math.round(d.kind.length * SIZES.titleChar + d.detail.length * SIZES.smallChar + right.length * SIZES.smallChar + 64));
}

/** The second line of a compact box: key parameters, `n_in → n_out` (not 1 → 1), parameter count; collapsed: key parameters only. */
export function subtitle(d: LayerData): string {
  if (d.collapsed) return d.detail;
  const parts: string[] = [];
  if (d.detail) parts.push(d.detail);
  if (d.arity && d.arity !== '1 → 1') parts.push(d.arity);
  if (d.params) parts.push(d.params);
  return parts.join(' · ');
}

/** The third line of a collapsed combinator: `n_in → n_out · parameters`. */
export function collapsedLine(d: LayerData): string {
  return [d.arity ?? '? → ?', d.params].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------- formatting

/** 16.4M, 262.7K, 1,024; symbolic counts as they are; '' for none. */
export function formatCount(n: Dim): string {
  if (typeof n === 'string') return n;
  if (n === 0) return '';
  const f = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)).replace(/\.(\d*?)0+$/, '.$1').replace(/\.$/, '');
  if (n >= 1e9) return `${f(n / 1e9)}B`;
  if (n >= 1e6) return `${f(n / 1e6)}M`;
  if (n >= 1e4) return `${f(n / 1e3)}K`;
  return n >= 1000 ? `${Math.floor(n / 1000)},${String(n % 1000).padStart(3, '0')}` : String(n);
}

function formatValue(v: PyValue): string | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const parts = v.map(formatValue);
    return parts.some((p) => p === null) ? null : `(${parts.join(',')})`;
  }
  if (isLambda(v)) return v.$lambda.length <= 24 ? v.$lambda : null;
  if (isInitCall(v)) return null;
  return null;
}

const HIDDEN_PARAMS = new Set(['name', 'names', 'message', 'specification', 'visible_layer', 'n_in']);

/** Key parameters as `k=v · k=v` (the explicitly set ones, without noise), at most ~46 characters. */
export function paramsDetail(params: Record<string, PyValue> | undefined, max = 46): string {
  if (!params) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (HIDDEN_PARAMS.has(k)) continue;
    if (k === 'mode' && v === 'train') continue;
    const s = formatValue(v);
    if (s === null) continue;
    parts.push(`${k}=${s}`);
  }
  let out = '';
  for (const p of parts) {
    const next = out ? `${out} · ${p}` : p;
    if (next.length > max) return out ? `${out} …` : `${p.slice(0, max - 1)}…`;
    out = next;
  }
  return out;
}

export function chipsOf(stack: readonly ShapeDtype[] | null, colours: readonly number[] | null | undefined): Chip[] | null {
  if (!stack) return null;
  return stack.map((s, k) => ({ text: formatShapeDtype(s), colour: colours?.[k] ?? k % PALETTE_SIZE }));
}

// ---------------------------------------------------------------- projection

interface Sub {
  nodes: ProjNode[];
  edges: ProjEdge[];
  elk: ElkInput;
  containers: ContainerInfo[];
  parents: [string, string][];
}

interface At {
  path: string;
  loc: string;
  parent: string | null;
  slot: string | null;
  ins: number[];
  alive: number;
  /** the document node standing for this one (the nearest document ancestor-or-self) */
  owner: string;
}

interface Ctx {
  docIds: Set<string>;
  local: ReadonlyMap<string, boolean>;
  localVersion: number;
  extraErrors: Map<string, { code: ErrorCode; message: string }>;
  extraKey: string;
  /** a stack row's height */
  rowH: number;
}

const subMemo = new WeakMap<NodeTrace, { at: At; localVersion: number; extraKey: string; rowH: number; sub: Sub }>();
const localVersions = new WeakMap<ReadonlyMap<string, boolean>, number>();
let nextLocalVersion = 1;
const EMPTY_LOCAL: ReadonlyMap<string, boolean> = new Map();
const docIdsMemo = new WeakMap<object, Set<string>>();

const LANES = new Set(['Branch', 'Parallel']);

function layoutOptions(top: number, right: number, minW: number): Record<string, string> {
  return {
    'elk.algorithm': 'layered',
    'elk.direction': 'DOWN',
    'elk.padding': `[top=${top},left=${SIZES.pad},bottom=${SIZES.pad},right=${right}]`,
    'elk.spacing.nodeNode': '18',
    'elk.layered.spacing.nodeNodeBetweenLayers': '8',
    'elk.layered.spacing.edgeNodeBetweenLayers': '4',
    'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
    'elk.layered.crossingMinimization.forceNodeModelOrder': 'true',
    'elk.nodeSize.constraints': 'MINIMUM_SIZE',
    'elk.nodeSize.minimum': `(${minW},40)`,
    'elk.contentAlignment': 'H_CENTER V_TOP',
  };
}

function projectTrace(t: NodeTrace, at: At, ctx: Ctx): Sub {
  const hit = subMemo.get(t);
  // compared field by field (no key string: a container of 2,000 children checks 2,000 of these per edit)
  if (hit && hit.localVersion === ctx.localVersion && hit.extraKey === ctx.extraKey && hit.rowH === ctx.rowH) {
    const h = hit.at;
    if (h.path === at.path && h.loc === at.loc && h.parent === at.parent && h.slot === at.slot && h.alive === at.alive
      && h.owner === at.owner && sameItems(h.ins, at.ins)) return hit.sub;
  }
  const sub = projectUncached(t, at, ctx);
  subMemo.set(t, { at, localVersion: ctx.localVersion, extraKey: ctx.extraKey, rowH: ctx.rowH, sub });
  return sub;
}

function projectUncached(t: NodeTrace, at: At, ctx: Ctx): Sub {
  const id = t.node.id;
  const isDoc = ctx.docIds.has(id);
  const def = t.analysis.def;
  const vis = visibleChildren(t);
  const slotSpecs = def ? def.args.filter((a) => a.arg === 'slot') : [];
  const takesLayers = !!def && def.args.some((a) => a.arg === 'layers');
  const collapsible = vis.length > 0 || takesLayers || slotSpecs.length > 0;
  const collapsed = collapsible && (isDoc ? !!t.node.collapsed : ctx.local.get(id) ?? !!t.expansion);
  const group = collapsible && !collapsed;
  const a = t.analysis.arity;
  const ownErr = t.errors[0] ?? ctx.extraErrors.get(id);
  const owner = isDoc ? id : at.owner;
  const owned = t.expansion ?? t;
  const data: LayerData = {
    id,
    kind: t.node.kind,
    path: at.path,
    loc: at.loc,
    detail: paramsDetail(t.node.params),
    arity: a && Number.isFinite(a.nIn) && Number.isFinite(a.nOut) ? `${a.nIn} → ${a.nOut}` : null,
    params: formatCount(t.params),
    error: ownErr ? { code: ownErr.code, message: t.errors.length > 1 ? t.errors.map((e) => e.message).join('\n') : ownErr.message } : null,
    errorInside: !ownErr && t.flagged && hasErrorInside(t),
    unknown: t.inputs === null && !ownErr,
    group,
    collapsible,
    collapsed,
    doc: isDoc,
    owner,
    slot: at.slot,
    shortcut: group && owned.node.kind === 'Residual' && !owned.slots.shortcut,
    lanes: group && LANES.has(owned.node.kind),
  };
  const self: ProjNode = { id, type: group ? 'box' : 'layer', data };
  if (at.parent) self.parentId = at.parent;
  const parents: [string, string][] = at.parent ? [[id, at.parent]] : [];

  if (!group) {
    self.width = leafWidth(data);
    self.height = SIZES.leafH + (at.slot ? SIZES.slotH : 0) + (collapsed && data.detail ? SIZES.lineH : 0) + (data.error ? SIZES.lineH : 0);
    return { nodes: [self], edges: [], elk: intern({ id, width: self.width, height: self.height }), containers: [], parents };
  }

  // ------------------------------------------------ a container
  const flow = flowColours(owned, at.ins, at.alive);
  // editable: the visible children are this document node's own children and slots
  const docKids = t.node.children ?? [];
  const indexKids = vis.filter((v) => typeof v.key === 'number');
  const editable = isDoc && (!t.expansion || (indexKids.length === docKids.length && indexKids.every((v, i) => v.trace.node.id === docKids[i].id)));
  const info: ContainerInfo = { id, docId: editable ? id : null, lanes: data.lanes, children: [], slots: [] };

  const nodes: ProjNode[] = [self];
  const edges: ProjEdge[] = [];
  const elkKids: ElkInput[] = [];
  const elkEdges: NonNullable<ElkInput['edges']> = [];
  const containers: ContainerInfo[] = [info];
  const parts = partsOf(id);
  let nLinks = 0;
  const link = (s: string, d: string, drawn = true): void => {
    // the k-th link of this container as last time: its objects again (no id string built and looked up)
    let l = parts.links[nLinks];
    if (!l || l.s !== s || l.d !== d) {
      const eid = `${s}->${d}`;
      l = { s, d, edge: edgeOf(eid, s, d), elk: { id: eid, sources: [s], targets: [d] } };
      parts.links[nLinks] = l;
    }
    nLinks++;
    if (drawn) edges.push(l.edge);
    elkEdges.push(l.elk);
  };
  const child = (v: (typeof vis)[number]): string => {
    const kid = flow.kids.get(v.key);
    const m = Math.max(0, Math.min(Number(v.trace.analysis.arity?.nIn) || 0, 1024));
    const sub = projectTrace(v.trace, {
      path: at.path === '' ? String(v.key) : `${at.path}.${v.key}`,
      loc: childPath(at.loc, t.node.kind, v.key),
      parent: id,
      slot: typeof v.key === 'string' ? v.key : null,
      ins: kid?.ins ?? leafColours([], m, 0),
      alive: kid?.alive ?? 0,
      owner,
    }, ctx);
    nodes.push(...sub.nodes);
    edges.push(...sub.edges);
    containers.push(...sub.containers);
    parents.push(...sub.parents);
    elkKids.push(sub.elk);
    return v.trace.node.id;
  };
  const afterRow = (v: (typeof vis)[number], cid: string): string => {
    const s = edgeStacks(v.owner, v.key, v.trace);
    const colours = typeof v.key === 'number' && v.owner.stacks ? flow.stacks?.[v.key + 1] : flow.kids.get(v.key)?.out;
    const r = edgeRow(parts.rows, v.key, id, at.loc, t.node.kind, s.after, colours, ctx.rowH);
    nodes.push(r.node);
    elkKids.push(r.elk);
    link(cid, r.node.id);
    return r.node.id;
  };
  const empty = (eid: string, label: string, place: Place | null, optional = false): string => {
    const n: ProjNode = optional
      ? { id: eid, type: 'empty', parentId: id, data: { label, place, optional }, width: 130, height: 26 }
      : { id: eid, type: 'empty', parentId: id, data: { label, place }, width: 170, height: 34 };
    nodes.push(n);
    elkKids.push(intern({ id: eid, width: n.width, height: n.height }));
    return eid;
  };

  // lanes: the column (or each Branch/Parallel lane) and each layer argument start side by side under a fork
  const laneHeads: string[] = [];
  if (data.lanes) {
    for (const v of indexKids) {
      const cid = child(v);
      info.children.push(cid);
      laneHeads.push(cid);
      afterRow(v, cid);
    }
    if (indexKids.length === 0) laneHeads.push(empty(`e:${id}`, 'drop a lane here', editable ? { parent: id, children: 0 } : null));
  } else if (indexKids.length > 0) {
    let prev: string | null = null;
    indexKids.forEach((v, i) => {
      const cid = child(v);
      info.children.push(cid);
      if (prev) link(prev, cid, true);
      else laneHeads.push(cid);
      if (i < indexKids.length - 1) prev = afterRow(v, cid);
    });
  } else if (takesLayers && (!t.expansion || editable)) {
    const label = owned.node.kind === 'Serial' ? (editable ? 'pass-through · drop layers' : 'pass-through') : editable ? 'drop layers here' : 'empty';
    laneHeads.push(empty(`e:${id}`, label, editable ? { parent: id, children: 0 } : null));
  }
  for (const v of vis) {
    if (typeof v.key !== 'string') continue;
    const cid = child(v);
    info.slots.push({ name: v.key, id: cid });
    laneHeads.push(cid);
    afterRow(v, cid);
  }
  // layer arguments not filled yet (optional ones too, drawn lighter: a drop there sets them)
  if (!t.expansion) {
    for (const s of slotSpecs) {
      if (s.arg !== 'slot' || t.node.slots?.[s.name]) continue;
      const optional = !!(s.optional || s.defaultKind);
      // an optional argument is offered only where a drop can set it (not inside a macro's expansion)
      if (optional && !editable) continue;
      const eid = empty(`e:${id}:${s.name}`, optional ? `${s.name} (optional)` : `${s.name}: drop a layer`, editable ? { parent: id, slot: s.name } : null, optional);
      info.slots.push({ name: s.name, id: eid });
      laneHeads.push(eid);
    }
  }
  if (laneHeads.length > 1) {
    const fork = `f:${id}`;
    elkKids.unshift(intern({ id: fork, width: 1, height: 1 }));
    for (const h of laneHeads) link(fork, h, false);
  }
  parts.links.length = nLinks;
  const elk = intern({
    id,
    layoutOptions: layoutOptions(SIZES.headerH + 8, data.shortcut ? SIZES.shortcutPad : SIZES.pad, headerWidth(data)),
    children: elkKids,
    edges: elkEdges,
  });
  return { nodes, edges, elk, containers, parents };
}

type StackNode = Extract<ProjNode, { type: 'stack' }>;
interface RowMemo {
  loc: string; kind: string; stack: readonly ShapeDtype[] | null; colours: readonly number[] | null | undefined; h: number;
  node: StackNode; elk: ElkInput;
}
interface LinkMemo { s: string; d: string; edge: ProjEdge; elk: { id: string; sources: string[]; targets: string[] } }
/** What a container made last time: its rows by child key, its links in order. */
interface Parts { rows: Map<number | string, RowMemo>; links: LinkMemo[] }
const partsMemo = new Map<string, Parts>();

function partsOf(id: string): Parts {
  let p = partsMemo.get(id);
  if (!p) {
    if (partsMemo.size > 20_000) partsMemo.clear();
    p = { rows: new Map(), links: [] };
    partsMemo.set(id, p);
  }
  return p;
}

function sameItems<T>(a: readonly T[] | null | undefined, b: readonly T[] | null | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The chip row after a child: the same objects while its stack holds the same
 * items (the trace reuses unchanged children's outputs), so a container
 * re-projected because one of its 2,000 children changed re-makes one or two
 * rows, not 2,000.
 */
function edgeRow(
  rows: Parts['rows'], key: number | string, parent: string, loc: string, kind: string,
  stack: readonly ShapeDtype[] | null, colours: readonly number[] | null | undefined, h: number,
): RowMemo {
  const m = rows.get(key);
  if (m && m.loc === loc && m.kind === kind && m.h === h && sameItems(m.stack, stack) && sameItems(m.colours, colours)) return m;
  const rid = `s:${parent}:${key}`;
  const chips = chipsOf(stack, colours);
  const node: StackNode = {
    id: rid, type: 'stack', parentId: parent, data: { chips, probe: childPath(loc, kind, key), role: 'edge' },
    width: roomy(rid, Math.ceil(rowWidth(chips))), height: h,
  };
  const r: RowMemo = { loc, kind, stack, colours, h, node, elk: intern({ id: rid, width: node.width, height: node.height }) };
  rows.set(key, r);
  return r;
}

/**
 * The last layout-graph node made for each id: a new one equal to it (same
 * size, options, and the very same children and edges) is replaced by it, so
 * an edit that changes no size leaves the whole graph the same object and no
 * layout is asked for.
 */
const interned = new Map<string, ElkInput>();

const edgeObjects = new Map<string, ProjEdge>();

/** One edge object per id (React Flow re-indexes edges that are new objects). */
function edgeOf(id: string, source: string, target: string): ProjEdge {
  let e = edgeObjects.get(id);
  if (!e) {
    if (edgeObjects.size > 50_000) edgeObjects.clear();
    e = { id, source, target };
    edgeObjects.set(id, e);
  }
  return e;
}

function sameOptions(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function intern(e: ElkInput): ElkInput {
  const prev = interned.get(e.id);
  if (prev && prev.width === e.width && prev.height === e.height && sameOptions(prev.layoutOptions, e.layoutOptions)
    && (prev.children?.length ?? -1) === (e.children?.length ?? -1) && (prev.children ?? []).every((c, i) => c === e.children![i])
    && (prev.edges?.length ?? -1) === (e.edges?.length ?? -1) && (prev.edges ?? []).every((x, i) => x.id === e.edges![i].id)) {
    return prev;
  }
  if (interned.size > 50_000) interned.clear();
  interned.set(e.id, e);
  return e;
}

function hasErrorInside(t: NodeTrace): boolean {
  for (const { trace } of visibleChildren(t)) {
    if (!trace.flagged) continue;
    if (trace.errors.length > 0 || hasErrorInside(trace)) return true;
  }
  return false;
}

function docIdsOf(doc: StrataDocument): Set<string> {
  let s = docIdsMemo.get(doc.root);
  if (!s) {
    s = new Set();
    const ids = s;
    walkNodes(doc.root, (n) => { ids.add(n.id); });
    docIdsMemo.set(doc.root, s);
  }
  return s;
}

const modelRows = new Map<string, { key: string; node: Extract<ProjNode, { type: 'stack' }> }>();

/** The model's input or output row (the same object while its chips are the same). */
function modelRow(id: string, chips: Chip[] | null, probe: string | null, role: StackData['role'], height: number): Extract<ProjNode, { type: 'stack' }> {
  const key = `${height}|${JSON.stringify(chips)}`;
  const hit = modelRows.get(id);
  if (hit && hit.key === key) return hit.node;
  const node = { id, type: 'stack' as const, data: { chips, probe, role }, width: roomy(id, Math.ceil(rowWidth(chips))), height };
  modelRows.set(id, { key, node });
  return node;
}

const TOP_OPTIONS = { ...layoutOptions(0, 0, 0), 'elk.padding': '[top=0,left=0,bottom=0,right=0]' };

/** The canvas for a document and its trace. */
export function projectDocument(doc: StrataDocument, trace: DocumentTrace, opts: ProjectOptions = {}): Projection {
  const local = opts.localCollapsed ?? EMPTY_LOCAL;
  let lv = localVersions.get(local);
  if (lv === undefined) { lv = nextLocalVersion++; localVersions.set(local, lv); }
  // errors the trace reports on the document but not on the node (weight-sharing references)
  const extraErrors = new Map<string, { code: ErrorCode; message: string }>();
  for (const e of trace.errors) if (e.code === 'bad_reference' && e.nodeId && !extraErrors.has(e.nodeId)) extraErrors.set(e.nodeId, { code: e.code, message: e.message });
  const ctx: Ctx = {
    docIds: docIdsOf(doc), local, localVersion: lv, extraErrors,
    extraKey: [...extraErrors].map(([k, v]) => `${k}:${v.message}`).join(';'),
    rowH: SIZES.chipH + (opts.edgeStats ? SIZES.statsH : 0),
  };
  const root = trace.root;
  const inCols = trace.input.map((_, i) => i % PALETTE_SIZE);
  const nIn = root.analysis.arity?.nIn ?? trace.input.length;
  const ins = inCols.slice(0, nIn);
  const alive = maskOf(inCols.slice(nIn));
  const sub = projectTrace(root, { path: '', loc: '', parent: null, slot: null, ins, alive, owner: root.node.id }, ctx);
  const outCols = [...flowColours(root, ins, alive).out, ...inCols.slice(nIn)];

  const inRow = modelRow('stack:input', chipsOf(trace.input, inCols), null, 'input', SIZES.chipH);
  const outRow = modelRow('stack:output', chipsOf(trace.output, outCols), '', 'output', ctx.rowH);
  const rid = root.node.id;
  const edges: ProjEdge[] = [edgeOf(`${inRow.id}->${rid}`, inRow.id, rid), ...sub.edges, edgeOf(`${rid}->${outRow.id}`, rid, outRow.id)];
  // the same graph object while nothing that is laid out changed (the layout is not asked again)
  const elk = intern({
    id: 'canvas',
    layoutOptions: TOP_OPTIONS,
    children: [intern({ id: inRow.id, width: inRow.width, height: inRow.height }), sub.elk, intern({ id: outRow.id, width: outRow.width, height: outRow.height })],
    edges: [
      { id: `${inRow.id}->${rid}`, sources: [inRow.id], targets: [rid] },
      { id: `${rid}->${outRow.id}`, sources: [rid], targets: [outRow.id] },
    ],
  });
  const containers = new Map<string, ContainerInfo>();
  for (const c of sub.containers) containers.set(c.id, c);
  return { nodes: [inRow, ...sub.nodes, outRow], edges, elk, containers, parentOf: new Map(sub.parents) };
}

