"""Write the KerasLMU fixtures of tests/test_from_keras_lmu.py.

Six small models built with KerasLMU 0.9, one random and one trained per
layer type (``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward``,
``keras.layers.RNN(keras_lmu.LMUCell(...))``), saved as Keras 3 ``.keras``
files in tests/data/keras_lmu/, with KerasLMU's outputs on fixed inputs in
tests/data/keras_lmu/outputs.npz (``x`` and one array per model). The tests
convert the files with `nengo_lmu.dl.from_keras_lmu` (no KerasLMU needed)
and compare with those outputs.

Run it where KerasLMU imports on Keras 3 (TensorFlow >= 2.16), e.g.::

    python3.12 -m venv .venv312 && . .venv312/bin/activate
    pip install tensorflow-cpu keras-lmu==0.9.0 -e ".[keras,tests]"
    python tests/data/make_keras_lmu_fixtures.py

Everything is seeded (numpy seed 0, ``keras.utils.set_random_seed(0)``);
trained weights can still differ in the last bits between machines, so the
outputs are stored next to the models rather than recomputed.
"""

import pathlib
import sys

import keras
import keras_lmu
import numpy as np

HERE = pathlib.Path(__file__).parent / "keras_lmu"
STEPS, FEATURES = 20, 2


def lmu_random():
    """LMU stepped by KerasLMU: hidden_to_memory, memory_to_memory, biases."""
    inp = keras.Input((STEPS, FEATURES))
    h = keras_lmu.LMU(
        memory_d=2,
        order=4,
        theta=6,
        hidden_cell=keras.layers.SimpleRNNCell(6),
        hidden_to_memory=True,
        memory_to_memory=True,
        use_bias=True,
        return_sequences=True,
    )(inp)
    return keras.Model(inp, keras.layers.Dense(3)(h))


def lmu_trained():
    """LMU convolved by KerasLMU; a ReLU Dense hidden cell without bias and a
    bias-free readout: the form that converts to an LMUClassifier."""
    return keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            keras_lmu.LMU(
                memory_d=1,
                order=6,
                theta=10,
                hidden_cell=keras.layers.Dense(8, activation="relu", use_bias=False),
                input_to_hidden=True,
            ),
            keras.layers.Dense(2, use_bias=False),
        ]
    )


def feedforward_random():
    """LMUFeedforward without a hidden cell (the memory itself), with bias."""
    inp = keras.Input((STEPS, FEATURES))
    m = keras_lmu.LMUFeedforward(
        memory_d=2, order=4, theta=8, hidden_cell=None, use_bias=True, return_sequences=True
    )(inp)
    return keras.Model(inp, keras.layers.Dense(3)(m))


def feedforward_trained():
    """LMUFeedforward with an LSTMCell hidden cell and input dropout."""
    inp = keras.Input((STEPS, FEATURES))
    h = keras_lmu.LMUFeedforward(
        memory_d=1,
        order=6,
        theta=10,
        hidden_cell=keras.layers.LSTMCell(6),
        dropout=0.1,
    )(inp)
    return keras.Model(inp, keras.layers.Dense(2)(h))


def rnn_random():
    """RNN(LMUCell): trainable theta (moved off its start), linear Dense."""
    inp = keras.Input((STEPS, FEATURES))
    cell = keras_lmu.LMUCell(
        memory_d=1,
        order=4,
        theta=6,
        hidden_cell=keras.layers.Dense(5),
        trainable_theta=True,
        use_bias=True,
    )
    h = keras.layers.RNN(cell, return_sequences=True)(inp)
    return keras.Model(inp, keras.layers.Dense(3)(h))


def rnn_trained():
    """RNN(LMUCell): Euler, trainable theta, a tanh SimpleRNNCell, dropout."""
    inp = keras.Input((STEPS, FEATURES))
    cell = keras_lmu.LMUCell(
        memory_d=2,
        order=4,
        theta=12,
        discretizer="euler",
        hidden_cell=keras.layers.SimpleRNNCell(6),
        trainable_theta=True,
        dropout=0.1,
    )
    h = keras.layers.RNN(cell)(inp)
    return keras.Model(inp, keras.layers.Dense(2)(h))


MODELS = {
    "LMU_random": lmu_random,
    "LMU_trained": lmu_trained,
    "LMUFeedforward_random": feedforward_random,
    "LMUFeedforward_trained": feedforward_trained,
    "RNN_random": rnn_random,
    "RNN_trained": rnn_trained,
}


def randomise(model, rng):
    """Every weight uniform in [-0.5, 0.5], a trainable 1/theta at 1/7."""
    for w in model.weights:
        if w.path.endswith("theta_inv"):
            w.assign(np.float32(1 / 7))
        else:
            w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype("float32"))


def train(model, rng):
    """A few epochs on a toy task: the sign of the last 8 steps' mean."""
    x = rng.randn(256, STEPS, FEATURES).astype("float32")
    y = (x[:, -8:, 0].mean(axis=1) > 0).astype("int32")
    model.compile(
        optimizer=keras.optimizers.Adam(0.02),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(0)
    HERE.mkdir(exist_ok=True)
    x = rng.randn(4, STEPS, FEATURES).astype("float32")
    outputs = {"x": x}
    for name, make in MODELS.items():
        model = make()
        if name.endswith("random"):
            randomise(model, rng)
        else:
            train(model, rng)
        outputs[name] = np.asarray(model(x, training=False))
        model.save(HERE / f"{name}.keras")
        print(f"{name}: output {outputs[name].shape}", file=sys.stderr)
    np.savez(HERE / "outputs.npz", **outputs)
    versions = f"keras {keras.__version__}, keras-lmu {keras_lmu.__version__}"
    (HERE / "VERSIONS.txt").write_text(f"written by make_keras_lmu_fixtures.py with {versions}\n")


if __name__ == "__main__":
    main()
