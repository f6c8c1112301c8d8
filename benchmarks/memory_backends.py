"""The LMU memory's speed on every Keras stack, and KerasLMU's, in one table.

The measurement of ``benchmarks/memory_speed.py`` (forward: the memory of
every step, ``(batch, T, order)``, from ``u`` ``(batch, T, 1)``;
forward+backward, the core of a training step: the memory and the gradient
of ``sum(m * g)`` with respect to ``u``; float32, theta = T, its shapes), for

- nengo_lmu's `nengo_lmu.dl.legendre_memory` (``chunked`` and ``fft``
  modes) on Keras 3 with JAX (``jax.jit``), PyTorch (eager) or TensorFlow
  (``tf.function``), and on the locked stack's tf.keras 2.12
  (``tf.function``);
- KerasLMU 0.9 (``LMUFeedforward`` with ``conv_mode="fft"``, and the
  ``LMUCell`` stepped by ``keras.layers.RNN``, built as in
  ``memory_speed.py``) on TensorFlow.

These stacks live in different environments, so the script runs itself in
each interpreter given (``--python NAME=PATH``; NAME is the stack: ``jax``,
``torch``, ``tensorflow`` (Keras 3 backends), ``tfkeras`` (tf.keras 2) or
``keraslmu``, optionally followed by ``/label``, or ``/cpu`` to hide
accelerators), one after the other, and
prints one table. Each row's ratio is its time over the peer's (``--peer``,
KerasLMU's RNN on TensorFlow 2.12 by default, its fastest in
memory_speed.py) for the same shape, measured in the same run. A
stack an interpreter lacks gives a row saying so. Every function is traced
and run once before timing; then ``--rounds`` timed calls, the median
reported. On the CPU unless a backend finds an accelerator (its device is
printed).

Run from the repository root, e.g.::

    python benchmarks/memory_backends.py \\
        --python jax=.venv313/bin/python --python torch=.venv311torch/bin/python \\
        --python tensorflow=.venv312/bin/python --python tfkeras=.venv/bin/python \\
        --python keraslmu=.venv/bin/python --python keraslmu/keras3=.venv312/bin/python
    python benchmarks/memory_backends.py --quick ...   # small shape, smoke run

Without ``--python`` it measures the stack of the interpreter running it
(``KERAS_BACKEND``, or tf.keras 2).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

#: the shapes of benchmarks/memory_speed.py: (batch, T, order)
SHAPES = ((32, 4096, 256), (100, 784, 256))
QUICK_SHAPES = ((8, 512, 64),)
STACKS = ("jax", "torch", "tensorflow", "tfkeras", "keraslmu")
KERAS3_BACKENDS = ("jax", "torch", "tensorflow")
HERE = os.path.dirname(os.path.abspath(__file__))


# --- the child: one stack in this interpreter ---------------------------------


def block(x):
    """Wait for the result (JAX and PyTorch may run asynchronously)."""
    for v in x if isinstance(x, (tuple, list)) else [x]:
        np.asarray(v.detach().cpu() if hasattr(v, "detach") else v).ravel()[:1]


def ours_functions(mode, q, T, g):
    """``(forward, forward+backward)`` of nengo_lmu's memory on this backend."""
    from nengo_lmu.dl.compat import backend_name, ops
    from nengo_lmu.dl.memory import legendre_memory

    def fwd(u):
        return legendre_memory(u, q, float(T), mode)

    name = backend_name()
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
    return tf_functions(fwd, g)


def tf_functions(fwd, g):
    import tensorflow as tf

    def fb(u):
        with tf.GradientTape() as tape:
            tape.watch(u)
            m = fwd(u)
            value = tf.reduce_sum(m * g)
        return m, tape.gradient(value, u)

    return tf.function(fwd), tf.function(fb)


