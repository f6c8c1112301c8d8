"""What the Loihi chip takes, as nengo-loihi 1.1 builds for it: per-core
limits, the neuron types that run on the chip, the host-input filter, and
small helpers that name objects and read synapses."""

import nengo
import numpy as np

#: Per-core limits of Loihi (nengo-loihi 1.1, ``nengo_loihi.block``).
MAX_COMPARTMENTS = 1024
MAX_IN_AXONS = 4096
MAX_OUT_AXONS = 4096
#: Neuromorphic cores of one Loihi chip, and so its compartments.
MAX_CORES = 128
MAX_CHIP_COMPARTMENTS = MAX_CORES * MAX_COMPARTMENTS
#: nengo-loihi's default filter on the chip side of host-to-chip inputs and
#: on the output of decode neurons (``Model.decode_tau``).
DECODE_TAU = 0.005
#: nengo-loihi targets: the emulator, the emulator in floating point, the chip.
TARGETS = ("sim", "simreal", "loihi")
#: The emulator targets (the ones `resource_counts` can read).
EMULATOR_TARGETS = ("sim", "simreal")


def chip_neuron_types():
    """Neuron types that nengo-loihi places on the chip.

    Examples
    --------
    >>> [t.__name__ for t in chip_neuron_types()]
    ['LIF', 'SpikingRectifiedLinear']
    """
    return (nengo.LIF, nengo.SpikingRectifiedLinear)


def is_chip_neuron_type(neuron_type):
    """Whether ``neuron_type`` runs on the chip: a `chip_neuron_types`
    instance without adaptation (`nengo.AdaptiveLIF` is a `nengo.LIF`, but
    the chip has no adaptation, so nengo-loihi would silently drop it).

    Examples
    --------
    >>> is_chip_neuron_type(nengo.LIF()), is_chip_neuron_type(nengo.AdaptiveLIF())
    (True, False)
    """
    return isinstance(neuron_type, chip_neuron_types()) and not isinstance(
        neuron_type, (nengo.AdaptiveLIF, nengo.AdaptiveLIFRate)
    )


def is_lowpass(synapse):
    """Whether a synapse can run on the chip (`nengo.Lowpass` or none)."""
    return synapse is None or type(synapse) is nengo.Lowpass


def synapse_tau(synapse):
    """A Lowpass synapse's time constant (0 for none)."""
    return 0.0 if synapse is None else float(synapse.tau)


def synapse_name(synapse):
    """A synapse in a few words: nengo's own text for ``None``, a `nengo.Lowpass`
    or `nengo.Alpha`; a `nengo.LinearFilter`'s coefficients to 4 digits
    (nengo's text prints their arrays in full).

    Examples
    --------
    >>> synapse_name(nengo.LinearFilter([0.0198013, 0], [1, -0.9801987], analog=False))
    'LinearFilter(num=[0.0198, 0], den=[1, -0.9802], analog=False)'
    >>> synapse_name(nengo.Lowpass(0.05))
    'Lowpass(tau=0.05)'
    """
    if synapse is None or type(synapse) in (nengo.Lowpass, nengo.Alpha):
        return str(synapse)
    if isinstance(synapse, nengo.LinearFilter):

        def coefficients(values):
            return "[" + ", ".join(f"{v:.4g}" for v in np.ravel(values)) + "]"

        analog = "" if synapse.analog else ", analog=False"
        return (
            f"{type(synapse).__name__}(num={coefficients(synapse.num)}, "
            f"den={coefficients(synapse.den)}{analog})"
        )
    text = str(synapse)
    return text if len(text) <= 60 else text[:57] + "..."


def ensemble_of(obj):
    """The ensemble behind a connection end (ensemble or its neurons)."""
    if isinstance(obj, nengo.Ensemble):
        return obj
    if isinstance(obj, nengo.ensemble.Neurons):
        return obj.ensemble
    return None


def object_name(obj):
    """An object's label, or its type's name."""
    label = getattr(obj, "label", None)
    return label if label else type(obj).__name__


def connection_name(conn):
    """``"pre -> post"`` with labels (``.neurons`` for a neuron end)."""

    def end(obj):
        if isinstance(obj, nengo.ensemble.Neurons):
            return object_name(obj.ensemble) + ".neurons"
        return object_name(obj)

    return f"{end(conn.pre_obj)} -> {end(conn.post_obj)}"
