/**
 * Training benchmark (prints numbers, asserts nothing): each run is the real
 * training loop (engine/train, as `strata train` runs it) on onnxruntime's
 * CPU provider.
 *  1. the MLP example on MNIST (the issue's bar: >= 95% held-out accuracy);
 *  2. the small CNN example on MNIST (>= 97%);
 *  3. a 2-layer TransformerLM on the `duplicate` task (>= 99% accuracy on the
 *     second half, the masked positions);
 *  4. steps per second and peak memory of TransformerLM (d_model 512, 6
 *     layers, length 256, batch 8);
 *  5. rematerialization: one training step of a 6-layer ReformerLM (full
 *     attention, batch 2 x 1024) keeping activations and recomputing the
 *     reversible blocks' residual functions (each in its own process, for
 *     its peak memory).
 *
 *   npm run bench:train                 (all)
 *   npm run bench:train -- mlp cnn      (some: mlp, cnn, duplicate, speed, remat)
 *   BENCH_QUICK=1                       fewer steps (numbers, not the bars)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { parseDocumentText, type StrataDocument } from '../engine/document/schema';
import { codeToDocument } from '../engine/tracecode/parse';
import { taskFromSpec } from '../engine/train/data';
import { train } from '../engine/train/loop';
import { parseOptimizer } from '../engine/train/optimizers';
import { parseSchedule } from '../engine/train/schedules';
import { buildTrainStep, slotValue } from '../engine/train/step';
import { modelBytes } from '../engine/onnx/write';
import { toOrtTensor } from '../engine/runtime/session';
import { initialValue } from '../engine/weights';
import '../kernels';

const quick = !!process.env.BENCH_QUICK;
if (process.argv[2] === 'remat-one') {
  await rematStep(process.argv[3] === 'remat');
  process.exit(0);
}
const root = join(import.meta.dirname ?? '.', '..');
const want = new Set(process.argv.slice(2));
const pick = (name: string): boolean => want.size === 0 || want.has(name);
const example = (name: string): StrataDocument => parseDocumentText(readFileSync(join(root, 'assets/examples', `${name}.strata.json`), 'utf8'));

interface Case {
  name: string;
  doc: StrataDocument;
  task: string;
  taskOptions?: Record<string, number>;
  steps: number;
  batch: number;
  lr: number;
  warmup?: number;
  evalEvery: number;
  bar?: string;
}

async function bench(c: Case): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `strata-bench-train-${c.name}-`));
  const task = await taskFromSpec(c.task, { batchSize: c.batch, seed: 0, ...c.taskOptions });
  const optimizer = parseOptimizer('adam', { learning_rate: c.lr });
  const schedule = c.warmup ? parseSchedule('rsqrt', { max_value: c.lr, n_warmup_steps: c.warmup }) : parseSchedule('constant', { value: c.lr });
  const t0 = performance.now();
  const r = await train({ doc: c.doc, task, optimizer, schedule, steps: c.steps, evalEvery: c.evalEvery, seed: 0, dir, logEvery: c.evalEvery });
  const wall = (performance.now() - t0) / 1000;
  const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { split: string; steps_per_s: number });
  const sps = lines.filter((l) => l.split === 'train').map((l) => l.steps_per_s);
  console.log(`${c.name}: ${task.description}`);
  console.log(`  ${r.step} steps, batch ${c.batch}, adam lr ${c.lr}${c.warmup ? ` (rsqrt, warmup ${c.warmup})` : ''}: eval loss ${r.eval.loss.toFixed(4)}, accuracy ${((r.eval.accuracy ?? NaN) * 100).toFixed(2)}%${c.bar ? ` (bar: ${c.bar})` : ''}`);
  console.log(`  wall ${wall.toFixed(1)} s, ${(sps.reduce((a, b) => a + b, 0) / Math.max(1, sps.length)).toFixed(1)} steps/s (mean of logged windows)\n`);
  rmSync(dir, { recursive: true, force: true });
}

console.log('strata training benchmark');
console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.common}, CPU provider${quick ? ', BENCH_QUICK' : ''}\n`);

if (pick('mlp')) {
  await bench({ name: 'mlp', doc: example('mlp-mnist'), task: 'mnist', steps: quick ? 200 : 2000, batch: 64, lr: 1e-3, evalEvery: quick ? 100 : 500, bar: '>= 95%' });
}
if (pick('cnn')) {
  await bench({ name: 'cnn', doc: example('small-cnn'), task: 'mnist', steps: quick ? 100 : 1500, batch: 64, lr: 1e-3, evalEvery: quick ? 50 : 500, bar: '>= 97%' });
}
if (pick('duplicate')) {
  const doc = codeToDocument('# input: int32[B,L]\nimport trax\nfrom trax import layers as tl\nmodel = tl.Serial(trax.models.TransformerLM(vocab_size=64, d_model=128, d_ff=256, n_layers=2, n_heads=4, max_len=64, dropout=0.0), tl.LogSoftmax())\n');
  await bench({ name: 'duplicate', doc, task: 'duplicate', taskOptions: { length: 32, vocabSize: 64 }, steps: quick ? 200 : 3000, batch: 32, lr: 1e-3, warmup: 200, evalEvery: quick ? 100 : 500, bar: '>= 99% on the second half' });
}
if (pick('speed')) {
  const doc = codeToDocument('# input: int32[B,L]\nimport trax\nfrom trax import layers as tl\nmodel = tl.Serial(trax.models.TransformerLM(vocab_size=32000, d_model=512, d_ff=2048, n_layers=6, n_heads=8, max_len=256, dropout=0.1), tl.LogSoftmax())\n');
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-train-speed-'));
  const task = await taskFromSpec('duplicate', { batchSize: 8, seed: 0, length: 256, vocabSize: 32000, evalBatches: 1 });
  const steps = quick ? 4 : 8;
  const times: number[] = [];
  let last = 0;
  const t0 = performance.now();
  await train({
    doc, task, optimizer: parseOptimizer('adam'), schedule: parseSchedule('constant', { value: 1e-4 }), steps, evalEvery: steps, seed: 0, dir, logEvery: 1,
    onProgress: (p) => { if (p.split !== 'train') return; const now = performance.now(); times.push(now - (last || t0)); last = now; },
  });
  const total = (performance.now() - t0) / 1000;
  // the first steps also grow onnxruntime's memory arena (and the first builds the graph and the session)
  const steady = times.slice(2);
  const median = [...steady].sort((a, b) => a - b)[Math.floor(steady.length / 2)];
  console.log('speed: TransformerLM(vocab 32000, d_model 512, d_ff 2048, 6 layers, 8 heads; 52.8M parameters), batch 8 x length 256, Adam');
  console.log(`  steps 1-2 (graph, session, arena growth): ${times.slice(0, 2).map((t) => (t / 1000).toFixed(1)).join(' s, ')} s; then ${(1000 / median).toFixed(2)} steps/s (median of ${steady.length}: ${(median / 1000).toFixed(2)} s a step)`);
  console.log(`  ${total.toFixed(1)} s in all (with an eval batch and a checkpoint); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
  rmSync(dir, { recursive: true, force: true });
}

if (pick('remat')) {
  console.log('remat: one training step of ReformerLM(vocab 256, d_model 256, d_ff 512, 6 layers, 4 heads, full attention), batch 2 x 1024, Adam, arena off');
  for (const mode of ['plain', 'remat']) {
    const r = spawnSync(process.execPath, [process.argv[1], 'remat-one', mode], { encoding: 'utf8' });
    console.log(`  ${mode === 'remat' ? 'recomputing f  ' : 'keeping activations'}: ${r.stdout.trim() || r.stderr.trim()}`);
  }
  console.log('');
}

/** One process, one configuration: steps of the step graph, then its peak RSS. */
async function rematStep(remat: boolean): Promise<void> {
  const L = 1024, B = 2;
  const doc = codeToDocument(`# input: int32[B,L]\nimport trax\nfrom trax import layers as tl\nmodel = tl.Serial(trax.models.ReformerLM(vocab_size=256, d_model=256, d_ff=512, n_layers=6, n_heads=4, max_len=${L}, attention_type=tl.SelfAttention, dropout=0.0), tl.LogSoftmax())\n`);
  const g = buildTrainStep({ model: doc.root, modelInput: [{ dtype: 'int32', shape: [B, L] }], extra: [{ dtype: 'int32', shape: [B, L] }, { dtype: 'float32', shape: [B, L] }], loss: 'CrossEntropyLoss', metrics: [], optimizer: parseOptimizer('adam'), schedule: parseSchedule('constant', { value: 1e-4 }), seed: 0, remat });
  // without the arena, RSS follows what the step holds at once
  const s = await ort.InferenceSession.create(modelBytes(g.model), { graphOptimizationLevel: 'all', enableCpuMemArena: false });
  const tok = Int32Array.from({ length: B * L }, (_, i) => (i * 7919) % 256);
  const feeds: Record<string, ort.Tensor> = {
    [g.data[0]]: new ort.Tensor('int32', tok, [B, L]), [g.data[1]]: new ort.Tensor('int32', tok, [B, L]), [g.data[2]]: new ort.Tensor('float32', new Float32Array(B * L).fill(1), [B, L]),
  };
  for (const p of [...g.params, ...g.state]) feeds[p.input] = toOrtTensor(initialValue({ ...p.ref, key: p.key }, 0));
  for (const sl of g.slots) feeds[sl.input] = toOrtTensor(slotValue(sl.decl));
  const times: number[] = [];
  let loss = 0;
  for (let k = 0; k < 3; k++) {
    feeds[g.step!] = new ort.Tensor('float32', Float32Array.of(k + 1), []);
    feeds[g.rng!] = new ort.Tensor('int32', Int32Array.of(k), []);
    const t0 = performance.now();
    const out = await s.run(feeds);
    times.push(performance.now() - t0);
    loss = (out[g.loss].data as Float32Array)[0];
    for (const p of g.params) if (p.output) feeds[p.input] = out[p.output];
    for (const sl of g.slots) feeds[sl.input] = out[sl.output];
  }
  console.log(`step ${Math.min(...times).toFixed(0)} ms (best of 3), loss after 3 steps ${loss.toFixed(6)}, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}
