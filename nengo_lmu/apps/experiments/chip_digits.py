"""A row-digits classifier with its memory and its hidden layer on the chip
(`nengo_lmu.loihi.ChipMemoryClassifier`), on ``nengo.Simulator`` and on the
nengo-loihi emulator: the third part of ``nengo-lmu loihi``
(`nengo_lmu.apps.experiments.loihi` has the other two and what they share)."""

from dataclasses import dataclass

import numpy as np

from nengo_lmu.apps.experiments.chip_readout import fit_readout
from nengo_lmu.apps.experiments.loihi import DEFAULTS, DigitsTraining, resources_table
from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.info import require_extra
from nengo_lmu.loihi import TARGETS
from nengo_lmu.tables import format_table
from nengo_lmu.validation import check_choice, check_int


def row_digits(test_size=0.2, split_seed=0):
    """scikit-learn's 8x8 digits as sequences of their 8 rows: 8 steps of 8
    pixel values in [0, 1] (`nengo_lmu.apps.data.permuted_digits` unpermuted,
    reshaped), the data of `train_chip_digits_classifier`."""
    from nengo_lmu.apps.data import permuted_digits

    d = permuted_digits(test_size=test_size, permute=False, split_seed=split_seed)
    return {
        k: (v.reshape(len(v), 8, 8) if k.startswith("x_") else v)
        for k, v in d.items()
        if k != "permutation"
    }


#: The chip classifier's cell: 16 memory dimensions (order 4 x 4) are 16
#: spiking populations; permuted 64-step digits with one memory of order
#: 8/12/16 reached only 58%/80%/84% held-out (seed 0, 30 epochs).
CHIP_DIGITS_CELL = dict(
    units=64,
    order=4,
    theta=8.0,
    memory_d=4,
    hidden_activation="relu",
    hidden_to_hidden=False,
    input_to_hidden=False,
)


#: Training sequences on which `chip_digits_comparison` fits the host
#: readout (a nengo run of 400 x 160 steps; minutes). Seed 0's 4-fold
#: cross-validated accuracy on them: 95.5% (docs/loihi.md, its measurement record).
CHIP_DIGITS_N_FIT = DEFAULTS.n_fit


def train_chip_digits_classifier(path, seed=DEFAULTS.seed, epochs=40, **cell):
    """Train a row-digits classifier that `ChipMemoryClassifier` can run;
    save it.

    The cell is `CHIP_DIGITS_CELL` (``cell`` overrides its entries), trained
    in parallel on `row_digits` (imports TensorFlow; seconds). Returns a
    `DigitsTraining` (the rate accuracy on all held-out sequences).

    Examples
    --------
    >>> out = train_chip_digits_classifier("chip.npz", seed=0)  # doctest: +SKIP
    >>> out.test_accuracy > 0.9  # doctest: +SKIP
    True
    """
    from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue

    require_extra("dl", "the chip classifier's training")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import to_classifier, train_parallel_classifier

    path = check_output_path(path, force=True, what="trained classifier", suffix=".npz")
    res = train_parallel_classifier(
        row_digits(), 10, [dict(CHIP_DIGITS_CELL, **cell)], epochs=epochs, seed=seed, verbose=0
    )
    path = save_or_rescue(
        to_classifier(res.model, seed=seed).save, path, what="trained classifier"
    )
    return DigitsTraining(str(path), float(res.test_accuracy), float(res.train_seconds))


@dataclass
class ChipDigitsComparison(ExperimentResult):
    """What `chip_digits_comparison` measured.

    Attributes
    ----------
    accuracy : dict
        ``{"rate": ..., "nengo": ..., target: ...}`` on the same ``n``
        held-out sequences.
    runs : dict
        `ChipMemoryClassifier.predict`'s info per simulator, plus ``logits``
        and ``output`` (the readout on every step, ``(n, steps, classes)``).
    resources : dict
        ``{target: resource_counts(...)}`` per sequence (emulator targets).
    steps_per_sequence : int
    chip_seconds_per_sequence : float
        Steps per sequence times the chip's 1 ms step.
    n : int
        Held-out sequences evaluated.
    readout : dict or None
        With ``readout="fit"``: per simulator whose spikes a readout was
        fitted on, what `nengo_lmu.apps.experiments.chip_readout.fit_readout` chose
        (``offset``, ``bins``, ``reg``, ``cv`` accuracy) and ``n_fit``, the
        training sequences it was fitted on.
    """

    accuracy: dict
    runs: dict
    resources: dict
    steps_per_sequence: int
    chip_seconds_per_sequence: float
    n: int
    readout: dict = None

    @property
    def placement(self):
        """The network's placement on the chip (`nengo_lmu.loihi.LoihiReport`
        of the first emulator target; None without one)."""
        reports = [
            info["placement"]
            for name, info in self.runs.items()
            if name != "nengo" and "placement" in info
        ]
        return reports[0] if reports else None

    def report_sections(self):
        """The placement, the scores, the chip time and the resources per
        sequence of each target."""
        chip_time = (
            f"{self.steps_per_sequence} steps a sequence: "
            f"{1000 * self.chip_seconds_per_sequence:.0f} ms of chip time per sequence"
        )
        resources = resources_table(self.resources, per="sequence") if self.resources else ""
        return [str(self.placement or ""), f"{self.table()}\n{chip_time}", resources]

    def table(self):
        """Accuracy, agreement with nengo and speed of each simulator."""
        ref = self.runs.get("nengo")
        rows = []
        for name, acc in self.accuracy.items():
            info = self.runs.get(name, {})
            agree = (
                f"{np.mean(info['logits'].argmax(-1) == ref['logits'].argmax(-1)):.3f}"
                if ref is not None and "logits" in info
                else "-"
            )
            speed = (
                f"{info['steps'] / max(info['seconds'], 1e-9):.0f}" if "seconds" in info else "-"
            )
            diff = (
                f"{100 * (acc - self.accuracy['nengo']):+.2f}" if "nengo" in self.accuracy else "-"
            )
            rows.append((name, f"{acc:.4f}", diff, agree, str(self.n), speed))
        return format_table(
            (
                "simulator",
                "accuracy",
                "vs nengo (points)",
                "agrees with nengo",
                "sequences",
                "steps/s",
            ),
            rows,
        )


