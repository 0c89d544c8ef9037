/**
 * The host's training runs (the IDE's Train panel): `trainStart` checks the
 * request and starts engine/train's loop, `trainStatus` answers polls with
 * the run's state, its new metrics lines (read from RUN_DIR/metrics.jsonl,
 * so they are the file's objects), the last progress and the checkpoints,
 * `trainStop` aborts it (the loop writes a checkpoint first), and
 * `exportTrained` writes a trained model out of a run directory
 * (engine/train/export.ts, as `strata export RUN_DIR` does).
 *
 * Lives in the numeric side with the runs (a worker thread in `npm run web`,
 * the utility process in the desktop app): the loop's `session.run` yields
 * to the event loop between steps, so polls are answered while it trains.
 * One run at a time: a second start while one trains is refused, saying so.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LayerError, type ModelError } from '../core/errors';
import { DocumentError, documentFromJson } from '../document/schema';
import { LowerError } from '../onnx/lower';
import { ProviderError } from '../runtime/session';
import { CheckpointError, checkpointSteps } from '../train/checkpoint';
import { DataError, taskFromSpec } from '../train/data';
import { RunDirError, exportProblem, exportTrained, readRunDir } from '../train/export';
import { HyperParamError } from '../train/hyper';
import { TrainError, type TrainOptions, train } from '../train/loop';
import { ObjectiveError, resolveLoss } from '../train/objective';
import { parseOptimizer } from '../train/optimizers';
import { SCHEDULE_KINDS, scheduleFor } from '../train/schedules';
import type {
  ExportTrainedRequest, ExportTrainedResponse, TrainMetricsLine, TrainProgress, TrainRequest, TrainRunState, TrainStartResponse,
  TrainRunInfo, TrainStatusRequest, TrainStatusResponse, TrainStopResponse,
} from './api';

/** Finished runs whose status is still answered (their directories stay on disk regardless). */
const KEEP_FINISHED = 8;

export interface TrainHost {
  trainStart(req: TrainRequest): Promise<TrainStartResponse>;
  trainStatus(req: TrainStatusRequest): Promise<TrainStatusResponse>;
  trainStop(req: { runId: string }): Promise<TrainStopResponse>;
  trainRuns(): Promise<TrainRunInfo[]>;
  exportTrained(req: ExportTrainedRequest): Promise<ExportTrainedResponse>;
}

interface Run {
  id: string;
  dir: string;
  state: TrainRunState;
  task: string;
  notes: string[];
  progress: TrainProgress | null;
  error?: ModelError;
  result?: NonNullable<Extract<TrainStatusResponse, { ok: true }>['result']>;
  controller: AbortController;
  /** metrics.jsonl as read so far: its lines, the bytes read, a partial last line */
  lines: TrainMetricsLine[];
  offset: number;
  carry: string;
}

const problem = (code: ModelError['code'], message: string): ModelError => ({ code, path: '', kind: '', message });

/** What the user reads for a failed start or run (the engine's own message); a bug says it is one. */
function trainProblem(e: unknown): ModelError {
  if (e instanceof LowerError) return e.error;
  if (e instanceof LayerError) return problem(e.code, e.message);
  if (e instanceof DocumentError) return problem(e.code, e.message);
  if (e instanceof HyperParamError) return { ...problem('bad_param', e.message), param: e.param, expected: e.expected };
  if (e instanceof DataError || e instanceof ObjectiveError || e instanceof TrainError || e instanceof CheckpointError || e instanceof ProviderError) {
    return problem('bad_input', e.message);
  }
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return problem('runtime', `internal error (a bug in Strata, please report it with the model): ${msg}`);
}

/** JSON has no NaN or infinities (a loss that blew up, an unknown ETA): they travel as null. */
const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** Reads what the loop appended to metrics.jsonl since the last call (a file that shrank is read again from the start). */
function readMetrics(run: Run): void {
  const path = join(run.dir, 'metrics.jsonl');
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return; // not written yet
  }
  if (size < run.offset) { run.lines = []; run.offset = 0; run.carry = ''; }
  if (size === run.offset) return;
  const buf = Buffer.alloc(size - run.offset);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, run.offset);
  } finally {
    closeSync(fd);
  }
  run.offset = size;
  const parts = (run.carry + buf.toString('utf8')).split('\n');
  run.carry = parts.pop() ?? '';
  for (const l of parts) {
    if (!l.trim()) continue;
    try {
      run.lines.push(JSON.parse(l) as TrainMetricsLine);
    } catch { /* a line another writer broke: the loop's own lines are whole */ }
  }
}

