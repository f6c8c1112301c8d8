"""The layers of the LMU language model (seed 003) and of its transformer
baseline: the FFN, causal and implicit self-attention, and the two blocks,
each with a ``step`` for token-by-token generation (`nengo_lmu.dl.lm_stream`).
The models that stack them are in `nengo_lmu.dl.language_model`.

Written once against Keras 3 and ``keras.ops`` (`nengo_lmu.dl.compat`):
they run on Keras 3's JAX, PyTorch and TensorFlow backends and on tf.keras
2.12. Each layer lists its weights by name (`named_weights`), the same on
every backend: the checkpoints of `nengo_lmu.dl.lm_checkpoints` store them so.
"""

import math

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import keras, ops
from nengo_lmu.dl.memory import (
    chunk_constants,
    complex_product,
    default_chunk_size,
    discrete_memory,
    impulse_response,
    legendre_memory,
)


def gelu(x):
    """The exact (erf) GELU used everywhere in these models."""
    return ops.gelu(x, approximate=False)


def norm_step(norm, x):
    """Apply a LayerNormalization built on (b, n, d) inputs to one step (b, d)."""
    return norm(x[:, None])[:, 0]


#: the positions a new key/value cache has room for (`.lm_stream` doubles it
#: when full)
CACHE_CAPACITY = 16


def softmax(s):
    """``softmax`` over the last axis (ones where it has one element, as
    softmax gives, without Keras 3's warning about such an axis)."""
    if s.shape[-1] == 1:
        return ops.ones_like(s)
    return ops.softmax(s, axis=-1)


def _const(array):
    """A float32 numpy constant as a tensor of the backend."""
    return ops.convert_to_tensor(array, dtype="float32")


#: the weights of the Keras layers used here, by attribute (the same names on
#: Keras 3 and tf.keras 2)
KERAS_WEIGHTS = {
    "Dense": ("kernel", "bias"),
    "LayerNormalization": ("gamma", "beta"),
    "Embedding": ("embeddings",),
}


def named_weights(layer, prefix=""):
    """``[(name, variable)]`` of ``layer`` and its parts, in a fixed order.

    The layers of this module name their parts (``PARTS``) and their own
    weights (``WEIGHTS``); Keras' Dense, LayerNormalization and Embedding
    their usual attributes. The names (``block0/lmu/L``) are the same on
    every Keras and backend, unlike the variables' own names.
    """
    kind = type(layer).__name__
    if kind in KERAS_WEIGHTS:
        own = [(w, getattr(layer, w)) for w in KERAS_WEIGHTS[kind]]
        return [(prefix + w, v) for w, v in own if v is not None]
    out = [(prefix + w, getattr(layer, w)) for w in getattr(layer, "WEIGHTS", ())]
    for part in layer.PARTS:
        sub = getattr(layer, part)
        if isinstance(sub, (list, tuple)):
            for i, s in enumerate(sub):
                out += named_weights(s, f"{prefix}{part}{i}/")
        else:
            out += named_weights(sub, f"{prefix}{part}/")
    return out


class FeedForward(keras.layers.Layer):
    """``gelu(x W1 + b1) W2 + b2`` on the last axis (``2 d d' + d' + d`` weights)."""

    PARTS = ("up", "down")

    def __init__(self, d, d_ffn, **kwargs):
        super().__init__(**kwargs)
        self.d, self.d_ffn = d, d_ffn
        self.up = keras.layers.Dense(d_ffn, activation=gelu, name="up")
        self.down = keras.layers.Dense(d, name="down")

    def call(self, x):
        return self.down(self.up(x))


