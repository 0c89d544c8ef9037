/**
 * Test support for the Trax loader (engine/tracecode/loader.ts): Trax and JAX
 * cannot be installed here, so the generated Python runs against a stand-in
 * (test/trax-standin.py) that implements the part of Trax's Layer protocol
 * the loader uses (`sublayers`, `weights`/`state` getters and setters that
 * recurse through combinators, `init`, cache markers for a layer used twice).
 *
 * The stand-in's layer tree is built here from the trace by Trax's own
 * construction rules, written independently of the loader's walk: a macro is
 * the tree Trax builds (its expansion); Residual is Serial(Branch(shortcut,
 * layer), Add()); function-style layers are Serial(AssertShape, layer,
 * AssertShape); a one-weight layer stores the bare array (Dense without bias,
 * Embedding), BatchNorm stores (beta or (), gamma or ()) and the state
 * (running_mean, running_var, n_batches as int64); a node sharing another's
 * weights is the same object. Each array carries the weights-file key it must
 * receive (engine/onnx's weightKey), so the harness checks values, not only
 * shapes.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShapeDtype } from '../engine/core/shape';
import { type DocumentTrace, type NodeTrace, childPath, forEachNode } from '../engine/document/trace';
import type { WeightDecl } from '../engine/layers/def';
import { weightKey } from '../engine/onnx/lower';
import { repoRoot } from './shared';

export interface StandInArray { shape: number[]; dtype: string; key: string }
export type StandInTree = { empty: true } | { array: StandInArray } | { tuple: StandInTree[] };
export type StandInLayer =
  | { ref: string }
  | { id: string; name: string; sublayers: StandInLayer[]; weights?: StandInTree; state?: StandInTree };

export interface StandInModel {
  input: [string, number[]][];
  model: StandInLayer;
}

const EMPTY: StandInTree = { empty: true };

function arrays(decls: readonly WeightDecl[], key: (name: string) => string, dtype: (d: WeightDecl) => string = (d) => d.dtype): StandInTree[] {
  return decls.map((d) => ({ array: { shape: d.shape.map(Number), dtype: dtype(d), key: key(d.name) } }));
}

/** Trax's packing of a leaf's arrays: none -> (), one -> the bare array, more -> a tuple. */
function pack(items: StandInTree[]): StandInTree {
  return items.length === 0 ? EMPTY : items.length === 1 ? items[0] : { tuple: items };
}

/** The Trax layer tree of a traced model, as the stand-in builds it. */
export function traxStandIn(trace: DocumentTrace): StandInModel {
  const where = new Map<string, { path: string; kind: string }>();
  forEachNode(trace.root, (t, path) => { where.set(t.node.id, { path, kind: t.node.kind }); });
  const built = new Set<string>();
  let fresh = 0;
  const serial = (sublayers: StandInLayer[]): StandInLayer => ({ id: `serial~${++fresh}`, name: 'Serial', sublayers });
  const leaf = (name: string): StandInLayer => ({ id: `${name}~${++fresh}`, name, sublayers: [] });

  const build = (t: NodeTrace, path: string, segKind: string): StandInLayer => {
    if (t.expansion) return build(t.expansion, path, t.node.kind);
    const n = t.node;
    const group = n.shareWeightsOf ?? n.id;
    if (built.has(group)) return { ref: group };
    built.add(group);
    const slotNames = (t.analysis.def?.args ?? []).filter((a) => a.arg === 'slot').map((a) => a.name).filter((s) => t.slots[s]);
    const kids = t.children.map((c, i) => build(c, childPath(path, segKind, i), c.node.kind));
    const slot = (s: string): StandInLayer => build(t.slots[s]!, childPath(path, segKind, s), t.slots[s]!.node.kind);
    if (n.kind === 'Residual') {
      // trax.layers.combinators.Residual: Serial(Branch(shortcut, layer), Add()), layer = the one layer or Serial(layers)
      const shortcut = t.slots.shortcut ? slot('shortcut') : serial([]);
      const body = kids.length === 1 ? kids[0] : serial(kids);
      const branch: StandInLayer = { id: `branch~${++fresh}`, name: 'Branch', sublayers: [leaf('Select'), { id: `parallel~${++fresh}`, name: 'Parallel', sublayers: [shortcut, body] }] };
      return { id: group, name: 'Serial', sublayers: [branch, leaf('Add')] };
    }
    if (kids.length || slotNames.length) return { id: group, name: n.kind, sublayers: [...kids, ...slotNames.map(slot)] };
    const owner = n.shareWeightsOf ? where.get(n.shareWeightsOf) : undefined;
    const wKey = (name: string): string => (owner ? weightKey(owner.path, owner.kind, name) : weightKey(path, n.kind, name));
    const sKey = (name: string): string => weightKey(path, n.kind, name);
    let weights: StandInTree, state: StandInTree;
    if (n.kind === 'BatchNorm') {
      // normalization.py: self.weights = (beta, gamma) with () for a disabled one; state (mean, var, n_batches: np.int64)
      const get = (name: string): StandInTree => { const d = t.weights.find((w) => w.name === name); return d ? arrays([d], wKey)[0] : EMPTY; };
      weights = { tuple: [get('beta'), get('gamma')] };
      state = { tuple: arrays(t.state, sKey, (d) => (d.name === 'n_batches' ? 'int64' : d.dtype)) };
    } else {
      weights = pack(arrays(t.weights, wKey));
      state = pack(arrays(t.state, sKey));
    }
    const layer: StandInLayer = { id: group, name: n.kind, sublayers: [], weights, state };
    // function-style layers come wrapped in their shape assertions (trax-semantics.md §1.6)
    if (!t.weights.length && !t.state.length) return { id: `assert~${++fresh}`, name: 'Serial', sublayers: [leaf('AssertShape'), layer, leaf('AssertShape')] };
    return layer;
  };
  const model = build(trace.root, '', trace.root.node.kind);
  const input = trace.input.map((x: ShapeDtype): [string, number[]] => [x.dtype, x.shape.map(Number)]);
  return { input, model };
}

export interface StandInResult {
  code: number;
  /** the harness's JSON report */
  report: { ok?: boolean; error?: string; unchanged?: boolean; arrays?: number; state?: number; set?: number } | undefined;
  out: string;
  err: string;
}

/** Runs test/trax-standin.py: imports `modelPy` with stub trax modules, puts the stand-in in as `model`, runs its main(). */
export function runStandIn(dir: string, modelPy: string, standIn: StandInModel, weights: string, opts: { expectError?: boolean; noState?: boolean; name?: string; input?: string[] } = {}): StandInResult {
  const structure = join(dir, `${opts.name ?? 'standin'}.json`);
  writeFileSync(structure, JSON.stringify(standIn));
  const args = [join(repoRoot, 'test', 'trax-standin.py'), modelPy, structure, weights];
  if (opts.expectError) args.push('--expect-error');
  if (opts.noState) args.push('--no-state');
  for (const sig of opts.input ?? []) args.push('--input', sig);
  const r = spawnSync('python3', args, { encoding: 'utf8' });
  let report: StandInResult['report'];
  try { report = JSON.parse(r.stdout.trim().split('\n').pop() ?? ''); } catch { report = undefined; }
  return { code: r.status ?? -1, report, out: r.stdout, err: r.stderr };
}

/** `python3 -m py_compile FILE`: the file is valid Python. */
export function pyCompile(file: string): { code: number; err: string } {
  const r = spawnSync('python3', ['-m', 'py_compile', file], { encoding: 'utf8' });
  return { code: r.status ?? -1, err: r.stderr };
}
