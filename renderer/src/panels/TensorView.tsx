/**
 * One tensor of the last run: shape, dtype, min/max/mean/std, NaN and Inf
 * counts, a histogram and a heatmap of its 2-D slice (the last two axes at
 * index 0 of the others, as the host sends it).
 */
import { useEffect, useRef, useState } from 'react';
import type { TensorSummary } from '../../../engine/host/api';
import { fmtStat } from './format';

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

function Heatmap({ rows, cols, data }: { rows: number; cols: number; data: number[] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<string>('');
  const finite = data.filter(Number.isFinite);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const img = ctx.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const v = data[i];
      const [r, g, b] = Number.isFinite(v) ? ramp(hi > lo ? (v - lo) / (hi - lo) : 0.5) : [255, 0, 255];
      img.data[i * 4] = r; img.data[i * 4 + 1] = g; img.data[i * 4 + 2] = b; img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [rows, cols, data, lo, hi]);
  // fit the pane: at most 140 px tall and 180 px wide (whole pixels per value when it is small)
  const fit = Math.min(140 / Math.max(rows, 1), 180 / Math.max(cols, 1));
  const scale = fit >= 1 ? Math.floor(fit) : fit;
  return (
    <div className="heatmap-wrap">
      <canvas
        ref={ref}
        className="heatmap"
        data-testid="heatmap"
        width={cols}
        height={rows}
        style={{ width: cols * scale, height: rows * scale }}
        onMouseMove={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          const x = Math.floor(((e.clientX - r.left) / r.width) * cols);
          const y = Math.floor(((e.clientY - r.top) / r.height) * rows);
          const v = data[y * cols + x];
          setHover(v === undefined ? '' : `[${y}, ${x}] = ${fmtStat(v)}`);
        }}
        onMouseLeave={() => setHover('')}
      />
      <div className="muted small heatmap-caption" style={{ maxWidth: Math.max(120, cols * scale) }}>{hover || `${rows}×${cols} · ${fmtStat(lo)} … ${fmtStat(hi)}`}</div>
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

export function TensorView({ t, label }: { t: TensorSummary; label: string }) {
  const hm = t.heatmap;
  const slice = t.shape.length > 2 ? `[${t.shape.slice(0, -2).map(() => '0').join(', ')}, :, :]` : t.shape.length === 2 ? '[:, :]' : '';
  return (
    <div className="tensor-view" data-testid="tensor-view">
      <div className="tensor-title"><strong>{label}</strong> <span className="mono">{t.dtype}[{t.shape.join(',')}]</span></div>
      <div className="tensor-body">
        <div>
          <TensorStats t={t} />
          <div className="muted small">histogram ({t.histogram.length} bins)</div>
          <Histogram counts={t.histogram} min={t.stats.min} max={t.stats.max} />
        </div>
        {hm && hm.rows > 0 && hm.cols > 0 && (
          <div>
            <div className="muted small">heatmap {slice}</div>
            <Heatmap rows={hm.rows} cols={hm.cols} data={hm.data} />
          </div>
        )}
      </div>
    </div>
  );
}
