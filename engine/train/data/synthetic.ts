/**
 * The synthetic sequence tasks Trax and Reformer are tested on, generated
 * from the seed (trax/data/inputs.py). Each feeds `tokens int32[B, L]` as
 * both inputs and targets (the model predicts its input shifted, as
 * TransformerLM does) and a float32[B, L] loss mask; 0 is padding.
 *
 * - `copy` (simple_sequence_copy_inputs): `w`, mask 1 on all of w. Only a
 *   model that sees the whole sequence can learn it (no causal shift).
 * - `duplicate` (sequence_copy_inputs, the Reformer paper's `0w0w`):
 *   `0 w 0 w`, mask 1 on the second w only.
 * - `reverse` (sequence_copy_inputs with reverse=True): `0 w 0 reverse(w)`,
 *   mask on the reversed copy.
 * - `addition` (addition_input_stream): `<S> x + y <S> (x+y)`, numbers as
 *   lower-endian digits in base vocab-3; mask on the sum.
 *
 * Like Trax, the symbols of w are drawn from [1, vocab-2]
 * (`np.random.randint(1, vocab_size-1)`: vocab-1 never occurs), one length
 * of w is drawn per batch (copy, duplicate, reverse) or per example
 * (addition), and the rest of the row is padding. Unlike Trax, L is fixed
 * (Trax pads each batch to a multiple of 32) and eval batches come from the
 * same length range as training (Trax evaluates on longer sequences).
 */
import { BugError } from '../../core/errors';
import type { RandomStream } from '../../weights/random';
import { below, batchStream, DataError, digest, makeTask, type Batch, type Task } from './task';

export const SEQUENCE_TASKS = ['copy', 'reverse', 'duplicate', 'addition'] as const;
export type SequenceTaskName = (typeof SEQUENCE_TASKS)[number];

export interface SequenceTaskOptions {
  batchSize: number;
  seed: number;
  /** L, the fed length (default 32) */
  length?: number;
  /** token ids lie in [0, vocabSize) (default 128; addition 13, i.e. base 10) */
  vocabSize?: number;
  /**
   * The shortest content: the length of w (copy, duplicate, reverse; default
   * the longest that fits, as the Reformer paper trains) or Trax's
   * min_length of `x+y` (addition; default 3, Trax's training value).
   */
  minLength?: number;
  /** eval batches one evaluation runs (default 10, the same batches every time) */
  evalBatches?: number;
}

interface Layout {
  L: number;
  vocab: number;
  /** copy/duplicate/reverse: the range of |w|; addition: Trax's (min_length, max_length) of x+y */
  min: number;
  max: number;
}

const bad = (task: string, msg: string): never => { throw new DataError('bad_option', `${task}: ${msg}`); };

function layout(name: SequenceTaskName, o: SequenceTaskOptions): Layout {
  const L = o.length ?? 32;
  const vocab = o.vocabSize ?? (name === 'addition' ? 13 : 128);
  if (!Number.isSafeInteger(L) || L < 1) bad(name, `length must be a positive integer, got ${L}`);
  if (!Number.isSafeInteger(vocab) || vocab < 1 || vocab > 2 ** 31) bad(name, `vocabSize must be a positive integer, got ${vocab}`);
  if (name === 'addition') {
    if (vocab < 5) bad(name, `vocabSize must be at least 5 (0 = padding, base vocab-3 >= 2 digits, '+', <S>), got ${vocab}`);
    // worst case <S> x + y <S> sum: 3 + (|x|+|y|) + |sum| <= 3 + (max-1) + (max-1) = 2 max + 1
    const max = Math.floor((L - 1) / 2);
    if (max < 3) bad(name, `length must be at least 7 (an addition needs x, '+', y, the sum and two <S>), got ${L}`);
    const min = o.minLength ?? 3;
    if (!Number.isSafeInteger(min) || min < 3 || min > max) bad(name, `minLength must be an integer in [3, ${max}] for length ${L}, got ${min}`);
    const addLen = Math.floor((min - 1) / 2);
    const l1Max = addLen + Math.floor((max - addLen + 1) / 2) - 1;
    if (max - l1Max - 1 < 1) bad(name, `minLength ${min} leaves no room for the second number in length ${L}; use a smaller minLength`);
    return { L, vocab, min, max };
  }
  if (vocab < 3) bad(name, `vocabSize must be at least 3 (0 = separator/padding, symbols 1..vocab-2), got ${vocab}`);
  const max = name === 'copy' ? L : Math.floor((L - 2) / 2);
  if (max < 1) bad(name, `length must be at least ${name === 'copy' ? 1 : 4} (0 w 0 w with |w| >= 1), got ${L}`);
  const min = o.minLength ?? max;
  if (!Number.isSafeInteger(min) || min < 1 || min > max) bad(name, `minLength (the length of w) must be an integer in [1, ${max}] for length ${L}, got ${min}`);
  return { L, vocab, min, max };
}

/** Fills row r of `x`/`mask` with one copy/duplicate/reverse example whose w has length n. */
function copyRow(name: SequenceTaskName, rng: RandomStream, lay: Layout, n: number, x: Int32Array, mask: Float32Array, r: number): void {
  const o = r * lay.L;
  const symbol = (): number => 1 + below(rng, lay.vocab - 2); // randint(1, vocab_size - 1)
  if (name === 'copy') {
    for (let i = 0; i < n; i++) {
      x[o + i] = symbol();
      mask[o + i] = 1;
    }
    return;
  }
  // 0 w 0 w' : positions 0 and n+1 are the separators (already 0)
  for (let i = 0; i < n; i++) x[o + 1 + i] = symbol();
  for (let i = 0; i < n; i++) {
    x[o + n + 2 + i] = x[o + 1 + (name === 'reverse' ? n - 1 - i : i)];
    mask[o + n + 2 + i] = 1;
  }
}

