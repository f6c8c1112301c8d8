"""Memory-speed benchmark: the LMU memory over whole sequences, ours vs KerasLMU.

What is measured, for each shape (batch, T, order), theta = T, one input
channel, float32, on this machine's CPU (or GPU if TensorFlow sees one):

- forward: the memory ``m`` of every step, ``(batch, T, order)``, from the
  input ``u`` ``(batch, T, 1)``;
- forward+backward: the memory and the gradient of ``sum(m * g)`` with
  respect to ``u`` (``g`` a fixed random tensor), both returned so that
  neither can be skipped;

for ours (`nengo_lmu.dl.legendre_memory` in each mode: ``chunked`` with
chunk lengths 16, 32 and the default, ``fft``, ``recurrent``) and for
KerasLMU 0.9's three ways of computing the same memory: ``LMUFeedforward``
with ``conv_mode="fft"`` and ``"raw"``, and the ``LMUCell`` stepped by
``keras.layers.RNN`` (forced with a memory-to-memory kernel of zeros, as
KerasLMU would only pick it for a recurrent configuration).

Every function is a ``tf.function`` traced and run once before timing; then
the variants take turns, one call each per round, for ``--rounds`` rounds,
and the median is reported. The table gives the ratio to KerasLMU's fastest
variant *in the same run*, the achieved GFLOP/s (the flops each algorithm
needs, not counting zeros it skips) and the GB/s of writing the output, next
to this machine's limits measured in the same run (a large matrix product,
and a large elementwise copy).

Run from the repository root::

    python benchmarks/memory_speed.py            # both shapes of the issue
    python benchmarks/memory_speed.py --quick    # small shapes, smoke run
"""

import argparse
import datetime
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_lmu  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from nengo_lmu.dl.memory import default_chunk_size, legendre_memory  # noqa: E402

# every variant is its own tf.function: the retracing warnings are expected
tf.get_logger().setLevel("ERROR")

SHAPES = ((32, 4096, 256), (100, 784, 256))


def ours(mode, order, T, chunk=None):
    def f(u):
        return legendre_memory(u, order, float(T), mode=mode, chunk=chunk)

    return f


def keras_feedforward(conv_mode, order, T):
    layer = keras_lmu.LMUFeedforward(
        memory_d=1,
        order=order,
        theta=T,
        hidden_cell=None,
        kernel_initializer=None,
        return_sequences=True,
        conv_mode=conv_mode,
        truncate_ir=None,
    )
    layer.build((None, T, 1))
    return layer


def keras_rnn(order, T):
    cell = keras_lmu.LMUCell(
        memory_d=1,
        order=order,
        theta=T,
        hidden_cell=None,
        memory_to_memory=True,
        recurrent_initializer="zeros",
        kernel_initializer=None,
    )
    layer = tf.keras.layers.RNN(cell, return_sequences=True)
    layer.build((None, T, 1))
    return layer


