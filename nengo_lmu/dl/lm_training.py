"""Training and evaluating the language models of `.language_model`.

Seed 003 trains with Adam, a learning rate that rises linearly and then
decays to zero along a cosine (`WarmupCosine`), 1024-token sequences and a
fixed number of tokens. `train_language_model` does that with a *token
budget* as its stopping rule (``steps = budget // (batch_size * seq_len)``),
a one-line progress bar (tokens/s and the running loss), optional
validation along the way and checkpoints that a later call resumes.

It runs on every backend of Keras 3 and on tf.keras 2.12 (the step is the
backend's own: a `tf.function` with a gradient tape, a ``jax.jit`` of
Keras' stateless calls, or PyTorch's autograd), and distributed with
``keras.distribution`` on JAX (``DataParallel``) or under a
`tf.distribute` strategy on TensorFlow.

Checkpoints are backend-neutral: ``model.json`` (the model's kind and
configuration, and the run's settings) and ``ckpt-<step>.npz`` files with
every weight and Adam slot under the names of
`.LanguageModel.named_weights`, so a checkpoint written on Keras 3 with JAX
loads on tf.keras 2.12 and the reverse. A resume must repeat the model and
the run's settings (a `ValidationError` names both otherwise); resuming a
finished run changes nothing and says so.

Multi-worker training (TensorFlow): every worker computes the same global
batch (`nengo_lmu.text.batch_indices` is a pure function of seed and step)
and feeds its slice; the loss is summed over the replica's tokens and
divided by the *global* number of tokens, so the all-reduced gradient is
the single-worker gradient. `train_multiworker` starts local worker
processes under `tf.distribute.MultiWorkerMirroredStrategy` (``TF_CONFIG``
on free 127.0.0.1 ports): the same code runs across machines with their
own ``TF_CONFIG``. It stays TensorFlow's; on JAX, ``keras.distribution``
covers the devices of one process.
"""

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import (
    adam_slots,
    assign,
    backend_name,
    keras,
    ops,
    sparse_cross_entropy,
    standard_dtype,
    to_numpy,
    uses_tensorflow,
)
from nengo_lmu.dl.language_model import (
    LanguageModel,
    check_tokens,
    language_model_from_config,
)
from nengo_lmu.text import batch_indices, pack_sequences
from nengo_lmu.validation import check_int, check_positive

