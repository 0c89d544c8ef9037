/**
 * Character-level language modelling over a UTF-8 text file (`text:FILE`).
 *
 * Byte-level, as Trax's ByteTextEncoder (num_reserved_ids = 2, the encoder of
 * its enwik8 runs): token = byte + 2, 0 = padding, 1 = end of sequence
 * (unused here), vocabulary 258. A multi-byte character is several tokens;
 * any text needs no vocabulary file.
 *
 * The file's first (1 - evalFraction) bytes train, the rest evaluate
 * (default 10%). A train batch holds B windows of L tokens at offsets drawn
 * from (seed, batch number); eval windows tile the eval part in order
 * (non-overlapping). Inputs and targets are the same window with weights all
 * 1: the model predicts each token from the ones before it by shifting
 * internally (TransformerLM's ShiftRight), as Trax's LM inputs are (x, x).
 */
import { readFileSync } from 'node:fs';
import { batchStream, below, DataError, digest, makeTask, orderedBatches, type Examples, type Task } from './task';

/** Reserved ids below the bytes: 0 padding, 1 end of sequence. */
export const BYTE_OFFSET = 2;
export const BYTE_VOCAB = 256 + BYTE_OFFSET;

/** The offset of the first byte that is not valid UTF-8, or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n: number;
    let min: number;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    if (i + n >= b.length) return i; // truncated at the end of the file
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if ((d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export interface TextOptions {
  batchSize: number;
  seed: number;
  /** window length L (default 64) */
  length?: number;
  /** the file's tail held out for evaluation (default 0.1) */
  evalFraction?: number;
  /** caps the eval batches one evaluation runs (default: all windows of the eval part) */
  evalBatches?: number;
}

/** `file` is the path to read; `shown` is how messages name it. */
export function textTask(file: string, shown: string, o: TextOptions): Task {
  const where = `text:${shown}`;
  const bad = (msg: string): never => { throw new DataError('bad_option', `${where}: ${msg}`); };
  const L = o.length ?? 64;
  if (!Number.isSafeInteger(L) || L < 1) bad(`length must be a positive integer, got ${L}`);
  const fraction = o.evalFraction ?? 0.1;
  if (!(fraction >= 0 && fraction < 1)) bad(`evalFraction must be in [0, 1), got ${fraction}`);
  if (o.evalBatches !== undefined && !(Number.isSafeInteger(o.evalBatches) && o.evalBatches >= 1)) bad(`evalBatches must be a positive integer, got ${o.evalBatches}`);

  const bytes = readFileSync(file);
  if (bytes.length === 0) throw new DataError('bad_file', `${where}: the file is empty`);
  const badAt = invalidUtf8At(bytes);
  if (badAt >= 0) throw new DataError('bad_file', `${where}: not UTF-8 text (byte ${badAt} = 0x${bytes[badAt].toString(16).padStart(2, '0')} starts no valid character); give a UTF-8 text file`);
  const tokens = Int32Array.from(bytes, (c) => c + BYTE_OFFSET);
  const nEval = fraction > 0 ? Math.max(1, Math.round(tokens.length * fraction)) : 0;
  const nTrain = tokens.length - nEval;
  if (nTrain < L) throw new DataError('bad_file', `${where}: the training part holds ${nTrain} bytes, fewer than one window of length ${L}; use a longer file or a smaller length`);
  if (nEval > 0 && nEval < L) throw new DataError('bad_file', `${where}: the eval part (the last ${nEval} bytes, ${fraction * 100}% of the file) is shorter than one window of length ${L}; use a longer file, a larger evalFraction or a smaller length`);

  const B = o.batchSize;
  const trainTokens = tokens.subarray(0, nTrain);
  let windows = Math.floor(nEval / L);
  if (o.evalBatches !== undefined) windows = Math.min(windows, o.evalBatches * B);
  const evalSet: Examples = {
    n: windows,
    inputs: [{ dtype: 'int32', shape: [L], data: tokens.slice(nTrain, nTrain + windows * L) }],
    targets: null,
    weights: { dtype: 'float32', shape: [L], data: new Float32Array(windows * L).fill(1) },
  };
  const evalBatches = windows > 0 ? orderedBatches(evalSet, B) : null;
  return makeTask({
    spec: `text:${shown}`,
    kind: 'language_model',
    description: `${where}: byte-level language model (vocabulary ${BYTE_VOCAB} = bytes + 2), windows of ${L}; ${nTrain} train bytes, ${nEval} eval bytes (${windows} windows)`,
    signature: {
      inputs: [{ name: 'tokens', dtype: 'int32', shape: [B, L], range: [0, BYTE_VOCAB - 1] }],
      targets: { name: 'tokens', dtype: 'int32', shape: [B, L], range: [0, BYTE_VOCAB - 1] },
      weights: { name: 'mask', dtype: 'float32', shape: [B, L], range: [0, 1] },
      targetsAreInputs: true,
    },
    loss: 'CrossEntropyLoss',
    metrics: ['WeightedCategoryAccuracy'],
    vocabSize: BYTE_VOCAB,
    nClasses: BYTE_VOCAB,
    batchSize: B,
    seed: o.seed,
    trainExamples: nTrain - L + 1,
    evalExamples: windows,
    evalBatchCount: evalBatches?.count ?? 0,
    fingerprint: digest('text', bytes, JSON.stringify({ L, fraction })),
    trainBatch: (k) => {
      const rng = batchStream(o.seed, 'text/train', k);
      const x = new Int32Array(B * L);
      for (let r = 0; r < B; r++) {
        const start = below(rng, nTrain - L + 1);
        x.set(trainTokens.subarray(start, start + L), r * L);
      }
      const t = { dtype: 'int32' as const, dims: [B, L], data: x };
      return { inputs: [t], targets: t, weights: { dtype: 'float32', dims: [B, L], data: new Float32Array(B * L).fill(1) }, size: B };
    },
    evalBatch: (i) => {
      if (!evalBatches) throw new DataError('bad_position', `${where}: there are no eval batches (evalFraction is 0)`);
      return evalBatches.batch(i);
    },
  });
}
