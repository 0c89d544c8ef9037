/** Catalog rows for the `metrics` module (trax-semantics §13): every metric gives a scalar. */
import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  { kind: 'CategoryAccuracy', inputs: ['float32[3,4]', 'int32[3]'], note: 'conformance category_accuracy', nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'CategoryAccuracy', inputs: ['float32[B,L,V]', 'int32[B,L]'], outputs: ['float32[]'] },
  { kind: 'CategoryAccuracy', inputs: ['float32[3,4]', 'int32[3,1]'], error: { code: 'shape_mismatch', message: 'argmax of the model output float32[3,4] over the last axis has shape [3]' } },

  { kind: 'WeightedCategoryAccuracy', inputs: ['float32[3,4]', 'int32[3]', 'float32[3]'], note: 'conformance weighted_category_accuracy_even', nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'WeightedCategoryAccuracy', inputs: ['float32[B,L,V]', 'int32[B,L]', 'float32[B,1]'], outputs: ['float32[]'] },
  { kind: 'WeightedCategoryAccuracy', inputs: ['float32[3,4]', 'int32[3]', 'float32[2]'], error: { code: 'shape_mismatch', message: 'do not broadcast' } },

  { kind: 'CategoryCrossEntropy', inputs: ['float32[2,4]', 'int32[2]'], note: 'conformance category_cross_entropy', nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'CategoryCrossEntropy', params: { label_smoothing: 0.01 }, inputs: ['float32[2,4]', 'int32[2]'], note: 'conformance category_cross_entropy_ls', outputs: ['float32[]'] },
  { kind: 'CategoryCrossEntropy', params: { label_smoothing: 1.5 }, inputs: ['float32[2,4]', 'int32[2]'], error: { code: 'bad_param', message: 'label_smoothing', param: 'label_smoothing' } },
  { kind: 'CategoryCrossEntropy', inputs: ['float32[2,4]', 'int32[3]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'WeightedCategoryCrossEntropy', params: { cutoff: 0.1 }, inputs: ['float32[B,L,V]', 'int32[B,L]', 'float32[B,L]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'WeightedCategoryCrossEntropy', params: { label_smoothing: -0.1 }, inputs: ['float32[2,4]', 'int32[2]', 'float32[2]'], error: { code: 'bad_param', message: 'label_smoothing', param: 'label_smoothing' } },
  { kind: 'WeightedCategoryCrossEntropy', inputs: ['float32[2,4]', 'int32[2]', 'float32[3]'], error: { code: 'shape_mismatch', message: 'weights' } },

  { kind: 'BinaryCrossEntropy', inputs: ['float32[5]', 'int32[5]'], note: 'conformance binary_cross_entropy', nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'BinaryCrossEntropy', inputs: ['float32[5]', 'int32[4]'], error: { code: 'shape_mismatch', message: 'BinaryCrossEntropy' } },

  { kind: 'MaskedSequenceAccuracy', inputs: ['float32[B,L,V]', 'int32[B,L]', 'float32[B,L]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'MaskedSequenceAccuracy', inputs: ['float32[5]', 'int32[]', 'float32[]'], error: { code: 'rank', message: 'sequence axis' } },

  // Accuracy = Serial(classifier, _Accuracy, _WeightedMean)
  { kind: 'Accuracy', inputs: ['float32[3,4]', 'int32[3]', 'float32[3]'], note: 'conformance accuracy_uneven', nIn: 3, nOut: 1, outputs: ['float32[]'] },
  {
    kind: 'Accuracy', slots: { classifier: { kind: 'ThresholdToBinary' } }, inputs: ['float32[2,4]', 'int32[2,4]', 'int32[2,4]'], note: 'conformance accuracy_binary_classifier',
    nIn: 3, nOut: 1, outputs: ['float32[]'],
  },
  { kind: 'Accuracy', inputs: ['float32[3,4]', 'int32[3]', 'float32[2]'], error: { code: 'shape_mismatch', message: 'weights' } },

  { kind: 'SequenceAccuracy', inputs: ['float32[2,4,2]', 'int32[2,4]', 'int32[2,4]'], note: 'conformance sequence_accuracy_all_ones', nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'SequenceAccuracy', inputs: ['float32[2,4,2]', 'int32[2,4]', 'float32[2,4]'], note: 'conformance sequence_accuracy_last_zero_weight', outputs: ['float32[]'] },
  { kind: 'SequenceAccuracy', inputs: ['float32[2,4,2]', 'int32[2,3]', 'float32[2,3]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'CrossEntropyLoss', inputs: ['float32[B,V]', 'int32[B]', 'float32[B]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'CrossEntropyLoss', inputs: ['float32[2,4]', 'int32[3]', 'float32[3]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'CrossEntropyLossWithLogSoftmax', inputs: ['float32[B,L,V]', 'int32[B,L]', 'float32[B,L]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'CrossEntropyLossWithLogSoftmax', inputs: ['float32[2,4]', 'int32[2]', 'float32[5]'], error: { code: 'shape_mismatch', message: 'weights' } },

  { kind: 'BinaryCrossEntropyLoss', inputs: ['float32[5]', 'float32[5]', 'float32[5]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'BinaryCrossEntropyLoss', inputs: ['float32[5]', 'float32[4]', 'float32[5]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'L2Loss', inputs: ['float32[2,2]', 'float32[2,2]', 'float32[2,2]'], note: 'conformance l2_loss', nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'L2Loss', inputs: ['float32[B,L]', 'float32[B,L]', 'float32[B,L]'], outputs: ['float32[]'] },
  { kind: 'L2Loss', inputs: ['float32[2,2]', 'float32[2,2]', 'float32[2]'], error: { code: 'shape_mismatch', message: 'the weights float32[2] must have the shape of the model output' } },

  { kind: 'SmoothL1Loss', inputs: ['float32[B,3]', 'float32[B,3]', 'float32[B,3]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'SmoothL1Loss', inputs: ['float32[2,3]', 'float32[3,2]', 'float32[2,3]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'MacroAveragedFScore', inputs: ['int32[5,4]', 'int32[5]'], note: 'conformance macro_f_score', nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'MacroAveragedFScore', params: { initial_category_index: 1, beta: 2 }, inputs: ['int32[5,4]', 'int32[5]'], outputs: ['float32[]'] },
  {
    kind: 'MacroAveragedFScore', params: { initial_category_index: 4 }, inputs: ['float32[5,4]', 'int32[5]'],
    error: { code: 'shape_mismatch', message: 'leaves no category to score', param: 'initial_category_index' },
  },

  { kind: 'WeightedFScore', inputs: ['float32[B,V]', 'int32[B]'], nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'WeightedFScore', inputs: ['float32[5,4]', 'int32[3]'], error: { code: 'shape_mismatch', message: 'targets' } },

  { kind: 'WeightedSum', inputs: ['float32[B,L]', 'float32[B,L]'], nIn: 2, nOut: 1, outputs: ['float32[]'] },
  { kind: 'WeightedSum', inputs: ['int32[3]', 'int32[3]'], outputs: ['int32[]'] },
  { kind: 'WeightedSum', inputs: ['float32[2,3]', 'float32[4]'], error: { code: 'shape_mismatch', message: 'weights' } },

  { kind: 'CrossEntropySum', inputs: ['float32[B,V]', 'int32[B]', 'float32[B]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'CrossEntropySum', inputs: ['float32[]', 'int32[]', 'float32[]'], error: { code: 'rank', message: 'category axis' } },

  { kind: 'BinaryCrossEntropySum', inputs: ['float32[B]', 'float32[B]', 'float32[B]'], nIn: 3, nOut: 1, outputs: ['float32[]'] },
  { kind: 'BinaryCrossEntropySum', inputs: ['float32[]', 'float32[]', 'float32[]'], error: { code: 'rank', message: 'batch axis' } },
];