def chip_digits_comparison(
    path,
    targets=("sim",),
    n_test=None,
    data=None,
    readout=DEFAULTS.readout,
    n_fit=CHIP_DIGITS_N_FIT,
    fit_on=DEFAULTS.fit_on,
    progress=None,
    **kwargs,
):
    """A saved row-digits classifier as a `ChipMemoryClassifier`: held-out
    accuracy of the rate network, on ``nengo.Simulator`` and on each
    nengo-loihi target, with resources and chip time per sequence.

    The first ``n_test`` held-out sequences of `row_digits` (or ``data``;
    all by default) are the same for every simulator; the training
    sequences set the classifier's scales. With ``readout="fit"`` the host
    readout is fitted on the network's hidden spikes over the first
    ``n_fit`` training sequences (`nengo_lmu.apps.experiments.chip_readout.fit_readout`, to
    the rate network's logits; training data only): on each simulator's
    own spikes (``fit_on="own"``) or on nengo's, used on every simulator
    (``fit_on="nengo"``); ``"trained"`` keeps the trained readout. ``kwargs`` go to
    `ChipMemoryClassifier` (``steps_per_sample``, ``n_neurons``, ...);
    ``progress`` (e.g. ``tqdm.tqdm``) shows each emulator run's progress.
    Returns a `ChipDigitsComparison`.

    Examples
    --------
    >>> out = chip_digits_comparison("chip.npz", n_test=20)  # doctest: +SKIP
    >>> print(out.table())  # doctest: +SKIP
    """
    from nengo_lmu.loihi.chip_memory_classifier import ChipMemoryClassifier

    for t in targets:
        check_choice("targets", t, TARGETS)
    check_choice("readout", readout, ("fit", "trained"))
    check_choice("fit_on", fit_on, ("own", "nengo"))
    data = row_digits() if data is None else data
    n = len(data["x_test"]) if n_test is None else check_int("n_test", n_test, None)
    x = np.asarray(data["x_test"][:n])
    y = np.asarray(data["y_test"]).ravel()[:n]
    net = ChipMemoryClassifier(path, data["x_train"], **kwargs)
    fitted = {}
    if readout == "fit":
        n_fit = check_int("n_fit", n_fit, None)
        x_fit = np.asarray(data["x_train"][:n_fit])
        y_fit = np.asarray(data["y_train"]).ravel()[: len(x_fit)]
        fitted["nengo"] = fit_chip_readout(net, x_fit, y_fit, "nengo")
    accuracy = {"rate": float(np.mean(net.rate_logits(x).argmax(-1) == y))}
    runs, resources = {}, {}
    for name in ("nengo",) + tuple(targets):
        if readout == "fit" and fit_on == "own" and name != "nengo":
            fitted[name] = fit_chip_readout(net, x_fit, y_fit, name, progress)
        logits, info = net.predict(x, target=name, progress=progress)
        info.update(logits=logits, output=net.last_output)
        accuracy[name] = float(np.mean(logits.argmax(-1) == y))
        runs[name] = info
        if "resources" in info:
            resources[name] = info["resources"]
    return ChipDigitsComparison(
        accuracy,
        runs,
        resources,
        net.steps_per_sequence,
        net.steps_per_sequence * net.dt,
        n,
        fitted or None,
    )


def fit_chip_readout(net, x_fit, y_fit, target, progress=None):
    """Fit ``net``'s readout on its hidden spikes on ``target`` over the
    training sequences ``x_fit`` (`fit_readout`); returns what was chosen
    (``offset``, ``bins``, ``reg``, its ``cv`` accuracy, ``n_fit``)."""
    fit = fit_readout(net, x_fit, y_fit, target=target, progress=progress)
    return dict(
        offset=fit["offset"],
        bins=fit["bins"],
        reg=fit["reg"],
        cv=fit["cv"][fit["bins"], fit["offset"], fit["reg"]],
        n_fit=len(x_fit),
    )
