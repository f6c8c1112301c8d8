"""``nengo-lmu loihi``: the delay task and a digits classifier on the
nengo-loihi emulator next to nengo."""

from nengo_lmu.apps.cli.common import (
    FLAG,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    add_command,
    log,
    output,
    quiet_tensorflow,
)

LOIHI_OPTIONS = (
    ("--theta", POSITIVE_FLOAT, 0.1, "delay window in seconds"),
    ("--order", POSITIVE_INT, 6, "Legendre coefficients of the delay memory"),
    (
        "--n-neurons",
        POSITIVE_INT,
        None,
        "neurons per memory dimension (default: LoihiLegendreMemory's, 200)",
    ),
    ("--duration", POSITIVE_FLOAT, 10.0, "simulated seconds of the delay task"),
    ("--discard", float, 1.0, "seconds at the start left out of the delay score"),
    ("--seed", int, 0, "seed of the input, the networks and of training"),
    (
        "--weights",
        None,
        None,
        "a digits classifier saved with LMUClassifier.save (one cell, "
        "RectifiedLinear hidden layer, no hidden_to_hidden); without it "
        "one is trained in parallel (Keras, seconds) and saved to --save",
    ),
    (
        "--save",
        None,
        "lmu_digits_loihi.npz",
        "where to save the classifier trained when --weights is absent",
    ),
    ("--epochs", POSITIVE_INT, 20, "training epochs when --weights is absent"),
    (
        "--gain",
        POSITIVE_FLOAT,
        300.0,
        "gain of the spiking hidden neurons (rate = gain * h Hz; a "
        "Loihi neuron spikes at most once per step)",
    ),
    ("--hold-steps", POSITIVE_INT, 40, "steps the last sample of each sequence is held"),
    (
        "--window",
        POSITIVE_INT,
        20,
        "logits: the readout averaged over the hold's last WINDOW steps",
    ),
    (
        "--neuron-type",
        ("loihi", "ideal"),
        "loihi",
        "hidden neurons in the nengo reference: nengo-loihi's "
        "LoihiSpikingRectifiedLinear or nengo.SpikingRectifiedLinear",
    ),
    (
        "--n-test",
        POSITIVE_INT,
        None,
        "held-out digit sequences to score (the first N; all by default)",
    ),
    ("--targets", None, "sim,simreal", "emulator targets, comma separated: sim, simreal"),
    (
        "--chip-weights",
        None,
        None,
        "a row-digits classifier for the whole LMU on the chip, saved with "
        "LMUClassifier.save (one cell, RectifiedLinear, no recurrence, no "
        "input_to_hidden); without it one is trained (seconds) and saved to --chip-save",
    ),
    (
        "--chip-save",
        None,
        "lmu_chip_digits_loihi.npz",
        "where to save the chip classifier trained when --chip-weights is absent",
    ),
    (
        "--chip-n-test",
        POSITIVE_INT,
        200,
        "held-out row-digit sequences scored with the whole LMU on the chip (the first N)",
    ),
    (
        "--steps-per-sample",
        POSITIVE_INT,
        10,
        "chip steps each sample is held for (the whole LMU on the chip)",
    ),
    (
        "--chip-neurons",
        POSITIVE_INT,
        100,
        "LIF neurons per memory dimension (the whole LMU on the chip)",
    ),
    (
        "--readout",
        ("fit", "trained"),
        "fit",
        "chip digits: the host readout fitted on the hidden spikes over training "
        "sequences (to the rate network's logits), or the trained one",
    ),
    (
        "--n-fit",
        POSITIVE_INT,
        400,
        "chip digits: training sequences the readout is fitted on (each is run on "
        "nengo and on every target)",
    ),
    (
        "--fit-on",
        ("own", "nengo"),
        "own",
        "chip digits: fit the readout on each simulator's own spikes, or on "
        "nengo's and use it everywhere",
    ),
    ("--no-delay", FLAG, None, "skip the delay task"),
    ("--no-digits", FLAG, None, "skip the digits task with the memory on the host"),
    ("--no-chip-digits", FLAG, None, "skip the digits task with the whole LMU on the chip"),
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
    from nengo.exceptions import ValidationError

    from nengo_lmu.apps.experiments import loihi as experiment

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    for t in targets:
        if t not in ("sim", "simreal"):
            raise ValidationError(f"must be sim or simreal, got {t!r}", attr="targets")
    if args.no_delay and args.no_digits and args.no_chip_digits:
        raise ValidationError(
            "nothing to run: --no-delay, --no-digits and --no-chip-digits together "
            "skip every task",
            attr="--no-chip-digits",
        )
    if not args.no_digits:
        if args.weights is not None:
            # the file is checked now, not after the delay task (minutes)
            from nengo_lmu.networks.saving import check_kind, read_network

            kind, *_ = read_network(args.weights)
            check_kind(args.weights, kind, ["LMUClassifier"])
        else:
            args.save = output(args.save, args, "trained classifier", ".npz")
    if not args.no_chip_digits:
        if args.chip_weights is not None:
            from nengo_lmu.networks.saving import check_kind, read_network

            kind, *_ = read_network(args.chip_weights)
            check_kind(args.chip_weights, kind, ["LMUClassifier"])
        else:
            args.chip_save = output(args.chip_save, args, "trained chip classifier", ".npz")
    if not args.no_delay:
        log(
            f"Delay task on the emulator: 10 Hz white noise, theta {args.theta:g} s, "
            f"order {args.order}, {args.n_neurons or 'the default'} neurons per dimension, "
            f"{args.duration:g} s (seed {args.seed})"
        )
        out = experiment.delay_comparison(
            targets=targets,
            n_neurons=args.n_neurons,
            duration=args.duration,
            seed=args.seed,
            theta=args.theta,
            order=args.order,
            discard=args.discard,
        )
        print(out.report)
        print()
        print(out.table())
        print()
        print(experiment.resources_table(out.resources))
    if not args.no_digits:
        path = args.weights
        if path is None:
            log(
                f"Training a digits LMU (100 relu units, order 48, no hidden-to-hidden) "
                f"for {args.epochs} epochs in parallel (seed {args.seed}) ..."
            )
            trained = experiment.train_digits_classifier(
                args.save, epochs=args.epochs, seed=args.seed
            )
            path = trained.path
            print(
                f"rate test accuracy (all held-out): {trained.test_accuracy:.4f}; saved to {path}"
            )
        log(
            f"Digits on the emulator: memory exact on the host, spiking hidden layer "
            f"on the chip (gain {args.gain:g}, {args.neuron_type} neurons in nengo), "
            f"each sequence's last sample held {args.hold_steps} steps ..."
        )
        out = experiment.digits_comparison(
            path,
            n_test=args.n_test,
            targets=targets,
            gain=args.gain,
            hold_steps=args.hold_steps,
            window=args.window,
            neuron_type=args.neuron_type,
        )
        print(out[targets[0]]["report"] if targets else "")
        print()
        print(out.table())
        for name in targets:
            print(
                f"{name}: the same class as nengo for {out.agreement(name):.2%} of the sequences"
            )
        if targets:
            print()
            print(
                experiment.resources_table(
                    {t: out[t]["resources"] for t in targets}, per="sequence"
                )
            )
    if not args.no_chip_digits:
        chip_digits(args, experiment, targets)
    return 0


def chip_digits(args, experiment, targets):
    """The row-digits classifier with its memory and hidden layer on the chip."""
    path = args.chip_weights
    if path is None:
        log(
            f"Training a row-digits LMU for the chip (order "
            f"{experiment.CHIP_DIGITS_CELL['order']} x memory_d "
            f"{experiment.CHIP_DIGITS_CELL['memory_d']}, "
            f"{experiment.CHIP_DIGITS_CELL['units']} relu units, no recurrence; "
            f"seed {args.seed}) ..."
        )
        trained = experiment.train_chip_digits_classifier(args.chip_save, seed=args.seed)
        path = trained.path
        print(f"rate test accuracy (all held-out): {trained.test_accuracy:.4f}; saved to {path}")
    log(
        f"Row digits with the whole LMU on the chip: {args.chip_neurons} LIF per memory "
        f"dimension, each sample held {args.steps_per_sample} steps, the first "
        f"{args.chip_n_test} held-out sequences; readout: {args.readout}"
        + (
            f" on {args.n_fit} training sequences ({args.fit_on} spikes)"
            if args.readout == "fit"
            else ""
        )
        + " ..."
    )
    out = experiment.chip_digits_comparison(
        path,
        targets=targets,
        n_test=args.chip_n_test,
        steps_per_sample=args.steps_per_sample,
        n_neurons=args.chip_neurons,
        readout=args.readout,
        n_fit=args.n_fit,
        fit_on=args.fit_on,
    )
    if targets:
        print(out.runs[targets[0]]["report"])
        print()
    print(out.table())
    print(
        f"{out.steps_per_sequence} steps a sequence: "
        f"{1000 * out.chip_seconds_per_sequence:.0f} ms of chip time per sequence"
    )
    if out.resources:
        print()
        print(experiment.resources_table(out.resources, per="sequence"))
    return out
