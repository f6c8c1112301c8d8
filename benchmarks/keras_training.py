"""Training speed of LMUFormer and the LMU language model on every Keras stack.

What is measured: the wall-clock time of one training step (forward pass,
gradients, one Adam update; sparse categorical cross-entropy from logits at
every frame / token, Keras' ``train_on_batch`` after ``compile``) for

- LMUFormer (`nengo_lmu.dl.lmuformer`): ``--clips`` clips of ``--frames``
  frames of ``--mels`` features, 12 classes, ``dim`` 64, one block (the
  keyword-spotting model of ``benchmarks/lmuformer.py``), reported as
  clips/s;
- the LMU language model (`nengo_lmu.dl.lmu_language_model`): ``--seqs``
  sequences of ``--tokens`` byte tokens, ``d`` 128, 2 layers, order 64,
  theta 64 (the reduced path), reported as tokens/s;

on each stack given: Keras 3 with JAX or PyTorch (on whatever device the
backend finds: a GPU where there is one), the same on the CPU
(``NAME/cpu``: ``JAX_PLATFORMS=cpu`` / ``CUDA_VISIBLE_DEVICES=``), Keras 3
with TensorFlow, and the locked stack's tf.keras 2.12 (CPU). The stacks live
in different environments, so the script runs itself in each interpreter
(``--python NAME=PATH``, NAME one of ``jax``, ``torch``, ``tensorflow``,
``tfkeras``, optionally ``/cpu`` or ``/label``), one after the other, and
prints one table with the device of each row and its speed over the
tf.keras 2.12 row's (measured in the same run). A model a stack cannot
build or train (e.g. one not yet ported to Keras 3) gives a row saying
"not available on this stack" and why.

Each model is built and compiled, trained ``--warmup`` steps (tracing,
compiling), then ``--steps`` timed steps; the median is reported. Inputs and
labels are random (seed 0): only speed is measured. Absolute times depend on
the machine and its load; compare rows of one run.

Run from the repository root, e.g.::

    python benchmarks/keras_training.py \\
        --python jax=.venv313/bin/python --python torch=.venv311torch/bin/python \\
        --python tfkeras=.venv/bin/python
    python benchmarks/keras_training.py --quick ...     # small shapes, smoke run
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memory_backends import (  # noqa: E402
    device_name,
    parse_pythons,
    run_script,
    stack_parser,
)

STACKS = ("jax", "torch", "tensorflow", "tfkeras")
KERAS3_BACKENDS = ("jax", "torch", "tensorflow")
MODELS = ("lmuformer", "language model")


# --- the child: one stack in this interpreter ---------------------------------


def check_stack(stack):
    """Versions of this interpreter's stack (raises if it is another)."""
    from nengo_lmu.dl.compat import KERAS3, backend_name, keras

    if stack in KERAS3_BACKENDS and (not KERAS3 or backend_name() != stack):
        raise RuntimeError(f"this interpreter has no Keras 3 {stack} backend")
    if stack == "tfkeras" and KERAS3:
        raise RuntimeError("this interpreter has Keras 3, not tf.keras 2")
    return f"python {platform.python_version()}, numpy {np.__version__}, keras {keras.__version__}"


def build(model_name, args, rng):
    """``(model, x, y, items per step)`` of one benchmark model."""
    if model_name == "lmuformer":
        from nengo_lmu.dl import lmuformer

        model = lmuformer(args.mels, 12, dim=args.dim, n_frames=args.frames, seed=0)
        x = rng.randn(args.clips, args.frames, args.mels).astype("float32")
        y = rng.randint(12, size=(args.clips, args.frames)).astype("int32")
        return model, x, y, args.clips
    from nengo_lmu.dl import lmu_language_model

    model = lmu_language_model(257, d=args.d, n_layers=2, order=64, theta=64.0, seed=0)
    x = rng.randint(257, size=(args.seqs, args.tokens)).astype("int32")
    y = rng.randint(257, size=(args.seqs, args.tokens)).astype("int32")
    return model, x, y, args.seqs * args.tokens


