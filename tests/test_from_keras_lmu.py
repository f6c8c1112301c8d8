"""`nengo_lmu.dl.from_keras_lmu`: KerasLMU models on nengo_lmu's layers.

The fixtures in tests/data/keras_lmu/ were written by KerasLMU 0.9 on Keras
3 (tests/data/make_keras_lmu_fixtures.py) with its outputs on fixed inputs;
they convert on every stack (tf.keras 2.12, Keras 3 on JAX, PyTorch or
TensorFlow) without KerasLMU. The live tests run where ``keras_lmu``
imports (TensorFlow: tf.keras 2.12 or Keras 3).
"""

import importlib.util
import json
import pathlib
import zipfile

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("keras")

from nengo_lmu.dl import LMUKerasCell, LMULayer, from_keras_lmu, to_classifier  # noqa: E402
from nengo_lmu.dl.compat import keras, to_numpy  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data" / "keras_lmu"
OUTPUTS = dict(np.load(DATA / "outputs.npz"))
X = OUTPUTS["x"]
NAMES = sorted(k for k in OUTPUTS if k != "x")
HAS_KERAS_LMU = importlib.util.find_spec("keras_lmu") is not None


def converted(name, **kwargs):
    return from_keras_lmu(DATA / f"{name}.keras", **kwargs)


def lmu_layers(model):
    return [layer for layer in model.layers if isinstance(layer, LMULayer)]


@pytest.mark.parametrize("name", NAMES)
def test_fixture_outputs_equal_keras_lmu(name):
    model = converted(name)
    y = to_numpy(model(X))
    assert y.shape == OUTPUTS[name].shape
    assert np.max(np.abs(y - OUTPUTS[name])) < 1e-5
    # and the outputs are not trivially small
    assert np.max(np.abs(OUTPUTS[name])) > 0.1


def test_fixture_layers_as_expected():
    """Which hidden cells become the default hidden layer, and the options."""
    (lmu,) = lmu_layers(converted("LMU_random"))
    assert lmu.default_hidden and lmu.hidden_to_hidden  # SimpleRNNCell(6)
    assert lmu.hidden_to_memory and lmu.memory_to_memory and lmu.use_bias
    assert lmu.effective_mode == "recurrent" and lmu.return_sequences
    (lmu,) = lmu_layers(converted("LMU_trained"))
    assert lmu.default_hidden and lmu.hidden_activation == "relu"
    assert not lmu.hidden_to_hidden and not lmu.use_bias and lmu.input_to_hidden
    (ff,) = lmu_layers(converted("LMUFeedforward_random"))
    assert ff.hidden_cell is None and ff.memory_d == 2 and ff.use_bias
    (ff,) = lmu_layers(converted("LMUFeedforward_trained"))
    assert type(ff.hidden_cell).__name__ == "LSTMCell" and ff.dropout == pytest.approx(0.1)
    (rnn,) = lmu_layers(converted("RNN_trained"))
    # the trained theta (KerasLMU learnt 1/theta from 1/12)
    assert rnn.trainable_theta and rnn.discretizer == "euler"
    assert rnn.theta != pytest.approx(12.0, abs=0.1)
    assert rnn.dropout == pytest.approx(0.1)


def test_fixture_to_nengo_simulator_equals_keras_lmu():
    """KerasLMU model -> nengo_lmu layers -> LMUClassifier in nengo.Simulator,
    rate and spiking, and the Loihi layout's rate logits."""
    model = converted("LMU_trained")
    ref = OUTPUTS["LMU_trained"]
    net = to_classifier(model)
    y = net.predict(X)  # nengo.Simulator
    assert np.max(np.abs(y - ref)) < 1e-5
    gain = 1e5  # about 100 spikes per step
    spiking = to_classifier(
        model,
        hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1 / gain),
        hidden_gain=gain,
    )
    err = np.max(np.abs(spiking.predict(X) - ref)) / np.max(np.abs(ref))
    assert err < 0.05
    pytest.importorskip("nengo_loihi")
    from nengo_lmu import loihi

    chip = loihi.HostMemoryClassifier(net, scale_x=X)
    assert np.max(np.abs(chip.rate_logits(X) - ref)) < 1e-5


