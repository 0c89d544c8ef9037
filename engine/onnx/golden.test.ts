/**
 * Golden files: the zoo lowered to the one-node-a-line text form, checked in.
 * A change to any lowering shows as a diff here. Regenerate with
 * `UPDATE_GOLDEN=1 npx vitest run engine/onnx/golden.test.ts` and review the diff.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseShapeDtype } from '../core/shape';
import { codeToTree } from '../tracecode/parse';
import { lowerDocument } from './lower';
import { modelText } from './text';
import '../../kernels';

const ZOO: Record<string, [string, string[]]> = {
  mlp: ['tl.Serial(tl.Flatten(), tl.Dense(32), tl.Relu(), tl.Dropout(rate=0.1), tl.Dense(10), tl.LogSoftmax())', ['float32[2,8,8,1]']],
  cnn: ["tl.Serial(tl.Conv(8, (3, 3), padding='SAME'), tl.Relu(), tl.MaxPool(pool_size=(2, 2), strides=(2, 2)), tl.Flatten(), tl.Dense(10), tl.LogSoftmax())", ['float32[2,8,8,1]']],
  'transformer-block': ['trax.models.TransformerLM(vocab_size=64, d_model=32, d_ff=64, n_layers=1, n_heads=2, max_len=64)', ['int32[2,16]']],
  'lstm-tagger': ['tl.Serial(tl.Embedding(vocab_size=50, d_feature=16), tl.LSTM(16), tl.Dense(5), tl.LogSoftmax())', ['int32[2,8]']],
  'reformer-lsh-block': ['trax.models.ReformerLM(vocab_size=64, d_model=32, d_ff=64, n_layers=1, n_heads=2, max_len=256, attention_type=tl.LSHSelfAttention)', ['int32[2,256]']],
};

const zeros = (ref: { decl: { shape: readonly (number | string)[] } }) => ({ dtype: 'float32' as const, dims: ref.decl.shape.map(Number), data: new Float32Array(ref.decl.shape.reduce<number>((a, d) => a * Number(d), 1)) });

describe('golden lowering of the zoo', () => {
  for (const [name, [code, input]] of Object.entries(ZOO)) {
    it(name, () => {
      const low = lowerDocument({ root: codeToTree(code), input: input.map(parseShapeDtype) }, { mode: 'eval', seed: 0, weightValue: zeros });
      const text = modelText(low.model);
      const file = fileURLToPath(new URL(`./golden/${name}.txt`, import.meta.url));
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
      expect(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(text).toBe(readFileSync(file, 'utf8'));
    });
  }
});