def measure(model_name, args):
    from nengo_lmu.dl.compat import keras

    rng = np.random.RandomState(0)
    model, x, y, items = build(model_name, args, rng)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    for _ in range(args.warmup):
        loss = model.train_on_batch(x, y)
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = model.train_on_batch(x, y)
        float(np.asarray(loss[0] if isinstance(loss, (list, tuple)) else loss))  # wait for it
        times.append(time.perf_counter() - t0)
    t = float(np.median(times))
    return dict(step_s=t, per_s=items / t, loss=float(np.asarray(loss).ravel()[0]))


def child(stack, args):
    """Measure one stack; one JSON row per line on stdout."""
    try:
        versions = check_stack(stack)
        device = device_name(stack)
    except Exception as e:
        print(json.dumps(dict(stack=stack, error=f"{type(e).__name__}: {e}")))
        return
    print(json.dumps(dict(stack=stack, versions=versions, device=device)), flush=True)
    for model_name in MODELS:
        row = dict(stack=stack, model=model_name, device=device)
        try:
            row.update(measure(model_name, args))
        except Exception as e:
            first = (str(e).strip().splitlines() or [""])[0][:140]
            row["error"] = f"not available on this stack: {type(e).__name__}: {first}"
        print(json.dumps(row), flush=True)


# --- the parent: every interpreter, one table -----------------------------------


def table(rows):
    lines = []
    for r in rows:
        if "model" not in r:
            what = f"not available: {r['error']}" if "error" in r else r["versions"]
            lines.append(f"# {r['name']:<16} {r.get('device', ''):<12} {what}")
    lines.append(
        f"{'model':<16} {'stack':<16} {'device':<22} {'step s':>8} {'speed':>16} {'vs tf2.12':>9}"
    )
    for model in MODELS:
        unit = "clips/s" if model == "lmuformer" else "tokens/s"
        peer = next(
            (
                r
                for r in rows
                if r.get("model") == model and r["stack"] == "tfkeras" and "per_s" in r
            ),
            None,
        )
        for r in rows:
            if r.get("model") != model:
                continue
            head = f"{model:<16} {r['name']:<16} {r['device'][:22]:<22} "
            if "error" in r:
                lines.append(head + r["error"])
                continue
            ratio = f"{r['per_s'] / peer['per_s']:.2f}x" if peer else "-"
            lines.append(head + f"{r['step_s']:>8.3f} {r['per_s']:>8.1f} {unit:<7} {ratio:>9}")
    return "\n".join(lines)


def main(argv=None):
    parser = stack_parser(__doc__, STACKS, "optionally /cpu or /label")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps")
    parser.add_argument("--clips", type=int, default=32, help="LMUFormer clips per step")
    parser.add_argument("--frames", type=int, default=101, help="frames per clip")
    parser.add_argument("--mels", type=int, default=40, help="features per frame")
    parser.add_argument("--dim", type=int, default=64, help="LMUFormer channels")
    parser.add_argument("--seqs", type=int, default=16, help="LM sequences per step")
    parser.add_argument("--tokens", type=int, default=256, help="tokens per sequence")
    parser.add_argument("--d", type=int, default=128, help="LM width")
    parser.add_argument("--quick", action="store_true", help="small shapes, 2 steps")
    parser.add_argument("--child", choices=STACKS, help=argparse.SUPPRESS)
    raw = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(raw)
    if args.quick:
        args.steps, args.warmup = 2, 1
        args.clips, args.frames, args.dim = 4, 30, 16
        args.seqs, args.tokens, args.d = 2, 32, 16
    if args.child:
        return child(args.child, args)
    # the children get the same options, less the interpreters
    child_argv, skip = [], False
    for item in raw:
        if skip:
            skip = False
            continue
        if item == "--python":
            skip = True
            continue
        if not item.startswith("--python="):
            child_argv.append(item)
    pythons = parse_pythons(parser, args.python, STACKS)
    print("# LMUFormer and LMU language-model training speed (benchmarks/keras_training.py)")
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU(s); LMUFormer {args.clips} clips "
        f"x {args.frames} frames x {args.mels} features (dim {args.dim}); LM {args.seqs} x "
        f"{args.tokens} tokens (d {args.d}); median of {args.steps} steps after {args.warmup}"
    )
    rows = []
    for name, path in pythons:
        print(f"# measuring {name} ({path}) ...", file=sys.stderr, flush=True)
        rows += run_script(__file__, name, path, child_argv)
    print(table(rows))


if __name__ == "__main__":
    main()
