"""Training and evaluating the language models of `.language_model`.

Seed 003 trains with Adam, a learning rate that rises linearly and then
decays to zero along a cosine (`WarmupCosine`), 1024-token sequences and a
fixed number of tokens. `train_language_model` does that with a *token
budget* as its stopping rule (``steps = budget // (batch_size * seq_len)``),
a one-line progress bar (tokens/s and the running loss), optional
validation along the way and checkpoints that a later call resumes.

It runs on every backend of Keras 3 and on tf.keras 2.12 (the steps of
`.lm_steps`), and distributed with ``keras.distribution`` on JAX
(``DataParallel``) or under a `tf.distribute` strategy on TensorFlow
(`.lm_multiworker` starts local workers). The checkpoint folders are
`.lm_checkpoints`'.
"""

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import (
    backend_name,
    keras,
    ops,
    sparse_cross_entropy,
    to_numpy,
    uses_tensorflow,
)
from nengo_lmu.dl.language_model import LanguageModel, check_tokens
from nengo_lmu.dl.lm_checkpoints import open_checkpoints, save_checkpoint
from nengo_lmu.dl.lm_steps import (
    distribution_of,
    distribution_scope,
    is_chief,
    make_training_steps,
)
from nengo_lmu.text import batch_indices, pack_sequences
from nengo_lmu.validation import check_int, check_positive


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


# ------------------------------------------------------------ the loop


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


def _build_training(model, seqs, lr, warmup, steps, strategy, distribution):
    """The model (made here where ``model`` is a function), its schedule and
    its Adam optimizer, built over the model's trainable variables."""
    with distribution_scope(strategy, distribution):
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
    """Train a language model on a token budget (see the module docstring;
    `.lm_checkpoints` for the checkpoint folders and the resume rules).

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
    strategy, distribution = distribution_of(strategy, distribution, batch_size)
    model, schedule, optimizer = _build_training(
        model, seqs, lr, warmup, steps, strategy, distribution
    )
    chief = strategy is None or is_chief(strategy)
    run = dict(token_budget=int(token_budget), seq_len=seq_len, batch_size=batch_size)
    run.update(lr=float(lr), warmup=float(warmup), seed=int(seed))
    start, running, where = open_checkpoints(checkpoint_dir, model, optimizer, run, resume, chief)
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
        loop.steps_fn = make_training_steps(
            model, optimizer, per_step, batch_size, strategy, distribution
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


__all__ = [
    "WarmupCosine",
    "LMEval",
    "LMTrainResult",
    "as_sequences",
    "evaluate_language_model",
    "train_language_model",
]
