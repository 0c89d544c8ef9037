/**
 * One tensor of the last run: shape, dtype, min/max/mean/std, NaN and Inf
 * counts, a histogram and a heatmap of a chosen 2-D slice: any two axes as
 * rows and columns, a position along every other one. The run's summary
 * carries the default slice (the last two axes at position 0 of the others);
 * other slices come from the host (`tensorSlice`), which still holds the
 * run's tensors, downsampled to at most 128×128 block means.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { SliceRequest, SliceResponse, TensorSlice, TensorSummary } from '../../../engine/host/api';
import { fmtStat } from './format';
import { type SliceSelection, chooseAxis, choosePosition, defaultSelection, sameSelection, selectionLabel } from './runState';

function Histogram({ counts, min, max }: { counts: number[]; min: number | string; max: number | string }) {
  const W = 200, H = 64;
  const peak = Math.max(1, ...counts);
  const bw = counts.length ? W / counts.length : W;
  return (
    <svg className="histogram" data-testid="histogram" viewBox={`0 0 ${W} ${H + 16}`} width={W} height={H + 16} role="img" aria-label="histogram">
      <line x1={0} y1={H + 0.5} x2={W} y2={H + 0.5} className="axis" />
      {counts.map((c, i) => {
        const h = c === 0 ? 0 : Math.max(1, (c / peak) * (H - 4));
        return (
          <rect key={i} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h} className="bar">
            <title>{`${c.toLocaleString('en-US')} values`}</title>
          </rect>
        );
      })}
      <text x={0} y={H + 13} className="tick">{fmtStat(min)}</text>
      <text x={W} y={H + 13} textAnchor="end" className="tick">{fmtStat(max)}</text>
    </svg>
  );
}

/** Viridis-like ramp: t in [0, 1] → rgb. */
function ramp(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

interface HeatmapProps {
  rows: number;
  cols: number;
  /** row-major; null (or a non-finite number) where the block holds a NaN or an infinity */
  data: readonly (number | null)[];
  /** tensor values per cell along each axis (1: every value shown) */
  rowStride?: number;
  colStride?: number;
  /** the selection the cells are of (data-slice, for tests and the caption) */
  slice?: string;
  caption: string;
  dim?: boolean;
}

function Heatmap({ rows, cols, data, rowStride = 1, colStride = 1, slice, caption, dim }: HeatmapProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string>('');
  const [lo, hi] = useMemo(() => {
    let a = Infinity, b = -Infinity;
    for (const v of data) if (v !== null && Number.isFinite(v)) { if (v < a) a = v; if (v > b) b = v; }
    return a <= b ? [a, b] : [0, 1];
  }, [data]);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const v = data[i];
      const [r, g, b] = v !== null && Number.isFinite(v) ? ramp(hi > lo ? (v - lo) / (hi - lo) : 0.5) : [255, 0, 255];
      img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [rows, cols, data, lo, hi]);
  // fit the pane: at most 256×160 px, cells at most 16 px a side (a 2×128 slice is 256×32, not 256×4)
  const cw = Math.min(16, 256 / Math.max(cols, 1));
  const ch = Math.min(16, 160 / Math.max(rows, 1));
  const span = (i: number, stride: number): string => (stride > 1 ? `${i * stride}:${(i + 1) * stride}` : String(i));
  return (
    <div className={`heatmap-wrap${dim ? ' is-loading' : ''}`}>
      <canvas
        ref={ref}
        className="heatmap"
        data-testid="heatmap"
        data-slice={slice}
        width={cols}
        height={rows}
        style={{ width: cols * cw, height: rows * ch }}
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const x = Math.min(cols - 1, Math.floor(((e.clientX - r.left) / r.width) * cols));
          const y = Math.min(rows - 1, Math.floor(((e.clientY - r.top) / r.height) * rows));
          const v = data[y * cols + x];
          const what = rowStride > 1 || colStride > 1 ? 'mean' : 'value';
          setHover(v === undefined ? '' : `[${span(y, rowStride)}, ${span(x, colStride)}] ${what} ${v === null || !Number.isFinite(v) ? 'NaN/Inf' : fmtStat(v)}`);
        }}
        onMouseLeave={() => setHover('')}
      />
      <div className="muted small heatmap-caption" data-testid="heatmap-caption" style={{ maxWidth: Math.max(200, cols * cw) }}>
        {hover || `${caption} · ${fmtStat(lo)} … ${fmtStat(hi)}`}
      </div>
    </div>
  );
}

