/**
 * Schedules: values at chosen steps against Trax's formulas written out
 * here, and the in-graph schedule (onnxruntime CPU) equal to the TypeScript
 * evaluator at every step of a range.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { Graph } from '../core/onnx';
import { Scope, ScopeEmitter, type ModelState } from '../onnx/emit';
import { modelBytes } from '../onnx/write';
import { HyperParamError } from './hyper';
import { type Schedule, describeSchedule, emitLearningRate, learningRate, parseSchedule } from './schedules';

/** A model: float32 scalar `step` in, the schedule's learning rate out. */
async function inGraph(s: Schedule): Promise<(step: number) => Promise<number>> {
  const state: ModelState = { dtypes: new Map(), functions: new Map(), functionByKey: new Map(), inline: true, gpu: false, mode: 'train', seed: 0 };
  const scope = new Scope(state, 'graph');
  scope.reserve('step');
  const lr = emitLearningRate(new ScopeEmitter(scope, 'lr'), s, 'step');
  const graph: Graph = { name: 'schedule', inputs: [{ name: 'step', dtype: 'float32', shape: [] }], outputs: [{ name: lr, dtype: 'float32', shape: [] }], nodes: scope.nodes, initializers: [] };
  const session = await ort.InferenceSession.create(modelBytes({ graph, functions: [], producer: 'strata', metadata: {} }));
  return async (step) => Number((await session.run({ step: new ort.Tensor('float32', Float32Array.of(step), []) }))[lr].data[0]);
}

const constant = parseSchedule('constant', { value: 0.3 });
const rsqrt = parseSchedule('rsqrt', { n_warmup_steps: 4, max_value: 0.5 });
const cosine = parseSchedule('cosine', { max_value: 1, n_steps: 10, n_warmup_steps: 2, min_value: 0.1 });
const cosineNoWarmup = parseSchedule('cosine', { max_value: 2, n_steps: 5 });

describe('schedules follow Trax\'s formulas', () => {
  it('constant: _BodyAndTail(value, body_start=1)', () => {
    expect(learningRate(constant, 0)).toBe(0);
    expect(learningRate(constant, 1)).toBe(0.3);
    expect(learningRate(constant, 12345)).toBe(0.3);
  });

  it('warmup_and_rsqrt_decay: a ramp to step n + 1, then max·sqrt(n + 1)/sqrt(step)', () => {
    expect(learningRate(rsqrt, 0)).toBe(0);
    expect(learningRate(rsqrt, 1)).toBeCloseTo(0.1, 15); // 1/5 of 0.5
    expect(learningRate(rsqrt, 4)).toBeCloseTo(0.4, 15);
    expect(learningRate(rsqrt, 5)).toBeCloseTo(0.5, 15); // the tail starts at its peak
    expect(learningRate(rsqrt, 20)).toBeCloseTo(0.25, 15); // 0.5·sqrt(5)/sqrt(20)
    expect(learningRate(rsqrt, 500)).toBeCloseTo(0.05, 15);
  });

  it('cosine: a ramp, then half a cosine from max to the floor over n_steps - n_warmup_steps steps, then the floor', () => {
    expect(learningRate(cosine, 1)).toBeCloseTo(1 / 3, 15);
    expect(learningRate(cosine, 3)).toBeCloseTo(1, 15);
    expect(learningRate(cosine, 7)).toBeCloseTo(0.55, 15); // halfway: 0.1 + 0.9·0.5
    expect(learningRate(cosine, 5)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), 15);
    expect(learningRate(cosine, 11)).toBeCloseTo(0.1, 15);
    expect(learningRate(cosine, 1000)).toBeCloseTo(0.1, 15);
    expect(learningRate(cosineNoWarmup, 1)).toBe(2);
    expect(learningRate(cosineNoWarmup, 6)).toBeCloseTo(1e-5, 15); // the default floor
  });

  it('the graph computes what the evaluator does, at every step', async () => {
    for (const s of [constant, rsqrt, cosine, cosineNoWarmup, parseSchedule('rsqrt', { n_warmup_steps: 0, max_value: 1e-3 })]) {
      const run = await inGraph(s);
      for (const step of [...Array.from({ length: 40 }, (_, i) => i), 99, 1000, 65536, 1_000_000]) {
        const want = learningRate(s, step);
        const got = await run(step);
        if (!(Math.abs(got - want) <= 1e-6 * Math.abs(want) + 1e-12)) expect(got, `${describeSchedule(s)} at step ${step}`).toBe(want);
      }
    }
  });
});

describe('parseSchedule', () => {
  const fails = (kind: string, fields: Record<string, unknown>, param: string, msg: RegExp) => {
    let err: unknown;
    try { parseSchedule(kind, fields as Record<string, number>); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(HyperParamError);
    expect((err as HyperParamError).param).toBe(param);
    expect((err as HyperParamError).message).toMatch(msg);
  };

  it('reads fields as numbers or strings', () => {
    expect(parseSchedule('rsqrt', { n_warmup_steps: '1000', max_value: '0.001' })).toEqual({ kind: 'rsqrt', n_warmup_steps: 1000, max_value: 0.001 });
    expect(describeSchedule(cosine)).toBe('cosine(max_value=1, n_steps=10, n_warmup_steps=2, min_value=0.1)');
  });

  it('names the bad field', () => {
    fails('linear', {}, 'schedule', /unknown schedule 'linear'; expected one of constant, rsqrt, cosine/);
    fails('constant', {}, 'value', /schedule constant: value is required/);
    fails('constant', { value: -1 }, 'value', /value must be a number >= 0, got -1/);
    fails('rsqrt', { max_value: 0.1, n_warmup_steps: 2.5 }, 'n_warmup_steps', /must be an integer >= 0, got 2.5/);
    fails('rsqrt', { max_value: 0.1, warmup: 3 }, 'warmup', /schedule rsqrt has no hyper-parameter 'warmup'/);
    fails('cosine', { max_value: 1, n_steps: 5, n_warmup_steps: 5 }, 'n_steps', /n_steps \(5\) must be greater than n_warmup_steps \(5\)/);
  });
});
