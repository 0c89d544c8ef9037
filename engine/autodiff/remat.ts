/**
 * Rematerialization as a function VJP (Trax's reversible layers recompute
 * instead of storing): the backward pass of a call of a `Remat` function
 * recomputes the function's body from the call's inputs and differentiates
 * that copy, with the call's output gradients as seeds. The forward pass's
 * activations inside the body are then used by nothing after it, so
 * onnxruntime frees them once the call's outputs exist; what the backward
 * pass keeps is the call's inputs.
 *
 * The recomputation takes its inputs through `Where(c, x, x)` with a
 * condition read from the output gradient: the copy then depends on the
 * backward pass (it runs there, not next to the forward body, whose values
 * would have to live until then), and no optimiser can merge it with the
 * forward body as a common subexpression.
 */
import type { Model, OnnxNode, ValueInfo } from '../core/onnx';
import { addGradients, registerFunctionVjp } from './grad';
import type { VjpRule } from './rules';
import { AutodiffError, isFloatType } from './shapes';

/** The name lowerings give functions this VJP recomputes (Emitter.fn(..., { keep: true })). */
export const REMAT = 'Remat';

export const rematVjp: VjpRule = {
  vjp(c) {
    const f = c.fn;
    const call = c.node;
    if (!f) throw new AutodiffError(`${call.op}: the remat VJP needs the called function's definition`);
    const inner = f.nodes.find((n) => n.domain);
    if (inner) throw new AutodiffError(`${call.op}: a Remat body must be plain ops (it calls ${inner.domain}.${inner.op}: lower with functions inlined)`);
    const taken = new Set([...f.inputs, ...f.nodes.flatMap((n) => n.outputs)]);
    const fresh = (base: string): string => { let s = base; for (let i = 1; taken.has(s); i++) s = `${base}_${i}`; taken.add(s); return s; };

    // the body as a model: its inputs typed as the call's arguments, loss = Σ_j <output_j, seed_j>
    const inputs: ValueInfo[] = f.inputs.map((p, i) => ({ name: p, dtype: c.dtype(call.inputs[i]), shape: [...c.shape(call.inputs[i])] }));
    const seeded = f.outputs.map((o, j) => ({ o, j })).filter(({ j }) => isFloatType(c.dtype(call.outputs[j])) && c.hasGO(j));
    const seeds = seeded.map(({ j }) => ({ name: fresh(`seed${j}`), dtype: c.dtype(call.outputs[j]), shape: [...c.shape(call.outputs[j])] }));
    const nodes: OnnxNode[] = [...f.nodes];
    let loss: string | undefined;
    seeded.forEach(({ o }, k) => {
      const prod = fresh(`${o}*seed`), sum = fresh(`${o}*seed/sum`);
      nodes.push({ op: 'Mul', inputs: [o, seeds[k].name], outputs: [prod] });
      nodes.push({ op: 'ReduceSum', inputs: [prod], outputs: [sum], attrs: { keepdims: { int: 0 } } });
      if (loss === undefined) loss = sum;
      else { const l = fresh('loss'); nodes.push({ op: 'Add', inputs: [loss, sum], outputs: [l] }); loss = l; }
    });
    if (loss === undefined) return call.inputs.map(() => undefined);
    const wrt = f.inputs.filter((p, i) => c.needGI(i) && isFloatType(inputs[i].dtype));
    const sub: Model = {
      graph: { name: f.name, inputs: [...inputs, ...seeds], outputs: [{ name: loss, dtype: seeds[0].dtype, shape: [] }], nodes, initializers: [] },
      functions: [], producer: 'strata', metadata: {},
    };
    const { model: gm, grads } = addGradients(sub, { loss, wrt, outputs: false });

    // splice the recomputation and its backward into the graph: formals -> the call's arguments (the
    // activations through a Where that waits for the output gradient), seeds -> the output gradients
    const b = c.b;
    const g0 = c.GO(seeded[0].j);
    const first = b.op1('Slice', [b.op1('Reshape', [g0, b.tensor('int64', [-1], [1])]), b.tensor('int64', [0], [1]), b.tensor('int64', [1], [1])]);
    const ready = b.op1('Equal', [first, first]);
    const map = new Map<string, string>();
    f.inputs.forEach((p, i) => {
      const actual = call.inputs[i];
      // captured weights (w*) are graph inputs that live anyway; the call's own arguments are activations
      map.set(p, /^w\d+$/.test(p) ? actual : b.op1('Where', [ready, actual, actual]));
    });
    seeds.forEach((s, k) => map.set(s.name, c.GO(seeded[k].j)));
    for (const n of gm.graph.nodes) {
      if (n.domain) throw new AutodiffError(`${call.op}: the recomputation holds a call of ${n.domain}.${n.op}`);
      const ins = n.inputs.map((v) => {
        if (!v) return v;
        const m = map.get(v);
        if (m === undefined) throw new AutodiffError(`${call.op}: the recomputation reads '${v}', which it does not define`);
        return m;
      });
      const outs = b.op(n.op as Parameters<typeof b.op>[0], ins, n.attrs, n.outputs.length);
      n.outputs.forEach((o, k) => map.set(o, outs[k]));
    }
    return f.inputs.map((p, i) => (c.needGI(i) && grads.has(p) ? map.get(grads.get(p)!) : undefined));
  },
};

registerFunctionVjp(REMAT, rematVjp);
