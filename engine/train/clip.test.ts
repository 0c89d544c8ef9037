/**
 * Global-norm gradient clipping on onnxruntime's CPU provider, with the
 * norm above and below the threshold, against Trax's
 * `where(norm < max_norm, g, g * (max_norm / norm))` written out here.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Graph } from '../core/onnx';
import { Scope, ScopeEmitter, type ModelState } from '../onnx/emit';
import { modelBytes } from '../onnx/write';
import { rng } from '../../test/ort';
import { clipByGlobalNorm, globalNorm } from './clip';

type Dt = 'float32' | 'float64';
const SHAPES = [[3, 4], [5], []];

function grads(seed: string, scale: number): number[][] {
  const r = rng(seed);
  return SHAPES.map((s) => Array.from({ length: s.reduce((a, d) => a * d, 1) }, () => Math.fround((r() * 2 - 1) * scale)));
}

/** Runs clipByGlobalNorm over the three gradients; returns the clipped gradients and the norm. */
async function clip(gs: number[][], maxNorm: number, dt: Dt): Promise<{ grads: number[][]; norm: number }> {
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: false, mode: 'train', seed: 0 };
  const scope = new Scope(state, 'graph');
  const names = SHAPES.map((_, i) => { scope.reserve(`g${i}`); return `g${i}`; });
  const r = clipByGlobalNorm(new ScopeEmitter(scope, 'clip'), names.map((value) => ({ value, dtype: dt })), maxNorm);
  expect(r.normDtype).toBe(dt);
  const graph: Graph = {
    name: 'clip',
    inputs: names.map((name, i) => ({ name, dtype: dt, shape: SHAPES[i] })),
    outputs: [...r.grads.map((name, i) => ({ name, dtype: dt, shape: SHAPES[i] })), { name: r.norm, dtype: dt, shape: [] }],
    nodes: scope.nodes,
    initializers: [],
  };
  const session = await ort.InferenceSession.create(modelBytes({ graph, functions: [], producer: 'strata', metadata: {} }));
  const feeds = Object.fromEntries(names.map((n, i) => [n, dt === 'float64' ? new ort.Tensor('float64', Float64Array.from(gs[i]), SHAPES[i]) : new ort.Tensor('float32', Float32Array.from(gs[i]), SHAPES[i])]));
  const out = await session.run(feeds);
  await session.release();
  return { grads: r.grads.map((n) => Array.from(out[n].data as ArrayLike<number>)), norm: Number(out[r.norm].data[0]) };
}

const normOf = (gs: number[][]) => Math.sqrt(gs.flat().reduce((a, x) => a + x * x, 0));

describe('clipping by global norm', () => {
  for (const dt of ['float32', 'float64'] as const) {
    const tol = dt === 'float64' ? 1e-14 : 1e-6;

    it(`${dt}: a norm above the threshold scales every gradient by max_norm / norm`, async () => {
      const gs = grads('above', 1);
      const norm = normOf(gs);
      expect(norm).toBeGreaterThan(1.5);
      const got = await clip(gs, 1.5, dt);
      expect(Math.abs(got.norm - norm)).toBeLessThan(tol * norm);
      got.grads.forEach((g, i) => g.forEach((x, j) => expect(Math.abs(x - gs[i][j] * (1.5 / norm))).toBeLessThan(tol)));
      expect(normOf(got.grads)).toBeCloseTo(1.5, dt === 'float64' ? 12 : 5);
    });

    it(`${dt}: a norm below the threshold leaves the gradients exactly as they were`, async () => {
      const gs = grads('below', 0.1);
      const norm = normOf(gs);
      expect(norm).toBeLessThan(1.5);
      const got = await clip(gs, 1.5, dt);
      expect(Math.abs(got.norm - norm)).toBeLessThan(tol * norm);
      expect(got.grads).toEqual(gs);
    });
  }

  it('a zero gradient passes (no 0/0)', async () => {
    const gs = SHAPES.map((s) => new Array<number>(s.reduce((a, d) => a * d, 1)).fill(0));
    const got = await clip(gs, 1, 'float32');
    expect(got.norm).toBe(0);
    expect(got.grads).toEqual(gs);
  });

  it('bad thresholds and empty gradient lists are errors that name the field', () => {
    const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: false, mode: 'train', seed: 0 };
    const e = new ScopeEmitter(new Scope(state, 'graph'), 'clip');
    expect(() => clipByGlobalNorm(e, [{ value: 'g', dtype: 'float32' }], 0)).toThrow(/clip_grad_norm must be a number > 0, got 0/);
    expect(() => globalNorm(e, [])).toThrow(/at least one gradient/);
  });
});
