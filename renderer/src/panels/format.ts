/** Small text formatting shared by the panels. */
import type { Dim } from '../../../engine/core/dim';
import { type ShapeDtype, formatShapeDtype } from '../../../engine/core/shape';

/** 1050624 → 1,050,624; a symbolic count stays as written. */
export function fmtCount(d: Dim): string {
  if (typeof d === 'string') return d;
  return d.toLocaleString('en-US');
}

/** 1050624 → 1.05M */
export function fmtShort(d: Dim): string {
  if (typeof d === 'string') return d;
  const a = Math.abs(d);
  if (a >= 1e9) return `${(d / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(d / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(d / 1e3).toPrecision(3)}k`;
  return String(d);
}

/** A statistic: 4 significant digits, or the host's text (nan, inf). */
export function fmtStat(v: number | string): string {
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

export function fmtSig(x: ShapeDtype): string {
  return formatShapeDtype(x);
}
