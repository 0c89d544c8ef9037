/**
 * Model-local functions: inlining keeps what a model computes, gradients go
 * through inlined bodies, and a function with a registered VJP (Trax's
 * has_backward) stays a call and is differentiated by its rule instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Model } from '../core/onnx';
import { STRATA_DOMAIN } from '../core/onnx';
import { parseShapeDtype } from '../core/shape';
import { lowerDocument } from '../onnx/lower';
import { modelBytes } from '../onnx/write';
import { codeToTree } from '../tracecode/parse';
import { randomTensor } from '../../test/ort';
import { addGradients, registerFunctionVjp, unregisterFunctionVjp } from './grad';
import { gradCheck, inputValue, projectionLoss, toOrt } from '../../test/gradcheck';
import { inlineFunctions } from './inline';
import { toFloat64 } from './float64';
import '../../kernels';

/** y = Square(x) * w, with Square(a) = a * a a model-local function (called twice: Square and its variant Square_2) */
function squareModel(): Model {
  return {
    graph: {
      name: 'g',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'w', dtype: 'float32', shape: [3] }],
      outputs: [], initializers: [],
      nodes: [
        { op: 'Square', domain: STRATA_DOMAIN, inputs: ['x'], outputs: ['sq'], name: 'sq' },
        { op: 'Square_2', domain: STRATA_DOMAIN, inputs: ['w'], outputs: ['sw'], name: 'sw' },
        { op: 'Mul', inputs: ['sq', 'sw'], outputs: ['y'], name: 'y' },
      ],
    },
    functions: ['Square', 'Square_2'].map((name) => ({ name, domain: STRATA_DOMAIN, inputs: ['a'], outputs: ['b'], nodes: [{ op: 'Mul', inputs: ['a', 'a'], outputs: ['b'] }] })),
    producer: 'test', metadata: {},
  };
}

async function run(m: Model, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  const s = await ort.InferenceSession.create(modelBytes(m), { logSeverityLevel: 3 });
  try { return await s.run(feeds); } finally { await s.release(); }
}

describe('functions and custom VJPs', () => {
  afterEach(() => unregisterFunctionVjp('Square'));

  it('differentiates through a function body after inlining it', async () => {
    const withLoss = projectionLoss(squareModel(), ['y']);
    const { model } = addGradients(withLoss, { loss: 'loss', wrt: ['x', 'w'] });
    expect(model.functions).toEqual([]);
    expect(model.graph.nodes.some((n) => n.domain === STRATA_DOMAIN)).toBe(false);
    const r = await gradCheck(withLoss, { loss: 'loss', scale: 'loss_scale', wrt: ['x', 'w'], coords: 6 });
    expect(r.mismatches).toEqual([]);
  });

  it('uses a registered VJP instead of the body (also for the numbered variant), keeping the call', async () => {
    // a straight-through rule: d Square(a) = g (the body's rule would give 2 a g)
    registerFunctionVjp('Square', { vjp: (c) => [c.GO(0)] });
    const withLoss = projectionLoss(squareModel(), ['y'], 'p');
    const { model, grads } = addGradients(withLoss, { loss: 'loss', wrt: ['x', 'w'] });
    expect(model.graph.nodes.filter((n) => n.domain === STRATA_DOMAIN).map((n) => n.op)).toEqual(['Square', 'Square_2']);
    expect(model.functions.map((f) => f.name)).toEqual(['Square', 'Square_2']);
    const x = inputValue({ name: 'x', dtype: 'float32', shape: [2, 3] }, 'x');
    const w = inputValue({ name: 'w', dtype: 'float32', shape: [3] }, 'w');
    const f32 = (v: typeof x) => new ort.Tensor('float32', Float32Array.from(v.data as Float64Array), v.dims);
    const out = await run(model, { x: f32(x), w: f32(w) });
    // the projection P is the constant the loss multiplies y with
    const mul = withLoss.graph.nodes.find((n) => n.op === 'Mul' && n.inputs[0] === 'y')!;
    const pNode = withLoss.graph.nodes.find((n) => n.outputs[0] === mul.inputs[1])!;
    const P = Array.from((pNode.attrs!.value as { tensor: { data: Float32Array } }).tensor.data);
    const xs = Array.from(x.data as Float64Array, Math.fround), ws = Array.from(w.data as Float64Array, Math.fround);
    const gx = Array.from(out[grads.get('x')!].data as Float32Array);
    const gw = Array.from(out[grads.get('w')!].data as Float32Array);
    // dL/dx = P * w^2 (straight through Square), dL/dw = sum_rows P * x^2 (straight through Square_2)
    gx.forEach((v, i) => expect(v).toBeCloseTo(P[i] * ws[i % 3] ** 2, 5));
    gw.forEach((v, j) => expect(v).toBeCloseTo(P[j] * xs[j] ** 2 + P[3 + j] * xs[3 + j] ** 2, 5));
    // and it is not the true gradient (2 x w^2 P)
    expect(Math.abs(gx[0] - 2 * xs[0] * ws[0] ** 2 * P[0])).toBeGreaterThan(1e-3);
  });

  it('refuses a custom rule that gives no gradient for an input that needs one', () => {
    registerFunctionVjp('Square', { nonDiff: [0], vjp: () => [undefined] });
    expect(() => addGradients(projectionLoss(squareModel(), ['y']), { loss: 'loss', wrt: ['x'] })).toThrow(/ai\.strata\.Square node 'sq': input 0 \('x'\) depends on a variable, but this rule gives no gradient for it/);
  });

  it('inlining keeps the outputs bit for bit (dropout streams and LSH rotations included)', async () => {
    const doc = { root: codeToTree('trax.models.ReformerLM(vocab_size=16, d_model=8, d_ff=16, d_attention_key=4, d_attention_value=4, n_layers=1, n_heads=2, max_len=256, attention_type=tl.LSHSelfAttention)'), input: [parseShapeDtype('int32[1,256]')] };
    const low = lowerDocument(doc, { mode: 'train', seed: 5, weightValue: (ref) => randomTensor(ref.decl, ref.key) });
    expect(low.model.functions.length).toBeGreaterThan(1);
    const inlined = inlineFunctions(low.model);
    expect(inlined.functions).toEqual([]);
    const feeds = { input_0: toOrt(inputValue(low.inputs[0], 'tokens')) };
    const [a, b] = [await run(low.model, feeds), await run(inlined, feeds)];
    expect(Array.from(b.output_0.data as Float32Array)).toEqual(Array.from(a.output_0.data as Float32Array));
    // and float64 keeps the hash function as a float32 call
    expect(toFloat64(low.model).functions.map((f) => f.name)).toEqual(['UniformHash']);
  });
});
