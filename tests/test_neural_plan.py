"""The plan of the neural form (`nengo_lmu.networks.neural_plan`) and the
build's progress report (`nengo_lmu.networks.build_progress`)."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError
from nengo.utils.progress import ProgressBar

from nengo_lmu.networks import LegendreMemory, build_progress, neural_plan


class RecordingBar(ProgressBar):
    """A progress bar that remembers what it was shown."""

    def __init__(self):
        super().__init__()
        self.seen = []
        self.closed = False

    def update(self, progress):
        self.seen.append((progress.n_steps, progress.max_steps, progress.finished))

    def close(self):
        self.closed = True


def test_long_build_reports_progress(monkeypatch):
    # a threshold low enough that an order-6 memory counts as a long build
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 10)
    bar = RecordingBar()
    LegendreMemory(6, 0.1, n_neurons=20, progress_bar=bar, add_to_container=False)
    # one step per population, then the finished state
    assert [s[0] for s in bar.seen] == [1, 2, 3, 4, 5, 6, 6]
    assert all(s[1] == 6 for s in bar.seen)
    assert bar.seen[-1][2] and bar.closed


def test_short_build_and_disabled_bar_stay_silent(monkeypatch):
    bar = RecordingBar()
    # 6 populations, 42 connections: below the default threshold
    LegendreMemory(6, 0.1, n_neurons=20, progress_bar=bar, add_to_container=False)
    assert bar.seen == [] and not bar.closed
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 10)
    progress = build_progress.BuildProgress(False, n_steps=6, n_connections=100)
    assert not progress.active
    # the exact form builds no populations: nothing to report
    LegendreMemory(6, 0.1, progress_bar=bar, add_to_container=False)
    assert bar.seen == []


def test_progress_bar_is_validated():
    with pytest.raises(ValidationError, match="progress_bar.*must be a bool"):
        LegendreMemory(6, 0.1, n_neurons=20, progress_bar="yes", add_to_container=False)


def test_progress_does_not_change_the_network(monkeypatch):
    # the same seeded network with and without the report
    def build():
        with nengo.Network(seed=3) as net:
            mem = LegendreMemory(4, 0.1, n_neurons=30, progress_bar=RecordingBar())
        with nengo.Simulator(net, progress_bar=False) as sim:
            return np.concatenate([sim.data[e].encoders.ravel() for e in mem.ensembles])

    quiet = build()
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 1)
    assert np.array_equal(build(), quiet)


def small_system():
    from nengo_lmu import legendre_system

    return legendre_system(4, 0.1)


def test_network_builds_the_plan_that_plan_neural_makes():
    # the same arguments and seed give plan_neural's plan bit for bit, and
    # the recurrent transforms built are the plan's mapped A'
    from nengo_lmu.networks import LinearSystemNetwork
    from nengo_lmu.realizers import as_realizer

    system, dt, seed = small_system(), 0.001, 3
    process = nengo.processes.WhiteSignal(2.0, high=5, rms=0.3, seed=1)
    net = LinearSystemNetwork(
        system, n_neurons=30, realizer="scaled", process=process, seed=seed, add_to_container=False
    )
    rng = np.random.RandomState(seed)
    u = neural_plan.sample_input(process, 1, dt, rng)
    plan = neural_plan.plan_neural(
        system, system.discretize(dt), dt, u, as_realizer("scaled"), nengo.Lowpass(0.1), rng
    )
    assert np.array_equal(net.plan.T, plan.T) and np.array_equal(net.T, plan.T)
    assert np.array_equal(net.plan.eval_points, plan.eval_points)
    assert np.array_equal(net.mapped_system.A, plan.mapped_system.A)
    pops = net.ensembles
    recurrent = [c for c in net.all_connections if c.pre_obj in pops and c.post_obj in pops]
    assert len(recurrent) == np.count_nonzero(plan.mapped_system.A)
    for c in recurrent:
        i, j = pops.index(c.post_obj), pops.index(c.pre_obj)
        assert np.array_equal(c.transform.init, plan.mapped_system.A[i : i + 1, j : j + 1])
    with pytest.raises(Exception, match="cannot assign"):
        plan.radius = 2.0  # frozen


def test_plan_is_a_pure_function():
    # the same inputs and generator state give the same plan, and the
    # sample given is left as it was
    from nengo_lmu.realizers import as_realizer

    system, dt = small_system(), 0.001
    u = np.sin(np.linspace(0, 20, 2000))[:, None]
    before = u.copy()
    plans = [
        neural_plan.plan_neural(
            system,
            system.discretize(dt),
            dt,
            u,
            as_realizer("balanced"),
            nengo.Alpha(0.02),
            np.random.RandomState(0),
            ens_dimensions=2,
        )
        for _ in range(2)
    ]
    assert np.array_equal(u, before)
    a, b = plans
    assert np.array_equal(a.T, b.T) and np.array_equal(a.eval_points, b.eval_points)
    # a second-order synapse takes two input taps, and the general mapping
    assert len(a.input_taps) == 2 and a.mapping is not None
    assert [s.start for s in a.slices] == [0, 2]


def test_memory_defaults_go_through_the_config():
    from nengo_lmu.networks import legendre_memory as lm

    mem = LegendreMemory(4, 0.1, n_neurons=20, add_to_container=False)
    assert mem.config[nengo.Ensemble].neuron_type.tau_ref == lm.MEMORY_TAU_REF
    assert all(e.max_rates == nengo.dists.Uniform(*lm.MEMORY_MAX_RATES) for e in mem.ensembles)
    # a neuron type of the user's keeps nengo's rates, and the config is
    # left alone
    own = LegendreMemory(
        4, 0.1, n_neurons=20, neuron_type=nengo.LIF(tau_rc=0.03), add_to_container=False
    )
    assert all(e.max_rates == nengo.Ensemble.max_rates.default for e in own.ensembles)
    assert own.config[nengo.Ensemble].neuron_type == nengo.LIF()
