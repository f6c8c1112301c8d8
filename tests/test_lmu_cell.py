import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import legendre_system
from nengo_lmu.networks import LMUCell, LMUClassifier, stack_cells
from nengo_lmu.networks.weights import initial_weights


def reference_cell(cell, x):
    """The LMU equations stepped in numpy with the cell's weights."""
    W = {k: np.asarray(c.transform.init) for k, c in cell.weights.items()}
    d = cell.memory.discrete_system
    units = cell.units
    m = np.zeros(d.n_states)
    h = np.zeros(units)
    f = cell.hidden_neuron_type
    hs = []
    for t in range(len(x)):
        u = W["e_x"] @ x[t]
        if "e_h" in W:
            u = u + W["e_h"] @ h
        if "e_m" in W:
            u = u + W["e_m"] @ m
        m = d.A @ m + d.B @ u
        J = W["W_m"] @ m
        if "W_x" in W:
            J = J + W["W_x"] @ x[t]
        if "W_h" in W:
            J = J + W["W_h"] @ h
        h = f.rates(J[None, :], np.full(units, cell.hidden_gain), np.zeros(units))[0]
        hs.append(h)
    return np.array(hs)


def run_cell(make, x, simulator=nengo.Simulator):
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, presentation_time=0.001))
        cell = make()
        nengo.Connection(stim, cell.input, synapse=None)
        p = nengo.Probe(cell.output, synapse=None)
    with simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(x))
    return sim.data[p], cell


@pytest.mark.parametrize(
    "flags",
    [
        dict(),
        dict(hidden_to_memory=True, memory_to_memory=True),
        dict(input_to_hidden=False, hidden_to_hidden=False),
        dict(memory_d=2, input_d=3, hidden_to_memory=True),
        dict(discretizer="euler"),
    ],
)
def test_cell_matches_the_equations(flags, rng, allclose):
    args = dict(units=7, order=5, theta=12.0, seed=1)
    args.update(flags)
    # e_m starts at zero; give it values so the test can see it
    x = rng.uniform(-1, 1, size=(40, args.get("input_d", 1)))

    def make():
        cell = LMUCell(**args)
        if "e_m" in cell.weights:
            c = cell.weights["e_m"]
            c.transform = nengo.Dense(
                c.transform.init.shape, init=rng.randn(*c.transform.init.shape) * 0.3
            )
        return cell

    h, cell = run_cell(make, x)
    assert allclose(h, reference_cell(cell, x), atol=1e-10)
    assert set(cell.weights) == {"e_x", "W_m"} | {
        name
        for name, on in [
            ("e_h", cell.hidden_to_memory),
            ("e_m", cell.memory_to_memory),
            ("W_x", cell.input_to_hidden),
            ("W_h", cell.hidden_to_hidden),
        ]
        if on
    }


def test_cell_memory_is_the_legendre_system():
    cell = LMUCell(4, order=6, theta=20.0, memory_d=2, add_to_container=False)
    one = legendre_system(6, 20.0).discretize(1.0)
    assert np.allclose(cell.memory.discrete_system.A[:6, :6], one.A)
    assert np.allclose(cell.memory.discrete_system.B[:6, :1], one.B)
    assert cell.memory.size_in == 2


@pytest.mark.parametrize(
    "neuron_type", [nengo.RectifiedLinear(), nengo.LIFRate(), nengo.Sigmoid(tau_ref=1)]
)
def test_cell_hidden_neuron_types(neuron_type, rng, allclose):
    x = rng.uniform(-1, 1, size=(30, 1))
    h, cell = run_cell(
        lambda: LMUCell(5, 4, 10.0, hidden_neuron_type=neuron_type, hidden_gain=2.0, seed=3), x
    )
    assert allclose(h, reference_cell(cell, x), atol=1e-10)
    assert np.all(cell.hidden.gain.sample(5) == 2.0)


def test_cell_default_is_tanh(rng, allclose):
    x = rng.uniform(-1, 1, size=(20, 1))
    h, cell = run_cell(lambda: LMUCell(5, 4, 10.0, seed=3), x)
    assert np.all(np.abs(h) <= 1) and np.max(np.abs(h)) > 0.05
    assert allclose(h, reference_cell(cell, x), atol=1e-10)


