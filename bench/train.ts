/**
 * Training benchmark (prints numbers, asserts nothing): each run is the real
 * training loop (engine/train, as `strata train` runs it) on onnxruntime's
 * CPU provider.
 *  1. the MLP example on MNIST (the issue's bar: >= 95% held-out accuracy);
 *  2. the small CNN example on MNIST (>= 97%);
 *  3. a 2-layer TransformerLM on the `duplicate` task (>= 99% accuracy on the
 *     second half, the masked positions);
 *  4. steps per second and peak memory of TransformerLM (d_model 512, 6
 *     layers, length 256, batch 8).
 *
 *   npm run bench:train                 (all)
 *   npm run bench:train -- mlp cnn      (some: mlp, cnn, duplicate, speed)
 *   BENCH_QUICK=1                       fewer steps (numbers, not the bars)
 */
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
import '../kernels';

const quick = !!process.env.BENCH_QUICK;
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
