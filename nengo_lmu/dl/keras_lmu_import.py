"""KerasLMU models on nengo_lmu's layers: `from_keras_lmu`.

A model built with KerasLMU (``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward``
or ``keras.layers.RNN(keras_lmu.LMUCell(...))``) becomes the same model with
each of those layers replaced by an `.LMULayer` holding its trained weights
(a lone ``keras_lmu.LMUCell`` becomes an `.LMUKerasCell`); every other layer
is copied with its weights. The outputs are the same (to float32 rounding),
and from there `nengo_lmu.dl.to_classifier` / `cell_from_layer` give the
Nengo network, with rate, spiking or Loihi neurons.

Two sources:

- a live model, where ``keras_lmu`` imports (TensorFlow with tf.keras 2.12
  or Keras 3): its layers are recognised by their class, this module never
  imports ``keras_lmu``;
- a ``.keras`` file written by Keras 3 (the format KerasLMU 0.9 saves on
  TensorFlow >= 2.16): its ``config.json`` and ``model.weights.h5`` are read
  directly, so it converts on any backend (JAX, PyTorch, TensorFlow) and on
  tf.keras 2.12, without KerasLMU installed. (``.h5`` and SavedModel files
  of tf.keras 2: load them with ``keras_lmu`` installed and pass the model.)

How KerasLMU's weights map onto `.LMULayer`'s (nengo's ``(post, pre)``
orientation, ``q = memory_d * order``)::

    kernel (input_d [+ h], memory_d)   -> e_x = kernel[:input_d].T,
                                          e_h = kernel[input_d:].T
    (no kernel: kernel_initializer=None) -> the identity
    recurrent_kernel (q, memory_d)     -> e_m = recurrent_kernel.T
    bias (memory_d,)                   -> b_u
    theta_inv                          -> theta_inv (trainable_theta)

The memory (``Ad``, ``Bd``, the Legendre system of ``order`` and ``theta``
with the same discretizer) is the same. A ``hidden_cell`` that is a
``Dense`` or ``SimpleRNNCell`` with a ``tanh``, ``relu`` or ``sigmoid``
activation (and no regularizer, constraint or dropout of its own) becomes
the default hidden layer (``W_m``, ``W_x``, ``W_h``, ``b_h``), the form that
converts to Nengo; any other Keras layer or RNN cell stays a Keras
``hidden_cell`` of the `.LMULayer` (the same outputs; `to_classifier`
refuses it). With a bias on only one of the memory input and the hidden
layer, the other bias is zeros.

Refused, with a `nengo.exceptions.ValidationError` naming the option:
``conv_mode="raw"`` with a ``truncate_ir`` (KerasLMU's truncated impulse
response; nengo_lmu's memory is exact: save the model with
``truncate_ir=None``), ``time_major`` RNNs, and the training-only options
that would act on other weights here (``dropout`` with
``hidden_to_memory``, or on an input that only one side masks;
``recurrent_dropout`` with a hidden layer that feeds back; a
``kernel_regularizer`` / ``recurrent_regularizer`` / ``bias_regularizer``
whose weights differ): pass ``inference_only=True`` to leave those out (the
outputs at inference are unchanged). ``theta`` and ``discretizer`` obey
nengo_lmu's own rules (an Euler memory must be stable).
"""

import copy
import json
import os
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import KERAS3, keras, to_numpy
from nengo_lmu.dl.keras_cell import LMUKerasCell
from nengo_lmu.dl.layers import LMULayer
from nengo_lmu.dl.lmu_core import ACTIVATIONS

#: KerasLMU's layer classes (recognised by name and module; never imported)
KERAS_LMU_CLASSES = ("LMU", "LMUFeedforward", "LMUCell")

#: Options of keras.layers.RNN carried over to `.LMULayer`
RNN_OPTIONS = ("return_sequences", "return_state", "stateful", "go_backwards")

#: The hidden cells that become `.LMULayer`'s default hidden layer
DEFAULT_HIDDEN_CLASSES = ("Dense", "SimpleRNNCell")

