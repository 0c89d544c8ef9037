/**
 * The issue's "What must hold": for every differentiable row of the catalog
 * table (engine/onnx/catalog-rows.ts), the analytic gradients of
 *   loss = sum over float outputs of ReduceSum(output * P)   (P fixed, random)
 * with respect to every float weight and every float stack input match
 * central finite differences of the forward graph, both in float64 on
 * onnxruntime's CPU provider, to 1e-6 relative.
 *
 * Each row is lowered in train mode (dropout masks are fixed by the seed)
 * and, where a layer computes something else in eval mode, in eval mode too;
 * weights are graph inputs, control flow is unrolled (`unroll: true`), and
 * addGradients inlines the functions the gradient passes through. Three
 * sampled coordinates per tensor, at most 30 a row.
 *
 * Tolerance (engine/autodiff/gradcheck.ts):
 *   |a - fd| <= 1e-6 max(|a|, |fd|) + 1e-9 + 4 * 2^-52 * S / eps
 * with eps = 1e-5 * max(1, |x|), and a second try at eps / 10 for a
 * coordinate that misses (the truncation error, ~eps^2 times the third
 * derivative, falls and the rounding noise rises as eps shrinks; strongly
 * curved points such as a LayerNorm of a near-constant row need the smaller
 * step, and a wrong rule misses at both). The absolute floor is the central
 * difference's rounding noise: each loss value is off by a few ulps of
 * S = sum |output * P| (the graph output loss_scale), divided by 2 eps; the
 * 1e-9 covers exact zeros. Both are far below a real rule error, which is of
 * the gradient's size.
 *
 * Rows whose outputs are not differentiable in their inputs are skipped with
 * the reason, and the skipped set must equal SKIPPED below: a new skip fails.
 */
import { describe, expect, it } from 'vitest';
import { formatShapeDtype } from '../core/shape';
import type { NodeTrace } from '../document/trace';
import { caseToNode } from '../layers/cases/all';
import { runnableRows } from '../onnx/catalog-rows';
import type { Model, OnnxNode, TensorValue } from '../core/onnx';
import { lowerDocument, type Lowered, type WeightRef } from '../onnx/lower';
import { randomTensor } from '../../test/ort';
import { gradCheck, projectionLoss } from '../../test/gradcheck';
import { isFloatType } from './shapes';
import '../../kernels';

/**
 * Rows with Trax's masked EncDecAttention (alone or in Reformer) subtract
 * 1e9 * (1 + padding) from every attention logit (softmax is shift-invariant,
 * so the value is right). In float64 such logits keep a resolution of only
 * 1e9 * 2^-52 ~ 2e-7: the loss is noisy at ~1.5e-7 (measured on Reformer
 * #295) and no finite-difference step works (errors of 5-600% for eps
 * 1e-7..1e-4; from 1e-3 on the Relu kinks break it instead). For these rows
 * the checked graph has every constant 1e9 replaced by 100: a masked key then
 * weighs exp(-100) ~ 4e-44 of a real one instead of exp(-1e9) = 0, far below
 * float64's 2^-52 ~ 2e-16, so the function is the same to float64 precision
 * while the logits keep full precision (with 1e3 the noise still used 73% of
 * the tolerance, with 100 at most 23%). Analytic gradients and finite
 * differences are taken of that same graph.
 */
const maskedEncDec = (t: NodeTrace): boolean => t.node.kind === 'EncDecAttention' && !!t.analysis.params?.masked;
function softenMasks(model: Model): Model {
  const soften = (nodes: OnnxNode[]): OnnxNode[] => nodes.map((n) => {
    const v = n.op === 'Constant' ? n.attrs?.value : undefined;
    if (!v || !('tensor' in v) || !(v.tensor.data instanceof Float32Array) || !v.tensor.data.every((x) => x === 1e9)) return n;
    return { ...n, attrs: { value: { tensor: { ...v.tensor, data: v.tensor.data.map(() => 100) } } } };
  });
  return { ...model, graph: { ...model.graph, nodes: soften(model.graph.nodes) }, functions: model.functions.map((f) => ({ ...f, nodes: soften(f.nodes) })) };
}

/** float state (running statistics) positive, so eval-mode variances are valid; the rest as the ORT tests draw them */
function testValue(ref: WeightRef): TensorValue {
  const t = randomTensor(ref.decl, ref.key);
  if (ref.role === 'state' && t.data instanceof Float32Array) return { ...t, data: t.data.map((v) => v + 1) };
  return t;
}