def test_trainable_flags():
    with nengo.Network():
        fixed = LMUCell(3, 4, 10.0)
        free = LMUCell(3, 4, 10.0, trainable_memory=True)
    for cell, expect in ((fixed, False), (free, True)):
        mem = cell.memory
        flags = {(c.pre, c.post): cell.config[c].trainable for c in mem.all_connections}
        assert flags[(mem.state, mem.state)] is expect
        assert flags[(mem.input, mem.state)] is expect
        assert len(flags) == 2  # no copies: u is the input, m the state
        assert cell.config[cell.hidden].trainable is False
    assert free.n_parameters == fixed.n_parameters + 4 * 4 + 4


def test_initializers(rng):
    w = initial_weights("glorot_uniform", (30, 20), rng)
    assert np.max(np.abs(w)) <= np.sqrt(6 / 50) and np.std(w) > 0.1
    w = initial_weights("lecun_uniform", (30, 20), rng)
    assert np.max(np.abs(w)) <= np.sqrt(3 / 20)
    assert np.array_equal(initial_weights("zeros", (2, 3), rng), np.zeros((2, 3)))
    assert np.array_equal(initial_weights("ones", (2, 3), rng), np.ones((2, 3)))
    w = initial_weights(nengo.dists.Choice([0.5]), (2, 3), rng)
    assert np.array_equal(w, np.full((2, 3), 0.5))
    given = rng.randn(2, 3)
    assert np.array_equal(initial_weights(given, (2, 3), rng), given)
    with pytest.raises(ValidationError, match="one of"):
        initial_weights("he_normal", (2, 3), rng)
    with pytest.raises(ValidationError, match="shape \\(2, 3\\)"):
        initial_weights(np.ones((3, 2)), (2, 3), rng)
    with pytest.raises(ValidationError, match="finite"):
        initial_weights(np.full((2, 3), np.nan), (2, 3), rng)


def test_cell_initializer_arguments():
    cell = LMUCell(
        3,
        4,
        10.0,
        kernel_initializer="ones",
        recurrent_initializer="zeros",
        encoder_initializer=nengo.dists.Choice([2.0]),
        hidden_to_memory=True,
        add_to_container=False,
    )
    w = {k: c.transform.init for k, c in cell.weights.items()}
    assert np.all(w["W_x"] == 1) and np.all(w["W_m"] == 1)
    assert np.all(w["W_h"] == 0)
    assert np.all(w["e_x"] == 2) and np.all(w["e_h"] == 2)


def test_cell_seed():
    a = LMUCell(4, 4, 10.0, seed=2, add_to_container=False)
    b = LMUCell(4, 4, 10.0, seed=2, add_to_container=False)
    c = LMUCell(4, 4, 10.0, seed=3, add_to_container=False)
    assert np.array_equal(a.weights["W_m"].transform.init, b.weights["W_m"].transform.init)
    assert not np.array_equal(a.weights["W_m"].transform.init, c.weights["W_m"].transform.init)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units: must be an integer >= 1"),
        (dict(order=0), "order: must be an integer >= 1"),
        (dict(theta=1.0), "theta: must be > 1 step"),
        (dict(input_d=0), "input_d: must be an integer >= 1"),
        (dict(memory_d=1.5), "memory_d: must be an integer >= 1"),
        (dict(hidden_gain=0), "hidden_gain: must be a positive"),
        (dict(hidden_to_memory="yes"), "hidden_to_memory: must be True or False"),
        (dict(hidden_neuron_type="tanh"), "hidden_neuron_type: must be a nengo NeuronType"),
        (dict(discretizer="bilinear"), "discretizer: must be one of"),
        (dict(kernel_initializer="he"), "kernel_initializer: must be one of"),
    ],
)
def test_cell_validation(kwargs, match):
    args = dict(units=4, order=4, theta=10.0)
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        LMUCell(**args, add_to_container=False)


