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

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import TrainLMSettings, resolve
from nengo_lmu.info import MissingExtraError
from nengo_lmu.tables import format_table

MODELS = ("lmu", "transformer", "lmu_global")


def _require_keras(feature):
    """Import the Keras side, or say what ``feature`` needs: Keras 3 with a
    backend (the ``keras`` extra) or tf.keras 2.12 (the ``dl`` extra)."""
    try:
        import nengo_lmu.dl  # noqa: F401
    except MissingExtraError as e:
        raise MissingExtraError(f"{feature}: {e}") from e


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

    def line(self):
        """One line for the log."""
        return (
            f"{self.model:11s} N={self.target_params:>8,} ({self.params:,}) "
            f"budget={self.budget:>9,} seed={self.seed}: {self.nats_per_byte:.4f} nats/byte "
            f"{self.bits_per_byte:.3f} bits/byte, {self.tokens_per_second:,.0f} tok/s"
        )


def _scaling_run(model, kind, target, budget, seed, train, val, shared, progress):
    """Train ``model`` on ``budget`` tokens and evaluate it: one `LMRun`."""
    from nengo_lmu.dl.lm_training import evaluate_language_model, train_language_model

    seq_len = shared["seq_len"]
    res = train_language_model(
        model,
        train,
        budget,
        seq_len,
        shared["batch_size"],
        lr=shared["lr"],
        warmup=shared["warmup"],
        seed=seed,
        progress=progress,
    )
    ev = evaluate_language_model(model, val, seq_len)
    return LMRun(
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


#: The columns of `LMScalingResult.rows`.
SCALING_COLUMNS = (
    "model",
    "N target",
    "N",
    "tokens",
    "nats/byte",
    "sd",
    "bits/byte",
    "seeds",
    "tok/s",
)

#: The columns of `LMScalingResult.transformer_tokens_to_match`.
MATCH_COLUMNS = (
    "model",
    "N target",
    "tokens",
    "nats/byte",
    "transformer tokens to match",
    "ratio",
)


@dataclass
class LMScalingResult(ExperimentResult):
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
        """The mean loss of each model, size and budget (`rows`) as text."""
        return format_table(SCALING_COLUMNS, self.rows())

    def report_sections(self):
        match = format_table(MATCH_COLUMNS, self.transformer_tokens_to_match())
        return [f"corpus: {self.corpus}", self.table(), match]

    def rows(self):
        """Rows (`SCALING_COLUMNS`): model, N target, exact N, budget, mean
        nats/byte, spread, bits/byte, seeds, tokens/s."""
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
    _require_keras("the language model")
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
    _require_keras("the language model")
    from nengo_lmu.dl import lm_sizes
    from nengo_lmu.text import pack_sequences, stdlib_corpus

    corpus = corpus or stdlib_corpus(seed=0, max_files=max_files)
    train = pack_sequences(corpus.train, seq_len)
    val = pack_sequences(corpus.val, seq_len)[:val_sequences]
    shared = dict(seq_len=seq_len, batch_size=batch_size, lr=lr, warmup=warmup)
    runs = []
    for target in sizes:
        base = lm_sizes(target, order=order)
        for seed in seeds:
            for kind in models:
                for budget in budgets:
                    model = _make_model(kind, base, seq_len, order, theta, seed)
                    run = _scaling_run(
                        model, kind, target, budget, seed, train, val, shared, progress
                    )
                    runs.append(run)
                    if log:
                        log(run.line())
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
class LMCostResult(ExperimentResult):
    """What `run_lm_cost` returns: one row per (model, sequence length)."""

    rows: list  # (model, n, train s/token, train peak MB, generate ms/token)
    settings: dict

    def table(self):
        """Each row, in microseconds per training token, with the LMU's
        speed over each other model's at the same length."""
        lmu = {r[1]: r for r in self.rows if r[0] == "lmu"}
        rows = []
        for r in self.rows:
            peer = lmu.get(r[1]) if r[0] != "lmu" else None
            ratios = (peer[2] / r[2], peer[4] / r[4]) if peer else (None, None)
            rows.append((r[0], r[1], 1e6 * r[2], r[3], r[4]) + ratios)
        columns = ("model", "n", "train us/token", "train peak MB", "generate ms/token")
        return format_table(columns + ("lmu/this train", "lmu/this generate"), rows)

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
    _require_keras("the language model")
    from nengo_lmu.dl import lmu_language_model, transformer_language_model
    from nengo_lmu.text import VOCAB_SIZE

    if kind == "transformer":
        return transformer_language_model(VOCAB_SIZE, d, n_layers, seed=seed, max_len=max_len)
    return lmu_language_model(
        VOCAB_SIZE, d, n_layers, order, theta, seed=seed, global_attention=kind == "lmu_global"
    )


def _train_step_fn(model, n):
    """One Adam step on one sequence of ``n`` tokens, on whatever backend
    runs (one trace per length: the reduced-order path needs ``n``)."""
    from nengo_lmu.dl.compat import keras
    from nengo_lmu.dl.lm_steps import make_training_steps

    optimizer = keras.optimizers.Adam(1e-4)
    optimizer.build(model.trainable_variables)
    return make_training_steps(model, optimizer, n)


def _memory_probe(kind, n, d, n_layers, order, theta, seed):
    """Peak resident MB added by one training step in this (fresh) process."""
    from nengo_lmu.text import VOCAB_SIZE

    model = _build(kind, d, n_layers, order, theta, seed, max_len=n)
    step = _train_step_fn(model, n)
    seq = np.random.default_rng(seed).integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
    before = _rss_mb("VmRSS")
    step(seq)
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


def _fastest_train_step(model, seq, repeats):
    """The fastest of ``repeats`` training steps on ``seq`` (after one to
    trace): the least disturbed by other processes."""
    step = _train_step_fn(model, seq.shape[1] - 1)
    step(seq)  # trace
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step(seq)
        times.append(time.perf_counter() - t0)
    return min(times)


def _filled_state(stream, n, rng):
    """The stepper's state as ``n`` tokens would leave it: random values of
    the right shapes (the LMU memory is constant in size; key/value caches
    hold ``n`` positions, with room for one more)."""
    from nengo_lmu.dl.compat import ops

    def tensor(shape):
        return ops.convert_to_tensor(rng.normal(size=shape), dtype="float32")

    state = []
    for s in stream.state:
        if len(s) == 1:  # LMU memory only
            state.append((tensor(s[0].shape),))
            continue
        filled = [tensor((1, n + 1) + tuple(t.shape[2:])) for t in s[-2:]]
        memory = (tensor(s[0].shape),) if len(s) == 3 else ()  # LMU memory and a cache
        state.append(memory + tuple(filled))
    return tuple(state)


def _fastest_generation(stream, n, gen_steps, rng):
    """Seconds per generated token at a context of ``n`` tokens (the fastest
    of ``gen_steps`` steps, after one to trace)."""
    stream.reset(1)
    stream.state, stream.position = _filled_state(stream, n, rng), n
    stream.step([1])  # trace for this shape
    gen = []
    for _ in range(gen_steps):
        t0 = time.perf_counter()
        stream.step([1])
        gen.append(time.perf_counter() - t0)
    return min(gen)


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
    _require_keras("the language model")
    from nengo_lmu.dl import recurrent_lm
    from nengo_lmu.text import VOCAB_SIZE

    rng = np.random.default_rng(seed)
    built = {}
    for kind in models:
        model = _build(
            kind, d, n_layers, order, theta, seed, max_len=max(seq_lens) + gen_steps + 1
        )
        built[kind] = (model, recurrent_lm(model))
    rows = []
    # the models take turns at each length, so load from elsewhere hits both alike
    for n in sorted(seq_lens):
        seq = rng.integers(0, VOCAB_SIZE, (1, n + 1)).astype(np.int32)
        for kind in models:
            model, stream = built[kind]
            seconds = _fastest_train_step(model, seq, repeats)
            peak = (
                measure_train_memory(kind, n, d, n_layers, order, theta, seed)
                if measure_memory
                else float("nan")
            )
            row = (
                kind,
                n,
                seconds / n,
                peak,
                1e3 * _fastest_generation(stream, n, gen_steps, rng),
            )
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
class TrainLMResult(ExperimentResult):
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

    def table(self):
        """One row: the model, its size, the tokens trained, time and the
        validation loss."""
        t = self.train
        columns = ("model", "N (non-embedding)", "tokens", "seconds", "tokens/s")
        row = (self.model_kind, self.params, t.tokens, t.seconds, t.tokens_per_second)
        row += (self.val_nats_per_byte, self.val_bits_per_byte)
        return format_table(columns + ("val nats/byte", "val bits/byte"), [row])

    def report_sections(self):
        return [f"corpus: {self.corpus}", self.table()]


def train_lm(settings=None, resume=False, val_sequences=32, **overrides):
    """Train one language model on a corpus; evaluate it on the validation split.

    Parameters
    ----------
    settings : TrainLMSettings, optional
        The run (default `TrainLMSettings`; its fields may also be given as
        keywords): ``model`` is "lmu", "lmu_global" or "transformer", sized
        by `nengo_lmu.dl.lm_sizes` for ``params`` non-embedding parameters;
        the corpus is the Python standard library, or the text files of
        ``data``; checkpoints (and ``model.json``) go to ``checkpoint``
        (None: none are written).
    resume : bool
        Continue the run in ``checkpoint`` (same model and settings; see
        `nengo_lmu.dl.lm_training.train_language_model`).
    val_sequences : int
        Validation sequences evaluated at the end.
    """
    s = resolve(TrainLMSettings, settings, overrides)
    _require_keras("train-lm")
    from nengo_lmu.dl import lm_sizes
    from nengo_lmu.dl.lm_training import evaluate_language_model, train_language_model
    from nengo_lmu.text import pack_sequences
    from nengo_lmu.validation import check_choice

    check_choice("model", s.model, MODELS)
    corpus = _corpus(s.data, s.max_files)
    net = _make_model(
        s.model, lm_sizes(s.params, order=s.order), s.seq_len, s.order, s.theta, s.seed
    )
    res = train_language_model(
        net,
        corpus.train,
        s.tokens,
        s.seq_len,
        s.batch_size,
        lr=s.lr,
        seed=s.seed,
        checkpoint_dir=s.checkpoint,
        checkpoint_every=s.checkpoint_every,
        resume=resume,
        progress=s.progress,
    )
    val = pack_sequences(corpus.val, s.seq_len)[:val_sequences]
    ev = evaluate_language_model(net, val, s.seq_len)
    return TrainLMResult(
        s.model,
        net.non_embedding_parameters(),
        net.config,
        res,
        ev.nats_per_token,
        corpus.describe(),
    )


def _corpus(data, max_files):
    """The files of ``data`` (a folder), or the Python standard library."""
    from nengo_lmu.text import directory_corpus, stdlib_corpus

    if data:
        return directory_corpus(data, seed=0, max_files=max_files)
    return stdlib_corpus(seed=0, max_files=max_files)


def generate_text(checkpoint_dir, prompt, n=200, temperature=0.8, seed=0):
    """Load a trained model from ``checkpoint_dir`` and continue ``prompt`` (text)."""
    _require_keras("generate")
    from nengo_lmu.dl import recurrent_lm
    from nengo_lmu.dl.lm_checkpoints import load_checkpoint
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
