import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { TensorValue } from '../core/onnx';
import { WeightsFileError, npyHeader, readNpy, readNpz, writeNpy, writeNpz } from './npz';
import { weightStream } from './random';

const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const FIXTURES = ['savez.npz', 'savez_compressed.npz', 'v2.npz', 'v3.npz', 'bigendian.npz', 'fortran.npz', 'fortran_vector.npz', 'complex.npz', 'unicode.npz', 'pe.npz', 'f16.npz'];

function fileError(f: () => unknown): WeightsFileError {
  try {
    f();
  } catch (e) {
    if (e instanceof WeightsFileError) return e;
    throw e;
  }
  throw new Error('no error');
}

/** The header dict of .npy bytes, checked the way numpy.lib.format reads it. */
function npyParts(b: Uint8Array): { version: number; headerEnd: number; dict: string } {
  expect(Array.from(b.subarray(0, 6))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  const version = b[6];
  expect(b[7]).toBe(0);
  const lenBytes = version === 1 ? 2 : 4;
  const hlen = version === 1 ? b[8] | (b[9] << 8) : new DataView(b.buffer, b.byteOffset).getUint32(8, true);
  const headerEnd = 8 + lenBytes + hlen;
  expect(headerEnd % 64).toBe(0);
  expect(b[headerEnd - 1]).toBe(0x0a);
  return { version, headerEnd, dict: String.fromCharCode(...b.subarray(8 + lenBytes, headerEnd)).trim() };
}

const ALL_DTYPES: TensorValue[] = [
  { dtype: 'float32', dims: [2, 3], data: Float32Array.of(1.5, -0, NaN, Infinity, -Infinity, 3.4e38) },
  { dtype: 'float64', dims: [2], data: Float64Array.of(1e-300, -Math.PI) },
  { dtype: 'float16', dims: [3], data: Uint16Array.of(0x3c00, 0x7e00, 0x0001) },
  { dtype: 'int32', dims: [2, 1], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
  { dtype: 'int64', dims: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
  { dtype: 'int8', dims: [3], data: Int32Array.of(-128, 0, 127) },
  { dtype: 'uint8', dims: [3], data: Int32Array.of(0, 128, 255) },
  { dtype: 'bool', dims: [2, 2], data: Int32Array.of(1, 0, 0, 1) },
];

describe('writeNpz / readNpz round trip', () => {
  it('keeps every dtype, value and shape (bit patterns of floats included)', () => {
    const entries = ALL_DTYPES.map((t, i) => [`t${i}/${t.dtype}`, t] as [string, TensorValue]);
    const back = readNpz(writeNpz(entries));
    expect([...back.keys()]).toEqual(entries.map(([k]) => k));
    for (const [k, t] of entries) {
      const got = back.get(k)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.dims).toEqual(t.dims);
      if (t.dtype === 'float32') expect(new Uint32Array(got.data.buffer)).toEqual(new Uint32Array((t.data as Float32Array).buffer));
      else expect(got.data).toEqual(t.data);
    }
  });

  it('keeps scalars and empty arrays', () => {
    const entries: [string, TensorValue][] = [
      ['scalar', { dtype: 'float32', dims: [], data: Float32Array.of(2.5) }],
      ['int scalar', { dtype: 'int64', dims: [], data: BigInt64Array.of(-7n) }],
      ['empty', { dtype: 'float32', dims: [0], data: new Float32Array(0) }],
      ['empty/2d', { dtype: 'int32', dims: [2, 0, 4], data: new Int32Array(0) }],
    ];
    const back = readNpz(writeNpz(entries));
    for (const [k, t] of entries) expect(back.get(k)).toEqual(t);
    expect(readNpz(writeNpz([])).size).toBe(0);
  });

  it('writes bfloat16 as float32 (no NumPy descr), exactly', () => {
    const t: TensorValue = { dtype: 'bfloat16', dims: [3], data: Uint16Array.of(0x3f80, 0xc049, 0x7f80) };
    const back = readNpz(writeNpz([['b', t]])).get('b')!;
    expect(back).toEqual({ dtype: 'float32', dims: [3], data: Float32Array.of(1, -3.140625, Infinity) });
    expect(npyParts(writeNpy(t)).dict).toContain("'descr': '<f4'");
  });

  it('accepts Uint8Array data for bool/uint8 and plain Int32Array for int8', () => {
    const back = readNpz(writeNpz([['b', { dtype: 'bool', dims: [3], data: Uint8Array.of(0, 5, 1) }], ['u', { dtype: 'uint8', dims: [1], data: Uint8Array.of(200) }]]));
    expect(back.get('b')!.data).toEqual(Int32Array.of(0, 1, 1));
    expect(back.get('u')!.data).toEqual(Int32Array.of(200));
  });

  it('is deterministic: the same weights give the same bytes', () => {
    const e: [string, TensorValue][] = [['a', ALL_DTYPES[0]]];
    expect(writeNpz(e)).toEqual(writeNpz(e));
  });

  it('rejects what it cannot write', () => {
    expect(fileError(() => writeNpz([['a', { dtype: 'float32', dims: [2, 2], data: new Float32Array(3) }]])).message).toMatch(/'a': shape \(2, 2\) needs 4 values, the tensor holds 3/);
    expect(fileError(() => writeNpz([['a', ALL_DTYPES[0]], ['a', ALL_DTYPES[1]]])).message).toMatch(/appears twice/);
    expect(fileError(() => writeNpz([['', ALL_DTYPES[0]]])).message).toMatch(/empty/);
    expect(fileError(() => writeNpz([['a', { dtype: 'float32', dims: [-1], data: new Float32Array(0) }]])).message).toMatch(/bad shape/);
  });
});

describe('NPY headers as NumPy writes them', () => {
  it('writes byte-for-byte what np.savez wrote for the same arrays', () => {
    const numpy = unzipSync(bytesOf('savez.npz'));
    const arrays = readNpz(bytesOf('savez.npz'));
    expect(arrays.size).toBe(11);
    const ours = unzipSync(writeNpz([...arrays]));
    for (const [key] of arrays) {
      expect({ key, bytes: Array.from(ours[`${key}.npy`]) }).toEqual({ key, bytes: Array.from(numpy[`${key}.npy`]) });
    }
  });

  it('pads to 64 bytes, ends with a newline, keeps growth room for shape[0]', () => {
    for (const dims of [[], [1], [2, 3], [123456789, 1, 1, 1, 1, 1, 1, 1, 1, 1], new Array<number>(30).fill(7)]) {
      const h = npyHeader('<f4', dims);
      const { version, headerEnd, dict } = npyParts(h);
      expect(version).toBe(1);
      expect(headerEnd).toBe(h.length);
      expect(dict).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`);
    }
  });

  it('switches to version 2.0 when the header outgrows 64 KiB, and reads it back', () => {
    const dims = new Array<number>(22000).fill(1);
    const bytes = writeNpy({ dtype: 'float32', dims, data: Float32Array.of(5) });
    expect(npyParts(bytes).version).toBe(2);
    const t = readNpy(bytes);
    expect(t.dims.length).toBe(22000);
    expect(t.data).toEqual(Float32Array.of(5));
  });
});

describe('readNpz of files NumPy wrote', () => {
  it('reads np.savez: every dtype, a 0-d array, an empty one, a tree-path key', () => {
    const m = readNpz(bytesOf('savez.npz'));
    expect(m.get('f4')).toEqual({ dtype: 'float32', dims: [2, 3], data: Float32Array.of(-1, -0.5, 0, 0.5, 1, 1.5) });
    expect(m.get('f8')).toEqual({ dtype: 'float64', dims: [3], data: Float64Array.of(1.5, -2.25, 3e100) });
    expect(m.get('f2')).toEqual({ dtype: 'float16', dims: [3], data: Uint16Array.of(0x3c00, 0xb800, 0x7bff) });
    expect(m.get('i4')).toEqual({ dtype: 'int32', dims: [2, 2], data: Int32Array.of(1, -2, 3, 2147483647) });
    expect(m.get('i8')).toEqual({ dtype: 'int64', dims: [3], data: BigInt64Array.of(-1n, 2n ** 40n, 0n) });
    expect(m.get('b1')).toEqual({ dtype: 'bool', dims: [3], data: Int32Array.of(1, 0, 1) });
    expect(m.get('i1')).toEqual({ dtype: 'int8', dims: [3], data: Int32Array.of(-128, 5, 127) });
    expect(m.get('u1')).toEqual({ dtype: 'uint8', dims: [3], data: Int32Array.of(0, 200, 255) });
    expect(m.get('scalar')).toEqual({ dtype: 'float32', dims: [], data: Float32Array.of(3.25) });
    expect(m.get('empty')).toEqual({ dtype: 'float32', dims: [0, 3], data: new Float32Array(0) });
    expect(m.get('Serial[1]/Dense/kernel')).toEqual({ dtype: 'float32', dims: [2, 2], data: Float32Array.of(0.25, -0.5, 1, 2) });
  });

  it('reads np.savez_compressed (deflated entries)', () => {
    const m = readNpz(bytesOf('savez_compressed.npz'));
    expect(m.get('zeros')).toEqual({ dtype: 'float32', dims: [4, 8], data: new Float32Array(32) });
    expect(m.get('idx')!.data).toEqual(Int32Array.from({ length: 10 }, (_, i) => i));
  });

  it('reads NPY versions 2.0 and 3.0', () => {
    const v2 = readNpz(bytesOf('v2.npz'));
    expect(v2.get('a')).toEqual({ dtype: 'float32', dims: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) });
    expect(v2.get('n')).toEqual({ dtype: 'int32', dims: [], data: Int32Array.of(-7) });
    expect(readNpz(bytesOf('v3.npz')).get('b')).toEqual({ dtype: 'float64', dims: [2], data: Float64Array.of(1, 2) });
  });

  it('reads big-endian data', () => {
    const m = readNpz(bytesOf('bigendian.npz'));
    expect(m.get('f')).toEqual({ dtype: 'float32', dims: [3], data: Float32Array.of(1.5, -2, 3) });
    expect(m.get('q')).toEqual({ dtype: 'int64', dims: [2], data: BigInt64Array.of(-3n, 2n ** 33n) });
  });

  it('rejects Fortran-order matrices naming the key; a Fortran-order vector is the same bytes', () => {
    const e = fileError(() => readNpz(bytesOf('fortran.npz')));
    expect(e.key).toBe('m');
    expect(e.message).toMatch(/'m': Fortran-order arrays are not supported/);
    expect(readNpz(bytesOf('fortran_vector.npz')).get('v')!.data).toEqual(Float32Array.of(0, 1, 2));
  });

  it('rejects dtypes without a Strata dtype, naming the key', () => {
    const c = fileError(() => readNpz(bytesOf('complex.npz')));
    expect(c.key).toBe('c');
    expect(c.message).toMatch(/unsupported dtype '<c8'/);
    expect(fileError(() => readNpz(bytesOf('unicode.npz'))).message).toMatch(/'s': unsupported dtype '<U2'/);
  });
});

describe('readNpz errors', () => {
  const npz = (files: Record<string, Uint8Array>) => zipSync(files, { level: 0 });
  const good = writeNpy({ dtype: 'float32', dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
  const withHeader = (dict: string, data = new Uint8Array(16)) => {
    const h = new TextEncoder().encode(dict.padEnd(118) + '\n');
    const out = new Uint8Array(10 + h.length + data.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
    out.set(h, 10);
    out.set(data, 10 + h.length);
    return out;
  };

  it('names what is wrong', () => {
    const msg = (b: Uint8Array) => fileError(() => readNpz(b)).message;
    expect(msg(new Uint8Array(0))).toMatch(/too short for a zip archive/);
    expect(msg(new TextEncoder().encode('this is not a zip file, just some text that is long enough'))).toMatch(/no zip end-of-directory record/);
    expect(msg(npz({ 'a.txt': Uint8Array.of(1) }))).toMatch(/the entry 'a.txt' is not an .npy array/);
    expect(msg(npz({ 'a.npy': Uint8Array.of(1, 2, 3) }))).toMatch(/'a': not an .npy array/);
    expect(msg(npz({ 'a.npy': good.subarray(0, good.length - 1) }))).toMatch(/'a': the data is truncated: shape \(2, 2\) of '<f4' needs 16 bytes, 15 remain/);
    expect(msg(npz({ 'a.npy': good.subarray(0, 40) }))).toMatch(/'a': the .npy header is truncated/);
    const v9 = good.slice();
    v9[6] = 9;
    expect(msg(npz({ 'a.npy': v9 }))).toMatch(/unsupported .npy format version 9.0/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '<f4', 'shape': (2,), }") }))).toMatch(/keys descr,shape, expected descr, fortran_order, shape/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }") }))).toMatch(/not a tuple of non-negative integers/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ") }))).toMatch(/bad .npy header/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }") }))).toMatch(/structured arrays/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '<V2', 'fortran_order': False, 'shape': (2,), }") }))).toMatch(/bfloat16\? write it as float32/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }") }))).toMatch(/needs a byte order/);
    expect(msg(npz({ 'a.npy': withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }") }))).toMatch(/truncated/);
    // a flipped data byte: the CRC catches it
    const z = writeNpz([['a', { dtype: 'float32', dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]]);
    const i = z.indexOf(0x80, 150); // inside the data (1.0f = 00 00 80 3f)
    z[i] ^= 1;
    expect(msg(z)).toMatch(/'a.npy' fails its CRC check/);
    const e = fileError(() => readNpz(npz({ 'w/k.npy': good.subarray(0, 20) })));
    expect(e.key).toBe('w/k');
  });

  it('readNpy reads a lone .npy', () => {
    expect(readNpy(good)).toEqual({ dtype: 'float32', dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) });
    expect(fileError(() => readNpy(Uint8Array.of(1), 'x')).key).toBe('x');
  });

  it('skips directory entries', () => {
    expect([...readNpz(npz({ 'dir/': new Uint8Array(0), 'dir/a.npy': good })).keys()]).toEqual(['dir/a']);
  });
});

describe('readNpz fuzz: only WeightsFileError', () => {
  const s = weightStream(2024, 'fuzz');
  const int = (n: number) => Math.floor(s.float() * n);

  /** 1-4 random edits: bit flips, random bytes and 32-bit values (sizes, offsets, counts), truncation, insertion, deletion, header punctuation. */
  function mutate(src: Uint8Array): Uint8Array {
    let b = src.slice();
    const edits = 1 + int(4);
    for (let e = 0; e < edits; e++) {
      const at = int(b.length);
      switch (int(7)) {
        case 0: b[at] ^= 1 << int(8); break;
        case 1: b[at] = int(256); break;
        case 2: {
          const v = [0, 0xffffffff, 0x7fffffff, int(2 ** 32), b.length, 1 << int(32)][int(6)];
          for (let j = 0; j < 4 && at + j < b.length; j++) b[at + j] = (v >>> (8 * j)) & 0xff;
          break;
        }
        case 3: b = b.slice(0, at); break;
        case 4: {
          const ins = Uint8Array.from({ length: 1 + int(8) }, () => int(256));
          const nb = new Uint8Array(b.length + ins.length);
          nb.set(b.subarray(0, at));
          nb.set(ins, at);
          nb.set(b.subarray(at), at + ins.length);
          b = nb;
          break;
        }
        case 5: b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + int(16)))]); break;
        default: b[at] = [0x27, 0x28, 0x29, 0x2c, 0x3a, 0x7b, 0x7d, 0x20, 0x30, 0x39, 0x5b, 0x5d][int(12)]; break;
      }
    }
    return b;
  }

  function expectOnlyFileErrors(n: number, read: (i: number) => Map<string, TensorValue> | TensorValue): { ok: number; errors: number } {
    let ok = 0, errors = 0;
    for (let i = 0; i < n; i++) {
      try {
        const got = read(i);
        for (const t of got instanceof Map ? got.values() : [got]) expect(t.data.length).toBe(t.dims.reduce((a, d) => a * d, 1));
        ok++;
      } catch (e) {
        if (!(e instanceof WeightsFileError)) throw new Error(`iteration ${i}: ${(e as Error).name}: ${(e as Error).message}`);
        expect(e.message.startsWith('cannot read the weights file')).toBe(false); // no unexpected exception was converted
        errors++;
      }
    }
    return { ok, errors };
  }

  const zips = [...FIXTURES.map(bytesOf), writeNpz(ALL_DTYPES.map((t, i) => [`k${i}`, t]))];
  const npys = zips.flatMap((z) => Object.values(unzipSync(z)));

  it('mutated .npz files (the zip layer)', () => {
    const { errors } = expectOnlyFileErrors(5000, (i) => readNpz(mutate(zips[i % zips.length])));
    expect(errors).toBeGreaterThan(4000);
  });

  it('mutated .npy entries in valid zips (the NPY layer)', () => {
    const { ok, errors } = expectOnlyFileErrors(5000, (i) => {
      const b = mutate(npys[i % npys.length]);
      return i % 2 ? readNpy(b, 'k') : readNpz(zipSync({ 'k.npy': b }, { level: i % 4 === 0 ? 6 : 0 }));
    });
    expect(errors).toBeGreaterThan(1000);
    expect(ok).toBeGreaterThan(100);
  });
});
