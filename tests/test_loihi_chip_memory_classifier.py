"""`ChipMemoryClassifier`: the LMU classifier with its memory on the chip."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("nengo_loihi")

from nengo_lmu.apps.experiments.chip_readout import fit_readout, ridge_readout  # noqa: E402
from nengo_lmu.loihi.chip_memory_classifier import (  # noqa: E402
    ChipMemoryClassifier,
    held_memory_system,
)
from nengo_lmu.networks import LMUClassifier  # noqa: E402


def make_classifier(seed=0, **flags):
    args = dict(
        units=24,
        order=3,
        theta=4.0,
        input_d=2,
        memory_d=2,
        hidden_neuron_type=nengo.RectifiedLinear(),
        hidden_to_hidden=False,
        input_to_hidden=False,
    )
    args.update(flags)
    return LMUClassifier(3, [args], seed=seed)


@pytest.mark.parametrize("order, theta, steps", [(4, 8.0, 10), (6, 5.0, 3)])
def test_held_continuous_memory_is_the_trained_discrete_memory(order, theta, steps, rng):
    """A zoh-held input through the continuous memory at dt gives the
    cell's discrete memory (Ad, Bd per sample) at every sample boundary."""
    clf = make_classifier(order=order, theta=theta)
    cell = clf.cells[0]
    _, step = held_memory_system(order, theta, cell.memory_d, steps)
    u = rng.uniform(-1, 1, size=(12, cell.memory_d))
    fine = step.simulate(np.repeat(u, steps, axis=0), output=False)
    coarse = cell.memory.discrete_system.simulate(u, output=False)
    assert np.allclose(fine[steps - 1 :: steps], coarse, atol=1e-9)
    # and not trivially: halfway through a sample it differs
    assert not np.allclose(fine[steps // 2 :: steps][: len(coarse)], coarse, atol=1e-3)


def trained_tiny(seed=0):
    """A small classifier on two well-separated classes of 4-step sequences,
    fitted in closed form (ridge readout on the ReLU layer)."""
    rng = np.random.RandomState(seed)
    n = 120
    y = rng.randint(3, size=n)
    means = np.array([[0.8, 0.1], [0.1, 0.8], [0.6, 0.6]])
    x = np.clip(means[y][:, None, :] + 0.15 * rng.randn(n, 4, 2), 0, 1)
    clf = make_classifier(seed=seed)
    w = clf.get_weights()
    net = ChipMemoryClassifier(clf, x, steps_per_sample=10, n_neurons=60)
    h = np.maximum(net.memory_states(x)[:, -1] @ net.W_m.T, 0)
    target = np.eye(3)[y] * 2 - 1
    # ridge: a plain least-squares readout cancels large weights, and
    # spikes do not cancel as exactly as rates
    reg = 0.1 * np.mean(h**2) * len(h) * np.eye(h.shape[1])
    readout = np.linalg.solve(h.T @ h + reg, h.T @ target).T
    cell = clf.cells[0]
    clf.readout_connection.transform = readout / (
        cell.hidden_gain * cell.hidden_neuron_type.amplitude
    )
    assert w["readout"].shape == readout.shape
    return clf, x, y


def test_nengo_agrees_with_rate_model():
    clf, x, y = trained_tiny()
    net = ChipMemoryClassifier(clf, x, steps_per_sample=10, n_neurons=60, seed=1)
    x = x[:20]
    rate = net.rate_logits(x).argmax(-1)
    assert np.mean(rate == y[:20]) >= 0.8
    logits, info = net.predict(x)
    assert np.mean(logits.argmax(-1) == rate) >= 0.8
    # the logits (the trained readout on the recorded hidden spikes) are
    # the host readout node's output averaged over the window
    window = net.last_output[:, net.readout_steps(4)].mean(axis=1)
    assert np.allclose(logits, window, atol=1e-5)
    assert info["steps_per_sequence"] == 4 * 10 + net.gap_steps
    assert info["chip_seconds_per_sequence"] == pytest.approx(info["steps_per_sequence"] * 0.001)


def test_ridge_readout_recovers_a_linear_map(rng):
    # targets that are exactly linear in h (plus a bias): a tiny ridge
    # gives the map back; a strong one shrinks it towards the mean
    h = rng.randn(200, 6)
    m_true, b_true = rng.randn(3, 6), rng.randn(3)
    t = h @ m_true.T + b_true
    m, b = ridge_readout(h, t, 1e-9)
    assert np.allclose(m, m_true, atol=1e-6) and np.allclose(b, b_true, atol=1e-6)
    m_strong, b_strong = ridge_readout(h, t, 1e3)
    assert np.abs(m_strong).max() < 0.01 * np.abs(m_true).max()
    assert np.allclose(b_strong, t.mean(axis=0), atol=0.05)


def test_fit_readout_on_the_hidden_spikes_and_predict_uses_it():
    # an untrained classifier: its random readout guesses, but its ReLU
    # layer on the chip memory separates the classes; the readout fitted
    # on the spikes of training sequences finds that
    _, x, y = trained_tiny()
    x, y = x[:72], y[:72]
    net = ChipMemoryClassifier(make_classifier(seed=3), x, steps_per_sample=10, n_neurons=60)
    fit = fit_readout(net, x, y, fit_to="labels", offsets=(0, 5, 10), bins=(1, 2), folds=3)
    assert (fit["offset"], fit["bins"]) == (net.readout_offset, net.readout_bins)
    assert net.readout_matrix.shape == (3, fit["bins"] * net.hidden.n_neurons)
    hidden = net.last_hidden  # of the fit's run on x
    best = fit["cv"][fit["bins"], fit["offset"], fit["reg"]]
    assert best == max(fit["cv"].values()) and best >= 0.8
    assert best > max(fit["trained_accuracy"].values()) + 0.2
    # predict's logits are the fitted readout on the recorded spikes,
    # windows written out by hand
    logits, _ = net.predict(x[:12])
    lo, _ = net.hidden_band(4)
    end, w = 4 * 10 + net.readout_offset - lo, net.window
    feats = [
        net.last_hidden[:, end - (i + 1) * w : end - i * w].mean(1) for i in range(fit["bins"])
    ]
    # (the recorded spikes are kept in float32)
    by_hand = np.concatenate(feats[::-1], axis=1) @ net.readout_matrix.T + net.readout_bias
    assert np.allclose(logits, by_hand, atol=1e-5)
    assert np.mean(logits.argmax(-1) == y[:12]) >= 0.8
    # fitted to the rate network's logits instead, on the same spikes
    fit = fit_readout(net, x, y, fit_to="rate", offsets=(5,), bins=(1,), hidden=hidden)
    assert fit["offset"] == 5 and fit["bins"] == 1
    with pytest.raises(ValidationError, match="hidden"):
        fit_readout(net, x, y, hidden=hidden[:5])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(y=np.zeros(4, dtype=int)), "labels"),
        (dict(y=np.full(5, 3)), "labels must lie"),
        (dict(y=np.zeros(5)), "integer labels"),
        (dict(folds=1), "folds"),
        (dict(fit_to="logits"), "fit_to"),
        (dict(target="gpu"), "target"),
        (dict(bins=(0,)), "bins"),
        (dict(offsets=(100,)), "offsets"),
        (dict(regs=(-1.0,)), "regs"),
    ],
)
def test_bad_fit_readout_arguments(kwargs, match):
    x = np.random.RandomState(0).uniform(size=(5, 4, 2))
    net = ChipMemoryClassifier(make_classifier(), x, steps_per_sample=2, n_neurons=10)
    args = dict(y=np.array([0, 1, 2, 0, 1]))
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        fit_readout(net, x, **args)
    with pytest.raises(ValidationError, match="matrix"):
        net.set_readout(np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValidationError, match="matrix"):
        net.set_readout(np.zeros((3, net.hidden.n_neurons)), np.zeros(3), bins=2)


