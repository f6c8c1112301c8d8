"""NIR (the Neuromorphic Intermediate Representation) out of and into nengo.

`to_nir` writes the package's spiking networks (the spiking
`.LegendreMemory` / `.LinearSystemNetwork`, `.L2MU`, `.RecurrentLIF`) as NIR
graphs that other frameworks and neuromorphic platforms read (snnTorch,
Norse, Lava-DL for Loihi 2, SpiNNaker2, Rockpool, Sinabs); `from_nir` makes
a nengo network from any graph of the standard node types it reads
(``Input Output Affine Linear Scale LIF CubaLIF LI Delay``), including those
other frameworks write. `exact_memory` / `exact_memory_options` make a
spiking memory that NIR describes exactly (`nengo_lmu.nir.recipes`); `nengo_lmu.nir.readers`
runs graphs in snnTorch. `nengo_lmu.nir.conventions` holds what the two
agree on and the approximations (refused unless asked for). Needs the
``nir`` extra (``pip install 'nengo-lmu[nir]'``, Python >= 3.10); save and
load graphs with ``nir.write`` / ``nir.read``. The user guide is
``docs/nir.rst``.
"""

from nengo_lmu.nir.conventions import (
    APPROXIMATIONS,
    SNNTORCH_DT,
    Conventions,
    beta_to_tau,
    tau_to_beta,
)
from nengo_lmu.nir.export import to_nir
from nengo_lmu.nir.importer import NIRNetwork, from_nir
from nengo_lmu.nir.recipes import exact_memory, exact_memory_options

__all__ = [
    "APPROXIMATIONS",
    "SNNTORCH_DT",
    "Conventions",
    "NIRNetwork",
    "beta_to_tau",
    "exact_memory",
    "exact_memory_options",
    "from_nir",
    "tau_to_beta",
    "to_nir",
]