#: what ``model.json`` of a checkpoint folder says it is
CHECKPOINT_FORMAT = "nengo_lmu language-model checkpoint"
CHECKPOINT_VERSION = 1
#: the run's settings a resume must repeat
RUN_KEYS = ("token_budget", "seq_len", "batch_size", "lr", "warmup", "seed")
#: checkpoints kept in a folder (the newest ones)
KEEP_CHECKPOINTS = 2


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``peak`` over ``warmup_steps``, then cosine decay to 0.

    Examples
    --------
    >>> s = WarmupCosine(1e-3, warmup_steps=10, total_steps=110)
    >>> [round(float(s(k)), 6) for k in (0, 5, 10, 60, 110)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    """

    def __init__(self, peak, warmup_steps, total_steps):
        super().__init__()
        self.peak = check_positive("lr", peak)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, minimum=0)
        self.total_steps = check_int("total_steps", total_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        w = float(max(self.warmup_steps, 1))
        warm = self.peak * step / w
        frac = ops.clip(
            (step - self.warmup_steps) / float(max(self.total_steps - self.warmup_steps, 1)),
            0.0,
            1.0,
        )
        cos = 0.5 * self.peak * (1.0 + ops.cos(math.pi * frac))
        return ops.where(step < self.warmup_steps, warm, cos)

    def get_config(self):
        return dict(peak=self.peak, warmup_steps=self.warmup_steps, total_steps=self.total_steps)


@dataclass
class LMEval:
    """Cross-entropy of a model on held-out sequences."""

    nats_per_token: float
    per_position: np.ndarray = field(repr=False)
    n_sequences: int = 0

    @property
    def bits_per_token(self):
        return self.nats_per_token / math.log(2)


@dataclass
class LMTrainResult:
    """What `train_language_model` returns (byte tokens: nats/token = nats/byte).

    ``note`` says what happened to a checkpoint folder that held a run
    (resumed at a step, or already finished and left unchanged).
    """

    model: object = field(repr=False)
    steps: int
    tokens: int
    seconds: float
    tokens_per_second: float
    final_train_loss: float
    history: list = field(repr=False)  # (step, tokens, running loss, lr)
    val_history: list = field(repr=False)  # (step, tokens, val nats/token)
    checkpoint_dir: str = None
    start_step: int = 0
    note: str = ""


def as_sequences(data, seq_len, attr="data"):
    """A packed ``(n, seq_len + 1)`` array from a stream or an already packed one."""
    data = np.asarray(data)
    if data.ndim == 1:
        return pack_sequences(data, seq_len)
    if data.ndim != 2 or data.shape[1] != seq_len + 1:
        raise ValidationError(
            f"must be a token stream or sequences of shape (n, {seq_len + 1}), got {data.shape}",
            attr=attr,
        )
    return data.astype(np.int32)


# ------------------------------------------------------------ evaluation


def evaluate_language_model(model, data, seq_len, batch_size=8, max_sequences=None):
    """Mean next-token cross-entropy (nats) and its value per position.

    ``data`` is a token stream (packed with `.pack_sequences`) or packed
    sequences; the first ``max_sequences`` are used (all if None).
    """
    seqs = as_sequences(data, seq_len)
    if max_sequences is not None:
        seqs = seqs[: check_int("max_sequences", max_sequences)]
    check_tokens(seqs, model.vocab_size, attr="data")
    fn = _eval_fn(model)
    total = np.zeros(seq_len)
    for i in range(0, len(seqs), batch_size):
        b = seqs[i : i + batch_size]
        total += to_numpy(fn(b[:, :-1], b[:, 1:]))
    per_pos = total / len(seqs)
    return LMEval(float(per_pos.mean()), per_pos, len(seqs))


def _eval_fn(model):
    """``fn(x, y)``: the cross-entropy summed over the batch, per position,
    compiled for the backend once per model."""
    if getattr(model, "_lm_eval_fn", None) is not None:
        return model._lm_eval_fn
    name = backend_name()
    if uses_tensorflow():
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def graph(x, y):
            ce = sparse_cross_entropy(y, model(x))
            return tf.reduce_sum(ce, axis=0)

        def fn(x, y):
            return graph(tf.constant(x), tf.constant(y))

    elif name == "jax":
        import jax

        @jax.jit
        def pure(trainable, fixed, x, y):
            logits, _ = model.stateless_call(trainable, fixed, x)
            return ops.sum(sparse_cross_entropy(y, logits), axis=0)

        def fn(x, y):
            trainable = [v.value for v in model.trainable_variables]
            fixed = [v.value for v in model.non_trainable_variables]
            return pure(trainable, fixed, x, y)

    else:
        import torch

        def fn(x, y):
            with torch.no_grad():
                return ops.sum(sparse_cross_entropy(ops.convert_to_tensor(y), model(x)), axis=0)

    model._lm_eval_fn = fn
    return fn


# ------------------------------------------------------------ training steps


class _TensorFlowSteps:
    """Training steps under a `tf.distribute` strategy (tf.keras 2.12, or
    Keras 3's TensorFlow backend)."""

    def __init__(self, model, optimizer, global_tokens, strategy, batch_size):
        import tensorflow as tf

        self.strategy, self.n_rep = strategy, strategy.num_replicas_in_sync
        self.per_rep = batch_size // self.n_rep
        variables = model.trainable_variables

        def replica_step(x, y):
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                ce = sparse_cross_entropy(y, logits)
                loss = tf.reduce_sum(ce) / global_tokens
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return loss

        @tf.function
        def dist_step(x, y):
            per = strategy.run(replica_step, args=(x, y))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per, axis=None)

        self.dist_step = dist_step

    def __call__(self, rows):
        import tensorflow as tf

        per_rep = self.per_rep

        def value_fn(ctx):
            r = ctx.replica_id_in_sync_group
            part = rows[r * per_rep : (r + 1) * per_rep]
            return tf.constant(part[:, :-1]), tf.constant(part[:, 1:])

        x, y = self.strategy.experimental_distribute_values_from_function(value_fn)
        return float(self.dist_step(x, y).numpy())

    def sync(self):
        """The variables hold the trained values already."""


class _JaxSteps:
    """Training steps as one ``jax.jit`` of Keras' stateless calls; under a
    ``keras.distribution`` the batch is laid out over its devices."""

    def __init__(self, model, optimizer, global_tokens, distribution):
        import jax

        self.model, self.optimizer, self.distribution = model, optimizer, distribution

        def loss_fn(trainable, fixed, x, y):
            logits, fixed = model.stateless_call(trainable, fixed, x)
            return ops.sum(sparse_cross_entropy(y, logits)) / global_tokens, fixed

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def step(state, x, y):
            trainable, fixed, slots = state
            (loss, fixed), grads = grad_fn(trainable, fixed, x, y)
            trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
            return loss, (trainable, fixed, slots)

        self.step = jax.jit(step)
        self.state = None

    def _lay_out(self, array):
        if self.distribution is None:
            return array
        layout = self.distribution.get_data_layout(array.shape)
        return keras.distribution.distribute_tensor(array, layout)

    def __call__(self, rows):
        if self.state is None:
            self.state = (
                [v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.optimizer.variables],
            )
        x, y = self._lay_out(rows[:, :-1]), self._lay_out(rows[:, 1:])
        loss, self.state = self.step(self.state, x, y)
        return float(loss)

    def sync(self):
        """Write the trained values back into the model's and optimizer's variables."""
        if self.state is None:
            return
        trainable, fixed, slots = self.state
        for variables, values in (
            (self.model.trainable_variables, trainable),
            (self.model.non_trainable_variables, fixed),
            (self.optimizer.variables, slots),
        ):
            for v, value in zip(variables, values):
                v.assign(value)
        self.state = None


class _TorchSteps:
    """Training steps with PyTorch's autograd (Keras 3's PyTorch backend)."""

    def __init__(self, model, optimizer, global_tokens):
        self.model, self.optimizer, self.global_tokens = model, optimizer, global_tokens

    def __call__(self, rows):
        import torch

        variables = self.model.trainable_variables
        logits = self.model(rows[:, :-1])
        ce = sparse_cross_entropy(ops.convert_to_tensor(rows[:, 1:]), logits)
        loss = ops.sum(ce) / self.global_tokens
        grads = torch.autograd.grad(loss, [v.value for v in variables])
        with torch.no_grad():
            self.optimizer.apply(list(grads), variables)
        return float(loss.detach())

    def sync(self):
        """The variables hold the trained values already."""


def make_training_steps(
    model, optimizer, tokens_per_step, batch_size=1, strategy=None, distribution=None
):
    """``step(rows)``: one training step on the packed sequences ``rows``
    (``(batch_size, n + 1)`` numpy ints), returning the loss (nats per
    token), compiled for the backend; ``optimizer`` is built over
    ``model.trainable_variables``. Call ``step.sync()`` before reading the
    model's weights (JAX keeps them in the compiled function's state)."""
    strategy, distribution = _distribution_of(strategy, distribution, batch_size)
    return _training_steps(
        model, optimizer, float(tokens_per_step), strategy, distribution, batch_size
    )


def _training_steps(model, optimizer, global_tokens, strategy, distribution, batch_size):
    if uses_tensorflow():
        return _TensorFlowSteps(model, optimizer, global_tokens, strategy, batch_size)
    if backend_name() == "jax":
        return _JaxSteps(model, optimizer, global_tokens, distribution)
    return _TorchSteps(model, optimizer, global_tokens)


# ------------------------------------------------------------ checkpoints


def _checkpoint_files(checkpoint_dir):
    """``[(step, path)]`` of the ``ckpt-<step>.npz`` files, oldest first."""
    if not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in os.listdir(checkpoint_dir):
        stem = name[len("ckpt-") : -len(".npz")]
        if name.startswith("ckpt-") and name.endswith(".npz") and stem.isdigit():
            found.append((int(stem), os.path.join(checkpoint_dir, name)))
    return sorted(found)


def read_record(checkpoint_dir, attr="checkpoint_dir"):
    """The ``model.json`` of a checkpoint folder (a `ValidationError` naming
    ``attr`` where there is none, or it is not a checkpoint's)."""
    if not os.path.isdir(checkpoint_dir):
        raise ValidationError(f"must be a checkpoint folder, got {checkpoint_dir!r}", attr=attr)
    path = os.path.join(checkpoint_dir, "model.json")
    if not os.path.exists(path):
        raise ValidationError(f"holds no model.json: {checkpoint_dir!r}", attr=attr)
    with open(path) as f:
        record = json.load(f)
    if record.get("format") != CHECKPOINT_FORMAT:
        raise ValidationError(
            f"{path!r} is not a language-model checkpoint's model.json (no format "
            f"{CHECKPOINT_FORMAT!r})",
            attr=attr,
        )
    return record


def _write_atomic(path, write):
    """``write(f)`` into ``path`` through a temporary file in the same folder
    (opened normally, so the file gets the user's umask)."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_record(checkpoint_dir, model, run):
    """Write ``model.json``: the model's kind and configuration, the run's settings."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    record = dict(
        format=CHECKPOINT_FORMAT,
        version=CHECKPOINT_VERSION,
        kind=model.kind,
        config=model.config,
        run=run,
    )
    text = json.dumps(record, indent=1).encode()
    _write_atomic(os.path.join(checkpoint_dir, "model.json"), lambda f: f.write(text))


