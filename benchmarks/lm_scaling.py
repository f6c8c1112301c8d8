"""Seed 003's question at this machine's scale: LMU language model vs transformer.

Part 1 (scaling): the LMU model (`nengo_lmu.dl.lmu_language_model`), the
same with global attention, and a causal pre-norm transformer with the same
number of non-embedding parameters (`nengo_lmu.dl.lm_sizes`, d =
sqrt(N/24)) train on the same byte-level tokens of the Python standard
library (`nengo_lmu.text.stdlib_corpus`, split by file, seed 0) at each
token budget (each budget its own warmup + cosine schedule); validation
cross-entropy in nats and bits per byte on the first ``--val-sequences``
validation sequences. The peer is the transformer: the table gives each
model's loss, the ratio to the transformer's at the same size and budget,
and how many tokens the transformer needs to reach each LMU loss
(log-linear interpolation between budgets). A plot of loss per position
(seed 003 Figure 4) for the three models at the largest size and budget.

Part 2 (cost): against sequence length (batch 1): training time per token
and peak memory of one training step (fresh process per point), and
generation time per token with a context of that length (LMU: recurrent
step; transformer: key/value cache), with the LMU/transformer ratios.

Part 3 (``--speed``): training speed at ``nengo-lmu train-lm --quick``'s
shapes on the Keras backend that runs (``KERAS_BACKEND``: JAX, PyTorch,
TensorFlow; or tf.keras 2.12 on the locked stack) and the device it runs
on: tokens/s of the whole quick run (20,000 tokens, compilation included,
as ``train-lm`` reports it) and of the steady state (after the first steps).
Run it once per environment on the same data and compare.

The issue's protocol is ``--seq-len 1024`` and two sizes at three budgets
spanning 10x; on a 2-core CPU use small sizes and budgets (see
docs/language-model.md for what was run). Absolute times depend on the machine's load.

Run from the repository root::

    python benchmarks/lm_scaling.py --quick
    KERAS_BACKEND=jax python benchmarks/lm_scaling.py --speed
    python benchmarks/lm_scaling.py --sizes 20000 80000 --budgets 25000 80000 250000 \\
        --seq-len 256 --seeds 0 1 2 --json lm.json --plot-dir plots
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from nengo_lmu.apps.experiments.language_model import (  # noqa: E402
    MODELS,
    run_lm_scaling,
)
from nengo_lmu.apps.experiments.lm_cost import run_lm_cost  # noqa: E402
from nengo_lmu.tables import format_table  # noqa: E402


def device_name():
    """The backend and the device the Keras side computes on."""
    from nengo_lmu.dl.compat import backend_name

    name = backend_name()
    if name == "jax":
        import jax

        return name, str(jax.devices()[0])
    if name == "torch":
        import torch

        return name, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return name, gpus[0].name if gpus else "cpu"


def train_speed(models=("lmu", "transformer"), steady_steps=30):
    """Rows ``(backend, device, model, quick-run tok/s, steady tok/s, loss)``
    at train-lm --quick's shapes (`TrainLMSettings`' quick values)."""
    from nengo_lmu.apps.experiments.language_model import _make_model
    from nengo_lmu.apps.experiments.settings import TrainLMSettings, quick_values, resolve
    from nengo_lmu.dl import lm_sizes
    from nengo_lmu.dl.compat import keras
    from nengo_lmu.dl.lm_steps import make_training_steps
    from nengo_lmu.dl.lm_training import train_language_model
    from nengo_lmu.text import batch_indices, pack_sequences, stdlib_corpus

    s = resolve(TrainLMSettings, None, quick_values(TrainLMSettings))
    corpus = stdlib_corpus(seed=0, max_files=s.max_files)
    seqs = pack_sequences(corpus.train, s.seq_len)
    sizes = lm_sizes(s.params, order=s.order)
    backend, device = device_name()
    rows = []
    for kind in models:
        model = _make_model(kind, sizes, s.seq_len, s.order, s.theta, s.seed)
        quick = train_language_model(
            model, seqs, s.tokens, s.seq_len, s.batch_size, lr=s.lr, seed=s.seed, progress=False
        )
        optimizer = keras.optimizers.Adam(s.lr)
        optimizer.build(model.trainable_variables)
        step = make_training_steps(model, optimizer, s.batch_size * s.seq_len, s.batch_size)
        step(seqs[batch_indices(len(seqs), s.batch_size, 0, s.seed)])  # compile
        t0 = time.perf_counter()
        for k in range(steady_steps):
            step(seqs[batch_indices(len(seqs), s.batch_size, k + 1, s.seed)])
        steady = steady_steps * s.batch_size * s.seq_len / (time.perf_counter() - t0)
        rows.append(
            (backend, device, kind, quick.tokens_per_second, steady, quick.final_train_loss)
        )
        print(
            f"{backend} on {device}, {kind}: {quick.tokens_per_second:,.0f} tok/s in the quick "
            f"run, {steady:,.0f} tok/s steady",
            flush=True,
        )
    return rows


def scaling_tables(result):
    rows = []
    for model, target, params, budget, m, s, bits, n, tps in result.rows():
        tr = result.mean_loss("transformer", target, budget)[0]
        rows.append((model, target, params, budget, m, s, bits, n, m / tr if tr else None, tps))
    out = format_table(
        [
            "model",
            "N target",
            "N exact",
            "tokens",
            "nats/byte",
            "sd",
            "bits/byte",
            "seeds",
            "/ transformer",
            "tok/s",
        ],
        rows,
    )
    match = format_table(
        ["model", "N target", "tokens", "nats/byte", "transformer tokens to match", "ratio"],
        result.transformer_tokens_to_match(),
    )
    return out, match


def binned(curve, n_bins=16):
    """Mean of ``curve`` in geometric position bins: (bin centres, means)."""
    n = len(curve)
    edges = np.unique(np.round(np.geomspace(1, n + 1, n_bins + 1)).astype(int))
    centres = [np.sqrt(a * (b - 1)) for a, b in zip(edges[:-1], edges[1:])]
    means = [np.mean(curve[a - 1 : b - 1]) for a, b in zip(edges[:-1], edges[1:])]
    return np.array(centres), np.array(means)


def plot_scaling(result, path):
    """Loss against budget, and per-position loss (``result`` or its JSON dict)."""
    import matplotlib.pyplot as plt

    if isinstance(result, dict):  # from --json
        s, runs = result["settings"], result["runs"]
    else:
        s = result.settings
        runs = [
            dict(
                model=r.model,
                target=r.target_params,
                budget=r.budget,
                nats_per_byte=r.nats_per_byte,
                per_position=r.per_position,
            )
            for r in result.runs
        ]

    def pick(model, target, budget):
        return [
            r for r in runs if (r["model"], r["target"], r["budget"]) == (model, target, budget)
        ]

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for target in s["sizes"]:
        for model in s["models"]:
            ys = [
                np.mean([r["nats_per_byte"] for r in pick(model, target, b)]) for b in s["budgets"]
            ]
            ax1.plot(s["budgets"], ys, "o-", label=f"{model} N={target:,}")
    ax1.set_xscale("log")
    ax1.set_xlabel("training tokens")
    ax1.set_ylabel("validation nats / byte")
    ax1.legend(fontsize=7)
    target, budget = max(s["sizes"]), max(s["budgets"])
    for model in s["models"]:
        curves = [r["per_position"] for r in pick(model, target, budget)]
        if curves:
            ax2.plot(*binned(np.mean(curves, axis=0)), "o-", label=model)
    ax2.set_xscale("log")
    ax2.set_xlabel("position in sequence")
    ax2.set_ylabel("nats / byte")
    ax2.set_title(
        f"per-position loss (geometric bins), N={target:,}, {budget:,} tokens", fontsize=9
    )
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_cost(cost, path):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5))
    for model in cost.settings["models"]:
        n = cost.column(model, 1)
        for ax, i, scale, label in (
            (axes[0], 2, 1e6, "train us / token"),
            (axes[1], 3, 1, "train peak MB"),
            (axes[2], 4, 1, "generate ms / token"),
        ):
            ax.plot(n, np.array(cost.column(model, i)) * scale, "o-", label=model)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("sequence length / context")
            ax.set_ylabel(label)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[20_000, 80_000])
    p.add_argument("--budgets", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--seq-len", type=int, default=1024)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--order", type=int, default=40)
    p.add_argument("--theta", type=float, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--val-sequences", type=int, default=32)
    p.add_argument("--max-files", type=int, default=None)
    p.add_argument("--cost-lens", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096, 8192])
    p.add_argument("--cost-d", type=int, default=32)
    p.add_argument("--cost-repeats", type=int, default=5)
    p.add_argument("--skip-scaling", action="store_true")
    p.add_argument("--skip-cost", action="store_true")
    p.add_argument("--quick", action="store_true", help="a tiny smoke run")
    p.add_argument(
        "--speed",
        action="store_true",
        help="only the training speed at train-lm --quick's shapes on this backend and device",
    )
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--plot-dir", default=None, help="write the plots here")
    p.add_argument(
        "--replot",
        default=None,
        help="only redraw the scaling plot from a --json file (into --plot-dir)",
    )
    args = p.parse_args(argv)
    if args.replot:
        with open(args.replot) as f:
            plot_scaling(
                json.load(f)["scaling"], os.path.join(args.plot_dir or ".", "lm_scaling.png")
            )
        return 0
    if args.quick:
        args.sizes, args.budgets, args.seq_len = [4000], [2048, 4096, 20480], 64
        args.batch_size, args.val_sequences, args.max_files = 4, 4, 30
        args.cost_lens = [128, 256]
    out = {"argv": sys.argv[1:]}
    if args.speed:
        rows = train_speed()
        print(
            "\n"
            + format_table(
                ["backend", "device", "model", "quick run tok/s", "steady tok/s", "loss"], rows
            )
        )
        out["speed"] = rows
        args.skip_scaling = args.skip_cost = True
    if not args.skip_scaling:
        print(
            f"== scaling: sizes {args.sizes}, budgets {args.budgets}, seeds {args.seeds}, "
            f"seq_len {args.seq_len}, batch {args.batch_size}",
            flush=True,
        )
        res = run_lm_scaling(
            args.sizes,
            args.budgets,
            args.seeds,
            args.models,
            args.seq_len,
            args.batch_size,
            args.order,
            args.theta,
            args.lr,
            val_sequences=args.val_sequences,
            max_files=args.max_files,
            log=lambda s: print(s, flush=True),
        )
        table, match = scaling_tables(res)
        print(f"\ncorpus: {res.corpus}\n\n{table}\n\n{match}\n")
        out["scaling"] = dict(
            settings=res.settings,
            corpus=res.corpus,
            rows=res.rows(),
            match=res.transformer_tokens_to_match(),
            runs=[
                dict(
                    model=r.model,
                    target=r.target_params,
                    params=r.params,
                    budget=r.budget,
                    seed=r.seed,
                    nats_per_byte=r.nats_per_byte,
                    tokens_per_second=r.tokens_per_second,
                    per_position=r.per_position.tolist(),
                )
                for r in res.runs
            ],
        )
        if args.plot_dir:
            os.makedirs(args.plot_dir, exist_ok=True)
            plot_scaling(res, os.path.join(args.plot_dir, "lm_scaling.png"))
    if not args.skip_cost:
        print(f"== cost against sequence length {args.cost_lens}, d={args.cost_d}", flush=True)
        cost = run_lm_cost(
            args.cost_lens,
            d=args.cost_d,
            order=args.order,
            theta=args.theta,
            repeats=args.cost_repeats,
            log=lambda s: print(s, flush=True),
        )
        print("\n" + cost.table() + "\n")
        out["cost"] = dict(settings=cost.settings, rows=cost.rows)
        if args.plot_dir:
            os.makedirs(args.plot_dir, exist_ok=True)
            plot_cost(cost, os.path.join(args.plot_dir, "lm_cost.png"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                out,
                f,
                indent=1,
                default=lambda o: (
                    None if o is None or (isinstance(o, float) and math.isnan(o)) else str(o)
                ),
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
