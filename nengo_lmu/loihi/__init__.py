"""Running nengo_lmu networks on Loihi (the nengo-loihi emulator or hardware).

Split by stage, as nengo-loihi itself is:

- `prepare` (``placement.py``) checks a network before it is built for
  nengo-loihi (neuron and synapse types, one synaptic time constant per
  block, per-core limits), adds the nengo-loihi configuration (``on_chip``,
  ``block_shape``), and returns a `LoihiReport` (``placement_report.py``) whose table
  says what runs on the chip, what on the host, why, what the host-chip
  traffic adds and, from a trial build, how each block's weights fare on 8
  bits (`weight_precision`, ``precision.py``).
- `simulator` (``simulator.py``) builds a ``nengo_loihi.Simulator`` for
  ``target="sim"`` (the emulator), ``"simreal"`` (the emulator without
  discretisation) or ``"loihi"`` (needs Intel's NxSDK, which is not on the
  package index). Every workaround for nengo-loihi 1.1 is in ``_compat.py``.
- `resource_counts` (``resources.py``) reads, from an emulator run, what the
  chip used and did: cores, compartments, axons, synaptic weights, spikes
  and synaptic operations.
- Loihi-ready networks (``networks.py``): `LoihiLegendreMemory` and
  `LoihiLinearSystemNetwork`, the spiking memory in a form that builds and
  runs on the chip; `HostMemoryClassifier` (``host_memory_classifier.py``),
  a trained LMU classifier with its memory on the host and its hidden layer
  on the chip; `ChipMemoryClassifier` (``chip_memory_classifier.py``, its
  memory parts in ``chip_memory.py``), one with its memory and hidden layer
  on the chip; `build_lif_copies` and `lif_run` (``l2mu.py``), a trained
  L2MU mapped onto `nengo.LIF`.

The experiments that compare these against nengo (the delay task, the
digits classifier) are in `nengo_lmu.apps.experiments.loihi`.

nengo-loihi is imported inside the functions, so ``import nengo_lmu.loihi``
needs nengo-loihi only to run something. On numpy 2, nengo-loihi 1.1 needs
one patch (``np.array(..., copy=False)``); every function here applies it, and
`nengo_loihi_module` returns nengo-loihi with it applied for code that builds
``nengo_loihi.Simulator`` itself.

References
----------
.. [1] nengo-loihi 1.1 documentation, "Hardware restrictions" and "API".
.. [2] Voelker, A. R. (2019). Dynamical systems in spiking neuromorphic
   hardware. PhD thesis, University of Waterloo (synapse mappings).
"""

from nengo_lmu.loihi._compat import expected_warnings, nengo_loihi_module
from nengo_lmu.loihi.chip_memory_classifier import (
    ChipMemoryClassifier,
    ChipOnlyLegendreMemory,
    check_chip_cell,
    held_memory_system,
)
from nengo_lmu.loihi.hardware import (
    DECODE_TAU,
    MAX_COMPARTMENTS,
    MAX_IN_AXONS,
    MAX_OUT_AXONS,
    TARGETS,
    chip_neuron_types,
)
from nengo_lmu.loihi.host_memory_classifier import NEURON_KINDS, HostMemoryClassifier
from nengo_lmu.loihi.l2mu import build_lif_copies, lif_run, lif_tau_rc
from nengo_lmu.loihi.networks import (
    LoihiLegendreMemory,
    LoihiLinearSystemNetwork,
    LoihiNeuralForm,
)
from nengo_lmu.loihi.placement import UNSUPPORTED, LoihiPrecisionWarning, prepare
from nengo_lmu.loihi.placement_report import Crossing, LoihiReport, Placement
from nengo_lmu.loihi.precision import weight_precision
from nengo_lmu.loihi.resources import resource_counts
from nengo_lmu.loihi.simulator import nxsdk_available, simulator, simulator_factory

__all__ = [
    "DECODE_TAU",
    "MAX_COMPARTMENTS",
    "MAX_IN_AXONS",
    "MAX_OUT_AXONS",
    "NEURON_KINDS",
    "TARGETS",
    "UNSUPPORTED",
    "ChipMemoryClassifier",
    "ChipOnlyLegendreMemory",
    "Crossing",
    "HostMemoryClassifier",
    "LoihiLegendreMemory",
    "LoihiLinearSystemNetwork",
    "LoihiPrecisionWarning",
    "LoihiNeuralForm",
    "LoihiReport",
    "Placement",
    "build_lif_copies",
    "check_chip_cell",
    "chip_neuron_types",
    "expected_warnings",
    "nengo_loihi_module",
    "held_memory_system",
    "lif_run",
    "lif_tau_rc",
    "nxsdk_available",
    "prepare",
    "resource_counts",
    "simulator",
    "simulator_factory",
    "weight_precision",
]
