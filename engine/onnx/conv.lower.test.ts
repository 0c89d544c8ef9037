/**
 * Numbers of the pooling and convolution lowerings: onnxruntime (CPU)
 * against naive TypeScript windows — MaxPool/SumPool/AvgPool with VALID and
 * SAME padding (XLA's: low = total//2; MaxPool pads -inf, SumPool 0, AvgPool
 * divides by the real elements) and strides, Conv as a naive
 * cross-correlation (VALID, SAME, SAME_LOWER, stride 2, NCHW layouts, the
 * rank-5 fold), Conv1d, CausalConv and CausalDepthwiseConv.
 */
import { describe, expect, it } from 'vitest';
import { type Arr, arr, close, indices, rand, run, size, stridesOf, transpose } from '../../test/lowering';

/** XLA's padding of a window axis: VALID none, SAME total = max((ceil(n/s)-1)*s + k - n, 0), low = total//2 */
function pads(n: number, k: number, s: number, padding: string): [number, number] {
  if (padding === 'VALID') return [0, 0];
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const low = padding === 'SAME_LOWER' ? total - Math.floor(total / 2) : Math.floor(total / 2);
  return [low, total - low];
}

/** the input positions of output position `o` on a window axis, with whether each is a real (unpadded) element */
function windowOf(o: number, k: number, s: number, low: number): number[] {
  return Array.from({ length: k }, (_, j) => o * s + j - low);
}

/** a pool over the axes between batch and channels of x [N, ...spatial, C] */
function poolRef(x: Arr, kind: 'max' | 'sum' | 'avg', k: number[], strides: number[], padding: string): Arr {
  const sp = x.shape.slice(1, -1), C = x.shape[x.shape.length - 1], N = x.shape[0];
  const pd = sp.map((n, i) => pads(n, k[i], strides[i], padding));
  const outSp = sp.map((n, i) => Math.floor((n + pd[i][0] + pd[i][1] - k[i]) / strides[i]) + 1);
  const xs = stridesOf(x.shape);
  const data: number[] = [];
  for (const [n, ...rest] of indices([N, ...outSp, C])) {
    const o = rest.slice(0, -1), c = rest[rest.length - 1];
    let acc = kind === 'max' ? -Infinity : 0, count = 0;
    for (const off of indices(k)) {
      const pos = o.map((oi, i) => windowOf(oi, k[i], strides[i], pd[i][0])[off[i]]);
      if (pos.some((p, i) => p < 0 || p >= sp[i])) continue;
      const v = x.data[n * xs[0] + pos.reduce((a, p, i) => a + p * xs[i + 1], 0) + c];
      acc = kind === 'max' ? Math.max(acc, v) : acc + v;
      count++;
    }
    data.push(kind === 'avg' ? acc / count : acc);
  }
  return { shape: [N, ...outSp, C], data };
}

/** cross-correlation of x [N, ...spatial, C] with w [...k, C, F] (+ b [F]), explicit pads per axis */
function convRef(x: Arr, w: Arr, strides: number[], pd: [number, number][], b?: Arr): Arr {
  const sp = x.shape.slice(1, -1), C = x.shape[x.shape.length - 1], N = x.shape[0];
  const k = w.shape.slice(0, -2), F = w.shape[w.shape.length - 1];
  const outSp = sp.map((n, i) => Math.floor((n + pd[i][0] + pd[i][1] - k[i]) / strides[i]) + 1);
  const xs = stridesOf(x.shape), ws = stridesOf(w.shape);
  const data: number[] = [];
  for (const [n, ...rest] of indices([N, ...outSp, F])) {
    const o = rest.slice(0, -1), f = rest[rest.length - 1];
    let acc = b ? b.data[f] : 0;
    for (const off of indices(k)) {
      const pos = o.map((oi, i) => oi * strides[i] + off[i] - pd[i][0]);
      if (pos.some((p, i) => p < 0 || p >= sp[i])) continue;
      for (let c = 0; c < C; c++) {
        acc += x.data[n * xs[0] + pos.reduce((a, p, i) => a + p * xs[i + 1], 0) + c] * w.data[off.reduce((a, p, i) => a + p * ws[i], 0) + c * ws[k.length] + f];
      }
    }
    data.push(acc);
  }
  return { shape: [N, ...outSp, F], data };
}

