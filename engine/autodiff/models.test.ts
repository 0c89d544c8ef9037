/**
 * Whole models: the gradients of a small TransformerLM, an LSTM tagger and
 * a ReformerLM with LSH attention (train mode: dropout on, fixed by the
 * seed) match float64 finite differences, with respect to every weight.
 */
import { describe, expect, it } from 'vitest';
import { parseShapeDtype } from '../core/shape';
import { lowerDocument } from '../onnx/lower';
import { codeToTree } from '../tracecode/parse';
import { randomTensor } from '../../test/ort';
import { addGradients } from './grad';
import { gradCheck, projectionLoss } from '../../test/gradcheck';
import { isFloatType } from './shapes';
import '../../kernels';

const MODELS: Record<string, [string, string]> = {
  'TransformerLM(vocab 16, d_model 8, 1 layer, 2 heads)': ['trax.models.TransformerLM(vocab_size=16, d_model=8, d_ff=16, n_layers=1, n_heads=2, max_len=32)', 'int32[2,6]'],
  'LSTM tagger': ['tl.Serial(tl.Embedding(vocab_size=10, d_feature=4), tl.LSTM(4), tl.Dense(3), tl.LogSoftmax())', 'int32[2,5]'],
  'ReformerLM with LSH attention': ['trax.models.ReformerLM(vocab_size=16, d_model=8, d_ff=16, d_attention_key=4, d_attention_value=4, n_layers=1, n_heads=2, max_len=256, attention_type=tl.LSHSelfAttention)', 'int32[1,256]'],
};

describe('gradients of whole models match float64 finite differences', () => {
  for (const [name, [code, input]] of Object.entries(MODELS)) {
    it(name, async () => {
      const low = lowerDocument({ root: codeToTree(code), input: [parseShapeDtype(input)] }, {
        mode: 'train', seed: 11, weights: 'inputs', unroll: true, weightValue: (ref) => randomTensor(ref.decl, ref.key),
      });
      const wrt = low.weights.filter((w) => w.role === 'weight' && isFloatType(w.decl.dtype)).map((w) => w.key);
      const withLoss = projectionLoss(low.model, low.outputs.filter((o) => isFloatType(o.dtype)).map((o) => o.name), name);
      // every weight gets a gradient through the graph (none is cut off), and no control flow is left
      const { model, unreached } = addGradients(withLoss, { loss: 'loss', wrt, stop: low.stopGradients });
      expect(model.graph.nodes.some((n) => n.op === 'Scan' || n.op === 'If')).toBe(false);
      expect(unreached).toEqual([]);
      const r = await gradCheck(withLoss, { loss: 'loss', scale: 'loss_scale', wrt, coords: 3, seed: name, stop: low.stopGradients });
      expect(r.mismatches).toEqual([]);
      expect(r.checked).toBeGreaterThanOrEqual(wrt.length);
      if (process.env.GRADCHECK_VERBOSE) console.log(`${name}: ${wrt.length} weights, ${r.checked} coordinates, worst ${r.worst.toExponential(2)} of the tolerance`);
    });
  }
});
