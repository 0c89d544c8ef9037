/**
 * The `reversible` module: layers that can recompute their inputs from their
 * outputs (RevNet / Reformer). For shapes they are ordinary layers; their
 * `reverse` / `reverse_and_grad` are a runtime concern. Every kind here is
 * marked `reversible`, which ReversibleSerial checks its children against.
 */
import { type Dim } from '../core/dim';
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShape, formatShapeDtype } from '../core/shape';
import { type Arity, type ExpandNode, P, REQUIRED, construct, fixed } from './def';
import { family, type SpecNote } from './family';
import { concat, elementwise, reshape, serialArity } from './rules';
import { lookupKind } from './registry';
import { axisOf, cast, dims, int, reshape as reshapeTo } from './lowering';

/** ReversibleHalfResidual: n_in = n_out = 1 + running max over (Serial(residual_layers), attention_layer). */
function halfResidualArity(children: readonly Arity[], attention: Arity | null): Arity {
  const parts = [serialArity(children)];
  if (attention) parts.push(attention);
  let total = 0, max = 0;
  for (const a of parts) {
    total += a.nIn;
    max = Math.max(max, total);
    total -= a.nOut;
  }
  return { nIn: max + 1, nOut: max + 1 };
}

function selectNIn(p: { indices: number[]; n_in: number | null }): number {
  return p.n_in ?? (p.indices.length ? Math.max(...p.indices) + 1 : 0);
}