describe('pooling lowerings against naive windows', () => {
  const x2 = rand([2, 5, 6, 3], 'pool2', 4);
  const x1 = rand([2, 7, 2], 'pool1', 4);
  for (const kind of ['max', 'sum', 'avg'] as const) {
    const layer = { max: 'MaxPool', sum: 'SumPool', avg: 'AvgPool' }[kind];
    for (const padding of ['VALID', 'SAME']) {
      for (const [x, k, s] of [[x2, [2, 3], [1, 1]], [x2, [3, 3], [2, 2]], [x2, [2, 2], null], [x1, [3], [2]], [x1, [4], [3]]] as [Arr, number[], number[] | null][]) {
        it(`${layer} ${padding} pool_size ${k} strides ${s ?? 'default (1)'} on ${x.shape}`, async () => {
          const [y] = await run({ kind: layer, params: { pool_size: k, strides: s, padding } }, [{ a: x }]);
          close(y, poolRef(x, kind, k, s ?? k.map(() => 1), padding), 1e-5, 1e-5);
        });
      }
    }
  }

  it('MaxPool SAME pads with -inf: an all-negative input keeps its values', async () => {
    const x = arr([1, 4, 1], [-5, -6, -7, -8]);
    const [y] = await run({ kind: 'MaxPool', params: { pool_size: [3], strides: [1], padding: 'SAME' } }, [{ a: x }]);
    expect(y.data).toEqual([-5, -5, -6, -7]);
  });

  it('AvgPool SAME divides by the real elements; integers average to float32', async () => {
    const x = arr([1, 5, 1], [1, 2, 3, 4, 5]);
    const [y] = await run({ kind: 'AvgPool', params: { pool_size: [3], strides: [1], padding: 'SAME' } }, [{ a: x, dtype: 'int32' }]);
    expect(y.type).toBe('float32');
    close(y, arr([1, 5, 1], [1.5, 2, 3, 4, 4.5]));
  });

  it('SumPool and MaxPool keep integer dtypes (exact)', async () => {
    const x = arr([1, 4, 2], [1, -2, 3, 40, -5, 6, 7, 8]);
    const [s] = await run({ kind: 'SumPool', params: { pool_size: [2], strides: [2] } }, [{ a: x, dtype: 'int32' }]);
    expect([s.type, s.data]).toEqual(['int32', [4, 38, 2, 14]]);
    const [m] = await run({ kind: 'MaxPool', params: { pool_size: [2], strides: [2] } }, [{ a: x, dtype: 'int32' }]);
    expect([m.type, m.data]).toEqual(['int32', [3, 40, 7, 8]]);
  });
});