class CausalSelfAttention(keras.layers.Layer):
    """Causal multi-head self-attention (``4 d^2 + 4 d`` weights).

    `call` takes a whole sequence; `step` one position and a key/value
    cache of shape ``(batch, t, heads, d / heads)`` each.
    """

    PARTS = ("qkv", "out")

    def __init__(self, d, n_heads, **kwargs):
        super().__init__(**kwargs)
        if d % n_heads:
            raise ValidationError(f"must divide the width d={d}, got {n_heads}", attr="n_heads")
        self.d, self.n_heads, self.dh = d, n_heads, d // n_heads
        self.qkv = keras.layers.Dense(3 * d, name="qkv")
        self.out = keras.layers.Dense(d, name="out")

    def _split(self, x):
        shape = ops.shape(x)
        x = ops.reshape(x, (*shape[:-1], 3, self.n_heads, self.dh))
        return x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]

    def call(self, x):
        q, k, v = self._split(self.qkv(x))  # (b, n, h, dh)
        s = ops.einsum("bihe,bjhe->bhij", q, k) / math.sqrt(self.dh)
        n = ops.shape(x)[1]
        causal = ops.cast(ops.tril(ops.ones((n, n), dtype="int32")), "bool")
        s = ops.where(causal[None, None], s, -1e9)
        a = softmax(s)
        y = ops.einsum("bhij,bjhe->bihe", a, v)
        return self.out(ops.reshape(y, ops.shape(x)))

    def step(self, x, k_cache, v_cache, position):
        """One position: ``x`` (b, d) at ``position`` (an int32 scalar); the
        caches ``(b, capacity, heads, d / heads)`` hold the earlier
        positions in their first ``position`` slots (``capacity >
        position``). Returns ``(y, k_cache, v_cache)`` with this position's
        key and value written into slot ``position``.

        Fixed-capacity caches keep the shapes of a step the same from token
        to token (one compilation per capacity, not one per token); the
        slots after ``position`` are masked out of the softmax."""
        q, k, v = self._split(self.qkv(x))  # (b, h, dh)
        slots = ops.arange(ops.shape(k_cache)[1], dtype="int32")
        here = (slots == position)[None, :, None, None]
        k_cache = ops.where(here, k[:, None], k_cache)
        v_cache = ops.where(here, v[:, None], v_cache)
        s = ops.einsum("bhe,bjhe->bhj", q, k_cache) / math.sqrt(self.dh)
        s = ops.where((slots <= position)[None, None], s, -1e9)
        y = ops.einsum("bhj,bjhe->bhe", softmax(s), v_cache)
        return self.out(ops.reshape(y, ops.shape(x))), k_cache, v_cache

    def empty_cache(self, batch_size, capacity):
        """Zero key and value caches with room for ``capacity`` positions."""
        shape = (batch_size, capacity, self.n_heads, self.dh)
        return ops.zeros(shape), ops.zeros(shape)


