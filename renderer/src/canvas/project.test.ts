/** The canvas projection without a browser: nodes, chips, colours, errors, collapse, memoisation, layout graph. */
import { describe, expect, it } from 'vitest';
import { parseDocumentText, type StrataDocument } from '../../../engine/document/schema';
import { traceDocument } from '../../../engine/document/trace';
import { codeToDocument } from '../../../engine/tracecode/parse';
import { applyEdit } from '../state/edits';
import { boxLayout, countNodes } from './boxLayout';
import { type ElkInput, type LayerData, type ProjNode, type Projection, type StackData, formatCount, paramsDetail, projectDocument } from './project';

import lstmTagger from '../../../assets/examples/lstm-tagger.strata.json?raw';
import mlpMnist from '../../../assets/examples/mlp-mnist.strata.json?raw';
import transformerLm from '../../../assets/examples/transformer-lm.strata.json?raw';

const EXAMPLES: Record<string, string> = { 'lstm-tagger': lstmTagger, 'mlp-mnist': mlpMnist, 'transformer-lm': transformerLm };
const example = (name: string): StrataDocument => parseDocumentText(EXAMPLES[name]);
const project = (doc: StrataDocument, local?: ReadonlyMap<string, boolean>): Projection =>
  projectDocument(doc, traceDocument(doc), { localCollapsed: local });

const layers = (p: Projection): LayerData[] =>
  p.nodes.filter((n): n is Extract<ProjNode, { type: 'layer' | 'box' }> => n.type === 'layer' || n.type === 'box').map((n) => n.data);
const stack = (p: Projection, id: string): StackData => {
  const n = p.nodes.find((x) => x.id === id);
  if (!n || n.type !== 'stack') throw new Error(`no stack row ${id}`);
  return n.data;
};
const texts = (d: StackData): string[] | null => d.chips?.map((c) => c.text) ?? null;
const colours = (d: StackData): number[] | null => d.chips?.map((c) => c.colour) ?? null;

