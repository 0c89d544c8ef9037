/**
 * The bottom-right pane: run settings (input per model input, symbol sizes,
 * seed, mode, provider), the last run's outputs and probes, and the tensor
 * view of the one chosen (a chip click on the canvas, or a row here); its
 * third tab is the Train panel (TrainPanel.tsx).
 */
import { useMemo } from 'react';
import { displayPath } from '../../../engine/core/errors';
import { formatShapeDtype } from '../../../engine/core/shape';
import { useApp, useHost, useStrata, useStrataStore } from './context';
import { fmtStat } from './format';
import { choiceFor, inputSymbols, runModel, sizeOf } from './runActions';
import { type InputChoice, type InputKind, type RunSettings, openOutput, openTensor, openTensorSummary, setRunSettings, useRunState } from './runState';
import { type SliceSource, TensorView } from './TensorView';
import { TrainPanel } from './TrainPanel';

const KINDS: { value: InputKind; label: string }[] = [
  { value: 'normal', label: 'random normal' },
  { value: 'randint', label: 'random integers' },
  { value: 'zeros', label: 'zeros' },
  { value: 'file', label: '.npy / .json file' },
];

function RunSettingsForm() {
  const doc = useStrata((s) => s.doc);
  const trace = useStrata((s) => s.trace);
  const settings = useRunState((s) => s.settings);
  const providers = useApp((s) => s.providers);
  const setChoice = (i: number, patch: Partial<InputChoice>) => {
    const inputs = doc.input.map((x, j) => choiceFor(settings, j, x, trace));
    inputs[i] = { ...inputs[i], ...patch };
    setRunSettings({ inputs });
  };
  const symbols = inputSymbols(doc.input);
  return (
    <div className="run-settings" data-testid="run-settings">
      {doc.input.map((x, i) => {
        const c = choiceFor(settings, i, x, trace);
        return (
          <div className="run-input" key={i}>
            <span className="mono small">{i}: {formatShapeDtype(x)}</span>
            <select data-testid={`run-input-kind-${i}`} value={c.kind} onChange={(e) => setChoice(i, { kind: e.target.value as InputKind })}>
              {KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
            </select>
            {c.kind === 'randint' && (
              <label className="inline">below
                <input type="number" min={1} data-testid={`run-input-vocab-${i}`} value={c.vocab} onChange={(e) => setChoice(i, { vocab: Number(e.target.value) || 1 })} />
              </label>
            )}
            {c.kind === 'file' && (
              <input type="text" className="path" placeholder="/path/to/input.npy" data-testid={`run-input-path-${i}`} value={c.path} onChange={(e) => setChoice(i, { path: e.target.value })} />
            )}
          </div>
        );
      })}
      <div className="run-row">
        {symbols.map((sym) => (
          <label key={sym} className="inline" title={`the size of ${sym} for this run`}>
            {sym} =
            <input
              type="number"
              min={1}
              data-testid={`run-size-${sym}`}
              value={sizeOf(settings.sizes, sym)}
              onChange={(e) => setRunSettings({ sizes: { ...settings.sizes, [sym]: Math.max(1, Math.floor(Number(e.target.value) || 1)) } })}
            />
          </label>
        ))}
        <label className="inline">seed
          <input type="number" data-testid="run-seed" value={settings.seed} onChange={(e) => setRunSettings({ seed: Math.floor(Number(e.target.value) || 0) })} />
        </label>
        <label className="inline">mode
          <select data-testid="run-mode" value={settings.mode} onChange={(e) => setRunSettings({ mode: e.target.value as RunSettings['mode'] })}>
            <option value="eval">eval</option>
            <option value="train">train</option>
            <option value="predict">predict</option>
          </select>
        </label>
        <label className="inline">provider
          <select data-testid="run-provider" value={settings.provider} onChange={(e) => setRunSettings({ provider: e.target.value as RunSettings['provider'] })}>
            {[...new Set(['cpu', ...providers])].map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </label>
      </div>
    </div>
  );
}

function RunResults() {
  const response = useRunState((s) => s.response);
  const stale = useRunState((s) => s.stale);
  const running = useRunState((s) => s.running);
  const error = useRunState((s) => s.error);
  const open = useRunState((s) => s.open);
  if (running) return <div className="muted pad" data-testid="run-status">Running…</div>;
  if (error) return <div className="error-text pad" data-testid="run-status">Run failed: {error.message}</div>;
  if (!response || !response.ok) return <div className="muted pad" data-testid="run-status">Press Run: every edge then shows the real tensor's statistics.</div>;
  const isOpen = (path: string | null, index: number) => open?.path === path && open.index === index;
  return (
    <div className="run-results">
      <div className="muted small" data-testid="run-status">
        ran on {response.provider} in {Math.round(response.ms)} ms{stale ? ' · the model changed since: run again' : ''}
        {response.notes.map((n, i) => <div key={i}>{n}</div>)}
      </div>
      <ul className="probe-list" data-testid="probe-list">
        {response.outputs.map((t, i) => (
          <li key={`out${i}`} className={isOpen(null, i) ? 'active' : ''} data-testid="output-item" role="button" tabIndex={0}
            onClick={() => { openOutput(i); useApp.setState({ sideTab: 'tensor' }); }}>
            <span className="path">output {i}</span>
            <span className="mono">{t.dtype}[{t.shape.join(',')}]</span>
            <span className="muted">μ {fmtStat(t.stats.mean)} σ {fmtStat(t.stats.std)}</span>
          </li>
        ))}
        {response.probes.map((p) => (
          <li key={`${p.path}#${p.index}`} className={isOpen(p.path, p.index) ? 'active' : ''} data-testid="probe-item" data-path={p.path} data-index={p.index} role="button" tabIndex={0}
            onClick={() => { openTensor(p.path, p.index); useApp.setState({ sideTab: 'tensor' }); }}>
            <span className="path" title={displayPath(p.path, p.kind)}>{p.path ? displayPath(p.path, p.kind) : 'model output'}{p.index ? ` #${p.index}` : ''}</span>
            <span className="mono">{p.dtype}[{p.shape.join(',')}]</span>
            <span className={p.stats.nan || p.stats.inf ? 'error-text' : 'muted'}>μ {fmtStat(p.stats.mean)} σ {fmtStat(p.stats.std)}{p.stats.nan ? ` NaN ${p.stats.nan}` : ''}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function OpenTensor() {
  const store = useStrataStore();
  const host = useHost();
  const open = useRunState((s) => s.open);
  const response = useRunState((s) => s.response);
  // computed here, not in the selector: a selector must return the same object for the same state
  const trace = useStrata((s) => s.trace);
  const forDoc = useRunState((s) => s.forDoc);
  const doc = useStrata((s) => s.doc);
  // the run's own trace resolves stack positions (the document may have changed since)
  const t = useMemo(() => openTensorSummary({ open, response }, forDoc === doc ? trace : undefined), [open, response, forDoc, doc, trace]);
  const stale = useRunState((s) => s.stale);
  const runId = response && response.ok ? response.runId : null;
  const ref = t?.ref;
  // other slices of the tensor come from the host, which keeps the run
  const source = useMemo<SliceSource | undefined>(() => (runId && ref ? {
    runId, ref, stale,
    fetch: (req) => host.tensorSlice(req),
    runAgain: () => void runModel(store, host),
  } : undefined), [runId, ref, stale, host, store]);
  if (t) return <TensorView t={t} label={t.label} source={source} />;
  return (
    <div className="tensor-view empty" data-testid="tensor-view">
      {!open && <div className="muted pad">Click a chip on the canvas (after a run) or a row of the run list to see its tensor.</div>}
      {open && (!response || !response.ok) && (
        <div className="pad">
          <div className="muted">No values yet for {open.path === null ? `output ${open.index}` : (open.path || 'the model output')}: run the model first.</div>
          <button type="button" data-testid="tensor-run" onClick={() => void runModel(store, host)}>Run</button>
        </div>
      )}
      {open && response && response.ok && <div className="muted pad">The run did not probe this edge (inside a layer function, or not lowered).</div>}
    </div>
  );
}

export function RunPanel() {
  const tab = useApp((s) => s.sideTab);
  return (
    <section className="run-panel" aria-label="Run">
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'run'} className={tab === 'run' ? 'active' : ''} data-testid="tab-run" onClick={() => useApp.setState({ sideTab: 'run' })}>Run</button>
        <button type="button" role="tab" aria-selected={tab === 'tensor'} className={tab === 'tensor' ? 'active' : ''} data-testid="tab-tensor" onClick={() => useApp.setState({ sideTab: 'tensor' })}>Tensor</button>
        <button type="button" role="tab" aria-selected={tab === 'train'} className={tab === 'train' ? 'active' : ''} data-testid="tab-train" onClick={() => useApp.setState({ sideTab: 'train' })}>Train</button>
      </div>
      <div className="tab-body">
        {tab === 'run' ? (<><RunSettingsForm /><RunResults /></>) : tab === 'train' ? <TrainPanel /> : <OpenTensor />}
      </div>
    </section>
  );
}
