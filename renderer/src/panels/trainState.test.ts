/** The Train panel's pure parts: the request from its settings, merging polled metrics, the chart's columns, the progress line (no browser). */
import { describe, expect, it } from 'vitest';
import type { TrainMetricsLine } from '../../../engine/host/api';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { DEFAULT_SETTINGS, buildTrainRequest, chartColumns, fmtDuration, hasAccuracy, mergeMetrics, progressText, taskFields } from './trainState';

const doc = codeToDocument('# input: float32[B,28,28,1]\ntl.Serial(tl.Flatten(), tl.Dense(10), tl.LogSoftmax())');

const line = (step: number, split: 'train' | 'eval', loss: number, accuracy?: number): TrainMetricsLine => ({
  step, split, loss, ...(accuracy === undefined ? {} : { accuracy }), lr: 1e-3, steps_per_s: 20, time_s: step / 20,
});

describe('the training request', () => {
  it('carries the settings, a copy of the document, and leaves defaults to the engine', () => {
    const r = buildTrainRequest(doc, { ...DEFAULT_SETTINGS, steps: 30, evalEvery: 10 });
    if (!r.ok) throw new Error(r.message);
    expect(r.req).toEqual({
      doc: JSON.parse(JSON.stringify(r.req.doc)), task: 'mnist', optimizer: 'adam', schedule: 'constant', steps: 30, batch: 32, evalEvery: 10, seed: 0, provider: 'cpu',
    });
    // a copy: the run trains the model as it was at Start
    expect(r.req.doc).not.toBe(doc);
    expect((r.req.doc as { root: unknown }).root).toEqual(doc.root);
    expect(r.req).not.toHaveProperty('loss');
    expect(r.req).not.toHaveProperty('lr');
    expect(r.req).not.toHaveProperty('warmup');
  });

  it('adds what is set: loss, learning rate, warmup for a decaying schedule, a file, length and vocab where the task takes them', () => {
    const r = buildTrainRequest(doc, { ...DEFAULT_SETTINGS, task: 'duplicate', loss: 'CrossEntropyLoss', lr: '0.01', schedule: 'rsqrt', warmup: 100, length: '16', vocab: '64' });
    expect(r).toMatchObject({ ok: true, req: { task: 'duplicate', loss: 'CrossEntropyLoss', lr: 0.01, schedule: 'rsqrt', warmup: 100, length: 16, vocab: 64 } });
    const t = buildTrainRequest(doc, { ...DEFAULT_SETTINGS, task: 'text', file: ' /data/corpus.txt ', length: '64', vocab: '99' });
    expect(t).toMatchObject({ ok: true, req: { task: 'text:/data/corpus.txt', length: 64 } });
    // text takes no vocabulary: the field is not sent even if it holds one
    expect(t.ok && t.req).not.toHaveProperty('vocab');
    expect(taskFields('mnist')).toEqual({ file: false, length: false, vocab: false });
    expect(taskFields('data')).toEqual({ file: true, length: true, vocab: false });
  });

  it('names the field that is not usable', () => {
    const bad = (patch: Partial<typeof DEFAULT_SETTINGS>) => {
      const r = buildTrainRequest(doc, { ...DEFAULT_SETTINGS, ...patch });
      return r.ok ? 'ok' : r.message;
    };
    expect(bad({ task: 'data' })).toBe('the data task needs a file: give its path on the host');
    expect(bad({ steps: 0 })).toBe('steps must be a whole number ≥ 1, got 0');
    expect(bad({ batch: NaN })).toBe('batch must be a whole number ≥ 1, got nothing');
    expect(bad({ evalEvery: 2.5 })).toBe('eval every must be a whole number ≥ 1, got 2.5');
    expect(bad({ lr: 'fast' })).toBe("learning rate must be a number ≥ 0, got 'fast'");
    expect(bad({ schedule: 'cosine', warmup: -1 })).toBe('warmup must be a whole number ≥ 0, got -1');
    expect(bad({ task: 'copy', vocab: '1' })).toBe("vocab must be a whole number ≥ 2, got '1'");
    // a constant schedule has no warmup: whatever the field holds does not matter
    expect(bad({ warmup: -1 })).toBe('ok');
  });
});

describe('polled metrics and the curves', () => {
  it('appends lines from where it was, and starts over when the host read the file again', () => {
    const a = [line(10, 'train', 2.3), line(10, 'eval', 2.2)];
    const b = mergeMetrics(a, 2, [line(20, 'train', 2.1)]);
    expect(b.map((m) => m.step)).toEqual([10, 10, 20]);
    // nothing new: the same array (React sees no change)
    expect(mergeMetrics(b, 3, [])).toBe(b);
    expect(mergeMetrics(b, 0, [line(10, 'train', 2.3)])).toEqual([line(10, 'train', 2.3)]);
  });

  it('puts train and eval on one step axis, null where a split has no point, accuracy in percent', () => {
    const m = [line(10, 'train', 2.3, 0.2), line(10, 'eval', 2.2, 0.25), line(20, 'train', 2.1, 0.3), line(5, 'train', 2.5, 0.1)];
    expect(chartColumns(m, 'loss')).toEqual([[5, 10, 20], [2.5, 2.3, 2.1], [null, 2.2, null]]);
    const acc = chartColumns(m, 'accuracy');
    expect(acc[0]).toEqual([5, 10, 20]);
    expect(acc[1].map((x) => (x === null ? null : Math.round(x)))).toEqual([10, 20, 30]);
    expect(acc[2]).toEqual([null, 25, null]);
    // a loss that blew up (NaN travels as null) is a gap
    expect(chartColumns([{ ...line(1, 'train', 0), loss: null as unknown as number }], 'loss')).toEqual([[1], [null], [null]]);
    expect(hasAccuracy(m)).toBe(true);
    expect(hasAccuracy([line(1, 'train', 1)])).toBe(false);
  });

  it('writes the progress line like the command line does', () => {
    const p = { step: 20, steps: 30, loss: 2.13956, accuracy: 0.28125, lr: 1e-4, stepsPerS: 27.84, etaS: 0.36 };
    const m = [line(10, 'eval', 2.0485, 0.4225)];
    expect(progressText(p, m, false)).toBe('step 20/30 · loss 2.1396 · acc 28.1% · eval loss 2.0485 acc 42.3% · 27.8 steps/s · ETA 0:00');
    expect(progressText({ ...p, step: 30, etaS: null }, m, true)).toBe('step 30/30 · loss 2.1396 · acc 28.1% · eval loss 2.0485 acc 42.3% · 27.8 steps/s');
    expect(progressText(null, [], false)).toBe('');
    expect(fmtDuration(3725)).toBe('1:02:05');
    expect(fmtDuration(65)).toBe('1:05');
    expect(fmtDuration(null)).toBe('?');
  });
});
