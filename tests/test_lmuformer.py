"""LMUFormer: the parallel Keras model against its frame-by-frame network.

Every test here runs on Keras 3 (JAX, PyTorch or TensorFlow backend, no
NengoDL: the networks run in ``nengo.Simulator``) and on the locked stack's
tf.keras 2.12 (where NengoDL runs them too).
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
    atan_spike,
    lmuformer,
    operation_counts,
    run_streaming,
    streaming_network,
)
from nengo_lmu.dl.compat import (  # noqa: E402
    KERAS3,
    backend_name,
    enable_float64,
    gradients,
    keras,
    ops,
    to_numpy,
)
from nengo_lmu.dl.lmuformer import (  # noqa: E402
    PAPER_LOOKAHEAD,
    RECEPTIVE_FIELD,
    FrameLIF,
    final_scores_model,
)
from nengo_lmu.dl.lmuformer_weights import load_lmuformer, save_lmuformer  # noqa: E402
from nengo_lmu.dl.surrogate import atan_derivative  # noqa: E402

enable_float64()  # the float64 comparisons (JAX computes float32 by default)

#: NengoDL runs the streaming networks too (the locked stack only)
HAS_NENGO_DL = not KERAS3 and importlib.util.find_spec("nengo_dl") is not None
BACKENDS = ("nengo", "nengo_dl") if HAS_NENGO_DL else ("nengo",)

SMALL = dict(n_inputs=6, n_classes=4, dim=8, theta=10.0)


def randomise_batch_norm(model, rng, offset=0.0):
    """Give every batch norm non-trivial statistics (as a trained model has);
    ``offset`` > 0 drives spiking layers to fire more."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, mu, v = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, g.shape),
                    offset + 0.3 * rng.randn(*b.shape),
                    0.3 * rng.randn(*mu.shape),
                    rng.uniform(0.5, 1.5, v.shape),
                ]
            )


def lif_outputs(model, x):
    """The spikes of every FrameLIF layer of the Keras model, by name."""
    lifs = [lay for lay in model.layers if isinstance(lay, FrameLIF)]
    sub = keras.Model(model.input, [lay.output for lay in lifs])
    return {lay.name: to_numpy(o) for lay, o in zip(lifs, sub(x, training=False))}


def check_streaming(model, x, allclose, spiking, simulator=nengo.Simulator, min_spikes=100):
    ref = model.predict(x, verbose=0)
    net = streaming_network(model)
    for backend in BACKENDS:
        out = run_streaming(net, x, backend=backend, probe_spikes=spiking, simulator=simulator)
        if spiking:
            out, spikes = out
            keras_spikes = lif_outputs(model, x)
            assert len(spikes) == len(keras_spikes) == 11
            n_spikes = 0
            for ens, s in zip(net.spiking_ensembles, spikes):
                # spike for spike, every neuron, every frame
                assert np.array_equal(s, keras_spikes[ens.label]), (backend, ens.label)
                n_spikes += s.sum()
            # the comparison is not between silent networks
            assert n_spikes >= min_spikes
        # every frame's score is the score of the prefix up to that frame
        assert allclose(out, ref, atol=1e-4, rtol=1e-4), backend
    return ref


@pytest.mark.parametrize("spiking", [False, True])
def test_streaming_equals_parallel_random(spiking, rng, allclose, Simulator):
    dtype = "float64" if spiking else "float32"
    model = lmuformer(**SMALL, spiking=spiking, dtype=dtype, seed=rng.randint(1000))
    randomise_batch_norm(model, rng, offset=1.0 if spiking else 0.0)
    x = rng.randn(3, 24, SMALL["n_inputs"]) * (3.0 if spiking else 1.0)
    ref = check_streaming(model, x, allclose, spiking, Simulator)
    # the scores change over frames (a constant output would pass trivially)
    assert np.std(ref[:, 12:] - ref[:, 11:-1]) > 1e-3


