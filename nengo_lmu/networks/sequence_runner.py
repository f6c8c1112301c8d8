"""The one way to run a batch of sequences through a network, on any
simulator: `run_sequences`.

Every classifier and backend runs its sequences through it: the nengo
classifiers (`.LMUClassifier.predict`, `.SpikingClassifier.run_sequences`),
the Loihi classifiers (`nengo_lmu.loihi.simulator.run_on_target`) and the
L2MU's LIF map (`nengo_lmu.loihi.lif_run`).
"""

import time

import nengo
import numpy as np

from nengo_lmu.validation import check_int


def nengo_simulator(network, **kwargs):
    """`nengo.Simulator` without its progress bar (the default factory of
    `run_sequences`)."""
    kwargs.setdefault("progress_bar", False)
    return nengo.Simulator(network, **kwargs)


def run_sequences(
    network,
    probes,
    n_steps,
    n_sequences=1,
    simulator=None,
    feed=None,
    progress=None,
    inspect=None,
    **sim_kwargs,
):
    """Run ``n_sequences`` sequences of ``n_steps`` steps on one simulator
    and return each probe's data per sequence.

    Two ways, by what the simulator can do:

    - ``feed`` given: before each sequence the simulator is reset (every
      sequence starts from rest) and ``feed(i, sim)`` sets sequence ``i``
      up (e.g. gives an input node its data);
    - ``feed`` None: ``network`` already holds the sequences one after the
      other (for a simulator that cannot reset, such as nengo-loihi's):
      one run of ``n_sequences * n_steps`` steps, cut into sequences.

    Parameters
    ----------
    network : nengo.Network
    probes : sequence of nengo.Probe
    n_steps : int
        Steps per sequence.
    n_sequences : int
    simulator : callable, optional
        Simulator factory, ``simulator(network, **sim_kwargs)``: a simulator
        class or, e.g., `nengo_lmu.loihi.simulator_factory`. Default
        `nengo_simulator`.
    feed : callable, optional
        ``feed(i, sim)`` before sequence ``i`` (see above).
    progress : callable, optional
        Wraps the loop over sequences (e.g. ``tqdm.tqdm``): a progress bar.
    inspect : callable, optional
        ``inspect(sim)`` after the run, before the simulator closes: a dict
        of what to report from it (e.g. the resources it used).
    **sim_kwargs
        Passed to ``simulator`` (``dt``, ...).

    Returns
    -------
    data : list of ndarray, shape (n_sequences, n_steps, size)
        One per probe.
    info : dict
        ``dt`` (the simulator's), ``build_seconds``, ``seconds`` (the runs)
        and what ``inspect`` returned.

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(lambda t: t)
    ...     probe = nengo.Probe(stim)
    >>> (data,), info = run_sequences(net, [probe], n_steps=3, n_sequences=2)
    >>> data[:, :, 0].round(3).tolist()
    [[0.001, 0.002, 0.003], [0.004, 0.005, 0.006]]
    """
    n_steps = check_int("n_steps", n_steps)
    n_sequences = check_int("n_sequences", n_sequences, minimum=0)
    simulator = nengo_simulator if simulator is None else simulator
    t0 = time.perf_counter()
    sim = simulator(network, **sim_kwargs)
    info = {"dt": sim.dt, "build_seconds": time.perf_counter() - t0}
    with sim:
        t0 = time.perf_counter()
        if feed is None:
            sim.run_steps(n_sequences * n_steps)
            data = [sim.data[p].reshape(n_sequences, n_steps, -1) for p in probes]
        else:
            records = [[] for _ in probes]
            items = range(n_sequences)
            for i in items if progress is None else progress(items):
                sim.reset()
                feed(i, sim)
                sim.run_steps(n_steps)
                for rec, p in zip(records, probes):
                    rec.append(np.array(sim.data[p]))
            data = [np.stack(rec) if rec else np.empty((0, n_steps, 0)) for rec in records]
        info["seconds"] = time.perf_counter() - t0
        if inspect is not None:
            info.update(inspect(sim))
    return data, info