export const reversibleLayers = family('reversible', {
  ReversibleConcatenatePair: {
    summary: '(x, y) -> (r, r) with r = concat(x, y) on the last axis; reverse splits r in halves.',
    reversible: true,
    args: [],
    arity: fixed(2, 2),
    infer: (inputs) => {
      const r = concat(inputs, -1);
      return [r, r];
    },
    lower: (e, ins, _p, sig) => {
      const to = sig.outputs[0].dtype;
      // bools concatenate as int32 (WebGPU has no bool Concat)
      const via = to === 'bool' ? 'int32' : to;
      const r = e.op1('Concat', ins.map((v, i) => cast(e, v, sig.inputs[i].dtype, via)), { axis: int(axisOf(-1, sig.inputs[0].shape.length)) });
      const out = cast(e, r, via, to);
      return [out, out];
    },
  },
  ReversibleSelect: {
    summary: 'Select that can be reversed: every input index must appear in indices; reverse picks outputs[indices.index(i)].',
    reversible: true,
    args: [P.ints('indices', REQUIRED, { style: 'list', min: 0 }), P.int('n_in', null, { nullable: true, min: 0 }), P.name()],
    check: (p) => {
      const idx = p.indices as number[];
      if (p.n_in === null && idx.length === 0) construct('ReversibleSelect needs at least one index when n_in is not given', 'indices');
      const nIn = selectNIn(p as { indices: number[]; n_in: number | null });
      const bad = idx.find((i) => i >= nIn);
      if (bad !== undefined) construct(`ReversibleSelect index ${bad} is out of range for n_in = ${nIn}`, 'indices');
      for (let i = 0; i < nIn; i++) {
        if (!idx.includes(i)) construct(`To be reversible, all inputs to Select must be in indices. Did not find ${i} in indices [${idx.join(', ')}]`, 'indices');
      }
    },
    arity: (p) => ({ nIn: selectNIn(p as { indices: number[]; n_in: number | null }), nOut: (p.indices as number[]).length }),
    infer: (inputs, p) => (p.indices as number[]).map((i) => inputs[i]),
    lower: (_e, ins, p) => (p.indices as number[]).map((i) => ins[i]),
  },
  ReversibleSwap: {
    summary: 'Swaps the top two stack items: ReversibleSelect([1, 0]) (its own reverse).',
    reversible: true,
    args: [],
    expand: (): ExpandNode => ({ kind: 'ReversibleSelect', params: { indices: [1, 0], name: 'ReversibleSwap' } }),
  },
  ReversibleReshape: {
    summary: 'Reshapes each of n_in inputs from shape1 + rest to shape2 + rest (the leading len(shape1) axes are replaced); reverse does the opposite.',
    reversible: true,
    args: [P.ints('shape1', REQUIRED, { style: 'tuple' }), P.ints('shape2', REQUIRED, { style: 'tuple' }), P.int('n_in', 1, { min: 0 })],
    check: (p) => {
      for (const name of ['shape1', 'shape2'] as const) {
        const s = p[name] as number[];
        if (s.filter((d) => d === -1).length > 1) construct(`ReversibleReshape: ${name} can hold at most one -1, got (${s.join(', ')})`, name);
        const bad = s.find((d) => d < -1);
        if (bad !== undefined) construct(`ReversibleReshape: ${name} has a negative size ${bad}`, name);
      }
    },
    arity: (p) => ({ nIn: p.n_in, nOut: p.n_in }),
    infer: (inputs, p) => {
      const s1 = p.shape1 as number[], s2 = p.shape2 as number[];
      return inputs.map((x, i) => {
        const target: Dim[] = [...s2, ...x.shape.slice(s1.length)];
        try {
          return reshape(x, target);
        } catch (e) {
          if (!(e instanceof LayerError)) throw e;
          throw new LayerError('shape_mismatch', `ReversibleReshape: input ${i} ${formatShapeDtype(x)} cannot be reshaped to shape2 + its axes after the first len(shape1) = ${s1.length}, i.e. ${formatShape(target)} (${e.message})`, {
            expected: `an input whose leading ${s1.length} axes hold as many elements as shape2 ${formatShape(s2)}`,
          });
        }
      });
    },
    lower: (e, ins, _p, sig) => ins.map((v, i) => reshapeTo(e, v, dims(sig.outputs[i]))),
  },
  ReversiblePrintShape: {
    summary: 'Identity on n_in items that prints their shapes (debugging inside ReversibleSerial).',
    reversible: true,
    args: [P.int('n_in', 1, { min: 0 }), P.str('msg', '')],
    arity: (p) => ({ nIn: p.n_in, nOut: p.n_in }),
    infer: (inputs) => [...inputs],
    // printing shapes is a Python side effect; the graph passes the items through
    lower: (_e, ins) => [...ins],
  },
  ReversibleSerial: {
    summary: 'A Serial whose sublayers must all be reversible; the backward pass recomputes activations layer by layer instead of storing them.',
    reversible: true,
    args: [P.layers('layers')],
    expand: (_p, _slots, children): ExpandNode => {
      children.forEach((c, i) => {
        const def = lookupKind(c.kind);
        // unknown kinds already carry their own error
        if (def && !def.reversible) construct(`Sub-layer ${i} of ReversibleSerial is not reversible: ${c.kind} (use Reversible* layers, ReversibleHalfResidual, or ReversibleSerial)`);
      });
      return { kind: 'Serial', children: [...children] };
    },
  },
  ReversibleHalfResidual: {
    summary: '[acc, *ctx] -> [acc + f(ctx), *ctx]: f = Serial(residual_layers) then attention_layer run on the context, which passes through unchanged.',
    reversible: true,
    args: [P.layers('residual_layers'), P.slot('attention_layer', { optional: true, kwOnly: true }), P.name()],
    arity: (_p, k) => halfResidualArity(k.children, k.slots.attention_layer),
    infer: (inputs, _p, ctx) => {
      const [acc, ...context] = inputs;
      let stack: ShapeDtype[] = ctx.series(context);
      const att = ctx.slotArity('attention_layer');
      if (att) stack = [...ctx.slot('attention_layer', stack.slice(0, att.nIn)), ...stack.slice(att.nIn)];
      const residual = stack[0];
      let sum: ShapeDtype;
      try {
        sum = elementwise([acc, residual]);
      } catch (e) {
        if (!(e instanceof LayerError)) throw e;
        throw new LayerError('shape_mismatch', `ReversibleHalfResidual: cannot add the residual ${formatShapeDtype(residual)} to the accumulator ${formatShapeDtype(acc)}`, {
          expected: 'the residual layers to give the shape of the accumulator',
        });
      }
      return [sum, ...context];
    },
    // the forward pass; with remat (training), f is a kept `Remat` function whose backward recomputes it from
    // the context instead of keeping its activations (Trax's reverse_and_grad recomputes the same way)
    lower: (e, ins, _p, sig, k) => {
      const [acc, ...context] = ins;
      const att = k.slotArity('attention_layer');
      let residual: string;
      if (e.remat) {
        [residual] = e.fn('Remat', `Remat:${e.path}`, context, 1, (fe, ctx) => {
          let stack = k.seriesIn(fe, ctx);
          if (att) stack = [...k.slotIn(fe, 'attention_layer', stack.slice(0, att.nIn)), ...stack.slice(att.nIn)];
          return [stack[0]];
        }, "a reversible block's residual function f(context), recomputed in the backward pass", { keep: true });
      } else {
        let stack = k.series(context);
        if (att) stack = [...k.slot('attention_layer', stack.slice(0, att.nIn)), ...stack.slice(att.nIn)];
        residual = stack[0];
      }
      const to = sig.outputs[0].dtype;
      const rDtype = e.dtypeOf(residual) ?? to;
      return [e.op1('Add', [cast(e, acc, sig.inputs[0].dtype, to), cast(e, residual, rDtype, to)]), ...context];
    },
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const reversibleNotes: Record<string, SpecNote> = {
  ReversibleLayer: {
    status: 'internal',
    reason: 'the abstract base class of reversible layers (reverse / reverse_and_grad); in Strata it is the `reversible` flag on the kinds of this module, which ReversibleSerial checks',
  },
};
