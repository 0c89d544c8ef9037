/**
 * Shape-tracing benchmark: full traces (cold memo) and one re-trace after one
 * parameter edit, for TransformerLM (6 layers, d_model 512), ReformerLM (24
 * layers) and a synthetic 5,000-layer Serial. Prints numbers; asserts nothing.
 *
 *   npm run bench:shapes
 */
import { performance } from 'node:perf_hooks';
import { parseShapeDtype } from '../engine/core/shape';
import type { DocNode } from '../engine/document/schema';
import { traceDocument } from '../engine/document/trace';
import { unpackMacros } from '../engine/document/unpack';
import { codeToTree } from '../engine/tracecode/parse';

function deepCopy(n: DocNode): DocNode {
  return JSON.parse(JSON.stringify(n)) as DocNode;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time f over fresh inputs: median of `runs` after `warm` warm-up runs, in ms. */
function time<T>(prepare: () => T, f: (x: T) => unknown, runs = 30, warm = 5): { median: number; min: number } {
  const ts: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < warm + runs; i++) {
    const x = prepare();
    gc?.(); // so a collection of the preparation's garbage does not land inside the timing
    const t0 = performance.now();
    f(x);
    const dt = performance.now() - t0;
    if (i >= warm) ts.push(dt);
  }
  return { median: median(ts), min: Math.min(...ts) };
}

/** A copy with one node's parameter changed, sharing every untouched subtree (as the editor's immutable update does). */
function withParam(root: DocNode, pick: (n: DocNode) => boolean, param: string, value: number): DocNode {
  let done = false;
  const go = (n: DocNode): DocNode => {
    if (done) return n;
    if (pick(n)) { done = true; return { ...n, params: { ...n.params, [param]: value } }; }
    let changed = false;
    const children = n.children?.map((c) => { const d = go(c); if (d !== c) changed = true; return d; });
    let slots = n.slots;
    if (n.slots) {
      const s: Record<string, DocNode | null> = {};
      for (const [k, v] of Object.entries(n.slots)) { const d = v ? go(v) : null; if (d !== v) changed = true; s[k] = d; }
      slots = s;
    }
    return changed ? { ...n, ...(children ? { children } : {}), ...(slots ? { slots } : {}) } : n;
  };
  const out = go(root);
  if (!done) throw new Error(`no node matched for ${param}`);
  return out;
}

const fmt = (x: { median: number; min: number }): string => `${x.median.toFixed(3)} ms (min ${x.min.toFixed(3)})`;

function countNodes(n: DocNode): number {
  return 1 + (n.children ?? []).reduce((s, c) => s + countNodes(c), 0) + Object.values(n.slots ?? {}).reduce((s, c) => s + (c ? countNodes(c) : 0), 0);
}

interface Subject { name: string; root: DocNode; input: string[]; edit: (r: DocNode) => DocNode }

const middleDense = (r: DocNode): DocNode => {
  let seen = 0;
  const total = JSON.stringify(r).split('"Dense"').length - 1;
  return withParam(r, (n) => n.kind === 'Dense' && ++seen === Math.ceil(total / 2), 'n_units', 1000);
};

const transformer = codeToTree('trax.models.TransformerLM(vocab_size=32000, d_model=512, d_ff=2048, n_layers=6, n_heads=8)');
const reformer = codeToTree('trax.models.ReformerLM(vocab_size=32000, d_model=512, d_ff=2048, n_layers=24, n_heads=8)');
const reformerLsh = codeToTree('trax.models.ReformerLM(vocab_size=32000, d_model=512, d_ff=2048, n_layers=24, n_heads=8, max_len=4096, attention_type=tl.LSHSelfAttention)');
const synthetic: DocNode = {
  id: 's', kind: 'Serial',
  children: Array.from({ length: 5000 }, (_, i) => (i % 2 === 0 ? { id: `d${i}`, kind: 'Dense', params: { n_units: 64 } } : { id: `r${i}`, kind: 'Relu' })),
};

const subjects: Subject[] = [
  { name: 'TransformerLM 6x512 (model node)', root: transformer, input: ['int32[B,L]'], edit: (r) => withParam(r, (n) => n.kind === 'TransformerLM', 'd_ff', 1024) },
  { name: 'TransformerLM 6x512 (unpacked tree)', root: unpackMacros(transformer), input: ['int32[B,L]'], edit: middleDense },
  { name: 'ReformerLM 24 layers (model node)', root: reformer, input: ['int32[B,L]'], edit: (r) => withParam(r, (n) => n.kind === 'ReformerLM', 'd_ff', 1024) },
  { name: 'ReformerLM 24 layers (unpacked tree)', root: unpackMacros(reformer), input: ['int32[B,L]'], edit: middleDense },
  { name: 'ReformerLM 24 layers, LSH (unpacked tree)', root: unpackMacros(reformerLsh), input: ['int32[8,4096]'], edit: middleDense },
  { name: 'Serial of 5,000 layers', root: synthetic, input: ['float32[B,64]'], edit: (r) => withParam(r, (n) => n.id === 'd2500', 'n_units', 32) },
];

console.log(`strata shape-tracing benchmark (median of 30 runs after 5 warm-up runs${(globalThis as { gc?: unknown }).gc ? ', GC before each' : ''})`);
console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);
for (const s of subjects) {
  const input = s.input.map(parseShapeDtype);
  const check = traceDocument({ root: s.root, input });
  if (check.errors.length) throw new Error(`${s.name}: ${check.errors[0].message}`);
  const full = time(() => deepCopy(s.root), (root) => traceDocument({ root, input }));
  // re-trace: the previous document was traced (memo warm), then one parameter changes
  const re = time(() => { const base = deepCopy(s.root); traceDocument({ root: base, input }); return s.edit(base); }, (root) => traceDocument({ root, input }));
  console.log(`${s.name}: ${countNodes(s.root)} nodes, ${check.params.toLocaleString('en-US')} params`);
  console.log(`  full trace            ${fmt(full)}`);
  console.log(`  re-trace after 1 edit ${fmt(re)}`);
}
