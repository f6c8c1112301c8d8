"""One model of the LMUFormer comparison trained, scored and streamed.

`run_model` builds one of the models `.compare_lmuformer` compares (an
LMUFormer or spiking LMUFormer, the plain LMU, or an LSTM whose width
`match_sizes` matched to the LMUFormer's parameter count), trains it with
one seed (on augmented batches when asked), scores it on the held-out
voices, counts its operations and, for the causal LMUFormers, runs it frame
by frame as a Nengo network. The result is a `ModelRun`. A spiking model can
start from the trained non-spiking one (`init_source`, `run_order`).
"""

import time
from dataclasses import dataclass, field, replace

import numpy as np
from nengo.exceptions import ValidationError

STREAMED = ("lmuformer", "spiking_lmuformer")


@dataclass
class ModelRun:
    """One model trained with one seed."""

    model: str
    seed: int
    test_accuracy: float
    params: int
    macs: float
    acs: float
    train_seconds: float
    epoch_seconds: float
    lookahead: int
    #: accuracy at every frame from the streaming network (causal LMUFormers)
    frame_accuracy: np.ndarray = field(default=None, repr=False)
    #: largest ``|streamed - parallel|`` per-frame score
    stream_error: float = float("nan")
    frames_to_99: int = -1
    #: accuracy on the far held-out split (unseen voices at rates and
    #: pitches outside the training ranges; NaN when the data have none)
    far_accuracy: float = float("nan")
    #: where the model started: "scratch", or the model whose trained
    #: weights it took (`nengo_lmu.dl.lmuformer_weights.init_spiking_from`)
    init: str = "scratch"
    #: epochs it was trained for (from ``init``)
    epochs: int = 0
    #: test accuracy just after ``init``, before any training of its own
    #: (NaN when it started from scratch)
    init_accuracy: float = float("nan")


def frames_to_fraction(frame_accuracy, fraction=0.99):
    """First frame (1-based count) from which accuracy stays >= ``fraction``
    of the final frame's accuracy."""
    acc = np.asarray(frame_accuracy)
    ok = acc >= fraction * acc[-1]
    bad = np.flatnonzero(~ok)
    return int(bad[-1] + 2) if len(bad) else 1


def _lmu_model(n_frames, n_inputs, n_classes, units, order, memory_d, seed):
    from nengo_lmu.dl import LMULayer  # pylint: disable=import-outside-toplevel
    from nengo_lmu.dl.compat import keras  # pylint: disable=import-outside-toplevel

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((n_frames, n_inputs)),
            LMULayer(
                units=units,
                order=order,
                theta=n_frames,
                memory_d=memory_d,
                hidden_to_hidden=True,
                seed=seed,
            ),
            keras.layers.Dense(n_classes),
        ]
    )


def _lstm_model(n_frames, n_inputs, n_classes, units, seed):
    from nengo_lmu.dl.compat import keras  # pylint: disable=import-outside-toplevel

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((n_frames, n_inputs)),
            keras.layers.LSTM(units),
            keras.layers.Dense(n_classes),
        ]
    )


def _units_for(make, target):
    """The width whose model has the parameter count closest to ``target``."""
    best = None
    for units in range(4, 400, 4):
        n = make(units).count_params()
        if best is None or abs(n - target) < abs(best[1] - target):
            best = (units, n)
        if n > target:
            break
    return best[0]


def _former(name, seed, p, s):
    from nengo_lmu.dl.lmuformer import PAPER_LOOKAHEAD, lmuformer  # pylint: disable=C0415

    return lmuformer(
        p.n_mels,
        p.n_classes,
        dim=s.dim,
        theta=p.n_frames,
        spiking=name.startswith("spiking"),
        lookahead=PAPER_LOOKAHEAD if name.endswith("la5") else 0,
        n_frames=p.n_frames,
        surrogate_alpha=s.surrogate_alpha,
        seed=seed,
    )


