"""The layers of the LMU language model (seed 003) and of its transformer
baseline: the FFN, causal and implicit self-attention, and the two blocks,
each with a ``step`` for token-by-token generation (`nengo_lmu.dl.lm_stream`).
The models that stack them are in `nengo_lmu.dl.language_model`."""

import math

import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.memory import (
    chunk_constants,
    default_chunk_size,
    discrete_memory,
    impulse_response,
    legendre_memory,
)


def gelu(x):
    """The exact (erf) GELU used everywhere in these models."""
    return tf.nn.gelu(x, approximate=False)


def norm_step(norm, x):
    """Apply a LayerNormalization built on (b, n, d) inputs to one step (b, d)."""
    return norm(x[:, None])[:, 0]


class FeedForward(tf.keras.layers.Layer):
    """``gelu(x W1 + b1) W2 + b2`` on the last axis (``2 d d' + d' + d`` weights)."""

    def __init__(self, d, d_ffn, **kwargs):
        super().__init__(**kwargs)
        self.d, self.d_ffn = d, d_ffn
        self.up = tf.keras.layers.Dense(d_ffn, activation=gelu, name="up")
        self.down = tf.keras.layers.Dense(d, name="down")

    def call(self, x):
        return self.down(self.up(x))


class CausalSelfAttention(tf.keras.layers.Layer):
    """Causal multi-head self-attention (``4 d^2 + 4 d`` weights).

    `call` takes a whole sequence; `step` one position and a key/value
    cache of shape ``(batch, t, heads, d / heads)`` each.
    """

    def __init__(self, d, n_heads, **kwargs):
        super().__init__(**kwargs)
        if d % n_heads:
            raise ValidationError(
                f"must divide the width d={d}, got {n_heads}", attr="n_heads", obj=self
            )
        self.d, self.n_heads, self.dh = d, n_heads, d // n_heads
        self.qkv = tf.keras.layers.Dense(3 * d, name="qkv")
        self.out = tf.keras.layers.Dense(d, name="out")

    def _split(self, x):
        shape = tf.shape(x)
        x = tf.reshape(x, tf.concat([shape[:-1], [3, self.n_heads, self.dh]], 0))
        return tf.unstack(x, axis=-3)

    def call(self, x):
        q, k, v = self._split(self.qkv(x))  # (b, n, h, dh)
        s = tf.einsum("bihe,bjhe->bhij", q, k) / math.sqrt(self.dh)
        n = tf.shape(x)[1]
        causal = tf.linalg.band_part(tf.ones((n, n), dtype=tf.bool), -1, 0)
        s = tf.where(causal[None, None], s, tf.constant(-1e9, s.dtype))
        a = tf.nn.softmax(s, axis=-1)
        y = tf.einsum("bhij,bjhe->bihe", a, v)
        return self.out(tf.reshape(y, tf.shape(x)))

    def step(self, x, k_cache, v_cache):
        """One position: ``x`` (b, d); returns ``(y, k_cache, v_cache)``."""
        q, k, v = self._split(self.qkv(x))  # (b, h, dh)
        k_cache = tf.concat([k_cache, k[:, None]], axis=1)
        v_cache = tf.concat([v_cache, v[:, None]], axis=1)
        s = tf.einsum("bhe,bjhe->bhj", q, k_cache) / math.sqrt(self.dh)
        a = tf.nn.softmax(s, axis=-1)
        y = tf.einsum("bhj,bjhe->bhe", a, v_cache)
        return self.out(tf.reshape(y, tf.shape(x))), k_cache, v_cache


