"""Keras layers that evaluate the LMU over whole sequences in parallel.

`LegendreMemoryLayer` is the memory alone and `LMULayer` the full cell with
the options of `nengo_lmu.networks.LMUCell`. Both train fast because the
memory is linear and fixed: it is evaluated for every step at once
(`nengo_lmu.dl.memory`), and only what is truly recurrent (a hidden layer
with ``hidden_to_hidden``) is stepped. Their weights carry over unchanged to
the Nengo networks (`nengo_lmu.dl.convert`).

Each step of a sequence is one sample, so ``theta`` is in steps.
"""

import warnings

import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.memory import (
    MODES,
    check_theta_steps,
    cached_discrete_memory,
    discrete_memory,
    legendre_memory,
)
from nengo_lmu.networks.common import HIDDEN_ACTIVATIONS, INITIALIZERS, cell_initial_weights
from nengo_lmu.systems import DISCRETIZERS, check_order
from nengo_lmu.validation import check_bool, check_choice, check_int

#: Hidden nonlinearities of `LMULayer` and the nengo neuron types that
#: compute the same function (used when converting to an `.LMUCell`).
ACTIVATIONS = tuple(HIDDEN_ACTIVATIONS)

#: The TensorFlow function of each hidden activation (the names of
#: `nengo_lmu.networks.common.HIDDEN_ACTIVATIONS`).
TF_ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}


def _check_chunk(chunk_size, obj):
    if chunk_size is None:
        return None
    return check_int("chunk_size", chunk_size, obj)


class SequenceLayer(tf.keras.layers.Layer):
    """What both layers share: modes, state handling and Keras RNN options."""

    def __init__(
        self,
        order,
        theta,
        discretizer="zoh",
        mode="chunked",
        chunk_size=None,
        return_sequences=False,
        return_state=False,
        stateful=False,
        go_backwards=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.order = check_order(order, obj=self)
        self.theta = check_theta_steps(theta, self)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS, self)
        self.mode = check_choice("mode", mode, MODES, self)
        self.chunk_size = _check_chunk(chunk_size, self)
        for name, value in dict(
            return_sequences=return_sequences,
            return_state=return_state,
            stateful=stateful,
            go_backwards=go_backwards,
        ).items():
            setattr(self, name, check_bool(name, value, self))
        # warn now for Euler's accuracy, and cache (Ad, Bd)
        discrete_memory(self.order, self.theta, self.discretizer)
        self.state_variables = None

    # --- modes -----------------------------------------------------------

    def _recurrent_reasons(self):
        """Why this layer must be stepped (empty: any mode works)."""
        return []

    @property
    def effective_mode(self):
        """The mode that runs: ``mode``, or ``"recurrent"`` where an option
        needs it (see `recurrent_reasons`)."""
        return "recurrent" if self._recurrent_reasons() else self.mode

    @property
    def recurrent_reasons(self):
        """The options that force the recurrent mode (empty if none)."""
        return list(self._recurrent_reasons())

    def _warn_fallback(self):
        reasons = self._recurrent_reasons()
        if reasons and self.mode != "recurrent":
            warnings.warn(
                f"{type(self).__name__} {self.name!r}: mode={self.mode!r} cannot "
                f"express {', '.join(reasons)}; running the recurrent mode "
                f"(see layer.effective_mode)",
                stacklevel=3,
            )

    # --- state -----------------------------------------------------------

    def _state_sizes(self):
        raise NotImplementedError

    def _check_input_shape(self, input_shape, what):
        input_shape = tf.TensorShape(input_shape)
        if input_shape.rank != 3 or input_shape[-1] is None:
            raise ValidationError(
                f"input must have shape (batch, steps, {what}) with a known "
                f"number of {what}, got {input_shape}",
                attr="input_shape",
                obj=self,
            )
        if input_shape[1] is None and self.effective_mode == "fft":
            raise ValidationError(
                "mode 'fft' needs a sequence length known when the model is built "
                "(give the Input a fixed number of steps, or use mode='chunked')",
                attr="mode",
                obj=self,
            )
        return input_shape

    def _build_states(self, input_shape):
        if not self.stateful:
            return
        batch = input_shape[0]
        if batch is None:
            raise ValidationError(
                "a stateful layer needs a fixed batch size (give the Input a "
                "batch_size)",
                attr="stateful",
                obj=self,
            )
        self.state_variables = [
            self.add_weight(
                name=f"state{i}",
                shape=(batch, size),
                initializer="zeros",
                trainable=False,
            )
            for i, size in enumerate(self._state_sizes())
        ]

    def reset_states(self, states=None):
        """Set the states of a stateful layer (to zero by default)."""
        if not self.stateful:
            raise ValidationError(
                "only a stateful layer has states to reset", attr="stateful", obj=self
            )
        if states is None:
            states = [None] * len(self.state_variables)
        for var, value in zip(self.state_variables, states):
            var.assign(tf.zeros_like(var) if value is None else value)

    def __call__(self, inputs, initial_state=None, **kwargs):
        # checked here, not in call(), so the error keeps its type (Keras
        # re-raises errors from call() as RuntimeError)
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state]
            n = len(self.state_names)
            if len(initial_state) != n:
                raise ValidationError(
                    f"must be a list of {n} tensors (states {self.state_names}), got "
                    f"{len(initial_state)}",
                    attr="initial_state",
                    obj=self,
                )
            kwargs["initial_state"] = list(initial_state)
        return super().__call__(inputs, **kwargs)

    def _initial_states(self, inputs, initial_state):
        if initial_state is not None:
            return [tf.cast(s, self.compute_dtype) for s in initial_state]
        if self.stateful:
            return [tf.convert_to_tensor(v) for v in self.state_variables]
        return [None] * len(self._state_sizes())

    def _finish(self, sequence, last, states):
        if self.stateful:
            for var, value in zip(self.state_variables, states):
                var.assign(tf.cast(value, var.dtype))
        out = sequence if self.return_sequences else last
        if self.return_state:
            return [out] + list(states)
        return out

    def call(self, inputs, initial_state=None, training=None):
        inputs = tf.cast(inputs, self.compute_dtype)
        # stop with a clear message on NaN or inf inputs (never propagate them)
        inputs = tf.debugging.assert_all_finite(
            inputs, f"{self.name}: the input contains NaN or infinite values"
        )
        if self.go_backwards:
            inputs = tf.reverse(inputs, axis=[1])
        states = self._initial_states(inputs, initial_state)
        return self._run(inputs, states)

    def get_config(self):
        config = super().get_config()
        config.update(
            order=self.order,
            theta=self.theta,
            discretizer=self.discretizer,
            mode=self.mode,
            chunk_size=self.chunk_size,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            stateful=self.stateful,
            go_backwards=self.go_backwards,
        )
        return config


