"""Delay-task benchmark: accuracy against neuron count, and simulation speed.

What is measured (all with `nengo_lmu.apps.tasks.run_delay_task`: a 6th-order
Legendre memory delays 10 Hz white noise by theta = 0.1 s, dt = 1 ms):

1. Accuracy. NRMSE of the delayed output against the input delayed by exactly
   theta, for several neuron counts, comparing

   - "naive": the mapping of the old nengo-loihi LMU example (continuous
     mapping ``A' = tau A + I``, no change of basis, LIF neurons, intercepts
     uniform in [-1, 1] and evaluation points uniform in the hypersphere);
   - each realiser of `nengo_lmu.realizers` (``scaled``, ``balanced``,
     ``l1``, ``hankel``) with the package's other defaults (discrete
     mapping, LIF neurons with a 1 ms refractory period, decoders with
     regularisation 0.05, tuning from the state's range); the memory's
     default realiser is marked with ``*``;
   - "scaled, LIF 2 ms": the default realiser with nengo's LIF (2 ms
     refractory period) and nengo's regularisation (0.1), the memory's
     defaults before session 3.

   All use the same seeds; NRMSE is the mean over seeds. The best-fitting lag
   (in steps, searched within +-5 of the nominal theta/dt = 100) shows any
   delay the network adds.

2. Robustness. NRMSE against the input's amplitude (8 Hz white noise of
   several rms) when the network is *not* told the input (no ``process=``),
   for the same variants at one neuron count.

3. Speed. Simulated seconds per wall-clock second of the run phase (and the
   build time) for the exact (node) form and for "ours" with ~1000 neurons,
   on `nengo.Simulator` and on `nengo_dl.Simulator` (NengoDL's defaults).

Absolute times depend on the machine and its load; only ratios within one
run are meaningful.

Run from the repository root::

    python benchmarks/delay_accuracy.py            # full run (~1 h on 2 cores)
    python benchmarks/delay_accuracy.py --quick    # smoke run
    python benchmarks/delay_accuracy.py --help
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings

import nengo
import numpy as np

from nengo_lmu.apps.tasks import run_delay_task
from nengo_lmu.networks.legendre_memory import MEMORY_REALIZER
from nengo_lmu.tables import format_table

ORDER = 6
THETA = 0.1
DT = 0.001
SPEED_N_PER_DIM = 166  # ~1000 neurons in total


def naive_kwargs():
    """Memory settings of the old nengo-loihi LMU example."""
    return dict(
        mapping="continuous",
        realizer="identity",
        neuron_type=nengo.LIF(),
        ens_kwargs=dict(
            intercepts=nengo.dists.Uniform(-1, 1),
            eval_points=nengo.dists.UniformHypersphere(),
        ),
    )


def ours_kwargs():
    """The package defaults."""
    return dict()


def realizer_kwargs(name):
    """The package defaults with the realiser ``name``."""
    return lambda: dict(realizer=name)


def nengo_lif_kwargs():
    """The memory's defaults before session 3: nengo's LIF (2 ms refractory
    period) and nengo's decoder regularisation (0.1)."""
    return dict(neuron_type=nengo.LIF(), solver=nengo.solvers.LstsqL2(reg=0.1))


REALIZER_NAMES = ("scaled", "balanced", "l1", "hankel")
VARIANTS = {"naive": naive_kwargs, "scaled, LIF 2 ms": nengo_lif_kwargs}
VARIANTS.update(
    {
        (f"{name}*" if name == MEMORY_REALIZER else name): realizer_kwargs(name)
        for name in REALIZER_NAMES
    }
)
AMPLITUDE_HIGH = 8.0


def run(n_neurons, seed, duration, kwargs=None, simulator=None):
    return run_delay_task(
        theta=THETA,
        order=ORDER,
        n_neurons=n_neurons,
        duration=duration,
        dt=DT,
        seed=seed,
        simulator=simulator,
        **(kwargs or {}),
    )


def accuracy_table(sizes, seeds, duration):
    print(
        f"\n## Accuracy: NRMSE vs neuron count (mean over seeds {seeds}, "
        f"{duration:g} s each; 10 Hz rms 0.3, sample given; nominal lag "
        f"{int(round(THETA / DT))} steps)"
    )
    rows = []
    for n in sizes:
        scores, lags, total = {}, {}, None
        for name, make in VARIANTS.items():
            results = [run(n, s, duration, make()) for s in seeds]
            scores[name] = np.mean([r.nrmse for r in results])
            lags[name] = "/".join(str(r.best_lag_steps) for r in results)
            total = results[0].n_neurons
        best = min((v, k) for k, v in scores.items() if k != "naive")
        rows.append(
            (
                n,
                total,
                *(f"{v:.4f}" for v in scores.values()),
                f"{scores['naive'] / best[0]:.2f}",
                lags["naive"],
                lags[best[1]],
            )
        )
        print(f"  {n} neurons per dimension done", flush=True)
    print(format_table(("n/dim", "total", *VARIANTS, "naive/best", "naive lag", "best lag"), rows))
    print(
        "(lags: best-fitting delay in steps, one per seed, searched "
        "within +-5 of nominal; * the memory's default realiser)"
    )


