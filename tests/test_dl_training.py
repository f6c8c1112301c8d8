"""Training entry points of nengo_lmu.dl.training: every setting checked
before any work, numpy integers and flat labels accepted, progress shown."""

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.networks import RecurrentLIF

pytest.importorskip("nengo_dl")


@pytest.fixture
def tiny_data():
    rng = np.random.RandomState(0)
    y = np.arange(20) % 3
    return dict(
        x_train=rng.rand(20, 6, 1).astype(np.float32),
        y_train=y[:, None, None],
        x_test=rng.rand(6, 6, 1).astype(np.float32),
        y_test=y[:6, None, None],
    )


#: (bad setting, the message it gets); train_parallel_classifier has no
#: unroll_simulation (it runs no simulator).
BAD_SETTINGS = [
    (dict(epochs=0), "epochs: must be an integer >= 1, got 0"),
    (dict(epochs=-3), "epochs: must be an integer >= 1, got -3"),
    (dict(learning_rate=-1e-3), "learning_rate: must be a positive finite number"),
    (dict(learning_rate=float("nan")), "learning_rate: must be a positive finite"),
    (dict(unroll_simulation=0), "unroll_simulation: must be an integer >= 1"),
    (dict(minibatch_size=0), "minibatch_size: must be an integer"),
    (dict(minibatch_size=5.0), "minibatch_size: must be an integer"),
    (dict(seed=-1), r"seed: must be an integer in \[0, 4294967295\]"),
    (dict(verbose=5), r"verbose: must be an integer in \[0, 2\]"),
]


@pytest.mark.parametrize(
    "trainer, kwargs, match",
    [
        (trainer, kwargs, match)
        for trainer in ("nengo_dl", "spiking", "parallel")
        for kwargs, match in BAD_SETTINGS
        if not (trainer == "parallel" and "unroll_simulation" in kwargs)
    ],
)
def test_training_arguments_checked_first(trainer, kwargs, match, tiny_data, make_lmu_classifier):
    """Every bad setting is refused before any work, on every trainer."""
    from nengo_lmu.dl import train_classifier, train_spiking_classifier
    from nengo_lmu.dl.training import train_parallel_classifier

    if trainer == "parallel":
        call = lambda: train_parallel_classifier(  # noqa: E731
            tiny_data, 3, [dict(units=4, order=2, theta=4.0)], **kwargs
        )
    elif trainer == "spiking":
        net = RecurrentLIF(1, 3, 4, seed=0)
        call = lambda: train_spiking_classifier(net, tiny_data, **kwargs)  # noqa: E731
    else:
        call = lambda: train_classifier(make_lmu_classifier(), tiny_data, **kwargs)  # noqa: E731
    with pytest.raises(ValidationError, match=match):
        call()


def test_numpy_integer_settings_and_flat_labels_train(tiny_data, capsys):
    """A numpy integer minibatch size and labels of shape
    (batch,) train; Keras' progress shows by default."""
    from nengo_lmu.dl.training import check_training_data, train_parallel_classifier

    flat = dict(tiny_data, y_train=tiny_data["y_train"].ravel(), y_test=tiny_data["y_test"][:, 0])
    x_tr, y_tr, x_te, y_te = check_training_data(flat, np.int64(5), n_classes=3)
    assert np.array_equal(y_tr, tiny_data["y_train"]) and y_te.shape == (6, 1, 1)
    res = train_parallel_classifier(
        flat,
        3,
        [dict(units=4, order=2, theta=4.0)],
        epochs=np.int64(1),
        minibatch_size=np.int32(5),
    )
    assert res.epochs == 1 and res.test_logits.shape == (6, 3)
    assert "4/4" in capsys.readouterr().out  # Keras' progress bar: 20/5 batches


def test_training_shows_progress_by_default():
    pytest.importorskip("nengo_dl")
    import inspect

    from nengo_lmu.dl import train_classifier, train_spiking_classifier
    from nengo_lmu.dl.training import train_parallel_classifier

    for f in (train_classifier, train_spiking_classifier, train_parallel_classifier):
        assert inspect.signature(f).parameters["verbose"].default == 1, f.__name__


def test_lmu_layer_refuses_sequences_of_length_0():
    """Issue 27 item 10 (dl/layers.py): an LMULayer on a sequence of length
    0 raised TensorFlow's ConcatOp/StridedSlice error from inside."""
    from nengo_lmu.dl.layers import LMULayer

    layer = LMULayer(units=4, order=3, theta=5)
    with pytest.raises(ValidationError, match="inputs: must be sequences of at least one step"):
        layer(np.zeros((2, 0, 1), np.float32))
    assert layer(np.zeros((2, 3, 1), np.float32)).shape[-1] == 4
    # built on longer sequences, the call still names the length
    with pytest.raises(Exception, match="must be sequences of at least one step, got length 0"):
        layer(np.zeros((2, 0, 1), np.float32))


def _interrupt_in_epoch(monkeypatch, module, epoch_index, batch=1):
    """Make Ctrl-C strike during batch ``batch`` of epoch ``epoch_index``
    (0-based) of the next training run that uses ``module.LastEpoch``."""
    base = module.LastEpoch

    class Interrupting(base):
        def on_train_batch_end(self, b, logs=None):
            if self.epochs_done == epoch_index and b == batch:
                raise KeyboardInterrupt

    monkeypatch.setattr(module, "LastEpoch", Interrupting)


def _digits_subset(n_train=100, n_test=20):
    from nengo_lmu.apps.data import permuted_digits

    d = permuted_digits()
    return dict(
        x_train=d["x_train"][:n_train],
        y_train=d["y_train"][:n_train],
        x_test=d["x_test"][:n_test],
        y_test=d["y_test"][:n_test],
    )


def _digits_classifier():
    import nengo

    from nengo_lmu.networks import LMUClassifier

    cell = dict(units=16, order=8, theta=64.0, hidden_neuron_type=nengo.RectifiedLinear())
    return LMUClassifier(10, [cell], seed=0, add_to_container=False)


@pytest.mark.slow  # three NengoDL runs: 170 s on a loaded 2-core machine
def test_interrupted_training_keeps_the_last_completed_epoch(monkeypatch):
    """Issue 27 item 11: Ctrl-C lost the epochs already trained. Now
    `TrainingInterrupted` carries the weights of the last completed epoch:
    the same as a run of that many epochs, not the interrupted epoch's
    partial updates."""
    from nengo_lmu.dl import training

    pytest.importorskip("sklearn")
    data = _digits_subset()
    kwargs = dict(minibatch_size=50, verbose=0, seed=0)
    two = training.train_classifier(_digits_classifier(), data, epochs=2, **kwargs).weights
    _interrupt_in_epoch(monkeypatch, training, 2)
    net = _digits_classifier()
    initial = {k: v.copy() for k, v in net.get_weights().items()}
    with pytest.raises(training.TrainingInterrupted) as info:
        training.train_classifier(net, data, epochs=4, **kwargs)
    e = info.value
    assert isinstance(e, KeyboardInterrupt) and (e.epochs_done, e.epochs) == (2, 4)
    assert not np.allclose(e.weights["readout"], initial["readout"])
    for name, w in two.items():
        assert np.allclose(e.weights[name], w, atol=1e-5), name
    # no epoch completed: nothing to keep
    _interrupt_in_epoch(monkeypatch, training, 0)
    with pytest.raises(training.TrainingInterrupted) as info:
        training.train_classifier(_digits_classifier(), data, epochs=4, **kwargs)
    assert info.value.epochs_done == 0 and info.value.weights is None
