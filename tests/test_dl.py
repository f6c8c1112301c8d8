import random

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("nengo_dl")

from nengo_lmu.apps.data import permuted_digits  # noqa: E402
from nengo_lmu.dl import (  # noqa: E402
    count_parameters,
    keras_lstm_baseline,
    lstm_units_for,
    train_classifier,
)
from nengo_lmu.networks import LMUClassifier  # noqa: E402


def small_data(rng, n_train=40, n_test=13, steps=16):
    return dict(
        x_train=rng.uniform(0, 1, size=(n_train, steps, 1)).astype(np.float32),
        y_train=rng.randint(0, 3, size=(n_train, 1, 1)),
        x_test=rng.uniform(0, 1, size=(n_test, steps, 1)).astype(np.float32),
        y_test=rng.randint(0, 3, size=(n_test, 1, 1)),
    )


def test_nengo_dl_matches_nengo_after_training(rng, allclose, tmp_path):
    data = small_data(rng)
    clf = LMUClassifier(
        3,
        [dict(units=8, order=6, theta=16.0, hidden_to_memory=True, memory_to_memory=True)],
        seed=0,
    )
    before = clf.get_weights()
    res = train_classifier(clf, data, epochs=2, minibatch_size=10, learning_rate=1e-2)
    after = clf.get_weights()
    assert any(not np.allclose(before[k], after[k]) for k in before)  # it trained
    # every test sequence scored, padding dropped
    assert res.test_logits.shape == (13, 3)
    ref = clf.predict(data["x_test"])
    assert allclose(res.test_logits, ref, atol=1e-4, rtol=1e-4)
    # a fresh network from the saved file gives the same outputs
    clf.save(tmp_path / "w.npz", res.weights)
    fresh = LMUClassifier.load(tmp_path / "w.npz")
    assert allclose(fresh.predict(data["x_test"]), ref, atol=1e-12)
    assert res.test_accuracy == np.mean(ref.argmax(-1) == data["y_test"].ravel())


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(x_train=np.zeros((40, 16))), "train data: .*x: must be \\(batch, n_steps"),
        (dict(x_train=np.zeros((40, 16, 2))), "x: must have 1 input"),
        (dict(y_train=np.full((40, 1, 1), 3)), "labels must lie in \\[0, 3\\)"),
        (dict(x_test=np.full((13, 16, 1), np.nan)), "test data: .*must be finite, got nan"),
        (dict(x_test=np.zeros((13, 15, 1))), "test sequences have 15 steps"),
    ],
)
def test_train_rejects_bad_data(change, match, rng):
    data = small_data(rng)
    data.update(change)
    clf = LMUClassifier(3, [dict(units=4, order=4, theta=16.0)])
    with pytest.raises(ValidationError, match=match):
        train_classifier(clf, data, epochs=1, minibatch_size=10)


def test_train_rejects_bad_minibatch(rng):
    clf = LMUClassifier(3, [dict(units=4, order=4, theta=16.0)])
    with pytest.raises(ValidationError, match="minibatch_size: must be an integer in \\[1, 40\\]"):
        train_classifier(clf, small_data(rng), epochs=1, minibatch_size=100)


def test_lstm_units_for():
    k = lstm_units_for(5000, 1, 10)
    count = lambda k: 4 * (k * (1 + k) + k) + (k + 1) * 10  # noqa: E731
    assert count(k) <= 5000 < count(k + 1)


def test_digits_quick():
    # a short run that must clearly learn (10 classes: chance is 10%)
    data = permuted_digits()
    clf = LMUClassifier(10, [dict(units=32, order=32, theta=64.0)], seed=0)
    res = train_classifier(clf, data, epochs=3, minibatch_size=50)
    assert res.test_accuracy > 0.6
    assert len(res.history["loss"]) == 3 and res.history["loss"][-1] < res.history["loss"][0]


@pytest.mark.slow
def test_digits_full_beats_lstm(tmp_path):
    """The README's result: >= 95% held-out, better than an LSTM of no more
    parameters trained the same way, and the same model spiking."""
    data = permuted_digits()
    cells = [dict(units=100, order=48, theta=64.0, hidden_neuron_type=nengo.RectifiedLinear())]
    clf = LMUClassifier(10, cells, seed=0)
    res = train_classifier(clf, data, epochs=20, minibatch_size=50)
    n_params = count_parameters(clf)
    assert res.test_accuracy >= 0.95
    k = lstm_units_for(n_params, 1, 10)
    lstm_acc, lstm_params, _ = keras_lstm_baseline(data, k, 10, epochs=20, minibatch_size=50)
    assert lstm_params <= n_params
    assert res.test_accuracy > lstm_acc
    clf.save(tmp_path / "digits.npz", res.weights)
    spiking = LMUClassifier.load(
        tmp_path / "digits.npz",
        overrides=dict(
            hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1e-4), hidden_gain=1e4
        ),
    )
    logits = spiking.predict(data["x_test"])
    spiking_acc = np.mean(logits.argmax(-1) == data["y_test"].ravel())
    assert spiking_acc >= res.test_accuracy - 0.02


