/** The run's statistics as the canvas shows them, and the tensor view's slice selection (no browser). */
import { describe, expect, it } from 'vitest';
import type { ProbeSummary } from '../../../engine/host/api';
import { traceDocument } from '../../../engine/document/trace';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { chooseAxis, choosePosition, defaultSelection, edgeStat, edgeStats, sameSelection, selectionLabel, shortStat } from './runState';

const probe = (path: string, index: number, stats: Partial<ProbeSummary['stats']>, shape = [2, 8]): ProbeSummary => ({
  path, kind: 'Dense', index, dtype: 'float32', shape, histogram: [],
  stats: { min: -1, max: 1, mean: 0, std: 1, nan: 0, inf: 0, ...stats },
});

describe('statistics on the edges', () => {
  it('formats a compact line, 3 significant digits, exponents when tiny or huge', () => {
    expect(shortStat(0.012345)).toBe('0.0123');
    expect(shortStat(0.98)).toBe('0.98');
    expect(shortStat(-123.456)).toBe('-123');
    expect(shortStat(0)).toBe('0');
    expect(shortStat(0.00001234)).toBe('1.2e-5');
    expect(shortStat(123456789)).toBe('1.2e8');
    expect(shortStat('nan')).toBe('nan');
    expect(edgeStat(probe('Serial[0]', 0, { mean: 0.012345, std: 0.98 }))).toEqual({
      line: 'μ 0.0123 σ 0.98', bad: '',
      tip: 'float32[2,8] · mean 0.0123 · std 0.98 · min -1 · max 1 (click for the tensor view)',
    });
  });

  it('badges NaN and Inf counts only when there are any', () => {
    const s = edgeStat(probe('Serial[0]', 0, { nan: 3, inf: 1200, mean: 'nan', std: 'nan' }));
    expect(s.bad).toBe('NaN 3 · Inf 1,200');
    expect(s.line).toBe('μ nan σ nan');
    expect(s.tip).toMatch(/NaN 3 · Inf 1,200/);
    expect(edgeStat(probe('Serial[0]', 0, { inf: 2 })).bad).toBe('Inf 2');
  });

  it('finds an item that passed by a layer at the layer that produced it; nothing without probes', () => {
    const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Dense(8), tl.Dup(), tl.Dense(4))');
    const trace = traceDocument(doc);
    const dense0 = probe('Serial[0]', 0, { mean: 0.5 });
    const dup = [probe('Serial[1]', 0, { mean: 0.5 }), probe('Serial[1]', 1, { mean: 0.5 })];
    const last = probe('Serial[2]', 0, { mean: 7 });
    const stats = edgeStats([dense0, ...dup, last], trace)!;
    expect(stats.at('Serial[2]', 0)?.line).toBe('μ 7 σ 1');
    // the Dup's second copy passed by the last Dense
    expect(stats.at('Serial[2]', 1)?.line).toBe('μ 0.5 σ 1');
    expect(stats.at('Serial[9]', 0)).toBeUndefined();
    expect(stats.at('Serial[2]', 1)).toBe(stats.at('Serial[2]', 1));
    expect(edgeStats([], trace)).toBeUndefined();
  });
});

describe('the tensor view\'s slice', () => {
  it('starts at the last two axes, position 0 of the others', () => {
    expect(defaultSelection([2, 16, 32000])).toEqual({ rows: 1, cols: 2, at: [0, 0, 0] });
    expect(defaultSelection([5])).toEqual({ rows: null, cols: 0, at: [0] });
    expect(selectionLabel(defaultSelection([2, 3, 4, 5]))).toBe('[0, 0, :, :]');
  });

  it('swaps the axes when one takes the other\'s, and clamps positions to the axis', () => {
    const s = defaultSelection([2, 16, 32000]);
    expect(chooseAxis(s, 'rows', 2)).toMatchObject({ rows: 2, cols: 1 });
    expect(chooseAxis(s, 'cols', 0)).toMatchObject({ rows: 1, cols: 0 });
    const moved = choosePosition(chooseAxis(s, 'rows', 0), [2, 16, 32000], 1, 99);
    expect(moved).toEqual({ rows: 0, cols: 2, at: [0, 15, 0] });
    expect(selectionLabel(moved)).toBe('[:, 15, :]');
    expect(choosePosition(s, [2, 16, 32000], 0, -3).at[0]).toBe(0);
    expect(sameSelection(s, defaultSelection([2, 16, 32000]))).toBe(true);
    expect(sameSelection(s, choosePosition(s, [2, 16, 32000], 0, 1))).toBe(false);
    // positions along the drawn axes do not matter
    expect(sameSelection(s, { ...s, at: [0, 5, 9] })).toBe(true);
  });
});
