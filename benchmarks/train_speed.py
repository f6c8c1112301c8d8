"""Training-speed benchmark: seconds per minibatch at the psMNIST shape.

What is measured: the wall-clock time of one training minibatch (forward pass
over all T steps, backpropagation through time, one Adam update; sparse
categorical cross-entropy from logits on the last step's 10 outputs) for

- "ours": `nengo_lmu.networks.LMUCell` (tanh hidden neurons, input-to-hidden
  and hidden-to-hidden weights, fixed zoh memory) in `nengo_dl.Simulator`;
- "dl-example": the LMU network of the NengoDL documentation's LMU example,
  rebuilt here from its description (x/u/m nodes, a tanh `TensorNode` for h,
  fixed Ad/Bd connections, Glorot-initialised trainable weights), with the
  same simulator settings;
- "ours-parallel": the same cell as `nengo_lmu.dl.LMULayer` (the memory of
  every step at once by the chunked scan, then the tanh hidden layer stepped)
  with a `Dense` readout, trained with Keras' ``fit``; its weights convert
  into the "ours" network (`nengo_lmu.dl.to_classifier`);
- "keras-lmu": `keras_lmu.LMU` with a `SimpleRNNCell` hidden layer and a
  `Dense` readout, in its default mode (no hidden-to-memory or
  memory-to-memory connections, so KerasLMU computes the memory with an FFT
  convolution over the whole sequence and only the hidden layer is recurrent).

The default shape is psMNIST's: T = 784 steps of 1 input dimension, order 256,
theta = T, 212 hidden units, minibatch 100. Each model is built and compiled,
fitted twice on one minibatch (a warm-up that absorbs graph building and
tracing); then
the models take turns, one timed minibatch each per round, for ``--batches``
rounds, and the median is reported (so that load from elsewhere hits all of
them alike). Inputs and labels are random: only speed is measured.

Absolute times depend on the machine and its load; only ratios within one run
are meaningful.

Run from the repository root::

    python benchmarks/train_speed.py             # full run
    python benchmarks/train_speed.py --quick     # smoke run
    python benchmarks/train_speed.py --help
    python benchmarks/train_speed.py --skip ours ours-parallel dl-example keras-lmu \
        --psmnist-5k-epochs 1      # only the psMNIST-5k epoch times

``--psmnist-5k-epochs N`` adds the wall time per training epoch on real
psMNIST (`nengo_lmu.apps.data.mnist_5k`: 4000 digits of 784 steps, minibatch 50)
for the three models of `nengo_lmu.apps.experiments.psmnist`: our LMU in parallel
("lmu"), KerasLMU's layer with the same configuration ("keraslmu") and a
Keras LSTM with no more parameters ("lstm"). The models take turns, one
epoch each per round, after a warm-up minibatch; the median is reported with
the ratio to "lmu".
"""

import argparse
import datetime
import os
import platform
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_lmu  # noqa: E402
import nengo  # noqa: E402
import nengo_dl  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import nengo_lmu  # noqa: E402
from nengo_lmu.networks import LMUCell  # noqa: E402

N_CLASSES = 10
UNROLL = 16  # unroll_simulation of the NengoDL simulators
MODELS = ("ours", "ours-parallel", "dl-example", "keras-lmu")


class DocExampleLMUCell(nengo.Network):
    """The LMU cell of NengoDL's LMU example: nodes x, u, m and a tanh h."""

    def __init__(self, units, order, theta, input_d, **kwargs):
        super().__init__(**kwargs)
        dsys = nengo_lmu.legendre_system(order, theta).discretize(1.0)
        with self:
            nengo_dl.configure_settings(trainable=None)
            self.x = nengo.Node(size_in=input_d)
            self.u = nengo.Node(size_in=1)
            self.m = nengo.Node(size_in=order)
            self.h = nengo_dl.TensorNode(tf.nn.tanh, shape_in=(units,), pass_time=False)

            nengo.Connection(self.x, self.u, transform=np.ones((1, input_d)), synapse=None)
            # memory: m[t] = Ad m[t-1] + Bd u[t], kept fixed
            fixed = [
                nengo.Connection(self.m, self.m, transform=dsys.A, synapse=0),
                nengo.Connection(self.u, self.m, transform=dsys.B, synapse=None),
            ]
            for conn in fixed:
                self.config[conn].trainable = False
            # hidden: h[t] = tanh(W_x x[t] + W_h h[t-1] + W_m m[t])
            for pre, synapse in ((self.x, None), (self.h, 0), (self.m, None)):
                nengo.Connection(pre, self.h, transform=nengo_dl.dists.Glorot(), synapse=synapse)


