/**
 * Where a lowered model's weights come from: a weights file (an .npz read by
 * readNpz, keys by tree path) or the initializers, from a seed.
 */
import type { TensorValue } from '../core/onnx';
import type { WeightRef } from '../onnx/lower';
import { type InitOptions, initialValue, tensorFromValues, tensorNumbers } from './init';
import { WeightsFileError, writeNpz } from './npz';

export interface WeightSourceOptions {
  /** the arrays of a weights file by key; without it every value is initialized */
  file?: Map<string, TensorValue>;
  seed: number;
  /** keys in the file that no ref uses are fine (else an error naming them) */
  allowExtra?: boolean;
  /** for InitializerFromFile weights */
  loadFile?: InitOptions['loadFile'];
}

const fmt = (dtype: string, dims: readonly (number | string)[]): string => `${dtype}[${dims.join(',')}]`;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** Up to `n` keys of the file most like `key`: by edit distance, a key with the same weight name counting 3 edits closer. */
export function similarKeys(key: string, keys: Iterable<string>, n = 3): string[] {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const scored = [...keys].map((k) => ({ k, d: editDistance(key, k) - (k.endsWith(`/${name}`) ? 3 : 0) }));
  scored.sort((x, y) => x.d - y.d || (x.k < y.k ? -1 : 1));
  return scored.slice(0, n).map((s) => s.k);
}

/**
 * The file's value for a ref, checked: same shape, same dtype (a bfloat16
 * weight also accepts float32, which is how .npz files hold bfloat16; it is
 * rounded to nearest even). Undefined when the key is absent.
 */
function fileValue(ref: WeightRef, file: Map<string, TensorValue>): TensorValue | undefined {
  const v = file.get(ref.key);
  if (!v) return undefined;
  const want = ref.decl;
  const sameShape = v.dims.length === want.shape.length && v.dims.every((d, i) => d === want.shape[i]);
  const dtypeOk = v.dtype === want.dtype || (want.dtype === 'bfloat16' && v.dtype === 'float32');
  if (!sameShape || !dtypeOk) {
    throw new WeightsFileError(`'${ref.key}' is ${fmt(v.dtype, v.dims)} in the weights file, the model needs ${fmt(want.dtype, want.shape)}`, ref.key);
  }
  return v.dtype === want.dtype ? v : tensorFromValues(tensorNumbers(v), v.dims, want.dtype);
}

function missing(ref: WeightRef, file: Map<string, TensorValue>): WeightsFileError {
  const similar = similarKeys(ref.key, file.keys());
  const hint = similar.length ? `; similar keys in the file: ${similar.map((k) => `'${k}'`).join(', ')}` : '; the file is empty';
  return new WeightsFileError(`the weights file has no '${ref.key}' (${fmt(ref.decl.dtype, ref.decl.shape)})${hint}`, ref.key);
}

/**
 * The value of each weight of a model. With a file, every weight ref must be
 * there with its shape and dtype, state refs missing from it start from their
 * initializers, and keys no ref uses are an error unless `allowExtra`; all
 * of this is checked for `refs` now (WeightsFileError), and for any other
 * ref when it is asked for. Without a file every value is `initialValue`.
 */
export function weightSource(refs: readonly WeightRef[], opts: WeightSourceOptions): (ref: WeightRef) => TensorValue {
  const { file, seed } = opts;
  const init = (ref: WeightRef) => initialValue(ref, seed, { loadFile: opts.loadFile });
  if (!file) return init;
  for (const ref of refs) {
    if (!fileValue(ref, file) && ref.role === 'weight') throw missing(ref, file);
  }
  if (!opts.allowExtra) {
    const used = new Set(refs.map((r) => r.key));
    const extra = [...file.keys()].filter((k) => !used.has(k));
    if (extra.length) {
      const shown = extra.slice(0, 5).map((k) => `'${k}'`).join(', ');
      throw new WeightsFileError(`the weights file has keys the model does not use: ${shown}${extra.length > 5 ? ` and ${extra.length - 5} more` : ''}`, extra[0]);
    }
  }
  return (ref) => {
    const v = fileValue(ref, file);
    if (v) return v;
    if (ref.role === 'state') return init(ref);
    throw missing(ref, file);
  };
}

/** The weights file of a model: every ref (weights and state) by its tree-path key, in order, once per key. */
export function weightsToNpz(refs: readonly WeightRef[], source: (ref: WeightRef) => TensorValue): Uint8Array {
  const seen = new Set<string>();
  const entries: [string, TensorValue][] = [];
  for (const ref of refs) {
    if (seen.has(ref.key)) continue;
    seen.add(ref.key);
    entries.push([ref.key, source(ref)]);
  }
  return writeNpz(entries);
}
