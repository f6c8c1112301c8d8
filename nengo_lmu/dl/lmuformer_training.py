"""Training an LMUFormer epoch by epoch, with checkpoints and resume.

`train_lmuformer` trains a model made by `nengo_lmu.dl.lmuformer.lmuformer`
on its last frame's scores (`~nengo_lmu.dl.lmuformer.final_scores_model`),
or any Keras classifier giving ``(batch, classes)`` scores, as the LMUFormer
comparison does: Adam with a learning rate that decays along a cosine to 0
over all the steps, cross-entropy on the scores (integer labels, or soft
labels such as mixup's). Each epoch's order is drawn from the seed and the
epoch's number, and augmented data come from a function of the epoch's
number, so that a run resumed at epoch ``k`` goes on exactly as the run that
was never stopped.

With ``checkpoint_dir``, every completed epoch writes the weights, Adam's
state, the epoch and the history so far to that folder (atomically, in the
backend-neutral folders of `nengo_lmu.dl.lm_checkpoints`: ``model.json``
and ``ckpt-<epoch>.npz`` with every weight under its layer's name), so that a
checkpoint written with Keras 3 on JAX, PyTorch or TensorFlow resumes on
tf.keras 2.12 and the reverse. `load_lmuformer_checkpoint` reads the
trained model back.

With ``strategy`` (a `tf.distribute` strategy; tf.keras 2.12 or Keras 3's
TensorFlow backend) or ``distribution`` (a ``keras.distribution``, e.g.
``DataParallel``, on JAX) each batch is split over the replicas (the
`nengo_lmu.dl.lm_steps.distribution_of` rules, shared with the language
model's loop); the model must be made under the same scope.
"""

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import KERAS3, keras
from nengo_lmu.dl.interrupts import LastEpoch, TrainingInterrupted
from nengo_lmu.dl.lm_checkpoints import (
    check_resume,
    newest_checkpoint,
    open_checkpoints,
    read_record,
    restore_checkpoint,
    save_checkpoint,
)
from nengo_lmu.dl.lm_steps import distribution_of, distribution_scope
from nengo_lmu.dl.lmuformer import LMUFormerModel, check_lmuformer, final_scores_model, lmuformer
from nengo_lmu.validation import check_int, check_positive

#: what ``model.json`` of an LMUFormer checkpoint folder says it is
CHECKPOINT_FORMAT = "nengo_lmu lmuformer checkpoint"
#: the run's settings a resume must repeat (``model.json``'s ``run``)
RUN_KEYS = ("epochs", "batch_size", "learning_rate", "seed", "clips", "labels", "data")
#: the per-epoch records kept in each checkpoint
HISTORY_KEYS = ("loss", "accuracy", "seconds")


@dataclass
class LMUFormerHistory:
    """What `train_lmuformer` returns.

    ``history`` holds the loss and accuracy of every epoch (Keras' ``fit``
    names), the epochs before a resume included; ``epoch_seconds`` how long
    each took (getting its data included); ``seconds`` the training time of this call. ``note`` says what
    happened to a checkpoint folder that held a run.
    """

    model: object = field(repr=False)
    epochs: int
    start_epoch: int
    history: dict = field(repr=False)
    epoch_seconds: list = field(repr=False)
    seconds: float
    checkpoint_dir: str = None
    note: str = ""

    @property
    def final_loss(self):
        """The last epoch's training loss (NaN before any epoch)."""
        loss = self.history["loss"]
        return float(loss[-1]) if loss else float("nan")


class _Weights:
    """A Keras model seen as `nengo_lmu.dl.lm_checkpoints` wants it: ``kind``,
    ``config``, ``named_weights()`` and ``trainable_variables``.

    An LMUFormer's weights are named by layer and index (the names of
    `~nengo_lmu.dl.lmuformer_weights.lmuformer_weights`, the same on every
    stack); another model's by the position of the layer and the index.
    """

    def __init__(self, model, trained):
        self.trained = trained
        self.trainable_variables = trained.trainable_variables
        if isinstance(model, LMUFormerModel):
            self.kind = "lmuformer"
            self.config = check_lmuformer(model)
            self.layers = [(lay.name, lay) for lay in model.layers]
        else:
            self.kind = "keras"
            self.layers = [(f"layer{k}", lay) for k, lay in enumerate(trained.layers)]
            self.config = dict(
                weights=[[name, list(map(int, v.shape))] for name, v in self.named_weights()]
            )
        self.config = json.loads(json.dumps(self.config))

    def named_weights(self):
        return [(f"{name}/{i}", v) for name, lay in self.layers for i, v in enumerate(lay.weights)]


