/**
 * toFloat64: every catalog row computes the same in float64 as in float32
 * (same inputs, weights and seed), and the float64 model holds no float32
 * value except inside integer-input functions (the random-number hash).
 * The rows that use an op rewritten for float64 (Elu, LeakyRelu, Softplus,
 * Erf, Conv, AveragePool) are what this checks most; the rewrites are also
 * checked one by one against formulas.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Model, OnnxNode, TensorValue } from '../core/onnx';
import { ONNX_DTYPE } from '../core/onnx';
import { formatShapeDtype } from '../core/shape';
import type { NodeTrace } from '../document/trace';
import { caseToNode } from '../layers/cases/all';
import { runnableRows } from '../onnx/catalog-rows';
import { type WeightRef, lowerDocument } from '../onnx/lower';
import { modelBytes } from '../onnx/write';
import { randomTensor } from '../../test/ort';
import { toFloat64 } from './float64';
import { inputValue, toOrt } from '../../test/gradcheck';
import { Shapes, isFloatType } from './shapes';
import '../../kernels';

const REWRITTEN = new Set(['Elu', 'LeakyRelu', 'Softplus', 'Erf', 'Conv', 'AveragePool']);
const rows = runnableRows();

function weightValue(ref: WeightRef): TensorValue {
  const t = randomTensor(ref.decl, ref.key);
  return ref.role === 'state' && t.data instanceof Float32Array ? { ...t, data: t.data.map((v) => v + 1) } : t;
}

/** float32 values of a float64 feed (the same numbers, rounded once) */
const narrow = (v: TensorValue): TensorValue => (v.dtype === 'float64' ? { dtype: 'float32', dims: v.dims, data: Float32Array.from(v.data as Float64Array) } : v);

const halfTypes = (m: Model): boolean => {
  const s = Shapes.ofModel(m);
  const half = (v: string): boolean => !!v && (s.dtype(v) === 'float16' || s.dtype(v) === 'bfloat16');
  return m.graph.inputs.some((v) => half(v.name)) || m.graph.nodes.some((n) => n.outputs.some(half));
};

function someLayer(t: NodeTrace, f: (t: NodeTrace) => boolean): boolean {
  return f(t) || [...t.children, ...Object.values(t.slots), t.expansion].some((c) => !!c && someLayer(c, f));
}

/**
 * Where float32 itself is imprecise by design, float64 is the better answer:
 * - masked EncDecAttention subtracts 1e9 from every logit, which float32
 *   (ulp 64 at 1e9) turns into equal logits: not comparable;
 * - LSH attention masks a query's own key with -1e5, and a query that sees
 *   only itself gets a logsumexp near -1e5, where float32 keeps 2^-24 * 1e5
 *   ~ 6e-3: compared to 1e-2.
 */
const maskedEncDec = (t: NodeTrace): boolean => t.node.kind === 'EncDecAttention' && !!t.analysis.params?.masked;
const lsh = (t: NodeTrace): boolean => /LSH/.test(t.node.kind);

describe('toFloat64 computes every catalog row as float32 does', () => {
  const stats = { rows: 0, rewritten: 0, skipped: [] as string[], worst: 0 };
  for (const [i, { row, input }] of rows.entries()) {
    it(`${row.kind} #${i} ${input.map(formatShapeDtype).join(', ')}${row.note ? ` (${row.note})` : ''}`, async () => {
      const low = lowerDocument({ root: caseToNode(row), input }, { mode: 'train', seed: 3, weightValue });
      if (!low.outputs.length) return;
      // half-precision values round differently from float64 ones by design
      if (halfTypes(low.model) || someLayer(low.trace.root, maskedEncDec)) { stats.skipped.push(`${row.kind} #${i}`); return; }
      const tol = someLayer(low.trace.root, lsh) ? 1e-2 : 2e-5;
      const m64 = toFloat64(low.model);
      // no float32 left, except inside integer-input functions (kept with their float32 rounding)
      const kept = new Set(m64.functions.map((f) => f.name));
      const s64 = Shapes.ofModel(m64);
      for (const n of m64.graph.nodes) {
        if (n.domain && kept.has(n.op)) continue;
        for (const o of n.outputs) if (o) expect(s64.dtype(o), `${n.op} ${o}`).not.toBe('float32');
      }
      for (const v of [...m64.graph.inputs, ...m64.graph.outputs]) expect(v.dtype).not.toBe('float32');
      const values = Object.fromEntries(m64.graph.inputs.map((v) => [v.name, inputValue(v, `${i}:${v.name}`)]));
      // the same numbers in both: drawn in float64, rounded to float32
      for (const [k, v] of Object.entries(values)) if (v.dtype === 'float64') values[k] = { ...v, data: Float64Array.from(Float32Array.from(v.data as Float64Array)) };
      const [a, b] = await Promise.all([low.model, m64].map(async (m, which) => {
        // (no graph optimizations: onnxruntime fuses x * sigmoid(x) into com.microsoft.QuickGelu, which has no float64 kernel)
        const session = await ort.InferenceSession.create(modelBytes(m), { logSeverityLevel: 3, graphOptimizationLevel: 'disabled' });
        const out = await session.run(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toOrt(which ? v : narrow(v))])));
        await session.release();
        return low.outputs.map((o) => out[o.name]);
      }));
      a.forEach((x, j) => {
        const y = b[j];
        expect([...y.dims]).toEqual([...x.dims]);
        const xs = Array.from(x.data as ArrayLike<number | bigint | boolean>, Number), ys = Array.from(y.data as ArrayLike<number | bigint | boolean>, Number);
        const scale = ys.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 1);
        xs.forEach((v, k) => {
          const w = ys[k];
          if (Number.isNaN(w) || !Number.isFinite(w)) { expect(v, `output ${j}[${k}]`).toBe(w); return; }
          const err = Math.abs(v - w) / scale;
          if (tol < 1e-4) stats.worst = Math.max(stats.worst, err);
          if (!(err < tol)) expect(err, `output ${j}[${k}]: float32 ${v}, float64 ${w}`).toBeLessThan(tol);
        });
      });
      stats.rows++;
      if (low.model.graph.nodes.some((n: OnnxNode) => REWRITTEN.has(n.op)) || low.model.functions.some((f) => f.nodes.some((n) => REWRITTEN.has(n.op)))) stats.rewritten++;
    });
  }
  it('covers the rows with rewritten ops', () => {
    console.log(`float64 vs float32: ${stats.rows} rows agree (${stats.rewritten} with a rewritten op), worst error ${stats.worst.toExponential(2)} of max(1, |output|) outside LSH rows; not compared: ${stats.skipped.join(', ')} (float16/bfloat16 values, masked EncDecAttention)`);
    expect(stats.rewritten).toBeGreaterThan(10);
  });
});

