/**
 * The layout worker: runs elkjs on the canvas graph off the UI thread and
 * answers with each node's rectangle. Graphs too large for elkjs's layered
 * algorithm (it recurses along long chains and overflows a worker's stack),
 * or on which it fails, get the plain box layout instead.
 */
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode } from 'elkjs/lib/elk-api';
import { type Placed, boxLayout, countNodes, rectsOf } from './boxLayout';
import type { LayoutReply, LayoutRequest } from './layout';

const elk = new ELK();
/** Above this many nodes the box layout is used (elkjs takes seconds, then overflows). */
const ELK_MAX_NODES = 1200;


function answer(seq: number, out: Placed, engine: 'elk' | 'box', started: number): void {
  const reply: LayoutReply = { seq, rects: rectsOf(out), width: out.width ?? 0, height: out.height ?? 0, ms: performance.now() - started, engine };
  self.postMessage(reply);
}

// elk.bundled installs its own message handler when loaded in a worker; this one replaces it
self.onmessage = (e: MessageEvent<LayoutRequest>): void => {
  const { seq, graph } = e.data;
  const started = performance.now();
  if (countNodes(graph) > ELK_MAX_NODES) {
    answer(seq, boxLayout(graph), 'box', started);
    return;
  }
  const copy = structuredClone(graph);
  elk.layout(graph as ElkNode).then(
    (out) => answer(seq, out as Placed, 'elk', started),
    () => {
      // elkjs failed (a stack overflow on an unusual graph): the plain layout still shows the model
      try {
        answer(seq, boxLayout(copy), 'box', started);
      } catch (err) {
        const reply: LayoutReply = { seq, error: err instanceof Error ? err.message : String(err) };
        self.postMessage(reply);
      }
    },
  );
};
