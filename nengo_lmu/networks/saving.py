"""The one file format of trained networks (`.LMUClassifier`, `.L2MU`,
`.RecurrentLIF`): an ``.npz`` with a JSON header and one array per weight.

Layout (format version 2)::

    __config__   JSON: {"format_version": 2, "kind": class name,
                        "config": constructor arguments, "extra": {...}}
    w:<name>     one array per weight, stored as given (dtype included)

Files written before version 2 still load (`read_network`): version 1 of
`.LMUClassifier` (``__config__`` holding the config itself with
``"format_version": 1``) and the unversioned spiking classifiers
(``config`` holding ``{"cls", "args", "neuron_params"}``, weights ``w_<name>``).
"""

import json

import numpy as np
from nengo.exceptions import ValidationError

FORMAT_VERSION = 2


def save_network(path, kind, config, weights, extra=None):
    """Write a network's constructor arguments and weights to ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> save_network(path, "Demo", {"units": 3}, {"W": np.eye(2)})
    >>> kind, config, weights, extra = read_network(path)
    >>> kind, config, weights["W"].tolist(), extra
    ('Demo', {'units': 3}, [[1.0, 0.0], [0.0, 1.0]], {})
    """
    for name, w in weights.items():
        if not np.all(np.isfinite(w)):
            raise ValidationError(
                f"weights[{name!r}] contains NaN or inf: refusing to save", attr="weights")
    header = dict(format_version=FORMAT_VERSION, kind=kind, config=config,
                  extra=extra or {})
    np.savez(path, __config__=np.array(json.dumps(header)),
             **{f"w:{k}": np.asarray(v) for k, v in weights.items()})


def read_network(path):
    """``(kind, config, weights, extra)`` of a file written by
    `save_network`, or by the writers before format version 2."""
    with np.load(path, allow_pickle=False) as f:
        if "__config__" in f.files:
            header = json.loads(str(f["__config__"]))
            weights = {k[2:]: f[k] for k in f.files if k.startswith("w:")}
        elif "config" in f.files:
            # the spiking classifiers' unversioned format
            old = json.loads(str(f["config"]))
            weights = {k[2:]: f[k] for k in f.files if k.startswith("w_")}
            if not isinstance(old, dict) or "cls" not in old:
                raise ValidationError(f"not a saved network: {path}", attr="path")
            return old["cls"], old["args"], weights, {"neuron_params": old["neuron_params"]}
        else:
            raise ValidationError(f"not a saved network: {path}", attr="path")
    version = header.get("format_version")
    if version == 1:
        # LMUClassifier's version 1: the header is the config
        config = {k: v for k, v in header.items() if k != "format_version"}
        return "LMUClassifier", config, weights, {}
    if version != FORMAT_VERSION:
        raise ValidationError(
            f"unsupported format version {version} (this nengo_lmu reads 1 and "
            f"{FORMAT_VERSION})", attr="path")
    return header["kind"], header["config"], weights, header.get("extra", {})