def match_sizes(p, s):
    """Widths of the plain LMU and the LSTM with the LMUFormer's parameter count."""
    target = _former("lmuformer", 0, p, s).count_params()
    p.lmu_units = _units_for(
        lambda u: _lmu_model(p.n_frames, p.n_mels, p.n_classes, u, s.lmu_order, s.lmu_memory_d, 0),
        target,
    )
    p.lstm_units = _units_for(
        lambda u: _lstm_model(p.n_frames, p.n_mels, p.n_classes, u, 0), target
    )


def _build(name, seed, p, s):
    """``(model, train_model)``: the model and what is trained (the last
    frame's scores of an LMUFormer), compiled."""
    from nengo_lmu.dl.lmuformer import final_scores_model  # pylint: disable=C0415

    if name == "lmu":
        model = train_model = _lmu_model(
            p.n_frames, p.n_mels, p.n_classes, p.lmu_units, s.lmu_order, s.lmu_memory_d, seed
        )
    elif name == "lstm":
        model = train_model = _lstm_model(p.n_frames, p.n_mels, p.n_classes, p.lstm_units, seed)
    else:
        model = _former(name, seed, p, s)
        train_model = final_scores_model(model)
    return model, train_model


def _compile(train_model, p, s, augmenting):
    from nengo_lmu.dl.compat import keras  # pylint: disable=import-outside-toplevel

    steps = int(np.ceil(len(p.x_tr) / s.batch_size)) * s.epochs
    schedule = keras.optimizers.schedules.CosineDecay(s.learning_rate, steps)
    loss = (
        keras.losses.CategoricalCrossentropy(from_logits=True)
        if augmenting
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    train_model.compile(keras.optimizers.Adam(schedule), loss, metrics=["accuracy"])


def _train(train_model, seed, p, s, augmentation, verbose):
    """Train; returns the seconds it took."""
    augmenting = augmentation is not None and augmentation.active
    _compile(train_model, p, s, augmenting)
    t0 = time.perf_counter()
    if augmenting:
        _fit_augmented(
            train_model,
            p.data["x_train"],
            p.data["y_train"],
            (p.mean, p.std),
            p.n_classes,
            augmentation,
            np.random.RandomState([s.augment_seed, seed]),
            s.batch_size,
            s.epochs,
            verbose,
        )
    else:
        train_model.fit(
            p.x_tr,
            p.data["y_train"],
            batch_size=s.batch_size,
            epochs=s.epochs,
            verbose=verbose,
            shuffle=True,
        )
    return time.perf_counter() - t0


def _accuracy(train_model, x, y):
    logits = train_model.predict(x, batch_size=256, verbose=0)
    if not np.all(np.isfinite(logits)):
        raise ValidationError("training diverged (NaN scores); lower it", attr="learning_rate")
    return float(np.mean(np.argmax(logits, -1) == y))


def _count_operations(run, model, p, s):
    """MACs (and the spiking models' ACs) per clip."""
    from nengo_lmu.dl.lmuformer import operation_counts  # pylint: disable=C0415

    if run.model not in ("lmu", "lstm"):
        ops = operation_counts(model, p.x_te[:256])
        run.macs, run.acs = ops["macs"], ops["acs"]
    elif run.model == "lmu":
        # per frame: encoders, memory steps, hidden from x, h and m; the readout once
        q, d, units = s.lmu_order, s.lmu_memory_d, p.lmu_units
        run.macs = float(
            p.n_frames * (d * p.n_mels + d * (q * q + q) + units * (p.n_mels + units + d * q))
            + units * p.n_classes
        )
    else:
        units = p.lstm_units
        run.macs = float(p.n_frames * 4 * units * (p.n_mels + units) + units * p.n_classes)


def _stream(run, model, p, s):
    """Run a causal LMUFormer frame by frame as a nengo network; score it.

    NengoDL runs it on the locked stack (a minibatch at a time, in
    ``stream_dtype``), ``nengo.Simulator`` on Keras 3 (one clip at a time,
    float64).
    """
    from nengo_lmu.dl.compat import KERAS3  # pylint: disable=C0415
    from nengo_lmu.dl.lmuformer_weights import with_dtype  # pylint: disable=C0415
    from nengo_lmu.dl.streaming import run_streaming, streaming_network  # pylint: disable=C0415

    n = p.stream_clips
    ref = model if s.stream_dtype == "float32" else with_dtype(model, s.stream_dtype)
    backend = "nengo" if KERAS3 else "nengo_dl"
    streamed = run_streaming(
        streaming_network(ref),
        p.x_te[:n],
        backend=backend,
        minibatch_size=min(100, n),
        dtype=s.stream_dtype,
    )
    parallel = ref.predict(p.x_te[:n], batch_size=256, verbose=0)
    run.stream_error = float(np.abs(streamed - parallel).max())
    run.frame_accuracy = np.mean(np.argmax(streamed, -1) == p.data["y_test"][:n, None], axis=0)
    run.frames_to_99 = frames_to_fraction(run.frame_accuracy)


def init_source(name, s):
    """The model whose trained weights the model ``name`` starts from, or None."""
    if s.spiking_init == "lmuformer" and name.startswith("spiking_"):
        return name[len("spiking_") :]
    return None


def run_order(models, s):
    """``models`` with the models the spiking ones start from put before them
    (added where ``models`` lacks them)."""
    order = []
    for name in models:
        source = init_source(name, s)
        if source is not None and source not in order:
            order.append(source)
        if name not in order:
            order.append(name)
    return tuple(order)


def run_model(name, seed, p, s, augmentation, verbose, source=None):
    """Train, score and stream one model with one seed: ``(ModelRun, model)``.

    ``source``: a trained non-spiking LMUFormer that the spiking model
    ``name`` starts from (then trained for ``s.finetune_epochs``).
    """
    from nengo_lmu.dl.lmuformer import PAPER_LOOKAHEAD  # pylint: disable=C0415
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from  # pylint: disable=C0415

    model, train_model = _build(name, seed, p, s)
    init, init_accuracy = "scratch", float("nan")
    if source is not None:
        init_spiking_from(model, source)
        init = init_source(name, s)
        init_accuracy = _accuracy(train_model, p.x_te, p.data["y_test"])
        if s.finetune_epochs is not None:
            s = replace(s, epochs=s.finetune_epochs)
    seconds = _train(train_model, seed, p, s, augmentation, verbose)
    run = ModelRun(
        model=name,
        seed=seed,
        test_accuracy=_accuracy(train_model, p.x_te, p.data["y_test"]),
        params=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        macs=float("nan"),
        acs=0.0,
        train_seconds=seconds,
        epoch_seconds=seconds / s.epochs,
        lookahead=PAPER_LOOKAHEAD if name.endswith("la5") else 0,
        init=init,
        epochs=s.epochs,
        init_accuracy=init_accuracy,
    )
    if p.has_far:
        run.far_accuracy = _accuracy(train_model, p.x_far, p.data["y_far"])
    _count_operations(run, model, p, s)
    if name in STREAMED and p.stream_clips > 0:
        _stream(run, model, p, s)
    return run, model


def _fit_augmented(
    model, x_raw, y, stats, n_classes, augmentation, rng, batch_size, epochs, verbose
):
    """Train one epoch at a time on freshly augmented raw features."""
    from nengo_lmu.apps.augment import augmented_batches  # pylint: disable=import-outside-toplevel

    mean, std = stats
    for epoch in range(epochs):
        batches = list(augmented_batches(x_raw, y, n_classes, augmentation, batch_size, rng))
        x_aug = ((np.concatenate([b[0] for b in batches]) - mean) / std).astype(np.float32)
        y_aug = np.concatenate([b[1] for b in batches])
        # the batches are already shuffled (and mixup pairs lie within them)
        model.fit(
            x_aug,
            y_aug,
            batch_size=batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            verbose=verbose,
            shuffle=False,
        )


__all__ = [
    "STREAMED",
    "ModelRun",
    "frames_to_fraction",
    "match_sizes",
    "init_source",
    "run_order",
    "run_model",
]
