import { describe, expect, it } from 'vitest';
import { parseShapeDtype } from '../core/shape';
import { DocumentError, parseDocumentText, serializeDocument } from './schema';
import { traceDocument, traceNode } from './trace';
import { summaryRows } from './summary';
import type { DocNode } from './schema';

const sig = (s: string) => parseShapeDtype(s);

describe('loading documents', () => {
  it('reads a document and writes it back', () => {
    const text = JSON.stringify({
      format: 'strata', version: 1, name: 'mlp', input: [{ dtype: 'float32', shape: ['B', 784] }],
      root: { id: 'a', kind: 'Serial', children: [{ id: 'b', kind: 'Dense', params: { n_units: 10 } }] },
    });
    const doc = parseDocumentText(text);
    expect(doc.input).toEqual([sig('float32[B,784]')]);
    expect(JSON.parse(serializeDocument(doc))).toEqual(JSON.parse(text));
  });

  it('keeps an unknown kind as a placeholder, saved back unchanged', () => {
    const node = { id: 'x', kind: 'QuantumLayer', params: { qubits: 7, spooky: { deep: [1, 2] } }, children: [{ id: 'y', kind: 'Relu' }] };
    const doc = parseDocumentText(JSON.stringify({ format: 'strata', version: 1, input: [{ dtype: 'float32', shape: [2] }], root: { id: 'r', kind: 'Serial', children: [node] } }));
    const t = traceDocument(doc);
    expect(t.errors[0]).toMatchObject({ code: 'unknown_kind', path: 'Serial[0]', kind: 'QuantumLayer', nodeId: 'x' });
    expect(JSON.parse(serializeDocument(doc)).root.children[0]).toEqual(node);
  });

  it('keeps fields a newer writer added', () => {
    const doc = parseDocumentText(JSON.stringify({ format: 'strata', version: 1, input: [], root: { id: 'r', kind: 'Relu', color: 'red' }, layout: { zoom: 2 } }));
    const back = JSON.parse(serializeDocument(doc));
    expect(back.layout).toEqual({ zoom: 2 });
    expect(back.root.color).toBe('red');
  });

  it('gives clear errors for malformed files', () => {
    const bad: [string, RegExp][] = [
      ['nope', /not valid JSON/],
      ['[]', /must be a JSON object/],
      ['{"format":"onnx","root":{"kind":"Relu"}}', /format is "onnx"/],
      ['{"version":99,"root":{"kind":"Relu"}}', /newer than this Strata/],
      ['{"input":[]}', /no root node/],
      ['{"root":{"kind":"Serial","children":{}}}', /children must be an array/],
      ['{"root":{"params":{}}}', /needs a "kind"/],
      ['{"input":[{"dtype":"float99","shape":[1]}],"root":{"kind":"Relu"}}', /unknown dtype/],
      ['{"input":[{"dtype":"float32","shape":[-1]}],"root":{"kind":"Relu"}}', /non-negative integer or a symbol/],
    ];
    for (const [text, re] of bad) {
      expect(() => parseDocumentText(text), text).toThrow(DocumentError);
      expect(() => parseDocumentText(text), text).toThrow(re);
    }
  });

  it('repairs duplicate or missing ids', () => {
    const doc = parseDocumentText('{"root":{"id":"a","kind":"Serial","children":[{"id":"a","kind":"Relu"},{"kind":"Relu"}]}}');
    const ids = [doc.root.id, ...doc.root.children!.map((c) => c.id)];
    expect(new Set(ids).size).toBe(3);
  });
});