const rows = runnableRows();

/** A row's name that survives rows added elsewhere in the table: kind, inputs, note (and parameters when those repeat). */
const baseLabel = (i: number): string => `${rows[i].row.kind} ${rows[i].input.map(formatShapeDtype).join(', ')}${rows[i].row.note ? ` (${rows[i].row.note})` : ''}`;
const repeated = new Set(rows.map((_, i) => baseLabel(i)).filter((l, i, all) => all.indexOf(l) !== i));
const rowLabel = (i: number): string => (repeated.has(baseLabel(i)) ? `${baseLabel(i)} ${JSON.stringify(rows[i].row.params ?? {})}` : baseLabel(i));

/** Whether some layer in the subtree (expansions included) satisfies `f`. */
function someLayer(t: NodeTrace, f: (t: NodeTrace) => boolean): boolean {
  return f(t) || [...t.children, ...Object.values(t.slots), t.expansion].some((c) => !!c && someLayer(c, f));
}
/** a layer that computes something else in train mode than in eval mode */
const modeSensitive = (t: NodeTrace): boolean => !!(t.analysis.def?.modes?.train || t.analysis.def?.modes?.eval);

interface Outcome { label: string; skip?: string; checked?: number; worst?: number; mode?: string; ms?: number; soft?: boolean; positive?: boolean }

/** Rows whose float inputs and weights hold more elements than this are not checked: the CI budget (their layers are checked at small sizes in other rows). */
const MAX_ELEMENTS = 2_000_000;
/** finite differences per row at most (3 per tensor below that) */
const MAX_COORDS = 30;

