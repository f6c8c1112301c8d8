"""`prepare`: check a network for nengo-loihi, place it, report.

`prepare` runs four steps, each a function of its own: `place_ensembles`
(neuron types and sizes), `check_connections` (synapses on the chip, the
host-chip crossings and each block's time constant), the check that
something runs on the chip, and `trial_build` (per-core use and 8-bit
weight precision from a build with the emulator).

Every ensemble is checked and placed:

- neuron type: only `nengo.LIF` and `nengo.SpikingRectifiedLinear` run on
  the chip. Others raise a `ValidationError` (``unsupported="error"``) or
  are placed on the host (``unsupported="host"``; ``nengo.Direct``
  ensembles always run on the host).
- size: an ensemble of more than ``max_neurons_per_core`` neurons is given
  a ``block_shape`` that splits it over several cores; with
  ``max_neurons_per_core=None`` it raises instead.
- synapses: a connection between two on-chip objects must have a
  `nengo.Lowpass` synapse (or none); every on-chip block has a single input
  time constant, so conflicting ones are reported.

Connections between the host and the chip are listed. nengo-loihi filters
every host-to-chip input with ``Lowpass(decode_tau)`` on the chip, which is
reported where the connection has no such synapse (see `simulator`, which
applies a connection's ``Lowpass(decode_tau)`` on the chip instead of on
the host). Spikes of host neurons into chip neurons are the exception: they
are sent as they are, and the connection's own synapse (``Lowpass`` or
none) runs on the chip.

nengo-loihi 1.1 itself splits an ensemble larger than a core into blocks
and uses the largest of a block's input time constants. What `prepare`
adds: it does that split by the limit you choose (``max_neurons_per_core``,
or refuses it), it names the ensemble, the connection, the rule and the bad
value before a build, reports what runs where and why, what each crossing
adds, the time-constant conflicts, and how much of each block's weights
survive 8 bits.
"""

import warnings

import nengo
import numpy as np
from nengo.exceptions import BuildError, ValidationError

from nengo_lmu.loihi._compat import (
    BUILD_KWARGS,
    ensure_params,
    expected_warnings,
    host_filters_on_chip,
    nengo_loihi_module,
    new_model,
)
from nengo_lmu.loihi.hardware import (
    DECODE_TAU,
    MAX_CHIP_COMPARTMENTS,
    MAX_COMPARTMENTS,
    MAX_CORES,
    ensemble_of,
    is_chip_neuron_type,
    is_lowpass,
    object_name,
    synapse_name,
    synapse_tau,
)
from nengo_lmu.loihi.placement_report import Crossing, LoihiReport, Placement
from nengo_lmu.loihi.precision import synapse_weights, weight_precision
from nengo_lmu.validation import check_choice, check_int, check_positive

