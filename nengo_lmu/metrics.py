"""Measures of how well a network did (pure numpy)."""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems import check_finite


def nrmse(y, target, axis=None):
    """Root-mean-square error normalised by the target's root-mean-square.

    Parameters
    ----------
    y, target : array_like
        Same shapes.
    axis : int, optional
        Axis to average over (all by default).
    """
    y = np.asarray(y, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if y.shape != target.shape:
        raise ValidationError(
            f"must have the target's shape {target.shape}, got {y.shape}", attr="y"
        )
    check_finite("y", y)
    check_finite("target", target)
    denom = np.sqrt(np.mean(target**2, axis=axis))
    if np.any(denom == 0):
        raise ValidationError("is zero everywhere: NRMSE undefined", attr="target")
    return np.sqrt(np.mean((y - target) ** 2, axis=axis)) / denom


def delayed_nrmse(y, u, delay, start=0, lags=0):
    """NRMSE of ``y[t]`` against ``u[t - delay]``, and the best-fitting lag.

    Parameters
    ----------
    y, u : array_like, shape (n_steps,) or (n_steps, d)
        Output and input on the same time base.
    delay : int
        The nominal delay in steps: the score is at this delay.
    start : int
        Steps to discard at the start (transients); must be >= delay + lags.
    lags : int
        Also try delays in ``delay - lags .. delay + lags`` and report the
        one that fits best: a network that adds a constant lag shows it here.

    Returns
    -------
    score : float
        NRMSE at the nominal ``delay``.
    best_delay : int
        Delay (in steps) with the smallest NRMSE.
    best_score : float
        NRMSE at ``best_delay``.
    """
    y = np.asarray(y, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if y.shape != u.shape:
        raise ValidationError(f"must have u's shape {u.shape}, got {y.shape}", attr="y")
    if start < delay + lags or start >= len(y):
        raise ValidationError(
            f"must be in [delay + lags, n_steps) = [{delay + lags}, {len(y)}), "
            f"got {start}",
            attr="start",
        )
    scores = {
        d: nrmse(y[start:], u[start - d : len(u) - d])
        for d in range(delay - lags, delay + lags + 1)
    }
    best = min(scores, key=scores.get)
    return float(scores[delay]), best, float(scores[best])