def checkpoint_arrays(model, optimizer=None, step=0, running=None):
    """``{name: array}``: every weight (``model/<name>``) and, with an
    ``optimizer``, its Adam slots (``adam/m/<name>``, ``adam/v/<name>``,
    ``adam/iterations``), the step and the running loss."""
    out = {f"model/{name}": to_numpy(v) for name, v in model.named_weights()}
    out["step"] = np.array(step, dtype=np.int64)
    out["running_loss"] = np.array(np.nan if running is None else running)
    if optimizer is not None:
        iterations, ms, vs = adam_slots(optimizer)
        names = {id(v): name for name, v in model.named_weights()}
        for var, m, v in zip(model.trainable_variables, ms, vs):
            out[f"adam/m/{names[id(var)]}"] = to_numpy(m)
            out[f"adam/v/{names[id(var)]}"] = to_numpy(v)
        out["adam/iterations"] = np.array(to_numpy(iterations), dtype=np.int64)
    return out


def save_checkpoint(checkpoint_dir, model, optimizer, step, running=None):
    """Write ``ckpt-<step>.npz`` (`checkpoint_arrays`) and keep the newest
    `KEEP_CHECKPOINTS`."""
    arrays = checkpoint_arrays(model, optimizer, step, running)
    path = os.path.join(checkpoint_dir, f"ckpt-{step}.npz")
    _write_atomic(path, lambda f: np.savez(f, **arrays))
    for _, old in _checkpoint_files(checkpoint_dir)[:-KEEP_CHECKPOINTS]:
        os.remove(old)
    return path