@pytest.mark.parametrize("spiking", [False, True])
def test_streaming_equals_parallel_trained(spiking, rng, allclose, Simulator):
    dtype = "float64" if spiking else "float32"
    model = lmuformer(**SMALL, spiking=spiking, dtype=dtype, seed=1)
    x = rng.randn(32, 20, SMALL["n_inputs"]) * 4
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.int32)
    before = [w.copy() for w in model.get_weights()]
    train = final_scores_model(model)
    train.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    loss0 = train.evaluate(x, y, verbose=0)
    train.fit(x, y, epochs=2, batch_size=8, verbose=0)
    # training moved the weights and batch norm statistics, and lowered the loss
    assert max(np.abs(a - b).max() for a, b in zip(before, model.get_weights())) > 1e-3
    assert train.evaluate(x, y, verbose=0) < loss0
    # (batch norm scales a trained model's currents to unit variance, so it
    # fires sparsely at first: fewer spikes to compare than with random BN)
    check_streaming(model, x[:4], allclose, spiking, Simulator, min_spikes=20)


@pytest.mark.parametrize("lookahead", [0, 2, PAPER_LOOKAHEAD])
def test_receptive_field_looks_exactly_lookahead_ahead(lookahead, rng):
    model = lmuformer(**SMALL, lookahead=lookahead, seed=0)
    randomise_batch_norm(model, rng)
    x = rng.randn(1, 30, SMALL["n_inputs"])
    base = model.predict(x, verbose=0)[0]
    for t in (12, 20):
        x2 = x.copy()
        x2[0, t] += 1.0
        out = model.predict(x2, verbose=0)[0]
        # frame t reaches back exactly `lookahead` frames and no further
        np.testing.assert_array_equal(out[: t - lookahead], base[: t - lookahead])
        assert np.abs(out[t - lookahead] - base[t - lookahead]).max() > 1e-6


def test_memory_modes_agree(rng):
    x = rng.randn(2, 40, SMALL["n_inputs"])
    outs = []
    for mode in ("chunked", "fft", "recurrent"):
        model = lmuformer(**SMALL, memory_mode=mode, n_frames=40, dtype="float64", seed=3)
        outs.append(model.predict(x, verbose=0))
    np.testing.assert_allclose(outs[1], outs[0], atol=1e-10)
    np.testing.assert_allclose(outs[2], outs[0], atol=1e-10)


def test_bad_input():
    model = lmuformer(**SMALL, seed=0)
    with pytest.raises(ValidationError, match="n_inputs=6"):
        model.predict(np.zeros((1, 20, 5)), verbose=0)
    with pytest.raises(ValidationError, match="receptive field"):
        model.predict(np.zeros((1, RECEPTIVE_FIELD - 1, 6)), verbose=0)
    model.predict(np.zeros((1, RECEPTIVE_FIELD, 6)), verbose=0)
    with pytest.raises(ValidationError, match="NaN"):
        model.predict(np.full((1, 20, 6), np.nan), verbose=0)
    with pytest.raises(ValidationError, match="lookahead"):
        lmuformer(**SMALL, lookahead=-1)
    with pytest.raises(ValidationError, match="lookahead"):
        lmuformer(**SMALL, lookahead=PAPER_LOOKAHEAD + 1)
    with pytest.raises(ValidationError, match="lookahead"):
        streaming_network(lmuformer(**SMALL, lookahead=2))
    with pytest.raises(ValidationError, match="n_frames"):
        lmuformer(**SMALL, memory_mode="fft")
    with pytest.raises(ValidationError, match="n_frames=30"):
        lmuformer(**SMALL, n_frames=30).predict(np.zeros((1, 20, 6)))
    with pytest.raises(ValidationError, match="theta"):
        lmuformer(**SMALL | dict(theta=0.5))
    with pytest.raises(ValidationError, match="model"):
        streaming_network(keras.Sequential([keras.layers.Dense(2)]))
    net = streaming_network(model)
    with pytest.raises(ValidationError, match="n_inputs=6"):
        run_streaming(net, np.zeros((1, 20, 7)))


