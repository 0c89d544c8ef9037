"""Runs a model.py written by `strata export RUN_DIR --format trax` against a stand-in for Trax.

Trax and JAX cannot be installed here, so the real Trax is not exercised. Instead:
  * stub `trax` modules make the file importable (its model expression evaluates to a
    placeholder), and `trax.shapes.ShapeDtype` is a plain record;
  * the module's `model` is replaced by a stand-in layer tree (built by test/trax-standin.ts
    from the trace, by Trax's construction rules) that implements the Layer protocol the
    loader uses: `sublayers`, `weights` and `state` (leaves store them; combinators gather
    them from their sublayers and hand them down when set, a layer used twice shows Trax's
    cache marker), and `init(input_signature)`, which makes random arrays;
  * the module's own main(['--weights', NPZ]) runs: init with the file's input signature,
    then load_strata_weights.

Then every array of every stand-in layer must equal the .npz array under the key the
stand-in says it must get (same dtype as before, same structure), and with
--expect-error the load must raise ValueError and leave every array as it was.

usage: trax-standin.py MODEL_PY STANDIN_JSON WEIGHTS_NPZ [--expect-error] [--no-state] [--input SIG]...
Prints one JSON line: {"ok": true, "arrays": n, "state": m, "set": k} or {"error": ..., "unchanged": ...}.
"""
import importlib.util
import json
import sys
import types

import numpy as np

MARKER_W = {'__marker_for_cached_weights_': ()}
MARKER_S = {'__marker_for_cached_state_': ()}


class _Anything:
    """Any Trax name the model expression uses: calls and attributes give another placeholder."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


class ShapeDtype:
    def __init__(self, shape, dtype=np.float32):
        self.shape = tuple(shape)
        self.dtype = dtype


def install_stubs():
    trax = types.ModuleType('trax')
    for name in ('layers', 'models'):
        m = types.ModuleType(f'trax.{name}')
        m.__getattr__ = lambda attr: _Anything()
        setattr(trax, name, m)
        sys.modules[f'trax.{name}'] = m
    shapes = types.ModuleType('trax.shapes')
    shapes.ShapeDtype = ShapeDtype
    trax.shapes = shapes
    sys.modules['trax'] = trax
    sys.modules['trax.shapes'] = shapes
    try:
        import jax.numpy  # noqa: F401  (real JAX, if someone has it)
    except ImportError:
        jax = types.ModuleType('jax')
        jnp = types.ModuleType('jax.numpy')
        jnp.__getattr__ = lambda attr: _Anything()
        jax.numpy = jnp
        sys.modules['jax'] = jax
        sys.modules['jax.numpy'] = jnp


class StandInLayer:
    """The part of trax.layers.base.Layer the loader relies on."""

    def __init__(self, name, sublayers=(), weights_sig=(), state_sig=()):
        self._name = name
        self._sublayers = tuple(sublayers)
        self._weights_sig = weights_sig
        self._state_sig = state_sig
        self._weights = ()
        self._state = ()
        # combinators: None per sublayer, or the cache marker where a shared layer occurs again
        self._cached = [None] * len(self._sublayers)
        self.expected_input = None

    @property
    def name(self):
        return self._name

    @property
    def sublayers(self):
        return self._sublayers

    @property
    def weights(self):
        if not self._sublayers:
            return self._weights
        return tuple(l.weights if c is None else MARKER_W for l, c in zip(self._sublayers, self._cached))

    @weights.setter
    def weights(self, weights):
        if isinstance(weights, dict) and weights == MARKER_W:
            return
        if not self._sublayers:
            self._weights = weights
            return
        if len(weights) != len(self._sublayers):
            raise ValueError(f'{len(weights)} weight elements for {len(self._sublayers)} sublayers')
        for l, w in zip(self._sublayers, weights):
            l.weights = w

    @property
    def state(self):
        if not self._sublayers:
            return self._state
        return tuple(l.state if c is None else MARKER_S for l, c in zip(self._sublayers, self._cached))

    @state.setter
    def state(self, state):
        if isinstance(state, dict) and state == MARKER_S:
            return
        if not self._sublayers:
            self._state = state
            return
        for l, s in zip(self._sublayers, state):
            l.state = s

    def init(self, input_signature, rng=None):
        sig = input_signature if isinstance(input_signature, tuple) else (input_signature,)
        got = [(np.dtype(s.dtype).name, tuple(s.shape)) for s in sig]
        want = [(d, tuple(shape)) for d, shape in self.expected_input]
        if got != want:
            raise ValueError(f'init got the input signature {got}, expected {want}')
        self._init(set(), np.random.default_rng(7))
        return self.weights, self.state

    def _init(self, done, rng):
        for i, l in enumerate(self._sublayers):
            if id(l) in done:
                self._cached[i] = 'cached'
            else:
                done.add(id(l))
                l._init(done, rng)
        if not self._sublayers:
            self._weights = make(self._weights_sig, rng)
            self._state = make(self._state_sig, rng)


def make(sig, rng):
    if 'empty' in sig:
        return ()
    if 'tuple' in sig:
        return tuple(make(s, rng) for s in sig['tuple'])
    a = sig['array']
    return rng.standard_normal(a['shape']).astype(a['dtype'])


def build(desc, objects, expected):
    if 'ref' in desc:
        return objects[desc['ref']]
    subs = [build(d, objects, expected) for d in desc['sublayers']]
    layer = StandInLayer(desc['name'], subs, desc.get('weights', {'empty': True}), desc.get('state', {'empty': True}))
    objects[desc['id']] = layer
    if not subs:
        expected.append((layer, desc.get('weights', {'empty': True}), desc.get('state', {'empty': True})))
    return layer


def pairs(sig, value):
    """(array signature, value) for every array of a tree, checking the structure kept its kind."""
    if 'empty' in sig:
        assert value == (), f'expected (), got {type(value)}'
        return []
    if 'tuple' in sig:
        assert isinstance(value, tuple) and len(value) == len(sig['tuple']), f'expected a {len(sig["tuple"])}-tuple, got {type(value)}'
        return [p for s, v in zip(sig['tuple'], value) for p in pairs(s, v)]
    assert isinstance(value, np.ndarray), f"{sig['array']['key']}: expected a bare array, got {type(value)}"
    return [(sig['array'], value)]


def snapshot(expected):
    """Copies of every leaf's arrays, weights then state."""
    return [[np.array(v) for _, v in pairs(w, l.weights)] + [np.array(v) for _, v in pairs(s, l.state)] for l, w, s in expected]


