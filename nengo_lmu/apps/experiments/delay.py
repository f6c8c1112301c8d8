"""The delay task with the exact memory and a neural one
(``nengo-lmu demo``, ``benchmarks/delay_accuracy.py``)."""

from dataclasses import dataclass

import nengo

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
class DelayDemo:
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


def delay_demo(
    theta=0.1,
    order=6,
    n_neurons=166,
    neuron_type_name="lif",
    synapse=0.1,
    duration=10.0,
    dt=0.001,
    high=10.0,
    rms=0.3,
    seed=0,
    discard=1.0,
    progress_bar=False,
):
    """Delay white noise by ``theta`` with the exact `.LegendreMemory` and
    with a neural one (``n_neurons`` per dimension of ``neuron_type_name``;
    ``"lif"`` is the memory's default LIF neurons), same input and seed
    (`.run_delay_task`).

    Examples
    --------
    >>> out = delay_demo(duration=1.5, discard=0.5, n_neurons=20)  # doctest: +SKIP
    >>> out.exact.nrmse < out.neural.nrmse  # doctest: +SKIP
    True
    """
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