@pytest.mark.slow
def test_emulator_agrees_with_nengo():
    clf, x, _ = trained_tiny()
    net = ChipMemoryClassifier(clf, x, steps_per_sample=10, n_neurons=60, seed=1)
    x = x[:8]
    ref, _ = net.predict(x)
    logits, info = net.predict(x, target="sim")
    # the classes' margins are small next to the spike noise of a 10-step
    # window, so compare the logits, and the classes with the rate network
    assert np.corrcoef(logits.ravel(), ref.ravel())[0, 1] > 0.8
    assert np.mean(logits.argmax(-1) == net.rate_logits(x).argmax(-1)) >= 0.75
    assert info["resources"]["cores"] >= len(net.memory.populations) + 1
    assert info["resources"]["spikes_per_inference"] > 0


@pytest.mark.parametrize(
    "flag", ["hidden_to_hidden", "hidden_to_memory", "memory_to_memory", "input_to_hidden"]
)
def test_recurrence_is_refused(flag):
    clf = make_classifier(**{flag: True})
    x = np.ones((3, 4, 2))
    with pytest.raises(ValidationError, match=flag):
        ChipMemoryClassifier(clf, x)


def test_non_relu_and_two_cells_are_refused():
    x = np.ones((3, 4, 2))
    with pytest.raises(ValidationError, match="ReLU"):
        ChipMemoryClassifier(make_classifier(hidden_neuron_type=nengo.LIFRate()), x)
    two = LMUClassifier(
        3,
        [
            dict(units=4, order=2, theta=4.0, input_d=2, hidden_to_hidden=False),
            dict(units=4, order=2, theta=4.0, hidden_to_hidden=False),
        ],
    )
    with pytest.raises(ValidationError, match="one cell"):
        ChipMemoryClassifier(two, x)
    with pytest.raises(ValidationError, match="LMUClassifier"):
        ChipMemoryClassifier("not a classifier object".split(), x)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(steps_per_sample=0), "steps_per_sample"),
        (dict(n_neurons=-3), "n_neurons"),
        (dict(max_rate=2000), "max_rate"),
        (dict(max_rate=-1), "max_rate"),
        (dict(gap_steps=10, readout_offset=9), "readout_offset"),
        (dict(window=0), "window"),
        (dict(hidden_copies=0), "hidden_copies"),
    ],
)
def test_bad_arguments(kwargs, match):
    x = np.random.RandomState(0).uniform(size=(5, 4, 2))
    with pytest.raises(ValidationError, match=match):
        ChipMemoryClassifier(make_classifier(), x, **kwargs)


