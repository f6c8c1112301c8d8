"""The two tasks on the nengo-loihi emulator next to nengo.Simulator.

1. The delay task (10 Hz white noise, theta 0.1 s, order 6, dt 1 ms) with the
   Loihi-ready spiking memory (`nengo_lmu.loihi.LoihiLegendreMemory`,
   `nengo_lmu.apps.experiments.loihi.delay_comparison`): NRMSE
   on nengo, on the emulator ("sim") and on the emulator without
   discretisation ("simreal"), for several seeds.
2. A digits classifier (`nengo_lmu.loihi.HostMemoryClassifier`: memory exact on
   the host, spiking ReLU hidden layer on the chip): held-out accuracy of the
   rate network, on nengo and on the emulator, same sequences, for several
   training seeds.

3. NRMSE against compartments (cores) on the emulator, for our Loihi memory
   and for the naive mapping of nengo-loihi's old LMU example (rebuilt here:
   continuous mapping, an EnsembleArray of SpikingRectifiedLinear neurons
   per dimension, tau 0.1, decoded connections), at several neuron counts,
   same input, in one run (``--sizes``; ``--no-sizes`` skips it).

Each with the resources the emulator counted and the speed of each simulator
(simulated steps per wall second, measured in the same run: use the ratio).

    python benchmarks/loihi_emulator.py [--seeds 0 1] [--digit-seeds 0 1 2]
        [--weights lmu_digits_loihi.npz] [--n-test N] [--gain 300]
        [--neuron-type loihi|ideal]

Without --weights a classifier is trained for each digit seed (in parallel,
seconds each); with --weights that file is used once.
"""

import argparse
import os
import time
import warnings

from nengo_lmu.apps.experiments import loihi as experiment
from nengo_lmu.tables import format_table


