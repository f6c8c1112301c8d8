"""The spike of the trained spiking neurons: a threshold step forward, the
ATan surrogate derivative backward (written once, on every Keras stack).

The derivative of the Heaviside step is replaced by [1]_::

    dS/dU ~= (alpha/2) / (1 + (pi/2 * alpha * U)^2)

where ``U`` is the membrane potential minus the threshold. `atan_spike` is
used by the LMUFormer's `.FrameLIF` layer (Keras) and by the NengoDL builder
of `.DiscreteLIF` (`nengo_lmu.dl.neurons`); `atan_derivative` is its numpy
reference.

References
----------
.. [1] Fang, W., et al. (2021). Incorporating learnable membrane time
   constant to enhance learning of spiking neural networks. ICCV.
"""

import numpy as np

from nengo_lmu.dl.compat import custom_gradient, ops, standard_dtype


def atan_derivative(x, alpha):
    """The surrogate derivative at ``x`` (numpy): ``(alpha / 2) /
    (1 + (pi / 2 * alpha * x)^2)``."""
    x = np.asarray(x, dtype=np.float64)
    return (alpha / 2) / (1 + np.square(np.pi / 2 * alpha * x))


def atan_spike(x, alpha):
    """Heaviside ``x > 0`` with the ATan surrogate derivative of width ``alpha``.

    Parameters
    ----------
    x : tensor
        Membrane potential minus threshold.
    alpha : float
        Width of the surrogate (its peak is ``alpha / 2`` at ``x = 0``).

    Returns
    -------
    tensor
        ``1`` where ``x > 0``, else ``0``, in the dtype of ``x``.
    """

    def forward(x):
        def grad(dy):
            return dy * (alpha / 2) / (1 + ops.square(np.pi / 2 * alpha * x))

        return ops.cast(x > 0, standard_dtype(x.dtype)), grad

    return custom_gradient(forward)(x)


__all__ = ["atan_derivative", "atan_spike"]
