"""nengo_lmu.loihi: preparation, placement, errors, the run helper and the
resource counts, each checked against nengo or against a direct count."""


import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

nengo_loihi = pytest.importorskip("nengo_loihi")

from nengo_lmu import loihi  # noqa: E402


def two_ensembles(neuron_type=None, synapse=0.01, n=50):
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(lambda t: np.sin(8 * t))
        a = nengo.Ensemble(n, 1, label="a")
        b = nengo.Ensemble(n, 1, label="b", neuron_type=neuron_type or nengo.LIF())
        nengo.Connection(stim, a, synapse=None)
        nengo.Connection(a, b, synapse=synapse)
    return net, a, b


@pytest.mark.parametrize(
    "neuron_type", [nengo.Sigmoid(), nengo.Tanh(), nengo.LIFRate()], ids=lambda n: type(n).__name__
)
def test_unsupported_neuron_type_is_an_error_naming_it(neuron_type):
    net, _, b = two_ensembles(neuron_type)
    with pytest.raises(ValidationError, match=type(neuron_type).__name__) as e:
        loihi.prepare(net, build=False)
    assert e.value.attr == "neuron_type" and e.value.obj is b
    assert "LIF and SpikingRectifiedLinear" in str(e.value)


def test_unsupported_neuron_type_can_go_to_the_host():
    net, a, b = two_ensembles(nengo.LIFRate())
    report = loihi.prepare(net, unsupported="host")
    assert report.on_chip == [a] and report.on_host == [b]
    assert net.config[b].on_chip is False
    text = report.table()
    assert "LIFRate is not a chip neuron type" in text and "host" in text
    # the chip->host connection is listed with its delay
    assert [c.direction for c in report.crossings] == ["host->chip", "chip->host"]
    # and it really builds and runs that way on the emulator
    with net:
        p = nengo.Probe(b, synapse=0.02)
    with nengo.Simulator(net, progress_bar=False) as ref:
        ref.run(0.3)
    with loihi.simulator(net) as sim:
        sim.run(0.3)
    # the host ensemble decodes what nengo decodes (the chip input adds a
    # 5 ms filter and a step of delay)
    assert np.sqrt(np.mean((sim.data[p] - ref.data[p]) ** 2)) < 0.06
    assert np.std(ref.data[p]) > 0.2


def test_non_lowpass_synapse_on_chip_is_an_error():
    net, a, b = two_ensembles(synapse=nengo.Alpha(0.01))
    with pytest.raises(ValidationError, match="Alpha") as e:
        loihi.prepare(net, build=False)
    assert e.value.attr == "synapse" and e.value.obj.post_obj is b


def test_big_ensemble_is_split_or_refused():
    net, a, b = two_ensembles(n=1500)
    report = loihi.prepare(net)
    row = [p for p in report.placements if p.ensemble is b][0]
    assert row.on_chip and row.n_blocks == 2 and row.block_size == 750
    assert net.config[b].block_shape.shape == (750,)
    # the trial build put every block within one core's limits
    assert all(blk["compartments"] <= loihi.MAX_COMPARTMENTS for blk in report.blocks)
    assert sum(blk["compartments"] == 750 for blk in report.blocks) >= 4  # a and b
    net2, a2, _ = two_ensembles(n=1500)
    with pytest.raises(ValidationError, match="1500 neurons exceed the 1024") as e:
        loihi.prepare(net2, max_neurons_per_core=None, build=False)
    assert e.value.obj is a2 and e.value.attr == "n_neurons"
    with pytest.raises(ValidationError, match="at most 1024"):
        loihi.prepare(net2, max_neurons_per_core=2000, build=False)


def test_tau_conflict_and_host_filter_are_reported():
    with nengo.Network(seed=0) as net:
        stim = nengo.Node([0.5])
        a = nengo.Ensemble(20, 1, label="a")
        b = nengo.Ensemble(20, 1, label="b")
        nengo.Connection(stim, a, synapse=loihi.DECODE_TAU)
        nengo.Connection(stim, b, synapse=None)
        nengo.Connection(a, b, synapse=0.05, solver=nengo.solvers.LstsqL2(weights=True))
    report = loihi.prepare(net, build=False)
    assert len(report.warnings) == 1 and "'b'" not in report.warnings[0]
    assert report.warnings[0].startswith("b: inputs with time constants [0.005, 0.05]")
    notes = {c.connection.post_obj.label: c.note for c in report.crossings}
    assert notes["a"] == "Lowpass(0.005) applied on the chip"
    assert notes["b"].startswith("chip adds Lowpass(0.005)")
    assert [p.tau for p in report.placements] == [0.005, 0.05]


def test_nothing_on_chip_is_an_error():
    with nengo.Network() as net:
        nengo.Ensemble(10, 1, neuron_type=nengo.Direct())
    with pytest.raises(ValidationError, match="at least one"):
        loihi.prepare(net, build=False)


