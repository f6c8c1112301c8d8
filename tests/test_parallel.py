"""The parallel memory and Keras layers against the step-by-step references."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("keras")

from nengo_lmu.dl import LegendreMemoryLayer, LMULayer, legendre_memory  # noqa: E402
from nengo_lmu.dl.compat import (  # noqa: E402
    enable_float64,
    gradients,
    keras,
    layer_gradients,
    ops,
    to_numpy,
    uses_tensorflow,
)
from nengo_lmu.dl.memory import discrete_memory, memory_recurrent  # noqa: E402
from nengo_lmu.networks import LMUCell  # noqa: E402
from nengo_lmu.systems import legendre_system  # noqa: E402

enable_float64()  # the float64 comparisons (JAX computes float32 by default)

N = to_numpy


CASES = [
    # order, theta, steps, channels, chunk
    (1, 4.0, 9, 1, None),
    (6, 10.0, 37, 1, 5),
    (12, 30.5, 100, 2, None),
    (48, 64.0, 64, 3, 16),
]


@pytest.mark.parametrize("order, theta, steps, d, chunk", CASES)
@pytest.mark.parametrize("mode", ["chunked", "fft"])
def test_memory_modes_equal_recurrent_float64(order, theta, steps, d, chunk, mode, rng):
    u = rng.randn(3, steps, d)
    m0 = rng.randn(3, d * order)
    ref = N(legendre_memory(u, order, theta, "recurrent", m0=m0))
    out = N(legendre_memory(u, order, theta, mode, chunk=chunk, m0=m0))
    assert ref.dtype == out.dtype == np.float64
    assert np.max(np.abs(out - ref)) <= 1e-8 * np.max(np.abs(ref))
    last = N(legendre_memory(u, order, theta, mode, chunk=chunk, m0=m0, last_only=True))
    assert np.max(np.abs(last - ref[:, -1])) <= 1e-8 * np.max(np.abs(ref))


@pytest.mark.parametrize("mode", ["chunked", "fft", "recurrent"])
def test_memory_float32_relative_1e4(mode, rng):
    u = rng.randn(4, 200, 2).astype(np.float32)
    ref = N(legendre_memory(u.astype(np.float64), 32, 150.0, "recurrent"))
    out = N(legendre_memory(u, 32, 150.0, mode))
    assert out.dtype == np.float32
    assert np.max(np.abs(out - ref)) <= 1e-4 * np.max(np.abs(ref))


def test_recurrent_reference_is_the_lmu_recurrence(rng):
    """The keras.ops reference equals the numpy recurrence of `LinearSystem`."""
    sys = legendre_system(6, 10.0).discretize(1.0)
    u = rng.randn(1, 50, 1)
    Ad, Bd = discrete_memory(6, 10.0)
    out = N(memory_recurrent(u[:, :, 0], Ad, Bd))
    assert np.allclose(out[0], sys.simulate(u[0], output=False), atol=1e-12)
    assert np.allclose(Ad, sys.A) and np.allclose(Bd, sys.B[:, 0])


@pytest.mark.parametrize("mode", ["chunked", "fft"])
@pytest.mark.parametrize("order, theta, d", [(6, 10.0, 1), (16, 40.0, 2)])
def test_memory_gradients_equal_recurrent(mode, order, theta, d, rng):
    u = rng.randn(2, 45, d)
    m0 = rng.randn(2, d * order)
    w = rng.randn(45, d * order)

    def grads(m):
        def loss(u, m0):
            out = legendre_memory(u, order, theta, m, chunk=7, m0=m0)
            return ops.sum(ops.multiply(out, ops.convert_to_tensor(w, dtype="float64")))

        return gradients(loss, u, m0)

    ref = grads("recurrent")
    assert np.max(np.abs(ref[0])) > 0.1
    for g, g_ref in zip(grads(mode), ref):
        assert np.allclose(g, g_ref, atol=1e-9, rtol=1e-8)


def test_layers_in_fft_mode_need_the_sequence_length():
    for layer in (LegendreMemoryLayer(6, 10.0, mode="fft"), LMULayer(3, 6, 10.0, mode="fft")):
        with pytest.raises(ValidationError, match="fft.*sequence length"):
            layer(keras.Input((None, 1)))


@pytest.mark.skipif(not uses_tensorflow(), reason="lengths unknown when traced: TensorFlow only")
def test_chunked_with_unknown_length_and_fft_needs_it(rng):
    import tensorflow as tf

    u = rng.randn(2, 23, 1)
    ref = legendre_memory(tf.constant(u), 6, 10.0, "recurrent").numpy()
    spec = tf.TensorSpec((None, None, 1), tf.float64)
    chunked = tf.function(lambda x: legendre_memory(x, 6, 10.0, chunk=4), input_signature=[spec])
    assert np.allclose(chunked(tf.constant(u)).numpy(), ref, atol=1e-12)
    last = tf.function(
        lambda x: legendre_memory(x, 6, 10.0, last_only=True), input_signature=[spec]
    )
    assert np.allclose(last(tf.constant(u)).numpy(), ref[:, -1], atol=1e-12)
    fft = tf.function(
        lambda x: legendre_memory(x, 6, 10.0, "fft"), input_signature=[spec], autograph=False
    )
    with pytest.raises(ValidationError, match="fft.*sequence length"):
        fft(tf.constant(u))


def test_memory_equals_keras_lmu_feedforward(rng):
    keras_lmu = pytest.importorskip("keras_lmu")
    x = rng.randn(3, 80, 2).astype(np.float32)
    theirs = keras_lmu.LMUFeedforward(
        memory_d=2,
        order=12,
        theta=40,
        hidden_cell=None,
        kernel_initializer=None,
        return_sequences=True,
    )
    ours = LegendreMemoryLayer(12, 40)
    a, b = N(theirs(x)), N(ours(x))
    assert a.shape == b.shape == (3, 80, 24)
    assert np.allclose(a, b, atol=1e-4 * np.max(np.abs(a)))


def test_lmu_layer_equals_keras_lmu_with_same_weights(rng):
    """KerasLMU's LMUFeedforward with a Dense hidden cell, our weights copied."""
    keras_lmu = pytest.importorskip("keras_lmu")
    x = rng.randn(2, 50, 3).astype(np.float32)
    ours = LMULayer(7, 10, 25, memory_d=2, hidden_to_hidden=False, seed=0, return_sequences=True)
    ours(x)
    theirs = keras_lmu.LMUFeedforward(
        memory_d=2,
        order=10,
        theta=25,
        input_to_hidden=True,
        hidden_cell=keras.layers.Dense(7, activation="tanh", use_bias=False),
        return_sequences=True,
    )
    theirs(x)
    w = {k: N(v) for k, v in ours.kernels.items()}
    theirs.kernel.assign(w["e_x"].T)
    # KerasLMU feeds concat([m, x]) to the hidden cell
    theirs.hidden_cell.kernel.assign(np.concatenate([w["W_m"].T, w["W_x"].T], axis=0))
    a, b = N(theirs(x)), N(ours(x))
    assert np.allclose(a, b, atol=1e-4)


