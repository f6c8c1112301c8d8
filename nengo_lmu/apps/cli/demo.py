"""``nengo-lmu demo`` (the delay task) and ``nengo-lmu info``."""

from dataclasses import asdict

from nengo_lmu.apps.cli.common import (
    FLAG,
    add_command,
    output,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.delay import DelaySettings

#: demo's options: DelaySettings' fields, and what the command does with the result
DEMO_OPTIONS = settings_options(DelaySettings) + (
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

    settings = settings_from_args(DelaySettings, args)
    if not args.no_plot:
        args.plot = output(args.plot, args, "plot")

    print(
        f"Delay task: {settings.high:g} Hz white noise (rms {settings.rms:g}), theta "
        f"{settings.theta:g} s, order {settings.order}, dt {settings.dt:g} s, "
        f"{settings.duration:g} s (seed {settings.seed})",
        flush=True,
    )
    out = delay_demo(**asdict(settings), progress_bar=not args.no_progress)
    print()
    print(out.table())
    print(
        f"\nNRMSE is against u(t - theta), theta = {round(settings.theta / settings.dt)} "
        f"steps; 'best lag' is the delay that fits best."
    )
    if not args.no_plot:
        from nengo_lmu.apps.plots import plot_delay

        plot_delay([out.exact, out.neural], args.plot, theta=settings.theta)
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
