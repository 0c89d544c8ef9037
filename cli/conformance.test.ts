/**
 * Trax's own cases through the real `strata shapes` command: n_in, n_out and
 * output shapes for every shape and value case, exit 2 and the message for
 * every error case.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedPath } from '../test/shared';

interface Sig { shape: (number | string)[]; dtype: string }
interface Case {
  id: string;
  kind: 'shape' | 'value' | 'error';
  model: string;
  input_signature?: Sig[];
  expected: {
    n_in?: number; n_out?: number; output_shapes?: (number | string)[][];
    n_in_each?: number[] | Record<string, number>; n_out_each?: number[];
    error?: { raises: string; when: string; message_contains?: string };
  };
}

const cases = JSON.parse(readFileSync(sharedPath('conformance/trax-cases.json'), 'utf8')) as Case[];

/**
 * Three cases are not a layer expression: a save/load script (its layer is
 * tl.Dense(4, use_bias=False)), a plain function (tl.one_hot) and a formula
 * (LSH round combination, a value case for the execution issue).
 */
const NOT_AN_EXPRESSION: Record<string, string | null> = {
  dense_save_load_roundtrip: 'tl.Dense(4, use_bias=False)',
  one_hot_fn: null,
  lsh_combine_hashes: null,
};

function strata(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'strata.js'), ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

function sigArgs(sigs: Sig[] | undefined): string[] {
  return (sigs ?? []).flatMap((s) => ['--input', `${s.dtype}[${s.shape.join(',')}]`]);
}

function shapesJson(model: string, sigs: Sig[] | undefined): { code: number; json: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = strata(['shapes', model, ...sigArgs(sigs), '--json']);
  let json: unknown;
  try { json = JSON.parse(r.out); } catch { json = undefined; }
  return { code: r.code, json };
}

describe('conformance through strata shapes', () => {
  for (const c of cases) {
    if (c.id in NOT_AN_EXPRESSION && NOT_AN_EXPRESSION[c.id] === null) continue;
    const model = NOT_AN_EXPRESSION[c.id] ?? c.model;
    const e = c.expected;
    it(`${c.kind}: ${c.id}`, () => {
      if (c.kind === 'error') {
        const r = shapesJson(model, c.input_signature);
        expect(r.code, JSON.stringify(r.json)).toBe(2);
        expect(r.json.error.code).toBeTypeOf('string');
        if (e.error?.message_contains) expect(r.json.error.message.toLowerCase()).toContain(e.error.message_contains.toLowerCase());
        return;
      }
      const exprs = model.split(';').map((s) => s.trim());
      if (exprs.length > 1) {
        // several layers in one case: n_in/n_out per layer
        const nInEach = Array.isArray(e.n_in_each) ? e.n_in_each : exprs.map((x) => (e.n_in_each as Record<string, number> | undefined)?.[/tl\.(\w+)/.exec(x)![1]]);
        exprs.forEach((x, i) => {
          const sigs = c.input_signature?.length ? c.input_signature : Array.from({ length: 4 }, () => ({ dtype: 'float32', shape: [2] }));
          const r = shapesJson(x, sigs);
          expect(r.code, `${x}: ${JSON.stringify(r.json)}`).toBe(0);
          if (nInEach[i] !== undefined) expect(r.json.n_in, x).toBe(nInEach[i]);
          if (e.n_out_each) expect(r.json.n_out, x).toBe(e.n_out_each[i]);
          if (e.n_in !== undefined) expect(r.json.n_in, x).toBe(e.n_in);
          if (e.output_shapes) expect(r.json.outputs.slice(0, r.json.n_out).map((o: { shape: unknown }) => o.shape), x).toEqual(e.output_shapes);
        });
        return;
      }
      const r = shapesJson(model, c.input_signature);
      expect(r.code, JSON.stringify(r.json)).toBe(0);
      if (e.n_in !== undefined) expect(r.json.n_in).toBe(e.n_in);
      if (e.n_out !== undefined) expect(r.json.n_out).toBe(e.n_out);
      if (e.output_shapes) {
        // extra inputs stay on the stack below the outputs (Trax's Serial pass-through)
        expect(r.json.outputs.map((o: { shape: unknown }) => o.shape)).toEqual(e.output_shapes);
      }
    });
  }
});

