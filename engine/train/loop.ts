/**
 * The training loop: runs the step graph (step.ts) on onnxruntime again and
 * again, feeding each step's new weights, optimizer slots and layer state
 * back as the next step's inputs (the same tensors: on WebGPU they never
 * leave the GPU), evaluates every N steps, logs metrics as JSONL, saves
 * checkpoints (checkpoint.ts) and resumes from the latest one.
 *
 * Deterministic: batch k, the random salt of step k and the initial weights
 * depend only on the seed, so a run killed and resumed from its checkpoint
 * reaches the same weights as one that never stopped.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TensorValue, ValueInfo } from '../core/onnx';
import { type ShapeDtype, formatShapeDtype } from '../core/shape';
import type { StrataDocument } from '../document/schema';
import { serializeDocument } from '../document/schema';
import { modelBytes } from '../onnx/write';
import { type Provider, fromOrtTensor, openSession, toOrtTensor } from '../runtime/session';
import { initialValue } from '../weights';
import { writeFileAtomic } from '../host/files';
import type { TrainMetricsLine, TrainProgress } from '../host/api';
import { type Checkpoint, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, checkpointSteps, latestCheckpoint, saveCheckpoint } from './checkpoint';
import type { Batch, Task } from './data/task';
import { digest } from './data/task';
import { ACCURACY_METRICS, ObjectiveError, checkObjective } from './objective';
import type { Optimizer } from './optimizers';
import { type Schedule, describeSchedule, learningRate } from './schedules';
import { type StepConfig, type StepGraph, buildEvalGraph, buildTrainStep, slotValue } from './step';

export interface TrainOptions {
  doc: StrataDocument;
  task: Task;
  /** catalog kind of the loss (default: the task's) */
  loss?: string;
  optimizer: Optimizer;
  schedule: Schedule;
  steps: number;
  /** evaluate (and log an eval line) every N steps, and at the end */
  evalEvery: number;
  /** save a checkpoint every N steps (default: evalEvery), and at the end or on stop */
  checkpointEvery?: number;
  /** log a train line every N steps (default: min(evalEvery, 10)) */
  logEvery?: number;
  seed: number;
  provider?: Provider;
  dir: string;
  /** continue from the latest checkpoint in `dir` (a fresh start when there is none) */
  resume?: boolean;
  /** checkpoints to keep */
  keep?: number;
  /** stop cleanly (after a checkpoint) when aborted */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** one line for people (provider notes, resume) */
  onNote?: (line: string) => void;
  intraOpThreads?: number;
  /** the provider must run every node itself (no CPU fallback, inside the graph or for the session) */
  strict?: boolean;
  /**
   * Reversible layers recompute their residual functions in the backward pass
   * instead of keeping their activations, as Trax's do (default true).
   */
  remat?: boolean;
}

/** The loop's progress report (the Host API's TrainProgress, with the split and an ETA that may be Infinity). */
export interface Progress extends Omit<TrainProgress, 'etaS'> {
  etaS: number;
  split: 'train' | 'eval';
}

/** One line of RUN_DIR/metrics.jsonl (the contract, declared with the Host API that carries it to the app). */
export type MetricsLine = TrainMetricsLine;

export interface TrainResult {
  step: number;
  eval: { loss: number; accuracy?: number };
  dir: string;
  provider: Provider;
  stopped: boolean;
  /** where the weights and optimizer slots were between steps: 'gpu-buffer' when they never left the GPU */
  weightsLocation: 'cpu' | 'gpu-buffer' | 'mixed';
}

export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainError';
  }
}

const sig = (f: { dtype: string; shape: number[] }): ShapeDtype => ({ dtype: f.dtype as ShapeDtype['dtype'], shape: [...f.shape] });

/** The model's declared inputs must accept the task's (symbols bind to any size; numbers must match). */
function checkInputs(doc: StrataDocument, task: Task): ShapeDtype[] {
  const fed = task.signature.inputs.map(sig);
  const declared = doc.input ?? [];
  if (declared.length && declared.length !== fed.length) {
    throw new ObjectiveError(`the model takes ${declared.length} input(s) (${declared.map(formatShapeDtype).join(', ')}), the task ${task.spec} feeds ${fed.length} (${fed.map(formatShapeDtype).join(', ')})`);
  }
  declared.forEach((d, i) => {
    const f = fed[i];
    const fits = d.dtype === f.dtype && d.shape.length === f.shape.length && d.shape.every((x, j) => typeof x !== 'number' || x === f.shape[j]);
    if (!fits) throw new ObjectiveError(`the model's input ${i} is ${formatShapeDtype(d)}, but the task ${task.spec} feeds ${formatShapeDtype(f)}`);
  });
  return fed;
}