def nengo_dl_model(kind, args):
    """A compiled `nengo_dl.Simulator` and its input node and probe."""
    with nengo.Network(seed=0) as net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=True)
        inp = nengo.Node(np.zeros(1))
        if kind == "ours":
            cell = LMUCell(
                units=args.units,
                order=args.order,
                theta=args.steps,
                input_d=1,
                memory_d=1,
                hidden_to_hidden=True,
                input_to_hidden=True,
            )
            cell_in, cell_out = cell.input, cell.output
        else:
            cell = DocExampleLMUCell(
                units=args.units, order=args.order, theta=args.steps, input_d=1
            )
            cell_in, cell_out = cell.x, cell.h
        nengo.Connection(inp, cell_in, synapse=None)
        out = nengo.Node(size_in=N_CLASSES)
        nengo.Connection(cell_out, out, transform=nengo_dl.dists.Glorot(), synapse=None)
        probe = nengo.Probe(out)
        net.config[probe].keep_history = False

    sim = nengo_dl.Simulator(
        net,
        minibatch_size=args.minibatch,
        unroll_simulation=UNROLL,
        progress_bar=False,
    )
    sim.compile(
        optimizer=tf.optimizers.Adam(),
        loss={probe: tf.losses.SparseCategoricalCrossentropy(from_logits=True)},
    )
    n_params = sum(int(np.prod(w.shape)) for w in sim.keras_model.trainable_weights)

    def fit(x, y):
        sim.fit({inp: x}, {probe: y}, epochs=1, verbose=0)

    return fit, sim.close, n_params


def keras_lmu_model(args):
    """A compiled Keras model with a KerasLMU layer and a Dense readout."""
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((args.steps, 1))
    lmu = keras_lmu.LMU(
        memory_d=1,
        order=args.order,
        theta=args.steps,
        hidden_cell=tf.keras.layers.SimpleRNNCell(args.units),
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
    )
    outputs = tf.keras.layers.Dense(N_CLASSES)(lmu(inputs))
    model = tf.keras.Model(inputs, outputs)
    return keras_fitter(model, args)


def keras_fitter(model, args):
    """Compile a Keras classifier; return its one-minibatch fit, close and size."""
    model.compile(
        optimizer=tf.optimizers.Adam(),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    n_params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    def fit(x, y):
        model.fit(x, y[:, 0, 0], batch_size=args.minibatch, epochs=1, verbose=0)

    return fit, tf.keras.backend.clear_session, n_params


def parallel_model(args):
    """Our LMU cell as a Keras LMULayer (the same equations as "ours")."""
    from nengo_lmu.dl import LMULayer

    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((args.steps, 1)),
            LMULayer(
                args.units,
                args.order,
                args.steps,
                hidden_activation="tanh",
                input_to_hidden=True,
                hidden_to_hidden=True,
                seed=0,
            ),
            tf.keras.layers.Dense(N_CLASSES, use_bias=False),
        ]
    )
    return keras_fitter(model, args)


def digits_epochs(args):
    """Train the digits LMU both ways for ``args.digits_epochs`` epochs."""
    from nengo_lmu.apps.data import permuted_digits
    from nengo_lmu.dl import nengo_dl_logits, to_classifier, train_classifier
    from nengo_lmu.dl.training import train_parallel_classifier
    from nengo_lmu.networks import LMUClassifier

    data = permuted_digits()
    cell = dict(units=100, order=48, theta=64.0)
    rows = []
    clf = LMUClassifier(10, [dict(cell, hidden_neuron_type=nengo.RectifiedLinear())], seed=0)
    res = train_classifier(clf, data, epochs=args.digits_epochs, seed=0)
    rows.append(("LMUCell in NengoDL", res.train_seconds, res.test_accuracy))
    par = train_parallel_classifier(
        data, 10, [dict(cell, hidden_activation="relu")], epochs=args.digits_epochs, seed=0
    )
    rows.append(("LMULayer (parallel)", par.train_seconds, par.test_accuracy))
    conv = to_classifier(par.model)
    logits = nengo_dl_logits(conv, data["x_test"])
    acc = float(np.mean(logits.argmax(-1) == data["y_test"].ravel()))
    print(
        f"\npermuted sequential digits, {args.digits_epochs} epochs, minibatch 50, "
        f"Adam 3e-3, seed 0 (100 relu units, order 48, theta 64)"
    )
    print(f"{'training':<22} {'wall s':>8} {'held-out acc':>13}")
    for name, sec, a in rows:
        print(f"{name:<22} {sec:>8.1f} {a:>13.4f}")
    print(f"{'(parallel, converted)':<22} {'':>8} {acc:>13.4f}  (run in NengoDL)")
    print(f"NengoDL / parallel wall time: {rows[0][1] / rows[1][1]:.2f}")