def edit_fixture(tmp_path, name, edit):
    """A copy of a fixture whose KerasLMU layer's config ``edit`` changes."""
    src = DATA / f"{name}.keras"
    dst = tmp_path / f"{name}_edited.keras"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "config.json":
                config = json.loads(data)
                for entry in config["config"]["layers"]:
                    if entry["class_name"] == "RNN":
                        edit(entry["config"]["cell"]["config"], entry["config"])
                    elif entry["class_name"] in ("LMU", "LMUFeedforward"):
                        edit(entry["config"], entry["config"])
                data = json.dumps(config)
            zout.writestr(item, data)
    return dst


L2 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01}}

#: (fixture, option, value, message): each refused on its own
REFUSED = [
    ("LMUFeedforward_random", "truncate_ir", 1e-4, "truncates the memory's impulse"),
    ("RNN_random", "time_major", True, "time_major"),
    ("RNN_random", "input_d", 5, "the input has 2 features"),
    ("LMU_random", "dropout", 0.2, "masks the fed-back h"),
    ("LMU_random", "recurrent_dropout", 0.2, "also masks the fed-back h"),
    ("LMU_random", "kernel_regularizer", L2, "covers e_h"),
    ("LMU_random", "recurrent_regularizer", L2, "also covers e_h"),
    ("LMU_random", "bias_regularizer", L2, "hidden layer's bias"),
    ("LMU_trained", "kernel_regularizer", L2, "W_x, W_m"),
    ("LMUFeedforward_trained", "dropout", 0.2, None),  # accepted: same signals
]


def test_dropout_on_one_side_refused(tmp_path):
    # KerasLMU's convolution masks the input of its LSTMCell too; here a
    # Keras hidden cell gets the unmasked input
    path = edit_fixture(
        tmp_path, "LMUFeedforward_trained", lambda c, _: c.update(input_to_hidden=True)
    )
    with pytest.raises(ValidationError, match="masked on one side only") as info:
        from_keras_lmu(path)
    assert info.value.attr == "dropout"


@pytest.mark.parametrize("name, option, value, message", REFUSED)
def test_refused_options(tmp_path, name, option, value, message):
    def edit(cell, layer):
        if option == "truncate_ir":
            cell["conv_mode"] = "raw"
        target = layer if option == "time_major" else cell
        target[option] = value

    path = edit_fixture(tmp_path, name, edit)
    if message is None:
        layer = lmu_layers(from_keras_lmu(path))[0]
        assert getattr(layer, option) == pytest.approx(value)
        return
    with pytest.raises(ValidationError, match=message) as info:
        from_keras_lmu(path)
    assert info.value.attr == option
    if option in ("dropout", "recurrent_dropout") or option.endswith("regularizer"):
        # training-only: left out on request, the outputs are unchanged
        model = from_keras_lmu(path, inference_only=True)
        assert getattr(lmu_layers(model)[0], option) in (None, 0.0)
        assert np.max(np.abs(to_numpy(model(X)) - OUTPUTS[name])) < 1e-5


def test_accepted_regularizer_is_carried(tmp_path):
    # no hidden_to_memory and a Keras hidden cell: the same weights (e_x)
    path = edit_fixture(
        tmp_path, "LMUFeedforward_trained", lambda c, _: c.update(kernel_regularizer=L2)
    )
    (layer,) = lmu_layers(from_keras_lmu(path))
    assert type(layer.kernel_regularizer).__name__.lower() in ("l2", "l1l2")


def test_not_keras_lmu(tmp_path):
    inp = keras.Input((4, 2))
    plain = keras.Model(inp, keras.layers.Dense(3)(inp))
    with pytest.raises(ValidationError, match="holds no KerasLMU layer"):
        from_keras_lmu(plain)
    with pytest.raises(ValidationError, match="must be a Keras model"):
        from_keras_lmu(42)
    bad = tmp_path / "x.keras"
    bad.write_text("not a zip")
    with pytest.raises(ValidationError, match="zip archive"):
        from_keras_lmu(bad)
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(ValidationError, match="not a Keras 3 model"):
        from_keras_lmu(empty)