#: A hidden cell's settings that keep it a Keras cell when set
_HIDDEN_TRAINING = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
)


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


# --- recognising KerasLMU objects ------------------------------------------


def keras_lmu_kind(layer):
    """``"LMU"``, ``"LMUFeedforward"``, ``"RNN"``, ``"LMUCell"`` for a
    KerasLMU layer (or an RNN around its cell), else None."""
    cls = type(layer)
    if cls.__module__.startswith("keras_lmu") and cls.__name__ in KERAS_LMU_CLASSES:
        return cls.__name__
    if isinstance(layer, keras.layers.RNN) and keras_lmu_kind(layer.cell) == "LMUCell":
        return "RNN"
    return None


def _config_kind(entry):
    """The same for a serialised layer (``class_name``, ``config``)."""
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
        if _config_kind(cell) == "LMUCell":
            return "RNN"
    return None


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


# --- the conversion of one layer ---------------------------------------------


def _refuse(name, message, layer):
    raise ValidationError(f"KerasLMU layer {layer!r}: {message}", attr=name)


def _hidden_as_default(hidden):
    """``(activation, recurrent, use_bias)`` where a serialised hidden cell
    is the default hidden layer, else None."""
    if hidden is None or hidden.get("class_name") not in DEFAULT_HIDDEN_CLASSES:
        return None
    c = hidden["config"]
    if c.get("activation") not in ACTIVATIONS:
        return None
    if any(c.get(name) is not None for name in _HIDDEN_TRAINING):
        return None
    if c.get("dropout", 0) or c.get("recurrent_dropout", 0):
        return None
    return c["activation"], hidden["class_name"] == "SimpleRNNCell", bool(c.get("use_bias"))


def _deserialize(entry):
    """A Keras object from its serialised form. On tf.keras 2, Keras 3's
    form is read too: dtype policies become their names, and options Keras
    2 does not know are left out where they are unset (None or False),
    else refused by name."""
    if KERAS3:
        return keras.layers.deserialize(entry)
    entry = _keras2_config(entry)
    while True:
        try:
            return keras.layers.deserialize(copy.deepcopy(entry))
        except TypeError as e:
            found = re.search(r"(?:not understood:'?,\s*|keyword argument )'(\w+)'", str(e))
            if found is None or not _drop_unset(entry, found.group(1)):
                raise ValidationError(
                    f"{entry.get('class_name')} {_entry_name(entry)!r} cannot be rebuilt "
                    f"with tf.keras {keras.__version__}: {e}",
                    attr=found.group(1) if found else "model",
                ) from None


def _drop_unset(value, key):
    """Remove ``key`` where it is None or False anywhere in a config;
    whether any was removed."""
    dropped = False
    if isinstance(value, dict):
        if key in value and value[key] in (None, False):
            del value[key]
            dropped = True
        for v in value.values():
            dropped = _drop_unset(v, key) or dropped
    elif isinstance(value, list):
        for v in value:
            dropped = _drop_unset(v, key) or dropped
    return dropped


def _keras2_config(value):
    """A Keras 3 serialised object made readable by tf.keras 2."""
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy":
            return value["config"]["name"]
        return {
            k: _keras2_config(v)
            for k, v in value.items()
            if k not in ("module", "registered_name", "build_config", "shared_object_id")
        }
    if isinstance(value, list):
        return [_keras2_config(v) for v in value]
    return value


