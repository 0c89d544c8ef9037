/**
 * Execution benchmark (prints numbers, asserts nothing):
 *  1. `strata export` of a ~100M-parameter TransformerLM: wall time and peak
 *     memory (RSS) of the exporting process;
 *  2. CPU forward time of TransformerLM (Trax defaults, batch 8, length 512)
 *     as lowered (Strata functions) and with every function inlined, both with
 *     onnxruntime's optimisations on, so any overhead of the lowering shows.
 *
 *   npm run bench:run            (BENCH_QUICK=1 for a smaller, faster variant)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { parseShapeDtype } from '../engine/core/shape';
import { codeToTree } from '../engine/tracecode/parse';
import { lowerDocument } from '../engine/onnx/lower';
import { modelBytes } from '../engine/onnx/write';
import { initialValue } from '../engine/weights';
import { toOrtTensor } from '../engine/runtime/session';
import '../kernels';

const quick = !!process.env.BENCH_QUICK;
const cli = join(import.meta.dirname ?? '.', 'cli.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

// ---------------------------------------------------------------- 1. export
const big = quick
  ? 'trax.models.TransformerLM(vocab_size=32000, d_model=256, d_ff=1024, n_layers=2, n_heads=4)'
  : 'trax.models.TransformerLM(vocab_size=32000, d_model=768, d_ff=3072, n_layers=7, n_heads=12)';
const dir = mkdtempSync(join(tmpdir(), 'strata-bench-'));
const out = join(dir, 'big.onnx');
const t0 = performance.now();
const r = spawnSync(process.execPath, [
  '-e', `const t=Date.now();import(${JSON.stringify(cli)}).then(async(m)=>{const c=await m.run(['export',${JSON.stringify(big)},'--input','int32[1,128]','-o',${JSON.stringify(out)},'--json']);console.error(JSON.stringify({code:c,ms:Date.now()-t,maxRssKb:process.resourceUsage().maxRSS}))})`,
], { encoding: 'utf8' });
const wall = performance.now() - t0;
if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
const stats = JSON.parse(r.stderr.trim().split('\n').pop()!) as { ms: number; maxRssKb: number };
const summary = JSON.parse(r.stdout) as { bytes: number; weights: number };
const params = (summary.bytes / 4 / 1e6).toFixed(1);
console.log('strata execution benchmark');
console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.common}\n`);
console.log(`export ${big}`);
console.log(`  ~${params}M parameters, file ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB`);
console.log(`  export time ${(stats.ms / 1000).toFixed(2)} s (process wall ${(wall / 1000).toFixed(2)} s), peak RSS ${(stats.maxRssKb / 1024).toFixed(0)} MiB`);
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------- 2. forward time
const lm = quick
  ? 'trax.models.TransformerLM(vocab_size=32000, d_model=256, d_ff=1024, n_layers=2, n_heads=4)'
  : 'trax.models.TransformerLM(vocab_size=32000)';
const [batch, length] = quick ? [2, 128] : [8, 512];
const root = codeToTree(lm);
const input = [parseShapeDtype(`int32[${batch},${length}]`)];
const ids = new Int32Array(batch * length).map((_, i) => (i * 7919) % 32000);
const feeds = { input_0: toOrtTensor({ dtype: 'int32', dims: [batch, length], data: ids }) };
console.log(`\nCPU forward, ${lm}, batch ${batch}, length ${length} (median of 3 after 1 warm-up)`);
for (const [label, inline] of [['Strata functions (as exported)', false], ['every function inlined', true]] as const) {
  const low = lowerDocument({ root, input }, { inlineFunctions: inline, weightValue: (ref) => initialValue(ref, 0) });
  const bytes = modelBytes(low.model);
  const s0 = performance.now();
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  const created = performance.now() - s0;
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const a = performance.now();
    await session.run(feeds);
    if (i > 0) times.push(performance.now() - a);
  }
  console.log(`  ${label.padEnd(32)} forward ${median(times).toFixed(0)} ms (session ${created.toFixed(0)} ms, ${low.model.graph.nodes.length} top-level nodes, ${low.model.functions.length} functions)`);
  await session.release();
}
