"""An LMU classifier on permuted sequential digits (``nengo-lmu
train-digits``): trained in NengoDL or in parallel (Keras), scored in
NengoDL and with spiking hidden neurons in nengo, next to a Keras LSTM of
no more parameters. Imports TensorFlow when run."""

from dataclasses import dataclass, field

import nengo
import numpy as np

from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue
from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import resolve, setting
from nengo_lmu.info import require_extra
from nengo_lmu.networks.weights import hidden_neuron_type
from nengo_lmu.tables import format_table

#: Classes of `nengo_lmu.apps.data.permuted_digits`.
N_CLASSES = 10


@dataclass
class ModelScore:
    """One row of the comparison: a model, its size and its accuracy."""

    name: str
    parameters: int
    accuracy: float
    train_seconds: float = None


@dataclass
class DigitsExperiment(ExperimentResult):
    """What `train_digits` measured.

    Attributes
    ----------
    scores : list of ModelScore
        The LMU as trained, then (where run) converted, spiking and LSTM.
    n_train, n_test, n_steps : int
        The data.
    path : str
        Where the trained classifier was saved.
    notes : list of str
        What was skipped and why.
    logit_difference : float or None
        ``--parallel``: the largest difference of the held-out logits,
        Keras against NengoDL.
    steps : tuple of ndarray or None
        ``--parallel``: per-step outputs of the first held-out sequence,
        Keras and ``nengo.Simulator``, and its label.
    """

    scores: list = field(default_factory=list)
    n_train: int = 0
    n_test: int = 0
    n_steps: int = 0
    path: str = None
    notes: list = field(default_factory=list)
    logit_difference: float = None
    steps: tuple = field(default=None, repr=False)

    def score(self, prefix):
        """The first score whose name starts with ``prefix``."""
        return next(s for s in self.scores if s.name.startswith(prefix))

    def table(self):
        rows = [
            (
                s.name,
                str(s.parameters),
                f"{s.accuracy:.4f}",
                "-" if s.train_seconds is None else f"{s.train_seconds:.0f}",
            )
            for s in self.scores
        ]
        return format_table(("model", "parameters", "test accuracy", "train s"), rows)

    def report_sections(self):
        """The data and notes, the table, and the saved file."""
        head = [
            f"Permuted sequential digits: {self.n_train} training and {self.n_test} "
            f"held-out sequences of {self.n_steps} steps"
        ]
        head += [f"({note})" for note in self.notes]
        if self.logit_difference is not None:
            head.append(
                "largest difference of the held-out logits, Keras vs NengoDL: "
                f"{self.logit_difference:.2e}"
            )
        saved = (
            f"Trained parameters saved to {self.path} "
            f"(LMUClassifier.load('{self.path}') rebuilds the network)"
        )
        return ["\n".join(head), self.table(), saved if self.path else ""]


@dataclass(frozen=True)
class DigitsSettings:
    """The settings of `train_digits` and of ``nengo-lmu train-digits``."""

    units: int = setting(100, "hidden units")
    order: int = setting(48, "memory order")
    theta: float = setting(64.0, "memory window in steps (pixels)")
    hidden: str = setting(
        "relu",
        "hidden nonlinearity (relu can run spiking afterwards)",
        choices=("relu", "tanh"),
    )
    epochs: int = setting(20, "training epochs")
    minibatch_size: int = setting(50, "minibatch size", flag="--minibatch")
    learning_rate: float = setting(3e-3, "Adam learning rate", flag="--lr")
    seed: int = setting(0, "seed of the initial weights and of training", positive=False)
    spiking_gain: float = setting(
        1e4,
        "gain of the spiking hidden neurons at inference (rate = gain * relu(input) Hz, "
        "amplitude 1/gain)",
    )
    lstm: bool = setting(True, "skip the LSTM baseline", flag="--no-lstm")
    spiking: bool = setting(True, "skip the spiking run", flag="--no-spiking")
    save: str = setting(
        "lmu_digits.npz",
        "where to save the trained parameters (default {default}; "
        "lmu_digits_parallel.npz with --parallel)",
        optional=True,
    )
    parallel: bool = setting(
        False,
        "train in parallel (Keras LMULayer, whole sequences at once), convert into the "
        "LMUClassifier and score it in NengoDL",
    )
    mode: str = setting(
        "chunked",
        "with --parallel: how the memory is evaluated (default {default})",
        choices=("chunked", "fft", "recurrent"),
        optional=True,
    )


