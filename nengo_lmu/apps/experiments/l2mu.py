"""The spiking L2MU on event digits (``nengo-lmu train-l2mu``,
``benchmarks/l2mu.py``): trained in NengoDL next to a recurrent-LIF network
of no more parameters, both run in the nengo reference simulation with
their neuromorphic measures, and optionally a Loihi-ready L2MU on
`nengo.LIF` and on the nengo-loihi emulator. Imports TensorFlow when run."""

import os
from dataclasses import dataclass, field

import numpy as np

from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue
from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import resolve, setting
from nengo_lmu.info import require_extra
from nengo_lmu.tables import format_table

#: Blank steps appended to every sequence of the Loihi-ready L2MU, so that
#: the last events reach the output through its one-step connections.
CHIP_PAD_STEPS = 4


@dataclass(frozen=True)
class L2MUSettings:
    """The settings of `train_l2mu` and of ``nengo-lmu train-l2mu``."""

    preset_name: str = setting(
        "braille7",
        "the paper's hyper-parameter set (betas, thresholds, order, theta, learning rate, "
        "minibatch)",
        flag="--preset",
        choices=("braille7", "braille27"),
    )
    memory_size: int = setting(32, "neurons of u (memory rows); overrides the preset", quick=4)
    hidden_size: int = setting(96, "neurons of h; overrides the preset", quick=16)
    order: int = setting(None, "Legendre order (default: the preset's)")
    theta: float = setting(None, "memory window in steps (default: the preset's)")
    steps: int = setting(40, "steps per event sequence", quick=20)
    event_threshold: float = setting(
        0.1, "sigma-delta threshold (fraction of full pixel intensity)"
    )
    epochs: int = setting(15, "training epochs", quick=1)
    learning_rate: float = setting(2e-3, "Adam learning rate", flag="--lr")
    minibatch_size: int = setting(
        None, "minibatch size (default: the preset's)", flag="--minibatch"
    )
    seed: int = setting(0, "seed of the initial weights and of training", positive=False)
    samples: int = setting(
        None,
        "use a stratified subset of this many digits (at least 20)",
        quick=200,
        shown="all 1797",
        minimum=20,
    )
    baseline: bool = setting(True, "skip the recurrent LIF baseline", flag="--no-baseline")
    loihi: bool = setting(
        False,
        "also train a Loihi-ready L2MU (reset to zero, clipped voltage, one step per "
        "connection) and run it in nengo and on the nengo-loihi emulator",
    )
    save: str = setting(
        "l2mu_digits.npz",
        "where to save the trained L2MU (L2MU.load reads it; default {default}, {quick} "
        "with --quick; with --loihi the Loihi-ready one goes next to it, *_chip.npz)",
        quick="l2mu_digits_quick.npz",
    )


@dataclass
class SpikingRun:
    """One model on one simulator: accuracy and the measures of
    `nengo_lmu.metrics.spiking_network_metrics` (per sequence)."""

    model: str
    run: str
    accuracy: float
    metrics: dict = field(repr=False)
    train_seconds: float = None


@dataclass
class L2MUExperiment(ExperimentResult):
    """What `train_l2mu` measured: one `SpikingRun` per model and simulator,
    the sizes, the seed, and where the trained networks were saved."""

    runs: list = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    n_steps: int = 0
    n_channels: int = 0
    parameters: dict = field(default_factory=dict)
    saved: dict = field(default_factory=dict)
    seed: int = None

    def run(self, model, run):
        """The `SpikingRun` of ``model`` on ``run``."""
        return next(r for r in self.runs if r.model == model and r.run == run)

    def report_sections(self):
        """The data, the table, how accuracy and operations are counted, and
        the saved files."""
        return [
            f"Event digits: {self.n_train} training and {self.n_test} held-out sequences, "
            f"{self.n_steps} steps x {self.n_channels} event channels (seed {self.seed})",
            self.table(),
            "Accuracy: argmax of output spike counts on held-out sequences (ties go to "
            "the lowest class). Operation counts are per sequence; 'syn. ops' are "
            "effective accumulates (one per spike per non-zero weight).\n"
            + "\n".join(
                f"Trained {name} saved to {path} (L2MU.load('{path}') rebuilds it)"
                for name, path in self.saved.items()
            ),
        ]

    def table(self):
        """Accuracy and neuromorphic measures of each model on each simulator."""
        rows = []
        for r in self.runs:
            m = r.metrics
            rows.append(
                (
                    r.model,
                    r.run,
                    str(m["parameters"]),
                    f"{r.accuracy:.4f}",
                    f"{m['activation_sparsity']:.3f}",
                    f"{m['synaptic_ops']:.3g}",
                    f"{m['dense_ops']:.3g}",
                    f"{m['membrane_updates']:.3g}",
                    f"{m['footprint_bytes'] / 1e3:.1f}",
                    "-" if r.train_seconds is None else f"{r.train_seconds:.0f}",
                )
            )
        return format_table(
            (
                "model",
                "run",
                "parameters",
                "accuracy",
                "act. sparsity",
                "syn. ops (AC)",
                "dense ops",
                "membrane upd.",
                "footprint kB",
                "train s",
            ),
            rows,
        )


