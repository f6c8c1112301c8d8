"""Weights of an LMUFormer: read, set, copy between models, save and load.

`lmuformer_weights` names every weight of a model made by
`nengo_lmu.dl.lmuformer.lmuformer` by its layer and index, the same on every
Keras stack; `save_lmuformer` writes them (with the model's config) to a
folder that `load_lmuformer` reads on any stack. `init_spiking_from` starts
a spiking LMUFormer from a trained non-spiking one, and `with_dtype` copies
a model to another float type.
"""

import json
import os

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.lmuformer import DTYPES, check_lmuformer, lmuformer
from nengo_lmu.validation import check_choice

#: The weights file of `save_lmuformer` (next to ``config.json``)
WEIGHTS_FILE = "weights.npz"


def lmuformer_weights(model):
    """``{"layer/index": array}``: every weight of ``model`` (trainable or not,
    batch-norm statistics included) by its layer's name and its index in
    ``layer.get_weights()``: the same keys on every Keras stack."""
    check_lmuformer(model)
    return {
        f"{lay.name}/{i}": np.asarray(w)
        for lay in model.layers
        for i, w in enumerate(lay.get_weights())
    }


def set_lmuformer_weights(model, weights, source="weights"):
    """Set the weights of ``model`` from `lmuformer_weights`' dict; the keys
    and shapes must match exactly."""
    own = lmuformer_weights(model)
    missing = sorted(set(own) - set(weights))
    extra = sorted(set(weights) - set(own))
    if missing or extra:
        raise ValidationError(
            f"does not fit the model: missing {missing[:5]}, not in the model {extra[:5]}",
            attr=source,
        )
    for key, value in own.items():
        if np.shape(weights[key]) != value.shape:
            raise ValidationError(
                f"{key} has shape {np.shape(weights[key])}, the model's {value.shape}",
                attr=source,
            )
    for lay in model.layers:
        n = len(lay.get_weights())
        if n:
            lay.set_weights([np.asarray(weights[f"{lay.name}/{i}"]) for i in range(n)])


def init_spiking_from(spiking_model, model):
    """Initialise a spiking LMUFormer from a trained non-spiking one (in place).

    Every weight of ``model`` whose layer has the same name and the same
    shape in ``spiking_model`` is copied: the embedding's convs and the
    batch norms that follow the first four of them (with their moving
    statistics), each block's ``wu``, ``proj``, ``mix1``, ``mix2`` and their
    batch norms, and the head. ``wh`` reads ``[m; x]``: its bias and the
    rows for ``x`` are copied; the rows for the memory ``m`` are copied
    too when both models have the same memory order (by default the
    spiking model's is twice as large, and those rows keep their initial
    values). The batch norms only the spiking model has (``embed_bn4``
    after the residual conv, ``bn_u``, ``bn_m``, ``bn_h``) keep theirs.
    The spiking model's architecture is unchanged, so it stays the network
    `streaming_network` runs spike for spike.

    Parameters
    ----------
    spiking_model : LMUFormerModel
        Made by `lmuformer` with ``spiking=True``.
    model : LMUFormerModel
        A non-spiking model with the same ``n_inputs``, ``n_classes``,
        ``dim``, ``mlp_ratio``, ``n_blocks`` and ``lookahead``.

    Returns
    -------
    dict
        ``copied``, ``partly`` and ``kept`` (sorted weight keys as in
        `lmuformer_weights`): copied whole, copied in part (``wh``'s
        kernel), and left as they were.

    Examples
    --------
    >>> ann = lmuformer(n_inputs=20, n_classes=5, dim=16, seed=0)
    >>> snn = lmuformer(n_inputs=20, n_classes=5, dim=16, spiking=True, seed=1)
    >>> init_spiking_from(snn, ann)["partly"]
    ['block0_wh/0']
    """
    spiking_config = check_lmuformer(spiking_model, attr="spiking_model")
    config = check_lmuformer(model, attr="model")
    if not spiking_config["spiking"]:
        raise ValidationError("must be a spiking LMUFormer (spiking=True)", attr="spiking_model")
    if config["spiking"]:
        raise ValidationError("must be a non-spiking LMUFormer (spiking=False)", attr="model")
    for key in ("n_inputs", "n_classes", "dim", "mlp_ratio", "n_blocks", "lookahead"):
        if spiking_config[key] != config[key]:
            raise ValidationError(
                f"has {key}={config[key]}, the spiking model {key}={spiking_config[key]}",
                attr="model",
            )
    source = lmuformer_weights(model)
    target = lmuformer_weights(spiking_model)
    copied, partly = [], []
    dim = config["dim"]
    for key, value in target.items():
        if key not in source:
            continue
        if source[key].shape == value.shape:
            target[key] = source[key]
            copied.append(key)
        elif key.endswith("_wh/0"):
            # rows of [m; x]: the x rows always match, the m rows only
            # when the orders do (then the shapes match and it is copied above)
            value = value.copy()
            value[-dim:] = source[key][-dim:]
            target[key] = value
            partly.append(key)
    set_lmuformer_weights(spiking_model, target)
    done = set(copied) | set(partly)
    return dict(
        copied=sorted(copied),
        partly=sorted(partly),
        kept=sorted(k for k in target if k not in done),
    )


def save_lmuformer(model, path, overwrite=False):
    """Save the config (``path/config.json``) and weights (``path/weights.npz``).

    The weights file holds every weight by layer name (numpy arrays, exact),
    so a model trained on one Keras stack (Keras 3 on JAX, PyTorch or
    TensorFlow; tf.keras 2.12) loads on any other with `load_lmuformer`.
    """
    config = check_lmuformer(model)
    path = os.fspath(path)
    if os.path.exists(os.path.join(path, "config.json")) and not overwrite:
        raise ValidationError(
            f"{path!r} already holds a saved model (overwrite=True replaces it)", attr="path"
        )
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(path, WEIGHTS_FILE), "wb") as f:
        np.savez(f, **lmuformer_weights(model))


def load_lmuformer(path):
    """The model `save_lmuformer` saved at ``path`` (on this Keras stack)."""
    path = os.fspath(path)
    config_path = os.path.join(path, "config.json")
    weights_path = os.path.join(path, WEIGHTS_FILE)
    for p in (config_path, weights_path):
        if not os.path.isfile(p):
            raise ValidationError(f"no saved LMUFormer at {path!r} ({p} is missing)", attr="path")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    model = lmuformer(**config)
    with np.load(weights_path) as data:
        set_lmuformer_weights(model, {k: data[k] for k in data.files}, source="path")
    return model


def with_dtype(model, dtype):
    """A copy of ``model`` computing in ``dtype`` ("float32"/"float64"), same weights.

    A spiking model trained in float32 and run in float64 (e.g. by
    ``nengo.Simulator``) can differ by a spike where a potential sits within
    float32 rounding of the threshold; comparing float64 with float64 is
    exact.
    """
    config = check_lmuformer(model)
    check_choice("dtype", dtype, DTYPES)
    config.update(dtype=dtype, seed=None)
    copy = lmuformer(**config)
    copy.set_weights(model.get_weights())
    return copy


__all__ = [
    "WEIGHTS_FILE",
    "lmuformer_weights",
    "set_lmuformer_weights",
    "init_spiking_from",
    "save_lmuformer",
    "load_lmuformer",
    "with_dtype",
]
