"""nengo_lmu.nir: NIR graphs out of and into nengo, checked in nengo and in an
independent reader (snnTorch's neuron modules under nirtorch's interpreter)."""

import copy

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

nir = pytest.importorskip("nir")

from nengo_lmu.networks import L2MU, LegendreMemory, RecurrentLIF  # noqa: E402
from nengo_lmu.nir import (  # noqa: E402
    SNNTORCH_DT,
    Conventions,
    beta_to_tau,
    exact_memory,
    exact_memory_options,
    from_nir,
    readers,
    tau_to_beta,
    to_nir,
)
from nengo_lmu.nir.recipes import EXACT_MEMORY_LAG  # noqa: E402

#: nengo LIF neurons that NIR's LIF describes exactly: no refractory period,
#: no voltage floor, starting at rest.
EXACT_LIF = nengo.LIF(
    tau_ref=0, min_voltage=-np.inf, initial_state={"voltage": nengo.dists.Choice([0.0])}
)


def memory_run(n_neurons=30, order=4, steps=500, seed=0):
    """A spiking memory of EXACT_LIF on white noise: (memory, input, spikes, output)."""
    with nengo.Network(seed=seed) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=10, rms=0.3, seed=seed + 1))
        mem = LegendreMemory(order, 0.1, n_neurons=n_neurons, neuron_type=EXACT_LIF, seed=seed)
        nengo.Connection(stim, mem.input, synapse=None)
        probes = [nengo.Probe(e.neurons) for e in mem.all_ensembles]
        p_u, p_y = nengo.Probe(stim), nengo.Probe(mem.output)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(steps)
    spikes = np.hstack([sim.data[p] for p in probes])
    return mem, sim.data[p_u], spikes, sim.data[p_y]


def run_graph(graph, u, **kwargs):
    """Run ``from_nir(graph)`` on input ``u``: (spikes of every population by
    name, output)."""
    net = from_nir(graph, **kwargs)
    with net:
        stim = nengo.Node(nengo.processes.PresentInput(u, net.dt))
        nengo.Connection(stim, net.input, synapse=None)
        probes = {k: nengo.Probe(e.neurons) for k, e in net.populations.items()}
        p_y = nengo.Probe(net.output)
    with nengo.Simulator(net, dt=net.dt, progress_bar=False) as sim:
        sim.run_steps(len(u))
    return {k: sim.data[p] for k, p in probes.items()}, sim.data[p_y]


def test_memory_round_trip_same_spikes():
    mem, u, spikes, y = memory_run()
    graph = to_nir(mem)
    kinds = {type(n).__name__ for n in graph.nodes.values()}
    assert kinds == {"Input", "CubaLIF", "Linear", "LI", "Output"}
    assert graph.nodes["neurons"].tau_mem.shape == (120,)  # 4 populations merged
    spikes2, y2 = run_graph(graph, u)
    assert spikes.sum() > 1000
    np.testing.assert_array_equal(spikes2["neurons"], spikes)
    np.testing.assert_allclose(y2, y, atol=1e-9)


def test_readout_applied_to_spikes_is_the_memory_output():
    """`readers.apply_readout` (the readout the reader's spikes get) against
    nengo's own run of the same spikes."""
    mem, u, spikes, y = memory_run()
    graph = to_nir(mem)
    y2 = readers.apply_readout(graph, {"input": u, "neurons": spikes}, mem.dt)
    assert np.abs(y).max() > 0.1
    np.testing.assert_allclose(y2, y, atol=1e-9)
    # the reader's part of the graph: its input, its neurons and their inputs
    part = readers.memory_reader_graph(to_nir(mem, **readers.snntorch_options(mem)))
    assert sorted(part.nodes) == [
        "input",
        "neurons",
        "neurons.w_input",
        "neurons.w_neurons",
        "spikes",
    ]
    assert isinstance(part.nodes["neurons.w_input"], nir.Affine)


