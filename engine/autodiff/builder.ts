/**
 * Appends nodes to a graph while keeping every value's static type: each
 * node is shape-inferred as it is emitted, so a rule can ask for the shape
 * of anything it made, and constants are shared by value.
 */
import type { Attr, ElemType, OnnxNode, TensorValue } from '../core/onnx';
import { tensorFromValues } from '../weights/init';
import { type GraphOp, Shapes, numel } from './shapes';

/** Names in use in a graph: fresh ones get a numeric suffix. */
export class Names {
  private readonly used = new Set<string>();
  constructor(names: Iterable<string> = []) {
    for (const n of names) this.used.add(n);
  }
  has(name: string): boolean {
    return this.used.has(name);
  }
  add(name: string): void {
    this.used.add(name);
  }
  all(): string[] {
    return [...this.used];
  }
  fresh(prefix: string): string {
    let name = prefix;
    for (let i = 1; this.used.has(name); i++) name = `${prefix}_${i}`;
    this.used.add(name);
    return name;
  }
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  /** the prefix of the next nodes' names (`<forward node>_grad`) */
  prefix = '';
  private readonly consts = new Map<string, string>();

  constructor(readonly shapes: Shapes, readonly names: Names) {}

  /** a node; its outputs get fresh names `<prefix>/<op>` unless `named` gives them (already reserved) */
  op(op: GraphOp, inputs: string[], attrs?: Record<string, Attr>, nOut = 1, named?: string[]): string[] {
    const base = `${this.prefix ? `${this.prefix}/` : ''}${op}`;
    const outputs = named ?? Array.from({ length: nOut }, (_, i) => this.names.fresh(nOut > 1 ? `${base}.${i}` : base));
    const node: OnnxNode = { op, inputs, outputs, name: outputs[0] };
    if (attrs && Object.keys(attrs).length) node.attrs = attrs;
    this.shapes.infer(node);
    this.nodes.push(node);
    return outputs;
  }
  op1(op: GraphOp, inputs: string[], attrs?: Record<string, Attr>, named?: string): string {
    return this.op(op, inputs, attrs, 1, named ? [named] : undefined)[0];
  }

  /** a constant tensor, shared with every equal one this builder made */
  constant(value: TensorValue): string {
    const key = `${value.dtype}:${value.dims.join(',')}:${Array.from(value.data as ArrayLike<number | bigint>, String).join(',')}`;
    const hit = this.consts.get(key);
    if (hit) return hit;
    const name = this.names.fresh(`${this.prefix ? `${this.prefix}/` : ''}const`);
    const node: OnnxNode = { op: 'Constant', inputs: [], outputs: [name], name, attrs: { value: { tensor: value } } };
    this.shapes.infer(node);
    this.nodes.push(node);
    this.consts.set(key, name);
    return name;
  }
  /** a tensor of `dtype` (floats rounded to it) */
  tensor(dtype: ElemType, values: readonly number[], dims: readonly number[]): string {
    return this.constant(tensorFromValues(values, dims, dtype));
  }
  scalar(x: number, dtype: ElemType): string {
    return this.tensor(dtype, [x], []);
  }
  i64(values: number | readonly number[]): string {
    return typeof values === 'number' ? this.tensor('int64', [values], []) : this.tensor('int64', values, [values.length]);
  }
  /** zeros of a static shape (a scalar expanded: WebGPU runs Expand, and onnxruntime folds it when it can) */
  zeros(shape: readonly number[], dtype: ElemType): string {
    if (numel(shape) === 1) return this.tensor(dtype, [0], shape);
    return this.op1('Expand', [this.scalar(0, dtype), this.i64(shape)]);
  }
  reshape(v: string, shape: readonly number[]): string {
    const s = this.shapes.shape(v);
    if (s.length === shape.length && s.every((d, i) => d === shape[i])) return v;
    return this.op1('Reshape', [v, this.i64(shape)]);
  }
  transpose(v: string, perm: readonly number[]): string {
    if (perm.every((p, i) => p === i)) return v;
    return this.op1('Transpose', [v], { perm: { ints: [...perm] } });
  }

  /**
   * `g` (of a broadcast result's shape) summed back to `shape`: over the
   * leading axes it gained and over the axes where `shape` has 1 and `g`
   * does not — the one place every broadcasting rule reduces through.
   */
  unbroadcast(g: string, shape: readonly number[]): string {
    const gs = this.shapes.shape(g);
    const lead = gs.length - shape.length;
    const axes: number[] = [];
    for (let i = 0; i < gs.length; i++) if (i < lead || (shape[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
    const summed = axes.length ? this.op1('ReduceSum', [g, this.i64(axes)], { keepdims: { int: 1 } }) : g;
    return this.reshape(summed, shape);
  }
}