@tf.keras.utils.register_keras_serializable(package="nengo_lmu")
class LegendreMemoryLayer(SequenceLayer):
    """The LMU memory [1]_ over whole sequences, as a Keras layer.

    For input ``x`` of shape ``(batch, T, memory_d)`` each channel gets its
    own memory of ``order`` Legendre coefficients over a window of
    ``theta`` steps::

        m[t] = Ad m[t-1] + Bd x[t]

    and the output is ``m`` laid out ``(memory_d, order)`` row-major on the
    last axis (as in KerasLMU and `.LegendreMemory`). The layer has no
    weights: put a ``Dense`` layer in front to learn the encoders.

    Parameters
    ----------
    order : int
        Legendre coefficients per channel.
    theta : float
        Window in steps (> 1).
    discretizer : "zoh" or "euler"
        Discretisation of the continuous memory.
    mode : "chunked", "fft" or "recurrent"
        How the whole sequence is evaluated (see `nengo_lmu.dl.memory`):
        ``"chunked"`` (default) is the fastest on CPUs, ``"fft"`` needs the
        sequence length when the model is built, ``"recurrent"`` steps the
        recurrence (the reference).
    chunk_size : int, optional
        Chunk length of the chunked mode.
    return_sequences : bool
        Return the memory at every step (default), or only the last (which
        is then one matrix product, not a whole convolution).
    return_state : bool
        Also return the final state (``(batch, memory_d * order)``).
    stateful : bool
        Keep the final state of each batch row as the next call's initial
        state (needs a fixed batch size; `reset_states` clears it).
    go_backwards : bool
        Process the sequence in reverse (outputs in processing order, as
        Keras' RNN layers do), so that ``keras.layers.Bidirectional`` works.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Examples
    --------
    >>> x = tf.keras.Input((100, 1))
    >>> m = LegendreMemoryLayer(order=6, theta=50, return_sequences=True)(x)
    >>> m.shape
    TensorShape([None, 100, 6])

    References
    ----------
    .. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
       Units: continuous-time representation in recurrent neural networks.
    """

    #: what ``return_state`` returns and ``initial_state`` takes
    state_names = ("m",)

    def __init__(self, order, theta, return_sequences=True, **kwargs):
        super().__init__(order, theta, return_sequences=return_sequences, **kwargs)
        self.memory_d = None

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape, "channels")
        self.memory_d = int(input_shape[-1])
        self._build_states(input_shape)
        super().build(input_shape)

    def _state_sizes(self):
        return [self.memory_d * self.order]

    def _run(self, x, states):
        (m0,) = states
        mode = self.effective_mode
        if not self.return_sequences:
            # the last state only (it is also the state to return or keep)
            last = legendre_memory(
                x, self.order, self.theta, mode, self.discretizer, self.chunk_size, m0,
                last_only=True,
            )
            return self._finish(None, last, [last])
        m = legendre_memory(
            x, self.order, self.theta, mode, self.discretizer, self.chunk_size, m0
        )
        return self._finish(m, m[:, -1], [m[:, -1]])

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        size = input_shape[-1] * self.order
        out = (
            tf.TensorShape([input_shape[0], input_shape[1], size])
            if self.return_sequences
            else tf.TensorShape([input_shape[0], size])
        )
        if self.return_state:
            return [out, tf.TensorShape([input_shape[0], size])]
        return out