def test_memory_bias_as_input_is_an_approximation():
    mem, u, spikes, _ = memory_run()
    with pytest.raises(ValidationError, match="bias"):
        to_nir(mem, bias="input")
    graph = to_nir(mem, bias="input", approximate=("bias",))
    assert np.all(graph.nodes["neurons"].v_leak == 0)
    assert isinstance(graph.nodes["neurons.w_input"], nir.Affine)
    spikes2, _ = run_graph(graph, u)
    # the bias rises with the synapse: spikes differ at first, then agree often
    assert not np.array_equal(spikes2["neurons"], spikes)
    late = slice(400, None)
    assert np.mean(spikes2["neurons"][late] == spikes[late]) > 0.9


def small_classifier(cls, reset="subtract", seed=1):
    kw = dict(hidden_size=12)
    if cls is L2MU:
        kw.update(memory_size=8, order=3, theta=10, threshold_m=0.05)
    net = cls(5, 4, seed=seed, reset=reset, **kw)
    net.set_weights({k: 3 * v for k, v in net.get_weights().items()})
    with net:
        probes = {k: nengo.Probe(e.neurons, synapse=None) for k, e in net.populations.items()}
    return net, probes


EVENTS = (np.random.RandomState(0).rand(3, 40, 5) < 0.3).astype(float)


@pytest.mark.parametrize("cls", [L2MU, RecurrentLIF])
@pytest.mark.parametrize("delays", ["node", "cycle"])
def test_classifier_round_trip_same_spikes(cls, delays):
    net, probes = small_classifier(cls)
    counts, rec = net.run_sequences(EVENTS, probes=probes)
    assert all(np.sum(v) > 0 for v in rec.values())  # every population spikes
    graph = to_nir(net, approximate=("discrete", "reset"), delays=delays)
    assert ("Delay" in {type(n).__name__ for n in graph.nodes.values()}) == (delays == "node")
    for i, x in enumerate(EVENTS):
        # event inputs are spikes: area spike_area, nengo height area / dt
        spikes, out = run_graph(graph, x * 1.0 / net.dt)
        for name in net.populations:
            np.testing.assert_array_equal(spikes[name] > 0, rec[name][i] > 0)
        np.testing.assert_allclose(out.sum(axis=0) * net.dt, counts[i])


def test_saved_graph_loads_bit_for_bit(tmp_path):
    mem, u, spikes, _ = memory_run(n_neurons=10, steps=200)
    for graph in (
        to_nir(mem),
        to_nir(small_classifier(L2MU)[0], approximate=("discrete", "reset")),
    ):
        path = tmp_path / "g.nir"
        nir.write(path, graph)
        back = nir.read(path)
        # h5py stores the nodes by name (sorted), not in the written order
        assert sorted(back.nodes) == sorted(graph.nodes)
        assert back.metadata == graph.metadata
        assert sorted(back.edges) == sorted(graph.edges)
        for name, node in graph.nodes.items():
            other = back.nodes[name]
            assert type(other) is type(node)
            for key, value in node.to_dict().items():
                if isinstance(value, np.ndarray):
                    got = other.to_dict()[key]
                    assert got.dtype == value.dtype and np.array_equal(got, value), (name, key)
    spikes2, _ = run_graph(nir.read(tmp_path / "g.nir"), (EVENTS[0] / 0.001))
    assert sum(np.sum(v) for v in spikes2.values()) > 0


