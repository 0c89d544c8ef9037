/**
 * The canvas: the model tree as nested containers with the data stack on
 * every edge, laid out by elkjs in a worker. A projection of the store (see
 * project.ts); every change goes through `store.edit`.
 *
 * Kept fast on large models: React Flow's nodes carry where a node is, and
 * what it shows comes from NodeContents (contents.ts), so an edit that only
 * changes text (chips, parameters) does no React Flow work and re-renders only
 * the nodes whose content changed; nodes come with their handles, so only
 * those in view are ever drawn; a model not laid out yet is not handed to
 * React Flow at all; a document just opened is drawn in the task after the
 * one that opened it. bench/README.md has the measurements.
 *
 * Window events it listens to: 'strata:fit' (fit the view), 'strata:quick-insert'
 * (open the search-and-insert box), 'strata:focus' / 'strata:focus-node'
 * ({ detail: { id } }: centre a node). When a stack chip is clicked it
 * dispatches 'strata:open-tensor' ({ detail: { path, index } }: the probe path
 * of that edge and the item's stack position) and 'strata:chip' ({ detail: ChipClick }).
 * After a run, each chip shows its tensor's statistics under it and on hover (panels/runState).
 */
import { Component, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type DragEvent, type MouseEvent as ReactMouseEvent } from 'react';
import {
  Background, BackgroundVariant, Controls, type Edge, type Node, type NodeChange, type NodeHandle, Position, ReactFlow, ReactFlowProvider, ViewportPortal, useReactFlow,
} from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { StrataDocument } from '../../../engine/document/schema';
import { type DocumentTrace, type NodeTrace, visibleChildren } from '../../../engine/document/trace';
import type { StrataState } from '../state/store';
import { boxLayout } from './boxLayout';
import { type DropTarget, dropTargetAt } from './drop';
import { type InsertAt, insertEdit, insertionAtSelection, isNoopMove, newNode } from './insert';
import { ContentsContext, NodeContents } from './contents';
import { type Layout, LayoutClient } from './layout';
import LayoutWorker from './layout.worker?worker';
import { type CanvasActions, type ChipClick, type ProbeStats, ActionsContext, NODE_TYPES, StatsContext } from './nodes';
import { type LayerData, type ProjEdge, type ProjNode, projectDocument } from './project';
import { QuickInsert } from './QuickInsert';
import { edgeStats, useRunResult } from '../panels/runState';
import { DropIndicator } from './DropIndicator';
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
interface CacheEntry {
  type: ProjNode['type']; parentId: string | undefined; x: number; y: number; w: number; h: number;
  hidden: boolean; sel: boolean; dragged: boolean; draggable: boolean; node: RFNode;
}