def test_save_load(tmp_path, rng):
    model = lmuformer(**SMALL, spiking=True, seed=0)
    randomise_batch_norm(model, rng)
    save_lmuformer(model, tmp_path / "m")
    with pytest.raises(ValidationError, match="overwrite"):
        save_lmuformer(model, tmp_path / "m")
    x = rng.randn(2, 20, 6) * 3
    loaded = load_lmuformer(tmp_path / "m")
    # bit for bit: every weight (batch-norm statistics included) and the outputs
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValidationError, match="no saved LMUFormer"):
        load_lmuformer(tmp_path / "nothing")
    # a weights file of another model is refused, naming what does not fit
    other = lmuformer(**SMALL | dict(dim=6), spiking=True, seed=0)
    save_lmuformer(other, tmp_path / "other")
    (tmp_path / "m" / "weights.npz").write_bytes((tmp_path / "other" / "weights.npz").read_bytes())
    with pytest.raises(ValidationError, match="shape"):
        load_lmuformer(tmp_path / "m")


def test_operation_counts(rng):
    d, q, n_in, c, T = 8, 8, 6, 4, 20
    model = lmuformer(**SMALL, order=q, seed=0)
    ops = operation_counts(model, np.zeros((1, T, n_in)))
    per_frame = (
        3 * n_in * d
        + 4 * 3 * d * d  # embedding
        + d
        + q * q
        + q
        + (q + d) * d
        + d * d  # LMU block
        + 2 * 4 * d * d  # channel mixer
        + d
        + d * c
    )  # running mean, head
    assert ops["macs"] == per_frame * T
    assert ops["params"] == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    spiking = lmuformer(**SMALL, order=q, spiking=True, seed=0)
    x = rng.randn(4, T, n_in) * 3
    sops = operation_counts(spiking, x)
    # accumulates from the measured spikes: zero input spikes cost nothing
    assert sops["acs"] > 0 and 0 < sops["spike_rate"] < 1
    assert operation_counts(spiking, np.zeros((1, T, n_in)))["acs"] < sops["acs"]


def test_train_lmuformer_cli_refuses_to_overwrite(tmp_path, capsys):
    from nengo_lmu.apps.cli import main

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "results.json").write_text("{}")
    assert main(["train-lmuformer", "--out", str(tmp_path / "out"), "--epochs", "1"]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "out" / "results.json").read_text() == "{}"


@pytest.mark.slow
@pytest.mark.skipif(
    __import__("importlib").util.find_spec("espeakng_loader") is None,
    reason="needs espeakng-loader",
)
def test_train_lmuformer_cli(tmp_path, capsys):
    import json

    from nengo_lmu.apps.cli import main
    from nengo_lmu.apps.experiments.lmuformer_runs import frames_to_fraction

    args = [
        "train-lmuformer",
        "--keywords",
        "yes,no,up",
        "--n-train",
        "4",
        "--n-test",
        "2",
        "--n-mels",
        "8",
        "--dim",
        "8",
        "--epochs",
        "1",
        "--models",
        "lmuformer",
        "lstm",
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp_path / "c"),
        "--no-progress",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "lmuformer" in printed and "lstm" in printed
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    streamed = [r for r in results["runs"] if r["model"] == "lmuformer"][0]
    # the accuracy-vs-frames curve comes from the streaming network, which
    # gave the parallel model's scores
    assert streamed["stream_error"] < 1e-4
    assert len(streamed["frame_accuracy"]) == 98
    assert (tmp_path / "out" / "frames.png").stat().st_size > 1000
    model = load_lmuformer(tmp_path / "out" / "model")
    assert model.lmuformer_config["n_inputs"] == 8
    # outputs exist: refused without --force
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert frames_to_fraction([0.1, 0.5, 0.99, 0.995, 1.0]) == 3
    assert frames_to_fraction([0.1, 0.995, 0.5, 1.0]) == 4


def test_streaming_two_blocks_and_other_sizes(rng, allclose):
    model = lmuformer(
        n_inputs=5, n_classes=3, dim=6, order=7, theta=12.5, mlp_ratio=2, n_blocks=2, seed=2
    )
    randomise_batch_norm(model, rng)
    x = rng.randn(2, 20, 5)
    out = run_streaming(streaming_network(model), x, backend="nengo")
    assert allclose(out, model.predict(x, verbose=0), atol=1e-4, rtol=1e-4)


def test_with_dtype_copies_weights(rng):
    from nengo_lmu.dl.lmuformer_weights import with_dtype

    model = lmuformer(**SMALL, spiking=True, seed=0)
    randomise_batch_norm(model, rng, offset=1.0)
    copy = with_dtype(model, "float64")
    x = rng.randn(2, 20, 6) * 3
    assert copy.lmuformer_config["dtype"] == "float64"
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-4)


