"""Nengo networks built from the LMU mathematics."""

from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.linear_system import LinearSystemNetwork

__all__ = ["LinearSystemNetwork", "LegendreMemory"]