def main():
    model_py, structure, npz_path = sys.argv[1:4]
    expect_error = '--expect-error' in sys.argv
    no_state = '--no-state' in sys.argv
    install_stubs()
    spec = importlib.util.spec_from_file_location('strata_model', model_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    desc = json.load(open(structure))
    expected = []
    model = build(desc['model'], {}, expected)
    model.expected_input = desc['input']
    mod.model = model
    inputs = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == '--input']
    argv = ['--weights', npz_path] + (['--no-state'] if no_state else []) + [x for sig in inputs for x in ('--input', sig)]
    if expect_error:
        mod.model.init(mod._input_signature(mod.STRATA_INPUT_SIGNATURE))
        before = snapshot(expected)
        try:
            mod.load_strata_weights(model, npz_path, state=not no_state)
        except ValueError as e:
            after = snapshot(expected)
            unchanged = all(len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b)) for a, b in zip(before, after))
            print(json.dumps({'error': str(e), 'unchanged': unchanged}))
            return
        print(json.dumps({'ok': True, 'error': None}))
        sys.exit(1)
    mod.main(argv)
    npz = np.load(npz_path)
    n_weights = n_state = 0
    for layer, wsig, ssig in expected:
        for sig, value in pairs(wsig, layer.weights):
            want = npz[sig['key']]
            assert value.dtype == np.dtype(sig['dtype']), f"{sig['key']}: dtype {value.dtype}, Trax had {sig['dtype']}"
            assert value.shape == tuple(sig['shape']), f"{sig['key']}: shape {value.shape}, Trax had {tuple(sig['shape'])}"
            # (a Trax layer may hold the array with extra axes of size 1: the same values)
            assert np.array_equal(value, want.reshape(value.shape).astype(value.dtype)), f"{sig['key']}: the Trax layer {layer.name} did not get the file's values"
            n_weights += 1
        for sig, value in pairs(ssig, layer.state):
            assert value.dtype == np.dtype(sig['dtype']), f"{sig['key']}: dtype {value.dtype}, Trax had {sig['dtype']}"
            if sig['key'] in npz.files and not no_state:
                assert np.array_equal(value, npz[sig['key']].astype(value.dtype)), f"{sig['key']}: state not set"
                n_state += 1
    print(json.dumps({'ok': True, 'arrays': n_weights, 'state': n_state}))


if __name__ == '__main__':
    main()