def size_sweep(sizes, naive_sizes, duration, seed):
    """NRMSE, compartments, cores and synaptic ops on the emulator ("sim")
    for our memory and the naive one, at each size, same input."""
    rows = []
    for name, memory, ns in (
        ("ours", None, sizes),
        ("naive", experiment.NaiveLoihiMemory, naive_sizes),
    ):
        for n in ns:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = experiment.delay_comparison(
                    targets=("sim",),
                    n_neurons=n,
                    duration=duration,
                    seed=seed,
                    discard=min(1.0, duration / 4),
                    **({} if memory is None else {"memory": memory}),
                )
            r0, rs, res = out.results["nengo"], out.results["sim"], out.resources["sim"]
            rows.append(
                (
                    name,
                    str(n),
                    str(res["compartments"]),
                    str(res["cores"]),
                    f"{res['synaptic_ops_per_inference']:.3g}",
                    f"{r0.nrmse:.4f}",
                    f"{rs.nrmse:.4f}",
                    f"{rs.best_nrmse:.4f} ({rs.best_lag_steps})",
                )
            )
            print(f"  {name} n={n} done", flush=True)
    return format_table(
        (
            "memory",
            "neurons/dim",
            "compartments",
            "cores",
            "synaptic ops",
            "nengo NRMSE",
            "sim NRMSE",
            "sim best-lag NRMSE (lag)",
        ),
        rows,
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument(
        "--n-neurons", type=int, default=None, help="neurons per dimension (default: the memory's)"
    )
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--weights", default=None)
    p.add_argument("--digit-seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--n-test", type=int, default=None)
    p.add_argument("--gain", type=float, default=300.0)
    p.add_argument("--neuron-type", choices=("loihi", "ideal"), default="loihi")
    p.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    p.add_argument("--naive-sizes", type=int, nargs="+", default=[100, 200])
    p.add_argument("--size-duration", type=float, default=10.0)
    p.add_argument("--no-sizes", action="store_true")
    p.add_argument("--no-delay", action="store_true")
    p.add_argument("--no-digits", action="store_true")
    args = p.parse_args(argv)

    if not args.no_delay:
        print(
            f"Delay task: theta 0.1 s, order 6, {args.n_neurons or 'default'} LIF per dimension, "
            f"{args.duration:g} s, 10 Hz white noise rms 0.3, dt 1 ms",
            flush=True,
        )
        headers = (
            "seed",
            "nengo NRMSE",
            "sim NRMSE",
            "simreal NRMSE",
            "sim - nengo",
            "sim - simreal",
            "nengo steps/s",
            "sim steps/s",
            "sim / nengo speed",
        )
        rows = []
        res_sim = None
        for seed in args.seeds:
            out = experiment.delay_comparison(
                targets=("sim", "simreal"),
                n_neurons=args.n_neurons,
                duration=args.duration,
                seed=seed,
            )
            results, resources, placement = out.results, out.resources, out.placement
            r0, rs, rr = results["nengo"], results["sim"], results["simreal"]
            speed = {k: r.sim_time / 0.001 / r.run_seconds for k, r in results.items()}
            rows.append(
                (
                    str(seed),
                    f"{r0.nrmse:.4f}",
                    f"{rs.nrmse:.4f}",
                    f"{rr.nrmse:.4f}",
                    f"{rs.nrmse - r0.nrmse:+.4f}",
                    f"{rs.nrmse - rr.nrmse:+.4f}",
                    f"{speed['nengo']:.0f}",
                    f"{speed['sim']:.0f}",
                    f"{speed['sim'] / speed['nengo']:.2f}",
                )
            )
            res_sim = resources
            print(f"  seed {seed} done", flush=True)
        print(placement)
        print()
        print(format_table(headers, rows))
        print()
        print(experiment.resources_table(res_sim))

    if not args.no_sizes:
        print(
            f"NRMSE against compartments on the emulator: {args.size_duration:g} s, "
            f"seed {args.seeds[0]}",
            flush=True,
        )
        print(size_sweep(args.sizes, args.naive_sizes, args.size_duration, args.seeds[0]))
        print()

    if not args.no_digits:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        runs = (
            [(None, args.weights)]
            if args.weights
            else [(seed, f"lmu_digits_loihi_seed{seed}.npz") for seed in args.digit_seeds]
        )
        headers = (
            "seed",
            "rate",
            "nengo",
            "sim",
            "simreal",
            "sim - nengo (points)",
            "same class sim/nengo",
            "nengo steps/s",
            "sim steps/s",
            "sim / nengo speed",
        )
        rows = []
        out = None
        for seed, path in runs:
            if seed is not None:
                t0 = time.perf_counter()
                experiment.train_digits_classifier(path, epochs=args.epochs, seed=seed)
                print(f"seed {seed}: trained in {time.perf_counter() - t0:.0f} s", flush=True)
            out = experiment.digits_comparison(
                path,
                n_test=args.n_test,
                targets=("sim", "simreal"),
                gain=args.gain,
                neuron_type=args.neuron_type,
            )
            sp = {k: out[k]["steps"] / out[k]["seconds"] for k in ("nengo", "sim")}
            agree = out.agreement("sim")
            rows.append(
                (
                    str(seed if seed is not None else path),
                    *(f"{out[k]['accuracy']:.4f}" for k in ("rate", "nengo", "sim", "simreal")),
                    f"{100 * (out['sim']['accuracy'] - out['nengo']['accuracy']):+.2f}",
                    f"{agree:.4f}",
                    f"{sp['nengo']:.0f}",
                    f"{sp['sim']:.0f}",
                    f"{sp['sim'] / sp['nengo']:.2f}",
                )
            )
        print(
            f"Digits: {out['nengo']['n']} held-out sequences, gain {args.gain:g}, "
            f"{args.neuron_type} hidden neurons in nengo, last sample held 40 steps, "
            f"logits averaged over the last 20"
        )
        print(out.placement)
        print()
        print(format_table(headers, rows))
        print()
        print(
            experiment.resources_table(
                {t: out[t]["resources"] for t in ("sim", "simreal")}, per="sequence"
            )
        )


if __name__ == "__main__":
    main()
