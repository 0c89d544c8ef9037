import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, TASK_NAMES, checkBatch, taskFromSpec, type Batch, type TaskOptions } from './index';

const dir = mkdtempSync(join(tmpdir(), 'strata-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'corpus.txt'), 'the quick brown fox jumps over the lazy dog. '.repeat(20));
writeFileSync(join(dir, 'table.csv'), Array.from({ length: 30 }, (_, i) => `${i},${i * i},${i % 3}`).join('\n'));
mkdirSync(join(dir, 'folder'));

const failure = async (spec: string, o: TaskOptions = {}): Promise<DataError> => {
  try {
    await taskFromSpec(spec, { cwd: spec.includes(':') ? dir : undefined, ...o });
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error(`no error for ${spec}`);
};

const flat = (b: Batch): number[] => [...b.inputs.flatMap((t) => Array.from(t.data as Int32Array)), ...Array.from(b.targets.data as Int32Array), ...Array.from(b.weights.data as Float32Array)];

describe('taskFromSpec', () => {
  it('lists the tasks', () => {
    expect(TASK_NAMES).toEqual(['mnist', 'copy', 'reverse', 'duplicate', 'addition', 'text:FILE', 'data:FILE']);
  });

  const specs = ['mnist', 'copy', 'reverse', 'duplicate', 'addition', 'text:corpus.txt', 'data:table.csv'];

  it.each(specs)('%s: batches fit the signature; the position survives JSON and resumes exactly', async (spec) => {
    const o = { batchSize: 8, seed: 42, cwd: dir, ...(spec.startsWith('text:') ? { length: 16 } : {}) };
    const t = await taskFromSpec(spec, spec.includes(':') ? o : { batchSize: 8, seed: 42 });
    expect(t.spec).toBe(spec);
    expect(t.batchSize).toBe(8);
    checkBatch(t, t.trainBatch(0));
    if (t.evalBatchCount > 0) checkBatch(t, t.evalBatch(0));
    const s = t.train();
    const want = Array.from({ length: 6 }, () => flat(s.next()));
    const part = t.train();
    for (let i = 0; i < 4; i++) expect(flat(part.next())).toEqual(want[i]);
    const saved = JSON.stringify(part.position);
    const again = await taskFromSpec(spec, spec.includes(':') ? o : { batchSize: 8, seed: 42 });
    const resumed = again.train(JSON.parse(saved));
    expect(flat(resumed.next())).toEqual(want[4]);
    expect(flat(resumed.next())).toEqual(want[5]);
    expect(resumed.position.batches).toBe(6);
  });

  it('refuses a position saved by another task', async () => {
    const pos = (await taskFromSpec('copy')).train().position;
    const t = await taskFromSpec('duplicate');
    expect(() => t.train(pos)).toThrow('cannot resume the data of duplicate: the checkpoint was trained on the task "copy"');
    const longer = await taskFromSpec('copy', { length: 64 });
    expect(() => longer.train(pos)).toThrow(/the data or the task options changed/);
  });

  it('names unknown tasks, missing files and options that do not apply', async () => {
    expect((await failure('cifar')).message).toBe("unknown task 'cifar'; the tasks are mnist, copy, reverse, duplicate, addition, text:FILE, data:FILE");
    expect((await failure('cifar')).code).toBe('unknown_task');
    expect((await failure('mnist:x')).code).toBe('unknown_task');
    expect((await failure('text:')).message).toBe('text: names no file (write text:path/to/file)');
    expect((await failure('text')).message).toBe('text: names no file (write text:path/to/file)');
    const missing = await failure('data:nope.csv');
    expect(missing.code).toBe('missing_file');
    expect(missing.message).toBe(`data:nope.csv: no such file (looked for ${join(dir, 'nope.csv')})`);
    expect((await failure('text:folder')).message).toBe(`text:folder: is not a file (${join(dir, 'folder')})`);
    expect((await failure('mnist', { length: 10 })).message).toBe("the option 'length' does not apply to the task mnist (it takes batchSize, seed, evalBatches)");
    expect((await failure('mnist', { evalBatches: 2 })).message).toMatch(/'evalBatches' does not apply to the task mnist/);
    expect((await failure('duplicate', { labelColumn: 1 })).message).toMatch(/^the option 'labelColumn' does not apply to the task duplicate/);
    expect((await failure('text:corpus.txt', { vocabSize: 10 })).message).toMatch(/^the option 'vocabSize' does not apply to the task text:corpus\.txt/);
    expect((await failure('copy', { colour: 1 } as TaskOptions)).message).toMatch(/^unknown task option 'colour'; the options are /);
    expect((await failure('copy', { batchSize: 0 })).message).toBe('the batch size must be a positive integer, got 0');
    expect((await failure('copy', { seed: -1 })).message).toBe('the seed must be a non-negative integer, got -1');
    expect((await failure('copy', { seed: 0.5 })).message).toBe('the seed must be a non-negative integer, got 0.5');
    // undefined options (absent CLI flags) are ignored
    await expect(taskFromSpec('mnist', { length: undefined, seed: undefined })).resolves.toBeDefined();
  });

  it('resolves FILE against cwd, or takes an absolute path', async () => {
    const t = await taskFromSpec(`data:${join(dir, 'table.csv')}`);
    expect(t.trainExamples).toBe(27);
    const u = await taskFromSpec('data:table.csv', { cwd: dir, labelColumn: 0 });
    expect(u.kind).toBe('classification');
  });
});