class ImplicitSelfAttention(tf.keras.layers.Layer):
    """Seed 003's Legendre memory per dimension and implicit self-attention.

    Input ``(batch, n, d)``; output ``m`` ``(batch, n, d)``. Weights:
    ``L`` (3, q', q), ``b`` (3, q'), ``p`` (q',), ``c`` (d,):
    ``3 q q' + 4 q' + d`` in all.
    """

    def __init__(
        self, d, order, theta, q_reduced, path="reduced", memory_mode="chunked", **kwargs
    ):
        super().__init__(**kwargs)
        self.d, self.order, self.theta, self.q_reduced = d, order, theta, q_reduced
        self.path, self.memory_mode = path, memory_mode
        Ad, Bd = discrete_memory(order, theta)
        self._Ad, self._Bd = Ad, Bd
        self.AdT = tf.constant(Ad.T, dtype=tf.float32)
        self.Bd = tf.constant(Bd, dtype=tf.float32)
        self._H = {}
        if path == "reduced" and memory_mode == "chunked":
            self.chunk = default_chunk_size(order)
            K, W_end, AdL_T = chunk_constants(Ad, Bd, self.chunk)
            self.K = tf.constant(K, dtype=tf.float32)  # (L + q, L, q)
            self.W_end = tf.constant(W_end, dtype=tf.float32)  # (L, q)
            self.AdL_T = tf.constant(AdL_T, dtype=tf.float32)  # (q, q)

    def build(self, input_shape):
        q, qr = self.order, self.q_reduced
        self.L = self.add_weight(
            "L", (3, qr, q), initializer=tf.keras.initializers.GlorotUniform()
        )
        self.b = self.add_weight("b", (3, qr), initializer="zeros")
        self.p = self.add_weight("p", (qr,), initializer=tf.keras.initializers.Constant(1.0 / qr))
        self.c = self.add_weight("c", (self.d,), initializer="zeros")
        super().build(input_shape)

    def _impulse(self, n):
        if n not in self._H:
            self._H[n] = impulse_response(self._Ad, self._Bd, n).astype(np.float32)
        return tf.constant(self._H[n])

    def qkv_parallel(self, x):
        """``gelu(L_i M_t^T + b_i)`` for every step: (b, n, 3, q', d)."""
        n = x.shape[1]
        if self.path == "direct":
            mode = self.memory_mode
            m = legendre_memory(x, self.order, self.theta, mode=mode)
            m = tf.reshape(m, (tf.shape(x)[0], -1, self.d, self.order))
            z = tf.einsum("bndq,iaq->bniad", m, self.L)
        elif self.memory_mode == "chunked":
            z = self._reduced_chunked(x)
        else:
            if n is None:
                raise ValidationError(
                    "the reduced-order path needs a sequence length known when the "
                    "model is traced (or use path='direct')",
                    attr="path",
                    obj=self,
                )
            # appendix A.1: convolve with L_i H (3 q' channels), not with H (q)
            G = tf.einsum("tq,iaq->iat", self._impulse(n), self.L)  # (3, q', n)
            N = 1 << int(np.ceil(np.log2(2 * n)))
            Gf = tf.signal.rfft(G, fft_length=[N])  # (3, q', F)
            Xf = tf.signal.rfft(tf.transpose(x, (0, 2, 1)), fft_length=[N])  # (b, d, F)
            z = tf.signal.irfft(Xf[:, None, None] * Gf[None, :, :, None], fft_length=[N])
            z = tf.transpose(z[..., :n], (0, 4, 1, 2, 3))  # (b, n, 3, q', d)
        return gelu(z + self.b[None, None, :, :, None])

    def _reduced_chunked(self, x):
        """Appendix A.1 by a chunked scan: ``3 q'`` output channels, not ``q``.

        The ``q``-dimensional memory is only formed at chunk boundaries (a
        short scan over chunks); inside a chunk every step comes out of one
        product ``[u_chunk, s_start] @ K~`` where ``K~`` is the chunk's
        Toeplitz block of ``L_i H`` stacked over ``L_i Ad^(k+1)``: ``2 (Lc +
        q) 3 q'`` flops per step and channel instead of ``2 (Lc + q) q``.
        """
        q, Lc, qr = self.order, self.chunk, self.q_reduced
        b, n = tf.shape(x)[0], tf.shape(x)[1]
        u = tf.reshape(tf.transpose(x, (0, 2, 1)), (-1, n))  # (b d, n)
        pad = (-n) % Lc
        u = tf.pad(u, [[0, 0], [0, pad]])
        n_chunks = (n + pad) // Lc
        uc = tf.reshape(u, (-1, n_chunks, Lc))
        ends = tf.einsum("mcl,lq->cmq", uc, self.W_end)
        s0 = tf.zeros((tf.shape(uc)[0], q), dtype=x.dtype)
        after = tf.scan(lambda s, e: tf.matmul(s, self.AdL_T) + e, ends, initializer=s0)
        starts = tf.concat([s0[None], after[:-1]], axis=0)  # (C, m, q)
        Kt = tf.reshape(tf.einsum("rlq,iaq->rlia", self.K, self.L), (Lc + q, Lc * 3 * qr))
        xs = tf.concat([uc, tf.transpose(starts, (1, 0, 2))], axis=-1)
        z = tf.matmul(tf.reshape(xs, (-1, Lc + q)), Kt)
        z = tf.reshape(z, (b, self.d, n_chunks * Lc, 3, qr))[:, :, :n]
        return tf.transpose(z, (0, 2, 3, 4, 1))  # (b, n, 3, q', d)

    def attend(self, qkv):
        """``p softmax(Q K^T / sqrt(d)) V + c`` over the last two axes."""
        q, k, v = qkv[..., 0, :, :], qkv[..., 1, :, :], qkv[..., 2, :, :]
        s = tf.einsum("...ad,...cd->...ac", q, k) / math.sqrt(self.d)
        mp = tf.einsum("...ac,...cd->...ad", tf.nn.softmax(s, axis=-1), v)
        return tf.einsum("a,...ad->...d", self.p, mp) + self.c

    def call(self, x):
        return self.attend(self.qkv_parallel(x))

    def step(self, x, m):
        """One token: ``x`` (b, d), memory state ``m`` (b, d, q)."""
        m = tf.matmul(m, self.AdT) + x[..., None] * self.Bd
        z = tf.einsum("bdq,iaq->biad", m, self.L)
        return self.attend(gelu(z + self.b[None, :, :, None])), m


