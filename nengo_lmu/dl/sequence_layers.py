"""The parallel memory as a Keras layer (`LegendreMemoryLayer`), and
`SequenceLayer`, what it shares with `.LMULayer` (in `nengo_lmu.dl.layers`):
the evaluation modes and their fallback, the states, and Keras' RNN options.

Each step of a sequence is one sample, so ``theta`` is in steps.
"""

import inspect
import warnings

from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import (
    check_finite,
    keras,
    ops,
    read_variable,
    register,
    uses_tensorflow,
)
from nengo_lmu.dl.memory import (
    MODES,
    check_theta_steps,
    discrete_memory,
    legendre_memory,
)
from nengo_lmu.systems import DISCRETIZERS, check_order
from nengo_lmu.validation import check_bool, check_choice, check_int


def _check_chunk(chunk_size, obj):
    if chunk_size is None:
        return None
    return check_int("chunk_size", chunk_size, obj)


class SequenceLayer(keras.layers.Layer):
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
        input_shape = tuple(input_shape)
        if len(input_shape) != 3 or input_shape[-1] is None:
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
                "a stateful layer needs a fixed batch size (give the Input a batch_size)",
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
            var.assign(ops.zeros(var.shape, dtype=var.dtype) if value is None else value)

    def __call__(self, inputs, initial_state=None, **kwargs):
        # checked here, not in call(), so the error keeps its type (Keras
        # re-raises errors from call() as RuntimeError); TensorFlow checks
        # the values in the graph (call()), the other backends here
        if not uses_tensorflow():
            check_finite(inputs, self._nonfinite_message())
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
            return [ops.cast(s, self.compute_dtype) for s in initial_state]
        if self.stateful:
            return [read_variable(v) for v in self.state_variables]
        return [None] * len(self._state_sizes())

    def _finish(self, sequence, last, states):
        if self.stateful:
            for var, value in zip(self.state_variables, states):
                var.assign(ops.cast(value, var.dtype))
        out = sequence if self.return_sequences else last
        if self.return_state:
            return [out] + list(states)
        return out

    def _nonfinite_message(self):
        return f"{self.name}: the input contains NaN or infinite values"

    def call(self, inputs, initial_state=None, training=None):
        inputs = ops.cast(inputs, self.compute_dtype)
        # stop with a clear message on NaN or inf inputs (never propagate them)
        if uses_tensorflow():
            inputs = check_finite(inputs, self._nonfinite_message())
        if self.go_backwards:
            inputs = ops.flip(inputs, axis=1)
        states = self._initial_states(inputs, initial_state)
        return self._run(inputs, states, training=training)

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


@register
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
    >>> x = keras.Input((100, 1))
    >>> m = LegendreMemoryLayer(order=6, theta=50, return_sequences=True)(x)
    >>> tuple(m.shape)
    (None, 100, 6)

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

    def _run(self, x, states, training=None):
        (m0,) = states
        mode = self.effective_mode
        if not self.return_sequences:
            # the last state only (it is also the state to return or keep)
            last = legendre_memory(
                x,
                self.order,
                self.theta,
                mode,
                self.discretizer,
                self.chunk_size,
                m0,
                last_only=True,
            )
            return self._finish(None, last, [last])
        m = legendre_memory(x, self.order, self.theta, mode, self.discretizer, self.chunk_size, m0)
        return self._finish(m, m[:, -1], [m[:, -1]])

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        size = input_shape[-1] * self.order
        out = (
            (input_shape[0], input_shape[1], size)
            if self.return_sequences
            else (input_shape[0], size)
        )
        if self.return_state:
            return [out, (input_shape[0], size)]
        return out


#: The keyword parameters of `SequenceLayer` after ``order`` and ``theta``
#: (with `.LMULayer`'s default of ``return_sequences``)
SEQUENCE_PARAMETERS = tuple(
    p.replace(default=False) if p.name == "return_sequences" else p
    for p in list(inspect.signature(SequenceLayer.__init__).parameters.values())[3:-1]
)
