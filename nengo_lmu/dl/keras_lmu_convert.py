"""One KerasLMU layer as nengo_lmu's: `make_layer` builds the `.LMULayer`
(or `.LMUKerasCell`) equal to a `.KerasLMUSource`.

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
import re

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import KERAS3, keras
from nengo_lmu.dl.keras_cell import LMUKerasCell
from nengo_lmu.dl.keras_lmu_source import RNN_OPTIONS, entry_name
from nengo_lmu.dl.layers import LMULayer
from nengo_lmu.dl.lmu_core import ACTIVATIONS

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


def deserialize_layer(entry):
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
                    f"{entry.get('class_name')} {entry_name(entry)!r} cannot be rebuilt "
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
            hidden_cell=None if hidden is None else deserialize_layer(hidden),
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


__all__ = [
    "DEFAULT_HIDDEN_CLASSES",
    "deserialize_layer",
    "convert_source",
    "make_layer",
    "set_layer_weights",
]
