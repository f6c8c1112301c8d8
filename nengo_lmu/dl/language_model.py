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
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import (
    concrete_array,
    keras,
    matmul_transposed,
    ops,
    uses_tensorflow,
)
from nengo_lmu.dl.lm_layers import LMUBlock, TransformerBlock, named_weights, norm_step
from nengo_lmu.validation import check_bool, check_choice, check_int, check_positive

PATHS = ("reduced", "direct")
POSITIONS = ("learned", "sinusoidal")
KINDS = ("lmu", "transformer")


def check_tokens(tokens, vocab_size, attr="tokens"):
    """Raise `ValidationError` if concrete ``tokens`` leave ``[0, vocab_size)``.

    Traced tensors cannot be checked in Python: TensorFlow's graphs get an
    assertion instead; JAX's traced functions are checked where their
    inputs were made (`train_language_model` checks the whole corpus).
    Returns an int32 tensor.
    """
    arr = concrete_array(tokens)
    if arr is not None:
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValidationError(f"must be integer token ids, got dtype {arr.dtype}", attr=attr)
        if arr.size and (arr.min() < 0 or arr.max() >= vocab_size):
            bad = arr[(arr < 0) | (arr >= vocab_size)].flat[0]
            raise ValidationError(
                f"must be token ids in [0, {vocab_size}) (vocab_size), got {bad}", attr=attr
            )
        return ops.convert_to_tensor(arr, dtype="int32")
    tokens = ops.cast(tokens, "int32")
    if uses_tensorflow():
        import tensorflow as tf

        tf.debugging.assert_non_negative(tokens, message="tokens must be >= 0")
        tf.debugging.assert_less(tokens, vocab_size, message="tokens must be < vocab_size")
    return tokens


