"""Measures of how well a network did (pure numpy)."""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_finite


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
            f"must be in [delay + lags, n_steps) = [{delay + lags}, {len(y)}), got {start}",
            attr="start",
        )
    scores = {
        d: nrmse(y[start:], u[start - d : len(u) - d])
        for d in range(delay - lags, delay + lags + 1)
    }
    best = min(scores, key=scores.get)
    return float(scores[delay]), best, float(scores[best])


def _is_binary(a):
    return bool(np.all((a == 0) | (a == 1)))


def check_activity(activity):
    """`spiking_network_metrics`' check of ``activity``: every entry finite and
    ``(n_samples, n_steps, size)`` with the same samples and steps. Returns
    ``{name: shape}``."""
    shapes = {k: np.shape(v) for k, v in activity.items()}
    for name, s in shapes.items():
        if len(s) != 3:
            raise ValidationError(
                f"activity[{name!r}] must be (n_samples, n_steps, size), got {s}",
                attr="activity",
            )
        check_finite(f"activity[{name!r}]", activity[name])
    n_samples, n_steps = next(iter(shapes.values()))[:2]
    if any(s[:2] != (n_samples, n_steps) for s in shapes.values()):
        raise ValidationError(
            f"all activity must share (n_samples, n_steps), got {shapes}", attr="activity"
        )
    return shapes


def check_weights(pre, post, w, shapes):
    """`spiking_network_metrics`' check of one connection's weights (an
    array ``(post size, pre size)`` between two names of the activity)."""
    w = np.asarray(w)
    for name in (pre, post):
        if name not in shapes:
            raise ValidationError(f"no activity for {name!r}", attr="activity")
    if w.shape != (shapes[post][2], shapes[pre][2]):
        raise ValidationError(
            f"weights {pre}->{post} must have shape "
            f"{(shapes[post][2], shapes[pre][2])}, got {w.shape}",
            attr="connections",
        )
    return w


def spiking_network_metrics(
    connections, activity, trainable_parameters=None, bytes_per_parameter=4
):
    """NeuroBench-style measures of a simulated run of a network [1]_.

    Parameters
    ----------
    connections : list of (pre, post, weights, trainable[, sparse])
        Every weighted connection: names of its pre and post (keys of
        ``activity``; ``post`` must be a population of neurons),
        ``weights`` of shape ``(post size, pre size)``, whether it is
        trained (fixed weights such as the LMU's ``Ad``/``Bd`` count in
        the footprint, not in the parameters), and optionally whether it is
        stored sparse (then only its non-zero weights are stored and
        computed; default False).
    activity : dict
        ``{name: (n_samples, n_steps, size)}``: what each pre and post
        emitted on every step of every sample (0/1 for spikes; any values
        for non-spiking sources). Every ``post`` is a population whose
        membranes are updated on every step.
    trainable_parameters : int, optional
        Number of trained parameters; the trained weights by default (add
        learned neuron parameters such as ``beta`` and ``threshold`` here).
    bytes_per_parameter : int
        Bytes per stored value (4: float32).

    Returns
    -------
    dict
        ``parameters`` (trained), ``footprint_bytes`` (every stored weight
        and parameter), ``activation_sparsity`` (fraction of zero outputs
        of the populations, over all neurons, steps and samples),
        ``synaptic_ops`` (effective accumulates per sample: for each
        non-zero output of a spiking pre, one per non-zero weight of its
        column), ``effective_macs`` (likewise, for pre with non-binary
        outputs, counted per non-zero weight), ``dense_ops`` (every stored
        weight once per step, per sample) and ``membrane_updates`` (one per neuron
        of a population per step, per sample).

    References
    ----------
    .. [1] Yik, J., et al. (2025). The NeuroBench framework for benchmarking
       neuromorphic computing algorithms and systems. Nature Communications 16.
    """
    if not connections:
        raise ValidationError("must list at least one connection", attr="connections")
    shapes = check_activity(activity)
    n_samples, n_steps = next(iter(shapes.values()))[:2]
    posts = []
    n_weights = n_trained = acs = macs = dense = 0
    for conn in connections:
        pre, post, w, trainable = conn[:4]
        sparse = bool(conn[4]) if len(conn) > 4 else False
        w = check_weights(pre, post, w, shapes)
        if post not in posts:
            posts.append(post)
        stored = np.count_nonzero(w) if sparse else w.size
        n_weights += stored
        n_trained += stored if trainable else 0
        fan_out = np.count_nonzero(w, axis=0)  # non-zero weights per pre unit
        a = np.asarray(activity[pre])
        ops = float(np.sum((a != 0) * fan_out)) / n_samples
        if _is_binary(a):
            acs += ops
        else:
            macs += ops
        dense += stored * n_steps
    outputs = np.concatenate([np.asarray(activity[p]).reshape(-1) for p in posts])
    neurons = sum(shapes[p][2] for p in posts)
    params = n_trained if trainable_parameters is None else int(trainable_parameters)
    extra = params - n_trained if trainable_parameters is not None else 0
    return dict(
        parameters=int(params),
        footprint_bytes=int((n_weights + max(extra, 0)) * bytes_per_parameter),
        activation_sparsity=float(np.mean(outputs == 0)),
        synaptic_ops=acs,
        effective_macs=macs,
        dense_ops=float(dense),
        membrane_updates=float(neurons * n_steps),
    )