def convert_source(source, inference_only=False):
    """The `.LMULayer` (or `.LMUKerasCell`) options and weights equal to one
    KerasLMU layer.

    Returns
    -------
    options : dict
        Arguments of `.LMULayer` (or `.LMUKerasCell`).
    weights : dict
        ``{name: array}`` in `.LMULayer`'s names.
    hidden_weights : list
        The weights of a Keras ``hidden_cell`` kept as one (else empty).
    """
    c, name = source.config, source.name
    if c.get("conv_mode", "fft") == "raw" and c.get("truncate_ir") is not None:
        _refuse(
            "truncate_ir",
            f"conv_mode='raw' with truncate_ir={c['truncate_ir']!r} truncates the "
            "memory's impulse response, which nengo_lmu's exact memory does not "
            "(save the model with truncate_ir=None to convert it)",
            name,
        )
    if source.rnn.get("time_major"):
        _refuse("time_major", "time_major=True RNNs are not supported", name)
    input_d = int(source.input_shape[-1])
    if c.get("input_d") is not None and int(c["input_d"]) != input_d:
        _refuse("input_d", f"is {c['input_d']} but the input has {input_d} features", name)
    md, order = int(c["memory_d"]), int(c["order"])
    q = md * order
    h2m, m2m = bool(c.get("hidden_to_memory")), bool(c.get("memory_to_memory"))
    i2h = bool(c.get("input_to_hidden"))
    trainable_theta = bool(c.get("trainable_theta"))
    w = source.weights
    hidden = c.get("hidden_cell")
    as_default = _hidden_as_default(hidden)

    # the memory's input u = e_x x + e_h h + e_m m + b_u
    # (no kernel, kernel_initializer=None: [x, h] has memory_d values)
    kernel = w.get("kernel")
    if kernel is None:
        kernel = np.eye(md)
    enc_d = kernel.shape[0]
    weights = {"e_x": kernel[:input_d].T}
    if h2m:
        weights["e_h"] = kernel[input_d:enc_d].T
    if m2m:
        weights["e_m"] = w["recurrent_kernel"].T
    lmu_bias = w.get("bias")

    options = dict(
        order=order,
        memory_d=md,
        discretizer=c.get("discretizer", "zoh"),
        hidden_to_memory=h2m,
        memory_to_memory=m2m,
        input_to_hidden=i2h,
        trainable_theta=trainable_theta,
        name=name,
    )
    theta = float(c["theta"])
    if trainable_theta:
        theta_inv = np.asarray(w["theta_inv"], dtype=np.float32)
        theta = float(1.0 / theta_inv)
        weights["theta_inv"] = theta_inv
    options["theta"] = theta
    hidden_weights = []
    if as_default is not None:
        activation, recurrent, hidden_bias = as_default
        hk = source.hidden_weights
        units = hk[0].shape[1]
        options.update(
            units=units,
            hidden_cell="default",
            hidden_activation=activation,
            hidden_to_hidden=recurrent,
            use_bias=lmu_bias is not None or hidden_bias,
        )
        weights["W_m"] = hk[0][:q].T
        if i2h:
            weights["W_x"] = hk[0][q:].T
        if recurrent:
            weights["W_h"] = hk[1].T
        if options["use_bias"]:
            weights["b_u"] = np.zeros(md) if lmu_bias is None else lmu_bias
            weights["b_h"] = hk[-1] if hidden_bias else np.zeros(units)
    else:
        options.update(
            units=None,
            hidden_cell=None if hidden is None else _deserialize(hidden),
            hidden_to_hidden=False,
            use_bias=lmu_bias is not None,
        )
        if lmu_bias is not None:
            weights["b_u"] = lmu_bias
        hidden_weights = list(source.hidden_weights)
    options.update(_training_options(source, as_default, inference_only))
    if source.kind != "LMUCell":
        options["return_sequences"] = bool(c.get("return_sequences", False))
        for key in RNN_OPTIONS:
            if key in source.rnn:
                options[key] = bool(source.rnn[key])
        options["mode"] = _mode(options, source.input_shape)
    return options, weights, hidden_weights


def _mode(options, input_shape):
    """The memory's mode: stepped where an option feeds back into it."""
    if options["hidden_to_memory"] or options["memory_to_memory"]:
        return "recurrent"
    if options["trainable_theta"]:
        return "fft" if input_shape[1] is not None else "recurrent"
    return "chunked"


