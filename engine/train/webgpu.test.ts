/**
 * Training on the WebGPU provider (under Mesa's software Vulkan, set up by
 * scripts/test.sh): the weights and optimizer slots stay on the device
 * between steps (gpu-buffer outputs fed back as inputs), every node of the
 * step graph runs on the GPU provider, and 20 steps reach the CPU provider's
 * weights to 1e-4.
 *
 * The model is smooth (Tanh): with Relu, a pre-activation within rounding of
 * 0 can switch a unit off on one provider and not the other, and Adam, which
 * scales every update to about the learning rate, turns that into weight
 * differences of ~lr (measured: 5e-3 after 5 steps, while SGD on the same
 * Relu model stays within 3e-8) — a property of the arithmetic, not of the
 * graph.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeToDocument } from '../tracecode/parse';
import { readNpz } from '../weights';
import { taskFromSpec } from './data';
import { train } from './loop';
import { parseOptimizer } from './optimizers';
import { parseSchedule } from './schedules';
import '../../kernels';

const enabled = !!process.env.STRATA_WEBGPU;

describe.runIf(enabled)('training on the WebGPU provider', () => {
  it('keeps weights and slots on the GPU and matches the CPU provider after 20 steps', async () => {
    const doc = codeToDocument('# input: float32[B,28,28,1]\nfrom trax import layers as tl\nmodel = tl.Serial(tl.Flatten(), tl.Dense(32), tl.Tanh(), tl.Dropout(rate=0.1), tl.Dense(10), tl.LogSoftmax())\n');
    const run = async (provider: 'cpu' | 'webgpu') => {
      const dir = mkdtempSync(join(tmpdir(), `strata-train-${provider}-`));
      const task = await taskFromSpec('mnist', { batchSize: 16, seed: 1 });
      const r = await train({
        doc, task, optimizer: parseOptimizer('adam', { learning_rate: 0.003 }), schedule: parseSchedule('rsqrt', { max_value: 0.003, n_warmup_steps: 5 }),
        steps: 20, evalEvery: 10, seed: 1, provider, dir, strict: true,
      });
      return { r, weights: readNpz(readFileSync(join(dir, 'weights.npz'))) };
    };
    const cpu = await run('cpu');
    const gpu = await run('webgpu');
    expect(gpu.r.provider).toBe('webgpu');
    expect(gpu.r.weightsLocation).toBe('gpu-buffer');
    expect(cpu.r.weightsLocation).toBe('cpu');
    let worst = 0;
    expect([...gpu.weights.keys()]).toEqual([...cpu.weights.keys()]);
    for (const [key, a] of cpu.weights) {
      const b = gpu.weights.get(key)!;
      expect(b.dims).toEqual(a.dims);
      const x = a.data as Float32Array, y = b.data as Float32Array;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    }
    expect(worst).toBeLessThan(1e-4);
    expect(gpu.r.eval.loss).toBeCloseTo(cpu.r.eval.loss, 3);
  });
});
