"""The TensorFlow / NengoDL side of nengo_lmu.

Importing this module imports TensorFlow and NengoDL; ``import nengo_lmu``
alone does not.
"""

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
]