# --- the surrogate gradient -------------------------------------------------


@pytest.mark.parametrize("alpha", [2.0, 5.0])
def test_atan_spike_gradient_is_the_analytic_surrogate(alpha, rng):
    x = rng.randn(50) * 0.7
    w = rng.randn(50)
    wt = ops.convert_to_tensor(w)
    (grad,) = gradients(lambda v: ops.sum(atan_spike(v, alpha) * wt), x)
    np.testing.assert_allclose(grad, w * atan_derivative(x, alpha), rtol=1e-12, atol=1e-14)
    # forward: the exact step
    np.testing.assert_array_equal(to_numpy(atan_spike(ops.convert_to_tensor(x), alpha)), x > 0)
    # the peak is alpha / 2 at the threshold
    assert atan_derivative(0.0, alpha) == alpha / 2


def frame_lif_reference(x, w, threshold, beta, alpha):
    """Spikes of `FrameLIF` and the gradient of ``sum(w * spikes)`` with
    respect to ``x``, by hand (numpy, backpropagation through frames with
    the reset detached)."""
    n, T, d = x.shape
    gain = 1 - beta
    v = np.zeros((n, d))
    vs, spikes = [], []
    for t in range(T):
        v = beta * v + gain * x[:, t]
        s = (v - threshold > 0).astype(float)
        vs.append(v)
        spikes.append(s)
        v = v * (1 - s)
    dx = np.zeros_like(x)
    dv_after = np.zeros((n, d))  # gradient reaching the potential after the reset
    for t in reversed(range(T)):
        dv = w[:, t] * atan_derivative(vs[t] - threshold, alpha) + dv_after * (1 - spikes[t])
        dx[:, t] = gain * dv
        dv_after = beta * dv
    return np.stack(spikes, axis=1), dx


def test_frame_lif_gradient_matches_bptt_reference(rng):
    threshold, beta, alpha = 0.8, 0.5, 2.0
    x = rng.randn(3, 25, 4) * 1.5
    w = rng.randn(*x.shape)
    lif = FrameLIF(threshold, beta, alpha, dtype="float64")
    spikes, dx = frame_lif_reference(x, w, threshold, beta, alpha)
    np.testing.assert_array_equal(to_numpy(lif(x)), spikes)
    assert 20 < spikes.sum() < spikes.size - 20  # neither silent nor saturated
    wt = ops.convert_to_tensor(w)
    (grad,) = gradients(lambda v: ops.sum(lif(v) * wt), x)
    np.testing.assert_allclose(grad, dx, rtol=1e-10, atol=1e-12)


# --- the weights file carries a model between environments -----------------

#: LMUFormers trained and saved by `write_round_trip_file` in each
#: environment (Keras 3 + JAX on Python 3.13 with nengo 4.1 and numpy 2;
#: tf.keras 2.12 on the locked Python 3.11 stack), with their inputs and
#: Keras outputs: every environment must run every one to the same outputs.
ROUND_TRIP = sorted(
    p
    for p in (Path(__file__).parent / "data").glob("lmuformer_*")
    if not p.name.startswith("lmuformer_checkpoint_")  # test_lmuformer_training's
)


def round_trip_task(rng):
    x = rng.randn(24, 20, SMALL["n_inputs"]) * 3
    y = (x[:, :, 0].mean(axis=1) > 0).astype(np.int64) + 2 * (x[:, :, 1].mean(axis=1) > 0)
    return x, y