/** Row label (`<kind> #<row index>`) -> why it is skipped. */
const NO_FLOAT_OUTPUT = 'no float output';
const NO_FLOAT_INPUT = 'no float input or weight';
/** metrics over argmax, masks: piecewise constant, so their gradient is zero wherever it exists */
const PIECEWISE = 'the outputs do not depend differentiably on any float input or weight';
const tooBig = (n: number): string => `${n} float input and weight elements: over the test's size budget (${MAX_ELEMENTS}); the same layers are checked at small sizes`;
const each = (why: string, labels: string[]): Record<string, string> => Object.fromEntries(labels.map((l) => [l, why]));
const SKIPPED: Record<string, string> = {
  ...each(NO_FLOAT_OUTPUT, [
    'Relu int32[2,5] (integers stay integers)',
    'HardSigmoid int32[2,5] (integers stay integers)',
    'HardTanh int32[2,5] (integers stay integers)',
    'ShiftRight int32[2,8] (token ids keep their dtype)',
    'ShiftRight int32[2,5] (quirk: n_positions=0 keeps nothing)',
    'ShiftRight int32[2,5] (predict mode is the identity)',
    'PaddingMask float32[3,5] (conformance padding_mask)',
    'PaddingMask int32[2,8]',
    'Fn int32[5], int32[5] (SumAndMax)',
    'Fn int32[10], int32[10] (Gcd)',
    'Fn  (no inputs)',
    'Fn int32[4], int32[4] (Scan step)',
    'Fn float32[] (comparison gives bool)',
    'Fn int32[2], int32[2] (MulByMask)',
    'Fn  {"name":"F","f":{"$lambda":"lambda: True"}}',
    'Fn  ((quirk) a returned list gives one stack item per element)',
    'Fn int32[3] (int literal is weak)',
    'PureLayer  (n_in = 0: an empty tuple)',
    'Serial int32[4], int32[3] (empty Serial is identity)',
    'Select float32[1], float32[2], int32[3]',
    'Select int32[3], int32[2], int32[1]',
    'Drop int32[3]',
    'Dup int32[2]',
    'Concatenate int32[2,3], int32[2,3]',
    'Concatenate int32[2,3], int32[2,3], int32[2,3] {"n_items":3}',
    'Concatenate int32[2,3], int32[2,3], int32[2,3] {"n_items":3,"axis":0}',
    'Scan int32[3,4], int32[4]',
    'Dropout int32[2,5,1000] (eval mode is identity)',
    'Weights  (a lambda naming its dtype)',
    'Flatten int32[2,3,3] (conformance flatten_doc)',
    'Min int32[2,5] (ints stay ints)',
    'Sum int32[2,8]',
    'Sum bool[2,8] (bools count as int32)',
    'ThresholdToBinary float32[5] (conformance threshold_to_binary)',
    'ThresholdToBinary float32[2,8]',
    'ArgMax float32[2,10]',
    'ArgMax float32[7,10]',
    'ArgMax float32[7,10] (axis None: over the flattened input)',
    'Negate int32[3]',
    'WeightedSum int32[3], int32[3]',
    'RemoveAxes12 bool[2,1,1,8]',
    'MaxPool int32[1,2,4,3] (conformance maxpool_values_2x2)',
    'MaxPool int32[1,5,2] (conformance maxpool_same_1d (length 5))',
    'MaxPool int32[1,4,2] (conformance maxpool_same_1d (length 4))',
    'SumPool int32[2,8,4]',
    'ReversibleConcatenatePair int32[1,2], int32[1,2] (conformance reversible_concatenate_pair)',
    'ReversibleSwap int32[2], int32[2] (conformance reversible_swap)',
  ]),
  ...each(NO_FLOAT_INPUT, [
    'ParametricRelu int32[2,5] (int input becomes float)',
    'LeakyRelu int32[2,5] (int input becomes float)',
    'Elu int32[2,5] (int input becomes float)',
    'Selu int32[2,5] (int input becomes float)',
    'Gelu int32[2,5] (int input becomes float)',
    'FastGelu int32[2,5] (int input becomes float)',
    'Sigmoid int32[2,5] (int input becomes float)',
    'Tanh int32[2,5] (int input becomes float)',
    'Softplus int32[2,5] (int input becomes float)',
    'Exp int32[2,5] (int input becomes float)',
    'Log int32[2,5] (int input becomes float)',
    'Swish int32[2,5] (int input becomes float)',
    'Fn int32[4] (int / int is float32)',
    'Fn  {"name":"F","f":{"$lambda":"lambda: 2.0"}}',
    'Fn int32[2,3] (a function passed by name: n_in from its signature)',
    'Fn int32[2,5] (int * float literal)',
    'Fn int32[2,8,8]',
    'Dropout int32[4] (train mode scales integers into float32)',
    'RandomUniform  (conformance random_uniform_shape)',
    'RandomUniform ',
    'LogSoftmax int32[3,4] (ints give float32)',
    'ToFloat int32[2,8]',
    'Mean int32[2,8,8] (ints give float32)',
    'MacroAveragedFScore int32[5,4], int32[5] (conformance macro_f_score)',
    'MacroAveragedFScore int32[5,4], int32[5]',
    'LayerNorm int32[4,3] (integer input: float32 output, int32 weights)',
    'AvgPool int32[1,5,2] (integers average to float32)',
    'TimeBinPositionalEncoding int32[2,5,2] (depth below 3 keeps the depth)',
    'MakeZeroState int32[2,7,3]',
  ]),
  ...each(PIECEWISE, [
    'EncoderDecoderMask float32[2,7,16], bool[2,1,1,5]',
    'EncoderDecoderMask float32[2,4,16], bool[2,4]',
    'CategoryAccuracy float32[3,4], int32[3] (conformance category_accuracy)',
    'CategoryAccuracy float32[2,8,4], int32[2,8]',
    'MaskedSequenceAccuracy float32[2,8,4], int32[2,8], float32[2,8]',
    'Accuracy float32[2,4], int32[2,4], int32[2,4] (conformance accuracy_binary_classifier)',
    'SequenceAccuracy float32[2,4,2], int32[2,4], int32[2,4] (conformance sequence_accuracy_all_ones)',
    'WeightedFScore float32[2,4], int32[2]',
    'MakeZeroState float32[2,8,5]',
  ]),
  'TransformerLM int32[2,8] (all defaults)': tooBig(52763904),
  'Transformer int32[2,8], int32[2,8] (all defaults)': tooBig(79037696),
  'ReformerLM int32[2,8] (all defaults)': tooBig(69136640),
  'AxialPositionalEncoding float32[1,12288,1024] (defaults: (64, 64, 3) grid, 384 + 384 + 256 features)': tooBig(12632832),
};

