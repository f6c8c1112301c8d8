"""Running nengo_lmu networks on Loihi (the nengo-loihi emulator or hardware).

Three steps, each usable on its own:

- `prepare` checks a network before it is built for nengo-loihi (neuron and
  synapse types, one synaptic time constant per block, per-core limits),
  adds the nengo-loihi configuration (``on_chip``, ``block_shape``), and
  returns a `LoihiReport` whose table says what runs on the chip, what on
  the host, why, and what the host-chip traffic adds.
- `simulator` builds a ``nengo_loihi.Simulator`` for ``target="sim"`` (the
  emulator), ``"simreal"`` (the emulator without discretisation) or
  ``"loihi"`` (needs Intel's NxSDK, which is not on the package index).
- `resource_counts` reads, from an emulator run, what the chip used and did:
  cores, compartments, axons, synaptic weights, spikes and synaptic
  operations (the NeuroBench-style measures: activation sparsity, synaptic
  operations, parameter footprint).

`LoihiLegendreMemory` is the spiking Legendre memory in a form that builds
and runs on the chip.

nengo-loihi is imported inside the functions, so ``import nengo_lmu`` stays
light.

References
----------
.. [1] nengo-loihi 1.1 documentation, "Hardware restrictions" and "API".
.. [2] Voelker, A. R. (2019). Dynamical systems in spiking neuromorphic
   hardware. PhD thesis, University of Waterloo (synapse mappings).
"""

import contextlib
import importlib.util
import os
import warnings
from dataclasses import dataclass, field

import nengo
import numpy as np
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.linear_system import LinearSystemNetwork
from nengo_lmu.validation import check_choice, check_int, check_positive

#: Per-core limits of Loihi (nengo-loihi 1.1, ``nengo_loihi.block``).
MAX_COMPARTMENTS = 1024
MAX_IN_AXONS = 4096
MAX_OUT_AXONS = 4096
#: nengo-loihi's default filter on the chip side of host-to-chip inputs and
#: on the output of decode neurons (``Model.decode_tau``).
DECODE_TAU = 0.005
TARGETS = ("sim", "simreal", "loihi")
UNSUPPORTED = ("error", "host")


def chip_neuron_types():
    """Neuron types that nengo-loihi places on the chip."""
    return (nengo.LIF, nengo.SpikingRectifiedLinear)


def _is_lowpass(synapse):
    return synapse is None or type(synapse) is nengo.Lowpass


def _tau(synapse):
    return 0.0 if synapse is None else float(synapse.tau)


def _ens_of(obj):
    """The ensemble behind a connection end (ensemble or its neurons)."""
    if isinstance(obj, nengo.Ensemble):
        return obj
    if isinstance(obj, nengo.ensemble.Neurons):
        return obj.ensemble
    return None


def _name(obj):
    label = getattr(obj, "label", None)
    return label if label else type(obj).__name__


def _conn_name(conn):
    pre = conn.pre_obj
    post = conn.post_obj
    pre = pre.ensemble if isinstance(pre, nengo.ensemble.Neurons) else pre
    post = post.ensemble if isinstance(post, nengo.ensemble.Neurons) else post
    pre_s = _name(pre) + (".neurons" if isinstance(conn.pre_obj, nengo.ensemble.Neurons) else "")
    post_s = _name(post) + (
        ".neurons" if isinstance(conn.post_obj, nengo.ensemble.Neurons) else ""
    )
    return f"{pre_s} -> {post_s}"


@dataclass
class Placement:
    """Where one ensemble runs and why (a row of the `LoihiReport` table)."""

    ensemble: nengo.Ensemble
    on_chip: bool
    reason: str
    n_blocks: int = 0
    block_size: int = 0
    tau: float = None


@dataclass
class Crossing:
    """A connection between host and chip (each adds a step of delay)."""

    connection: nengo.Connection
    direction: str  # "host->chip" or "chip->host"
    note: str


