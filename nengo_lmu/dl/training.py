"""Training LMU classifiers with NengoDL (``nengo_dl.Simulator.fit``)."""

import time
from dataclasses import dataclass, field

import nengo_dl
import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.interrupts import LastEpoch, TrainingInterrupted
from nengo_lmu.networks.weights import initial_weights
from nengo_lmu.validation import check_int, check_positive, check_sequence_data


@dataclass
class TrainResult:
    """What `train_classifier` returns."""

    test_accuracy: float
    train_seconds: float
    epochs: int
    history: dict = field(repr=False)
    weights: dict = field(repr=False)
    test_logits: np.ndarray = field(repr=False)


def pad_batch(x, minibatch_size):
    """Pad the batch axis to a multiple of ``minibatch_size`` (NengoDL needs it)."""
    extra = -len(x) % minibatch_size
    if extra == 0:
        return x
    return np.concatenate([x, np.zeros((extra,) + x.shape[1:], dtype=x.dtype)])


def check_training_args(
    epochs, learning_rate, minibatch_size=None, unroll_simulation=None, seed=None, verbose=None
):
    """Check the settings every trainer takes, before any work starts.

    ``epochs``, ``minibatch_size`` and ``unroll_simulation`` are integers
    >= 1 (numpy integers too), ``learning_rate`` a positive finite number,
    ``seed`` an integer in ``[0, 2**32 - 1]`` (numpy's seed range) and
    ``verbose`` Keras' 0, 1 or 2. Returns them in their canonical types.

    Examples
    --------
    >>> check_training_args(np.int64(3), 1e-3, minibatch_size=np.int32(5))
    (3, 0.001, 5, None, None, None)
    """
    epochs = check_int("epochs", epochs)
    learning_rate = check_positive("learning_rate", learning_rate)
    if minibatch_size is not None:
        minibatch_size = check_int("minibatch_size", minibatch_size)
    if unroll_simulation is not None:
        unroll_simulation = check_int("unroll_simulation", unroll_simulation)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    if verbose is not None:
        verbose = check_int("verbose", verbose, minimum=0, maximum=2)
    return epochs, learning_rate, minibatch_size, unroll_simulation, seed, verbose


def fit_settings(
    epochs, minibatch_size, learning_rate, unroll_simulation, seed, verbose, progress_bar
):
    """A trainer's settings, checked (`check_training_args`) before any work
    starts, as the keyword arguments of `fit_nengo_dl` that the trainers
    pass alike."""
    epochs, learning_rate, minibatch_size, unroll_simulation, seed, verbose = check_training_args(
        epochs, learning_rate, minibatch_size, unroll_simulation, seed, verbose
    )
    return dict(
        epochs=epochs,
        minibatch_size=minibatch_size,
        learning_rate=learning_rate,
        unroll_simulation=unroll_simulation,
        seed=seed,
        verbose=verbose,
        progress_bar=progress_bar,
    )


def check_training_data(data, minibatch_size, n_inputs=None, n_classes=None):
    """Check the data dict and the minibatch size; return the four arrays,
    with the labels as ``(n, 1, 1)`` integers (``(n,)`` and ``(n, 1)`` are
    accepted and reshaped)."""
    if not isinstance(data, dict):
        raise ValidationError(
            f"must be a dict with x_train, y_train, x_test, y_test, got {type(data).__name__}",
            attr="data",
        )
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in data]
    if missing:
        raise ValidationError(f"lacks {missing}", attr="data")
    x_tr, y_tr = np.asarray(data["x_train"]), data["y_train"]
    x_te, y_te = np.asarray(data["x_test"]), data["y_test"]
    labels = []
    for x, y, part in ((x_tr, y_tr, "train"), (x_te, y_te, "test")):
        try:
            check_sequence_data(x, y, n_inputs=n_inputs, n_classes=n_classes)
        except ValidationError as e:
            raise ValidationError(f"{part} data: {e}", attr=f"data['x_{part}']") from None
        # one label per sequence, in the (n, 1, 1) layout NengoDL's probes use
        labels.append(np.asarray(y).reshape(len(x), 1, 1).astype(np.int32))
    y_tr, y_te = labels
    if x_te.shape[1] != x_tr.shape[1]:
        raise ValidationError(
            f"test sequences have {x_te.shape[1]} steps, training ones {x_tr.shape[1]}",
            attr="data",
        )
    check_int("minibatch_size", minibatch_size, maximum=len(x_tr))
    return x_tr, y_tr, x_te, y_te


def largest_unroll(n_steps, unroll_simulation):
    """The largest loop unrolling up to ``unroll_simulation`` that divides
    ``n_steps`` (NengoDL needs a divisor)."""
    return max(k for k in range(1, min(unroll_simulation, n_steps) + 1) if n_steps % k == 0)


