"""Keras models with LMU layers become nengo networks with the same outputs.

`to_classifier` and `cell_from_layer` need nengo only (any Keras backend);
`convert` needs NengoDL (the tests that use it skip without it).
"""

import importlib.util
import json
import sys
from pathlib import Path

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError
from round_trip_io import write_io

pytest.importorskip("keras")

from nengo_lmu.dl import (  # noqa: E402
    LegendreMemoryLayer,
    LMULayer,
    cell_from_layer,
    convert,
    to_classifier,
)
from nengo_lmu.dl.compat import enable_float64, keras, to_numpy  # noqa: E402
from nengo_lmu.info import MissingExtraError  # noqa: E402
from nengo_lmu.networks import LegendreMemory, LMUCell  # noqa: E402

HAS_NENGO_DL = importlib.util.find_spec("nengo_dl") is not None
needs_nengo_dl = pytest.mark.skipif(not HAS_NENGO_DL, reason="NengoDL (the dl extra)")
N = to_numpy
enable_float64()  # the float64 comparisons (JAX computes float32 by default)

T = 30


def mixed_model(return_sequences=False):
    inp = keras.Input((T, 2))
    h = LMULayer(8, 6, 12.0, seed=1, return_sequences=True)(inp)
    m = LegendreMemoryLayer(4, 10.0)(keras.layers.Dense(2)(h))
    h = LMULayer(
        5,
        4,
        9.0,
        seed=2,
        hidden_activation="relu",
        hidden_to_hidden=False,
        return_sequences=return_sequences,
    )(m)
    out = keras.layers.Dense(3, use_bias=False)(h)
    return keras.Model(inp, out)


def run_nengo(conv, x):
    """Per-step outputs of the converted network in nengo.Simulator."""
    node = conv.inputs[conv.model.inputs[0]]
    probe = conv.outputs[conv.model.outputs[0]]
    out = []
    for seq in x:
        node.output = nengo.processes.PresentInput(seq, presentation_time=0.001)
        with nengo.Simulator(conv.net, progress_bar=False) as sim:
            sim.run_steps(len(seq))
        out.append(sim.data[probe])
    return np.array(out)


def run_nengo_dl(conv, x):
    import nengo_dl

    with nengo_dl.Simulator(conv.net, minibatch_size=len(x), progress_bar=False) as sim:
        out = sim.predict({conv.inputs[conv.model.inputs[0]]: x}, verbose=0)
    return out[conv.outputs[conv.model.outputs[0]]]


@needs_nengo_dl
def test_converted_model_matches_step_by_step(rng, allclose):
    model = mixed_model(return_sequences=True)
    x = rng.randn(3, T, 2).astype(np.float32)
    ref = model.predict(x, verbose=0)
    conv = convert(model)
    cells = [o for o in conv.net.all_networks if isinstance(o, LMUCell)]
    memories = [o for o in conv.net.all_networks if isinstance(o, LegendreMemory)]
    assert len(cells) == 2 and len(memories) == 3  # one per cell, one alone
    assert allclose(run_nengo_dl(conv, x), ref, atol=1e-4)
    assert allclose(run_nengo(conv, x[:2]), ref[:2], atol=1e-4)


@needs_nengo_dl
def test_convert_model_returning_last_step(rng, allclose):
    model = mixed_model(return_sequences=False)
    x = rng.randn(2, T, 2).astype(np.float32)
    ref = model.predict(x, verbose=0)
    conv = convert(model)
    assert allclose(run_nengo_dl(conv, x)[:, -1], ref, atol=1e-4)
    # the original model is untouched
    assert not model.layers[-2].return_sequences


@needs_nengo_dl
def test_nengo_dl_converter_directly(rng, allclose):
    """The registered converters work through nengo_dl.Converter itself."""
    import nengo_dl

    model = mixed_model(return_sequences=True)
    x = rng.randn(2, T, 2).astype(np.float32)
    conv = nengo_dl.Converter(model, temporal_model=True, allow_fallback=False)
    assert allclose(run_nengo_dl(conv, x), model.predict(x, verbose=0), atol=1e-4)
    with pytest.raises(TypeError, match="temporal_model=True"):
        nengo_dl.Converter(model, allow_fallback=False)
    with pytest.raises(TypeError, match="return_sequences=False"):
        nengo_dl.Converter(mixed_model(False), temporal_model=True)


def test_convert_without_nengo_dl_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "nengo_dl", None)
    with pytest.raises(MissingExtraError, match=r"pip install nengo-lmu\[dl\]"):
        convert(mixed_model(return_sequences=True))


@needs_nengo_dl
@pytest.mark.parametrize("flag", ["go_backwards", "return_state"])
def test_layers_that_cannot_run_forward_are_refused(flag):
    inp = keras.Input((T, 1))
    out = LMULayer(4, 6, 10.0, return_sequences=True, **{flag: True})(inp)
    model = keras.Model(inp, out[0] if flag == "return_state" else out)
    with pytest.raises(ValidationError, match=flag):
        convert(model)