def write_round_trip_file(folder):
    """Train a small spiking LMUFormer (float64) on this stack, save it with
    `save_lmuformer`, and write inputs and Keras outputs next to it
    (``io.json``); returns the folder. Run ``python tests/test_lmuformer.py``
    in an environment to add its model to ``tests/data``."""
    rng = np.random.RandomState(0)
    x, y = round_trip_task(rng)
    model = lmuformer(**SMALL, spiking=True, dtype="float64", seed=0)
    randomise_batch_norm(model, rng, offset=1.0)
    train = final_scores_model(model)
    train.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    train.fit(x, y, epochs=3, batch_size=8, verbose=0)
    py = f"py{sys.version_info[0]}{sys.version_info[1]}"
    path = Path(folder) / f"lmuformer_{backend_name().replace('.', '')}_{py}"
    save_lmuformer(model, path, overwrite=True)
    write_io(path / "io.json", model, x)
    return path


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: p.name)
def test_saved_lmuformers_from_every_environment_run_here(path, allclose):
    info = json.loads((path / "io.json").read_text())
    x, want = np.array(info["x"]), np.array(info["keras"])
    model = load_lmuformer(path)
    assert model.lmuformer_config["spiking"] and model.lmuformer_config["dtype"] == "float64"
    got = model.predict(x, verbose=0)
    assert np.abs(want).max() > 0.1, "the stored outputs are not trivial"
    # (Keras 3.15's PyTorch backend computes some float64 layers' products in
    # float32, see nengo_lmu.dl.compat.matmul: there the spikes are the same,
    # the scores equal to float32's precision)
    atol = 1e-6 if backend_name() == "torch" else 1e-9
    np.testing.assert_allclose(got, want, atol=atol, err_msg=info["made_with"])
    # and its frame-by-frame nengo network gives the same scores
    streamed = run_streaming(streaming_network(model), x[:2])
    assert allclose(streamed, want[:2], atol=1e-9), info["made_with"]


def test_round_trip_files_come_from_both_stacks():
    # one model from Keras 3 on today's stack and one from tf.keras 2.12
    names = [p.name for p in ROUND_TRIP]
    assert any("jax" in n or "torch" in n for n in names), names
    assert any("tfkeras" in n for n in names), names


if __name__ == "__main__":
    print(write_round_trip_file(Path(__file__).parent / "data"))


# kws3: the spiking LMUFormer started from a trained non-spiking one


@pytest.mark.parametrize("order", [None, 8])
def test_init_spiking_from_copies_corresponding_weights(order, rng):
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from, lmuformer_weights

    ann = lmuformer(**SMALL, order=order, seed=0)
    randomise_batch_norm(ann, rng)
    for lay in ann.layers:  # weights unlike any fresh initialisation
        lay.set_weights([w + rng.randn(*w.shape) for w in lay.get_weights()])
    snn = lmuformer(**SMALL, order=order, spiking=True, seed=1)
    before = lmuformer_weights(snn)
    out = init_spiking_from(snn, ann)
    source, after = lmuformer_weights(ann), lmuformer_weights(snn)
    for key in out["copied"]:
        assert np.array_equal(after[key], source[key]), key
    for key in out["kept"]:
        assert np.array_equal(after[key], before[key]), key
        assert key not in source or source[key].shape != after[key].shape
    dim = SMALL["dim"]
    if order is None:  # memory orders 8 and 16: wh's x rows only
        assert out["partly"] == ["block0_wh/0"]
        assert np.array_equal(after["block0_wh/0"][-dim:], source["block0_wh/0"][-dim:])
        assert np.array_equal(after["block0_wh/0"][:-dim], before["block0_wh/0"][:-dim])
    else:
        assert out["partly"] == [] and "block0_wh/0" in out["copied"]
    # every weight of the non-spiking model went somewhere
    assert set(source) == set(out["copied"]) | set(out["partly"])
    # the batch norms only the spiking model has kept their own
    assert {k.split("/")[0] for k in out["kept"]} == {
        "embed_bn4",
        "block0_bn_u",
        "block0_bn_m",
        "block0_bn_h",
    }


def test_init_spiking_from_bad_input():
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from

    ann = lmuformer(**SMALL, seed=0)
    snn = lmuformer(**SMALL, spiking=True, seed=0)
    with pytest.raises(ValidationError, match="spiking_model.*spiking=True"):
        init_spiking_from(ann, ann)
    with pytest.raises(ValidationError, match="model.*non-spiking"):
        init_spiking_from(snn, snn)
    with pytest.raises(ValidationError, match="dim=6"):
        init_spiking_from(snn, lmuformer(**SMALL | dict(dim=6), seed=0))
    with pytest.raises(ValidationError, match="lookahead"):
        init_spiking_from(snn, lmuformer(**SMALL, lookahead=2, seed=0))


