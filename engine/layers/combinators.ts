/**
 * The `combinators` module: layers whose children are layers, and the small
 * stack-shuffling layers. Serial's discipline lives once in the trace
 * (`ctx.series`); Branch, Residual and the rest are written in terms of it.
 */
import { type Dim, dimDivisible, dimFloorDiv, dimMul, dimProd } from '../core/dim';
import { LayerError } from '../core/errors';
import { type ShapeDtype, formatShapeDtype, formatStack, normAxis, sameShapeDtype } from '../core/shape';
import { type Arity, type ExpandNode, P, REQUIRED, construct, fixed } from './def';
import { family, type SpecNote } from './family';
import { childrenSerialArity, concat, elementwise, serialArity, splitEven } from './rules';
import { axisOf, binary, cast, castAll, dims, int, reshape, reverse, select, swapAxes } from './lowering';
import type { Emitter, ValueInfo } from '../core/onnx';

const ADD: Arity = { nIn: 2, nOut: 1 };
const IDENTITY: Arity = { nIn: 1, nOut: 1 };

/** Residual = Serial(Branch(shortcut, Serial(layers)), Add()): arities of its parts. */
function residualParts(inner: Arity, shortcut: Arity | null): { branch: Arity; whole: Arity } {
  const sc = shortcut ?? IDENTITY;
  const branch = { nIn: Math.max(sc.nIn, inner.nIn), nOut: sc.nOut + inner.nOut };
  return { branch, whole: serialArity([branch, ADD]) };
}

/** A bool scalar True. */
function constantTrue(e: Emitter): string {
  return e.constant({ dtype: 'bool', dims: [], data: Int32Array.from([1]) });
}

function requireSameOutputs(a: ShapeDtype[], b: ShapeDtype[], what: string): void {
  const same = a.length === b.length && a.every((x, i) => sameShapeDtype(x, b[i]));
  if (!same) {
    throw new LayerError('shape_mismatch', `${what}: ${formatStack(a)} vs ${formatStack(b)}`, { expected: 'both branches to give the same shapes and dtypes' });
  }
}

/** Scan's per-step view: swap `axis` with 0 (as Trax does), then drop the leading axis. */
function swap0(shape: readonly Dim[], axis: number): Dim[] {
  const s = [...shape];
  [s[0], s[axis]] = [s[axis], s[0]];
  return s;
}

