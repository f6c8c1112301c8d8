"""LMUFormer against the plain LMU and an LSTM on synthesised spoken keywords.

`compare_lmuformer` trains, on the same data and in the same run:

- LMUFormer and spiking LMUFormer, causal (``lookahead=0``) and with the
  published look-ahead (``lookahead=5``),
- the plain LMU classifier (`nengo_lmu.dl.LMULayer` and a dense readout),
- a Keras LSTM of about the same parameter count,

scores each on the clips of the held-out voices, and runs the causal
LMUFormers frame by frame as Nengo networks (`.streaming_network` in
NengoDL) to measure accuracy against frames seen. Each model is trained on
the last frame's scores (for the LMUFormers: the mean of the features over
the whole clip, as in the published training).
"""

import time
from dataclasses import asdict, dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.info import require_extra
from nengo_lmu.validation import check_choice, check_int, check_positive

#: The models `compare_lmuformer` can train, by name.
MODELS = (
    "lmuformer",
    "lmuformer_la5",
    "spiking_lmuformer",
    "spiking_lmuformer_la5",
    "lmu",
    "lstm",
)
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


@dataclass
class LMUFormerComparison:
    """What `compare_lmuformer` returns."""

    runs: list
    settings: dict
    n_train: int
    n_test: int
    n_frames: int
    seconds: float
    keras_models: dict = field(default_factory=dict, repr=False)

    def by_model(self):
        """``{model: [ModelRun, ...]}`` in `MODELS` order."""
        out = {}
        for name in MODELS:
            runs = [r for r in self.runs if r.model == name]
            if runs:
                out[name] = runs
        return out

    def table(self):
        """``(headers, rows)``: mean and spread over seeds per model."""
        headers = [
            "model",
            "lookahead",
            "seeds",
            "test acc (mean)",
            "min",
            "max",
            "far acc (mean)",
            "params",
            "MACs/clip",
            "ACs/clip",
            "train s/epoch",
            "frames to 99%",
        ]
        rows = []
        for name, runs in self.by_model().items():
            acc = np.array([r.test_accuracy for r in runs])
            f99 = [r.frames_to_99 for r in runs if r.frames_to_99 >= 0]
            rows.append(
                [
                    name,
                    runs[0].lookahead,
                    len(runs),
                    float(acc.mean()),
                    float(acc.min()),
                    float(acc.max()),
                    float(np.mean([r.far_accuracy for r in runs])),
                    runs[0].params,
                    float(np.mean([r.macs for r in runs])),
                    float(np.mean([r.acs for r in runs])),
                    float(np.mean([r.epoch_seconds for r in runs])),
                    "-" if not f99 else "/".join(str(f) for f in f99),
                ]
            )
        return headers, rows

    def to_dict(self):
        """JSON-ready (arrays as lists; no Keras models)."""
        runs = []
        for r in self.runs:
            d = asdict(r)
            if d["frame_accuracy"] is not None:
                d["frame_accuracy"] = [float(v) for v in d["frame_accuracy"]]
            runs.append(d)
        return dict(
            runs=runs,
            settings=self.settings,
            n_train=self.n_train,
            n_test=self.n_test,
            n_frames=self.n_frames,
            seconds=self.seconds,
        )


def frames_to_fraction(frame_accuracy, fraction=0.99):
    """First frame (1-based count) from which accuracy stays >= ``fraction``
    of the final frame's accuracy."""
    acc = np.asarray(frame_accuracy)
    ok = acc >= fraction * acc[-1]
    bad = np.flatnonzero(~ok)
    return int(bad[-1] + 2) if len(bad) else 1


def _standardise(data):
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    return ((data["x_train"] - mean) / std).astype(np.float32), (
        (data["x_test"] - mean) / std
    ).astype(np.float32)


def _lmu_model(n_frames, n_inputs, n_classes, units, order, memory_d, seed):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.dl import LMULayer  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential(
        [
            tf.keras.Input((n_frames, n_inputs)),
            LMULayer(
                units=units,
                order=order,
                theta=n_frames,
                memory_d=memory_d,
                hidden_to_hidden=True,
                seed=seed,
            ),
            tf.keras.layers.Dense(n_classes),
        ]
    )


