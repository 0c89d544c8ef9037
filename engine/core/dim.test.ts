import { describe, expect, it } from 'vitest';
import { dimAdd, dimCeilDiv, dimDivisible, dimFloorDiv, dimMul, dimProd, dimSub, parseDim } from './dim';
import { broadcastShapes, parseShapeDtype, promote, formatShapeDtype } from './shape';
import { LayerError } from './errors';

describe('symbolic dimensions', () => {
  it('keeps integer arithmetic exact', () => {
    expect(dimMul(3, 4)).toBe(12);
    expect(dimFloorDiv(7, 2)).toBe(3);
    expect(dimCeilDiv(7, 2)).toBe(4);
  });
  it('canonicalises products and sums', () => {
    expect(dimMul('L', 8)).toBe('L*8');
    expect(dimMul(8, 'L')).toBe('L*8');
    expect(dimMul('L', 'B')).toBe('B*L');
    expect(dimProd(['B', 'L', 2])).toBe('B*L*2');
    expect(dimAdd('L', 2)).toBe('L+2');
    expect(dimSub('L', 'L')).toBe(0);
    expect(dimAdd(dimMul('L', 2), dimMul('L', 3))).toBe('L*5');
    expect(dimSub(3, 'H')).toBe('-H+3');
  });
  it('divides exactly where it can, else keeps a readable floor/ceil', () => {
    expect(dimFloorDiv('L*8', 2)).toBe('L*4');
    expect(dimFloorDiv('B*L', 'L')).toBe('B');
    expect(dimFloorDiv('B*L*8', 'B*2')).toBe('L*4');
    expect(dimFloorDiv('B*L+B', 'B')).toBe('L+1');
    expect(dimFloorDiv('B*L', 'H')).toBe('floor(B*L/H)');
    expect(dimFloorDiv(dimSub('H', 3), 2)).toBe('floor((H-3)/2)');
    expect(dimAdd(dimFloorDiv(dimSub('H', 3), 2), 1)).toBe('floor((H-3)/2)+1');
    expect(dimCeilDiv('H', 2)).toBe('ceil(H/2)');
    expect(dimFloorDiv('L*2', 'L')).toBe(2);
  });
  it('parses what it prints', () => {
    for (const s of ['B', 'L*8', 'B*L', 'L+2', 'floor((H-3)/2)+1', 'ceil(H/2)', '-H+3', 'batch']) expect(parseDim(s)).toBe(s);
    expect(parseDim(' 8 * L ')).toBe('L*8');
    expect(parseDim('(L+1)*2')).toBe('L*2+2');
    expect(() => parseDim('L+')).toThrow();
    expect(() => parseDim('3$')).toThrow();
  });
  it('decides divisibility when it can', () => {
    expect(dimDivisible(12, 4)).toBe(true);
    expect(dimDivisible(13, 4)).toBe(false);
    expect(dimDivisible('L*8', 4)).toBe(true);
    expect(dimDivisible('L', 4)).toBeUndefined();
  });
});

describe('ShapeDtype', () => {
  it('parses signatures', () => {
    expect(parseShapeDtype('float32[2,3]')).toEqual({ dtype: 'float32', shape: [2, 3] });
    expect(parseShapeDtype('int32[B, 128]')).toEqual({ dtype: 'int32', shape: ['B', 128] });
    expect(parseShapeDtype('float32[]')).toEqual({ dtype: 'float32', shape: [] });
    expect(formatShapeDtype(parseShapeDtype('float32[B,L*8]'))).toBe('float32[B,L*8]');
    expect(() => parseShapeDtype('float33[2]')).toThrow(/unknown dtype/);
    expect(() => parseShapeDtype('float32[2,,3]')).toThrow(/empty dimension/);
    expect(() => parseShapeDtype('float32')).toThrow(/dtype\[dims\]/);
  });
  it('broadcasts as NumPy does', () => {
    expect(broadcastShapes([2, 1, 4], [3, 1])).toEqual([2, 3, 4]);
    expect(broadcastShapes(['B', 1], [1, 'L'])).toEqual(['B', 'L']);
    expect(broadcastShapes([], [2])).toEqual([2]);
    expect(() => broadcastShapes([2], [3])).toThrow(LayerError);
    expect(() => broadcastShapes(['B'], [3])).toThrow(/symbolic/);
  });
  it('promotes dtypes as JAX with x64 off', () => {
    expect(promote('int32', 'float32')).toBe('float32');
    expect(promote('bool', 'int32')).toBe('int32');
    expect(promote('bfloat16', 'float16')).toBe('float32');
  });
});