def restore_checkpoint(path, model, optimizer=None):
    """Load the arrays of ``path`` into ``model`` (and the Adam slots into
    ``optimizer``); returns ``(step, running loss)``."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    named = model.named_weights()
    missing = [name for name, _ in named if f"model/{name}" not in arrays]
    if missing:
        raise ValidationError(
            f"{path!r} lacks the weights {', '.join(missing[:5])}: another model's checkpoint",
            attr="checkpoint_dir",
        )
    for name, v in named:
        value = arrays[f"model/{name}"]
        if tuple(value.shape) != tuple(v.shape):
            raise ValidationError(
                f"{path!r}: weight {name} has shape {value.shape}, the model's {tuple(v.shape)}",
                attr="checkpoint_dir",
            )
        assign(v, value)
    if optimizer is not None and "adam/iterations" in arrays:
        names = {id(v): name for name, v in named}
        iterations, ms, vs = adam_slots(optimizer)
        for var, m, v in zip(model.trainable_variables, ms, vs):
            assign(m, arrays[f"adam/m/{names[id(var)]}"])
            assign(v, arrays[f"adam/v/{names[id(var)]}"])
        assign(iterations, arrays["adam/iterations"].astype(standard_dtype(iterations.dtype)))
    running = float(arrays["running_loss"])
    return int(arrays["step"]), (None if np.isnan(running) else running)


def _differences(saved, now):
    return [
        f"{k}: {saved.get(k)!r} there, {now.get(k)!r} here"
        for k in now
        if saved.get(k) != now.get(k)
    ]


def check_resume(record, model, run, checkpoint_dir):
    """Refuse to resume a checkpoint of another model or run: a
    `ValidationError` that names the saved and the given settings."""
    config = dict(model.config, kind=model.kind)
    saved_config = dict(record.get("config", {}), kind=record.get("kind"))
    changed = _differences(saved_config, config) + _differences(record.get("run", {}), run)
    if changed:
        raise ValidationError(
            f"{checkpoint_dir!r} holds a run of another model or settings ("
            + "; ".join(changed)
            + "): resume it with its own, or train into another folder",
            attr="resume",
        )


def load_checkpoint(checkpoint_dir):
    """Rebuild the model saved by `train_language_model` in ``checkpoint_dir``
    (its newest checkpoint), on whatever backend runs here."""
    record = read_record(checkpoint_dir)
    files = _checkpoint_files(checkpoint_dir)
    if not files:
        raise ValidationError(f"holds no checkpoint: {checkpoint_dir!r}", attr="checkpoint_dir")
    model = language_model_from_config(dict(record["config"], kind=record["kind"]))
    restore_checkpoint(files[-1][1], model)
    return model


# ------------------------------------------------------------ the loop


def _is_chief(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


class _Progress:
    def __init__(self, total, enabled, stream=None):
        self.total, self.enabled = total, enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def update(self, step, tokens, loss, tokens_done_here):
        if not self.enabled:
            return
        dt = max(time.perf_counter() - self.start, 1e-9)
        width = 24
        fill = int(width * step / self.total)
        self.stream.write(
            f"\r[{'#' * fill}{'.' * (width - fill)}] {step}/{self.total} steps  "
            f"{tokens:,} tokens  {tokens_done_here / dt:,.0f} tok/s  loss {loss:.4f}"
        )
        if step == self.total:
            self.stream.write("\n")
        self.stream.flush()

    def say(self, text):
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()


def _plan_steps(token_budget, seq_len, batch_size, warmup):
    """``(steps, tokens per step)`` of a run, its settings checked."""
    seq_len = check_int("seq_len", seq_len)
    batch_size = check_int("batch_size", batch_size)
    token_budget = check_int("token_budget", token_budget)
    per_step = batch_size * seq_len
    steps = token_budget // per_step
    if steps < 1:
        raise ValidationError(
            f"must cover at least one batch ({per_step} tokens), got {token_budget}",
            attr="token_budget",
        )
    if not 0 <= warmup < 1:
        raise ValidationError(f"must be in [0, 1), got {warmup}", attr="warmup")
    return steps, per_step


def _distribution_of(strategy, distribution, batch_size):
    """The `tf.distribute` strategy (TensorFlow) or ``keras.distribution``
    (JAX) to train under, with its number of replicas."""
    if strategy is not None and not uses_tensorflow():
        raise ValidationError(
            f"a tf.distribute strategy needs TensorFlow; {backend_name()} runs here "
            "(use distribution=keras.distribution.DataParallel(...) on JAX)",
            attr="strategy",
        )
    if distribution is not None and backend_name() != "jax":
        raise ValidationError(
            f"keras.distribution runs on JAX; {backend_name()} runs here "
            "(use strategy= on TensorFlow)",
            attr="distribution",
        )
    if uses_tensorflow():
        import tensorflow as tf

        strategy = strategy or tf.distribute.get_strategy()
        n_rep = strategy.num_replicas_in_sync
    else:
        if backend_name() == "jax" and distribution is None:
            distribution = keras.distribution.distribution()
        n_rep = 1 if distribution is None else len(distribution.device_mesh.devices.flat)
    if batch_size % n_rep:
        raise ValidationError(
            f"must be a multiple of the {n_rep} replicas, got {batch_size}", attr="batch_size"
        )
    return strategy, distribution


def _scope(strategy, distribution):
    import contextlib

    if strategy is not None:
        return strategy.scope()
    if distribution is not None:
        return distribution.scope()
    return contextlib.nullcontext()


def _build_training(model, seqs, lr, warmup, steps, strategy, distribution):
    """The model (made here where ``model`` is a function), its schedule and
    its Adam optimizer, built over the model's trainable variables."""
    with _scope(strategy, distribution):
        if not isinstance(model, LanguageModel):
            model = model()
        if not isinstance(model, LanguageModel):
            raise ValidationError(
                f"must be a language model or a function that makes one, got "
                f"{type(model).__name__}",
                attr="model",
            )
        check_tokens(seqs, model.vocab_size, attr="train")
        schedule = WarmupCosine(lr, int(round(warmup * steps)), steps)
        optimizer = keras.optimizers.Adam(schedule)
        optimizer.build(model.trainable_variables)
    return model, schedule, optimizer