describe('the stack trace', () => {
  const mlp: DocNode = {
    id: 'r', kind: 'Serial', children: [
      { id: 'd1', kind: 'Dense', params: { n_units: 16 } },
      { id: 'a', kind: 'Relu' },
      { id: 'd2', kind: 'Dense', params: { n_units: 10 } },
    ],
  };

  it('gives the stack on every edge', () => {
    const t = traceDocument({ root: mlp, input: [sig('float32[B,8]')] });
    expect(t.root.stacks).toEqual([[sig('float32[B,8]')], [sig('float32[B,16]')], [sig('float32[B,16]')], [sig('float32[B,10]')]]);
    expect(summaryRows(t).map((r) => r.path)).toEqual(['', 'Serial[0]', 'Serial[1]', 'Serial[2]']);
  });

  it('marks the failing node and leaves the stack after it unknown', () => {
    const root: DocNode = { ...mlp, children: [mlp.children![0], { id: 'bad', kind: 'Concatenate', params: { axis: 3 } }, ...mlp.children!.slice(1)] };
    const t = traceDocument({ root, input: [sig('float32[B,8]'), sig('float32[B,8]')] });
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toMatchObject({ path: 'Serial[1]', kind: 'Concatenate', code: 'rank' });
    expect(t.errors[0].message).toMatch(/^Serial\[1\] > Concatenate: /);
    expect(t.errors[0].stack).toEqual([sig('float32[B,16]'), sig('float32[B,8]')]);
    expect(t.root.stacks![2]).toBeNull();
    expect(t.root.children[2].inputs).toBeNull();
    expect(t.output).toBeNull();
  });

  it('reports a model with too few inputs', () => {
    const t = traceDocument({ root: { id: 'a', kind: 'Add' }, input: [sig('float32[2]')] });
    expect(t.errors[0]).toMatchObject({ code: 'stack_underflow', path: '' });
    expect(t.errors[0].message).toContain('takes 2 inputs');
  });

  it('counts shared weights once and checks the reference', () => {
    const shared: DocNode = {
      id: 'r', kind: 'Serial', children: [
        { id: 'e1', kind: 'Dense', params: { n_units: 4 } },
        { id: 'e2', kind: 'Dense', params: { n_units: 4 }, shareWeightsOf: 'e1' },
      ],
    };
    const t = traceDocument({ root: shared, input: [sig('float32[B,4]')] });
    expect(t.errors).toEqual([]);
    expect(t.params).toBe(20);
    const wrong = traceDocument({ root: shared, input: [sig('float32[B,3]')] });
    expect(wrong.errors[0]).toMatchObject({ code: 'bad_reference', nodeId: 'e2' });
    const dangling = traceDocument({ root: { ...shared, children: [shared.children![0], { ...shared.children![1], shareWeightsOf: 'zz' }] }, input: [sig('float32[B,4]')] });
    expect(dangling.errors[0].message).toContain("'zz', which is not in the model");
  });

  it('reuses traces of unchanged subtrees (memo by identity and input)', () => {
    const input = [sig('float32[B,8]')];
    const t1 = traceDocument({ root: mlp, input });
    const edited: DocNode = { ...mlp, children: [mlp.children![0], mlp.children![1], { ...mlp.children![2], params: { n_units: 3 } }] };
    const t2 = traceDocument({ root: edited, input });
    expect(t2.root.children[0]).toBe(t1.root.children[0]);
    expect(t2.root.children[2]).not.toBe(t1.root.children[2]);
    expect(t2.output).toEqual([sig('float32[B,3]')]);
    expect(traceNode(mlp.children![0], [sig('float32[B,8]')])).toBe(t1.root.children[0]);
  });

  it('never throws on nonsense parameters', () => {
    const junk: DocNode = { id: 'r', kind: 'Serial', children: [
      { id: 'a', kind: 'Dense', params: { n_units: 'many' as unknown as number } },
      { id: 'b', kind: 'Select', params: { indices: 'x' as unknown as number } },
      { id: 'c', kind: 'Scan' },
      { id: 'd', kind: 'Conv', params: { filters: 2, kernel_size: [3, 3], padding: 'ROUND' } },
    ] };
    const t = traceDocument({ root: junk, input: [sig('float32[2,3]')] });
    expect(t.errors.length).toBeGreaterThan(0);
    for (const e of t.errors) expect(e.message).toBeTypeOf('string');
  });
});

describe('a bad required parameter', () => {
  it('keeps the stacks before the node known', () => {
    const root: DocNode = { id: 'r', kind: 'Serial', children: [
      { id: 'a', kind: 'Dense', params: { n_units: 8 } },
      { id: 'b', kind: 'Dense', params: { n_units: 0 } },
      { id: 'c', kind: 'Relu' },
    ] };
    const t = traceDocument({ root, input: [parseShapeDtype('float32[B,4]')] });
    expect(t.errors[0]).toMatchObject({ code: 'bad_param', nodeId: 'b', param: 'n_units' });
    expect(t.root.stacks![1]).toEqual([parseShapeDtype('float32[B,8]')]);
    expect(t.root.stacks![2]).toBeNull();
  });
});
