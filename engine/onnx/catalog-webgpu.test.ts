/**
 * The GPU path without a GPU: every row of the catalog-wide execution table
 * also runs on onnxruntime's WebGPU provider (under Mesa's software Vulkan,
 * set up by scripts/test.sh) with CPU fallback disabled, so every node must be
 * placed on the GPU provider, and its outputs must match the CPU provider's
 * to 1e-4.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { formatShapeDtype } from '../core/shape';
import { caseToNode } from '../layers/cases/all';
import { type WeightRef, lowerDocument } from './lower';
import { modelBytes } from './write';
import { feedsFor, randomTensor } from '../../test/ort';
import { runnableRows } from './catalog-rows';
import '../../kernels';

const enabled = !!process.env.STRATA_WEBGPU;

describe.runIf(enabled)('every catalog row runs on the WebGPU provider, every node on the GPU', () => {
  for (const [i, { row, input }] of runnableRows().entries()) {
    it(`${row.kind} #${i} ${input.map(formatShapeDtype).join(', ')}${row.note ? ` (${row.note})` : ''}`, async () => {
      const weightValue = (ref: WeightRef) => randomTensor(ref.decl, ref.key);
      const low = lowerDocument({ root: caseToNode(row), input }, { weightValue });
      if (low.outputs.length === 0) return;
      const lowGpu = lowerDocument({ root: caseToNode(row), input }, { weightValue, gpu: true });
      const feeds = feedsFor(low.inputs, input);
      const cpu = await ort.InferenceSession.create(modelBytes(low.model));
      const gpu = await ort.InferenceSession.create(modelBytes(lowGpu.model), { executionProviders: ['webgpu'], extra: { session: { disable_cpu_ep_fallback: '1' } } });
      const [a, b] = [await cpu.run(feeds), await gpu.run(feeds)];
      // bfloat16 computes in float32 on the GPU (no bfloat16 kernels there), so it agrees to bfloat16's precision only
      const tol = input.some((x) => x.dtype === 'bfloat16') || JSON.stringify(row).includes('bfloat16') ? 1e-2 : 1e-4;
      for (const [n, o] of low.outputs.entries()) {
        const x = a[o.name], y = b[lowGpu.outputs[n].name];
        expect(y.dims).toEqual(x.dims);
        const xs = Array.from(x.data as ArrayLike<number>, Number), ys = Array.from(y.data as ArrayLike<number>, Number);
        xs.forEach((v, j) => {
          const ok = Math.abs(v - ys[j]) <= tol * Math.max(1, Math.abs(v)) || (Number.isNaN(v) && Number.isNaN(ys[j]));
          if (!ok) expect(ys[j], `${o.name}[${j}] (tolerance ${tol})`).toBe(v);
        });
      }
      await cpu.release();
      await gpu.release();
    });
  }
});