class ImplicitSelfAttention(keras.layers.Layer):
    """Seed 003's Legendre memory per dimension and implicit self-attention.

    Input ``(batch, n, d)``; output ``m`` ``(batch, n, d)``. Weights:
    ``L`` (3, q', q), ``b`` (3, q'), ``p`` (q',), ``c`` (d,):
    ``3 q q' + 4 q' + d`` in all.

    ``path`` (the constructor's argument) is kept as ``memory_path``: Keras
    3's layers have a read-only ``path`` of their own.
    """

    PARTS = ()
    WEIGHTS = ("L", "b", "p", "c")

    def __init__(
        self, d, order, theta, q_reduced, path="reduced", memory_mode="chunked", **kwargs
    ):
        super().__init__(**kwargs)
        self.d, self.order, self.theta, self.q_reduced = d, order, theta, q_reduced
        self.memory_path, self.memory_mode = path, memory_mode
        Ad, Bd = discrete_memory(order, theta)
        self._Ad, self._Bd = Ad, Bd
        self._AdT = np.asarray(Ad.T, dtype=np.float32)
        self._Bd32 = np.asarray(Bd, dtype=np.float32)
        self._H = {}
        if path == "reduced" and memory_mode == "chunked":
            self.chunk = default_chunk_size(order)
            K, W_end, AdL_T = chunk_constants(Ad, Bd, self.chunk)
            self._K = K.astype(np.float32)  # (L + q, L, q)
            self._W_end = W_end.astype(np.float32)  # (L, q)
            self._AdL_T = AdL_T.astype(np.float32)  # (q, q)

    def build(self, input_shape):
        q, qr = self.order, self.q_reduced
        self.L = self.add_weight(
            name="L", shape=(3, qr, q), initializer=keras.initializers.GlorotUniform()
        )
        self.b = self.add_weight(name="b", shape=(3, qr), initializer="zeros")
        self.p = self.add_weight(
            name="p", shape=(qr,), initializer=keras.initializers.Constant(1.0 / qr)
        )
        self.c = self.add_weight(name="c", shape=(self.d,), initializer="zeros")
        super().build(input_shape)

    def _impulse(self, n):
        if n not in self._H:
            self._H[n] = impulse_response(self._Ad, self._Bd, n).astype(np.float32)
        return _const(self._H[n])

    def qkv_parallel(self, x):
        """``gelu(L_i M_t^T + b_i)`` for every step: (b, n, 3, q', d)."""
        n = x.shape[1]
        if self.memory_path == "direct":
            m = legendre_memory(x, self.order, self.theta, mode=self.memory_mode)
            m = ops.reshape(m, (ops.shape(x)[0], -1, self.d, self.order))
            z = ops.einsum("bndq,iaq->bniad", m, self.L)
        elif self.memory_mode == "chunked":
            z = self._reduced_chunked(x)
        else:
            if n is None:
                raise ValidationError(
                    "the reduced-order path needs a sequence length known when the "
                    "model is traced (or use path='direct')",
                    attr="path",
                )
            z = self._reduced_fft(x, n)
        return gelu(z + self.b[None, None, :, :, None])

    def _reduced_fft(self, x, n):
        """Appendix A.1 by FFT: convolve with ``L_i H`` (``3 q'`` channels)."""
        G = ops.einsum("tq,iaq->iat", self._impulse(n), self.L)  # (3, q', n)
        N = 1 << int(np.ceil(np.log2(2 * n)))
        Gf = ops.rfft(G, fft_length=N)  # (3, q', F) as (real, imag)
        Xf = ops.rfft(ops.transpose(x, (0, 2, 1)), fft_length=N)  # (b, d, F)
        Xf = tuple(part[:, None, None] for part in Xf)
        Gf = tuple(part[None, :, :, None] for part in Gf)
        z = ops.irfft(complex_product(Xf, Gf), fft_length=N)
        return ops.transpose(z[..., :n], (0, 4, 1, 2, 3))  # (b, n, 3, q', d)

    def _reduced_chunked(self, x):
        """Appendix A.1 by a chunked scan: ``3 q'`` output channels, not ``q``.

        The ``q``-dimensional memory is only formed at chunk boundaries (a
        short scan over chunks); inside a chunk every step comes out of one
        product ``[u_chunk, s_start] @ K~`` where ``K~`` is the chunk's
        Toeplitz block of ``L_i H`` stacked over ``L_i Ad^(k+1)``: ``2 (Lc +
        q) 3 q'`` flops per step and channel instead of ``2 (Lc + q) q``.
        """
        q, Lc, qr = self.order, self.chunk, self.q_reduced
        b, n = ops.shape(x)[0], ops.shape(x)[1]
        u = ops.reshape(ops.transpose(x, (0, 2, 1)), (-1, n))  # (b d, n)
        pad = (-n) % Lc
        u = ops.pad(u, [[0, 0], [0, pad]])
        n_chunks = (n + pad) // Lc
        uc = ops.reshape(u, (-1, n_chunks, Lc))
        ends = ops.einsum("mcl,lq->cmq", uc, _const(self._W_end))
        s0 = ops.zeros((ops.shape(uc)[0], q), dtype=x.dtype)
        AdL_T = _const(self._AdL_T)

        def carry(s, e):
            s = ops.matmul(s, AdL_T) + e
            return s, s

        _, after = ops.scan(carry, s0, ends)
        starts = ops.concatenate([s0[None], after[:-1]], axis=0)  # (C, m, q)
        Kt = ops.reshape(
            ops.einsum("rlq,iaq->rlia", _const(self._K), self.L), (Lc + q, Lc * 3 * qr)
        )
        xs = ops.concatenate([uc, ops.transpose(starts, (1, 0, 2))], axis=-1)
        z = ops.matmul(ops.reshape(xs, (-1, Lc + q)), Kt)
        z = ops.reshape(z, (b, self.d, n_chunks * Lc, 3, qr))[:, :, :n]
        return ops.transpose(z, (0, 2, 3, 4, 1))  # (b, n, 3, q', d)

    def attend(self, qkv):
        """``p softmax(Q K^T / sqrt(d)) V + c`` over the last two axes."""
        q, k, v = qkv[..., 0, :, :], qkv[..., 1, :, :], qkv[..., 2, :, :]
        s = ops.einsum("...ad,...cd->...ac", q, k) / math.sqrt(self.d)
        mp = ops.einsum("...ac,...cd->...ad", softmax(s), v)
        return ops.einsum("a,...ad->...d", self.p, mp) + self.c

    def call(self, x):
        return self.attend(self.qkv_parallel(x))

    def step(self, x, m):
        """One token: ``x`` (b, d), memory state ``m`` (b, d, q)."""
        m = ops.matmul(m, _const(self._AdT)) + x[..., None] * _const(self._Bd32)
        z = ops.einsum("bdq,iaq->biad", m, self.L)
        return self.attend(gelu(z + self.b[None, :, :, None])), m


