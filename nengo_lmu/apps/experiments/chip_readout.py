"""A host readout fitted on a `ChipMemoryClassifier`'s own hidden spikes.

The classifier (`nengo_lmu.loihi.ChipMemoryClassifier`) runs on the chip and
records its hidden spikes; fitting a readout on them is the application's
business, here: `fit_readout` runs the network over training sequences,
cross-validates where the readout's windows lie and how strongly it is
regularised, ridge-regresses (`ridge_readout`) and gives the network the
readout (`ChipMemoryClassifier.set_readout`).
"""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi import TARGETS
from nengo_lmu.loihi.layout import CHIP_TO_HOST_STEPS
from nengo_lmu.validation import check_choice, check_int, check_positive, check_sequence_data

#: Ridge regularisations that `fit_readout` tries (relative to the hidden
#: features' mean variance), strongest first.
FIT_REGS = (1.0, 0.1, 0.01, 0.001)


def ridge_readout(h, onehot, reg):
    """A linear readout with bias, ``logits = h @ matrix.T + bias``, by ridge
    regression of ``onehot`` on ``h`` (``reg`` times the mean variance of
    ``h``'s columns times ``len(h)`` on the diagonal; the bias is free).

    Examples
    --------
    >>> h = np.array([[1.0, 0], [0, 1], [1, 0.1]])
    >>> m, b = ridge_readout(h, np.eye(2)[[0, 1, 0]], 1e-6)
    >>> (h @ m.T + b).argmax(-1).tolist()
    [0, 1, 0]
    """
    h = np.asarray(h, dtype=float)
    mu, t_mu = h.mean(axis=0), onehot.mean(axis=0)
    hc = h - mu
    scale = max(float(np.mean(hc**2)), 1e-12) * len(h)
    gram = hc.T @ hc + reg * scale * np.eye(h.shape[1])
    matrix = np.linalg.solve(gram, hc.T @ (onehot - t_mu)).T
    return matrix, t_mu - matrix @ mu


def check_labels(net, x, y):
    """``x`` and its labels ``y`` checked against the network."""
    x = np.asarray(x, dtype=float)
    check_sequence_data(x, n_inputs=net.input_d)
    n = len(x)
    y = np.asarray(y).ravel()
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValidationError(
            f"must be {n} integer labels, got {y.dtype} of shape {y.shape}", attr="y", obj=net
        )
    if y.min() < 0 or y.max() >= net.n_classes:
        raise ValidationError(
            f"labels must lie in [0, {net.n_classes}), got {y.min()}..{y.max()}",
            attr="y",
            obj=net,
        )
    return x, y


def recorded_hidden(net, x, hidden, target, progress=None):
    """The hidden spikes of a run on ``x`` (``hidden``, checked, or a new
    run on ``target``, with ``progress``)."""
    n, n_steps = x.shape[:2]
    if hidden is None:
        net.predict(x, target=target, progress=progress)
        hidden = net.last_hidden
    lo, hi = net.hidden_band(n_steps)
    if np.shape(hidden)[:2] != (n, hi - lo):
        raise ValidationError(
            f"must be last_hidden of a run on x, shape ({n}, {hi - lo}, ...), got "
            f"{np.shape(hidden)}",
            attr="hidden",
            obj=net,
        )
    return hidden


def cross_validate(net, hidden, n_steps, targets, y, offsets, bins, regs, fold):
    """Cross-validated accuracy on ``y`` of the ridge readout per ``(bins,
    offset, reg)``, folds ``fold`` (the fold of each sequence)."""
    cv = {}
    for b in bins:
        for o in offsets:
            if b * net.window - o > 2 * net.steps_per_sample:
                continue  # before the recorded band
            h = net.hidden_features(hidden, n_steps, offset=o, bins=b)
            for r in regs:
                right = 0
                for k in np.unique(fold):
                    m, c = ridge_readout(h[fold != k], targets[fold != k], r)
                    right += np.sum((h[fold == k] @ m.T + c).argmax(-1) == y[fold == k])
                cv[b, o, r] = right / len(y)
    return cv


