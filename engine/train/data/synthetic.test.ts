import { describe, expect, it } from 'vitest';
import { addDigits, sequenceTask, type SequenceTaskName } from './synthetic';
import { checkBatch, DataError, type Batch } from './task';

const rows = (b: Batch): { x: number[]; m: number[] }[] => {
  const [B, L] = b.targets.dims;
  return Array.from({ length: B }, (_, r) => ({
    x: Array.from(b.targets.data.subarray(r * L, (r + 1) * L) as Int32Array),
    m: Array.from(b.weights.data.subarray(r * L, (r + 1) * L) as Float32Array),
  }));
};

const same = (a: Batch, b: Batch): boolean =>
  a.inputs.every((t, i) => t.data.every((v, j) => v === b.inputs[i].data[j])) &&
  a.targets.data.every((v, j) => v === b.targets.data[j]) &&
  a.weights.data.every((v, j) => v === b.weights.data[j]);

describe('synthetic sequence tasks', () => {
  const names: SequenceTaskName[] = ['copy', 'reverse', 'duplicate', 'addition'];

  it.each(names)('%s: batches fit the signature (int32 tokens in the vocabulary, float32 mask), tokens are inputs and targets', (name) => {
    const t = sequenceTask(name, { batchSize: 8, seed: 3 });
    expect(t.kind).toBe('sequence');
    expect(t.loss).toBe('CrossEntropyLoss');
    expect(t.metrics).toContain('WeightedCategoryAccuracy');
    expect(t.signature.targetsAreInputs).toBe(true);
    expect(t.signature.inputs[0]).toMatchObject({ dtype: 'int32', shape: [8, 32] });
    expect(t.signature.weights).toMatchObject({ dtype: 'float32', shape: [8, 32] });
    for (let k = 0; k < 20; k++) checkBatch(t, t.trainBatch(k));
    for (let i = 0; i < t.evalBatchCount; i++) checkBatch(t, t.evalBatch(i));
    const b = t.trainBatch(0);
    expect(b.targets).toBe(b.inputs[0]);
    for (const { m } of rows(b)) expect(m.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it.each(names)('%s: deterministic in (seed, step); other seeds and steps differ; eval batches are fixed', (name) => {
    const a = sequenceTask(name, { batchSize: 4, seed: 7 });
    const b = sequenceTask(name, { batchSize: 4, seed: 7 });
    const c = sequenceTask(name, { batchSize: 4, seed: 8 });
    expect(same(a.trainBatch(5), b.trainBatch(5))).toBe(true);
    expect(same(a.trainBatch(5), a.trainBatch(6))).toBe(false);
    expect(same(a.trainBatch(5), c.trainBatch(5))).toBe(false);
    expect(same(a.evalBatch(2), b.evalBatch(2))).toBe(true);
    expect(same(a.evalBatch(0), a.trainBatch(0))).toBe(false);
  });

  it('duplicate is 0 w 0 w with the mask on exactly the second w (the Reformer task), symbols in [1, vocab-2]', () => {
    const t = sequenceTask('duplicate', { batchSize: 16, seed: 1, length: 20, vocabSize: 10 });
    const seen = new Set<number>();
    for (let k = 0; k < 10; k++) {
      for (const { x, m } of rows(t.trainBatch(k))) {
        // |w| = (20 - 2) / 2 = 9: 0 w(9) 0 w(9)
        expect(x[0]).toBe(0);
        expect(x[10]).toBe(0);
        const w = x.slice(1, 10);
        expect(x.slice(11, 20)).toEqual(w);
        for (const s of w) seen.add(s);
        expect(m).toEqual([...Array(11).fill(0), ...Array(9).fill(1)]);
      }
    }
    // Trax draws np.random.randint(1, vocab_size - 1): 1..8 for vocab 10, never 0 or 9
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('reverse is 0 w 0 reverse(w), mask on the reversed copy; an odd length leaves one padding token', () => {
    const t = sequenceTask('reverse', { batchSize: 4, seed: 2, length: 9, vocabSize: 50 });
    for (const { x, m } of rows(t.trainBatch(0))) {
      // |w| = floor((9 - 2) / 2) = 3: 0 a b c 0 c b a, then 0 padding
      expect(x[0]).toBe(0);
      expect(x[4]).toBe(0);
      expect([x[5], x[6], x[7]]).toEqual([x[3], x[2], x[1]]);
      expect(x[8]).toBe(0);
      expect(m).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 0]);
    }
  });

  it('copy is w with the mask on w', () => {
    const t = sequenceTask('copy', { batchSize: 4, seed: 2, length: 6, vocabSize: 5 });
    for (const { x, m } of rows(t.trainBatch(3))) {
      expect(x.every((v) => v >= 1 && v <= 3)).toBe(true);
      expect(m).toEqual([1, 1, 1, 1, 1, 1]);
    }
  });

  it('minLength: one length of w per batch (as Trax), padding after the content has mask 0', () => {
    const t = sequenceTask('duplicate', { batchSize: 6, seed: 4, length: 16, minLength: 2 });
    const lengths = new Set<number>();
    for (let k = 0; k < 40; k++) {
      const rs = rows(t.trainBatch(k));
      const n = rs[0].m.reduce((a, v) => a + v, 0);
      lengths.add(n);
      for (const { x, m } of rs) {
        expect(m.reduce((a, v) => a + v, 0)).toBe(n);
        expect(x.slice(1, n + 1)).toEqual(x.slice(n + 2, 2 * n + 2));
        expect(x.slice(2 * n + 2).every((v) => v === 0)).toBe(true);
        expect(m.slice(2 * n + 2).every((v) => v === 0)).toBe(true);
      }
    }
    expect(Math.min(...lengths)).toBe(2);
    expect(Math.max(...lengths)).toBe(7);
    expect(lengths.size).toBe(6);
  });

  it('addDigits adds lower-endian numbers with carries', () => {
    expect(addDigits([9, 9], [1], 10)).toEqual([0, 0, 1]); // 99 + 1 = 100
    expect(addDigits([2, 4], [7], 10)).toEqual([9, 4]); // 42 + 7 = 49
    expect(addDigits([0], [0], 10)).toEqual([0]);
    expect(addDigits([1, 1], [1], 2)).toEqual([0, 0, 1]); // 3 + 1 = 4 in base 2
  });

  it('addition decodes by hand: <S> x + y <S> (x+y), lower-endian digits + 1, mask on the sum', () => {
    // vocab 13: base 10, digits d are tokens d+1 (1..10), '+' = 11, <S> = 12, 0 = padding
    const t = sequenceTask('addition', { batchSize: 32, seed: 5 });
    expect(t.vocabSize).toBe(13);
    const toNumber = (tokens: number[]): bigint => tokens.reduceRight((acc, tok) => acc * 10n + BigInt(tok - 1), 0n);
    let checked = 0;
    for (let k = 0; k < 20; k++) {
      for (const { x, m } of rows(t.trainBatch(k))) {
        expect(x[0]).toBe(12);
        const plus = x.indexOf(11);
        const sep = x.indexOf(12, 1);
        const end = x.indexOf(0) < 0 ? x.length : x.indexOf(0);
        expect(plus).toBeGreaterThan(1);
        expect(sep).toBeGreaterThan(plus + 1);
        const a = x.slice(1, plus);
        const b = x.slice(plus + 1, sep);
        const sum = x.slice(sep + 1, end);
        for (const digits of [a, b, sum]) {
          expect(digits.every((d) => d >= 1 && d <= 10)).toBe(true);
          if (digits.length > 1) expect(digits[digits.length - 1]).not.toBe(1); // no leading zero (token 1 = digit 0)
        }
        expect(toNumber(sum)).toBe(toNumber(a) + toNumber(b));
        expect(x.slice(end).every((v) => v === 0)).toBe(true);
        expect(m).toEqual(x.map((_, i) => (i > sep && i < end ? 1 : 0)));
        // Trax's max_length for L = 32 is 15: x+y spans at most 15 tokens
        expect(sep - 1).toBeLessThanOrEqual(15);
        checked++;
      }
    }
    expect(checked).toBe(640);
  });

  it('addition: the worst case fits the length, for several lengths', () => {
    for (const length of [7, 8, 12, 33, 64]) {
      const t = sequenceTask('addition', { batchSize: 64, seed: length, length });
      for (let k = 0; k < 10; k++) checkBatch(t, t.trainBatch(k));
    }
  });

  it('the train stream resumes from a saved position exactly where it stopped', () => {
    const t = sequenceTask('duplicate', { batchSize: 4, seed: 11 });
    const whole = t.train();
    const first = Array.from({ length: 7 }, () => whole.next());
    const saved = JSON.parse(JSON.stringify(t.train().position)) as unknown;
    expect(saved).toMatchObject({ task: 'duplicate', seed: 11, batchSize: 4, batches: 0 });
    const part = t.train();
    for (let i = 0; i < 3; i++) expect(same(part.next(), first[i])).toBe(true);
    const pos = JSON.parse(JSON.stringify(part.position));
    expect(pos.batches).toBe(3);
    const resumed = sequenceTask('duplicate', { batchSize: 4, seed: 11 }).train(pos);
    for (let i = 3; i < 7; i++) expect(same(resumed.next(), first[i])).toBe(true);
  });

  it('bad options name the field and the range', () => {
    const msg = (f: () => unknown): string => {
      try { f(); } catch (e) { expect(e).toBeInstanceOf(DataError); return (e as Error).message; }
      throw new Error('no error');
    };
    expect(msg(() => sequenceTask('duplicate', { batchSize: 2, seed: 0, length: 3 }))).toMatch(/duplicate: length must be at least 4/);
    expect(msg(() => sequenceTask('duplicate', { batchSize: 2, seed: 0, vocabSize: 2 }))).toMatch(/vocabSize must be at least 3/);
    expect(msg(() => sequenceTask('copy', { batchSize: 2, seed: 0, length: 8, minLength: 9 }))).toMatch(/minLength .* in \[1, 8\]/);
    expect(msg(() => sequenceTask('addition', { batchSize: 2, seed: 0, vocabSize: 4 }))).toMatch(/addition: vocabSize must be at least 5/);
    expect(msg(() => sequenceTask('addition', { batchSize: 2, seed: 0, length: 6 }))).toMatch(/length must be at least 7/);
    expect(msg(() => sequenceTask('addition', { batchSize: 2, seed: 0, minLength: 2 }))).toMatch(/minLength must be an integer in \[3, 15\]/);
    expect(msg(() => sequenceTask('addition', { batchSize: 2, seed: 0, length: 1.5 }))).toMatch(/length must be a positive integer/);
    expect(msg(() => sequenceTask('copy', { batchSize: 2, seed: 0, evalBatches: 0 }))).toMatch(/evalBatches must be a positive integer/);
  });
});