def amplitude_table(rms_values, n, seeds, duration):
    print(
        f"\n## Robustness: NRMSE vs input rms, input not described "
        f"(no process=; {AMPLITUDE_HIGH:g} Hz white noise, {n} neurons per "
        f"dimension, mean over seeds {seeds}, {duration:g} s each)"
    )
    rows = []
    for rms in rms_values:
        scores = {}
        for name, make in VARIANTS.items():
            kwargs = make()
            kwargs["process"] = None
            scores[name] = np.mean(
                [
                    run_delay_task(
                        theta=THETA,
                        order=ORDER,
                        n_neurons=n,
                        duration=duration,
                        dt=DT,
                        seed=s,
                        high=AMPLITUDE_HIGH,
                        rms=rms,
                        **kwargs,
                    ).nrmse
                    for s in seeds
                ]
            )
        best = min(v for k, v in scores.items() if k != "naive")
        rows.append(
            (f"{rms:g}", *(f"{v:.4f}" for v in scores.values()), f"{scores['naive'] / best:.2f}")
        )
        print(f"  rms {rms:g} done", flush=True)
    print(format_table(("rms", *VARIANTS, "naive/best"), rows))


def speed_table(duration, use_dl):
    simulators = {"nengo": nengo.Simulator}
    if use_dl:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        import nengo_dl  # slow, optional import

        tf = nengo_dl.compat.tf
        gpus = tf.config.list_physical_devices("GPU")
        # Said once here instead of by a warning from every simulator.
        warnings.filterwarnings("ignore", message="No GPU support detected", category=UserWarning)
        simulators["nengo_dl"] = nengo_dl.Simulator
        print(
            f"\nnengo_dl {nengo_dl.__version__}, tensorflow {tf.__version__}, "
            f"{len(gpus)} GPU(s) visible"
        )
    print(
        f"\n## Speed: simulated s per wall s of the run phase ({duration:g} s simulated, seed 0)"
    )
    headers = ["network", "neurons"]
    for s in simulators:
        headers += [f"{s} speed", f"{s} build s"]
    if use_dl:
        headers.append("nengo/dl speed")
    rows = []
    for label, n in (("exact", None), ("ours", SPEED_N_PER_DIM)):
        kwargs = None if n is None else ours_kwargs()
        res = {name: run(n, 0, duration, kwargs, sim) for name, sim in simulators.items()}
        row = [label, res["nengo"].n_neurons]
        for r in res.values():
            row += [f"{r.speed:.2f}", f"{r.build_seconds:.2f}"]
        if use_dl:
            row.append(f"{res['nengo'].speed / res['nengo_dl'].speed:.2f}")
        rows.append(row)
    print(format_table(headers, rows))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="simulated seconds per run (the first 1 s is not scored)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0, 1],
        help="seeds of the accuracy runs (NRMSE is averaged over them)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[50, 100, 166, 333, 500],
        help=f"neurons per memory dimension (total = {ORDER} x this)",
    )
    parser.add_argument(
        "--rms",
        type=float,
        nargs="+",
        default=[0.1, 0.15, 0.3, 0.45, 0.6],
        help="input rms values of the robustness table",
    )
    parser.add_argument(
        "--amplitude-size",
        type=int,
        default=166,
        help="neurons per memory dimension in the robustness table",
    )
    parser.add_argument("--no-dl", action="store_true", help="skip the NengoDL speed runs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: duration 2 s, seed 0, sizes 50 100 (overrides the options above)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.seeds, args.sizes = 2.0, [0], [50, 100]
        args.rms, args.amplitude_size = [0.15, 0.45], 50
    return args


def main(argv=None):
    args = parse_args(argv)
    print("# nengo_lmu delay-task benchmark")
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(f"python {platform.python_version()}, numpy {np.__version__}, nengo {nengo.__version__}")
    print("NOTE: absolute times are machine noise; only ratios within one run count.")
    t0 = time.perf_counter()
    accuracy_table(args.sizes, args.seeds, args.duration)
    amplitude_table(args.rms, args.amplitude_size, args.seeds, args.duration)
    speed_table(args.duration, not args.no_dl)
    print(f"\ntotal wall time: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
