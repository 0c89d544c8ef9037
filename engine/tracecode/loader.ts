/**
 * A trained model as Trax Python: the model's code (documentToCode) plus a
 * loader, `load_strata_weights(model, path)`, that puts the weights Strata
 * trained (an .npz keyed by tree path) into the Trax model after
 * `model.init(...)`.
 *
 * The correspondence: Strata's leaf layers that hold weights, in depth-first
 * order over the tree (macros walked through their expansions, which mirror
 * the sublayers Trax builds), are Trax's leaf layers with non-empty weights,
 * in depth-first order over `sublayers` (a layer object used twice counted
 * once). The generated file holds that order as a table (key prefix, kind,
 * weight names, shapes); the loader walks the Trax model, checks the count
 * and every shape (equal up to axes of size 1, where Trax versions differ),
 * and only then sets each layer's `weights` (and `state`),
 * keeping the structure Trax gave it (a tuple, or the bare array of a
 * one-weight layer such as Embedding).
 *
 * Weight keys are engine/onnx's `weightKey` (`<path with / for >>/<kind>/<name>`);
 * the CLI checks the table's keys against the lowering's before writing.
 */
import { type Dim } from '../core/dim';
import { type ShapeDtype, formatShapeDtype } from '../core/shape';
import type { DocNode } from '../document/schema';
import { type DocumentTrace, type NodeTrace, childPath, forEachNode } from '../document/trace';
import type { WeightDecl } from '../layers/def';
import { documentToCode, pyString } from './print';

export interface LoaderTensor {
  name: string;
  shape: number[];
  dtype: string;
}

/** One Strata leaf layer with weights (or state), in Trax's order. */
export interface LoaderLeaf {
  /** the weights-file key prefix: a key is `<prefix>/<name>` (`Serial[1]/Dense`) */
  prefix: string;
  kind: string;
  /** where it sits in the tree (`Serial[1]`), for messages */
  path: string;
  tensors: LoaderTensor[];
}

export interface LoaderTable {
  /** leaves with trainable weights, in Trax's depth-first order */
  weights: LoaderLeaf[];
  /** leaves with layer state, in the same order */
  state: LoaderLeaf[];
  /** keys Strata may hold that have no place in the Trax model, and why (never dropped silently) */
  unplaced: { key: string; why: string }[];
}

/** Thrown when no loader can be written for the model (symbolic sizes, an error in the trace). */
export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}

/**
 * Layers whose Trax construction visits a layer argument before the layers:
 * Residual(*layers, shortcut) is Serial(Branch(shortcut, Serial(layers)), Add()).
 * Everywhere else Trax's sublayers are `*layers`, then the layer arguments in
 * signature order (Cond's cond, true, false; ReversibleHalfResidual's
 * residual layers, then attention_layer).
 */
const SLOTS_FIRST: ReadonlySet<string> = new Set(['Residual']);

const keyPrefix = (path: string, kind: string): string => `${path ? `${path.replace(/ > /g, '/')}/` : ''}${kind}`;

function concreteShape(shape: readonly Dim[], what: string): number[] {
  if (!shape.every((d): d is number => typeof d === 'number')) {
    throw new LoaderError(`${what} has the symbolic shape [${shape.join(', ')}]; give a concrete input signature (e.g. float32[8,28,28,1])`);
  }
  return [...shape];
}

function tensors(decls: readonly WeightDecl[], prefix: string): LoaderTensor[] {
  return decls.map((w) => ({ name: w.name, shape: concreteShape(w.shape, `'${prefix}/${w.name}'`), dtype: w.dtype }));
}

