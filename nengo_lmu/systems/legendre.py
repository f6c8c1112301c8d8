"""The Legendre delay system (the LMU's memory), its readout of a delay, and
the rules that keep its discretisation usable (``dt < theta``; Euler's
stability and accuracy)."""

import functools
import warnings

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems.linear import LinearSystem, check_order
from nengo_lmu.validation import check_int, check_positive


def legendre_system(order, theta):
    """The continuous LMU memory: Legendre delay system of ``order`` states.

    Its state holds the input's history over the window ``theta`` projected
    onto the first ``order`` shifted Legendre polynomials (Voelker et al. 2019)::

        A[i, j] = (2i+1)/theta * (-1 if i < j else (-1)^(i-j+1))
        B[i]    = (2i+1)/theta * (-1)^i

    Parameters
    ----------
    order : int
        Number of Legendre coefficients (the memory's dimension, ``q``).
    theta : float
        Window length (seconds, or steps when each step is one sample).

    Returns
    -------
    LinearSystem
        Continuous system with one input; its output is the state
        (``C = I``). Use `legendre_readout` for rows that decode delays.

    Examples
    --------
    >>> sys = legendre_system(order=6, theta=0.1)
    >>> dsys = sys.discretize(dt=0.001)
    """
    order = check_order(order)
    theta = check_positive("theta", theta)
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    B = ((2 * np.arange(order) + 1) * (-1.0) ** np.arange(order) / theta)[:, None]
    return LinearSystem(A, B)


def legendre_readout(order, r):
    """Rows that decode ``u(t - r*theta)`` from a `legendre_system` state.

    The window is spanned by the shifted Legendre polynomials, so the delayed
    input is ``sum_i m_i P_i(2r - 1)``: ``r = 0`` is the current input and
    ``r = 1`` the input ``theta`` ago.

    Parameters
    ----------
    order : int
        Memory order.
    r : float or array_like
        Relative delays in ``[0, 1]``.

    Returns
    -------
    ndarray
        Shape ``(order,)`` for a scalar ``r``, ``(len(r), order)`` otherwise.
    """
    order = check_order(order)
    try:
        r_arr = np.asarray(r)
        numeric = r_arr.dtype.kind in "iuf"
    except (TypeError, ValueError):  # ragged sequences
        numeric = False
    if not numeric:
        # numpy would read the string '0.5' as 0.5 here, and fail on it later
        raise ValidationError(
            f"must be a number or an array of numbers in [0, 1], got {r!r}", attr="r"
        )
    r_arr = r_arr.astype(np.float64)
    if r_arr.ndim > 1:
        raise ValidationError(f"must be a scalar or 1-D array, got shape {r_arr.shape}", attr="r")
    if not np.all(np.isfinite(r_arr)) or np.any(r_arr < 0) or np.any(r_arr > 1):
        raise ValidationError(f"every relative delay must lie in [0, 1], got {r!r}", attr="r")
    x = 2 * np.atleast_1d(r_arr) - 1
    rows = np.polynomial.legendre.legvander(x, order - 1)
    return rows[0] if r_arr.ndim == 0 else rows


def check_theta_dt(theta, dt, obj=None):
    """Check that the time step is below the window (``dt < theta``)."""
    theta = check_positive("theta", theta, obj=obj)
    dt = check_positive("dt", dt, obj=obj)
    if dt >= theta:
        raise ValidationError(f"must be smaller than theta={theta}, got {dt}", attr="dt", obj=obj)
    return theta, dt


@functools.lru_cache(maxsize=64)
def euler_min_theta(order):
    """The smallest window (in steps) at which the Euler memory is stable.

    Euler's ``Ad = I + A dt`` has eigenvalues ``1 + lambda dt`` for the
    eigenvalues ``lambda = lambda_1 / theta`` of the Legendre ``A`` (with
    ``lambda_1`` those at ``theta = 1``). It is stable (spectral radius
    below 1) exactly when ``theta / dt > max |lambda_1|^2 / (-2 Re lambda_1)``,
    the value returned. It grows faster than ``order``: about 1.8 x order at
    order 6, 6.2 x at 32, 25.6 x at 256 (6542 steps), so KerasLMU's rule of
    thumb (``theta > 4 * order``) is not enough above order ~12.

    This is the one Euler rule of nengo_lmu (`check_euler`): below it the
    memory is refused (it would diverge), above it but below ``4 * order``
    steps it is stable but inaccurate (a warning).

    Examples
    --------
    >>> round(euler_min_theta(256))
    6542
    """
    order = check_int("order", order, None)
    lam = np.linalg.eigvals(legendre_system(order, 1.0).A)
    return float(np.max(np.abs(lam) ** 2 / (-2 * lam.real)))


def check_euler(order, theta, dt, obj=None):
    """Apply the Euler rule: refuse an unstable memory, warn an inaccurate one.

    Parameters
    ----------
    order : int
        Memory order.
    theta, dt : float
        Window and time step (same units).
    obj : object, optional
        The object named in the error.

    Raises
    ------
    ValidationError
        If ``theta / dt <= euler_min_theta(order)`` (unstable); the message
        gives the smallest stable ``theta``.
    """
    steps = theta / dt
    stable = euler_min_theta(order)
    if steps <= stable:
        raise ValidationError(
            f"the Euler-discretised memory of order {order} is unstable at "
            f"theta={theta} ({steps:.4g} steps of dt={dt}): Euler is stable only "
            f"for theta > {stable * dt:.6g} ({stable:.6g} steps, "
            f"{stable / order:.3g} x order; see euler_min_theta); use "
            f"discretizer='zoh' or a larger theta",
            attr="discretizer",
            obj=obj,
        )
    if steps < 4 * order:
        warnings.warn(
            f"theta={theta} is only {steps:.3g} steps of dt={dt}, fewer "
            f"than 4*order={4 * order}: the Euler-discretised memory is stable "
            f"(theta > {stable * dt:.6g}) but inaccurate; use discretizer='zoh'",
            stacklevel=3,
        )
