"""The one file format of trained networks (`.LMUClassifier`, `.L2MU`,
`.RecurrentLIF`): an ``.npz`` with a JSON header and one array per weight.

Layout (format version 2)::

    __config__   JSON: {"format_version": 2, "kind": class name,
                        "config": constructor arguments, "extra": {...}}
    w:<name>     one array per weight, stored as given (dtype included)

Paths follow one rule for writing and reading (`npz_path`): a path without
the ``.npz`` suffix gets it, so ``save("model")`` writes ``model.npz`` and
``load("model")`` finds it. A file is written to a temporary name next to
it and moved into place, so a failed save leaves no half-written file (and
an existing file untouched). Reading checks the format and names the file
and what is wrong with it (not an ``.npz``, no header, a header that is not
JSON, missing or extra weights, weights of the wrong shape).
"""

import json
import os
import tempfile
import zipfile

import numpy as np
from nengo.exceptions import ValidationError

FORMAT_VERSION = 2


def npz_path(path):
    """The file a network is saved to or loaded from: ``path`` with the
    ``.npz`` suffix added where it is missing (numpy's own rule for
    writing, applied to reading too).

    Examples
    --------
    >>> npz_path("model"), npz_path("runs/model.npz")
    ('model.npz', 'runs/model.npz')
    """
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def save_network(path, kind, config, weights, extra=None):
    """Write a network's constructor arguments and weights to ``path``
    (``.npz`` added where missing); return the path written.

    NaN or infinite weights are refused. The file is written to a temporary
    name in the same folder and then moved into place.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "net")
    >>> save_network(path, "Demo", {"units": 3}, {"W": np.eye(2)}).endswith("net.npz")
    True
    >>> kind, config, weights, extra = read_network(path)
    >>> kind, config, weights["W"].tolist(), extra
    ('Demo', {'units': 3}, [[1.0, 0.0], [0.0, 1.0]], {})
    >>> shutil.rmtree(folder)
    """
    given = os.fspath(path)
    if not os.path.basename(given) or os.path.isdir(given):
        # npz_path would write 'folder.npz' beside it, or a hidden '.npz' in it
        raise ValidationError(
            f"{given!r} is a folder; give a file name, such as "
            f"{os.path.join(given, 'model.npz')!r}",
            attr="path",
        )
    path = npz_path(path)
    for name, w in weights.items():
        w = np.asarray(w)
        if w.dtype.kind not in "biuf":
            raise ValidationError(
                f"weights[{name!r}] must be a numeric array, got dtype {w.dtype}", attr="weights"
            )
        if not np.all(np.isfinite(w)):
            raise ValidationError(
                f"weights[{name!r}] contains NaN or inf: refusing to save", attr="weights"
            )
    header = dict(format_version=FORMAT_VERSION, kind=kind, config=config, extra=extra or {})
    try:
        # -inf is a legitimate setting (min_voltage), so JSON's Infinity stays
        text = json.dumps(header)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            f"the configuration cannot be saved ({e}): {header}", attr="config"
        ) from None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValidationError(f"folder {folder!r} does not exist (saving {path!r})", attr="path")
    if os.path.isdir(path):
        raise ValidationError(f"{path!r} is a folder, not a file", attr="path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError(f"folder {folder!r} is not writable (saving {path!r})", attr="path")
    try:
        fd, tmp = tempfile.mkstemp(suffix=".npz", prefix=".saving-", dir=folder)
    except OSError as e:
        # os.access says yes to root on a read-only mount or /proc: name the
        # user's file, not the temporary one
        raise ValidationError(
            f"cannot write {path!r}: {e.strerror} (in folder {folder!r})", attr="path"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(
                f,
                __config__=np.array(text),
                **{f"w:{k}": np.asarray(v) for k, v in weights.items()},
            )
        # mkstemp makes the file 0600; give it the mode a new file gets under
        # the user's umask (an existing file keeps its own mode)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(e, OSError):
            raise ValidationError(f"cannot write {path!r}: {e.strerror or e}", attr="path") from e
        raise
    return path


def _file_mode(path):
    """The permission bits ``path`` gets: its own where it exists, else
    0666 less the process's umask (what ``open(path, "w")`` gives)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _not_saved(path, why):
    return ValidationError(f"{path!r} is not a saved nengo_lmu network: {why}", attr="path")


def read_network(path):
    """``(kind, config, weights, extra)`` of a file written by `save_network`.

    ``path`` follows `npz_path`. A missing file, a file that is not an
    ``.npz`` archive (a ``.npy`` array, text), or an archive without the
    header raises a `ValidationError` naming the file and what is wrong.
    """
    given = os.fspath(path)
    path = npz_path(path)
    if os.path.isdir(given) or os.path.isdir(path):
        folder = given if os.path.isdir(given) else path
        raise ValidationError(f"{folder!r} is a folder, not a saved network", attr="path")
    if not os.path.isfile(path):
        if os.path.isfile(given):  # x.h5 exists; x.h5.npz, the file read, does not
            raise _not_saved(
                given, "networks are saved as .npz files (save() adds .npz to a name without it)"
            )
        also = f" (nor {path!r}, the name with .npz added)" if given != path else ""
        raise ValidationError(f"no such file: {given!r}{also}", attr="path")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            start = f.read(6)
        what = "a .npy array" if start == b"\x93NUMPY" else "not an .npz archive"
        raise _not_saved(path, f"{what} (expected the .npz that save() writes)")
    try:
        with np.load(path, allow_pickle=False) as f:
            files = set(f.files)
            if "__config__" in files:
                header = _json(path, f["__config__"])
                weights = {k[2:]: f[k] for k in f.files if k.startswith("w:")}
            else:
                raise _not_saved(path, f"no '__config__' header among its arrays {sorted(files)}")
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        if isinstance(e, ValidationError):
            raise
        raise _not_saved(path, f"cannot be read ({e})") from None
    if not isinstance(header, dict):
        raise _not_saved(path, "its header is not a JSON object")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValidationError(
            f"{path!r}: unsupported format version {version} (this nengo_lmu reads "
            f"{FORMAT_VERSION})",
            attr="path",
        )
    missing = {"kind", "config"} - set(header)
    if missing:
        raise _not_saved(path, f"its header lacks {sorted(missing)}")
    return header["kind"], header["config"], weights, header.get("extra", {})


def _json(path, array):
    try:
        return json.loads(str(array))
    except ValueError:
        raise _not_saved(path, "its header is not JSON") from None


def check_weight_names(path, kind, weights, expected):
    """Raise a `ValidationError` naming ``path`` unless ``weights`` has
    exactly the names ``expected`` (a file with a weight missing would
    otherwise load with that weight left at its random initial value)."""
    path = npz_path(path)
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        parts = ([f"missing weights {missing}"] if missing else []) + (
            [f"unknown weights {extra}"] if extra else []
        )
        raise ValidationError(
            f"{path!r} holds an incomplete or mismatched {kind}: {'; '.join(parts)} "
            f"(expected {sorted(expected)})",
            attr="path",
        )


def check_kind(path, kind, accepted):
    """Raise a `ValidationError` naming ``path`` unless ``kind`` (the class
    a file holds) is one of ``accepted``."""
    path = npz_path(path)
    if kind not in accepted:
        raise ValidationError(
            f"{path!r} holds a saved {kind}, which {' or '.join(accepted)} cannot "
            f"rebuild: load it with {kind}.load",
            attr="path",
        )
