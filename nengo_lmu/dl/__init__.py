"""The Keras side of nengo_lmu: parallel LMU layers, training, conversion.

The layers (`LegendreMemoryLayer`, `LMULayer`, `LMUKerasCell`) and the
conversion to nengo networks (`to_classifier`, `cell_from_layer`) are
written once against Keras 3 and run on its JAX, PyTorch or TensorFlow
backend (``pip install nengo-lmu[keras]`` and the backend of your choice,
chosen with ``KERAS_BACKEND``), and on the locked stack's tf.keras 2.12
(``pip install nengo-lmu[dl]``, Python 3.8-3.11): `nengo_lmu.dl.compat` is
the one place where the two differ.

NengoDL is imported only by what needs it (`convert`, the NengoDL training
of `train_classifier`, ...). The LMUFormer and the language model run on
both stacks too; only the NengoDL training loops and converters run on
tf.keras 2.12 only, and are importable from here only there.

``import nengo_lmu`` alone imports none of this.
"""

from importlib.metadata import PackageNotFoundError, version

from nengo_lmu.info import require_extra


def _needed_extra():
    """``"dl"`` where Keras 2 is installed (tf.keras 2.12, which needs the
    locked TensorFlow), else ``"keras"`` (Keras 3 and a backend)."""
    try:
        major = int(version("keras").split(".")[0])
    except (PackageNotFoundError, ValueError):
        return "keras"
    return "keras" if major >= 3 else "dl"


require_extra(_needed_extra(), "nengo_lmu.dl")

# The check above must run before anything imports Keras.

from nengo_lmu.dl.compat import KERAS3
from nengo_lmu.dl.convert import (
    cell_from_layer,
    convert,
    sequence_copy,
    to_classifier,
)
from nengo_lmu.dl.keras_cell import LMUKerasCell
from nengo_lmu.dl.keras_lmu_import import from_keras_lmu
from nengo_lmu.dl.language_model import (
    language_model_from_config,
    lm_sizes,
    lmu_language_model,
    lmu_non_embedding_count,
    transformer_language_model,
    transformer_non_embedding_count,
)
from nengo_lmu.dl.layers import LMULayer
from nengo_lmu.dl.lm_checkpoints import load_checkpoint
from nengo_lmu.dl.lm_multiworker import train_multiworker
from nengo_lmu.dl.lm_stream import recurrent_lm
from nengo_lmu.dl.lm_training import evaluate_language_model, train_language_model
from nengo_lmu.dl.lmuformer import (
    FrameLIF,
    LMUFormerModel,
    RunningMean,
    lmuformer,
    operation_counts,
)
from nengo_lmu.dl.lmuformer_training import load_lmuformer_checkpoint, train_lmuformer
from nengo_lmu.dl.lmuformer_weights import load_lmuformer, save_lmuformer
from nengo_lmu.dl.memory import legendre_memory
from nengo_lmu.dl.sequence_layers import LegendreMemoryLayer
from nengo_lmu.dl.streaming import run_streaming, streaming_network
from nengo_lmu.dl.surrogate import atan_spike

__all__ = [
    "LegendreMemoryLayer",
    "LMULayer",
    "LMUKerasCell",
    "legendre_memory",
    "convert",
    "sequence_copy",
    "to_classifier",
    "cell_from_layer",
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
    "FrameLIF",
    "RunningMean",
    "LMUFormerModel",
    "lmuformer",
    "save_lmuformer",
    "load_lmuformer",
    "train_lmuformer",
    "load_lmuformer_checkpoint",
    "operation_counts",
    "streaming_network",
    "run_streaming",
    "atan_spike",
    "from_keras_lmu",
]

if not KERAS3:  # the locked stack (tf.keras 2.12): NengoDL's parts
    from nengo_lmu.dl.nengo_dl_convert import ConvertLegendreMemoryLayer, ConvertLMULayer
    from nengo_lmu.dl.neurons import DiscreteLIFBuilder, trained_neuron_params
    from nengo_lmu.dl.spiking import (
        SpikingTrainResult,
        spike_count_accuracy,
        spike_count_loss,
        train_spiking_classifier,
    )
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

    __all__ += [
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
        "trained_neuron_params",
        "SpikingTrainResult",
        "spike_count_loss",
        "spike_count_accuracy",
        "train_spiking_classifier",
    ]