async function checkRow(i: number, mode: 'train' | 'eval'): Promise<Outcome & { low?: Lowered }> {
  const { row, input } = rows[i];
  const label = rowLabel(i);
  const low = lowerDocument({ root: caseToNode(row), input }, {
    mode, seed: 7, weights: 'inputs', unroll: true, weightValue: testValue,
  });
  const outs = low.outputs.filter((o) => isFloatType(o.dtype)).map((o) => o.name);
  if (!outs.length) return { label, skip: 'no float output', low };
  const weightInputs = new Set(low.weights.filter((w) => w.role === 'weight').map((w) => w.key));
  const wrt = low.model.graph.inputs.filter((v) => isFloatType(v.dtype) && (weightInputs.has(v.name) || low.inputs.some((x) => x.name === v.name))).map((v) => v.name);
  if (!wrt.length) return { label, skip: 'no float input or weight', low };
  const size = low.model.graph.inputs.filter((v) => wrt.includes(v.name)).reduce((a, v) => a + v.shape.reduce<number>((x, d) => x * Number(d), 1), 0);
  if (size > MAX_ELEMENTS) return { label, skip: `${size} float input and weight elements: over the test's size budget (${MAX_ELEMENTS}); the same layers are checked at small sizes`, low };
  const t0 = performance.now();
  const soft = someLayer(low.trace.root, maskedEncDec);
  const withLoss = projectionLoss(soft ? softenMasks(low.model) : low.model, outs, label);
  const opts = { loss: 'loss', scale: 'loss_scale', wrt, coords: 3, maxCoords: MAX_COORDS, seed: label, stop: low.stopGradients };
  let r = await gradCheck(withLoss, opts);
  // logs and cross-entropies of probabilities (NaN below 0): inputs in (0, 1)
  const positive = !Number.isFinite(r.loss);
  if (positive) r = await gradCheck(withLoss, { ...opts, range: [0.05, 0.95] });
  if (r.unreached.length === wrt.length) return { label, skip: 'the outputs do not depend differentiably on any float input or weight', low };
  expect(Number.isFinite(r.loss), `${label} (${mode}): loss ${r.loss}`).toBe(true);
  expect(r.mismatches, `${label} (${mode})`).toEqual([]);
  return { label, checked: r.checked, worst: r.worst, mode, low, ms: performance.now() - t0, soft, positive };
}

describe('gradients of every catalog row match float64 finite differences', () => {
  const outcomes: Outcome[] = [];
  for (const [i, { row, input }] of rows.entries()) {
    it(`${row.kind} #${i} ${input.map(formatShapeDtype).join(', ')}${row.note ? ` (${row.note})` : ''}`, async () => {
      const first = await checkRow(i, 'train');
      outcomes.push(first);
      if (!first.skip && first.low && someLayer(first.low.trace.root, modeSensitive)) outcomes.push(await checkRow(i, 'eval'));
    });
  }

  it('skips exactly the rows listed, each with its reason', () => {
    const skipped = Object.fromEntries(outcomes.filter((o) => o.skip).map((o) => [o.label, o.skip!]));
    const checked = outcomes.filter((o) => !o.skip);
    console.log(`gradient check: ${checked.length} row checks (${checked.filter((o) => o.mode === 'eval').length} in eval mode), ${checked.reduce((a, o) => a + o.checked!, 0)} coordinates, worst ${Math.max(...checked.map((o) => o.worst!)).toExponential(2)} of the tolerance; ${Object.keys(skipped).length} rows skipped`);
    for (const [label, why] of Object.entries(skipped)) console.log(`  skipped ${label}: ${why}`);
    if (process.env.GRADCHECK_SKIPS_JSON) console.log(JSON.stringify(skipped));
    if (process.env.GRADCHECK_VERBOSE) {
      for (const o of [...checked].sort((a, b) => b.ms! - a.ms!).slice(0, 10)) console.log(`  slow: ${o.label} ${o.mode}: ${o.ms!.toFixed(0)} ms, worst ${o.worst!.toExponential(2)}`);
      for (const o of [...checked].sort((a, b) => b.worst! - a.worst!).slice(0, 10)) console.log(`  close: ${o.label} ${o.mode}: worst ${o.worst!.toExponential(2)}`);
    }
    const labels = (f: (o: Outcome) => boolean | undefined): string => [...new Set(checked.filter(f).map((o) => o.label))].join(', ');
    console.log(`  masks softened (1e9 -> 100): ${labels((o) => o.soft)}`);
    console.log(`  inputs in (0, 1) (NaN otherwise): ${labels((o) => o.positive)}`);
    expect(skipped).toEqual(SKIPPED);
  });
});
