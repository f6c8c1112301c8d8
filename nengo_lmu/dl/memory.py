"""Evaluating the LMU memory over whole sequences with ``keras.ops``.

The memory of order ``q`` is the linear recurrence (one step per sample)::

    m[t] = Ad m[t-1] + Bd u[t],        m[-1] = m0

so ``m[t] = Ad^(t+1) m0 + sum_{j<=t} H[t-j] u[j]`` with ``H[k] = Ad^k Bd``.
This module evaluates it three ways, all on inputs of shape ``(n, T)`` (one
scalar sequence per row; callers fold batch and ``memory_d`` together) and
returning ``(n, T, q)``:

``recurrent``
    The step-by-step reference (``keras.ops.scan`` over time): ``O(q^2)`` work and
    one dependent step per sample.
``chunked``
    Split time into chunks of ``L`` samples. The state at the start of each
    chunk comes from a short scan over chunks (one ``q x q`` product per
    chunk); every sample of every chunk then comes out of *one* matrix
    product ``[u_chunk, s_chunk] @ K`` whose constant ``K`` stacks the
    chunk's lower-triangular Toeplitz block of ``H`` (the inputs inside the
    chunk) over the powers ``Ad^1 .. Ad^L`` (the state carried in). The
    work is ``2 (L + q) q`` flops per sample in large matrix products, the
    sequential part ``T / L`` small ones.
``fft``
    The causal convolution with ``H`` through real FFTs of length ``>= 2T``
    (``O(q log T)`` per sample; CPU FFTs are slow next to matrix
    products, so this mode is rarely the fastest on a CPU).

The constants are computed once in float64 with numpy (`legendre_kernels`)
and cast to the computation's dtype.
"""

import functools

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import matmul, ops, standard_dtype
from nengo_lmu.systems import (
    DISCRETIZERS,
    check_euler,
    check_order,
    legendre_system,
)
from nengo_lmu.validation import check_choice

MODES = ("chunked", "fft", "recurrent")


def check_theta_steps(theta, obj=None):
    """``theta`` (in steps) as a float, or a `ValidationError` naming it."""
    try:
        theta = float(theta)
    except (TypeError, ValueError):
        raise ValidationError(
            f"must be a number of steps > 1, got {theta!r}", attr="theta", obj=obj
        ) from None
    if not np.isfinite(theta) or theta <= 1:
        raise ValidationError(
            f"must be a finite number of steps > 1, got {theta!r}", attr="theta", obj=obj
        )
    return theta


def discrete_memory(order, theta, discretizer="zoh"):
    """``(Ad, Bd)`` of the Legendre memory with one step per sample.

    Returns float64 arrays of shapes ``(order, order)`` and ``(order,)``
    (read-only: they are cached). Warns where Euler is inaccurate.
    """
    order = check_order(order)
    theta = check_theta_steps(theta)
    check_choice("discretizer", discretizer, DISCRETIZERS)
    if discretizer == "euler":
        check_euler(order, theta, 1.0)
    return cached_discrete_memory(order, theta, discretizer)


@functools.lru_cache(maxsize=16)
def cached_discrete_memory(order, theta, discretizer):
    """`discrete_memory` without its checks, cached (read-only arrays)."""
    sys = legendre_system(order, theta).discretize(1.0, discretizer)
    Ad, Bd = sys.A.copy(), sys.B[:, 0].copy()
    Ad.setflags(write=False)
    Bd.setflags(write=False)
    return Ad, Bd


def impulse_response(Ad, Bd, n):
    """``H[k] = Ad^k Bd`` for ``k < n``, shape ``(n, q)`` (float64)."""
    H = np.empty((n, len(Bd)))
    h = np.array(Bd, dtype=np.float64)
    for k in range(n):
        H[k] = h
        h = Ad @ h
    return H