def _open_checkpoints(checkpoint_dir, model, optimizer, run, resume, chief):
    """Check ``checkpoint_dir`` and restore from it where resuming: returns
    ``(start step, running loss, folder to write or None)``."""
    if checkpoint_dir is None:
        return 0, None, None
    files = _checkpoint_files(checkpoint_dir)
    has_record = os.path.exists(os.path.join(checkpoint_dir, "model.json"))
    start, running = 0, None
    if files or has_record:
        if not resume:
            raise ValidationError(
                f"{checkpoint_dir!r} holds a run already: pass resume=True to continue it, "
                "or train into another folder",
                attr="checkpoint_dir",
            )
        check_resume(read_record(checkpoint_dir), model, run, checkpoint_dir)
        if files:
            start, running = restore_checkpoint(files[-1][1], model, optimizer)
    where = checkpoint_dir if chief else tempfile.mkdtemp(prefix="lm_worker_ckpt")
    if not has_record:
        write_record(where, model, run)
    return start, running, where


def train_language_model(
    model,
    train,
    token_budget,
    seq_len,
    batch_size=8,
    lr=2e-3,
    warmup=0.05,
    seed=0,
    val=None,
    eval_every=None,
    val_sequences=16,
    checkpoint_dir=None,
    checkpoint_every=None,
    resume=False,
    progress=True,
    strategy=None,
    distribution=None,
    log_every=1,
):
    """Train a language model on a token budget (see the module docstring).

    Parameters
    ----------
    model : LanguageModel or callable
        A model from `.lmu_language_model` / `.transformer_language_model`,
        or a function of no arguments that makes one (needed with a
        ``strategy`` or ``distribution``, whose scope must hold the variables).
    train : array
        A token stream or packed sequences ``(n, seq_len + 1)``.
    token_budget : int
        Training tokens; ``steps = token_budget // (batch_size * seq_len)``.
    seq_len, batch_size : int
        Sequence length and *global* batch size.
    lr : float
        Peak learning rate of `WarmupCosine`.
    warmup : float
        Fraction of the steps spent warming up.
    seed : int
        Seed of the batch order.
    val : array, optional
        Held-out stream or sequences; evaluated every ``eval_every`` steps
        and at the end on its first ``val_sequences`` sequences.
    checkpoint_dir : str, optional
        Save the model, the optimizer and the step there (every
        ``checkpoint_every`` steps and at the end), with ``model.json``
        (the model's kind and configuration and the run's settings).
    resume : bool
        Continue the run in ``checkpoint_dir`` (from its newest checkpoint)
        with the same model and settings. Without it, a folder that holds a
        run is refused; with it, another model or settings are refused, and
        a finished run is left unchanged (``note`` says so).
    progress : bool
        Print the progress line to stderr.
    strategy : tf.distribute.Strategy, optional
        TensorFlow only.
    distribution : keras.distribution.Distribution, optional
        JAX only (default: the one set with
        ``keras.distribution.set_distribution``, if any).

    Returns
    -------
    LMTrainResult
    """
    steps, per_step = _plan_steps(token_budget, seq_len, batch_size, warmup)
    seqs = as_sequences(train, seq_len, attr="train")
    strategy, distribution = _distribution_of(strategy, distribution, batch_size)
    model, schedule, optimizer = _build_training(
        model, seqs, lr, warmup, steps, strategy, distribution
    )
    chief = strategy is None or _is_chief(strategy)
    run = dict(token_budget=int(token_budget), seq_len=seq_len, batch_size=batch_size)
    run.update(lr=float(lr), warmup=float(warmup), seed=int(seed))
    start, running, where = _open_checkpoints(checkpoint_dir, model, optimizer, run, resume, chief)
    bar = _Progress(steps, progress and chief)
    if start >= steps:
        note = f"the run in {checkpoint_dir} had already finished ({steps} steps); nothing changed"
        bar.say(note)
        history, val_history, seconds = [], [], 0.0
    else:
        note = f"resumed {checkpoint_dir} at step {start} of {steps}" if start else ""
        if note:
            bar.say(note)
        loop = _TrainLoop(model, optimizer, schedule, steps, per_step, bar)
        loop.steps_fn = _training_steps(
            model, optimizer, float(per_step), strategy, distribution, batch_size
        )
        loop.running, loop.where, loop.every, loop.log_every = (
            running,
            where,
            checkpoint_every,
            log_every,
        )
        loop.run(seqs, batch_size, seed, start, (val, eval_every, val_sequences, seq_len))
        if where is not None:
            save_checkpoint(where, model, optimizer, steps, loop.running)
        history, val_history, seconds, running = (
            loop.history,
            loop.val_history,
            loop.seconds,
            loop.running,
        )
    if val is not None and start < steps:
        ev = evaluate_language_model(model, val, seq_len, max_sequences=val_sequences)
        val_history.append((steps, steps * per_step, ev.nats_per_token))
    trained = max(steps - start, 0) * per_step
    return LMTrainResult(
        model,
        steps,
        steps * per_step,
        seconds,
        trained / max(seconds, 1e-9) if seconds else 0.0,
        running if running is not None else float("nan"),
        history,
        val_history,
        checkpoint_dir,
        start,
        note,
    )


