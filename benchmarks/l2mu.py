"""L2MU against a recurrent LIF network: accuracy, parameters, sparsity, ops.

What is measured: both networks are built from `nengo_lmu.neurons.DiscreteLIF`
populations and trained the same way in NengoDL (Adam, spike-count
cross-entropy, the same epochs, learning rate, minibatch and seed) on event
digits (`nengo_lmu.data.event_digits`: 16 ON/OFF channels, a stand-in for the
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

from nengo_lmu.data import event_digits  # noqa: E402
from nengo_lmu.dl import train_spiking_classifier  # noqa: E402
from nengo_lmu.networks import L2MU, RecurrentLIF  # noqa: E402
from nengo_lmu.networks.l2mu import preset  # noqa: E402


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
    parser.add_argument("--quick", action="store_true", help="tiny smoke run")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    samples = None
    if args.quick:
        args.memory_size, args.hidden_size, args.steps, args.epochs = 4, 16, 20, 1
        samples = 200
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs")
    data = event_digits(n_steps=args.steps, n_samples=samples)
    y = data["y_test"].ravel()
    hp = preset("braille7")
    l2mu = L2MU.from_preset("braille7", 16, 10, memory_size=args.memory_size,
                            hidden_size=args.hidden_size, seed=args.seed)
    k = RecurrentLIF.hidden_size_for(l2mu.n_parameters, 16, 10)
    rsnn = RecurrentLIF(16, 10, k, beta_h=hp["beta_h"], threshold_h=hp["threshold_h"],
                        beta_out=hp["beta_out"], threshold_out=hp["threshold_out"],
                        seed=args.seed)
    print(f"event digits: {len(data['x_train'])} train / {len(y)} held-out, "
          f"{args.steps} steps; L2MU u {args.memory_size} m {args.memory_size}x7 "
          f"h {args.hidden_size}; recurrent LIF h {k}; {args.epochs} epochs, lr "
          f"{args.lr:g}, minibatch {args.minibatch}, seed {args.seed}", flush=True)
    results = {}
    for name, net in (("L2MU", l2mu), ("recurrent LIF", rsnn)):
        r = train_spiking_classifier(net, data, epochs=args.epochs,
                                     minibatch_size=args.minibatch,
                                     learning_rate=args.lr, seed=args.seed)
        m = net.metrics(data["x_test"])
        m["accuracy (NengoDL)"] = r.test_accuracy
        m["accuracy (nengo)"] = float(np.mean(m["counts"].argmax(-1) == y))
        m["train seconds"] = r.train_seconds
        results[name] = m
        print(f"  {name}: trained in {r.train_seconds:.0f} s", flush=True)
    keys = [("accuracy (NengoDL)", ".4f"), ("accuracy (nengo)", ".4f"),
            ("parameters", "d"), ("footprint_bytes", "d"),
            ("activation_sparsity", ".3f"), ("synaptic_ops", ".4g"),
            ("effective_macs", ".4g"), ("dense_ops", ".4g"),
            ("membrane_updates", ".4g"), ("train seconds", ".0f")]
    a, b = results["L2MU"], results["recurrent LIF"]
    rows = [("measure (per sequence)", "L2MU", "recurrent LIF", "ratio")]
    for key, fmt in keys:
        ratio = f"{a[key] / b[key]:.3f}" if b[key] else "-"
        rows.append((key, format(a[key], fmt), format(b[key], fmt), ratio))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print()
    for i, r in enumerate(rows):
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
