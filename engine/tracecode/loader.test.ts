/**
 * The Trax loader written beside an exported model: its table follows the
 * weights file's keys in Trax's order, the file compiles, and its
 * load_strata_weights puts every array where it belongs.
 *
 * Trax and JAX cannot be installed here, so the real Trax is not exercised:
 * the generated file runs (python3 + NumPy) against a stand-in that implements
 * Trax's Layer protocol (test/trax-standin.py), built from the trace by
 * Trax's construction rules (test/trax-standin.ts), for the MLP, the CNN, a
 * Residual/Branch model (with BatchNorm state and a shared layer) and the
 * TransformerLM example; every array is checked by value against the file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TensorValue } from '../core/onnx';
import { type ShapeDtype, parseShapeDtype } from '../core/shape';
import { type StrataDocument, parseDocumentText } from '../document/schema';
import { lowerDocument } from '../onnx/lower';
import { initialValue, writeNpz } from '../weights';
import { randomTensor } from '../../test/ort';
import { repoRoot } from '../../test/shared';
import { type StandInLayer, type StandInModel, pyCompile, runStandIn, traxStandIn } from '../../test/trax-standin';
import { LOADER_MARKER, LoaderError, loaderTable, tableKeys, trainedModelCode } from './loader';
import { codeToDocument } from './parse';
import { traceDocument } from '../document/trace';

const dir = mkdtempSync(join(tmpdir(), 'strata-loader-'));
let n = 0;

function example(name: string): StrataDocument {
  return parseDocumentText(readFileSync(join(repoRoot, 'assets', 'examples', `${name}.strata.json`), 'utf8'));
}

interface Built {
  name: string;
  doc: { root: StrataDocument['root']; input: ShapeDtype[] };
  table: ReturnType<typeof loaderTable>;
  /** every key the lowering binds (weights, and state eval mode uses), with distinct random values */
  values: Map<string, TensorValue>;
  weightRefs: string[];
  py: string;
  npz: string;
  standIn: StandInModel;
}

function build(name: string, root: StrataDocument['root'], sig: string): Built {
  const input = [parseShapeDtype(sig)];
  const low = lowerDocument({ root, input }, { weightValue: (r) => initialValue(r, 0) });
  const table = loaderTable(low.trace);
  const values = new Map<string, TensorValue>();
  for (const r of low.weights) if (!values.has(r.key)) values.set(r.key, randomTensor(r.decl, r.key));
  const doc = { root, input };
  const py = join(dir, `${++n}-${name}.py`);
  writeFileSync(py, trainedModelCode(doc, table));
  const npz = join(dir, `${n}-${name}.npz`);
  writeFileSync(npz, writeNpz([...values]));
  return { name, doc, table, values, weightRefs: low.weights.filter((r) => r.role === 'weight').map((r) => r.key), py, npz, standIn: traxStandIn(low.trace) };
}

const small = (doc: StrataDocument, params: Record<string, number>): StrataDocument['root'] => ({ ...doc.root, params: { ...doc.root.params, ...params } });

const models = (): Built[] => [
  build('mlp', example('mlp-mnist').root, 'float32[4,28,28,1]'),
  build('cnn', example('small-cnn').root, 'float32[2,28,28,1]'),
  build('residual', codeToDocument(`shared = tl.Dense(4)
model = tl.Serial(
    tl.Residual(tl.Dense(4), tl.Relu(), shortcut=tl.Dense(4, use_bias=False)),
    tl.BatchNorm(),
    tl.Branch(shared, [tl.Dense(4), tl.Relu()]),
    tl.Add(),
    shared,
    tl.LayerNorm(),
)`).root, 'float32[2,3,3,4]'),
  build('transformer-lm', small(example('transformer-lm'), { vocab_size: 64, d_model: 32, d_ff: 64, n_layers: 2, n_heads: 4, max_len: 16 }), 'int32[2,8]'),
];

const all = models();
const byName = (name: string): Built => all.find((b) => b.name === name)!;

