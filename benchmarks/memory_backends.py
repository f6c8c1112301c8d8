"""The LMU memory's speed on the Keras backend that runs (``KERAS_BACKEND``).

The same measurement as ``benchmarks/memory_speed.py`` (forward: the memory of
every step from ``u`` ``(batch, T, 1)``; forward+backward: with the gradient
of ``sum(m * g)`` with respect to ``u``; float32, theta = T, the same shapes),
for `nengo_lmu.dl.legendre_memory` in its ``chunked`` and ``fft`` modes, on
JAX (``jax.jit``), PyTorch (eager) or TensorFlow (``tf.function``). Run it in
each environment and compare with ``memory_speed.py`` (TF 2.12 and KerasLMU)
run on the same machine::

    KERAS_BACKEND=jax python benchmarks/memory_backends.py [--quick]
"""

import argparse
import os
import platform
import time

import numpy as np

from nengo_lmu.dl.compat import backend_name, keras, ops, to_numpy
from nengo_lmu.dl.memory import legendre_memory

#: the shapes of benchmarks/memory_speed.py: (batch, T, order)
SHAPES = ((32, 4096, 256), (100, 784, 256))


def compiled(mode, q, T, g):
    """``(forward, forward+backward)`` functions of ``u`` on this backend."""
    name = backend_name()

    def fwd(u):
        return legendre_memory(u, q, float(T), mode)

    if name == "jax":
        import jax

        def loss(u):
            return ops.sum(fwd(u) * g)

        return jax.jit(fwd), jax.jit(jax.value_and_grad(loss))
    if name == "torch":
        import torch

        def fb(u):
            u = u.detach().requires_grad_(True)
            m = fwd(u)
            (grad,) = torch.autograd.grad((m * g).sum(), u)
            return m, grad

        def f(u):
            with torch.no_grad():
                return fwd(u)

        return f, fb
    import tensorflow as tf

    def fb(u):
        with tf.GradientTape() as tape:
            tape.watch(u)
            m = fwd(u)
            value = tf.reduce_sum(m * g)
        return m, tape.gradient(value, u)

    return tf.function(fwd), tf.function(fb)


def block(x):
    """Wait for the result (JAX and PyTorch may run asynchronously)."""
    for v in x if isinstance(x, (tuple, list)) else [x]:
        to_numpy(v).ravel()[:1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="shape (8, 512, 64), 2 rounds")
    args = parser.parse_args(argv)
    shapes = ((8, 512, 64),) if args.quick else SHAPES
    rounds = 2 if args.quick else args.rounds
    print(
        f"# backend {backend_name()} (keras {keras.__version__}), python "
        f"{platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPU(s)"
    )
    print(f"{'shape (batch, T, order)':<24} {'mode':<8} {'fwd s':>8} {'fwd+bwd s':>10}")
    rng = np.random.RandomState(0)
    for batch, T, q in shapes:
        u = ops.convert_to_tensor(rng.uniform(-1, 1, size=(batch, T, 1)).astype(np.float32))
        g = ops.convert_to_tensor(rng.randn(batch, T, q).astype(np.float32))
        for mode in ("chunked", "fft"):
            f, fb = compiled(mode, q, T, g)
            block(f(u))  # trace / compile once
            block(fb(u))
            tf_, tb = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                block(f(u))
                tf_.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                block(fb(u))
                tb.append(time.perf_counter() - t0)
            print(
                f"{str((batch, T, q)):<24} {mode:<8} {np.median(tf_):>8.3f} {np.median(tb):>10.3f}"
            )


if __name__ == "__main__":
    main()