def fit_readout(
    net,
    x,
    y,
    fit_to="rate",
    regs=FIT_REGS,
    offsets=None,
    bins=(1, 2),
    folds=4,
    seed=0,
    hidden=None,
    target="nengo",
    progress=None,
):
    """Fit ``net``'s host readout on its own hidden spikes over training
    sequences, and give it to ``net`` (`ChipMemoryClassifier.set_readout`).

    Runs ``net`` on ``target`` (``nengo.Simulator`` by default) over ``x``,
    averages each hidden neuron's output over ``bins`` windows of
    ``net.window`` steps (`ChipMemoryClassifier.hidden_features`) per
    sequence, and ridge-regresses on them, with a bias, either the trained
    rate network's logits on ``x`` (``fit_to="rate"``: the spiking network
    learns to give what the rate network gives) or the one-hot labels ``y``
    (``fit_to="labels"``). The readout's position (``offsets``, ``bins``)
    and the regularisation (``regs``, relative to the features' mean
    variance) are chosen by ``folds``-fold cross-validated accuracy on
    ``y`` (folds drawn with ``seed``); the readout is then refitted on all
    of ``x``. No held-out data is used.

    Parameters
    ----------
    net : ChipMemoryClassifier
    x : ndarray (n, n_steps, input_d)
        Training sequences.
    y : ndarray (n,)
        Their class labels.
    fit_to : "rate" or "labels"
    regs : sequence of float
    offsets : sequence of int, optional
        Where the (last) window ends, in steps after the last sample; by
        default ``0 .. 2 * steps_per_sample``.
    bins : sequence of int
        Numbers of windows to try.
    folds : int
    seed : int
    hidden : ndarray, optional
        ``net.last_hidden`` from a run on ``x`` (skips the run).
    target : "nengo", "sim", "simreal" or "loihi"
        Where the spikes are recorded: a readout fitted on the emulator's
        own spikes fits them better than one fitted on nengo's.
    progress : callable, optional
        Shows the run's progress on an emulator target (see
        `ChipMemoryClassifier.predict`).

    Returns
    -------
    dict
        ``offset``, ``bins``, ``reg`` (chosen), ``cv`` (cross-validated
        accuracy per ``(bins, offset, reg)``), ``trained_accuracy`` (the
        trained readout's accuracy on ``x`` per offset, one window).
    """
    x, y = check_labels(net, x, y)
    n, n_steps = x.shape[:2]
    check_choice("fit_to", fit_to, ("rate", "labels"), net)
    check_choice("target", target, ("nengo",) + TARGETS, net)
    folds = check_int("folds", folds, net, minimum=2, maximum=n)
    S = net.steps_per_sample
    limit = net.gap_steps - CHIP_TO_HOST_STEPS
    offsets = tuple(range(min(2 * S, limit) + 1)) if offsets is None else tuple(offsets)
    for o in offsets:
        check_int("offsets", o, net, minimum=0, maximum=limit)
    bins = tuple(check_int("bins", b, net) for b in bins)
    regs = tuple(check_positive("regs", r, net) for r in regs)
    hidden = recorded_hidden(net, x, hidden, target, progress)
    targets = net.rate_logits(x) if fit_to == "rate" else np.eye(net.n_classes)[y]
    fold = np.random.RandomState(seed).permutation(n) % folds
    trained = {}
    for o in offsets:
        h = net.hidden_features(hidden, n_steps, offset=o, bins=1)
        trained[o] = float(np.mean((h @ net.trained_readout().T).argmax(-1) == y))
    cv = cross_validate(net, hidden, n_steps, targets, y, offsets, bins, regs, fold)
    # the best; ties go to the first (fewer windows, earlier offset,
    # ``regs`` in the order given: strongest first)
    keys = list(cv)
    b, o, r = max(keys, key=lambda k: (cv[k], -keys.index(k)))
    h = net.hidden_features(hidden, n_steps, offset=o, bins=b)
    net.set_readout(*ridge_readout(h, targets, r), bins=b, offset=o)
    return dict(offset=o, bins=b, reg=r, cv=cv, trained_accuracy=trained)