describe('convolution lowerings against a naive cross-correlation', () => {
  const x = rand([2, 6, 7, 3], 'cx');
  const w = rand([3, 2, 3, 4], 'cw');
  const b = rand([4], 'cb');
  for (const padding of ['VALID', 'SAME', 'SAME_LOWER']) {
    for (const strides of [[1, 1], [2, 2], [2, 1]]) {
      it(`Conv NHWC/HWIO ${padding} strides ${strides}`, async () => {
        const [y] = await run({ kind: 'Conv', params: { filters: 4, kernel_size: [3, 2], strides, padding } }, [{ a: x }], { weights: { kernel: w, bias: b } });
        close(y, convRef(x, w, strides, [pads(6, 3, strides[0], padding), pads(7, 2, strides[1], padding)], b), 1e-5, 1e-5);
      });
    }
  }

  it('Conv NCHW/OIHW with a (filters, 1, 1) bias', async () => {
    const xn = transpose(x, [0, 3, 1, 2]);
    const wo = transpose(w, [3, 2, 0, 1]);
    const [y] = await run({ kind: 'Conv', params: { filters: 4, kernel_size: [3, 2], strides: [2, 1], padding: 'SAME', dimension_numbers: ['NCHW', 'OIHW', 'NCHW'] } }, [{ a: xn }],
      { weights: { kernel: wo, bias: arr([4, 1, 1], b.data) } });
    close(y, transpose(convRef(x, w, [2, 1], [pads(6, 3, 2, 'SAME'), pads(7, 2, 1, 'SAME')], b), [0, 3, 1, 2]), 1e-5, 1e-5);
  });

  it('Conv with mixed layouts: input NWHC, kernel WHIO (spatial order from the kernel), output NCHW', async () => {
    const xs = transpose(x, [0, 2, 1, 3]); // NWHC
    const ws = transpose(w, [1, 0, 2, 3]); // WHIO
    const [y] = await run({ kind: 'Conv', params: { filters: 4, kernel_size: [2, 3], dimension_numbers: ['NWHC', 'WHIO', 'NCHW'] } }, [{ a: xs }], { weights: { kernel: ws, bias: arr([4, 1, 1], b.data) } });
    close(y, transpose(convRef(x, w, [1, 1], [[0, 0], [0, 0]], b), [0, 3, 1, 2]), 1e-5, 1e-5);
  });

  it('Conv on rank 5 folds the leading axes into the batch; filters=1 has a scalar bias', async () => {
    const x5 = rand([2, 3, 5, 4, 2], 'c5');
    const w5 = rand([2, 2, 2, 1], 'c5w');
    const [y] = await run({ kind: 'Conv', params: { filters: 1, kernel_size: [2, 2] } }, [{ a: x5 }], { weights: { kernel: w5, bias: arr([], [0.25]) } });
    const ref = convRef({ shape: [6, 5, 4, 2], data: x5.data }, w5, [1, 1], [[0, 0], [0, 0]], arr([1], [0.25]));
    close(y, { shape: [2, 3, 4, 3, 1], data: ref.data }, 1e-5, 1e-5);
  });

  it('Conv1d VALID stride 2 and SAME, no bias', async () => {
    const x1 = rand([2, 10, 3], 'c1'), w1 = rand([3, 3, 5], 'c1w'), b1 = rand([5], 'c1b');
    const [y] = await run({ kind: 'Conv1d', params: { filters: 5, kernel_size: 3, stride: 2 } }, [{ a: x1 }], { weights: { kernel: w1, bias: b1 } });
    close(y, convRef(x1, w1, [2], [[0, 0]], b1), 1e-5, 1e-5);
    const [z] = await run({ kind: 'Conv1d', params: { filters: 5, kernel_size: 3, padding: 'SAME', use_bias: false } }, [{ a: x1 }], { weights: { kernel: w1 } });
    close(z, convRef(x1, w1, [1], [[1, 1]]), 1e-5, 1e-5);
  });

  it('CausalConv: left-pads time with kernel_width - 1 zeros, then VALID', async () => {
    const xc = rand([2, 6, 3], 'cc'), wc = rand([4, 3, 2], 'ccw'), bc = rand([2], 'ccb');
    const [y] = await run({ kind: 'CausalConv', params: { filters: 2, kernel_width: 4 } }, [{ a: xc }], { weights: { kernel: wc, bias: bc } });
    close(y, convRef(xc, wc, [1], [[3, 0]], bc), 1e-5, 1e-5);
  });

  it('CausalDepthwiseConv: y[t] = sum_i x[t-i] * w[i] per channel (Trax shift-and-add), rank 3 and 4', async () => {
    const ref = (xv: Arr, wv: Arr): Arr => {
      // Trax: res = x*w[0]; repeatedly shift x right by one on axis 1 and add x*w[i]
      const K = wv.shape[0], D = wv.shape[1], T = xv.shape[1];
      const inner = size(xv.shape.slice(2));
      let cur = xv.data.slice();
      let res = cur.map((v, j) => v * wv.data[j % D]);
      for (let i = 1; i < K; i++) {
        const next = new Array<number>(cur.length).fill(0);
        for (let bt = 0; bt < cur.length; bt++) {
          const t = Math.floor(bt / inner) % T;
          if (t > 0) next[bt] = cur[bt - inner];
        }
        cur = next;
        res = res.map((v, j) => v + cur[j] * wv.data[i * D + (j % D)]);
      }
      return { shape: xv.shape, data: res };
    };
    const x3 = rand([2, 5, 4], 'dw3'), w3 = rand([3, 4], 'dw3w');
    const [y] = await run({ kind: 'CausalDepthwiseConv' }, [{ a: x3 }], { weights: { kernel: w3 } });
    close(y, ref(x3, w3), 1e-5, 1e-5);
    const x4 = rand([2, 5, 3, 4], 'dw4'), w4 = rand([2, 4], 'dw4w');
    const [z] = await run({ kind: 'CausalDepthwiseConv', params: { kernel_size: 2 } }, [{ a: x4 }], { weights: { kernel: w4 } });
    close(z, ref(x4, w4), 1e-5, 1e-5);
  });
});