@dataclass
class FitOutput:
    """What `fit_nengo_dl` returns."""

    history: dict
    seconds: float
    test_output: np.ndarray
    inspected: object = None


def fit_nengo_dl(
    net,
    probe,
    x_train,
    y_train,
    x_test,
    loss,
    metric,
    epochs,
    minibatch_size,
    learning_rate,
    unroll_simulation,
    seed,
    verbose=0,
    progress_bar=False,
    last_step_only=False,
    simulator_kwargs=None,
    inspect=None,
):
    """The NengoDL training run behind `train_classifier` and
    `.train_spiking_classifier`: Adam on ``loss`` at ``probe``, then the
    probe's output on every test sequence, and the trained parameters
    frozen into ``net``.

    Parameters
    ----------
    net : nengo.Network
        The top-level network; updated in place (``freeze_params``).
    probe : nengo.Probe
        Where the loss is taken.
    x_train, y_train, x_test : ndarray
        Checked data; training uses the largest whole number of minibatches.
    loss, metric
        Keras loss and metric of the probe.
    last_step_only : bool
        Keep only the probe's last step (NengoDL's ``keep_history=False``
        for it), as a classifier scored on its last step needs.
    simulator_kwargs : dict, optional
        More arguments of ``nengo_dl.Simulator`` (e.g. ``dt``).
    inspect : callable, optional
        Called with the simulator after training, before it closes; its
        result is ``FitOutput.inspected``.

    Returns
    -------
    FitOutput
        ``test_output`` is the probe's output on ``x_test``, ``(n, steps,
        d)`` (one step with ``last_step_only``).
    """
    epochs, learning_rate, minibatch_size, unroll_simulation, seed, verbose = check_training_args(
        epochs, learning_rate, minibatch_size, unroll_simulation, seed, verbose
    )
    n_steps = x_train.shape[1]
    unroll = largest_unroll(n_steps, unroll_simulation)
    with net:
        if last_step_only:
            nengo_dl.configure_settings(stateful=False, keep_history=True)
        else:
            nengo_dl.configure_settings(stateful=False)
    if last_step_only:
        net.config[probe].keep_history = False
    tf.random.set_seed(seed)
    n_fit = len(x_train) - len(x_train) % minibatch_size
    with nengo_dl.Simulator(
        net,
        minibatch_size=minibatch_size,
        unroll_simulation=unroll,
        seed=seed,
        progress_bar=progress_bar,
        **(simulator_kwargs or {}),
    ) as sim:
        sim.compile(
            optimizer=tf.optimizers.Adam(learning_rate),
            loss={probe: loss},
            metrics={probe: metric},
        )
        t0 = time.perf_counter()
        last = LastEpoch()
        try:
            history = sim.fit(
                x_train[:n_fit],
                {probe: y_train[:n_fit]},
                epochs=epochs,
                verbose=verbose,
                callbacks=[last],
            )
        except KeyboardInterrupt:
            if last.restore(sim.keras_model):
                sim.freeze_params(net)
            raise TrainingInterrupted(last.epochs_done, epochs) from None
        seconds = time.perf_counter() - t0
        n = len(x_test)
        out = sim.predict(pad_batch(x_test, minibatch_size), verbose=0)[probe][:n]
        sim.freeze_params(net)
        inspected = None if inspect is None else inspect(sim)
    return FitOutput(epoch_history(history), seconds, out, inspected)


def predict_logits(sim, probe, x):
    """Last-step outputs of ``probe`` for every sequence in ``x``.

    Pads ``x`` to whole minibatches and drops the padding again, so every
    sequence is scored (NengoDL only runs whole minibatches).
    """
    n = len(x)
    out = sim.predict(pad_batch(x, sim.minibatch_size), verbose=0)[probe]
    return out[:n, -1]