def test_cell_from_layer_with_recurrent_options(rng, allclose):
    """Every option (including the memory's inputs) carries over."""
    x = rng.randn(2, 25, 3)
    with pytest.warns(UserWarning, match="recurrent"):
        layer = LMULayer(
            6,
            5,
            10.0,
            memory_d=2,
            hidden_to_memory=True,
            memory_to_memory=True,
            trainable_memory=True,
            seed=4,
            return_sequences=True,
            dtype="float64",
        )
    ref = N(layer(x))
    # make the trained-memory weights differ from the defaults
    layer.kernels["Ad"].assign(layer.kernels["Ad"] * 0.99)
    layer.kernels["e_m"].assign(rng.randn(2, 10) * 0.1)
    ref = N(layer(x))
    with nengo.Network() as net:
        cell = cell_from_layer(layer)
        node = nengo.Node(nengo.processes.PresentInput(x[0], 1.0), size_out=3)
        nengo.Connection(node, cell.input, synapse=None)
        p = nengo.Probe(cell.output, synapse=None)
    with nengo.Simulator(net, dt=1.0, progress_bar=False) as sim:
        sim.run_steps(25)
    assert allclose(sim.data[p], ref[0], atol=1e-8)
    with pytest.raises(ValidationError, match="must be built"):
        cell_from_layer(LMULayer(3, 4, 5.0))
    with pytest.raises(ValidationError, match="LMULayer"):
        cell_from_layer(keras.layers.Dense(3))


def classifier_model():
    return keras.Sequential(
        [
            keras.Input((20, 1)),
            LMULayer(16, 8, 20.0, seed=0, hidden_activation="relu", hidden_to_hidden=False),
            keras.layers.Dense(
                4, use_bias=False, kernel_initializer=keras.initializers.GlorotUniform(seed=1)
            ),
        ]
    )


def test_to_classifier_rate_and_spiking(rng, allclose):
    model = classifier_model()
    x = rng.uniform(0, 1, size=(3, 20, 1)).astype(np.float32)
    ref = model.predict(x, verbose=0)
    net = to_classifier(model)
    assert allclose(net.predict(x), ref, atol=1e-5)
    # about 100 spikes per step: the last-step quantisation is ~1%
    gain = 1e5
    spiking = to_classifier(
        model,
        hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1 / gain),
        hidden_gain=gain,
    )
    err = np.max(np.abs(spiking.predict(x) - ref)) / np.max(np.abs(ref))
    assert err < 0.05


@needs_nengo_dl
def test_converter_spiking_swap_equals_keras(rng):
    import tensorflow as tf

    model = classifier_model()
    x = rng.uniform(0, 1, size=(3, 20, 1)).astype(np.float32)
    ref = model.predict(x, verbose=0)
    gain = 1e5
    # the converter's own spiking swap: about 100 spikes per step
    conv = convert(
        model,
        swap_activations={tf.nn.relu: nengo.SpikingRectifiedLinear()},
        scale_firing_rates=gain,
    )
    y = run_nengo_dl(conv, x)[:, -1]
    assert np.max(np.abs(y - ref)) / np.max(np.abs(ref)) < 0.05


def test_to_classifier_refuses_other_models():
    bad = keras.Sequential(
        [
            keras.Input((20, 1)),
            LMULayer(16, 8, 20.0),
            keras.layers.Dense(4),  # with a bias
        ]
    )
    with pytest.raises(ValidationError, match="Dense"):
        to_classifier(bad)


# --- the weights file carries a model between environments -----------------

#: Classifiers trained and saved by `write_round_trip_file` in each
#: environment (Keras 3 + JAX on Python 3.12 with nengo 4.1 and numpy 2;
#: tf.keras 2.12 on the locked Python 3.11 stack), with their inputs and
#: Keras outputs: every environment must run every file to the same outputs.
ROUND_TRIP = sorted((Path(__file__).parent / "data").glob("classifier_*.npz"))


def write_round_trip_file(folder):
    """Train a small classifier here, save it with `LMUClassifier.save`, and
    write its inputs and Keras outputs next to it (``.json``); returns the
    path. Run ``python tests/test_convert.py`` in an environment to add its
    file to ``tests/data``."""
    from nengo_lmu.dl.compat import backend_name

    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    x = rng.uniform(0, 1, size=(16, 20, 1)).astype(np.float32)
    y = (x[:, :10, 0].mean(axis=1) > x[:, 10:, 0].mean(axis=1)).astype(np.int64)
    model = classifier_model()
    model.compile(
        keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    model.fit(x, y, epochs=3, verbose=0)
    name = f"classifier_{backend_name().replace('.', '')}_py{sys.version_info[0]}{sys.version_info[1]}"
    path = to_classifier(model).save(Path(folder) / name)
    write_io(Path(path).with_suffix(".json"), model, x)
    return path


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.stem)
def test_weights_files_from_every_environment_run_here(path):
    from nengo_lmu.networks import LMUClassifier

    info = json.loads(path.with_suffix(".json").read_text())
    x, want = np.array(info["x"], dtype=np.float32), np.array(info["keras"])
    net = LMUClassifier.load(path)
    assert np.allclose(net.predict(x), want, atol=1e-5), info["made_with"]
    if HAS_NENGO_DL:
        import nengo_dl

        got = net.predict(x, simulator=nengo_dl.Simulator, progress_bar=False)
        assert np.allclose(got, want, atol=1e-4), info["made_with"]


def test_round_trip_files_come_from_both_stacks():
    # one file from Keras 3 on today's stack and one from tf.keras 2.12
    names = [p.stem for p in ROUND_TRIP]
    assert any("jax" in n or "torch" in n for n in names), names
    assert any("tfkeras" in n for n in names), names


if __name__ == "__main__":
    print(write_round_trip_file(Path(__file__).parent / "data"))
