/**
 * The update graphs on onnxruntime's WebGPU provider (under Mesa's software
 * Vulkan where there is no GPU; scripts/test.sh sets it up), with CPU
 * fallback disabled, so every node must be placed on the GPU. Step 1 keeps
 * the new weights and slots on the device (`gpu-buffer`); step 2 takes them
 * as they are and returns its outputs to the host; both steps must match
 * the CPU provider's to 1e-5.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { modelBytes } from '../onnx/write';
import { rng } from '../../test/ort';
import { parseOptimizer, updateModel, type WeightSpec } from './optimizers';
import { parseSchedule } from './schedules';

const enabled = !!process.env.STRATA_WEBGPU;

const WEIGHTS: WeightSpec[] = [
  { key: 'Dense/weights', dtype: 'float32', shape: [8, 16] },
  { key: 'Dense/bias', dtype: 'float32', shape: [16] },
  { key: 'Attention/w', dtype: 'float32', shape: [2, 4, 8] },
];

const CONFIGS: [string, Record<string, number | boolean>][] = [
  ['sgd', { clip_grad_norm: 1 }],
  ['momentum', { clip_grad_norm: 1 }],
  ['momentum', { nesterov: false }],
  ['adam', { clip_grad_norm: 1, weight_decay_rate: 0.01 }],
  ['rmsprop', { clip_grad_norm: 1 }],
  ['adafactor', { clip_grad_norm: 1 }],
  ['adafactor', { factored: false, do_momentum: true, beta1: 0.9, weight_decay_n_steps: 10 }],
];

function tensor(shape: readonly number[], seed: string): ort.Tensor {
  const r = rng(seed);
  const n = shape.reduce((a, d) => a * d, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, () => r() * 2 - 1), [...shape]);
}

describe.runIf(enabled)('optimizer updates on the WebGPU provider, every node on the GPU, state kept on the device', () => {
  for (const [name, o] of CONFIGS) {
    for (const schedule of [parseSchedule('rsqrt', { n_warmup_steps: 1, max_value: 0.01 }), parseSchedule('cosine', { max_value: 0.01, n_steps: 4, n_warmup_steps: 1 })]) {
      it(`${name} ${JSON.stringify(o)} ${schedule.kind}`, async () => {
        const opt = parseOptimizer(name, o);
        const m = updateModel(opt, WEIGHTS, schedule, { gpu: true });
        const bytes = modelBytes(m.model);
        const stateOutputs = [...m.outputs.weights, ...m.outputs.slots.flat()];
        const gpuOpts = { executionProviders: ['webgpu'], extra: { session: { disable_cpu_ep_fallback: '1' } } };
        const cpu = await ort.InferenceSession.create(bytes);
        const resident = await ort.InferenceSession.create(bytes, { ...gpuOpts, preferredOutputLocation: Object.fromEntries(stateOutputs.map((n) => [n, 'gpu-buffer' as const])) });
        const gpu = await ort.InferenceSession.create(bytes, gpuOpts);

        const feeds = (step: number, prev?: Record<string, ort.Tensor>): Record<string, ort.Tensor> => {
          const f: Record<string, ort.Tensor> = { [m.inputs.step]: new ort.Tensor('float32', Float32Array.of(step), []) };
          WEIGHTS.forEach((w, i) => {
            f[m.inputs.weights[i]] = prev ? prev[m.outputs.weights[i]] : tensor(w.shape, `w${i}`);
            f[m.inputs.grads[i]] = tensor(w.shape, `g${i}:${step}`);
            m.slotDecls[i].forEach((d, j) => {
              f[m.inputs.slots[i][j]] = prev ? prev[m.outputs.slots[i][j]] : new ort.Tensor('float32', new Float32Array(d.shape.reduce((a, x) => a * x, 1)).fill(d.fill), [...d.shape]);
            });
          });
          return f;
        };
        const c1 = await cpu.run(feeds(1));
        const c2 = await cpu.run(feeds(2, c1));
        const g1 = await resident.run(feeds(1));
        for (const n of stateOutputs) expect(g1[n].location, n).toBe('gpu-buffer');
        const g2 = await gpu.run(feeds(2, g1));
        for (const n of stateOutputs) g1[n].dispose();

        expect(Number(g1[m.outputs.lr].data[0])).toBeCloseTo(Number(c1[m.outputs.lr].data[0]), 7);
        for (const n of [m.outputs.lr, ...stateOutputs, ...(m.outputs.gradNorm ? [m.outputs.gradNorm] : [])]) {
          const want = c2[n].data as Float32Array, got = g2[n].data as Float32Array;
          expect(got.length, n).toBe(want.length);
          want.forEach((v, j) => {
            if (!(Math.abs(v - got[j]) <= 1e-5 * Math.max(1, Math.abs(v)))) expect(got[j], `${n}[${j}]`).toBe(v);
          });
        }
        await Promise.all([cpu.release(), resident.release(), gpu.release()]);
      });
    }
  }
});
