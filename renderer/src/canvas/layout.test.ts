/** The layout client's scheduling, with a fake worker (no browser): stale results dropped, a fallback without workers. */
import { describe, expect, it } from 'vitest';
import { boxLayout } from './boxLayout';
import { type Layout, LayoutClient, type LayoutReply, type LayoutRequest } from './layout';
import type { ElkInput } from './project';

class FakeWorker {
  onmessage: ((e: MessageEvent<LayoutReply>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  sent: LayoutRequest[] = [];
  terminated = false;
  postMessage(m: LayoutRequest): void { this.sent.push(m); }
  terminate(): void { this.terminated = true; }
  answer(i: number): void {
    const { seq, graph } = this.sent[i];
    this.onmessage?.({ data: { seq, rects: { [graph.children![0].id]: [1, 2, 3, 4, 1, 2] }, width: 10, height: 10, ms: 1, engine: 'elk' } } as MessageEvent<LayoutReply>);
  }
}

const graph = (id: string): ElkInput => ({ id: 'canvas', children: [{ id, width: 10, height: 10 }] });

describe('the layout client', () => {
  it('runs one layout at a time and drops a result a newer request made stale', () => {
    const w = new FakeWorker();
    const got: Layout[] = [];
    const c = new LayoutClient(() => w as unknown as Worker, (l) => got.push(l));
    const a = graph('a'), b = graph('b'), d = graph('d');
    c.request(a);
    c.request(a); // the same graph again: nothing new
    c.request(b);
    c.request(d); // replaces b while a runs
    expect(w.sent.map((m) => m.graph)).toEqual([a]);
    w.answer(0); // a's result is stale: d is sent instead
    expect(got).toEqual([]);
    expect(w.sent.map((m) => m.graph)).toEqual([a, d]);
    w.answer(1);
    expect(got).toHaveLength(1);
    expect(got[0].graph).toBe(d);
    expect(got[0].rects.get('d')).toEqual({ x: 1, y: 2, w: 3, h: 4 });
    c.dispose();
    expect(w.terminated).toBe(true);
  });

  it('lays out on this thread where no worker can start', async () => {
    const got: Layout[] = [];
    const c = new LayoutClient(() => { throw new Error('no workers here'); }, (l) => got.push(l), () => {}, boxLayout);
    c.request({ id: 'canvas', children: [{ id: 'x', width: 30, height: 20 }, { id: 'y', width: 10, height: 20 }], edges: [{ id: 'e', sources: ['x'], targets: ['y'] }] });
    await new Promise((r) => setTimeout(r, 10));
    expect(got).toHaveLength(1);
    expect(got[0].engine).toBe('box');
    expect(got[0].abs.get('y')!.y).toBeGreaterThan(got[0].abs.get('x')!.y);
  });
});
