"""``nengo-lmu demo`` (the delay task) and ``nengo-lmu info``."""

from nengo_lmu.apps.cli.common import (
    FLAG,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    add_command,
    output,
)
from nengo_lmu.apps.experiments.delay import NEURON_TYPES

DEMO_OPTIONS = (
    ("--theta", POSITIVE_FLOAT, 0.1, "delay window in seconds"),
    ("--order", POSITIVE_INT, 6, "Legendre coefficients (memory dimensions)"),
    ("--n-neurons", POSITIVE_INT, 166, "neurons per memory dimension in the spiking form"),
    (
        "--neuron-type",
        tuple(NEURON_TYPES),
        "lif",
        "neuron type of the neural form (lif: LegendreMemory's default LIF, "
        "1 ms refractory period, 300-500 Hz)",
    ),
    ("--synapse", POSITIVE_FLOAT, 0.1, "recurrent lowpass time constant (s) of the neural form"),
    ("--duration", POSITIVE_FLOAT, 10.0, "simulated seconds"),
    ("--discard", float, 1.0, "seconds at the start left out of the score"),
    ("--dt", POSITIVE_FLOAT, 0.001, "simulator time step (s)"),
    ("--high", POSITIVE_FLOAT, 10.0, "band limit of the white-noise input (Hz)"),
    ("--rms", POSITIVE_FLOAT, 0.3, "rms of the input"),
    ("--seed", int, 0, "seed of input and network"),
    ("--plot", None, "nengo_lmu_demo.png", "where to save the PNG plot"),
    ("--no-plot", FLAG, None, "do not save a plot"),
    ("--no-progress", FLAG, None, "hide the simulation progress bar"),
)


def add_demo_parser(sub):
    add_command(
        sub,
        "demo",
        demo_command,
        DEMO_OPTIONS,
        force=True,
        help="delay white noise with an exact and a spiking Legendre memory",
        description=(
            "Delay band-limited white noise by theta with a LegendreMemory, once "
            "in its exact form (nodes) and once as spiking neurons, score each "
            "decoded delay against the truly delayed input (NRMSE after the "
            "first second) and save a plot."
        ),
    )


def demo_command(args):
    from nengo_lmu.apps.experiments.delay import delay_demo

    if not args.no_plot:
        args.plot = output(args.plot, args, "plot")

    print(
        f"Delay task: {args.high:g} Hz white noise (rms {args.rms:g}), theta "
        f"{args.theta:g} s, order {args.order}, dt {args.dt:g} s, "
        f"{args.duration:g} s (seed {args.seed})",
        flush=True,
    )
    out = delay_demo(
        theta=args.theta,
        order=args.order,
        n_neurons=args.n_neurons,
        neuron_type_name=args.neuron_type,
        synapse=args.synapse,
        duration=args.duration,
        dt=args.dt,
        high=args.high,
        rms=args.rms,
        seed=args.seed,
        discard=args.discard,
        progress_bar=not args.no_progress,
    )
    print()
    print(out.table())
    print(
        f"\nNRMSE is against u(t - theta), theta = {round(args.theta / args.dt)} "
        f"steps; 'best lag' is the delay that fits best."
    )
    if not args.no_plot:
        from nengo_lmu.apps.plots import plot_delay

        plot_delay([out.exact, out.neural], args.plot, theta=args.theta)
        print(f"Plot saved to {args.plot}")
    return 0


def add_info_parser(sub):
    add_command(
        sub,
        "info",
        info_command,
        show_defaults=False,
        help="versions, usable extras and known-bad combinations (for bug reports)",
    )


def info_command(args):
    from nengo_lmu.info import report

    print(report())
    return 0
