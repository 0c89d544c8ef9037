/** Catalog rows for the `acceleration` module. */
import type { LayerCase } from './types';

export const cases: LayerCase[] = [
  { kind: 'Accelerate', slots: { layer: { kind: 'Dense', params: { n_units: 4 } } }, inputs: ['float32[B,3]'], nIn: 1, nOut: 1, outputs: ['float32[B,4]'], paramCount: 16 },
  {
    kind: 'Accelerate', params: { n_devices: 8 }, slots: { layer: { kind: 'Serial', children: [{ kind: 'Dup' }, { kind: 'Add' }] } },
    inputs: ['float32[B,L,3]'], outputs: ['float32[B,L,3]'],
  },
  { kind: 'Accelerate', slots: { layer: { kind: 'Swap' } }, inputs: ['float32[2]', 'int32[3]'], nIn: 2, nOut: 2, outputs: ['int32[3]', 'float32[2]'] },
  { kind: 'Accelerate', inputs: ['float32[2,3]'], error: { code: 'missing_param', message: 'layer', param: 'layer' } },
  { kind: 'Accelerate', params: { n_devices: 0 }, slots: { layer: { kind: 'Relu' } }, inputs: ['float32[2,3]'], error: { code: 'bad_param', message: 'n_devices', param: 'n_devices' } },
];
