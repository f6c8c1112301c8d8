"""The ``nengo-lmu`` command."""

import argparse
import sys

NEURON_TYPES = ("lif", "lifrate", "spikingrelu", "relu")


def _neuron_type(name):
    import nengo

    return {
        "lif": nengo.LIF,
        "lifrate": nengo.LIFRate,
        "spikingrelu": nengo.SpikingRectifiedLinear,
        "relu": nengo.RectifiedLinear,
    }[name]()


def _positive(kind):
    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nengo-lmu",
        description="Legendre Memory Units in Nengo: demos and tasks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser(
        "demo",
        help="delay white noise with an exact and a spiking Legendre memory",
        description=(
            "Delay band-limited white noise by theta with a LegendreMemory, once "
            "in its exact form (nodes) and once as spiking neurons, score each "
            "decoded delay against the truly delayed input (NRMSE after the "
            "first second) and save a plot."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--theta", type=_positive(float), default=0.1,
                      help="delay window in seconds")
    demo.add_argument("--order", type=_positive(int), default=6,
                      help="Legendre coefficients (memory dimensions)")
    demo.add_argument("--n-neurons", type=_positive(int), default=166,
                      help="neurons per memory dimension in the spiking form")
    demo.add_argument("--neuron-type", choices=NEURON_TYPES, default="lif",
                      help="neuron type of the neural form")
    demo.add_argument("--synapse", type=_positive(float), default=0.1,
                      help="recurrent lowpass time constant (s) of the neural form")
    demo.add_argument("--duration", type=_positive(float), default=10.0,
                      help="simulated seconds")
    demo.add_argument("--discard", type=float, default=1.0,
                      help="seconds at the start left out of the score")
    demo.add_argument("--dt", type=_positive(float), default=0.001,
                      help="simulator time step (s)")
    demo.add_argument("--high", type=_positive(float), default=10.0,
                      help="band limit of the white-noise input (Hz)")
    demo.add_argument("--rms", type=_positive(float), default=0.3,
                      help="rms of the input")
    demo.add_argument("--seed", type=int, default=0, help="seed of input and network")
    demo.add_argument("--plot", default="nengo_lmu_demo.png",
                      help="where to save the PNG plot")
    demo.add_argument("--no-plot", action="store_true", help="do not save a plot")
    demo.add_argument("--no-progress", action="store_true",
                      help="hide the simulation progress bar")
    demo.set_defaults(func=demo_command)
    return parser


def demo_command(args):
    from nengo_lmu.tasks import run_delay_task

    common = dict(
        theta=args.theta,
        order=args.order,
        duration=args.duration,
        dt=args.dt,
        high=args.high,
        rms=args.rms,
        seed=args.seed,
        discard=args.discard,
        progress_bar=not args.no_progress,
    )
    print(f"Delay task: {args.high:g} Hz white noise (rms {args.rms:g}), theta "
          f"{args.theta:g} s, order {args.order}, dt {args.dt:g} s, "
          f"{args.duration:g} s (seed {args.seed})")
    print("Simulating the exact memory ...", flush=True)
    exact = run_delay_task(label="exact", **common)
    print(f"Simulating the {args.neuron_type} memory ...", flush=True)
    neural = run_delay_task(
        label=args.neuron_type,
        n_neurons=args.n_neurons,
        neuron_type=_neuron_type(args.neuron_type),
        synapse=args.synapse,
        **common,
    )
    rows = [("form", "NRMSE", "best lag (steps)", "neurons", "simulated s", "sim s / wall s")]
    for r in (exact, neural):
        rows.append((r.label, f"{r.nrmse:.4f}", f"{r.best_lag_steps}", f"{r.n_neurons}",
                     f"{r.sim_time:g}", f"{r.speed:.2f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for k, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nNRMSE is against u(t - theta), theta = {round(args.theta / args.dt)} "
          f"steps; 'best lag' is the delay that fits best.")
    if not args.no_plot:
        from nengo_lmu.plots import plot_delay

        plot_delay([exact, neural], args.plot, theta=args.theta)
        print(f"Plot saved to {args.plot}")
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as e:  # noqa: BLE001 - report, don't dump a traceback
        from nengo.exceptions import NengoException

        if isinstance(e, NengoException):
            print(f"nengo-lmu: error: {e}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
