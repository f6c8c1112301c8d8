"""The LMU language model of seed 003, its transformer baseline and a stepper.

Seed 003 (Chilkuri et al., "Language modeling using LMUs") builds each
layer from

1. an FFN on the input (or, with ``global_attention=True``, causal
   multi-head self-attention in its place),
2. a Legendre memory per dimension: at every step ``t`` the matrix
   ``M_t`` (``d x q``) holds the last ``theta`` steps of each of the ``d``
   channels compressed onto ``q`` Legendre polynomials,
3. *implicit self-attention* over that matrix:
   ``Q, K, V = gelu(L_i M_t^T + b_i)`` with ``L_i`` (``q' x q``), so each is
   ``q' x d``; ``M' = softmax(Q K^T / sqrt(d)) V``; ``m = p M' + c``,
4. an FFN after it,

with pre-layer norms and skip connections around each part. Since ``L_i``
is linear, ``L_i M_t^T`` is the input convolved with ``L_i H`` (``H`` the
memory's impulse response): appendix A.1's *reduced-order* path computes
``3 q'`` channels per dimension instead of ``q`` (the default here,
``path="reduced"``, by a chunked scan that forms the ``q``-dimensional
memory only at chunk boundaries, or by FFT with ``memory_mode="fft"``);
``path="direct"`` builds ``M`` with `.legendre_memory` first. All give the
same numbers (tests). On a 2-core CPU the chunked reduced path trained
about 1.5x faster than the direct one and 6x faster than its FFT form.

`nengo_lmu.dl.lm_stream.recurrent_lm` runs either model one token at a time: the memory becomes
the state update ``m <- Ad m + Bd x``, global attention and the
transformer keep a key/value cache.

Conventions: one step per token (``theta`` is in tokens); logits come from
the token embedding's transpose (tied weights), so the *non-embedding*
parameters (seed 003's ``N``) are all trainable weights but the token
embedding (and the transformer's positional table).
"""

import math
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.lm_layers import (  # noqa: F401
    CausalSelfAttention,
    FeedForward,
    ImplicitSelfAttention,
    LMUBlock,
    TransformerBlock,
    gelu,
    norm_step,
)
from nengo_lmu.validation import check_bool, check_choice, check_int, check_positive

PATHS = ("reduced", "direct")
POSITIONS = ("learned", "sinusoidal")


def check_tokens(tokens, vocab_size, obj=None):
    """Raise `ValidationError` if concrete ``tokens`` leave ``[0, vocab_size)``.

    Symbolic tensors (inside `tf.function`) get a graph assertion instead.
    Returns an int32 tensor or array.
    """
    if isinstance(tokens, (np.ndarray, list, tuple)) or (
        tf.is_tensor(tokens) and hasattr(tokens, "numpy")
    ):
        arr = np.asarray(tokens)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValidationError(
                f"must be integer token ids, got dtype {arr.dtype}", attr="tokens", obj=obj
            )
        if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
            bad = arr[(arr < 0) | (arr >= vocab_size)].flat[0]
            raise ValidationError(
                f"must be token ids in [0, {vocab_size}) (vocab_size), got {bad}",
                attr="tokens",
                obj=obj,
            )
        return tf.cast(tokens, tf.int32)
    tokens = tf.cast(tokens, tf.int32)
    tf.debugging.assert_non_negative(tokens, message="tokens must be >= 0")
    tf.debugging.assert_less(tokens, vocab_size, message="tokens must be < vocab_size")
    return tokens


