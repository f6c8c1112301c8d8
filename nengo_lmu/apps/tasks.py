"""Standard tasks that score nengo_lmu networks (used by the CLI, tests,
benchmarks and notebooks, so that all of them measure the same thing)."""

import time
from dataclasses import dataclass, field

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.metrics import delayed_nrmse
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.validation import check_positive


@dataclass
class DelayResult:
    """What `run_delay_task` measured.

    ``nrmse`` is scored against the input delayed by exactly ``theta``;
    ``best_lag_steps`` is the delay (in steps) that fits the output best, so
    ``best_lag_steps - theta/dt`` is any lag the network adds.
    """

    label: str
    nrmse: float
    best_lag_steps: int
    best_nrmse: float
    n_neurons: int
    sim_time: float
    build_seconds: float
    run_seconds: float
    t: np.ndarray = field(repr=False)
    u: np.ndarray = field(repr=False)
    delayed: np.ndarray = field(repr=False)
    output: np.ndarray = field(repr=False)

    @property
    def speed(self):
        """Simulated seconds per wall-clock second of the run."""
        return self.sim_time / self.run_seconds


def delay_input(high=10.0, rms=0.3, period=10.0, seed=0):
    """Band-limited white noise for the delay task (10 Hz, rms 0.3)."""
    return nengo.processes.WhiteSignal(period=period, high=high, rms=rms, y0=0, seed=seed)


def run_delay_task(
    theta=0.1,
    order=6,
    n_neurons=None,
    duration=10.0,
    dt=0.001,
    high=10.0,
    rms=0.3,
    discard=1.0,
    seed=0,
    simulator=None,
    progress_bar=False,
    label=None,
    memory=None,
    **memory_kwargs,
):
    """Delay ``high``-Hz white noise by ``theta`` with a `.LegendreMemory`.

    The memory's delay-``theta`` readout is scored against the truly delayed
    input after discarding the first ``discard`` seconds.

    Parameters
    ----------
    theta, order, n_neurons
        As for `.LegendreMemory` (``n_neurons=None``: the exact form).
    duration : float
        Simulated seconds.
    dt : float
        Simulator time step.
    high, rms : float
        Band limit (Hz) and rms of the input.
    discard : float
        Seconds excluded from the score (the memory is filling up).
    seed : int
        Seed of the input signal and of the network.
    simulator : callable, optional
        Simulator class (default `nengo.Simulator`); anything that takes
        ``(network, dt=..., progress_bar=...)``, such as ``nengo_dl.Simulator``.
    progress_bar : bool
        Show the simulator's progress bar.
    label : str, optional
        Name of the run in the result.
    memory : callable, optional
        The memory class (default `.LegendreMemory`; e.g.
        `nengo_lmu.loihi.LoihiLegendreMemory`), called as
        ``memory(order, theta, n_neurons=..., dt=..., **memory_kwargs)``.
    **memory_kwargs
        Passed to `.LegendreMemory` (e.g. ``neuron_type``, ``mapping``).

    Returns
    -------
    DelayResult
    """
    duration = check_delay_times(duration, discard, theta)
    simulator = nengo.Simulator if simulator is None else simulator
    memory_kwargs.setdefault(
        "process", delay_input(high=high, rms=rms, period=duration, seed=seed + 1)
    )
    stim = delay_input(high=high, rms=rms, period=duration, seed=seed)
    memory = LegendreMemory if memory is None else memory
    net, mem, p_u, p_y = delay_network(
        stim, memory, order, theta, n_neurons, dt, seed, memory_kwargs
    )
    t0 = time.perf_counter()
    with simulator(net, dt=dt, progress_bar=progress_bar) as sim:
        t1 = time.perf_counter()
        sim.run(duration)
        t2 = time.perf_counter()
    u = sim.data[p_u][:, 0]
    y = sim.data[p_y][:, 0]
    steps = int(round(theta / dt))
    start = int(round(discard / dt))
    score, best, best_score = delayed_nrmse(y, u, steps, start=start, lags=min(5, start - steps))
    return DelayResult(
        label=label or ("exact" if n_neurons is None else "neural"),
        nrmse=score,
        best_lag_steps=best,
        best_nrmse=best_score,
        n_neurons=mem.n_neurons,
        sim_time=duration,
        build_seconds=t1 - t0,
        run_seconds=t2 - t1,
        t=sim.trange(),
        u=u,
        delayed=np.concatenate([np.zeros(steps), u[:-steps]]),
        output=y,
    )


def check_delay_times(duration, discard, theta):
    """`run_delay_task`'s checks of its times; returns ``duration``."""
    duration = check_positive("duration", duration)
    if not 0 <= discard < duration:
        raise ValidationError(
            f"must be in [0, duration={duration}), got {discard}", attr="discard"
        )
    if discard < theta:
        raise ValidationError(
            f"must be at least theta={theta} so that the delayed input exists, got {discard}",
            attr="discard",
        )
    return duration


def delay_network(process, memory, order, theta, n_neurons, dt, seed, memory_kwargs):
    """The delay task's network: ``process`` into ``memory(order, theta, ...)``
    and its delay-``theta`` readout. Returns the network, the memory and the
    probes of the input and of the readout."""
    with nengo.Network(seed=seed, label="delay task") as net:
        stim = nengo.Node(process)
        mem = memory(order, theta, n_neurons=n_neurons, dt=dt, **memory_kwargs)
        nengo.Connection(stim, mem.input, synapse=None)
        delayed = mem.add_delay_output(1.0)
        p_u = nengo.Probe(stim, synapse=None)
        p_y = nengo.Probe(delayed, synapse=None)
    return net, mem, p_u, p_y
