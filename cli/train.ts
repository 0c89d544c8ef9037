/**
 * `strata train MODEL --task ...`: trains the model on a built-in task or
 * user data (engine/train), with a progress line on stderr, metrics in
 * RUN_DIR/metrics.jsonl, checkpoints, and `--resume`. Ctrl-C stops after
 * writing a checkpoint.
 */
import { resolve } from 'node:path';
import { LowerError } from '../engine/onnx/lower';
import { ProviderError, PROVIDERS, type Provider } from '../engine/runtime/session';
import { CheckpointError } from '../engine/train/checkpoint';
import { DataError, taskFromSpec } from '../engine/train/data';
import { HyperParamError } from '../engine/train/hyper';
import { type Progress, TrainError, train } from '../engine/train/loop';
import { ObjectiveError, resolveLoss } from '../engine/train/objective';
import { OPTIMIZER_NAMES, parseOptimizer } from '../engine/train/optimizers';
import { SCHEDULE_KINDS, scheduleFor } from '../engine/train/schedules';
import { type ParsedArgs, UsageError, choiceFlag, flag, intFlag, parseFlags } from './args';
import { type Io, readModel, reportModelError } from './common';
import '../kernels';

export const TRAIN_USAGE = `  train   MODEL --task mnist|copy|reverse|duplicate|addition|text:FILE|data:FILE
                [--loss NAME] [--optimizer adam|sgd|momentum|adafactor|rmsprop] [--lr X]
                [--schedule constant|rsqrt|cosine] [--warmup N] [--steps N] [--batch N] [--eval-every N]
                [--checkpoint-every N] [--clip-grad-norm X] [--weight-decay X] [--length L] [--vocab V]
                [--seed N] [--provider cpu|webgpu|cuda|dml] [--no-remat]
                [--dir RUN_DIR] [--resume] [--json]
`;

const FLAGS = {
  task: { value: true }, loss: { value: true }, optimizer: { value: true }, lr: { value: true }, schedule: { value: true },
  warmup: { value: true }, steps: { value: true }, batch: { value: true }, 'eval-every': { value: true },
  'checkpoint-every': { value: true }, length: { value: true }, vocab: { value: true }, seed: { value: true },
  provider: { value: true }, dir: { value: true }, resume: { value: false }, json: { value: false }, threads: { value: true },
  'clip-grad-norm': { value: true }, 'weight-decay': { value: true }, 'no-remat': { value: false },
};

function numberFlag(p: ParsedArgs, name: string): number | undefined {
  const v = flag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got '${v}'`);
  return n;
}

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(sec).padStart(2, '0')}`;
};

/** `step 120/1000 [====>      ] 12% loss 0.4521 acc 91.2% lr 1.0e-3 34.5 steps/s ETA 0:25` */
export function progressLine(p: Progress): string {
  const width = 20;
  const done = Math.min(width, Math.round((p.step / p.steps) * width));
  const bar = `${'='.repeat(Math.max(0, done - 1))}${done ? '>' : ''}${' '.repeat(width - done)}`;
  const acc = p.accuracy !== undefined ? ` acc ${(p.accuracy * 100).toFixed(1)}%` : '';
  const what = p.split === 'eval' ? 'eval ' : '';
  return `step ${p.step}/${p.steps} [${bar}] ${Math.floor((p.step / p.steps) * 100)}% ${what}loss ${p.loss.toFixed(4)}${acc} lr ${p.lr.toExponential(1)} ${p.stepsPerS.toFixed(1)} steps/s ETA ${fmtTime(p.etaS)}`;
}