class LanguageModel(tf.keras.Model):
    """Common part: token embedding, blocks, final norm, tied output."""

    kind = None

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(config)
        self.vocab_size, self.d = config["vocab_size"], config["d"]
        self.embedding = tf.keras.layers.Embedding(
            self.vocab_size,
            self.d,
            name="embedding",
            embeddings_initializer=tf.keras.initializers.RandomNormal(stddev=0.02),
        )
        self.final_norm = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")

    def embed(self, tokens):
        return self.embedding(tokens)

    def head(self, h):
        h = norm_step(self.final_norm, h) if h.shape.rank == 2 else self.final_norm(h)
        return tf.matmul(h, self.embedding.embeddings, transpose_b=True)

    def __call__(self, tokens, *args, **kwargs):
        # checked before Keras's __call__, which would wrap the error
        tokens = check_tokens(tokens, self.vocab_size, obj=self)
        if tokens.shape.rank != 2:
            raise ValidationError(
                f"must have shape (batch, n), got {tokens.shape}", attr="tokens", obj=self
            )
        max_len = getattr(self, "max_len", None)
        if max_len is not None and tokens.shape[1] is not None and tokens.shape[1] > max_len:
            raise ValidationError(
                f"sequence length {tokens.shape[1]} exceeds the positional table "
                f"(max_len={max_len})",
                attr="max_len",
                obj=self,
            )
        return super().__call__(tokens, *args, **kwargs)

    def call(self, tokens):
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h)
        return self.head(h)

    def build_for(self, n=8):
        """Create the weights by calling the model on ``(1, n)`` zeros."""
        self(np.zeros((1, n), dtype=np.int32))
        return self

    def non_embedding_parameters(self):
        """Trainable weights but the token embedding (and positional table)."""
        skip = {id(self.embedding.embeddings)}
        pos = getattr(self, "positions", None)
        if pos is not None:
            skip.add(id(pos))
        return int(sum(np.prod(w.shape) for w in self.trainable_weights if id(w) not in skip))


class LMULanguageModel(LanguageModel):
    """See `lmu_language_model`."""

    kind = "lmu"

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        c = config
        self.blocks = [
            LMUBlock(
                c["d"],
                c["d_ffn"],
                c["order"],
                c["theta"],
                c["q_reduced"],
                global_attention=c["global_attention"],
                n_heads=c["n_heads"],
                path=c["path"],
                memory_mode=c["memory_mode"],
                name=f"block{i}",
            )
            for i in range(c["n_layers"])
        ]