def _norm(name):
    return keras.layers.LayerNormalization(epsilon=1e-5, name=name)


class LMUBlock(keras.layers.Layer):
    """One layer of seed 003's model (pre-norm, three skips)."""

    PARTS = ("norm1", "first", "norm2", "memory", "norm3", "ffn2")

    def __init__(
        self,
        d,
        d_ffn,
        order,
        theta,
        q_reduced,
        global_attention=False,
        n_heads=4,
        path="reduced",
        memory_mode="chunked",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.global_attention = global_attention
        self.norm1, self.norm2, self.norm3 = _norm("norm1"), _norm("norm2"), _norm("norm3")
        self.first = (
            CausalSelfAttention(d, n_heads, name="global_attention")
            if global_attention
            else FeedForward(d, d_ffn, name="ffn1")
        )
        self.memory = ImplicitSelfAttention(
            d, order, theta, q_reduced, path=path, memory_mode=memory_mode, name="lmu"
        )
        self.ffn2 = FeedForward(d, d_ffn, name="ffn2")

    def call(self, x):
        h = x + self.first(self.norm1(x))
        h = h + self.memory(self.norm2(h))
        return h + self.ffn2(self.norm3(h))

    def initial_state(self, batch_size, capacity=CACHE_CAPACITY):
        """The memory ``(batch, d, q)`` (and, with global attention, empty
        key/value caches with room for ``capacity`` positions)."""
        m = ops.zeros((batch_size, self.memory.d, self.memory.order))
        if not self.global_attention:
            return (m,)
        return (m, *self.first.empty_cache(batch_size, capacity))

    def step(self, x, state, position):
        if self.global_attention:
            y, kc, vc = self.first.step(norm_step(self.norm1, x), state[1], state[2], position)
            h = x + y
        else:
            h = x + self.first(norm_step(self.norm1, x))
        y, m = self.memory.step(norm_step(self.norm2, h), state[0])
        h = h + y
        out = h + self.ffn2(norm_step(self.norm3, h))
        return out, ((m, kc, vc) if self.global_attention else (m,))


class TransformerBlock(keras.layers.Layer):
    """A pre-norm transformer layer: ``x + attn(LN x)``, then ``+ FFN(LN .)``."""

    PARTS = ("norm1", "attention", "norm2", "ffn")

    def __init__(self, d, d_ffn, n_heads, **kwargs):
        super().__init__(**kwargs)
        self.norm1, self.norm2 = _norm("norm1"), _norm("norm2")
        self.attention = CausalSelfAttention(d, n_heads, name="attention")
        self.ffn = FeedForward(d, d_ffn, name="ffn")

    def call(self, x):
        h = x + self.attention(self.norm1(x))
        return h + self.ffn(self.norm2(h))

    def initial_state(self, batch_size, capacity=CACHE_CAPACITY):
        """Empty key/value caches with room for ``capacity`` positions."""
        return self.attention.empty_cache(batch_size, capacity)

    def step(self, x, state, position):
        y, kc, vc = self.attention.step(norm_step(self.norm1, x), state[0], state[1], position)
        h = x + y
        return h + self.ffn(norm_step(self.norm2, h)), (kc, vc)


__all__ = [
    "gelu",
    "norm_step",
    "named_weights",
    "FeedForward",
    "CausalSelfAttention",
    "ImplicitSelfAttention",
    "LMUBlock",
    "TransformerBlock",
]
