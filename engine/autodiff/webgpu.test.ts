/**
 * Backward graphs on the WebGPU provider (under Mesa's software Vulkan, set
 * up by scripts/test.sh; STRATA_WEBGPU=1): each rule family's one-op
 * gradient graph and the whole models' gradient graphs (lowered for the
 * GPU) run with CPU fallback disabled, so every backward node must be placed
 * on the GPU provider, and the gradients must match the CPU provider's to
 * 1e-4 of the largest.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Model } from '../core/onnx';
import { parseShapeDtype } from '../core/shape';
import { lowerDocument } from '../onnx/lower';
import { modelBytes } from '../onnx/write';
import { codeToTree } from '../tracecode/parse';
import { randomTensor } from '../../test/ort';
import { addGradients } from './grad';
import { inputValue, projectionLoss, toOrt } from '../../test/gradcheck';
import { RULE_CASES, oneOp } from './rule-cases';
import { isFloatType } from './shapes';
import '../../kernels';

const enabled = !!process.env.STRATA_WEBGPU;

async function compare(model: Model, wrt: string[], seed: string, range: [number, number] = [-0.5, 0.5]): Promise<void> {
  const { model: gm, grads } = addGradients(model, { loss: 'loss', wrt });
  const feeds = Object.fromEntries(gm.graph.inputs.map((v) => {
    const t = inputValue(v, `${seed}:${v.name}`, ...range);
    return [v.name, toOrt(t.dtype === 'float64' ? { dtype: 'float32', dims: t.dims, data: Float32Array.from(t.data as Float64Array) } : t)];
  }));
  const bytes = modelBytes(gm);
  const cpu = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const gpu = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], logSeverityLevel: 3, extra: { session: { disable_cpu_ep_fallback: '1' } } });
  try {
    const names = [...grads.values()];
    const [a, b] = [await cpu.run(feeds, names), await gpu.run(feeds, names)];
    for (const n of names) {
      const xs = Array.from(a[n].data as Float32Array), ys = Array.from(b[n].data as Float32Array);
      const scale = xs.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      xs.forEach((v, j) => { if (!(Math.abs(v - ys[j]) <= 1e-4 * scale)) expect(ys[j], `${n}[${j}]`).toBe(v); });
    }
  } finally {
    await cpu.release();
    await gpu.release();
  }
}

describe.runIf(enabled)('backward graphs run on the WebGPU provider, every node on the GPU', () => {
  for (const c of RULE_CASES) {
    it(c.name, async () => {
      const { model, wrt, outs } = oneOp(c.op, c.ins, c.attrs, c.nOut, c.outputs);
      await compare(projectionLoss(model, outs, c.name), wrt, c.name, c.range);
    });
  }
  const MODELS: Record<string, [string, string]> = {
    TransformerLM: ['trax.models.TransformerLM(vocab_size=16, d_model=8, d_ff=16, n_layers=1, n_heads=2, max_len=32)', 'int32[2,6]'],
    'LSTM tagger': ['tl.Serial(tl.Embedding(vocab_size=10, d_feature=4), tl.LSTM(4), tl.Dense(3), tl.LogSoftmax())', 'int32[2,5]'],
    'CNN': ["tl.Serial(tl.Conv(4, (3, 3), padding='SAME'), tl.Relu(), tl.MaxPool(pool_size=(2, 2), strides=(2, 2)), tl.AvgPool(pool_size=(2, 2)), tl.Flatten(), tl.Dense(3), tl.LogSoftmax())", 'float32[2,6,6,1]'],
  };
  for (const [name, [code, input]] of Object.entries(MODELS)) {
    it(name, async () => {
      const low = lowerDocument({ root: codeToTree(code), input: [parseShapeDtype(input)] }, { mode: 'train', seed: 11, weights: 'inputs', gpu: true, weightValue: (ref) => randomTensor(ref.decl, ref.key) });
      const wrt = low.weights.filter((w) => w.role === 'weight' && isFloatType(w.decl.dtype)).map((w) => w.key);
      await compare(projectionLoss(low.model, low.outputs.filter((o) => isFloatType(o.dtype)).map((o) => o.name), name), wrt, name);
    });
  }
});