def test_bad_arguments():
    net, _, _ = two_ensembles()
    with pytest.raises(ValidationError, match="unsupported"):
        loihi.prepare(net, unsupported="drop")
    with pytest.raises(ValidationError, match="decode_tau"):
        loihi.prepare(net, decode_tau=0)
    with pytest.raises(ValidationError, match="target"):
        loihi.simulator(net, target="gpu")


def test_loihi_target_without_nxsdk_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(loihi, "nxsdk_available", lambda: False)
    net, _, _ = two_ensembles()
    with pytest.raises(ValidationError, match="NxSDK, which is not installed"):
        loihi.simulator(net, target="loihi")


def test_host_filter_is_applied_once_and_restored(allclose):
    # stim -> a with Lowpass(decode_tau): on the emulator the filter is the
    # chip's, so the decoded value follows nengo's (one filter, not two)
    with nengo.Network(seed=1) as net:
        stim = nengo.Node(lambda t: 1.0 if t > 0.05 else 0.0)
        a = nengo.Ensemble(200, 1, max_rates=nengo.dists.Uniform(100, 200))
        c = nengo.Connection(stim, a, synapse=0.02)
        p = nengo.Probe(a, synapse=0.005)
    with nengo.Simulator(net, progress_bar=False) as ref:
        ref.run(0.15)
    with loihi.simulator(net, target="simreal", decode_tau=0.02) as emu:
        emu.run(0.15)
    assert c.synapse == nengo.Lowpass(0.02)  # restored after the build
    t = ref.trange()
    # 63% of the step is reached one filter time constant after it
    rise_ref = t[np.argmax(ref.data[p][:, 0] > 0.63)] - 0.05
    rise_emu = t[np.argmax(emu.data[p][:, 0] > 0.63)] - 0.05
    assert abs(rise_emu - rise_ref) < 0.008, (rise_ref, rise_emu)


def test_resource_counts_match_a_direct_count():
    # a -> b.neurons with a full matrix: each spike of `a` reaches all of b
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(0.5)
        a = nengo.Ensemble(30, 1, max_rates=nengo.dists.Uniform(100, 200), label="a")
        b = nengo.Ensemble(20, 1, label="b")
        nengo.Connection(stim, a, synapse=None)
        nengo.Connection(a.neurons, b.neurons, transform=np.full((20, 30), 1e-3))
        pa = nengo.Probe(a.neurons)
        pb = nengo.Probe(b.neurons)
    loihi.prepare(net, build=False)
    with loihi.simulator(net) as sim:
        sim.run_steps(200)
        res = loihi.resource_counts(sim, n_inferences=2)
    spikes_a = int(round(sim.data[pa].sum() * sim.dt))
    spikes_b = int(round(sim.data[pb].sum() * sim.dt))
    assert spikes_a > 100
    assert res["steps"] == 200
    # spikes of the chip's compartments: a and b (the input is on the host)
    assert res["spikes"] == spikes_a + spikes_b
    # every spike of `a` reaches the 20 neurons of b; b reaches nothing on
    # the chip; host input spikes reach a's 30 neurons (on/off pairs)
    assert res["input_spikes"] > 50
    assert res["input_synaptic_ops"] == res["input_spikes"] * 30
    assert res["synaptic_ops"] == spikes_a * 20 + res["input_synaptic_ops"]
    assert res["spikes_per_inference"] == res["spikes"] / 2
    assert 0 < res["activation_sparsity"] < 1
    assert res["weights"] >= 600 and res["cores"] >= 2
    assert res["compartments"] >= 50
    with pytest.raises(ValidationError, match="n_inferences"):
        loihi.resource_counts(sim, n_inferences=0)


def test_loihi_memory_checks_its_arguments():
    with pytest.raises(ValidationError, match="n_neurons"):
        loihi.LoihiLegendreMemory(4, 0.1, n_neurons=None, add_to_container=False)
    with pytest.raises(ValidationError, match="LIF or SpikingRectifiedLinear"):
        loihi.LoihiLegendreMemory(
            4, 0.1, n_neurons=10, neuron_type=nengo.LIFRate(), add_to_container=False
        )
    with pytest.raises(ValidationError, match="Lowpass"):
        loihi.LoihiLegendreMemory(
            4, 0.1, n_neurons=10, synapse=nengo.Alpha(0.1), add_to_container=False
        )
    with pytest.raises(ValidationError, match="input_neurons"):
        loihi.LoihiLegendreMemory(4, 0.1, n_neurons=10, input_neurons=0,
                                  add_to_container=False)
    sys_net = loihi.LoihiLinearSystemNetwork(
        __import__("nengo_lmu").legendre_system(2, 0.1), n_neurons=10,
        input_neurons=7, add_to_container=False,
    )
    assert sys_net.input_ensemble.n_neurons == 7
    assert len(sys_net.ensembles) == 3