describe('the canvas projection', () => {
  it('draws the MLP as a column with the stack on every edge', () => {
    const p = project(example('mlp-mnist'));
    expect(layers(p).map((d) => `${d.path}:${d.kind}`)).toEqual([
      ':Serial', '0:Flatten', '1:Dense', '2:Relu', '3:Dropout', '4:Dense', '5:Relu', '6:Dense', '7:LogSoftmax',
    ]);
    expect(texts(stack(p, 'stack:input'))).toEqual(['float32[B,28,28,1]']);
    expect(texts(stack(p, 's:n1:0'))).toEqual(['float32[B,784]']);
    expect(texts(stack(p, 's:n1:1'))).toEqual(['float32[B,512]']);
    expect(texts(stack(p, 's:n1:6'))).toEqual(['float32[B,10]']);
    expect(texts(stack(p, 'stack:output'))).toEqual(['float32[B,10]']);
    // no row after the last child inside the container: the output row below it says it
    expect(p.nodes.some((n) => n.id === 's:n1:7')).toBe(false);
    // one stream: one colour
    expect(new Set(p.nodes.flatMap((n) => (n.type === 'stack' ? colours(n.data) ?? [] : [])))).toEqual(new Set([0]));
    // the probe path of an edge is the location of the layer before it
    expect(stack(p, 's:n1:1').probe).toBe('Serial[1]');
    expect(stack(p, 'stack:output').probe).toBe('');
    const dense = layers(p).find((d) => d.id === 'n3')!;
    expect(dense).toMatchObject({ detail: 'n_units=512', params: '402K', arity: '1 → 1', doc: true, group: false, error: null, unknown: false });
    expect(layers(p)[0]).toMatchObject({ group: true, collapsible: true, collapsed: false, params: '670K' });
  });

  it('puts parents before children, and every node in the layout graph with its size', () => {
    const p = project(example('transformer-lm'));
    const seen = new Set<string>();
    for (const n of p.nodes) {
      if (n.parentId) expect(seen.has(n.parentId), n.id).toBe(true);
      seen.add(n.id);
    }
    const elkIds = new Map<string, string | null>();
    const walk = (g: ElkInput, parent: string | null): void => {
      for (const c of g.children ?? []) { elkIds.set(c.id, parent); walk(c, c.id); }
    };
    walk(p.elk, null);
    for (const n of p.nodes) {
      expect(elkIds.has(n.id), n.id).toBe(true);
      expect(elkIds.get(n.id) ?? undefined, n.id).toBe(n.parentId);
    }
    for (const e of p.edges) expect(seen.has(e.source) && seen.has(e.target), e.id).toBe(true);
    expect(new Set(p.nodes.map((n) => n.id)).size).toBe(p.nodes.length);
  });

  it('shows a macro expanded with its expansion children, nested macros collapsed until expanded', () => {
    const doc = example('transformer-lm');
    const p = project(doc);
    const ls = layers(p);
    expect(ls[0]).toMatchObject({ kind: 'TransformerLM', path: '', group: true, doc: true, params: '52.8M' });
    expect(ls.slice(1, 6).map((d) => `${d.path}:${d.kind}`)).toEqual(['0:ShiftRight', '1:Embedding', '2:Dropout', '3:PositionalEncoding', '4:Residual']);
    const attn = ls.find((d) => d.path === '4.1')!;
    expect(attn).toMatchObject({ kind: 'CausalAttention', collapsed: true, group: false, doc: false, owner: 'n1', arity: '1 → 1' });
    expect(ls.some((d) => d.path.startsWith('4.1.'))).toBe(false);
    // expanding it locally (it is not a document node) shows its expansion, paths continuing
    const open = project(doc, new Map([[attn.id, false]]));
    expect(layers(open).filter((d) => d.path.startsWith('4.1.')).map((d) => `${d.path}:${d.kind}:${d.collapsed}`))
      .toEqual(['4.1.0:AssertShape:false', '4.1.1:ConfigurableAttention:true']);
    // collapsing a document node: one box with n_in → n_out and parameters
    const c = project(applyEdit(doc, { type: 'setCollapsed', id: 'n1', collapsed: true }));
    expect(layers(c)).toHaveLength(1);
    expect(layers(c)[0]).toMatchObject({ kind: 'TransformerLM', collapsed: true, group: false, arity: '1 → 1', params: '52.8M' });
  });

  it('names layer arguments in paths and draws lanes side by side', () => {
    const p = project(example('lstm-tagger'));
    const ls = layers(p);
    expect(ls.find((d) => d.path === '1.1.layer')).toMatchObject({ kind: 'LSTMCell', slot: 'layer' });
    expect(ls.find((d) => d.path === '1.0')).toMatchObject({ kind: 'Branch', lanes: true });
  });

  it('keeps a tensor\'s colour through Branch, Swap and Select', () => {
    const p = project(codeToDocument(
      '# input: float32[B,16]\ntl.Serial(tl.Branch(tl.Dense(8), None), tl.Swap(), tl.Select([1, 0, 1]), tl.Drop(), tl.Add())',
    ));
    const x = colours(stack(p, 'stack:input'))![0];
    // after the Branch: the Dense's new tensor on top, x passed through below it
    const branch = stack(p, 's:n1:0');
    expect(texts(branch)).toEqual(['float32[B,8]', 'float32[B,16]']);
    const [d, x2] = colours(branch)!;
    expect(x2).toBe(x);
    expect(d).not.toBe(x);
    // the lanes' own outputs
    expect(colours(stack(p, 's:n2:1'))).toEqual([x]);
    expect(colours(stack(p, 's:n2:0'))).toEqual([d]);
    // Swap exchanges them, Select copies them
    expect(colours(stack(p, 's:n1:1'))).toEqual([x, d]);
    expect(colours(stack(p, 's:n1:2'))).toEqual([d, x, d]);
    expect(colours(stack(p, 's:n1:3'))).toEqual([x, d]);
  });

  it('gives a Residual\'s inner path a colour of its own while the input waits in the shortcut', () => {
    const p = project(codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Residual(tl.LayerNorm(), tl.Relu()), tl.Relu())'));
    const x = colours(stack(p, 'stack:input'))![0];
    expect(colours(stack(p, 's:n2:0'))![0]).not.toBe(x);
    expect(colours(stack(p, 's:n1:0'))).toEqual([x]);
    expect(layers(p).find((d) => d.kind === 'Residual')).toMatchObject({ shortcut: true, group: true });
  });

  it('marks the failing node and leaves everything after it unknown', () => {
    const p = project(codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Dense(64), tl.Branch(tl.Dense(32), None), tl.Add(), tl.Relu(), tl.Dense(10))'));
    const add = layers(p).find((d) => d.kind === 'Add')!;
    expect(add.error?.code).toBe('shape_mismatch');
    expect(add.error?.message).toMatch(/broadcast|shape/);
    expect(add.unknown).toBe(false);
    const relu = layers(p).find((d) => d.kind === 'Relu')!;
    expect(relu).toMatchObject({ unknown: true, error: null });
    expect(stack(p, 's:n1:2').chips).toBeNull();
    expect(stack(p, 'stack:output').chips).toBeNull();
    expect(texts(stack(p, 's:n1:1'))).toEqual(['float32[B,32]', 'float32[B,64]']);
    expect(layers(p)[0].error).toBeNull();
  });

  it('offers empty combinators and required layer arguments as drop places', () => {
    const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Serial(), tl.Relu())');
    const scan = applyEdit(doc, { type: 'insert', place: { parent: 'n1', children: 2 }, node: { id: 's', kind: 'Scan' } });
    const p = project(scan);
    const empties = p.nodes.filter((n) => n.type === 'empty').map((n) => n.type === 'empty' && [n.id, n.data.place]);
    expect(empties).toEqual([
      ['e:n2', { parent: 'n2', children: 0 }],
      ['e:s:layer', { parent: 's', slot: 'layer' }],
    ]);
    expect(p.containers.get('n1')).toMatchObject({ docId: 'n1', lanes: false, children: ['n2', 'n3', 's'] });
    expect(p.containers.get('s')).toMatchObject({ docId: 's', slots: [{ name: 'layer', id: 'e:s:layer' }] });
    // a macro's expansion is drawn but not editable
    const lstm = project(example('lstm-tagger'));
    expect(lstm.containers.get('n3')?.docId).toBeNull();
    expect(lstm.containers.get('n1')?.docId).toBe('n1');
  });

  it('keeps node objects of unchanged subtrees (memoised per trace node)', () => {
    const doc = codeToDocument('# input: float32[B,16]\ntl.Serial(tl.Residual(tl.LayerNorm(), tl.Dense(16)), tl.Dense(8), tl.Relu())');
    const a = project(doc);
    const b = project(doc);
    expect(b.nodes).toEqual(a.nodes);
    b.nodes.forEach((n, i) => expect(n).toBe(a.nodes[i]));
    expect(b.elk).toBe(a.elk);
    const edited = applyEdit(doc, { type: 'setParam', id: 'n5', name: 'n_units', value: 9 });
    const c = project(edited);
    const byId = new Map(c.nodes.map((n) => [n.id, n]));
    // the Residual's subtree is untouched: the same objects
    for (const id of ['n2', 'n3', 'n4', 's:n2:0']) expect(byId.get(id), id).toBe(a.nodes.find((n) => n.id === id));
    expect(byId.get('n5')).not.toBe(a.nodes.find((n) => n.id === 'n5'));
    expect(texts(stack(c, 'stack:output'))).toEqual(['float32[B,9]']);
    // nothing drawn changed size: the same layout graph (no new layout); wider chips: a new one
    expect(c.elk).toBe(a.elk);
    const wide = project(applyEdit(doc, { type: 'setParam', id: 'n5', name: 'n_units', value: 4096 }));
    expect(wide.elk).not.toBe(a.elk);
    expect(wide.elk.children![1].children!.find((k) => k.id === 'n2')).toBe(a.elk.children![1].children!.find((k) => k.id === 'n2'));
  });

  it('projects and lays out a 2,000-layer document quickly', () => {
    const children = Array.from({ length: 2000 }, (_, i) => (i % 2 ? { id: `r${i}`, kind: 'Relu' } : { id: `d${i}`, kind: 'Dense', params: { n_units: 64 } }));
    const doc = { format: 'strata' as const, version: 1, input: [{ dtype: 'float32' as const, shape: ['B', 64] }], root: { id: 'root', kind: 'Serial', children } };
    const t0 = performance.now();
    const p = project(doc);
    const projected = performance.now() - t0;
    expect(layers(p)).toHaveLength(2001);
    expect(countNodes(p.elk)).toBeGreaterThan(4000);
    const t1 = performance.now();
    const placed = boxLayout(structuredClone(p.elk));
    const laid = performance.now() - t1;
    expect(placed.children![1].height).toBeGreaterThan(2000 * 46);
    expect(projected).toBeLessThan(2000);
    expect(laid).toBeLessThan(2000);
  });
});