def test_refusals_name_the_object_and_the_reason():
    with pytest.raises(ValidationError, match="refractory period"):
        to_nir(LegendreMemory(4, 0.1, n_neurons=10, seed=0))  # tau_ref = 1 ms
    with pytest.raises(ValidationError, match="voltage floor"):
        to_nir(LegendreMemory(4, 0.1, n_neurons=10, neuron_type=nengo.LIF(tau_ref=0), seed=0))
    with pytest.raises(ValidationError, match="exact form"):
        to_nir(LegendreMemory(4, 0.1))
    with pytest.raises(ValidationError, match="LIFRate"):
        to_nir(LegendreMemory(4, 0.1, n_neurons=10, neuron_type=nengo.LIFRate(), seed=0))
    net, _ = small_classifier(L2MU)
    with pytest.raises(ValidationError, match="defined per step"):
        to_nir(net, approximate=("reset",))
    with pytest.raises(ValidationError, match="subtracts the threshold"):
        to_nir(net, approximate=("discrete",))
    with pytest.raises(ValidationError, match="streaming network does not map"):
        to_nir(nengo.Network())
    with pytest.raises(ValidationError, match="approximations from"):
        Conventions(approximate=("everything",))
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "if": nir.IF(r=np.ones(2), v_threshold=np.ones(2)),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "if"), ("if", "output")],
    )
    with pytest.raises(ValidationError, match="node 'if' is a IF"):
        from_nir(graph)
    lif = nir.LIF(
        tau=np.array([0.01, 0.02]),
        r=np.ones(2),
        v_leak=np.zeros(2),
        v_threshold=np.ones(2),
    )
    graph.nodes["if"] = lif
    with pytest.raises(ValidationError, match="'if': tau differs"):
        from_nir(graph)


def test_beta_tau_rules():
    for rule in ("euler", "exp"):
        tau = beta_to_tau(0.8, 1e-3, rule)
        assert np.isclose(tau_to_beta(tau, 1e-3, rule), 0.8)
    assert np.isclose(beta_to_tau(0.8, 1e-3), 5e-3)
    assert np.isclose(beta_to_tau(0.8, 1e-3, "exp"), -1e-3 / np.log(0.8))
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValidationError, match="beta"):
            beta_to_tau(bad, 1e-3)


# --- the independent reader: snnTorch's neurons under nirtorch ---------------


def snntorch_reader(graph):
    """`nengo_lmu.nir.readers.snntorch_module`, skipped without the reader."""
    for name in ("torch", "snntorch.import_nir", "nirtorch"):
        pytest.importorskip(name)
    return readers.snntorch_module(graph)


@pytest.mark.parametrize("cls", [L2MU, RecurrentLIF])
def test_snntorch_reads_classifier_with_same_classes(cls):
    net, probes = small_classifier(cls, reset="zero")
    x = (np.random.RandomState(2).rand(8, 40, 5) < 0.3).astype(float)
    counts, _ = net.run_sequences(x, probes=probes)
    graph = to_nir(net, **readers.snntorch_options(net))
    module = snntorch_reader(graph)
    reader = np.array([readers.run_module(module, xi).sum(axis=0) for xi in x])
    assert counts.sum() > 50
    np.testing.assert_array_equal(reader, counts)


def test_snntorch_exported_graph_runs_in_nengo():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    export_nir = pytest.importorskip("snntorch.export_nir")
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(5, 8)
            # reset at once (reset_delay=False): NIR's LIF resets when it fires
            self.lif1 = snn.RLeaky(
                beta=0.8, linear_features=8, reset_mechanism="zero", reset_delay=False
            )
            self.fc2 = torch.nn.Linear(8, 3)
            self.lif2 = snn.Leaky(
                beta=torch.full((3,), 0.7),
                threshold=torch.ones(3),
                reset_mechanism="zero",
                reset_delay=False,
            )

        def forward(self, x):
            spk1, _ = self.lif1(self.fc1(x))
            spk2, _ = self.lif2(self.fc2(spk1))
            return spk2

    model = Net()
    with torch.no_grad():
        model.fc1.weight *= 4
        model.fc2.weight *= 4
    reference = copy.deepcopy(model)  # the exporter's trace leaves state behind
    graph = export_nir.export_to_nir(model, torch.zeros(5))
    assert any(isinstance(n, nir.LIF) for n in graph.nodes.values())
    x = np.random.RandomState(3).rand(60, 5).astype(np.float32)
    want = []
    with torch.no_grad():
        for row in torch.tensor(x):
            want.append(reference(row).numpy().copy())
    want = np.array(want)
    # snnTorch's convention: steps of 1e-4 s, a spike is the number 1
    spikes, out = run_graph(graph, x, dt=SNNTORCH_DT, spike_area=SNNTORCH_DT, neurons="discrete")
    assert want.sum() > 10
    np.testing.assert_array_equal(out > 0, want > 0)


