/**
 * Trax's value cases through the real `strata run`: the case's inputs as an
 * inputs file, its weights (where it gives them) as an .npz keyed by tree
 * path, and the outputs compared to the case's values (its tolerance, else
 * 1e-5 relative).
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TensorValue } from '../engine/core/onnx';
import type { DType } from '../engine/core/shape';
import { codeToTree } from '../engine/tracecode/parse';
import { traceDocument, forEachNode } from '../engine/document/trace';
import { weightKey } from '../engine/onnx/lower';
import { writeNpz } from '../engine/weights';
import { conformanceCases, type ConformanceCase } from '../test/conformance';
import { repoRoot } from '../test/shared';

/**
 * Two value cases are not a layer: `tl.one_hot` is a tensor function and
 * `lsh_combine_hashes` a formula of LSH attention. They run through
 * `strata run` as the Fn layer a user would write for them.
 */
const AS_FN: Record<string, { model: string; inputs: (e: Record<string, any>) => { data: unknown; dtype: DType }[] }> = { // eslint-disable-line @typescript-eslint/no-explicit-any
  one_hot_fn: {
    model: "tl.Fn('OneHot', lambda targets: tl.one_hot(targets, 5))",
    inputs: (e) => [{ data: e.inputs, dtype: 'int32' }],
  },
  lsh_combine_hashes: {
    // o = sum over rounds of o_r * exp(lse_r - logsumexp over rounds)
    model: "tl.Fn('CombineRounds', lambda o, lse: jnp.sum(o * jnp.exp(lse - jax.scipy.special.logsumexp(lse, axis=0, keepdims=True)), axis=0))",
    inputs: (e) => [{ data: e.inputs.o_per_round, dtype: 'float32' }, { data: e.inputs.logits_per_round, dtype: 'float32' }],
  },
};

/** Cases of several calls that carry state: checked below with --state-out / --state. */
const STATEFUL = ['scan_predict_two_calls', 'cache_returns_first_result'];

const dir = mkdtempSync(join(tmpdir(), 'strata-values-'));
let fileNo = 0;

function shapeOf(v: unknown): number[] {
  const out: number[] = [];
  let x = v;
  while (Array.isArray(x)) { out.push(x.length); x = x[0]; }
  return out;
}

function tensorJson(v: unknown, dtype: DType): unknown {
  return { dtype, shape: shapeOf(v), data: (Array.isArray(v) ? v.flat(Infinity) : [v]).map((x) => (x === true ? 1 : x === false ? 0 : x)) };
}

function flatNumbers(v: unknown): number[] {
  return (Array.isArray(v) ? v.flat(Infinity) : [v]).map((x) => (x === true ? 1 : x === false ? 0 : Number(x)));
}

function expectClose(got: unknown, want: unknown, tol: { atol?: number; rtol?: number } | undefined, what: string): void {
  const g = flatNumbers(got), w = flatNumbers(want);
  expect(g.length, `${what}: number of values`).toBe(w.length);
  const atol = tol?.atol ?? 0, rtol = tol?.rtol ?? (tol ? 0 : 1e-5);
  g.forEach((x, i) => {
    const ok = Math.abs(x - w[i]) <= atol + rtol * Math.abs(w[i]) || (Number.isNaN(x) && Number.isNaN(w[i]));
    if (!ok) expect(x, `${what}[${i}] (want ${w[i]}, atol ${atol}, rtol ${rtol})`).toBe(w[i]);
  });
}

/** The case's weights as an .npz keyed by tree path, in Trax's flat order. */
function weightsFile(model: string, sig: ConformanceCase['input_signature'], weights: unknown): string {
  const root = codeToTree(model);
  const t = traceDocument({ root, input: sig.map((s) => ({ dtype: s.dtype, shape: s.shape })) });
  const refs: { key: string; dtype: DType; dims: number[] }[] = [];
  forEachNode(t.root, (n, path) => {
    for (const w of n.weights) refs.push({ key: weightKey(path, n.node.kind, w.name), dtype: w.dtype, dims: w.shape.map(Number) });
  });
  const arrays = refs.length === 1 ? [weights] : (weights as unknown[]);
  expect(arrays.length).toBe(refs.length);
  const entries: [string, TensorValue][] = refs.map((r, i) => [r.key, { dtype: 'float32', dims: r.dims, data: Float32Array.from(flatNumbers(arrays[i])) }]);
  const path = join(dir, `w${++fileNo}.npz`);
  writeFileSync(path, writeNpz(entries));
  return path;
}

