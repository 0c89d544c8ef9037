import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBatch, DataError } from './task';
import { BYTE_OFFSET, BYTE_VOCAB, invalidUtf8At, textTask } from './text';

const dir = mkdtempSync(join(tmpdir(), 'strata-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

const decode = (tokens: ArrayLike<number>): Buffer => Buffer.from(Array.from(tokens, (t) => t - BYTE_OFFSET));

describe('text:FILE', () => {
  // 1000 bytes: 900 train, 100 eval; a 2-byte character so windows are bytes, not characters
  const body = Array.from({ length: 111 }, (_, i) => `line ${String(i).padStart(3, '0')}`).join('\n').slice(0, 990) + 'é-çà!';
  const path = file('corpus.txt', body);
  const bytes = Buffer.from(body, 'utf8');

  it('is byte-level: token = byte + 2 (vocabulary 258), windows of L, inputs are the targets', () => {
    expect(bytes.length).toBe(998);
    const t = textTask(path, 'corpus.txt', { batchSize: 4, seed: 0, length: 16 });
    expect(t.kind).toBe('language_model');
    expect(t.vocabSize).toBe(BYTE_VOCAB);
    expect(t.signature.targetsAreInputs).toBe(true);
    expect(t.signature.inputs[0]).toEqual({ name: 'tokens', dtype: 'int32', shape: [4, 16], range: [0, 257] });
    const b = t.trainBatch(0);
    checkBatch(t, b);
    expect(b.targets).toBe(b.inputs[0]);
    expect(Array.from(b.weights.data).every((w) => w === 1)).toBe(true);
    const train = bytes.subarray(0, 898); // round(998 * 0.1) = 100 held out
    for (let k = 0; k < 30; k++) {
      const x = t.trainBatch(k).inputs[0].data;
      for (let r = 0; r < 4; r++) expect(train.includes(decode(x.subarray(r * 16, r * 16 + 16)))).toBe(true);
    }
    expect(Buffer.from('é').length).toBe(2);
    expect(Array.from(Buffer.from('é'), (c) => c + BYTE_OFFSET)).toEqual([0xc3 + 2, 0xa9 + 2]);
  });

  it('eval windows tile the held-out tail in order, the last batch filled up with weight 0', () => {
    const t = textTask(path, 'corpus.txt', { batchSize: 4, seed: 0, length: 16 });
    // 100 eval bytes: 6 whole windows of 16 → 2 batches, the second with 2 real rows
    expect(t.evalExamples).toBe(6);
    expect(t.evalBatchCount).toBe(2);
    const tail = bytes.subarray(898);
    const b0 = t.evalBatch(0);
    const b1 = t.evalBatch(1);
    expect(decode(b0.inputs[0].data)).toEqual(tail.subarray(0, 64));
    expect(decode(b1.inputs[0].data.subarray(0, 32))).toEqual(tail.subarray(64, 96));
    expect(b1.size).toBe(2);
    expect(Array.from(b1.weights.data.subarray(31, 33))).toEqual([1, 0]);
    const capped = textTask(path, 'corpus.txt', { batchSize: 4, seed: 0, length: 16, evalBatches: 1 });
    expect(capped.evalBatchCount).toBe(1);
  });

  it('is deterministic in (seed, step) and resumes from a saved position', () => {
    const a = textTask(path, 'corpus.txt', { batchSize: 3, seed: 9, length: 8 });
    const b = textTask(path, 'corpus.txt', { batchSize: 3, seed: 9, length: 8 });
    expect(a.trainBatch(4).inputs[0].data).toEqual(b.trainBatch(4).inputs[0].data);
    expect(a.trainBatch(4).inputs[0].data).not.toEqual(a.trainBatch(5).inputs[0].data);
    const s = a.train();
    const want = Array.from({ length: 6 }, () => s.next());
    const part = a.train();
    part.next();
    part.next();
    const resumed = b.train(JSON.parse(JSON.stringify(part.position)));
    for (let i = 2; i < 6; i++) expect(resumed.next().inputs[0].data).toEqual(want[i].inputs[0].data);
  });

  it('refuses other data on resume (the file changed)', () => {
    const p = file('changing.txt', 'a'.repeat(200));
    const pos = textTask(p, 'changing.txt', { batchSize: 2, seed: 0, length: 8 }).train().position;
    writeFileSync(p, 'b'.repeat(200));
    const t = textTask(p, 'changing.txt', { batchSize: 2, seed: 0, length: 8 });
    expect(() => t.train(pos)).toThrow(/the data or the task options changed since the checkpoint/);
  });

  it('finds the first byte that is not UTF-8', () => {
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(invalidUtf8At(enc('plain ascii, é, 漢字, 😀'))).toBe(-1);
    expect(invalidUtf8At(Uint8Array.of(0x61, 0x62, 0xff, 0x61))).toBe(2);
    expect(invalidUtf8At(Uint8Array.of(0x61, 0xc3))).toBe(1); // truncated at the end
    expect(invalidUtf8At(Uint8Array.of(0xc0, 0x80))).toBe(0); // overlong
    expect(invalidUtf8At(Uint8Array.of(0xed, 0xa0, 0x80))).toBe(0); // a surrogate
    expect(invalidUtf8At(Uint8Array.of(0xe2, 0x82, 0x41))).toBe(0); // a bad continuation
  });

  it('names the file and the problem', () => {
    const err = (p: string, o = {}): string => {
      try {
        textTask(p, p.slice(dir.length + 1), { batchSize: 2, seed: 0, length: 16, ...o });
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err(file('empty.txt', ''))).toBe('text:empty.txt: the file is empty');
    expect(err(file('binary.txt', Uint8Array.of(0x61, 0x62, 0x63, 0x80, 0x00)))).toBe('text:binary.txt: not UTF-8 text (byte 3 = 0x80 starts no valid character); give a UTF-8 text file');
    expect(err(file('short.txt', 'hello'))).toMatch(/^text:short\.txt: the training part holds 4 bytes, fewer than one window of length 16/);
    expect(err(file('tail.txt', 'x'.repeat(100)))).toMatch(/^text:tail\.txt: the eval part \(the last 10 bytes, 10% of the file\) is shorter than one window of length 16/);
    expect(err(path, { evalFraction: 1 })).toMatch(/evalFraction must be in \[0, 1\), got 1/);
    expect(err(path, { length: 0 })).toMatch(/length must be a positive integer, got 0/);
    const noEval = textTask(path, 'corpus.txt', { batchSize: 2, seed: 0, length: 16, evalFraction: 0 });
    expect(noEval.evalBatchCount).toBe(0);
    expect(() => noEval.evalBatch(0)).toThrow(/no eval batches/);
  });
});