/** Every key a subtree's leaves hold (for a subtree Trax does not see twice). */
function subtreeKeys(t: NodeTrace, path: string, segKind: string, where: ReadonlyMap<string, { path: string; kind: string }>, out: string[]): void {
  if (t.expansion) { subtreeKeys(t.expansion, path, t.node.kind, where, out); return; }
  const owner = t.node.shareWeightsOf ? where.get(t.node.shareWeightsOf) : undefined;
  const wPrefix = owner ? keyPrefix(owner.path, owner.kind) : keyPrefix(path, t.node.kind);
  for (const w of t.weights) out.push(`${wPrefix}/${w.name}`);
  for (const s of t.state) out.push(`${keyPrefix(path, t.node.kind)}/${s.name}`);
  t.children.forEach((c, i) => subtreeKeys(c, childPath(path, segKind, i), c.node.kind, where, out));
  for (const [name, c] of Object.entries(t.slots)) if (c) subtreeKeys(c, childPath(path, segKind, name), c.node.kind, where, out);
}

/**
 * The loader's table for a traced model (concrete sizes). Walks the tree as
 * the lowering does (so keys are the weights file's) in the order Trax
 * visits sublayers.
 */
export function loaderTable(trace: DocumentTrace): LoaderTable {
  if (trace.errors.length) throw new LoaderError(trace.errors[0].message);
  // where each node sits (the lowering resolves a shared leaf's weights to its owner's key the same way)
  const where = new Map<string, { path: string; kind: string }>();
  forEachNode(trace.root, (t, path) => { where.set(t.node.id, { path, kind: t.node.kind }); });
  const table: LoaderTable = { weights: [], state: [], unplaced: [] };
  // one Trax object per sharing group: a node that shares another's weights is that layer in the printed code
  const seen = new Map<string, string>();

  const walk = (t: NodeTrace, path: string, segKind: string): void => {
    if (t.expansion) { walk(t.expansion, path, t.node.kind); return; }
    const node: DocNode = t.node;
    const group = node.shareWeightsOf ?? node.id;
    const first = seen.get(group);
    if (first !== undefined) {
      // Trax meets this layer object a second time and skips it: its weights are the first occurrence's
      const keys: string[] = [];
      subtreeKeys(t, path, segKind, where, keys);
      const placed = new Set([...table.weights, ...table.state].flatMap((l) => l.tensors.map((x) => `${l.prefix}/${x.name}`)));
      for (const key of keys) if (!placed.has(key)) table.unplaced.push({ key, why: `Trax builds this as the same layer object as the one at '${first || '(root)'}', whose values it gets` });
      return;
    }
    seen.set(group, path);
    const slots = (t.analysis.def?.args ?? []).filter((a) => a.arg === 'slot').map((a) => a.name).filter((name) => t.slots[name]);
    const leaf = t.children.length === 0 && slots.length === 0;
    const own = keyPrefix(path, node.kind);
    if (!leaf) {
      // a combinator's own state (Scan's and Cache's predict-mode carries) lives on a Trax combinator, not a leaf
      for (const s of t.state) table.unplaced.push({ key: `${own}/${s.name}`, why: `state of the ${node.kind} combinator (Trax keeps it on the combinator, which the loader does not set)` });
      const kids = () => t.children.forEach((c, i) => walk(c, childPath(path, segKind, i), c.node.kind));
      const args = () => { for (const name of slots) walk(t.slots[name]!, childPath(path, segKind, name), t.slots[name]!.node.kind); };
      if (SLOTS_FIRST.has(node.kind)) { args(); kids(); } else { kids(); args(); }
      return;
    }
    const owner = node.shareWeightsOf ? where.get(node.shareWeightsOf) : undefined;
    const wPrefix = owner ? keyPrefix(owner.path, owner.kind) : own;
    if (t.weights.length) table.weights.push({ prefix: wPrefix, kind: node.kind, path, tensors: tensors(t.weights, wPrefix) });
    if (t.state.length) table.state.push({ prefix: own, kind: node.kind, path, tensors: tensors(t.state, own) });
  };
  walk(trace.root, '', trace.root.node.kind);
  return table;
}