@dataclass
class LoihiReport:
    """What `prepare` decided and found.

    Attributes
    ----------
    placements : list of Placement
        One per ensemble.
    crossings : list of Crossing
        Connections between host and chip.
    warnings : list of str
        Things that build but change the model (e.g. a time-constant
        conflict in a block, a host filter added by the chip).
    blocks : list of dict
        Per-core use from a trial build (``build=True``): block label,
        compartments, input and output axons, synapse bits, and the
        `weight_precision` of its weights on 8 bits.
    """

    placements: list = field(default_factory=list)
    crossings: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    blocks: list = field(default_factory=list)

    @property
    def on_chip(self):
        """Ensembles placed on the chip."""
        return [p.ensemble for p in self.placements if p.on_chip]

    @property
    def on_host(self):
        """Ensembles placed on the host."""
        return [p.ensemble for p in self.placements if not p.on_chip]

    def table(self):
        """The placement table as text."""
        rows = [("ensemble", "neurons", "type", "where", "cores", "tau (s)", "why")]
        for p in self.placements:
            ens = p.ensemble
            rows.append(
                (
                    _name(ens),
                    str(ens.n_neurons),
                    type(ens.neuron_type).__name__,
                    "chip" if p.on_chip else "host",
                    str(p.n_blocks) if p.on_chip else "-",
                    "-" if p.tau is None else f"{p.tau:g}",
                    p.reason,
                )
            )
        lines = [_format_rows(rows)]
        if self.crossings:
            n_in = sum(c.direction == "host->chip" for c in self.crossings)
            n_out = len(self.crossings) - n_in
            lines.append(
                f"\nhost<->chip connections: {n_in} host->chip, {n_out} chip->host "
                "(each crossing adds one step of delay)"
            )
            rows = [("connection", "direction", "note")]
            for c in self.crossings:
                rows.append((_conn_name(c.connection), c.direction, c.note))
            lines.append(_format_rows(rows))
        if self.blocks:
            rows = [("block (core)", "compartments", "in-axons", "out-axons", "synapse bits",
                     "8-bit weights: lost", "error")]
            for b in self.blocks:
                rows.append(
                    (
                        b["label"][:48],
                        f"{b['compartments']}/{MAX_COMPARTMENTS}",
                        f"{b['in_axons']}/{MAX_IN_AXONS}",
                        f"{b['out_axons']}/{MAX_OUT_AXONS}",
                        str(b["synapse_bits"]),
                        f"{b['weights_lost']:.1%}",
                        f"{b['weight_error']:.2%}",
                    )
                )
            lines.append("\nper-core use (trial build):")
            lines.append(_format_rows(rows))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _format_rows(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _ensure_params(network):
    import nengo_loihi

    try:
        network.config[nengo.Ensemble].on_chip  # noqa: B018 - probe the param
    except (AttributeError, KeyError, nengo.exceptions.ConfigError):
        nengo_loihi.add_params(network)


def prepare(
    network,
    unsupported="error",
    max_neurons_per_core=MAX_COMPARTMENTS,
    decode_tau=DECODE_TAU,
    build=True,
    dt=0.001,
    max_weights_lost=0.1,
    max_weight_error=0.05,
):
    """Check a network for nengo-loihi, configure it and report the placement.

    Every ensemble is checked and placed:

    - neuron type: only `nengo.LIF` and `nengo.SpikingRectifiedLinear` run on
      the chip. Others raise a `ValidationError` (``unsupported="error"``)
      or are placed on the host (``unsupported="host"``; ``nengo.Direct``
      ensembles always run on the host).
    - size: an ensemble of more than ``max_neurons_per_core`` neurons is
      split over several cores with a ``block_shape``; with
      ``max_neurons_per_core=None`` it raises instead.
    - synapses: a connection between two on-chip objects must have a
      `nengo.Lowpass` synapse (or none); every on-chip block has a single
      input time constant, so conflicting ones are reported (nengo-loihi
      uses the largest).

    Connections between the host and the chip are listed; nengo-loihi
    filters every host-to-chip input with ``Lowpass(decode_tau)`` on the
    chip, which is reported where the connection has no such synapse (see
    `simulator`, which applies a connection's ``Lowpass(decode_tau)`` on
    the chip instead of on the host). Spikes of host neurons into chip
    neurons are the exception: they are sent as they are, and the
    connection's own synapse (``Lowpass`` or none) runs on the chip.

    Parameters
    ----------
    network : nengo.Network
        The network (it is configured in place: ``on_chip`` and
        ``block_shape``).
    unsupported : "error" or "host"
        What to do with an ensemble whose neuron type the chip cannot run.
    max_neurons_per_core : int or None
        Largest block; ``None`` forbids splitting.
    decode_tau : float
        The chip-side filter of host inputs that `simulator` will use.
    build : bool
        Also build the network with the emulator (no simulation) to report
        the use of each core and the precision of each block's weights on
        8 bits (`weight_precision`), and to turn build failures (e.g.
        weights that do not fit the 8-bit discretisation) into a
        `BuildError` that names the object.
    dt : float
        Time step of the trial build.
    max_weights_lost, max_weight_error : float
        A block whose discretised weights lose more than this fraction of
        its non-zero weights (rounded to zero), or change by more than this
        relative rms error, gets a warning in the report.

    Returns
    -------
    LoihiReport

    Raises
    ------
    ValidationError
        A neuron type, synapse or size the chip cannot take (names the
        object, the limit and the bad value).
    BuildError
        The trial build failed.
    """
    import nengo_loihi

    check_choice("unsupported", unsupported, UNSUPPORTED)
    if max_neurons_per_core is not None:
        check_int("max_neurons_per_core", max_neurons_per_core, None)
        if max_neurons_per_core > MAX_COMPARTMENTS:
            raise ValidationError(
                f"must be at most {MAX_COMPARTMENTS} (compartments per core), "
                f"got {max_neurons_per_core}",
                attr="max_neurons_per_core",
            )
    decode_tau = check_positive("decode_tau", decode_tau)
    for name, value in (("max_weights_lost", max_weights_lost),
                        ("max_weight_error", max_weight_error)):
        if not 0 <= value <= 1:
            raise ValidationError(f"must be a fraction in [0, 1], got {value}", attr=name)
    _ensure_params(network)
    config = network.config
    report = LoihiReport()

    chip = set()
    for ens in network.all_ensembles:
        nt = ens.neuron_type
        user_off = config[ens].on_chip is False
        if isinstance(nt, nengo.Direct):
            config[ens].on_chip = False
            report.placements.append(Placement(ens, False, "Direct mode runs on the host"))
            continue
        if not isinstance(nt, chip_neuron_types()):
            if unsupported == "error" and not user_off:
                raise ValidationError(
                    f"{ens}: neuron type {type(nt).__name__} cannot run on Loihi "
                    f"(the chip runs LIF and SpikingRectifiedLinear); use one of "
                    f"those or prepare(..., unsupported='host') to run it on the host",
                    attr="neuron_type",
                    obj=ens,
                )
            config[ens].on_chip = False
            report.placements.append(
                Placement(ens, False, f"{type(nt).__name__} is not a chip neuron type")
            )
            continue
        if user_off:
            report.placements.append(Placement(ens, False, "on_chip=False in the config"))
            continue
        n = ens.n_neurons
        n_blocks, size = 1, n
        if n > MAX_COMPARTMENTS or (
            max_neurons_per_core is not None and n > max_neurons_per_core
        ):
            if max_neurons_per_core is None:
                raise ValidationError(
                    f"{ens}: {n} neurons exceed the {MAX_COMPARTMENTS} compartments "
                    f"of one Loihi core (splitting is off: max_neurons_per_core=None)",
                    attr="n_neurons",
                    obj=ens,
                )
            n_blocks = -(-n // max_neurons_per_core)
            size = -(-n // n_blocks)
            config[ens].block_shape = nengo_loihi.BlockShape((size,), (n,))
        elif config[ens].block_shape is not None:
            size = int(np.prod(config[ens].block_shape.shape))
            n_blocks = -(-n // size)
        config[ens].on_chip = True
        chip.add(ens)
        why = "LIF/SpikingRectifiedLinear"
        if n_blocks > 1:
            why += f"; split into {n_blocks} blocks of <= {size} neurons"
        report.placements.append(Placement(ens, True, why, n_blocks, size))

    by_ens = {p.ensemble: p for p in report.placements}
    taus = {ens: set() for ens in chip}
    for conn in network.all_connections:
        pre = _ens_of(conn.pre_obj)
        post = _ens_of(conn.post_obj)
        pre_chip = pre in chip
        post_chip = post in chip
        host_spikes = post_chip and not pre_chip and isinstance(
            conn.pre_obj, nengo.ensemble.Neurons)
        if post_chip and (pre_chip or host_spikes):
            # the connection's synapse runs on the chip (host spikes are sent
            # as they are, with no decode_tau filter added)
            if not _is_lowpass(conn.synapse):
                raise ValidationError(
                    f"{conn}: synapse {conn.synapse} cannot run on Loihi (a synapse "
                    f"on the chip must be nengo.Lowpass or None)",
                    attr="synapse",
                    obj=conn,
                )
            # into an ensemble, nengo-loihi decodes through decode neurons
            # (filtered with the connection's tau), and the post block gets
            # decode_tau; only an ensemble's weight-solver connection is direct
            decoded = isinstance(conn.post_obj, nengo.Ensemble) and not (
                isinstance(conn.pre_obj, nengo.Ensemble)
                and getattr(conn.solver, "weights", False)
            )
            taus[post].add(decode_tau if decoded else _tau(conn.synapse))
            if host_spikes:
                note = (f"host spikes; decoded on the chip ({conn.synapse}, then "
                        f"Lowpass({decode_tau:g}))" if decoded else
                        f"host spikes; weights and synapse {conn.synapse} on the chip")
                report.crossings.append(Crossing(conn, "host->chip", note))
        elif post_chip:
            taus[post].add(decode_tau)
            if conn.synapse is None or not (
                type(conn.synapse) is nengo.Lowpass
                and np.isclose(conn.synapse.tau, decode_tau)
            ):
                note = (
                    f"chip adds Lowpass({decode_tau:g}) to the host filter "
                    f"{conn.synapse}"
                )
            else:
                note = f"Lowpass({decode_tau:g}) applied on the chip"
            report.crossings.append(Crossing(conn, "host->chip", note))
        elif pre_chip:
            what = (
                "spikes read by the host"
                if isinstance(conn.pre_obj, nengo.ensemble.Neurons)
                else "decoded on the chip (non-spiking readout block)"
            )
            report.crossings.append(
                Crossing(conn, "chip->host", f"{what}, host synapse {conn.synapse}")
            )
    for ens, ts in taus.items():
        by_ens[ens].tau = max(ts) if ts else None
        if len(ts) > 1:
            report.warnings.append(
                f"{_name(ens)}: inputs with time constants "
                f"{sorted(float(t) for t in ts)}; one block has one, nengo-loihi "
                f"uses the largest ({max(ts):g})"
            )

    if not chip:
        raise ValidationError(
            "no ensemble can run on the chip; nengo-loihi needs at least one "
            "LIF or SpikingRectifiedLinear ensemble",
            attr="network",
            obj=network,
        )

    if build:
        from nengo_loihi.builder.discretize import discretize_model

        with _host_filters_on_chip(network, decode_tau), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = nengo_loihi.builder.Model(dt=dt)
            model.decode_tau = decode_tau
            try:
                # built in floating point, then discretised here, so that the
                # weights can be compared before and after
                sim = nengo_loihi.Simulator(
                    network, dt=dt, target="simreal", model=model, remove_passthrough=False
                )
                sim.close()
                floats = {b: _synapse_weights(b) for b in model.blocks}
                discretize_model(model)
            except BuildError as e:
                raise BuildError(f"nengo-loihi cannot build this network: {e}") from e
        for block in model.blocks:
            use = block.utilization()
            precision = weight_precision(floats[block], _synapse_weights(block))
            report.blocks.append(
                dict(
                    label=str(block.label),
                    compartments=use["compartments"][0],
                    in_axons=use["in-axons"][0],
                    out_axons=use["out-axons"][0],
                    synapse_bits=use["synapses"][0],
                    **precision,
                )
            )
            if (precision["weights_lost"] > max_weights_lost
                    or precision["weight_error"] > max_weight_error):
                report.warnings.append(
                    f"block {str(block.label)[:48]}: on 8 bits "
                    f"{precision['weights_lost']:.1%} of its non-zero weights round to "
                    f"zero and the weights change by {precision['weight_error']:.1%} "
                    f"(relative rms; limits {max_weights_lost:.0%} and "
                    f"{max_weight_error:.0%}): its largest and smallest weights are "
                    f"{precision['weight_range']:.3g}x apart"
                )
    return report


def _synapse_weights(block):
    """A copy of each of a block's synapses' weights, flattened, as floats."""
    return [np.concatenate([np.ravel(w) for w in s.weights]).astype(float)
            if s.weights else np.zeros(0) for s in block.synapses]


def weight_precision(floats, ints):
    """How well a block's weights survive Loihi's 8-bit discretisation.

    nengo-loihi scales the weights of each synapse of a block by one factor
    (the block's scale times a power of two per synapse) and rounds them to
    a signed 8-bit mantissa, so small weights next to large ones lose their
    precision or become zero.

    Parameters
    ----------
    floats, ints : list of ndarray
        One array per synapse: its weights before and after discretisation.

    Returns
    -------
    dict
        ``weights_lost``: fraction of the non-zero weights that became
        zero; ``weight_error``: relative rms error of the discretised
        weights, each synapse rescaled by the least-squares factor between
        its two arrays; ``weight_range``: largest over smallest non-zero
        ``|weight|``.
    """
    n_nonzero = n_lost = 0
    err2 = norm2 = 0.0
    smallest, largest = np.inf, 0.0
    for f, q in zip(floats, ints):
        f = np.asarray(f, dtype=float).ravel()
        q = np.asarray(q, dtype=float).ravel()
        nz = f != 0
        if not nz.any():
            continue
        n_nonzero += int(nz.sum())
        n_lost += int(np.sum(q[nz] == 0))
        scale = float(q @ f) / float(f @ f)
        err2 += float(np.sum((q / scale - f) ** 2)) if scale != 0 else float(f @ f)
        norm2 += float(f @ f)
        a = np.abs(f[nz])
        smallest, largest = min(smallest, a.min()), max(largest, a.max())
    if n_nonzero == 0:
        return dict(weights_lost=0.0, weight_error=0.0, weight_range=1.0)
    return dict(weights_lost=n_lost / n_nonzero, weight_error=float(np.sqrt(err2 / norm2)),
                weight_range=float(largest / smallest))


@contextlib.contextmanager
def _host_filters_on_chip(network, decode_tau):
    """Leave a host-to-chip connection's ``Lowpass(decode_tau)`` to the chip.

    nengo-loihi filters every host input on the chip with
    ``Lowpass(decode_tau)`` and applies the connection's own synapse on the
    host as well. Where that synapse is the same filter, the model asked for
    it once: the host copy is dropped for the build and restored after.
    Host neurons are different: their spikes are sent as they are and the
    connection's synapse already runs on the chip, so it is kept.
    """
    config = network.config
    moved = []
    try:
        for conn in network.all_connections:
            post = _ens_of(conn.post_obj)
            pre = _ens_of(conn.pre_obj)
            post_chip = post is not None and config[post].on_chip is not False
            pre_chip = pre is not None and config[pre].on_chip is not False
            if (
                post_chip
                and not pre_chip
                and not isinstance(conn.pre_obj, nengo.ensemble.Neurons)
                and type(conn.synapse) is nengo.Lowpass
                and np.isclose(conn.synapse.tau, decode_tau)
            ):
                moved.append((conn, conn.synapse))
                conn.synapse = None
        yield moved
    finally:
        for conn, syn in moved:
            conn.synapse = syn


def nxsdk_available():
    """Whether Intel's NxSDK (needed for ``target="loihi"``) is importable."""
    return importlib.util.find_spec("nxsdk") is not None


def simulator(network, target="sim", dt=0.001, decode_tau=DECODE_TAU, **kwargs):
    """A ``nengo_loihi.Simulator`` for a prepared network.

    Differences from calling ``nengo_loihi.Simulator`` directly:

    - passthrough nodes are kept (``remove_passthrough=False``): nengo-loihi
      1.1 otherwise loses a probed node that only relays an ensemble's
      decoded output (the delay readout of a neural memory read 0);
    - a host-to-chip connection whose synapse is ``Lowpass(decode_tau)``
      gets that filter once, on the chip, instead of twice;
    - ``target="loihi"`` without NxSDK fails with a clear message.

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
    **kwargs
        Passed to ``nengo_loihi.Simulator`` (``seed``, ``precompute``, ...).
    """
    import nengo_loihi

    check_choice("target", target, TARGETS)
    decode_tau = check_positive("decode_tau", decode_tau)
    if target == "loihi" and not nxsdk_available():
        raise ValidationError(
            "needs Intel's NxSDK, which is not installed (it is not on the "
            "package index; the emulator runs with target='sim' or 'simreal')",
            attr="target",
        )
    kwargs.pop("progress_bar", None)  # nengo-loihi has none
    _ensure_params(network)
    model = nengo_loihi.builder.Model(dt=dt)
    model.decode_tau = decode_tau
    kwargs.setdefault("remove_passthrough", False)
    with _host_filters_on_chip(network, decode_tau):
        sim = nengo_loihi.Simulator(network, dt=dt, target=target, model=model, **kwargs)
    if target != "loihi":
        _count_input_spikes(sim)
    return sim


def _fanout(axons, n):
    """Synapses reached by a spike of each of ``n`` sources through ``axons``."""
    fan = np.zeros(n, dtype=np.int64)
    for axon in axons:
        if not hasattr(axon.target, "axon_weights_indices"):
            continue
        ids = axon.map_axon(np.arange(n))
        atoms = axon.map_atoms(np.arange(n))
        for k, (a, atom) in enumerate(zip(ids, atoms)):
            if a >= 0:
                w, _ = axon.target.axon_weights_indices(a, atom=atom)
                fan[k] += np.count_nonzero(w)
    return fan


def _count_input_spikes(sim):
    """Count the host's spikes as the emulator delivers them to the chip.

    nengo-loihi hands each step's host spikes to the emulator once and then
    forgets them, so they are counted on the way (a wrapper around each
    input's ``spike_idxs``).
    """
    for inp in sim.model.inputs:
        fan = _fanout(inp.axons, inp.n_neurons)
        tally = inp.nengo_lmu_tally = dict(spikes=0, synaptic_ops=0)
        original = inp.spike_idxs

        def counted(ti, original=original, fan=fan, tally=tally):
            idxs = original(ti)
            idx = np.asarray(idxs, dtype=np.int64).ravel()
            tally["spikes"] += idx.size
            tally["synaptic_ops"] += int(fan[idx].sum()) if idx.size else 0
            return idxs

        inp.spike_idxs = counted


def simulator_factory(target="sim", decode_tau=DECODE_TAU, **kwargs):
    """`simulator` as a class-like callable ``(network, dt=..., ...)``,
    for functions that take a simulator class (e.g. `run_delay_task`)."""

    def make(network, dt=0.001, **more):
        more = {**kwargs, **more}
        return simulator(network, target=target, dt=dt, decode_tau=decode_tau, **more)

    return make


def resource_counts(sim, n_inferences=1):
    """What the chip used and did during an emulator run.

    Parameters
    ----------
    sim : nengo_loihi.Simulator
        After running, with ``target="sim"`` or ``"simreal"``.
    n_inferences : int
        Number of inferences (e.g. sequences) the run contained; the
        ``*_per_inference`` entries divide by it.

    Returns
    -------
    dict
        ``cores`` (one block per core in nengo-loihi 1.1), ``compartments``,
        ``in_axons``, ``out_axons``, ``weights`` (synaptic weights stored:
        the parameter footprint), ``synapse_bits``, ``steps``, ``spikes``
        (of all chip compartments), ``synaptic_ops`` (for every spike, the
        synapses it reaches on the chip), ``activation_sparsity`` (fraction
        of compartment-steps without a spike), and the per-inference
        ``spikes_per_inference`` and ``synaptic_ops_per_inference``.
    """
    n_inferences = check_int("n_inferences", n_inferences, None)
    emu = sim.sims.get("emulator")
    if emu is None:
        raise ValidationError(
            "resource counts come from the emulator: use target='sim' or 'simreal'",
            attr="sim",
        )
    blocks = list(sim.model.blocks)
    slices = emu.block_info.slices
    counts = emu.compartment.spike_count
    out = dict(cores=len(blocks), compartments=0, in_axons=0, out_axons=0,
               weights=0, synapse_bits=0)
    spikes = 0
    synops = 0
    for block in blocks:
        use = block.utilization()
        out["compartments"] += use["compartments"][0]
        out["in_axons"] += use["in-axons"][0]
        out["out_axons"] += use["out-axons"][0]
        out["synapse_bits"] += use["synapses"][0]
        out["weights"] += sum(int(np.count_nonzero(w)) for s in block.synapses for w in s.weights)
        c = np.asarray(counts[slices[block]], dtype=np.int64)
        spikes += int(c.sum())
        synops += int(c @ _fanout(block.axons, block.n_neurons))
    in_spikes = in_synops = 0
    for inp in sim.model.inputs:
        tally = getattr(inp, "nengo_lmu_tally", None)
        if tally is not None:
            in_spikes += tally["spikes"]
            in_synops += tally["synaptic_ops"]
    steps = sim.n_steps
    out.update(
        steps=steps,
        spikes=spikes,
        input_spikes=in_spikes,
        synaptic_ops=synops + in_synops,
        input_synaptic_ops=in_synops,
        activation_sparsity=1.0 - spikes / max(out["compartments"] * steps, 1),
        spikes_per_inference=spikes / n_inferences,
        synaptic_ops_per_inference=(synops + in_synops) / n_inferences,
    )
    return out


class _LoihiNeural:
    """The neural form of `.LinearSystemNetwork`, built to run on Loihi.

    What changes against the plain neural form, and why:

    - the input enters through an input ensemble (``input_neurons``
      neurons, on the chip) with synapse ``Lowpass(DECODE_TAU)``: host input
      reaches the chip through that filter anyway, and a block has a single
      time constant, so the state populations (time constant ``synapse``)
      cannot take host input directly;
    - the memory therefore holds the input filtered by that Lowpass (a
      lag of about 5 ms; compensating it in the mapping was tried and made
      the spiking network worse);
    - populations connect neuron to neuron (solver ``weights=True``): a
      decoded connection would go through decode neurons, whose block needs
      weights that the 8-bit discretisation cannot hold for the small
      entries of the recurrent matrix (nengo-loihi: "Could not find
      appropriate weight exponent"), and which add a second filter;
    - default neurons: LIF at 100-200 Hz (nengo-loihi recommends low rates
      because a Loihi neuron spikes at most once per step).
    """

    def _build_neural(self, synapse, neuron_type, mapping, realizer, process,
                      radius, ens_dimensions, ens_kwargs):
        synapse, u, z_eval = self._neural_plan(
            synapse, mapping, realizer, process, radius, ens_dimensions
        )
        tau = synapse.tau
        n = self.system.n_states
        neuron_type = nengo.LIF() if neuron_type is None else neuron_type
        if not isinstance(neuron_type, chip_neuron_types()):
            raise ValidationError(
                f"must be LIF or SpikingRectifiedLinear to run on Loihi, got "
                f"{type(neuron_type).__name__}",
                attr="neuron_type", obj=self,
            )
        ens_kwargs = {} if ens_kwargs is None else dict(ens_kwargs)
        ens_kwargs.setdefault("max_rates", nengo.dists.Uniform(100, 200))
        ens_kwargs.setdefault("intercepts", nengo.dists.Uniform(-0.75, 0.75))
        tau_in = DECODE_TAU
        m_in = self.system.n_inputs
        T = self.T
        Ap, Bp = self.mapped_system.A, self.mapped_system.B
        Ad = self.discrete_system.A
        Bd = self.discrete_system.B
        u_peak = float(np.max(np.abs(u)))
        in_radius = 1.2 * u_peak
        self.input_filter = nengo.Lowpass(tau_in)

        self.input_ensemble = nengo.Ensemble(
            self.input_neurons * m_in, m_in, neuron_type=neuron_type,
            radius=in_radius,
            **{k: v for k, v in ens_kwargs.items() if k in ("max_rates", "intercepts")},
            label="input ensemble",
        )
        nengo.Connection(self.input, self.input_ensemble, synapse=self.input_filter)
        k = ens_dimensions
        slices = [slice(i, i + k) for i in range(0, n, k)]
        pops = []
        for i, sl in enumerate(slices):
            kw = dict(n_neurons=self.neurons_per_ensemble, dimensions=k,
                      neuron_type=neuron_type, radius=radius, label=f"ensemble[{i}]")
            if "eval_points" not in ens_kwargs:
                kw["eval_points"] = z_eval[:, sl]
            kw.update(ens_kwargs)
            pops.append(nengo.Ensemble(**kw))
        solver = nengo.solvers.LstsqL2(weights=True)
        for dst, sl in zip(pops, slices):
            nengo.Connection(self.input_ensemble, dst, transform=Bp[sl],
                             synapse=synapse, solver=solver)
        for src, sl_src in zip(pops, slices):
            for dst, sl_dst in zip(pops, slices):
                block = Ap[sl_dst, sl_src]
                if np.any(block):
                    nengo.Connection(src, dst, transform=block, synapse=synapse,
                                     solver=solver)
            nengo.Connection(src, self.state, transform=Ad @ T @ Ap[:, sl_src],
                             synapse=synapse)
        # the input terms of the readout (see LinearSystemNetwork), with the
        # populations' input u_f computed exactly on the host
        both = nengo.LinearFilter(*_series(tau, tau_in))
        nengo.Connection(self.input, self.state, transform=Ad @ T @ Bp, synapse=both)
        nengo.Connection(self.input, self.state, transform=Bd, synapse=self.input_filter)


def _series(tau1, tau2):
    """Numerator and denominator of Lowpass(tau1) followed by Lowpass(tau2)."""
    return [1.0], [tau1 * tau2, tau1 + tau2, 1.0]


class LoihiLinearSystemNetwork(_LoihiNeural, LinearSystemNetwork):
    """`.LinearSystemNetwork`'s neural form, built to run on Loihi.

    Takes the arguments of `.LinearSystemNetwork` (``n_neurons`` is
    required) and ``input_neurons``, the neurons per input dimension of the
    on-chip input ensemble. See ``_LoihiNeural`` for what differs.
    ``neuron_type`` defaults to `nengo.LIF`; ensembles default to
    ``max_rates`` uniform in [100, 200] Hz and intercepts in [-0.75, 0.75].

    Attributes
    ----------
    input_ensemble : nengo.Ensemble
        The input population on the chip.
    input_filter : nengo.Lowpass
        The filter on the way to it (the chip's host-input filter).
    """

    def __init__(self, system, n_neurons, input_neurons=100, **kwargs):
        self.input_neurons = check_int("input_neurons", input_neurons, None)
        if n_neurons is None:
            raise ValidationError(
                "the Loihi form is neural: give n_neurons", attr="n_neurons"
            )
        super().__init__(system, n_neurons=n_neurons, **kwargs)


class LoihiLegendreMemory(_LoihiNeural, LegendreMemory):
    """`.LegendreMemory`'s spiking form, built to run on Loihi.

    Takes the arguments of `.LegendreMemory` (``n_neurons`` is required)
    and ``input_neurons`` (see `LoihiLinearSystemNetwork`).

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10))
    ...     mem = LoihiLegendreMemory(6, 0.1, n_neurons=200)
    ...     nengo.Connection(stim, mem.input, synapse=None)
    ...     delayed = mem.add_delay_output(1.0)
    """

    def __init__(self, order, theta, n_neurons, input_neurons=100, **kwargs):
        self.input_neurons = check_int("input_neurons", input_neurons, None)
        if n_neurons is None:
            raise ValidationError(
                "the Loihi form is neural: give n_neurons", attr="n_neurons"
            )
        super().__init__(order, theta, n_neurons=n_neurons, **kwargs)


# --- tasks: the delay task and a trained classifier on the chip -----------


def delay_comparison(targets=("sim", "simreal"), n_neurons=200, duration=10.0,
                     seed=0, **kwargs):
    """The delay task (`.run_delay_task`) with `LoihiLegendreMemory`, on
    ``nengo.Simulator`` and on each emulator target, same network and input.

    Returns
    -------
    results : dict
        ``{"nengo": DelayResult, target: DelayResult, ...}``.
    resources : dict
        ``{target: resource_counts(...)}`` (one inference = the whole run).
    report : LoihiReport
        The placement of the memory.
    """
    from nengo_lmu.tasks import run_delay_task

    for t in targets:
        check_choice("targets", t, TARGETS[:2])
    kwargs = dict(kwargs, n_neurons=n_neurons, duration=duration, seed=seed,
                  memory=LoihiLegendreMemory)
    results = {"nengo": run_delay_task(label="nengo", **kwargs)}
    resources = {}
    report = []

    def factory(target):
        def make(network, dt=0.001, **more):
            report[:] = [prepare(network, build=False)]
            sim = simulator(network, target=target, dt=dt)
            emu = sim.sims["emulator"]
            close = emu.close

            def count_then_close():
                # the emulator forgets its state when it is closed
                if not emu.closed:
                    resources[target] = resource_counts(sim)
                close()

            emu.close = count_then_close
            return sim

        return make

    for target in targets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[target] = run_delay_task(label=target, simulator=factory(target),
                                             **kwargs)
    return results, resources, (report[0] if report else None)


NEURON_KINDS = ("loihi", "ideal")


class LoihiLMUClassifier(nengo.Network):
    """A trained LMU classifier laid out for Loihi: memory on the host,
    spiking hidden layer on the chip.

    The network has four parts. Each sequence is played one sample per step,
    and the decision is read after it:

    1. ``frontend`` (host): a node that plays ``[x[t], m[t]]``. ``m`` is the
       cell's exact Legendre memory (``Ad``, ``Bd`` of its `.LegendreMemory`),
       computed on the host from zero at the start of every sequence. After
       the last sample, the node holds the final ``[x, m]`` for
       ``hold_steps`` steps.
    2. ``encoder`` (host, ``on_chip=False``): on/off pairs of integrate-and-fire
       neurons, one pair per feature. Each pair fires at ``input_rate`` Hz
       at the feature's full scale ``input_scale``. Their spikes go to the
       chip as they are: nengo-loihi's own host-to-chip encoding clips
       values outside [-1, 1].
    3. ``hidden`` (chip): the cell's ``units`` ReLU neurons, spiking, with
       gain ``gain`` (``gain * h`` Hz) and ``amplitude = 1 / gain``. Their
       input is ``[W_x, W_m]`` applied to the encoder's spikes through
       ``Lowpass(synapse)``, on the chip.
    4. ``readout`` (host): ``W_o`` applied to the hidden spikes. The logits
       are its average over the last ``window`` steps of the hold.

    The cell must have no recurrence through the chip:
    ``hidden_to_hidden``, ``hidden_to_memory`` and ``memory_to_memory``
    must all be False, and there must be one cell. Then the last step's
    logits depend only on the final ``[x, m]``, and holding it gives the
    hidden neurons time to express their rates as spike counts. The same
    network runs on ``nengo.Simulator`` and on nengo-loihi (`predict`).

    Parameters
    ----------
    classifier : LMUClassifier or path
        A trained classifier with a ReLU hidden layer
        (``nengo.RectifiedLinear``, or ``SpikingRectifiedLinear``; any
        ``hidden_gain`` and ``amplitude``), or the path of one saved with
        `.LMUClassifier.save`. Trained memory weights
        (``trainable_memory=True``) are used as trained.
    scale_x : ndarray (n, n_steps, input_d), optional
        Sequences, typically the training data, that set ``input_scale``:
        the largest ``|x|`` and ``|m|`` of each feature over them. Give
        exactly one of ``scale_x`` and ``input_scale``.
    input_scale : array_like, optional
        The encoder's full scale, one value per feature (``input_d``
        values for ``x`` when ``input_to_hidden``, then the memory's
        ``memory_d * order``), or a scalar for all. `predict` clips larger
        values to it and reports how many were clipped.
    gain : float
        Gain of the hidden neurons (Hz per unit of ``h``). Loihi fires at
        most once a step, so rates above ``1 / dt`` (1000 Hz) saturate.
    input_rate : float
        Rate of an encoder neuron at full scale, at most ``1 / dt``.
    synapse : float
        Time constant (s) of the chip's synapse from the encoder's spikes.
    hold_steps : int
        Steps for which the last sample is held after each sequence.
    window : int
        The logits average the readout over the last ``window`` steps of
        the hold (at most ``hold_steps``).
    neuron_type : "loihi" or "ideal"
        Hidden neurons in the nengo reference:
        ``nengo_loihi.neurons.LoihiSpikingRectifiedLinear`` ("loihi") keeps
        the chip's integer inter-spike intervals and its reset to zero;
        ``nengo.SpikingRectifiedLinear`` ("ideal") does not. On the chip
        both run as the same compartments.
    seed : int, optional
        Seeds the encoder's initial voltages, i.e. the phases of its spikes
        (and, with ``neuron_type="ideal"``, of the hidden neurons'); the
        classifier's seed by default, so repeated runs give the same spikes.
    label, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    weights : dict
        ``W_x`` (if present), ``W_m`` and ``readout``, as given.
    input_weights : ndarray (units, n_features)
        ``[W_x, W_m]`` (or ``W_m``): the hidden layer's weights on the
        features.
    readout_weights : ndarray (n_classes, units)
        The readout times the cell's ``hidden_gain`` and hidden
        ``amplitude`` (the chip's neurons compute ``relu(z)``; the cell's
        ``amplitude * relu(hidden_gain * z)`` is that times both).
    e_x : ndarray
        The memory's input encoder.
    memory : nengo_lmu.systems.LinearSystem
        The discrete memory (one step per sample; the cell's ``Ad``, ``Bd``).
    input_scale : ndarray
        The encoder's full scale per feature.
    steps_per_sequence : int or None
        ``n_steps + hold_steps`` of the last `predict` call.
    last_output : ndarray (n, steps_per_sequence, n_classes) or None
        The readout on every step of the last `predict` call.
    """

    def __init__(self, classifier, scale_x=None, input_scale=None, gain=300.0,
                 input_rate=1000.0, synapse=DECODE_TAU, hold_steps=40, window=20,
                 neuron_type="loihi", seed=None, label=None, add_to_container=None):
        from nengo_lmu.networks.classifier import LMUClassifier, _SequenceInput

        if isinstance(classifier, (str, os.PathLike)):
            classifier = LMUClassifier.load(classifier, add_to_container=False)
        if not isinstance(classifier, LMUClassifier):
            raise ValidationError(
                f"must be an LMUClassifier or the path of a saved one, got "
                f"{type(classifier).__name__}", attr="classifier")
        # the encoder's initial voltages (spike phases) are drawn from the
        # seed: the classifier's by default, so runs repeat
        super().__init__(label=label or "LoihiLMUClassifier",
                         seed=classifier.seed if seed is None else seed,
                         add_to_container=add_to_container)
        self._check_classifier(classifier)
        cell = classifier.cells[0]
        self.gain = check_positive("gain", gain, obj=self)
        self.input_rate = check_positive("input_rate", input_rate, obj=self)
        if self.input_rate > 1 / self.dt:
            raise ValidationError(
                f"must be at most 1/dt = {1 / self.dt:g} Hz (Loihi fires at most "
                f"once a step), got {input_rate}", attr="input_rate", obj=self)
        self.synapse = check_positive("synapse", synapse, obj=self)
        self.hold_steps = check_int("hold_steps", hold_steps, self)
        self.window = check_int("window", window, self)
        if self.window > self.hold_steps:
            raise ValidationError(
                f"must be at most hold_steps={self.hold_steps}, got {window}",
                attr="window", obj=self)
        self.neuron_kind = check_choice("neuron_type", neuron_type, NEURON_KINDS, self)

        w = classifier.get_weights()
        self.e_x = np.asarray(w["cell0.e_x"], dtype=float)
        # the memory as the cell runs it: trained Ad and Bd where they are
        # trainable (trainable_memory=True), else the exact discretisation
        exact = cell.memory.discrete_system
        self.memory = exact.replace(A=w.get("cell0.Ad", exact.A),
                                    B=w.get("cell0.Bd", exact.B))
        self.input_d = cell.input_d
        self.n_classes = classifier.n_classes
        self.uses_x = cell.input_to_hidden
        self.weights = {"W_m": w["cell0.W_m"], "readout": w["readout"]}
        # the cell's h = amplitude * relu(hidden_gain * z) = c * relu(z) (c > 0);
        # the chip's neurons give relu(z), so c goes into the readout
        self.readout_weights = (w["readout"] * cell.hidden_gain
                                * cell.hidden_neuron_type.amplitude)
        if self.uses_x:
            self.weights["W_x"] = w["cell0.W_x"]
        # the hidden layer's weights on the features [x, m] (or [m])
        self.input_weights = (np.concatenate([w["cell0.W_x"], w["cell0.W_m"]], axis=1)
                              if self.uses_x else w["cell0.W_m"])
        self.n_features = (self.input_d if self.uses_x else 0) + self.memory.n_states
        if (scale_x is None) == (input_scale is None):
            raise ValidationError(
                "give exactly one of scale_x (sequences to measure) and input_scale",
                attr="input_scale", obj=self)
        if scale_x is not None:
            feats = self.features(scale_x, hold=False)
            input_scale = np.abs(feats).max(axis=(0, 1))
        scale = np.broadcast_to(np.asarray(input_scale, dtype=float),
                                (self.n_features,)).copy()
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            bad = scale[~(np.isfinite(scale) & (scale > 0))][0]
            raise ValidationError(
                f"every full scale must be finite and > 0, got {bad} (a feature "
                f"that is always zero in scale_x?)", attr="input_scale", obj=self)
        self.input_scale = scale
        self.steps_per_sequence = None
        self.last_output = None

        d = self.n_features
        signs = np.concatenate([np.ones(d), -np.ones(d)])
        dims = np.concatenate([np.arange(d), np.arange(d)])
        encoders = signs[:, None] * np.eye(d)[dims]
        # value of feature i = sum over its pair of sign * scale / rate * rate_j
        decode = np.zeros((d, 2 * d))
        decode[dims, np.arange(2 * d)] = signs * scale[dims] / self.input_rate
        if self.neuron_kind == "loihi":
            from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

            hidden_type = LoihiSpikingRectifiedLinear(amplitude=1.0 / self.gain)
        else:
            hidden_type = nengo.SpikingRectifiedLinear(amplitude=1.0 / self.gain)

        _ensure_params(self)
        with self:
            self._sequence = _SequenceInput(d)
            self.frontend = nengo.Node(self._sequence, size_out=d, label="frontend [x, m]")
            self.encoder = nengo.Ensemble(
                2 * d, d, encoders=encoders, normalize_encoders=False,
                neuron_type=nengo.SpikingRectifiedLinear(),
                gain=self.input_rate / scale[dims], bias=np.zeros(2 * d),
                label="encoder")
            self.config[self.encoder].on_chip = False
            nengo.Connection(self.frontend, self.encoder, synapse=None)
            self.hidden = nengo.Ensemble(
                cell.units, 1, neuron_type=hidden_type,
                gain=nengo.dists.Choice([self.gain]), bias=nengo.dists.Choice([0.0]),
                label="hidden")
            self.input_connection = nengo.Connection(
                self.encoder.neurons, self.hidden.neurons, transform=self.input_weights @ decode,
                synapse=nengo.Lowpass(self.synapse))
            self.readout = nengo.Node(size_in=self.n_classes, label="readout")
            nengo.Connection(self.hidden.neurons, self.readout,
                             transform=self.readout_weights, synapse=None)
            self.probe = nengo.Probe(self.readout, synapse=None, label="logits")

    #: Simulator step (s): one step per sample, as the rate network was trained.
    dt = 0.001

    @staticmethod
    def _check_classifier(clf):
        if len(clf.cells) != 1:
            raise ValidationError(
                f"must have one cell (a second cell's memory would need the hidden "
                f"spikes back on the host), got {len(clf.cells)}", attr="classifier")
        cell = clf.cells[0]
        for flag in ("hidden_to_hidden", "hidden_to_memory", "memory_to_memory"):
            if getattr(cell, flag):
                raise ValidationError(
                    f"the cell must have {flag}=False (the memory runs on the host and "
                    f"the hidden layer is read once per sequence), got True",
                    attr="classifier")
        if type(cell.hidden_neuron_type) not in (nengo.RectifiedLinear,
                                                  nengo.SpikingRectifiedLinear):
            raise ValidationError(
                f"the hidden layer must be ReLU (the chip has no "
                f"{type(cell.hidden_neuron_type).__name__}); train with "
                f"RectifiedLinear", attr="classifier")

    def features(self, x, hold=True):
        """What the host's front end plays: ``[x[t], m[t]]`` per step.

        Parameters
        ----------
        x : ndarray (n, n_steps, input_d)
        hold : bool
            Append ``hold_steps`` copies of the last step.

        Returns
        -------
        ndarray (n, n_steps [+ hold_steps], n_features), not clipped.
        """
        from nengo_lmu.data import check_sequence_data

        x = np.asarray(x, dtype=float)
        check_sequence_data(x, n_inputs=self.input_d)
        u = x @ self.e_x.T
        m = np.stack([self.memory.simulate(ui, output=False) for ui in u])
        f = np.concatenate([x, m], axis=2) if self.uses_x else m
        if hold:
            f = np.concatenate([f, np.repeat(f[:, -1:], self.hold_steps, axis=1)], axis=1)
        return f

    def rate_logits(self, x):
        """The trained rate network's logits on the last step (no spikes)."""
        f = self.features(x, hold=False)[:, -1]
        return np.maximum(f @ self.input_weights.T, 0) @ self.readout_weights.T

    def predict(self, x, target="nengo"):
        """Logits on sequences ``x``, with what the run cost.

        The sequences are played back to back in one simulator: the host
        memory restarts from zero for each one (the hidden layer has no
        recurrence; its synapse forgets the previous sequence within a few
        ``synapse`` time constants). The neurons' voltages, i.e. the phases
        of their spikes, carry over, so a sequence's logits can differ by a
        spike or so with the sequences played before it (the runs repeat
        for the same ``x``).

        Parameters
        ----------
        x : ndarray (n, n_steps, input_d)
        target : "nengo", "sim", "simreal" or "loihi"
            ``nengo.Simulator`` or a nengo-loihi target (`simulator`).

        Returns
        -------
        logits : ndarray (n, n_classes)
        info : dict
            ``seconds`` (the run, without the build), ``build_seconds``,
            ``steps``, ``clipped`` (fraction of feature values beyond
            ``input_scale``, clipped), ``saturated`` (fraction of the hidden
            neurons, over the sequences' held last samples, that the rate
            network drives above ``1 / dt``, where the chip's one spike a
            step saturates), ``report`` (`prepare`'s placement)
            and, on the emulator, ``resources`` (`resource_counts`, per
            inference over ``n`` sequences).
        """
        import time

        check_choice("target", target, ("nengo",) + TARGETS, self)
        f = self.features(x)
        n, steps = f.shape[:2]
        over = np.abs(f) > self.input_scale
        clipped = float(over.mean())
        if clipped > 1e-3:
            warnings.warn(
                f"{clipped:.3%} of the feature values exceed input_scale and are "
                f"clipped (largest ratio {np.max(np.abs(f) / self.input_scale):.3g})")
        f = np.clip(f, -self.input_scale, self.input_scale)
        rates = self.gain * np.maximum(f[:, -1] @ self.input_weights.T, 0)
        saturated = float(np.mean(rates > 1 / self.dt))
        if saturated > 1e-3:
            warnings.warn(
                f"{saturated:.3%} of the hidden neurons would fire above 1/dt = "
                f"{1 / self.dt:g} Hz (at most {rates.max():.4g} Hz), where Loihi "
                f"saturates: lower the gain")
        self._sequence.data = f.reshape(n * steps, -1)
        self.steps_per_sequence = steps
        info = dict(steps=n * steps, n=n, clipped=clipped, saturated=saturated,
                    report=prepare(self, build=False))
        t0 = time.perf_counter()
        if target == "nengo":
            sim = nengo.Simulator(self, dt=self.dt, progress_bar=False)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sim = simulator(self, target=target, dt=self.dt)
        info["build_seconds"] = time.perf_counter() - t0
        self._sequence.dt = self.dt
        with sim:
            t0 = time.perf_counter()
            sim.run_steps(n * steps)
            info["seconds"] = time.perf_counter() - t0
            out = sim.data[self.probe].reshape(n, steps, -1)
            self.last_output = out
            if target in ("sim", "simreal"):
                info["resources"] = resource_counts(sim, n_inferences=n)
        return out[:, -self.window:].mean(axis=1), info


def train_digits_classifier(path, epochs=20, seed=0):
    """Train a digits classifier that `LoihiLMUClassifier` can run; save it.

    100 ReLU units, order 48, theta 64 and no hidden-to-hidden weights,
    trained in parallel (`nengo_lmu.dl.train_parallel_classifier`, imports
    TensorFlow; seconds) on `nengo_lmu.data.permuted_digits` and converted
    to an `.LMUClassifier`. Returns the rate accuracy on all held-out
    sequences.
    """
    # pylint: disable=import-outside-toplevel
    from nengo_lmu.data import permuted_digits
    from nengo_lmu.dl import to_classifier, train_parallel_classifier

    res = train_parallel_classifier(
        permuted_digits(), 10,
        [dict(units=100, order=48, theta=64.0, hidden_activation="relu",
              hidden_to_hidden=False)],
        epochs=epochs, seed=seed)
    to_classifier(res.model, seed=seed).save(path)
    return res.test_accuracy


def digits_comparison(path, n_test=None, targets=("sim",), data=None, **kwargs):
    """A saved digits classifier as a `LoihiLMUClassifier`: held-out
    accuracy on ``nengo.Simulator`` and on each nengo-loihi target.

    The encoder's scale comes from the training sequences of
    `nengo_lmu.data.permuted_digits` (or of ``data``); the first ``n_test``
    held-out sequences (all by default) are the same for every simulator.
    ``kwargs`` go to `LoihiLMUClassifier`. Returns ``{name: info}`` with
    ``name`` ``"rate"`` (the trained network without spikes), ``"nengo"``
    or a target; each ``info`` is `LoihiLMUClassifier.predict`'s, plus
    ``accuracy`` and ``logits``.
    """
    from nengo_lmu.data import permuted_digits

    data = permuted_digits() if data is None else data
    n = len(data["x_test"]) if n_test is None else check_int("n_test", n_test, None)
    x = np.asarray(data["x_test"][:n])
    y = np.asarray(data["y_test"]).ravel()[:n]
    net = LoihiLMUClassifier(path, scale_x=data["x_train"], **kwargs)
    rate = net.rate_logits(x)
    out = {"rate": dict(accuracy=float(np.mean(rate.argmax(-1) == y)), logits=rate, n=n)}
    for name in ("nengo",) + tuple(targets):
        logits, info = net.predict(x, target=name)
        info.update(accuracy=float(np.mean(logits.argmax(-1) == y)), logits=logits)
        out[name] = info
    return out
