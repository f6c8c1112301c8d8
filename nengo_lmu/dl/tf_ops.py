"""The ``keras.ops`` functions nengo_lmu uses, written with TensorFlow.

`nengo_lmu.dl.compat` takes them where Keras 3's own do not serve: on
tf.keras 2.12 (the locked stack, which has no ``keras.ops``) its ``ops`` is
`TFOps`, and on Keras 3's TensorFlow backend its ``ops.scan`` is `tf_scan`.
Importing this module loads TensorFlow on tf.keras 2 only; on Keras 3 only
`TFOps.scan` runs here, and it imports TensorFlow itself.
"""

import keras as _keras_module

if int(_keras_module.__version__.split(".")[0]) >= 3:
    tf = None
else:  # pragma: no cover (tf.keras 2.12: the locked stack)
    import tensorflow as tf


class TFOps:
    """The ``keras.ops`` functions nengo_lmu uses, written with TensorFlow
    for tf.keras 2.x (same names, arguments and results as Keras 3's)."""

    @staticmethod
    def convert_to_tensor(x, dtype=None):
        return tf.convert_to_tensor(x, dtype=dtype)

    @staticmethod
    def cast(x, dtype):
        return tf.cast(x, dtype)

    @staticmethod
    def shape(x):
        """Static sizes where known, dynamic scalars where not (as Keras 3's
        TensorFlow backend)."""
        static = x.shape
        dynamic = tf.shape(x)
        return tuple(s if s is not None else dynamic[i] for i, s in enumerate(static))

    @staticmethod
    def matmul(x1, x2):
        return tf.linalg.matmul(x1, x2)

    @staticmethod
    def einsum(subscripts, *operands):
        return tf.einsum(subscripts, *operands)

    @staticmethod
    def tanh(x):
        return tf.tanh(x)

    @staticmethod
    def relu(x):
        return tf.nn.relu(x)

    @staticmethod
    def sigmoid(x):
        return tf.sigmoid(x)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return tf.reduce_sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def multiply(x1, x2):
        return tf.multiply(x1, x2)

    @staticmethod
    def zeros_like(x, dtype=None):
        return tf.zeros_like(x, dtype=dtype)

    @staticmethod
    def reshape(x, newshape):
        return tf.reshape(x, newshape)

    @staticmethod
    def transpose(x, axes=None):
        return tf.transpose(x, axes)

    @staticmethod
    def concatenate(xs, axis=0):
        return tf.concat(list(xs), axis=axis)

    @staticmethod
    def pad(x, pad_width, mode="constant"):
        return tf.pad(x, pad_width, mode=mode.upper())

    @staticmethod
    def zeros(shape, dtype=None):
        return tf.zeros(shape, dtype=dtype or "float32")

    @staticmethod
    def ones(shape, dtype=None):
        return tf.ones(shape, dtype=dtype or "float32")

    @staticmethod
    def eye(n, dtype=None):
        return tf.eye(n, dtype=dtype or "float32")

    @staticmethod
    def flip(x, axis=None):
        return tf.reverse(x, axis=[axis])

    @staticmethod
    def clip(x, x_min, x_max):
        return tf.clip_by_value(x, x_min, x_max)

    @staticmethod
    def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
        """``keras.ops.scan``: ``f(carry, x) -> (carry, y)``; returns
        ``(last carry, stacked y)`` (tf.scan keeps every carry instead).
        Also Keras 3's on its TensorFlow backend (`tf_scan`)."""
        import tensorflow as tf

        if xs is None:
            xs = tf.zeros((length,))

        def step(acc, x):
            carry, _ = acc
            return f(carry, x)

        first_y = f(init, tf.nest.map_structure(lambda v: v[0], xs))[1]
        carries, ys = tf.scan(
            step, xs, initializer=(init, tf.nest.map_structure(tf.zeros_like, first_y))
        )
        return tf.nest.map_structure(lambda c: c[-1], carries), ys

    @staticmethod
    def rfft(x, fft_length=None):
        c = tf.signal.rfft(x, fft_length=None if fft_length is None else [fft_length])
        return tf.math.real(c), tf.math.imag(c)

    @staticmethod
    def irfft(x, fft_length=None):
        real, imag = x
        c = tf.complex(real, imag)
        return tf.signal.irfft(c, fft_length=None if fft_length is None else [fft_length])

    # what the language model (`nengo_lmu.dl.language_model`) adds

    @staticmethod
    def softmax(x, axis=-1):
        return tf.nn.softmax(x, axis=axis)

    @staticmethod
    def gelu(x, approximate=True):
        return tf.nn.gelu(x, approximate=approximate)

    @staticmethod
    def where(condition, x1, x2):
        x1 = tf.convert_to_tensor(x1)
        return tf.where(condition, x1, tf.cast(x2, x1.dtype))

    @staticmethod
    def tril(x, k=0):
        return tf.linalg.band_part(x, -1, k)

    @staticmethod
    def take(x, indices, axis=None):
        return tf.gather(x, indices, axis=axis)

    @staticmethod
    def cos(x):
        return tf.cos(x)

    @staticmethod
    def ones_like(x, dtype=None):
        return tf.ones_like(x, dtype=dtype)

    @staticmethod
    def arange(start, stop=None, step=1, dtype=None):
        return tf.range(start, stop, step, dtype=dtype)

    @staticmethod
    def stack(xs, axis=0):
        return tf.stack(list(xs), axis=axis)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return tf.reduce_mean(x, axis=axis, keepdims=keepdims)

    # what the LMUFormer (`nengo_lmu.dl.lmuformer`) adds: the spiking
    # neurons' surrogate gradient, the running mean along frames

    @staticmethod
    def cumsum(x, axis=None):
        return tf.cumsum(x, axis=axis)

    @staticmethod
    def stop_gradient(x):
        return tf.stop_gradient(x)

    @staticmethod
    def square(x):
        return tf.square(x)

    @staticmethod
    def custom_gradient(f):
        return tf.custom_gradient(f)


def tf_scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``keras.ops.scan`` by ``tf.scan`` (`TFOps.scan`), for Keras 3's
    TensorFlow backend: its own ``scan`` keeps the outputs in arrays shaped
    like the carry, so a step whose output differs in shape from its carry
    (the recurrent `.LMULayer`: carry ``(m, h)``, output ``h``) fails."""
    return TFOps.scan(f, init, xs=xs, length=length, reverse=reverse, unroll=unroll)


__all__ = ["TFOps", "tf_scan"]