describe('the command', () => {
  it('prints the documented JSON for a small Serial', () => {
    const r = shapesJson('tl.Serial(tl.Dense(4), tl.Relu())', [{ dtype: 'float32', shape: [2, 3] }, { dtype: 'int32', shape: ['B'] }]);
    expect(r.code).toBe(0);
    expect(r.json).toEqual({
      n_in: 1, n_out: 1,
      outputs: [{ dtype: 'float32', shape: [2, 4] }, { dtype: 'int32', shape: ['B'] }],
      params: 16,
      layers: [
        { path: 'Serial[0]', kind: 'Dense', n_in: 1, n_out: 1, stack_before: [{ dtype: 'float32', shape: [2, 3] }], stack_after: [{ dtype: 'float32', shape: [2, 4] }], params: 16 },
        { path: 'Serial[1]', kind: 'Relu', n_in: 1, n_out: 1, stack_before: [{ dtype: 'float32', shape: [2, 4] }], stack_after: [{ dtype: 'float32', shape: [2, 4] }], params: 0 },
      ],
    });
  });

  it('keeps symbolic dimensions symbolic', () => {
    const r = shapesJson('tl.Serial(tl.Embedding(100, 8), tl.Flatten())', [{ dtype: 'int32', shape: ['B', 'L'] }]);
    expect(r.json.outputs).toEqual([{ dtype: 'float32', shape: ['B', 'L*8'] }]);
  });

  it('reports a shape error with its path, exit 2', () => {
    const r = shapesJson('tl.Serial(tl.Dense(4), tl.Residual(tl.Dense(5)))', [{ dtype: 'float32', shape: [2, 3] }]);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'shape_mismatch', path: 'Serial[1]', kind: 'Residual' });
    expect(r.json.error.stack).toEqual([{ dtype: 'float32', shape: [2, 4] }]);
  });

  it('reports a bad parameter naming it, exit 2', () => {
    const r = shapesJson('tl.Serial(tl.Relu(), tl.Dense(0))', [{ dtype: 'float32', shape: [2, 3] }]);
    expect(r.code).toBe(2);
    expect(r.json.error).toMatchObject({ code: 'bad_param', path: 'Serial[1]', kind: 'Dense', param: 'n_units' });
  });

  it('reports a syntax error with line and column, exit 2', () => {
    const r = shapesJson('tl.Serial(tl.Dense(4),\n  tl.Relu(', [{ dtype: 'float32', shape: [2, 3] }]);
    expect(r.code).toBe(2);
    expect(r.json.error.code).toBe('syntax');
    expect(r.json.error.message).toMatch(/<expression>:2:\d+/);
  });

  it('exits 1 on bad usage', () => {
    expect(strata(['shapes', 'tl.Relu()', '--frobnicate']).code).toBe(1);
    expect(strata(['shapes', 'missing-file.strata.json', '--json']).code).toBe(1);
    expect(strata(['shapes', 'tl.Relu()', '--input', 'float33[2]']).code).toBe(1);
    expect(strata(['nonsense']).code).toBe(1);
  });

  it('summary prints a table with totals', () => {
    const r = strata(['summary', 'tl.Serial(tl.Dense(128), tl.Relu(), tl.Dense(10))', '--input', 'float32[B,784]']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Dense');
    expect(r.out).toContain('float32[B,128]');
    expect(r.out).toContain(`Total params: ${(784 * 128 + 128 + 128 * 10 + 10).toLocaleString('en-US')}`);
  });
});
