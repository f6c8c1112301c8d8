"""The compiled training steps of the language models, one per backend, and
the distribution they run under.

The step is the backend's own: a `tf.function` with a gradient tape under a
`tf.distribute` strategy (tf.keras 2.12, Keras 3's TensorFlow backend), a
``jax.jit`` of Keras' stateless calls (under a ``keras.distribution`` on
JAX, e.g. ``DataParallel``), or PyTorch's autograd. The loss is summed over
the replica's tokens and divided by the *global* number of tokens, so the
all-reduced gradient is the single-worker gradient.
"""

import contextlib

from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import backend_name, keras, ops, sparse_cross_entropy, uses_tensorflow


class _TensorFlowSteps:
    """Training steps under a `tf.distribute` strategy (tf.keras 2.12, or
    Keras 3's TensorFlow backend)."""

    def __init__(self, model, optimizer, global_tokens, strategy, batch_size):
        import tensorflow as tf

        self.strategy, self.n_rep = strategy, strategy.num_replicas_in_sync
        self.per_rep = batch_size // self.n_rep
        variables = model.trainable_variables

        def replica_step(x, y):
            with tf.GradientTape() as tape:
                logits = model(x, training=True)
                ce = sparse_cross_entropy(y, logits)
                loss = tf.reduce_sum(ce) / global_tokens
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            return loss

        @tf.function
        def dist_step(x, y):
            per = strategy.run(replica_step, args=(x, y))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per, axis=None)

        self.dist_step = dist_step

    def __call__(self, rows):
        import tensorflow as tf

        per_rep = self.per_rep

        def value_fn(ctx):
            r = ctx.replica_id_in_sync_group
            part = rows[r * per_rep : (r + 1) * per_rep]
            return tf.constant(part[:, :-1]), tf.constant(part[:, 1:])

        x, y = self.strategy.experimental_distribute_values_from_function(value_fn)
        return float(self.dist_step(x, y).numpy())

    def sync(self):
        """The variables hold the trained values already."""


class _JaxSteps:
    """Training steps as one ``jax.jit`` of Keras' stateless calls; under a
    ``keras.distribution`` the batch is laid out over its devices."""

    def __init__(self, model, optimizer, global_tokens, distribution):
        import jax

        self.model, self.optimizer, self.distribution = model, optimizer, distribution

        def loss_fn(trainable, fixed, x, y):
            logits, fixed = model.stateless_call(trainable, fixed, x)
            return ops.sum(sparse_cross_entropy(y, logits)) / global_tokens, fixed

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def step(state, x, y):
            trainable, fixed, slots = state
            (loss, fixed), grads = grad_fn(trainable, fixed, x, y)
            trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
            return loss, (trainable, fixed, slots)

        self.step = jax.jit(step)
        self.state = None

    def _lay_out(self, array):
        if self.distribution is None:
            return array
        layout = self.distribution.get_data_layout(array.shape)
        return keras.distribution.distribute_tensor(array, layout)

    def __call__(self, rows):
        if self.state is None:
            self.state = (
                [v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.optimizer.variables],
            )
        x, y = self._lay_out(rows[:, :-1]), self._lay_out(rows[:, 1:])
        loss, self.state = self.step(self.state, x, y)
        return float(loss)

    def sync(self):
        """Write the trained values back into the model's and optimizer's variables."""
        if self.state is None:
            return
        trainable, fixed, slots = self.state
        for variables, values in (
            (self.model.trainable_variables, trainable),
            (self.model.non_trainable_variables, fixed),
            (self.optimizer.variables, slots),
        ):
            for v, value in zip(variables, values):
                v.assign(value)
        self.state = None


class _TorchSteps:
    """Training steps with PyTorch's autograd (Keras 3's PyTorch backend)."""

    def __init__(self, model, optimizer, global_tokens):
        self.model, self.optimizer, self.global_tokens = model, optimizer, global_tokens

    def __call__(self, rows):
        import torch

        variables = self.model.trainable_variables
        logits = self.model(rows[:, :-1])
        ce = sparse_cross_entropy(ops.convert_to_tensor(rows[:, 1:]), logits)
        loss = ops.sum(ce) / self.global_tokens
        grads = torch.autograd.grad(loss, [v.value for v in variables])
        with torch.no_grad():
            self.optimizer.apply(list(grads), variables)
        return float(loss.detach())

    def sync(self):
        """The variables hold the trained values already."""


def make_training_steps(
    model, optimizer, tokens_per_step, batch_size=1, strategy=None, distribution=None
):
    """``step(rows)``: one training step on the packed sequences ``rows``
    (``(batch_size, n + 1)`` numpy ints), returning the loss (nats per
    token), compiled for the backend; ``optimizer`` is built over
    ``model.trainable_variables``. Call ``step.sync()`` before reading the
    model's weights (JAX keeps them in the compiled function's state)."""
    strategy, distribution = distribution_of(strategy, distribution, batch_size)
    return _training_steps(
        model, optimizer, float(tokens_per_step), strategy, distribution, batch_size
    )


def _training_steps(model, optimizer, global_tokens, strategy, distribution, batch_size):
    if uses_tensorflow():
        return _TensorFlowSteps(model, optimizer, global_tokens, strategy, batch_size)
    if backend_name() == "jax":
        return _JaxSteps(model, optimizer, global_tokens, distribution)
    return _TorchSteps(model, optimizer, global_tokens)


# ------------------------------------------------------------ distribution


def is_chief(strategy):
    """Whether this process is the chief of ``strategy``'s cluster (the one
    that writes checkpoints and results); True outside a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return resolver.task_type in (None, "chief") or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


def distribution_of(strategy, distribution, batch_size):
    """The `tf.distribute` strategy (TensorFlow) or ``keras.distribution``
    (JAX) to train under, with its number of replicas."""
    if strategy is not None and not uses_tensorflow():
        raise ValidationError(
            f"a tf.distribute strategy needs TensorFlow; {backend_name()} runs here "
            "(use distribution=keras.distribution.DataParallel(...) on JAX)",
            attr="strategy",
        )
    if distribution is not None and backend_name() != "jax":
        raise ValidationError(
            f"keras.distribution runs on JAX; {backend_name()} runs here "
            "(use strategy= on TensorFlow)",
            attr="distribution",
        )
    if uses_tensorflow():
        import tensorflow as tf

        strategy = strategy or tf.distribute.get_strategy()
        n_rep = strategy.num_replicas_in_sync
    else:
        if backend_name() == "jax" and distribution is None:
            distribution = keras.distribution.distribution()
        n_rep = 1 if distribution is None else len(distribution.device_mesh.devices.flat)
    if batch_size % n_rep:
        raise ValidationError(
            f"must be a multiple of the {n_rep} replicas, got {batch_size}", attr="batch_size"
        )
    return strategy, distribution


def distribution_scope(strategy, distribution):
    """The scope that places new variables under ``strategy`` or
    ``distribution`` (a no-op context where neither is given)."""
    if strategy is not None:
        return strategy.scope()
    if distribution is not None:
        return distribution.scope()
    return contextlib.nullcontext()


__all__ = [
    "make_training_steps",
    "distribution_of",
    "distribution_scope",
    "is_chief",
]
