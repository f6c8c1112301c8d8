"""The one place where Keras 3 and the locked stack's tf.keras 2.12 differ.

The layers of `nengo_lmu.dl` are written once, against Keras 3's API and
``keras.ops``. They run on Keras 3 with the JAX, PyTorch or TensorFlow
backend (``KERAS_BACKEND``), and on tf.keras 2.12 (Python <= 3.11, the stack
NengoDL 3.6 needs), where `nengo_lmu.dl.tf_ops` supplies the few
``keras.ops`` functions the layers use, written with TensorFlow, and this
module picks them. Everything that is not the same on both goes through
here:

``keras``
    The Keras module: Keras 3 where installed, else ``tf.keras``.
``ops``
    ``keras.ops`` on Keras 3 (on its TensorFlow backend with ``scan`` by
    ``tf.scan``); on tf.keras 2.12 `nengo_lmu.dl.tf_ops.TFOps`, the same
    names and signatures (the subset used here) in TensorFlow.
`register`, `expm`, `dropout_mask`, `check_finite`, `to_numpy`, `backend_name`
    Serialisation registration, the matrix exponential (no ``keras.ops``
    form), dropout masks, a NaN/inf check, tensors to numpy, and which
    backend runs.

The backend is chosen by Keras (``KERAS_BACKEND``, or ``~/.keras/keras.json``)
before anything imports it; JAX runs float64 only with ``JAX_ENABLE_X64=1``.
"""

import keras as _keras_module
import numpy as np

from nengo_lmu.dl import tf_ops

#: True on Keras 3 (any backend), False on tf.keras 2.x
KERAS3 = int(_keras_module.__version__.split(".")[0]) >= 3

if KERAS3:
    keras = _keras_module
    ops = keras.ops
    tf = None
else:  # pragma: no cover (tf.keras 2.12: the locked stack)
    import tensorflow as tf

    keras = tf.keras
    ops = tf_ops.TFOps


def backend_name():
    """``"jax"``, ``"torch"``, ``"tensorflow"`` (Keras 3), or ``"tf.keras"``
    (tf.keras 2.x, where TensorFlow runs everything)."""
    return keras.backend.backend() if KERAS3 else "tf.keras"


def uses_tensorflow():
    """TensorFlow runs the layers (Keras 3's TensorFlow backend or tf.keras 2)."""
    return backend_name() in ("tensorflow", "tf.keras")


class KerasOps:
    """``keras.ops`` with some functions replaced (attribute access falls
    through to ``keras.ops``)."""

    def __init__(self, module, **replaced):
        self._module = module
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(self._module, name)


if KERAS3 and _keras_module.backend.backend() == "tensorflow":
    ops = KerasOps(_keras_module.ops, scan=tf_ops.tf_scan)


def matmul(x1, x2):
    """``keras.ops.matmul`` keeping float64 on PyTorch (Keras 3.15's PyTorch
    backend returns float32 for a float64 product)."""
    if backend_name() == "torch":
        import torch

        x1, x2 = ops.convert_to_tensor(x1), ops.convert_to_tensor(x2)
        if x1.dtype == x2.dtype:
            return torch.matmul(x1, x2)
    return ops.matmul(x1, x2)


def tanh(x):
    """``tanh`` keeping float64 (Keras 3.15's ``ops.tanh`` and
    ``ops.sigmoid`` return float32 for float64 on JAX and PyTorch)."""
    name = backend_name()
    if name == "jax":
        import jax.numpy as jnp

        return jnp.tanh(x)
    if name == "torch":
        import torch

        return torch.tanh(ops.convert_to_tensor(x))
    return ops.tanh(x)


def sigmoid(x):
    """``sigmoid`` keeping float64 (see `tanh`)."""
    name = backend_name()
    if name == "jax":
        import jax

        return jax.nn.sigmoid(x)
    if name == "torch":
        import torch

        return torch.sigmoid(ops.convert_to_tensor(x))
    return ops.sigmoid(x)