LAYER_OPTIONS = [
    dict(),
    dict(hidden_to_hidden=False),
    dict(input_to_hidden=False, memory_d=2),
    dict(hidden_activation="relu", hidden_to_hidden=False),
    dict(hidden_activation="sigmoid"),
]


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=str)
@pytest.mark.parametrize("mode", ["chunked", "fft"])
def test_lmu_layer_modes_equal_recurrent(options, mode, rng):
    x = rng.randn(3, 40, 2)

    def run(mode, return_sequences):
        layer = LMULayer(
            5,
            8,
            20.0,
            mode=mode,
            seed=3,
            dtype="float64",
            chunk_size=7,
            return_sequences=return_sequences,
            **options,
        )
        return layer_gradients(layer, x)

    ref, ref_grads = run("recurrent", True)
    for rs in (True, False):
        out, grads = run(mode, rs)
        assert np.allclose(out, ref if rs else ref[:, -1], atol=1e-10)
        for g, g_ref in zip(grads, run("recurrent", rs)[1]):
            assert np.allclose(g, g_ref, atol=1e-9)


@pytest.mark.parametrize("flag", ["hidden_to_memory", "memory_to_memory", "trainable_memory"])
def test_options_that_feed_the_memory_fall_back_to_recurrent(flag, rng):
    with pytest.warns(UserWarning, match=f"cannot express {flag}.*recurrent"):
        layer = LMULayer(4, 6, 12.0, seed=1, **{flag: True})
    assert layer.effective_mode == "recurrent" and layer.recurrent_reasons == [flag]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = LMULayer(4, 6, 12.0, seed=1, mode="recurrent", **{flag: True})
    assert quiet.effective_mode == "recurrent"
    assert LMULayer(4, 6, 12.0).effective_mode == "chunked"
    x = rng.randn(2, 20, 1)
    layer(x)
    if flag == "trainable_memory":
        assert {"Ad", "Bd"} <= set(layer.kernels)


