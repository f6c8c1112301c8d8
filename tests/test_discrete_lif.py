"""The DiscreteLIF neuron: reference step, NengoDL builder, surrogate gradient."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.discrete_lif import DiscreteLIF, discrete_lif_step


def loop_reference(J, beta, threshold):
    """The L2MU equations written out plainly, for (n_steps, n) input."""
    U = np.zeros(J.shape[1])
    S = np.zeros(J.shape[1])
    out = []
    for j in J:
        U = beta * U + j - threshold * S
        S = (U > threshold).astype(float)
        out.append(S)
    return np.array(out)


@pytest.mark.parametrize(
    "kwargs, attr, bad",
    [
        (dict(beta=-0.1, threshold=1), "beta", "-0.1"),
        (dict(beta=1.5, threshold=1), "beta", "1.5"),
        (dict(beta=np.nan, threshold=1), "beta", "nan"),
        (dict(beta="a", threshold=1), "beta", "'a'"),
        (dict(beta=0.5, threshold=0), "threshold", "0"),
        (dict(beta=0.5, threshold=-2), "threshold", "-2"),
        (dict(beta=0.5, threshold=np.inf), "threshold", "inf"),
        (dict(beta=0.5, threshold=1, amplitude=0), "amplitude", "0"),
        (dict(beta=0.5, threshold=1, surrogate_alpha=-1), "surrogate_alpha", "-1"),
        (dict(beta=0.5, threshold=1, learnable="yes"), "learnable", "'yes'"),
        (dict(beta=0.5, threshold=1, reset="hard"), "reset", "'hard'"),
        (dict(beta=0.5, threshold=1, min_voltage=0.5), "min_voltage", "0.5"),
        (dict(beta=0.5, threshold=1, min_voltage="x"), "min_voltage", "'x'"),
    ],
)
def test_bad_parameters(kwargs, attr, bad):
    with pytest.raises(ValidationError, match=bad) as e:
        DiscreteLIF(**kwargs)
    assert e.value.attr == attr


def test_edge_parameters_accepted():
    assert DiscreteLIF(0.0, 1e-6).beta == 0.0
    assert DiscreteLIF(1.0, 3.0).beta == 1.0


def test_step_by_hand():
    # beta 0.5, threshold 1: U = 1.5 (spike), 0.75 - 1 = -0.25, -0.125 + 1.2
    # = 1.075 (spike), 0.5375 - 1 = -0.4625
    v = np.zeros(1)
    s = np.zeros(1)
    spikes, volts = [], []
    for j in [1.5, 0.0, 1.2, 0.0]:
        discrete_lif_step(np.array([j]), v, s, 0.5, 1.0)
        spikes.append(s[0])
        volts.append(v[0])
    assert spikes == [1, 0, 1, 0]
    assert np.allclose(volts, [1.5, -0.25, 1.075, -0.4625])


def test_zero_reset_and_clipping_by_hand():
    # beta 0.5, threshold 1, reset to zero, clip at -0.3:
    # U = 1.5 (spike, V = 0), 0 + -1 = -1 -> V = -0.3, -0.15 + 1.2 = 1.05
    # (spike, V = 0), 0 + 0.4 = 0.4
    v, s = np.zeros(1), np.zeros(1)
    spikes, volts = [], []
    for j in [1.5, -1.0, 1.2, 0.4]:
        discrete_lif_step(np.array([j]), v, s, 0.5, 1.0, "zero", -0.3)
        spikes.append(s[0])
        volts.append(v[0])
    assert spikes == [1, 0, 1, 0]
    assert np.allclose(volts, [0.0, -0.3, 0.0, 0.4])
    # subtract reset, no clipping: 1.5 (spike), 0.75 - 1 - 1 = -1.25,
    # -0.625 + 1.2 = 0.575, 0.2875 + 0.4 = 0.6875
    v, s = np.zeros(1), np.zeros(1)
    out = [discrete_lif_step(np.array([j]), v, s, 0.5, 1.0)[0] for j in [1.5, -1.0, 1.2, 0.4]]
    assert out == [1, 0, 0, 0] and np.allclose(v, [0.6875])


def test_exactly_at_threshold_does_not_spike():
    v, s = np.zeros(1), np.zeros(1)
    discrete_lif_step(np.array([1.0]), v, s, 0.9, 1.0)
    assert s[0] == 0


@pytest.mark.parametrize("dt", [0.001, 1.0])
def test_nengo_simulation_matches_equations(dt):
    rng = np.random.RandomState(1)
    J = rng.uniform(-0.5, 1.5, size=(60, 7))
    with nengo.Network() as net:
        inp = nengo.Node(nengo.processes.PresentInput(J, dt))
        ens = nengo.Ensemble(
            7,
            1,
            neuron_type=DiscreteLIF(0.7, 0.9, amplitude=2.0),
            gain=nengo.dists.Choice([1]),
            bias=nengo.dists.Choice([0]),
        )
        nengo.Connection(inp, ens.neurons, synapse=None)
        p = nengo.Probe(ens.neurons)
        pv = nengo.Probe(ens.neurons, "voltage")
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run_steps(60)
    expected = loop_reference(J, 0.7, 0.9)
    assert expected.sum() > 20
    assert np.array_equal(sim.data[p], expected * 2.0 / dt)
    assert np.all(sim.data[pv] <= 0.9 + 1.5)


def test_neuron_type_step_agrees_with_operator():
    # DiscreteLIF.step (nengo's SimNeurons interface) and the operator share
    # discrete_lif_step; check the type's own step too
    rng = np.random.RandomState(2)
    J = rng.uniform(-0.5, 1.5, size=(40, 5))
    nt = DiscreteLIF(0.3, 0.6, amplitude=0.5)
    v, s, out = np.zeros(5), np.zeros(5), np.zeros(5)
    rec = []
    for j in J:
        nt.step(0.1, j, out, voltage=v, spiked=s)
        rec.append(out.copy())
    assert np.array_equal(np.array(rec), loop_reference(J, 0.3, 0.6) * 5.0)


def test_no_rate_curve():
    with pytest.raises(ValidationError, match="explicit gain and bias"):
        with nengo.Network() as net:
            nengo.Ensemble(3, 1, neuron_type=DiscreteLIF(0.5, 1.0))
        nengo.Simulator(net, progress_bar=False)


# --- NengoDL ---------------------------------------------------------------


def _two_population_net(
    learnable=True, surrogate_alpha=2.0, reset="subtract", min_voltage=-np.inf
):
    rng = np.random.RandomState(0)
    with nengo.Network(seed=0) as net:
        inp = nengo.Node(np.zeros(5))
        kw = dict(gain=nengo.dists.Choice([1]), bias=nengo.dists.Choice([0]))
        a = nengo.Ensemble(
            20,
            1,
            neuron_type=DiscreteLIF(
                0.8,
                0.5,
                amplitude=0.001,
                learnable=learnable,
                surrogate_alpha=surrogate_alpha,
                reset=reset,
                min_voltage=min_voltage,
            ),
            **kw,
        )
        b = nengo.Ensemble(
            10,
            1,
            neuron_type=DiscreteLIF(
                0.3,
                0.2,
                amplitude=0.001,
                learnable=learnable,
                surrogate_alpha=surrogate_alpha,
                reset=reset,
                min_voltage=min_voltage,
            ),
            **kw,
        )
        nengo.Connection(inp, a.neurons, transform=rng.randn(20, 5), synapse=None)
        nengo.Connection(a.neurons, b.neurons, transform=rng.randn(10, 20) * 0.5, synapse=None)
        nengo.Connection(b.neurons, a.neurons, transform=rng.randn(20, 10) * 0.5, synapse=0)
        pa = nengo.Probe(a.neurons)
        pb = nengo.Probe(b.neurons)
    return net, inp, a, b, pa, pb


@pytest.mark.parametrize("reset, min_voltage", [("subtract", -np.inf), ("zero", -0.4)])
def test_nengo_dl_equals_nengo_spike_for_spike(reset, min_voltage):
    nengo_dl = pytest.importorskip("nengo_dl")
    from nengo_lmu.discrete_lif import SimDiscreteLIF
    from nengo_lmu.dl.neurons import DiscreteLIFBuilder

    # importing nengo_lmu.dl registers the builder with NengoDL
    assert nengo_dl.builder.Builder.builders[SimDiscreteLIF] is DiscreteLIFBuilder

    net, inp, a, b, pa, pb = _two_population_net(reset=reset, min_voltage=min_voltage)
    rng = np.random.RandomState(3)
    x = (rng.rand(3, 50, 5) < 0.3).astype(float)
    with net:
        nengo_dl.configure_settings(dtype="float64", stateful=False)
    ref = {pa: [], pb: []}
    # the reference: one nengo run per sequence with the node playing it
    for seq in x:
        inp.output = nengo.processes.PresentInput(seq, 0.001)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run_steps(50)
        for p in ref:
            ref[p].append(sim.data[p])
    inp.output = np.zeros(5)
    with nengo_dl.Simulator(net, minibatch_size=3, progress_bar=False) as sim:
        out = sim.predict({inp: x}, verbose=0)
    total = 0
    for p in ref:
        assert np.array_equal(out[p], np.array(ref[p]))
        total += np.sum(out[p])
    assert total > 500  # plenty of spikes (amplitude = dt: each is 1)


@pytest.mark.parametrize("alpha", [2.0, 5.0])
def test_atan_surrogate_gradient(alpha):
    tf = pytest.importorskip("tensorflow")
    from nengo_lmu.dl.surrogate import atan_spike

    x = tf.constant(np.linspace(-2, 2, 41))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = atan_spike(x, alpha)
    grad = tape.gradient(y, x).numpy()
    xs = x.numpy()
    assert np.array_equal(y.numpy(), (xs > 0).astype(float))
    assert np.allclose(grad, (alpha / 2) / (1 + (np.pi / 2 * alpha * xs) ** 2))
    # the width parameter matters: narrower for larger alpha away from 0
    assert grad[0] < 0.1 * grad[20]


@pytest.mark.parametrize("learnable", [True, False])
def test_beta_threshold_trained_only_if_learnable(learnable):
    nengo_dl = pytest.importorskip("nengo_dl")
    tf = pytest.importorskip("tensorflow")
    from nengo_lmu.dl import trained_neuron_params

    net, inp, a, b, pa, pb = _two_population_net(learnable=learnable)
    rng = np.random.RandomState(4)
    x = (rng.rand(8, 20, 5) < 0.3).astype(np.float32)
    y = np.zeros((8, 20, 10), dtype=np.float32)
    with net:
        nengo_dl.configure_settings(stateful=False)
    with nengo_dl.Simulator(net, minibatch_size=4, progress_bar=False) as sim:
        sim.compile(optimizer=tf.optimizers.SGD(0.01), loss={pb: "mse"})
        before = trained_neuron_params(sim, [a, b])
        sim.fit({inp: x}, {pb: y}, epochs=2, verbose=0)
        after = trained_neuron_params(sim, [a, b])
    assert before[a] == pytest.approx((0.8, 0.5)) and before[b] == pytest.approx((0.3, 0.2))
    changed = [not np.allclose(before[e], after[e]) for e in (a, b)]
    assert all(changed) if learnable else not any(changed)
