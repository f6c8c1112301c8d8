"""The networks' weights: how they start (initial weights, and the hidden
activations they feed), the ``trainable`` config that NengoDL reads, and a
connection's transform as a matrix. (The Keras layers in `nengo_lmu.dl` use the same weights and
activations, so that a converted network starts where the other did.)"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError
from nengo.params import BoolParam

from nengo_lmu.validation import check_choice

#: The hidden activations of an LMU cell by name, as the nengo neuron type
#: that computes each (``rates`` of ``Tanh``/``Sigmoid`` are divided by
#: ``tau_ref``, hence 1). `nengo_lmu.dl.layers.TF_ACTIVATIONS` has the same
#: names.
HIDDEN_ACTIVATIONS = {
    "tanh": lambda: nengo.Tanh(tau_ref=1.0),
    "relu": lambda: nengo.RectifiedLinear(),
    "sigmoid": lambda: nengo.Sigmoid(tau_ref=1.0),
}


def hidden_neuron_type(name, obj=None, attr="hidden_activation"):
    """The nengo neuron type of the hidden activation ``name``.

    Examples
    --------
    >>> hidden_neuron_type("tanh")
    Tanh(tau_ref=1.0)
    """
    check_choice(attr, name, tuple(HIDDEN_ACTIVATIONS), obj)
    return HIDDEN_ACTIVATIONS[name]()


INITIALIZERS = ("glorot_uniform", "lecun_uniform", "zeros", "ones")


def initial_weights(init, shape, rng, attr="initializer", obj=None):
    """Sample a weight matrix of ``shape`` (``(fan_out, fan_in)``).

    ``init`` is one of ``"glorot_uniform"`` (limit
    ``sqrt(6 / (fan_in + fan_out))``), ``"lecun_uniform"`` (limit
    ``sqrt(3 / fan_in)``), ``"zeros"``, ``"ones"``, a `nengo.dists.Distribution`
    or an array of that shape (used as given).
    """
    fan_out, fan_in = shape
    if isinstance(init, str):
        check_choice(attr, init, INITIALIZERS, obj, ", a nengo Distribution or an array")
        if init == "zeros":
            return np.zeros(shape)
        if init == "ones":
            return np.ones(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out) if init == "glorot_uniform" else 3.0 / fan_in)
        return rng.uniform(-limit, limit, size=shape)
    if isinstance(init, nengo.dists.Distribution):
        return init.sample(fan_out * fan_in, rng=rng).reshape(shape)
    arr = np.array(init, dtype=np.float64)
    if arr.shape != tuple(shape):
        raise ValidationError(
            f"an array must have shape {tuple(shape)}, got {arr.shape}",
            attr=attr,
            obj=obj,
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationError("an array must be finite", attr=attr, obj=obj)
    return arr


def cell_initial_weights(rng, memory_d, input_d, units, q, initializers, obj=None):
    """The initial weights of an LMU cell, drawn from ``rng`` in one fixed
    order (``e_x, e_h, e_m, W_x, W_h, W_m``) whatever connections the cell
    uses, so that a seed gives the same weights to `.LMUCell` and
    `nengo_lmu.dl.LMULayer`. ``q`` is ``memory_d * order``; ``e_m`` starts
    at zero. ``initializers`` maps the cell's arguments
    ``encoder_initializer``, ``kernel_initializer`` and
    ``recurrent_initializer`` to their values (a bad one raises naming
    that argument)."""

    def init(attr, shape):
        return initial_weights(initializers[attr], shape, rng, attr=attr, obj=obj)

    return dict(
        e_x=init("encoder_initializer", (memory_d, input_d)),
        e_h=init("encoder_initializer", (memory_d, units)),
        e_m=np.zeros((memory_d, q)),
        W_x=init("kernel_initializer", (units, input_d)),
        W_h=init("recurrent_initializer", (units, units)),
        W_m=init("kernel_initializer", (units, q)),
    )


def add_trainable_config(network):
    """Give ``network``'s config the ``trainable`` parameter that NengoDL
    reads (the one ``nengo_dl.configure_settings(trainable=None)`` adds),
    without importing NengoDL."""
    for cls in (nengo.Ensemble, nengo.Connection, nengo.ensemble.Neurons):
        network.config.configures(cls)
        network.config[cls].set_param("trainable", BoolParam("trainable", None, optional=True))


def transform_matrix(conn):
    """A connection's transform as a dense ``(size_out, size_in)`` matrix.

    Dense, sparse and scalar transforms alike (NengoDL's ``freeze_params``
    may store a 1x1 matrix as a scalar, and a vector as the diagonal). A
    scalar keeps its dtype.

    Examples
    --------
    >>> with nengo.Network():
    ...     a, b = nengo.Node(size_in=2), nengo.Node(size_in=2)
    ...     conn = nengo.Connection(a, b, transform=3.0)
    >>> transform_matrix(conn)
    array([[3., 0.],
           [0., 3.]])
    """
    tr = conn.transform
    if isinstance(tr, nengo.transforms.Sparse):
        out = np.zeros(tr.shape)
        init = tr.init
        out[tuple(np.asarray(init.indices).T)] = np.asarray(init.data)
        return out
    init = np.array(tr.init)
    shape = (conn.post.size_in, conn.pre.size_out)
    if init.ndim == 0:
        return init * np.eye(*shape, dtype=init.dtype)
    if init.ndim == 1:
        return np.diag(init)
    return init
