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
        "--version", action="version", version=_version_text(),
        help="print nengo-lmu's and Python's versions and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_info_parser(sub)

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
    demo.add_argument("--neuron-type", choices=tuple(NEURON_TYPES), default="lif",
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
    train.add_argument("--theta", type=_positive(float), default=64.0,
                       help="memory window in steps (pixels)")
    train.add_argument("--hidden", choices=("relu", "tanh"), default="relu",
                       help="hidden nonlinearity (relu can run spiking afterwards)")
    train.add_argument("--epochs", type=_positive(int), default=20, help="training epochs")
    train.add_argument("--minibatch", type=_positive(int), default=50, help="minibatch size")
    train.add_argument("--lr", type=_positive(float), default=3e-3, help="Adam learning rate")
    train.add_argument("--seed", type=int, default=0,
                       help="seed of the initial weights and of training")
    train.add_argument("--spiking-gain", type=_positive(float), default=1e4,
                       help="gain of the spiking hidden neurons at inference (rate = "
                            "gain * relu(input) Hz, amplitude 1/gain)")
    train.add_argument("--no-lstm", action="store_true", help="skip the LSTM baseline")
    train.add_argument("--no-spiking", action="store_true", help="skip the spiking run")
    train.add_argument("--save", default="lmu_digits.npz",
                       help="where to save the trained parameters")
    train.add_argument("--parallel", action="store_true",
                       help="train in parallel (Keras LMULayer, whole sequences at "
                            "once), convert into the LMUClassifier and score it in "
                            "NengoDL")
    train.add_argument("--mode", choices=("chunked", "fft", "recurrent"), default="chunked",
                       help="with --parallel: how the memory is evaluated")
    train.add_argument("--plot", default="lmu_digits_parallel.png",
                       help="with --parallel: where to save the per-step outputs of "
                            "the Keras model and the converted network")
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
    l2mu.add_argument("--preset", choices=("braille7", "braille27"), default="braille7",
                      help="the paper's hyper-parameter set (betas, thresholds, order, "
                           "theta, learning rate, minibatch)")
    l2mu.add_argument("--memory-size", type=_positive(int), default=32,
                      help="neurons of u (memory rows); overrides the preset")
    l2mu.add_argument("--hidden-size", type=_positive(int), default=96,
                      help="neurons of h; overrides the preset")
    l2mu.add_argument("--order", type=_positive(int), default=None,
                      help="Legendre order (default: the preset's)")
    l2mu.add_argument("--theta", type=_positive(float), default=None,
                      help="memory window in steps (default: the preset's)")
    l2mu.add_argument("--steps", type=_positive(int), default=40,
                      help="steps per event sequence")
    l2mu.add_argument("--event-threshold", type=_positive(float), default=0.1,
                      help="sigma-delta threshold (fraction of full pixel intensity)")
    l2mu.add_argument("--epochs", type=_positive(int), default=15, help="training epochs")
    l2mu.add_argument("--lr", type=_positive(float), default=2e-3,
                      help="Adam learning rate")
    l2mu.add_argument("--minibatch", type=_positive(int), default=None,
                      help="minibatch size (default: the preset's)")
    l2mu.add_argument("--seed", type=int, default=0,
                      help="seed of the initial weights and of training")
    l2mu.add_argument("--samples", type=_positive(int), default=None,
                      help="use a stratified subset of this many digits (default all 1797)")
    l2mu.add_argument("--no-baseline", action="store_true",
                      help="skip the recurrent LIF baseline")
    l2mu.add_argument("--loihi", action="store_true",
                      help="also train a Loihi-ready L2MU (reset to zero, clipped "
                           "voltage, one step per connection) and run it in nengo and "
                           "on the nengo-loihi emulator")
    l2mu.add_argument("--save", default="l2mu_digits.npz",
                      help="where to save the trained L2MU (L2MU.load reads it)")
    l2mu.add_argument("--quick", action="store_true",
                      help="a tiny run (200 digits, 20 steps, 1 epoch) to check the setup")
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
    lo.add_argument("--theta", type=_positive(float), default=0.1,
                    help="delay window in seconds")
    lo.add_argument("--order", type=_positive(int), default=6,
                    help="Legendre coefficients of the delay memory")
    lo.add_argument("--n-neurons", type=_positive(int), default=None,
                    help="neurons per memory dimension (default: LoihiLegendreMemory's, 200)")
    lo.add_argument("--duration", type=_positive(float), default=10.0,
                    help="simulated seconds of the delay task")
    lo.add_argument("--discard", type=float, default=1.0,
                    help="seconds at the start left out of the delay score")
    lo.add_argument("--seed", type=int, default=0,
                    help="seed of the input, the networks and of training")
    lo.add_argument("--weights", default=None,
                    help="a digits classifier saved with LMUClassifier.save (one cell, "
                         "RectifiedLinear hidden layer, no hidden_to_hidden); without it "
                         "one is trained in parallel (Keras, seconds) and saved to --save")
    lo.add_argument("--save", default="lmu_digits_loihi.npz",
                    help="where to save the classifier trained when --weights is absent")
    lo.add_argument("--epochs", type=_positive(int), default=20,
                    help="training epochs when --weights is absent")
    lo.add_argument("--gain", type=_positive(float), default=300.0,
                    help="gain of the spiking hidden neurons (rate = gain * h Hz; a "
                         "Loihi neuron spikes at most once per step)")
    lo.add_argument("--hold-steps", type=_positive(int), default=40,
                    help="steps the last sample of each sequence is held")
    lo.add_argument("--window", type=_positive(int), default=20,
                    help="logits: the readout averaged over the hold's last WINDOW steps")
    lo.add_argument("--neuron-type", choices=("loihi", "ideal"), default="loihi",
                    help="hidden neurons in the nengo reference: nengo-loihi's "
                         "LoihiSpikingRectifiedLinear or nengo.SpikingRectifiedLinear")
    lo.add_argument("--n-test", type=_positive(int), default=None,
                    help="held-out digit sequences to score (the first N; all by default)")
    lo.add_argument("--targets", default="sim,simreal",
                    help="emulator targets, comma separated: sim, simreal")
    lo.add_argument("--no-delay", action="store_true", help="skip the delay task")
    lo.add_argument("--no-digits", action="store_true", help="skip the digits task")
    lo.set_defaults(func=loihi_command)
    return parser


def _log(text):
    print(text, flush=True)


def _quiet_tensorflow():
    # TensorFlow's C++ start-up messages, before a command imports it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def train_l2mu_command(args):
    _quiet_tensorflow()
    from nengo_lmu.experiments.l2mu import train_l2mu

    if args.quick:
        args.samples, args.steps, args.epochs = 200, 20, 1
        args.memory_size, args.hidden_size = 4, 16
    out = train_l2mu(
        preset_name=args.preset, memory_size=args.memory_size,
        hidden_size=args.hidden_size, order=args.order, theta=args.theta,
        steps=args.steps, event_threshold=args.event_threshold, epochs=args.epochs,
        learning_rate=args.lr, minibatch_size=args.minibatch, seed=args.seed,
        samples=args.samples, baseline=not args.no_baseline, loihi=args.loihi,
        save=args.save, log=_log)
    print(f"\nEvent digits: {out.n_train} training and {out.n_test} held-out sequences, "
          f"{out.n_steps} steps x {out.n_channels} event channels (seed {args.seed})\n")
    print(out.table())
    print("\nAccuracy: argmax of output spike counts on held-out sequences (ties go to "
          "the lowest class). Operation counts are per sequence; 'syn. ops' are "
          "effective accumulates (one per spike per non-zero weight).")
    print(f"Trained L2MU saved to {args.save} (L2MU.load('{args.save}') rebuilds it)")
    return 0


def train_digits_command(args):
    _quiet_tensorflow()
    from tqdm import tqdm

    from nengo_lmu.experiments.digits import train_digits

    out = train_digits(
        units=args.units, order=args.order, theta=args.theta, hidden=args.hidden,
        epochs=args.epochs, minibatch_size=args.minibatch, learning_rate=args.lr,
        seed=args.seed, spiking_gain=args.spiking_gain, lstm=not args.no_lstm,
        spiking=not args.no_spiking, save=args.save, parallel=args.parallel,
        mode=args.mode, progress=tqdm, log=_log)
    print(f"\nPermuted sequential digits: {out.n_train} training and {out.n_test} "
          f"held-out sequences of {out.n_steps} steps (seed {args.seed})")
    for note in out.notes:
        print(f"({note})")
    if out.logit_difference is not None:
        print(f"largest difference of the held-out logits, Keras vs NengoDL: "
              f"{out.logit_difference:.2e}")
    print()
    print(out.table())
    if out.steps is not None and args.plot:
        from nengo_lmu.plots import plot_sequence_outputs

        keras_steps, nengo_steps, label = out.steps
        plot_sequence_outputs(keras_steps, nengo_steps, f"digit {label}", args.plot)
        print(f"per-step outputs plotted in {args.plot}")
    print(f"\nTrained parameters saved to {args.save} "
          f"(LMUClassifier.load('{args.save}') rebuilds the network)")
    return 0


def loihi_command(args):
    _quiet_tensorflow()
    from nengo.exceptions import ValidationError

    from nengo_lmu.experiments import loihi as experiment

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    for t in targets:
        if t not in ("sim", "simreal"):
            raise ValidationError(f"must be sim or simreal, got {t!r}", attr="targets")
    if not args.no_delay:
        _log(f"Delay task on the emulator: 10 Hz white noise, theta {args.theta:g} s, "
             f"order {args.order}, {args.n_neurons or 'the default'} neurons per dimension, "
             f"{args.duration:g} s (seed {args.seed})")
        out = experiment.delay_comparison(
            targets=targets, n_neurons=args.n_neurons, duration=args.duration,
            seed=args.seed, theta=args.theta, order=args.order, discard=args.discard)
        print(out.report)
        print()
        print(out.table())
        print()
        print(experiment.resources_table(out.resources))
    if not args.no_digits:
        path = args.weights
        if path is None:
            _log(f"Training a digits LMU (100 relu units, order 48, no hidden-to-hidden) "
                 f"for {args.epochs} epochs in parallel (seed {args.seed}) ...")
            trained = experiment.train_digits_classifier(args.save, epochs=args.epochs,
                                                         seed=args.seed)
            path = args.save
            print(f"rate test accuracy (all held-out): {trained.test_accuracy:.4f}; "
                  f"saved to {path}")
        _log(f"Digits on the emulator: memory exact on the host, spiking hidden layer "
             f"on the chip (gain {args.gain:g}, {args.neuron_type} neurons in nengo), "
             f"each sequence's last sample held {args.hold_steps} steps ...")
        out = experiment.digits_comparison(
            path, n_test=args.n_test, targets=targets, gain=args.gain,
            hold_steps=args.hold_steps, window=args.window, neuron_type=args.neuron_type)
        print(out[targets[0]]["report"] if targets else "")
        print()
        print(out.table())
        for name in targets:
            print(f"{name}: the same class as nengo for {out.agreement(name):.2%} of the "
                  f"sequences")
        if targets:
            print()
            print(experiment.resources_table({t: out[t]["resources"] for t in targets},
                                             per="sequence"))
    return 0


def demo_command(args):
    from nengo_lmu.experiments.delay import delay_demo

    print(f"Delay task: {args.high:g} Hz white noise (rms {args.rms:g}), theta "
          f"{args.theta:g} s, order {args.order}, dt {args.dt:g} s, "
          f"{args.duration:g} s (seed {args.seed})", flush=True)
    out = delay_demo(
        theta=args.theta, order=args.order, n_neurons=args.n_neurons,
        neuron_type_name=args.neuron_type, synapse=args.synapse,
        duration=args.duration, dt=args.dt, high=args.high, rms=args.rms,
        seed=args.seed, discard=args.discard, progress_bar=not args.no_progress)
    print()
    print(out.table())
    print(f"\nNRMSE is against u(t - theta), theta = {round(args.theta / args.dt)} "
          f"steps; 'best lag' is the delay that fits best.")
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


if __name__ == "__main__":
    sys.exit(main())