class LanguageModel(keras.Model):
    """Common part: token embedding, blocks, final norm, tied output.

    ``config`` (the model's kind and settings, a dict of numbers and
    strings) rebuilds it with `language_model_from_config`.
    """

    kind = None
    PARTS = ("embedding", "blocks", "final_norm")

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = dict(config, kind=self.kind)
        self.vocab_size, self.d = config["vocab_size"], config["d"]
        self.embedding = keras.layers.Embedding(
            self.vocab_size,
            self.d,
            name="embedding",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=0.02),
        )
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")

    def embed(self, tokens):
        return self.embedding(tokens)

    def head(self, h):
        h = norm_step(self.final_norm, h) if len(h.shape) == 2 else self.final_norm(h)
        return matmul_transposed(h, self.embedding.embeddings)

    def __call__(self, tokens, *args, **kwargs):
        # checked before Keras's __call__, which would wrap the error
        tokens = check_tokens(tokens, self.vocab_size)
        if len(tokens.shape) != 2:
            raise ValidationError(
                f"must have shape (batch, n), got {tuple(tokens.shape)}", attr="tokens"
            )
        max_len = getattr(self, "max_len", None)
        if max_len is not None and tokens.shape[1] is not None and tokens.shape[1] > max_len:
            raise ValidationError(
                f"sequence length {tokens.shape[1]} exceeds the positional table "
                f"(max_len={max_len})",
                attr="max_len",
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

    def named_weights(self):
        """``[(name, variable)]`` of every weight, in a fixed order, named the
        same on every Keras and backend (``embedding/embeddings``,
        ``blocks0/lmu/L``, ...): what checkpoints store."""
        return named_weights(self)

    def embedding_weights(self):
        """The names of the weights that are not counted as non-embedding."""
        return ("embedding/embeddings",)

    def non_embedding_parameters(self):
        """Trainable weights but the token embedding (and positional table)."""
        skip = self.embedding_weights()
        return int(
            sum(
                np.prod(v.shape)
                for name, v in self.named_weights()
                if name not in skip and v.trainable
            )
        )


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


def sinusoidal_table(max_len, d):
    """The fixed positional table of a transformer (``max_len``, ``d``), float32."""
    pos = np.arange(max_len)[:, None]
    freq = np.exp(-np.log(10000.0) * np.arange(0, d, 2) / d)
    table = np.zeros((max_len, d), dtype=np.float32)
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq)[:, : d // 2]
    return table


class TransformerLanguageModel(LanguageModel):
    """See `transformer_language_model`."""

    kind = "transformer"

    def __init__(self, config, **kwargs):
        super().__init__(config, **kwargs)
        c = config
        self.max_len = c["max_len"]
        self.learned_positions = c["positions"] == "learned"
        if self.learned_positions:
            self.positions = self.add_weight(
                name="positions",
                shape=(c["max_len"], c["d"]),
                initializer=keras.initializers.RandomNormal(stddev=0.02),
            )
        else:
            self._table = sinusoidal_table(c["max_len"], c["d"])
        self.blocks = [
            TransformerBlock(c["d"], c["d_ffn"], c["n_heads"], name=f"block{i}")
            for i in range(c["n_layers"])
        ]

    @property
    def WEIGHTS(self):
        return ("positions",) if self.learned_positions else ()

    def position_table(self):
        """The positional table as a tensor (a variable's value where learned)."""
        if self.learned_positions:
            return self.positions
        return ops.convert_to_tensor(self._table)

    def embed(self, tokens):
        n = ops.shape(tokens)[1]
        return self.embedding(tokens) + self.position_table()[None, :n]

    def embedding_weights(self):
        return ("embedding/embeddings", "positions")


def _common(vocab_size, d, n_layers, d_ffn, n_heads):
    vocab_size = check_int("vocab_size", vocab_size, minimum=2)
    d = check_int("d", d)
    n_layers = check_int("n_layers", n_layers)
    d_ffn = 4 * d if d_ffn is None else check_int("d_ffn", d_ffn)
    n_heads = check_int("n_heads", n_heads)
    if d % n_heads:
        raise ValidationError(f"must divide d={d}, got {n_heads}", attr="n_heads")
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
        Seeds the initialisers (`keras.utils.set_random_seed`: Python's, numpy's
        and the backend's generators).

    Returns
    -------
    LMULanguageModel
        A Keras model from ``(batch, n)`` int tokens to ``(batch, n,
        vocab_size)`` logits, already built.

    Examples
    --------
    >>> model = lmu_language_model(257, d=16, n_layers=1, order=8, theta=16)
    >>> tuple(model(np.zeros((2, 5), dtype=np.int32)).shape)
    (2, 5, 257)
    """
    c = _common(vocab_size, d, n_layers, d_ffn, n_heads)
    order = check_int("order", order)
    theta = check_positive("theta", theta)
    if theta <= 1:
        raise ValidationError(f"must be > 1 token, got {theta}", attr="theta")
    q_reduced = max(1, round(order / 10)) if q_reduced is None else q_reduced
    q_reduced = check_int("q_reduced", q_reduced, "lmu_language_model", maximum=order)
    check_bool("global_attention", global_attention)
    check_choice("path", path, PATHS)
    check_choice("memory_mode", memory_mode, ("chunked", "fft", "recurrent"))
    if path == "reduced" and memory_mode == "recurrent":
        raise ValidationError(
            "'recurrent' needs path='direct' (the reduced path is a convolution: "
            "'chunked' or 'fft')",
            attr="memory_mode",
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
        keras.utils.set_random_seed(int(seed))
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
    >>> tuple(model(np.zeros((1, 4), dtype=np.int32)).shape)
    (1, 4, 257)
    """
    c = _common(vocab_size, d, n_layers, d_ffn, n_heads)
    c["max_len"] = check_int("max_len", max_len)
    c["positions"] = check_choice("positions", positions, POSITIONS)
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    return TransformerLanguageModel(c, name="transformer_lm").build_for()


#: the settings of each kind of model, in the order of its function's arguments
CONFIG_KEYS = {
    "lmu": (
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
    ),
    "transformer": ("vocab_size", "d", "n_layers", "d_ffn", "n_heads", "max_len", "positions"),
}


def language_model_from_config(config, seed=None):
    """Rebuild a model from its ``model.config`` (e.g. read from JSON).

    ``config["kind"]`` is "lmu" or "transformer" (where it is missing, a
    config with an ``order`` is an LMU model's).
    """
    if not isinstance(config, dict):
        raise ValidationError(f"must be a dict, got {type(config).__name__}", attr="config")
    c = dict(config)
    kind = c.pop("kind", None) or ("lmu" if "order" in c else "transformer")
    check_choice("config['kind']", kind, KINDS)
    missing = [k for k in CONFIG_KEYS[kind] if k not in c]
    if missing:
        raise ValidationError(f"a {kind} model's config lacks {', '.join(missing)}", attr="config")
    make = lmu_language_model if kind == "lmu" else transformer_language_model
    return make(**{k: c[k] for k in CONFIG_KEYS[kind]}, seed=seed)


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
    order = check_int("order", order)
    q_reduced = max(1, round(order / 10)) if q_reduced is None else q_reduced
    q_reduced = check_int("q_reduced", q_reduced, "lm_sizes", maximum=order)
    d = max(n_heads, int(round(math.sqrt(n_params / 24) / n_heads)) * n_heads)
    t_layers = max(1, int(round(n_params / (12 * d * d))))
    t_params = transformer_non_embedding_count(d, t_layers)
    l_layers = t_layers if n_layers is None else check_int("n_layers", n_layers)

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
    "LanguageModel",
    "LMULanguageModel",
    "TransformerLanguageModel",
    "check_tokens",
    "sinusoidal_table",
    "CONFIG_KEYS",
]