def _training_options(source, as_default, inference_only):
    """``dropout``, ``recurrent_dropout`` and the regularizers, where they
    act on the same signals and weights as in KerasLMU (else refused, or
    left out with ``inference_only``)."""
    c, name = source.config, source.name
    h2m, m2m = bool(c.get("hidden_to_memory")), bool(c.get("memory_to_memory"))
    i2h = bool(c.get("input_to_hidden"))
    default = as_default is not None
    hidden_bias = default and (as_default[2] or "bias" in source.weights)
    h2h = default and as_default[1]
    # why each option would act differently here (empty: the same)
    why = {
        # KerasLMU masks [x, h] with one mask (RNN) or the input of both the
        # memory and the hidden cell (convolution); here the input of the
        # memory and of the default hidden layer (a Keras hidden cell gets
        # the unmasked input), and h is masked by recurrent_dropout
        "dropout": (
            "with hidden_to_memory=True KerasLMU masks the fed-back h with the input's mask"
            if h2m
            else "with input_to_hidden=True the hidden layer's input is masked on one side only"
            if i2h and (default == source.uses_rnn)
            else ""
        ),
        # KerasLMU masks m -> u only; here also the fed-back h
        "recurrent_dropout": (
            "nengo_lmu's recurrent_dropout also masks the fed-back h"
            if m2m and (h2m or h2h)
            else ""
        ),
        "kernel_regularizer": (
            "KerasLMU's covers e_h (hidden_to_memory), nengo_lmu's does not"
            if h2m
            else "nengo_lmu's also covers the hidden layer's W_x, W_m"
            if default
            else ""
        ),
        "recurrent_regularizer": (
            "nengo_lmu's also covers e_h (hidden_to_memory)"
            if h2m
            else "nengo_lmu's also covers the hidden layer's W_h"
            if h2h
            else ""
        ),
        "bias_regularizer": (
            "nengo_lmu's also covers the hidden layer's bias" if hidden_bias else ""
        ),
    }
    out = {}
    for option, reason in why.items():
        value = c.get(option)
        if option == "recurrent_dropout" and not m2m:
            value = 0.0  # acts on nothing in KerasLMU without memory_to_memory
        if option.endswith("dropout"):
            value = float(value or 0.0)
        present = value not in (None, 0.0)
        if present and reason:
            if inference_only:
                value = 0.0 if option.endswith("dropout") else None
            else:
                _refuse(
                    option,
                    f"{option}={value!r} has no exact counterpart here ({reason}); it acts "
                    "in training only: pass inference_only=True to leave it out",
                    name,
                )
        if not option.endswith("dropout") and value is not None and not KERAS3:
            value = _keras2_config(value) if isinstance(value, dict) else value
        out[option] = value
    return out


def make_layer(source, inference_only=False, inputs=None):
    """The built `.LMULayer` (`.LMUKerasCell` for a lone cell) equal to a
    KerasLMU layer; called on ``inputs`` (a Keras tensor) where given."""
    options, weights, hidden_weights = convert_source(source, inference_only)
    if source.kind == "LMUCell":
        layer = LMUKerasCell(**options)
        layer.build(tuple(source.input_shape))
        out = None
    else:
        layer = LMULayer(**options)
        if inputs is None:
            layer.build(tuple(source.input_shape))
            out = None
        else:
            out = layer(inputs)
    set_layer_weights(layer, weights, hidden_weights)
    return layer, out


def set_layer_weights(layer, weights, hidden_weights=()):
    """Assign converted weights to a built `.LMULayer` / `.LMUKerasCell`."""
    expected = set(layer.kernels) | ({"theta_inv"} if layer.theta_inv is not None else set())
    if set(weights) != expected:
        raise ValidationError(
            f"converted weights {sorted(weights)} do not match the layer's {sorted(expected)}",
            attr="weights",
        )
    for name, value in weights.items():
        var = layer.theta_inv if name == "theta_inv" else layer.kernels[name]
        var.assign(np.asarray(value, dtype=np.float32).reshape(tuple(var.shape)))
    if hidden_weights:
        layer.hidden_cell.set_weights([np.asarray(v) for v in hidden_weights])


# --- models ----------------------------------------------------------------


