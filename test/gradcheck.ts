/**
 * Test support (imports onnxruntime-node): gradient checks of addGradients
 * against central finite differences, both in float64 on onnxruntime's CPU
 * provider. Used by engine/autodiff's tests.
 *
 *   1. loss = sum over the chosen float outputs of ReduceSum(output * P),
 *      P a fixed random projection (so every output element matters);
 *   2. addGradients(loss, wrt), then toFloat64;
 *   3. one session: the analytic gradients, and the loss at x ± eps for a
 *      few sampled coordinates of each wrt tensor.
 */
import * as ort from 'onnxruntime-node';
import type { ElemType, Model, TensorValue, ValueInfo } from '../engine/core/onnx';
import { ONNX_DTYPE } from '../engine/core/onnx';
import { modelBytes } from '../engine/onnx/write';
import { toOrtTensor } from '../engine/runtime/session';
import { tensorFromValues } from '../engine/weights/init';
import { GraphBuilder, Names } from '../engine/autodiff/builder';
import { addGradients } from '../engine/autodiff/grad';
import { graphNames } from '../engine/autodiff/inline';
import { toFloat64 } from '../engine/autodiff/float64';
import { Shapes, isFloatType, numel } from '../engine/autodiff/shapes';
import { rng } from './ort';


/**
 * Appends loss = sum_o ReduceSum(o * P_o) over `outputs` (float values) as the
 * graph output `loss` (float32; each term cast to float32 first), and
 * `loss_scale` = sum_o ReduceSum(|o * P_o|), the size of the terms the loss
 * sums (what its rounding error is relative to).
 */
export function projectionLoss(model: Model, outputs: readonly string[], seed = 'projection'): Model {
  const shapes = Shapes.ofModel(model);
  const b = new GraphBuilder(shapes, new Names(graphNames(model.graph)));
  b.prefix = 'loss';
  const r = rng(seed);
  let loss: string | undefined, scale: string | undefined;
  const f32 = (v: string, t: ElemType): string => (t === 'float32' ? v : b.op1('Cast', [v], { to: { int: ONNX_DTYPE.float32 } }));
  for (const o of outputs) {
    const t = shapes.type(o);
    const p = b.tensor(t.dtype, Array.from({ length: numel(t.shape) }, () => r() * 2 - 1), t.shape);
    const prod = b.op1('Mul', [o, p]);
    const term = f32(b.op1('ReduceSum', [prod], { keepdims: { int: 0 } }), t.dtype);
    const abs = f32(b.op1('ReduceSum', [b.op1('Abs', [prod])], { keepdims: { int: 0 } }), t.dtype);
    loss = loss ? b.op1('Add', [loss, term]) : term;
    scale = scale ? b.op1('Add', [scale, abs]) : abs;
  }
  if (!loss || !scale) throw new Error('projectionLoss: no outputs');
  b.nodes.push({ op: 'Identity', inputs: [loss], outputs: ['loss'], name: 'loss' }, { op: 'Identity', inputs: [scale], outputs: ['loss_scale'], name: 'loss_scale' });
  const outs: ValueInfo[] = [{ name: 'loss', dtype: 'float32', shape: [] }, { name: 'loss_scale', dtype: 'float32', shape: [] }];
  return { ...model, graph: { ...model.graph, nodes: [...model.graph.nodes, ...b.nodes], outputs: [...model.graph.outputs, ...outs] } };
}

/** Seeded values for a graph input (floats uniform in [lo, hi), ints in [0, 4), bools half true). */
export function inputValue(info: ValueInfo, seed: string, lo = -0.5, hi = 0.5): TensorValue {
  const r = rng(seed);
  const dims = info.shape.map(Number);
  const n = numel(dims);
  if (isFloatType(info.dtype)) return { dtype: 'float64', dims, data: Float64Array.from({ length: n }, () => lo + (hi - lo) * r()) };
  if (info.dtype === 'bool') return tensorFromValues(Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)), dims, 'bool');
  return tensorFromValues(Array.from({ length: n }, () => Math.floor(r() * 4)), dims, info.dtype);
}

/** A feed for onnxruntime (float64 included). */
export const toOrt = toOrtTensor;

export interface GradCheckOptions {
  loss: string;
  wrt: readonly string[];
  /** input values by name (float64 for floats); the rest are seeded (inputValue) */
  feeds?: Record<string, TensorValue>;
  /** sampled coordinates per wrt tensor (default 3) */
  coords?: number;
  /** at most this many coordinates in all (fewer per tensor, then a sample of the tensors) */
  maxCoords?: number;
  /**
   * check directional derivatives instead of coordinates: `coords` random
   * ±1 directions per tensor, comparing g·v with (L(x + eps v) - L(x - eps v)) / 2 eps
   * (a loss change summed over the whole tensor stands far above rounding noise)
   */
  directions?: boolean;
  seed?: string;
  /** finite-difference step (scaled by max(1, |x|)); default 1e-5 */
  eps?: number;
  /**
   * |analytic - fd| <= rtol * max(|analytic|, |fd|) + atol + noise, where
   * noise = 4 * 2^-52 * S / eps bounds the central difference's rounding
   * error when the graph output `scale` holds S = the sum of |terms| of the
   * loss (projectionLoss's loss_scale): each loss value is off by a few ulps
   * of S, and the difference divides that by 2 eps.
   */
  rtol?: number;
  atol?: number;
  scale?: string;
  /** float inputs' range */
  range?: [number, number];
  /** values no gradient flows through (the lowering's stopGradients) */
  stop?: Iterable<string>;
}

