/**
 * What a training task feeds, and how its batches are made.
 *
 * Every task yields Trax's `(inputs, targets, weights)` triples: `weights`
 * has the targets' shape (ones where the task has no mask, as Trax's
 * `add_loss_weights` adds), and the loss and metrics are weighted means over
 * it. Language-model style tasks feed the same tensor as inputs and targets
 * (the model shifts internally: TransformerLM starts with ShiftRight).
 *
 * Batches are random access: train batch k depends only on (seed, k), so a
 * run resumes from a `DataPosition` (how many train batches it has taken)
 * and gets exactly the batches an uninterrupted run would have got.
 */
import { createHash } from 'node:crypto';
import type { TensorValue } from '../../core/onnx';
import { RandomStream } from '../../weights/random';

// ---------------------------------------------------------------- errors

export type DataErrorCode =
  | 'unknown_task' // the task name is not one of TASK_NAMES
  | 'missing_file' // text:FILE / data:FILE names no readable file
  | 'bad_file' // the file's content is malformed
  | 'bad_option' // an option is out of range or does not apply to the task
  | 'bad_position'; // a saved data position does not fit this task

/** A user error about data: the message names the file, and the line/array and field at fault. */
export class DataError extends Error {
  constructor(readonly code: DataErrorCode, message: string) {
    super(message);
    this.name = 'DataError';
  }
}

// ---------------------------------------------------------------- what a task feeds

export type TaskKind = 'classification' | 'regression' | 'sequence' | 'language_model';
export type FeedDtype = 'float32' | 'int32';

/** One fed tensor: its dtype and full shape (batch first). */
export interface FeedSpec {
  name: string;
  dtype: FeedDtype;
  shape: number[];
  /** the inclusive range of the values, where the task fixes it */
  range?: [number, number];
}

export interface Signature {
  /** the model's inputs, in stack order */
  inputs: FeedSpec[];
  targets: FeedSpec;
  /** loss weights, with the targets' shape: 1 counts, 0 does not (padding, the unmasked part of a sequence) */
  weights: FeedSpec;
  /** the targets are the (first) input itself: the model predicts its input shifted (TransformerLM) */
  targetsAreInputs: boolean;
}

/** A fed tensor: a TensorValue whose data is a Float32Array (float32) or an Int32Array (int32). */
export interface BatchTensor extends TensorValue {
  dtype: FeedDtype;
  data: Float32Array | Int32Array;
}

export interface Batch {
  inputs: BatchTensor[];
  /** the same object as inputs[0] where `targetsAreInputs` */
  targets: BatchTensor;
  weights: BatchTensor;
  /** rows that are real examples: an eval set's last batch is filled up from its start, with weight 0 */
  size: number;
}

/** Where a run stands in its training data: JSON, saved in checkpoints. */
export interface DataPosition {
  task: string;
  /** the task's options and data (file content hash): a resume with other data is refused */
  fingerprint: string;
  seed: number;
  batchSize: number;
  /** train batches taken so far; the next one is batch number `batches` */
  batches: number;
}

export interface Task {
  /** the spec it was made from: `mnist`, `duplicate`, `data:train.csv` */
  readonly spec: string;
  readonly kind: TaskKind;
  /** one line for people: sizes, split, vocabulary */
  readonly description: string;
  readonly signature: Signature;
  /** the default loss (a Trax metrics layer name, spec §13): CrossEntropyLoss (over log-probabilities) or L2Loss */
  readonly loss: string;
  /** the default metrics (Trax names), all weighted by `weights` */
  readonly metrics: readonly string[];
  /** token ids lie in [0, vocabSize) (sequence and language-model tasks) */
  readonly vocabSize?: number;
  /** class ids lie in [0, nClasses) (classification and per-position targets) */
  readonly nClasses?: number;
  readonly batchSize: number;
  readonly seed: number;
  /** examples in the training split; null where they are generated without end */
  readonly trainExamples: number | null;
  /** examples one evaluation covers */
  readonly evalExamples: number;
  readonly evalBatchCount: number;
  readonly fingerprint: string;
  /** train batch k: a function of (seed, k) only */
  trainBatch(index: number): Batch;
  /** eval batch i of evalBatchCount: the same every time */
  evalBatch(index: number): Batch;
  /** a stream of train batches from the start or from a saved position */
  train(from?: DataPosition): TrainStream;
}

