"""Training spiking classifiers (`.L2MU`, `.RecurrentLIF`) with NengoDL.

Design: the networks' ``probe`` records the spikes of the ``out`` population
on every step, ``(batch, n_steps, n_classes)``. The loss sums them over time
inside the loss function (the spike counts are the logits) and applies
sparse categorical cross-entropy, as in L2MU [1]_; NengoDL's loop is
differentiated end to end (backpropagation through time), with the spike's
derivative replaced by the ATan surrogate of `nengo_lmu.dl.neurons`. Targets
are the labels, ``(batch, 1, 1)``: the loss reads only ``[:, 0, 0]``.

References
----------
.. [1] Leto, B., Urgese, G., Macii, E., & Fra, V. (2025). A LIF-based Legendre
   Memory Unit as neuromorphic state space model benchmarked on a
   second-long spatio-temporal task. NICE 2025.
"""

from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from nengo_lmu.dl.neurons import trained_neuron_params
from nengo_lmu.dl.training import (
    check_trained_weights,
    check_training_data,
    fit_nengo_dl,
    fit_settings,
)
from nengo_lmu.validation import check_event_data


def _counts_and_labels(y_true, y_pred):
    counts = tf.reduce_sum(y_pred, axis=1)
    labels = tf.cast(tf.reshape(y_true[:, :1, :1], (-1,)), tf.int32)
    return counts, labels


def spike_count_loss(y_true, y_pred):
    """Cross-entropy of the spike counts (summed over time) as logits."""
    counts, labels = _counts_and_labels(y_true, y_pred)
    return tf.keras.losses.sparse_categorical_crossentropy(labels, counts, from_logits=True)


def spike_count_accuracy(y_true, y_pred):
    """Whether the most-spiking output neuron is the label (ties: lowest)."""
    counts, labels = _counts_and_labels(y_true, y_pred)
    return tf.cast(tf.equal(tf.argmax(counts, axis=-1, output_type=tf.int32), labels), tf.float32)


@dataclass
class SpikingTrainResult:
    """What `train_spiking_classifier` returns."""

    test_accuracy: float
    train_seconds: float
    epochs: int
    history: dict = field(repr=False)
    test_counts: np.ndarray = field(repr=False)
    neuron_params: dict = field(repr=False)


def train_spiking_classifier(
    net,
    data,
    epochs=10,
    minibatch_size=64,
    learning_rate=1e-3,
    unroll_simulation=8,
    seed=0,
    verbose=1,
    progress_bar=False,
):
    """Train a `.L2MU` or `.RecurrentLIF` with NengoDL and score it held out.

    Parameters
    ----------
    net : SpikingClassifier
        The network (the top-level network of the simulation); it is updated
        in place to the trained weights, ``beta`` and ``threshold``.
    data : dict
        ``x_train`` ``(n, n_steps, n_inputs)`` events, ``y_train`` ``(n, 1,
        1)`` labels, ``x_test``, ``y_test`` (as from `.event_digits`).
    epochs, minibatch_size, learning_rate
        Adam on the spike-count cross-entropy. Training uses the largest
        whole number of minibatches; evaluation every test sequence.
    unroll_simulation : int
        NengoDL loop unrolling (reduced to the largest divisor of n_steps).
    seed : int
        Seed of the NengoDL simulator and TensorFlow.
    verbose : int
        Keras verbosity of ``fit`` (1, the default, shows a progress bar).
    progress_bar : bool
        NengoDL's build progress bar.

    Returns
    -------
    SpikingTrainResult
        ``test_accuracy`` is that of the NengoDL forward pass (float32); the
        nengo reference run of the trained network (`run_sequences`) may
        differ by a few spikes where float32 and float64 round differently.
    """
    settings = fit_settings(
        epochs, minibatch_size, learning_rate, unroll_simulation, seed, verbose, progress_bar
    )
    epochs, minibatch_size = settings["epochs"], settings["minibatch_size"]
    x_tr, y_tr, x_te, y_te = check_training_data(data, minibatch_size, n_classes=net.n_classes)
    for part in ("train", "test"):
        check_event_data(data[f"x_{part}"], net.n_inputs, attr=f"x_{part}")
    pops = list(net.populations.values())
    fit = fit_nengo_dl(
        net,
        net.probe,
        x_tr,
        y_tr.astype(np.float32),
        x_te,
        loss=spike_count_loss,
        metric=spike_count_accuracy,
        simulator_kwargs=dict(dt=net.dt),
        inspect=lambda sim: trained_neuron_params(sim, pops),
        **settings,
    )
    counts = fit.test_output.sum(axis=1)  # amplitude == dt: each spike is 1
    params = fit.inspected
    check_trained_weights(net.get_weights())
    by_name = {k: params[ens] for k, ens in net.populations.items()}
    net.set_neuron_params(by_name)
    accuracy = float(np.mean(np.argmax(counts, axis=-1) == y_te.ravel()))
    return SpikingTrainResult(
        test_accuracy=accuracy,
        train_seconds=fit.seconds,
        epochs=epochs,
        history=fit.history,
        test_counts=counts,
        neuron_params=by_name,
    )
