/**
 * The Train panel: task or data, loss, optimizer, schedule, steps — Start,
 * Stop, Resume; the progress line; live loss and accuracy curves (uPlot,
 * created once and fed with `setData` on every poll); the run's
 * checkpoints; "Export trained model". All the work is the host's (a worker
 * thread, or the desktop app's engine process): the panel only polls it.
 */
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { TRAIN_LOSSES, TRAIN_OPTIMIZERS, TRAIN_SCHEDULES, type ExportTrainedRequest } from '../../../engine/host/api';
import { askPath, useApp, useHost, useStrata } from './context';
import {
  EXPORT_FORMATS, TASK_CHOICES, type TaskChoice, type TrainSettings, chartColumns, exportTrainedModel, followHostRun, hasAccuracy, isActive, progressText,
  setTrainSettings, startTraining, stopTraining, taskFields, useTrainState,
} from './trainState';

/** A whole-number field of the settings. */
function IntField({ name, label, min, title }: { name: 'steps' | 'batch' | 'evalEvery' | 'seed' | 'warmup'; label: string; min: number; title?: string }) {
  const value = useTrainState((s) => s.settings[name]);
  const id = name === 'evalEvery' ? 'eval-every' : name;
  return (
    <label className="train-field" title={title}>
      <span>{label}</span>
      <input
        type="number" min={min} step={1} data-testid={`train-${id}`} value={Number.isFinite(value) ? value : ''}
        className={Number.isInteger(value) && value >= min ? '' : 'invalid'}
        onChange={(e) => setTrainSettings({ [name]: e.target.value === '' ? NaN : Math.floor(Number(e.target.value)) } as Partial<TrainSettings>)}
      />
    </label>
  );
}