def train_digits(
    settings=None, progress=None, verbose=1, data=None, log=None, on_save=None, **kwargs
):
    """Train an LMU on permuted sequential digits and compare.

    Parameters
    ----------
    settings : DigitsSettings, optional
        The settings (default `DigitsSettings`); its fields may also be given
        as keywords (``train_digits(epochs=1)``), which replace them.
    units, order, theta, hidden
        The LMU cell (``hidden``: ``"relu"`` or ``"tanh"``).
    epochs, minibatch_size, learning_rate, seed
        Training (the LSTM is trained the same way).
    spiking_gain : float
        Gain of the spiking hidden neurons of the nengo run (``relu`` only).
    lstm, spiking : bool
        Run the LSTM baseline and the spiking nengo run.
    save : str
        Where the trained `.LMUClassifier` is saved (``.npz`` added where
        missing; its folder is checked before training, and an existing
        file is overwritten: the command line refuses that without
        ``--force``). Should the save fail after training, the weights go
        to a temporary file instead, named in ``log`` and in the result's
        ``path``.
    parallel : bool
        Train in parallel (Keras `.LMULayer`, memory evaluated as ``mode``),
        convert into the `.LMUClassifier` and score it in NengoDL.
    progress : callable, optional
        Wraps the spiking run's loop over sequences (e.g. ``tqdm``).
    verbose : int
        Keras' verbosity.
    data : dict, optional
        Instead of `nengo_lmu.apps.data.permuted_digits`.
    log : callable, optional
        Called with a line of text before each long step.
    on_save : callable, optional
        Called with the path of the trained model once it is saved (before
        the spiking run and the LSTM), e.g. to say what an interrupted
        command keeps.

    Returns
    -------
    DigitsExperiment

    Raises
    ------
    nengo_lmu.dl.interrupts.TrainingInterrupted
        On Ctrl-C during training; the weights of the last completed epoch
        are saved to ``save`` first (`keep_interrupted`), and its ``kept``
        says where.
    """
    settings = resolve(DigitsSettings, settings, kwargs)
    # the outputs first: before any import or work that could take a while
    save = check_output_path(
        settings.save, force=True, what="trained model", suffix=".npz", attr="save"
    )
    from nengo_lmu.apps.data import permuted_digits

    require_extra("dl", "train-digits")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import count_parameters
    from nengo_lmu.networks import LMUClassifier

    log = log or (lambda text: None)
    data = permuted_digits() if data is None else data
    units, order, theta, hidden = settings.units, settings.order, settings.theta, settings.hidden
    cells = [
        dict(
            units=units,
            order=order,
            theta=theta,
            hidden_neuron_type=hidden_neuron_type(hidden, attr="hidden"),
        )
    ]
    clf = LMUClassifier(N_CLASSES, cells, seed=settings.seed)
    n_params = count_parameters(clf)
    out = DigitsExperiment(
        n_train=len(data["x_train"]),
        n_test=len(data["x_test"]),
        n_steps=data["x_train"].shape[1],
        path=str(save),
    )
    log(
        f"LMU: {units} {hidden} units, order {order}, theta {theta:g} steps, "
        f"{n_params} parameters; training {settings.epochs} epochs ..."
    )
    train = dict(
        epochs=settings.epochs,
        minibatch_size=settings.minibatch_size,
        learning_rate=settings.learning_rate,
        seed=settings.seed,
        verbose=verbose,
    )
    if settings.parallel:
        _train_parallel(out, data, settings, n_params, save, train, log)
    else:
        _train_nengo_dl(out, clf, data, n_params, save, train, log)
    if on_save is not None:
        on_save(out.path)
    if settings.spiking and hidden != "relu":
        out.notes.append("no spiking run: tanh has no spiking counterpart; use relu")
    elif settings.spiking:
        _run_spiking(out, data, settings.spiking_gain, n_params, progress, log)
    if settings.lstm:
        _run_lstm(out, data, n_params, train, log)
    return out


def _train_nengo_dl(out, clf, data, n_params, save, train, log):
    """NengoDL training of ``clf``, saved to ``save``, and its score."""
    from nengo_lmu.dl import train_classifier
    from nengo_lmu.dl.interrupts import TrainingInterrupted

    try:
        res = train_classifier(clf, data, **train)
    except TrainingInterrupted as e:
        weights = e.weights
        raise keep_interrupted(e, lambda p: clf.save(p, weights), save, log) from None
    out.path = save_or_rescue(lambda p: clf.save(p, res.weights), save, log=log)
    out.scores.append(ModelScore("LMU (NengoDL)", n_params, res.test_accuracy, res.train_seconds))


