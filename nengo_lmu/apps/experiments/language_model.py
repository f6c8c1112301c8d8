"""Seed 003's comparison at this machine's scale: LMU LM vs a transformer.

`run_lm_scaling` trains the LMU language model (with and without global
attention) and a transformer with the same number of non-embedding
parameters (`nengo_lmu.dl.lm_sizes`) on the same byte-level tokens of the
Python standard library (`nengo_lmu.text.stdlib_corpus`) at several token
budgets, and reports validation cross-entropy in nats and bits per byte,
per-position loss and how many tokens the transformer needs to reach the
LMU's loss (log-linear interpolation between its budgets).

`run_lm_cost` measures cost against sequence length: training time per
token and the peak resident memory of one training step, and the
generation time per token at a given context length (the LMU's recurrent
step against the transformer's key/value-cache step).

Both return dataclasses; the CLI, `benchmarks/lm_scaling.py` and notebook
07 call them.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from nengo_lmu.info import require_extra

MODELS = ("lmu", "transformer", "lmu_global")


@dataclass
class LMRun:
    """One trained model: its validation loss and speed."""

    model: str
    target_params: int
    params: int
    budget: int
    seed: int
    tokens: int
    nats_per_byte: float
    seconds: float
    tokens_per_second: float
    per_position: np.ndarray = field(repr=False)
    history: list = field(repr=False, default_factory=list)

    @property
    def bits_per_byte(self):
        return self.nats_per_byte / math.log(2)


@dataclass
class LMScalingResult:
    """What `run_lm_scaling` returns."""

    runs: list
    settings: dict
    corpus: str

    def mean_loss(self, model, target, budget):
        v = [
            r.nats_per_byte
            for r in self.runs
            if (r.model, r.target_params, r.budget) == (model, target, budget)
        ]
        return (float(np.mean(v)), float(np.std(v)), len(v)) if v else (None, None, 0)

    def table(self):
        """Rows: model, N target, exact N, budget, mean nats/byte, spread, bits/byte, seeds."""
        rows = []
        for target in self.settings["sizes"]:
            for model in self.settings["models"]:
                for budget in self.settings["budgets"]:
                    m, s, n = self.mean_loss(model, target, budget)
                    if n == 0:
                        continue
                    params = next(
                        r.params
                        for r in self.runs
                        if (r.model, r.target_params) == (model, target)
                    )
                    tps = np.mean(
                        [
                            r.tokens_per_second
                            for r in self.runs
                            if (r.model, r.target_params, r.budget) == (model, target, budget)
                        ]
                    )
                    rows.append(
                        (model, target, params, budget, m, s, m / math.log(2), n, float(tps))
                    )
        return rows

    def transformer_tokens_to_match(self):
        """For each LMU model, size and budget: transformer tokens to reach its loss.

        Log-linear interpolation of the transformer's mean loss against
        log(budget); outside the measured budgets the answer is ``"< b_min"``
        or ``"> b_max"``. Returns rows ``(model, target, budget, loss,
        tokens, ratio)``.
        """
        rows = []
        budgets = np.array(sorted(self.settings["budgets"]), dtype=float)
        for target in self.settings["sizes"]:
            tr = np.array([self.mean_loss("transformer", target, b)[0] for b in budgets])
            if any(v is None for v in tr):
                continue
            for model in self.settings["models"]:
                if model == "transformer":
                    continue
                for b in budgets:
                    loss = self.mean_loss(model, target, int(b))[0]
                    if loss is None:
                        continue
                    tokens, ratio = _tokens_to_reach(budgets, tr, loss)
                    rows.append(
                        (
                            model,
                            target,
                            int(b),
                            loss,
                            tokens,
                            ratio if isinstance(tokens, str) else tokens / b,
                        )
                    )
        return rows


def _tokens_to_reach(budgets, losses, loss):
    if loss >= losses[0]:
        return f"<= {int(budgets[0])}", "-"
    if loss < losses.min():
        return f"> {int(budgets[-1])}", "-"
    logb = np.log(budgets)
    for i in range(len(budgets) - 1):
        lo, hi = losses[i], losses[i + 1]
        if min(lo, hi) <= loss <= max(lo, hi) and lo != hi:
            f = (lo - loss) / (lo - hi)
            return float(np.exp(logb[i] + f * (logb[i + 1] - logb[i]))), None
    return f"> {int(budgets[-1])}", "-"


def _make_model(kind, sizes, seq_len, order, theta, seed):
    require_extra("dl", "the language model")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import lm_sizes, lmu_language_model, transformer_language_model
    from nengo_lmu.text import VOCAB_SIZE

    if kind == "transformer":
        return transformer_language_model(
            VOCAB_SIZE, max_len=max(seq_len, 1024), seed=seed, **sizes.transformer_kwargs()
        )
    if kind == "lmu_global":
        sizes = lm_sizes(sizes.target, order=order, global_attention=True)
    return lmu_language_model(VOCAB_SIZE, theta=theta, seed=seed, **sizes.lmu_kwargs())


def run_lm_scaling(
    sizes=(20_000, 80_000),
    budgets=(30_000, 100_000, 300_000),
    seeds=(0,),
    models=MODELS,
    seq_len=1024,
    batch_size=8,
    order=40,
    theta=128,
    lr=3e-3,
    warmup=0.05,
    val_sequences=32,
    max_files=None,
    corpus=None,
    progress=False,
    log=print,
):
    """Train every model, size, budget and seed; evaluate on validation data.

    Parameters
    ----------
    sizes : ints
        Target non-embedding parameter counts (seed 003's ``N``).
    budgets : ints
        Training tokens (each run is its own schedule: warmup, cosine decay
        to zero at the budget).
    seeds : ints
        Each seed sets the initial weights and the batch order.
    models : subset of ("lmu", "transformer", "lmu_global")
    seq_len, batch_size, order, theta, lr, warmup
        Shared settings (``theta`` and ``order`` for the LMU memory).
    val_sequences : int
        Validation sequences evaluated (the first ones of the split).
    max_files : int, optional
        Use a subset of the standard library (quick runs).
    corpus : TextCorpus, optional
        Use this corpus instead of the standard library.
    """
    require_extra("dl", "the language model")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import lm_sizes
    from nengo_lmu.dl.lm_training import evaluate_language_model, train_language_model
    from nengo_lmu.text import pack_sequences, stdlib_corpus

    corpus = corpus or stdlib_corpus(seed=0, max_files=max_files)
    train = pack_sequences(corpus.train, seq_len)
    val = pack_sequences(corpus.val, seq_len)[:val_sequences]
    runs = []
    for target in sizes:
        base = lm_sizes(target, order=order)
        for seed in seeds:
            for kind in models:
                for budget in budgets:
                    model = _make_model(kind, base, seq_len, order, theta, seed)
                    res = train_language_model(
                        model,
                        train,
                        budget,
                        seq_len,
                        batch_size,
                        lr=lr,
                        warmup=warmup,
                        seed=seed,
                        progress=progress,
                    )
                    ev = evaluate_language_model(model, val, seq_len)
                    run = LMRun(
                        kind,
                        target,
                        model.non_embedding_parameters(),
                        budget,
                        seed,
                        res.tokens,
                        ev.nats_per_token,
                        res.seconds,
                        res.tokens_per_second,
                        ev.per_position,
                        res.history,
                    )
                    runs.append(run)
                    if log:
                        log(
                            f"{kind:11s} N={target:>8,} ({run.params:,}) budget={budget:>9,} "
                            f"seed={seed}: {run.nats_per_byte:.4f} nats/byte "
                            f"{run.bits_per_byte:.3f} bits/byte, "
                            f"{run.tokens_per_second:,.0f} tok/s"
                        )
    settings = dict(
        sizes=list(sizes),
        budgets=list(budgets),
        seeds=list(seeds),
        models=list(models),
        seq_len=seq_len,
        batch_size=batch_size,
        order=order,
        theta=theta,
        lr=lr,
        warmup=warmup,
        val_sequences=len(val),
        max_files=max_files,
    )
    return LMScalingResult(runs, settings, corpus.describe())


@dataclass
class LMCostResult:
    """What `run_lm_cost` returns: one row per (model, sequence length)."""

    rows: list  # (model, n, train s/token, train peak MB, generate ms/token)
    settings: dict

    def column(self, model, index):
        return [r[index] for r in self.rows if r[0] == model]


def _rss_mb(field_name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _build(kind, d, n_layers, order, theta, seed, max_len):
    require_extra("dl", "the language model")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import lmu_language_model, transformer_language_model
    from nengo_lmu.text import VOCAB_SIZE

    if kind == "transformer":
        return transformer_language_model(VOCAB_SIZE, d, n_layers, seed=seed, max_len=max_len)
    return lmu_language_model(
        VOCAB_SIZE, d, n_layers, order, theta, seed=seed, global_attention=kind == "lmu_global"
    )


def _train_step_fn(model):
    import tensorflow as tf

    opt = tf.keras.optimizers.Adam(1e-4)

    # one trace per length: the reduced-order path needs n when traced
    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, training=True))
            )
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return train_step


def _memory_probe(kind, n, d, n_layers, order, theta, seed):
    """Peak resident MB added by one training step in this (fresh) process."""
    import tensorflow as tf

    from nengo_lmu.text import VOCAB_SIZE

    model = _build(kind, d, n_layers, order, theta, seed, max_len=n)
    step = _train_step_fn(model)
    seq = np.random.default_rng(seed).integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
    x, y = tf.constant(seq[:, :-1]), tf.constant(seq[:, 1:])
    before = _rss_mb("VmRSS")
    step(x, y).numpy()
    return _rss_mb("VmHWM") - before


def measure_train_memory(kind, n, d=32, n_layers=2, order=40, theta=128, seed=0):
    """Run `_memory_probe` in a fresh Python process; MB (nan if it fails).

    A fresh process, with glibc's mmap threshold fixed low so that large
    freed buffers go back to the system, is the only clean way to read a
    peak on the CPU: TensorFlow offers no allocator statistics there. The
    number includes tracing the step (about constant in ``n``).
    """
    import os
    import subprocess
    import sys

    code = (
        "import sys; from nengo_lmu.apps.experiments.language_model import _memory_probe; "
        f"print(_memory_probe({kind!r}, {n}, {d}, {n_layers}, {order}, {theta}, {seed}))"
    )
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        MALLOC_MMAP_THRESHOLD_="131072",
        CUDA_VISIBLE_DEVICES="",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def run_lm_cost(
    seq_lens=(256, 512, 1024, 2048, 4096, 8192),
    d=32,
    n_layers=2,
    order=40,
    theta=128,
    repeats=3,
    gen_steps=20,
    models=("lmu", "transformer"),
    seed=0,
    measure_memory=True,
    log=print,
):
    """Training and generation cost against sequence length (batch 1).

    For each model and length ``n`` (the models take turns): the fastest of
    ``repeats`` training steps (forward, backward, Adam update) on one
    sequence of ``n`` tokens, divided by ``n``; the rise of the process's peak resident memory during that
    step (`measure_train_memory`: Linux ``VmHWM`` of a fresh process); and the
    time per generated token when the stepper already holds a context of
    ``n`` tokens (the transformer's cache filled with ``n`` positions, the
    LMU's memory a constant-size state), the fastest of ``gen_steps`` steps.
    Fastest-of timings are the least disturbed by other processes.
    """
    import tensorflow as tf

    require_extra("dl", "the language model")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import recurrent_lm
    from nengo_lmu.text import VOCAB_SIZE

    rng = np.random.default_rng(seed)
    built = {}
    for kind in models:
        model = _build(
            kind, d, n_layers, order, theta, seed, max_len=max(seq_lens) + gen_steps + 1
        )
        built[kind] = (model, _train_step_fn(model), recurrent_lm(model))
    rows = []
    # the models take turns at each length, so load from elsewhere hits both alike
    for n in sorted(seq_lens):
        seq = rng.integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
        x, y = tf.constant(seq[:, :-1]), tf.constant(seq[:, 1:])
        for kind in models:
            model, train_step, stream = built[kind]
            train_step(x, y)  # trace
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                train_step(x, y).numpy()
                times.append(time.perf_counter() - t0)
            peak = (
                measure_train_memory(kind, n, d, n_layers, order, theta, seed)
                if measure_memory
                else float("nan")
            )
            # generation at context n: fill the state as n tokens would leave it
            stream.reset(1)
            state = []
            for s in stream.state:
                if len(s) == 1:  # LMU memory only: constant size
                    state.append((tf.constant(rng.normal(size=s[0].shape), tf.float32),))
                    continue
                filled = [
                    tf.constant(rng.normal(size=(1, n) + tuple(t.shape[2:])), tf.float32)
                    for t in s[-2:]
                ]
                if len(s) == 3:  # LMU memory and a key/value cache
                    state.append((tf.constant(rng.normal(size=s[0].shape), tf.float32), *filled))
                else:
                    state.append(tuple(filled))
            stream.state, stream.position = tuple(state), n
            stream.step([1])  # trace for this shape
            gen = []
            for _ in range(gen_steps):
                t0 = time.perf_counter()
                stream.step([1])
                gen.append(time.perf_counter() - t0)
            # the fastest repeat: the least disturbed by other processes
            row = (kind, n, min(times) / n, peak, 1e3 * min(gen))
            rows.append(row)
            if log:
                log(
                    f"{kind:11s} n={n:5d}: train {1e6 * row[2]:.1f} us/token, "
                    f"peak +{peak:.0f} MB, generate {row[4]:.2f} ms/token"
                )
    rows.sort(key=lambda r: (list(models).index(r[0]), r[1]))
    settings = dict(
        seq_lens=list(seq_lens),
        d=d,
        n_layers=n_layers,
        order=order,
        theta=theta,
        repeats=repeats,
        gen_steps=gen_steps,
        models=list(models),
        seed=seed,
    )
    return LMCostResult(rows, settings)


@dataclass
class TrainLMResult:
    """What `train_lm` returns."""

    model_kind: str
    params: int
    config: dict
    train: object = field(repr=False)  # LMTrainResult
    val_nats_per_byte: float = float("nan")
    corpus: str = ""

    @property
    def val_bits_per_byte(self):
        return self.val_nats_per_byte / math.log(2)


def train_lm(
    model="lmu",
    params=20_000,
    token_budget=200_000,
    seq_len=256,
    batch_size=8,
    order=40,
    theta=128,
    lr=3e-3,
    seed=0,
    data_dir=None,
    max_files=None,
    checkpoint_dir=None,
    checkpoint_every=None,
    val_sequences=32,
    progress=True,
):
    """Train one language model on a corpus; evaluate it on the validation split.

    ``model`` is "lmu", "lmu_global" or "transformer", sized by
    `nengo_lmu.dl.lm_sizes` for ``params`` non-embedding parameters. The
    corpus is the Python standard library, or the text files of
    ``data_dir``. With ``checkpoint_dir``, checkpoints (and ``model.json``)
    go there, and an existing checkpoint there is resumed.
    """
    require_extra("dl", "train-lm")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import lm_sizes
    from nengo_lmu.dl.lm_training import evaluate_language_model, train_language_model
    from nengo_lmu.text import directory_corpus, pack_sequences, stdlib_corpus
    from nengo_lmu.validation import check_choice

    check_choice("model", model, MODELS, "train_lm")
    corpus = (
        directory_corpus(data_dir, seed=0, max_files=max_files)
        if data_dir
        else stdlib_corpus(seed=0, max_files=max_files)
    )
    sizes = lm_sizes(params, order=order)
    net = _make_model(model, sizes, seq_len, order, theta, seed)
    res = train_language_model(
        net,
        corpus.train,
        token_budget,
        seq_len,
        batch_size,
        lr=lr,
        seed=seed,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=checkpoint_every,
        progress=progress,
    )
    val = pack_sequences(corpus.val, seq_len)[:val_sequences]
    ev = evaluate_language_model(net, val, seq_len)
    return TrainLMResult(
        model,
        net.non_embedding_parameters(),
        net.config,
        res,
        ev.nats_per_token,
        corpus.describe(),
    )


def generate_text(checkpoint_dir, prompt, n=200, temperature=0.8, seed=0):
    """Load a trained model from ``checkpoint_dir`` and continue ``prompt`` (text)."""
    require_extra("dl", "generate")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import recurrent_lm
    from nengo_lmu.dl.lm_training import load_checkpoint
    from nengo_lmu.text import decode, encode

    model = load_checkpoint(checkpoint_dir)
    tokens = recurrent_lm(model).generate(encode(prompt), n, temperature=temperature, seed=seed)
    return decode(tokens)


__all__ = [
    "TrainLMResult",
    "train_lm",
    "generate_text",
    "LMRun",
    "LMScalingResult",
    "LMCostResult",
    "run_lm_scaling",
    "run_lm_cost",
    "measure_train_memory",
    "MODELS",
]
