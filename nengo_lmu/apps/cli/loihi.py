"""``nengo-lmu loihi``: the delay task and a digits classifier on the
nengo-loihi emulator next to nengo."""

from dataclasses import replace

from nengo_lmu.apps.cli.common import (
    FLAG,
    add_command,
    check_saved_network,
    interrupt_note,
    log,
    output,
    progress_bar,
    quiet_tensorflow,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.settings import LoihiSettings

#: loihi's options: LoihiSettings' fields, and --no-progress
LOIHI_OPTIONS = settings_options(LoihiSettings) + (
    ("--no-progress", FLAG, None, "hide the emulator runs' progress bars"),
)


def add_loihi_parser(sub):
    add_command(
        sub,
        "loihi",
        loihi_command,
        LOIHI_OPTIONS,
        force=True,
        help="run the delay task and a digits classifier on the nengo-loihi emulator",
        description=(
            "Run LMU networks on the nengo-loihi emulator next to nengo.Simulator: "
            "(1) the delay task with the Loihi-ready spiking Legendre memory on the "
            "chip (NRMSE on nengo, 'sim' and 'simreal'); (2) a digits LMUClassifier "
            "with the memory on the host and spiking hidden neurons on the chip; "
            "(3) a row-digits LMU classifier with its memory and hidden layer on "
            "the chip (held-out accuracy on nengo and the emulator, chip time and "
            "resources per sequence). Prints the placement tables, the scores and "
            "the resource counts."
        ),
    )


def loihi_command(args):
    quiet_tensorflow()
    from nengo_lmu.apps.experiments import loihi as experiment

    settings = check_settings(settings_from_args(LoihiSettings, args))
    settings = check_files(settings, args)
    progress = progress_bar("emulator", unit="sim s", quiet=args.no_progress)
    if settings.delay:
        delay_task(settings, experiment, progress)
    if settings.digits:
        host_digits(settings, experiment, progress)
    if settings.chip_digits:
        chip_digits(settings, progress)
    return 0


def check_settings(settings):
    """Refuse, before any work, settings that cannot run (errors name the flag)."""
    from nengo.exceptions import ValidationError

    for t in settings.target_names:
        if t not in ("sim", "simreal"):
            raise ValidationError(f"must be sim or simreal, got {t!r}", attr="--targets")
    if not settings.target_names:
        raise ValidationError(f"names no target, got {settings.targets!r}", attr="--targets")
    if settings.discard >= settings.duration:
        raise ValidationError(
            f"must be shorter than --duration ({settings.duration:g} s), got "
            f"{settings.discard:g} s",
            attr="--discard",
        )
    if not (settings.delay or settings.digits or settings.chip_digits):
        raise ValidationError(
            "nothing to run: --no-delay, --no-digits and --no-chip-digits together "
            "skip every task",
            attr="--no-chip-digits",
        )
    return settings


def check_files(settings, args):
    """``settings`` with its output paths checked (and resolved) before any
    work: the saved networks it reads and the files it will write."""
    if settings.digits:
        if settings.weights is not None:
            # the file is checked now, not after the delay task (minutes)
            check_saved_network(settings.weights, "--weights", ["LMUClassifier"])
        else:
            save = output(settings.save, args, "trained classifier", ".npz")
            settings = replace(settings, save=save)
    if settings.chip_digits:
        if settings.chip_weights is not None:
            check_saved_network(settings.chip_weights, "--chip-weights", ["LMUClassifier"])
        else:
            save = output(
                settings.chip_save, args, "trained chip classifier", ".npz", flag="--chip-save"
            )
            settings = replace(settings, chip_save=save)
    return settings


def delay_task(settings, experiment, progress=None):
    """The delay task with the Loihi-ready memory on nengo and the emulator."""
    log(
        f"Delay task on the emulator: 10 Hz white noise, theta {settings.theta:g} s, "
        f"order {settings.order}, {settings.n_neurons or 'the default'} neurons per "
        f"dimension, {settings.duration:g} s (seed {settings.seed})"
    )
    out = experiment.delay_comparison(
        targets=settings.target_names,
        n_neurons=settings.n_neurons,
        duration=settings.duration,
        seed=settings.seed,
        theta=settings.theta,
        order=settings.order,
        discard=settings.discard,
        progress=progress,
    )
    print(out.report)
    return out


def host_digits(settings, experiment, progress=None):
    """The digits classifier with its memory on the host (trained first
    without ``--weights``)."""
    path = settings.weights
    if path is None:
        log(
            f"Training a digits LMU (100 relu units, order 48, no hidden-to-hidden) "
            f"for {settings.epochs} epochs in parallel (seed {settings.seed}) ..."
        )
        trained = experiment.train_digits_classifier(
            settings.save, epochs=settings.epochs, seed=settings.seed
        )
        path = trained.path
        print(trained.report)
        interrupt_note(f"the trained classifier is saved in {path}")
    log(
        f"Digits on the emulator: memory exact on the host, spiking hidden layer "
        f"on the chip (gain {settings.gain:g}, {settings.neuron_type} neurons in nengo), "
        f"each sequence's last sample held {settings.hold_steps} steps ..."
    )
    out = experiment.digits_comparison(
        path,
        n_test=settings.n_test,
        targets=settings.target_names,
        gain=settings.gain,
        hold_steps=settings.hold_steps,
        window=settings.window,
        neuron_type=settings.neuron_type,
        progress=progress,
    )
    print(out.report)
    return out


def chip_digits(settings, progress=None):
    """The row-digits classifier with its memory and hidden layer on the chip
    (trained first without ``--chip-weights``)."""
    from nengo_lmu.apps.experiments import chip_digits as experiment

    path = settings.chip_weights
    if path is None:
        cell = experiment.CHIP_DIGITS_CELL
        log(
            f"Training a row-digits LMU for the chip (order {cell['order']} x memory_d "
            f"{cell['memory_d']}, {cell['units']} relu units, no recurrence; "
            f"seed {settings.seed}) ..."
        )
        trained = experiment.train_chip_digits_classifier(settings.chip_save, seed=settings.seed)
        path = trained.path
        print(trained.report)
        interrupt_note(f"the trained classifiers are saved (last: {path})")
    fit = (
        f" on {settings.n_fit} training sequences ({settings.fit_on} spikes)"
        if settings.readout == "fit"
        else ""
    )
    log(
        f"Row digits with the whole LMU on the chip: {settings.chip_neurons} LIF per memory "
        f"dimension, each sample held {settings.steps_per_sample} steps, the first "
        f"{settings.chip_n_test} held-out sequences; readout: {settings.readout}{fit} ..."
    )
    out = experiment.chip_digits_comparison(
        path,
        targets=settings.target_names,
        n_test=settings.chip_n_test,
        steps_per_sample=settings.steps_per_sample,
        n_neurons=settings.chip_neurons,
        readout=settings.readout,
        n_fit=settings.n_fit,
        fit_on=settings.fit_on,
        progress=progress,
    )
    print(out.report)
    return out
