"""NengoDL builder of `nengo_lmu.discrete_lif.DiscreteLIF`: exact spikes forward,
ATan surrogate gradient backward, trainable ``beta`` and ``threshold``.

Importing this module registers the builder with NengoDL (``nengo_lmu.dl``
imports it), so any network with `.DiscreteLIF` neurons can be simulated and
trained by ``nengo_dl.Simulator``.

How it differs from NengoDL's own spiking neurons: NengoDL trains a spiking
type by swapping in its rate approximation during training and holding the
neuron state constant. Here the training forward pass *is* the spiking step
(the same operations as inference), the membrane potential is carried through
time, so gradients flow back through it (backpropagation through time, as in
snnTorch [1]_), and only the derivative of the threshold step is replaced by
the ATan surrogate (`nengo_lmu.dl.surrogate.atan_spike`)::

    dS/dU ~= (alpha/2) / (1 + (pi/2 * alpha * (U - threshold))^2)

As in snnTorch's default, the reset (the term ``threshold * S[t-1]``, or
the factor ``1 - S[t]`` of a reset to zero) is detached from the graph (no
gradient flows through the spike into the reset).

``beta`` and ``threshold`` are NengoDL trainable parameters (one scalar each
per population) when the neuron type has ``learnable=True``; during the
forward pass ``beta`` is clipped to [0, 1] and ``threshold`` to at least
``1e-3`` so that training cannot leave the model's valid range.
`trained_neuron_params` reads the trained values back.

References
----------
.. [1] Eshraghian, J. K., et al. (2023). Training spiking neural networks
   using lessons from deep learning. Proceedings of the IEEE 111(9).
"""

import numpy as np
import tensorflow as tf
from nengo_dl.builder import Builder, OpBuilder

from nengo_lmu.discrete_lif import DiscreteLIF, SimDiscreteLIF
from nengo_lmu.dl.surrogate import atan_spike

MIN_THRESHOLD = 1e-3


@Builder.register(SimDiscreteLIF)
class DiscreteLIFBuilder(OpBuilder):
    """Build a group of `~nengo_lmu.discrete_lif.SimDiscreteLIF` operators."""

    def build_pre(self, signals, config):
        super().build_pre(signals, config)
        ops = self.ops
        self.sizes = [op.J.shape[0] for op in ops]
        self.J_data = signals.combine([op.J for op in ops])
        self.output_data = signals.combine([op.output for op in ops])
        self.voltage_data = signals.combine([op.voltage for op in ops])
        self.spiked_data = signals.combine([op.spiked for op in ops])
        self.beta_data = signals.combine([op.beta for op in ops])
        self.threshold_data = signals.combine([op.threshold for op in ops])
        # merged ops share amplitude and alpha (see `mergeable`); the division
        # is done in float64 so that amplitude == dt gives exactly 1
        self.scale = float(ops[0].neurons.amplitude / signals.dt_val)
        self.alpha = float(ops[0].neurons.surrogate_alpha)
        self.reset = ops[0].neurons.reset
        self.min_voltage = float(ops[0].neurons.min_voltage)

    def _per_neuron(self, signals, data):
        # one scalar per op -> one value per neuron, broadcast over the batch
        value = tf.reshape(signals.gather(data), (-1,))
        if len(self.sizes) > 1:
            value = tf.repeat(value, self.sizes)
        return value[None, :]

    def build_step(self, signals):
        J = signals.gather(self.J_data)
        voltage = signals.gather(self.voltage_data)
        spiked = signals.gather(self.spiked_data)
        beta = tf.clip_by_value(self._per_neuron(signals, self.beta_data), 0.0, 1.0)
        threshold = tf.maximum(self._per_neuron(signals, self.threshold_data), MIN_THRESHOLD)
        if self.reset == "subtract":
            voltage = beta * voltage + J - threshold * tf.stop_gradient(spiked)
            spiked = atan_spike(voltage - threshold, self.alpha)
        else:
            voltage = beta * voltage + J
            spiked = atan_spike(voltage - threshold, self.alpha)
            voltage = voltage * (1 - tf.stop_gradient(spiked))
        if self.min_voltage > -np.inf:
            voltage = tf.maximum(voltage, self.min_voltage)
        signals.scatter(self.output_data, spiked * self.scale)
        signals.scatter(self.voltage_data, voltage)
        signals.scatter(self.spiked_data, spiked)

    @staticmethod
    def mergeable(x, y):
        return all(
            getattr(x.neurons, k) == getattr(y.neurons, k)
            for k in ("amplitude", "surrogate_alpha", "reset", "min_voltage")
        )


def trained_neuron_params(sim, ensembles):
    """The live ``beta`` and ``threshold`` of `.DiscreteLIF` ensembles.

    Parameters
    ----------
    sim : nengo_dl.Simulator
        An open simulator (e.g. after ``fit``).
    ensembles : iterable of nengo.Ensemble
        Ensembles with `.DiscreteLIF` neurons.

    Returns
    -------
    dict
        ``{ensemble: (beta, threshold)}`` as used in the forward pass (after
        the clipping described in the module notes).
    """
    out = {}
    for ens in ensembles:
        if not isinstance(ens.neuron_type, DiscreteLIF):
            raise TypeError(f"{ens} does not have DiscreteLIF neurons")
        sig = sim.model.sig[ens.neurons]
        values = []
        for key in ("beta", "threshold"):
            if sig[key] in sim.tensor_graph.signals:
                values.append(
                    float(
                        np.ravel(
                            tf.keras.backend.get_value(sim.tensor_graph.get_tensor(sig[key]))
                        )[0]
                    )
                )
            else:
                values.append(float(getattr(ens.neuron_type, key)))
        out[ens] = (float(np.clip(values[0], 0.0, 1.0)), max(values[1], MIN_THRESHOLD))
    return out