export interface Mismatch { wrt: string; index: number; analytic: number; fd: number }

export interface GradCheckResult {
  loss: number;
  /** coordinates compared */
  checked: number;
  mismatches: Mismatch[];
  /** the largest |analytic - fd| / (rtol max(|a|,|fd|) + atol) seen (<= 1 passes) */
  worst: number;
  /** the absolute floor used (atol + rounding noise) */
  atol: number;
  unreached: string[];
  /** the float64 gradient model (for inspection) */
  model: Model;
}

/** Runs the check; mismatches are returned, not thrown. */
export async function gradCheck(model: Model, o: GradCheckOptions): Promise<GradCheckResult> {
  const { model: gm, grads, unreached } = addGradients(model, { loss: o.loss, wrt: o.wrt, stop: o.stop });
  const m64 = toFloat64(gm);
  const opts: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };
  const session = await ort.InferenceSession.create(modelBytes(m64), opts);
  // finite differences on the forward graph alone
  const forward = await ort.InferenceSession.create(modelBytes(toFloat64(model)), opts);
  try {
    const r = rng(`${o.seed ?? 'gradcheck'}:coords`);
    const [lo, hi] = o.range ?? [-0.5, 0.5];
    const values: Record<string, TensorValue> = {};
    for (const info of m64.graph.inputs) values[info.name] = o.feeds?.[info.name] ?? inputValue(info, `${o.seed ?? 'gradcheck'}:${info.name}`, lo, hi);
    const feeds = (): Record<string, ort.Tensor> => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toOrt(v)]));
    const out = await session.run(feeds());
    const forwardNames = new Set(forward.inputNames);
    const lossAt = async (): Promise<number> => Number((await forward.run(Object.fromEntries(Object.entries(feeds()).filter(([k]) => forwardNames.has(k))), [o.loss]))[o.loss].data[0]);
    const loss = Number(out[o.loss].data[0]);
    const rtol = o.rtol ?? 1e-6, eps0 = o.eps ?? 1e-5;
    const S = o.scale ? Number(out[o.scale].data[0]) : 0;
    const atolAt = (eps: number): number => (o.atol ?? 1e-9) + (4 * 2 ** -52 * S) / eps;
    const atol = atolAt(eps0);
    const mismatches: Mismatch[] = [];
    let checked = 0, worst = 0;
    /**
     * Compares `a` with the central difference along `dir` (x += s dir), at eps
     * and, if that misses, at eps / 10: truncation error shrinks and rounding
     * noise grows with the step, so a right gradient meets one of them (a
     * strongly curved point, e.g. LayerNorm of a near-constant row, needs the
     * smaller step); a wrong rule misses both by its own error.
     */
    const compare = async (w: string, index: number, a: number, scale: number, move: (s: number) => void): Promise<void> => {
      let best = Infinity, fdBest = NaN;
      for (const eps of [eps0 * scale, (eps0 * scale) / 10]) {
        move(eps);
        const up = await lossAt();
        move(-eps);
        const down = await lossAt();
        move(0);
        const fd = (up - down) / (2 * eps);
        const ratio = Math.abs(a - fd) / (rtol * Math.max(Math.abs(a), Math.abs(fd)) + atolAt(eps / scale));
        if (!(ratio >= best)) { best = ratio; fdBest = fd; }
        if (ratio <= 1) break;
      }
      worst = Math.max(worst, Number.isNaN(best) ? Infinity : best);
      if (!(best <= 1)) mismatches.push({ wrt: w, index, analytic: a, fd: fdBest });
      checked++;
    };
    const budget = o.maxCoords ?? Infinity;
    const perTensor = Math.max(1, Math.min(o.coords ?? 3, Math.floor(budget / o.wrt.length)));
    const tensors = [...o.wrt];
    while (tensors.length > budget) tensors.splice(Math.floor(r() * tensors.length), 1);
    for (const w of tensors) {
      const g = out[grads.get(w)!].data as Float64Array;
      const x = values[w].data as Float64Array;
      const n = x.length;
      if (o.directions) {
        for (let j = 0; j < perTensor; j++) {
          const v = Float64Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1));
          const x0 = Float64Array.from(x);
          let a = 0;
          for (let i = 0; i < n; i++) a += g[i] * v[i];
          await compare(w, -1 - j, a, 1, (s) => { for (let i = 0; i < n; i++) x[i] = x0[i] + s * v[i]; });
        }
        continue;
      }
      const picks = new Set<number>();
      const want = Math.min(n, perTensor);
      while (picks.size < want) picks.add(Math.floor(r() * n));
      for (const i of picks) {
        const x0 = x[i];
        await compare(w, i, g[i], Math.max(1, Math.abs(x0)), (s) => { x[i] = x0 + s; });
      }
    }
    return { loss, checked, mismatches, worst, atol, unreached, model: m64 };
  } finally {
    await session.release();
    await forward.release();
  }
}