def toy_keywords(rng, n_train=24, n_test=8, frames=20):
    """Four 'keywords': noise with a class-dependent mean feature pattern."""
    patterns = rng.randn(SMALL["n_classes"], SMALL["n_inputs"])

    def split(n):
        y = np.arange(n) % SMALL["n_classes"]
        x = rng.randn(n, frames, SMALL["n_inputs"]) + 1.5 * patterns[y][:, None]
        return x.astype(np.float32), y

    x_tr, y_tr = split(n_train)
    x_te, y_te = split(n_test)
    return dict(
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        keywords=["a", "b", "c", "d"],
        test_variants=["v"],
    )


def test_finetuning_the_initialised_spiking_model_lowers_its_loss(rng):
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from

    data = toy_keywords(rng, n_train=64)
    ann = lmuformer(**SMALL, seed=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train = final_scores_model(ann)
    train.compile(keras.optimizers.Adam(3e-3), loss)
    train.fit(data["x_train"], data["y_train"], epochs=5, batch_size=16, verbose=0)
    snn = lmuformer(**SMALL, spiking=True, seed=0)
    init_spiking_from(snn, ann)
    tune = final_scores_model(snn)
    tune.compile(keras.optimizers.Adam(3e-3), loss)
    start = tune.evaluate(data["x_train"], data["y_train"], verbose=0)
    tune.fit(data["x_train"], data["y_train"], epochs=5, batch_size=16, verbose=0)
    assert tune.evaluate(data["x_train"], data["y_train"], verbose=0) < start


def test_compare_lmuformer_starts_spiking_from_the_trained_lmuformer(rng, monkeypatch):
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer
    from nengo_lmu.apps.experiments.lmuformer_runs import run_order

    dl_lmuformer = sys.modules["nengo_lmu.dl.lmuformer_weights"]
    calls = []
    real = dl_lmuformer.init_spiking_from

    def spy(spiking_model, model):
        calls.append((spiking_model.lmuformer_config, dict(model.lmuformer_config)))
        calls[-1][1]["weights"] = [w.copy() for w in model.get_weights()]
        return real(spiking_model, model)

    monkeypatch.setattr(dl_lmuformer, "init_spiking_from", spy)
    out = compare_lmuformer(
        data=toy_keywords(rng),
        models=("spiking_lmuformer",),
        spiking_init="lmuformer",
        dim=8,
        epochs=2,
        finetune_epochs=1,
        surrogate_alpha=3.0,
        stream_clips=0,
        keep_models=True,
    )
    # the LMUFormer it starts from was trained first (and is reported)
    assert [(r.model, r.init, r.epochs) for r in out.runs] == [
        ("lmuformer", "scratch", 2),
        ("spiking_lmuformer", "lmuformer", 1),
    ]
    assert len(calls) == 1 and calls[0][0]["spiking"] and not calls[0][1]["spiking"]
    # ... with the trained weights (the LMUFormer is not changed after its training)
    trained = out.keras_models["lmuformer"].get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(calls[0][1]["weights"], trained))
    assert out.settings["spiking_init"] == "lmuformer"
    # scored once before its own training (a fraction), not for a model from scratch
    assert 0 <= out.runs[1].init_accuracy <= 1 and np.isnan(out.runs[0].init_accuracy)
    assert out.keras_models["spiking_lmuformer"].lmuformer_config["surrogate_alpha"] == 3.0
    assert {
        lay.surrogate_alpha
        for lay in out.keras_models["spiking_lmuformer"].layers
        if isinstance(lay, FrameLIF)
    } == {3.0}
    headers, rows = out.rows()
    assert rows[1][headers.index("init")] == "lmuformer"
    assert run_order(
        ("spiking_lmuformer_la5", "lmuformer"), out_settings(spiking_init="lmuformer")
    ) == (
        "lmuformer_la5",
        "spiking_lmuformer_la5",
        "lmuformer",
    )
    assert run_order(("spiking_lmuformer",), out_settings(spiking_init="scratch")) == (
        "spiking_lmuformer",
    )
    with pytest.raises(ValidationError, match="spiking_init"):
        compare_lmuformer(data=toy_keywords(rng), spiking_init="lmu", stream_clips=0)


def out_settings(**kwargs):
    from nengo_lmu.apps.experiments.settings import LMUFormerSettings

    return LMUFormerSettings(**kwargs)


