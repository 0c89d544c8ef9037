/**
 * An exported trained model gives, in onnxruntime, the eval-mode outputs that
 * the training graph's forward (the eval graph of the same training tree)
 * gives for the same weights: trained here for a few steps, exported through
 * `strata export RUN_DIR`, both run on the same held-out batch.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseDocumentText } from '../engine/document/schema';
import { toOrtTensor } from '../engine/runtime/session';
import { readNpz } from '../engine/weights';
import { main } from './main';
import { repoRoot } from '../test/shared';
import { taskFromSpec } from '../engine/train/data';
import { train } from '../engine/train/loop';
import { parseOptimizer } from '../engine/train/optimizers';
import { parseSchedule } from '../engine/train/schedules';
import { buildEvalGraph } from '../engine/train/step';
import { modelBytes } from '../engine/onnx/write';
import '../kernels';

describe('export of a trained model', () => {
  for (const example of ['mlp-mnist', 'small-cnn']) {
    it(`${example}: the exported ONNX gives the training graph's eval-mode outputs`, async () => {
      const doc = parseDocumentText(readFileSync(join(repoRoot, 'assets/examples', `${example}.strata.json`), 'utf8'));
      const dir = mkdtempSync(join(tmpdir(), `strata-export-${example}-`));
      const task = await taskFromSpec('mnist', { batchSize: 8, seed: 2 });
      await train({ doc, task, optimizer: parseOptimizer('adam', { learning_rate: 0.01 }), schedule: parseSchedule('constant', { value: 0.01 }), steps: 5, evalEvery: 5, seed: 2, dir });
      const onnx = join(dir, 'exported.onnx');
      const io = { out: () => undefined, err: (s: string) => { throw new Error(s); } };
      expect(await main(['export', dir, '-o', onnx], io)).toBe(0);

      const batch = task.evalBatch(0);
      const exported = await ort.InferenceSession.create(onnx);
      const got = await exported.run({ [exported.inputNames[0]]: toOrtTensor(batch.inputs[0]) });
      await exported.release();

      const g = buildEvalGraph({
        model: doc.root, modelInput: [{ dtype: 'float32', shape: [8, 28, 28, 1] }], extra: [{ dtype: 'int32', shape: [8] }, { dtype: 'float32', shape: [8] }],
        loss: task.loss, metrics: task.metrics, optimizer: parseOptimizer('adam'), schedule: parseSchedule('constant', { value: 1 }), seed: 2, modelOutputs: true,
      });
      const weights = readNpz(readFileSync(join(dir, 'weights.npz')));
      const feeds: Record<string, ort.Tensor> = {};
      [batch.inputs[0], batch.targets, batch.weights].forEach((t, i) => { feeds[g.data[i]] = toOrtTensor(t); });
      for (const p of [...g.params, ...g.state]) feeds[p.input] = toOrtTensor(weights.get(p.key)!);
      const session = await ort.InferenceSession.create(modelBytes(g.model));
      const want = await session.run(feeds);
      await session.release();
      expect(g.outputs).toHaveLength(1);
      const a = got[exported.outputNames[0]].data as Float32Array;
      const b = want[g.outputs![0]].data as Float32Array;
      expect(a.length).toBe(8 * 10);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      expect(worst).toBeLessThan(1e-5);
      // and the trained weights are what is exported (an untrained model gives other outputs)
      expect(Math.abs(a[0] - Math.log(0.1))).toBeGreaterThan(1e-3);
    });
  }
});