class LMUBlock(tf.keras.layers.Layer):
    """One layer of seed 003's model (pre-norm, three skips)."""

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
        self.norm1 = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.norm3 = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="norm3")
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

    def initial_state(self, batch_size):
        m = tf.zeros((batch_size, self.memory.d, self.memory.order))
        if not self.global_attention:
            return (m,)
        a = self.first
        empty = tf.zeros((batch_size, 0, a.n_heads, a.dh))
        return (m, empty, empty)

    def step(self, x, state):
        if self.global_attention:
            y, kc, vc = self.first.step(norm_step(self.norm1, x), state[1], state[2])
            h = x + y
        else:
            h = x + self.first(norm_step(self.norm1, x))
        y, m = self.memory.step(norm_step(self.norm2, h), state[0])
        h = h + y
        out = h + self.ffn2(norm_step(self.norm3, h))
        return out, ((m, kc, vc) if self.global_attention else (m,))


class TransformerBlock(tf.keras.layers.Layer):
    """A pre-norm transformer layer: ``x + attn(LN x)``, then ``+ FFN(LN .)``."""

    def __init__(self, d, d_ffn, n_heads, **kwargs):
        super().__init__(**kwargs)
        self.norm1 = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="norm1")
        self.norm2 = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="norm2")
        self.attention = CausalSelfAttention(d, n_heads, name="attention")
        self.ffn = FeedForward(d, d_ffn, name="ffn")

    def call(self, x):
        h = x + self.attention(self.norm1(x))
        return h + self.ffn(self.norm2(h))

    def initial_state(self, batch_size):
        a = self.attention
        empty = tf.zeros((batch_size, 0, a.n_heads, a.dh))
        return (empty, empty)

    def step(self, x, state):
        y, kc, vc = self.attention.step(norm_step(self.norm1, x), state[0], state[1])
        h = x + y
        return h + self.ffn(norm_step(self.norm2, h)), (kc, vc)


# ---------------------------------------------------------------- models
