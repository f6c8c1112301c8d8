"""Ctrl-C during training: what the completed epochs leave.

`LastEpoch` keeps the weights of the last completed epoch; a training loop
that catches ``KeyboardInterrupt`` puts them back and raises
`TrainingInterrupted` (a ``KeyboardInterrupt``), so that its caller can
save them like any output and say so. Needs only Keras (tf.keras or
Keras 3), not NengoDL.
"""

from nengo_lmu.dl.compat import keras

__all__ = ["LastEpoch", "TrainingInterrupted"]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, with what the completed epochs left.

    Raised instead of the ``KeyboardInterrupt`` that stopped a training
    run (a subclass, so that whoever catches Ctrl-C still does). Where at
    least one epoch was completed, the trained model holds the weights of
    the last completed epoch (the interrupted epoch's partial updates are
    undone), so that the caller can save them like any output.

    Attributes
    ----------
    epochs_done, epochs : int
        Epochs completed, and asked for.
    weights : dict or None
        `train_classifier`: the network's weights after ``epochs_done``
        epochs (``net.get_weights()`` form; None where no epoch was
        completed).
    model : keras.Model or None
        `train_parallel_classifier`: the Keras model, holding the weights
        after ``epochs_done`` epochs.
    kept : str or None
        Set by whoever saves the weights: what was kept, in words.
    """

    def __init__(self, epochs_done, epochs, weights=None, model=None):
        super().__init__(f"training interrupted after {epochs_done} of {epochs} epochs")
        self.epochs_done = epochs_done
        self.epochs = epochs
        self.weights = weights
        self.model = model
        self.kept = None


class LastEpoch(keras.callbacks.Callback):
    """Keeps a copy of the model's weights at the end of every epoch, so that
    an interrupted run can go back to the last completed one."""

    def __init__(self):
        super().__init__()
        self.epochs_done = 0
        self.weights = None

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        self.weights = self.model.get_weights()

    def restore(self, model):
        """Put the last completed epoch's weights back into ``model``;
        returns whether there were any."""
        if self.weights is None:
            return False
        model.set_weights(self.weights)
        return True