class _TrainLoop:
    """The steps of one `train_language_model` call, with its logs and
    checkpoints."""

    def __init__(self, model, optimizer, schedule, steps, per_step, bar):
        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.steps, self.per_step, self.bar = steps, per_step, bar
        self.history, self.val_history = [], []
        self.running, self.where, self.every, self.log_every = None, None, None, 1
        self.steps_fn, self.seconds = None, 0.0

    def run(self, seqs, batch_size, seed, start, validation):
        """Steps ``start`` to the end; ``validation`` is ``(val, eval_every,
        val_sequences, seq_len)``."""
        val, eval_every, val_sequences, seq_len = validation
        t0 = time.perf_counter()
        for step in range(start, self.steps):
            loss = self.steps_fn(seqs[batch_indices(len(seqs), batch_size, step, seed)])
            self.running = loss if self.running is None else 0.95 * self.running + 0.05 * loss
            done = step + 1
            self.log(done, start)
            if val is not None and eval_every and done % eval_every == 0 and done < self.steps:
                self.steps_fn.sync()
                ev = evaluate_language_model(self.model, val, seq_len, max_sequences=val_sequences)
                self.val_history.append((done, done * self.per_step, ev.nats_per_token))
            if self.where is not None and self.every and done % self.every == 0:
                self.steps_fn.sync()
                save_checkpoint(self.where, self.model, self.optimizer, done, self.running)
        self.steps_fn.sync()
        self.seconds = time.perf_counter() - t0

    def log(self, done, start):
        tokens = done * self.per_step
        if done % self.log_every == 0 or done == self.steps:
            self.history.append((done, tokens, self.running, float(self.schedule(done))))
        self.bar.update(done, tokens, self.running, (done - start) * self.per_step)


