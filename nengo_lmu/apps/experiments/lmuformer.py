"""LMUFormer against the plain LMU and an LSTM on synthesised spoken keywords.

`compare_lmuformer` trains, on the same data and in the same run:

- LMUFormer and spiking LMUFormer, causal (``lookahead=0``) and with the
  published look-ahead (``lookahead=5``),
- the plain LMU classifier (`nengo_lmu.dl.LMULayer` and a dense readout),
- a Keras LSTM of about the same parameter count,

scores each on the clips of the held-out voices, and runs the causal
LMUFormers frame by frame as Nengo networks (`.streaming_network`) to
measure accuracy against frames seen. Each model is trained on the last
frame's scores (for the LMUFormers: the mean of the features over the whole
clip, as in the published training).

It runs on Keras 3 (JAX, PyTorch or TensorFlow backend; the networks then
run in ``nengo.Simulator``, one clip at a time) and on the locked stack's
tf.keras 2.12 (where NengoDL runs the networks, a minibatch at a time).
The settings, with their defaults, are `.LMUFormerSettings`.
"""

import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import (
    LMUFORMER_MODELS,
    SPIKING_INITS,
    LMUFormerSettings,
    resolve,
)
from nengo_lmu.info import MissingExtraError
from nengo_lmu.tables import format_table
from nengo_lmu.validation import check_choice, check_int, check_positive

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
    #: weights it took (`nengo_lmu.dl.lmuformer.init_spiking_from`)
    init: str = "scratch"
    #: epochs it was trained for (from ``init``)
    epochs: int = 0
    #: test accuracy just after ``init``, before any training of its own
    #: (NaN when it started from scratch)
    init_accuracy: float = float("nan")


