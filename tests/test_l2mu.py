"""L2MU: network wiring, NengoDL vs nengo, LIF/Loihi mapping, data, metrics."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.data import event_digits, load_braille_npz, sigma_delta_encode
from nengo_lmu.loihi import build_lif_copies, lif_run, lif_tau_rc
from nengo_lmu.metrics import spiking_network_metrics
from nengo_lmu.networks import L2MU, RecurrentLIF
from nengo_lmu.networks.classifier import transform_matrix
from nengo_lmu.networks.l2mu import PRESETS, preset
from nengo_lmu.systems import legendre_system
from nengo_lmu.validation import check_event_data

#: Low thresholds, so that the small network spikes in a few steps.
THRESHOLDS = dict(threshold_u=0.1, threshold_m=0.1, threshold_h=0.2, threshold_out=0.1)


@pytest.fixture
def small_l2mu(make_l2mu):
    """The shared small L2MU (tests/conftest.py) with `THRESHOLDS`, seed 0."""

    def make(seed=0, **kwargs):
        return make_l2mu(seed=seed, **dict(THRESHOLDS, **kwargs))

    return make


def random_events(n, n_steps, channels, p=0.3, seed=0):
    return (np.random.RandomState(seed).rand(n, n_steps, channels) < p).astype(np.float32)


# --- network ---------------------------------------------------------------


def test_presets_reach_the_network_and_match_the_papers_sizes():
    # every network argument of a preset arrives in the network it builds
    for name in PRESETS:
        hp = preset(name)
        net = L2MU.from_preset(name, 24, 7)
        assert (net.order, net.theta, net.memory_size, net.hidden_size) == (
            hp["order"],
            hp["theta"],
            hp["memory_size"],
            hp["hidden_size"],
        )
        for pop in ("u", "m", "h", "out"):
            nt = net.populations[pop].neuron_type
            assert (nt.beta, nt.threshold) == (hp[f"beta_{pop}"], hp[f"threshold_{pop}"]), pop
        assert net.populations["m"].n_neurons == hp["memory_size"] * hp["order"]
        # overrides win, and preset() hands out a copy
        assert L2MU.from_preset(name, 24, 7, hidden_size=5).hidden_size == 5
        preset(name)["order"] = -1
        assert PRESETS[name]["order"] == hp["order"]
    # with 24 event channels (12 taxels ON/OFF) the sizes are the paper's
    # reported parameter counts: 4.9e5 (27 classes) and 1.19e5 (7 classes,
    # whose 121,300 the paper rounds to 1.19e5, 2% off)
    n27 = L2MU.from_preset("braille27", 24, 27)
    assert round(n27.n_parameters, -4) == 490_000
    n7 = L2MU.from_preset("braille7", 24, 7, learn_neuron_params=False)
    assert abs(n7.n_parameters - 119_000) / 119_000 < 0.02
    with pytest.raises(ValidationError, match="braille"):
        L2MU.from_preset("braille8", 24, 7)


def test_memory_matrices_fixed_and_correctly_oriented(small_l2mu):
    net = small_l2mu()
    sys = legendre_system(4, 6.0).discretize(1.0)
    assert np.allclose(net.Ad, sys.A) and np.allclose(net.Bd, sys.B)
    assert not np.allclose(net.Ad, net.Ad.T)  # orientation is testable
    Ad = transform_matrix(net.memory_weights["Ad"])
    Bd = transform_matrix(net.memory_weights["Bd"])
    assert np.allclose(Ad, np.kron(np.eye(3), sys.A))
    assert np.allclose(Bd, np.kron(np.eye(3), sys.B))
    assert all(net.config[c].trainable is False for c in net.memory_weights.values())
    assert set(net.weights) == {"e_x", "e_h", "e_m", "W_x", "W_h", "W_m", "W_o"}
    assert np.all(net.get_weights()["e_m"] == 0)


def test_simulation_follows_l2mu_equations(small_l2mu):
    """Input currents probed in nengo equal the L2MU equations applied to the
    probed spikes (this also pins the orientation of Ad in simulation)."""
    net = small_l2mu(seed=3)
    w = net.get_weights()
    w["e_m"] = np.random.RandomState(1).randn(*w["e_m"].shape)
    net.set_weights(w)
    spikes = net.add_probes()
    with net:
        currents = {k: nengo.Probe(e.neurons, "input") for k, e in net.populations.items()}
    x = random_events(1, 30, 6, seed=2)
    _, rec = net.run_sequences(
        x,
        probes={
            **{f"s_{k}": p for k, p in spikes.items()},
            **{f"i_{k}": p for k, p in currents.items()},
        },
    )
    s = {k: rec[f"s_{k}"][0] for k in spikes}
    s["x"] = x[0]
    assert all(s[k].sum() > 5 for k in ("u", "m", "h"))

    def prev(a):
        return np.vstack([np.zeros((1, a.shape[1])), a[:-1]])

    A = transform_matrix(net.memory_weights["Ad"])
    B = transform_matrix(net.memory_weights["Bd"])
    expected = {
        "u": s["x"] @ w["e_x"].T + prev(s["h"]) @ w["e_h"].T + prev(s["m"]) @ w["e_m"].T,
        "m": prev(s["m"]) @ A.T + s["u"] @ B.T,
        "h": s["x"] @ w["W_x"].T + prev(s["h"]) @ w["W_h"].T + s["m"] @ w["W_m"].T,
        "out": s["h"] @ w["W_o"].T,
    }
    for k, e in expected.items():
        assert np.allclose(rec[f"i_{k}"][0], e), k


def test_nengo_dl_equals_nengo_spike_for_spike(small_l2mu):
    nengo_dl = pytest.importorskip("nengo_dl")
    from nengo_lmu.discrete_lif import SimDiscreteLIF
    from nengo_lmu.dl.neurons import DiscreteLIFBuilder

    # importing nengo_lmu.dl registers the builder with NengoDL
    assert nengo_dl.builder.Builder.builders[SimDiscreteLIF] is DiscreteLIFBuilder

    net = small_l2mu(seed=5)
    probes = net.add_probes()
    x = random_events(4, 25, 6, seed=4)
    _, ref = net.run_sequences(x, probes=probes)
    with net:
        nengo_dl.configure_settings(dtype="float64", stateful=False)
    with nengo_dl.Simulator(net, dt=net.dt, minibatch_size=4, progress_bar=False) as sim:
        out = sim.predict({net.input: x}, verbose=0)
    for k, p in probes.items():
        assert ref[k].sum() > 10, k
        assert np.array_equal(out[p], ref[k]), k


@pytest.mark.parametrize(
    "kwargs, attr",
    [
        (dict(beta_u=1.5), "beta_u"),
        (dict(beta_m=-0.2), "beta_m"),
        (dict(threshold_h=0.0), "threshold_h"),
        (dict(threshold_out=-1.0), "threshold_out"),
        (dict(theta=1.0), "theta"),
        (dict(memory_size=0), "memory_size"),
        (dict(surrogate_alpha=0), "surrogate_alpha"),
        (dict(learn_neuron_params=1), "learn_neuron_params"),
        (dict(reset="soft"), "reset"),
        (dict(min_voltage=1.0), "min_voltage"),
        (dict(chip_timing="yes"), "chip_timing"),
    ],
)
def test_bad_network_arguments(kwargs, attr, small_l2mu):
    with pytest.raises(ValidationError) as e:
        small_l2mu(**kwargs)
    assert e.value.attr == attr


def test_wrong_event_channels(small_l2mu):
    net = small_l2mu()
    with pytest.raises(ValidationError, match="must have 6 event channels.*got 5"):
        net.run_sequences(random_events(2, 10, 5))
    with pytest.raises(ValidationError, match="0 or 1, got 0.5"):
        net.run_sequences(np.full((1, 10, 6), 0.5))
    with pytest.raises(ValidationError, match="must have 6 event channels"):
        lif_run(net, random_events(2, 10, 7))


def test_training_rejects_wrong_channels(small_l2mu):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.dl import train_spiking_classifier

    net = small_l2mu()
    x = random_events(8, 10, 7)
    y = np.zeros((8, 1, 1), dtype=np.int32)
    data = dict(x_train=x, y_train=y, x_test=x, y_test=y)
    with pytest.raises(ValidationError, match="must have 6 event channels"):
        train_spiking_classifier(net, data, epochs=1, minibatch_size=4)


def test_save_load_and_neuron_params(tmp_path, small_l2mu):
    net = small_l2mu(seed=7)
    net.set_neuron_params({"h": (0.3, 0.25)})
    path = str(tmp_path / "l2mu.npz")
    net.save(path)
    back = L2MU.load(path)
    assert back.neuron_params == net.neuron_params
    x = random_events(3, 20, 6, seed=8)
    assert np.array_equal(back.run_sequences(x)[0], net.run_sequences(x)[0])
    with pytest.raises(ValidationError, match="beta_h"):
        net.set_neuron_params({"h": (1.2, 0.2)})


def test_recurrent_lif_budget():
    k = RecurrentLIF.hidden_size_for(5000, 16, 10)
    assert RecurrentLIF(16, 10, k).n_parameters <= 5000 < RecurrentLIF(16, 10, k + 1).n_parameters


def test_spiking_training_learns():
    """Tiny fast check: loss falls and beta/threshold move (the full task is
    in the slow test below and the CLI)."""
    pytest.importorskip("nengo_dl")
    from nengo_lmu.dl import train_spiking_classifier

    data = event_digits(n_steps=12, n_samples=100, threshold=0.2)
    net = L2MU(16, 10, memory_size=4, order=3, theta=6.0, hidden_size=16, seed=0)
    before = net.neuron_params
    res = train_spiking_classifier(
        net, data, epochs=3, minibatch_size=20, learning_rate=5e-3, unroll_simulation=1
    )
    assert res.history["loss"][-1] < res.history["loss"][0]
    assert all(not np.allclose(before[k], net.neuron_params[k]) for k in before)
    # the trained network in the nengo reference gives NengoDL's spike counts
    counts, _ = net.run_sequences(data["x_test"])
    assert np.mean(np.abs(counts - res.test_counts)) < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_l2mu_learns_event_digits(seed):
    """L2MU reaches 90% held-out on event digits on each of seeds 0-2 (as the
    README's runs did: 95.8%, 91.1%, 94.2%).

    Whether it beats the recurrent LIF network of the same budget is not
    asserted: over those seeds it won twice and tied once (README), within
    the seed-to-seed spread, so no test can claim it; benchmarks/l2mu.py
    measures both side by side.
    """
    pytest.importorskip("nengo_dl")
    from nengo_lmu.dl import train_spiking_classifier

    data = event_digits(n_steps=40)
    net = L2MU.from_preset("braille7", 16, 10, memory_size=32, hidden_size=96, seed=seed)
    kw = dict(epochs=15, minibatch_size=64, learning_rate=2e-3, seed=seed)
    assert train_spiking_classifier(net, data, **kw).test_accuracy >= 0.9


# --- LIF / nengo-loihi mapping -------------------------------------------------


def test_lif_tau_rc():
    assert np.exp(-0.001 / lif_tau_rc(0.8, 0.001)) == pytest.approx(0.8)
    for bad in (0.0, 1.0):
        with pytest.raises(ValidationError, match="in \\(0, 1\\)"):
            lif_tau_rc(bad, 0.001)


def test_lif_mapping_matches_zero_reset_equations():
    """One mapped population in nengo: V = beta V + I/threshold, spike if
    V > 1, reset to 0, clipped at -1 (the chip's semantics)."""
    net = RecurrentLIF(
        5, 3, 8, beta_h=0.7, threshold_h=0.4, beta_out=0.5, threshold_out=0.3, seed=1
    )
    x = random_events(1, 40, 5, seed=3)
    model, probes, _ = build_lif_copies(net, x, pad_steps=0)
    with nengo.Simulator(model, dt=net.dt, progress_bar=False) as sim:
        sim.run_steps(40)
    got = {k: sim.data[p] * net.dt for k, p in probes[0].items()}
    w = net.get_weights()

    def loop(I, beta, thr, prev_input=None):  # noqa: E741 - I: the input current
        V = np.zeros(I.shape[1])
        out = []
        for t in range(len(I)):
            V = beta * V + I[t] / thr
            S = (V > 1).astype(float)
            V = np.where(S > 0, 0.0, np.maximum(V, -1.0))
            out.append(S)
        return np.array(out)

    h = got["h"]
    prev_h = np.vstack([np.zeros((1, 8)), h[:-1]])
    I_h = x[0] @ w["W_x"].T + prev_h @ w["W_h"].T
    assert h.sum() > 10
    assert np.array_equal(h, loop(I_h, 0.7, 0.4))
    assert np.array_equal(got["out"], loop(h @ w["W_o"].T, 0.5, 0.3))
    assert np.array_equal(got["x"], x[0])


def test_chip_ready_l2mu_equals_its_lif_map(small_l2mu):
    """reset to zero + clipping + one step per connection: the nengo.LIF map
    reproduces the DiscreteLIF network spike for spike."""
    net = small_l2mu(seed=2, reset="zero", min_voltage=-0.5, chip_timing=True)
    assert all(
        c.synapse == nengo.Lowpass(0)
        for c in net.all_connections
        if not isinstance(c.post_obj, nengo.Node)
    )
    x = random_events(3, 30, 6, seed=6)
    probes = net.add_probes()
    counts, rec = net.run_sequences(x, probes=probes)
    c_lif, act = lif_run(net, x, "nengo", pad_steps=0)
    assert np.array_equal(c_lif, counts)
    for k in probes:
        assert rec[k].sum() > 10, k
        assert np.array_equal(act[k], rec[k]), k


def test_plain_l2mu_lif_map_differs(small_l2mu):
    # subtract reset is not what the chip does: the map is approximate
    net = small_l2mu(seed=2)
    x = random_events(3, 30, 6, seed=6)
    counts, _ = net.run_sequences(x)
    c_lif, _ = lif_run(net, x, "nengo", pad_steps=0)
    assert not np.array_equal(c_lif, counts)


@pytest.mark.slow
def test_loihi_emulator_close_to_nengo_lif_map(small_l2mu):
    pytest.importorskip("nengo_loihi")
    net = small_l2mu(seed=2, reset="zero", min_voltage=-0.5, chip_timing=True)
    x = random_events(6, 30, 6, seed=6)
    c_nengo, _ = lif_run(net, x, "nengo")
    c_loihi, act = lif_run(net, x, "loihi")
    assert c_nengo.sum() > 20
    # weights are quantised and every chip connection takes a step: close,
    # not equal
    assert np.abs(c_loihi - c_nengo).sum() <= 0.3 * c_nengo.sum()
    assert set(act) == {"x", "u", "m", "h", "out"}


# --- data ---------------------------------------------------------------------


def test_sigma_delta_by_hand():
    x = np.array([0.0, 0.25, 0.25, 0.0, 0.0])[:, None]
    ev = sigma_delta_encode(x, threshold=0.1)
    assert ev.shape == (5, 2)
    # reference 0 -> 0.1 (ON) -> 0.2 (ON) -> 0.1 (OFF) -> 0.0 (OFF)
    assert ev[:, 0].tolist() == [0, 1, 1, 0, 0]
    assert ev[:, 1].tolist() == [0, 0, 0, 1, 1]


def test_sigma_delta_tracks_slow_signals():
    t = np.linspace(0, 1, 400)
    x = np.stack([np.sin(2 * np.pi * t), 0.5 * np.cos(2 * np.pi * 2 * t)], axis=1)
    ev = sigma_delta_encode(x, threshold=0.05)
    recon = x[0] + 0.05 * np.cumsum(ev[:, 0::2] - ev[:, 1::2], axis=0)
    assert np.max(np.abs(recon - x)) < 0.05 + 1e-6
    assert ev.sum() > 50


@pytest.mark.parametrize("bad", [0.0, -0.1, np.nan])
def test_sigma_delta_bad_threshold(bad):
    with pytest.raises(ValidationError) as e:
        sigma_delta_encode(np.zeros((5, 2)), threshold=bad)
    assert e.value.attr == "threshold"


def test_sigma_delta_rejects_nan_and_shape():
    with pytest.raises(ValidationError, match="x"):
        sigma_delta_encode(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValidationError, match="n_steps, n_channels"):
        sigma_delta_encode(np.zeros(5))


def test_event_digits():
    from sklearn.datasets import load_digits

    d = event_digits(n_steps=200, threshold=0.1)
    x = np.concatenate([d["x_train"], d["x_test"]])
    assert x.shape == (1797, 200, 16) and d["n_classes"] == 10
    check_event_data(x, 16)
    assert np.bincount(d["y_test"].ravel()).min() >= 35  # stratified
    # slow sweep (< threshold per step): integrating ON - OFF recovers each
    # taxel's analog signal within one threshold
    d1 = event_digits(n_steps=200, threshold=0.1, test_size=0.5)
    img = load_digits().images / 16.0
    # find one test image by matching its event sums (the split shuffles)
    ev = d1["x_test"][0]
    recon = 0.1 * np.cumsum(ev[:, 0::2] - ev[:, 1::2], axis=0)  # (200, 8)
    sweep = np.concatenate([np.zeros((len(img), 8, 1)), img, np.zeros((len(img), 8, 1))], 2)
    grid = np.linspace(0, 9, 200)
    analog = np.stack([[np.interp(grid, np.arange(10), r) for r in s] for s in sweep])
    err = np.max(np.abs(analog.transpose(0, 2, 1) - recon[None]), axis=(1, 2))
    assert err.min() < 0.1
    assert np.argsort(err)[1] != np.argmin(err) and np.sort(err)[1] > err.min()


def test_event_digits_bad_arguments():
    with pytest.raises(ValidationError) as e:
        event_digits(n_steps=5)
    assert e.value.attr == "n_steps"
    with pytest.raises(ValidationError) as e:
        event_digits(threshold=0)
    assert e.value.attr == "threshold"
    with pytest.raises(ValidationError) as e:
        event_digits(test_size=1.5)
    assert e.value.attr == "test_size"


def test_load_braille_npz(tmp_path):
    with pytest.raises(FileNotFoundError, match="24"):
        load_braille_npz(str(tmp_path / "none.npz"))
    x = random_events(10, 30, 24)
    y = np.arange(10) % 7
    good = str(tmp_path / "good.npz")
    np.savez(good, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    d = load_braille_npz(good)
    assert d["x_train"].shape == (10, 30, 24) and d["n_classes"] == 7
    assert np.array_equal(d["y_test"].ravel(), y[:4])
    bad = str(tmp_path / "bad.npz")
    np.savez(bad, x_train=x[:, :, :12], y_train=y, x_test=x[:4, :, :12], y_test=y[:4])
    with pytest.raises(ValidationError, match="24 event channels.*got 12"):
        load_braille_npz(bad)
    missing = str(tmp_path / "missing.npz")
    np.savez(missing, x_train=x, y_train=y)
    with pytest.raises(ValidationError, match="x_test"):
        load_braille_npz(missing)


# --- metrics -------------------------------------------------------------------


def test_spiking_network_metrics_by_hand():
    # x (2 channels) -> a (3 neurons) -> b (1 neuron); 1 sample, 2 steps
    W1 = np.array([[1.0, 0.0], [2.0, 3.0], [0.0, 0.0]])
    W2 = np.array([[1.0, 1.0, 0.0]])
    act = {
        "x": np.array([[[1, 1], [0, 1]]], dtype=float),
        "a": np.array([[[0, 1, 0], [1, 1, 0]]], dtype=float),
        "b": np.array([[[0], [1]]], dtype=float),
    }
    m = spiking_network_metrics([("x", "a", W1, True), ("a", "b", W2, False, True)], act)
    # ACs: x col0 has 2 non-zeros (1 spike), col1 1 non-zero (2 spikes) -> 4;
    # a col0 1 (1 spike), col1 1 (2 spikes) -> 3
    assert m["synaptic_ops"] == 7
    assert m["effective_macs"] == 0
    assert m["parameters"] == 6
    assert m["footprint_bytes"] == (6 + 2) * 4  # W2 stored sparse: 2 values
    assert m["dense_ops"] == (6 + 2) * 2
    assert m["membrane_updates"] == 4 * 2
    assert m["activation_sparsity"] == pytest.approx(4 / 8)
    # non-binary input counts as MACs
    act["x"] = act["x"] * 0.5
    m = spiking_network_metrics([("x", "a", W1, True)], act)
    assert m["effective_macs"] == 4 and m["synaptic_ops"] == 0


def test_spiking_network_metrics_bad_input():
    act = {"x": np.zeros((1, 2, 2)), "a": np.zeros((1, 2, 3))}
    with pytest.raises(ValidationError, match="shape"):
        spiking_network_metrics([("x", "a", np.zeros((2, 2)), True)], act)
    with pytest.raises(ValidationError, match="no activity"):
        spiking_network_metrics([("x", "c", np.zeros((3, 2)), True)], act)
    act["x"] = np.full((1, 2, 2), np.nan)
    with pytest.raises(ValidationError, match="NaN|finite|nan"):
        spiking_network_metrics([("x", "a", np.zeros((3, 2)), True)], act)


def test_l2mu_metrics_consistent_with_run(small_l2mu):
    net = small_l2mu(seed=1)
    x = random_events(3, 20, 6, seed=9)
    m = net.metrics(x)
    counts, _ = net.run_sequences(x)
    assert np.array_equal(m["counts"], counts)
    n_neurons = 3 + 12 + 12 + 4
    assert m["membrane_updates"] == n_neurons * 20
    assert m["parameters"] == net.n_parameters
    assert 0 < m["activation_sparsity"] < 1
    assert m["effective_macs"] == 0  # events and spikes are binary
