"""Reading KerasLMU layers: live ones and those of Keras 3 ``.keras`` files.

Both sources give a `KerasLMUSource` (a layer's kind, options, input shape
and weights), which `.keras_lmu_convert` turns into nengo_lmu's layers:

- a live model, where ``keras_lmu`` imports (TensorFlow with tf.keras 2.12
  or Keras 3): its layers are recognised by their class, this module never
  imports ``keras_lmu``;
- a ``.keras`` file written by Keras 3 (the format KerasLMU 0.9 saves on
  TensorFlow >= 2.16): its ``config.json`` and ``model.weights.h5`` are read
  directly, so it converts on any backend (JAX, PyTorch, TensorFlow) and on
  tf.keras 2.12, without KerasLMU installed. (``.h5`` and SavedModel files
  of tf.keras 2: load them with ``keras_lmu`` installed and pass the model.)
"""

import json
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import keras, to_numpy

#: KerasLMU's layer classes (recognised by name and module; never imported)
KERAS_LMU_CLASSES = ("LMU", "LMUFeedforward", "LMUCell")

#: Options of keras.layers.RNN carried over to `.LMULayer`
RNN_OPTIONS = ("return_sequences", "return_state", "stateful", "go_backwards")


@dataclass
class KerasLMUSource:
    """One KerasLMU layer as read from a live model or a file.

    Attributes
    ----------
    kind : str
        ``"LMU"``, ``"LMUFeedforward"``, ``"RNN"`` (``keras.layers.RNN``
        around an ``LMUCell``) or ``"LMUCell"``.
    name : str
        The layer's name.
    config : dict
        KerasLMU's options (the cell's for ``"RNN"``); ``hidden_cell`` is
        None or a serialised Keras layer (``class_name``, ``config``).
    input_shape : tuple
        ``(batch, steps, features)`` (``(batch, features)`` for a cell).
    weights : dict
        ``kernel``, ``bias``, ``recurrent_kernel``, ``theta_inv``: those the
        layer has, as numpy arrays.
    hidden_weights : list
        The hidden cell's weights, in its own order.
    rnn : dict
        The ``keras.layers.RNN`` options (``"RNN"`` only).
    """

    kind: str
    name: str
    config: dict
    input_shape: tuple
    weights: dict
    hidden_weights: list = field(default_factory=list)
    rnn: dict = field(default_factory=dict)

    @property
    def uses_rnn(self):
        """KerasLMU steps this layer (an ``LMUCell`` in an RNN) rather than
        convolving (``LMUFeedforward``): their dropout differs."""
        if self.kind == "LMU":
            c = self.config
            return bool(c["hidden_to_memory"] or c["memory_to_memory"] or c["trainable_theta"])
        return self.kind in ("RNN", "LMUCell")


def keras_lmu_kind(layer):
    """``"LMU"``, ``"LMUFeedforward"``, ``"RNN"``, ``"LMUCell"`` for a
    KerasLMU layer (or an RNN around its cell), else None."""
    cls = type(layer)
    if cls.__module__.startswith("keras_lmu") and cls.__name__ in KERAS_LMU_CLASSES:
        return cls.__name__
    if isinstance(layer, keras.layers.RNN) and keras_lmu_kind(layer.cell) == "LMUCell":
        return "RNN"
    return None


def config_kind(entry):
    """`keras_lmu_kind` for a serialised layer (``class_name``, ``config``)."""
    name = entry.get("class_name") or ""
    registered = entry.get("registered_name") or ""
    module = entry.get("module") or ""
    if name.startswith("keras-lmu>"):  # tf.keras 2's form
        registered, name = name, name.split(">", 1)[1]
    if name in KERAS_LMU_CLASSES and (
        registered.startswith("keras-lmu") or module.startswith("keras_lmu")
    ):
        return name
    if name == "RNN":
        cell = entry["config"].get("cell") or {}
        if config_kind(cell) == "LMUCell":
            return "RNN"
    return None


def entry_name(entry):
    """The name of a serialised layer (Keras 3's or tf.keras 2's form)."""
    return (entry.get("config") or {}).get("name") or entry.get("name")


# --- reading a live layer ----------------------------------------------------


def _array(value):
    return None if value is None else np.asarray(to_numpy(value))


def _serialize_hidden(cell):
    return None if cell is None else keras.layers.serialize(cell)


def source_from_layer(layer):
    """A `KerasLMUSource` of a built live KerasLMU layer."""
    kind = keras_lmu_kind(layer)
    if kind is None:
        raise ValidationError(
            f"must be a KerasLMU layer (LMU, LMUFeedforward, LMUCell or an RNN of an "
            f"LMUCell), got {type(layer).__name__}",
            attr="layer",
        )
    if not layer.built:
        raise ValidationError(
            f"{layer.name!r} must be built (call the model on an input first)", attr="layer"
        )
    rnn = {}
    if kind == "RNN":
        rnn = {name: getattr(layer, name) for name in RNN_OPTIONS}
        rnn["time_major"] = getattr(layer, "time_major", False)
        inner, config = layer.cell, layer.cell.get_config()
    else:
        inner, config = layer, layer.get_config()
        if kind == "LMU":
            inner = layer.layer.cell if isinstance(layer.layer, keras.layers.RNN) else layer.layer
    config = dict(config, hidden_cell=_serialize_hidden(layer_hidden(layer)))
    theta_inv = getattr(inner, "theta_inv", None)
    weights = {
        "kernel": _array(getattr(inner, "kernel", None)),
        "bias": _array(getattr(inner, "bias", None)),
        "recurrent_kernel": _array(getattr(inner, "recurrent_kernel", None)),
        "theta_inv": _array(theta_inv) if config.get("trainable_theta") else None,
    }
    hidden = layer_hidden(layer)
    return KerasLMUSource(
        kind=kind,
        name=layer.name,
        config=config,
        input_shape=_input_shape(layer),
        weights={k: v for k, v in weights.items() if v is not None},
        hidden_weights=[] if hidden is None else [_array(w) for w in hidden.weights],
        rnn=rnn,
    )


