"""The delay task with the exact memory and a neural one
(``nengo-lmu demo``, ``benchmarks/delay_accuracy.py``)."""

from dataclasses import dataclass

import nengo

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import resolve, setting
from nengo_lmu.apps.tasks import DelayResult, run_delay_task
from nengo_lmu.tables import format_table
from nengo_lmu.validation import check_choice

#: Neuron types of the neural memory, by name.
NEURON_TYPES = {
    "lif": nengo.LIF,
    "lifrate": nengo.LIFRate,
    "spikingrelu": nengo.SpikingRectifiedLinear,
    "relu": nengo.RectifiedLinear,
}


def neuron_type(name):
    """A nengo neuron type from its name in `NEURON_TYPES`.

    Examples
    --------
    >>> neuron_type("lifrate")
    LIFRate()
    """
    return NEURON_TYPES[check_choice("neuron_type", name, tuple(NEURON_TYPES))]()


@dataclass
class DelayDemo(ExperimentResult):
    """What `delay_demo` measured: the same task, exact and neural."""

    exact: DelayResult
    neural: DelayResult
    theta: float
    dt: float

    def table(self):
        """NRMSE, best lag, neurons and speed of both forms."""
        rows = [
            (
                r.label,
                f"{r.nrmse:.4f}",
                f"{r.best_lag_steps}",
                f"{r.n_neurons}",
                f"{r.sim_time:g}",
                f"{r.speed:.2f}",
            )
            for r in (self.exact, self.neural)
        ]
        return format_table(
            ("form", "NRMSE", "best lag (steps)", "neurons", "simulated s", "sim s / wall s"), rows
        )

    def report_sections(self):
        """The table and what its NRMSE is measured against."""
        return [
            self.table()
            + f"\n\nNRMSE is against u(t - theta), theta = {round(self.theta / self.dt)} "
            "steps; 'best lag' is the delay that fits best."
        ]


@dataclass(frozen=True)
class DelaySettings:
    """The settings of `delay_demo` and of ``nengo-lmu demo``."""

    theta: float = setting(0.1, "delay window in seconds")
    order: int = setting(6, "Legendre coefficients (memory dimensions)")
    n_neurons: int = setting(166, "neurons per memory dimension in the spiking form")
    neuron_type_name: str = setting(
        "lif",
        "neuron type of the neural form (lif: LegendreMemory's default LIF, "
        "1 ms refractory period, 300-500 Hz)",
        flag="--neuron-type",
        choices=tuple(NEURON_TYPES),
    )
    synapse: float = setting(0.1, "recurrent lowpass time constant (s) of the neural form")
    duration: float = setting(10.0, "simulated seconds")
    discard: float = setting(1.0, "seconds at the start left out of the score", positive=False)
    dt: float = setting(0.001, "simulator time step (s)")
    high: float = setting(10.0, "band limit of the white-noise input (Hz)")
    rms: float = setting(0.3, "rms of the input")
    seed: int = setting(0, "seed of input and network", positive=False)


def delay_demo(settings=None, progress_bar=False, **kwargs):
    """Delay white noise by ``theta`` with the exact `.LegendreMemory` and
    with a neural one (``n_neurons`` per dimension of ``neuron_type_name``;
    ``"lif"`` is the memory's default LIF neurons), same input and seed
    (`.run_delay_task`).

    ``settings`` is a `DelaySettings` (default: its defaults); its fields
    may also be given as keywords, which replace them.

    Examples
    --------
    >>> out = delay_demo(duration=1.5, discard=0.5, n_neurons=20)  # doctest: +SKIP
    >>> out.exact.nrmse < out.neural.nrmse  # doctest: +SKIP
    True
    """
    settings = resolve(DelaySettings, settings, kwargs)
    theta, order, dt = settings.theta, settings.order, settings.dt
    n_neurons, neuron_type_name = settings.n_neurons, settings.neuron_type_name
    synapse, duration, discard = settings.synapse, settings.duration, settings.discard
    high, rms, seed = settings.high, settings.rms, settings.seed
    common = dict(
        theta=theta,
        order=order,
        duration=duration,
        dt=dt,
        high=high,
        rms=rms,
        seed=seed,
        discard=discard,
        progress_bar=progress_bar,
    )
    exact = run_delay_task(label="exact", **common)
    # "lif" is the memory's own default LIF (a 1 ms refractory period at
    # 300-500 Hz, `LegendreMemory`'s MEMORY_TAU_REF / MEMORY_MAX_RATES), not
    # nengo's LIF(): that is what a user of LegendreMemory gets.
    chosen = neuron_type(neuron_type_name)
    neural = run_delay_task(
        label=neuron_type_name,
        n_neurons=n_neurons,
        neuron_type=None if neuron_type_name == "lif" else chosen,
        synapse=synapse,
        **common,
    )
    return DelayDemo(exact, neural, theta, dt)
