"""Training and evaluating the language models of `.language_model`.

Seed 003 trains with Adam, a learning rate that rises linearly and then
decays to zero along a cosine (`WarmupCosine`), 1024-token sequences and a
fixed number of tokens. `train_language_model` does that with a *token
budget* as its stopping rule (``steps = budget // (batch_size * seq_len)``),
a one-line progress bar (tokens/s and the running loss), optional
validation along the way and checkpoints (resumed when the directory holds
one), under any `tf.distribute` strategy.

Multi-worker training: every worker computes the same global batch
(`nengo_lmu.text.batch_indices` is a pure function of seed and step) and
feeds its slice; the loss is summed over the replica's tokens and divided
by the *global* number of tokens, so the all-reduced gradient is the
single-worker gradient. `train_multiworker` starts local worker processes
under `tf.distribute.MultiWorkerMirroredStrategy` (``TF_CONFIG`` on free
127.0.0.1 ports): the same code runs across machines with their own
``TF_CONFIG``.
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
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.language_model import (
    LanguageModel,
    check_tokens,
    language_model_from_config,
)
from nengo_lmu.text import batch_indices, pack_sequences
from nengo_lmu.validation import check_int, check_positive


class WarmupCosine(tf.keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup to ``peak`` over ``warmup_steps``, then cosine decay to 0.

    Examples
    --------
    >>> s = WarmupCosine(1e-3, warmup_steps=10, total_steps=110)
    >>> [round(float(s(k)), 6) for k in (0, 5, 10, 60, 110)]
    [0.0, 0.0005, 0.001, 0.0005, 0.0]
    """

    def __init__(self, peak, warmup_steps, total_steps):
        super().__init__()
        self.peak = check_positive("lr", peak, self)
        self.warmup_steps = check_int("warmup_steps", warmup_steps, self, minimum=0)
        self.total_steps = check_int("total_steps", total_steps, self)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        w = float(max(self.warmup_steps, 1))
        warm = self.peak * step / w
        frac = tf.clip_by_value(
            (step - self.warmup_steps) / float(max(self.total_steps - self.warmup_steps, 1)),
            0.0,
            1.0,
        )
        cos = 0.5 * self.peak * (1.0 + tf.cos(math.pi * frac))
        return tf.where(step < self.warmup_steps, warm, cos)

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
    """What `train_language_model` returns (byte tokens: nats/token = nats/byte)."""

    model: object = field(repr=False)
    steps: int
    tokens: int
    seconds: float
    tokens_per_second: float
    final_train_loss: float
    history: list = field(repr=False)  # (step, tokens, running loss, lr)
    val_history: list = field(repr=False)  # (step, tokens, val nats/token)
    checkpoint_dir: str = None


def as_sequences(data, seq_len):
    """A packed ``(n, seq_len + 1)`` array from a stream or an already packed one."""
    data = np.asarray(data)
    if data.ndim == 1:
        return pack_sequences(data, seq_len)
    if data.ndim != 2 or data.shape[1] != seq_len + 1:
        raise ValidationError(
            f"must be a token stream or sequences of shape (n, {seq_len + 1}), got {data.shape}",
            attr="data",
            obj="train_language_model",
        )
    return data.astype(np.int32)


def evaluate_language_model(model, data, seq_len, batch_size=8, max_sequences=None):
    """Mean next-token cross-entropy (nats) and its value per position.

    ``data`` is a token stream (packed with `.pack_sequences`) or packed
    sequences; the first ``max_sequences`` are used (all if None).
    """
    seqs = as_sequences(data, seq_len)
    if max_sequences is not None:
        seqs = seqs[: check_int("max_sequences", max_sequences, "evaluate_language_model")]
    check_tokens(seqs, model.vocab_size, obj="evaluate_language_model")
    fn = _eval_fn(model)
    total = np.zeros(seq_len)
    for i in range(0, len(seqs), batch_size):
        b = seqs[i : i + batch_size]
        total += fn(tf.constant(b[:, :-1]), tf.constant(b[:, 1:])).numpy()
    per_pos = total / len(seqs)
    return LMEval(float(per_pos.mean()), per_pos, len(seqs))