/** The schedule as `strata train` builds it from --schedule, --lr and --warmup (cli/train.ts). */
export function createTrainHost(): TrainHost {
  const runs = new Map<string, Run>();
  let next = 1;
  let starting = false;

  const active = (): Run | undefined => [...runs.values()].find((r) => r.state === 'running' || r.state === 'stopping');
  const forget = (): void => {
    const finished = [...runs.values()].filter((r) => r !== active());
    for (const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) runs.delete(r.id);
  };
  const gone = (runId: string) => ({ ok: false as const, reason: 'gone' as const, message: `this host has no training run ${JSON.stringify(runId)} (the engine restarted?); its run directory still holds the checkpoints: resume it` });

  /** Checks the request, starts the loop, and answers once it has checked the model (or refused). */
  const begin = async (req: TrainRequest, given: string): Promise<TrainStartResponse> => {
    const dir = resolve(given);
    let opts: TrainOptions;
    let description: string;
    try {
      const doc = documentFromJson(typeof req.doc === 'string' ? JSON.parse(req.doc) : req.doc);
      if (!(SCHEDULE_KINDS as readonly string[]).includes(req.schedule)) throw new HyperParamError('schedule', `unknown schedule '${req.schedule}'; choose one of ${SCHEDULE_KINDS.join(', ')}`);
      const optimizer = parseOptimizer(req.optimizer, req.lr === undefined ? {} : { learning_rate: req.lr });
      const schedule = scheduleFor(req.schedule, req.lr ?? optimizer.learningRate, req.warmup ?? 0, req.steps);
      const loss = req.loss === undefined || req.loss === '' ? undefined : resolveLoss(req.loss);
      const task = await taskFromSpec(req.task, { batchSize: req.batch, seed: req.seed, length: req.length, vocabSize: req.vocab });
      description = task.description;
      opts = { doc, task, loss, optimizer, schedule, steps: req.steps, evalEvery: req.evalEvery, seed: req.seed, provider: req.provider, dir, resume: req.resume === true };
    } catch (e) {
      return { ok: false, error: e instanceof SyntaxError ? problem('bad_document', `the document is not JSON: ${e.message}`) : trainProblem(e) };
    }
    const controller = new AbortController();
    const run: Run = {
      id: `train-${next++}`, dir, state: 'running', task: description, notes: [], progress: null, controller, lines: [], offset: 0, carry: '',
    };
    // settles into the run's state (never rejects: a failure is state 'failed' with the engine's message)
    void train({
      ...opts, signal: controller.signal,
      onNote: (line) => { run.notes.push(line); },
      onProgress: (p) => {
        if (p.split === 'train') run.progress = { step: p.step, steps: p.steps, loss: p.loss, accuracy: p.accuracy, lr: p.lr, stepsPerS: p.stepsPerS, etaS: finite(p.etaS) };
      },
    }).then((r) => {
      run.state = r.stopped ? 'stopped' : 'done';
      run.result = { step: r.step, eval: { loss: finite(r.eval.loss), ...(r.eval.accuracy !== undefined ? { accuracy: finite(r.eval.accuracy) } : {}) }, provider: r.provider };
    }, (e: unknown) => {
      run.state = 'failed';
      run.error = trainProblem(e);
    });
    // the loop checks the model, the loss and the run directory before its first await:
    // a problem there is this call's answer (later ones arrive through trainStatus)
    await new Promise((r) => setImmediate(r));
    if (run.state === 'failed') return { ok: false, error: run.error! };
    runs.set(run.id, run);
    forget();
    return { ok: true, runId: run.id, dir };
  };

  return {
    async trainStart(req) {
      const busy = active();
      if (busy || starting) {
        return { ok: false, error: problem('bad_input', `a training run is already ${busy ? `going on (${busy.dir})` : 'starting'}: this host trains one model at a time; stop it first`) };
      }
      if (!req.dir) return { ok: false, error: problem('bad_input', 'the training run needs a directory (dir)') };
      // a second start arriving while this one loads its data or checks the model is refused too
      starting = true;
      try {
        return await begin(req, req.dir);
      } finally {
        starting = false;
      }
    },

    async trainStatus(req) {
      const run = runs.get(req.runId);
      if (!run) return gone(req.runId);
      readMetrics(run);
      const from = req.since <= run.lines.length ? req.since : 0;
      return {
        ok: true, runId: run.id, dir: run.dir, state: run.state, task: run.task,
        from, metrics: run.lines.slice(from),
        progress: run.progress, notes: [...run.notes],
        ...(run.error ? { error: run.error.message } : {}),
        checkpoints: checkpointSteps(run.dir),
        ...(run.result ? { result: run.result } : {}),
      };
    },

    async trainRuns() {
      return [...runs.values()].map((r) => ({ runId: r.id, dir: r.dir, state: r.state, task: r.task }));
    },

    async trainStop(req) {
      const run = runs.get(req.runId);
      if (!run) return gone(req.runId);
      if (run.state === 'running') {
        run.state = 'stopping';
        run.controller.abort();
      }
      return { ok: true, state: run.state };
    },

    async exportTrained(req) {
      const dir = req.dir ?? (req.runId !== undefined ? runs.get(req.runId)?.dir : undefined);
      if (!dir) return { ok: false, error: problem('bad_input', `this host has no training run ${JSON.stringify(req.runId)}: export from its run directory`) };
      if (!req.path) return { ok: false, error: problem('bad_input', 'export needs a file to write: choose where to save it') };
      let weightsPath = '';
      try {
        const run = readRunDir(resolve(dir), { checkpoint: req.checkpoint });
        weightsPath = run.weightsPath;
        const r = exportTrained(run, { format: req.format, out: req.path });
        return { ok: true, path: req.path, bytes: r.bytes, notes: r.format === 'trax' ? r.notes : [] };
      } catch (e) {
        if (e instanceof RunDirError && e.code === 'missing' && existsSync(join(dir, 'config.json')) && !checkpointSteps(dir).length) {
          return { ok: false, error: problem('bad_input', `${dir} has no checkpoint yet: export after the run's first checkpoint (every "eval every" steps, and at the end)`) };
        }
        const p = exportProblem(e, weightsPath);
        if (p) return { ok: false, error: p };
        const code = (e as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return { ok: false, error: problem('runtime', `cannot write ${req.path}: ${(e as Error).message}`) };
        return { ok: false, error: trainProblem(e) };
      }
    },

  };
}