def keras_lmu_functions(variant, q, T, g):
    """KerasLMU's memory, built as in memory_speed.py."""
    sys.path.insert(0, HERE)
    import memory_speed

    layer = (
        memory_speed.keras_feedforward("fft", q, T)
        if variant == "fft"
        else memory_speed.keras_rnn(q, T)
    )
    return tf_functions(lambda u: layer(u), g)


def describe(stack):
    """Versions and the device of this interpreter's stack."""
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    if stack in KERAS3_BACKENDS or stack == "tfkeras":
        from nengo_lmu.dl.compat import KERAS3, backend_name, keras

        if stack in KERAS3_BACKENDS and (not KERAS3 or backend_name() != stack):
            raise RuntimeError(f"this interpreter has no Keras 3 {stack} backend")
        if stack == "tfkeras" and KERAS3:
            raise RuntimeError("this interpreter has Keras 3, not tf.keras 2")
        parts.append(f"keras {keras.__version__}")
    if stack == "keraslmu":
        import keras_lmu
        import tensorflow as tf

        parts += [f"keras-lmu {keras_lmu.__version__}", f"tensorflow {tf.__version__}"]
    return ", ".join(parts), device_name(stack)


def device_name(stack):
    if stack == "jax":
        import jax

        d = jax.devices()[0]
        return f"{d.platform}:{getattr(d, 'device_kind', d)}"
    if stack == "torch":
        import torch

        return f"cuda:{torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"gpu:{gpus[0].name}" if gpus else "cpu"


def variants(stack):
    if stack == "keraslmu":
        return {"KerasLMU fft": ("fft",), "KerasLMU rnn": ("rnn",)}
    return {"ours chunked": ("chunked",), "ours fft": ("fft",)}


def convert(stack, array):
    if stack == "torch":
        from nengo_lmu.dl.compat import ops

        return ops.convert_to_tensor(array)
    if stack == "jax":
        import jax.numpy as jnp

        return jnp.asarray(array)
    import tensorflow as tf

    return tf.constant(array)


def child(stack, shapes, rounds, skip):
    """Measure one stack; one JSON row per line on stdout."""
    try:
        versions, device = describe(stack)
    except Exception as e:  # the stack is missing here: say so
        print(json.dumps(dict(stack=stack, error=f"{type(e).__name__}: {e}")))
        return
    print(json.dumps(dict(stack=stack, versions=versions, device=device)), flush=True)
    rng = np.random.RandomState(0)
    for batch, T, q in shapes:
        u = rng.uniform(-1, 1, size=(batch, T, 1)).astype(np.float32)
        g = rng.randn(batch, T, q).astype(np.float32)
        u, g = convert(stack, u), convert(stack, g)
        for label, (mode,) in variants(stack).items():
            if label in skip:
                continue
            row = dict(stack=stack, shape=[batch, T, q], variant=label)
            try:
                make = keras_lmu_functions if stack == "keraslmu" else ours_functions
                f, fb = make(mode, q, T, g)
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
                row.update(fwd=float(np.median(tf_)), fb=float(np.median(tb)))
            except Exception as e:
                row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
            print(json.dumps(row), flush=True)


# --- the parent: every interpreter, one table -----------------------------------


def run_child(name, python, args):
    argv = ["--rounds", str(args.rounds)] + ["--quick"] * args.quick
    argv += [a for s in args.skip for a in ("--skip", s)]
    return run_script(__file__, name, python, argv)


def run_script(script, name, python, argv):
    """Run ``script --child STACK argv`` in ``python`` (NAME is ``STACK``,
    ``STACK/cpu`` to hide accelerators, or ``STACK/label``); its JSON rows,
    each with ``name``, or one row with the error."""
    stack, _, tag = name.partition("/")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_BACKEND", None)
    if stack in KERAS3_BACKENDS:
        env["KERAS_BACKEND"] = stack
    if tag == "cpu":
        env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    cmd = [python, os.path.abspath(script), "--child", stack] + list(argv)
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
        if not rows:
            tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
            rows.append(dict(stack=stack, error=f"exit {out.returncode}: {tail[:160]}"))
    except OSError as e:
        rows = [dict(stack=stack, error=f"cannot run {python}: {e}")]
    for row in rows:
        row["name"] = name
    return rows