def chunk_constants(Ad, Bd, chunk):
    """Constants of a chunked scan of ``m[t] = Ad m[t-1] + Bd u[t]`` (float64).

    ``K`` (``chunk + q, chunk, q``): row ``j < chunk`` holds input ``j``'s
    contribution ``H[k - j]`` to step ``k >= j`` of the chunk, row
    ``chunk + i`` the start state's contribution ``(Ad^(k+1))^T``.
    ``W_end`` (``chunk, q``) maps a chunk's inputs to its last state and
    ``(Ad^chunk)^T`` carries a state across a chunk.
    """
    q, L = len(Bd), chunk
    H = impulse_response(Ad, Bd, L)
    K = np.zeros((L + q, L, q))
    for j in range(L):
        K[j, j:] = H[: L - j]
    power = np.eye(q)
    for k in range(L):
        power = Ad @ power
        K[L:, k] = power.T
    return K, K[:L, L - 1].copy(), power.T.copy()


@functools.lru_cache(maxsize=16)
def _chunk_constants(order, theta, discretizer, chunk):
    """``K`` ((L + q), L q), ``W_end`` (L, q) and ``(Ad^L)^T`` in float64."""
    Ad, Bd = cached_discrete_memory(order, theta, discretizer)
    K, W_end, carry = chunk_constants(Ad, Bd, chunk)
    return K.reshape(chunk + order, chunk * order), W_end, carry


