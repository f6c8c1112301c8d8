"""One model of the LMUFormer comparison trained, scored and streamed.

`run_model` builds one of the models `.compare_lmuformer` compares (an
LMUFormer or spiking LMUFormer, the plain LMU, or an LSTM whose width
`match_sizes` matched to the LMUFormer's parameter count), trains it with
one seed (on augmented batches when asked), scores it on the held-out
voices, counts its operations and, for the causal LMUFormers, runs it frame
by frame as a Nengo network. The result is a `ModelRun`. A spiking model can
start from the trained non-spiking one (`init_source`, `run_order`).

Training goes through `nengo_lmu.dl.lmuformer_training.train_lmuformer`;
given a folder, a run checkpoints every epoch there and, when it is done,
writes its `ModelRun` (`RUN_FILE`), so that a resumed comparison continues
an interrupted run and reads a finished one back instead of training it.
"""

import json
import os
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from nengo.exceptions import ValidationError

STREAMED = ("lmuformer", "spiking_lmuformer")
#: the file of a run's folder that holds its `ModelRun` once it is done
RUN_FILE = "run.json"


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

    def to_dict(self):
        """JSON-ready (``frame_accuracy`` as a list)."""
        d = asdict(self)
        if d["frame_accuracy"] is not None:
            d["frame_accuracy"] = [float(v) for v in d["frame_accuracy"]]
        return d

    @classmethod
    def from_dict(cls, d):
        """The run `to_dict` gave."""
        d = dict(d)
        if d.get("frame_accuracy") is not None:
            d["frame_accuracy"] = np.asarray(d["frame_accuracy"])
        return cls(**d)


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


def _augmented_epochs(p, s, augmentation, seed):
    """``epoch -> (x, soft labels)``: the training features augmented anew
    for each epoch, batch by batch, then standardised; the random numbers of
    an epoch are drawn from ``(augment_seed, seed, epoch)``, so that a resumed
    run gets the same epochs."""
    from nengo_lmu.apps.augment import augmented_batches  # pylint: disable=C0415

    def epoch_data(epoch):
        rng = np.random.RandomState([s.augment_seed, seed, epoch])
        batches = list(
            augmented_batches(
                p.data["x_train"], p.data["y_train"], p.n_classes, augmentation, s.batch_size, rng
            )
        )
        x = ((np.concatenate([b[0] for b in batches]) - p.mean) / p.std).astype(np.float32)
        # the batches are already shuffled (and mixup pairs lie within them)
        return x, np.concatenate([b[1] for b in batches])

    return epoch_data


def _train(model, seed, p, s, augmentation, verbose, folder=None, resume=False):
    """Train (checkpoints in ``folder``); returns the seconds it took, the
    epochs before a resume included."""
    from nengo_lmu.dl.lmuformer_training import train_lmuformer  # pylint: disable=C0415

    if augmentation is not None and augmentation.active:
        x, y = _augmented_epochs(p, s, augmentation, seed), None
    else:
        x, y = p.x_tr, p.data["y_train"]
    out = train_lmuformer(
        model,
        x,
        y,
        epochs=s.epochs,
        batch_size=s.batch_size,
        learning_rate=s.learning_rate,
        seed=seed,
        checkpoint_dir=folder,
        resume=resume,
        verbose=verbose,
    )
    return float(sum(out.epoch_seconds))


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


def read_run(folder):
    """The `ModelRun` a finished run wrote to ``folder`` (None where it has not)."""
    path = os.path.join(folder, RUN_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return ModelRun.from_dict(json.load(f))


def _write_run(folder, run):
    """Write ``run`` to ``folder``'s `RUN_FILE` (through a temporary file)."""
    path = os.path.join(folder, RUN_FILE)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(run.to_dict(), f, indent=1)
    os.replace(path + ".tmp", path)


def run_model(name, seed, p, s, augmentation, verbose, source=None, folder=None, resume=False):
    """Train, score and stream one model with one seed: ``(ModelRun, model)``.

    ``source``: a trained non-spiking LMUFormer that the spiking model
    ``name`` starts from (then trained for ``s.finetune_epochs``).
    ``folder``: the run's checkpoint folder; with ``resume``, an interrupted
    run there continues and a finished one is read back (its `ModelRun`,
    and the model with its trained weights) instead of trained again.
    """
    from nengo_lmu.dl.lmuformer import PAPER_LOOKAHEAD  # pylint: disable=C0415
    from nengo_lmu.dl.lmuformer_training import load_lmuformer_checkpoint  # pylint: disable=C0415
    from nengo_lmu.dl.lmuformer_weights import init_spiking_from  # pylint: disable=C0415

    model, train_model = _build(name, seed, p, s)
    done = read_run(folder) if folder is not None and resume else None
    if done is not None:
        load_lmuformer_checkpoint(folder, model)
        return done, model
    init, init_accuracy = "scratch", float("nan")
    if source is not None:
        init_spiking_from(model, source)
        init = init_source(name, s)
        init_accuracy = _accuracy(train_model, p.x_te, p.data["y_test"])
        if s.finetune_epochs is not None:
            s = replace(s, epochs=s.finetune_epochs)
    seconds = _train(model, seed, p, s, augmentation, verbose, folder, resume)
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
    if folder is not None:
        _write_run(folder, run)
    return run, model


__all__ = [
    "STREAMED",
    "RUN_FILE",
    "ModelRun",
    "read_run",
    "frames_to_fraction",
    "match_sizes",
    "init_source",
    "run_order",
    "run_model",
]