def test_loihi_memory_prepares_with_every_ensemble_on_chip():
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1, high=10, rms=0.3))
        mem = loihi.LoihiLegendreMemory(6, 0.1, n_neurons=50, seed=0)
        nengo.Connection(stim, mem.input, synapse=None)
    report = loihi.prepare(net)
    assert set(report.on_chip) == set(mem.ensembles) and len(report.on_chip) == 7
    assert not report.warnings  # one time constant per block
    # no decode neurons: one block per ensemble, plus one non-spiking
    # readout block per population (their decoded value goes to the host)
    labels = [blk["label"] for blk in report.blocks]
    assert sum(label.startswith("<Ensemble") for label in labels) == 7
    assert len(labels) == 13 and all("to <Node" in lb for lb in labels[7:])
    text = str(report)
    assert "input ensemble" in text and "Lowpass(0.005) applied on the chip" in text


def test_plain_neural_form_is_refused_by_name():
    # the plain neural form's decoded recurrent connections go through decode
    # neurons whose weights do not fit the chip's weight exponents
    from nengo.exceptions import BuildError

    from nengo_lmu.networks import LegendreMemory

    with nengo.Network(seed=0) as net:
        stim = nengo.Node(0.1)
        mem = LegendreMemory(6, 0.1, n_neurons=100, neuron_type=nengo.SpikingRectifiedLinear())
        nengo.Connection(stim, mem.input, synapse=None)
    with pytest.raises(BuildError, match="nengo-loihi cannot build.*ensemble.*weight exponent"):
        loihi.prepare(net)


def test_spiking_classifier_arguments(tmp_path):
    from nengo_lmu.networks import LMUClassifier

    cell = dict(units=6, order=4, theta=16.0, hidden_neuron_type=nengo.RectifiedLinear())
    ff = tmp_path / "ff.npz"
    rec = tmp_path / "rec.npz"
    LMUClassifier(3, [dict(cell, hidden_to_hidden=False)], seed=0).save(ff)
    LMUClassifier(3, [cell], seed=0).save(rec)
    clf = loihi.spiking_classifier(ff, gain=50, steps_per_sample=3)
    c = clf.cells[0]
    assert c.memory.theta == 48.0 and clf.steps_per_sample == 3
    assert c.hidden_neuron_type.amplitude == pytest.approx(1 / 50) and c.hidden_gain == 50
    assert c.weights["W_m"].synapse == nengo.Lowpass(loihi.DECODE_TAU)
    clf = loihi.spiking_classifier(ff, input_synapse=None)
    assert clf.cells[0].weights["W_x"].synapse is None
    # a recurrent hidden layer cannot be slowed down, but runs at one step
    with pytest.raises(ValidationError, match="hidden_to_hidden=True"):
        loihi.spiking_classifier(rec, steps_per_sample=2)
    assert loihi.spiking_classifier(rec, steps_per_sample=1).steps_per_sample == 1
    with pytest.raises(ValidationError, match="gain"):
        loihi.spiking_classifier(ff, gain=0)
    with pytest.raises(ValidationError, match="target"):
        loihi.predict_spiking(clf, np.zeros((1, 5, 1)), target="loihi")


def test_predict_spiking_holds_each_sample(tmp_path):
    # with the rate network (no spikes), holding each sample for k steps and
    # scaling theta by k gives the same readout at the end of the sequence as
    # one step per sample (the memory is exact at the end of each sample and
    # the hidden layer has no recurrence); the logits average the last
    # sample's k steps, during which the memory moves, so they differ a little
    from nengo_lmu.networks import LMUClassifier

    rng = np.random.RandomState(0)
    path = tmp_path / "ff.npz"
    LMUClassifier(3, [dict(units=6, order=4, theta=16.0, hidden_to_hidden=False,
                           hidden_neuron_type=nengo.RectifiedLinear())], seed=0).save(path)
    x = rng.rand(2, 20, 1)
    ref = LMUClassifier.load(path).predict(x)
    clf = loihi.spiking_classifier(path, steps_per_sample=4, input_synapse=None)
    for cell in clf.cells:  # back to rate neurons for an exact comparison
        cell.hidden.neuron_type = nengo.RectifiedLinear()
        cell.hidden.gain = nengo.dists.Choice([1.0])
    logits, info = loihi.predict_spiking(clf, x, target="nengo")
    assert info["steps"] == 2 * 80
    assert np.allclose(logits, ref, atol=0.01) and not np.allclose(logits, ref, atol=1e-6)
    with nengo.Simulator(clf, progress_bar=False) as sim:
        clf._sequence.data = np.repeat(x[1], 4, axis=0)
        clf._sequence.dt = sim.dt
        sim.run_steps(80)
    assert np.allclose(sim.data[clf.probe][-1], ref[1], atol=1e-10)
