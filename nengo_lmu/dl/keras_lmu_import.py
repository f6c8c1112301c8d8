"""KerasLMU models on nengo_lmu's layers: `from_keras_lmu`.

A model built with KerasLMU (``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward``
or ``keras.layers.RNN(keras_lmu.LMUCell(...))``) becomes the same model with
each of those layers replaced by an `.LMULayer` holding its trained weights
(a lone ``keras_lmu.LMUCell`` becomes an `.LMUKerasCell`); every other layer
is copied with its weights. The outputs are the same (to float32 rounding),
and from there `nengo_lmu.dl.to_classifier` / `cell_from_layer` give the
Nengo network, with rate, spiking or Loihi neurons.

The model comes from a live model or a Keras 3 ``.keras`` file
(`.keras_lmu_source` reads both); each KerasLMU layer is converted by
`.keras_lmu_convert` (which documents the weight mapping and what is
refused); this module rebuilds the model around them.
"""

import json
import os
import re

from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import keras
from nengo_lmu.dl.keras_lmu_convert import deserialize_layer, make_layer
from nengo_lmu.dl.keras_lmu_source import (
    config_kind,
    entry_name,
    keras_lmu_kind,
    layer_keys,
    read_keras_file,
    source_from_file,
    source_from_layer,
)


def from_keras_lmu(model, inference_only=False):
    """A KerasLMU model (or layer, or ``.keras`` file) on nengo_lmu's layers.

    Each ``keras_lmu.LMU``, ``keras_lmu.LMUFeedforward`` and
    ``keras.layers.RNN(keras_lmu.LMUCell(...))`` becomes an `.LMULayer`
    with the same options and trained weights (`.keras_lmu_convert`: the
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
        lambda entry, key: source_from_layer(model.get_layer(entry_name(entry))),
        lambda entry, key: model.get_layer(entry_name(entry)).get_weights(),
        inference_only,
    )


def rebuild(model_config, cls, source_of, weights_of, inference_only=False):
    """A Sequential or functional model rebuilt from its config, with each
    KerasLMU layer made an `.LMULayer` (``source_of(entry, key)``: its
    `.KerasLMUSource`) and the other layers given ``weights_of(entry, key)``
    (``key``: the layer's group in a Keras 3 weights file). Keras 3's and
    tf.keras 2's config forms are both read; a Sequential model comes back
    as the functional model of the same layers."""
    if cls not in ("Sequential", "Functional", "Model"):
        raise ValidationError(
            f"is a {cls}; only Sequential and functional models are converted", attr="model"
        )
    layers = list(model_config["layers"])
    nested = [
        entry_name(entry)
        for entry in layers
        if config_kind(entry) is None
        and re.search(r"keras[-_]lmu", json.dumps(entry, default=str))
    ]
    if nested:
        raise ValidationError(
            f"layers {nested} hold KerasLMU layers inside (nested models are not "
            "converted: convert the inner model and rebuild the outer one)",
            attr="model",
        )
    if not any(config_kind(entry) for entry in layers):
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
    for entry, key in zip(layers, layer_keys(layers)):
        name = entry_name(entry)
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
        if config_kind(entry) is not None:
            source = source_of(entry, key)
            if not source.input_shape:
                source.input_shape = tuple(args[0].shape)
            _, out = make_layer(source, inference_only, inputs=args[0])
        else:
            layer = deserialize_layer(entry)
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
            f"layer {entry_name(entry)!r} is called {len(nodes)} times (shared layers "
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
                f"layer {entry_name(entry)!r} ({entry['class_name']}) holds nested "
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


__all__ = ["from_keras_lmu", "load_keras_lmu", "rebuild"]
