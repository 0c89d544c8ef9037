/**
 * The golden text form of a lowered model: one ONNX node a line, functions
 * and subgraphs indented, initializers as shapes only. A change to lowering
 * shows as a readable diff of the checked-in golden files.
 */
import type { Attr, Graph, Model, OnnxNode, TensorValue } from '../core/onnx';

function tensorText(t: TensorValue): string {
  const n = t.data.length;
  const vals = n <= 8 ? Array.from(t.data as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : Number.isInteger(x) ? String(x) : Number(x).toPrecision(6).replace(/\.?0+$/, ''))).join(',') : `…${n}`;
  return `${t.dtype}[${t.dims.join(',')}]{${vals}}`;
}

function attrText(a: Attr): string {
  if ('int' in a) return String(a.int);
  if ('float' in a) return String(a.float);
  if ('ints' in a) return `[${a.ints.join(',')}]`;
  if ('floats' in a) return `[${a.floats.join(',')}]`;
  if ('string' in a) return JSON.stringify(a.string);
  if ('tensor' in a) return tensorText(a.tensor);
  return `<graph ${a.graph.name}>`;
}

function nodeLines(n: OnnxNode, indent: string): string[] {
  const attrs = Object.entries(n.attrs ?? {}).filter(([, a]) => !('graph' in a));
  const head = `${indent}${n.outputs.join(', ')} = ${n.domain ? `${n.domain}.` : ''}${n.op}(${n.inputs.join(', ')})${attrs.length ? ` {${attrs.map(([k, a]) => `${k}=${attrText(a)}`).join(', ')}}` : ''}`;
  const out = [head];
  for (const [k, a] of Object.entries(n.attrs ?? {})) {
    if ('graph' in a) out.push(`${indent}  ${k}:`, ...graphLines(a.graph, `${indent}    `));
  }
  return out;
}

function graphLines(g: Graph, indent: string): string[] {
  const sig = (vs: Graph['inputs']) => vs.map((v) => `${v.name}: ${v.dtype}[${v.shape.join(',')}]`).join(', ');
  return [
    `${indent}graph ${g.name} (${sig(g.inputs)}) -> (${sig(g.outputs)})`,
    ...g.initializers.map((i) => `${indent}  init ${i.name}: ${i.value.dtype}[${i.value.dims.join(',')}]`),
    ...g.nodes.flatMap((n) => nodeLines(n, `${indent}  `)),
  ];
}

export function modelText(m: Model): string {
  const lines = graphLines(m.graph, '');
  for (const f of m.functions) {
    lines.push('', `function ${f.domain}.${f.name} (${f.inputs.join(', ')}) -> (${f.outputs.join(', ')})${f.doc ? `  # ${f.doc}` : ''}`);
    for (const n of f.nodes) lines.push(...nodeLines(n, '  '));
  }
  return lines.join('\n') + '\n';
}
