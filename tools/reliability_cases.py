"""Run the cases of issue 18 and print what each does, one row per case.

Run it on two checkouts to fill the closing note's before/after table::

    PYTHONPATH=/work/main python tools/reliability_cases.py > before.txt
    PYTHONPATH=$PWD python tools/reliability_cases.py > after.txt

Each case is cheap (no training longer than a tiny Keras or NengoDL run);
the CLI cases replace the experiment function with one that records that
work started, so "work started" means the command would have trained.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import warnings

import nengo
import numpy as np

warnings.simplefilter("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CASES = []


def case(label):
    def register(f):
        CASES.append((label, f))
        return f

    return register


class WorkStarted(Exception):
    pass


def cli(argv, module, function, files=()):
    """Run the command in a fresh folder with the experiment replaced."""
    import importlib

    from nengo_lmu.apps.cli import main

    mod = importlib.import_module(module)
    original = getattr(mod, function)

    def fake(**kwargs):
        raise WorkStarted(
            f"work started (save={kwargs.get('save')!r}, epochs={kwargs.get('epochs')!r})"
        )

    setattr(mod, function, fake)
    here = os.getcwd()
    os.chdir(tempfile.mkdtemp())
    for name in files:
        with open(name, "w") as f:
            f.write("precious")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = main(argv)
        return f"rc {rc}: {err.getvalue().strip()}"
    except WorkStarted as e:
        return str(e)
    finally:
        setattr(mod, function, original)
        os.chdir(here)


def clf():
    from nengo_lmu.networks import LMUClassifier

    return LMUClassifier(
        3,
        [dict(units=4, order=3, theta=6.0, hidden_neuron_type=nengo.RectifiedLinear())],
        seed=1,
        add_to_container=False,
    )


def l2mu():
    from nengo_lmu.networks import L2MU

    return L2MU(4, 3, memory_size=2, order=3, theta=5.0, hidden_size=6, seed=1)


def tiny(flat=False):
    rng = np.random.RandomState(0)
    y = np.arange(20) % 3
    d = dict(
        x_train=rng.rand(20, 6, 1).astype(np.float32),
        y_train=y[:, None, None],
        x_test=rng.rand(6, 6, 1).astype(np.float32),
        y_test=y[:6, None, None],
    )
    if flat:
        d["y_train"], d["y_test"] = d["y_train"].ravel(), d["y_test"].ravel()
    return d


@case("1 LegendreMemory(dt=0.001) in Simulator(dt=0.002)")
def _():
    from nengo_lmu.networks import LegendreMemory
    from nengo_lmu.systems import legendre_readout

    theta, dt = 0.1, 0.002
    with nengo.Network(seed=0) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(10, high=5, rms=0.3, seed=0))
        mem = LegendreMemory(6, theta, dt=0.001)
        nengo.Connection(u, mem.input, synapse=None)
        pu, pm = nengo.Probe(u, synapse=None), nengo.Probe(mem.output, synapse=None)
    with nengo.Simulator(net, dt=dt, progress_bar=False) as sim:
        sim.run(3.0)
    y = sim.data[pm] @ legendre_readout(6, 1.0).T
    k = int(round(theta / dt))
    want = sim.data[pu][:-k]
    got = y[k:]
    n = int(1.0 / dt)
    nrmse = np.sqrt(np.mean((got[n:] - want[n:]) ** 2)) / np.std(want[n:])
    return f"runs, delay NRMSE {nrmse:.2f} against theta"


@case("1 L2MU(dt=0.001) built at dt=0.002")
def _():
    with nengo.Simulator(l2mu(), dt=0.002, progress_bar=False):
        pass
    return "builds (currents silently scaled by 1/2)"


@case("2 train-digits --save /nonexistent/x.npz")
def _():
    return cli(
        ["train-digits", "--save", "/nonexistent/x.npz"],
        "nengo_lmu.apps.experiments.digits",
        "train_digits",
    )


@case("2 train-l2mu --save /nonexistent/x.npz")
def _():
    return cli(
        ["train-l2mu", "--save", "/nonexistent/x.npz"],
        "nengo_lmu.apps.experiments.l2mu",
        "train_l2mu",
    )


@case("2 demo --plot /nonexistent/d.png")
def _():
    return cli(
        ["demo", "--plot", "/nonexistent/d.png"], "nengo_lmu.apps.experiments.delay", "delay_demo"
    )


@case("3 train-digits with lmu_digits.npz present")
def _():
    return cli(
        ["train-digits"],
        "nengo_lmu.apps.experiments.digits",
        "train_digits",
        files=["lmu_digits.npz"],
    )


@case("3 train-digits --parallel: default file")
def _():
    return cli(["train-digits", "--parallel"], "nengo_lmu.apps.experiments.digits", "train_digits")


@case("3 train-l2mu --quick: default file")
def _():
    return cli(["train-l2mu", "--quick"], "nengo_lmu.apps.experiments.l2mu", "train_l2mu")


@case("4 LMUClassifier.load of a file with W_m missing")
def _():
    path = os.path.join(tempfile.mkdtemp(), "m.npz")
    net = clf()
    trained = {k: w + 1.0 for k, w in net.get_weights().items()}  # as if trained
    net.save(path, trained)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != "w:cell0.W_m"}
    np.savez(path, **arrays)
    loaded = net.load(path)
    same = np.array_equal(loaded.get_weights()["cell0.W_m"], trained["cell0.W_m"])
    return f"loads; W_m {'is the trained one' if same else 'is random initial weights'}"


@case("4 LMUClassifier.save with a (2, 2) readout")
def _():
    net = clf()
    path = os.path.join(tempfile.mkdtemp(), "m.npz")
    net.save(path, dict(net.get_weights(), readout=np.zeros((2, 2))))
    return f"saved ({os.path.exists(path)})"


@case("4 L2MU.save with NaN weights")
def _():
    net = l2mu()
    net.weights["W_h"].transform = nengo.Dense((6, 6), init=np.full((6, 6), np.nan))
    path = os.path.join(tempfile.mkdtemp(), "m.npz")
    net.save(path)
    return "saved"


@case("4 save('model') then load('model')")
def _():
    here = os.getcwd()
    os.chdir(tempfile.mkdtemp())
    try:
        net = clf()
        net.save("model")
        written = sorted(os.listdir("."))
        type(net).load("model")
        return f"wrote {written}, loaded"
    finally:
        os.chdir(here)


def mnist(**change):
    rng = np.random.RandomState(0)
    arrays = dict(
        x_train=rng.randint(0, 256, (6, 4, 4)).astype(np.uint8),
        y_train=np.arange(6),
        x_test=rng.randint(0, 256, (3, 4, 4)).astype(np.uint8),
        y_test=np.arange(3),
    )
    arrays.update(change)
    path = os.path.join(tempfile.mkdtemp(), "mnist.npz")
    np.savez(path, **arrays)
    return path


@case("5 load_mnist_npz: float images in [0, 1]")
def _():
    from nengo_lmu.apps.data import load_mnist_npz

    x = np.full((6, 4, 4), 0.5)
    d = load_mnist_npz(mnist(x_train=x, x_test=x[:3]), permute=False)
    return f"pixel 0.5 loads as {d['x_train'].max():.4f}"


@case("5 load_mnist_npz: a NaN label")
def _():
    from nengo_lmu.apps.data import load_mnist_npz

    d = load_mnist_npz(mnist(y_train=np.array([0, 1, np.nan, 3, 4, 5])))
    return f"loads; the label becomes {d['y_train'].ravel()[2]}"


@case("5 load_mnist_npz: 4x4 train, 5x5 test images")
def _():
    from nengo_lmu.apps.data import load_mnist_npz

    d = load_mnist_npz(mnist(x_test=np.zeros((3, 5, 5), np.uint8)))
    return f"loads: {d['x_train'].shape[1]} and {d['x_test'].shape[1]} steps"


@case("6 train_classifier(epochs=0) (NengoDL)")
def _():
    from nengo_lmu.dl import train_classifier

    res = train_classifier(clf(), tiny(), epochs=0, minibatch_size=5, verbose=0)
    return f"returns epochs={res.epochs}"


@case("6 train_parallel_classifier(epochs=-3) (Keras)")
def _():
    from nengo_lmu.dl.training import train_parallel_classifier

    res = train_parallel_classifier(
        tiny(), 3, [dict(units=4, order=2, theta=4.0)], epochs=-3, minibatch_size=5, verbose=0
    )
    return f"returns epochs={res.epochs}"


@case("6 train_parallel_classifier(learning_rate=-0.01)")
def _():
    from nengo_lmu.dl.training import train_parallel_classifier

    res = train_parallel_classifier(
        tiny(),
        3,
        [dict(units=4, order=2, theta=4.0)],
        epochs=1,
        minibatch_size=5,
        learning_rate=-0.01,
        verbose=0,
    )
    return f"trains (accuracy {res.test_accuracy:.2f})"


@case("6 train_classifier(unroll_simulation=0)")
def _():
    from nengo_lmu.dl import train_classifier

    train_classifier(clf(), tiny(), epochs=1, minibatch_size=5, unroll_simulation=0, verbose=0)
    return "trains"


@case("6 minibatch_size=np.int64(5)")
def _():
    from nengo_lmu.dl.training import train_parallel_classifier

    train_parallel_classifier(
        tiny(),
        3,
        [dict(units=4, order=2, theta=4.0)],
        epochs=1,
        minibatch_size=np.int64(5),
        verbose=0,
    )
    return "trains"


@case("7 labels of shape (batch,)")
def _():
    from nengo_lmu.dl.training import train_parallel_classifier

    train_parallel_classifier(
        tiny(flat=True),
        3,
        [dict(units=4, order=2, theta=4.0)],
        epochs=1,
        minibatch_size=5,
        verbose=0,
    )
    return "trains"


@case("8 LMUClassifier.load of a text file")
def _():
    path = os.path.join(tempfile.mkdtemp(), "notes.npz")
    with open(path, "w") as f:
        f.write("hello")
    clf().load(path)
    return "loads"


@case("8 load_mnist_npz of an .npy")
def _():
    from nengo_lmu.apps.data import load_mnist_npz

    path = os.path.join(tempfile.mkdtemp(), "a.npy")
    np.save(path, np.zeros(3))
    load_mnist_npz(path)
    return "loads"


@case("8 an L2MU file loaded as an LMUClassifier")
def _():
    path = os.path.join(tempfile.mkdtemp(), "l.npz")
    l2mu().save(path)
    clf().load(path)
    return "loads"


@case("9 LMUCell(theta=1)")
def _():
    from nengo_lmu.networks import LMUCell

    LMUCell(4, 4, theta=1)
    return "accepted"


@case("9 LMUClassifier(seed=-1)")
def _():
    from nengo_lmu.networks import LMUClassifier

    LMUClassifier(3, [dict(units=4, order=3, theta=6.0)], seed=-1)
    return "accepted"


@case("9 permuted_digits(split_seed=-1)")
def _():
    from nengo_lmu.apps.data import permuted_digits

    permuted_digits(split_seed=-1)
    return "accepted"


@case("10 train-digits --mode fft (no --parallel)")
def _():
    return cli(
        ["train-digits", "--mode", "fft"], "nengo_lmu.apps.experiments.digits", "train_digits"
    )


@case("10 train-l2mu --quick --epochs 3")
def _():
    return cli(
        ["train-l2mu", "--quick", "--epochs", "3"], "nengo_lmu.apps.experiments.l2mu", "train_l2mu"
    )


@case("10 train_classifier's default verbosity")
def _():
    import inspect

    from nengo_lmu.dl import train_classifier

    return f"verbose={inspect.signature(train_classifier).parameters['verbose'].default}"


def run():
    rows = []
    for label, f in CASES:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                text = f()
        except Exception as e:  # noqa: BLE001 - the outcome is the point
            text = f"{type(e).__name__}: {e}"
        text = " ".join(str(text).split())
        rows.append((label, text[:160]))
    return rows


if __name__ == "__main__":
    rows = run()
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=1))
    else:
        for label, text in rows:
            print(f"{label}\t{text}")