# ------------------------------------------------------------ multi-worker


def free_ports(n):
    """``n`` distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def train_multiworker(
    config,
    data,
    token_budget,
    seq_len,
    batch_size,
    n_workers=2,
    lr=2e-3,
    warmup=0.05,
    seed=0,
    model_seed=0,
    timeout=300,
    workdir=None,
):
    """Train under ``MultiWorkerMirroredStrategy`` in local worker processes.

    Each of ``n_workers`` processes gets ``TF_CONFIG`` naming all of them on
    127.0.0.1, builds the model from ``config`` (``model.config``) with
    ``model_seed`` inside the strategy's scope and runs
    `train_language_model` on ``data`` with the *global* ``batch_size``.
    Returns the chief's final weights (a list of arrays, as
    ``model.get_weights()``).
    """
    if not uses_tensorflow():
        raise ValidationError(
            f"needs TensorFlow (MultiWorkerMirroredStrategy); {backend_name()} runs here: "
            "on JAX, keras.distribution.DataParallel spreads one process over its devices "
            "(train_language_model's distribution)",
            attr="backend",
        )
    n_workers = check_int("n_workers", n_workers)
    workdir = workdir or tempfile.mkdtemp(prefix="lm_multiworker")
    os.makedirs(workdir, exist_ok=True)
    np.save(os.path.join(workdir, "data.npy"), np.asarray(data, dtype=np.int32))
    spec = dict(
        config=config,
        token_budget=token_budget,
        seq_len=seq_len,
        batch_size=batch_size,
        lr=lr,
        warmup=warmup,
        seed=seed,
        model_seed=model_seed,
        workdir=workdir,
    )
    with open(os.path.join(workdir, "spec.json"), "w") as f:
        json.dump(spec, f)
    ports = free_ports(n_workers)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for i in range(n_workers):
        env = dict(
            os.environ,
            CUDA_VISIBLE_DEVICES="",
            TF_CPP_MIN_LOG_LEVEL="2",
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
        )
        log = open(os.path.join(workdir, f"worker{i}.log"), "w")
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "nengo_lmu.dl.lm_training", workdir],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    try:
        for p, _ in procs:
            p.wait(timeout=timeout)
    finally:
        for p, log in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            log.close()
    bad = [i for i, (p, _) in enumerate(procs) if p.returncode != 0]
    if bad:
        with open(os.path.join(workdir, f"worker{bad[0]}.log")) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f"worker {bad[0]} failed:\n{tail}")
    with np.load(os.path.join(workdir, "weights.npz")) as z:
        return [z[f"w{i}"] for i in range(len(z.files))]


def _worker_main(workdir):
    import tensorflow as tf

    # the strategy must exist before any other TensorFlow op runs
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with open(os.path.join(workdir, "spec.json")) as f:
        spec = json.load(f)
    data = np.load(os.path.join(workdir, "data.npy"))
    result = train_language_model(
        lambda: language_model_from_config(spec["config"], seed=spec["model_seed"]),
        data,
        spec["token_budget"],
        spec["seq_len"],
        spec["batch_size"],
        lr=spec["lr"],
        warmup=spec["warmup"],
        seed=spec["seed"],
        progress=False,
        strategy=strategy,
    )
    if _is_chief(strategy):
        weights = result.model.get_weights()
        np.savez(
            os.path.join(workdir, "weights.npz"), **{f"w{i}": w for i, w in enumerate(weights)}
        )


if __name__ == "__main__":
    _worker_main(sys.argv[1])


__all__ = [
    "WarmupCosine",
    "LMEval",
    "LMTrainResult",
    "as_sequences",
    "evaluate_language_model",
    "train_language_model",
    "make_training_steps",
    "load_checkpoint",
    "read_record",
    "write_record",
    "checkpoint_arrays",
    "save_checkpoint",
    "restore_checkpoint",
    "check_resume",
    "CHECKPOINT_FORMAT",
    "free_ports",
    "train_multiworker",
]