@tf.keras.utils.register_keras_serializable(package="nengo_lmu")
class LMULayer(SequenceLayer):
    """The LMU cell [1]_ over whole sequences, as a Keras layer.

    The same equations and options as `nengo_lmu.networks.LMUCell` (and
    the same initial weights for the same ``seed``)::

        u[t] = e_x x[t] + e_h h[t-1] + e_m m[t-1]
        m[t] = Ad m[t-1] + Bd u[t]
        h[t] = f(W_x x[t] + W_h h[t-1] + W_m m[t])

    When nothing feeds back into the memory (``hidden_to_memory`` and
    ``memory_to_memory`` False and the memory fixed) the memory of every step
    is computed at once in the chosen ``mode``; the hidden layer is then
    either applied to all steps at once (``hidden_to_hidden=False``) or
    stepped (``hidden_to_hidden=True``: a ``units x units`` recurrence, cheap
    next to the memory). Options that feed back into the memory need the
    recurrent mode: the layer warns and uses it (``effective_mode``).

    The weights are variables named as in `.LMUCell` and stored in nengo's
    ``(post, pre)`` orientation: ``e_x`` ``(memory_d, input_d)``, ``e_h``,
    ``e_m``, ``W_x`` ``(units, input_d)``, ``W_h``, ``W_m``
    ``(units, memory_d * order)``, plus ``Ad`` and ``Bd`` when
    ``trainable_memory``. There are no biases (as in the Nengo cell).

    Parameters
    ----------
    units : int
        Hidden units.
    order, theta : int, float
        Memory order and window in steps (> 1).
    memory_d : int
        Dimensions of ``u`` (each has its own memory).
    hidden_activation : "tanh", "relu" or "sigmoid"
        ``f``.
    hidden_to_memory, memory_to_memory, input_to_hidden, hidden_to_hidden : bool
        Include ``e_h``, ``e_m``, ``W_x`` and ``W_h`` (as `.LMUCell`).
    trainable_memory : bool
        Learn ``Ad`` and ``Bd`` (recurrent mode only).
    kernel_initializer, recurrent_initializer, encoder_initializer : str
        As `.LMUCell` (``"glorot_uniform"``, ``"lecun_uniform"``, ``"zeros"``
        or ``"ones"``); ``e_m`` starts at zero.
    seed : int, optional
        Seeds the initial weights (numpy, the same draws as `.LMUCell`).
    discretizer, mode, chunk_size, return_sequences, return_state, stateful, \
go_backwards
        As `LegendreMemoryLayer`; ``return_sequences`` is False by default,
        as for Keras' RNN layers. The states are ``[m, h]``.

    Examples
    --------
    >>> model = tf.keras.Sequential([
    ...     tf.keras.Input((64, 1)),
    ...     LMULayer(units=100, order=48, theta=64, hidden_activation="relu",
    ...              hidden_to_hidden=False),
    ...     tf.keras.layers.Dense(10, use_bias=False),
    ... ])

    References
    ----------
    .. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
       Units: continuous-time representation in recurrent neural networks.
    """

    #: what ``return_state`` returns and ``initial_state`` takes
    state_names = ("m", "h")

    def __init__(
        self,
        units,
        order,
        theta,
        memory_d=1,
        hidden_activation="tanh",
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
        hidden_to_hidden=True,
        trainable_memory=False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        encoder_initializer="lecun_uniform",
        seed=None,
        **kwargs,
    ):
        super().__init__(order, theta, **kwargs)
        self.units = check_int("units", units, self)
        self.memory_d = check_int("memory_d", memory_d, self)
        self.hidden_activation = check_choice(
            "hidden_activation", hidden_activation, ACTIVATIONS, self
        )
        for name, value in dict(
            hidden_to_memory=hidden_to_memory,
            memory_to_memory=memory_to_memory,
            input_to_hidden=input_to_hidden,
            hidden_to_hidden=hidden_to_hidden,
            trainable_memory=trainable_memory,
        ).items():
            setattr(self, name, check_bool(name, value, self))
        for name, value in dict(
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            encoder_initializer=encoder_initializer,
        ).items():
            setattr(self, name, check_choice(name, value, INITIALIZERS, self))
        if seed is not None:
            seed = check_int("seed", seed, self, minimum=0)
        self.seed = seed
        self._warn_fallback()

    def _recurrent_reasons(self):
        return [
            name
            for name in ("hidden_to_memory", "memory_to_memory", "trainable_memory")
            if getattr(self, name)
        ]

    def _state_sizes(self):
        return [self.memory_d * self.order, self.units]

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape, "features")
        self.input_d = int(input_shape[-1])
        units, md, q = self.units, self.memory_d, self.memory_d * self.order
        rng = np.random.RandomState(self.seed)

        # the same draws, in the same order, as LMUCell
        values = cell_initial_weights(
            rng, md, self.input_d, units, q, self.encoder_initializer,
            self.kernel_initializer, self.recurrent_initializer, obj=self)
        used = dict(
            e_x=True,
            e_h=self.hidden_to_memory,
            e_m=self.memory_to_memory,
            W_x=self.input_to_hidden,
            W_h=self.hidden_to_hidden,
            W_m=True,
        )
        self.kernels = {}
        for name, value in values.items():
            if used[name]:
                self.kernels[name] = self.add_weight(
                    name=name,
                    shape=value.shape,
                    initializer=tf.keras.initializers.Constant(value),
                )
        if self.trainable_memory:
            Ad, Bd = cached_discrete_memory(self.order, self.theta, self.discretizer)
            eye = np.eye(md)
            for name, value in (("Ad", np.kron(eye, Ad)), ("Bd", np.kron(eye, Bd[:, None]))):
                self.kernels[name] = self.add_weight(
                    name=name,
                    shape=value.shape,
                    initializer=tf.keras.initializers.Constant(value),
                )
        self._build_states(input_shape)
        super().build(input_shape)

    def _dense(self, name, x):
        """``x @ W^T`` for a (post, pre) kernel, on the last axis."""
        w = tf.cast(self.kernels[name], x.dtype)
        return tf.linalg.matmul(x, w, transpose_b=True) if x.shape.rank == 2 else (
            tf.einsum("bti,oi->bto", x, w)
        )

    def _run(self, x, states):
        m0, h0 = states
        f = TF_ACTIVATIONS[self.hidden_activation]
        if self.effective_mode == "recurrent":
            return self._run_recurrent(x, m0, h0, f)
        u = self._dense("e_x", x)
        if not (self.return_sequences or self.hidden_to_hidden):
            # a feed-forward hidden layer on the last step: only the last
            # memory state is needed (one product, not a whole convolution)
            m = legendre_memory(
                u, self.order, self.theta, self.mode, self.discretizer, self.chunk_size,
                m0, last_only=True,
            )
            pre = self._dense("W_m", m)
            if self.input_to_hidden:
                pre += self._dense("W_x", x[:, -1])
            h = f(pre)
            return self._finish(None, h, [m, h])
        m = legendre_memory(
            u, self.order, self.theta, self.mode, self.discretizer, self.chunk_size, m0
        )
        pre = self._dense("W_m", m)
        if self.input_to_hidden:
            pre += self._dense("W_x", x)
        if self.hidden_to_hidden:
            W_h = tf.cast(self.kernels["W_h"], x.dtype)
            if h0 is None:
                h0 = tf.zeros((tf.shape(x)[0], self.units), dtype=x.dtype)
            hs = tf.scan(
                lambda h, p: f(p + tf.linalg.matmul(h, W_h, transpose_b=True)),
                tf.transpose(pre, (1, 0, 2)),
                initializer=h0,
            )
            h = tf.transpose(hs, (1, 0, 2))
        else:
            h = f(pre)
        return self._finish(h, h[:, -1], [m[:, -1], h[:, -1]])

    def _run_recurrent(self, x, m0, h0, f):
        """The step-by-step reference: every option, one step per sample."""
        batch = tf.shape(x)[0]
        dtype = x.dtype
        if self.trainable_memory:
            Ad = tf.cast(self.kernels["Ad"], dtype)
            Bd = tf.cast(self.kernels["Bd"], dtype)
        else:
            Ad_, Bd_ = cached_discrete_memory(self.order, self.theta, self.discretizer)
            eye = np.eye(self.memory_d)
            Ad = tf.constant(np.kron(eye, Ad_), dtype=dtype)
            Bd = tf.constant(np.kron(eye, Bd_[:, None]), dtype=dtype)
        if m0 is None:
            m0 = tf.zeros((batch, self.memory_d * self.order), dtype=dtype)
        if h0 is None:
            h0 = tf.zeros((batch, self.units), dtype=dtype)
        k = {name: tf.cast(w, dtype) for name, w in self.kernels.items()}

        def mm(v, name):
            return tf.linalg.matmul(v, k[name], transpose_b=True)

        def step(carry, x_t):
            m, h = carry
            u = mm(x_t, "e_x")
            if self.hidden_to_memory:
                u += mm(h, "e_h")
            if self.memory_to_memory:
                u += mm(m, "e_m")
            m = tf.linalg.matmul(m, Ad, transpose_b=True) + tf.linalg.matmul(
                u, Bd, transpose_b=True
            )
            pre = mm(m, "W_m")
            if self.input_to_hidden:
                pre += mm(x_t, "W_x")
            if self.hidden_to_hidden:
                pre += mm(h, "W_h")
            return m, f(pre)

        ms, hs = tf.scan(step, tf.transpose(x, (1, 0, 2)), initializer=(m0, h0))
        h = tf.transpose(hs, (1, 0, 2))
        return self._finish(h, hs[-1], [ms[-1], hs[-1]])

    def compute_output_shape(self, input_shape):
        input_shape = tf.TensorShape(input_shape)
        out = (
            tf.TensorShape([input_shape[0], input_shape[1], self.units])
            if self.return_sequences
            else tf.TensorShape([input_shape[0], self.units])
        )
        if self.return_state:
            return [
                out,
                tf.TensorShape([input_shape[0], self.memory_d * self.order]),
                tf.TensorShape([input_shape[0], self.units]),
            ]
        return out

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            memory_d=self.memory_d,
            hidden_activation=self.hidden_activation,
            hidden_to_memory=self.hidden_to_memory,
            memory_to_memory=self.memory_to_memory,
            input_to_hidden=self.input_to_hidden,
            hidden_to_hidden=self.hidden_to_hidden,
            trainable_memory=self.trainable_memory,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            encoder_initializer=self.encoder_initializer,
            seed=self.seed,
        )
        return config
