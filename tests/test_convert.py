"""Keras models with LMU layers become nengo networks with the same outputs."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

tf = pytest.importorskip("tensorflow")
nengo_dl = pytest.importorskip("nengo_dl")

from nengo_lmu.dl import (  # noqa: E402
    LegendreMemoryLayer,
    LMULayer,
    cell_from_layer,
    convert,
    to_classifier,
)
from nengo_lmu.networks import LegendreMemory, LMUCell  # noqa: E402

T = 30


def mixed_model(return_sequences=False):
    inp = tf.keras.Input((T, 2))
    h = LMULayer(8, 6, 12.0, seed=1, return_sequences=True)(inp)
    m = LegendreMemoryLayer(4, 10.0)(tf.keras.layers.Dense(2)(h))
    h = LMULayer(
        5,
        4,
        9.0,
        seed=2,
        hidden_activation="relu",
        hidden_to_hidden=False,
        return_sequences=return_sequences,
    )(m)
    out = tf.keras.layers.Dense(3, use_bias=False)(h)
    return tf.keras.Model(inp, out)


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
    with nengo_dl.Simulator(conv.net, minibatch_size=len(x), progress_bar=False) as sim:
        out = sim.predict({conv.inputs[conv.model.inputs[0]]: x}, verbose=0)
    return out[conv.outputs[conv.model.outputs[0]]]


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


def test_convert_model_returning_last_step(rng, allclose):
    model = mixed_model(return_sequences=False)
    x = rng.randn(2, T, 2).astype(np.float32)
    ref = model.predict(x, verbose=0)
    conv = convert(model)
    assert allclose(run_nengo_dl(conv, x)[:, -1], ref, atol=1e-4)
    # the original model is untouched
    assert not model.layers[-2].return_sequences


def test_nengo_dl_converter_directly(rng, allclose):
    """The registered converters work through nengo_dl.Converter itself."""
    model = mixed_model(return_sequences=True)
    x = rng.randn(2, T, 2).astype(np.float32)
    conv = nengo_dl.Converter(model, temporal_model=True, allow_fallback=False)
    assert allclose(run_nengo_dl(conv, x), model.predict(x, verbose=0), atol=1e-4)
    with pytest.raises(TypeError, match="temporal_model=True"):
        nengo_dl.Converter(model, allow_fallback=False)
    with pytest.raises(TypeError, match="return_sequences=False"):
        nengo_dl.Converter(mixed_model(False), temporal_model=True)


@pytest.mark.parametrize("flag", ["go_backwards", "return_state"])
def test_layers_that_cannot_run_forward_are_refused(flag):
    inp = tf.keras.Input((T, 1))
    out = LMULayer(4, 6, 10.0, return_sequences=True, **{flag: True})(inp)
    model = tf.keras.Model(inp, out[0] if flag == "return_state" else out)
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
    ref = layer(x).numpy()
    # make the trained-memory weights differ from the defaults
    layer.kernels["Ad"].assign(layer.kernels["Ad"] * 0.99)
    layer.kernels["e_m"].assign(rng.randn(2, 10) * 0.1)
    ref = layer(x).numpy()
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
        cell_from_layer(tf.keras.layers.Dense(3))


def classifier_model():
    return tf.keras.Sequential(
        [
            tf.keras.Input((20, 1)),
            LMULayer(16, 8, 20.0, seed=0, hidden_activation="relu", hidden_to_hidden=False),
            tf.keras.layers.Dense(4, use_bias=False),
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
    # the converter's own spiking swap does the same
    conv = convert(
        model,
        swap_activations={tf.nn.relu: nengo.SpikingRectifiedLinear()},
        scale_firing_rates=gain,
    )
    y = run_nengo_dl(conv, x)[:, -1]
    assert np.max(np.abs(y - ref)) / np.max(np.abs(ref)) < 0.05


def test_to_classifier_refuses_other_models():
    bad = tf.keras.Sequential(
        [
            tf.keras.Input((20, 1)),
            LMULayer(16, 8, 20.0),
            tf.keras.layers.Dense(4),  # with a bias
        ]
    )
    with pytest.raises(ValidationError, match="Dense"):
        to_classifier(bad)