/** The metric the task reports as `accuracy` (the first accuracy-like one), if any. */
function accuracyIndex(metrics: readonly string[]): number {
  return metrics.findIndex((m) => (ACCURACY_METRICS as readonly string[]).includes(m));
}

function scalar(t: ort.Tensor): number {
  return Number((t.data as Float32Array)[0]);
}

/** Runs a graph whose weights are fed from the loop's tensors. */
class Graph {
  private constructor(readonly g: StepGraph, readonly session: ort.InferenceSession, readonly provider: Provider) {}
  static async open(g: StepGraph, provider: Provider, keepOnDevice: boolean, threads: number | undefined, notes: string[], strict = false): Promise<Graph> {
    const outputLocations: Record<string, 'cpu' | 'gpu-buffer'> = {};
    if (keepOnDevice) {
      for (const p of [...g.params, ...g.state]) if (p.output) outputLocations[p.output] = 'gpu-buffer';
      for (const s of g.slots) outputLocations[s.output] = 'gpu-buffer';
    }
    const opened = await openSession(modelBytes(g.model), { provider, outputLocations, intraOpThreads: threads, fallback: !strict, disableCpuFallback: strict });
    notes.push(...opened.notes);
    return new Graph(g, opened.session, opened.provider);
  }
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const task = o.task;
  const loss = o.loss ?? task.loss;
  const metrics = [...task.metrics];
  const modelInput = checkInputs(o.doc, task);
  const extra = [sig(task.signature.targets), sig(task.signature.weights)];
  checkObjective(o.doc.root, modelInput, extra, loss, metrics);
  const provider = o.provider ?? 'cpu';
  const cfg: StepConfig = { model: o.doc.root, modelInput, extra, loss, metrics, optimizer: o.optimizer, schedule: o.schedule, seed: o.seed, gpu: provider !== 'cpu', remat: o.remat !== false };
  const step = buildTrainStep(cfg);
  const evalG = buildEvalGraph(cfg);
  const accAt = accuracyIndex(metrics);

  // the run's identity: what must not change across a resume (the number of steps may)
  const config = {
    document: o.doc.root, input: modelInput.map(formatShapeDtype), task: task.spec, taskFingerprint: task.fingerprint,
    loss, metrics, optimizer: { name: o.optimizer.name, ...o.optimizer.hyper }, schedule: describeSchedule(o.schedule), seed: o.seed, batch: task.batchSize,
  };
  const fingerprint = digest(JSON.stringify(config));
  mkdirSync(o.dir, { recursive: true });

  let ckpt: Checkpoint | undefined;
  if (o.resume) {
    ckpt = latestCheckpoint(o.dir);
    if (ckpt && ckpt.meta.config !== fingerprint) {
      throw new TrainError(`cannot resume ${o.dir}: it was trained with another model, task, loss, optimizer, schedule, seed or batch size (see ${join(o.dir, 'config.json')})`);
    }
    o.onNote?.(ckpt ? `resuming ${o.dir} from step ${ckpt.meta.step}` : `no checkpoint in ${o.dir}: starting from step 0`);
  } else if (checkpointSteps(o.dir).length) {
    throw new TrainError(`${o.dir} already holds a training run (checkpoints at steps ${checkpointSteps(o.dir).join(', ')}): pass --resume to continue it, or choose another --dir`);
  }
  if (!ckpt) {
    writeFileAtomic(join(o.dir, 'config.json'), `${JSON.stringify({ ...config, fingerprint, steps: o.steps }, null, 2)}\n`);
    writeFileAtomic(join(o.dir, 'model.strata.json'), serializeDocument(o.doc));
  }
  const metricsPath = join(o.dir, 'metrics.jsonl');
  const startStep = ckpt?.meta.step ?? 0;
  trimMetrics(metricsPath, startStep);

  // the loop's tensors, by graph input name
  const value = (p: StepGraph['params'][number]): TensorValue => {
    const saved = ckpt?.weights.get(p.key);
    if (saved) {
      const want = `${p.ref.decl.dtype}[${p.ref.decl.shape.join(',')}]`;
      if (`${saved.dtype}[${saved.dims.join(',')}]` !== want) throw new TrainError(`checkpoint weight '${p.key}' is ${saved.dtype}[${saved.dims.join(',')}], the model needs ${want}`);
      return saved;
    }
    if (ckpt && p.ref.role === 'weight') throw new TrainError(`the checkpoint has no weight '${p.key}'`);
    return initialValue({ ...p.ref, key: p.key }, o.seed);
  };
  const feeds = new Map<string, ort.Tensor>();
  for (const p of [...step.params, ...step.state]) feeds.set(p.input, toOrtTensor(value(p)));
  for (const s of step.slots) {
    const saved = ckpt?.optimizer.get(s.decl.name);
    if (ckpt && !saved) throw new TrainError(`the checkpoint has no optimizer slot '${s.decl.name}' (was it trained with another optimizer?)`);
    feeds.set(s.input, toOrtTensor(saved ?? slotValue(s.decl)));
  }

