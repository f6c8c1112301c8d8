"""A trained spiking classifier (`.L2MU`, `.RecurrentLIF`) mapped onto
`nengo.LIF` populations, to run on nengo-loihi.

The networks themselves (`nengo_lmu.networks.l2mu`) use `.DiscreteLIF`,
which nengo-loihi cannot place; `build_lif_copies` maps each population to
the `nengo.LIF` that Loihi runs, and `lif_run` runs the map on `nengo` or
on the emulator.
"""

import functools

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi._compat import nengo_loihi_module
from nengo_lmu.networks.sequence_runner import nengo_simulator, run_sequences
from nengo_lmu.networks.weights import transform_matrix
from nengo_lmu.validation import check_choice, check_event_data, check_int


def lif_tau_rc(beta, dt):
    """The `nengo.LIF` ``tau_rc`` whose per-step decay is ``beta`` (0 < beta < 1)."""
    if not 0 < beta < 1:
        raise ValidationError(
            f"a LIF decay must be in (0, 1) to map to tau_rc, got {beta}", attr="beta"
        )
    return -dt / np.log(beta)


def build_lif_copies(net, x, pad_steps=3, min_voltage=-1.0, record_activity=True):
    """``len(x)`` copies of a trained `SpikingClassifier` as `nengo.LIF`
    populations, copy ``k`` playing sequence ``x[k]``: for nengo-loihi.

    The mapping of a `.DiscreteLIF` population (``beta``, ``threshold``):
    ``nengo.LIF`` with ``tau_rc = -dt / ln(beta)`` (its voltage then decays
    by ``beta`` per step, as on Loihi), ``tau_ref = 0``, and every incoming
    weight multiplied by ``dt / (threshold * (1 - beta))``, so that its
    normalised voltage ``V = U / threshold`` obeys ``V[t] = beta V[t-1] +
    I[t] / threshold`` and fires when ``V > 1``, as the original does. What
    differs, as the chip requires: after a spike the voltage is reset to
    zero instead of having the threshold subtracted, the voltage is clipped
    from below (at the neurons' own ``min_voltage`` if finite, else at
    ``min_voltage`` in units of the threshold), and on nengo-loihi every
    connection takes at least one step (same-step connections are delayed
    by one) and weights are quantised. A network built with
    ``reset="zero"``, a finite ``min_voltage`` and ``chip_timing=True``
    differs from its map only by that quantisation (and a constant delay
    of the input from the host).

    The input events come from an off-chip population that re-emits them
    (nengo-loihi sends off-chip spikes to the chip as spikes).

    Returns
    -------
    model : nengo.Network
    probes : list of dict
        Per copy, ``{population name: probe}`` of spikes (``"x"``: the
        re-emitted input; only ``"out"`` unless ``record_activity``).
    host_ensembles : list of nengo.Ensemble
        The off-chip input populations (mark them ``on_chip=False``).
    """
    x = check_event_data(x, net.n_inputs)
    dt = net.dt
    n, n_steps, _ = x.shape
    padded = np.concatenate([x, np.zeros((n, pad_steps, x.shape[2]))], axis=1)
    probes, hosts = [], []
    with nengo.Network(label=f"{type(net).__name__} as LIF x{n}") as model:
        for k in range(n):
            host = event_source(padded[k], dt)
            pops = {"x": host.neurons}
            for name, ens in net.populations.items():
                pops[name] = lif_copy(ens, f"{name}[{k}]", dt, min_voltage).neurons
            for pre, post, conn, _ in net.connection_info.values():
                nt = net.populations[post].neuron_type
                scale = dt / (nt.threshold * (1.0 - nt.beta))
                nengo.Connection(
                    pops[pre],
                    pops[post],
                    transform=transform_matrix(conn) * scale,
                    synapse=conn.synapse,
                )
            probes.append(
                {
                    k: nengo.Probe(v, synapse=None)
                    for k, v in pops.items()
                    if record_activity or k == "out"
                }
            )
            hosts.append(host)
    return model, probes, hosts


