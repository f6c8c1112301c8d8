"""Output files of experiments and commands: checked before any work starts,
never overwritten by accident, never lost to a failed save.

Every command that writes a file (a trained model, a plot, a table) calls
`check_output_path` for each of them before it trains or simulates, so that
a missing folder or an existing file stops it at once rather than after
minutes of training; and saves trained weights with `save_or_rescue`, which
falls back to a fresh temporary file (and says where) when the chosen path
cannot be written after all (a folder removed meanwhile, a full disk).

Examples
--------
>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> check_output_path(os.path.join(folder, "model"), suffix=".npz").endswith("model.npz")
True
"""

import os
import tempfile

from nengo.exceptions import ValidationError

__all__ = ["check_output_path", "save_or_rescue"]


def check_output_path(
    path,
    force=False,
    what="output file",
    suffix=None,
    attr="path",
    hint="pass force=True to overwrite it",
):
    """Check that ``path`` can be written, before any work starts.

    Parameters
    ----------
    path : str or path-like or None
        Where the output goes; ``None`` or ``""`` means no output (returned
        as ``None``).
    force : bool
        Allow overwriting an existing file.
    what : str
        What the file is, for the message (e.g. ``"trained model"``).
    suffix : str, optional
        A suffix added where missing, as the writer will (``".npz"``:
        `numpy.savez` and `nengo_lmu.networks.saving.npz_path`), so that
        the file checked is the file written.
    attr : str
        The parameter (or option) named by the error.
    hint : str
        How to overwrite, appended to the "exists" error (the command line
        says ``"pass --force to overwrite it"``).

    Returns
    -------
    str or None
        The path that will be written.

    Raises
    ------
    nengo.exceptions.ValidationError
        Naming ``attr``, the path and what is wrong: its folder is missing or
        not writable, the path is a folder, or the file exists and ``force``
        is false.
    """
    if path is None or path == "":
        return None
    path = os.path.expanduser(os.fspath(path))
    if suffix and not path.endswith(suffix):
        path += suffix
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValidationError(
            f"cannot write the {what} {path!r}: folder {folder!r} does not exist", attr=attr
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError(
            f"cannot write the {what} {path!r}: folder {folder!r} is not writable", attr=attr
        )
    if os.path.isdir(path):
        raise ValidationError(f"the {what} {path!r} is a folder, not a file", attr=attr)
    if os.path.exists(path):
        if not force:
            raise ValidationError(
                f"the {what} {path!r} exists; refusing to overwrite it ({hint}, or "
                f"choose another name)",
                attr=attr,
            )
        if not os.access(path, os.W_OK):
            raise ValidationError(
                f"cannot overwrite the {what} {path!r}: it is not writable", attr=attr
            )
    return path


def save_or_rescue(save, path, what="trained model", log=None, suffix=".npz"):
    """Call ``save(path)``; if that fails, save to a fresh temporary file.

    Training results are the one thing a failed save must not lose: when
    ``save(path)`` raises (the folder vanished, the disk is full, the path
    became a folder), ``save`` is called again with a new file in the
    system's temporary folder, ``log`` is told both paths and the error,
    and that path is returned. If the rescue fails too, the original error
    is raised.

    Parameters
    ----------
    save : callable
        Writes the file: ``save(path)``; may return the path written.
    path : str
        Where the file should go.
    what : str
        What is saved, for the message.
    log : callable, optional
        Called with the message (default: `warnings.warn`).
    suffix : str
        Suffix of the rescue file.

    Returns
    -------
    str
        The path actually written.

    Examples
    --------
    >>> import numpy as np
    >>> def save(p):
    ...     np.save(p, np.zeros(2))
    ...     return p
    >>> rescued = save_or_rescue(save, "/no/such/folder/x.npy", suffix=".npy",
    ...                          log=lambda text: None)
    >>> rescued.startswith(tempfile.gettempdir()) and np.load(rescued).tolist()
    [0.0, 0.0]
    """
    try:
        written = save(path)
        return os.fspath(written) if written is not None else os.fspath(path)
    except Exception as e:  # noqa: BLE001 - any failure: rescue the weights
        error = e
    fd, rescue = tempfile.mkstemp(prefix="nengo_lmu-rescued-", suffix=suffix)
    os.close(fd)
    try:
        written = save(rescue)
    except Exception:  # noqa: BLE001 - the rescue failed too: report the original
        os.remove(rescue)
        raise error from None
    written = os.fspath(written) if written is not None else rescue
    message = (
        f"could not save the {what} to {os.fspath(path)!r} "
        f"({type(error).__name__}: {error}); saved it to {written!r} instead"
    )
    if log is None:
        import warnings

        warnings.warn(message, stacklevel=2)
    else:
        log(message)
    return written