def register(cls):
    """Register a layer for Keras' serialisation under ``nengo_lmu>``."""
    if KERAS3:
        return keras.saving.register_keras_serializable(package="nengo_lmu")(cls)
    return keras.utils.register_keras_serializable(package="nengo_lmu")(cls)


def expm(x):
    """The matrix exponential of a square tensor (differentiable), by the
    backend's own routine (``keras.ops`` has none)."""
    name = backend_name()
    if name == "jax":
        import jax.scipy.linalg

        return jax.scipy.linalg.expm(x)
    if name == "torch":
        import torch

        return torch.linalg.matrix_exp(x)
    import tensorflow

    return tensorflow.linalg.expm(x)


def is_training(training):
    """``training`` as a Python bool where it is one (tf.keras 2 may pass a
    tensor: then None, meaning decide in the graph)."""
    if training is None or isinstance(training, (bool, np.bool_)):
        return bool(training)
    return None


def dropout_mask(shape, rate, training, dtype, seed=None):
    """A Keras-scaled dropout mask (``0`` or ``1 / (1 - rate)``), or None
    where there is no dropout (rate 0, or not training).

    ``seed`` is a ``keras.random.SeedGenerator`` on Keras 3 (a layer's own,
    so that JAX's traced functions get fresh masks each step of training).
    """
    if rate == 0 or training is None or training is False:
        return None
    if KERAS3:
        return keras.random.dropout(ops.ones(shape, dtype=dtype), rate=rate, seed=seed)
    mask = tf.nn.dropout(tf.ones(shape, dtype=dtype), rate=rate)
    if tf.is_tensor(training):
        mask = tf.cond(
            tf.cast(training, tf.bool), lambda: mask, lambda: tf.ones(shape, dtype=dtype)
        )
    return mask


def seed_generator(seed=None):
    """A ``keras.random.SeedGenerator`` on Keras 3 (None on tf.keras 2,
    where TensorFlow's global seed draws the masks)."""
    return keras.random.SeedGenerator(seed) if KERAS3 else None


if KERAS3:
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell as DropoutCell
else:  # pragma: no cover (tf.keras 2.12)
    try:
        from keras.layers.rnn.dropout_rnn_cell_mixin import DropoutRNNCellMixin as DropoutCell
    except ImportError:
        from keras.src.layers.rnn.dropout_rnn_cell_mixin import (
            DropoutRNNCellMixin as DropoutCell,
        )

# DropoutCell: the mixin of Keras' own RNN cells that keeps one dropout mask
# over a sequence (Keras 3's DropoutRNNCell or tf.keras 2's mixin)


def _first(mask):
    return mask[0] if isinstance(mask, (list, tuple)) else mask


def cell_input_mask(cell, inputs, training):
    """The input dropout mask of an RNN cell mixing in `DropoutCell`
    (one per sequence), or None where it does not apply."""
    if KERAS3:
        return cell.get_dropout_mask(inputs) if training else None
    return _first(cell.get_dropout_mask_for_cell(inputs, training, count=1))


def cell_recurrent_mask(cell, fed_back, training):
    """The recurrent dropout mask of an RNN cell mixing in `DropoutCell`,
    over ``fed_back`` (one per sequence), or None where it does not apply."""
    if KERAS3:
        return cell.get_recurrent_dropout_mask(fed_back) if training else None
    return _first(cell.get_recurrent_dropout_mask_for_cell(fed_back, training, count=1))


def prepare_dropout_masks(cell, step_input, state):
    """Draw a Keras RNN cell's cached dropout masks now (Keras 3), before a
    scan that steps it: a traced JAX scan cannot draw them inside (as
    ``keras.layers.RNN`` does before its own loop). Nothing on tf.keras 2."""
    if KERAS3 and isinstance(cell, DropoutCell):
        cell.get_dropout_mask(step_input)
        cell.get_recurrent_dropout_mask(state)