def event_source(events, dt):
    """A node playing ``events`` ``(n_steps, d)`` and a host population of
    ``d`` neurons that re-emits them as spikes (inside a network)."""
    node = nengo.Node(nengo.processes.PresentInput(events, dt))
    # SpikingRectifiedLinear from zero voltage with input 1/dt fires
    # exactly on the steps with an event
    host = nengo.Ensemble(
        events.shape[1],
        1,
        neuron_type=nengo.SpikingRectifiedLinear(
            initial_state={"voltage": nengo.dists.Choice([0.0])}
        ),
        gain=nengo.dists.Choice([1.0]),
        bias=nengo.dists.Choice([0.0]),
    )
    nengo.Connection(node, host.neurons, transform=1.0 / dt, synapse=None)
    return host


def lif_copy(ens, label, dt, min_voltage):
    """The `nengo.LIF` population that maps the `.DiscreteLIF` population
    ``ens`` (see `build_lif_copies`; inside a network)."""
    nt = ens.neuron_type
    # the LIF's voltage is U / threshold
    vmin = nt.min_voltage / nt.threshold if np.isfinite(nt.min_voltage) else min_voltage
    return nengo.Ensemble(
        ens.n_neurons,
        1,
        neuron_type=nengo.LIF(
            tau_rc=lif_tau_rc(nt.beta, dt),
            tau_ref=0.0,
            min_voltage=vmin,
            initial_state={"voltage": nengo.dists.Choice([0.0])},
        ),
        gain=nengo.dists.Choice([1.0]),
        bias=nengo.dists.Choice([0.0]),
        label=label,
    )


def lif_run(net, x, simulator="nengo", batch=40, pad_steps=3, record_activity=True, progress=None):
    """Run the LIF mapping (`build_lif_copies`) of ``net`` on every sequence.

    Parameters
    ----------
    net : SpikingClassifier
        A trained network.
    x : ndarray, shape (n, n_steps, n_inputs)
        Event sequences.
    simulator : "nengo" or "loihi"
        `nengo.Simulator`, or the nengo-loihi emulator
        (``nengo_loihi.Simulator(target="sim")``, imported here).
    batch : int
        Sequences simulated side by side per simulator (nengo-loihi cannot
        reset a simulator, so each sequence gets its own copy).
    pad_steps : int
        Extra steps at the end (nengo-loihi delays spikes by a few steps).
    record_activity : bool
        Record every population (slower on nengo-loihi), not only ``out``.
    progress : callable, optional
        Wraps the loop over batches.

    Returns
    -------
    counts : ndarray, shape (n, n_classes)
        Output spike counts.
    activity : dict
        ``{population: (n, n_steps + pad_steps, size)}`` spikes (0/1),
        including ``"x"``, for `nengo_lmu.metrics.spiking_network_metrics`.
    """
    check_choice("simulator", simulator, ("nengo", "loihi"))
    batch = check_int("batch", batch)
    x = np.asarray(x)
    n_steps = x.shape[1] + pad_steps
    counts, activity = [], {}
    starts = range(0, len(x), batch)
    for i in starts if progress is None else progress(starts):
        model, probes, hosts = build_lif_copies(
            net, x[i : i + batch], pad_steps, record_activity=record_activity
        )
        flat = [(k, p) for copy in probes for k, p in copy.items()]
        data, info = run_sequences(
            model,
            [p for _, p in flat],
            n_steps,
            simulator=_lif_simulator(simulator, hosts),
            dt=net.dt,
        )
        dt = info["dt"]
        for (k, _), d in zip(flat, data):
            activity.setdefault(k, []).append(np.asarray(d[0]) * dt)
            if k == "out":
                counts.append(np.sum(d[0], axis=0) * dt)
    return np.array(counts), {k: np.stack(v) for k, v in activity.items()}


def _lif_simulator(kind, hosts):
    """The simulator factory of `lif_run` (the ``hosts`` stay off the chip)."""
    if kind == "nengo":
        # nengo's operator merging scales badly with many copies
        return functools.partial(nengo_simulator, optimize=False)

    def make(model, **kwargs):
        nengo_loihi = nengo_loihi_module()
        nengo_loihi.add_params(model)
        for h in hosts:
            model.config[h].on_chip = False
        return nengo_loihi.Simulator(model, target="sim", progress_bar=False, **kwargs)

    return make