export function TensorStats({ t }: { t: TensorSummary }) {
  const s = t.stats;
  return (
    <table className="stats" data-testid="tensor-stats">
      <tbody>
        <tr><th>shape</th><td data-testid="tensor-shape">[{t.shape.join(', ')}]</td><th>dtype</th><td data-testid="tensor-dtype">{t.dtype}</td></tr>
        <tr><th>min</th><td data-testid="stat-min">{fmtStat(s.min)}</td><th>max</th><td data-testid="stat-max">{fmtStat(s.max)}</td></tr>
        <tr><th>mean</th><td data-testid="stat-mean">{fmtStat(s.mean)}</td><th>std</th><td data-testid="stat-std">{fmtStat(s.std)}</td></tr>
        <tr><th>NaN</th><td data-testid="stat-nan" className={s.nan ? 'error-text' : ''}>{s.nan}</td><th>Inf</th><td data-testid="stat-inf" className={s.inf ? 'error-text' : ''}>{s.inf}</td></tr>
      </tbody>
    </table>
  );
}

/** Where the tensor view gets other slices: the host, for the run that made the tensor. */
export interface SliceSource {
  runId: string;
  /** the tensor in the run: a probe (path, index), or model output `index` (path null) */
  ref: { path: string | null; index: number };
  /** the document changed since the run: other slices need a new run */
  stale: boolean;
  fetch(req: SliceRequest): Promise<SliceResponse>;
  runAgain(): void;
}

type Fetched = { key: string; slice: TensorSlice } | { key: string; problem: string; gone: boolean };

function SliceControls({ shape, sel, onChange }: { shape: readonly number[]; sel: SliceSelection; onChange(s: SliceSelection): void }) {
  if (shape.length < 2) return null;
  const axes = shape.map((n, a) => <option key={a} value={a}>axis {a} ({n})</option>);
  return (
    <div className="slice-controls" data-testid="slice-controls">
      <label className="inline">rows
        <select data-testid="slice-rows" value={sel.rows ?? 0} onChange={(e) => onChange(chooseAxis(sel, 'rows', Number(e.target.value)))}>{axes}</select>
      </label>
      <label className="inline">cols
        <select data-testid="slice-cols" value={sel.cols ?? 0} onChange={(e) => onChange(chooseAxis(sel, 'cols', Number(e.target.value)))}>{axes}</select>
      </label>
      {shape.map((n, a) => (a === sel.rows || a === sel.cols ? null : (
        <label key={a} className="inline slice-at" title={`the position along axis ${a} (0 to ${n - 1})`}>
          axis {a}
          {n > 1 && (
            <input type="range" min={0} max={n - 1} step={1} data-testid={`slice-range-${a}`} value={sel.at[a]}
              onChange={(e) => onChange(choosePosition(sel, shape, a, Number(e.target.value)))} />
          )}
          <input type="number" min={0} max={n - 1} step={1} data-testid={`slice-at-${a}`} value={sel.at[a]} disabled={n <= 1}
            onChange={(e) => onChange(choosePosition(sel, shape, a, Number(e.target.value)))} />
        </label>
      )))}
    </div>
  );
}