class TransformerLanguageModel(LanguageModel):
    """See `transformer_language_model`."""

    kind = "transformer"

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        c = config
        self.max_len = c["max_len"]
        if c["positions"] == "learned":
            self.positions = self.add_weight(
                "positions",
                (c["max_len"], c["d"]),
                initializer=tf.keras.initializers.RandomNormal(stddev=0.02),
            )
        else:
            pos = np.arange(c["max_len"])[:, None]
            freq = np.exp(-np.log(10000.0) * np.arange(0, c["d"], 2) / c["d"])
            table = np.zeros((c["max_len"], c["d"]), dtype=np.float32)
            table[:, 0::2] = np.sin(pos * freq)
            table[:, 1::2] = np.cos(pos * freq)[:, : c["d"] // 2]
            self.positions = tf.constant(table)
        self.blocks = [
            TransformerBlock(c["d"], c["d_ffn"], c["n_heads"], name=f"block{i}")
            for i in range(c["n_layers"])
        ]

    def embed(self, tokens):
        n = tf.shape(tokens)[1]
        return self.embedding(tokens) + self.positions[None, :n]

    def non_embedding_parameters(self):
        skip = {id(self.embedding.embeddings)}
        if isinstance(self.positions, tf.Variable):
            skip.add(id(self.positions))
        return int(sum(np.prod(w.shape) for w in self.trainable_weights if id(w) not in skip))


def _common(vocab_size, d, n_layers, d_ffn, n_heads, obj):
    vocab_size = check_int("vocab_size", vocab_size, obj, minimum=2)
    d = check_int("d", d, obj)
    n_layers = check_int("n_layers", n_layers, obj)
    d_ffn = 4 * d if d_ffn is None else check_int("d_ffn", d_ffn, obj)
    n_heads = check_int("n_heads", n_heads, obj)
    if d % n_heads:
        raise ValidationError(f"must divide d={d}, got {n_heads}", attr="n_heads", obj=obj)
    return dict(vocab_size=vocab_size, d=d, n_layers=n_layers, d_ffn=d_ffn, n_heads=n_heads)


def lmu_language_model(
    vocab_size,
    d,
    n_layers,
    order,
    theta,
    q_reduced=None,
    global_attention=False,
    d_ffn=None,
    n_heads=4,
    path="reduced",
    memory_mode="chunked",
    seed=None,
):
    """Seed 003's LMU language model with implicit self-attention.

    Parameters
    ----------
    vocab_size : int
        Number of token ids (257 for bytes plus a separator).
    d : int
        Width (embedding and every layer).
    n_layers : int
        Number of `LMUBlock` layers.
    order : int
        Memory order ``q`` per dimension.
    theta : float
        Memory window in tokens (> 1).
    q_reduced : int, optional
        ``q'``, the rows of each ``L_i``; default ``max(1, round(order / 10))``.
        At most ``order``.
    global_attention : bool
        Causal multi-head self-attention in place of each layer's first FFN.
    d_ffn : int, optional
        FFN hidden width (default ``4 d``).
    n_heads : int
        Heads of the global attention.
    path : "reduced" or "direct"
        Appendix A.1's convolution with ``L_i H`` (default) or the memory
        ``M`` first (by `.legendre_memory` in ``memory_mode``).
    memory_mode : "chunked", "fft" or "recurrent"
        How the convolution runs: a chunked scan (default; the fastest on a
        CPU), an FFT (needs the sequence length when traced), or, on the
        direct path only, the step-by-step reference.
    seed : int, optional
        Seeds TensorFlow's initialisers (`tf.keras.utils.set_random_seed`).

    Returns
    -------
    LMULanguageModel
        A Keras model from ``(batch, n)`` int tokens to ``(batch, n,
        vocab_size)`` logits, already built.

    Examples
    --------
    >>> model = lmu_language_model(257, d=16, n_layers=1, order=8, theta=16)
    >>> model(np.zeros((2, 5), dtype=np.int32)).shape
    TensorShape([2, 5, 257])
    """
    c = _common(vocab_size, d, n_layers, d_ffn, n_heads, "lmu_language_model")
    order = check_int("order", order, "lmu_language_model")
    theta = check_positive("theta", theta, "lmu_language_model")
    if theta <= 1:
        raise ValidationError(
            f"must be > 1 token, got {theta}", attr="theta", obj="lmu_language_model"
        )
    q_reduced = max(1, round(order / 10)) if q_reduced is None else q_reduced
    q_reduced = check_int("q_reduced", q_reduced, "lmu_language_model", maximum=order)
    check_bool("global_attention", global_attention, "lmu_language_model")
    check_choice("path", path, PATHS, "lmu_language_model")
    check_choice("memory_mode", memory_mode, ("chunked", "fft", "recurrent"), "lmu_language_model")
    if path == "reduced" and memory_mode == "recurrent":
        raise ValidationError(
            "'recurrent' needs path='direct' (the reduced path is a convolution: "
            "'chunked' or 'fft')",
            attr="memory_mode",
            obj="lmu_language_model",
        )
    c.update(
        order=order,
        theta=theta,
        q_reduced=q_reduced,
        global_attention=bool(global_attention),
        path=path,
        memory_mode=memory_mode,
    )
    if seed is not None:
        tf.keras.utils.set_random_seed(int(seed))
    return LMULanguageModel(c, name="lmu_lm").build_for()


def transformer_language_model(
    vocab_size, d, n_layers, d_ffn=None, n_heads=4, max_len=1024, positions="learned", seed=None
):
    """A standard causal pre-norm transformer (the baseline of seed 003).

    ``max_len`` is the positional table's length: longer sequences are a
    `ValidationError`. ``positions`` is "learned" (trainable, not counted as
    non-embedding) or "sinusoidal" (fixed). Other parameters as in
    `lmu_language_model`.

    Examples
    --------
    >>> model = transformer_language_model(257, d=16, n_layers=1, max_len=32)
    >>> model(np.zeros((1, 4), dtype=np.int32)).shape
    TensorShape([1, 4, 257])
    """
    c = _common(vocab_size, d, n_layers, d_ffn, n_heads, "transformer_language_model")
    c["max_len"] = check_int("max_len", max_len, "transformer_language_model")
    c["positions"] = check_choice("positions", positions, POSITIONS, "transformer_language_model")
    if seed is not None:
        tf.keras.utils.set_random_seed(int(seed))
    return TransformerLanguageModel(c, name="transformer_lm").build_for()


def language_model_from_config(config, seed=None):
    """Rebuild a model from its ``model.config`` (e.g. read from JSON)."""
    c = dict(config)
    kind = c.pop("kind", None) or ("lmu" if "order" in c else "transformer")
    if kind == "lmu":
        keys = (
            "vocab_size",
            "d",
            "n_layers",
            "order",
            "theta",
            "q_reduced",
            "global_attention",
            "d_ffn",
            "n_heads",
            "path",
            "memory_mode",
        )
        return lmu_language_model(**{k: c[k] for k in keys}, seed=seed)
    keys = ("vocab_size", "d", "n_layers", "d_ffn", "n_heads", "max_len", "positions")
    return transformer_language_model(**{k: c[k] for k in keys}, seed=seed)


# ---------------------------------------------------------------- sizes


def lmu_non_embedding_count(d, n_layers, order, q_reduced, d_ffn=None, global_attention=False):
    """Exact non-embedding parameters of `lmu_language_model` (by formula)."""
    d_ffn = 4 * d if d_ffn is None else d_ffn
    ffn = 2 * d * d_ffn + d_ffn + d
    first = 4 * d * d + 4 * d if global_attention else ffn
    memory = 3 * order * q_reduced + 4 * q_reduced + d
    return n_layers * (6 * d + first + memory + ffn) + 2 * d


def transformer_non_embedding_count(d, n_layers, d_ffn=None):
    """Exact non-embedding parameters of `transformer_language_model`."""
    d_ffn = 4 * d if d_ffn is None else d_ffn
    return n_layers * (4 * d + 4 * d * d + 4 * d + 2 * d * d_ffn + d_ffn + d) + 2 * d


@dataclass
class LMSizes:
    """What `lm_sizes` picks for a target of non-embedding parameters."""

    target: int
    d: int
    transformer_layers: int
    transformer_d_ffn: int
    transformer_params: int
    lmu_layers: int
    lmu_d_ffn: int
    lmu_params: int
    order: int
    q_reduced: int
    global_attention: bool

    def lmu_kwargs(self):
        return dict(
            d=self.d,
            n_layers=self.lmu_layers,
            d_ffn=self.lmu_d_ffn,
            order=self.order,
            q_reduced=self.q_reduced,
            global_attention=self.global_attention,
        )

    def transformer_kwargs(self):
        return dict(d=self.d, n_layers=self.transformer_layers, d_ffn=self.transformer_d_ffn)


def lm_sizes(n_params, order=40, q_reduced=None, n_heads=4, n_layers=None, global_attention=False):
    """Width and depth of both models for ``n_params`` non-embedding weights.

    Seed 003's rule ``d = sqrt(N / 24)`` (rounded to a multiple of
    ``n_heads``); the transformer takes ``round(N / (12 d^2))`` layers (at
    least 1) with ``d_ffn = 4 d``; the LMU model takes the same number of
    layers (or ``n_layers``) and the FFN width that brings its exact count
    closest to the transformer's. Both exact counts are reported.

    Examples
    --------
    >>> s = lm_sizes(100_000)
    >>> s.d, s.transformer_layers, abs(s.lmu_params - s.transformer_params) < 0.05 * s.target
    (64, 2, True)
    """
    n_params = check_int("n_params", n_params, "lm_sizes", minimum=100)
    order = check_int("order", order, "lm_sizes")
    q_reduced = max(1, round(order / 10)) if q_reduced is None else q_reduced
    q_reduced = check_int("q_reduced", q_reduced, "lm_sizes", maximum=order)
    d = max(n_heads, int(round(math.sqrt(n_params / 24) / n_heads)) * n_heads)
    t_layers = max(1, int(round(n_params / (12 * d * d))))
    t_params = transformer_non_embedding_count(d, t_layers)
    l_layers = t_layers if n_layers is None else check_int("n_layers", n_layers, "lm_sizes")

    def count(f):
        return lmu_non_embedding_count(d, l_layers, order, q_reduced, f, global_attention)

    # the count is linear in d_ffn: solve, then take the better neighbour
    slope = count(2) - count(1)
    f0 = max(1, int((t_params - count(0)) // slope))
    f = min((f0, f0 + 1), key=lambda f: abs(count(f) - t_params))
    return LMSizes(
        n_params,
        d,
        t_layers,
        4 * d,
        t_params,
        l_layers,
        f,
        count(f),
        order,
        q_reduced,
        bool(global_attention),
    )


__all__ = [
    "lmu_language_model",
    "transformer_language_model",
    "language_model_from_config",
    "LMSizes",
    "lm_sizes",
    "lmu_non_embedding_count",
    "transformer_non_embedding_count",
    "LMUBlock",
    "TransformerBlock",
    "ImplicitSelfAttention",
    "CausalSelfAttention",
    "FeedForward",
    "LMULanguageModel",
    "TransformerLanguageModel",
    "check_tokens",
]