def test_stack_cells(rng, allclose):
    x = rng.uniform(-1, 1, size=(25, 2))
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, 0.001))
        a = LMUCell(6, 4, 10.0, input_d=2, seed=1)
        b = LMUCell(3, 5, 8.0, input_d=6, seed=2)
        first, last = stack_cells([a, b])
        nengo.Connection(stim, first, synapse=None)
        p = nengo.Probe(last, synapse=None)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(x))
    expect = reference_cell(b, reference_cell(a, x))
    assert allclose(sim.data[p], expect, atol=1e-10)
    with pytest.raises(ValidationError, match="cell 1 has input_d=2 but cell 0 has units=6"):
        with nengo.Network():
            stack_cells([LMUCell(6, 4, 10.0), LMUCell(3, 4, 10.0, input_d=2)])
    with pytest.raises(ValidationError, match="at least one"):
        stack_cells([])


def make_classifier(**kw):
    args = dict(
        n_classes=3, cells=[dict(units=5, order=4, theta=8.0, hidden_to_memory=True)], seed=4
    )
    args.update(kw)
    return LMUClassifier(**args)


def test_classifier_predict_matches_equations(rng, allclose):
    clf = make_classifier(
        cells=[dict(units=5, order=4, theta=8.0, input_d=2), dict(units=4, order=3, theta=6.0)]
    )
    x = rng.uniform(-1, 1, size=(3, 12, 2))
    logits = clf.predict(x)
    W = clf.get_weights()["readout"]
    for i in range(3):
        h = reference_cell(clf.cells[1], reference_cell(clf.cells[0], x[i]))
        assert allclose(logits[i], W @ h[-1], atol=1e-10)


def test_classifier_save_load_bit_for_bit(tmp_path, rng):
    clf = make_classifier(
        cells=[
            dict(
                units=5,
                order=4,
                theta=8.0,
                trainable_memory=True,
                hidden_neuron_type=nengo.LIFRate(tau_rc=0.03),
            )
        ]
    )
    trained = {
        k: (v + rng.randn(*v.shape)).astype(np.float32) for k, v in clf.get_weights().items()
    }
    assert "cell0.Ad" in trained and "cell0.Bd" in trained
    path = tmp_path / "clf.npz"
    clf.save(path, trained)
    loaded = LMUClassifier.load(path)
    got = loaded.get_weights()
    with np.load(path) as f:
        for k in trained:
            # the file keeps the arrays as given, dtype included ...
            assert f[f"w:{k}"].dtype == trained[k].dtype
            assert np.array_equal(f[f"w:{k}"], trained[k])
            # ... and the network holds the same values (nengo widens float32
            # to float64, which is exact)
            assert np.array_equal(got[k], trained[k])
    assert loaded.config_dict() == clf.config_dict()
    assert loaded.cells[0].hidden_neuron_type.tau_rc == 0.03
    x = rng.uniform(-1, 1, size=(2, 10, 1))
    clf.set_weights(trained)
    assert np.array_equal(loaded.predict(x), clf.predict(x))
    spiking = LMUClassifier.load(
        path, overrides=dict(hidden_neuron_type=nengo.SpikingRectifiedLinear())
    )
    assert isinstance(spiking.cells[0].hidden_neuron_type, nengo.SpikingRectifiedLinear)


def test_classifier_checks(tmp_path, rng):
    clf = make_classifier()
    w = clf.get_weights()
    with pytest.raises(ValidationError, match="NaN or inf"):
        clf.save(tmp_path / "x.npz", {**w, "readout": np.full_like(w["readout"], np.nan)})
    with pytest.raises(ValidationError, match="exactly the keys"):
        clf.save(tmp_path / "x.npz", {"readout": w["readout"]})
    with pytest.raises(ValidationError, match="unknown weights"):
        clf.set_weights({"nope": 1})
    with pytest.raises(ValidationError, match="must have shape \\(3, 5\\)"):
        clf.set_weights({"readout": np.ones((5, 3))})
    with pytest.raises(ValidationError, match="n_classes: must be an integer >= 2"):
        make_classifier(n_classes=1)
    with pytest.raises(ValidationError, match="cells: must be a non-empty list"):
        make_classifier(cells=[])
    with pytest.raises(ValidationError, match="x: must be finite"):
        clf.predict(np.full((1, 5, 1), np.nan))
    with pytest.raises(ValidationError, match="x: must have 1 input"):
        clf.predict(np.zeros((1, 5, 2)))
    np.savez(tmp_path / "bad.npz", __config__=np.array('{"format_version": 99}'))
    with pytest.raises(ValidationError, match="unsupported format version 99"):
        LMUClassifier.load(tmp_path / "bad.npz")
