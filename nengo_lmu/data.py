"""Data sets for LMU tasks, laid out for NengoDL (nothing is downloaded).

NengoDL's layout is ``(batch, n_steps, dimensions)`` for every input node and
probe. In the sequence tasks here each simulator step is one sample: an image
of ``n`` pixels is a sequence of ``n`` steps with one dimension, and the label
is read at the last step, so targets are ``(batch, 1, 1)`` (use
``keep_history=False`` on the output probe, or take the last step).
"""

import os

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems import check_finite


def _permute(x, permute, seed):
    if not permute:
        return x, None
    perm = np.random.RandomState(seed).permutation(x.shape[1])
    return x[:, perm], perm


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
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValidationError(
            f"must be a fraction in (0, 1), got {test_size}", attr="test_size"
        )
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
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


MNIST_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_mnist_npz(path, permute=True, permutation_seed=0):
    """psMNIST from the standard ``mnist.npz`` file, for users who have it.

    Parameters
    ----------
    path : str
        An ``.npz`` with arrays ``x_train`` (60000, 28, 28), ``y_train``,
        ``x_test`` (10000, 28, 28), ``y_test`` (the layout of the file Keras
        distributes). Nothing is downloaded.
    permute : bool
        Apply a fixed permutation of the 784 pixels (psMNIST).
    permutation_seed : int
        Seed of the permutation.

    Returns
    -------
    dict
        As `permuted_digits`, with 784-step sequences.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no MNIST file at {path!r}: expected an .npz with arrays "
            f"{', '.join(MNIST_KEYS)} (28x28 uint8 images and integer labels), "
            f"such as the mnist.npz that Keras distributes; nengo_lmu downloads "
            f"nothing"
        )
    with np.load(path) as f:
        missing = [k for k in MNIST_KEYS if k not in f]
        if missing:
            raise ValidationError(
                f"the file lacks arrays {missing}; it has {sorted(f.keys())}",
                attr="path",
            )
        arrays = {k: f[k] for k in MNIST_KEYS}
    out = {}
    perm = None
    for split in ("train", "test"):
        x = arrays[f"x_{split}"]
        y = arrays[f"y_{split}"]
        if x.ndim != 3 or len(x) != len(y):
            raise ValidationError(
                f"x_{split} must be (n, rows, cols) images with one label each, "
                f"got x {x.shape} and y {y.shape}",
                attr="path",
            )
        x = x.reshape(len(x), -1).astype(np.float32) / 255.0
        x, perm = _permute(x, permute, permutation_seed)
        out[f"x_{split}"] = x[:, :, None]
        out[f"y_{split}"] = y.astype(np.int32)[:, None, None]
    out["permutation"] = perm
    return out


def check_sequence_data(x, y=None, n_inputs=None, n_classes=None, n_steps=None):
    """Check sequence data before training; raise a `ValidationError` that
    says what is wrong.

    Parameters
    ----------
    x : ndarray
        Inputs ``(batch, n_steps, n_inputs)``.
    y : ndarray, optional
        Integer labels ``(batch, 1, 1)`` (or ``(batch,)``).
    n_inputs, n_classes, n_steps : int, optional
        Expected sizes.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValidationError(
            f"must be (batch, n_steps, n_inputs), got shape {x.shape}", attr="x"
        )
    if n_inputs is not None and x.shape[2] != n_inputs:
        raise ValidationError(
            f"must have {n_inputs} input dimension(s) in its last axis, got "
            f"shape {x.shape}",
            attr="x",
        )
    if n_steps is not None and x.shape[1] != n_steps:
        raise ValidationError(
            f"must have {n_steps} steps, got shape {x.shape}", attr="x"
        )
    check_finite("x", x)
    if y is None:
        return
    y = np.asarray(y)
    if y.shape[0] != x.shape[0] or y.size != y.shape[0]:
        raise ValidationError(
            f"must hold one label per sequence ({x.shape[0]}), got shape {y.shape}",
            attr="y",
        )
    if y.dtype.kind not in "iu" and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValidationError("labels must be integers", attr="y")
    if n_classes is not None and (y.min() < 0 or y.max() >= n_classes):
        raise ValidationError(
            f"labels must lie in [0, {n_classes}), got range "
            f"[{y.min()}, {y.max()}]",
            attr="y",
        )
