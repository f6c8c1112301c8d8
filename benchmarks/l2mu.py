"""L2MU against a recurrent LIF network: accuracy, parameters, sparsity, ops.

What is measured: both networks are built from `nengo_lmu.discrete_lif.DiscreteLIF`
populations and trained the same way in NengoDL (Adam, spike-count
cross-entropy, the same epochs, learning rate, minibatch and seed) on event
digits (`nengo_lmu.apps.data.event_digits`: 16 ON/OFF channels, a stand-in for the
event-based Braille task):

- "L2MU": `nengo_lmu.networks.L2MU` with the paper's 7-class Braille preset
  (betas, thresholds, order 7, theta 10) and smaller populations;
- "recurrent LIF": `nengo_lmu.networks.RecurrentLIF`, one recurrent
  population and an output population, as wide as the parameter budget of the
  L2MU allows (no more parameters), with the preset's h/out betas and
  thresholds.

Accuracy is on the held-out 20% of digits, both from the NengoDL forward pass
and from the nengo reference simulation of the trained network (which also
gives the NeuroBench-style measures: per sequence, from rest). The last
column is L2MU / recurrent LIF. Wall times are noisy on a shared machine.

Run from the repository root::

    python benchmarks/l2mu.py            # full run (about 10 minutes on 2 cores)
    python benchmarks/l2mu.py --quick    # smoke run
    python benchmarks/l2mu.py --help
"""

import argparse
import datetime
import os
import platform

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from nengo_lmu.apps.experiments.l2mu import train_l2mu  # noqa: E402
from nengo_lmu.tables import format_table  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--memory-size", type=int, default=32, help="L2MU u neurons")
    parser.add_argument("--hidden-size", type=int, default=96, help="L2MU h neurons")
    parser.add_argument("--steps", type=int, default=40, help="steps per sequence")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--minibatch", type=int, default=64, help="minibatch size")
    parser.add_argument("--seed", type=int, default=0, help="initial weights and training")
    parser.add_argument(
        "--save", default="l2mu_benchmark.npz", help="where the trained L2MU is saved"
    )
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    samples = None
    if args.quick:
        args.memory_size, args.hidden_size, args.steps, args.epochs = 4, 16, 20, 1
        samples = 200
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    print(
        f"event digits, {args.steps} steps; L2MU u {args.memory_size} "
        f"h {args.hidden_size} (braille7 preset) and a recurrent LIF network of no more "
        f"parameters; {args.epochs} epochs, lr {args.lr:g}, minibatch {args.minibatch}, "
        f"seed {args.seed}",
        flush=True,
    )
    out = train_l2mu(
        preset_name="braille7",
        memory_size=args.memory_size,
        hidden_size=args.hidden_size,
        steps=args.steps,
        epochs=args.epochs,
        learning_rate=args.lr,
        minibatch_size=args.minibatch,
        seed=args.seed,
        samples=samples,
        save=args.save,
        verbose=0,
        log=lambda text: print(text, flush=True),
    )
    print(f"{out.n_train} train / {out.n_test} held-out sequences")
    results = {}
    for name in ("L2MU", "recurrent LIF"):
        dl, ref = out.run(name, "NengoDL"), out.run(name, "nengo")
        results[name] = dict(
            ref.metrics,
            **{
                "accuracy (NengoDL)": dl.accuracy,
                "accuracy (nengo)": ref.accuracy,
                "train seconds": dl.train_seconds,
            },
        )
    keys = [
        ("accuracy (NengoDL)", ".4f"),
        ("accuracy (nengo)", ".4f"),
        ("parameters", "d"),
        ("footprint_bytes", "d"),
        ("activation_sparsity", ".3f"),
        ("synaptic_ops", ".4g"),
        ("effective_macs", ".4g"),
        ("dense_ops", ".4g"),
        ("membrane_updates", ".4g"),
        ("train seconds", ".0f"),
    ]
    a, b = results["L2MU"], results["recurrent LIF"]
    rows = [
        (
            key,
            format(a[key], fmt),
            format(b[key], fmt),
            f"{a[key] / b[key]:.3f}" if b[key] else "-",
        )
        for key, fmt in keys
    ]
    print()
    print(format_table(("measure (per sequence)", "L2MU", "recurrent LIF", "ratio"), rows))


if __name__ == "__main__":
    main()
