/**
 * Training through the host (the IDE's Train panel): a short real run of the
 * MNIST MLP polled to the end, its metrics (the same objects as
 * metrics.jsonl) and checkpoints, stop, one run at a time, resume, requests
 * the transports refuse and ones the engine refuses (its message in the
 * answer), and trained-model export from a run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TASK_NAMES } from '../train/data';
import { LOSSES } from '../train/objective';
import { OPTIMIZER_NAMES } from '../train/optimizers';
import { SCHEDULE_KINDS } from '../train/schedules';
import { PROVIDERS } from '../runtime/session';
import { type HostApi, TRAIN_LOSSES, TRAIN_OPTIMIZERS, TRAIN_PROVIDERS, TRAIN_SCHEDULES, TRAIN_TASKS, type TrainRequest, type TrainStatusResponse } from './api';
import { createHostService } from './service';
import { validateCall } from './validate';
import '../../kernels';

const examplesDir = join(import.meta.dirname, '..', '..', 'assets', 'examples');
let dir: string;
let host: HostApi;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'strata-host-train-'));
  host = createHostService({ examplesDir, dataDir: join(dir, 'data'), desktop: false });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const example = (name: string): { root: { children: unknown[] }; name: string } => JSON.parse(readFileSync(join(examplesDir, `${name}.strata.json`), 'utf8'));

const request = (extra: Partial<TrainRequest> = {}): TrainRequest => ({
  doc: example('mlp-mnist'), task: 'mnist', optimizer: 'adam', schedule: 'constant', steps: 20, batch: 16, evalEvery: 10, seed: 0, provider: 'cpu', ...extra,
});

type Status = Extract<TrainStatusResponse, { ok: true }>;

/** Polls as the panel does (every 50 ms here), collecting the metrics lines, until the run ends. */
async function pollToEnd(runId: string, seen: Status['metrics'] = [], timeoutMs = 60_000): Promise<{ last: Status; metrics: Status['metrics']; states: string[] }> {
  const t0 = Date.now();
  const states: string[] = [];
  let metrics = [...seen];
  for (;;) {
    const s = await host.trainStatus({ runId, since: metrics.length });
    if (!s.ok) throw new Error(s.message);
    metrics = [...metrics.slice(0, s.from), ...s.metrics];
    states.push(s.state);
    if (s.state !== 'running' && s.state !== 'stopping') return { last: s, metrics, states };
    if (Date.now() - t0 > timeoutMs) throw new Error(`the run did not end in ${timeoutMs} ms: ${JSON.stringify(s.progress)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function started(r: Awaited<ReturnType<HostApi['trainStart']>>): { runId: string; dir: string } {
  if (!r.ok) throw new Error(`start failed: ${r.error.code}: ${r.error.message}`);
  return r;
}

describe('host training: the choices', () => {
  it('offers exactly the engine\'s tasks, losses, optimizers, schedules and providers', () => {
    expect([...TRAIN_TASKS]).toEqual([...TASK_NAMES]);
    expect([...TRAIN_LOSSES]).toEqual(Object.keys(LOSSES));
    expect([...TRAIN_OPTIMIZERS]).toEqual([...OPTIMIZER_NAMES]);
    expect([...TRAIN_SCHEDULES]).toEqual([...SCHEDULE_KINDS]);
    expect([...TRAIN_PROVIDERS]).toEqual([...PROVIDERS]);
  });
});

describe('host training: a run', () => {
  let run: { runId: string; dir: string };

  it('trains the MNIST MLP for 20 steps, polled to the end: metrics, progress, checkpoints and the result', async () => {
    run = started(await host.trainStart(request()));
    // no directory given: a new one under the data folder, named after the model
    expect(run.dir).toMatch(/[\\/]data[\\/]runs[\\/]\d{8}-\d{6}-mlp-for-mnist$/);
    const { last, metrics, states } = await pollToEnd(run.runId);
    expect(last.state).toBe('done');
    expect(states[0]).toBe('running');
    expect(last.task).toMatch(/^mnist: 8000 train/);
    // the metrics lines are metrics.jsonl's objects, all of them, in order
    const file = readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics).toEqual(file);
    expect(metrics.map((m) => `${m.split}@${m.step}`)).toEqual(['train@10', 'eval@10', 'train@20', 'eval@20']);
    for (const m of metrics) {
      expect(m.loss).toBeGreaterThan(0);
      expect(m.accuracy).toBeGreaterThanOrEqual(0);
      expect(m).toHaveProperty('time_s');
    }
    // it learns: the loss goes down from the first line to the last eval
    expect(metrics.at(-1)!.loss).toBeLessThan(metrics[0].loss);
    expect(last.progress).toMatchObject({ step: 20, steps: 20, lr: 1e-4 });
    expect(last.progress!.stepsPerS).toBeGreaterThan(0);
    expect(last.checkpoints).toEqual([10, 20]);
    expect(last.result).toMatchObject({ step: 20, provider: 'cpu', eval: { loss: metrics.at(-1)!.loss, accuracy: metrics.at(-1)!.accuracy } });
    expect(existsSync(join(run.dir, 'weights.npz'))).toBe(true);
    // a later poll from the end gets nothing new; one from too far gets everything again (from 0)
    const again = await host.trainStatus({ runId: run.runId, since: metrics.length });
    expect(again).toMatchObject({ ok: true, from: 4, metrics: [] });
    expect(await host.trainStatus({ runId: run.runId, since: 99 })).toMatchObject({ ok: true, from: 0, metrics: file });
  }, 90_000);

  it('exports the trained model from the run: ONNX that runs, the weights, Trax Python', async () => {
    const onnx = join(dir, 'out', 'trained.onnx');
    const r = await host.exportTrained({ runId: run.runId, format: 'onnx', path: onnx });
    expect(r).toMatchObject({ ok: true, path: onnx });
    const session = await ort.InferenceSession.create(onnx);
    const x = new ort.Tensor('float32', new Float32Array(16 * 784).fill(0.5), [16, 28, 28, 1]);
    const out = (await session.run({ [session.inputNames[0]]: x }))[session.outputNames[0]];
    await session.release();
    expect(out.dims).toEqual([16, 10]);
    // log-probabilities: each row's probabilities sum to 1
    const row = Array.from((out.data as Float32Array).slice(0, 10));
    expect(row.reduce((a, v) => a + Math.exp(v), 0)).toBeCloseTo(1, 4);

    const npz = join(dir, 'out', 'w.npz');
    expect(await host.exportTrained({ dir: run.dir, format: 'npz', path: npz })).toMatchObject({ ok: true, path: npz });
    // Buffer.equals: vitest's deep equality walks megabytes byte by byte
    expect(readFileSync(npz).equals(readFileSync(join(run.dir, 'weights.npz')))).toBe(true);
    const at10 = join(dir, 'out', 'w10.npz');
    expect(await host.exportTrained({ runId: run.runId, format: 'npz', path: at10, checkpoint: 10 })).toMatchObject({ ok: true });
    expect(readFileSync(at10).equals(readFileSync(join(run.dir, 'checkpoints', 'step-00000010', 'weights.npz')))).toBe(true);
    expect(readFileSync(at10).equals(readFileSync(npz))).toBe(false);

    const py = join(dir, 'out', 'model.py');
    expect(await host.exportTrained({ runId: run.runId, format: 'trax', path: py })).toMatchObject({ ok: true, notes: [] });
    expect(readFileSync(py, 'utf8')).toMatch(/def load_strata_weights\(/);
  }, 60_000);

  it('says why an export cannot be made', async () => {
    expect(await host.exportTrained({ runId: run.runId, format: 'onnx' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/choose where to save/) } });
    expect(await host.exportTrained({ runId: 'train-999', format: 'onnx', path: join(dir, 'x.onnx') })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/no training run "train-999"/) } });
    expect(await host.exportTrained({ runId: run.runId, format: 'npz', path: join(dir, 'x.npz'), checkpoint: 7 })).toMatchObject({
      ok: false, error: { code: 'bad_input', message: expect.stringMatching(/no checkpoint at step 7; its checkpoints are at steps 10, 20/) },
    });
    expect(await host.exportTrained({ dir, format: 'onnx', path: join(dir, 'x.onnx') })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/is not a training run directory: it has no model\.strata\.json/) } });
  });

  it('resumes the run from its last checkpoint to more steps, keeping the earlier metrics', async () => {
    const r = started(await host.trainStart(request({ dir: run.dir, resume: true, steps: 30 })));
    expect(r.dir).toBe(run.dir);
    const { last, metrics } = await pollToEnd(r.runId);
    expect(last.state).toBe('done');
    expect(last.notes.join('\n')).toMatch(/resuming .* from step 20/);
    expect(metrics.map((m) => `${m.split}@${m.step}`)).toEqual(['train@10', 'eval@10', 'train@20', 'eval@20', 'train@30', 'eval@30']);
    expect(last.checkpoints).toEqual([10, 20, 30]);
    expect(last.result!.step).toBe(30);
  }, 90_000);

  it('refuses to start over a run directory that holds a run, without resume', async () => {
    const r = await host.trainStart(request({ dir: run.dir }));
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringMatching(/already holds a training run \(checkpoints at steps 10, 20, 30\)/) } });
  });
});

describe('host training: stop, and one run at a time', () => {
  it('stops a long run after a checkpoint, and refuses a second run while one trains', async () => {
    const run = started(await host.trainStart(request({ steps: 100_000, evalEvery: 1000 })));
    const second = await host.trainStart(request());
    expect(second).toMatchObject({ ok: false, error: { message: expect.stringMatching(/already going on .*one model at a time/) } });
    // a page loaded now finds the run that trains
    const listed = await host.trainRuns();
    expect(listed.filter((r) => r.state === 'running')).toEqual([{ runId: run.runId, dir: run.dir, state: 'running', task: expect.stringMatching(/^mnist/) }]);
    // let it take a few steps
    for (let i = 0; i < 200; i++) {
      const s = await host.trainStatus({ runId: run.runId, since: 0 });
      if (s.ok && s.progress) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await host.trainStop({ runId: run.runId })).toEqual({ ok: true, state: 'stopping' });
    const { last, states } = await pollToEnd(run.runId);
    expect(last.state).toBe('stopped');
    expect(states).not.toContain('running');
    const step = last.result!.step;
    expect(step).toBeGreaterThanOrEqual(10);
    expect(step).toBeLessThan(100_000);
    // the stop wrote a checkpoint at the step it reached
    expect(last.checkpoints).toEqual([step]);
    // stopping again is harmless; a new run may start now
    expect(await host.trainStop({ runId: run.runId })).toEqual({ ok: true, state: 'stopped' });
    expect((await host.trainRuns()).find((r) => r.runId === run.runId)?.state).toBe('stopped');
    const next = started(await host.trainStart(request({ steps: 1, evalEvery: 1 })));
    expect((await pollToEnd(next.runId)).last.state).toBe('done');
  }, 120_000);

  it('refuses a start that arrives while another one is still starting', async () => {
    const [a, b] = await Promise.all([host.trainStart(request({ steps: 1, evalEvery: 1 })), host.trainStart(request({ steps: 1, evalEvery: 1 }))]);
    expect(a.ok).toBe(true);
    expect(b).toMatchObject({ ok: false, error: { message: expect.stringMatching(/a training run is already starting: this host trains one model at a time/) } });
    expect((await pollToEnd(started(a).runId)).last.state).toBe('done');
  }, 60_000);

  it('answers gone for a run it does not have', async () => {
    expect(await host.trainStatus({ runId: 'nope', since: 0 })).toMatchObject({ ok: false, reason: 'gone' });
    expect(await host.trainStop({ runId: 'nope' })).toMatchObject({ ok: false, reason: 'gone' });
  });
});

describe('host training: bad requests', () => {
  it('the transports refuse malformed requests, naming the field', () => {
    const bad = (req: unknown) => () => validateCall('trainStart', [req]);
    expect(bad({ ...request(), steps: 0 })).toThrow(/trainStart argument 1\.steps: must be between 1 and/);
    expect(bad({ ...request(), batch: 1.5 })).toThrow(/\.batch: expected an integer/);
    expect(bad({ ...request(), provider: 'tpu' })).toThrow(/\.provider: expected one of cpu, webgpu, cuda, dml/);
    expect(bad({ ...request(), lr: -1 })).toThrow(/\.lr: must be 0 or more/);
    expect(bad({ ...request(), task: 3 })).toThrow(/\.task: expected a string/);
    expect(bad({ ...request(), resume: true })).toThrow(/\.resume: give the run directory/);
    expect(() => validateCall('trainStatus', [{ runId: 'x' }])).toThrow(/\.since: expected a finite number/);
    expect(() => validateCall('trainStop', [{}])).toThrow(/\.runId: expected a string/);
    expect(() => validateCall('exportTrained', [{ format: 'onnx' }])).toThrow(/give either runId or dir/);
    expect(() => validateCall('exportTrained', [{ runId: 'a', dir: '/x', format: 'onnx' }])).toThrow(/give either runId or dir/);
    expect(() => validateCall('exportTrained', [{ runId: 'a', format: 'python' }])).toThrow(/\.format: expected one of onnx, npz, trax/);
  });

  it('the engine\'s own message comes back for what it refuses', async () => {
    const refused = async (extra: Partial<TrainRequest>) => {
      const r = await host.trainStart(request({ dir: join(dir, 'refused'), ...extra }));
      if (r.ok) throw new Error('started');
      return r.error;
    };
    expect(await refused({ task: 'nope' })).toMatchObject({ code: 'bad_input', message: expect.stringMatching(/unknown task 'nope'; the tasks are mnist, copy/) });
    expect(await refused({ task: 'text:/no/such/file.txt' })).toMatchObject({ message: expect.stringMatching(/no such file/) });
    expect(await refused({ optimizer: 'adamw' })).toMatchObject({ code: 'bad_param', param: 'optimizer', message: expect.stringMatching(/unknown optimizer 'adamw'/) });
    expect(await refused({ schedule: 'linear' })).toMatchObject({ code: 'bad_param', message: expect.stringMatching(/unknown schedule 'linear'; choose one of constant, rsqrt, cosine/) });
    expect(await refused({ loss: 'hinge' })).toMatchObject({ message: expect.stringMatching(/unknown loss 'hinge'/) });
    // a model that does not end in log-probabilities
    const noLogSoftmax = example('mlp-mnist');
    noLogSoftmax.root.children.pop();
    expect(await refused({ doc: noLogSoftmax })).toMatchObject({ message: expect.stringMatching(/CrossEntropyLoss reads log-probabilities, but the model does not end in them: it ends in Dense/) });
    // a task whose inputs do not fit the model
    expect(await refused({ task: 'copy' })).toMatchObject({ message: expect.stringMatching(/the model's input 0 is float32\[B,28,28,1\], but the task copy feeds int32\[16,/) });
    expect(await refused({ doc: { format: 'strata' } })).toMatchObject({ code: 'bad_document' });
    // nothing was left behind by the refused starts
    expect(existsSync(join(dir, 'refused', 'checkpoints'))).toBe(false);
  }, 60_000);
});