def test_train_lmuformer_options_for_the_spiking_start():
    from nengo_lmu.apps.cli import build_parser
    from nengo_lmu.apps.cli.common import settings_from_args
    from nengo_lmu.apps.experiments.settings import LMUFormerSettings

    args = ["train-lmuformer", "--spiking-init", "lmuformer", "--finetune-epochs", "3"]
    s = settings_from_args(
        LMUFormerSettings, build_parser().parse_args(args + ["--surrogate-alpha", "4"])
    )
    assert (s.spiking_init, s.finetune_epochs, s.surrogate_alpha) == ("lmuformer", 3, 4.0)
    s = settings_from_args(LMUFormerSettings, build_parser().parse_args(["train-lmuformer"]))
    assert s == LMUFormerSettings()
    assert (s.spiking_init, s.finetune_epochs, s.surrogate_alpha) == ("lmuformer", 15, 2.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train-lmuformer", "--spiking-init", "lmu"])


def test_train_lmuformer_quick_keeps_the_data_and_explicit_options():
    from nengo_lmu.apps.cli import build_parser
    from nengo_lmu.apps.cli.common import settings_from_args
    from nengo_lmu.apps.experiments.settings import LMUFormerSettings

    def parsed(*extra):
        args = build_parser().parse_args(["train-lmuformer", "--quick", *extra])
        return settings_from_args(LMUFormerSettings, args, quick=args.quick)

    full, quick = LMUFormerSettings(), parsed()
    # the same data as the default run, fewer epochs and streamed clips
    assert (quick.n_train, quick.n_test, quick.n_mels, quick.dim) == (
        full.n_train,
        full.n_test,
        full.n_mels,
        full.dim,
    )
    assert quick.epochs < full.epochs and quick.finetune_epochs < full.finetune_epochs
    assert 0 < quick.stream_clips < full.stream_clips
    kept = parsed("--epochs", "7", "--stream-clips", "0")
    assert (kept.epochs, kept.stream_clips, kept.finetune_epochs) == (7, 0, quick.finetune_epochs)


def test_spiking_model_started_from_lmuformer_streams_spike_for_spike(rng, allclose, Simulator):
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from

    ann = lmuformer(**SMALL, dtype="float64", seed=0)
    randomise_batch_norm(ann, rng, offset=1.0)
    snn = lmuformer(**SMALL, spiking=True, dtype="float64", seed=1)
    randomise_batch_norm(snn, rng, offset=1.0)
    init_spiking_from(snn, ann)
    check_streaming(snn, rng.randn(3, 24, SMALL["n_inputs"]) * 3.0, allclose, True, Simulator)


def test_trained_spiking_lmuformer_streamed_in_nengo_scores_what_keras_scores(tmp_path):
    """Spoken clips, a spiking LMUFormer started from a trained LMUFormer and
    fine-tuned: streamed frame by frame in float64, its every running score
    equals the parallel model's, so its accuracy at every frame does too."""
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer
    from nengo_lmu.apps.speech import spoken_keywords

    data = spoken_keywords(
        ["yes", "no", "up"], n_train=6, n_test=3, n_mels=8, cache_dir=str(tmp_path)
    )
    out = compare_lmuformer(
        data=data,
        models=("spiking_lmuformer",),
        dim=8,
        epochs=2,
        finetune_epochs=2,
        stream_clips=len(data["y_test"]),
        stream_dtype="float64",
        keep_models=True,
    )
    run = out.runs[-1]
    assert (run.model, run.init) == ("spiking_lmuformer", "lmuformer")
    # it was trained (its weights differ from the LMUFormer it started from)
    ann, snn = out.keras_models["lmuformer"], out.keras_models["spiking_lmuformer"]
    head = [lay.get_weights()[0] for m in (ann, snn) for lay in m.layers if lay.name == "head"]
    assert np.abs(head[0] - head[1]).max() > 1e-3
    # it spikes, and nengo computes exactly what Keras does on every clip and frame
    assert run.acs > 0
    assert run.stream_error < 1e-9
    assert len(run.frame_accuracy) == data["x_test"].shape[1]
    assert run.frame_accuracy[-1] == pytest.approx(run.test_accuracy, abs=1e-12)