/** The handles of a node w × h: the input at the top centre, the output at the bottom centre (as nodes.tsx draws them). */
function handlesOf(w: number, h: number): NodeHandle[] {
  return [
    { type: 'target', position: Position.Top, x: w / 2 - 0.5, y: -0.5, width: 1, height: 1 },
    { type: 'source', position: Position.Bottom, x: w / 2 - 0.5, y: h - 0.5, width: 1, height: 1 },
  ];
}

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
  const liveDoc = useStore(store, (s) => s.doc);
  const liveTrace = useStore(store, (s) => s.trace);
  const selection = useStore(store, (s) => s.selection);
  // The document drawn. An edit is drawn at once (in the keystroke's task); a document just opened is drawn in
  // the task after the one that opened it: opening a large model (its trace, its code) and projecting it are then
  // two shorter tasks, not one long one. Meanwhile the canvas says its layout is pending.
  const drawnDoc = useRef<{ doc: StrataDocument; trace: DocumentTrace } | null>(null);
  const [released, setReleased] = useState<StrataDocument | null>(null);
  const st = store.getState();
  const holding = st.doc === liveDoc && st.past.length === 0 && st.future.length === 0 && !st.dirty
    && released !== liveDoc && drawnDoc.current !== null && drawnDoc.current.doc !== liveDoc;
  const doc = holding ? drawnDoc.current!.doc : liveDoc;
  const trace = holding ? drawnDoc.current!.trace : liveTrace;
  useLayoutEffect(() => { drawnDoc.current = { doc, trace }; }, [doc, trace]);
  // a run's statistics (only while it describes this document: its probes are empty once stale)
  const runStats = useMemo(() => edgeStats(run.probes, trace), [run.probes, trace]);
  const stats = probeStats ?? runStats;
  const [local, setLocal] = useState<ReadonlyMap<string, boolean>>(() => new Map());
  // what each node shows: taken here, while rendering (the node components rendering next read it), and told to
  // the components of nodes React Flow does not re-render after the commit (see contents.ts)
  const contents = useMemo(() => new NodeContents(), []);
  const proj = useMemo(() => {
    const p = projectDocument(doc, trace, { localCollapsed: local, edgeStats: !!stats });
    contents.update(p.nodes);
    return p;
  }, [doc, trace, local, stats, contents]);
  useLayoutEffect(() => contents.flush(), [proj, contents]);

  // ---------------------------------------------------------------- layout (worker)
  const [layout, setLayout] = useState<Layout | null>(null);
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const client = useRef<LayoutClient | null>(null);
  useEffect(() => {
    const c = new LayoutClient(() => new LayoutWorker(), (l) => { setLayout(l); setLayoutError(null); }, setLayoutError, boxLayout);
    client.current = c;
    return () => { c.dispose(); client.current = null; };
  }, []);
  // asked after this task (posting the graph copies it): a keystroke's chips are drawn first, and graphs
  // replaced within the task are never sent
  useEffect(() => {
    const t = setTimeout(() => client.current?.request(proj.elk), 0);
    return () => clearTimeout(t);
  }, [proj.elk]);
  const layoutPending = holding || !layout || layout.graph !== proj.elk;

  // a document opened (not edited): drawn after this task, with local state reset and the view fitted again
  const needFit = useRef(true);
  useEffect(() => {
    if (!holding) return;
    const t = setTimeout(() => {
      needFit.current = true;
      setLocal(new Map());
      setReleased(liveDoc);
    }, 0);
    return () => clearTimeout(t);
  }, [holding, liveDoc]);

  // ---------------------------------------------------------------- React Flow nodes
  const [drag, setDrag] = useState<{ id: string; x: number; y: number } | null>(null);
  const selected = useMemo(() => new Set(selection), [selection]);
  const cache = useRef(new Map<string, CacheEntry>());
  const lastNodes = useRef<RFNode[]>([]);
  const nodes = useMemo(() => {
    const out: RFNode[] = [];
    const next = new Map<string, CacheEntry>();
    // a model not laid out yet (just opened) is not given to React Flow at all (it would index thousands of
    // hidden nodes, then again once laid out): a top-level node without a place, and everything inside it
    const left = new Set<string>();
    for (const n of proj.nodes) {
      const r = layout?.rects.get(n.id);
      if (n.parentId ? left.has(n.parentId) : !r) { left.add(n.id); continue; }
      const dragged = drag?.id === n.id;
      const x = dragged ? drag.x : r?.x ?? 0;
      const y = dragged ? drag.y : r?.y ?? 0;
      const w = r?.w ?? n.width ?? 100;
      const h = r?.h ?? n.height ?? 40;
      const hidden = !r;
      const sel = isLayer(n) && selected.has(n.id);
      const layer = isLayer(n);
      const draggable = layer && n.data.doc && n.data.path !== '';
      const prev = cache.current.get(n.id);
      // where it is and what it is unchanged: the same React Flow node (what it shows comes from `contents`)
      if (prev && prev.type === n.type && prev.parentId === n.parentId && prev.x === x && prev.y === y && prev.w === w && prev.h === h
        && prev.hidden === hidden && prev.sel === sel && prev.dragged === dragged && prev.draggable === draggable) {
        out.push(prev.node);
        next.set(n.id, prev);
        continue;
      }
      const node: RFNode = {
        id: n.id,
        type: n.type,
        position: { x, y },
        width: w,
        height: h,
        // the size is known (the layout set it): React Flow needs no measuring to drag or cull
        measured: { width: w, height: h },
        // and where the edges attach: a node is then drawn only when in view, never once off screen
        // just to measure its handles (what React Flow does for nodes without handle bounds)
        handles: handlesOf(w, h),
        // what it shows when first drawn (later changes come from `contents`)
        data: n.data as Record<string, unknown>,
        hidden,
        selected: sel,
        selectable: layer,
        draggable,
        connectable: false,
        focusable: layer,
        deletable: false,
      };
      if (n.parentId) node.parentId = n.parentId;
      if (!layer) node.className = `strata-rf-${n.type}`;
      if (dragged) { node.zIndex = 5000; node.className = 'strata-rf-dragging'; }
      out.push(node);
      next.set(n.id, { type: n.type, parentId: n.parentId, x, y, w, h, hidden, sel, dragged, draggable, node });
    }
    const before = lastNodes.current;
    cache.current = next;
    // the same array while every node is the same: React Flow then does nothing
    if (before.length === out.length && before.every((x, i) => x === out[i])) return before;
    lastNodes.current = out;
    return out;
  }, [proj, layout, selected, drag]);
  // the same array while the edges are the same (React Flow re-indexes every edge when it changes)
  const lastEdges = useRef<Edge[]>([]);
  const edges = useMemo(() => {
    // the projection keeps one edge object per id (edgeOf), so an unchanged edge is the same object;
    // an edge whose ends are not laid out yet is left out (React Flow would draw it, from both ends at 0,0)
    const rects = layout?.rects;
    const next: Edge[] = [];
    for (const pe of proj.edges) if (rects?.has(pe.source) && rects.has(pe.target)) next.push(toEdge(pe));
    const prev = lastEdges.current;
    if (prev.length === next.length && prev.every((e, i) => e === next[i])) return prev;
    lastEdges.current = next;
    return next;
  }, [proj.edges, layout]);

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

  // the drawing as last committed, for event handlers: they (and React Flow's drag callbacks) then stay the same
  // functions across edits (a new callback makes React Flow update its store, and every node and edge check it)
  const drawn = useRef({ proj, layout });
  useLayoutEffect(() => { drawn.current = { proj, layout }; }, [proj, layout]);
  const targetAt = useCallback((clientX: number, clientY: number, exclude?: string): DropTarget | null => {
    const { proj: pr, layout: l } = drawn.current;
    if (!l) return null;
    const p = rf.screenToFlowPosition({ x: clientX, y: clientY });
    return dropTargetAt(p, pr, l.abs, store.getState().doc.root.id, exclude);
  }, [rf, store]);

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
    const d = (contents.get(node.id) ?? node.data) as LayerData;
    const id = d.doc ? d.id : d.owner;
    const s = store.getState();
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      s.select(s.selection.includes(id) ? s.selection.filter((x) => x !== id) : [...s.selection, id]);
    } else if (s.selection.length !== 1 || s.selection[0] !== id) {
      s.select([id]);
    }
  }, [store, contents]);
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
      <ContentsContext.Provider value={contents}>
        <ActionsContext.Provider value={actions}>
          <StatsContext.Provider value={stats}>
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
                  <DropIndicator drop={drop} />
                </ViewportPortal>
              )}
            </ReactFlow>
          </StatsContext.Provider>
        </ActionsContext.Provider>
      </ContentsContext.Provider>
      {quick && (
        <QuickInsert onPick={pickQuick} onClose={closeQuick} where={selection.length ? 'after the selection' : 'at the end'} />
      )}
      {layoutPending && <div className="strata-layout-busy" aria-live="polite">laying out…</div>}
      {layoutError && <div className="strata-layout-error" role="status">layout failed: {layoutError}</div>}
    </div>
  );
}
