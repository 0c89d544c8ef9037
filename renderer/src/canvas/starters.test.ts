import { describe, expect, it } from 'vitest';
import { parseShapeDtype } from '../../../engine/core/shape';
import { resolveParams } from '../../../engine/document/params';
import { analyze, traceDocument } from '../../../engine/document/trace';
import { REQUIRED } from '../../../engine/layers/def';
import { allKinds, lookupKind } from '../../../engine/layers/registry';
import { freshNodeId, starterParams } from './starters';

describe('starterParams', () => {
  it('gives the usual starting values', () => {
    expect(starterParams(lookupKind('Dense')!)).toEqual({ n_units: 32 });
    expect(starterParams(lookupKind('Embedding')!)).toEqual({ vocab_size: 100, d_feature: 32 });
    expect(starterParams(lookupKind('Conv')!)).toEqual({ filters: 16, kernel_size: [3, 3] });
    expect(starterParams(lookupKind('CausalAttention')!)).toEqual({ d_feature: 32 });
    expect(starterParams(lookupKind('Relu')!)).toEqual({});
    expect(starterParams(lookupKind('Serial')!)).toEqual({});
  });

  it('fills every required parameter of every palette kind with a valid value', () => {
    for (const def of allKinds()) {
      if (def.internal) continue;
      const params = starterParams(def);
      const required = def.args.filter((a) => a.arg === 'param' && a.default === REQUIRED).map((a) => a.name);
      expect(Object.keys(params).sort(), def.kind).toEqual(required.sort());
      const { errors } = resolveParams(def, params);
      expect(errors.map((e) => e.message), def.kind).toEqual([]);
      const a = analyze({ id: 'x', kind: def.kind, params });
      expect(a.errors.filter((e) => e.code === 'missing_param' && e.detail.param && e.detail.param in params), def.kind).toEqual([]);
    }
  });

  it('makes common layers trace on a typical activation', () => {
    for (const kind of ['Dense', 'CausalAttention', 'LayerNorm', 'Relu', 'Dropout', 'LSTM', 'GRU']) {
      const doc = {
        input: [parseShapeDtype('float32[B,L,32]')],
        root: { id: 'r', kind: 'Serial', children: [{ id: 'x', kind, params: starterParams(lookupKind(kind)!) }] },
      };
      expect(traceDocument(doc).errors.map((e) => e.message), kind).toEqual([]);
    }
  });

  it('makes fresh ids', () => {
    const a = freshNodeId(), b = freshNodeId();
    expect(a).toMatch(/^n[0-9a-z]+$/);
    expect(a).not.toBe(b);
  });
});
