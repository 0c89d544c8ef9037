/**
 * The app shell: toolbar on top; palette, canvas and inspector; below them
 * the diagnostics, the code view and the run pane (Run, Tensor and Train
 * tabs; resizable). Installs the global keys, the recovery autosave and the
 * listeners for the canvas's events.
 */
import { useEffect, useRef, useState } from 'react';
import type { StoreApi } from 'zustand/vanilla';
import type { HostApi } from '../../engine/host/api';
import type { StrataState } from './state/store';
import { Canvas } from './canvas/Canvas';
import { CodeView } from './panels/CodeView';
import { useApp, setStatus } from './panels/context';
import { Diagnostics } from './panels/Diagnostics';
import { Dialogs } from './panels/Dialogs';
import { refreshRecent, startRecovery } from './panels/files';
import { Inspector } from './panels/Inspector';
import { EVENTS, installKeyboard } from './panels/keyboard';
import { installMenu } from './panels/menu';
import { Palette } from './panels/Palette';
import { RunPanel } from './panels/RunPanel';
import { openTensor, useRunState } from './panels/runState';
import { Toolbar } from './panels/Toolbar';

const MIN_BOTTOM = 120;
/** The Train tab's form, curves and checkpoints need more room than the run pane: the pane grows to this when it opens. */
const TRAIN_BOTTOM = 400;

export function App({ store, host }: { store: StoreApi<StrataState>; host: HostApi }) {
  const [bottom, setBottom] = useState(250);
  const drag = useRef<{ y: number; h: number } | null>(null);
  const training = useApp((s) => s.sideTab === 'train');

  // opening the Train tab makes room for it (the splitter still sets any height after)
  useEffect(() => {
    if (training) setBottom((h) => Math.max(h, Math.min(TRAIN_BOTTOM, window.innerHeight - 260)));
  }, [training]);

  useEffect(() => installKeyboard(store, host), [store, host]);
  useEffect(() => installMenu(store, host), [store, host]);
  useEffect(() => startRecovery(store, host), [store, host]);

  useEffect(() => {
    let live = true;
    host.info().then((i) => {
      if (live) useApp.setState({ desktop: i.desktop, version: i.version, providers: i.providers.length ? i.providers : ['cpu'] });
    }).catch((e: unknown) => setStatus(`the Strata host does not answer: ${(e as Error).message}`, 'error'));
    host.listExamples().then((examples) => { if (live) useApp.setState({ examples }); }).catch(() => undefined);
    void refreshRecent(host);
    return () => { live = false; };
  }, [host]);

  // a run describes one document: its statistics go stale when the document changes
  useEffect(() => store.subscribe((s, prev) => {
    if (s.doc === prev.doc) return;
    const r = useRunState.getState();
    if (r.forDoc) useRunState.setState({ stale: r.forDoc !== s.doc });
  }), [store]);

  // the canvas asks for a chip's tensor
  useEffect(() => {
    const onOpen = (e: Event) => {
      const d = (e as CustomEvent<{ path?: unknown; index?: unknown }>).detail;
      if (!d || typeof d.path !== 'string') return;
      openTensor(d.path, typeof d.index === 'number' ? d.index : 0);
      useApp.setState({ sideTab: 'tensor' });
    };
    window.addEventListener(EVENTS.openTensor, onOpen);
    return () => window.removeEventListener(EVENTS.openTensor, onOpen);
  }, []);

  return (
    <div className="app" style={{ gridTemplateRows: `auto minmax(0, 1fr) 6px ${bottom}px` }}>
      <Toolbar />
      <div className="main">
        <Palette />
        <main className="canvas-wrap" aria-label="Canvas">
          <Canvas store={store} />
        </main>
        <Inspector />
      </div>
      <div
        className="splitter"
        role="separator"
        aria-orientation="horizontal"
        title="Drag to resize"
        onPointerDown={(e) => {
          drag.current = { y: e.clientY, h: bottom };
          e.currentTarget.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          if (!drag.current) return;
          const h = drag.current.h - (e.clientY - drag.current.y);
          setBottom(Math.max(MIN_BOTTOM, Math.min(window.innerHeight - 200, h)));
        }}
        onPointerUp={() => { drag.current = null; }}
      />
      <div className={training ? 'bottom with-train' : 'bottom'}>
        <Diagnostics />
        <CodeView />
        <RunPanel />
      </div>
      <Dialogs />
    </div>
  );
}
