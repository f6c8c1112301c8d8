"""How well a block's weights survive Loihi's 8-bit discretisation."""

import numpy as np


def synapse_weights(block):
    """A copy of each of a block's synapses' weights, flattened, as floats."""
    return [
        np.concatenate([np.ravel(w) for w in s.weights]).astype(float)
        if s.weights
        else np.zeros(0)
        for s in block.synapses
    ]


def weight_precision(floats, ints):
    """How well a block's weights survive Loihi's 8-bit discretisation.

    nengo-loihi scales the weights of each synapse of a block by one factor
    (the block's scale times a power of two per synapse) and rounds them to
    a signed 8-bit mantissa, so small weights next to large ones lose their
    precision or become zero.

    Parameters
    ----------
    floats, ints : list of ndarray
        One array per synapse: its weights before and after discretisation.

    Returns
    -------
    dict
        ``weights_lost``: fraction of the non-zero weights that became
        zero; ``weight_error``: relative rms error of the discretised
        weights, each synapse rescaled by the least-squares factor between
        its two arrays; ``weight_range``: largest over smallest non-zero
        ``|weight|``.

    Examples
    --------
    >>> p = weight_precision([np.array([1.0, 0.001])], [np.array([127, 0])])
    >>> p["weights_lost"], round(p["weight_range"])
    (0.5, 1000)
    """
    n_nonzero = n_lost = 0
    err2 = norm2 = 0.0
    smallest, largest = np.inf, 0.0
    for f, q in zip(floats, ints):
        f = np.asarray(f, dtype=float).ravel()
        q = np.asarray(q, dtype=float).ravel()
        nz = f != 0
        if not nz.any():
            continue
        n_nonzero += int(nz.sum())
        n_lost += int(np.sum(q[nz] == 0))
        scale = float(q @ f) / float(f @ f)
        err2 += float(np.sum((q / scale - f) ** 2)) if scale != 0 else float(f @ f)
        norm2 += float(f @ f)
        a = np.abs(f[nz])
        smallest, largest = min(smallest, a.min()), max(largest, a.max())
    if n_nonzero == 0:
        return dict(weights_lost=0.0, weight_error=0.0, weight_range=1.0)
    return dict(
        weights_lost=n_lost / n_nonzero,
        weight_error=float(np.sqrt(err2 / norm2)),
        weight_range=float(largest / smallest),
    )
