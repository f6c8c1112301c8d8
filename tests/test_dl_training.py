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