def test_bad_data_and_target():
    x = np.random.RandomState(0).uniform(size=(5, 4, 2))
    net = ChipMemoryClassifier(make_classifier(), x, steps_per_sample=2, n_neurons=10)
    with pytest.raises(ValidationError, match="target"):
        net.predict(x, target="gpu")
    with pytest.raises(ValidationError, match="input dimension"):
        net.predict(np.ones((2, 4, 3)))
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValidationError):
        net.predict(bad)
    with pytest.raises(ValidationError, match="scale_x"):
        ChipMemoryClassifier(make_classifier(), np.zeros((3, 4, 2)))


def test_chip_digits_comparison_fits_the_readout_on_training_data(tmp_path):
    from nengo_lmu.apps.experiments.chip_digits import chip_digits_comparison

    clf, x, y = trained_tiny()
    path = tmp_path / "tiny.npz"
    clf.save(path)
    data = dict(x_train=x[:60], y_train=y[:60], x_test=x[60:72], y_test=y[60:72])
    args = dict(targets=(), data=data, steps_per_sample=10, n_neurons=60)
    out = chip_digits_comparison(path, readout="fit", n_fit=40, **args)
    assert list(out.readout) == ["nengo"]  # no emulator target here
    assert out.readout["nengo"]["n_fit"] == 40 and 0 <= out.readout["nengo"]["offset"] <= 20
    assert out.readout["nengo"]["cv"] >= 0.8
    assert out.accuracy["nengo"] >= 0.75 and out.n == 12
    trained = chip_digits_comparison(path, readout="trained", **args)
    assert trained.readout is None and trained.accuracy["rate"] == out.accuracy["rate"]
    with pytest.raises(ValidationError, match="readout"):
        chip_digits_comparison(path, readout="best", **args)
    with pytest.raises(ValidationError, match="fit_on"):
        chip_digits_comparison(path, fit_on="sim", **args)


@pytest.mark.parametrize("fit_on, fitted", [("own", ["nengo", "sim"]), ("nengo", ["nengo"])])
def test_chip_digits_comparison_fits_on_each_simulators_own_spikes(fit_on, fitted, tmp_path):
    """``fit_on="own"`` (the default) fits a readout on the emulator's own
    spikes too; the argument was shadowed by a helper of the same name, so
    every run used nengo's readout."""
    from nengo_lmu.apps.experiments.chip_digits import chip_digits_comparison

    clf, x, y = trained_tiny()
    path = tmp_path / "tiny.npz"
    clf.save(path)
    data = dict(x_train=x[:60], y_train=y[:60], x_test=x[60:64], y_test=y[60:64])
    out = chip_digits_comparison(
        path,
        targets=("sim",),
        data=data,
        n_fit=12,
        fit_on=fit_on,
        steps_per_sample=4,
        n_neurons=20,
    )
    assert list(out.readout) == fitted
    assert all(out.readout[t]["n_fit"] == 12 for t in fitted)
