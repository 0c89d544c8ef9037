/**
 * The canvas: the model tree as nested containers with the data stack on
 * every edge, laid out by elkjs in a worker. A projection of the store (see
 * project.ts); every change goes through `store.edit`.
 *
 * Window events it listens to: 'strata:fit' (fit the view), 'strata:quick-insert'
 * (open the search-and-insert box), 'strata:focus' / 'strata:focus-node'
 * ({ detail: { id } }: centre a node). When a stack chip is clicked it
 * dispatches 'strata:open-tensor' ({ detail: { path, index } }: the probe path
 * of that edge and the item's stack position) and 'strata:chip' ({ detail: ChipClick }).
 * The chips show the last run's statistics on hover (panels/runState).
 */
import { Component, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import {
  Background, BackgroundVariant, Controls, type Edge, type Node, type NodeChange, ReactFlow, ReactFlowProvider, ViewportPortal, useReactFlow,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { ProbeSummary } from '../../../engine/host/api';
import { type NodeTrace, visibleChildren } from '../../../engine/document/trace';
import type { StrataState } from '../state/store';
import { boxLayout } from './boxLayout';
import { type DropTarget, dropTargetAt } from './drop';
import { type InsertAt, insertEdit, insertionAtSelection, isNoopMove, newNode } from './insert';
import { type Layout, LayoutClient } from './layout';
import LayoutWorker from './layout.worker?worker';
import { type CanvasActions, type ChipClick, type ProbeStats, ActionsContext, NODE_TYPES, StatsContext } from './nodes';
import { type LayerData, type ProjEdge, type ProjNode, projectDocument } from './project';
import { QuickInsert } from './QuickInsert';
import { useRunResult } from '../panels/runState';
import './canvas.css';

export type { ChipClick, ProbeStats } from './nodes';

/** The MIME type the palette puts the dragged layer kind under. */
export const KIND_MIME = 'application/x-strata-kind';

export interface CanvasProps {
  store: StoreApi<StrataState>;
  /** statistics per probe path and stack index, after a run (shown on the chips) */
  probeStats?: ProbeStats;
  /** a stack chip was clicked (also dispatched as the window event 'strata:chip') */
  onChipClick?: (c: ChipClick) => void;
}

/** Asks the canvas to fit the whole model in view (what F does). */
export function fitCanvas(): void {
  window.dispatchEvent(new Event('strata:fit'));
}
/** Opens the search-and-insert box (what Ctrl+K does). */
export function openQuickInsert(): void {
  window.dispatchEvent(new Event('strata:quick-insert'));
}
/** Centres the canvas on a node (a diagnostics entry was clicked). */
export function focusCanvasNode(id: string): void {
  window.dispatchEvent(new CustomEvent('strata:focus-node', { detail: { id } }));
}

export function Canvas(props: CanvasProps): React.ReactElement {
  const doc = useStore(props.store, (s) => s.doc);
  return (
    <CanvasBoundary doc={doc}>
      <ReactFlowProvider>
        <CanvasInner {...props} />
      </ReactFlowProvider>
    </CanvasBoundary>
  );
}

/** A drawing failure (a bug) shows a message instead of blanking the app; the next document change retries. */
class CanvasBoundary extends Component<{ doc: unknown; children: React.ReactNode }, { error: Error | null; doc: unknown }> {
  override state: { error: Error | null; doc: unknown } = { error: null, doc: null };
  static getDerivedStateFromError(error: Error): Partial<{ error: Error }> {
    return { error };
  }
  static getDerivedStateFromProps(props: { doc: unknown }, state: { error: Error | null; doc: unknown }): Partial<{ error: Error | null; doc: unknown }> | null {
    if (props.doc !== state.doc) return { doc: props.doc, error: null };
    return null;
  }
  override render(): React.ReactNode {
    if (this.state.error) {
      return (
        <div className="strata-canvas strata-canvas-failed" data-testid="canvas-failed" role="alert">
          The canvas could not draw this model (a bug in Strata): {this.state.error.message}. The code view and the inspector still work; undo the last change to get the drawing back.
        </div>
      );
    }
    return this.props.children;
  }
}

type RFNode = Node<Record<string, unknown>>;
interface CacheEntry { src: ProjNode; json: string; x: number; y: number; w: number; h: number; hidden: boolean; sel: boolean; dragged: boolean; node: RFNode }

const EDGE_OPTS = { type: 'straight', selectable: false, focusable: false } as const;
const edgeMemo = new WeakMap<ProjEdge, Edge>();
const toEdge = (e: ProjEdge): Edge => {
  let r = edgeMemo.get(e);
  if (!r) { r = { ...e, ...EDGE_OPTS }; edgeMemo.set(e, r); }
  return r;
};

/** Above this many nodes, only those in view are rendered. */
const CULL_ABOVE = 400;

/** The ids from the root down to node `id` (as drawn: macros through their expansion); empty when absent. */
function drawnPath(root: NodeTrace, id: string): string[] {
  const path: string[] = [];
  const go = (t: NodeTrace): boolean => {
    path.push(t.node.id);
    if (t.node.id === id) return true;
    for (const v of visibleChildren(t)) if (go(v.trace)) return true;
    path.pop();
    return false;
  };
  return go(root) ? path : [];
}

function pointOf(e: MouseEvent | TouchEvent): { clientX: number; clientY: number } {
  if ('clientX' in e) return e;
  const t = e.changedTouches[0] ?? e.touches[0];
  return t ? { clientX: t.clientX, clientY: t.clientY } : { clientX: 0, clientY: 0 };
}

function isLayer(n: ProjNode): n is Extract<ProjNode, { type: 'layer' | 'box' }> {
  return n.type === 'layer' || n.type === 'box';
}

function CanvasInner({ store, probeStats, onChipClick }: CanvasProps): React.ReactElement {
  const rf = useReactFlow();
  const run = useRunResult();
  const runStats = useMemo(() => statsOf(run.probes), [run.probes]);
  const doc = useStore(store, (s) => s.doc);
  const trace = useStore(store, (s) => s.trace);
  const selection = useStore(store, (s) => s.selection);
  const [local, setLocal] = useState<ReadonlyMap<string, boolean>>(() => new Map());
  const proj = useMemo(() => projectDocument(doc, trace, { localCollapsed: local }), [doc, trace, local]);

  // ---------------------------------------------------------------- layout (worker)
  const [layout, setLayout] = useState<Layout | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const client = useRef<LayoutClient | null>(null);
  useEffect(() => {
    const c = new LayoutClient(() => new LayoutWorker(), (l) => { setLayout(l); setLayoutError(null); }, setLayoutError, boxLayout);
    client.current = c;
    return () => { c.dispose(); client.current = null; };
  }, []);
  useEffect(() => { client.current?.request(proj.elk); }, [proj.elk]);
  const layoutPending = !layout || layout.graph !== proj.elk;

  // a document opened (not edited): reset local state and fit the view again
  const needFit = useRef(true);
  useEffect(() => store.subscribe((s, prev) => {
    if (s.doc !== prev.doc && s.past.length === 0 && s.future.length === 0 && !s.dirty) {
      needFit.current = true;
      setLocal(new Map());
    }
  }), [store]);

  // ---------------------------------------------------------------- React Flow nodes
  const [drag, setDrag] = useState<{ id: string; x: number; y: number } | null>(null);
  const selected = useMemo(() => new Set(selection), [selection]);
  const cache = useRef(new Map<string, CacheEntry>());
  const nodes = useMemo(() => {
    const out: RFNode[] = [];
    const next = new Map<string, CacheEntry>();
    for (const n of proj.nodes) {
      const r = layout?.rects.get(n.id);
      const dragged = drag?.id === n.id;
      const x = dragged ? drag.x : r?.x ?? 0;
      const y = dragged ? drag.y : r?.y ?? 0;
      const w = r?.w ?? n.width ?? 100;
      const h = r?.h ?? n.height ?? 40;
      const hidden = !r;
      const sel = isLayer(n) && selected.has(n.id);
      const prev = cache.current.get(n.id);
      // a re-expanded macro gives new objects for unchanged nodes: equal content keeps the React Flow node
      // (its components then do not re-render)
      const json = prev && prev.src !== n ? JSON.stringify(n) : prev?.json ?? '';
      if (prev && (prev.src === n || prev.json === json) && prev.x === x && prev.y === y && prev.w === w && prev.h === h && prev.hidden === hidden && prev.sel === sel && prev.dragged === dragged) {
        out.push(prev.node);
        next.set(n.id, prev.src === n ? prev : { ...prev, src: n });
        continue;
      }
      const layer = isLayer(n);
      const node: RFNode = {
        id: n.id,
        type: n.type,
        position: { x, y },
        width: w,
        height: h,
        // the size is known (the layout set it): React Flow needs no measuring to drag or cull
        measured: { width: w, height: h },
        data: n.data as Record<string, unknown>,
        hidden,
        selected: sel,
        selectable: layer,
        draggable: layer && n.data.doc && n.data.path !== '',
        connectable: false,
        focusable: layer,
        deletable: false,
      };
      if (n.parentId) node.parentId = n.parentId;
      if (!layer) node.className = `strata-rf-${n.type}`;
      if (dragged) { node.zIndex = 5000; node.className = 'strata-rf-dragging'; }
      out.push(node);
      next.set(n.id, { src: n, json: JSON.stringify(n), x, y, w, h, hidden, sel, dragged, node });
    }
    cache.current = next;
    return out;
  }, [proj, layout, selected, drag]);
  // the same array while the edges are the same (React Flow re-indexes every edge when it changes)
  const lastEdges = useRef<Edge[]>([]);
  const edges = useMemo(() => {
    // an edge with the same id, ends and label as before is the same edge object
    const before = new Map(lastEdges.current.map((e) => [e.id, e]));
    const next = proj.edges.map((pe) => {
      const e = toEdge(pe);
      const old = before.get(e.id);
      return old && old.source === e.source && old.target === e.target && JSON.stringify(old) === JSON.stringify(e) ? old : e;
    });
    const prev = lastEdges.current;
    if (prev.length === next.length && prev.every((e, i) => e === next[i])) return prev;
    lastEdges.current = next;
    return next;
  }, [proj.edges]);

  // ---------------------------------------------------------------- view
  const wrapper = useRef<HTMLDivElement>(null);
  const [ownTestId, setOwnTestId] = useState(true);
  useLayoutEffect(() => {
    // the shell may already wrap the canvas in data-testid="canvas": one element with it, not two
    if (wrapper.current?.parentElement?.closest('[data-testid="canvas"]')) setOwnTestId(false);
  }, []);

  const fitInitial = useCallback((l: Layout) => {
    const el = wrapper.current;
    if (!el || l.width <= 0 || l.height <= 0) return;
    const W = el.clientWidth, H = el.clientHeight, pad = 32;
    const fit = Math.min((W - 2 * pad) / l.width, (H - 2 * pad) / l.height, 1);
    if (fit >= 0.45) {
      void rf.fitView({ padding: 0.06, maxZoom: 1 });
      return;
    }
    // too tall to read when fitted: the top of the model at a readable zoom, centred across
    const zoom = Math.max(0.45, Math.min((W - 2 * pad) / l.width, 1));
    void rf.setViewport({ x: (W - l.width * zoom) / 2, y: pad, zoom });
  }, [rf]);
  useEffect(() => {
    if (!layout || !needFit.current || layout.graph !== proj.elk) return;
    needFit.current = false;
    const raf = requestAnimationFrame(() => fitInitial(layout));
    return () => cancelAnimationFrame(raf);
  }, [layout, proj.elk, fitInitial]);

  useEffect(() => {
    const onFit = (): void => { void rf.fitView({ padding: 0.06, duration: 200 }); };
    const onFocus = (e: Event): void => {
      const id = (e as CustomEvent<{ id?: string }>).detail?.id;
      if (!id || !layout) return;
      // a node hidden in a collapsed container: the innermost container drawn
      const drawn = [...drawnPath(store.getState().trace.root, id)].reverse().find((x) => layout.abs.has(x));
      const r = drawn ? layout.abs.get(drawn) : undefined;
      if (r) void rf.setCenter(r.x + r.w / 2, r.y + Math.min(r.h, 200) / 2, { zoom: Math.max(rf.getZoom(), 0.8), duration: 200 });
    };
    window.addEventListener('strata:fit', onFit);
    window.addEventListener('strata:focus', onFocus);
    window.addEventListener('strata:focus-node', onFocus);
    return () => {
      window.removeEventListener('strata:fit', onFit);
      window.removeEventListener('strata:focus', onFocus);
      window.removeEventListener('strata:focus-node', onFocus);
    };
  }, [rf, layout, store]);

  // ---------------------------------------------------------------- editing
  const insertKind = useCallback((kind: string, at: InsertAt) => {
    const s = store.getState();
    const node = newNode(kind);
    if (s.edit(insertEdit(s.doc, at, node))) s.select([node.id]);
  }, [store]);

  const targetAt = useCallback((clientX: number, clientY: number, exclude?: string): DropTarget | null => {
    if (!layout) return null;
    const p = rf.screenToFlowPosition({ x: clientX, y: clientY });
    return dropTargetAt(p, proj, layout.abs, store.getState().doc.root.id, exclude);
  }, [rf, layout, proj, store]);

  const [drop, setDrop] = useState<DropTarget | null>(null);
  const dropFrame = useRef(0);
  const hasKind = (e: DragEvent): boolean => Array.from(e.dataTransfer.types).includes(KIND_MIME);
  const onDragOver = useCallback((e: DragEvent) => {
    if (!hasKind(e)) return;
    e.preventDefault();
    const ea = e.dataTransfer.effectAllowed;
    e.dataTransfer.dropEffect = ea === 'move' || ea === 'linkMove' ? 'move' : ea === 'link' ? 'link' : 'copy';
    const { clientX, clientY } = e;
    cancelAnimationFrame(dropFrame.current);
    dropFrame.current = requestAnimationFrame(() => setDrop(targetAt(clientX, clientY)));
  }, [targetAt]);
  const onDragLeave = useCallback((e: DragEvent) => {
    const to = e.relatedTarget as globalThis.Node | null;
    if (!to || !wrapper.current?.contains(to)) { cancelAnimationFrame(dropFrame.current); setDrop(null); }
  }, []);
  const onDrop = useCallback((e: DragEvent) => {
    const kind = e.dataTransfer.getData(KIND_MIME);
    cancelAnimationFrame(dropFrame.current);
    setDrop(null);
    if (!kind) return;
    e.preventDefault();
    const t = targetAt(e.clientX, e.clientY);
    insertKind(kind, t ? ('place' in t ? { place: t.place } : { wrapRoot: t.wrapRoot }) : insertionAtSelection(store.getState().doc, []));
  }, [targetAt, insertKind, store]);

  // moving a node by dragging it: it follows the pointer, the drop indicator shows where it lands
  const onNodesChange = useCallback((changes: NodeChange[]) => {
    for (const c of changes) {
      if (c.type === 'position' && c.dragging && c.position) setDrag({ id: c.id, x: c.position.x, y: c.position.y });
    }
  }, []);
  const onNodeDrag = useCallback((e: MouseEvent | TouchEvent, node: RFNode) => {
    const { clientX, clientY } = pointOf(e);
    const t = targetAt(clientX, clientY, node.id);
    setDrop(t && 'place' in t ? t : null);
  }, [targetAt]);
  const onNodeDragStop = useCallback((e: MouseEvent | TouchEvent, node: RFNode) => {
    const { clientX, clientY } = pointOf(e);
    const t = targetAt(clientX, clientY, node.id);
    setDrag(null);
    setDrop(null);
    if (!t || !('place' in t)) return;
    const s = store.getState();
    if (!isNoopMove(s.doc, node.id, t.place) && s.edit({ type: 'move', id: node.id, place: t.place })) s.select([node.id]);
  }, [targetAt, store]);

  // selection: a node inside a macro's expansion selects the macro (the document node)
  const onNodeClick = useCallback((e: ReactMouseEvent, node: RFNode) => {
    if (node.type !== 'layer' && node.type !== 'box') return;
    const d = node.data as LayerData;
    const id = d.doc ? d.id : d.owner;
    const s = store.getState();
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      s.select(s.selection.includes(id) ? s.selection.filter((x) => x !== id) : [...s.selection, id]);
    } else if (s.selection.length !== 1 || s.selection[0] !== id) {
      s.select([id]);
    }
  }, [store]);
  // a double-click on the pane inserts at the selection its first click just cleared
  const paneClick = useRef<{ at: number; selection: string[] }>({ at: 0, selection: [] });
  const onPaneClick = useCallback(() => {
    const s = store.getState();
    if (!s.selection.length) return;
    paneClick.current = { at: performance.now(), selection: s.selection };
    s.select([]);
  }, [store]);

  // search-and-insert
  const [quick, setQuick] = useState(false);
  useEffect(() => {
    const open = (): void => setQuick(true);
    window.addEventListener('strata:quick-insert', open);
    return () => window.removeEventListener('strata:quick-insert', open);
  }, []);
  const onDoubleClick = useCallback((e: ReactMouseEvent) => {
    const t = e.target as Element;
    if (t.closest('.react-flow__node, .strata-quick, .react-flow__controls, .react-flow__minimap')) return;
    const s = store.getState();
    const p = paneClick.current;
    if (!s.selection.length && p.selection.length && performance.now() - p.at < 800) s.select(p.selection);
    setQuick(true);
  }, [store]);
  const pickQuick = useCallback((kind: string) => {
    setQuick(false);
    insertKind(kind, insertionAtSelection(store.getState().doc, store.getState().selection));
  }, [insertKind, store]);
  const closeQuick = useCallback(() => setQuick(false), []);

  const actions = useMemo<CanvasActions>(() => ({
    toggleCollapsed: (d) => {
      if (d.doc) store.getState().edit({ type: 'setCollapsed', id: d.id, collapsed: !d.collapsed });
      else setLocal((m) => new Map(m).set(d.id, !d.collapsed));
    },
    chipClick: (c) => {
      onChipClick?.(c);
      window.dispatchEvent(new CustomEvent('strata:chip', { detail: c }));
      // the tensor view (the shell listens): the probe of this edge, the item's position in the stack
      if (c.probe !== null) window.dispatchEvent(new CustomEvent('strata:open-tensor', { detail: { path: c.probe, index: c.index } }));
    },
  }), [store, onChipClick]);

  const many = proj.nodes.length > CULL_ABOVE;
  return (
    <div ref={wrapper} className="strata-canvas" data-testid={ownTestId ? 'canvas' : undefined} data-layout={layoutPending ? 'pending' : 'ready'}
      onDragOver={onDragOver} onDragLeave={onDragLeave} onDrop={onDrop} onDoubleClick={onDoubleClick}>
      <ActionsContext.Provider value={actions}>
        <StatsContext.Provider value={probeStats ?? runStats}>
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            onNodesChange={onNodesChange}
            onNodeClick={onNodeClick}
            onPaneClick={onPaneClick}
            onNodeDrag={onNodeDrag}
            onNodeDragStop={onNodeDragStop}
            nodesConnectable={false}
            edgesFocusable={false}
            elementsSelectable
            elevateNodesOnSelect={false}
            elevateEdgesOnSelect={false}
            selectNodesOnDrag={false}
            deleteKeyCode={null}
            selectionKeyCode={null}
            multiSelectionKeyCode={null}
            disableKeyboardA11y
            zoomOnDoubleClick={false}
            onlyRenderVisibleElements={many}
            minZoom={0.02}
            maxZoom={2.5}
          >
            <Background variant={BackgroundVariant.Dots} gap={18} size={1} color="#dbe2ea" />
            <Controls showInteractive={false} position="bottom-left" />
            {drop && (
              <ViewportPortal>
                <div className={`strata-drop-line${drop.line.x1 === drop.line.x2 ? ' is-vertical' : ''}`} data-testid="drop-indicator"
                  style={{ left: Math.min(drop.line.x1, drop.line.x2), top: Math.min(drop.line.y1, drop.line.y2), width: Math.abs(drop.line.x2 - drop.line.x1) || undefined, height: Math.abs(drop.line.y2 - drop.line.y1) || undefined }} />
              </ViewportPortal>
            )}
          </ReactFlow>
        </StatsContext.Provider>
      </ActionsContext.Provider>
      {quick && (
        <QuickInsert onPick={pickQuick} onClose={closeQuick} where={selection.length ? 'after the selection' : 'at the end'} />
      )}
      {layoutPending && <div className="strata-layout-busy" aria-live="polite">laying out…</div>}
      {layoutError && <div className="strata-layout-error" role="status">layout failed: {layoutError}</div>}
    </div>
  );
}

function num(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3)));
}

/** Hover text for each probed stack item: its statistics. */
function statsOf(probes: readonly ProbeSummary[]): ProbeStats | undefined {
  if (!probes.length) return undefined;
  const m = new Map<string, (string | undefined)[]>();
  for (const p of probes) {
    const s = p.stats;
    let text = `${p.dtype}[${p.shape.join(',')}] · mean ${num(s.mean)} · std ${num(s.std)} · min ${num(s.min)} · max ${num(s.max)}`;
    if (s.nan || s.inf) text += ` · NaN ${s.nan} · Inf ${s.inf}`;
    const row = m.get(p.path) ?? [];
    row[p.index] = `${text} (click for the tensor view)`;
    m.set(p.path, row);
  }
  return m;
}
