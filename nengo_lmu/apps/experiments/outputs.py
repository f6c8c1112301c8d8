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
>>> os.rmdir(folder)
"""

import json
import os
import tempfile

from nengo.exceptions import ValidationError

__all__ = [
    "MARKER",
    "begin_run",
    "check_output_folder",
    "check_output_path",
    "check_plot_path",
    "clear_own_folder",
    "finish_run",
    "plan_run_folder",
    "save_or_rescue",
    "write_marker",
]

#: the file that marks a folder as written by a nengo-lmu command, with the
#: run's kind and settings (JSON); ``--force`` replaces only marked folders
MARKER = "nengo_lmu-run.json"


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
    if os.path.isdir(path):
        raise ValidationError(f"the {what} {path!r} is a folder, not a file", attr=attr)
    if suffix and not path.endswith(suffix):
        path += suffix
    _folder_writable(os.path.dirname(os.path.abspath(path)), what, path, attr)
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


def _folder_writable(folder, what, path, attr):
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise ValidationError(
                f"cannot write the {what} {path!r}: {folder!r} is a file, not a folder",
                attr=attr,
            )
        raise ValidationError(
            f"cannot write the {what} {path!r}: folder {folder!r} does not exist", attr=attr
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError(
            f"cannot write the {what} {path!r}: folder {folder!r} is not writable", attr=attr
        )


#: the plot formats of matplotlib's default backends (used where matplotlib
#: is not installed; otherwise matplotlib is asked)
PLOT_FORMATS = frozenset("eps jpeg jpg pdf pgf png ps raw rgba svg svgz tif tiff webp".split())


def plot_formats():
    """The file formats matplotlib can save (by suffix, without the dot)."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:  # pragma: no cover - matplotlib is in the plot extras
        return PLOT_FORMATS
    return frozenset(FigureCanvasBase.get_supported_filetypes())


def check_plot_path(path, force=False, attr="--plot", hint="pass --force to overwrite it"):
    """`check_output_path` for a plot, which also needs a suffix that
    matplotlib can save.

    Examples
    --------
    >>> try:
    ...     check_plot_path("out.txt")
    ... except ValidationError as e:
    ...     print(str(e).split(":")[0])
    --plot
    """
    if path is None or path == "":
        return None
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    formats = plot_formats()
    if suffix not in formats:
        raise ValidationError(
            f"{os.fspath(path)!r}: a plot must end in one of "
            f"{', '.join('.' + f for f in sorted(formats))} (got {('.' + suffix) if suffix else 'no suffix'})",
            attr=attr,
        )
    return check_output_path(path, force=force, what="plot", attr=attr, hint=hint)


