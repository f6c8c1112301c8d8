"""The two tasks on the nengo-loihi emulator next to nengo.Simulator.

1. The delay task (10 Hz white noise, theta 0.1 s, order 6, dt 1 ms) with the
   Loihi-ready spiking memory (`nengo_lmu.loihi.LoihiLegendreMemory`): NRMSE
   on nengo, on the emulator ("sim") and on the emulator without
   discretisation ("simreal"), for several seeds.
2. A digits LMUClassifier with spiking hidden neurons: held-out accuracy on
   nengo and on the emulator, same sequences.

Both with the resources the emulator counted and the speed of each simulator
(simulated steps per wall second, measured in the same run: use the ratio).

    python benchmarks/loihi_emulator.py [--weights lmu_digits_loihi.npz]
        [--seeds 0 1] [--n-test 30] [--steps-per-sample 20] [--gain 400]

Without --weights a classifier is trained first (NengoDL, ~5-10 min here).
"""

import argparse
import os
import time
import warnings

import numpy as np

from nengo_lmu import loihi
from nengo_lmu.cli import _print_resources, _print_table


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--n-neurons", type=int, default=200)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--weights", default=None)
    p.add_argument("--save", default="lmu_digits_loihi.npz")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--n-test", type=int, default=30)
    p.add_argument("--steps-per-sample", type=int, default=20)
    p.add_argument("--gain", type=float, default=400.0)
    p.add_argument("--no-delay", action="store_true")
    p.add_argument("--no-digits", action="store_true")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")

    if not args.no_delay:
        print(f"Delay task: theta 0.1 s, order 6, {args.n_neurons} LIF per dimension, "
              f"{args.duration:g} s, 10 Hz white noise rms 0.3, dt 1 ms", flush=True)
        rows = [("seed", "nengo NRMSE", "sim NRMSE", "simreal NRMSE", "sim - nengo",
                 "sim - simreal", "nengo steps/s", "sim steps/s", "sim / nengo speed")]
        res_sim = None
        for seed in args.seeds:
            results, resources, report = loihi.delay_comparison(
                targets=("sim", "simreal"), n_neurons=args.n_neurons,
                duration=args.duration, seed=seed)
            r0, rs, rr = results["nengo"], results["sim"], results["simreal"]
            speed = {k: r.sim_time / 0.001 / r.run_seconds for k, r in results.items()}
            rows.append((str(seed), f"{r0.nrmse:.4f}", f"{rs.nrmse:.4f}", f"{rr.nrmse:.4f}",
                         f"{rs.nrmse - r0.nrmse:+.4f}", f"{rs.nrmse - rr.nrmse:+.4f}",
                         f"{speed['nengo']:.0f}", f"{speed['sim']:.0f}",
                         f"{speed['sim'] / speed['nengo']:.2f}"))
            res_sim = resources
            print(f"  seed {seed} done", flush=True)
        print(report)
        _print_table(rows)
        _print_resources(res_sim)

    if not args.no_digits:
        path = args.weights
        if path is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            t0 = time.perf_counter()
            acc = loihi.train_digits_classifier(args.save, epochs=args.epochs, seed=0)
            path = args.save
            print(f"trained in {time.perf_counter() - t0:.0f} s; rate accuracy (NengoDL, "
                  f"all 360 held-out): {acc:.4f}")
        print(f"Digits: first {args.n_test} held-out sequences, gain {args.gain:g}, "
              f"{args.steps_per_sample} steps per sample", flush=True)
        out = loihi.digits_comparison(path, n_test=args.n_test, gain=args.gain,
                                      steps_per_sample=args.steps_per_sample,
                                      targets=("sim", "simreal"))
        print(out["sim"]["report"])
        base = out["nengo"]
        rows = [("simulator", "accuracy", "vs nengo (points)", "steps/s", "speed vs nengo")]
        for name, info in out.items():
            sp = info["steps"] / info["seconds"]
            rows.append((name, f"{info['accuracy']:.4f}",
                         f"{100 * (info['accuracy'] - base['accuracy']):+.1f}",
                         f"{sp:.0f}", f"{sp / (base['steps'] / base['seconds']):.2f}"))
        _print_table(rows)
        agree = np.mean(out["sim"]["logits"].argmax(-1) == base["logits"].argmax(-1))
        print(f"sim and nengo predict the same class for {agree:.2%} of the sequences")
        _print_resources({t: out[t]["resources"] for t in ("sim", "simreal")},
                         per="sequence")


if __name__ == "__main__":
    main()