@pytest.mark.slow
def test_digits_parallel_then_converted():
    """Trained in parallel, converted: the same accuracy in NengoDL (within 1
    point; in practice identical) and >= 93% held-out."""
    from nengo_lmu.dl import nengo_dl_logits, to_classifier, train_parallel_classifier

    data = permuted_digits()
    cell = dict(units=100, order=48, theta=64.0, hidden_activation="relu")
    res = train_parallel_classifier(data, 10, [cell], epochs=20, minibatch_size=50, seed=0)
    assert res.test_accuracy >= 0.93
    net = to_classifier(res.model)
    logits = nengo_dl_logits(net, data["x_test"])
    acc = np.mean(logits.argmax(-1) == data["y_test"].ravel())
    assert abs(acc - res.test_accuracy) <= 0.01
    assert np.max(np.abs(logits - res.test_logits)) < 1e-3


def test_parallel_classifier_checks_its_data(rng):
    from nengo_lmu.dl import train_parallel_classifier

    data = small_data(rng)
    data["x_train"] = data["x_train"].copy()
    data["x_train"][0, 0, 0] = np.nan
    with pytest.raises(ValidationError, match="train data"):
        train_parallel_classifier(
            data, 3, [dict(units=4, order=4, theta=16.0)], epochs=1, minibatch_size=10
        )
    with pytest.raises(ValidationError, match="minibatch_size"):
        train_parallel_classifier(
            small_data(rng), 3, [dict(units=4, order=4, theta=16.0)], epochs=1, minibatch_size=0
        )
    with pytest.raises(ValidationError, match="cells"):
        train_parallel_classifier(small_data(rng), 3, [], epochs=1, minibatch_size=10)


def test_parallel_classifier_matches_lmu_classifier_stack(rng, allclose):
    """Two stacked cells: Keras logits equal the converted LMUClassifier's."""
    from nengo_lmu.dl import parallel_classifier_model, to_classifier

    model = parallel_classifier_model(
        (16, 2),
        3,
        [
            dict(units=6, order=4, theta=8.0),
            dict(units=5, order=3, theta=6.0, hidden_activation="relu"),
        ],
    )
    x = rng.randn(4, 16, 2).astype(np.float32)
    net = to_classifier(model)
    assert [c.units for c in net.cells] == [6, 5]
    assert allclose(net.predict(x), model.predict(x, verbose=0), atol=1e-5)


def test_parallel_model_starts_from_the_classifier_weights():
    from nengo_lmu.dl import parallel_classifier_model, to_classifier

    cells = [dict(units=6, order=4, theta=8.0), dict(units=5, order=3, theta=6.0)]
    model = parallel_classifier_model((16, 2), 3, cells, seed=5)
    ours = to_classifier(model).get_weights()
    theirs = LMUClassifier(3, [dict(cells[0], input_d=2), cells[1]], seed=5).get_weights()
    assert set(ours) == set(theirs)
    for name in ours:
        assert np.allclose(ours[name], theirs[name], atol=1e-7), name


def test_keras_lstm_baseline_is_reproducible_from_its_seed(rng):
    """The same seed gives the same LSTM, hence the same held-out scores (its
    initial weights come from Python's and numpy's random numbers too)."""
    x = rng.randn(100, 12, 1).astype(np.float32)
    y = rng.randint(10, size=(100, 1, 1)).astype(np.int32)
    data = dict(x_train=x[:60], y_train=y[:60], x_test=x[60:], y_test=y[60:])
    runs = [keras_lstm_baseline(data, 6, 10, epochs=1, minibatch_size=20, seed=3)[:2]]
    # other global random states in between (Python's, numpy's)
    states = random.getstate(), np.random.get_state()
    random.seed(rng.randint(1000))
    np.random.seed(rng.randint(1000))
    runs.append(keras_lstm_baseline(data, 6, 10, epochs=1, minibatch_size=20, seed=3)[:2])
    random.setstate(states[0])
    np.random.set_state(states[1])
    assert runs[0] == runs[1]
