/**
 * `strata export RUN_DIR`: the trained model out of a training run directory,
 * as ONNX (eval mode, trained weights), as the weights file, and as Trax
 * Python with its loader. The ONNX is checked in onnxruntime against `strata
 * run` of the run's model.strata.json with the same weights file and inputs;
 * the Python compiles and (Trax and JAX cannot be installed here, so against
 * a stand-in for Trax's Layer protocol, test/trax-standin.py) loads every
 * array; every kind of broken run directory gets a message naming the file.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseShapeDtype } from '../engine/core/shape';
import { parseDocumentText, serializeDocument } from '../engine/document/schema';
import { traceDocument } from '../engine/document/trace';
import { readNpz } from '../engine/weights';
import { rng } from '../test/ort';
import { repoRoot } from '../test/shared';
import { pyCompile, runStandIn, traxStandIn } from '../test/trax-standin';
import { main } from './main';

const tmp = mkdtempSync(join(tmpdir(), 'strata-export-trained-'));

interface Result { code: number; out: string; err: string; json: any } // eslint-disable-line @typescript-eslint/no-explicit-any

async function strata(args: string[]): Promise<Result> {
  let out = '', err = '';
  const code = await main(args, { out: (s) => { out += s; }, err: (s) => { err += s; } });
  let json: unknown;
  try { json = JSON.parse(out); } catch { json = undefined; }
  return { code, out, err, json };
}

/** Random inputs for a signature, as `strata run --inputs` reads them. */
function inputsFile(name: string, sig: string, seed: string): { path: string; data: Float32Array | Int32Array; dims: number[] } {
  const s = parseShapeDtype(sig);
  const dims = s.shape.map(Number);
  const n = dims.reduce((a, d) => a * d, 1);
  const r = rng(seed);
  const data = s.dtype === 'int32' ? Int32Array.from({ length: n }, () => Math.floor(r() * 64)) : Float32Array.from({ length: n }, () => r());
  const path = join(tmp, `${name}.json`);
  writeFileSync(path, JSON.stringify([{ dtype: s.dtype, shape: dims, data: Array.from(data) }]));
  return { path, data, dims };
}

/** The model's output from the exported ONNX in onnxruntime, and from `strata run` with the given weights file. */
async function compare(onnx: string, doc: string, weights: string, input: ReturnType<typeof inputsFile>): Promise<{ exported: Float32Array; run: number[] }> {
  const session = await ort.InferenceSession.create(onnx);
  const feed = new ort.Tensor(input.data instanceof Int32Array ? 'int32' : 'float32', input.data, input.dims);
  const out = await session.run({ [session.inputNames[0]]: feed });
  await session.release();
  const run = await strata(['run', doc, '--inputs', input.path, '--weights', weights, '--json']);
  expect(run.code, run.err + run.out).toBe(0);
  return { exported: out[session.outputNames[0]].data as Float32Array, run: run.json.outputs[0].data };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** A run directory by hand: model.strata.json, config.json and weights.npz from `strata weights`. */
async function handRun(name: string, docText: string, sig: string, seed = 5): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.strata.json'), docText);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ input: [sig], task: 'hand-made', loss: 'CrossEntropyLoss', seed }));
  const w = await strata(['weights', join(dir, 'model.strata.json'), '--input', sig, '-o', join(dir, 'weights.npz'), '--seed', String(seed)]);
  expect(w.code, w.err).toBe(0);
  return dir;
}

const example = (name: string): string => readFileSync(join(repoRoot, 'assets', 'examples', `${name}.strata.json`), 'utf8');

function smallTransformer(): string {
  const doc = parseDocumentText(example('transformer-lm'));
  doc.root.params = { ...doc.root.params, vocab_size: 64, d_model: 32, d_ff: 64, n_layers: 2, n_heads: 4, max_len: 16 };
  return serializeDocument(doc);
}

// one real training run (3 steps of an MLP on MNIST, a checkpoint each step) shared by the tests below
const MLP = 'tl.Serial(tl.Flatten(), tl.Dense(16), tl.Relu(), tl.Dropout(0.2), tl.Dense(10), tl.LogSoftmax())';
const trained = join(tmp, 'trained');
const training = strata(['train', MLP, '--task', 'mnist', '--steps', '3', '--batch', '8', '--eval-every', '3', '--checkpoint-every', '1', '--dir', trained, '--json']);