#: What `prepare` may do with an ensemble whose neuron type the chip lacks.
UNSUPPORTED = ("error", "host")


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

    Each ensemble's neuron type and size, each on-chip connection's synapse
    and each host-chip crossing are checked (see the module's description).

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

    Examples
    --------
    >>> with nengo.Network(seed=0) as net:
    ...     stim = nengo.Node([0.5])
    ...     a = nengo.Ensemble(50, 1, label="a")
    ...     _ = nengo.Connection(stim, a)
    >>> report = prepare(net, build=False)
    >>> [object_name(e) for e in report.on_chip]
    ['a']
    """
    check_prepare_arguments(
        network, unsupported, max_neurons_per_core, max_weights_lost, max_weight_error
    )
    dt = check_positive("dt", dt)
    decode_tau = check_positive("decode_tau", decode_tau)
    ensure_params(network)
    report = LoihiReport()
    chip = place_ensembles(network, report, unsupported, max_neurons_per_core)
    check_chip_size(network, report)
    check_connections(network, report, chip, decode_tau)
    if not chip:
        raise ValidationError(
            "no ensemble can run on the chip; nengo-loihi needs at least one "
            "LIF or SpikingRectifiedLinear ensemble",
            attr="network",
            obj=network,
        )
    if build:
        trial_build(network, report, dt, decode_tau, max_weights_lost, max_weight_error)
    return report


def check_prepare_arguments(
    network, unsupported, max_neurons_per_core, max_weights_lost, max_weight_error
):
    """`prepare`'s checks of its arguments (errors name the parameter)."""
    if not isinstance(network, nengo.Network):
        raise ValidationError(
            f"must be a nengo.Network, got {type(network).__name__} {network!r:.60}",
            attr="network",
        )
    check_choice("unsupported", unsupported, UNSUPPORTED)
    if max_neurons_per_core is not None:
        check_int("max_neurons_per_core", max_neurons_per_core, None)
        if max_neurons_per_core > MAX_COMPARTMENTS:
            raise ValidationError(
                f"must be at most {MAX_COMPARTMENTS} (compartments per core), "
                f"got {max_neurons_per_core}",
                attr="max_neurons_per_core",
            )
    for name, value in (
        ("max_weights_lost", max_weights_lost),
        ("max_weight_error", max_weight_error),
    ):
        if not 0 <= value <= 1:
            raise ValidationError(f"must be a fraction in [0, 1], got {value}", attr=name)


def place_ensembles(network, report, unsupported="error", max_neurons_per_core=MAX_COMPARTMENTS):
    """Step 1 of `prepare`: decide where each ensemble runs.

    Sets ``on_chip`` (and ``block_shape`` where an ensemble is split) in the
    network's config, appends a `Placement` per ensemble to ``report`` and
    returns the set of on-chip ensembles.
    """
    nengo_loihi = nengo_loihi_module()

    config = network.config
    chip = set()
    for ens in network.all_ensembles:
        nt = ens.neuron_type
        user_off = config[ens].on_chip is False
        if isinstance(nt, nengo.Direct):
            config[ens].on_chip = False
            report.placements.append(Placement(ens, False, "Direct mode runs on the host"))
            continue
        if not is_chip_neuron_type(nt):
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
        if n > MAX_COMPARTMENTS or (max_neurons_per_core is not None and n > max_neurons_per_core):
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
    return chip


def check_chip_size(network, report):
    """Step 1b of `prepare`: the on-chip ensembles must fit one chip
    (`MAX_CORES` cores of `MAX_COMPARTMENTS` compartments).

    nengo-loihi 1.1 runs on one chip; a network that needs more is refused
    here, naming the limit, rather than failing in the build.
    """
    placed = [p for p in report.placements if p.on_chip]
    cores = sum(p.n_blocks for p in placed)
    compartments = sum(p.ensemble.n_neurons for p in placed)
    if cores > MAX_CORES or compartments > MAX_CHIP_COMPARTMENTS:
        largest = max(placed, key=lambda p: p.ensemble.n_neurons).ensemble
        raise ValidationError(
            f"the on-chip ensembles need {compartments} compartments on {cores} "
            f"cores; one Loihi chip has {MAX_CORES} cores of {MAX_COMPARTMENTS} "
            f"compartments ({MAX_CHIP_COMPARTMENTS}); the largest is "
            f"{object_name(largest)} ({largest.n_neurons} neurons)",
            attr="n_neurons",
            obj=network,
        )


def check_connections(network, report, chip, decode_tau=DECODE_TAU):
    """Step 2 of `prepare`: synapses that run on the chip, host-chip
    crossings, and the time constant of each on-chip block.

    Appends a `Crossing` per host-chip connection and a warning per block
    with conflicting time constants to ``report``, and sets each
    placement's ``tau``.
    """
    by_ens = {p.ensemble: p for p in report.placements}
    taus = {ens: set() for ens in chip}
    for conn in network.all_connections:
        tau, crossing = check_connection(conn, chip, decode_tau)
        if tau is not None:
            taus[ensemble_of(conn.post_obj)].add(tau)
        if crossing is not None:
            report.crossings.append(crossing)
    for ens, ts in taus.items():
        by_ens[ens].tau = max(ts) if ts else None
        if len(ts) > 1:
            report.warnings.append(
                f"{object_name(ens)}: inputs with time constants "
                f"{sorted(float(t) for t in ts)}; one block has one, nengo-loihi "
                f"uses the largest ({max(ts):g})"
            )


def check_connection(conn, chip, decode_tau=DECODE_TAU):
    """Part of `check_connections` for one connection: refuse a synapse the
    chip cannot run; returns the time constant it gives its on-chip post
    block (None if the post is on the host) and its `Crossing` (None if it
    does not cross between host and chip)."""
    pre_chip = ensemble_of(conn.pre_obj) in chip
    post_chip = ensemble_of(conn.post_obj) in chip
    synapse = synapse_name(conn.synapse)
    host_spikes = post_chip and not pre_chip and isinstance(conn.pre_obj, nengo.ensemble.Neurons)
    if post_chip and (pre_chip or host_spikes):
        # the connection's synapse runs on the chip (host spikes are sent
        # as they are, with no decode_tau filter added)
        if not is_lowpass(conn.synapse):
            raise ValidationError(
                f"{conn}: synapse {synapse} cannot run on Loihi (a synapse "
                f"on the chip must be nengo.Lowpass or None)",
                attr="synapse",
                obj=conn,
            )
        # into an ensemble, nengo-loihi decodes through decode neurons
        # (filtered with the connection's tau), and the post block gets
        # decode_tau; only an ensemble's weight-solver connection is direct
        decoded = isinstance(conn.post_obj, nengo.Ensemble) and not (
            isinstance(conn.pre_obj, nengo.Ensemble) and getattr(conn.solver, "weights", False)
        )
        tau = decode_tau if decoded else synapse_tau(conn.synapse)
        if not host_spikes:
            return tau, None
        note = (
            f"host spikes; decoded on the chip ({synapse}, then Lowpass({decode_tau:g}))"
            if decoded
            else f"host spikes; weights and synapse {synapse} on the chip"
        )
        return tau, Crossing(conn, "host->chip", note)
    if post_chip:
        if conn.synapse is None or not (
            type(conn.synapse) is nengo.Lowpass and np.isclose(conn.synapse.tau, decode_tau)
        ):
            note = f"chip adds Lowpass({decode_tau:g}) to the host filter {synapse}"
        else:
            note = f"Lowpass({decode_tau:g}) applied on the chip"
        return decode_tau, Crossing(conn, "host->chip", note)
    if pre_chip:
        what = (
            "spikes read by the host"
            if isinstance(conn.pre_obj, nengo.ensemble.Neurons)
            else "decoded on the chip (non-spiking readout block)"
        )
        return None, Crossing(conn, "chip->host", f"{what}, host synapse {synapse}")
    return None, None


def trial_build(
    network, report, dt=0.001, decode_tau=DECODE_TAU, max_weights_lost=0.1, max_weight_error=0.05
):
    """Step 4 of `prepare`: build with the emulator (no simulation) and
    report each block's use of its core and its weights on 8 bits.

    The network is built in floating point, then discretised here, so that
    each block's weights can be compared before and after.
    """
    nengo_loihi = nengo_loihi_module()
    from nengo_loihi.builder.discretize import discretize_block, discretize_probe

    with host_filters_on_chip(network, decode_tau), expected_warnings():
        model = new_model(dt, decode_tau)
        try:
            sim = nengo_loihi.Simulator(
                network, dt=dt, target="simreal", model=model, **BUILD_KWARGS
            )
            sim.close()
            floats = {b: synapse_weights(b) for b in model.blocks}
        except BuildError as e:
            raise BuildError(f"nengo-loihi cannot build this network: {e}") from e
        # nengo-loihi's discretize_model, block by block, so that a block
        # whose weights do not fit 8 bits is named (nengo-loihi fails with a
        # bare AssertionError where the weights span too many decades)
        v_scale = {}
        for block in model.blocks:
            try:
                v_scale[block] = discretize_block(block)
            except (AssertionError, ValueError, OverflowError, BuildError) as e:
                w = np.abs(np.concatenate([np.ravel(x) for x in floats[block]] or [[0]]))
                w = w[w > 0]
                span = f"; its weights span {w.max() / w.min():.3g}x" if w.size else ""
                raise BuildError(
                    f"nengo-loihi cannot build this network: block "
                    f"{str(block.label)[:60]!r} cannot be discretised to the "
                    f"chip's 8-bit weights{span} ({type(e).__name__}{': ' if str(e) else ''}"
                    f"{e}); scale "
                    f"its input or weights so they span fewer decades"
                ) from e
        for probe in model.probes:
            for i, block in enumerate(probe.target):
                discretize_probe(probe, i, v_scale[block])
    lossy = report_blocks(network, report, model, floats, max_weights_lost, max_weight_error)
    if lossy:
        more = f" (and {len(lossy) - 1} more blocks: see the report)" if len(lossy) > 1 else ""
        warnings.warn(lossy[0] + more, LoihiPrecisionWarning, stacklevel=3)


def report_blocks(network, report, model, floats, max_weights_lost, max_weight_error):
    """Part of `trial_build`: append each built block's use of its core and
    its weights' precision on 8 bits (against ``floats``, its weights before
    discretisation) to ``report``; returns the warnings of the blocks that
    lose more than the limits."""
    designs = design_of(network)
    lossy = []
    for block in model.blocks:
        use = block.utilization()
        precision = weight_precision(floats[block], synapse_weights(block))
        label = str(block.label)
        design = next((d for ens, d in designs.items() if label.startswith(str(ens))), {})
        report.blocks.append(
            dict(
                label=label,
                compartments=use["compartments"][0],
                in_axons=use["in-axons"][0],
                out_axons=use["out-axons"][0],
                synapse_bits=use["synapses"][0],
                design_tau=design.get("tau"),
                design_range=design.get("weight_range"),
                **precision,
            )
        )
        if (
            precision["weights_lost"] > max_weights_lost
            or precision["weight_error"] > max_weight_error
        ):
            message = (
                f"block {label[:48]}: on 8 bits "
                f"{precision['weights_lost']:.1%} of its non-zero weights round to "
                f"zero and the weights change by {precision['weight_error']:.1%} "
                f"(relative rms; limits {max_weights_lost:.0%} and "
                f"{max_weight_error:.0%}): its largest and smallest weights are "
                f"{precision['weight_range']:.3g}x apart"
            )
            report.warnings.append(message)
            lossy.append(message)
    return lossy


class LoihiPrecisionWarning(UserWarning):
    """A block's weights lose more than `prepare`'s limits on 8 bits."""


def design_of(network):
    """``{ensemble: design}`` from every Loihi-ready subnetwork (those with a
    ``loihi_design`` attribute, e.g. `LoihiLegendreMemory`): the synapse
    time constant and the range of mapped weights each population was
    designed for."""
    out = {}
    for net in [network, *network.all_networks]:
        out.update(getattr(net, "loihi_design", {}) or {})
    return out
