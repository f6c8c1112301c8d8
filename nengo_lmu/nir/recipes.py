"""Networks that NIR describes exactly, and that work.

The spiking memory's default neurons (`.LegendreMemory`: nengo's LIF with a
1 ms refractory period and nengo's voltage floor at 0) have two things NIR's
``LIF`` lacks. Without the floor, a neuron driven far below threshold
integrates a large negative voltage (the memory's neurons reach currents of
-60 and less at the edge of their range) and answers late when its input
comes back: the memory with ``tau_ref=0`` and no floor scores 0.85 NRMSE on
the delay task, against 0.10 with the floor (dt 0.1 ms).

`exact_memory_options` (and `exact_memory`, which also takes the spiking
memory's lag out of its window) avoids the problem instead of approximating it: its
neurons' intercepts lie below the whole evaluation range (1.5 radii), so
every neuron fires all the time and its input current never falls below the
threshold, let alone below 0. A floor then never acts, and the neurons work
where a LIF neuron's rate is nearly a straight line of its current (the
memory's error is mostly the curvature of its tuning curves, amplified by
the recurrence). No refractory period is needed at the step it is meant for,
0.1 ms (the step of snnTorch's reader).
"""

import nengo
import numpy as np

#: Intercepts of `exact_memory_options`' neurons (in radii): at or below
#: the edge of the represented range, so that within it no neuron's
#: current falls below its threshold (at 1.5 radii, the edge of the
#: evaluation range, the lowest is -0.9).
EXACT_MEMORY_INTERCEPTS = (-1.5, -1.0)

#: Firing rates (Hz) at the radius of `exact_memory_options`' neurons.
EXACT_MEMORY_MAX_RATES = (300.0, 500.0)

#: How much (s) the spiking memory of `exact_memory_options` lags its exact
#: form at dt 0.1 ms (the delay-task memory: order 6, theta 0.1 s, synapse
#: 0.1 s, 996 neurons, 10 Hz white noise; best-fitting lag over +-10 ms,
#: seed 0): `exact_memory` shortens ``theta`` by it. Delay task, 4 s, seed
#: 0: NRMSE 0.107 without, 0.049 with it.
EXACT_MEMORY_LAG = 0.0026


def exact_memory_options():
    """Keywords for `.LegendreMemory` (or `.LinearSystemNetwork`) whose
    spiking form NIR describes exactly.

    The neurons are ``nengo.LIF(tau_ref=0, min_voltage=-inf)`` starting at
    rest (voltage 0, as NIR's readers start), with intercepts in
    `EXACT_MEMORY_INTERCEPTS` and rates in `EXACT_MEMORY_MAX_RATES`; use
    them at ``dt=1e-4`` (the module notes say why, the user guide
    ``docs/nir.rst`` what they measure).

    Returns
    -------
    dict
        ``neuron_type`` and ``ens_kwargs``.

    Examples
    --------
    >>> options = exact_memory_options()
    >>> options["neuron_type"]
    LIF(tau_ref=0, min_voltage=-inf, initial_state={'voltage': Choice(options=array([0.]))})
    >>> sorted(options["ens_kwargs"])
    ['intercepts', 'max_rates']
    """
    lif = nengo.LIF(
        tau_ref=0,
        min_voltage=-np.inf,
        initial_state={"voltage": nengo.dists.Choice([0.0])},
    )
    return dict(
        neuron_type=lif,
        ens_kwargs=dict(
            intercepts=nengo.dists.Uniform(*EXACT_MEMORY_INTERCEPTS),
            max_rates=nengo.dists.Uniform(*EXACT_MEMORY_MAX_RATES),
        ),
    )


def exact_memory(order, theta, n_neurons=166, dt=1e-4, lag=EXACT_MEMORY_LAG, **kwargs):
    """A spiking `.LegendreMemory` that NIR describes exactly, with its lag
    taken out of ``theta``.

    At ``dt=1e-4`` the spiking memory's output lags its exact form by about
    ``lag`` (`EXACT_MEMORY_LAG`, measured on the delay task), so the memory
    is built with window ``theta - lag``: its output then describes the
    input from ``lag`` to ``theta`` seconds ago, and its delay-``theta``
    readout (``r=1``) is on time. ``lag=0`` gives the plain memory.

    Parameters
    ----------
    order, theta, n_neurons, dt
        As for `.LegendreMemory` (``theta``: the window wanted).
    lag : float
        Seconds taken out of ``theta`` (``0 <= lag < theta``).
    **kwargs
        Passed to `.LegendreMemory` (``size_in``, ``synapse``, ``process``,
        ``seed``, ...), after `exact_memory_options`.

    Returns
    -------
    LegendreMemory
        With ``theta = theta - lag``.
    """
    from nengo.exceptions import ValidationError

    from nengo_lmu.networks import LegendreMemory

    if not 0 <= lag < theta:
        raise ValidationError(f"must be in [0, theta={theta}), got {lag}", attr="lag")
    options = exact_memory_options()
    options.update(kwargs)
    return LegendreMemory(order, theta - lag, n_neurons=n_neurons, dt=dt, **options)
