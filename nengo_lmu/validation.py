"""Parameter checks shared by every part of ``nengo_lmu``.

Each check raises `nengo.exceptions.ValidationError` naming the parameter
(``attr``), the object it belongs to (``obj``), the rule and the bad value,
and returns the value in its canonical type. The checks import only numpy
and nengo, so every layer of the package (math, networks, backends, data)
can use them.

Examples
--------
>>> from nengo_lmu.validation import check_positive, check_int
>>> check_positive("theta", 0.1)
0.1
>>> check_int("order", 6)
6
"""

import numpy as np
from nengo.exceptions import ValidationError

__all__ = [
    "shown",
    "check_positive",
    "check_int",
    "check_choice",
    "check_bool",
    "check_finite_array",
    "check_seed",
    "check_finite",
    "check_sequence_data",
    "check_event_data",
]


def shown(value):
    """``repr(value)``, with numpy scalars shown as the Python numbers they
    hold (numpy 2 writes ``np.float64(0.5)`` where numpy 1 wrote ``0.5``).

    >>> shown(np.float64(0.5)), shown(np.int64(3)), shown("a")
    ('0.5', '3', "'a'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def check_positive(name, value, obj=None):
    """Validate a positive finite number and return it as a float."""
    if isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"must be a positive number, got {shown(value)}", attr=name, obj=obj)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"must be a positive number, got {shown(value)}", attr=name, obj=obj
        ) from None
    if not np.isfinite(value) or value <= 0:
        raise ValidationError(f"must be a positive finite number, got {value}", attr=name, obj=obj)
    return value


def check_int(name, value, obj=None, minimum=1, maximum=None):
    """Validate an integer in ``[minimum, maximum]`` and return it as an int.

    numpy integers are accepted; booleans and floats are not.
    """
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, np.integer))
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        rule = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValidationError(f"must be an integer {rule}, got {shown(value)}", attr=name, obj=obj)
    return int(value)


def check_seed(name, value, obj=None):
    """Validate a seed: ``None`` or an integer in ``[0, 2**32 - 1]`` (numpy's
    range; a negative seed would otherwise fail inside numpy).

    >>> check_seed("seed", None), check_seed("seed", np.int64(3))
    (None, 3)
    """
    if value is None:
        return None
    return check_int(name, value, obj=obj, minimum=0, maximum=2**32 - 1)


def check_choice(name, value, choices, obj=None, alternatives=""):
    """Check that ``value`` is one of the strings ``choices`` and return it.

    ``alternatives`` names other accepted kinds of value in the message
    (e.g. ``" or a matrix"``), for callers that handle those first.
    """
    if not (isinstance(value, str) and value in choices):
        raise ValidationError(
            f"must be one of {tuple(choices)}{alternatives}, got {shown(value)}",
            attr=name,
            obj=obj,
        )
    return value


def check_bool(name, value, obj=None):
    """Validate a boolean (Python or numpy) and return it as a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"must be True or False, got {shown(value)}", attr=name, obj=obj)
    return bool(value)


def check_finite_array(name, value, obj=None, dtype=np.float64):
    """Convert ``value`` to an array and refuse NaN or infinite entries."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            f"must be a numeric array, got {type(value).__name__} ({e})",
            attr=name,
            obj=obj,
        ) from None
    return check_finite(name, arr, obj)


def check_finite(name, value, obj=None):
    """Raise a `ValidationError` naming ``name`` if ``value`` has NaN or inf."""
    arr = np.asarray(value)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(f"must be finite, got {arr[idx]} at index {idx}", attr=name, obj=obj)
    return value


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
        raise ValidationError(f"must be (batch, n_steps, n_inputs), got shape {x.shape}", attr="x")
    if n_inputs is not None and x.shape[2] != n_inputs:
        raise ValidationError(
            f"must have {n_inputs} input dimension(s) in its last axis, got shape {x.shape}",
            attr="x",
        )
    if n_steps is not None and x.shape[1] != n_steps:
        raise ValidationError(f"must have {n_steps} steps, got shape {x.shape}", attr="x")
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
            f"labels must lie in [0, {n_classes}), got range [{y.min()}, {y.max()}]",
            attr="y",
        )


def check_event_data(x, n_channels, attr="x"):
    """Check event data ``(batch, n_steps, n_channels)`` of 0/1 values."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValidationError(
            f"must be events (batch, n_steps, n_channels), got shape {x.shape}",
            attr=attr,
        )
    if x.shape[2] != n_channels:
        raise ValidationError(
            f"must have {n_channels} event channels in its last axis, got "
            f"{x.shape[2]} (shape {x.shape})",
            attr=attr,
        )
    check_finite(attr, x)
    bad = (x != 0) & (x != 1)
    if np.any(bad):
        raise ValidationError(
            f"events must be 0 or 1, got {shown(x[bad].ravel()[0])} at {tuple(np.argwhere(bad)[0].tolist())}",
            attr=attr,
        )
    return x