def chip_path(save):
    """Where `train_l2mu` saves the Loihi-ready L2MU, next to ``save``."""
    return os.path.splitext(os.fspath(save))[0] + "_chip.npz"


def pad_sequences(data, steps):
    """``data`` with ``steps`` blank steps appended to every sequence."""
    out = dict(data)
    for part in ("train", "test"):
        x = data[f"x_{part}"]
        out[f"x_{part}"] = np.concatenate(
            [x, np.zeros((len(x), steps, x.shape[2]), dtype=x.dtype)], axis=1
        )
    return out


def train_l2mu(settings=None, data=None, verbose=2, log=None, progress=None, **kwargs):
    """Train the L2MU (and a recurrent-LIF baseline) on event digits; score.

    Parameters
    ----------
    settings : L2MUSettings, optional
        The settings (default `L2MUSettings`); its fields may also be given
        as keywords (``train_l2mu(epochs=1)``), which replace them.
    preset_name : "braille7" or "braille27"
        The paper's hyper-parameters (`nengo_lmu.networks.l2mu.PRESETS`);
        ``memory_size``, ``hidden_size`` and, where given, ``order`` and
        ``theta`` override it.
    steps, event_threshold, samples
        The data (`nengo_lmu.apps.data.event_digits`), unless ``data`` is given.
    epochs, learning_rate, minibatch_size, seed
        Training (``minibatch_size`` defaults to the preset's).
    baseline : bool
        Also train `.RecurrentLIF` with no more parameters.
    loihi : bool
        Also train a Loihi-ready L2MU (reset to zero, voltage clipped at -1,
        one step per connection) on sequences padded by `CHIP_PAD_STEPS`,
        and run its `nengo.LIF` map on nengo and on the emulator.
    save : str
        Where the trained L2MU is saved (the Loihi-ready one next to it,
        `chip_path`). Folders are checked before training (existing files
        are overwritten: the command line refuses that without
        ``--force``); should a save fail after training, the network goes
        to a temporary file instead, named in ``log`` and ``saved``.
    verbose : int
        Keras' verbosity.
    progress : callable, optional
        Wraps the nengo reference runs' loops over sequences (e.g. ``tqdm``).
    log : callable, optional
        Called with a line of text before each long step.

    Returns
    -------
    L2MUExperiment
    """
    settings = resolve(L2MUSettings, settings, kwargs)
    # the outputs first: before any import or work that could take a while
    save = check_output_path(
        settings.save, force=True, what="trained L2MU", suffix=".npz", attr="save"
    )
    if settings.loihi:
        check_output_path(chip_path(save), force=True, what="Loihi-ready L2MU", attr="save")
    from nengo_lmu.apps.data import event_digits

    require_extra("dl", "train-l2mu")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import train_spiking_classifier
    from nengo_lmu.networks import L2MU
    from nengo_lmu.networks.l2mu import preset

    log = log or (lambda text: None)
    if data is None:
        data = event_digits(
            n_steps=settings.steps, threshold=settings.event_threshold, n_samples=settings.samples
        )
    y_te = np.asarray(data["y_test"]).ravel()
    n_channels = data["x_train"].shape[2]
    n_classes = int(max(np.max(data["y_train"]), np.max(y_te))) + 1
    out = L2MUExperiment(
        n_train=len(data["x_train"]),
        n_test=len(data["x_test"]),
        n_steps=data["x_train"].shape[1],
        n_channels=n_channels,
        seed=settings.seed,
    )
    train = dict(
        epochs=settings.epochs,
        minibatch_size=settings.minibatch_size or preset(settings.preset_name)["minibatch_size"],
        learning_rate=settings.learning_rate,
        seed=settings.seed,
        verbose=verbose,
    )
    net = L2MU.from_preset(settings.preset_name, n_channels, n_classes, **l2mu_overrides(settings))
    log(
        f"L2MU ({settings.preset_name}): u {net.memory_size}, m {net.memory_size}x{net.order}, "
        f"h {net.hidden_size}, out {n_classes} neurons, theta {net.theta:g} steps, "
        f"{net.n_parameters} parameters; training {settings.epochs} epochs ..."
    )
    res = train_spiking_classifier(net, data, **train)
    out.saved["L2MU"] = save_or_rescue(net.save, save, what="trained L2MU", log=log)
    models = [("L2MU", net, res)]
    if settings.baseline:
        models.append(train_baseline(settings, net, data, train, log))
    log("Running the trained networks in the nengo reference simulator ...")
    for name, model, r in models:
        score_on_nengo(out, name, model, r, data["x_test"], y_te, progress)
    if settings.loihi:
        run_loihi_ready(out, settings, data, train, chip_path(save), log, progress)
    return out