  const notes: string[] = [];
  const keep = provider === 'webgpu';
  const trainG = await Graph.open(step, provider, keep, o.intraOpThreads, notes, o.strict);
  const evalGraph = await Graph.open(evalG, trainG.provider, false, o.intraOpThreads, notes, o.strict);
  for (const n of notes) o.onNote?.(n);
  const onDevice = trainG.provider === 'webgpu';
  // reading tensors that live on the GPU back to the host: an Identity graph with CPU outputs
  const readback = onDevice ? await readbackGraph(step, o.intraOpThreads) : undefined;

  const stream = task.train(ckpt?.meta.data as never);
  let timeS = ckpt?.meta.time_s ?? 0;
  let k = startStep;
  let stopped = false;
  const ckptEvery = o.checkpointEvery ?? o.evalEvery;
  const logEvery = o.logEvery ?? Math.max(1, Math.min(o.evalEvery, 10));
  let window = { loss: 0, acc: 0, n: 0, t0: performance.now(), k0: k };
  let rate = 0;
  let lastEval: { loss: number; accuracy?: number } = { loss: NaN };
  let weightsLocation: TrainResult['weightsLocation'] = 'cpu';

  const weightsNow = async (): Promise<Map<string, ort.Tensor>> => {
    const names = [...step.params, ...step.state].map((p) => p.input).concat(step.slots.map((s) => s.input));
    if (!readback) return new Map(names.map((n) => [n, feeds.get(n)!]));
    const out = await readback.run(Object.fromEntries(names.map((n) => [n, feeds.get(n)!])));
    return new Map(names.map((n) => [n, out[`${n}:host`]]));
  };
  const evaluate = async (): Promise<{ loss: number; accuracy?: number }> => {
    let sumW = 0, sumL = 0, sumA = 0;
    for (let i = 0; i < task.evalBatchCount; i++) {
      const b = task.evalBatch(i);
      const f: Record<string, ort.Tensor> = dataFeeds(evalGraph.g, b);
      // the eval session runs on the same device: weights kept on the GPU go in as they are
      for (const p of [...evalGraph.g.params, ...evalGraph.g.state]) f[p.input] = feeds.get(p.input)!;
      const out = await evalGraph.session.run(f);
      const w = weightSum(b);
      sumW += w;
      sumL += w * scalar(out[evalGraph.g.loss]);
      if (accAt >= 0) sumA += w * scalar(out[evalGraph.g.metrics[accAt]]);
    }
    const r = { loss: sumL / sumW, ...(accAt >= 0 ? { accuracy: sumA / sumW } : {}) };
    return r;
  };
  const checkpoint = async (): Promise<void> => {
    const host = await weightsNow();
    const weights = new Map<string, TensorValue>();
    for (const p of [...step.params, ...step.state]) weights.set(p.key, fromOrtTensor(host.get(p.input)!));
    const optimizer = new Map<string, TensorValue>();
    for (const s of step.slots) optimizer.set(s.decl.name, fromOrtTensor(host.get(s.input)!));
    saveCheckpoint(o.dir, {
      meta: { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, step: k, seed: o.seed, data: stream.position, time_s: timeS, config: fingerprint },
      weights, optimizer,
    }, o.keep ?? 3);
  };
  const log = (line: MetricsLine): void => { appendFileSync(metricsPath, `${JSON.stringify(line)}\n`); };