def flops(name, batch, T, q):
    """Useful flops of each algorithm (multiply-adds count 2)."""
    if name.startswith("ours chunked"):
        L = int(name.split("L=")[1].rstrip(")"))
        return batch * T * (2 * (L + q) * q + 2 * q * q / L)
    if name in ("ours recurrent", "keras rnn"):
        return batch * T * 2 * q * q
    if name in ("ours fft", "keras fft"):
        n = 1 << int(np.ceil(np.log2(2 * T)))
        # rfft of u, complex product, irfft of q channels (~2.5 n log2 n each)
        return batch * (2.5 * n * np.log2(n) * (q + 1) + 8 * q * (n // 2 + 1))
    if name == "keras raw":
        return batch * T * (T + 1) * q  # causal convolution, half the products
    return np.nan


def machine_limits(rounds):
    """Peak-ish matmul GFLOP/s and copy GB/s of this machine, measured now."""
    a = tf.random.normal((4096, 512))
    b = tf.random.normal((512, 4096))
    mm = tf.function(lambda: tf.matmul(a, b))
    big = tf.random.normal((64 * 1024 * 1024 // 4,))
    cp = tf.function(lambda: big * 1.0001)
    mm(), cp()
    t_mm = np.median([timed(mm)[1] for _ in range(rounds)])
    t_cp = np.median([timed(cp)[1] for _ in range(rounds)])
    return 2 * 4096 * 512 * 4096 / t_mm / 1e9, 2 * big.shape[0] * 4 / t_cp / 1e9


def timed(f, *args):
    t0 = time.perf_counter()
    out = f(*args)
    # make sure the work is done (it is, on CPU, when the call returns)
    if isinstance(out, (list, tuple)):
        _ = out[0].shape
    return out, time.perf_counter() - t0


def variants(batch, T, q, args):
    names = {}
    chunks = sorted({16, 32, 64, default_chunk_size(q)})
    for L in chunks:
        names[f"ours chunked (L={L})"] = ours("chunked", q, T, L)
    names["ours fft"] = ours("fft", q, T)
    if not args.skip_slow:
        names["ours recurrent"] = ours("recurrent", q, T)
    names["keras fft"] = keras_feedforward("fft", q, T)
    if not args.skip_slow:
        names["keras raw"] = keras_feedforward("raw", q, T)
    names["keras rnn"] = keras_rnn(q, T)
    return names


def measure_shape(batch, T, q, args):
    rng = np.random.RandomState(0)
    u = tf.constant(rng.uniform(-1, 1, size=(batch, T, 1)).astype(np.float32))
    g = tf.constant(rng.randn(batch, T, q).astype(np.float32))
    funcs = {}
    for name, f in variants(batch, T, q, args).items():
        fwd = tf.function(lambda x, f=f: f(x))

        def fb(x, f=f):
            with tf.GradientTape() as tape:
                tape.watch(x)
                m = f(x)
                loss = tf.reduce_sum(m * g)
            return m, tape.gradient(loss, x)

        funcs[name] = (fwd, tf.function(fb))
    # trace and warm up
    ref = None
    for name, (fwd, fb) in funcs.items():
        m = fwd(u)
        fb(u)
        if ref is None:
            ref = m.numpy()
        else:
            err = np.max(np.abs(m.numpy() - ref)) / np.max(np.abs(ref))
            if err > 1e-3:
                print(f"  WARNING: {name} differs from the first variant by {err:.1e}")
    times = {name: ([], []) for name in funcs}
    for _ in range(args.rounds):
        for name, (fwd, fb) in funcs.items():
            times[name][0].append(timed(fwd, u)[1])
            times[name][1].append(timed(fb, u)[1])
    return {name: (np.median(a), np.median(b)) for name, (a, b) in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per variant")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: shapes (8, 512, 64) and (16, 256, 64), 2 rounds",
    )
    parser.add_argument(
        "--skip-slow",
        action="store_true",
        help="leave out the slowest variants (ours recurrent, keras raw)",
    )
    args = parser.parse_args(argv)
    shapes = ((8, 512, 64), (16, 256, 64)) if args.quick else SHAPES
    if args.quick:
        args.rounds = 2
    print("# nengo_lmu memory-speed benchmark (LMU memory over whole sequences)")
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, tensorflow "
        f"{tf.__version__}, keras_lmu {keras_lmu.__version__}; {os.cpu_count()} CPU(s), "
        f"{len(tf.config.list_physical_devices('GPU'))} GPU(s)"
    )
    gflops, gbs = machine_limits(args.rounds)
    print(
        f"this machine now: matmul {gflops:.1f} GFLOP/s (4096x512 @ 512x4096), "
        f"elementwise {gbs:.1f} GB/s (256 MB read + write)"
    )
    print(
        "NOTE: absolute times are noise on a shared machine; the ratios within one "
        "run are what count."
    )
    for batch, T, q in shapes:
        res = measure_shape(batch, T, q, args)
        keras = {k: v for k, v in res.items() if k.startswith("keras")}
        best_f = min(keras, key=lambda k: keras[k][0])
        best_b = min(keras, key=lambda k: keras[k][1])
        out_gb = batch * T * q * 4 / 1e9
        print(
            f"\nshape: batch {batch}, T {T}, order {q}, theta {T} "
            f"(output {out_gb * 1e3:.0f} MB); KerasLMU's fastest: {best_f} forward, "
            f"{best_b} forward+backward"
        )
        header = (
            f"{'variant':<22} {'fwd s':>8} {'x keras best':>12} {'GFLOP/s':>8} "
            f"{'GB/s out':>8} {'fwd+bwd s':>10} {'x keras best':>12}"
        )
        print(header)
        print("-" * len(header))
        for name, (tf_, tb) in res.items():
            print(
                f"{name:<22} {tf_:>8.3f} {keras[best_f][0] / tf_:>12.2f} "
                f"{flops(name, batch, T, q) / tf_ / 1e9:>8.1f} {out_gb / tf_:>8.2f} "
                f"{tb:>10.3f} {keras[best_b][1] / tb:>12.2f}"
            )
    print(
        "\n(x keras best = KerasLMU's fastest variant's time / this variant's time, "
        "same run: > 1 means faster than KerasLMU)"
    )


if __name__ == "__main__":
    main()