def _eval_fn(model):
    if not hasattr(model, "_lm_eval_fn"):

        @tf.function(reduce_retracing=True)
        def fn(x, y):
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x))
            return tf.reduce_sum(ce, axis=0)

        model._lm_eval_fn = fn
    return model._lm_eval_fn


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
    progress=True,
    strategy=None,
    log_every=1,
):
    """Train a language model on a token budget (see the module docstring).

    Parameters
    ----------
    model : LanguageModel or callable
        A model from `.lmu_language_model` / `.transformer_language_model`,
        or a function of no arguments that makes one (needed with a
        ``strategy``, whose scope must hold the variables).
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
        Save model, optimizer and step there (every ``checkpoint_every``
        steps and at the end) with the model's config as ``model.json``;
        a directory that already holds a checkpoint is resumed.
    progress : bool
        Print the progress line to stderr.
    strategy : tf.distribute.Strategy, optional

    Returns
    -------
    LMTrainResult
    """
    seq_len = check_int("seq_len", seq_len, "train_language_model")
    batch_size = check_int("batch_size", batch_size, "train_language_model")
    token_budget = check_int("token_budget", token_budget, "train_language_model")
    per_step = batch_size * seq_len
    steps = token_budget // per_step
    if steps < 1:
        raise ValidationError(
            f"must cover at least one batch ({per_step} tokens), got {token_budget}",
            attr="token_budget",
            obj="train_language_model",
        )
    if not 0 <= warmup < 1:
        raise ValidationError(
            f"must be in [0, 1), got {warmup}", attr="warmup", obj="train_language_model"
        )
    seqs = as_sequences(train, seq_len)
    strategy = strategy or tf.distribute.get_strategy()
    n_rep = strategy.num_replicas_in_sync
    if batch_size % n_rep:
        raise ValidationError(
            f"must be a multiple of the {n_rep} replicas, got {batch_size}",
            attr="batch_size",
            obj="train_language_model",
        )
    with strategy.scope():
        if not isinstance(model, LanguageModel):
            model = model()
        check_tokens(seqs, model.vocab_size, obj="train")
        schedule = WarmupCosine(lr, int(round(warmup * steps)), steps)
        optimizer = tf.keras.optimizers.Adam(schedule)
        step_var = tf.Variable(0, dtype=tf.int64, trainable=False, name="lm_step")
    global_tokens = float(per_step)

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits)
            loss = tf.reduce_sum(ce) / global_tokens
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function
    def dist_step(x, y):
        per = strategy.run(replica_step, args=(x, y))
        step_var.assign_add(1)
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per, axis=None)

    manager = None
    chief = _is_chief(strategy)
    if checkpoint_dir is not None:
        ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, step=step_var)
        where = checkpoint_dir if chief else tempfile.mkdtemp(prefix="lm_worker_ckpt")
        manager = tf.train.CheckpointManager(ckpt, where, max_to_keep=2)
        if manager.latest_checkpoint:
            ckpt.restore(manager.latest_checkpoint)
        if chief:
            os.makedirs(checkpoint_dir, exist_ok=True)
            with open(os.path.join(checkpoint_dir, "model.json"), "w") as f:
                json.dump(model.config, f, indent=1)

    def local_batch(step):
        rows = seqs[batch_indices(len(seqs), batch_size, step, seed)]
        per_rep = batch_size // n_rep

        def value_fn(ctx):
            r = ctx.replica_id_in_sync_group
            part = rows[r * per_rep : (r + 1) * per_rep]
            return tf.constant(part[:, :-1]), tf.constant(part[:, 1:])

        return strategy.experimental_distribute_values_from_function(value_fn)

    start_step = int(step_var.numpy())
    bar = _Progress(steps, progress and chief)
    history, val_history = [], []
    running = None
    t0 = time.perf_counter()
    for step in range(start_step, steps):
        x, y = local_batch(step)
        loss = float(dist_step(x, y).numpy())
        running = loss if running is None else 0.95 * running + 0.05 * loss
        done = step + 1
        if done % log_every == 0 or done == steps:
            history.append((done, done * per_step, running, float(schedule(done))))
        bar.update(done, done * per_step, running, (done - start_step) * per_step)
        if val is not None and eval_every and done % eval_every == 0 and done < steps:
            ev = evaluate_language_model(model, val, seq_len, max_sequences=val_sequences)
            val_history.append((done, done * per_step, ev.nats_per_token))
        if manager is not None and checkpoint_every and done % checkpoint_every == 0:
            manager.save(checkpoint_number=done)
    seconds = time.perf_counter() - t0
    if manager is not None:
        manager.save(checkpoint_number=steps)
    if val is not None:
        ev = evaluate_language_model(model, val, seq_len, max_sequences=val_sequences)
        val_history.append((steps, steps * per_step, ev.nats_per_token))
    trained = max(steps - start_step, 0) * per_step
    return LMTrainResult(
        model,
        steps,
        steps * per_step,
        seconds,
        trained / max(seconds, 1e-9),
        running if running is not None else float("nan"),
        history,
        val_history,
        checkpoint_dir,
    )


def load_checkpoint(checkpoint_dir):
    """Rebuild the model saved by `train_language_model` in ``checkpoint_dir``."""
    path = os.path.join(checkpoint_dir, "model.json")
    if not os.path.exists(path):
        raise ValidationError(
            f"holds no model.json: {checkpoint_dir!r}",
            attr="checkpoint_dir",
            obj="load_checkpoint",
        )
    with open(path) as f:
        config = json.load(f)
    model = language_model_from_config(config)
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest is None:
        raise ValidationError(
            f"holds no checkpoint: {checkpoint_dir!r}",
            attr="checkpoint_dir",
            obj="load_checkpoint",
        )
    tf.train.Checkpoint(model=model).restore(latest).expect_partial()
    return model


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
    n_workers = check_int("n_workers", n_workers, "train_multiworker")
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
    "load_checkpoint",
    "free_ports",
    "train_multiworker",
]
