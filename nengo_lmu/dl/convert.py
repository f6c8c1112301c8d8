"""From the parallel Keras layers back to the Nengo networks.

A model trained with `.LMULayer` / `.LegendreMemoryLayer` converts into a
Nengo network in which each such layer is the `nengo_lmu.networks` network
with the same equations (`.LMUCell`, `.LegendreMemory`) holding the trained
weights. It runs one sample per simulator step in ``nengo.Simulator``,
NengoDL and nengo-loihi, and gives the Keras outputs step by step.

Two routes:

- `to_classifier` for a plain stack of `.LMULayer` and a bias-free ``Dense``
  readout: it gives an `.LMUClassifier`, with its ``save``/``load`` and
  spiking ``predict``. Needs nengo only (any Keras backend, no NengoDL);
- `convert` (or ``nengo_dl.Converter(model, temporal_model=True)``: the
  layer converters are in `nengo_lmu.dl.nengo_dl_convert`, registered when
  it is imported) for any Keras model NengoDL can convert; NengoDL (the
  ``dl`` extra) only.
"""

import nengo
from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import SHARED_OPTIONS
from nengo_lmu.dl.compat import keras, to_numpy
from nengo_lmu.dl.layers import LMULayer
from nengo_lmu.dl.sequence_layers import SequenceLayer
from nengo_lmu.info import require_extra
from nengo_lmu.networks import LMUCell
from nengo_lmu.networks.classifier import LMUClassifier
from nengo_lmu.networks.weights import HIDDEN_ACTIVATIONS

#: The nengo neuron type computing each `.LMULayer` activation.
NEURON_TYPES = HIDDEN_ACTIVATIONS


def why_not_convertible(layer, temporal_model=True):
    """Why a sequence layer cannot run step by step in nengo (empty if it can)."""
    reasons = []
    if not temporal_model:
        reasons.append(
            "the converter needs temporal_model=True (the layer runs one sample "
            "per simulator step)"
        )
    if not layer.return_sequences:
        reasons.append(
            "return_sequences=False (use nengo_lmu.dl.convert, which converts a "
            "copy with return_sequences=True; the last step is the same)"
        )
    if layer.return_state:
        reasons.append("return_state=True")
    if layer.go_backwards:
        reasons.append("go_backwards=True (a network runs forwards in time)")
    reasons.extend(hidden_cell_reasons(layer))
    return reasons


def hidden_cell_reasons(layer):
    """Why an `.LMULayer`'s hidden part has no Nengo form (empty if it has).

    The Nengo cell's hidden part is one population of neurons (the default
    fully connected layer, any of its activations). A Keras ``hidden_cell``
    is refused: an ``LSTMCell``/``GRUCell`` multiplies gates (no neuron
    population computes that product), and other Keras layers are not
    mapped yet (convert the memory with ``hidden_cell=None`` and the rest
    with NengoDL instead).
    """
    if not isinstance(layer, LMULayer) or layer.default_hidden:
        return []
    cell = layer.hidden_cell
    if cell is None:
        return [
            "hidden_cell=None (an LMUCell always has hidden neurons; use a "
            "LegendreMemoryLayer after a Dense encoder for the memory alone)"
        ]
    kind = type(cell).__name__
    if "LSTM" in kind or "GRU" in kind:
        return [
            f"hidden_cell={kind} (its gates multiply signals, which a Nengo "
            f"population of neurons cannot express; use the default hidden layer)"
        ]
    return [f"hidden_cell={kind} (only the default fully connected hidden layer converts)"]


def layer_weights(layer):
    """An `.LMULayer`'s weights as numpy arrays by `.LMUCell` name."""
    return {name: to_numpy(w) for name, w in layer.kernels.items()}


#: LMULayer attributes that are LMUCell arguments of the same name: the
#: options both take (`nengo_lmu.cell_options.SHARED_OPTIONS`, but the
#: initializers and seed, which the copied weights replace) and ``input_d``
CELL_ARGS = tuple(a for a in SHARED_OPTIONS if not a.endswith("_initializer") and a != "seed") + (
    "input_d",
)


def cell_args(layer, hidden_neuron_type=None, hidden_gain=1.0):
    """The `.LMUCell` arguments equal to a built `.LMULayer`."""
    args = {name: getattr(layer, name) for name in CELL_ARGS}
    # a trained theta: the Nengo memory is discretised at the learnt window
    args["theta"] = float(layer.theta)
    args["hidden_neuron_type"] = (
        NEURON_TYPES[layer.hidden_activation]()
        if hidden_neuron_type is None
        else hidden_neuron_type
    )
    args["hidden_gain"] = hidden_gain
    return args


def cell_from_layer(layer, hidden_neuron_type=None, hidden_gain=1.0, label=None):
    """The `.LMUCell` equal to a built `.LMULayer` (call inside a network).

    Parameters
    ----------
    layer : LMULayer
        A built layer (its weights are copied).
    hidden_neuron_type : nengo.neurons.NeuronType, optional
        Overrides the neuron type matching the layer's activation (e.g. a
        spiking one with ``amplitude=1/hidden_gain``).
    hidden_gain : float
        Gain of the hidden neurons.
    """
    if not isinstance(layer, LMULayer):
        raise ValidationError(f"must be an LMULayer, got {layer!r}", attr="layer")
    if not layer.built:
        raise ValidationError("must be built (call it on an input first)", attr="layer")
    reasons = hidden_cell_reasons(layer)
    if reasons:
        raise ValidationError(
            f"cannot convert {layer.name!r}: " + "; ".join(reasons), attr="layer"
        )
    cell = LMUCell(**cell_args(layer, hidden_neuron_type, hidden_gain), label=label or layer.name)
    weights = layer_weights(layer)
    conns = dict(cell.weights)
    conns.update(cell.memory_weights)
    for name, w in weights.items():
        if name in ("b_u", "b_h", "theta_inv"):
            continue
        conn = conns[name]
        conn.transform = nengo.Dense(w.shape, init=w)
    with cell:
        # biases: a constant input to u, and the hidden neurons' own bias
        # (nengo multiplies what enters the neurons by their gain)
        if "b_u" in weights:
            cell.bias_node = nengo.Node(weights["b_u"], label="b_u")
            nengo.Connection(cell.bias_node, cell.u, synapse=None)
        if "b_h" in weights:
            cell.hidden.bias = hidden_gain * weights["b_h"]
    return cell


