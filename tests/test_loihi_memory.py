"""The Loihi-ready memory (`LoihiLegendreMemory`): its timing on the
emulator against nengo, its bad-input errors and warnings, and the delay
task's bar (slow)."""

import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

nengo_loihi = pytest.importorskip("nengo_loihi")

from nengo_lmu import loihi  # noqa: E402
from nengo_lmu.loihi.hardware import MAX_CHIP_COMPARTMENTS  # noqa: E402


def small_memory(**kwargs):
    args = dict(n_neurons=20, seed=0)
    args.update(kwargs)
    with nengo.Network(seed=0) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1, high=10, rms=0.3, seed=0))
        mem = loihi.LoihiLegendreMemory(6, 0.1, **args)
        nengo.Connection(stim, mem.input, synapse=None)
    return net, stim, mem


def test_relay_repeats_the_encoder_one_step_later_on_nengo_and_the_emulator():
    # the readout relies on the relay's spikes being the encoder's, one step
    # late, on both simulators (a lost or doubled spike would bias it)
    net, stim, mem = small_memory(input_pairs=2)
    with net:
        p_enc = nengo.Probe(mem.encoder.neurons)
        p_rel = nengo.Probe(mem.relay.neurons)
    counts = {}
    for target in ("nengo", "sim"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = (
                nengo.Simulator(net, progress_bar=False)
                if target == "nengo"
                else loihi.simulator(net, target=target)
            )
        with sim:
            sim.run(0.3)
        enc = sim.data[p_enc] > 0
        rel = sim.data[p_rel] > 0
        counts[target] = int(enc.sum())
        assert enc.sum() > 50
        # as recorded by the probes, both simulators relay each spike one
        # step later, and none is lost or doubled
        assert np.array_equal(rel[1:], enc[:-1])
    # the host encoder is the same on both (it runs on the host: a bug had
    # placed it on the chip, as nengo-loihi read only the top-level config)
    assert counts["nengo"] == counts["sim"]


def test_delay_readout_on_the_emulator_follows_nengo():
    # same memory, 0.6 s: the emulator's delay output, with its latency
    # taken off, follows nengo's (no alignment; on so short a run the gap is
    # larger than on the task's 10 s; 60 neurons, seed 1: 0.49 on nengo and
    # 0.50 on the emulator, tuned on this run's 0.6 s sample; 0.39 with the
    # earlier evaluation-point stretch of 1.5, which suits so short a sample)
    from nengo_lmu.apps.tasks import run_delay_task

    kwargs = dict(
        order=4, n_neurons=60, duration=0.6, discard=0.2, seed=1, memory=loihi.LoihiLegendreMemory
    )
    ref = run_delay_task(latency_steps=0, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        emu = run_delay_task(simulator=loihi.simulator_factory("sim"), **kwargs)
    assert abs(ref.best_lag_steps - emu.best_lag_steps) <= 2
    assert abs(emu.nrmse - ref.nrmse) < 0.08, (ref.nrmse, emu.nrmse)
    assert emu.nrmse < 0.55


def test_memory_whose_weights_lose_precision_warns_naming_the_block():
    # with tau = theta the mapped A'_00 = tau A_00 + 1 is about 0: the
    # weights that carry it round to zero on 8 bits (in the population and
    # in its readout); the default tau keeps them
    net, _, mem = small_memory(synapse=0.1)
    with pytest.warns(
        loihi.LoihiPrecisionWarning, match=r"ensemble\[0\].*round to zero.*limits 3%"
    ):
        report = loihi.prepare(net, max_weights_lost=0.03)
    lossy = [b for b in report.blocks if b["weights_lost"] > 0.03]
    assert lossy and all("ensemble[0]" in b["label"] for b in lossy)
    assert len(report.warnings) == len(lossy)
    net, _, mem = small_memory()
    with warnings.catch_warnings():
        warnings.simplefilter("error", loihi.LoihiPrecisionWarning)
        report = loihi.prepare(net, max_weights_lost=0.03)
    assert max(b["weights_lost"] for b in report.blocks) < 0.03


def test_more_compartments_than_a_chip_is_an_error():
    with nengo.Network() as net:
        nengo.Ensemble(MAX_CHIP_COMPARTMENTS // 2 + 1, 1, label="big a")
        nengo.Ensemble(MAX_CHIP_COMPARTMENTS // 2, 1, label="big b")
    with pytest.raises(ValidationError, match=r"131073 compartments.*128 cores.*big a"):
        loihi.prepare(net, build=False)


@pytest.mark.slow
def test_delay_task_on_the_emulator_follows_nengo():
    # the task (theta 0.1 s, order 6, 10 Hz, rms 0.3, 10 s) and bar:
    # NRMSE <= 0.10 on the emulator, within 0.03 of nengo. Measured
    # 2026-12-01, seeds 0-3: nengo 0.118/0.093/0.093/0.088, emulator
    # 0.094/0.096/0.095/0.096 (the old form: 0.24; notes/chip.md). Seed 1
    # was the hardest before the evaluation points' stretch went to 1.25.
    from nengo_lmu.apps.experiments.loihi import delay_comparison

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = delay_comparison(targets=("sim",), duration=10.0, seed=1)
    ref, emu = out.results["nengo"], out.results["sim"]
    assert emu.nrmse <= 0.10, emu.nrmse
    assert abs(emu.nrmse - ref.nrmse) <= 0.03, (ref.nrmse, emu.nrmse)
    res = out.resources["sim"]
    assert res["cores"] == 25 and res["compartments"] == 1304


def population_intercepts(pop):
    # where a LIF neuron's input current gain * x + bias reaches threshold 1
    return (1 - pop.bias) / pop.gain


def test_without_host_readout_nothing_leaves_the_chip_and_the_chip_is_the_same():
    # host_readout=False skips the relay and the state readout; the
    # populations and their chip connections are the same as with it
    nets = {flag: small_memory(host_readout=flag) for flag in (True, False)}
    full, bare = nets[True][2], nets[False][2]
    assert bare.relay is None and full.relay is not None
    pops = set(bare.populations)
    into_state = [c for c in bare.all_connections if c.post_obj is bare.state]
    assert into_state == []
    # every connection that leaves a population stays on the populations
    leaving = [c for c in bare.all_connections if c.pre_obj in pops]
    assert leaving and all(c.post_obj in pops for c in leaving)
    assert len(full.all_connections) - len(bare.all_connections) == 6 + 2
    assert bare.relay not in bare.loihi_design and len(bare.loihi_design) == 6

    def chip_weights(mem):
        return [
            np.asarray(c.transform.init)
            for c in mem.all_connections
            if c.post_obj in set(mem.populations)
            or getattr(c.post_obj, "ensemble", None) in set(mem.populations)
        ]

    for w_full, w_bare in zip(chip_weights(full), chip_weights(bare), strict=True):
        assert np.array_equal(w_full, w_bare)
    for p_full, p_bare in zip(full.populations, bare.populations, strict=True):
        assert np.array_equal(p_full.gain, p_bare.gain)
        assert np.array_equal(p_full.encoders, p_bare.encoders)
    # there is no delay to decode without the state readout
    with pytest.raises(ValidationError, match="host_readout=False"):
        bare.add_delay_output(1.0)


@pytest.mark.parametrize("bad", [0, 1, "no", None])
def test_bad_host_readout_is_an_error_naming_it(bad):
    with pytest.raises(ValidationError, match="host_readout"):
        small_memory(host_readout=bad)


@pytest.mark.parametrize("intercept", [0.0, 0.3, 0.5])
def test_intercept_sets_the_populations_intercepts(intercept):
    mem = loihi.LoihiLegendreMemory(
        6, 0.1, n_neurons=200, intercept=intercept, seed=0, add_to_container=False
    )
    x = np.concatenate([population_intercepts(pop) for pop in mem.populations])
    # uniform in [-intercept, intercept]: inside it, and reaching both ends
    assert np.all(np.abs(x) <= intercept + 1e-9)
    if intercept:
        assert x.min() < -0.95 * intercept and x.max() > 0.95 * intercept
        assert abs(np.mean(x)) < 0.1 * intercept
    # the rates at the radius are the default's
    lo, hi = mem.max_rates
    rates = np.concatenate(
        [
            pop.neuron_type.rates(np.ones(pop.n_neurons), pop.gain, pop.bias)
            for pop in mem.populations
        ]
    )
    assert np.all((rates > lo - 1e-6) & (rates < hi + 1e-6))


@pytest.mark.parametrize("bad", [1.0, -0.1, 2, "wide", None])
def test_bad_intercept_is_an_error_naming_it(bad):
    with pytest.raises(ValidationError, match=r"intercept.*\[0, 1\)"):
        loihi.LoihiLegendreMemory(6, 0.1, n_neurons=10, intercept=bad, add_to_container=False)


def test_noise_gains_are_the_h2_norms_of_the_noise_paths():
    # reference: the stationary output variance for unit white noise in one
    # population's dimensions, from the discrete Lyapunov equation
    from scipy.linalg import solve_discrete_lyapunov

    from nengo_lmu.loihi.layout import noise_gains

    mem = loihi.LoihiLegendreMemory(6, 0.1, n_neurons=10, seed=0, add_to_container=False)
    Ap = mem.mapped_system.A
    a = float(np.exp(-mem.dt / mem.synapse.tau))
    readout = mem._noise_readout() @ mem.T
    slices = [slice(0, 2), slice(2, 3), slice(3, 6)]
    g = noise_gains(Ap, a, readout, slices)
    Ad = a * np.eye(6) + (1 - a) * Ap
    for sl, gj in zip(slices, g):
        B = (1 - a) * Ap[:, sl]
        P = solve_discrete_lyapunov(Ad, B @ B.T)
        assert np.isclose(gj**2, (readout @ P @ readout.T).item(), rtol=1e-6)


def test_gain_allocation_keeps_the_total_and_follows_the_gains():
    from nengo_lmu.loihi.layout import LOIHI_MIN_SHARE, allocate_neurons

    with pytest.raises(ValidationError, match="allocation"):
        loihi.LoihiLegendreMemory(6, 0.1, n_neurons=10, allocation="x", add_to_container=False)
    uniform = loihi.LoihiLegendreMemory(6, 0.1, n_neurons=100, seed=0, add_to_container=False)
    assert uniform.population_sizes == [100] * 6
    mem = loihi.LoihiLegendreMemory(
        6, 0.1, n_neurons=100, allocation="gain", seed=0, add_to_container=False
    )
    sizes = np.array([pop.n_neurons for pop in mem.populations])
    assert sizes.tolist() == mem.population_sizes and sizes.sum() == 600
    assert sizes.min() >= LOIHI_MIN_SHARE * 100
    # above the floor, neurons per unit of gain are the same
    free = sizes > np.ceil(LOIHI_MIN_SHARE * 100)
    ratio = sizes[free] / mem.noise_gains[free]
    assert np.ptp(ratio) <= 1.5 / mem.noise_gains[free].min()
    # the optimum of sum g^2 / n at a fixed total, against a brute-force search
    g = np.array([3.0, 1.0])
    best = min(range(1, 200), key=lambda n0: g[0] ** 2 / n0 + g[1] ** 2 / (200 - n0))
    assert allocate_neurons(g, 100, min_share=0.01) == [best, 200 - best]
    assert allocate_neurons([5.0, 0.0, 0.0], 40) == [100, 10, 10]
