"""Nengo networks built from the LMU mathematics."""

from nengo_lmu.networks.classifier import LMUClassifier
from nengo_lmu.networks.l2mu import L2MU, RecurrentLIF
from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.linear_system import LinearSystemNetwork
from nengo_lmu.networks.lmu_cell import LMUCell, stack_cells

__all__ = [
    "LinearSystemNetwork",
    "LegendreMemory",
    "LMUCell",
    "LMUClassifier",
    "stack_cells",
    "L2MU",
    "RecurrentLIF",
]