def train_classifier(
    net,
    data,
    epochs=20,
    minibatch_size=50,
    learning_rate=3e-3,
    unroll_simulation=16,
    seed=0,
    verbose=1,
    progress_bar=False,
):
    """Train an `.LMUClassifier` with NengoDL and score it on held-out data.

    The idiomatic NengoDL steps, with the data layout checked first: the
    classifier's ``probe`` keeps only its last step, the loss is sparse
    categorical cross-entropy on the logits, the optimiser Adam. Each
    simulator step is one sample of a sequence.

    Parameters
    ----------
    net : LMUClassifier
        The network (the top-level network of the simulation).
    data : dict
        ``x_train`` ``(n, n_steps, input_d)``, ``y_train`` ``(n, 1, 1)``
        integer labels in ``[0, n_classes)``, and ``x_test``/``y_test``
        (as from `nengo_lmu.data.permuted_digits`).
    epochs, minibatch_size, learning_rate
        Training settings. Training uses the largest whole number of
        minibatches; evaluation uses every test sequence.
    unroll_simulation : int
        NengoDL's loop unrolling (``n_steps`` must be a multiple of it; it is
        reduced to the largest divisor otherwise).
    seed : int
        Seed of the NengoDL simulator (and of TensorFlow's shuffling).
    verbose : int
        Keras' verbosity for ``fit``: 1 (default) shows a progress bar, 2
        one line per epoch, 0 nothing.
    progress_bar : bool
        NengoDL's build progress bar.

    Every setting is checked (`check_training_args`) before any work
    starts; labels may be ``(n, 1, 1)``, ``(n, 1)`` or ``(n,)``. Ctrl-C
    during training raises `TrainingInterrupted` with the weights of the
    last completed epoch (the network holds them too).

    Returns
    -------
    TrainResult
        With the trained weights (``net.get_weights()`` form, float32 as
        NengoDL holds them); the network itself is updated to them.
    """
    settings = fit_settings(
        epochs, minibatch_size, learning_rate, unroll_simulation, seed, verbose, progress_bar
    )
    epochs, minibatch_size = settings["epochs"], settings["minibatch_size"]
    x_tr, y_tr, x_te, y_te = check_training_data(
        data, minibatch_size, n_inputs=net.input.size_out, n_classes=net.n_classes
    )
    try:
        fit = fit_nengo_dl(
            net,
            net.probe,
            x_tr,
            y_tr,
            x_te,
            loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
            metric="accuracy",
            last_step_only=True,
            **settings,
        )
    except TrainingInterrupted as e:
        if e.epochs_done:
            e.weights = check_trained_weights(net.get_weights())
        raise
    logits = fit.test_output[:, -1]
    weights = check_trained_weights(net.get_weights())
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == y_te.ravel()))
    return TrainResult(
        test_accuracy=accuracy,
        train_seconds=fit.seconds,
        epochs=epochs,
        history=fit.history,
        weights=weights,
        test_logits=logits,
    )


def check_trained_weights(weights):
    """Raise where training diverged (a NaN or inf weight); return ``weights``."""
    for name, w in weights.items():
        if not np.all(np.isfinite(w)):
            raise ValidationError(
                f"training diverged: weights[{name!r}] contains NaN or inf "
                f"(try a lower learning_rate)",
                attr="learning_rate",
            )
    return weights


def epoch_history(history):
    """Loss and accuracy per epoch from a NengoDL ``fit`` (which names the
    metrics after the probe, e.g. ``"logits_accuracy"``)."""
    return {
        "loss": list(history.history["loss"]),
        "accuracy": next(v for k, v in history.history.items() if k.endswith("accuracy")),
    }


def keras_lstm_baseline(
    data, units, n_classes, epochs, minibatch_size=50, learning_rate=3e-3, seed=0, verbose=0
):
    """A Keras LSTM classifier trained the same way, for comparison.

    Returns ``(test_accuracy, n_parameters, train_seconds)``.
    """
    epochs, learning_rate, minibatch_size, _, seed, verbose = check_training_args(
        epochs, learning_rate, minibatch_size, seed=seed, verbose=verbose
    )
    units = check_int("units", units)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    x_tr, y_tr, x_te, y_te = check_training_data(data, minibatch_size, n_classes=n_classes)
    # Keras draws the LSTM's initial weights from Python's and numpy's random
    # numbers too: seeding only TensorFlow's left them different every run
    tf.keras.utils.set_random_seed(seed)
    y_tr, y_te = y_tr[:, 0, 0], y_te[:, 0, 0]
    model = tf.keras.Sequential(
        [
            tf.keras.layers.InputLayer(input_shape=x_tr.shape[1:]),
            tf.keras.layers.LSTM(units),
            tf.keras.layers.Dense(n_classes),
        ]
    )
    model.compile(
        optimizer=tf.optimizers.Adam(learning_rate),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    t0 = time.perf_counter()
    model.fit(x_tr, y_tr, batch_size=minibatch_size, epochs=epochs, verbose=verbose)
    seconds = time.perf_counter() - t0
    logits = model.predict(x_te, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == y_te))
    return accuracy, int(model.count_params()), seconds


def lstm_units_for(n_parameters, input_d, n_classes):
    """The largest LSTM width whose classifier has at most ``n_parameters``."""

    def count(k):
        return 4 * (k * (input_d + k) + k) + (k + 1) * n_classes

    k = 1
    while count(k + 1) <= n_parameters:
        k += 1
    return k


def count_parameters(net):
    """Trainable weights of an `.LMUClassifier` (its weighted connections)."""
    return int(sum(np.size(w) for w in net.get_weights().values()))


