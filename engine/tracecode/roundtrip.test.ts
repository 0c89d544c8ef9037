/**
 * Trax code both ways: for every layer (every row of the catalog table) and
 * every model constructor, print → parse gives the same document; parse →
 * print → parse is stable; a fuzz feeds the parser thousands of mutated
 * inputs and sees only clean errors.
 */
import { describe, expect, it } from 'vitest';
import { conformanceCases } from '../../test/conformance';
import { LayerError } from '../core/errors';
import { parseShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { traceDocument } from '../document/trace';
import { allKinds } from '../layers/registry';
import type { LayerCase } from '../layers/cases/types';
import { allCases, caseToNode } from '../layers/cases/all';
import { CodeError, codeToDocument, codeToTree } from './parse';
import { treeToCode } from './print';
import { canonicalTree } from './canonical';

const rows: LayerCase[] = allCases;

function roundTrip(root: DocNode): { code: string; back: DocNode } {
  const code = treeToCode(root);
  return { code, back: codeToTree(code) };
}

describe('print → parse gives the same document', () => {
  for (const [i, r] of rows.entries()) {
    it(`${r.kind} #${i}${r.note ? ` (${r.note})` : ''}`, () => {
      const root = canonicalTree(caseToNode(r));
      const { code, back } = roundTrip(root);
      expect(back, code).toEqual(root);
    });
  }

  it('every catalog kind is covered by a row', () => {
    const kinds = new Set(rows.map((r) => r.kind));
    expect(allKinds().filter((d) => !d.internal && !kinds.has(d.kind)).map((d) => d.kind)).toEqual([]);
  });

  it('keeps shared weights as one Python variable', () => {
    const root: DocNode = {
      id: 'a', kind: 'Serial', children: [
        { id: 'b', kind: 'Dense', params: { n_units: 4 } },
        { id: 'c', kind: 'Relu' },
        { id: 'd', kind: 'Dense', params: { n_units: 4 }, shareWeightsOf: 'b' },
      ],
    };
    const { code, back } = roundTrip(canonicalTree(root));
    expect(code).toContain('shared_dense = tl.Dense(4)');
    expect(code.match(/shared_dense/g)!.length).toBe(3);
    expect(back).toEqual(canonicalTree(root));
  });

  it('keeps an unknown kind as a placeholder with its parameters', () => {
    const root = codeToTree('tl.Serial(tl.Dense(3), tl.FancyNewLayer(7, width=2, mode="x"))');
    expect(root.children![1]).toMatchObject({ kind: 'FancyNewLayer', params: { '*': [7], width: 2, mode: 'x' } });
    expect(roundTrip(root).back).toEqual(root);
  });
});

describe('model constructors', () => {
  const models = [
    'trax.models.TransformerLM(vocab_size=32000)',
    'trax.models.TransformerLM(16, d_model=32, d_ff=64, n_layers=2, n_heads=2)',
    'TransformerLM(16, d_model=32, d_ff=64, n_layers=2, n_heads=2, mode=\'eval\', ff_activation=tl.Gelu)',
    'trax.models.Transformer(16, 50, d_model=32, d_ff=64, n_encoder_layers=2, n_decoder_layers=2, n_heads=2)',
    'trax.models.TransformerEncoder(16, n_classes=10, d_model=32, d_ff=64, n_layers=2, n_heads=2)',
    'trax.models.ReformerLM(32, d_model=16, d_ff=32, n_layers=2, n_heads=2, attention_type=tl.LSHSelfAttention)',
    'trax.models.ReformerLM(32, attention_type=[tl.SelfAttention, tl.LSHSelfAttention], n_layers=4)',
  ];
  for (const src of models) {
    it(src, () => {
      const root = codeToTree(src);
      const { code, back } = roundTrip(root);
      expect(back, code).toEqual(root);
      expect(treeToCode(back)).toBe(code);
    });
  }
});

describe('parsing Trax code', () => {
  it('accepts every way to name a layer', () => {
    const forms = ['tl.Dense(4)', 'trax.layers.Dense(4)', 'trax.layers.core.Dense(4)', 'Dense(4)', 'layers.Dense(4)', 'tl.Dense(n_units=4)'];
    for (const f of forms) expect(codeToTree(f)).toEqual({ id: 'n1', kind: 'Dense', params: { n_units: 4 } });
  });

  it('reads literals, initializers, dtypes, lambdas and lists', () => {
    const root = codeToTree(`
      import trax
      from trax import layers as tl   # the usual alias
      model = tl.Serial(
          tl.Dense(128, kernel_initializer=tl.initializers.GlorotNormalInitializer(scale=2.0), use_bias=False),
          tl.Dropout(rate=.25, shared_axes=(1,), mode='eval'),
          tl.Fn('Twice', lambda x: 2 * x),
          tl.Branch([], tl.Relu()),
          tl.MaxPool(pool_size=(3, 3), strides=(2, 2), padding='SAME'),
      )
    `);
    expect(root.children!.map((c) => c.kind)).toEqual(['Dense', 'Dropout', 'Fn', 'Branch', 'MaxPool']);
    expect(root.children![0].params).toEqual({ n_units: 128, kernel_initializer: { $init: 'GlorotNormalInitializer', args: { scale: 2 } }, use_bias: false });
    expect(root.children![1].params).toEqual({ rate: 0.25, shared_axes: [1], mode: 'eval' });
    expect(root.children![2].params).toEqual({ name: 'Twice', f: { $lambda: 'lambda x: 2 * x' } });
    expect(root.children![3].children).toEqual([{ id: 'n6', kind: 'Serial' }, { id: 'n7', kind: 'Relu' }]);
  });

  it('flattens lists inside Serial, as Trax does', () => {
    const root = codeToTree('tl.Serial([tl.Relu(), [tl.Tanh()]], None, tl.Exp())');
    expect(root.children!.map((c) => c.kind)).toEqual(['Relu', 'Tanh', 'Exp']);
  });

  it('reads the input signature comment', () => {
    const doc = codeToDocument('# input: int32[B,L], float32[B,L,8]\ntl.Serial()');
    expect(doc.input).toEqual([parseShapeDtype('int32[B,L]'), parseShapeDtype('float32[B,L,8]')]);
  });

  it('keeps an unknown parameter on the node, where the trace reports it', () => {
    const root = codeToTree('tl.Dense(4, n_unitz=3)');
    expect(root.params).toEqual({ n_units: 4, n_unitz: 3 });
    const t = traceDocument({ root, input: [parseShapeDtype('float32[2,3]')] });
    expect(t.errors[0]).toMatchObject({ code: 'unknown_param', param: 'n_unitz' });
    expect(t.errors[0].message).toContain('Dense has no parameter n_unitz');
  });

  it('a variable used twice shares its weights', () => {
    const root = codeToTree('emb = tl.Embedding(10, 4)\ntl.Parallel(emb, emb)');
    expect(root.children![1].shareWeightsOf).toBe(root.children![0].id);
    const t = traceDocument({ root, input: [parseShapeDtype('int32[B]'), parseShapeDtype('int32[B]')] });
    expect(t.errors).toEqual([]);
    expect(t.params).toBe(40);
  });

  const bad: [string, string, number, number][] = [
    ['tl.Serial(tl.Dense(4)', 'expected', 1, 22],
    ['tl.Serial(\n  tl.Dense(4),\n  3,\n)', 'expected a layer', 3, 3],
    ['tl.Relu', 'layer class', 1, 1],
    ['np.sum(x)', 'not a Trax layer', 1, 1],
    ['tl.one_hot(targets, 5)', 'function, not a layer', 1, 1],
    ['tl.Dense(4, kernel_initializer=tl.initializers.Nope())', 'not a Trax initializer', 1, 32],
    ['tl.Dense(4, kernel_initializer=tl.initializers.RandomNormalInitializer(sigma=1.0))', 'has no argument sigma', 1, 72],
    ['for x in y: pass', 'not supported', 1, 1],
    ['', 'no Trax expression', 1, 1],
    ['tl.Dense(4)\ntl.Relu()', 'second one', 2, 1],
    ['tl.Relu(1)', 'at most 0 positional', 1, 9],
  ];
  for (const [src, msg, line, col] of bad) {
    it(`reports ${JSON.stringify(src)} at ${line}:${col}`, () => {
      let e: unknown;
      try { codeToTree(src); } catch (x) { e = x; }
      expect(e).toBeInstanceOf(CodeError);
      expect((e as CodeError).message).toContain(msg);
      expect([(e as CodeError).line, (e as CodeError).col]).toEqual([line, col]);
    });
  }
});

describe('fuzz', () => {
  const seeds = [
    'tl.Serial(tl.Dense(128), tl.Relu(), tl.Dense(10))',
    "tl.Fn('SumAndMax', lambda x0, x1: (x0 + x1, jnp.maximum(x0, x1)), n_out=2)",
    'trax.models.TransformerLM(vocab_size=32000, d_model=512, n_layers=6)',
    "tl.Residual(tl.LayerNorm(), tl.Dense(64), shortcut=tl.Fn('AddOne', lambda x: x + 1))",
    "tl.Conv(32, (3, 3), strides=(2, 2), padding='SAME', kernel_initializer=tl.initializers.GlorotNormalInitializer())",
    'emb = tl.Embedding(100, 8)\nmodel = tl.Serial(tl.Branch(emb, emb), tl.Concatenate())',
    "tl.Scan(tl.Fn('F', lambda x, c: (x + c, x + c), n_out=2), axis=1, mode='predict')",
    "tl.Dropout(rate=0.1, shared_axes=[-2], mode='train')",
  ];
  it('sees only clean errors on mutated input', () => {
    let s = 12345;
    const rnd = (n: number): number => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s % n; };
    const alphabet = '()[]{},.:=+-*/<>\'"#\n _0123456789abcxyzTLtl';
    let ok = 0, clean = 0;
    for (let i = 0; i < 3000; i++) {
      let src = seeds[rnd(seeds.length)];
      const n = 1 + rnd(4);
      for (let k = 0; k < n; k++) {
        const at = rnd(src.length + 1);
        switch (rnd(5)) {
          case 0: src = src.slice(0, at) + src.slice(at + 1 + rnd(4)); break;
          case 1: src = src.slice(0, at) + alphabet[rnd(alphabet.length)] + src.slice(at); break;
          case 2: src = src.slice(0, at) + src.slice(rnd(src.length)); break;
          case 3: src = src.slice(0, at); break;
          default: { const j = rnd(src.length); src = src.slice(0, at) + src.slice(j, j + 5) + src.slice(at); }
        }
      }
      try {
        const root = codeToTree(src);
        // whatever parsed must trace without throwing
        traceDocument({ root, input: [parseShapeDtype('float32[2,8]')] });
        ok++;
      } catch (e) {
        if (!(e instanceof CodeError) || !(e instanceof LayerError)) throw new Error(`${JSON.stringify(src)} threw ${String(e)}`);
        expect(e.line).toBeGreaterThanOrEqual(1);
        clean++;
      }
    }
    expect(ok + clean).toBe(3000);
  });
});

describe('conformance models parse', () => {
  const cases = [...conformanceCases().values()];
  for (const c of cases) {
    const exprs = c.model.split(';').map((s) => s.trim());
    if (exprs.some((e) => !/^(tl|trax)\./.test(e) || /\.save_to_file|\.init_from_file|^tl\.one_hot\(/.test(e))) continue;
    it(c.id, () => {
      for (const e of exprs) {
        const root = codeToTree(e);
        expect(roundTrip(root).back).toEqual(root);
      }
    });
  }
});