/** The heatmap of the chosen slice: the run's own preview for the default one, else the host's slice. */
function SliceView({ t, source }: { t: TensorSummary; source?: SliceSource }) {
  const shapeKey = t.shape.join(',');
  const initial = useMemo(() => defaultSelection(t.shape), [shapeKey]);
  const [sel, setSel] = useState<SliceSelection>(initial);
  // another tensor of another shape: back to its default slice
  const [forShape, setForShape] = useState(shapeKey);
  if (forShape !== shapeKey) { setForShape(shapeKey); setSel(initial); }
  const isDefault = sameSelection(sel, initial);
  const [fetched, setFetched] = useState<Fetched | null>(null);
  const fetchRef = useRef(source?.fetch);
  fetchRef.current = source?.fetch;
  const runId = source?.runId ?? null;
  const path = source?.ref.path;
  const index = source?.ref.index ?? 0;
  const stale = source?.stale ?? true;
  const key = `${runId}|${path}|${index}|${sel.rows}|${sel.cols}|${sel.at.join(',')}`;
  useEffect(() => {
    const fetch = fetchRef.current;
    if (!runId || stale || !fetch || path === undefined) return;
    let live = true;
    // a slider dragged along an axis asks once it rests
    const timer = setTimeout(() => {
      const req: SliceRequest = { runId, path, index, at: sel.at };
      if (sel.rows !== null) req.rows = sel.rows;
      if (sel.cols !== null) req.cols = sel.cols;
      fetch(req).then((r) => {
        if (!live) return;
        setFetched(r.ok ? { key, slice: r.slice } : { key, problem: r.message, gone: r.reason === 'gone' });
      }, (e: unknown) => {
        if (live) setFetched({ key, problem: `the host could not cut the slice: ${(e as Error).message ?? String(e)}`, gone: false });
      });
    }, 60);
    return () => { live = false; clearTimeout(timer); };
  }, [key, runId, stale, path, index, sel]);

  const label = selectionLabel(sel);
  const current = fetched && fetched.key === key ? fetched : null;
  const hm = t.heatmap;
  let body: React.ReactNode;
  if (current && 'slice' in current) {
    const s = current.slice;
    const stride = s.rowStride > 1 || s.colStride > 1 ? ` · stride ${s.rowStride}×${s.colStride} (block means)` : '';
    body = <Heatmap rows={s.rows} cols={s.cols} data={s.data} rowStride={s.rowStride} colStride={s.colStride} slice={label} caption={`${label} · ${s.rows}×${s.cols}${stride}`} />;
  } else if ((current && 'problem' in current && !isDefault) || (stale && source && !isDefault)) {
    const gone = stale || (current && 'problem' in current && current.gone);
    body = (
      <div className="slice-problem" data-testid="slice-problem">
        <div className={gone ? 'muted' : 'error-text'}>
          {stale ? 'The model changed since this run: run it again to see other slices.' : current && 'problem' in current ? current.problem : ''}
        </div>
        {gone && source && <button type="button" data-testid="slice-run-again" onClick={source.runAgain}>Run again</button>}
      </div>
    );
  } else if (isDefault && hm && hm.rows > 0 && hm.cols > 0) {
    body = <Heatmap rows={hm.rows} cols={hm.cols} data={hm.data} slice={label} caption={`${label} · ${hm.rows}×${hm.cols} preview`} />;
  } else if (fetched && 'slice' in fetched) {
    const s = fetched.slice;
    body = <Heatmap rows={s.rows} cols={s.cols} data={s.data} rowStride={s.rowStride} colStride={s.colStride} caption="loading…" dim />;
  } else {
    body = <div className="muted small">loading the slice…</div>;
  }
  if (t.shape.some((n) => n === 0)) body = <div className="muted small">an empty tensor: nothing to draw</div>;
  return (
    <div className="slice-view">
      <div className="muted small">heatmap {label}</div>
      <SliceControls shape={t.shape} sel={sel} onChange={setSel} />
      {body}
    </div>
  );
}

export function TensorView({ t, label, source }: { t: TensorSummary; label: string; source?: SliceSource }) {
  return (
    <div className="tensor-view" data-testid="tensor-view">
      <div className="tensor-title"><strong>{label}</strong> <span className="mono">{t.dtype}[{t.shape.join(',')}]</span></div>
      <div className="tensor-body">
        <div>
          <TensorStats t={t} />
          <div className="muted small">histogram ({t.histogram.length} bins)</div>
          <Histogram counts={t.histogram} min={t.stats.min} max={t.stats.max} />
        </div>
        {t.shape.length > 0 && <SliceView t={t} source={source} />}
      </div>
    </div>
  );
}
