"""Legendre Memory Units for Nengo: exact, spiking, trainable and neuromorphic.

Importing ``nengo_lmu`` loads only numpy, scipy and nengo; the TensorFlow /
NengoDL side lives in ``nengo_lmu.dl`` and the nengo-loihi side in
``nengo_lmu.loihi``.
"""

from nengo_lmu import networks
from nengo_lmu.realizers import balanced_transform, realize
from nengo_lmu.systems import LinearSystem, legendre_readout, legendre_system, lowpass_mapping
from nengo_lmu.version import version as __version__

__all__ = [
    "__version__",
    "LinearSystem",
    "balanced_transform",
    "legendre_readout",
    "legendre_system",
    "lowpass_mapping",
    "realize",
    "networks",
]