def from_keras_lmu(model, inference_only=False):
    """A KerasLMU model (or layer, or ``.keras`` file) on nengo_lmu's layers.

    Each ``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward`` and
    ``keras.layers.RNN(keras_lmu.LMUCell(...))`` becomes an `.LMULayer`
    with the same options and trained weights (module docstring: the
    mapping and what is refused); the other layers are copied with their
    weights. The converted model gives the same outputs.

    Parameters
    ----------
    model : keras.Model, KerasLMU layer, str or path
        A built model (Sequential or functional) holding KerasLMU layers, a
        single built KerasLMU layer (an ``LMUCell`` gives an
        `.LMUKerasCell`), or the path of a ``.keras`` file written by Keras 3
        (read without importing ``keras_lmu``, on any backend and on
        tf.keras 2.12).
    inference_only : bool
        Leave out the training-only options (dropout, regularizers) that
        would act on other signals or weights here instead of refusing
        them; the outputs at inference are the same either way.

    Returns
    -------
    keras.Model or LMULayer or LMUKerasCell
        The converted model (a layer for a layer).
    """
    if isinstance(model, (str, os.PathLike)):
        return load_keras_lmu(model, inference_only=inference_only)
    if keras_lmu_kind(model) is not None:
        return make_layer(source_from_layer(model), inference_only)[0]
    if not isinstance(model, keras.Model):
        raise ValidationError(
            f"must be a Keras model, a KerasLMU layer or a .keras file, got {model!r}",
            attr="model",
        )
    if not model.built:
        raise ValidationError("must be built (call it on an input first)", attr="model")
    return rebuild(
        model.get_config(),
        type(model).__name__,
        lambda entry, key: source_from_layer(model.get_layer(_entry_name(entry))),
        lambda entry, key: model.get_layer(_entry_name(entry)).get_weights(),
        inference_only,
    )


def _entry_name(entry):
    return (entry.get("config") or {}).get("name") or entry.get("name")


def rebuild(model_config, cls, source_of, weights_of, inference_only=False):
    """A Sequential or functional model rebuilt from its config, with each
    KerasLMU layer made an `.LMULayer` (``source_of(entry, key)``: its
    `KerasLMUSource`) and the other layers given ``weights_of(entry, key)``
    (``key``: the layer's group in a Keras 3 weights file). Keras 3's and
    tf.keras 2's config forms are both read; a Sequential model comes back
    as the functional model of the same layers."""
    if cls not in ("Sequential", "Functional", "Model"):
        raise ValidationError(
            f"is a {cls}; only Sequential and functional models are converted", attr="model"
        )
    layers = list(model_config["layers"])
    nested = [
        _entry_name(entry)
        for entry in layers
        if _config_kind(entry) is None
        and re.search(r"keras[-_]lmu", json.dumps(entry, default=str))
    ]
    if nested:
        raise ValidationError(
            f"layers {nested} hold KerasLMU layers inside (nested models are not "
            "converted: convert the inner model and rebuild the outer one)",
            attr="model",
        )
    if not any(_config_kind(entry) for entry in layers):
        raise ValidationError(
            "holds no KerasLMU layer (LMU, LMUFeedforward or RNN(LMUCell)); got "
            f"{[entry['class_name'] for entry in layers]}",
            attr="model",
        )
    if cls == "Sequential" and (not layers or layers[0]["class_name"] != "InputLayer"):
        shape = model_config.get("build_input_shape")
        if shape is None:
            raise ValidationError("a Sequential model must be built", attr="model")
        layers.insert(0, {"class_name": "InputLayer", "config": {"batch_shape": shape}})
    made = {}  # layer name -> its output tensors
    inputs, previous = [], None
    for entry, key in zip(layers, _layer_keys(layers)):
        name = _entry_name(entry)
        if entry["class_name"] == "InputLayer":
            c = entry["config"]
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            # the batch size too: a stateful layer needs it
            tensor = keras.Input(tuple(shape[1:]), batch_size=shape[0], name=name)
            inputs.append(tensor)
            made[name] = previous = [tensor]
            continue
        if cls == "Sequential":
            args, kwargs = previous, {}
        else:
            args, kwargs = _node_args(entry, made)
        if _config_kind(entry) is not None:
            source = source_of(entry, key)
            if not source.input_shape:
                source.input_shape = tuple(args[0].shape)
            _, out = make_layer(source, inference_only, inputs=args[0])
        else:
            layer = _deserialize(entry)
            out = layer(*args, **kwargs)
            stored = weights_of(entry, key)
            if len(stored) != len(layer.weights):
                raise ValidationError(
                    f"layer {name!r}: {len(stored)} weights stored, the rebuilt "
                    f"{entry['class_name']} has {len(layer.weights)}",
                    attr="model",
                )
            layer.set_weights(stored)
        made[name] = previous = list(out) if isinstance(out, (list, tuple)) else [out]
    if cls == "Sequential":
        return keras.Model(inputs[0], previous[0], name=model_config.get("name"))
    return keras.Model(
        _endpoints(model_config["input_layers"], made),
        _endpoints(model_config["output_layers"], made),
        name=model_config.get("name"),
    )