def l2mu_overrides(settings):
    """The arguments of `.L2MU.from_preset` that ``settings`` sets."""
    overrides = dict(
        memory_size=settings.memory_size, hidden_size=settings.hidden_size, seed=settings.seed
    )
    if settings.order is not None:
        overrides["order"] = settings.order
    if settings.theta is not None:
        overrides["theta"] = settings.theta
    return overrides


def train_baseline(settings, net, data, train, log):
    """`.RecurrentLIF` with no more parameters than ``net``, trained like it;
    returns ``(name, network, training result)``."""
    from nengo_lmu.dl import train_spiking_classifier
    from nengo_lmu.networks import RecurrentLIF
    from nengo_lmu.networks.l2mu import preset

    hp = preset(settings.preset_name)
    n_channels, n_classes = net.n_inputs, net.n_classes
    k = RecurrentLIF.hidden_size_for(net.n_parameters, n_channels, n_classes)
    base = RecurrentLIF(
        n_channels,
        n_classes,
        k,
        beta_h=hp["beta_h"],
        threshold_h=hp["threshold_h"],
        beta_out=hp["beta_out"],
        threshold_out=hp["threshold_out"],
        seed=settings.seed,
    )
    log(
        f"Recurrent LIF baseline: h {k}, out {n_classes} neurons, "
        f"{base.n_parameters} parameters; training {settings.epochs} epochs ..."
    )
    return "recurrent LIF", base, train_spiking_classifier(base, data, **train)


def score_on_nengo(out, name, model, trained, x_test, y_test, progress):
    """Append ``model``'s NengoDL and nengo reference runs to ``out``."""
    out.parameters[name] = model.n_parameters
    m = model.metrics(x_test, progress=progress)
    acc = float(np.mean(m["counts"].argmax(-1) == y_test))
    out.runs.append(SpikingRun(name, "NengoDL", trained.test_accuracy, m, trained.train_seconds))
    out.runs.append(SpikingRun(name, "nengo", acc, m))


def run_loihi_ready(out, settings, data, train, path, log, progress):
    """Train the Loihi-ready L2MU on sequences padded by `CHIP_PAD_STEPS`,
    save it to ``path``, and append its runs (NengoDL, nengo, its
    `nengo.LIF` map on nengo and on the emulator) to ``out``."""
    from nengo_lmu.dl import train_spiking_classifier
    from nengo_lmu.loihi import lif_run
    from nengo_lmu.networks import L2MU
    from nengo_lmu.networks.spiking_classifier import activity_metrics

    chip_data = pad_sequences(data, CHIP_PAD_STEPS)
    x_chip, y_te = chip_data["x_test"], np.asarray(data["y_test"]).ravel()
    chip = L2MU.from_preset(
        settings.preset_name,
        out.n_channels,
        int(max(np.max(data["y_train"]), np.max(y_te))) + 1,
        reset="zero",
        min_voltage=-1.0,
        chip_timing=True,
        **l2mu_overrides(settings),
    )
    log(
        f"Loihi-ready L2MU (reset to zero, voltage clipped at -1, one step per "
        f"connection), {chip.n_parameters} parameters; training {settings.epochs} epochs ..."
    )
    r = train_spiking_classifier(chip, chip_data, **train)
    out.saved["L2MU chip"] = save_or_rescue(chip.save, path, what="Loihi-ready L2MU", log=log)
    score_on_nengo(out, "L2MU chip", chip, r, x_chip, y_te, progress)
    for run in ("nengo", "loihi"):
        log(f"Running the Loihi-ready L2MU as nengo.LIF on {run} ...")
        counts, act = lif_run(chip, x_chip, simulator=run, progress=progress)
        acc = float(np.mean(counts.argmax(-1) == y_te))
        label = "nengo LIF" if run == "nengo" else "loihi emu"
        out.runs.append(SpikingRun("L2MU chip", label, acc, activity_metrics(chip, act)))
