/**
 * The `acceleration` module. Accelerate is, for shapes and weights, its layer
 * itself: splitting the batch over devices (with 0-padding when the batch is
 * not divisible) and JIT compilation are runtime concerns of the execution
 * provider, not part of the model's structure.
 */
import { P } from './def';
import { family, type SpecNote } from './family';

const IDENTITY = { nIn: 1, nOut: 1 };

export const accelerationLayers = family('acceleration', {
  Accelerate: {
    summary: 'Runs its layer data-parallel over n_devices (all by default), splitting the batch axis; for shapes and weights it is the layer itself (the split is a runtime concern).',
    args: [P.slot('layer'), P.int('n_devices', null, { nullable: true, min: 1 })],
    arity: (_p, k) => k.slots.layer ?? IDENTITY,
    infer: (inputs, _p, ctx) => ctx.slot('layer', inputs),
    // the batch split over devices is the execution provider's concern: the graph is the layer's
    lower: (_e, ins, _p, _s, k) => k.slot('layer', ins),
  },
});

const placement = 'device placement and data-parallel execution are chosen by the execution provider that runs the model, not by layers in the model';

/** Spec entries of this module that are not catalog kinds, and why. */
export const accelerationNotes: Record<string, SpecNote> = {
  mean_or_pmean: { status: 'not_applicable', reason: `a helper averaging a value across devices inside a pmapped computation; ${placement}` },
  jit_forward: { status: 'not_applicable', reason: `returns a JIT-compiled, device-replicated forward function; compilation and ${placement}` },
  reshape_by_device: { status: 'not_applicable', reason: `reshapes arrays to (n_devices, ...) for pmap; ${placement}` },
  for_n_devices: { status: 'not_applicable', reason: `replicates arrays onto n_devices; ${placement}` },
  on_cpu: { status: 'not_applicable', reason: `moves an array to host memory; ${placement}` },
  on_accelerator: { status: 'not_applicable', reason: `moves an array to accelerator memory; ${placement}` },
};