function run(model: string, inputs: unknown[], sig: ConformanceCase['input_signature'], weights?: string): { code: number; json: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const path = join(dir, `in${++fileNo}.json`);
  writeFileSync(path, JSON.stringify(inputs.map((x, i) => tensorJson(x, sig[i]?.dtype ?? 'float32'))));
  const args = [join(repoRoot, 'bin', 'strata.js'), 'run', model, '--inputs', path, '--json', ...(weights ? ['--weights', weights] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  let json: unknown;
  try { json = JSON.parse(r.stdout); } catch { json = { stderr: r.stderr }; }
  return { code: r.status ?? -1, json };
}

function inputsList(c: ConformanceCase, inputs: unknown): unknown[] {
  return c.input_signature.length === 1 ? [inputs] : (inputs as unknown[]);
}

function outputsList(nOut: number, values: unknown): unknown[] {
  return nOut === 1 ? [values] : (values as unknown[]);
}

describe('conformance values through strata run', () => {
  for (const [id, f] of Object.entries(AS_FN)) {
    it(`${id} (as an Fn layer)`, () => {
      const c = conformanceCases().get(id)!;
      const e = c.expected as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const ins = f.inputs(e);
      const r = run(f.model, ins.map((x) => x.data), ins.map((x) => ({ dtype: x.dtype, shape: shapeOf(x.data) })));
      expect(r.code, JSON.stringify(r.json)).toBe(0);
      expectClose(r.json.outputs[0].data, e.output_values, (c as unknown as { tolerance?: { atol?: number } }).tolerance, id);
    });
  }

  for (const c of conformanceCases().values()) {
    if (c.kind !== 'value') continue;
    if (AS_FN[c.id] || STATEFUL.includes(c.id)) continue;
    it(c.id, () => {
      const e = c.expected as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const tol = (c as unknown as { tolerance?: { atol?: number; rtol?: number } }).tolerance;
      const exprs = c.model.split(';').map((s) => s.trim());
      if (e.per_layer_values) {
        for (const x of exprs) {
          const kind = /tl\.(\w+)/.exec(x)![1];
          const ins = e.inputs && !Array.isArray(e.inputs) ? e.inputs[kind === 'Gate' ? 'Gate(m, g, c)' : 'binary(x0, x1)'] : [e.inputs];
          const sig = ins.map((v: unknown) => ({ dtype: 'float32' as DType, shape: shapeOf(v) }));
          const r = run(x, ins, sig);
          expect(r.code, JSON.stringify(r.json)).toBe(0);
          expectClose(r.json.outputs[0].data, e.per_layer_values[kind], tol, `${c.id} ${kind}`);
        }
        return;
      }
      if (e.output_nonzero_count !== undefined) {
        const sig = c.input_signature;
        const n = sig[0].shape.reduce((a: number, d) => a * Number(d), 1);
        const r = run(c.model, [Array.from({ length: n }, (_, i) => 1 + (i % 7))], [{ ...sig[0], shape: [n] }]);
        expect(r.code, JSON.stringify(r.json)).toBe(0);
        expect(r.json.outputs[0].data.filter((x: number) => x !== 0).length).toBe(n);
        return;
      }
      const calls = e.calls ?? [{ inputs: e.inputs, output_values: e.output_values }];
      const layerOf = (call: { layer?: string }) => (call.layer && call.layer !== 'default' ? exprs[1] : exprs[0]);
      for (const call of calls) {
        const model = layerOf(call);
        const ins = inputsList(c, call.inputs);
        const sig = ins.map((v, i) => ({ dtype: c.input_signature[i].dtype, shape: shapeOf(v) }));
        const weights = e.weights !== undefined ? weightsFile(model, sig, e.weights) : undefined;
        const r = run(model, ins, sig, weights);
        expect(r.code, JSON.stringify(r.json)).toBe(0);
        // the model's outputs and any inputs it did not consume (passed through, as Trax's Serial does)
        const want = outputsList(r.json.outputs.length, call.output_values);
        want.forEach((w, i) => expectClose(r.json.outputs[i].data, w, tol, `${c.id} output ${i}`));
      }
    });
  }
});

describe('state carried across runs (--state-out, then --state)', () => {
  for (const id of STATEFUL) {
    it(id, () => {
      const c = conformanceCases().get(id)!;
      const calls = (c.expected as { calls: { inputs: unknown; output_values: unknown }[] }).calls;
      const state = join(dir, `${id}.state.npz`);
      calls.forEach((call, n) => {
        const ins = inputsList(c, call.inputs);
        const path = join(dir, `${id}-${n}.json`);
        writeFileSync(path, JSON.stringify(ins.map((x, i) => tensorJson(x, c.input_signature[i].dtype))));
        const args = [join(repoRoot, 'bin', 'strata.js'), 'run', c.model, '--inputs', path, '--mode', 'predict', '--json', '--state-out', state, ...(n > 0 ? ['--state', state] : [])];
        const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
        expect(r.status, r.stderr + r.stdout).toBe(0);
        const json = JSON.parse(r.stdout);
        outputsList(c.expected.n_out ?? json.outputs.length, call.output_values).forEach((w, i) => expectClose(json.outputs[i].data, w, undefined, `${id} call ${n} output ${i}`));
      });
    });
  }
});
