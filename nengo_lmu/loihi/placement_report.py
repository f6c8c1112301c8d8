"""What `prepare` found: the placement of each ensemble, the host-chip
crossings, the per-core use and the warnings, as data and as a table."""

from dataclasses import dataclass, field

import nengo

from nengo_lmu.loihi.hardware import (
    MAX_COMPARTMENTS,
    MAX_IN_AXONS,
    MAX_OUT_AXONS,
    connection_name,
    object_name,
)
from nengo_lmu.tables import format_table


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
        compartments, input and output axons, synapse bits, the
        `weight_precision` of its weights on 8 bits and, for the populations
        of a Loihi-ready network, what it was designed for: ``design_tau``
        (its synapse) and ``design_range`` (largest over smallest non-zero
        entry of the mapped transforms into it; 8-bit weights with
        nengo-loihi's per-synapse shifts hold about 2^6 * 2^8).
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
        rows = []
        for p in self.placements:
            ens = p.ensemble
            rows.append(
                (
                    object_name(ens),
                    str(ens.n_neurons),
                    type(ens.neuron_type).__name__,
                    "chip" if p.on_chip else "host",
                    str(p.n_blocks) if p.on_chip else "-",
                    "-" if p.tau is None else f"{p.tau:g}",
                    p.reason,
                )
            )
        headers = ("ensemble", "neurons", "type", "where", "cores", "tau (s)", "why")
        lines = [format_table(headers, rows, align="left")]
        if self.crossings:
            n_in = sum(c.direction == "host->chip" for c in self.crossings)
            n_out = len(self.crossings) - n_in
            lines.append(
                f"\nhost<->chip connections: {n_in} host->chip, {n_out} chip->host "
                "(each crossing adds one step of delay)"
            )
            rows = [(connection_name(c.connection), c.direction, c.note) for c in self.crossings]
            lines.append(format_table(("connection", "direction", "note"), rows, align="left"))
        if self.blocks:
            rows = [
                (
                    b["label"][:48],
                    f"{b['compartments']}/{MAX_COMPARTMENTS}",
                    f"{b['in_axons']}/{MAX_IN_AXONS}",
                    f"{b['out_axons']}/{MAX_OUT_AXONS}",
                    str(b["synapse_bits"]),
                    f"{b['weights_lost']:.1%}",
                    f"{b['weight_error']:.2%}",
                    "-" if b.get("design_tau") is None else f"{b['design_tau']:g}",
                    "-" if b.get("design_range") is None else f"{b['design_range']:.3g}",
                )
                for b in self.blocks
            ]
            headers = (
                "block (core)",
                "compartments",
                "in-axons",
                "out-axons",
                "synapse bits",
                "8-bit weights: lost",
                "error",
                "design tau (s)",
                "design weight range",
            )
            lines.append("\nper-core use (trial build):")
            lines.append(format_table(headers, rows, align="left"))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()