def _train_parallel(out, data, settings, n_params, save, train, log):
    """Keras training, conversion, NengoDL scoring and the per-step outputs."""
    require_extra("dl", "train-digits --parallel")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import nengo_dl_logits, sequence_copy, to_classifier
    from nengo_lmu.dl.interrupts import TrainingInterrupted
    from nengo_lmu.dl.training import train_parallel_classifier

    mode = settings.mode
    cell = dict(
        units=settings.units,
        order=settings.order,
        theta=settings.theta,
        hidden_activation=settings.hidden,
        mode=mode,
    )
    try:
        res = train_parallel_classifier(data, N_CLASSES, [cell], **train)
    except TrainingInterrupted as e:
        model = e.model

        def save_converted(path):
            clf = to_classifier(model, seed=train["seed"])
            return clf.save(path, clf.get_weights())

        raise keep_interrupted(e, save_converted, save, log) from None
    out.scores.append(
        ModelScore(
            f"LMU, trained in parallel (Keras, {mode})",
            n_params,
            res.test_accuracy,
            res.train_seconds,
        )
    )
    log("Converting into the LMUClassifier and scoring it in NengoDL ...")
    clf = to_classifier(res.model, seed=train["seed"])
    x, y = data["x_test"], np.asarray(data["y_test"]).ravel()
    logits = nengo_dl_logits(clf, x)
    out.scores.append(
        ModelScore(
            "same weights, converted, NengoDL", n_params, float(np.mean(logits.argmax(-1) == y))
        )
    )
    out.logit_difference = float(np.max(np.abs(logits - res.test_logits)))
    out.path = save_or_rescue(lambda p: clf.save(p, clf.get_weights()), save, log=log)
    keras_steps = sequence_copy(res.model).predict(x[:1], verbose=0)[0]
    nengo_steps = clf.predict(x[:1], all_steps=True)[0]
    out.steps = (keras_steps, nengo_steps, int(y[0]))


def _run_spiking(out, data, spiking_gain, n_params, progress, log):
    """The saved classifier in nengo with spiking hidden neurons, scored."""
    from nengo_lmu.networks import LMUClassifier

    log("Running the trained LMU in nengo with spiking hidden neurons ...")
    spiking_clf = LMUClassifier.load(
        out.path,
        overrides=dict(
            hidden_neuron_type=nengo.SpikingRectifiedLinear(amplitude=1 / spiking_gain),
            hidden_gain=spiking_gain,
        ),
    )
    logits = spiking_clf.predict(data["x_test"], progress=progress)
    y = np.asarray(data["y_test"]).ravel()
    out.scores.append(
        ModelScore(
            f"same, spiking (nengo, gain {spiking_gain:g})",
            n_params,
            float(np.mean(logits.argmax(-1) == y)),
        )
    )


def _run_lstm(out, data, n_params, train, log):
    """A Keras LSTM of no more parameters, trained as the LMU was, scored."""
    from nengo_lmu.dl import keras_lstm_baseline, lstm_units_for

    k = lstm_units_for(n_params, data["x_train"].shape[2], N_CLASSES)
    log(f"Training a Keras LSTM ({k} units) the same way ...")
    acc, n, sec = keras_lstm_baseline(
        data,
        k,
        N_CLASSES,
        epochs=train["epochs"],
        minibatch_size=train["minibatch_size"],
        learning_rate=train["learning_rate"],
        seed=train["seed"],
        verbose=0,
    )
    out.scores.append(ModelScore(f"Keras LSTM ({k} units)", n, acc, sec))


def keep_interrupted(interrupted, save_fn, path, log=None):
    """Save what an interrupted training run completed; returns the
    `~nengo_lmu.dl.interrupts.TrainingInterrupted` with ``kept`` saying what
    was kept (for the one line the command prints).

    The weights of the last completed epoch go where the finished run's
    would have gone (``path``, checked before training like any output;
    `save_or_rescue` keeps them should that fail); with no epoch completed
    nothing is written.
    """
    done, total = interrupted.epochs_done, interrupted.epochs
    if not done:
        interrupted.kept = f"no epoch of {total} was completed; nothing was written"
        return interrupted
    written = save_or_rescue(save_fn, path, what=f"weights after epoch {done}", log=log)
    interrupted.kept = (
        f"the weights after epoch {done} of {total} are saved in {written} "
        f"(LMUClassifier.load('{written}') rebuilds the network)"
    )
    return interrupted