/** Every key the table places (weights, then state). */
export function tableKeys(table: LoaderTable): { weights: string[]; state: string[] } {
  const keys = (ls: LoaderLeaf[]) => ls.flatMap((l) => l.tensors.map((t) => `${l.prefix}/${t.name}`));
  return { weights: keys(table.weights), state: keys(table.state) };
}

// ---------------------------------------------------------------- Python

const pyTuple = (items: string[]): string => (items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`);
const pyShape = (shape: readonly number[]): string => pyTuple(shape.map(String));

function pyEntries(leaves: readonly LoaderLeaf[]): string {
  if (!leaves.length) return '()';
  const rows = leaves.map((l) => `    (${pyString(l.prefix)}, ${pyString(l.kind)}, ${pyTuple(l.tensors.map((t) => pyString(t.name)))}, ${pyTuple(l.tensors.map((t) => pyShape(t.shape)))}),`);
  return `(\n${rows.join('\n')}\n)`;
}

function pyUnplaced(items: LoaderTable['unplaced']): string {
  if (!items.length) return '{}';
  return `{\n${items.map((u) => `    ${pyString(u.key)}: ${pyString(u.why)},`).join('\n')}\n}`;
}

/** The first line of the loader section (tests and readers find the section by it). */
export const LOADER_MARKER = '# ---------------------------------------------------------------- Strata: trained weights';

/** The loader section of the file: the tables, `load_strata_weights`, and `main`. Needs only NumPy (and Trax to run main). */
export function loaderCode(table: LoaderTable, input: readonly ShapeDtype[]): string {
  const sig = input.map((x) => `(${pyString(x.dtype)}, ${pyShape(concreteShape(x.shape, `the input signature ${formatShapeDtype(x)}`))})`);
  return `${LOADER_MARKER}
# Written by \`strata export RUN_DIR --format trax\`. The model above is the one
# trained in Strata; its weights are in an .npz keyed by Strata's tree paths
# (RUN_DIR/weights.npz, or \`strata export RUN_DIR --format npz\`).
#
#     python3 model.py --weights weights.npz     # builds, inits and loads
#
# or, in your own code after \`model.init(...)\`: load_strata_weights(model, path).
#
# STRATA_WEIGHTS lists Strata's layers that hold weights in the order Trax visits
# its layers (depth first over \`sublayers\`; a layer object used twice counts
# once). load_strata_weights() walks the Trax model the same way, checks the
# number of layers and every shape (equal, or equal up to axes of size 1), and
# only then sets each layer's \`weights\` (and \`state\` where the file holds
# it), in the structure Trax gave it.

import numpy as np

# the input signature the model was trained with: (dtype, shape) per input, top of the stack first
STRATA_INPUT_SIGNATURE = ${pyTuple(sig)}

# (Strata key prefix, kind, weight names, shapes): a key in the .npz is '<prefix>/<name>'
STRATA_WEIGHTS = ${pyEntries(table.weights)}

# (Strata key prefix, kind, state names, shapes): layer state, set where the file holds it
STRATA_STATE = ${pyEntries(table.state)}

# keys a Strata weights file may hold that have no place in the Trax model, and why
STRATA_UNPLACED = ${pyUnplaced(table.unplaced)}

# Trax's markers for a shared layer's second occurrence (trax/layers/base.py)
_CACHE_MARKERS = ('__marker_for_cached_weights_', '__marker_for_cached_state_')


def _is_marker(tree):
    return isinstance(tree, dict) and len(tree) == 1 and next(iter(tree)) in _CACHE_MARKERS


def _flatten(tree):
    """The arrays of a weights or state tree in Trax's order (tuples and lists in order, dict values in insertion order)."""
    if tree is None or _is_marker(tree):
        return []
    if isinstance(tree, dict):
        return [a for v in tree.values() for a in _flatten(v)]
    if isinstance(tree, (tuple, list)):
        return [a for v in tree for a in _flatten(v)]
    return [tree]


def _rebuild(tree, values):
    """The same structure with its arrays replaced, in order, by \`values\` (an iterator)."""
    if tree is None or _is_marker(tree):
        return tree
    if isinstance(tree, dict):
        return type(tree)((k, _rebuild(v, values)) for k, v in tree.items())
    if isinstance(tree, (tuple, list)):
        return type(tree)(_rebuild(v, values) for v in tree)
    return next(values)


def _leaves(model):
    """Trax's leaf layers (no sublayers), depth first over \`sublayers\`, each object once, with where it sits."""
    out, seen = [], set()

    def walk(layer, where):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        subs = list(layer.sublayers or ())
        if not subs:
            out.append((layer, where))
        for i, sub in enumerate(subs):
            walk(sub, f'{where}.sublayers[{i}]')

    walk(model, 'model')
    return out


def _describe(layer, where):
    return f"{type(layer).__name__} '{getattr(layer, 'name', '?')}' at {where}"


def _shape(a):
    return tuple(int(d) for d in np.shape(a))


def _fmt(shapes):
    return ', '.join(str(tuple(s)) for s in shapes) or 'none'


def _fits(got, want):
    """Same shape, or the same up to axes of size 1: Trax versions differ there (PositionalEncoding's
    table is (max_len, d) in newer Trax, (1, max_len, d) in older), and the values line up exactly."""
    return tuple(got) == tuple(want) or [d for d in got if d != 1] == [d for d in want if d != 1]


def _as_like(value, old):
    """\`value\` in the shape, dtype and array type of the array it replaces: jax arrays stay jax arrays."""
    dtype = getattr(old, 'dtype', None)
    arr = np.asarray(value).reshape(_shape(old))
    arr = arr if dtype is None else arr.astype(dtype)
    if type(old).__module__.split('.')[0] in ('jax', 'jaxlib'):
        import jax.numpy as jnp
        return jnp.asarray(arr)
    return arr


def _align(table, layers, what, path):
    """Pairs the table's layers with the Trax layers (same count, same shapes), or raises a ValueError saying where they part."""
    for i, ((prefix, kind, names, shapes), (layer, where)) in enumerate(zip(table, layers)):
        got = [_shape(a) for a in _flatten(getattr(layer, what))]
        want = [tuple(s) for s in shapes]
        if len(got) != len(want) or not all(_fits(g, w) for g, w in zip(got, want)):
            raise ValueError(
                f"{path}: Strata's {kind} '{prefix}' ({what} {_fmt(want)}) does not fit Trax's "
                f"{_describe(layer, where)} ({what} {_fmt(got)}); it is layer {i + 1} with {what} "
                f"in both models' depth-first order, so the two models differ here or before")
    if len(table) != len(layers):
        if len(table) > len(layers):
            prefix, kind, _, shapes = table[len(layers)]
            extra = f"Strata's {kind} '{prefix}' ({_fmt(shapes)}) has no Trax counterpart"
        else:
            layer, where = layers[len(table)]
            extra = f"Trax's {_describe(layer, where)} ({_fmt(_shape(a) for a in _flatten(getattr(layer, what)))}) has no Strata counterpart"
        raise ValueError(
            f"{path}: the Trax model has {len(layers)} layers with {what}, Strata's model {len(table)}: {extra}")


def load_strata_weights(model, path, state=True):
    """Puts the weights Strata trained (an .npz keyed by tree path) into \`model\`, after \`model.init(...)\`.

    Checks first, then sets: on any mismatch (a layer count, a shape, a key missing
    from the file, a key the model does not use) it raises ValueError and changes nothing.
    With state=True, layer state the file holds (BatchNorm's running statistics, ...) is
    set too; state the file lacks keeps its initial value. Returns the number of arrays set.
    """
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    leaves = _leaves(model)
    weighted = [(l, w) for l, w in leaves if _flatten(l.weights)]
    _align(STRATA_WEIGHTS, weighted, 'weights', path)
    state_keys = {f'{p}/{n}' for p, _, names, _ in STRATA_STATE for n in names}
    known = {f'{p}/{n}' for p, _, names, _ in STRATA_WEIGHTS for n in names} | state_keys | set(STRATA_UNPLACED)
    unknown = sorted(k for k in arrays if k not in known)
    if unknown:
        raise ValueError(f'{path}: keys this model does not have: {unknown[:5]}' + (f' and {len(unknown) - 5} more' if len(unknown) > 5 else '')
                         + ' (is it the weights file of another model?)')

    def fill(table, layers, what, optional):
        """(layer, what, new value, arrays taken from the file) for each pair; raises before anything is set."""
        out = []
        for (prefix, kind, names, shapes), (layer, where) in zip(table, layers):
            old = getattr(layer, what)
            new, taken = [], 0
            for name, shape, o in zip(names, shapes, _flatten(old)):
                key = f'{prefix}/{name}'
                if key not in arrays:
                    if optional:
                        new.append(o)
                        continue
                    raise ValueError(f"{path}: no '{key}', which {_describe(layer, where)} needs {tuple(shape)}")
                if _shape(arrays[key]) != tuple(shape):
                    raise ValueError(f"{path}: '{key}' is {_shape(arrays[key])}, {_describe(layer, where)} needs {tuple(shape)}")
                new.append(_as_like(arrays[key], o))
                taken += 1
            out.append((layer, what, _rebuild(old, iter(new)), taken))
        return out

    updates = fill(STRATA_WEIGHTS, weighted, 'weights', False)
    if state and any(k in arrays for k in state_keys):
        stateful = [(l, w) for l, w in leaves if _flatten(l.state)]
        try:
            _align(STRATA_STATE, stateful, 'state', path)
        except ValueError as e:
            raise ValueError(f'{e} (load_strata_weights(model, path, state=False) loads the weights alone)') from None
        updates += fill(STRATA_STATE, stateful, 'state', True)
    for layer, what, value, _ in updates:
        setattr(layer, what, value)
    return sum(taken for _, _, _, taken in updates)


def _parse_signature(text):
    """'float32[8,28,28,1]' -> ('float32', (8, 28, 28, 1))"""
    dtype, _, dims = text.strip().partition('[')
    if not dims.endswith(']'):
        raise ValueError(f"an input signature looks like float32[8,28,28,1], got '{text}'")
    return dtype, tuple(int(d) for d in dims[:-1].split(',') if d.strip())


def _input_signature(specs):
    from trax import shapes  # Trax builds the model; reading this file needs NumPy only
    def dtype(name):
        if name == 'bfloat16':
            import jax.numpy as jnp
            return jnp.bfloat16
        return np.dtype(name)
    sig = tuple(shapes.ShapeDtype(tuple(shape), dtype(d)) for d, shape in specs)
    return sig[0] if len(sig) == 1 else sig


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description='Builds the model in Trax, inits it and loads the weights Strata trained.')
    parser.add_argument('--weights', required=True, help='the .npz Strata wrote (RUN_DIR/weights.npz)')
    parser.add_argument('--input', action='append', metavar='SIG',
                        help='an input signature such as float32[8,28,28,1], one per input (default: the training run\\'s)')
    parser.add_argument('--no-state', action='store_true', help='load the weights alone, not the layer state')
    args = parser.parse_args(argv)
    specs = [_parse_signature(s) for s in args.input] if args.input else STRATA_INPUT_SIGNATURE
    model.init(_input_signature(specs))
    n = load_strata_weights(model, args.weights, state=not args.no_state)
    print(f'{args.weights}: set {n} arrays in {len(STRATA_WEIGHTS)} layers with weights')
    return model


if __name__ == '__main__':
    main()
`;
}

/** The whole file: the model as Trax code, then the loader. */
export function trainedModelCode(doc: { root: DocNode; input: readonly ShapeDtype[] }, table: LoaderTable): string {
  return `${documentToCode(doc)}\n\n${loaderCode(table, doc.input)}`;
}