def check_finite(x, message):
    """``x``, or an error with ``message`` where it holds NaN or inf.

    Checked in the graph on TensorFlow; on JAX and PyTorch where the values
    are concrete (eager calls), since a traced JAX function cannot raise.
    """
    if uses_tensorflow():
        import tensorflow

        return tensorflow.debugging.assert_all_finite(x, message)
    try:
        values = np.asarray(ops.convert_to_numpy(x))
    except Exception:  # traced: no values to check
        return x
    if not np.all(np.isfinite(values)):
        from nengo.exceptions import ValidationError

        raise ValidationError(message, attr="inputs")
    return x


def read_variable(v):
    """A variable's value as a tensor."""
    return v.value if KERAS3 else tf.convert_to_tensor(v)


def to_numpy(x):
    """A tensor or variable as a numpy array."""
    if KERAS3:
        return np.asarray(ops.convert_to_numpy(x))
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def standard_dtype(dtype):
    """A dtype as Keras' name for it (``"float32"``, ``"float64"``)."""
    if KERAS3:
        return keras.backend.standardize_dtype(dtype)
    return tf.as_dtype(dtype).name


def static_size(x, axis):
    """The size of ``x`` along ``axis`` where known when traced, else None."""
    return x.shape[axis]


def gradients(f, *args):
    """The gradients of the scalar ``f(*args)`` with respect to each numpy
    array in ``args``, as numpy arrays, on the backend that runs (for tests
    and checks: each backend differentiates its own way)."""
    name = backend_name()
    if name == "jax":
        import jax

        return [np.asarray(g) for g in jax.grad(f, argnums=tuple(range(len(args))))(*args)]
    if name == "torch":
        import torch

        ts = [torch.tensor(a, requires_grad=True) for a in args]
        return [g.numpy() for g in torch.autograd.grad(f(*ts), ts)]
    import tensorflow

    ts = [tensorflow.constant(a) for a in args]
    with tensorflow.GradientTape() as tape:
        tape.watch(ts)
        loss = f(*ts)
    return [g.numpy() for g in tape.gradient(loss, ts)]


def layer_gradients(layer, x, loss=None):
    """``(layer(x), gradients)``: the gradients of ``loss(layer(x))``
    (default ``sum(y**2)``) with respect to the layer's trainable
    variables, as numpy arrays, on the backend that runs."""

    def default_loss(y):
        return ops.sum(y * y)

    loss = loss or default_loss
    if not layer.built:
        layer(x)
    name = backend_name()
    if name == "jax":
        import jax

        weights = [v.value for v in layer.trainable_variables]
        fixed = [v.value for v in layer.non_trainable_variables]

        def value(ws):
            y, _ = layer.stateless_call(ws, fixed, x)
            return loss(y), y

        (_, y), grads = jax.value_and_grad(value, has_aux=True)(weights)
        return np.asarray(y), [np.asarray(g) for g in grads]
    if name == "torch":
        import torch

        y = layer(x)
        grads = torch.autograd.grad(loss(y), [v.value for v in layer.trainable_variables])
        return to_numpy(y.detach()), [g.numpy() for g in grads]
    import tensorflow

    with tensorflow.GradientTape() as tape:
        y = layer(x)
        value = loss(y)
    return y.numpy(), [g.numpy() for g in tape.gradient(value, layer.trainable_weights)]


def enable_float64():
    """Let the backend compute in float64 (JAX: ``jax_enable_x64``, as
    ``JAX_ENABLE_X64=1`` does; the other backends always can)."""
    if backend_name() == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)


def float64_available():
    """Whether the backend computes in float64 (JAX only with
    ``JAX_ENABLE_X64=1`` or `enable_float64`)."""
    if backend_name() != "jax":
        return True
    import jax

    return bool(jax.config.jax_enable_x64)


__all__ = [
    "KERAS3",
    "keras",
    "ops",
    "backend_name",
    "uses_tensorflow",
    "matmul",
    "tanh",
    "sigmoid",
    "register",
    "expm",
    "is_training",
    "dropout_mask",
    "seed_generator",
    "DropoutCell",
    "cell_input_mask",
    "cell_recurrent_mask",
    "prepare_dropout_masks",
    "check_finite",
    "read_variable",
    "to_numpy",
    "standard_dtype",
    "static_size",
    "enable_float64",
    "float64_available",
    "gradients",
    "layer_gradients",
]