export async function trainCommand(argv: string[], io: Io, opts: { tty?: boolean } = {}): Promise<number> {
  const p = parseFlags(argv, FLAGS);
  const json = p.flags.has('json');
  const taskSpec = flag(p, 'task');
  if (!taskSpec) throw new UsageError('train needs --task mnist|copy|reverse|duplicate|addition|text:FILE|data:FILE');
  const model = readModel(p, io, json);
  if (typeof model === 'number') return model;
  const steps = intFlag(p, 'steps', 1000, 1);
  const evalEvery = intFlag(p, 'eval-every', Math.min(100, steps), 1);
  const seed = intFlag(p, 'seed', 0);
  const provider = choiceFlag<Provider>(p, 'provider', PROVIDERS, 'cpu');
  const optName = flag(p, 'optimizer') ?? 'adam';
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(optName)) throw new UsageError(`--optimizer: choose one of ${OPTIMIZER_NAMES.join(', ')}, got '${optName}'`);
  const scheduleKind = flag(p, 'schedule') ?? 'constant';
  if (!(SCHEDULE_KINDS as readonly string[]).includes(scheduleKind)) throw new UsageError(`--schedule: choose one of ${SCHEDULE_KINDS.join(', ')}, got '${scheduleKind}'`);
  const dir = resolve(flag(p, 'dir') ?? 'runs/train');
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    io.err('\nstrata: stopping after a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const task = await taskFromSpec(taskSpec, {
      batchSize: intFlag(p, 'batch', 32, 1), seed,
      length: flag(p, 'length') === undefined ? undefined : intFlag(p, 'length', 0, 1),
      vocabSize: flag(p, 'vocab') === undefined ? undefined : intFlag(p, 'vocab', 0, 2),
    });
    const lr = numberFlag(p, 'lr');
    // Trax's names: the optimizer checks them (SGD and RMSProp have no weight decay in Trax: an error says so)
    const overrides: Record<string, number> = {};
    if (lr !== undefined) overrides.learning_rate = lr;
    const clip = numberFlag(p, 'clip-grad-norm');
    if (clip !== undefined) overrides.clip_grad_norm = clip;
    const decay = numberFlag(p, 'weight-decay');
    if (decay !== undefined) overrides.weight_decay_rate = decay;
    const optimizer = parseOptimizer(optName, overrides);
    const warmup = intFlag(p, 'warmup', 0);
    const max = lr ?? optimizer.learningRate;
    const schedule = scheduleFor(scheduleKind, max, warmup, steps);
    const loss = flag(p, 'loss');
    io.err(`strata: ${task.description}\n`);
    let lastLen = 0;
    const result = await train({
      doc: model.doc, task, loss: loss === undefined ? undefined : resolveLoss(loss), optimizer, schedule, steps, evalEvery,
      checkpointEvery: flag(p, 'checkpoint-every') === undefined ? undefined : intFlag(p, 'checkpoint-every', 0, 1),
      seed, provider, dir, resume: p.flags.has('resume'), signal: controller.signal, remat: !p.flags.has('no-remat'),
      intraOpThreads: flag(p, 'threads') === undefined ? undefined : intFlag(p, 'threads', 0, 1),
      onNote: (line) => io.err(`strata: ${line}\n`),
      onProgress: (pr) => {
        const line = progressLine(pr);
        if (opts.tty && pr.split === 'train') { io.err(`\r${line}${' '.repeat(Math.max(0, lastLen - line.length))}`); lastLen = line.length; } else io.err(`${opts.tty ? '\n' : ''}${line}\n`);
      },
    });
    if (opts.tty) io.err('\n');
    const out = { step: result.step, eval: result.eval, dir: result.dir };
    if (json) io.out(`${JSON.stringify(out)}\n`);
    else io.out(`trained ${result.step} steps${result.stopped ? ' (stopped)' : ''} on ${result.provider}: eval loss ${result.eval.loss.toFixed(4)}${result.eval.accuracy !== undefined ? `, accuracy ${(result.eval.accuracy * 100).toFixed(2)}%` : ''}\nrun directory: ${result.dir} (weights.npz, metrics.jsonl, checkpoints/)\n`);
    return 0;
  } catch (e) {
    const known = e instanceof DataError || e instanceof ObjectiveError || e instanceof HyperParamError || e instanceof TrainError || e instanceof CheckpointError || e instanceof ProviderError;
    if (known) return reportModelError(io, { code: 'bad_input', path: '', kind: '', message: (e as Error).message }, json);
    if (e instanceof LowerError) return reportModelError(io, e.error, json);
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