@dataclass
class LMUFormerComparison(ExperimentResult):
    """What `compare_lmuformer` returns."""

    runs: list
    settings: dict
    n_train: int
    n_test: int
    n_frames: int
    seconds: float
    keras_models: dict = field(default_factory=dict, repr=False)

    def by_model(self):
        """``{model: [ModelRun, ...]}`` in `.LMUFORMER_MODELS` order."""
        out = {}
        for name in LMUFORMER_MODELS:
            runs = [r for r in self.runs if r.model == name]
            if runs:
                out[name] = runs
        return out

    def table(self):
        """The mean and spread over seeds of each model (`rows`) as text."""
        return format_table(*self.rows())

    def report_sections(self):
        sizes = (
            f"{self.n_train} training clips, {self.n_test} test clips of unseen "
            f"voices, {self.settings['n_far']} 'far' clips (unseen voices at rates and "
            f"pitches outside training's), {self.n_frames} frames each; "
            f"{self.seconds:.0f} s in all."
        )
        return [self.table(), sizes]

    def rows(self):
        """``(headers, rows)``: mean and spread over seeds per model."""
        headers = [
            "model",
            "lookahead",
            "init",
            "epochs",
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
                    runs[0].init,
                    runs[0].epochs,
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


def _require_keras():
    """Import the Keras side, or say what the LMUFormer needs: Keras 3 (the
    ``keras`` extra) or tf.keras 2.12 (the ``dl`` extra, Python <= 3.11)."""
    try:
        import nengo_lmu.dl  # noqa: F401  pylint: disable=import-outside-toplevel
    except MissingExtraError as e:
        raise MissingExtraError(f"The LMUFormer comparison: {e}") from e


def _standardise(data):
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    return ((data["x_train"] - mean) / std).astype(np.float32), (
        (data["x_test"] - mean) / std
    ).astype(np.float32)


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


@dataclass
class _Prepared:
    """The data of one comparison, standardised, and the matched sizes."""

    data: dict
    x_tr: np.ndarray
    x_te: np.ndarray
    x_far: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_classes: int
    n_frames: int
    n_mels: int
    stream_clips: int
    lmu_units: int = 0
    lstm_units: int = 0

    @property
    def has_far(self):
        return self.x_far is not None


def _check_settings(s):
    """The checked models and seeds of the settings ``s``."""
    models = tuple(s.models)
    unknown = [m for m in models if m not in LMUFORMER_MODELS]
    if unknown or not models:
        raise ValidationError(
            f"must be a non-empty list of {LMUFORMER_MODELS}, got unknown {unknown}",
            attr="models",
        )
    check_choice("stream_dtype", s.stream_dtype, ("float32", "float64"))
    check_int("epochs", s.epochs)
    check_choice("spiking_init", s.spiking_init, SPIKING_INITS)
    if s.finetune_epochs is not None:
        check_int("finetune_epochs", s.finetune_epochs)
    check_int("batch_size", s.batch_size)
    check_positive("learning_rate", s.learning_rate)
    check_positive("surrogate_alpha", s.surrogate_alpha)
    seeds = [check_int("seeds", seed, minimum=0) for seed in s.seeds]
    if not seeds:
        raise ValidationError("must hold at least one seed", attr="seeds")
    return models, seeds


def _keyword_list(keywords):
    """Keywords given as one comma-separated text (the command line) or a sequence."""
    if isinstance(keywords, str):
        return [k.strip() for k in keywords.split(",") if k.strip()]
    return keywords


def _prepare(data, s):
    """Standardise the features (by the training split's statistics)."""
    if data is None:
        from nengo_lmu.apps.speech import spoken_keywords  # pylint: disable=C0415

        data = spoken_keywords(
            _keyword_list(s.keywords),
            n_train=s.n_train,
            n_test=s.n_test,
            n_mels=s.n_mels,
            cache_dir=s.cache_dir,
        )
    x_tr, x_te = _standardise(data)
    mean = data["x_train"].mean(axis=(0, 1))
    std = data["x_train"].std(axis=(0, 1)) + 1e-6
    has_far = len(data.get("x_far", ())) > 0
    x_far = ((data["x_far"] - mean) / std).astype(np.float32) if has_far else None
    n_test = len(x_te)
    return _Prepared(
        data=data,
        x_tr=x_tr,
        x_te=x_te,
        x_far=x_far,
        mean=mean,
        std=std,
        n_classes=len(data["keywords"]),
        n_frames=x_tr.shape[1],
        n_mels=data["x_train"].shape[-1],
        stream_clips=n_test if s.stream_clips is None else min(s.stream_clips, n_test),
    )


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


def _match_sizes(p, s):
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
    from nengo_lmu.dl.lmuformer import with_dtype  # pylint: disable=C0415
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


def _run_one(name, seed, p, s, augmentation, verbose, source=None):
    """Train, score and stream one model with one seed: ``(ModelRun, model)``.

    ``source``: a trained non-spiking LMUFormer that the spiking model
    ``name`` starts from (then trained for ``s.finetune_epochs``).
    """
    from nengo_lmu.dl.lmuformer import (  # pylint: disable=C0415
        PAPER_LOOKAHEAD,
        init_spiking_from,
    )

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


def _settings_record(p, s, seeds, augmentation):
    """The settings as `LMUFormerComparison.settings` records them."""
    return dict(
        keywords=list(p.data["keywords"]),
        n_mels=p.n_mels,
        dim=s.dim,
        epochs=s.epochs,
        seeds=seeds,
        batch_size=s.batch_size,
        learning_rate=s.learning_rate,
        lmu_units=p.lmu_units,
        lmu_order=s.lmu_order,
        lmu_memory_d=s.lmu_memory_d,
        lstm_units=p.lstm_units,
        stream_clips=p.stream_clips,
        stream_dtype=s.stream_dtype,
        test_variants=list(p.data["test_variants"]),
        augmentation="none" if augmentation is None else augmentation.describe(),
        augment_seed=s.augment_seed,
        spiking_init=s.spiking_init,
        surrogate_alpha=s.surrogate_alpha,
        finetune_epochs=s.epochs if s.finetune_epochs is None else s.finetune_epochs,
        n_far=int(len(p.x_far)) if p.has_far else 0,
    )


def compare_lmuformer(
    settings=None,
    data=None,
    augmentation=None,
    progress=None,
    verbose=0,
    keep_models=False,
    **kwargs,
):
    """Train every model of ``settings.models`` on synthesised keywords and score them.

    Parameters
    ----------
    settings : LMUFormerSettings, optional
        The settings (default `.LMUFormerSettings`, which documents each);
        its fields may also be given as keywords
        (``compare_lmuformer(epochs=1)``), which replace them: ``keywords``,
        ``n_train``, ``n_test``, ``n_mels`` and ``cache_dir`` (the data),
        ``dim`` (LMUFormer width), ``epochs``, ``seeds`` (one training run
        per model and seed, on the same data), ``models``, ``batch_size``,
        ``learning_rate`` (Adam, cosine decay to 0), ``lmu_order`` and
        ``lmu_memory_d`` (the plain LMU, whose hidden units, like the
        LSTM's, are matched to the LMUFormer's parameter count), ``augment``
        (a name of `nengo_lmu.apps.augment.PRESETS`) and ``augment_seed``,
        ``stream_clips`` (test clips run frame by frame through the
        streaming network; None: all, 0: none) and ``stream_dtype`` (its
        precision and that of the parallel model it is compared with: in
        float32 a spiking network can differ by a spike where a potential
        sits within rounding of the threshold). ``out`` is the command's.
    data : dict, optional
        A data set as `nengo_lmu.apps.speech.spoken_keywords` returns it
        (then ``keywords``, ``n_train``, ``n_test`` and ``n_mels`` are not
        used); models are also scored on its ``x_far`` split if it has one.
    augmentation : nengo_lmu.apps.augment.Augmentation, optional
        Augment the (raw log-mel) training features anew every epoch, batch
        by batch (`nengo_lmu.apps.augment.augmented_batches`), before
        standardising them; trained on the soft labels (mixup). Default:
        the preset named by ``settings.augment``.
    progress : callable, optional
        Called as ``progress(done, total, label)`` after each training run.
    verbose : int
        Keras verbosity.
    keep_models : bool
        Keep the last seed's Keras models in ``keras_models``.

    Returns
    -------
    LMUFormerComparison
    """
    s = resolve(LMUFormerSettings, settings, kwargs)
    _require_keras()
    models, seeds = _check_settings(s)
    if s.stream_dtype == "float64":
        # before any model is built (JAX computes float32 unless enabled;
        # what is made before enabling it stays float32)
        from nengo_lmu.dl.compat import enable_float64  # pylint: disable=C0415

        enable_float64()
    if augmentation is None and s.augment != "none":
        from nengo_lmu.apps.augment import PRESETS  # pylint: disable=C0415

        augmentation = PRESETS[check_choice("augment", s.augment, tuple(PRESETS))]
    t_start = time.perf_counter()
    p = _prepare(data, s)
    _match_sizes(p, s)
    runs, kept = [], {}
    order = run_order(models, s)
    total = len(order) * len(seeds)
    for seed in seeds:
        trained = {}
        for name in order:
            source = trained.get(init_source(name, s))
            run, model = _run_one(name, seed, p, s, augmentation, verbose, source=source)
            runs.append(run)
            trained[name] = model
            if keep_models:
                kept[name] = model
            if progress is not None:
                progress(len(runs), total, f"{name} seed {seed}: {run.test_accuracy:.3f}")
    return LMUFormerComparison(
        runs=runs,
        settings=_settings_record(p, s, seeds, augmentation),
        n_train=len(p.x_tr),
        n_test=len(p.x_te),
        n_frames=p.n_frames,
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
    "ModelRun",
    "LMUFormerComparison",
    "compare_lmuformer",
    "frames_to_fraction",
    "init_source",
    "run_order",
    "plot_frame_accuracy",
]