def _node_args(entry, made):
    """The call arguments of a functional layer (its one inbound node)."""
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise ValidationError(
            f"layer {_entry_name(entry)!r} is called {len(nodes)} times (shared layers "
            "are not supported)",
            attr="model",
        )
    node = nodes[0]
    if isinstance(node, list):  # tf.keras 2: [[name, node, index, kwargs], ...]
        args = [_history(made, *item[:3]) for item in node]
        kwargs = dict(node[0][3]) if node and len(node[0]) > 3 else {}
        args = [args[0] if len(args) == 1 else args]
    else:  # Keras 3: {"args": [...], "kwargs": {...}}
        args = _tensors(node.get("args", []), made)
        kwargs = _tensors(node.get("kwargs", {}), made)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("mask", "training")}
    return args, kwargs


def _history(made, layer, node, index):
    if node != 0:
        raise ValidationError(
            f"layer {layer!r} is called more than once (shared layers are not supported)",
            attr="model",
        )
    return made[layer][index]


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
    kind = _config_kind(entry)
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


def _layer_keys(layers):
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


def _tensors(value, made):
    """Keras 3's serialised call arguments with the tensors made so far."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return _history(made, *value["config"]["keras_history"])
    if isinstance(value, (list, tuple)):
        return [_tensors(v, made) for v in value]
    if isinstance(value, dict):
        return {k: _tensors(v, made) for k, v in value.items()}
    return value


def load_keras_lmu(path, inference_only=False):
    """`from_keras_lmu` for a ``.keras`` file (no ``keras_lmu`` needed)."""
    config, weights = read_keras_file(path)

    def weights_of(entry, key):
        nested = [k for k in weights if k.startswith(f"{key}/") and k != f"{key}/vars"]
        if any(weights[k] for k in nested):
            raise ValidationError(
                f"layer {_entry_name(entry)!r} ({entry['class_name']}) holds nested "
                "layers, which are not read from a file; load the model with keras_lmu "
                "and pass it",
                attr="model",
            )
        return weights.get(f"{key}/vars", [])

    try:
        return rebuild(
            config["config"],
            config.get("class_name"),
            lambda entry, key: source_from_file(entry, key, weights),
            weights_of,
            inference_only,
        )
    except ValidationError as e:
        raise ValidationError(
            f"{os.fspath(path)!r}: {e.args[0]}", attr=e.attr, obj=e.obj
        ) from None


def _endpoints(spec, made):
    """A functional config's ``input_layers`` / ``output_layers``."""
    if spec and isinstance(spec[0], str):
        spec = [spec]
    tensors = [_history(made, *item[:3]) for item in spec]
    return tensors[0] if len(tensors) == 1 else tensors


__all__ = [
    "KERAS_LMU_CLASSES",
    "KerasLMUSource",
    "from_keras_lmu",
    "load_keras_lmu",
    "keras_lmu_kind",
    "source_from_layer",
    "convert_source",
    "make_layer",
    "read_keras_file",
]
