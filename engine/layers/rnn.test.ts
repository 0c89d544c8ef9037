/**
 * trax.layers.rnn: the trees LSTM / GRU / SRU / GeneralGRUCell build (as in
 * Trax), the input-depth quirk, and the conformance cases of the module.
 * Shapes and parameter counts of every kind are in cases/rnn.cases.ts.
 */
import { describe, expect, it } from 'vitest';
import { checkConformance } from '../../test/conformance';
import { formatShapeDtype, parseShapeDtype } from '../core/shape';
import { analyze, traceDocument } from '../document/trace';
import type { DocNode } from '../document/schema';
import type { PyValue } from './def';

let nextId = 0;
function node(kind: string, params?: Record<string, PyValue>, slots?: Record<string, DocNode>): DocNode {
  const n: DocNode = { id: `r${++nextId}`, kind };
  if (params) n.params = params;
  if (slots) n.slots = slots;
  return n;
}

function expansionOf(n: DocNode): DocNode {
  const a = analyze(n);
  expect(a.errors.map((e) => e.message)).toEqual([]);
  expect(a.expansion).toBeDefined();
  return a.expansion!;
}


const kinds = (ns: readonly DocNode[] | undefined): string[] => (ns ?? []).map((n) => n.kind);

describe('LSTM / GRU trees (trax-semantics §9)', () => {
  it('LSTM = Serial(Branch([], MakeZeroState(2)), Scan(LSTMCell(n), axis=1, mode), Select([0], n_in=2))', () => {
    const e = expansionOf(node('LSTM', { n_units: 5, mode: 'eval' }));
    expect(e.kind).toBe('Serial');
    expect(e.params).toEqual({ name: 'LSTM_5' });
    expect(kinds(e.children)).toEqual(['Branch', 'Scan', 'Select']);
    const [branch, scan, select] = e.children!;
    expect(kinds(branch.children)).toEqual(['Serial', 'MakeZeroState']);
    expect(branch.children![0].children).toBeUndefined();
    expect(branch.children![1].params).toEqual({ depth_multiplier: 2 });
    expect(scan.params).toEqual({ axis: 1, mode: 'eval' });
    expect(scan.slots!.layer!.kind).toBe('LSTMCell');
    expect(scan.slots!.layer!.params).toEqual({ n_units: 5 });
    expect(select.params).toEqual({ indices: [0], n_in: 2 });
  });

  it('return_state keeps the final state; initial_state takes it from the stack', () => {
    expect(kinds(expansionOf(node('LSTM', { n_units: 2, return_state: true })).children)).toEqual(['Branch', 'Scan']);
    expect(kinds(expansionOf(node('LSTM', { n_units: 2, initial_state: true })).children)).toEqual(['Scan', 'Select']);
    expect(kinds(expansionOf(node('LSTM', { n_units: 2, initial_state: true, return_state: true })).children)).toEqual(['Scan']);
  });

  it('GRU = Serial(Branch([], MakeZeroState(1)), Scan(GRUCell(n), axis=1), Select([0], n_in=2))', () => {
    const e = expansionOf(node('GRU', { n_units: 3 }));
    expect(kinds(e.children)).toEqual(['Branch', 'Scan', 'Select']);
    expect(e.children![0].children![1].params).toEqual({ depth_multiplier: 1 });
    expect(e.children![1].slots!.layer!.kind).toBe('GRUCell');
  });

  it('the zero-state quirk shows on the LSTMCell inside Scan', () => {
    const t = traceDocument({ root: node('LSTM', { n_units: 4 }), input: [parseShapeDtype('float32[2,5,3]')] });
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0].kind).toBe('LSTMCell');
    expect(t.errors[0].path).toBe('LSTM[1] > Scan[layer]');
    expect(t.errors[0].message).toContain('state depth 6 must equal 2*n_units = 8');
  });

  it('gives Scan a carry in state (used in predict-mode runs)', () => {
    const t = traceDocument({ root: node('GRU', { n_units: 4, mode: 'predict' }), input: [parseShapeDtype('float32[1,1,4]')] });
    expect(t.errors).toEqual([]);
    const scan = t.root.expansion!.children[1];
    expect(scan.state.map(formatShapeDtype)).toEqual(['float32[1,4]', 'bool[]']);
  });
});