def layer_hidden(layer):
    """The hidden cell of a live KerasLMU layer."""
    return layer.cell.hidden_cell if keras_lmu_kind(layer) == "RNN" else layer.hidden_cell


def _input_shape(layer):
    try:
        shape = layer.input.shape
    except (AttributeError, ValueError):  # a layer built outside a model
        shape = getattr(layer, "_build_input_shape", None)
        if shape is None:
            shape = layer.get_build_config()["input_shape"]
    return tuple(None if s is None else int(s) for s in shape)


# --- .keras files ------------------------------------------------------------


def snake_case(name):
    """A class name as Keras 3 names its group in a weights file
    (``"LMUFeedforward"`` -> ``"lmu_feedforward"``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def read_keras_file(path):
    """The model config and weights of a Keras 3 ``.keras`` file.

    Returns
    -------
    config : dict
        ``config.json``.
    weights : dict
        ``{"layers/lmu/layer/cell/vars": [arrays], ...}``: every ``vars``
        group of ``model.weights.h5`` by its path.
    """
    import h5py

    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValidationError(
            f"must be a .keras file written by Keras 3 (a zip archive), got {path!r} ({e})",
            attr="model",
        ) from None
    with archive:
        names = archive.namelist()
        if "config.json" not in names or "model.weights.h5" not in names:
            raise ValidationError(
                f"{path!r} holds {names}, not a Keras 3 model (config.json and "
                "model.weights.h5); load a tf.keras 2 file with keras_lmu and pass the model",
                attr="model",
            )
        config = json.loads(archive.read("config.json"))
        with archive.open("model.weights.h5") as raw, h5py.File(raw, "r") as h5:
            weights = {}

            def visit(group_path, obj):
                if group_path.endswith("vars") and isinstance(obj, h5py.Group):
                    weights[group_path] = [np.asarray(obj[k]) for k in sorted(obj.keys(), key=int)]

            h5.visititems(visit)
    return config, weights


def _vars(weights, prefix):
    return weights.get(f"{prefix}/vars", [])


def source_from_file(entry, key, weights):
    """A `KerasLMUSource` from a serialised layer and the file's weights
    (``key``: the layer's group, e.g. ``"layers/lmu_1"``)."""
    kind = config_kind(entry)
    config = dict(entry["config"])
    rnn = {}
    if kind == "RNN":
        rnn = {k: config.get(k, False) for k in RNN_OPTIONS + ("time_major",)}
        cell_key = f"{key}/cell"
        config = dict(config["cell"]["config"])
        lmu_key, hidden_key = cell_key, f"{cell_key}/hidden_cell"
    elif kind == "LMU":
        c = config
        rnn_path = c["hidden_to_memory"] or c["memory_to_memory"] or c["trainable_theta"]
        lmu_key = f"{key}/layer/cell" if rnn_path else f"{key}/layer"
        hidden_key = f"{key}/hidden_cell"
    else:
        lmu_key, hidden_key = key, f"{key}/hidden_cell"
    lmu_vars = list(_vars(weights, lmu_key))
    # creation order: kernel, bias, theta_inv, recurrent_kernel
    named = {}
    for name, present in (
        ("kernel", config.get("kernel_initializer") is not None),
        ("bias", config.get("use_bias")),
        ("theta_inv", config.get("trainable_theta")),
        ("recurrent_kernel", config.get("memory_to_memory")),
    ):
        if present:
            if not lmu_vars:
                raise ValidationError(
                    f"layer {config.get('name')!r}: no {name} in the weights file at {lmu_key}",
                    attr="model",
                )
            named[name] = lmu_vars.pop(0)
    build = entry.get("build_config") or {}
    shape = tuple(build.get("input_shape") or ())
    return KerasLMUSource(
        kind=kind,
        name=entry["config"].get("name", config.get("name")),
        config=config,
        input_shape=shape,
        weights=named,
        hidden_weights=[] if config.get("hidden_cell") is None else _vars(weights, hidden_key),
        rnn=rnn,
    )


def layer_keys(layers):
    """Each layer's group in the weights file (``layers/<class>[_i]``)."""
    used, keys = {}, []
    for entry in layers:
        name = snake_case(entry["class_name"])
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        keys.append(f"layers/{name}")
    return keys


__all__ = [
    "KERAS_LMU_CLASSES",
    "RNN_OPTIONS",
    "KerasLMUSource",
    "keras_lmu_kind",
    "config_kind",
    "entry_name",
    "source_from_layer",
    "layer_hidden",
    "snake_case",
    "read_keras_file",
    "source_from_file",
    "layer_keys",
]