/** Trax's random_number_lower_endian: digits, the last non-zero unless there is one digit. */
function randomNumber(rng: RandomStream, length: number, base: number): number[] {
  if (length === 1) return [below(rng, base)];
  const d: number[] = [];
  for (let i = 0; i < length - 1; i++) d.push(below(rng, base));
  d.push(below(rng, base - 1) + 1);
  return d;
}

/** a + b as lower-endian digits (digit by digit: any length, no float overflow). */
export function addDigits(a: readonly number[], b: readonly number[], base: number): number[] {
  const out: number[] = [];
  let carry = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const s = (a[i] ?? 0) + (b[i] ?? 0) + carry;
    out.push(s % base);
    carry = s >= base ? 1 : 0;
  }
  if (carry) out.push(carry);
  while (out.length > 1 && out[out.length - 1] === 0) out.pop();
  return out;
}

/** Fills row r with one addition example (Trax's single_example, encdec=False). */
function additionRow(rng: RandomStream, lay: Layout, x: Int32Array, mask: Float32Array, r: number): void {
  const base = lay.vocab - 3;
  const addLen = Math.floor((lay.min - 1) / 2);
  const l1 = below(rng, Math.floor((lay.max - addLen + 1) / 2)) + addLen;
  const l2 = below(rng, lay.max - l1 - 1) + 1;
  const n1 = randomNumber(rng, l1, base);
  const n2 = randomNumber(rng, l2, base);
  const sum = addDigits(n1, n2, base);
  // digits d are tokens d+1; '+' is base+1; <S> is base+2
  const row = [base + 2, ...n1.map((d) => d + 1), base + 1, ...n2.map((d) => d + 1), base + 2, ...sum.map((d) => d + 1)];
  if (row.length > lay.L) throw new BugError(`an addition example of ${row.length} tokens does not fit length ${lay.L}`);
  const o = r * lay.L;
  x.set(row, o);
  mask.fill(1, o + row.length - sum.length, o + row.length);
}

function generate(name: SequenceTaskName, lay: Layout, batchSize: number, rng: RandomStream): Batch {
  const x = new Int32Array(batchSize * lay.L);
  const mask = new Float32Array(batchSize * lay.L);
  // one length per batch, as Trax's random.choice(length_list) (addition draws per example)
  const n = name === 'addition' ? 0 : lay.min + below(rng, lay.max - lay.min + 1);
  for (let r = 0; r < batchSize; r++) {
    if (name === 'addition') additionRow(rng, lay, x, mask, r);
    else copyRow(name, rng, lay, n, x, mask, r);
  }
  const tokens = { dtype: 'int32' as const, dims: [batchSize, lay.L], data: x };
  return { inputs: [tokens], targets: tokens, weights: { dtype: 'float32', dims: [batchSize, lay.L], data: mask }, size: batchSize };
}

const WHAT: Record<SequenceTaskName, string> = {
  copy: 'copy w = w (mask on w)',
  duplicate: 'duplicate 0 w 0 w (mask on the second w)',
  reverse: 'reverse 0 w 0 reversed(w) (mask on the reversed w)',
  addition: '<S>x+y<S>(x+y) in lower-endian digits (mask on the sum)',
};

export function sequenceTask(name: SequenceTaskName, o: SequenceTaskOptions): Task {
  const lay = layout(name, o);
  const evalBatches = o.evalBatches ?? 10;
  if (!Number.isSafeInteger(evalBatches) || evalBatches < 1) bad(name, `evalBatches must be a positive integer, got ${evalBatches}`);
  const B = o.batchSize;
  const lengths = name === 'addition'
    ? `x+y of ${lay.min}..${lay.max} tokens, base ${lay.vocab - 3}`
    : lay.min === lay.max ? `|w| = ${lay.max}` : `|w| in ${lay.min}..${lay.max}`;
  return makeTask({
    spec: name,
    kind: 'sequence',
    description: `${name}: ${WHAT[name]}, length ${lay.L}, vocabulary ${lay.vocab}, ${lengths}; generated from the seed`,
    signature: {
      inputs: [{ name: 'tokens', dtype: 'int32', shape: [B, lay.L], range: [0, lay.vocab - 1] }],
      targets: { name: 'tokens', dtype: 'int32', shape: [B, lay.L], range: [0, lay.vocab - 1] },
      weights: { name: 'mask', dtype: 'float32', shape: [B, lay.L], range: [0, 1] },
      targetsAreInputs: true,
    },
    loss: 'CrossEntropyLoss',
    metrics: ['WeightedCategoryAccuracy', 'MaskedSequenceAccuracy'],
    vocabSize: lay.vocab,
    nClasses: lay.vocab,
    batchSize: B,
    seed: o.seed,
    trainExamples: null,
    evalExamples: evalBatches * B,
    evalBatchCount: evalBatches,
    fingerprint: digest(name, JSON.stringify(lay)),
    trainBatch: (k) => generate(name, lay, B, batchStream(o.seed, `${name}/train`, k)),
    evalBatch: (i) => {
      if (!Number.isSafeInteger(i) || i < 0 || i >= evalBatches) throw new DataError('bad_position', `eval batch ${i} is out of range (there are ${evalBatches})`);
      return generate(name, lay, B, batchStream(o.seed, `${name}/eval`, i));
    },
  });
}
