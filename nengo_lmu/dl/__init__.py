"""The TensorFlow / NengoDL side of nengo_lmu.

Importing this module imports TensorFlow and NengoDL; ``import nengo_lmu``
alone does not.
"""

from nengo_lmu.dl.neurons import DiscreteLIFBuilder, atan_spike, trained_neuron_params
from nengo_lmu.dl.spiking import (
    SpikingTrainResult,
    spike_count_accuracy,
    spike_count_loss,
    train_spiking_classifier,
)
from nengo_lmu.dl.training import (
    TrainResult,
    count_parameters,
    keras_lstm_baseline,
    lstm_units_for,
    predict_logits,
    train_classifier,
)

__all__ = [
    "TrainResult",
    "train_classifier",
    "predict_logits",
    "keras_lstm_baseline",
    "lstm_units_for",
    "count_parameters",
    "DiscreteLIFBuilder",
    "atan_spike",
    "trained_neuron_params",
    "SpikingTrainResult",
    "spike_count_loss",
    "spike_count_accuracy",
    "train_spiking_classifier",
]