describe('every kind of the catalog', () => {
  it('projects on its own, empty, with starting values, and inside a Serial', async () => {
    const { allKinds } = await import('../../../engine/layers/registry');
    const { starterParams } = await import('./starters');
    for (const def of allKinds()) {
      for (const params of [undefined, starterParams(def)]) {
        const node = { id: 'x', kind: def.kind, ...(params && Object.keys(params).length ? { params } : {}) };
        for (const root of [node, { id: 'r', kind: 'Serial', children: [node, { id: 'y', kind: 'Relu' }] }]) {
          const doc = { format: 'strata' as const, version: 1, input: [{ dtype: 'float32' as const, shape: ['B', 8, 8] }], root };
          const p = project(doc);
          expect(layers(p).length, def.kind).toBeGreaterThan(0);
          for (const n of p.nodes) if (n.type === 'stack') for (const c of n.data.chips ?? []) expect(c.colour, def.kind).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });
});

describe('formatting', () => {
  it('counts parameters briefly', () => {
    expect([0, 330, 5130, 10000, 669706, 1050624, 52763904, 2e9, 'B*64'].map(formatCount)).toEqual(['', '330', '5,130', '10K', '670K', '1.05M', '52.8M', '2B', 'B*64']);
  });
  it('shows the key parameters', () => {
    expect(paramsDetail({ n_units: 512 })).toBe('n_units=512');
    expect(paramsDetail({ filters: 32, kernel_size: [3, 3], padding: 'SAME', mode: 'train', name: null })).toBe('filters=32 · kernel_size=(3,3) · padding=SAME');
    expect(paramsDetail({ mode: 'eval', use_bias: false })).toBe('mode=eval · use_bias=False');
    expect(paramsDetail({ a: 'x'.repeat(60) }).length).toBeLessThanOrEqual(46);
  });
});
