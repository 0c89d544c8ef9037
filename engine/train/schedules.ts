/**
 * Learning-rate schedules, as Trax's `trax/supervised/lr_schedules.py`
 * defines them, computed inside the step graph from the step input, plus a
 * TypeScript evaluator of the same formula (progress display,
 * metrics.jsonl `lr`).
 *
 * The step is a float32 scalar holding the number of the update being
 * computed, counting from 1 (Trax's `Loop` increments its step before
 * running it, so its first update is step 1, and that number goes to both
 * the schedule and the optimizer). float32 holds every integer up to 2^24
 * (16.7 million steps) exactly, and keeps the graph free of int64 math,
 * which the WebGPU provider runs on the CPU.
 *
 * Every schedule is Trax's `_BodyAndTail`: a linear ramp from (0, 0) to
 * (body_start, value), a constant body, and from `tail_start` on a tail.
 */
import type { Emitter } from '../core/onnx';
import { HyperParamError, type HyperOverrides, type HyperSpec, resolveHyper } from './hyper';

export type Schedule =
  /** Trax's `constant(value)`: `_BodyAndTail(value, body_start=1)` */
  | { readonly kind: 'constant'; readonly value: number }
  /**
   * Trax's `warmup_and_rsqrt_decay(n_warmup_steps, max_value)` (its default
   * for Transformers): a ramp to `max_value` at step n_warmup_steps + 1, then
   * `max_value · sqrt(n_warmup_steps + 1) / sqrt(step)`.
   */
  | { readonly kind: 'rsqrt'; readonly n_warmup_steps: number; readonly max_value: number }
  /**
   * Linear warm-up, then one half cosine from `max_value` down to
   * `min_value` over the remaining `n_steps - n_warmup_steps` steps, staying
   * at `min_value` afterwards: Trax's `_CosineSawtoothTail` on a
   * `_BodyAndTail` with `tail_start = n_warmup_steps + 1` and
   * `steps_per_cycle = n_steps - n_warmup_steps`, except that it does not
   * restart (Trax's sawtooth takes the position modulo 1).
   */
  | { readonly kind: 'cosine'; readonly max_value: number; readonly n_steps: number; readonly n_warmup_steps: number; readonly min_value: number };

export type ScheduleKind = Schedule['kind'];
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'rsqrt', 'cosine'];

const nonNegative: HyperSpec = { kind: 'number', min: 0 };
const steps: HyperSpec = { kind: 'number', min: 0, integer: true };

const SPECS = {
  constant: { value: nonNegative },
  rsqrt: { n_warmup_steps: steps, max_value: nonNegative },
  cosine: { max_value: nonNegative, n_steps: { kind: 'number', min: 1, integer: true }, n_warmup_steps: steps, min_value: nonNegative },
} as const satisfies Record<ScheduleKind, Record<string, HyperSpec>>;

const DEFAULTS: { [K in ScheduleKind]: Record<keyof (typeof SPECS)[K], number | null> } = {
  constant: { value: null },
  rsqrt: { n_warmup_steps: 0, max_value: null },
  // _CosineSawtoothTail's default floor
  cosine: { max_value: null, n_steps: null, n_warmup_steps: 0, min_value: 1e-5 },
};

/**
 * A schedule from its kind (`--schedule constant|rsqrt|cosine`) and fields
 * (Trax's names; numbers or strings). Required fields without a value, an
 * unknown kind or field, or a value out of range give a HyperParamError
 * naming the field.
 */
export function parseSchedule(kind: string, fields: HyperOverrides): Schedule {
  if (!(SCHEDULE_KINDS as readonly string[]).includes(kind)) {
    throw new HyperParamError('schedule', `unknown schedule '${kind}'; expected one of ${SCHEDULE_KINDS.join(', ')}`, SCHEDULE_KINDS.join(', '));
  }
  const k = kind as ScheduleKind;
  const got = resolveHyper(`schedule ${k}`, SPECS[k] as Record<string, HyperSpec>, DEFAULTS[k] as Record<string, number | null>, fields);
  for (const [name, v] of Object.entries(got)) {
    if (v === null) throw new HyperParamError(name, `schedule ${k}: ${name} is required`, 'a number');
  }
  const s = { kind: k, ...got } as Schedule;
  if (s.kind === 'cosine' && s.n_steps <= s.n_warmup_steps) {
    throw new HyperParamError('n_steps', `schedule cosine: n_steps (${s.n_steps}) must be greater than n_warmup_steps (${s.n_warmup_steps})`, `> ${s.n_warmup_steps}`);
  }
  return s;
}

