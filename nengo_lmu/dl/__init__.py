"""The TensorFlow / NengoDL side of nengo_lmu.

Importing this module imports TensorFlow and NengoDL (and registers the LMU
layers' converters with ``nengo_dl.Converter``); ``import nengo_lmu`` alone
does not. Without them (``pip install nengo-lmu[dl]``, Python 3.8-3.11),
importing it raises `nengo_lmu.info.MissingExtraError` saying so.
"""

from nengo_lmu.info import require_extra

require_extra("dl", "nengo_lmu.dl")

# The checks above must run before anything imports TensorFlow.

from nengo_lmu.dl.convert import (
    ConvertLegendreMemoryLayer,
    ConvertLMULayer,
    cell_from_layer,
    convert,
    sequence_copy,
    to_classifier,
)
from nengo_lmu.dl.keras_cell import LMUKerasCell
from nengo_lmu.dl.language_model import (
    language_model_from_config,
    lm_sizes,
    lmu_language_model,
    lmu_non_embedding_count,
    transformer_language_model,
    transformer_non_embedding_count,
)
from nengo_lmu.dl.layers import LegendreMemoryLayer, LMULayer
from nengo_lmu.dl.lm_stream import recurrent_lm
from nengo_lmu.dl.lm_training import (
    evaluate_language_model,
    load_checkpoint,
    train_language_model,
    train_multiworker,
)
from nengo_lmu.dl.lmuformer import (
    LMUFormerModel,
    lmuformer,
    load_lmuformer,
    operation_counts,
    save_lmuformer,
)
from nengo_lmu.dl.memory import legendre_memory
from nengo_lmu.dl.neurons import DiscreteLIFBuilder, atan_spike, trained_neuron_params
from nengo_lmu.dl.spiking import (
    SpikingTrainResult,
    spike_count_accuracy,
    spike_count_loss,
    train_spiking_classifier,
)
from nengo_lmu.dl.streaming import run_streaming, streaming_network
from nengo_lmu.dl.training import (
    ParallelResult,
    TrainResult,
    count_parameters,
    keras_lstm_baseline,
    lstm_units_for,
    nengo_dl_logits,
    parallel_classifier_model,
    predict_logits,
    train_classifier,
    train_parallel_classifier,
)

__all__ = [
    "LegendreMemoryLayer",
    "LMULayer",
    "legendre_memory",
    "convert",
    "sequence_copy",
    "to_classifier",
    "cell_from_layer",
    "ConvertLMULayer",
    "ConvertLegendreMemoryLayer",
    "TrainResult",
    "ParallelResult",
    "train_classifier",
    "train_parallel_classifier",
    "parallel_classifier_model",
    "nengo_dl_logits",
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
    "LMUFormerModel",
    "lmuformer",
    "save_lmuformer",
    "load_lmuformer",
    "operation_counts",
    "streaming_network",
    "run_streaming",
    "lmu_language_model",
    "transformer_language_model",
    "language_model_from_config",
    "recurrent_lm",
    "lm_sizes",
    "lmu_non_embedding_count",
    "transformer_non_embedding_count",
    "train_language_model",
    "evaluate_language_model",
    "load_checkpoint",
    "train_multiworker",
    "LMUKerasCell",
]