def default_chunk_size(order):
    """The chunk length used when none is given: ``4096 // order`` in [16, 64].

    The per-sample work is ``2 (L + q) q`` flops, so ``L`` small next to
    ``q`` wastes little; too small and the matrix products get thin and the
    scan over chunks long. On a 2-core CPU, ``L = 16`` was fastest for
    ``q = 256`` (forward and backward, T = 784 and 4096:
    ``benchmarks/memory_speed.py``).
    """
    return int(np.clip(4096 // order, 16, 64))


def as_tensor(x):
    """``x`` as a tensor of its own float dtype (numpy float64 stays float64
    on every backend that has it)."""
    dtype = getattr(x, "dtype", None)
    return ops.convert_to_tensor(x, dtype=None if dtype is None else standard_dtype(dtype))


def _const(value, dtype):
    """A float64 numpy constant as a tensor of the computation's dtype."""
    return ops.convert_to_tensor(np.asarray(value), dtype=standard_dtype(dtype))


def memory_recurrent(u, Ad, Bd, m0=None):
    """Reference: step ``m[t] = Ad m[t-1] + Bd u[t]`` (``keras.ops.scan``).

    ``u`` is ``(n, T)``, ``m0`` ``(n, q)`` or None; returns ``(n, T, q)``.
    """
    u = as_tensor(u)
    dtype = u.dtype
    AdT = _const(np.asarray(Ad).T, dtype)
    Bd = _const(Bd, dtype)
    if m0 is None:
        m0 = ops.zeros((ops.shape(u)[0], np.asarray(Ad).shape[0]), dtype=dtype)
    else:
        m0 = ops.cast(m0, dtype)

    def step(m, u_t):
        m = matmul(m, AdT) + u_t[:, None] * Bd[None, :]
        return m, m

    _, ms = ops.scan(step, m0, ops.transpose(u))
    return ops.transpose(ms, (1, 0, 2))


def memory_chunked(u, order, theta, discretizer="zoh", chunk=None, m0=None):
    """The memory over whole sequences by the chunked scan (module docstring).

    Works for a sequence length only known when the graph runs (the input
    is padded with zeros to whole chunks and the padding dropped again).
    """
    chunk = default_chunk_size(order) if chunk is None else chunk
    K, W_end, AdL_T = _chunk_constants(order, theta, discretizer, chunk)
    u = as_tensor(u)
    dtype = u.dtype
    K = _const(K, dtype)
    W_end = _const(W_end, dtype)
    AdL_T = _const(AdL_T, dtype)
    q, L = order, chunk
    n, T = ops.shape(u)
    pad = (-T) % L
    u = ops.pad(u, [[0, 0], [0, pad]])
    n_chunks = (T + pad) // L
    uc = ops.reshape(u, (n, n_chunks, L))
    # zero-state memory at the end of each chunk, then the chunk-start
    # states by a scan over chunks: s[c+1] = Ad^L s[c] + end[c]
    ends = ops.einsum("ncl,lq->cnq", uc, W_end)
    s0 = ops.zeros((n, q), dtype=dtype) if m0 is None else ops.cast(m0, dtype)

    def step(s, e):
        s = matmul(s, AdL_T) + e
        return s, s

    _, after = ops.scan(step, s0, ends)
    starts = ops.concatenate([s0[None], after[:-1]], axis=0)
    x = ops.concatenate([uc, ops.transpose(starts, (1, 0, 2))], axis=-1)
    m = matmul(ops.reshape(x, (n * n_chunks, L + q)), K)
    return ops.reshape(m, (n, n_chunks * L, q))[:, :T]


def complex_product(a, b):
    """``a * b`` for complex numbers given as ``(real, imag)`` pairs."""
    return a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]


def _fft_length(T):
    return 1 << int(np.ceil(np.log2(max(2 * T, 2))))


@functools.lru_cache(maxsize=8)
def _fft_kernel(order, theta, discretizer, T):
    Ad, Bd = cached_discrete_memory(order, theta, discretizer)
    H = impulse_response(Ad, Bd, T)
    return np.fft.rfft(H.T, n=_fft_length(T))  # (q, F) complex128


def memory_fft(u, order, theta, discretizer="zoh", m0=None):
    """The memory by FFT convolution; needs the sequence length when traced.

    A nonzero initial state adds its free response ``Ad^(t+1) m0``, computed
    with the chunked scan on a zero input.
    """
    u = as_tensor(u)
    T = u.shape[1]
    if T is None:
        raise ValidationError(
            "mode 'fft' needs a sequence length known when the model is built "
            "(give the Input a fixed number of steps, or use mode='chunked')",
            attr="mode",
        )
    Hf = _fft_kernel(order, theta, discretizer, T)
    Hf = (_const(Hf.real, u.dtype)[None], _const(Hf.imag, u.dtype)[None])
    N = _fft_length(T)
    U = ops.rfft(u, fft_length=N)
    U = (U[0][:, None, :], U[1][:, None, :])
    m = ops.irfft(complex_product(U, Hf), fft_length=N)[:, :, :T]
    m = ops.transpose(m, (0, 2, 1))
    if m0 is not None:
        m = m + memory_chunked(ops.zeros_like(u), order, theta, discretizer, m0=m0)
    return m


@functools.lru_cache(maxsize=8)
def _last_kernel(order, theta, discretizer, T):
    Ad, Bd = cached_discrete_memory(order, theta, discretizer)
    H = impulse_response(Ad, Bd, T + 1)
    # m[T-1] = sum_t H[T-1-t] u[t] + Ad^T m0;  Ad^T m0 = (Ad^T) m0
    power = np.linalg.matrix_power(Ad, T)
    return H[:T][::-1].copy(), power.T.copy()


def memory_last(u, order, theta, discretizer="zoh", m0=None, chunk=None):
    """Only the last state ``m[T-1]``: one ``(n, T) @ (T, q)`` product.

    Falls back to the chunked scan when the length is unknown at trace time.
    """
    u = as_tensor(u)
    T = u.shape[1]
    if T is None:
        return memory_chunked(u, order, theta, discretizer, chunk, m0)[:, -1]
    Hrev, powT = _last_kernel(order, theta, discretizer, T)
    m = matmul(u, _const(Hrev, u.dtype))
    if m0 is not None:
        m = m + matmul(ops.cast(m0, u.dtype), _const(powT, u.dtype))
    return m


def legendre_memory(
    u, order, theta, mode="chunked", discretizer="zoh", chunk=None, m0=None, last_only=False
):
    """The memory of every channel of ``u``.

    Parameters
    ----------
    u : tensor, shape (batch, T, d)
        Inputs (float32 or float64; any backend's tensor or a numpy array);
        each of the ``d`` channels has its own memory.
    order, theta : int, float
        Order and window in steps.
    mode : "chunked", "fft" or "recurrent"
    discretizer : "zoh" or "euler"
    chunk : int, optional
        Chunk length of the chunked mode (`default_chunk_size`).
    m0 : tensor, shape (batch, d * order), optional
        Initial state (zero if None).
    last_only : bool
        Return only the last step's memory (``(batch, d * order)``).

    Returns
    -------
    tensor, shape (batch, T, d * order)
        ``m[t]`` laid out ``(d, order)`` row-major on the last axis (as in
        KerasLMU and `.LegendreMemory`).
    """
    check_choice("mode", mode, MODES)
    order = check_order(order)
    u = as_tensor(u)
    batch, T, d = ops.shape(u)
    # one scalar sequence per (batch, channel)
    flat = ops.reshape(ops.transpose(u, (0, 2, 1)), (-1, T))
    m0f = None if m0 is None else ops.reshape(ops.cast(m0, u.dtype), (-1, order))
    if last_only and mode != "recurrent":
        m = memory_last(flat, order, theta, discretizer, m0f, chunk)
        return ops.reshape(m, (batch, d * order))
    if mode == "chunked":
        m = memory_chunked(flat, order, theta, discretizer, chunk, m0f)
    elif mode == "fft":
        m = memory_fft(flat, order, theta, discretizer, m0f)
    else:
        Ad, Bd = cached_discrete_memory(order, float(theta), discretizer)
        m = memory_recurrent(flat, Ad, Bd, m0f)
    if d == 1:
        m = ops.reshape(m, (batch, T, order))
    else:
        m = ops.reshape(
            ops.transpose(ops.reshape(m, (batch, d, T, order)), (0, 2, 1, 3)),
            (batch, T, d * order),
        )
    return m[:, -1] if last_only else m


__all__ = [
    "MODES",
    "discrete_memory",
    "impulse_response",
    "default_chunk_size",
    "memory_recurrent",
    "memory_chunked",
    "memory_fft",
    "memory_last",
    "legendre_memory",
]


def response_tensor(Ad, Bd, n):
    """``H[k] = Ad^k Bd`` for ``k < n`` from tensors, shape ``(n, q)``.

    A scan of ``n`` matrix-vector products that does not depend on the
    batch, differentiable in ``Ad`` and ``Bd`` (for a trainable ``theta``).
    """
    if n == 1:
        return Bd[None]

    def step(h, _):
        h = matmul(Ad, h[:, None])[:, 0]
        return h, h

    _, rest = ops.scan(step, Bd, ops.zeros((n - 1,), dtype=Bd.dtype))
    return ops.concatenate([Bd[None], rest], axis=0)


def memory_from_response(u, Ad, Bd, m0=None, last_only=False):
    """The memory of ``u`` (``(n, T)``, T known) from tensor ``(Ad, Bd)``.

    Every step by FFT convolution with the in-graph impulse response
    (`response_tensor`), or, with ``last_only``, the last step as one
    product ``u @ H[::-1]``. A nonzero ``m0`` adds its free response,
    stepped (``(n, q)`` per step). Returns ``(n, T, q)`` or ``(n, q)``.
    """
    T = u.shape[1]
    if T is None:
        raise ValidationError(
            "a trainable theta in a parallel mode needs a sequence length known "
            "when the model is built (or use mode='recurrent')",
            attr="mode",
        )
    H = response_tensor(Ad, Bd, T)
    if last_only:
        m = matmul(u, ops.flip(H, axis=0))
        if m0 is not None:
            power = _matrix_power(Ad, T)
            m = m + matmul(ops.cast(m0, u.dtype), ops.transpose(power))
        return m
    N = _fft_length(T)
    U = ops.rfft(u, fft_length=N)
    Hf = ops.rfft(ops.transpose(H), fft_length=N)
    m = ops.irfft(
        complex_product((U[0][:, None, :], U[1][:, None, :]), (Hf[0][None], Hf[1][None])),
        fft_length=N,
    )[:, :, :T]
    m = ops.transpose(m, (0, 2, 1))
    if m0 is not None:
        AdT = ops.transpose(Ad)

        def step(s, _):
            s = matmul(s, AdT)
            return s, s

        _, free = ops.scan(step, ops.cast(m0, u.dtype), ops.zeros((T,), dtype=u.dtype))
        m = m + ops.transpose(free, (1, 0, 2))
    return m


def _matrix_power(A, n):
    """``A^n`` (n a Python int) by repeated squaring."""
    result = ops.eye(A.shape[0], dtype=A.dtype)
    base = A
    while n:
        if n & 1:
            result = matmul(result, base)
        base = matmul(base, base)
        n >>= 1
    return result


__all__ += ["response_tensor", "memory_from_response", "complex_product"]
