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

import os
import time
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.apps.experiments.lmuformer_runs import (
    STREAMED,
    init_source,
    match_sizes,
    read_run,
    run_model,
    run_order,
)
from nengo_lmu.apps.experiments.outputs import check_output_folder
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
        return dict(
            runs=[r.to_dict() for r in self.runs],
            settings=self.settings,
            n_train=self.n_train,
            n_test=self.n_test,
            n_frames=self.n_frames,
            seconds=self.seconds,
        )


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
    resume=False,
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
        ``checkpoint``: a folder where each model and seed trains in its own
        sub-folder (`run_folder`), with a checkpoint every epoch
        (`nengo_lmu.dl.lmuformer_training.train_lmuformer`).
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
    resume : bool
        Continue the comparison in ``settings.checkpoint``: an interrupted
        run continues from its newest checkpoint, and a finished run is read
        back (its `ModelRun` and trained weights) instead of trained again.
        Without it, a sub-folder that holds a run is refused.

    Returns
    -------
    LMUFormerComparison
    """
    s = resolve(LMUFormerSettings, settings, kwargs)
    _require_keras()
    models, seeds = _check_settings(s)
    _check_checkpoint(s, resume)
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
    match_sizes(p, s)
    runs, kept = [], {}
    order = run_order(models, s)
    total = len(order) * len(seeds)
    for seed in seeds:
        trained = {}
        for name in order:
            source = trained.get(init_source(name, s))
            folder = run_folder(s.checkpoint, name, seed)
            read_back = resume and folder is not None and read_run(folder) is not None
            run, model = run_model(name, seed, p, s, augmentation, verbose, source, folder, resume)
            runs.append(run)
            trained[name] = model
            if keep_models:
                kept[name] = model
            if progress is not None:
                label = f"{name} seed {seed}: {run.test_accuracy:.3f}"
                progress(len(runs), total, label + (" (read back)" if read_back else ""))
    return LMUFormerComparison(
        runs=runs,
        settings=_settings_record(p, s, seeds, augmentation),
        n_train=len(p.x_tr),
        n_test=len(p.x_te),
        n_frames=p.n_frames,
        seconds=time.perf_counter() - t_start,
        keras_models=kept,
    )


def run_folder(checkpoint, name, seed):
    """The checkpoint folder of the model ``name`` trained with ``seed`` (None
    without a ``checkpoint`` folder)."""
    return None if checkpoint is None else os.path.join(checkpoint, f"{name}-seed{seed}")


def _check_checkpoint(s, resume):
    if not isinstance(resume, bool):
        raise ValidationError(f"must be True or False, got {resume!r}", attr="resume")
    if s.checkpoint is None:
        if resume:
            raise ValidationError("needs a checkpoint folder (the comparison's)", attr="resume")
        return
    check_output_folder(s.checkpoint, what="checkpoint folder", attr="checkpoint")


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
    "LMUFormerComparison",
    "compare_lmuformer",
    "run_folder",
    "plot_frame_accuracy",
]
