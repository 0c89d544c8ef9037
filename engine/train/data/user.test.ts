import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TensorValue } from '../../core/onnx';
import { writeNpy, writeNpz } from '../../weights/npz';
import { checkBatch, DataError, type Batch, type Task } from './task';
import { userDataTask, type UserDataOptions } from './user';

const dir = mkdtempSync(join(tmpdir(), 'strata-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const f32 = (dims: number[], values: number[]): TensorValue => ({ dtype: 'float32', dims, data: Float32Array.from(values) });
const i32 = (dims: number[], values: number[]): TensorValue => ({ dtype: 'int32', dims, data: Int32Array.from(values) });
const task = (name: string, o: Partial<UserDataOptions> = {}): Task => userDataTask(join(dir, name), name, { batchSize: 4, seed: 0, ...o });
const err = (name: string, o: Partial<UserDataOptions> = {}): string => {
  try {
    task(name, o);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error(`no error for ${name}`);
};

/** Every row of a batch, as [inputs row, targets row, weights row] arrays. */
function batchRows(b: Batch): number[][][] {
  const B = b.inputs[0].dims[0];
  const row = (t: TensorValue, r: number): number[] => {
    const n = t.data.length / B;
    return Array.from(t.data.subarray(r * n, (r + 1) * n) as Float32Array);
  };
  return Array.from({ length: B }, (_, r) => [row(b.inputs[0], r), row(b.targets, r), row(b.weights, r)]);
}

/** All eval rows (only the real ones). */
function evalRows(t: Task): number[][][] {
  const out: number[][][] = [];
  for (let i = 0; i < t.evalBatchCount; i++) {
    const b = t.evalBatch(i);
    out.push(...batchRows(b).slice(0, b.size));
  }
  return out;
}

describe('data:FILE — .npz and .npy', () => {
  // 20 examples of 3 float features; label = example index mod 3 (so rows can be identified)
  const X = Array.from({ length: 60 }, (_, i) => i / 10);
  const Y = Array.from({ length: 20 }, (_, i) => i % 3);
  writeFileSync(join(dir, 'xy.npz'), writeNpz([['x', f32([20, 3], X)], ['y', i32([20], Y)]]));
  writeFileSync(join(dir, 'named.npz'), writeNpz([['inputs', f32([20, 3], X)], ['targets', i32([20], Y)]]));

  it('round trip: x/y arrays become classification batches holding exactly the file rows; the last 10% evaluate', () => {
    for (const name of ['xy.npz', 'named.npz']) {
      const t = task(name);
      expect(t.kind).toBe('classification');
      expect(t.loss).toBe('CrossEntropyLoss');
      expect(t.nClasses).toBe(3);
      expect(t.trainExamples).toBe(18);
      expect(t.evalExamples).toBe(2);
      expect(t.signature.inputs[0]).toMatchObject({ dtype: 'float32', shape: [4, 3] });
      expect(t.signature.targets).toMatchObject({ dtype: 'int32', shape: [4], range: [0, 2] });
      const seen = new Set<number>();
      for (let k = 0; k < 9; k++) { // 2 epochs of 18
        const b = t.trainBatch(k);
        checkBatch(t, b);
        for (const [x, y, w] of batchRows(b)) {
          const i = Math.round(x[0] * 10 / 3);
          expect(i).toBeLessThan(18);
          expect(x.map((v) => Math.round(v * 10))).toEqual([3 * i, 3 * i + 1, 3 * i + 2]);
          expect(y).toEqual([Y[i]]);
          expect(w).toEqual([1]);
          seen.add(i);
        }
      }
      expect(seen.size).toBe(18);
      const ev = evalRows(t);
      expect(ev.map(([x]) => Math.round(x[0] * 10 / 3))).toEqual([18, 19]);
    }
  });

  it('the _train/_test arrays (Keras layout) give the split; weights/mask arrays are used', () => {
    file('keras.npz', writeNpz([
      ['x_train', f32([6, 2], Array.from({ length: 12 }, (_, i) => i))],
      ['y_train', i32([6], [0, 1, 0, 1, 0, 1])],
      ['x_test', f32([2, 2], [100, 101, 102, 103])],
      ['y_test', i32([2], [1, 0])],
    ]));
    const t = task('keras.npz', { batchSize: 2 });
    expect(t.trainExamples).toBe(6);
    expect(t.evalExamples).toBe(2);
    expect(evalRows(t).map(([x, y]) => [...x, ...y])).toEqual([[100, 101, 1], [102, 103, 0]]);
    expect(err('keras.npz', { evalFraction: 0.5 })).toMatch(/splits its examples itself .* evalFraction and split do not apply/);

    file('masked.npz', writeNpz([['inputs', i32([4, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3])], ['mask', f32([4, 3], [1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1])]]));
    const lm = task('masked.npz', { evalFraction: 0.25, batchSize: 3 });
    expect(lm.kind).toBe('language_model');
    expect(lm.vocabSize).toBe(10);
    expect(lm.signature.targetsAreInputs).toBe(true);
    const b = lm.trainBatch(0);
    checkBatch(lm, b);
    for (const [x, y, w] of batchRows(b)) {
      expect(y).toEqual(x);
      const src = [[1, 2, 3], [4, 5, 6], [7, 8, 9]].findIndex((r) => r.join() === x.join());
      expect(w).toEqual([[1, 1, 0], [1, 0, 0], [1, 1, 1]][src]);
    }
  });

  it('a .npy of int tokens [N, L] is a language-modelling set; int64 and uint8 arrays convert', () => {
    file('tokens.npy', writeNpy({ dtype: 'int64', dims: [10, 4], data: BigInt64Array.from({ length: 40 }, (_, i) => BigInt(i % 7)) }));
    const t = task('tokens.npy', { batchSize: 5 });
    expect(t.kind).toBe('language_model');
    expect(t.vocabSize).toBe(7);
    expect(t.signature.inputs[0]).toMatchObject({ dtype: 'int32', shape: [5, 4], range: [0, 6] });
    checkBatch(t, t.trainBatch(0));
    file('u8.npz', writeNpz([['x', { dtype: 'uint8', dims: [4, 2], data: Int32Array.from([0, 255, 1, 2, 3, 4, 5, 6]) }], ['y', i32([4], [0, 1, 1, 0])]]));
    const u = task('u8.npz', { evalFraction: 0.25, inputDtype: 'float32' });
    expect(u.signature.inputs[0].dtype).toBe('float32');
    expect(Array.from(u.trainBatch(0).inputs[0].data).some((v) => v === 255)).toBe(true);
  });

  it('float targets are regression with L2Loss', () => {
    file('reg.npz', writeNpz([['x', f32([10, 1], Array.from({ length: 10 }, (_, i) => i))], ['y', f32([10, 2], Array.from({ length: 20 }, (_, i) => i * 0.5))]]));
    const t = task('reg.npz');
    expect(t.kind).toBe('regression');
    expect(t.loss).toBe('L2Loss');
    expect(t.metrics).toEqual([]);
    expect(t.signature.targets).toMatchObject({ dtype: 'float32', shape: [4, 2] });
    expect(t.signature.weights).toMatchObject({ dtype: 'float32', shape: [4, 2] });
    checkBatch(t, t.trainBatch(0));
  });

  it('malformed .npz / .npy: each error names the file and the array', () => {
    file('mismatch.npz', writeNpz([['x', f32([5, 2], new Array(10).fill(0))], ['y', i32([4], [0, 1, 0, 1])]]));
    expect(err('mismatch.npz')).toBe("data:mismatch.npz: array 'y': has 4 examples (first axis), the inputs 'x' have 5");
    file('noinputs.npz', writeNpz([['features', f32([5, 2], new Array(10).fill(0))]]));
    expect(err('noinputs.npz')).toBe("data:noinputs.npz: array 'features': is not a known name; the arrays are inputs|x, targets|y, weights|mask (optionally with _train and _test suffixes); the file holds 'features'");
    file('twice.npz', writeNpz([['x', f32([2, 1], [0, 1])], ['inputs', f32([2, 1], [0, 1])]]));
    expect(err('twice.npz')).toMatch(/^data:twice\.npz: array 'x': gives the inputs a second time/);
    file('halfsplit.npz', writeNpz([['x_train', f32([2, 1], [0, 1])], ['y_train', i32([2], [0, 1])], ['y_test', i32([1], [0])]]));
    expect(err('halfsplit.npz')).toBe('data:halfsplit.npz: the inputs have a _train array but no _test (or _eval) array');
    file('scalar.npz', writeNpz([['x', f32([], [1])]]));
    expect(err('scalar.npz')).toBe("data:scalar.npz: array 'x': is a scalar; its first axis must run over the examples");
    file('half.npz', writeNpz([['x', { dtype: 'float16', dims: [2], data: Uint16Array.from([0, 0]) }]]));
    expect(err('half.npz')).toBe("data:half.npz: array 'x': float16 is not supported; save it as float32");
    file('floats.npy', writeNpy(f32([3, 2], [0, 1, 2, 3, 4, 5])));
    expect(err('floats.npy')).toMatch(/^data:floats\.npy: a \.npy file holds one array, read as integer token sequences \[N, L\] .* this one is float32 of shape \[3, 2\]/);
    file('corrupt.npz', Uint8Array.of(1, 2, 3, 4, 5));
    expect(err('corrupt.npz')).toMatch(/^data:corrupt\.npz: not a valid \.npz file/);
    file('neg.npz', writeNpz([['x', f32([3, 1], [0, 1, 2])], ['y', i32([3], [0, -1, 1])]]));
    expect(err('neg.npz')).toBe("data:neg.npz: the targets 'y': value -1 (example 2) is negative; integer targets are class ids 0..K-1 (for regression give targetDtype float32)");
    file('wshape.npz', writeNpz([['x', f32([3, 1], [0, 1, 2])], ['y', i32([3], [0, 1, 1])], ['weights', f32([3, 2], [1, 1, 1, 1, 1, 1])]]));
    expect(err('wshape.npz')).toBe("data:wshape.npz: the weights 'weights': have examples of shape [2], the targets 'y' []");
    file('lmfloat.npz', writeNpz([['x', f32([3, 2], [0, 1, 2, 3, 4, 5])]]));
    expect(err('lmfloat.npz')).toMatch(/^data:lmfloat\.npz: no targets, so this is language modelling, which needs integer token sequences/);
  });
});

describe('data:FILE — CSV', () => {
  it('round trip with a header: features float32, the last column the label', () => {
    const lines = ['a,b,"label"'];
    for (let i = 0; i < 10; i++) lines.push(`${i},${i * 2 + 0.5},${i % 2}`);
    file('h.csv', `${lines.join('\r\n')}\r\n\r\n`);
    const t = task('h.csv', { batchSize: 3 });
    expect(t.kind).toBe('classification');
    expect(t.signature.inputs[0]).toMatchObject({ dtype: 'float32', shape: [3, 2] });
    expect(t.trainExamples).toBe(9);
    for (let k = 0; k < 3; k++) {
      for (const [x, y] of batchRows(t.trainBatch(k))) {
        expect(x[1]).toBe(x[0] * 2 + 0.5);
        expect(y[0]).toBe(x[0] % 2);
      }
    }
    expect(evalRows(t)).toEqual([[[9, 18.5], [1], [1]]]);
    expect(t.description).toMatch(/csv, classification, 9 train \/ 1 eval examples/);
  });

  it('labelColumn by name or index; no header; TSV; non-integer labels are regression', () => {
    file('named.csv', 'y,f1,f2\n1,10,11\n0,20,21\n1,30,31\n0,40,41\n');
    const t = task('named.csv', { labelColumn: 'y', evalFraction: 0.25 });
    const rows = batchRows(t.trainBatch(0)).map(([x, y]) => [y[0], ...x]);
    for (const r of rows) expect([[1, 10, 11], [0, 20, 21], [1, 30, 31]]).toContainEqual(r);
    const byIndex = task('named.csv', { labelColumn: 0, evalFraction: 0.25 });
    expect(byIndex.evalBatch(0).targets.data[0]).toBe(0);
    // from the command line an index arrives as a string (a header never has numeric names)
    expect(task('named.csv', { labelColumn: '-3', evalFraction: 0.25 }).evalBatch(0).inputs[0].data.subarray(0, 2)).toEqual(Float32Array.of(40, 41));
    file('plain.csv', '1,2,0\n3,4,1\n5,6,2\n');
    const p = task('plain.csv', { labelColumn: -1, evalFraction: 0 });
    expect(p.nClasses).toBe(3);
    expect(p.evalBatchCount).toBe(0);
    file('tabs.tsv', 'x\ty\n1.5\t0.25\n2.5\t0.5\n3.5\t0.75\n');
    const r = task('tabs.tsv', { evalFraction: 0 });
    expect(r.kind).toBe('regression');
    expect(r.signature.targets).toMatchObject({ dtype: 'float32', shape: [4] });
  });

  it('malformed CSV: each error names the file, the line and the column', () => {
    file('ragged.csv', 'a,b,c\n1,2,3\n4,5\n');
    expect(err('ragged.csv')).toBe('data:ragged.csv: line 3: has 2 cells, the header (line 1) has 3');
    file('word.csv', 'a,b,c\n1,2,3\n4,five,6\n');
    expect(err('word.csv')).toBe("data:word.csv: line 3, column 2 ('b'): 'five' is not a number");
    file('emptycell.csv', '1,2,3\n4,,6\n');
    expect(err('emptycell.csv')).toBe('data:emptycell.csv: line 2, column 2: the cell is empty');
    file('mixedhead.csv', 'a,2,c\n1,2,3\n');
    expect(err('mixedhead.csv')).toBe("data:mixedhead.csv: line 1, column 1: 'a' is not a number (a header row must have no numeric cells)");
    file('empty.csv', '\n\n');
    expect(err('empty.csv')).toBe('data:empty.csv: the file is empty');
    file('headonly.csv', 'a,b\n');
    expect(err('headonly.csv')).toBe('data:headonly.csv: the file has a header (line 1) but no data rows');
    file('onecol.csv', '1\n2\n');
    expect(err('onecol.csv')).toBe('data:onecol.csv: line 1: has 1 column; a CSV needs at least one feature column and a label column');
    file('nolabel.csv', 'a,b\n1,2\n');
    expect(err('nolabel.csv', { labelColumn: 'c' })).toBe("data:nolabel.csv: line 1: no column is named 'c'; the header has 'a', 'b'");
    expect(err('nolabel.csv', { labelColumn: 2 })).toMatch(/labelColumn 2 is outside the 2 columns/);
    file('hex.csv', '1,0x10\n');
    expect(err('hex.csv')).toBe("data:hex.csv: line 1, column 2: '0x10' is not a number (a header row must have no numeric cells)");
    file('quote.csv', '"a,b\n1,2\n');
    expect(err('quote.csv')).toBe('data:quote.csv: line 1: a quoted cell is not closed');
    file('quote2.csv', '1,2\n3,"');
    expect(err('quote2.csv')).toBe('data:quote2.csv: line 2: a quoted cell is not closed');
    file('few.csv', '1,0\n');
    expect(err('few.csv')).toBe('data:few.csv: holds 1 example: too few to hold out 1 for evaluation (evalFraction 0.1)');
    file('fraction.csv', '1,0\n2,1\n');
    expect(err('fraction.csv', { labelColumn: 0, length: 3 })).toMatch(/length applies to token sequences, and this file holds none/);
  });
});

describe('data:FILE — JSONL', () => {
  it('integer sequences of different lengths are padded with 0 and masked; targets absent = language modelling', () => {
    file('seq.jsonl', ['{"inputs": [5, 6, 7]}', '', '{"inputs": [1]}', '{"inputs": [2, 3, 4, 5, 6]}', '{"inputs": [9, 9]}'].join('\n'));
    const t = task('seq.jsonl', { evalFraction: 0.25, batchSize: 3 });
    expect(t.kind).toBe('language_model');
    expect(t.signature.inputs[0]).toMatchObject({ dtype: 'int32', shape: [3, 5], range: [0, 9] });
    const want = new Map([
      ['5,6,7,0,0', [1, 1, 1, 0, 0]],
      ['1,0,0,0,0', [1, 0, 0, 0, 0]],
      ['2,3,4,5,6', [1, 1, 1, 1, 1]],
    ]);
    for (const [x, y, w] of batchRows(t.trainBatch(0))) {
      expect(y).toEqual(x);
      expect(w).toEqual(want.get(x.join()));
    }
    expect(evalRows(t)).toEqual([[[9, 9, 0, 0, 0], [9, 9, 0, 0, 0], [1, 1, 0, 0, 0]]]);
    const padded = task('seq.jsonl', { evalFraction: 0.25, length: 8 });
    expect(padded.signature.inputs[0].shape).toEqual([4, 8]);
    expect(err('seq.jsonl', { length: 4 })).toBe("data:seq.jsonl: example 3: the inputs 'inputs' hold 5 tokens, more than length 4 (nothing is cut off: raise the length)");
  });

  it('inputs/targets/weights round trip: tagging with per-position targets and given weights', () => {
    file('tags.jsonl', [
      '{"inputs": [3, 4, 5], "targets": [1, 0, 1], "weights": [1, 1, 0.5]}',
      '{"inputs": [6, 7], "targets": [0, 1], "weights": [1, 0]}',
      '{"inputs": [8], "targets": [2], "weights": [2]}',
    ].join('\n'));
    const t = task('tags.jsonl', { evalFraction: 0, batchSize: 3 });
    expect(t.kind).toBe('sequence');
    expect(t.nClasses).toBe(3);
    const got = batchRows(t.trainBatch(0)).map(([x, y, w]) => `${x}|${y}|${w}`).sort();
    expect(got).toEqual(['3,4,5|1,0,1|1,1,0.5', '6,7,0|0,1,0|1,0,0', '8,0,0|2,0,0|2,0,0']);
  });

  it('nested lists are tensors: float features [2, 2] with class targets', () => {
    file('img.jsonl', Array.from({ length: 5 }, (_, i) => JSON.stringify({ inputs: [[i, 0.5], [1, 2]], targets: i % 2 })).join('\n'));
    const t = task('img.jsonl', { evalFraction: 0.2 });
    expect(t.signature.inputs[0]).toMatchObject({ dtype: 'float32', shape: [4, 2, 2] });
    expect(t.kind).toBe('classification');
    expect(evalRows(t)).toEqual([[[4, 0.5, 1, 2], [0], [1]]]);
  });

  it('malformed JSONL: each error names the file, the line and the field', () => {
    file('badjson.jsonl', '{"inputs": [1]}\n{"inputs": [1,}\n');
    expect(err('badjson.jsonl')).toMatch(/^data:badjson\.jsonl: line 2: not JSON \(/);
    file('field.jsonl', '{"inputs": [1], "label": 2}\n');
    expect(err('field.jsonl')).toBe("data:field.jsonl: line 1: unknown field 'label'; the fields are 'inputs', 'targets', 'weights'");
    file('noinputs.jsonl', '{"targets": 1}\n');
    expect(err('noinputs.jsonl')).toBe("data:noinputs.jsonl: line 1: no 'inputs' field");
    file('array.jsonl', '[1, 2]\n');
    expect(err('array.jsonl')).toBe('data:array.jsonl: line 1: expected an object {"inputs": …, "targets": …}');
    file('ragged.jsonl', '{"inputs": [[1, 2], [3]], "targets": 0}\n');
    expect(err('ragged.jsonl')).toBe("data:ragged.jsonl: line 1, 'inputs': is ragged: item 0 has shape [2], item 1 has shape [1]");
    file('text.jsonl', '{"inputs": [1, "two"], "targets": 0}\n');
    expect(err('text.jsonl')).toBe('data:text.jsonl: line 1, \'inputs\'[1]: expected a number or a list of numbers, got string "two"');
    file('shapes.jsonl', '{"inputs": [0.5, 1], "targets": 0}\n{"inputs": [0.5], "targets": 1}\n');
    expect(err('shapes.jsonl')).toBe("data:shapes.jsonl: line 2, 'inputs': has shape [1], line 1 has [2] (only integer token sequences may differ in length; they are padded)");
    file('missing.jsonl', '{"inputs": [1], "targets": 0}\n{"inputs": [2]}\n');
    expect(err('missing.jsonl')).toBe("data:missing.jsonl: line 2: no 'targets' field, but other lines have one (every line needs the same fields)");
    file('weights.jsonl', '{"inputs": [1, 2], "targets": [0, 1], "weights": [1]}\n');
    expect(err('weights.jsonl')).toBe("data:weights.jsonl: line 1, 'weights': has shape [1], 'targets' has [2] (weights go with the targets, value for value)");
    file('negw.jsonl', '{"inputs": [1], "targets": 0, "weights": -1}\n{"inputs": [1], "targets": 0, "weights": 1}\n');
    expect(err('negw.jsonl')).toBe("data:negw.jsonl: the weights 'weights': value -1 (example 1) is negative");
    file('blank.jsonl', '\n  \n');
    expect(err('blank.jsonl')).toBe('data:blank.jsonl: the file is empty (no JSON lines)');
    file('zero.jsonl', '');
    expect(err('zero.jsonl')).toBe('data:zero.jsonl: the file is empty');
    file('big.jsonl', '{"inputs": [3000000000], "targets": 0}\n{"inputs": [1], "targets": 0}\n');
    expect(err('big.jsonl')).toBe("data:big.jsonl: line 1, 'inputs': 3000000000 does not fit int32");
    file('forced.jsonl', '{"inputs": [1], "targets": 0.5}\n{"inputs": [1], "targets": 1}\n');
    expect(err('forced.jsonl', { targetDtype: 'int32' })).toBe("data:forced.jsonl: the targets 'targets': value 0.5 (example 1) is not an integer, but int32 was asked for");
  });
});

describe('data:FILE — options, split, resume', () => {
  const lines = Array.from({ length: 50 }, (_, i) => `${i},${i % 5}`);
  file('fifty.csv', lines.join('\n'));

  it('split random: a fixed seeded 10%, the same for every seed, disjoint from training', () => {
    const a = task('fifty.csv', { split: 'random', seed: 1 });
    const b = task('fifty.csv', { split: 'random', seed: 2 });
    const held = evalRows(a).map(([x]) => x[0]);
    expect(held).toEqual(evalRows(b).map(([x]) => x[0]));
    expect(held).toHaveLength(5);
    expect(held).not.toEqual([45, 46, 47, 48, 49]);
    const trained = new Set<number>();
    for (let k = 0; k < 12; k++) for (const [x] of batchRows(a.trainBatch(k))) trained.add(x[0]);
    expect(trained.size).toBe(45);
    for (const h of held) expect(trained.has(h)).toBe(false);
  });

  it('resumes exactly, and refuses a changed file, seed or batch size', () => {
    const t = task('fifty.csv', { seed: 3 });
    const s = t.train();
    const want = Array.from({ length: 20 }, () => s.next()); // 45 / 4: crosses epochs mid-batch
    const part = t.train();
    for (let i = 0; i < 11; i++) part.next();
    const pos = JSON.parse(JSON.stringify(part.position));
    const resumed = task('fifty.csv', { seed: 3 }).train(pos);
    for (let i = 11; i < 20; i++) expect(batchRows(resumed.next())).toEqual(batchRows(want[i]));
    expect(() => task('fifty.csv', { seed: 4 }).train(pos)).toThrow('cannot resume the data of data:fifty.csv: the checkpoint used seed 3, this run seed 4');
    expect(() => task('fifty.csv', { seed: 3, batchSize: 5 }).train(pos)).toThrow('the checkpoint used batch size 4, this run 5');
    expect(() => task('fifty.csv', { seed: 3, evalFraction: 0.2 }).train(pos)).toThrow('the data or the task options changed since the checkpoint was written');
    expect(() => t.train({ ...pos, batches: -1 })).toThrow("the saved position's 'batches' is -1, not a count");
    expect(() => t.train(null as never)).toThrow('the saved data position is not an object (null)');
  });

  it('option errors name the option', () => {
    expect(err('fifty.csv', { evalFraction: 1.5 })).toBe('data:fifty.csv: evalFraction must be in [0, 1), got 1.5');
    expect(err('fifty.csv', { split: 'middle' as never })).toBe('data:fifty.csv: split must be \'last\' or \'random\', got "middle"');
    expect(err('fifty.csv', { inputDtype: 'int8' as never })).toBe('data:fifty.csv: inputDtype must be \'float32\' or \'int32\', got "int8"');
    file('x.jsonl', '{"inputs": [1], "targets": 0}\n');
    expect(err('x.jsonl', { labelColumn: 1 })).toBe('data:x.jsonl: labelColumn applies only to CSV files');
    file('data.txt', '1,2\n');
    expect(err('data.txt')).toBe("data:data.txt: unknown format '.txt'; data files are .npz, .npy, .csv, .tsv, .jsonl, .ndjson");
  });
});