/** Train batches in order, with the position to save in a checkpoint. */
export class TrainStream {
  constructor(private readonly task: Task, private taken: number) {}

  next(): Batch {
    const b = this.task.trainBatch(this.taken);
    this.taken++;
    return b;
  }

  get position(): DataPosition {
    const t = this.task;
    return { task: t.spec, fingerprint: t.fingerprint, seed: t.seed, batchSize: t.batchSize, batches: this.taken };
  }
}

/** Checks a saved position (parsed JSON, so anything) against the task; returns the batches taken. */
export function checkPosition(task: Task, pos: unknown): number {
  const bad = (why: string): never => { throw new DataError('bad_position', `cannot resume the data of ${task.spec}: ${why}`); };
  if (typeof pos !== 'object' || pos === null || Array.isArray(pos)) return bad(`the saved data position is not an object (${JSON.stringify(pos)})`);
  const p = pos as Record<string, unknown>;
  if (!Number.isSafeInteger(p.batches) || (p.batches as number) < 0) bad(`the saved position's 'batches' is ${JSON.stringify(p.batches)}, not a count`);
  if (p.task !== task.spec) bad(`the checkpoint was trained on the task ${JSON.stringify(p.task)}`);
  if (p.seed !== task.seed) bad(`the checkpoint used seed ${JSON.stringify(p.seed)}, this run seed ${task.seed}`);
  if (p.batchSize !== task.batchSize) bad(`the checkpoint used batch size ${JSON.stringify(p.batchSize)}, this run ${task.batchSize}`);
  if (p.fingerprint !== task.fingerprint) bad('the data or the task options changed since the checkpoint was written');
  return p.batches as number;
}

/** A short content hash (for fingerprints). */
export function digest(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------- random numbers

/**
 * The stream of one batch: counter-based (Philox, engine/weights/random.ts),
 * so batch k is computed without drawing batches 0..k-1.
 */
export function batchStream(seed: number, key: string, index: number): RandomStream {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 32) throw new DataError('bad_position', `batch number ${index} is out of range`);
  return RandomStream.for(seed, key, index);
}

/** Uniform integer in [0, n) (rejection sampling: no modulo bias), 1 <= n <= 2^32. */
export function below(rng: RandomStream, n: number): number {
  const limit = Math.floor(4294967296 / n) * n;
  for (;;) {
    const u = rng.uint32();
    if (u < limit) return u % n;
  }
}

/** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(rng: RandomStream, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

// ---------------------------------------------------------------- example sets

/** One field of n examples, each of `shape`, row-major in `data` (n * size values). */
export interface Column {
  dtype: FeedDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A finite set of examples (columns of equal length n). */
export interface Examples {
  n: number;
  inputs: Column[];
  /** null: the targets are inputs[0] */
  targets: Column | null;
  weights: Column;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** The rows `rows` of a column as a batch tensor. */
function gather(c: Column, rows: ArrayLike<number>): BatchTensor {
  const size = sizeOf(c.shape);
  const out = c.dtype === 'float32' ? new Float32Array(rows.length * size) : new Int32Array(rows.length * size);
  for (let r = 0; r < rows.length; r++) out.set(c.data.subarray(rows[r] * size, (rows[r] + 1) * size), r * size);
  return { dtype: c.dtype, dims: [rows.length, ...c.shape], data: out };
}

/** A batch of the given example rows; the rows from `size` on get weight 0. */
export function batchOf(set: Examples, rows: ArrayLike<number>, size = rows.length): Batch {
  const inputs = set.inputs.map((c) => gather(c, rows));
  const targets = set.targets ? gather(set.targets, rows) : inputs[0];
  const weights = gather(set.weights, rows);
  if (size < rows.length) weights.data.fill(0, size * sizeOf(set.weights.shape));
  return { inputs, targets, weights, size };
}

/** The subset `rows` of a set, as its own set (copied: the parts are then independent). */
export function subset(set: Examples, rows: ArrayLike<number>): Examples {
  const pick = (c: Column): Column => ({ dtype: c.dtype, shape: c.shape, data: gather(c, rows).data });
  const inputs = set.inputs.map(pick);
  return { n: rows.length, inputs, targets: set.targets ? pick(set.targets) : null, weights: pick(set.weights) };
}

/**
 * Train batches of a finite set. The examples form an endless stream of
 * epochs, each a fresh permutation drawn from (seed, epoch); batch k is the
 * slice [kB, (k+1)B) of that stream. Nothing is dropped: a batch that
 * reaches past an epoch's end continues with the next epoch's first examples.
 */
export function shuffledBatches(set: Examples, batchSize: number, seed: number, key: string): (index: number) => Batch {
  const cache = new Map<number, Int32Array>(); // the one or two epochs the current batch touches
  const epochOrder = (e: number): Int32Array => {
    let p = cache.get(e);
    if (!p) {
      if (cache.size >= 2) cache.delete(cache.keys().next().value as number);
      p = permutation(batchStream(seed, `${key}/epoch`, e), set.n);
      cache.set(e, p);
    }
    return p;
  };
  return (index) => {
    if (!Number.isSafeInteger(index) || index < 0) throw new DataError('bad_position', `batch number ${index} is out of range`);
    const rows = new Int32Array(batchSize);
    for (let r = 0; r < batchSize; r++) {
      const i = index * batchSize + r;
      rows[r] = epochOrder(Math.floor(i / set.n))[i % set.n];
    }
    return batchOf(set, rows);
  };
}

/** Eval batches of a finite set, in order; the last is filled up from the start with weight-0 rows. */
export function orderedBatches(set: Examples, batchSize: number): { count: number; batch: (index: number) => Batch } {
  const count = Math.ceil(set.n / batchSize);
  return {
    count,
    batch: (index) => {
      if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new DataError('bad_position', `eval batch ${index} is out of range (there are ${count})`);
      const first = index * batchSize;
      const size = Math.min(batchSize, set.n - first);
      const rows = Int32Array.from({ length: batchSize }, (_, r) => (first + r) % set.n);
      return batchOf(set, rows, size);
    },
  };
}

// ---------------------------------------------------------------- assembling a task

export interface TaskParts {
  spec: string;
  kind: TaskKind;
  description: string;
  signature: Signature;
  loss: string;
  metrics: string[];
  vocabSize?: number;
  nClasses?: number;
  batchSize: number;
  seed: number;
  trainExamples: number | null;
  evalExamples: number;
  evalBatchCount: number;
  fingerprint: string;
  trainBatch(index: number): Batch;
  evalBatch(index: number): Batch;
}

export function makeTask(parts: TaskParts): Task {
  const task: Task = {
    ...parts,
    train: (from) => new TrainStream(task, from === undefined ? 0 : checkPosition(task, from)),
  };
  return Object.freeze(task);
}

/** Checks a batch against the task's signature (dtypes, shapes, value ranges, weights in {0,1}-or-more). Throws a plain message. */
export function checkBatch(task: Task, b: Batch): void {
  const sig = task.signature;
  const check = (spec: FeedSpec, t: TensorValue, role: string): void => {
    const where = `${task.spec}: ${role} '${spec.name}'`;
    if (t.dtype !== spec.dtype) throw new Error(`${where} is ${t.dtype}, the signature says ${spec.dtype}`);
    if (t.dims.length !== spec.shape.length || t.dims.some((d, i) => d !== spec.shape[i])) throw new Error(`${where} has shape [${t.dims.join(', ')}], the signature says [${spec.shape.join(', ')}]`);
    if (t.data.length !== sizeOf(t.dims)) throw new Error(`${where} holds ${t.data.length} values for shape [${t.dims.join(', ')}]`);
    if (spec.range) {
      const [lo, hi] = spec.range;
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i] as number;
        if (!(v >= lo && v <= hi)) throw new Error(`${where}[${i}] = ${v} is outside [${lo}, ${hi}]`);
      }
    }
  };
  if (b.inputs.length !== sig.inputs.length) throw new Error(`${task.spec}: a batch has ${b.inputs.length} inputs, the signature ${sig.inputs.length}`);
  sig.inputs.forEach((s, i) => check(s, b.inputs[i], 'input'));
  check(sig.targets, b.targets, 'targets');
  check(sig.weights, b.weights, 'weights');
  if (sig.targetsAreInputs && b.targets !== b.inputs[0]) throw new Error(`${task.spec}: the targets should be the inputs`);
  if (!(b.size >= 1 && b.size <= task.batchSize)) throw new Error(`${task.spec}: a batch says it holds ${b.size} examples`);
}
