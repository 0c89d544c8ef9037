/**
 * The `base` module of the spec: Fn (a layer written as a Python lambda) and
 * PureLayer. Their lambdas are kept as source ({$lambda: '...'}) and run by
 * the abstract interpreter in ./fn over shapes and dtypes, which gives n_in
 * (Fn: the lambda's parameters) and the output signature.
 */
import { P, REQUIRED } from './def';
import { family, type SpecNote } from './family';
import { checkFnLambda, checkPureLambda, fnArity, inferFn, inferPure } from './fn';
import { lowerLambda } from './fn_lowering';

export const baseLayers = family('base', {
  Fn: {
    summary: 'A layer with no weights that applies the lambda f to its inputs: n_in = the number of parameters of f, n_out as declared.',
    args: [P.str('name', REQUIRED), P.lambda('f', REQUIRED), P.int('n_out', 1, { min: 0 })],
    check: (p) => { checkFnLambda(p.f, 'f'); },
    arity: (p) => ({ nIn: fnArity(p.f, 'f'), nOut: p.n_out }),
    infer: (inputs, p) => inferFn(p.f, inputs, p.n_out, 'f'),
    // the lambda body, interpreted once more with an ONNX hook (./fn_lowering)
    lower: (e, ins, p, sig) => lowerLambda(e, 'fn', p.f, ins, sig, p.n_out, 'f'),
  },
  PureLayer: {
    summary: 'A layer with no weights from forward_fn(inputs), which gets the inputs packaged as Trax packages them (the array when n_in = 1, else a tuple of n_in arrays).',
    args: [P.lambda('forward_fn', REQUIRED), P.int('n_in', 1, { min: 0 }), P.int('n_out', 1, { min: 0 }), P.str('name', 'PureLayer')],
    check: (p) => { checkPureLambda(p.forward_fn, 'forward_fn'); },
    arity: (p) => ({ nIn: p.n_in, nOut: p.n_out }),
    infer: (inputs, p) => inferPure(p.forward_fn, inputs, p.n_out, 'forward_fn'),
    lower: (e, ins, p, sig) => lowerLambda(e, 'pure', p.forward_fn, ins, sig, p.n_out, 'forward_fn'),
  },
});

/** Spec entries of this module that are not catalog kinds, and why. */
export const baseNotes: Record<string, SpecNote> = {
  Layer: {
    status: 'internal',
    reason: "the abstract base class of every layer; in Strata each catalog kind's LayerDef plays its role (n_in/n_out, weights, state, forward), and custom layers are written with Fn or PureLayer",
  },
  LayerError: {
    status: 'internal',
    reason: "Trax's wrapper exception for errors inside a layer; Strata reports them as data on the node (code, path, expected, the stack at that point)",
  },
  flatten_weights_and_state: {
    status: 'internal',
    reason: 'the flat weights/state order (tree order, empty and shared weights skipped) is implemented by the runtime and used for checkpoints',
  },
  unflatten_weights_and_state: {
    status: 'internal',
    reason: 'the inverse of flatten_weights_and_state, implemented by the runtime when weights are loaded',
  },
  np_to_file: {
    status: 'internal',
    reason: 'the weights file format is handled by the runtime (.npz)',
  },
  np_from_file: {
    status: 'internal',
    reason: 'the weights file format is handled by the runtime (.npz)',
  },
  to_list: {
    status: 'not_applicable',
    reason: 'a testing helper turning output arrays into nested Python lists for assertEqual; the IDE shows output values itself',
  },
  shard: {
    status: 'not_applicable',
    reason: 'splits a batch across accelerators for pmap; device placement is the runtime\'s concern, not part of a model, and Strata runs a model on one device',
  },
  unshard_in_pmap: {
    status: 'not_applicable',
    reason: 'reassembles tensors sharded across devices inside pmap; Strata runs a model on one device, so there is nothing to unshard',
  },
  unshard: {
    status: 'not_applicable',
    reason: 'reassembles tensors sharded across devices (outside pmap); Strata runs a model on one device, so there is nothing to unshard',
  },
};