export const combinatorsLayers = family('combinators', {
  Serial: {
    summary: 'Runs its sublayers one after another on the data stack; extra inputs pass through.',
    args: [P.layers('sublayers'), P.name(), P.any('sublayers_to_print', null, { kwOnly: true })],
    arity: (_p, k) => childrenSerialArity(k),
    infer: (inputs, _p, ctx) => ctx.series(inputs),
    lower: (_e, ins, _p, _s, k) => k.series(ins),
  },
  Parallel: {
    summary: 'Runs sublayers side by side, each on its own consecutive span of the stack.',
    args: [P.layers('sublayers', 'serial'), P.name()],
    check: (_p, k) => {
      if (k.children.length < 2) construct(`Parallel's sublayers must be a list with at least two elements, got ${k.children.length}`);
      k.children.forEach((a, i) => {
        if (a.nIn === 0) construct(`Parallel's sublayer ${i} takes no inputs (n_in = 0); every branch of Parallel needs at least one`);
      });
    },
    arity: (_p, k) => ({ nIn: k.children.reduce((s, a) => s + a.nIn, 0), nOut: k.children.reduce((s, a) => s + a.nOut, 0) }),
    infer: (inputs, _p, ctx) => {
      const out: ShapeDtype[] = [];
      let at = 0;
      for (let i = 0; i < ctx.nChildren; i++) {
        const a = ctx.childArity(i);
        out.push(...ctx.child(i, inputs.slice(at, at + a.nIn)));
        at += a.nIn;
      }
      return out;
    },
    lower: (_e, ins, _p, _s, k) => {
      const out: string[] = [];
      let at = 0;
      for (let i = 0; i < k.nChildren; i++) {
        const a = k.childArity(i);
        out.push(...k.child(i, ins.slice(at, at + a.nIn)));
        at += a.nIn;
      }
      return out;
    },
  },
  Branch: {
    summary: 'Runs each sublayer on copies of the top of the stack; outputs are concatenated (n_in = max, n_out = sum).',
    args: [P.layers('layers', 'serial'), P.name('Branch')],
    check: (_p, k) => {
      if (k.children.length === 0) construct('Branch needs at least one layer');
    },
    arity: (_p, k) => ({ nIn: Math.max(...k.children.map((a) => a.nIn)), nOut: k.children.reduce((s, a) => s + a.nOut, 0) }),
    infer: (inputs, _p, ctx) => {
      const out: ShapeDtype[] = [];
      for (let i = 0; i < ctx.nChildren; i++) out.push(...ctx.child(i, inputs.slice(0, ctx.childArity(i).nIn)));
      return out;
    },
    lower: (_e, ins, _p, _s, k) => {
      const out: string[] = [];
      for (let i = 0; i < k.nChildren; i++) out.push(...k.child(i, ins.slice(0, k.childArity(i).nIn)));
      return out;
    },
  },
  Residual: {
    summary: 'Adds the output of its layers (run in series) to a shortcut: Serial(Branch(shortcut, Serial(layers)), Add()).',
    args: [P.layers('layers'), P.slot('shortcut', { optional: true, kwOnly: true })],
    arity: (_p, k) => residualParts(serialArity(k.children), k.slots.shortcut).whole,
    infer: (inputs, _p, ctx) => {
      const innerArity = serialArity(Array.from({ length: ctx.nChildren }, (_, i) => ctx.childArity(i)));
      const sc = ctx.slotArity('shortcut');
      const { branch } = residualParts(innerArity, sc);
      const short = sc ? ctx.slot('shortcut', inputs.slice(0, sc.nIn)) : [inputs[0]];
      const inner = ctx.series(inputs.slice(0, innerArity.nIn)).slice(0, innerArity.nOut);
      const stack = [...short, ...inner, ...inputs.slice(branch.nIn)];
      if (stack.length < 2) throw new LayerError('arity', 'Residual needs its layers and shortcut to leave two items to add', { expected: '2 stack items' });
      let sum: ShapeDtype;
      try {
        sum = elementwise([stack[0], stack[1]]);
      } catch (e) {
        if (e instanceof LayerError) {
          throw new LayerError('shape_mismatch', `cannot add the shortcut ${formatShapeDtype(stack[0])} to the layers' output ${formatShapeDtype(stack[1])}`, { expected: 'the residual branch to keep the shape of its input' });
        }
        throw e;
      }
      return [sum, ...stack.slice(2)];
    },
    lower: (e, ins, _p, sig, k) => {
      const innerArity = serialArity(Array.from({ length: k.nChildren }, (_, i) => k.childArity(i)));
      const sc = k.slotArity('shortcut');
      const { branch } = residualParts(innerArity, sc);
      const short = sc ? k.slot('shortcut', ins.slice(0, sc.nIn)) : [ins[0]];
      const inner = k.series(ins.slice(0, innerArity.nIn)).slice(0, innerArity.nOut);
      const stack = [...short, ...inner, ...ins.slice(branch.nIn)];
      const to = sig.outputs[0].dtype;
      const [a, b] = [stack[0], stack[1]].map((v) => cast(e, v, e.dtypeOf(v) ?? to, to));
      return [e.op1('Add', [a, b]), ...stack.slice(2)];
    },
  },
  Select: {
    summary: 'Copies, reorders or deletes stack items: pops n_in and pushes [stack[i] for i in indices].',
    args: [P.ints('indices', REQUIRED, { style: 'list', min: 0 }), P.int('n_in', null, { nullable: true, min: 0 }), P.name()],
    check: (p) => {
      const idx = p.indices as number[];
      const nIn = p.n_in ?? (idx.length ? Math.max(...idx) + 1 : 0);
      const bad = idx.find((i) => i >= nIn);
      if (bad !== undefined) construct(`Select index ${bad} is out of range for n_in = ${nIn}`, 'indices');
    },
    arity: (p) => ({ nIn: p.n_in ?? ((p.indices as number[]).length ? Math.max(...(p.indices as number[])) + 1 : 0), nOut: (p.indices as number[]).length }),
    infer: (inputs, p) => (p.indices as number[]).map((i) => inputs[i]),
    lower: (_e, ins, p) => (p.indices as number[]).map((i) => ins[i]),
  },
  Drop: { summary: 'Drops the top stack item.', args: [], arity: fixed(1, 0), infer: () => [], lower: () => [] },
  Dup: { summary: 'Duplicates the top stack item.', args: [], arity: fixed(1, 2), infer: (x) => [x[0], x[0]], lower: (_e, x) => [x[0], x[0]] },
  Swap: { summary: 'Swaps the top two stack items.', args: [], arity: fixed(2, 2), infer: (x) => [x[1], x[0]], lower: (_e, x) => [x[1], x[0]] },
  Add: { summary: 'x0 + x1 (broadcasting).', args: [], arity: fixed(2, 1), infer: (x) => [elementwise(x)], lower: (e, x, _p, s) => [binary(e, 'Add', x[0], x[1], s.inputs[0], s.inputs[1], s.outputs[0].dtype)] },
  SubtractTop: { summary: 'x1 - x0: the second item minus the top one.', args: [], arity: fixed(2, 1), infer: (x) => [elementwise(x)], lower: (e, x, _p, s) => [binary(e, 'Sub', x[1], x[0], s.inputs[1], s.inputs[0], s.outputs[0].dtype)] },
  Multiply: { summary: 'x0 * x1 (broadcasting).', args: [], arity: fixed(2, 1), infer: (x) => [elementwise(x)], lower: (e, x, _p, s) => [binary(e, 'Mul', x[0], x[1], s.inputs[0], s.inputs[1], s.outputs[0].dtype)] },
  Gate: {
    summary: 'Gate(m, g, c) = g*m + (1-g)*c.', args: [], arity: fixed(3, 1), infer: (x) => [elementwise(x)],
    lower: (e, x, _p, s) => {
      const [m, g, c] = castAll(e, x, s.inputs, s.outputs[0].dtype);
      const one = cast(e, e.f32(1), 'float32', s.outputs[0].dtype);
      return [e.op1('Add', [e.op1('Mul', [g, m]), e.op1('Mul', [e.op1('Sub', [one, g]), c])])];
    },
  },
  Concatenate: {
    summary: 'Concatenates n_items tensors along axis.',
    args: [P.int('n_items', 2, { min: 1 }), P.int('axis', -1)],
    arity: (p) => ({ nIn: p.n_items, nOut: 1 }),
    infer: (x, p) => [concat(x, p.axis)],
    lower: (e, x, p, s) => [e.op1('Concat', castAll(e, x, s.inputs, s.outputs[0].dtype), { axis: int(axisOf(p.axis, s.inputs[0].shape.length)) })],
  },
  Split: {
    summary: 'Splits a tensor into n_items equal parts along axis.',
    args: [P.int('n_items', 2, { min: 1 }), P.int('axis', -1)],
    arity: (p) => ({ nIn: 1, nOut: p.n_items }),
    infer: (x, p) => splitEven(x[0], p.n_items, p.axis),
    lower: (e, x, p, s) => {
      const ax = axisOf(p.axis, s.inputs[0].shape.length);
      const part = dims(s.outputs[0])[ax];
      return e.op('Split', [x[0], e.i64(Array.from({ length: p.n_items }, () => part))], { axis: int(ax) }, p.n_items);
    },
  },
  Scan: {
    summary: 'Applies a layer along an axis, threading n_carry carries through the steps (a map when n_carry = 0).',
    args: [P.slot('layer'), P.int('axis', 0), P.int('n_carry', 1, { min: 0 }), P.bool('remat', false), P.mode()],
    modes: { predict: 'with n_carry > 0 the final carry is kept in state and replaces the input carry on later calls' },
    check: (p, k) => {
      const a = k.slots.layer;
      if (a && p.n_carry > a.nIn) construct(`Scan's layer takes ${a.nIn} inputs, fewer than n_carry = ${p.n_carry}`, 'n_carry');
      if (a && p.n_carry > a.nOut) construct(`Scan's layer returns ${a.nOut} outputs, fewer than n_carry = ${p.n_carry}`, 'n_carry');
    },
    arity: (_p, k) => k.slots.layer ?? IDENTITY,
    // the carry kept for predict mode (the run's mode decides whether it is used)
    state: (inputs, p) => p.n_carry > 0
      ? [
        ...inputs.slice(inputs.length - p.n_carry).map((c, i) => ({ name: `carry_${i}`, shape: c.shape, dtype: c.dtype, init: { fill: 0 } })),
        { name: 'initialized', shape: [], dtype: 'bool' as const, init: { fill: 0 } },
      ]
      : [],
    infer: (inputs, p, ctx) => {
      const nCarry: number = p.n_carry;
      const xs = inputs.slice(0, inputs.length - nCarry);
      const carries = inputs.slice(inputs.length - nCarry);
      let length: Dim | undefined;
      const steps = xs.map((x, i) => {
        const ax = normAxis(p.axis, x.shape.length, `Scan axis for input ${i}`);
        const sw = swap0(x.shape, ax);
        if (length === undefined) length = sw[0];
        else if (sw[0] !== length) {
          throw new LayerError('shape_mismatch', `Scan inputs have different lengths along axis ${p.axis}: ${length} and ${sw[0]}`, { expected: 'equal lengths along the scanned axis' });
        }
        return { dtype: x.dtype, shape: sw.slice(1) };
      });
      const res = ctx.slot('layer', [...steps, ...carries]);
      const ys = res.slice(0, res.length - nCarry);
      const newCarries = res.slice(res.length - nCarry);
      newCarries.forEach((c, i) => {
        if (!sameShapeDtype(c, carries[i])) {
          throw new LayerError('shape_mismatch', `Scan's layer changes carry ${i} from ${formatShapeDtype(carries[i])} to ${formatShapeDtype(c)}`, { expected: 'each carry to keep its shape and dtype' });
        }
      });
      const len = length ?? 1;
      const outs = ys.map((y) => {
        const stacked = [len, ...y.shape];
        const ax = normAxis(p.axis, stacked.length, 'Scan axis for an output');
        return { dtype: y.dtype, shape: swap0(stacked, ax) };
      });
      return [...outs, ...carries];
    },
    lower: (e, ins, p, sig, k) => {
      const nCarry: number = p.n_carry;
      const nX = ins.length - nCarry;
      const body = k.slotSig('layer');
      // Trax swaps the scanned axis with axis 0 (not a move): do the same, scan along 0, swap back
      const xs = ins.slice(0, nX).map((v, i) => swapAxes(e, v, sig.inputs[i].shape.length, 0, axisOf(p.axis, sig.inputs[i].shape.length)));
      // predict mode: from the second call on, the carry kept in state replaces the input carry
      const predict = e.mode === 'predict' && nCarry > 0;
      const initialized = predict ? e.state('initialized') : '';
      const carries = predict ? ins.slice(nX).map((c, i) => select(e, initialized, e.state(`carry_${i}`), c, sig.inputs[nX + i].dtype)) : ins.slice(nX);
      const finish = (out: string[]): string[] => {
        if (predict) {
          out.slice(out.length - nCarry).forEach((c, i) => e.setState(`carry_${i}`, c));
          e.setState('initialized', constantTrue(e));
        }
        return out;
      };
      if (e.unroll) {
        // no Scan op on a GPU provider (nor a VJP rule for it): unroll over the (concrete) length
        const length = nX ? dims(sig.inputs[0])[axisOf(p.axis, sig.inputs[0].shape.length)] : 0;
        let state = carries;
        const steps: string[][] = [];
        for (let t = 0; t < length; t++) {
          const at = e.i64(t);
          const out = k.slotIn(e, 'layer', [...xs.map((x) => e.op1('Gather', [x, at], { axis: int(0) })), ...state]);
          steps.push(out.slice(0, out.length - nCarry));
          state = out.slice(out.length - nCarry);
        }
        const nYs = body.outputs.length - nCarry;
        const ys = Array.from({ length: nYs }, (_, j) => {
          const stacked = e.op1('Concat', steps.map((st) => e.op1('Unsqueeze', [st[j], e.i64([0])])), { axis: int(0) });
          return swapAxes(e, stacked, sig.outputs[j].shape.length, 0, axisOf(p.axis, sig.outputs[j].shape.length));
        });
        return finish([...ys, ...state]);
      }
      const formal: ValueInfo[] = [
        ...carries.map((_, i) => ({ name: `carry_${i}`, dtype: body.inputs[nX + i].dtype, shape: dims(body.inputs[nX + i]) })),
        ...xs.map((_, i) => ({ name: `x_${i}`, dtype: body.inputs[i].dtype, shape: dims(body.inputs[i]) })),
      ];
      const nY = body.outputs.length - nCarry;
      const g = e.subgraph('body', formal, (se, f) => {
        const out = k.slotIn(se, 'layer', [...f.slice(nCarry), ...f.slice(0, nCarry)]);
        return [...out.slice(nY), ...out.slice(0, nY)];
      }, (names) => names.map((n, i) => {
        const o = i < nCarry ? body.outputs[nY + i] : body.outputs[i - nCarry];
        return { name: n, dtype: o.dtype, shape: dims(o) };
      }));
      const res = e.op('Scan', [...carries, ...xs], { body: { graph: g }, num_scan_inputs: int(nX) }, nCarry + nY);
      const ys = res.slice(nCarry).map((v, i) => swapAxes(e, v, sig.outputs[i].shape.length, 0, axisOf(p.axis, sig.outputs[i].shape.length)));
      return finish([...ys, ...res.slice(0, nCarry)]);
    },
  },
  Cond: {
    summary: 'Runs `true` if `cond` gives True, else `false` (identity when absent), on the rest of the stack.',
    args: [P.slot('cond'), P.slot('true'), P.slot('false', { optional: true }), P.name()],
    check: (_p, k) => {
      const c = k.slots.cond, t = k.slots.true, f = k.slots.false ?? IDENTITY;
      if (c && c.nOut !== 1) construct(`Cond's cond layer must return one value (n_out = 1), but returns ${c.nOut}`);
      if (t && t.nIn !== f.nIn) construct(`Cond's true and false branches must have the same n_in, got ${t.nIn} and ${f.nIn}`);
      if (t && t.nOut !== f.nOut) construct(`Cond's true and false branches must have the same n_out, got ${t.nOut} and ${f.nOut}`);
    },
    arity: (_p, k) => ({ nIn: (k.slots.cond?.nIn ?? 0) + (k.slots.true?.nIn ?? 1), nOut: k.slots.true?.nOut ?? 1 }),
    infer: (inputs, _p, ctx) => {
      const c = ctx.slotArity('cond')!;
      const [flag] = ctx.slot('cond', inputs.slice(0, c.nIn));
      if (flag.shape.length !== 0) {
        throw new LayerError('shape_mismatch', `Cond's cond layer must give a scalar, got ${formatShapeDtype(flag)}`, { expected: 'a scalar (shape [])' });
      }
      const rest = inputs.slice(c.nIn);
      const t = ctx.slot('true', rest);
      const f = ctx.slotArity('false') ? ctx.slot('false', rest) : rest;
      requireSameOutputs(t, f, 'Cond branches give different outputs');
      return t;
    },
    lower: (e, ins, _p, sig, k) => {
      const c = k.slotArity('cond')!;
      const [flag] = k.slot('cond', ins.slice(0, c.nIn));
      const rest = ins.slice(c.nIn);
      const flagSig = k.slotSig('cond').outputs[0];
      const cond = flagSig.dtype === 'bool' ? flag : e.op1('Cast', [flag], { to: int(9) });
      if (e.unroll) {
        // no If op on a GPU provider (nor a VJP rule for it): both branches are pure, so compute both and select
        const t = k.slotIn(e, 'true', rest);
        const f = k.slotArity('false') ? k.slotIn(e, 'false', rest) : rest;
        return t.map((v, i) => e.op1('Where', [cond, v, f[i]]));
      }
      const infos = (names: string[]): ValueInfo[] => names.map((n, i) => ({ name: n, dtype: sig.outputs[i].dtype, shape: dims(sig.outputs[i]) }));
      const thenG = e.subgraph('then', [], (se) => k.slotIn(se, 'true', rest), infos);
      const elseG = e.subgraph('else', [], (se) => (k.slotArity('false') ? k.slotIn(se, 'false', rest) : rest), infos);
      return e.op('If', [cond], { then_branch: { graph: thenG }, else_branch: { graph: elseG } }, sig.outputs.length);
    },
  },
  Chunk: {
    summary: 'Applies a layer to chunks of chunk_size along the batch axis, to save memory (chunk_size < 1: the layer itself).',
    args: [P.slot('layer'), P.int('chunk_size', REQUIRED), P.bool('pass_unchunkable', true)],
    arity: (_p, k) => k.slots.layer ?? IDENTITY,
    infer: (inputs, p, ctx) => {
      const size: number = p.chunk_size;
      if (size < 1) return ctx.slot('layer', inputs);
      const batch = inputs[0]?.shape[0];
      const divisible = batch === undefined ? undefined : dimDivisible(batch, size);
      if (batch === undefined || divisible !== true) {
        if (divisible === false && !p.pass_unchunkable) {
          throw new LayerError('shape_mismatch', `Chunk size (${size}) must divide batch size (${batch})`, { expected: `a batch size divisible by ${size}`, param: 'chunk_size' });
        }
        return ctx.slot('layer', inputs);
      }
      const nChunks = dimFloorDiv(batch, size);
      const chunked = inputs.map((x) => ({ dtype: x.dtype, shape: [size, ...x.shape.slice(1)] }));
      return ctx.slot('layer', chunked).map((y) => {
        if (y.shape.length === 0) return y;
        return { dtype: y.dtype, shape: [dimMul(nChunks, y.shape[0]), ...y.shape.slice(1)] };
      });
    },
    lower: (e, ins, p, sig, k) => {
      const size: number = p.chunk_size;
      const body = k.slotSig('layer');
      const batch = Number(sig.inputs[0]?.shape[0]);
      if (size < 1 || !sig.inputs.length || Number(body.inputs[0].shape[0]) !== size || batch === size) return k.slot('layer', ins);
      // Trax: reshape to [n, size, ...], Scan the layer over the chunks (no carry), reshape back
      const n = batch / size;
      if (e.unroll) {
        // no Scan op on a GPU provider (nor a VJP rule for it): the chunks one after another
        const parts = Array.from({ length: n }, (_, c) => k.slotIn(e, 'layer', ins.map((v) => e.op1('Slice', [v, e.i64([c * size]), e.i64([(c + 1) * size]), e.i64([0])]))));
        return sig.outputs.map((_, j) => e.op1('Concat', parts.map((pt) => pt[j]), { axis: int(0) }));
      }
      const xs = ins.map((v, i) => reshape(e, v, [n, ...dims(body.inputs[i])]));
      const formal = xs.map((_, i) => ({ name: `chunk_${i}`, dtype: body.inputs[i].dtype, shape: dims(body.inputs[i]) }));
      const g = e.subgraph('body', formal, (se, f) => k.slotIn(se, 'layer', f),
        (names) => names.map((nm, i) => ({ name: nm, dtype: body.outputs[i].dtype, shape: dims(body.outputs[i]) })));
      const res = e.op('Scan', xs, { body: { graph: g }, num_scan_inputs: int(xs.length) }, body.outputs.length);
      return res.map((v, i) => reshape(e, v, dims(sig.outputs[i])));
    },
  },
  Cache: {
    summary: 'Runs its layer once and returns the stored result on every later call (encoders in predict mode).',
    args: [P.slot('layer')],
    arity: (_p, k) => k.slots.layer ?? IDENTITY,
    infer: (inputs, _p, ctx) => ctx.slot('layer', inputs),
    state: (_inputs, _p, outputs) => [
      ...outputs.map((o, i) => ({ name: `cached_${i}`, shape: o.shape, dtype: o.dtype, init: { fill: 0 } })),
      { name: 'initialized', shape: [], dtype: 'bool' as const, init: { fill: 0 } },
    ],
    lower: (e, ins, _p, sig, k) => {
      // the first call runs the layer; later calls (state carried by the run) return what it gave then
      const fresh = k.slot('layer', ins);
      const initialized = e.state('initialized');
      const out = fresh.map((v, i) => select(e, initialized, e.state(`cached_${i}`), v, sig.outputs[i].dtype));
      out.forEach((v, i) => e.setState(`cached_${i}`, v));
      e.setState('initialized', constantTrue(e));
      return out;
    },
  },
  BatchLeadingAxes: {
    summary: 'Folds all leading axes into one batch axis for its layer and unfolds the result.',
    args: [P.slot('layer'), P.int('n_last_axes_to_keep', 1, { min: 0 })],
    check: (_p, k) => {
      if (k.slots.layer && k.slots.layer.nOut !== 1) construct(`BatchLeadingAxes works only with layers that have n_out = 1, got ${k.slots.layer.nOut}`);
    },
    arity: (_p, k) => k.slots.layer ?? IDENTITY,
    infer: (inputs, p, ctx) => {
      const keep: number = p.n_last_axes_to_keep;
      const folded = inputs.map((x) => {
        if (x.shape.length < keep) {
          throw new LayerError('rank', `BatchLeadingAxes keeps ${keep} last axes, but an input has shape [${x.shape.join(',')}]`, { expected: `rank >= ${keep}` });
        }
        const lead = x.shape.slice(0, x.shape.length - keep);
        return { dtype: x.dtype, shape: [dimProd(lead), ...x.shape.slice(x.shape.length - keep)] };
      });
      const [y] = ctx.slot('layer', folded);
      const lead = inputs[0].shape.slice(0, inputs[0].shape.length - keep);
      return [{ dtype: y.dtype, shape: [...lead, ...y.shape.slice(1)] }];
    },
    lower: (e, ins, _p, sig, k) => {
      const body = k.slotSig('layer');
      const folded = ins.map((v, i) => reshape(e, v, dims(body.inputs[i])));
      const [y] = k.slot('layer', folded);
      return [reshape(e, y, dims(sig.outputs[0]))];
    },
  },
  Bidirectional: {
    summary: 'Runs a layer forwards and (as a copy with its own weights) backwards along an axis, then merges.',
    args: [P.slot('forward_layer'), P.int('axis', 1), P.slot('merge_layer', { defaultKind: 'Concatenate' })],
    expand: (p, slots): ExpandNode => {
      const fwd = slots.forward_layer!;
      return {
        kind: 'Serial',
        children: [
          {
            kind: 'Branch',
            children: [fwd, { kind: 'Serial', children: [{ kind: 'Flip', params: { axis: p.axis } }, fwd, { kind: 'Flip', params: { axis: p.axis } }] }],
          },
          slots.merge_layer ?? { kind: 'Concatenate' },
        ],
      };
    },
  },
  SerialWithSideOutputs: {
    summary: 'A Serial whose layers each also emit n_side_outputs, moved to the bottom of the stack.',
    args: [P.layers('layers', 'flatten', 'list'), P.intOrInts('n_side_outputs', 1, { min: 0 })],
    expand: (p, _slots, children, kids): ExpandNode => {
      // Mirrors trax.layers.combinators.SerialWithSideOutputs: a Select after each layer.
      const side = (i: number): number => (Array.isArray(p.n_side_outputs) ? p.n_side_outputs[i] : p.n_side_outputs);
      const arities = kids.children;
      let max = 0, total = 0;
      arities.forEach((a, i) => {
        total += a.nIn;
        max = Math.max(max, total);
        total -= a.nOut - side(i);
      });
      let stackSize = max;
      const out: ExpandNode[] = [];
      children.forEach((c, i) => {
        const a = arities[i];
        const s = side(i);
        if (s > a.nOut) construct(`layer ${i} of SerialWithSideOutputs returns ${a.nOut} outputs, fewer than its ${s} side outputs`, 'n_side_outputs');
        out.push(c);
        stackSize += a.nOut - a.nIn;
        const idx = [
          ...Array.from({ length: a.nOut - s }, (_, j) => j),
          ...Array.from({ length: stackSize - a.nOut }, (_, j) => j + a.nOut),
          ...Array.from({ length: s }, (_, j) => j + a.nOut - s),
        ];
        out.push({ kind: 'Select', params: { indices: idx } });
      });
      return { kind: 'Serial', children: out };
    },
  },
  Flip: {
    summary: 'Reverses a tensor along an axis (used inside Bidirectional).',
    internal: true,
    args: [P.int('axis', 1)],
    arity: fixed(1, 1),
    infer: (x, p) => {
      normAxis(p.axis, x[0].shape.length);
      return [x[0]];
    },
    lower: (e, x, p, s) => [reverse(e, x[0], axisOf(p.axis, s.inputs[0].shape.length))],
  },
});


export const combinatorsNotes: Record<string, SpecNote> = {
  FlattenList: { status: 'not_applicable', reason: "Strata's stack holds tensors, never nested Python lists, so there is nothing to flatten" },
  inputs_from_stack: { status: 'internal', reason: 'the stack discipline itself: implemented once by the trace (ctx.series)' },
  outputs_onto_stack: { status: 'internal', reason: 'the stack discipline itself: implemented once by the trace (ctx.series)' },
};
