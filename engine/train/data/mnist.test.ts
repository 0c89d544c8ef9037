import { describe, expect, it } from 'vitest';
import { loadMnist, mnistTask } from './mnist';
import { checkBatch, digest } from './task';

describe('mnist', () => {
  it('has the fixed split: 8,000 train / 2,000 held out, 20% of each digit, disjoint, pinned', async () => {
    const d = await loadMnist();
    expect(d.labels.length).toBe(10000);
    expect(d.train.length).toBe(8000);
    expect(d.test.length).toBe(2000);
    const count = (idx: Int32Array): number[] => {
      const k = new Array<number>(10).fill(0);
      for (const i of idx) k[d.labels[i]]++;
      return k;
    };
    // the package's digits per class: 1001 1127 991 1032 980 863 1014 1070 944 978
    expect(count(d.test)).toEqual([200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
    expect(count(d.train)).toEqual([801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);
    const all = new Set([...d.train, ...d.test]);
    expect(all.size).toBe(10000);
    // the held-out digits never change (a changed split would make results incomparable)
    expect(digest(Array.from(d.test).join(','))).toBe('e547f19ce7b8fbc8');
  });

  it('images are in [0, 1] and the labels match the pictures (a 1 has the least ink, a 0 the most)', async () => {
    const d = await loadMnist();
    let lo = Infinity;
    let hi = -Infinity;
    const ink = new Array<number>(10).fill(0);
    const n = new Array<number>(10).fill(0);
    for (let i = 0; i < d.labels.length; i++) {
      let s = 0;
      for (let j = 0; j < 784; j++) {
        const v = d.pixels[i * 784 + j];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        s += v;
      }
      expect(s).toBeGreaterThan(10); // no blank image
      ink[d.labels[i]] += s;
      n[d.labels[i]]++;
    }
    expect(lo).toBe(0);
    expect(hi).toBe(1);
    const mean = ink.map((s, k) => s / n[k]);
    expect(Math.min(...mean)).toBe(mean[1]);
    expect(Math.max(...mean)).toBe(mean[0]);
  });

  it('feeds image float32[B,28,28,1] and label int32[B] with CrossEntropyLoss + accuracy', async () => {
    const t = await mnistTask({ batchSize: 50, seed: 0 });
    expect(t.kind).toBe('classification');
    expect(t.loss).toBe('CrossEntropyLoss');
    expect(t.metrics).toEqual(['WeightedCategoryAccuracy']);
    expect(t.nClasses).toBe(10);
    expect(t.signature.inputs).toEqual([{ name: 'image', dtype: 'float32', shape: [50, 28, 28, 1], range: [0, 1] }]);
    expect(t.signature.targets).toEqual({ name: 'label', dtype: 'int32', shape: [50], range: [0, 9] });
    expect(t.signature.targetsAreInputs).toBe(false);
    for (let k = 0; k < 3; k++) checkBatch(t, t.trainBatch(k));
    checkBatch(t, t.evalBatch(t.evalBatchCount - 1));
    const labels = new Array<number>(10).fill(0);
    for (let k = 0; k < 40; k++) for (const y of t.trainBatch(k).targets.data as Int32Array) labels[y]++;
    // 2,000 shuffled labels: every class near its 10% share
    for (const c of labels) expect(c / 2000).toBeGreaterThan(0.06);
    for (const c of labels) expect(c / 2000).toBeLessThan(0.14);
  });

  it('train batches walk a fresh permutation each epoch; the seed changes the order', async () => {
    const t = await mnistTask({ batchSize: 64, seed: 1 });
    // 8000 / 64 = 125 batches per epoch: each train digit exactly once
    const key = (b: { inputs: { data: ArrayLike<number> }[] }, r: number): string => Array.from((b.inputs[0].data as Float32Array).subarray(r * 784, r * 784 + 784)).join();
    const firstEpoch = new Set<string>();
    for (let k = 0; k < 125; k++) {
      const b = t.trainBatch(k);
      for (let r = 0; r < 64; r++) firstEpoch.add(key(b, r));
    }
    expect(firstEpoch.size).toBeGreaterThan(7950); // a few digits are pixel-identical duplicates in the data
    const d = await loadMnist();
    const trainImages = new Set(Array.from(d.train, (i) => Array.from(d.pixels.subarray(i * 784, i * 784 + 784)).join()));
    expect([...firstEpoch].every((k) => trainImages.has(k))).toBe(true);
    expect(firstEpoch.size).toBe(trainImages.size);
    const again = t.trainBatch(125);
    const other = (await mnistTask({ batchSize: 64, seed: 2 })).trainBatch(0);
    expect(key(again, 0)).not.toBe(key(t.trainBatch(0), 0));
    expect(key(other, 0)).not.toBe(key(t.trainBatch(0), 0));
    expect(key(t.trainBatch(0), 5)).toBe(key((await mnistTask({ batchSize: 64, seed: 1 })).trainBatch(0), 5));
  });

  it('eval covers the 2,000 held-out digits once: the last batch is filled up with weight-0 rows', async () => {
    const t = await mnistTask({ batchSize: 300, seed: 0 });
    expect(t.evalBatchCount).toBe(7);
    let weight = 0;
    let size = 0;
    for (let i = 0; i < t.evalBatchCount; i++) {
      const b = t.evalBatch(i);
      size += b.size;
      for (const w of b.weights.data) weight += w;
    }
    expect(size).toBe(2000);
    expect(weight).toBe(2000);
    const last = t.evalBatch(6);
    expect(last.size).toBe(200);
    expect(Array.from(last.weights.data.subarray(195, 205))).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    expect(() => t.evalBatch(7)).toThrow(/eval batch 7 is out of range/);
  });

  it('resumes from a saved position exactly', async () => {
    const t = await mnistTask({ batchSize: 128, seed: 5 });
    const whole = t.train();
    const want = Array.from({ length: 70 }, () => whole.next()); // crosses the epoch boundary at 62.5 batches
    const part = t.train();
    for (let i = 0; i < 62; i++) part.next();
    const pos = JSON.parse(JSON.stringify(part.position));
    const resumed = (await mnistTask({ batchSize: 128, seed: 5 })).train(pos);
    for (let i = 62; i < 70; i++) {
      const b = resumed.next();
      expect(b.inputs[0].data).toEqual(want[i].inputs[0].data);
      expect(b.targets.data).toEqual(want[i].targets.data);
    }
  });
});