def test_exact_memory_keeps_its_currents_above_the_floor():
    """Why `exact_memory_options` exports a good memory: its neurons' input
    currents stay near or above 0, where nengo's voltage floor would never
    act, while the memory's own tuning without the floor drives them far
    below (and NIR has no floor)."""

    def lowest_current(**options):
        with nengo.Network(seed=0) as net:
            stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=10, rms=0.3, seed=1))
            mem = LegendreMemory(6, 0.1, n_neurons=30, seed=0, **options)
            nengo.Connection(stim, mem.input, synapse=None)
            probes = [nengo.Probe(e.neurons, "input") for e in mem.all_ensembles]
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run(0.5)
        return min(sim.data[p].min() for p in probes)

    assert lowest_current(**exact_memory_options()) > -1.0
    assert lowest_current(neuron_type=EXACT_LIF) < -10.0
    mem = LegendreMemory(6, 0.1, n_neurons=10, dt=1e-4, seed=0, **exact_memory_options())
    assert "nengo_lmu.approximations" not in to_nir(mem).metadata


def test_exact_memory_takes_the_lag_out_of_theta():
    mem = exact_memory(6, 0.1, n_neurons=10, seed=0, synapse=0.05)
    assert np.isclose(mem.theta, 0.1 - EXACT_MEMORY_LAG) and mem.dt == 1e-4
    assert mem.ensembles[0].intercepts == exact_memory_options()["ens_kwargs"]["intercepts"]
    assert np.isclose(exact_memory(6, 0.1, n_neurons=10, lag=0).theta, 0.1)
    for bad in (-0.001, 0.1):
        with pytest.raises(ValidationError, match="lag"):
            exact_memory(6, 0.1, n_neurons=10, lag=bad)


@pytest.mark.slow
def test_snntorch_runs_the_996_lif_memory_like_nengo():
    """The memory NIR describes exactly (`exact_memory`; the bias through
    the synapse for snnTorch) on the delay task, dt 0.1 ms, in nengo and in
    the reader: the delayed signals' NRMSE against the delayed input within
    0.05 of each other (the issue's bound; measured +0.002 to +0.004 over
    4 s, seeds 0-2, in the benchmark), both a good delay (0.040-0.051
    there), and the two signals close (they differ by their spike noise:
    NRMSE 0.049-0.052 there)."""
    from nengo_lmu.metrics import nrmse
    from nengo_lmu.systems import legendre_readout

    dt, duration = 1e-4, 2.0
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(duration, high=10, rms=0.3, seed=0))
        mem = exact_memory(
            6,
            0.1,
            n_neurons=166,
            synapse=0.1,
            process=nengo.processes.WhiteSignal(duration, high=10, rms=0.3, seed=1),
            seed=0,
        )
        nengo.Connection(stim, mem.input, synapse=None)
        p_u, p_m = nengo.Probe(stim), nengo.Probe(mem.output)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(duration)
    u, m_nengo = sim.data[p_u], sim.data[p_m]
    module = snntorch_reader(
        readers.memory_reader_graph(to_nir(mem, **readers.snntorch_options(mem)))
    )
    spikes = readers.run_module(module, u)
    # the readout as the exact graph writes it (snnTorch reads no LI)
    values = {"input": u, "neurons": spikes / SNNTORCH_DT}
    m_reader = readers.apply_readout(to_nir(mem), values, dt)
    r = legendre_readout(6, 1.0)
    start = int(1.0 / dt)
    assert spikes.sum() > 1e5, spikes.sum()
    steps = int(0.1 / dt)
    target = np.concatenate([np.zeros(steps), u[:-steps, 0]])[start:]
    e_nengo = nrmse((m_nengo @ r)[start:], target)
    e_reader = nrmse((m_reader @ r)[start:], target)
    assert abs(e_reader - e_nengo) < 0.05, (e_nengo, e_reader)
    assert max(e_nengo, e_reader) < 0.1, (e_nengo, e_reader)
    error = nrmse((m_reader @ r)[start:], (m_nengo @ r)[start:])
    assert error < 0.08, error