function TrainForm({ disabled }: { disabled: boolean }) {
  const s = useTrainState((x) => x.settings);
  const providers = useApp((x) => x.providers);
  const f = taskFields(s.task);
  return (
    <fieldset className="train-form" disabled={disabled} data-testid="train-settings">
      <label className="train-field wide">
        <span>task</span>
        <select data-testid="train-task" value={s.task} onChange={(e) => setTrainSettings({ task: e.target.value as TaskChoice })}>
          {TASK_CHOICES.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
      </label>
      {f.file && (
        <label className="train-field wide">
          <span>file</span>
          <input type="text" className="mono" data-testid="train-file" placeholder={s.task === 'text' ? '/path/to/corpus.txt' : '/path/to/data.npz'}
            value={s.file} onChange={(e) => setTrainSettings({ file: e.target.value })} />
        </label>
      )}
      {f.length && (
        <label className="train-field" title="sequence length L (empty: the task's default)">
          <span>length</span>
          <input type="number" min={1} data-testid="train-length" placeholder="default" value={s.length} onChange={(e) => setTrainSettings({ length: e.target.value })} />
        </label>
      )}
      {f.vocab && (
        <label className="train-field" title="token ids below this (empty: the task's default)">
          <span>vocab</span>
          <input type="number" min={2} data-testid="train-vocab" placeholder="default" value={s.vocab} onChange={(e) => setTrainSettings({ vocab: e.target.value })} />
        </label>
      )}
      <label className="train-field wide">
        <span>loss</span>
        <select data-testid="train-loss" value={s.loss} onChange={(e) => setTrainSettings({ loss: e.target.value })}>
          <option value="">the task's default</option>
          {TRAIN_LOSSES.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
      </label>
      <label className="train-field">
        <span>optimizer</span>
        <select data-testid="train-optimizer" value={s.optimizer} onChange={(e) => setTrainSettings({ optimizer: e.target.value })}>
          {TRAIN_OPTIMIZERS.map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      </label>
      <label className="train-field" title="the peak learning rate (empty: the optimizer's Trax default)">
        <span>learning rate</span>
        <input type="text" inputMode="decimal" data-testid="train-lr" placeholder="default" value={s.lr}
          className={s.lr.trim() === '' || (Number.isFinite(Number(s.lr)) && Number(s.lr) >= 0) ? '' : 'invalid'}
          onChange={(e) => setTrainSettings({ lr: e.target.value })} />
      </label>
      <label className="train-field">
        <span>schedule</span>
        <select data-testid="train-schedule" value={s.schedule} onChange={(e) => setTrainSettings({ schedule: e.target.value })}>
          {TRAIN_SCHEDULES.map((k) => <option key={k} value={k}>{k === 'rsqrt' ? 'rsqrt (warmup, then 1/√step)' : k}</option>)}
        </select>
      </label>
      {s.schedule !== 'constant' ? <IntField name="warmup" label="warmup" min={0} title="warmup steps" /> : <span />}
      <IntField name="steps" label="steps" min={1} title="train to this step (Resume: continue to it)" />
      <IntField name="batch" label="batch" min={1} />
      <IntField name="evalEvery" label="eval every" min={1} title="evaluate on the held-out data, and save a checkpoint, every N steps" />
      <IntField name="seed" label="seed" min={0} />
      <label className="train-field">
        <span>provider</span>
        <select data-testid="train-provider" value={s.provider} onChange={(e) => setTrainSettings({ provider: e.target.value as TrainSettings['provider'] })}>
          {[...new Set(['cpu', ...providers])].map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
      </label>
    </fieldset>
  );
}

const CHART_HEIGHT = 130;

/** How many uPlot instances this page has made (the e2e test checks polls do not make new ones). */
let chartsMade = 0;

function chartOptions(title: string, width: number, accuracy: boolean): uPlot.Options {
  return {
    title, width, height: CHART_HEIGHT,
    scales: { x: { time: false }, ...(accuracy ? { y: { range: [0, 100] } } : {}) },
    // the series' names only (values under the cursor would take a second line)
    legend: { show: true, live: false },
    cursor: { drag: { x: true, y: false } },
    series: [
      { label: 'step' },
      { label: 'train', stroke: '#1f6feb', width: 1.5, spanGaps: true },
      { label: 'eval', stroke: '#d9480f', width: 1.5, spanGaps: true, points: { show: true, size: 5 } },
    ],
    axes: [{ size: 30 }, { size: 46 }],
  };
}

/** Loss and accuracy curves, train and eval; made once, updated with setData as metrics arrive. */
function TrainChart() {
  const metrics = useTrainState((s) => s.metrics);
  const wrap = useRef<HTMLDivElement>(null);
  const lossEl = useRef<HTMLDivElement>(null);
  const accEl = useRef<HTMLDivElement>(null);
  const plots = useRef<{ loss: uPlot; acc: uPlot } | null>(null);
  const showAcc = hasAccuracy(metrics) || metrics.length === 0;

  useEffect(() => {
    const box = wrap.current!;
    const half = () => Math.max(160, Math.floor((box.clientWidth - 8) / 2));
    const first = useTrainState.getState().metrics;
    const loss = new uPlot(chartOptions('loss', half(), false), chartColumns(first, 'loss'), lossEl.current!);
    const acc = new uPlot(chartOptions('accuracy %', half(), true), chartColumns(first, 'accuracy'), accEl.current!);
    chartsMade += 2;
    box.dataset.charts = String(chartsMade);
    plots.current = { loss, acc };
    const ro = new ResizeObserver(() => {
      const w = half();
      if (loss.width !== w) loss.setSize({ width: w, height: CHART_HEIGHT });
      if (acc.width !== w) acc.setSize({ width: w, height: CHART_HEIGHT });
    });
    ro.observe(box);
    return () => {
      ro.disconnect();
      loss.destroy();
      acc.destroy();
      plots.current = null;
    };
  }, []);

  useEffect(() => {
    const p = plots.current;
    if (!p) return;
    const l = chartColumns(metrics, 'loss');
    p.loss.setData(l);
    p.acc.setData(chartColumns(metrics, 'accuracy'));
    wrap.current!.dataset.points = String(l[0].length);
  }, [metrics]);

  return (
    <div className="train-charts" data-testid="train-chart" ref={wrap} data-points="0">
      <div ref={lossEl} />
      <div ref={accEl} style={showAcc ? undefined : { display: 'none' }} />
      {metrics.length === 0 && <div className="train-chart-empty muted small">Curves appear here as the run logs its first steps.</div>}
    </div>
  );
}

function ExportRow() {
  const host = useHost();
  const desktop = useApp((s) => s.desktop);
  const dir = useTrainState((s) => s.dir);
  const checkpoints = useTrainState((s) => s.checkpoints);
  const exporting = useTrainState((s) => s.exporting);
  const exported = useTrainState((s) => s.exported);
  const [format, setFormat] = useState<ExportTrainedRequest['format']>('onnx');
  const [at, setAt] = useState<string>('latest');
  const doExport = async () => {
    if (!dir) return;
    const f = EXPORT_FORMATS.find((x) => x.value === format)!;
    let path: string | undefined;
    if (!desktop) {
      const sep = dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
      const got = await askPath(`Export the trained model as ${f.label}`, 'Export', `${dir}${sep}trained-model${f.ext}`);
      if (!got) return;
      path = got;
    }
    await exportTrainedModel(host, format, path, at === 'latest' ? undefined : Number(at));
  };
  return (
    <div className="train-export">
      <select data-testid="train-export-format" value={format} onChange={(e) => setFormat(e.target.value as ExportTrainedRequest['format'])} disabled={!dir}>
        {EXPORT_FORMATS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
      </select>
      <select data-testid="train-export-checkpoint" value={at} onChange={(e) => setAt(e.target.value)} disabled={!dir} title="which checkpoint's weights">
        <option value="latest">latest checkpoint</option>
        {checkpoints.map((c) => <option key={c} value={String(c)}>step {c}</option>)}
      </select>
      <button type="button" data-testid="train-export" disabled={!dir || exporting || checkpoints.length === 0} onClick={() => void doExport()}
        title={checkpoints.length ? 'Write the trained model: ONNX for inference, the weights, or Trax Python with a weights loader' : 'after the first checkpoint'}>
        {exporting ? 'Exporting…' : 'Export trained model'}
      </button>
      {exported && <div className={`small ${exported.ok ? 'muted' : 'error-text'}`} data-testid="train-export-status">{exported.text}</div>}
    </div>
  );
}

const STATE_TEXT: Record<string, string> = {
  starting: 'starting…', running: 'training', stopping: 'stopping after a checkpoint…', done: 'done', stopped: 'stopped', failed: 'failed',
};

export function TrainPanel() {
  const host = useHost();
  const doc = useStrata((s) => s.doc);
  const state = useTrainState((s) => s.state);
  const error = useTrainState((s) => s.error);
  const progress = useTrainState((s) => s.progress);
  const metrics = useTrainState((s) => s.metrics);
  const notes = useTrainState((s) => s.notes);
  const task = useTrainState((s) => s.task);
  const dir = useTrainState((s) => s.dir);
  const checkpoints = useTrainState((s) => s.checkpoints);
  const startedDoc = useTrainState((s) => s.startedDoc);
  const startedReq = useTrainState((s) => s.startedReq);
  const result = useTrainState((s) => s.result);
  const active = isActive(state);
  const ended = state === 'done' || state === 'stopped' || state === 'failed';
  // a run the host was already training when this page loaded
  useEffect(() => { void followHostRun(host); }, [host]);
  const line = progressText(progress, metrics, ended);
  return (
    <div className="train-panel" data-testid="train-panel">
      <div className="train-left">
        <TrainForm disabled={active} />
        <div className="train-buttons">
          <button type="button" className="primary" data-testid="train-start" disabled={active} onClick={() => void startTraining(doc, host)}
            title="Train the model as it is now (a new run directory)">▶ Start</button>
          <button type="button" data-testid="train-stop" disabled={state !== 'running'} onClick={() => void stopTraining(host)}
            title="Stop after writing a checkpoint">■ Stop</button>
          <button type="button" data-testid="train-resume" disabled={active || !startedReq || !dir}
            onClick={() => void startTraining(doc, host, true)}
            title={dir ? `Continue ${dir} from its latest checkpoint to Steps (the run's own model and settings)` : 'after a run'}>↻ Resume</button>
        </div>
      </div>
      <div className="train-right">
        <div className="train-status">
          {state && <span className={`train-state is-${state}`} data-testid="train-state">{STATE_TEXT[state]}</span>}
          <span className="mono small" data-testid="train-progress">{line || (state ? '' : 'Choose a task and press Start: the host trains, this panel follows.')}</span>
        </div>
        {error && <div className="train-error" role="alert" data-testid="train-error">{error.message}</div>}
        {startedDoc && startedDoc !== doc && (active || ended) && (
          <div className="train-note small" data-testid="train-doc-note">
            The model has changed since this run started: {active ? 'it goes on training' : 'it trained'} the model as it was at Start (Resume continues that model).
          </div>
        )}
        {(task || notes.length > 0) && (
          <div className="muted small train-notes">
            {task && <div>{task}</div>}
            {notes.map((n, i) => <div key={i}>{n}</div>)}
          </div>
        )}
        <TrainChart />
        <div className="train-checkpoints-row">
          <span className="pane-title">Checkpoints</span>
          {dir && <span className="mono small muted train-dir" data-testid="train-dir" title={dir}>{dir}</span>}
          <ul className="train-checkpoints" data-testid="train-checkpoints">
            {checkpoints.length === 0 && <li className="muted small">{dir ? 'none yet (one every “eval every” steps, and at the end)' : 'none'}</li>}
            {checkpoints.map((c) => <li key={c} data-testid="train-checkpoint" className="mono small">step {c}</li>)}
          </ul>
          {result && <span className="small muted" data-testid="train-result">ended at step {result.step} on {result.provider}</span>}
        </div>
        <ExportRow />
      </div>
    </div>
  );
}
