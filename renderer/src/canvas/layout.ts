/**
 * The layout client: sends the canvas graph to the elkjs worker. At most one
 * layout runs at a time; a request made while one runs replaces any waiting
 * request, and the running one's result is dropped (a newer one is coming).
 * A layout that has run for long is cut short (the worker is restarted).
 */
import { type Placed, rectsOf } from './boxLayout';
import type { ElkInput } from './project';

export interface LayoutRequest { seq: number; graph: ElkInput }
export type LayoutReply =
  | { seq: number; rects: Record<string, [number, number, number, number, number, number]>; width: number; height: number; ms: number; engine: 'elk' | 'box'; error?: undefined }
  | { seq: number; error: string };

export interface Layout {
  /** the graph it was computed for */
  graph: ElkInput;
  /** rectangles relative to each node's container: x, y, width, height */
  rects: Map<string, { x: number; y: number; w: number; h: number }>;
  /** the same, in absolute (flow) coordinates */
  abs: Map<string, { x: number; y: number; w: number; h: number }>;
  /** the whole drawing */
  width: number;
  height: number;
  ms: number;
  /** elkjs, or the plain box layout (very large graphs) */
  engine: 'elk' | 'box';
}

/** How long a running layout may delay a newer request before the worker is restarted. */
const CUT_AFTER_MS = 2000;

export class LayoutClient {
  private worker: Worker | null = null;
  private seq = 0;
  private running: { seq: number; graph: ElkInput; started: number } | null = null;
  private waiting: { seq: number; graph: ElkInput } | null = null;
  private last: ElkInput | null = null;
  private disposed = false;

  /** the worker cannot start (no workers here): the plain layout runs on this thread */
  private noWorker = false;

  constructor(
    private readonly makeWorker: () => Worker,
    private readonly onLayout: (l: Layout) => void,
    private readonly onError: (message: string) => void = () => {},
    /** the layout used where no worker can run (linear time: the box layout) */
    private readonly inThread?: (graph: ElkInput) => Placed,
  ) {}

  request(graph: ElkInput): void {
    if (this.disposed || graph === this.last) return;
    this.last = graph;
    const seq = ++this.seq;
    if (this.running) {
      this.waiting = { seq, graph };
      if (performance.now() - this.running.started > CUT_AFTER_MS) this.restart();
      return;
    }
    this.send(seq, graph);
  }

  dispose(): void {
    this.disposed = true;
    this.worker?.terminate();
    this.worker = null;
  }

  private ensureWorker(): Worker | null {
    if (!this.worker && !this.noWorker) {
      try {
        const w = this.makeWorker();
        w.onmessage = (e: MessageEvent<LayoutReply>) => this.reply(e.data);
        w.onerror = (e) => {
          e.preventDefault();
          if (this.inThread) this.noWorker = true;
          else this.onError(e.message || 'the layout worker failed');
          this.restart();
        };
        this.worker = w;
      } catch (err) {
        if (!this.inThread) throw err;
        this.noWorker = true;
      }
    }
    return this.worker;
  }

  private send(seq: number, graph: ElkInput): void {
    this.running = { seq, graph, started: performance.now() };
    const w = this.ensureWorker();
    if (w) { w.postMessage({ seq, graph } satisfies LayoutRequest); return; }
    // no worker: the box layout, after this task (it is linear and quick)
    setTimeout(() => {
      if (this.disposed || this.running?.seq !== seq || !this.inThread) return;
      const started = performance.now();
      const out = this.inThread(structuredClone(graph));
      this.reply({ seq, rects: rectsOf(out), width: out.width ?? 0, height: out.height ?? 0, ms: performance.now() - started, engine: 'box' });
    }, 0);
  }

  private restart(): void {
    this.worker?.terminate();
    this.worker = null;
    this.running = null;
    const next = this.waiting;
    this.waiting = null;
    if (next && !this.disposed) this.send(next.seq, next.graph);
  }

  private reply(r: LayoutReply): void {
    if (!this.running || r.seq !== this.running.seq) return;
    const graph = this.running.graph;
    this.running = null;
    const next = this.waiting;
    this.waiting = null;
    if (next) {
      // a newer graph is waiting: this result is already stale
      this.send(next.seq, next.graph);
      return;
    }
    if (r.error !== undefined) { this.onError(r.error); return; }
    const rects = new Map<string, { x: number; y: number; w: number; h: number }>();
    const abs = new Map<string, { x: number; y: number; w: number; h: number }>();
    for (const [id, [x, y, w, h, ax, ay]] of Object.entries(r.rects)) {
      rects.set(id, { x, y, w, h });
      abs.set(id, { x: ax, y: ay, w, h });
    }
    this.onLayout({ graph, rects, abs, width: r.width, height: r.height, ms: r.ms, engine: r.engine });
  }
}