describe('the loader table', () => {
  for (const b of all) {
    it(`${b.name}: places every weight the lowering binds, each once`, () => {
      const keys = tableKeys(b.table);
      expect(new Set(keys.weights).size).toBe(keys.weights.length);
      expect([...keys.weights].sort()).toEqual([...new Set(b.weightRefs)].sort());
      expect(b.table.unplaced).toEqual([]);
      for (const l of b.table.weights) for (const t of l.tensors) expect(b.values.get(`${l.prefix}/${t.name}`)?.dims).toEqual(t.shape);
    });
  }

  it('follows Trax’s order: a Residual’s shortcut before its layers, a shared layer once where Trax first meets it', () => {
    expect(byName('residual').table.weights.map((l) => l.prefix)).toEqual([
      'Serial[0]/Residual[shortcut]/Dense', // Residual = Serial(Branch(shortcut, layer), Add())
      'Serial[0]/Residual[0]/Dense',
      'Serial[1]/BatchNorm',
      'Serial[2]/Branch[0]/Dense', // the shared Dense, first met here
      'Serial[2]/Branch[1]/Serial[0]/Dense',
      'Serial[5]/LayerNorm',
    ]);
    expect(byName('residual').table.state.map((l) => `${l.prefix}: ${l.tensors.map((t) => t.name).join(', ')}`)).toEqual([
      'Serial[1]/BatchNorm: running_mean, running_var, n_batches',
    ]);
  });

  it('walks a model through its expansion, in the order Trax builds TransformerLM', () => {
    const t = byName('transformer-lm').table;
    expect(t.weights.map((l) => l.kind)).toEqual([
      'Embedding', 'PositionalEncoding',
      ...Array(2).fill(['LayerNorm', 'Dense', 'Dense', 'Dense', 'Dense', 'LayerNorm', 'Dense', 'Dense']).flat(),
      'LayerNorm', 'Dense',
    ]);
    // q, k, v, then the output projection (ConfigurableAttention), then the feed-forward pair
    expect(t.weights[3].prefix).toMatch(/ConfigurableAttention\[1\]\/Branch\[0\]/);
    expect(t.weights[6].prefix).toMatch(/ConfigurableAttention\[4\]\/Dense$/);
    expect(t.weights[8].tensors[0].shape).toEqual([32, 64]);
    expect(t.state.every((l) => l.kind === 'Dropout')).toBe(true);
  });

  it('says which keys Trax has no place for: a copy of a shared block (Strata keys it apart)', () => {
    const doc = codeToDocument('b = tl.Serial(tl.Dense(4), tl.Dropout(0.1))\nmodel = tl.Serial(b, tl.Relu(), b)');
    const low = lowerDocument({ root: doc.root, input: [parseShapeDtype('float32[2,4]')] }, { weightValue: (r) => initialValue(r, 0) });
    const t = loaderTable(low.trace);
    expect(t.weights.map((l) => l.prefix)).toEqual(['Serial[0]/Serial[0]/Dense']);
    expect(t.unplaced.map((u) => u.key)).toEqual(['Serial[2]/Serial[0]/Dense/kernel', 'Serial[2]/Serial[0]/Dense/bias', 'Serial[2]/Serial[1]/Dropout/rate']);
    expect(t.unplaced[0].why).toContain("same layer object as the one at 'Serial[0]'");
  });

  it('needs concrete sizes', () => {
    const doc = codeToDocument('tl.Serial(tl.Dense(4))');
    expect(() => loaderTable(traceDocument({ root: doc.root, input: [parseShapeDtype('float32[B,D]')] }))).toThrow(LoaderError);
    expect(() => loaderTable(traceDocument({ root: doc.root, input: [parseShapeDtype('float32[B,3]')] }))).not.toThrow();
  });
});

describe('the generated file', () => {
  for (const b of all) {
    it(`${b.name}: compiles, and loads every array into the stand-in by value`, () => {
      const src = readFileSync(b.py, 'utf8');
      expect(src).toContain(LOADER_MARKER);
      expect(src).toMatch(/^model = /m);
      expect(pyCompile(b.py)).toEqual({ code: 0, err: '' });
      const r = runStandIn(dir, b.py, b.standIn, b.npz, { name: b.name });
      expect(r.code, r.err + r.out).toBe(0);
      expect(r.report?.ok).toBe(true);
      expect(r.report?.arrays).toBe(tableKeys(b.table).weights.length);
      expect(r.out).toContain(`set ${tableKeys(b.table).weights.length + (b.name === 'residual' ? 2 : 0)} arrays`);
    });
  }

  it('main() takes another input signature (--input)', () => {
    const b = byName('mlp');
    const r = runStandIn(dir, b.py, { ...b.standIn, input: [['float32', [3, 28, 28, 1]]] }, b.npz, { name: 'input3', input: ['float32[3,28,28,1]'] });
    expect(r.report, r.err + r.out).toMatchObject({ ok: true });
    // the stand-in's init checks the signature it is given: the default one is refused here
    const d = runStandIn(dir, b.py, { ...b.standIn, input: [['float32', [3, 28, 28, 1]]] }, b.npz, { name: 'input3d' });
    expect(d.code).not.toBe(0);
    expect(d.err).toContain("init got the input signature [('float32', (4, 28, 28, 1))]");
  });

  it('sets the state the file holds (BatchNorm’s running statistics) and keeps the rest (n_batches)', () => {
    const b = byName('residual');
    expect([...b.values.keys()].filter((k) => k.includes('BatchNorm/running'))).toHaveLength(2);
    expect(b.values.has('Serial[1]/BatchNorm/n_batches')).toBe(false);
    const r = runStandIn(dir, b.py, b.standIn, b.npz, { name: 'state' });
    expect(r.report, r.err).toMatchObject({ ok: true, state: 2 });
    const w = runStandIn(dir, b.py, b.standIn, b.npz, { name: 'nostate', noState: true });
    expect(w.report, w.err).toMatchObject({ ok: true, state: 0 });
  });
});