@dataclass
class ParallelResult:
    """What `train_parallel_classifier` returns."""

    model: object = field(repr=False)
    test_accuracy: float
    train_seconds: float
    epochs: int
    history: dict = field(repr=False)
    test_logits: np.ndarray = field(repr=False)


def parallel_classifier_model(input_shape, n_classes, cells, seed=0):
    """A Keras LMU classifier: `.LMULayer` cells and a bias-free readout.

    The same architecture and initial weights as ``LMUClassifier(n_classes,
    cells, seed=seed)`` (which `to_classifier` turns it into). ``cells`` are
    `.LMULayer` keyword arguments, first to last; every cell but the last
    returns sequences.
    """
    from nengo_lmu.dl.layers import LMULayer  # pylint: disable=import-outside-toplevel

    if isinstance(cells, dict) or not cells:
        raise ValidationError("must be a non-empty list of LMULayer argument dicts", attr="cells")
    layers = [tf.keras.Input(input_shape)]
    for i, args in enumerate(cells):
        args = dict(args)
        args.setdefault("seed", seed + i)
        args["return_sequences"] = i < len(cells) - 1
        layers.append(LMULayer(**args))
    # the readout LMUClassifier(seed=seed) starts from (the cells' seeds
    # match too), so both ways of training start from the same weights
    readout = initial_weights(
        "glorot_uniform", (n_classes, layers[-1].units), np.random.RandomState(seed)
    )
    layers.append(
        tf.keras.layers.Dense(
            n_classes, use_bias=False, kernel_initializer=tf.keras.initializers.Constant(readout.T)
        )
    )
    return tf.keras.Sequential(layers)


def train_parallel_classifier(
    data,
    n_classes,
    cells,
    epochs=20,
    minibatch_size=50,
    learning_rate=3e-3,
    seed=0,
    verbose=1,
):
    """Train an LMU classifier in parallel (Keras `.LMULayer`) and score it.

    The same data checks, loss (sparse categorical cross-entropy on the last
    step's logits), optimiser and settings as `train_classifier`, with the
    whole sequence evaluated at once instead of step by step (Keras'
    progress bar by default, ``verbose=1``). Convert the result with
    `nengo_lmu.dl.to_classifier` to run it in Nengo.

    Returns
    -------
    ParallelResult
        ``model`` is the trained Keras model.

    Raises
    ------
    TrainingInterrupted
        On Ctrl-C during training, with the model at its last completed
        epoch (``model`` is None where none was completed).
    """
    epochs, learning_rate, minibatch_size, _, seed, verbose = check_training_args(
        epochs, learning_rate, minibatch_size, seed=seed, verbose=verbose
    )
    n_classes = check_int("n_classes", n_classes, minimum=2)
    x_tr, y_tr, x_te, y_te = check_training_data(data, minibatch_size, n_classes=n_classes)
    tf.keras.utils.set_random_seed(seed)
    model = parallel_classifier_model(x_tr.shape[1:], n_classes, cells, seed=seed)
    model.compile(
        optimizer=tf.optimizers.Adam(learning_rate),
        loss=tf.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    n_fit = len(x_tr) - len(x_tr) % minibatch_size
    t0 = time.perf_counter()
    last = LastEpoch()
    try:
        history = model.fit(
            x_tr[:n_fit],
            y_tr[:n_fit, 0, 0],
            batch_size=minibatch_size,
            epochs=epochs,
            verbose=verbose,
            callbacks=[last],
        )
    except KeyboardInterrupt:
        done = last.restore(model)
        raise TrainingInterrupted(
            last.epochs_done, epochs, model=model if done else None
        ) from None
    seconds = time.perf_counter() - t0
    logits = model.predict(x_te, verbose=0)
    for w in model.get_weights():
        if not np.all(np.isfinite(w)):
            raise ValidationError(
                "training diverged: a weight is NaN or inf (try a lower learning_rate)",
                attr="learning_rate",
            )
    return ParallelResult(
        model=model,
        test_accuracy=float(np.mean(np.argmax(logits, -1) == y_te.ravel())),
        train_seconds=seconds,
        epochs=epochs,
        history={k: list(v) for k, v in history.history.items()},
        test_logits=logits,
    )


def nengo_dl_logits(net, x, minibatch_size=50):
    """Last-step logits of an `.LMUClassifier` for every sequence, in NengoDL."""
    with net:
        nengo_dl.configure_settings(stateful=False, keep_history=True)
    net.config[net.probe].keep_history = False
    minibatch_size = min(minibatch_size, len(x))
    with nengo_dl.Simulator(net, minibatch_size=minibatch_size, progress_bar=False) as sim:
        return predict_logits(sim, net.probe, x)