describe('float64 rewrites', () => {
  async function unary(op: 'Elu' | 'LeakyRelu' | 'Softplus' | 'Erf', xs: number[], attrs?: OnnxNode['attrs']): Promise<number[]> {
    const model: Model = {
      graph: { name: 'g', inputs: [{ name: 'x', dtype: 'float32', shape: [xs.length] }], outputs: [{ name: 'y', dtype: 'float32', shape: [xs.length] }], nodes: [{ op, inputs: ['x'], outputs: ['y'], name: 'y', ...(attrs ? { attrs } : {}) }], initializers: [] },
      functions: [], producer: 'test', metadata: {},
    };
    const m64 = toFloat64(model);
    expect(m64.graph.nodes.some((n) => n.op === op)).toBe(false);
    const s = await ort.InferenceSession.create(modelBytes(m64));
    const out = await s.run({ x: new ort.Tensor('float64', Float64Array.from(xs), [xs.length]) });
    return Array.from(out.y.data as Float64Array);
  }
  const xs = [-6, -3.5, -2, -1.999, -0.7, -1e-3, 0, 2e-4, 0.3, 1, 1.9999, 2, 2.5, 4, 7];

  it('Erf to 1e-15 on both branches (|x| < 2: series, >= 2: continued fraction)', async () => {
    // reference values: mpmath.erf at 30 digits, rounded to float64
    const want: Record<number, number> = {
      [-6]: -1.0, [-3.5]: -0.9999992569016276, [-2]: -0.9953222650189527, [-1.999]: -0.9953015566513705, [-0.7]: -0.6778011938374184,
      [-0.001]: -0.0011283787909692365, [0]: 0.0, [0.0002]: 0.00022567583041009146, [0.3]: 0.3286267594591274, [1]: 0.8427007929497149,
      [1.9999]: 0.9953201979070294, [2]: 0.9953222650189527, [2.5]: 0.999593047982555, [4]: 0.9999999845827421, [7]: 1.0,
    };
    const got = await unary('Erf', xs);
    xs.forEach((x, i) => expect(Math.abs(got[i] - want[x]), `erf(${x})`).toBeLessThan(1e-15));
  });
  it('Elu, LeakyRelu and Softplus as formulas', async () => {
    const elu = await unary('Elu', xs, { alpha: { float: 0.5 } });
    const leaky = await unary('LeakyRelu', xs, { alpha: { float: 0.25 } });
    const soft = await unary('Softplus', xs);
    xs.forEach((x, i) => {
      expect(elu[i]).toBeCloseTo(x < 0 ? 0.5 * Math.expm1(x) : x, 15);
      expect(leaky[i]).toBe(x < 0 ? 0.25 * x : x);
      expect(soft[i]).toBeCloseTo(Math.log1p(Math.exp(x)), 14);
    });
  });
  it('turns Cast to float32 into Cast to float64 and keeps integer casts', () => {
    const model: Model = {
      graph: {
        name: 'g', inputs: [{ name: 'x', dtype: 'int32', shape: [2] }], outputs: [{ name: 'z', dtype: 'int32', shape: [2] }], initializers: [],
        nodes: [
          { op: 'Cast', inputs: ['x'], outputs: ['y'], attrs: { to: { int: ONNX_DTYPE.float32 } } },
          { op: 'Cast', inputs: ['y'], outputs: ['z'], attrs: { to: { int: ONNX_DTYPE.int32 } } },
        ],
      },
      functions: [], producer: 'test', metadata: {},
    };
    const m64 = toFloat64(model);
    expect(m64.graph.nodes.map((n) => n.attrs?.to)).toEqual([{ int: ONNX_DTYPE.float64 }, { int: ONNX_DTYPE.int32 }]);
    expect(isFloatType('float64')).toBe(true);
  });
});