def _trained_model(model):
    """``(model, what is trained)``: an LMUFormer's last-frame scores model, or
    the Keras model itself (which must give ``(batch, classes)`` scores)."""
    if isinstance(model, LMUFormerModel):
        check_lmuformer(model)
        return final_scores_model(model)
    if not isinstance(model, keras.Model):
        raise ValidationError(
            f"must be an LMUFormer (nengo_lmu.dl.lmuformer) or a Keras model, got "
            f"{type(model).__name__}",
            attr="model",
        )
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) != 1 or len(outputs[0].shape) != 2:
        shapes = [tuple(o.shape) for o in outputs]
        raise ValidationError(
            f"must give one (batch, classes) output of scores, got outputs of shapes {shapes}",
            attr="model",
        )
    return model


def _check_data(x, y, n_classes, attr="x"):
    """``(x, y, labels)``: the data as arrays, and ``"classes"`` (integer
    labels) or ``"soft"`` (one row of class weights per clip)."""
    if isinstance(x, tuple) and len(x) != 2:
        raise ValidationError("must give (x, y)", attr=attr)
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim < 2 or len(x) == 0:
        raise ValidationError(
            f"must hold clips (n, frames, features), got shape {x.shape}", attr=attr
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
        raise ValidationError(f"must be finite floats, got dtype {x.dtype}", attr=attr)
    if len(y) != len(x):
        raise ValidationError(f"has {len(y)} labels for {len(x)} clips", attr="y")
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        if y.min() < 0 or y.max() >= n_classes:
            raise ValidationError(
                f"must be classes in [0, {n_classes}), got {y.min()}..{y.max()}", attr="y"
            )
        return x, y, "classes"
    if y.ndim == 2 and y.shape[1] == n_classes and np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)):
            raise ValidationError("soft labels must be finite", attr="y")
        return x, y, "soft"
    raise ValidationError(
        f"must be integer classes (n,) or soft labels (n, {n_classes}), got "
        f"{y.dtype} of shape {y.shape}",
        attr="y",
    )


def _digest(x, y):
    """A short fingerprint of the training data (a resume must repeat them)."""
    h = hashlib.sha256()
    for a in (x, y):
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _check_settings(epochs, batch_size, learning_rate, seed, verbose, checkpoint_dir, resume):
    epochs = check_int("epochs", epochs)
    batch_size = check_int("batch_size", batch_size)
    learning_rate = float(check_positive("learning_rate", learning_rate))
    seed = check_int("seed", seed, minimum=0)
    verbose = check_int("verbose", verbose, minimum=0)
    if not isinstance(resume, (bool, np.bool_)):
        raise ValidationError(f"must be True or False, got {resume!r}", attr="resume")
    if checkpoint_dir is not None:
        checkpoint_dir = os.fspath(checkpoint_dir)
        if os.path.exists(checkpoint_dir) and not os.path.isdir(checkpoint_dir):
            raise ValidationError(
                f"must be a folder, got the file {checkpoint_dir!r}", attr="checkpoint_dir"
            )
    elif resume:
        raise ValidationError("needs checkpoint_dir (the folder of the run)", attr="resume")
    return epochs, batch_size, learning_rate, seed, verbose, checkpoint_dir


class _EpochData:
    """Each epoch's ``(x, y)``: the training data in the order drawn from
    ``(seed, epoch)``, or what the function ``x`` gives for the epoch."""

    def __init__(self, x, y, seed, n_classes):
        self.seed, self.n_classes = seed, n_classes
        self.function = x if callable(x) else None
        if self.function is None:
            if y is None:
                raise ValidationError(
                    "must be given with x (or x a function giving each epoch's (x, y))",
                    attr="y",
                )
            self.x, self.y, self.labels = _check_data(x, y, n_classes)
            self.data = _digest(self.x, self.y)
            self.first = None
        else:
            if y is not None:
                raise ValidationError(
                    "must be None where x is a function giving each epoch's (x, y)", attr="y"
                )
            self.first = self._call(0)
            self.x, _, self.labels = self.first
            self.data = "function"

    def _call(self, epoch):
        got = self.function(epoch)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise ValidationError(
                f"must give (x, y) for each epoch, gave {type(got).__name__} for epoch {epoch}",
                attr="x",
            )
        return _check_data(got[0], got[1], self.n_classes)

    def __call__(self, epoch):
        if self.function is None:
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
            return self.x[order], self.y[order]
        x, y, labels = self.first if epoch == 0 else self._call(epoch)
        if len(x) != len(self.x) or labels != self.labels:
            raise ValidationError(
                f"gave {len(x)} clips with {labels} labels for epoch {epoch}, "
                f"{len(self.x)} with {self.labels} labels for epoch 0: every epoch "
                "must have as many clips, labelled alike",
                attr="x",
            )
        return x, y