def check_output_folder(path, what="output folder", attr="path"):
    """Check that the folder ``path`` exists or can be made (its parent exists
    and is writable), and is not a file; returns the path (None for None)."""
    if path is None or path == "":
        return None
    path = os.path.expanduser(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValidationError(f"the {what} {path!r} is a file, not a folder", attr=attr)
    if os.path.isdir(path):
        _folder_writable(path, what, path, attr)
    else:
        _folder_writable(os.path.dirname(os.path.abspath(path)), what, path, attr)
    return path


def read_marker(folder):
    """The run record in ``folder``'s `MARKER` file (None where there is none)."""
    try:
        with open(os.path.join(folder, MARKER), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_marker(folder, record):
    """Write ``record`` (a JSON-able dict) as ``folder``'s `MARKER` file."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, MARKER), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, sort_keys=True)


def _describe(settings):
    return ", ".join(f"{k}={v!r}" for k, v in sorted(settings.items()))


def plan_run_folder(
    path,
    kind,
    settings,
    resume=False,
    force=False,
    own=(),
    attr="--checkpoint",
    compare=None,
):
    """Decide, before any work, what a run may do with its folder ``path``.

    The folder of a run (a checkpoint folder) holds a `MARKER` file with the
    run's ``kind`` and ``settings``. A new run needs an empty or missing
    folder; ``force`` replaces a folder this package wrote (marked, and with
    nothing in it but the marker and the names in ``own``), never one with
    other contents; ``resume`` continues a marked run whose kind and
    settings (those named in ``compare``; default all) are the same, and
    refuses another, naming both.

    Parameters
    ----------
    path : str
        The run's folder.
    kind : str
        What the run is (``"train-lm"``).
    settings : dict
        The run's settings (JSON-able).
    resume, force : bool
        The command's ``--resume`` and ``--force``.
    own : tuple of str
        Prefixes of the file names the run writes besides the marker.
    attr : str
        The option named by the errors.
    compare : iterable of str, optional
        The settings that must agree for a resume.

    Returns
    -------
    str
        ``"new"`` (empty or missing folder), ``"replace"`` (``force``: call
        `clear_own_folder` first), or ``"resume"`` (then the marker's
        record is in ``read_marker(path)``).
    """
    path = check_output_folder(path, what="run folder", attr=attr)
    contents = sorted(os.listdir(path)) if os.path.isdir(path) else []
    if not contents:
        if resume:
            raise ValidationError(f"{path!r} holds no run to resume", attr="--resume")
        return "new"
    record = read_marker(path)
    if record is None:
        raise ValidationError(
            f"{path!r} is not empty and holds no {MARKER} (it was not written by this "
            f"version of nengo-lmu), so it can be neither checked nor replaced: choose "
            f"another folder",
            attr=attr,
        )
    if resume:
        check_resume(path, record, kind, settings, compare)
        return "resume"
    if not force:
        raise ValidationError(
            f"{path!r} holds a run (pass --resume to continue it, or --force to replace it)",
            attr=attr,
        )
    foreign = [n for n in contents if n != MARKER and not n.startswith(tuple(own))]
    if foreign:
        raise ValidationError(
            f"{path!r} holds files that nengo-lmu did not write ({', '.join(foreign[:5])}"
            f"{', ...' if len(foreign) > 5 else ''}); --force replaces only a run's own "
            f"files: choose another folder",
            attr=attr,
        )
    return "replace"


def check_resume(path, record, kind, settings, compare=None):
    """`plan_run_folder`'s check that the run recorded in ``path``'s marker
    (``record``) is of ``kind`` with the same ``settings`` (those named in
    ``compare``; default all); errors name ``--resume`` and both values."""
    if record.get("kind") != kind:
        raise ValidationError(
            f"{path!r} holds a {record.get('kind')!r} run, not {kind!r}", attr="--resume"
        )
    saved = record.get("settings", {})
    names = sorted(settings) if compare is None else sorted(compare)
    differ = [n for n in names if saved.get(n) != settings.get(n)]
    if differ:
        raise ValidationError(
            f"the run in {path!r} has {_describe({n: saved.get(n) for n in differ})}; "
            f"this command asks for {_describe({n: settings.get(n) for n in differ})}: "
            f"a resume must use the run's settings (or choose another folder)",
            attr="--resume",
        )


def begin_run(path, kind, settings, resume=False, force=False, own=(), clear=None):
    """Open the folder of a run before any work: `plan_run_folder`, then
    clear a replaced run (``clear(path)``; default: `clear_own_folder` with
    ``own``) and mark the folder as holding an unfinished run of ``kind``.

    Returns the plan (``"new"``, ``"replace"``, ``"resume"``), or
    ``"finished"`` where ``resume`` found the run finished (then nothing is
    changed). `finish_run` marks the run finished.
    """
    plan = plan_run_folder(path, kind, settings, resume=resume, force=force, own=own)
    if plan == "resume" and read_marker(path).get("finished"):
        return "finished"
    if plan == "replace":
        if clear is None:
            clear_own_folder(path, own)
        else:
            clear(path)
    write_marker(path, dict(kind=kind, settings=settings, finished=False))
    return plan


def finish_run(path, kind, settings):
    """Mark the run in ``path`` (opened with `begin_run`) finished."""
    write_marker(path, dict(kind=kind, settings=settings, finished=True))


def clear_own_folder(path, own=()):
    """Remove the `MARKER` and the files named ``own*`` from ``path`` (a run
    folder that `plan_run_folder` allowed to be replaced); nothing else."""
    for name in os.listdir(path):
        if name == MARKER or name.startswith(tuple(own)):
            full = os.path.join(path, name)
            if os.path.isfile(full) or os.path.islink(full):
                os.remove(full)


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
    >>> os.remove(rescued)
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
