"""`simulator`: a ``nengo_loihi.Simulator`` with nengo_lmu's workarounds."""

import importlib.util

from nengo.exceptions import ValidationError

from nengo_lmu.loihi._compat import (
    BUILD_KWARGS,
    count_input_spikes,
    ensure_params,
    expected_warnings,
    host_filters_on_chip,
    nengo_loihi_module,
    new_model,
)
from nengo_lmu.loihi.hardware import DECODE_TAU, EMULATOR_TARGETS, TARGETS
from nengo_lmu.loihi.resources import resource_counts
from nengo_lmu.networks.sequence_runner import nengo_simulator, run_sequences
from nengo_lmu.validation import check_choice, check_positive


def nxsdk_available():
    """Whether Intel's NxSDK (needed for ``target="loihi"``) is importable."""
    return importlib.util.find_spec("nxsdk") is not None


def simulator(network, target="sim", dt=0.001, decode_tau=DECODE_TAU, progress=None, **kwargs):
    """A ``nengo_loihi.Simulator`` for a prepared network.

    Differences from calling ``nengo_loihi.Simulator`` directly (each one a
    workaround in ``nengo_lmu.loihi._compat``):

    - passthrough nodes are kept (``remove_passthrough=False``): nengo-loihi
      1.1 otherwise loses a probed node that only relays an ensemble's
      decoded output (the delay readout of a neural memory read 0);
    - a host-to-chip connection whose synapse is ``Lowpass(decode_tau)``
      gets that filter once, on the chip, instead of twice;
    - on the emulator, the host's spikes into the chip are counted for
      `resource_counts`;
    - ``target="loihi"`` without NxSDK fails with a clear message;
    - nengo-loihi's "Lost N extra bits in weight rounding" warnings
      (`nengo_lmu.loihi._compat.EXPECTED_WARNINGS`) are not shown during the
      build: `prepare` measures each block's weights on 8 bits and warns
      (`LoihiPrecisionWarning`) where a block loses more than its limits;
    - with ``progress``, a run shows its progress (nengo-loihi has no
      progress bar: `show_progress`).

    Parameters
    ----------
    network : nengo.Network
    target : "sim", "simreal" or "loihi"
        ``"sim"``: the emulator with discretised (integer) state and
        weights; ``"simreal"``: the emulator in floating point (no
        discretisation); ``"loihi"``: the chip (NxSDK required).
    dt : float
    decode_tau : float
        nengo-loihi's chip-side filter of host inputs and decode neurons.
    progress : callable, optional
        Wraps the loop over a run's simulated seconds (e.g. ``tqdm.tqdm``):
        a progress bar (`show_progress`).
    **kwargs
        Passed to ``nengo_loihi.Simulator`` (``seed``, ``precompute``, ...);
        ``progress_bar`` is ignored (nengo-loihi has none; see ``progress``).
    """
    nengo_loihi = nengo_loihi_module()

    check_choice("target", target, TARGETS)
    decode_tau = check_positive("decode_tau", decode_tau)
    if target == "loihi" and not nxsdk_available():
        raise ValidationError(
            "needs Intel's NxSDK, which is not installed (it is not on the "
            "package index; the emulator runs with target='sim' or 'simreal')",
            attr="target",
        )
    kwargs.pop("progress_bar", None)  # nengo-loihi has none
    ensure_params(network)
    model = new_model(dt, decode_tau)
    for key, value in BUILD_KWARGS.items():
        kwargs.setdefault(key, value)
    with host_filters_on_chip(network, decode_tau), expected_warnings():
        sim = nengo_loihi.Simulator(network, dt=dt, target=target, model=model, **kwargs)
    if target != "loihi":
        count_input_spikes(sim)
    if progress is not None:
        show_progress(sim, progress)
    return sim


def show_progress(sim, progress):
    """Make ``sim.run_steps`` (and so ``sim.run``) advance one simulated
    second at a time in a loop wrapped by ``progress`` (e.g. ``tqdm.tqdm``),
    so that a long emulator run shows its progress. The steps run are the
    same (nengo-loihi's runs continue from where the last stopped)."""
    run_steps = sim.run_steps
    per_second = max(1, int(round(1.0 / sim.dt)))

    def run_steps_with_progress(steps):
        chunks = [min(per_second, steps - i) for i in range(0, steps, per_second)]
        for chunk in progress(chunks):
            run_steps(chunk)

    sim.run_steps = run_steps_with_progress


def simulator_factory(target="sim", decode_tau=DECODE_TAU, **kwargs):
    """`simulator` as a class-like callable ``(network, dt=..., ...)``,
    for functions that take a simulator class (e.g. `run_delay_task`)."""

    def make(network, dt=0.001, **more):
        more = {**kwargs, **more}
        return simulator(network, target=target, dt=dt, decode_tau=decode_tau, **more)

    return make


def target_simulator(target="sim", progress=None):
    """A simulator factory for `nengo_lmu.networks.sequence_runner.run_sequences`:
    `nengo.Simulator` (no progress bar) for ``target="nengo"``, else
    `simulator` on the nengo-loihi ``target`` (with ``progress``) with
    nengo-loihi's expected warnings filtered."""
    check_choice("target", target, ("nengo",) + TARGETS)
    if target == "nengo":
        return nengo_simulator

    def make(network, **kwargs):
        with expected_warnings():
            return simulator(network, target=target, progress=progress, **kwargs)

    return make


def run_on_target(network, n, steps, target="nengo", dt=0.001, probes=(), progress=None):
    """Run ``n`` sequences of ``steps`` steps, which ``network`` holds back to
    back, on ``nengo`` or a nengo-loihi ``target`` (`target_simulator`, with
    ``progress`` on an emulator) with the one sequence runner
    (`nengo_lmu.networks.sequence_runner.run_sequences`); on an emulator,
    count the resources per sequence.

    Returns
    -------
    data : list of ndarray (n, steps, size)
        One per probe in ``probes``.
    info : dict
        ``build_seconds``, ``seconds`` (the run) and, on an emulator
        target, ``resources`` (`resource_counts` per sequence).
    """

    def resources(sim):
        return {"resources": resource_counts(sim, n_inferences=n)}

    data, info = run_sequences(
        network,
        list(probes),
        steps,
        n,
        simulator=target_simulator(target, progress),
        inspect=resources if target in EMULATOR_TARGETS else None,
        dt=dt,
    )
    del info["dt"]
    return data, info
