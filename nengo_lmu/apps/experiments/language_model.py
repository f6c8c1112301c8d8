"""Seed 003's comparison at this machine's scale: LMU LM vs a transformer.

`run_lm_scaling` trains the LMU language model (with and without global
attention) and a transformer with the same number of non-embedding
parameters (`nengo_lmu.dl.lm_sizes`) on the same byte-level tokens of the
Python standard library (`nengo_lmu.text.stdlib_corpus`) at several token
budgets, and reports validation cross-entropy in nats and bits per byte,
per-position loss and how many tokens the transformer needs to reach the
LMU's loss (log-linear interpolation between its budgets).

`train_lm` trains one model from settings (the CLI's ``train-lm``) and
`generate_text` samples from its checkpoint. The cost against sequence
length (`run_lm_cost`) is in `nengo_lmu.apps.experiments.lm_cost`.

They return dataclasses; the CLI, `benchmarks/lm_scaling.py` and notebook
07 call them.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import TrainLMSettings, resolve
from nengo_lmu.info import MissingExtraError
from nengo_lmu.tables import format_table

MODELS = ("lmu", "transformer", "lmu_global")


def require_keras(feature):
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
    require_keras("the language model")
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
    require_keras("the language model")
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
    require_keras("train-lm")
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
    require_keras("generate")
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
    "run_lm_scaling",
    "MODELS",
]