def _lstm_model(n_frames, n_inputs, n_classes, units, seed):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential(
        [
            tf.keras.Input((n_frames, n_inputs)),
            tf.keras.layers.LSTM(units),
            tf.keras.layers.Dense(n_classes),
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


def compare_lmuformer(
    keywords=None,
    n_train=40,
    n_test=12,
    n_mels=20,
    dim=32,
    epochs=30,
    seeds=(0, 1, 2),
    models=MODELS,
    batch_size=64,
    learning_rate=3e-3,
    lmu_order=32,
    lmu_memory_d=8,
    stream_clips=None,
    cache_dir=None,
    progress=None,
    verbose=0,
    keep_models=False,
    stream_dtype="float32",
    data=None,
    augmentation=None,
    augment_seed=0,
):
    """Train every model of `MODELS` on synthesised keywords and score them.

    Parameters
    ----------
    keywords : sequence of str, optional
        Speech Commands words (all 35 by default).
    n_train, n_test : int
        Clips per keyword (the test clips use unseen voices).
    n_mels : int
        Mel bins (features per frame).
    dim : int
        LMUFormer width (memory order ``dim``, ``2 * dim`` spiking).
    epochs : int
    seeds : sequence of int
        One training run per model and seed (the data are the same).
    models : sequence of str
        Which of `MODELS` to train.
    batch_size : int
    learning_rate : float
        Adam's learning rate, with cosine decay to 0 over the epochs.
    lmu_order, lmu_memory_d : int
        Memory order and number of memories (``u`` channels) of the plain LMU
        (tanh hidden units with a hidden-to-hidden recurrence; their number is
        matched to the LMUFormer's parameter count, as is the LSTM's width).
    stream_clips : int, optional
        Test clips run frame by frame through the streaming network (all by
        default; 0 for no streaming run).
    cache_dir : str, optional
        Cache of the generated data (`nengo_lmu.apps.speech.spoken_keywords`).
    progress : callable, optional
        Called as ``progress(done, total, label)`` after each training run.
    verbose : int
        Keras verbosity.
    keep_models : bool
        Keep the last seed's Keras models in ``keras_models``.
    stream_dtype : "float32" or "float64"
        Precision of the streaming run (NengoDL) and of the parallel model it
        is compared with (a float64 copy of the trained weights). In float32
        a spiking network can differ from the parallel model by a spike where
        a potential sits within rounding of the threshold.
    data : dict, optional
        A data set as `nengo_lmu.apps.speech.spoken_keywords` returns it
        (then ``keywords``, ``n_train``, ``n_test`` and ``n_mels`` are not
        used); models are also scored on its ``x_far`` split if it has one.
    augmentation : nengo_lmu.apps.augment.Augmentation, optional
        Augment the (raw log-mel) training features anew every epoch, batch
        by batch (`nengo_lmu.apps.augment.augmented_batches`), before
        standardising them; trained on the soft labels (mixup).
    augment_seed : int
        Seeds the augmentation (with the model's seed).

    Returns
    -------
    LMUFormerComparison
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from nengo_lmu.apps.speech import spoken_keywords  # pylint: disable=import-outside-toplevel

    require_extra("dl", "LMUFormer")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl.lmuformer import (  # pylint: disable=import-outside-toplevel
        PAPER_LOOKAHEAD,
        final_scores_model,
        lmuformer,
        operation_counts,
        with_dtype,
    )
    from nengo_lmu.dl.streaming import (  # pylint: disable=import-outside-toplevel
        run_streaming,
        streaming_network,
    )

    models = tuple(models)
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ValidationError(
            f"must be a non-empty list of {MODELS}, got unknown {unknown}", attr="models"
        )
    check_choice("stream_dtype", stream_dtype, ("float32", "float64"))
    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    learning_rate = check_positive("learning_rate", learning_rate)
    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValidationError("must hold at least one seed", attr="seeds")
    t_start = time.perf_counter()
    if data is None:
        data = spoken_keywords(
            keywords, n_train=n_train, n_test=n_test, n_mels=n_mels, cache_dir=cache_dir
        )
    n_mels = data["x_train"].shape[-1]
    x_tr, x_te = _standardise(data)
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    has_far = len(data.get("x_far", ())) > 0
    x_far = ((data["x_far"] - mean) / std).astype(np.float32) if has_far else None
    augmenting = augmentation is not None and augmentation.active
    y_tr, y_te = data["y_train"], data["y_test"]
    n_classes = len(data["keywords"])
    n_frames = x_tr.shape[1]
    stream_clips = len(x_te) if stream_clips is None else min(stream_clips, len(x_te))

    def former(name, seed):
        return lmuformer(
            n_mels,
            n_classes,
            dim=dim,
            theta=n_frames,
            spiking=name.startswith("spiking"),
            lookahead=PAPER_LOOKAHEAD if name.endswith("la5") else 0,
            n_frames=n_frames,
            seed=seed,
        )

    target = former("lmuformer", 0).count_params()
    lmu_units = _units_for(
        lambda u: _lmu_model(n_frames, n_mels, n_classes, u, lmu_order, lmu_memory_d, 0), target
    )
    lstm_units = _units_for(lambda u: _lstm_model(n_frames, n_mels, n_classes, u, 0), target)
    steps = int(np.ceil(len(x_tr) / batch_size)) * epochs
    runs, kept = [], {}
    total = len(models) * len(seeds)
    for seed in seeds:
        for name in models:
            if name == "lmu":
                model = train_model = _lmu_model(
                    n_frames, n_mels, n_classes, lmu_units, lmu_order, lmu_memory_d, seed
                )
            elif name == "lstm":
                model = train_model = _lstm_model(n_frames, n_mels, n_classes, lstm_units, seed)
            else:
                model = former(name, seed)
                train_model = final_scores_model(model)
            schedule = tf.keras.optimizers.schedules.CosineDecay(learning_rate, steps)
            loss = (
                tf.keras.losses.CategoricalCrossentropy(from_logits=True)
                if augmenting
                else tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            )
            train_model.compile(tf.keras.optimizers.Adam(schedule), loss, metrics=["accuracy"])
            t0 = time.perf_counter()
            if augmenting:
                _fit_augmented(
                    train_model,
                    data["x_train"],
                    y_tr,
                    (mean, std),
                    n_classes,
                    augmentation,
                    np.random.RandomState([augment_seed, seed]),
                    batch_size,
                    epochs,
                    verbose,
                )
            else:
                train_model.fit(
                    x_tr, y_tr, batch_size=batch_size, epochs=epochs, verbose=verbose, shuffle=True
                )
            seconds = time.perf_counter() - t0
            logits = train_model.predict(x_te, batch_size=256, verbose=0)
            if not np.all(np.isfinite(logits)):
                raise ValidationError(
                    "training diverged (NaN scores); lower it", attr="learning_rate"
                )
            acc = float(np.mean(np.argmax(logits, -1) == y_te))
            run = ModelRun(
                model=name,
                seed=seed,
                test_accuracy=acc,
                params=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
                macs=float("nan"),
                acs=0.0,
                train_seconds=seconds,
                epoch_seconds=seconds / epochs,
                lookahead=PAPER_LOOKAHEAD if name.endswith("la5") else 0,
            )
            if has_far:
                far_logits = train_model.predict(x_far, batch_size=256, verbose=0)
                run.far_accuracy = float(np.mean(np.argmax(far_logits, -1) == data["y_far"]))
            if name not in ("lmu", "lstm"):
                ops = operation_counts(model, x_te[:256])
                run.macs, run.acs = ops["macs"], ops["acs"]
            elif name == "lmu":
                # per frame: encoders, memory steps, hidden from x, h and m;
                # the readout once
                q, d = lmu_order, lmu_memory_d
                run.macs = float(
                    n_frames
                    * (d * n_mels + d * (q * q + q) + lmu_units * (n_mels + lmu_units + d * q))
                    + lmu_units * n_classes
                )
            else:
                run.macs = float(
                    n_frames * 4 * lstm_units * (n_mels + lstm_units) + lstm_units * n_classes
                )
            if name in STREAMED and stream_clips > 0:
                ref = model if stream_dtype == "float32" else with_dtype(model, stream_dtype)
                net = streaming_network(ref)
                streamed = run_streaming(
                    net,
                    x_te[:stream_clips],
                    backend="nengo_dl",
                    minibatch_size=min(100, stream_clips),
                    dtype=stream_dtype,
                )
                parallel = ref.predict(x_te[:stream_clips], batch_size=256, verbose=0)
                run.stream_error = float(np.abs(streamed - parallel).max())
                run.frame_accuracy = np.mean(
                    np.argmax(streamed, -1) == y_te[:stream_clips, None], axis=0
                )
                run.frames_to_99 = frames_to_fraction(run.frame_accuracy)
            runs.append(run)
            if keep_models:
                kept[name] = model
            if progress is not None:
                progress(len(runs), total, f"{name} seed {seed}: {acc:.3f}")
    settings = dict(
        keywords=list(data["keywords"]),
        n_mels=n_mels,
        dim=dim,
        epochs=epochs,
        seeds=seeds,
        batch_size=batch_size,
        learning_rate=learning_rate,
        lmu_units=lmu_units,
        lmu_order=lmu_order,
        lmu_memory_d=lmu_memory_d,
        lstm_units=lstm_units,
        stream_clips=stream_clips,
        stream_dtype=stream_dtype,
        test_variants=list(data["test_variants"]),
        augmentation="none" if augmentation is None else augmentation.describe(),
        augment_seed=augment_seed,
        n_far=int(len(x_far)) if has_far else 0,
    )
    return LMUFormerComparison(
        runs=runs,
        settings=settings,
        n_train=len(x_tr),
        n_test=len(x_te),
        n_frames=n_frames,
        seconds=time.perf_counter() - t_start,
        keras_models=kept,
    )


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


def plot_frame_accuracy(result, path=None, ax=None):
    """Accuracy against frames seen (streaming networks), one line per seed."""
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in zip(STREAMED, ("C0", "C1")):
        runs = [r for r in result.runs if r.model == name and r.frame_accuracy is not None]
        for i, r in enumerate(runs):
            frames = np.arange(1, len(r.frame_accuracy) + 1)
            ax.plot(
                frames,
                r.frame_accuracy,
                color=style,
                alpha=0.8,
                label=f"{name} (streamed)" if i == 0 else None,
            )
            ax.axvline(r.frames_to_99, color=style, ls=":", lw=1)
    ax.set_xlabel("frames seen (10 ms each)")
    ax.set_ylabel("test accuracy (unseen voices)")
    ax.set_title("Early decisions; dotted: 99% of final accuracy")
    ax.legend(loc="lower right")
    if own and path is not None:
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
    return ax


__all__ = [
    "MODELS",
    "ModelRun",
    "LMUFormerComparison",
    "compare_lmuformer",
    "frames_to_fraction",
    "plot_frame_accuracy",
]