def _compile(trained, labels, learning_rate, steps):
    """Adam with cosine decay to 0 over ``steps``, cross-entropy on the
    scores; the optimizer is built (its slots exist) before any step."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    loss = (
        keras.losses.CategoricalCrossentropy(from_logits=True)
        if labels == "soft"
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    optimizer = keras.optimizers.Adam(schedule)
    trained.compile(optimizer, loss, metrics=["accuracy"])
    optimizer.build(trained.trainable_variables)
    return optimizer


def _check_placed(model, strategy, distribution, strategy_given):
    """Refuse a model whose weights were not made under the ``strategy`` or
    ``distribution`` it is to be trained under (Keras does not move them)."""
    if not strategy_given:
        strategy = None
    if strategy is None and distribution is None:
        return
    variables = model.variables
    if strategy is not None:
        inner = [v.value if KERAS3 else v for v in variables]
        outside = [
            v.name
            for v, w in zip(variables, inner)
            if not strategy.extended.variable_created_in_scope(w)
        ]
        where = f"the scope of {type(strategy).__name__}"
    else:
        n_devices = len(distribution.device_mesh.devices.flat)
        outside = [v.name for v in variables if len(v.value.sharding.device_set) != n_devices]
        where = f"the scope of {type(distribution).__name__} ({n_devices} devices)"
    if outside:
        name = "strategy" if strategy is not None else "distribution"
        raise ValidationError(
            f"the model must be made under {name}.scope() (Keras places its weights "
            f"when they are made): {len(outside)} weights, e.g. {outside[0]!r}, "
            f"were made outside {where}",
            attr=name,
        )


def _read_history(checkpoint_dir, start):
    """The per-epoch records saved with the newest checkpoint."""
    history = {k: [] for k in HISTORY_KEYS}
    path = newest_checkpoint(checkpoint_dir) if start else None
    if path is not None:
        with np.load(path) as z:
            for k in HISTORY_KEYS:
                if f"history/{k}" in z.files:
                    history[k] = [float(v) for v in z[f"history/{k}"]]
    return history


def train_lmuformer(
    model,
    x,
    y=None,
    epochs=1,
    batch_size=64,
    learning_rate=3e-3,
    seed=0,
    checkpoint_dir=None,
    resume=False,
    verbose=0,
    strategy=None,
    distribution=None,
):
    """Train an LMUFormer on clips, with checkpoints every epoch and resume.

    The model is trained on its last frame's scores with Adam, whose
    learning rate decays along a cosine from ``learning_rate`` to 0 over
    ``epochs * ceil(n / batch_size)`` steps, and the cross-entropy of the
    scores (from logits). Each epoch takes the clips in an order drawn from
    ``(seed, epoch)``, so that a resumed run equals the run never stopped.

    Parameters
    ----------
    model : LMUFormerModel or keras.Model
        Made by `~nengo_lmu.dl.lmuformer.lmuformer` (trained in place through
        `~nengo_lmu.dl.lmuformer.final_scores_model`), or any Keras model
        with one ``(batch, classes)`` output of scores.
    x : array or callable
        Training clips ``(n, frames, features)``; or a function of the
        epoch's number (from 0) giving that epoch's ``(x, y)``, e.g. freshly
        augmented clips, trained in the order given (every epoch the same
        number of clips; epoch 0's is asked for first, also by a resume, to
        count them). Draw its random numbers from the epoch's number, so
        that a resumed run gets the same data.
    y : array, optional
        Integer classes ``(n,)`` or soft labels ``(n, classes)``; None where
        ``x`` is a function.
    epochs, batch_size : int
        Epochs of the run (a resumed run trains those it lacks) and clips
        per step.
    learning_rate : float
        Adam's initial learning rate.
    seed : int
        Seed of the epochs' orders (the weights are the model's own).
    checkpoint_dir : str, optional
        Folder that, after every epoch, gets the weights, Adam's state, the
        epoch and the history (``ckpt-<epoch>.npz``, the newest two kept,
        each written atomically) and, at the start, ``model.json`` (the
        model's kind and configuration, the run's settings: `RUN_KEYS`).
        A folder that holds a run is refused unless ``resume`` is given.
    resume : bool
        Continue the run in ``checkpoint_dir`` from its newest checkpoint
        (an empty or missing folder starts a new run). A folder of another
        model, other settings or other data is refused, naming what differs;
        a finished run is not trained further (``note`` says so; the model
        then holds its final weights).
    verbose : int
        Keras' ``fit`` verbosity.
    strategy : tf.distribute.Strategy, optional
        Train data-parallel under this strategy (TensorFlow: tf.keras 2.12 or
        Keras 3's TensorFlow backend; e.g. ``MirroredStrategy`` over GPUs).
        Make the model under ``strategy.scope()`` (Keras places the weights
        when they are made; a model made outside is refused); the optimizer
        and the compiled training model are made under it here. Each
        replica normalises its own share of the batch in
        ``BatchNormalization`` (Keras' default), so the run differs slightly
        from one device's.
    distribution : keras.distribution.Distribution, optional
        Train under this ``keras.distribution`` (JAX, e.g. ``DataParallel``
        over the devices; the global one set by
        ``keras.distribution.set_distribution`` where not given). Make the
        model under ``distribution.scope()`` (a model whose weights lie
        elsewhere is refused). The batch is one array laid out over the
        devices, so the run equals one device's (to float rounding).

        ``batch_size`` is the global batch and must be a multiple of the
        replicas (on JAX, so must the epoch's last, partial batch). Checkpoints hold the same arrays as without a
        distribution, so a run resumes under another (or none).

    Returns
    -------
    LMUFormerHistory

    Raises
    ------
    nengo.exceptions.ValidationError
        Naming the argument, the rule and the value.
    nengo_lmu.dl.interrupts.TrainingInterrupted
        On Ctrl-C, with ``model`` holding the weights of the last completed
        epoch (whose checkpoint a resume continues from; ``kept`` says
        which).

    Examples
    --------
    >>> import tempfile
    >>> from nengo_lmu.dl import lmuformer, train_lmuformer
    >>> rng = np.random.RandomState(0)
    >>> x = rng.randn(16, 12, 4).astype(np.float32)
    >>> y = rng.randint(3, size=16)
    >>> folder = tempfile.TemporaryDirectory()
    >>> model = lmuformer(n_inputs=4, n_classes=3, dim=8, n_frames=12, seed=0)
    >>> out = train_lmuformer(model, x, y, epochs=1, batch_size=8,
    ...                       checkpoint_dir=folder.name)
    >>> model = lmuformer(n_inputs=4, n_classes=3, dim=8, n_frames=12, seed=0)
    >>> try:  # a resume must repeat the run's settings
    ...     train_lmuformer(model, x, y, epochs=2, batch_size=8,
    ...                     checkpoint_dir=folder.name, resume=True)
    ... except ValidationError as e:
    ...     print(str(e)[str(e).index("(") :])
    (epochs: 1 there, 2 here): resume it with its own, or train into another folder
    >>> out = train_lmuformer(model, x, y, epochs=1, batch_size=8,
    ...                       checkpoint_dir=folder.name, resume=True)
    >>> out.note.endswith("nothing was trained"), len(out.history["loss"])
    (True, 1)
    >>> folder.cleanup()

    Data-parallel over the devices there are (neither applies on PyTorch):

    >>> from nengo_lmu.dl.compat import backend_name, keras
    >>> where = {}
    >>> if backend_name() == "jax":  # the batch laid out over JAX's devices
    ...     where = dict(distribution=keras.distribution.DataParallel())
    ... elif backend_name() in ("tensorflow", "tf.keras"):  # e.g. over the GPUs
    ...     import tensorflow as tf
    ...     where = dict(strategy=tf.distribute.MirroredStrategy())
    >>> for each in where.values():
    ...     with each.scope():  # the model is made under it
    ...         model = lmuformer(n_inputs=4, n_classes=3, dim=8, n_frames=12, seed=0)
    ...     out = train_lmuformer(model, x, y, epochs=1, batch_size=8, **where)
    ...     print(len(out.history["loss"]))
    1
    """
    epochs, batch_size, learning_rate, seed, verbose, checkpoint_dir = _check_settings(
        epochs, batch_size, learning_rate, seed, verbose, checkpoint_dir, resume
    )
    strategy_given = strategy is not None
    strategy, distribution = distribution_of(strategy, distribution, batch_size)
    with distribution_scope(strategy, distribution):
        return _train(
            model, x, y, epochs, batch_size, learning_rate, seed, checkpoint_dir, resume,
            verbose, strategy, distribution, strategy_given,
        )  # fmt: skip


def _train(
    model, x, y, epochs, batch_size, learning_rate, seed, checkpoint_dir, resume, verbose,
    strategy, distribution, strategy_given,
):  # fmt: skip
    """`train_lmuformer` after its checks, under the distribution's scope."""
    trained = _trained_model(model)
    _check_placed(trained, strategy, distribution, strategy_given)
    n_classes = int(trained.outputs[0].shape[-1])
    data = _EpochData(x, y, seed, n_classes)
    if isinstance(model, LMUFormerModel):
        model.check_input(data.x)
    n = len(data.x)
    n_devices = 1 if distribution is None else len(distribution.device_mesh.devices.flat)
    if n % batch_size % n_devices:
        raise ValidationError(
            f"gives {n} clips, so each epoch's last batch holds {n % batch_size} "
            f"(batch_size {batch_size}), which must be a multiple of the distribution's "
            f"{n_devices} devices: JAX lays every batch out over them",
            attr="x",
        )
    optimizer = _compile(trained, data.labels, learning_rate, epochs * math.ceil(n / batch_size))
    weights = _Weights(model, trained)
    run = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed)
    run.update(clips=n, labels=data.labels, data=data.data)
    start, _, where = open_checkpoints(
        checkpoint_dir, weights, optimizer, run, resume, True, fmt=CHECKPOINT_FORMAT
    )
    history = _read_history(checkpoint_dir, start)
    if start >= epochs:
        note = f"the run in {checkpoint_dir} had already finished ({epochs} epochs); nothing was trained"
    else:
        note = f"resumed {checkpoint_dir} at epoch {start} of {epochs}" if start else ""
    last = LastEpoch()
    last.epochs_done = start
    last.weights = trained.get_weights() if start else None
    seconds = 0.0
    try:
        for epoch in range(start, epochs):
            t0 = time.perf_counter()  # the epoch's data (e.g. augmented) included
            x_epoch, y_epoch = data(epoch)
            fit = trained.fit(
                x_epoch,
                y_epoch,
                batch_size=batch_size,
                epochs=epoch + 1,
                initial_epoch=epoch,
                shuffle=False,
                verbose=verbose,
                callbacks=[last],
            )
            took = time.perf_counter() - t0
            seconds += took
            history["loss"].append(float(fit.history["loss"][-1]))
            history["accuracy"].append(float(fit.history["accuracy"][-1]))
            history["seconds"].append(took)
            if where is not None:
                extra = {f"history/{k}": np.asarray(v) for k, v in history.items()}
                save_checkpoint(where, weights, optimizer, epoch + 1, history["loss"][-1], extra)
    except KeyboardInterrupt:
        restored = last.restore(trained)
        stopped = TrainingInterrupted(last.epochs_done, epochs, model=model if restored else None)
        newest = None if where is None else newest_checkpoint(where)
        if newest is not None:
            stopped.kept = f"the newest checkpoint is {newest} (resume=True continues from it)"
        raise stopped from None
    return LMUFormerHistory(
        model=model,
        epochs=epochs,
        start_epoch=min(start, epochs),
        history=history,
        epoch_seconds=history["seconds"],
        seconds=seconds,
        checkpoint_dir=checkpoint_dir,
        note=note,
    )


def load_lmuformer_checkpoint(checkpoint_dir, model=None):
    """The model trained by `train_lmuformer` into ``checkpoint_dir``, with
    the weights of its newest checkpoint (on whatever Keras stack runs here).

    Parameters
    ----------
    checkpoint_dir : str
        The folder of the run.
    model : keras.Model, optional
        The model to load the weights into (made as the trained one was):
        needed for a model that is not an LMUFormer; an LMUFormer is made
        anew from the configuration in ``model.json`` where not given.

    Returns
    -------
    model : keras.Model
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    record = read_record(checkpoint_dir, fmt=CHECKPOINT_FORMAT)
    if model is None:
        if record.get("kind") != "lmuformer":
            raise ValidationError(
                "must be given for a checkpoint of a model that is not an LMUFormer",
                attr="model",
            )
        model = lmuformer(**record["config"])
    weights = _Weights(model, _trained_model(model))
    check_resume(record, weights, record.get("run", {}), checkpoint_dir)
    path = newest_checkpoint(checkpoint_dir)
    if path is None:
        raise ValidationError(f"holds no checkpoint: {checkpoint_dir!r}", attr="checkpoint_dir")
    restore_checkpoint(path, weights)
    return model


__all__ = [
    "CHECKPOINT_FORMAT",
    "RUN_KEYS",
    "HISTORY_KEYS",
    "LMUFormerHistory",
    "train_lmuformer",
    "load_lmuformer_checkpoint",
]
