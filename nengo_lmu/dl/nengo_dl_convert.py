"""NengoDL's converter hooks for the LMU layers (the ``dl`` extra only).

Importing this module imports NengoDL and registers `ConvertLMULayer` and
`ConvertLegendreMemoryLayer` with ``nengo_dl.Converter`` (``import
nengo_lmu.dl`` does on the locked stack). `nengo_lmu.dl.convert.convert`
imports it when called.
"""

import nengo
import nengo_dl
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.convert import NEURON_TYPES, cell_from_layer, why_not_convertible
from nengo_lmu.dl.layers import LMULayer
from nengo_lmu.dl.sequence_layers import LegendreMemoryLayer
from nengo_lmu.networks import LegendreMemory
from nengo_lmu.networks.dt_check import require_dt

#: The TensorFlow function of each activation (NengoDL's ``swap_activations``
#: keys)
TF_ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}


class _ConvertSequenceLayer(nengo_dl.converter.LayerConverter):
    # a fallback TensorNode would run the whole sequence at every step
    allow_fallback = False

    @classmethod
    def convertible(cls, layer, converter):
        reasons = why_not_convertible(layer, converter.temporal_model)
        if reasons:
            return False, f"{layer.name}: cannot convert with " + "; ".join(reasons)
        return True, None


@nengo_dl.Converter.register(LMULayer)
class ConvertLMULayer(_ConvertSequenceLayer):
    """Converts an `.LMULayer` into an `.LMUCell` (NengoDL converter hook).

    The converter's ``swap_activations`` (keyed by the TensorFlow function or
    the nengo neuron type) and ``scale_firing_rates`` apply to the hidden
    neurons as they do to NengoDL's own layers.
    """

    has_weights = True

    def convert(self, node_id):
        layer = self.layer
        tf_fn = TF_ACTIVATIONS[layer.hidden_activation]
        swaps = self.converter.swap_activations
        neuron_type = NEURON_TYPES[layer.hidden_activation]()
        if tf_fn in swaps:
            neuron_type = swaps[tf_fn]
        elif neuron_type in swaps:
            neuron_type = swaps[neuron_type]
        if not isinstance(neuron_type, nengo.neurons.NeuronType):
            neuron_type = NEURON_TYPES[layer.hidden_activation]()
        scale = self.converter.scale_firing_rates
        if isinstance(scale, dict):
            scale = scale.get(layer, None)
        gain = 1.0
        if scale is not None:
            gain = float(scale)
            if not hasattr(neuron_type, "amplitude"):
                raise ValidationError(
                    f"scale_firing_rates needs a neuron type with an amplitude, got {neuron_type}",
                    attr="scale_firing_rates",
                )
            kwargs = {p.name: getattr(neuron_type, p.name) for p in neuron_type._params}
            kwargs["amplitude"] = neuron_type.amplitude / gain
            neuron_type = type(neuron_type)(**kwargs)
        cell = cell_from_layer(
            layer,
            hidden_neuron_type=neuron_type,
            hidden_gain=gain,
            label=f"{layer.name}.{node_id}",
        )
        self.add_connection(node_id, cell.input)
        return cell.output


@nengo_dl.Converter.register(LegendreMemoryLayer)
class ConvertLegendreMemoryLayer(_ConvertSequenceLayer):
    """Converts a `.LegendreMemoryLayer` into an exact `.LegendreMemory`."""

    def convert(self, node_id):
        layer = self.layer
        memory = LegendreMemory(
            layer.order,
            layer.theta,
            size_in=layer.memory_d,
            dt=1.0,
            discretizer=layer.discretizer,
            label=f"{layer.name}.{node_id}",
        )
        # one sample per simulator step whatever the simulator's dt (as in
        # LMUCell), so the memory's dt check does not apply
        require_dt(memory, None)
        self.add_connection(node_id, memory.input)
        return memory.output
