"""`nengo_lmu.dl.compat.ops.scan` on every backend: a step whose output is
shaped unlike its carry (Keras 3's TensorFlow-backend ``scan`` keeps its
outputs in arrays shaped like the carry; compat routes it through
``tf.scan``), and the recurrent `.LMULayer` that needs it."""

import numpy as np
import pytest

pytest.importorskip("keras")

from nengo_lmu.dl import LMULayer  # noqa: E402
from nengo_lmu.dl.compat import ops, to_numpy  # noqa: E402


def test_scan_outputs_unlike_carry(rng):
    a = rng.randn(4, 3).astype("float32")
    b = rng.randn(4, 2).astype("float32")
    xs = rng.randn(6, 4).astype("float32")

    def step(carry, x):
        m, h = carry
        m = m * 0.5 + x[:, None] * a
        h = ops.tanh(h + ops.sum(m, axis=1, keepdims=True) * b)
        return (m, h), ops.concatenate([h, m[:, :1]], axis=1)

    (m, h), ys = ops.scan(step, (np.zeros((4, 3), "f"), np.zeros((4, 2), "f")), xs)
    # the numpy loop
    mr, hr, yr = np.zeros((4, 3)), np.zeros((4, 2)), []
    for x in xs:
        mr = mr * 0.5 + x[:, None] * a
        hr = np.tanh(hr + mr.sum(axis=1, keepdims=True) * b)
        yr.append(np.concatenate([hr, mr[:, :1]], axis=1))
    assert np.allclose(to_numpy(ys), np.stack(yr), atol=1e-5)
    assert np.allclose(to_numpy(m), mr, atol=1e-5) and np.allclose(to_numpy(h), hr, atol=1e-5)


def test_recurrent_layer_equals_chunked(rng):
    x = rng.randn(3, 12, 2).astype("float32")
    kw = dict(units=5, order=4, theta=6.0, seed=0, return_sequences=True)
    stepped = LMULayer(mode="recurrent", **kw)
    parallel = LMULayer(mode="chunked", **kw)
    y = to_numpy(stepped(x))
    assert y.shape == (3, 12, 5) and np.max(np.abs(y)) > 0.1
    assert np.allclose(y, to_numpy(parallel(x)), atol=1e-5)