def sequence_copy(model):
    """A copy of ``model`` whose LMU layers return every step.

    Same weights; layers after them must accept a time axis (``Dense`` and
    elementwise layers do). The copy's outputs at the last step equal the
    original's outputs.
    """

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, SequenceLayer):
            config["return_sequences"] = True
        return type(layer).from_config(config)

    try:
        copy = keras.models.clone_model(model, clone_function=clone)
    except (ValueError, TypeError) as e:
        raise ValidationError(
            f"cannot make every LMU layer return sequences in this model: {e}",
            attr="model",
        ) from None
    copy.set_weights(model.get_weights())
    return copy


def convert(model, **converter_kwargs):
    """Convert a Keras model with LMU layers into a Nengo network.

    The LMU layers become `.LMUCell` / `.LegendreMemory` networks and the
    rest is converted by NengoDL; one simulator step is one sample. Layers
    with ``return_sequences=False`` are converted from a copy that returns
    every step (`sequence_copy`): read the last step of the output probe.

    Parameters
    ----------
    model : keras.Model
        A built model.
    **converter_kwargs
        Passed to ``nengo_dl.Converter`` (``swap_activations``,
        ``scale_firing_rates``, ``synapse``, ``inference_only``, ...).
        ``temporal_model`` is always True and ``allow_fallback`` defaults
        to False, so a layer that cannot run step by step is an error, not a
        silent TensorNode.

    Returns
    -------
    nengo_dl.Converter
        ``.net`` is the network, ``.inputs[model.input]`` the input node,
        ``.outputs[model.output]`` the output probe.
    """
    require_extra("dl", "nengo_lmu.dl.convert (NengoDL's converter)")
    from nengo_lmu.dl import nengo_dl_convert

    if not isinstance(model, keras.Model):
        raise ValidationError(f"must be a Keras Model, got {model!r}", attr="model")
    if converter_kwargs.get("temporal_model", True) is not True:
        raise ValidationError(
            "LMU models convert with temporal_model=True only", attr="temporal_model"
        )
    converter_kwargs["temporal_model"] = True
    converter_kwargs.setdefault("allow_fallback", False)
    needs_copy = any(
        isinstance(layer, SequenceLayer) and not layer.return_sequences
        for layer in model.submodules
    )
    if needs_copy:
        model = sequence_copy(model)
    for layer in model.submodules:
        if isinstance(layer, SequenceLayer):
            reasons = why_not_convertible(layer)
            if reasons:
                raise ValidationError(
                    f"layer {layer.name!r} cannot run step by step: " + "; ".join(reasons),
                    attr="model",
                )
    return nengo_dl_convert.nengo_dl.Converter(model, **converter_kwargs)


def to_classifier(model, hidden_neuron_type=None, hidden_gain=1.0, seed=None):
    """An `.LMUClassifier` with the weights of a Keras LMU classifier.

    ``model`` must be a stack: input ``(steps, input_d)``, one or more
    `.LMULayer` (all but the last with ``return_sequences=True``) and a
    ``Dense`` readout without bias or activation.

    Parameters
    ----------
    model : keras.Model
    hidden_neuron_type : nengo.neurons.NeuronType, optional
        Neuron type of every cell (default: the one matching each layer's
        activation); e.g. ``SpikingRectifiedLinear(amplitude=1/gain)``.
    hidden_gain : float
        Gain of the hidden neurons.
    seed : int, optional
        Seed of the network (the weights are the model's).
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    ok = (
        len(layers) >= 2
        and all(isinstance(layer, LMULayer) for layer in layers[:-1])
        and isinstance(layers[-1], keras.layers.Dense)
    )
    if ok:
        dense = layers[-1]
        ok = not dense.use_bias and dense.activation is keras.activations.linear
    if not ok:
        raise ValidationError(
            "must be LMULayer(s) followed by a Dense(use_bias=False) readout with no "
            f"activation; got {[type(layer).__name__ for layer in layers]}",
            attr="model",
        )
    cells = layers[:-1]
    for layer in cells:
        bad = why_not_convertible(layer)
        bad = [r for r in bad if not r.startswith("return_sequences")]
        if layer.use_bias:
            bad.append(
                "use_bias=True (an LMUClassifier has no biases; use "
                "nengo_lmu.dl.convert, which carries them)"
            )
        if bad:
            raise ValidationError(
                f"layer {layer.name!r} cannot run step by step: " + "; ".join(bad),
                attr="model",
            )
    args = [cell_args(layer, hidden_neuron_type, hidden_gain) for layer in cells]
    net = LMUClassifier(dense.units, cells=args, seed=seed)
    weights = {}
    for i, layer in enumerate(cells):
        for name, w in layer_weights(layer).items():
            if name != "theta_inv":  # carried by the cell's theta
                weights[f"cell{i}.{name}"] = w
    weights["readout"] = to_numpy(dense.kernel).T
    net.set_weights(weights)
    return net