describe('SRU tree', () => {
  it('builds the Trax stack program; only the Dense(3n) has weights', () => {
    const e = expansionOf(node('SRU', { n_units: 6 }));
    expect(e.params).toEqual({ name: 'SRU_6' });
    expect(kinds(e.children)).toEqual(['Branch', 'Split', 'Parallel', 'SRUGates', 'Parallel', 'ScanSRUCell', 'Select', 'Serial', 'FinalSRUGate']);
    expect(e.children![0].children![0].params).toEqual({ n_units: 18 });
    expect(e.children![5].params).toEqual({ mode: 'train' });
    const t = traceDocument({ root: node('SRU', { n_units: 6 }), input: [parseShapeDtype('float32[B,L,6]')] });
    expect(t.errors).toEqual([]);
    expect(t.params).toBe(6 * 18 + 18);
  });

  it('puts the activation layer after the scan', () => {
    const e = expansionOf(node('SRU', { n_units: 2 }, { activation: node('Tanh') }));
    expect(e.children![7].kind).toBe('Tanh');
  });

  it('ScanSRUCell is Scan(InnerSRUCell(), axis=1, mode)', () => {
    const e = expansionOf(node('ScanSRUCell', { mode: 'predict' }));
    expect(e.kind).toBe('Scan');
    expect(e.params).toEqual({ axis: 1, mode: 'predict' });
    expect(e.slots!.layer!.kind).toBe('InnerSRUCell');
  });
});

describe('GeneralGRUCell / ConvGRUCell', () => {
  it('uses candidate_transform three times, each a fresh copy with its own weights', () => {
    const ct = node('Dense', { n_units: 4 });
    const root = node('GeneralGRUCell', { sigmoid_bias: 1.0 }, { candidate_transform: ct });
    const e = expansionOf(root);
    expect(kinds(e.children)).toEqual(['Branch', 'Gate']);
    const [memory, gate, candidate] = e.children![0].children!;
    expect(memory.kind).toBe('Serial');
    expect(kinds(gate.children)).toEqual(['Dense', 'AddSigmoidBias', 'Sigmoid']);
    expect(gate.children![1].params).toEqual({ sigmoid_bias: 1.0 });
    // Trax's Serial flattens the nested reset block into the candidate block
    expect(kinds(candidate.children)).toEqual(['Dup', 'Dense', 'AddSigmoidBias', 'Sigmoid', 'Multiply', 'Dense', 'Tanh', 'Dropout']);
    expect(candidate.children![7].params).toEqual({ rate: 0.1 });
    const ids = new Set([gate.children![0].id, candidate.children![1].id, candidate.children![5].id]);
    expect(ids.size).toBe(3);
    expect(gate.children![0]).toBe(ct); // the user's node keeps its identity once
    const t = traceDocument({ root, input: [parseShapeDtype('float32[B,4]')] });
    expect(t.errors).toEqual([]);
    expect(t.params).toBe(3 * 20);
  });

  it('ConvGRUCell is GeneralGRUCell over Conv(n_units, kernel_size, padding=SAME)', () => {
    const e = expansionOf(node('ConvGRUCell', { n_units: 8, kernel_size: [5, 5] }));
    expect(e.kind).toBe('GeneralGRUCell');
    expect(e.params).toEqual({ gate_nonlinearity: 'Sigmoid', candidate_nonlinearity: 'Tanh' });
    expect(e.slots!.candidate_transform!.kind).toBe('Conv');
    expect(e.slots!.candidate_transform!.params).toEqual({ filters: 8, kernel_size: [5, 5], padding: 'SAME' });
  });
});

describe('conformance (rnn)', () => {
  const models: Record<string, DocNode> = {
    gru_cell_shape: node('GRUCell', { n_units: 9 }),
    gru_cell_values: node('GRUCell', { n_units: 1 }),
    sru_shape: node('SRU', { n_units: 7 }),
  };
  for (const [id, root] of Object.entries(models)) {
    it(id, () => checkConformance(id, root));
  }
});