def test_lmu_layer_starts_with_the_lmu_cell_weights():
    kwargs = dict(hidden_to_memory=True, memory_to_memory=True, memory_d=2)
    with pytest.warns(UserWarning):
        layer = LMULayer(6, 5, 10.0, seed=7, **kwargs)
    layer.build((None, 10, 3))
    cell = LMUCell(6, 5, 10.0, input_d=3, seed=7, **kwargs)
    for name, conn in cell.weights.items():
        assert np.array_equal(N(layer.kernels[name]), np.float32(conn.transform.init))


@pytest.mark.parametrize("cls", ["memory", "lmu"])
def test_return_state_and_initial_state_continue_a_sequence(cls, rng):
    x = rng.randn(2, 30, 1)

    def make(**kw):
        if cls == "memory":
            return LegendreMemoryLayer(6, 10.0, dtype="float64", **kw)
        return LMULayer(4, 6, 10.0, seed=0, dtype="float64", return_sequences=True, **kw)

    whole = N(make()(x))
    layer = make(return_state=True)
    first, *states = layer(x[:, :12])
    second, *_ = layer(x[:, 12:], initial_state=states)
    assert np.allclose(np.concatenate([N(first), N(second)], axis=1), whole, atol=1e-12)
    assert np.allclose(N(states[-1]), N(first)[:, -1])
    with pytest.raises(ValidationError, match="initial_state"):
        layer(x, initial_state=states + states)
    # without sequences (the last-step-only path), the states are the same
    last = (
        make(return_state=True, return_sequences=False)
        if cls == "memory"
        else (
            LMULayer(
                4, 6, 10.0, seed=0, dtype="float64", return_state=True, hidden_to_hidden=False
            )
        )
    )
    out, *last_states = last(x)
    full, *full_states = make(
        return_state=True, **({} if cls == "memory" else {"hidden_to_hidden": False})
    )(x)
    assert np.allclose(N(out), N(full)[:, -1], atol=1e-12)
    for a, b in zip(last_states, full_states):
        assert np.allclose(N(a), N(b), atol=1e-12)


def test_stateful_layer_carries_state_between_calls(rng):
    x = rng.randn(2, 30, 1).astype(np.float32)
    whole = N(LMULayer(4, 6, 10.0, seed=0, return_sequences=True)(x))
    layer = LMULayer(4, 6, 10.0, seed=0, return_sequences=True, stateful=True)
    a = N(layer(x[:, :17]))
    b = N(layer(x[:, 17:]))
    assert np.allclose(np.concatenate([a, b], axis=1), whole, atol=1e-5)
    layer.reset_states()
    assert np.allclose(N(layer(x[:, :17])), a, atol=1e-6)
    with pytest.raises(ValidationError, match="fixed batch size"):
        LMULayer(4, 6, 10.0, stateful=True)(keras.Input((30, 1)))
    with pytest.raises(ValidationError, match="only a stateful layer"):
        LMULayer(4, 6, 10.0).reset_states()


def test_go_backwards_and_bidirectional(rng):
    x = rng.randn(2, 25, 1).astype(np.float32)
    fwd = LMULayer(4, 6, 10.0, seed=0, return_sequences=True)
    back = LMULayer(4, 6, 10.0, seed=0, return_sequences=True, go_backwards=True)
    assert np.allclose(N(back(x)), N(fwd(x[:, ::-1].copy())), atol=1e-6)

    bi = keras.layers.Bidirectional(LMULayer(4, 6, 10.0, seed=0, return_sequences=True))
    y = N(bi(x))
    assert y.shape == (2, 25, 8)
    f = LMULayer(4, 6, 10.0, return_sequences=True)
    f(x)
    f.set_weights(bi.forward_layer.get_weights())
    b = LMULayer(4, 6, 10.0, return_sequences=True)
    b(x)
    b.set_weights(bi.backward_layer.get_weights())
    assert np.allclose(y[..., :4], N(f(x)), atol=1e-6)
    # Keras flips the backward outputs back into input order
    assert np.allclose(y[..., 4:], N(b(x[:, ::-1].copy()))[:, ::-1], atol=1e-6)


