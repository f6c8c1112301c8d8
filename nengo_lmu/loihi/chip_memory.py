"""The memory of `ChipMemoryClassifier`, on the chip: which cells can run
with their memory there (`check_chip_cell`), the memory of an input held
for several chip steps per sample (`held_memory_system`) and the memory
without its host readout (`ChipOnlyLegendreMemory`). (The readout
that an application fits on its hidden spikes is in
`nengo_lmu.apps.experiments.chip_readout`.)"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi.networks import LoihiLegendreMemory
from nengo_lmu.systems import LinearSystem, legendre_system

#: Simulator step (s) of the chip.
CHIP_DT = 0.001


def check_chip_cell(classifier):
    """Raise a `ValidationError` unless ``classifier`` (an `.LMUClassifier`)
    can run with its memory on the chip: one cell, ReLU hidden layer, no
    recurrence (``hidden_to_hidden``, ``hidden_to_memory``,
    ``memory_to_memory``), no ``input_to_hidden``, the exact memory."""
    if len(classifier.cells) != 1:
        raise ValidationError(
            f"must have one cell, got {len(classifier.cells)}", attr="classifier"
        )
    cell = classifier.cells[0]
    for flag, why in (
        ("hidden_to_hidden", "the hidden layer is feed-forward on the chip"),
        ("hidden_to_memory", "nothing feeds back into the chip's memory"),
        ("memory_to_memory", "the chip's memory is the fixed Legendre system"),
        ("input_to_hidden", "the hidden layer sees only the memory"),
    ):
        if getattr(cell, flag):
            raise ValidationError(
                f"the cell must have {flag}=False ({why}), got True", attr="classifier"
            )
    if type(cell.hidden_neuron_type) not in (nengo.RectifiedLinear, nengo.SpikingRectifiedLinear):
        raise ValidationError(
            f"the hidden layer must be ReLU (the chip has no "
            f"{type(cell.hidden_neuron_type).__name__}); train with RectifiedLinear",
            attr="classifier",
        )
    if cell.discretizer != "zoh":
        raise ValidationError(
            "the memory must be discretised with 'zoh' (a zero-order-held input "
            f"through the continuous memory gives exactly that), got {cell.discretizer!r}",
            attr="classifier",
        )
    w = classifier.get_weights()
    exact = cell.memory.discrete_system
    for name, ref in (("cell0.Ad", exact.A), ("cell0.Bd", exact.B)):
        if name in w and not np.allclose(w[name], ref, atol=1e-6):
            raise ValidationError(
                f"the memory must be the exact Legendre system; {name} was trained "
                f"(the chip runs the continuous memory)",
                attr="classifier",
            )


def held_memory_system(order, theta_samples, memory_d, steps_per_sample, dt=CHIP_DT):
    """The continuous Legendre memory that, driven by an input held for
    ``steps_per_sample`` steps of ``dt`` per sample, equals the cell's
    discrete memory (``theta_samples`` samples, zoh) at every sample
    boundary.

    Its window is ``theta_samples * steps_per_sample * dt`` seconds: the
    zoh of ``A / theta`` over one sample is then ``exp(A / theta_samples)``.

    Returns
    -------
    theta : float
        The window (s).
    step : nengo_lmu.systems.LinearSystem
        The memory of all ``memory_d`` dimensions discretised at ``dt``.

    Examples
    --------
    >>> theta, step = held_memory_system(4, 8.0, 1, 10)
    >>> round(theta, 6), step.n_states
    (0.08, 4)
    """
    theta = float(theta_samples) * int(steps_per_sample) * dt
    block = legendre_system(order, theta).discretize(dt)
    eye = np.eye(memory_d)
    return theta, LinearSystem(np.kron(eye, block.A), np.kron(eye, block.B), dt=dt)


class ChipOnlyLegendreMemory(LoihiLegendreMemory):
    """`LoihiLegendreMemory` with ``host_readout=False``: no ``state``
    connections and no relay.

    A classifier that reads the memory on the chip (its hidden layer is
    given what the populations are given) has no use for them, and
    nengo-loihi makes a non-spiking readout block per population for the
    decoded chip-to-host connections (16 more cores for order 4 x 4
    dimensions) and sends the relay's spikes to the host every step. The
    ``state`` and ``output`` nodes stay, unconnected (zero).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, host_readout=False, **kwargs)
