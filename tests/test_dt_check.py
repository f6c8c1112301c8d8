"""The dt check (nengo_lmu.networks.dt_check): a network built for one dt
refuses to run in a simulator at another, on nengo, NengoDL and the
nengo-loihi emulator; networks whose memory is per step run at any dt."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.networks import L2MU, LegendreMemory, RecurrentLIF
from nengo_lmu.networks.dt_check import DtCheck, require_dt
from nengo_lmu.networks.linear_system import LinearSystemNetwork
from nengo_lmu.systems import legendre_system


def ensemble_net(dt):
    # an ensemble, so that nengo-loihi has something to put on the chip
    with nengo.Network(label="mine") as net:
        a = nengo.Ensemble(10, 1)
        nengo.Probe(a)
    require_dt(net, dt)
    return net


def test_require_dt_in_every_simulator(AnySimulator):
    """On nengo, NengoDL and the nengo-loihi emulator."""
    with AnySimulator(ensemble_net(0.001), dt=0.001, progress_bar=False) as sim:
        sim.run_steps(3)
    assert sim.n_steps == 3
    with pytest.raises(
        BuildError,
        match=r"Network 'mine' was made for dt=0.001 but "
        r"the simulator runs at dt=0.002",
    ):
        AnySimulator(ensemble_net(0.001), dt=0.002, progress_bar=False)


def test_require_dt_replaces_and_removes():
    net = ensemble_net(0.001)
    require_dt(net, 0.002)  # replaces: one check, the new dt
    assert [n.output.expected_dt for n in net.nodes if isinstance(n.output, DtCheck)] == [0.002]
    with nengo.Simulator(net, dt=0.002, progress_bar=False):
        pass
    assert require_dt(net, None) is None and net.dt_check is None
    assert not any(isinstance(n.output, DtCheck) for n in net.nodes)
    with nengo.Simulator(net, dt=0.005, progress_bar=False):
        pass
    with pytest.raises(ValidationError, match="dt: must be a positive"):
        require_dt(net, 0.0)


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
@pytest.mark.parametrize("cls", [L2MU, RecurrentLIF])
def test_spiking_classifiers_refuse_another_dt(cls, backend, make_l2mu):
    """Spikes carry amplitude=dt, so another dt scales every current."""
    from conftest import make_simulator

    if backend == "nengo_dl":
        pytest.importorskip("nengo_dl")
        import nengo_lmu.dl  # noqa: F401 - registers DiscreteLIF's NengoDL builder
    simulator = make_simulator(backend)
    net = make_l2mu() if cls is L2MU else RecurrentLIF(6, 4, 9, seed=2)
    with simulator(net, dt=0.001, progress_bar=False) as sim:
        sim.run_steps(2)
    net = make_l2mu() if cls is L2MU else RecurrentLIF(6, 4, 9, seed=2)
    with pytest.raises(
        BuildError,
        match=f"{cls.__name__} was made for dt=0.001 but the "
        f"simulator runs at dt=0.002.*load\\(path, dt=",
    ):
        simulator(net, dt=0.002, progress_bar=False)


def test_spiking_classifier_run_sequences_at_its_own_dt(make_l2mu):
    """A network made for dt=0.002 runs (run_sequences uses its dt) and
    gives the same spikes as the one made for 0.001: only dt differs."""
    x = (np.random.RandomState(0).rand(2, 10, 6) < 0.4).astype(float)
    a = make_l2mu(dt=0.001).run_sequences(x)[0]
    b = make_l2mu(dt=0.002).run_sequences(x)[0]
    assert np.array_equal(a, b) and a.sum() > 0
    with pytest.raises(BuildError, match="made for dt=0.002"):
        make_l2mu(dt=0.002).run_sequences(x, dt=0.001)


def test_lmu_cell_runs_one_sample_per_step_at_any_dt(make_lmu_classifier):
    """LMUCell's memory is per step (theta in steps), so it has no
    dt check and gives the same outputs at any simulator dt."""
    clf = make_lmu_classifier()
    x = np.random.RandomState(1).randn(2, 12, 1)
    a = clf.predict(x, dt=0.001)
    b = clf.predict(x, dt=0.01)
    assert np.allclose(a, b) and np.abs(a).max() > 0
    assert clf.cells[0].memory.dt_check is None


@pytest.mark.parametrize("backend", ["nengo", "nengo_dl"])
def test_legendre_memory_refuses_another_dt(backend):
    """LegendreMemory(dt=0.001) in a dt=0.002 simulator."""
    from conftest import make_simulator

    if backend == "nengo_dl":
        pytest.importorskip("nengo_dl")
    with nengo.Network() as net:
        LegendreMemory(6, 0.1, dt=0.001, label="delay")
    with pytest.raises(BuildError, match="LegendreMemory 'delay' was made for dt=0.001"):
        make_simulator(backend)(net, dt=0.002, progress_bar=False)


def test_linear_system_network_refuses_another_dt():
    with nengo.Network() as net:
        LinearSystemNetwork(legendre_system(3, 0.1), n_neurons=20, dt=0.001)
    with pytest.raises(BuildError, match="LinearSystemNetwork was made for dt=0.001"):
        nengo.Simulator(net, dt=0.0005, progress_bar=False)


def test_loihi_legendre_memory_refuses_another_dt():
    pytest.importorskip("nengo_loihi")
    import nengo_loihi

    from nengo_lmu.loihi import LoihiLegendreMemory

    with nengo.Network() as net:
        LoihiLegendreMemory(3, 0.1, n_neurons=50, dt=0.001, label="chip")
    with pytest.raises(BuildError, match="'chip' was made for dt=0.001"):
        nengo_loihi.Simulator(net, dt=0.002, target="sim", progress_bar=False)