def test_config_round_trip_has_every_argument():
    kwargs = dict(
        units=5,
        order=7,
        theta=25.5,
        memory_d=2,
        hidden_activation="relu",
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=False,
        hidden_to_hidden=False,
        trainable_memory=False,
        kernel_initializer="lecun_uniform",
        recurrent_initializer="zeros",
        encoder_initializer="ones",
        seed=3,
        discretizer="euler",
        mode="fft",
        chunk_size=9,
        return_sequences=True,
        return_state=True,
        stateful=False,
        go_backwards=True,
        name="lmu",
    )
    with pytest.warns(UserWarning, match="Euler"):
        layer = LMULayer(**kwargs)
    config = layer.get_config()
    for key, value in kwargs.items():
        assert config[key] == value, key
    with pytest.warns(UserWarning, match="Euler"):
        again = LMULayer.from_config(config)
    assert again.get_config() == config
    mem = LegendreMemoryLayer(5, 9.0, mode="recurrent", chunk_size=3, name="m")
    assert LegendreMemoryLayer.from_config(mem.get_config()).get_config() == mem.get_config()


def test_save_and_load_model_after_fit(rng, tmp_path):
    x = rng.randn(16, 20, 1).astype(np.float32)
    y = rng.randint(0, 3, size=16)
    model = keras.Sequential(
        [
            keras.Input((20, 1)),
            LegendreMemoryLayer(6, 10.0, return_sequences=True),
            LMULayer(8, 6, 15.0, seed=0, hidden_activation="relu"),
            keras.layers.Dense(3),
        ]
    )
    before = [np.array(w) for w in model.get_weights()]
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=2, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    for path in (tmp_path / "m.keras", tmp_path / "m.h5"):
        model.save(path)
        loaded = keras.models.load_model(path)
        for a, b in zip(model.get_weights(), loaded.get_weights()):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


@pytest.mark.parametrize(
    "kwargs, attr",
    [
        (dict(order=0), "order"),
        (dict(theta=1.0), "theta"),
        (dict(theta=float("nan")), "theta"),
        (dict(mode="scan"), "mode"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(discretizer="bilinear"), "discretizer"),
        (dict(hidden_activation="elu"), "hidden_activation"),
        (dict(units=0), "units"),
        (dict(memory_d=1.5), "memory_d"),
        (dict(hidden_to_hidden=1), "hidden_to_hidden"),
        (dict(return_sequences="yes"), "return_sequences"),
        (dict(kernel_initializer="not_an_initializer"), "kernel_initializer"),
        (dict(seed=-1), "seed"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, attr):
    args = dict(units=4, order=6, theta=10.0)
    args.update(kwargs)
    with pytest.raises(ValidationError) as e:
        LMULayer(**args)
    assert e.value.attr == attr
    assert repr(kwargs[attr])[:3] in str(e.value) or str(kwargs[attr])[:3] in str(e.value)


def test_bad_inputs_are_reported():
    with pytest.raises(ValidationError, match="input must have shape"):
        LMULayer(4, 6, 10.0)(np.zeros((2, 5), np.float32))
    with pytest.raises(ValidationError, match="input must have shape"):
        LegendreMemoryLayer(6, 10.0)(np.zeros((2, 5), np.float32))
    x = np.zeros((1, 5, 1), np.float32)
    x[0, 2] = np.nan
    errors = (ValidationError,)
    if uses_tensorflow():
        import tensorflow as tf

        errors += (tf.errors.InvalidArgumentError,)
    with pytest.raises(errors, match="NaN or infinite"):
        LMULayer(4, 6, 10.0)(x)
    with pytest.raises(errors, match="NaN or infinite"):
        LegendreMemoryLayer(6, 10.0)(np.full((1, 5, 1), np.inf, np.float32))


MIRRORED = textwrap.dedent(
    """
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from nengo_lmu.dl import LMULayer
    rng = np.random.RandomState(0)
    x = rng.randn(8, 20, 1).astype(np.float32)
    y = rng.randint(0, 3, size=8)

    def trained(strategy):
        with strategy.scope():
            model = tf.keras.Sequential([
                tf.keras.Input((20, 1)),
                LMULayer(6, 8, 20.0, seed=0, hidden_activation="relu"),
                tf.keras.layers.Dense(3, kernel_initializer="ones"),
            ])
            model.compile(tf.optimizers.SGD(0.1),
                          tf.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        return model.get_weights()

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    a = trained(mirrored)
    b = trained(tf.distribute.get_strategy())
    diff = max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))
    moved = max(float(np.max(np.abs(u))) for u in a)
    print("RESULT", diff, moved)
    """
)


@pytest.mark.skipif(not uses_tensorflow(), reason="tf.distribute: TensorFlow only")
def test_trains_under_mirrored_strategy_on_two_devices(tmp_path):
    """Two logical CPUs: the same weights as training on one device."""
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = [li for li in out.stdout.splitlines() if li.startswith("RESULT")][0]
    diff, moved = map(float, line.split()[1:])
    assert moved > 0 and diff < 1e-5