  try {
    while (k < o.steps) {
      if (o.signal?.aborted) { stopped = true; break; }
      const t0 = performance.now();
      const batch = stream.next();
      const f = dataFeeds(step, batch);
      for (const [n, t] of feeds) f[n] = t;
      f[step.step!] = new ort.Tensor('float32', Float32Array.of(k + 1), []);
      f[step.rng!] = new ort.Tensor('int32', Int32Array.of(k), []);
      const out = await trainG.session.run(f);
      // the new weights, slots and state become the next step's inputs (dispose what they replace on the GPU)
      const swap = (input: string, output: string): void => {
        const old = feeds.get(input);
        feeds.set(input, out[output]);
        if (onDevice && old && old.location === 'gpu-buffer') old.dispose();
      };
      for (const p of [...step.params, ...step.state]) if (p.output) swap(p.input, p.output);
      for (const s of step.slots) swap(s.input, s.output);
      k++;
      timeS += (performance.now() - t0) / 1000;
      const l = scalar(out[step.loss]);
      if (!Number.isFinite(l)) throw new TrainError(`the loss became ${l} at step ${k}: lower the learning rate (--lr), or add gradient clipping`);
      window.loss += l;
      window.n++;
      if (accAt >= 0) window.acc += scalar(out[step.metrics[accAt]]);
      if (k % logEvery === 0 || k === o.steps) {
        const dt = (performance.now() - window.t0) / 1000;
        rate = dt > 0 ? (k - window.k0) / dt : 0;
        const line: MetricsLine = { step: k, split: 'train', loss: window.loss / window.n, ...(accAt >= 0 ? { accuracy: window.acc / window.n } : {}), lr: learningRate(o.schedule, k), steps_per_s: rate, time_s: timeS };
        log(line);
        o.onProgress?.({ step: k, steps: o.steps, loss: line.loss, accuracy: line.accuracy, lr: line.lr, stepsPerS: rate, etaS: rate > 0 ? (o.steps - k) / rate : Infinity, split: 'train' });
        window = { loss: 0, acc: 0, n: 0, t0: performance.now(), k0: k };
      }
      if (k % o.evalEvery === 0 && k < o.steps) {
        lastEval = await evaluate();
        log({ step: k, split: 'eval', loss: lastEval.loss, ...(lastEval.accuracy !== undefined ? { accuracy: lastEval.accuracy } : {}), lr: learningRate(o.schedule, k), steps_per_s: rate, time_s: timeS });
        o.onProgress?.({ step: k, steps: o.steps, loss: lastEval.loss, accuracy: lastEval.accuracy, lr: learningRate(o.schedule, k), stepsPerS: rate, etaS: rate > 0 ? (o.steps - k) / rate : Infinity, split: 'eval' });
      }
      if (k % ckptEvery === 0 && k < o.steps) await checkpoint();
    }
    // the last step (or where Ctrl-C stopped) always has a checkpoint
    if (!checkpointSteps(o.dir).includes(k)) await checkpoint();
    lastEval = await evaluate();
    log({ step: k, split: 'eval', loss: lastEval.loss, ...(lastEval.accuracy !== undefined ? { accuracy: lastEval.accuracy } : {}), lr: learningRate(o.schedule, Math.max(k, 1)), steps_per_s: rate, time_s: timeS });
    const locations = new Set([...step.params.filter((p) => p.output), ...step.slots].map((x) => feeds.get(x.input)!.location));
    weightsLocation = locations.size === 1 && locations.has('gpu-buffer') ? 'gpu-buffer' : locations.has('gpu-buffer') ? 'mixed' : 'cpu';
  } finally {
    // GPU tensors are freed before their sessions (else their memory waits for the garbage collector)
    for (const t of feeds.values()) if (t.location === 'gpu-buffer') t.dispose();
    await trainG.session.release();
    await evalGraph.session.release();
    await readback?.release();
  }
  return { step: k, eval: lastEval, dir: o.dir, provider: trainG.provider, stopped, weightsLocation };
}

/** The data inputs of a graph from a batch (model inputs, targets, weights in stack order). */
function dataFeeds(g: StepGraph, b: Batch): Record<string, ort.Tensor> {
  const values = [...b.inputs, b.targets, b.weights];
  const f: Record<string, ort.Tensor> = {};
  g.data.forEach((name, i) => { f[name] = toOrtTensor(values[i]); });
  return f;
}

function weightSum(b: Batch): number {
  let s = 0;
  for (const x of b.weights.data as Float32Array) s += x;
  return s;
}

/** Keeps the metrics lines up to `step` (a resumed run rewrites what came after its checkpoint). */
function trimMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((l) => {
    if (!l.trim()) return false;
    try { return (JSON.parse(l) as MetricsLine).step <= step; } catch { return false; }
  });
  writeFileSync(path, kept.map((l) => `${l}\n`).join(''));
}

/** A WebGPU session that copies the given tensors to the host: Identity per input, outputs on the CPU. */
async function readbackGraph(g: StepGraph, threads: number | undefined): Promise<ort.InferenceSession> {
  const infos: ValueInfo[] = [
    ...[...g.params, ...g.state].map((p) => ({ name: p.input, dtype: p.ref.decl.dtype, shape: p.ref.decl.shape.map(Number) })),
    ...g.slots.map((s) => ({ name: s.input, dtype: s.decl.dtype, shape: [...s.decl.shape] })),
  ];
  const model = {
    graph: {
      name: 'readback', inputs: infos, outputs: infos.map((i) => ({ ...i, name: `${i.name}:host` })),
      nodes: infos.map((i) => ({ op: 'Identity', inputs: [i.name], outputs: [`${i.name}:host`], name: `${i.name}:host` })), initializers: [],
    },
    functions: [], producer: 'strata', metadata: {},
  };
  const opened = await openSession(modelBytes(model), { provider: 'webgpu', intraOpThreads: threads, fallback: false });
  return opened.session;
}
