"""The conventions of the mapping between nengo networks and NIR graphs.

NIR describes continuous-time dynamics; nengo runs them in steps of ``dt``
and the package's discrete neurons (`.DiscreteLIF`, the neurons of `.L2MU`
and `.RecurrentLIF`) are *defined* per step. This module holds what the
exporter (`nengo_lmu.nir.export`) and the reader (`nengo_lmu.nir.importer`)
agree on, in one place:

* **Spike area.** A spike in NIR is a Dirac impulse of area 1 (nengo's
  spikes, ``1/dt`` high for one step, have area 1 too). Readers that step
  in ``dt`` and pass a spike as the number 1 (snnTorch, Norse) deliver area
  ``dt`` instead: ``spike_area`` is the area the reader delivers, and the
  weights leaving spiking nodes (and event inputs) are divided by it so that
  every reader sees the same effect.
* **Voltage scale.** NIR's LIF ``tau dv/dt = (v_leak - v) + r I`` is
  unchanged when ``v``, ``r``, ``v_leak``, ``v_threshold`` and ``v_reset``
  are all multiplied by one number. nengo normalises the threshold to 1
  (``r=1``); snnTorch's importer insists on ``r = tau / 1e-4``.
* **Discrete decay.** A per-step decay ``beta`` becomes ``tau = dt / (1 -
  beta)`` (``"euler"``: what snnTorch, Norse and Spyx invert, so the graph
  runs exactly there at the same step) or ``tau = -dt / log(beta)``
  (``"exp"``: the decay over one step is exact for a reader that integrates
  the leak exactly).
* **Approximations** (`APPROXIMATIONS`): what NIR cannot say. The exporter
  refuses each unless it is named in ``approximate``.

Graphs written by `nengo_lmu.nir.to_nir` carry these choices in their
metadata (keys starting ``nengo_lmu.``), so that `nengo_lmu.nir.from_nir`
reads them back exactly; other readers ignore them.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_choice, check_positive

#: Approximations the exporter makes only when asked (``approximate=``), and
#: what each one does.
APPROXIMATIONS = {
    "refractory": (
        "nengo LIF neurons with tau_ref > 0 are written without a refractory "
        "period (NIR's LIF has none): they fire faster at high currents"
    ),
    "floor": (
        "nengo LIF neurons clip the voltage at min_voltage (0 by default); NIR's LIF has no floor"
    ),
    "reset": (
        "DiscreteLIF with reset='subtract' is written with NIR's reset to "
        "v_reset (subtracting the threshold is not a NIR primitive)"
    ),
    "bias": (
        "a population's bias current enters through its synapse (Affine bias "
        "before CubaLIF, v_leak = 0, for readers that refuse v_leak): it rises "
        "from 0 with the synapse's time constant instead of being there at t=0"
    ),
    "discrete": (
        "per-step neurons (DiscreteLIF) are written as continuous-time LIF "
        "(always needed for them: NIR has no per-step neuron)"
    ),
    "clip": ("DiscreteLIF with a finite min_voltage is written without the clip"),
}

#: How a per-step decay becomes a time constant.
DISCRETE_RULES = ("euler", "exp")

#: How the one-step delays of a per-step network are written: explicit
#: ``nir.Delay`` nodes, or left to the reader's step on each cycle (what
#: snnTorch and nirtorch do; every delayed connection must close a cycle).
DELAY_STYLES = ("node", "cycle")

#: Metadata keys of graphs written by `to_nir`.
META_PREFIX = "nengo_lmu."

#: The NIR node types `from_nir` reads.
READ_TYPES = ("Input", "Output", "Affine", "Linear", "Scale", "LIF", "CubaLIF", "LI", "Delay")


def require_nir():
    """Import and return the ``nir`` package, or say which extra installs it."""
    try:
        import nir
    except ImportError:  # pragma: no cover - the extra is installed in CI
        raise ImportError(
            "nengo_lmu.nir needs the 'nir' package (Python >= 3.10): pip install 'nengo-lmu[nir]'"
        ) from None
    return nir


@dataclass
class Conventions:
    """The choices of one export or import (see the module notes).

    Parameters
    ----------
    dt : float
        Seconds per step: the nengo simulator's step, and for per-step
        neurons the duration of one step in the graph.
    spike_area : float
        Area of one spike as the reader delivers it (1: NIR's Dirac impulse).
    discrete : "euler" or "exp"
        How a per-step decay ``beta`` becomes ``tau``.
    voltage_scale : float or "snntorch"
        Multiplies ``r``, ``v_leak``, ``v_threshold`` and ``v_reset``
        (``"snntorch"``: ``tau / 1e-4`` per node, what snnTorch's importer
        asserts).
    delays : "node" or "cycle"
        How one-step delays are written (`DELAY_STYLES`).
    approximate : tuple of str
        The `APPROXIMATIONS` allowed.

    Attributes
    ----------
    used : list of str
        The approximations an export made (each once, in the order met).
    """

    dt: float = 0.001
    spike_area: float = 1.0
    discrete: str = "euler"
    voltage_scale: object = 1.0
    delays: str = "node"
    approximate: tuple = field(default_factory=tuple)
    used: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self):
        self.dt = check_positive("dt", self.dt)
        self.spike_area = check_positive("spike_area", self.spike_area)
        check_choice("discrete", self.discrete, DISCRETE_RULES)
        check_choice("delays", self.delays, DELAY_STYLES)
        if isinstance(self.voltage_scale, str):
            check_choice("voltage_scale", self.voltage_scale, ("snntorch",))
        else:
            self.voltage_scale = check_positive("voltage_scale", self.voltage_scale)
        if isinstance(self.approximate, str):
            self.approximate = (self.approximate,)
        bad = [a for a in self.approximate if a not in APPROXIMATIONS]
        if bad:
            raise ValidationError(
                f"must name approximations from {tuple(APPROXIMATIONS)}, got {bad}",
                attr="approximate",
            )
        self.approximate = tuple(self.approximate)

    def allows(self, name):
        """Whether approximation ``name`` is allowed."""
        return name in self.approximate

    def refuse_unless(self, name, obj, reason):
        """Raise `ValidationError` naming ``obj`` and ``reason`` unless
        approximation ``name`` is allowed (then record it in `used`)."""
        if self.allows(name):
            if name not in self.used:
                self.used.append(name)
        else:
            raise ValidationError(
                f"{obj} cannot be written exactly in NIR: {reason}. Pass "
                f"approximate=({name!r},) to write it anyway ({APPROXIMATIONS[name]})",
                attr="approximate",
                obj=obj,
            )

    def scale_for(self, tau, r_unit=1.0):
        """The voltage scale of a node whose membrane time constant is
        ``tau`` and whose ``r`` is ``scale * r_unit``."""
        if self.voltage_scale == "snntorch":
            # snnTorch's importer asserts r == tau / 1e-4
            return float(tau) / (SNNTORCH_DT * r_unit)
        return float(self.voltage_scale)

    def metadata(self):
        """The graph metadata that records these conventions (and, where
        any were made, the approximations, ``;``-separated)."""
        meta = {
            META_PREFIX + "dt": float(self.dt),
            META_PREFIX + "spike_area": float(self.spike_area),
            META_PREFIX + "discrete": self.discrete,
            META_PREFIX + "delays": self.delays,
        }
        if self.used:
            meta[META_PREFIX + "approximations"] = ";".join(self.used)
        return meta


#: The step snnTorch's NIR importer assumes (it is fixed in its code).
SNNTORCH_DT = 1e-4


def beta_to_tau(beta, dt, rule="euler", obj=None):
    """The time constant of a per-step decay ``beta`` (``0 < beta < 1``).

    ``"euler"``: ``dt / (1 - beta)``; ``"exp"``: ``-dt / log(beta)``.

    Examples
    --------
    >>> round(beta_to_tau(0.9, 1e-3), 6)
    0.01
    >>> round(beta_to_tau(0.9, 1e-3, "exp"), 6)
    0.009491
    """
    beta = float(beta)
    if not 0.0 < beta < 1.0:
        raise ValidationError(
            f"a decay of {beta} per step has no finite positive time constant "
            f"(NIR's LIF needs 0 < beta < 1)",
            attr="beta",
            obj=obj,
        )
    if rule == "euler":
        return dt / (1.0 - beta)
    return -dt / math.log(beta)


def tau_to_beta(tau, dt, rule="euler"):
    """The inverse of `beta_to_tau` (array or scalar)."""
    tau = np.asarray(tau, dtype=np.float64)
    if rule == "euler":
        return 1.0 - dt / tau
    return np.exp(-dt / tau)


def read_metadata(graph):
    """The nengo_lmu conventions recorded in ``graph.metadata`` (a dict,
    empty for graphs from other writers)."""
    meta = getattr(graph, "metadata", None) or {}
    out = {}
    for key, value in meta.items():
        if str(key).startswith(META_PREFIX):
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, np.ndarray) and value.shape == ():
                value = value[()]
                if isinstance(value, bytes):
                    value = value.decode()
            out[str(key)[len(META_PREFIX) :]] = value
    return out