/**
 * The schedule `strata train` and the app's Train panel make from their
 * few choices: `kind` peaking at `max` after `warmup` steps, a cosine
 * reaching its floor at the last of `steps`.
 */
export function scheduleFor(kind: string, max: number, warmup: number, steps: number): Schedule {
  return parseSchedule(kind, kind === 'constant'
    ? { value: max }
    : kind === 'rsqrt' ? { max_value: max, n_warmup_steps: warmup } : { max_value: max, n_warmup_steps: warmup, n_steps: Math.max(steps, warmup + 1) });
}

interface BodyAndTail {
  value: number;
  bodyStart: number;
  tailStart?: number;
}

function shape(s: Schedule): BodyAndTail {
  switch (s.kind) {
    case 'constant': return { value: s.value, bodyStart: 1 };
    case 'rsqrt': return { value: s.max_value, bodyStart: s.n_warmup_steps + 1, tailStart: s.n_warmup_steps + 1 };
    case 'cosine': return { value: s.max_value, bodyStart: s.n_warmup_steps + 1, tailStart: s.n_warmup_steps + 1 };
  }
}

/** The schedule's value at `step` (float64; the graph computes the same formula in float32). */
export function learningRate(s: Schedule, step: number): number {
  const b = shape(s);
  if (step < b.bodyStart) return (step / b.bodyStart) * b.value;
  if (b.tailStart === undefined || step < b.tailStart) return b.value;
  switch (s.kind) {
    case 'rsqrt': return b.value * (Math.sqrt(b.tailStart) / Math.sqrt(step));
    case 'cosine': {
      const position = Math.min(1, (step - b.tailStart) / (s.n_steps - s.n_warmup_steps));
      return s.min_value + (s.max_value - s.min_value) * 0.5 * (1 + Math.cos(Math.PI * position));
    }
    case 'constant': return b.value;
  }
}

/**
 * Emits the schedule: `step` is the float32 scalar step input; returns the
 * float32 scalar learning rate. Only ops the WebGPU provider runs (Div,
 * Mul, Sqrt, Cos, Min, Less, Where, …).
 */
export function emitLearningRate(e: Emitter, s: Schedule, step: string): string {
  const b = shape(s);
  const ramp = e.op1('Mul', [e.op1('Div', [step, e.f32(b.bodyStart)]), e.f32(b.value)]);
  let after = e.f32(b.value);
  if (b.tailStart !== undefined) {
    let tail: string;
    if (s.kind === 'rsqrt') {
      tail = e.op1('Mul', [e.f32(b.value), e.op1('Div', [e.f32(Math.sqrt(b.tailStart)), e.op1('Sqrt', [step])])]);
    } else if (s.kind === 'cosine') {
      const position = e.op1('Min', [e.op1('Div', [e.op1('Sub', [step, e.f32(b.tailStart)]), e.f32(s.n_steps - s.n_warmup_steps)]), e.f32(1)]);
      const half = e.op1('Mul', [e.f32(0.5), e.op1('Add', [e.f32(1), e.op1('Cos', [e.op1('Mul', [e.f32(Math.PI), position])])])]);
      tail = e.op1('Add', [e.f32(s.min_value), e.op1('Mul', [e.f32(s.max_value - s.min_value), half])]);
    } else {
      tail = after;
    }
    // tail_start == body_start for every schedule here: step ≥ body_start is the tail
    after = b.tailStart === b.bodyStart ? tail : e.op1('Where', [e.op1('Less', [step, e.f32(b.tailStart)]), after, tail]);
  }
  return e.op1('Where', [e.op1('Less', [step, e.f32(b.bodyStart)]), ramp, after]);
}

/** One line for logs and the progress display: `rsqrt(n_warmup_steps=1000, max_value=0.001)`. */
export function describeSchedule(s: Schedule): string {
  const { kind, ...fields } = s;
  return `${kind}(${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(', ')})`;
}