def random_data(n, args, rng):
    x = rng.uniform(-1, 1, size=(n, args.steps, 1)).astype(np.float32)
    y = rng.randint(N_CLASSES, size=(n, 1, 1)).astype(np.int32)
    return x, y


def build(name, args, rng):
    """Build, compile and warm up one model; returns its fit, close and size."""
    t0 = time.perf_counter()
    if name == "keras-lmu":
        fit, close, n_params = keras_lmu_model(args)
    elif name == "ours-parallel":
        fit, close, n_params = parallel_model(args)
    else:
        fit, close, n_params = nengo_dl_model(name, args)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    # two warm-up fits: the first builds the graph, the second still traces
    # (a fresh `fit` call), and both would swamp a minibatch's time
    for _ in range(2):
        fit(*random_data(args.minibatch, args, rng))
    print(
        f"  {name}: build+compile {t_build:.1f} s, warm-up (2 fits of 1 minibatch) "
        f"{time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return fit, close, n_params


def measure(names, args):
    """Time one minibatch of each model in turn, ``args.batches`` rounds.

    Interleaving the models means a burst of load from elsewhere on the
    machine slows all of them rather than whichever ran at the time; the
    median over rounds is reported. Returns ``{name: (params, median s,
    all times)}``.
    """
    rng = np.random.RandomState(0)
    models = {name: build(name, args, rng) for name in names}
    times = {name: [] for name in names}
    cpu = {name: [] for name in names}
    for _ in range(args.batches):
        x, y = random_data(args.minibatch, args, rng)
        for name, (fit, _, _) in models.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fit(x, y)
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    for _, close, _ in models.values():
        close()
    return {
        name: (
            models[name][2],
            float(np.median(times[name])),
            times[name],
            float(np.median(cpu[name])),
        )
        for name in names
    }


def psmnist_table(names, args):
    """Time the models at the psMNIST shape and print the table."""
    results = measure(names, args)

    ours = results.get("ours")
    header = (
        f"\n{'model':<12} {'trainable params':>16} {'median s/batch':>15} "
        f"{'ratio to ours':>14} {'median CPU s':>13} {'CPU ratio':>10}"
        f"  each round (s)"
    )
    print(header)
    print("-" * (len(header) - 1))
    for name, (n_params, per_batch, each, cpu) in results.items():
        ratio = f"{per_batch / ours[1]:.2f}" if ours else "n/a"
        cpu_ratio = f"{cpu / ours[3]:.2f}" if ours else "n/a"
        rounds = " ".join(f"{t:.2f}" for t in each)
        print(
            f"{name:<12} {n_params:>16,d} {per_batch:>15.3f} {ratio:>14} "
            f"{cpu:>13.2f} {cpu_ratio:>10}  {rounds}"
        )
    print(
        "(ratio = model time / ours time; > 1 means ours is faster. The models "
        "take turns, one minibatch each per round. CPU s is this process's CPU "
        "time, all threads: less disturbed by other load than wall time)"
    )
    if ours and "ours-parallel" in results:
        par = results["ours-parallel"]
        print(
            f"ours in NengoDL / ours-parallel: wall {ours[1] / par[1]:.2f}, "
            f"CPU {ours[3] / par[3]:.2f}"
        )


def psmnist_5k_epochs(args):
    """Wall time per epoch on psMNIST-5k for lmu / keraslmu / lstm."""
    from nengo_lmu.apps.data import mnist_5k
    from nengo_lmu.apps.experiments.psmnist import (
        keraslmu_model,
        lmu_model,
        lstm_model,
    )

    data = mnist_5k()
    n = args.psmnist_5k_digits
    x, y = data["x_train"][:n], data["y_train"][:n, 0, 0]
    lmu = lmu_model(0)
    models = dict(lmu=lmu, keraslmu=keraslmu_model(0), lstm=lstm_model(0, lmu.count_params()))
    for model in models.values():
        model.compile(
            optimizer=tf.optimizers.Adam(1e-3),
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(x[:50], y[:50], batch_size=50, epochs=1, verbose=0)  # warm-up
    times = {name: [] for name in models}
    for _ in range(args.psmnist_5k_epochs):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.fit(x, y, batch_size=50, epochs=1, verbose=0)
            times[name].append(time.perf_counter() - t0)
    ref = float(np.median(times["lmu"]))
    print(
        f"\npsMNIST-5k ({n} digits of 784 steps per epoch, minibatch 50, Adam): "
        f"wall s per epoch, median of {args.psmnist_5k_epochs}"
    )
    rows = []
    for name, model in models.items():
        med = float(np.median(times[name]))
        rows.append(
            (
                name,
                int(model.count_params()),
                f"{med:.2f}",
                f"{med / ref:.1f}",
                " ".join(f"{t:.2f}" for t in times[name]),
            )
        )
    from nengo_lmu.tables import format_table

    print(format_table(("model", "params", "s/epoch", "ratio to lmu", "each (s)"), rows))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--batches",
        type=int,
        default=5,
        help="rounds of timed minibatches (one per model a round)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=784,
        help=f"sequence length T (theta = T; a multiple of {UNROLL}, NengoDL's unroll_simulation)",
    )
    parser.add_argument("--order", type=int, default=256, help="memory order")
    parser.add_argument("--units", type=int, default=212, help="hidden units")
    parser.add_argument("--minibatch", type=int, default=100, help="minibatch size")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: steps 64, order 32, units 32, "
        "minibatch 20, batches 3 (overrides the above)",
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=MODELS,
        metavar="MODEL",
        help=f"models to leave out, of {', '.join(MODELS)}",
    )
    parser.add_argument(
        "--digits-epochs",
        type=int,
        default=0,
        help="also train the permuted-digits LMU for this many epochs "
        "in NengoDL and in parallel, and compare wall times and "
        "held-out accuracy (0: skip)",
    )
    parser.add_argument(
        "--psmnist-5k-epochs",
        type=int,
        default=0,
        help="also time this many training epochs on psMNIST-5k for "
        "lmu / keraslmu / lstm (0: skip)",
    )
    parser.add_argument(
        "--psmnist-5k-digits", type=int, default=4000, help="training digits per psMNIST-5k epoch"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.order, args.units = 64, 32, 32
        args.minibatch, args.batches = 20, 3
    if args.batches < 1:
        parser.error("--batches must be at least 1")
    if args.steps < UNROLL or args.steps % UNROLL:
        parser.error(f"--steps must be a positive multiple of {UNROLL}")
    return args


def main(argv=None):
    args = parse_args(argv)
    warnings.filterwarnings("ignore", message="No GPU support detected")
    print("# nengo_lmu training-speed benchmark (psMNIST-shaped LMU)")
    print("command:", " ".join([os.path.basename(sys.executable)] + sys.argv))
    print("date:   ", datetime.datetime.now().isoformat(timespec="seconds"))
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"tensorflow {tf.__version__}, nengo {nengo.__version__}, "
        f"nengo_dl {nengo_dl.__version__}, keras_lmu {keras_lmu.__version__}"
    )
    print(f"{os.cpu_count()} CPU(s), {len(tf.config.list_physical_devices('GPU'))} GPU(s) visible")
    print(
        "NOTE: absolute times on a small shared machine are noise; only the "
        "ratios within one run count."
    )
    print(
        f"shape: T={args.steps}, 1 input dim, order={args.order}, "
        f"theta={args.steps}, units={args.units}, minibatch={args.minibatch}, "
        f"{N_CLASSES} classes; {args.batches} timed minibatch(es) per model"
    )

    t0 = time.perf_counter()
    names = [name for name in MODELS if name not in args.skip]
    if names:
        psmnist_table(names, args)
    if args.digits_epochs:
        digits_epochs(args)
    if args.psmnist_5k_epochs:
        psmnist_5k_epochs(args)
    print(f"\ntotal wall time: {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