def parse_pythons(parser, items, stacks):
    """``--python NAME=PATH`` items as ``(name, path)`` (this interpreter's
    own stack if none)."""
    pythons = []
    for item in items or [f"{default_stack()}={sys.executable}"]:
        name, sep, path = item.partition("=")
        if not sep or name.split("/")[0] not in stacks:
            parser.error(f"--python wants NAME=PATH with NAME one of {stacks}, got {item!r}")
        pythons.append((name, path))
    return pythons


def fmt(t, peer):
    if t is None:
        return f"{'-':>9} {'':>7}"
    ratio = f"{t / peer:.2f}x" if peer else ""
    return f"{t:>9.3f} {ratio:>7}"


def table(rows, peer_name, shapes):
    """The table, rows grouped by shape, ratios to the peer's time."""
    lines = []
    headers = [r for r in rows if "versions" in r or ("error" in r and "shape" not in r)]
    for r in headers:
        if "error" in r:
            lines.append(f"# {r['name']:<16} not available: {r['error']}")
        else:
            lines.append(f"# {r['name']:<16} {r['device']:<10} {r['versions']}")
    lines.append(
        f"{'shape (batch, T, order)':<24} {'stack':<16} {'variant':<14} "
        f"{'fwd s':>9} {'ratio':>7} {'fwd+bwd s':>9} {'ratio':>7}"
    )
    for shape in shapes:
        at = [r for r in rows if r.get("shape") == list(shape)]
        peer = next(
            (r for r in at if f"{r['name']}:{r['variant']}" == peer_name and "fwd" in r), None
        )
        for r in at:
            head = f"{str(tuple(shape)):<24} {r['name']:<16} {r['variant']:<14} "
            if "error" in r:
                lines.append(head + f"failed: {r['error']}")
                continue
            lines.append(
                head
                + fmt(r["fwd"], peer and peer["fwd"])
                + " "
                + fmt(r["fb"], peer and peer["fb"])
            )
        if peer is None:
            lines.append(f"{'':<24} (no ratios: the peer {peer_name!r} has no time here)")
    return "\n".join(lines)


def stack_parser(doc, stacks, name_help="optionally /label"):
    """An argument parser with ``--python NAME=PATH`` (repeated): the
    interpreters a benchmark runs itself in, one per stack."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help=f"an interpreter and the stack it measures (NAME: {', '.join(stacks)}, "
        f"{name_help}); repeat for each",
    )
    return parser


def main(argv=None):
    parser = stack_parser(__doc__, STACKS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="shape (8, 512, 64), 2 rounds")
    parser.add_argument(
        "--peer",
        default="keraslmu:KerasLMU rnn",
        help="NAME:variant whose times the ratios divide by (default %(default)r)",
    )
    parser.add_argument("--skip", action="append", default=[], help="a variant to leave out")
    parser.add_argument("--child", choices=STACKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    shapes = QUICK_SHAPES if args.quick else SHAPES
    if args.quick:
        args.rounds = min(args.rounds, 2)
    if args.child:
        return child(args.child, shapes, args.rounds, set(args.skip))
    pythons = parse_pythons(parser, args.python, STACKS)
    print("# nengo_lmu memory speed on every stack (benchmarks/memory_backends.py)")
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU(s); rounds {args.rounds}")
    rows = []
    for name, path in pythons:
        print(f"# measuring {name} ({path}) ...", file=sys.stderr, flush=True)
        rows += run_child(name, path, args)
    print(table(rows, args.peer, shapes))


def default_stack():
    backend = os.environ.get("KERAS_BACKEND")
    try:
        import keras

        major = int(keras.__version__.split(".")[0])
    except ImportError:
        return "jax"
    if major < 3:
        return "tfkeras"
    return backend or "tensorflow"


if __name__ == "__main__":
    main()