# --- live KerasLMU models (where keras_lmu imports) --------------------------

needs_keras_lmu = pytest.mark.skipif(
    not HAS_KERAS_LMU,
    reason="keras_lmu does not import here (KerasLMU 0.9 needs TensorFlow: "
    "tf.keras 2.12 or Keras 3 with TensorFlow >= 2.16)",
)


def live_models():
    import keras_lmu

    def model(layer, steps=12):
        inp = keras.Input((steps, 3))
        return keras.Model(inp, keras.layers.Dense(2)(layer(inp)))

    return {
        "LMU_ff": lambda: model(
            keras_lmu.LMU(
                memory_d=2,
                order=4,
                theta=6,
                hidden_cell=keras.layers.Dense(5, activation="tanh"),
                input_to_hidden=True,
                use_bias=True,
                return_sequences=True,
            )
        ),
        "LMU_rnn": lambda: model(
            keras_lmu.LMU(
                memory_d=1,
                order=4,
                theta=6,
                hidden_cell=keras.layers.SimpleRNNCell(5, activation="sigmoid"),
                hidden_to_memory=True,
            )
        ),
        "LMUFeedforward": lambda: model(
            keras_lmu.LMUFeedforward(
                memory_d=3, order=4, theta=6, hidden_cell=None, kernel_initializer=None
            )
        ),
        "RNN": lambda: model(
            keras.layers.RNN(
                keras_lmu.LMUCell(
                    memory_d=1,
                    order=3,
                    theta=5,
                    hidden_cell=keras.layers.LSTMCell(4),
                    memory_to_memory=True,
                    trainable_theta=True,
                ),
                return_sequences=True,
            )
        ),
    }


@needs_keras_lmu
@pytest.mark.parametrize("kind", ["LMU_ff", "LMU_rnn", "LMUFeedforward", "RNN"])
def test_live_keras_lmu_equals(kind, rng):
    model = live_models()[kind]()
    # random weights; a trainable 1/theta (the only scalar) at 1/7
    model.set_weights(
        [
            np.float32(1 / 7) if w.shape == () else rng.uniform(-0.5, 0.5, w.shape)
            for w in model.get_weights()
        ]
    )
    x = rng.randn(3, 12, 3).astype("float32")
    ours = from_keras_lmu(model)
    assert len(lmu_layers(ours)) == 1
    assert not any(type(layer).__module__.startswith("keras_lmu") for layer in ours.layers)
    ref = to_numpy(model(x))
    assert np.max(np.abs(to_numpy(ours(x)) - ref)) < 1e-5
    assert np.max(np.abs(ref)) > 0.1


@needs_keras_lmu
def test_live_layer_and_cell(rng):
    """A lone layer gives an LMULayer, a lone LMUCell an LMUKerasCell."""
    import keras_lmu

    x = rng.randn(2, 10, 3).astype("float32")
    layer = keras_lmu.LMUFeedforward(
        memory_d=1, order=4, theta=6, hidden_cell=keras.layers.Dense(4, activation="relu")
    )
    ref = to_numpy(layer(x))
    ours = from_keras_lmu(layer)
    assert isinstance(ours, LMULayer) and ours.default_hidden
    assert np.max(np.abs(to_numpy(ours(x)) - ref)) < 1e-5
    cell = keras_lmu.LMUCell(
        memory_d=1, order=4, theta=6, hidden_cell=keras.layers.Dense(4, activation="tanh")
    )
    ref = to_numpy(keras.layers.RNN(cell)(x))
    ours = from_keras_lmu(cell)
    assert isinstance(ours, LMUKerasCell)
    assert np.max(np.abs(to_numpy(keras.layers.RNN(ours)(x)) - ref)) < 1e-5
    inner = keras.Sequential([keras.Input((10, 3)), layer])
    outer = keras.Sequential([keras.Input((10, 3)), inner])
    with pytest.raises(ValidationError, match="hold KerasLMU layers inside"):
        from_keras_lmu(outer)
    with pytest.raises(ValidationError, match="must be built"):
        from_keras_lmu(keras_lmu.LMUFeedforward(memory_d=1, order=4, theta=6, hidden_cell=None))