/** A copy of the stand-in with `f` applied to its tree. */
function edited(s: StandInModel, f: (root: Extract<StandInLayer, { sublayers: unknown }>) => void): StandInModel {
  const c = structuredClone(s);
  f(c.model as Extract<StandInLayer, { sublayers: unknown }>);
  return c;
}

type Layer = Extract<StandInLayer, { sublayers: unknown }>;
function find(l: StandInLayer, pred: (l: Layer) => boolean): Layer | undefined {
  if ('ref' in l) return undefined;
  if (pred(l)) return l;
  for (const s of l.sublayers) { const hit = find(s, pred); if (hit) return hit; }
  return undefined;
}

describe('Trax versions', () => {
  it('a table held with extra axes of size 1 (older Trax’s PositionalEncoding, (1, max_len, d)) loads reshaped', () => {
    const b = byName('transformer-lm');
    const s = edited(b.standIn, (root) => {
      const pe = find(root, (l) => l.name === 'PositionalEncoding')!;
      const a = (pe.weights as { array: { shape: number[] } }).array;
      expect(a.shape).toEqual([16, 32]);
      a.shape = [1, 16, 32];
    });
    const r = runStandIn(dir, b.py, s, b.npz, { name: 'pe3' });
    expect(r.report, r.err + r.out).toMatchObject({ ok: true, arrays: tableKeys(b.table).weights.length });
  });
});

describe('the loader refuses what does not fit, and changes nothing', () => {
  const mlp = byName('mlp');
  const expectError = (standIn: StandInModel, npz = mlp.npz, b = mlp, opts: { noState?: boolean } = {}) => {
    const r = runStandIn(dir, b.py, standIn, npz, { expectError: true, name: 'err', ...opts });
    expect(r.code, r.err + r.out).toBe(0);
    expect(r.report?.unchanged).toBe(true);
    return r.report!.error!;
  };

  it('a shape that differs names the Strata key and the Trax layer', () => {
    const s = edited(mlp.standIn, (root) => {
      const dense = find(root, (l) => l.name === 'Dense' && JSON.stringify(l.weights).includes('Serial[4]/Dense/kernel'))!;
      (dense.weights as { tuple: { array: { shape: number[] } }[] }).tuple[0].array.shape = [512, 256];
    });
    const msg = expectError(s);
    expect(msg).toContain("Strata's Dense 'Serial[4]/Dense' (weights (512, 512), (512,))");
    expect(msg).toContain("Trax's StandInLayer 'Dense' at model.sublayers[4]"); // Trax: its class and name (Dense 'Dense_256')
    expect(msg).toContain('(weights (512, 256), (512,))');
  });

  it('a Trax model with another layer with weights', () => {
    const s = edited(mlp.standIn, (root) => {
      root.sublayers.push({ id: 'extra', name: 'Dense', sublayers: [], weights: { array: { shape: [10, 10], dtype: 'float32', key: 'x' } } });
    });
    expect(expectError(s)).toMatch(/the Trax model has 4 layers with weights, Strata's model 3: Trax's StandInLayer 'Dense' at model\.sublayers\[\d+\] \(\(10, 10\)\) has no Strata counterpart/);
  });

  it('a Trax model with a layer fewer', () => {
    const s = edited(mlp.standIn, (root) => { root.sublayers.splice(root.sublayers.length - 2, 1); });
    expect(expectError(s)).toMatch(/Trax model has 2 layers with weights, Strata's model 3: Strata's Dense 'Serial\[6\]\/Dense' \(\(512, 10\), \(10,\)\) has no Trax counterpart/);
  });

  it('a weights file without a key, or with a key the model does not have', () => {
    const missing = join(dir, 'missing.npz');
    writeFileSync(missing, writeNpz([...mlp.values].filter(([k]) => k !== 'Serial[6]/Dense/bias')));
    expect(expectError(mlp.standIn, missing)).toMatch(/no 'Serial\[6\]\/Dense\/bias', which StandInLayer 'Dense' at model\.sublayers\[6\] needs \(10,\)/);
    const extra = join(dir, 'extra.npz');
    writeFileSync(extra, writeNpz([...mlp.values, ['Serial[9]/Dense/kernel', mlp.values.get('Serial[6]/Dense/bias')!]]));
    expect(expectError(mlp.standIn, extra)).toContain("keys this model does not have: ['Serial[9]/Dense/kernel']");
  });

  it('state that does not line up is refused, unless loading the weights alone', () => {
    const b = byName('residual');
    const s = edited(b.standIn, (root) => {
      const bn = find(root, (l) => l.name === 'BatchNorm')!;
      (bn.state as { tuple: { array: { shape: number[] } }[] }).tuple[0].array.shape = [1, 1, 1, 5];
    });
    expect(expectError(s, b.npz, b)).toMatch(/Strata's BatchNorm 'Serial\[1\]\/BatchNorm' \(state \(1, 1, 1, 4\), \(1, 1, 1, 4\), \(\)\) does not fit .*state=False/);
    const r = runStandIn(dir, b.py, edited(b.standIn, () => {}), b.npz, { noState: true, name: 'nostate2' });
    expect(r.report, r.err).toMatchObject({ ok: true });
  });
});