describe('strata export RUN_DIR (onnx)', () => {
  it('gives in onnxruntime the outputs `strata run` gives with the run’s weights (eval mode)', async () => {
    const t = await training;
    expect(t.code, t.err).toBe(0);
    const out = join(tmp, 'trained.onnx');
    const r = await strata(['export', trained, '-o', out, '--json']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.json).toMatchObject({ file: out, format: 'onnx', weights_file: join(trained, 'weights.npz'), inputs: ['float32[8,28,28,1]'], outputs: ['float32[8,10]'] });
    const x = inputsFile('mlp-in', 'float32[8,28,28,1]', 'a');
    const { exported, run } = await compare(out, join(trained, 'model.strata.json'), join(trained, 'weights.npz'), x);
    expect(maxDiff(exported, run)).toBeLessThanOrEqual(1e-6);
    // the trained weights, not an initialization: the seed's weights give other outputs
    const fresh = await strata(['run', join(trained, 'model.strata.json'), '--inputs', x.path, '--json']);
    expect(maxDiff(exported, fresh.json.outputs[0].data)).toBeGreaterThan(1e-4);
  });

  it('takes another batch size with --input, and probes', async () => {
    await training;
    const out = join(tmp, 'trained-b3.onnx');
    const r = await strata(['export', trained, '-o', out, '--input', 'float32[3,28,28,1]', '--probes', 'all', '--json']);
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.json.inputs).toEqual(['float32[3,28,28,1]']);
    expect(r.json.probes).toBeGreaterThan(5);
    const session = await ort.InferenceSession.create(out);
    expect(session.outputNames.filter((n) => n.startsWith('probe/'))).toHaveLength(r.json.probes); // each edge's data (and its statistics)
    await session.release();
    const x = inputsFile('mlp-in3', 'float32[3,28,28,1]', 'b');
    const { exported, run } = await compare(out, join(trained, 'model.strata.json'), join(trained, 'weights.npz'), x);
    expect(maxDiff(exported, run)).toBeLessThanOrEqual(1e-6);
  });

  it('--checkpoint STEP takes that checkpoint’s weights', async () => {
    await training;
    const out = join(tmp, 'trained-step1.onnx');
    const r = await strata(['export', trained, '--checkpoint', '1', '-o', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(join('checkpoints', 'step-00000001', 'weights.npz'));
    const x = inputsFile('mlp-in-c', 'float32[8,28,28,1]', 'c');
    const step1 = await compare(out, join(trained, 'model.strata.json'), join(trained, 'checkpoints', 'step-00000001', 'weights.npz'), x);
    expect(maxDiff(step1.exported, step1.run)).toBeLessThanOrEqual(1e-6);
    const latest = await compare(join(tmp, 'trained.onnx'), join(trained, 'model.strata.json'), join(trained, 'weights.npz'), x);
    expect(maxDiff(step1.exported, latest.exported)).toBeGreaterThan(0);
  });

  it('exports the CNN and the TransformerLM of hand-made run directories', async () => {
    for (const [name, text, sig, other] of [
      ['cnn', example('small-cnn'), 'float32[2,28,28,1]', 'float32[3,28,28,1]'],
      ['tlm', smallTransformer(), 'int32[2,8]', 'int32[1,8]'],
    ] as const) {
      const dir = await handRun(name, text, sig);
      const out = join(tmp, `${name}.onnx`);
      const r = await strata(['export', dir, '-o', out, '--input', other]);
      expect(r.code, r.err).toBe(0);
      const x = inputsFile(`${name}-in`, other, name);
      const { exported, run } = await compare(out, join(dir, 'model.strata.json'), join(dir, 'weights.npz'), x);
      expect(maxDiff(exported, run)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('strata export RUN_DIR --format npz | trax', () => {
  it('copies the weights file byte for byte, after checking it fits the model', async () => {
    await training;
    const out = join(tmp, 'copy.npz');
    const r = await strata(['export', trained, '--format', 'npz', '-o', out]);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out).equals(readFileSync(join(trained, 'weights.npz')))).toBe(true);
    const other = await handRun('other', example('small-cnn'), 'float32[2,28,28,1]');
    const bad = join(tmp, 'not-written.npz');
    const e = await strata(['export', trained, '--format', 'npz', '--weights', join(other, 'weights.npz'), '-o', bad]);
    expect(e.code).toBe(2);
    expect(e.err).toContain('bad_weights');
    expect(e.err).toMatch(/has no 'Serial\[1\]\/Dense\/kernel'|keys the model does not have/);
    expect(existsSync(bad)).toBe(false);
  });

  it('writes Trax code that compiles and loads the run’s weights (into a stand-in for Trax)', async () => {
    await training;
    const runs: [string, string][] = [[trained, 'float32[8,28,28,1]']];
    runs.push([await handRun('cnn-py', example('small-cnn'), 'float32[2,28,28,1]'), 'float32[2,28,28,1]']);
    runs.push([await handRun('tlm-py', smallTransformer(), 'int32[2,8]'), 'int32[2,8]']);
    for (const [dir, sig] of runs) {
      const py = join(tmp, `${dir.split('/').pop()}.py`);
      const r = await strata(['export', dir, '--format', 'trax', '-o', py]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`python3 ${py} --weights ${join(dir, 'weights.npz')}`);
      const src = readFileSync(py, 'utf8');
      expect(src).toContain(`# input: ${sig}`);
      expect(pyCompile(py)).toEqual({ code: 0, err: '' });
      const doc = parseDocumentText(readFileSync(join(dir, 'model.strata.json'), 'utf8'));
      const standIn = traxStandIn(traceDocument({ root: doc.root, input: [parseShapeDtype(sig)] }));
      const s = runStandIn(tmp, py, standIn, join(dir, 'weights.npz'));
      expect(s.report, s.err + s.out).toMatchObject({ ok: true });
      expect(s.report!.arrays).toBe(readNpz(readFileSync(join(dir, 'weights.npz'))).size);
    }
  });
});

describe('strata export RUN_DIR: what goes wrong says where', () => {
  async function broken(name: string, edit: (dir: string) => void): Promise<string> {
    const dir = join(tmp, `broken-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const base = await handRun(`base-${name}`, example('mlp-mnist'), 'float32[2,28,28,1]');
    for (const f of ['model.strata.json', 'config.json', 'weights.npz']) copyFileSync(join(base, f), join(dir, f));
    edit(dir);
    return dir;
  }
  const out = join(tmp, 'never.onnx');

  it('a folder that is not a run directory names the missing file', async () => {
    for (const f of ['model.strata.json', 'config.json', 'weights.npz']) {
      const dir = await broken(`missing-${f}`, (d) => rmSync(join(d, f)));
      const r = await strata(['export', dir, '-o', out]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`${dir} is not a training run directory: it has no ${f}`);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('a damaged file is named with what is wrong', async () => {
    const cases: [string, (d: string) => void, string][] = [
      ['doc', (d) => writeFileSync(join(d, 'model.strata.json'), '{"format": "strata", "version": 1, "root": '), 'model.strata.json is damaged: not valid JSON'],
      ['config', (d) => writeFileSync(join(d, 'config.json'), '{"input": ['), 'config.json is damaged: not valid JSON'],
      ['input', (d) => writeFileSync(join(d, 'config.json'), '{"task": "mnist"}'), 'config.json is damaged: its "input" must be a list of input signatures'],
      ['sig', (d) => writeFileSync(join(d, 'config.json'), '{"input": ["float32[2,28"]}'), 'config.json is damaged: input signature "float32[2,28"'],
      ['npz', (d) => { const b = readFileSync(join(d, 'weights.npz')); writeFileSync(join(d, 'weights.npz'), b.subarray(0, b.length - 200)); }, 'weights.npz is damaged: not a valid .npz file'],
    ];
    for (const [name, edit, message] of cases) {
      const dir = await broken(name, edit);
      const r = await strata(['export', dir, '-o', out, '--json']);
      expect(r.code, name).toBe(2);
      expect(r.json.error.message, name).toContain(join(dir, message.split(' ')[0]));
      expect(r.json.error.message, name).toContain(message);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('weights that do not fit name the key and both shapes', async () => {
    const dir = await broken('fit', (d) => {
      writeFileSync(join(d, 'config.json'), JSON.stringify({ input: ['float32[2,14,14,1]'] }));
    });
    const r = await strata(['export', dir, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("'Serial[1]/Dense/kernel' is float32[784,512] in the weights file, the model needs float32[196,512]");
    expect(r.err).toContain(join(dir, 'weights.npz'));
  });

  it('bad usage: a missing checkpoint lists the ones there are; flags that do not go together', async () => {
    await training;
    const c = await strata(['export', trained, '--checkpoint', '9', '-o', out]);
    expect(c.code).toBe(1);
    expect(c.err).toContain('has no checkpoint at step 9; its checkpoints are at steps 1, 2, 3');
    expect((await strata(['export', trained, '--checkpoint', '1', '--weights', 'w.npz', '-o', out])).err).toContain('not both');
    expect((await strata(['export', trained, '--format', 'trax', '--probes', 'all', '-o', out])).err).toContain('--probes is for --format onnx');
    expect((await strata(['export', trained, '--format', 'tf', '-o', out])).err).toContain('--format must be one of onnx, npz, trax');
    expect((await strata(['export', trained])).err).toContain('give the output file with -o FILE');
    expect(existsSync(out)).toBe(false);
  });
});
