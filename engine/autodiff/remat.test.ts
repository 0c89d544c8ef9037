/**
 * Rematerialization (the reversible layers' memory-saving backward): with
 * `remat`, a ReversibleHalfResidual's residual function is a kept `Remat`
 * function whose backward recomputes it; the gradients equal float64 finite
 * differences and the plain backward's, and no backward node reads a value
 * of the forward body (only the call's arguments and outputs cross).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { parseDocumentText } from '../document/schema';
import { codeToTree } from '../tracecode/parse';
import { parseShapeDtype } from '../core/shape';
import { lowerDocument, type Lowered } from '../onnx/lower';
import { modelBytes } from '../onnx/write';
import { isFloatType } from './shapes';
import { addGradients } from './index';
import { gradCheck, inputValue, projectionLoss, toOrt } from '../../test/gradcheck';
import { randomTensor } from '../../test/ort';
import '../../kernels';

const block = parseDocumentText(readFileSync(join(import.meta.dirname, '..', '..', 'assets', 'examples', 'reversible-block.strata.json'), 'utf8'));
const reformer = codeToTree('trax.models.ReformerLM(vocab_size=16, d_model=8, d_ff=16, d_attention_key=4, d_attention_value=4, n_layers=2, n_heads=2, max_len=16, attention_type=tl.SelfAttention, dropout=0.1)');

function lower(root: typeof block.root, input: string, remat: boolean): Lowered {
  return lowerDocument({ root, input: [parseShapeDtype(input)] }, {
    mode: 'train', seed: 3, weights: 'inputs', unroll: true, inlineFunctions: true, remat, rngInput: true, weightValue: (ref) => randomTensor(ref.decl, ref.key),
  });
}

describe('remat: reversible blocks recompute their residual functions in the backward pass', () => {
  for (const [name, root, input] of [['the reversible-block example', block.root, 'float32[2,3,64]'], ['ReformerLM, 2 layers, dropout', reformer, 'int32[2,16]']] as const) {
    it(`${name}: gradients match finite differences and the stored-activation backward`, async () => {
      const plain = lower(root, input, false);
      const low = lower(root, input, true);
      expect(low.model.functions.filter((f) => f.name.startsWith('Remat')).length).toBeGreaterThan(0);
      const wrt = low.weights.filter((w) => w.role === 'weight' && isFloatType(w.decl.dtype)).map((w) => w.key);
      const outs = (l: Lowered) => l.outputs.filter((o) => isFloatType(o.dtype)).map((o) => o.name);
      const lossOf = (l: Lowered) => projectionLoss(l.model, outs(l), name);
      // float64 finite differences (the random salt input held fixed)
      const r = await gradCheck(lossOf(low), { loss: 'loss', scale: 'loss_scale', wrt, coords: 2, seed: name, stop: low.stopGradients });
      expect(r.mismatches).toEqual([]);
      expect(r.unreached).toEqual([]);
      // the same numbers as the backward that keeps the activations (float32, one run each)
      const grads = async (l: Lowered): Promise<Record<string, Float32Array>> => {
        const g = addGradients(lossOf(l), { loss: 'loss', wrt, stop: l.stopGradients });
        const s = await ort.InferenceSession.create(modelBytes(g.model));
        const feeds: Record<string, ort.Tensor> = {};
        for (const i of g.model.graph.inputs) {
          const v = i.name === 'rng_step' ? { dtype: 'int32' as const, dims: [], data: Int32Array.of(5) } : inputValue(i, `${name}:${i.name}`);
          feeds[i.name] = toOrt(v.dtype === 'float64' ? { dtype: 'float32', dims: v.dims, data: Float32Array.from(v.data as Float64Array) } : v);
        }
        const out = await s.run(feeds);
        await s.release();
        return Object.fromEntries(wrt.map((w) => [w, out[g.grads.get(w)!].data as Float32Array]));
      };
      const [a, b] = [await grads(plain), await grads(low)];
      for (const w of wrt) {
        let worst = 0;
        a[w].forEach((x, i) => { worst = Math.max(worst, Math.abs(x - b[w][i]) / (1e-4 + Math.abs(x))); });
        expect(worst, w).toBeLessThan(1e-3);
      }
      // the calls stay calls (their bodies' values are the body's own, freed after the forward pass), and the
      // backward pass recomputes each from its arguments, taken through a Where that waits for a gradient
      const g = addGradients(lossOf(low), { loss: 'loss', wrt, stop: low.stopGradients, outputs: false });
      const calls = g.model.graph.nodes.filter((n) => n.op.startsWith('Remat'));
      expect(calls.length).toBe(low.model.graph.nodes.filter((n) => n.op.startsWith('Remat')).length);
      const forward = new Set(low.model.graph.nodes.flatMap((n) => n.outputs));
      const wheres = g.model.graph.nodes.filter((n) => n.op === 'Where' && !forward.has(n.outputs[0]));
      for (const call of calls) {
        const fn = low.model.functions.find((f) => f.name === call.op)!;
        const args = call.inputs.filter((_, i) => !/^w\d+$/.test(fn.inputs[i]));
        for (const a of args) expect(wheres.some((w) => w.inputs[1] === a && w.inputs[2] === a), `${call.op} recomputes from ${a}`).toBe(true);
      }
    });
  }
});