# what the language model (`nengo_lmu.dl.language_model` and its
# training loop) needs beyond the functions above.


def matmul_transposed(x1, x2):
    """``x1 @ x2^T`` (the tied output layer); TensorFlow's own transposed
    product where TensorFlow runs (the same numbers as before the port)."""
    if uses_tensorflow():
        import tensorflow

        return tensorflow.linalg.matmul(x1, x2, transpose_b=True)
    return ops.matmul(x1, ops.transpose(x2))


def sparse_cross_entropy(labels, logits):
    """Per-token cross-entropy (nats) of integer ``labels`` under ``logits``."""
    if uses_tensorflow():
        import tensorflow

        return tensorflow.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    return keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def concrete_array(x):
    """``x`` as a numpy array where its values are known now (numpy, lists,
    eager tensors), else None (traced or symbolic tensors)."""
    if isinstance(x, (np.ndarray, list, tuple, np.generic, int)):
        return np.asarray(x)
    name = backend_name()
    if name in ("tensorflow", "tf.keras"):
        import tensorflow

        if tensorflow.is_tensor(x) and hasattr(x, "numpy"):
            try:
                return x.numpy()
            except Exception:  # a symbolic tensor inside a graph
                return None
        return None
    if name == "jax":
        import jax

        if isinstance(x, jax.core.Tracer):
            return None
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except Exception:  # traced, symbolic
        return None


def assign(variable, value):
    """Set a variable's value (a numpy array) on every backend."""
    variable.assign(np.asarray(value))


def adam_slots(optimizer):
    """``(iterations, momentums, velocities)`` of a built Adam optimizer:
    the slot lists are in the order of the variables it was built with
    (Keras 3's and tf.keras 2.12's optimizers keep them the same way)."""
    return optimizer.iterations, list(optimizer._momentums), list(optimizer._velocities)


__all__ += [
    "matmul_transposed",
    "sparse_cross_entropy",
    "concrete_array",
    "assign",
    "adam_slots",
]


# what the LMUFormer needs (the spiking neurons' surrogate gradient, seeding,
# the exact GELU)


def custom_gradient(forward):
    """``keras.ops.custom_gradient`` on every stack: ``forward(x)`` returns
    ``(y, grad)``, and ``grad(upstream)`` the gradient with respect to
    ``x``.

    Keras 3 passes the upstream gradient positionally on JAX and TensorFlow
    and as the keyword ``upstream`` on PyTorch; tf.keras 2 uses
    ``tf.custom_gradient``. The ``grad`` given here takes it positionally
    on every one.
    """

    def wrapped(x):
        y, grad = forward(x)

        def backward(*args, upstream=None):
            return grad(args[0] if upstream is None else upstream)

        return y, backward

    return ops.custom_gradient(wrapped)


def set_random_seed(seed):
    """Seed Python's, numpy's and the backend's random numbers (Keras'
    ``keras.utils.set_random_seed`` on every stack)."""
    keras.utils.set_random_seed(seed)


def gelu(x):
    """Exact GELU, ``x * Phi(x)``, keeping float64 (as ``tf.nn.gelu`` with
    ``approximate=False`` on tf.keras 2)."""
    name = backend_name()
    if name == "tf.keras":
        return tf.nn.gelu(x, approximate=False)
    if name == "jax":
        import jax

        return jax.nn.gelu(x, approximate=False)
    if name == "torch":
        import torch

        return torch.nn.functional.gelu(ops.convert_to_tensor(x))
    return ops.gelu(x, approximate=False)


__all__ += ["custom_gradient", "set_random_seed", "gelu"]


def dynamic_size(x, axis):
    """The size of ``x`` along ``axis`` as the graph computes it where
    TensorFlow runs (``tf.shape``: not folded into a constant, so that
    TensorFlow's graph rewrites leave the arithmetic that uses it as
    written), else as ``keras.ops.shape`` gives it."""
    if uses_tensorflow():
        import tensorflow

        return tensorflow.shape(x)[axis]
    return ops.shape(x)[axis]


__all__ += ["dynamic_size"]
