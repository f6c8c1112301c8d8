"""Keras layers that evaluate the LMU over whole sequences in parallel.

`LegendreMemoryLayer` is the memory alone and `LMULayer` the full cell with
the options of `nengo_lmu.networks.LMUCell`. Both train fast because the
memory is linear and fixed: it is evaluated for every step at once
(`nengo_lmu.dl.memory`), and only what is truly recurrent (a hidden layer
with ``hidden_to_hidden``) is stepped. Their weights carry over unchanged to
the Nengo networks (`nengo_lmu.dl.convert`).

Each step of a sequence is one sample, so ``theta`` is in steps.
"""

from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import bind, signature
from nengo_lmu.dl.compat import (
    dropout_mask,
    keras,
    matmul,
    ops,
    prepare_dropout_masks,
    register,
    seed_generator,
)
from nengo_lmu.dl.lmu_core import (
    ACTIVATION_FUNCTIONS,
    LMUCore,
    flat_states,
    is_rnn_cell,
    state_sizes,
)
from nengo_lmu.dl.memory import legendre_memory, memory_from_response
from nengo_lmu.dl.sequence_layers import SEQUENCE_PARAMETERS, SequenceLayer


@register
class LMULayer(LMUCore, SequenceLayer):
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
    ``trainable_memory``, ``b_u`` ``(memory_d,)`` and ``b_h`` ``(units,)``
    when ``use_bias``, and ``theta_inv`` (``1 / theta``) when
    ``trainable_theta``. The step is `.LMUKerasCell`'s (the same weights).

    Which modes run which options in parallel (the memory of every step at
    once; otherwise the layer warns and steps, see ``effective_mode``):
    ``dropout``, ``use_bias``, regularizers, initializers and a hidden part
    of any kind run in every mode (a recurrent hidden part is stepped after
    the memory); ``trainable_theta`` runs in ``"fft"`` mode and on the
    last-step path (``return_sequences=False`` with a feed-forward hidden
    part), and needs a sequence length known when built; with
    ``mode="chunked"`` it steps. ``hidden_to_memory``, ``memory_to_memory``
    and ``trainable_memory`` always step.

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
    kernel_initializer, recurrent_initializer, encoder_initializer : str or keras initializer
        ``"glorot_uniform"``, ``"lecun_uniform"``, ``"zeros"`` or ``"ones"``
        are drawn with numpy as `.LMUCell` draws them (same ``seed``, same
        weights); any other Keras initializer name (``"orthogonal"``, ...) or
        object is drawn by Keras. ``e_m`` starts at zero. Kernels: ``e_x``
        (encoder), ``W_x``, ``W_m`` (kernel); ``W_h`` (recurrent).
    seed : int, optional
        Seeds the numpy initial weights (the same draws as `.LMUCell`).
    hidden_cell : "default", None, or a Keras layer or RNN cell
        The hidden part: ``"default"`` is the fully connected layer above
        (``units``, ``hidden_activation``, ``hidden_to_hidden``); None
        outputs the memory (``[m, x]`` with ``input_to_hidden``); a Keras
        layer (``Dense``) or RNN cell (``SimpleRNNCell``, ``LSTMCell``) gets
        ``[m, x]`` (or ``m``) each step, as in KerasLMU. ``units`` may then
        be None (it is the hidden part's output size); ``hidden_activation``,
        ``hidden_to_hidden``, ``kernel_initializer`` and
        ``recurrent_initializer`` apply to the default hidden layer only.
    trainable_theta : bool
        Learn ``theta`` (stored as ``theta_inv = 1/theta``, non-negative);
        ``Ad`` and ``Bd`` are re-discretised from it in the graph.
        ``layer.theta`` is the trained value.
    use_bias : bool
        Add biases ``b_u`` to the memory input and ``b_h`` to the default
        hidden layer (KerasLMU's ``use_bias`` is ``b_u`` only; a Keras
        ``hidden_cell`` has its own bias).
    bias_initializer : str or keras initializer
    kernel_regularizer, recurrent_regularizer, bias_regularizer : keras regularizer, optional
        Kernel: ``e_x``, ``W_x``, ``W_m``; recurrent: ``e_h``, ``e_m``,
        ``W_h``; bias: ``b_u``, ``b_h``.
    dropout, recurrent_dropout : float
        Training-time dropout of the input ``x`` and of the fed-back ``h``
        and ``m``, one mask per sequence (as Keras' RNN cells); identity at
        inference (and in the converted Nengo network).
    discretizer, mode, chunk_size, return_sequences, return_state, stateful, \
go_backwards
        As `LegendreMemoryLayer`; ``return_sequences`` is False by default,
        as for Keras' RNN layers. The states are ``[m, h]``.

    Examples
    --------
    >>> model = keras.Sequential([
    ...     keras.Input((64, 1)),
    ...     LMULayer(units=100, order=48, theta=64, hidden_activation="relu",
    ...              hidden_to_hidden=False),
    ...     keras.layers.Dense(10, use_bias=False),
    ... ])

    References
    ----------
    .. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
       Units: continuous-time representation in recurrent neural networks.
    """

    def __init__(self, *args, **kwargs):
        # the arguments are the cell's options (one table, in
        # nengo_lmu.cell_options) and SequenceLayer's / Keras' own
        options, rest = bind("keras", args, kwargs)
        super().__init__(
            options["order"], options["theta"], discretizer=options["discretizer"], **rest
        )
        self.init_options(options)
        self._hidden_rnn = None
        self.seed_generator = seed_generator(self.seed)
        self._warn_fallback()

    # theta is LMUCore's property (the trained value with trainable_theta);
    # SequenceLayer.__init__ assigns the initial value
    @property
    def theta(self):
        """The window in steps (the trained one with ``trainable_theta``)."""
        return LMUCore.theta.fget(self)

    @theta.setter
    def theta(self, value):
        self.theta_init = value

    @property
    def state_names(self):
        """What ``return_state`` returns and ``initial_state`` takes."""
        if self.default_hidden or (
            self.hidden_cell is not None and not is_rnn_cell(self.hidden_cell)
        ):
            return ("m", "h")
        if self.hidden_cell is None:
            return ("m",)
        n = len(state_sizes(self.hidden_cell))
        return ("m", "h") if n == 1 else ("m",) + tuple(f"h{i}" for i in range(n))

    def _recurrent_reasons(self):
        reasons = [
            name
            for name in ("hidden_to_memory", "memory_to_memory", "trainable_memory")
            if getattr(self, name)
        ]
        if self.trainable_theta and self.mode == "chunked" and self._needs_sequence():
            reasons.append("trainable_theta (with mode='chunked'; mode='fft' runs it in parallel)")
        return reasons

    def _stepped_hidden(self):
        """The hidden part is itself recurrent (stepped after the memory)."""
        if self.default_hidden:
            return self.hidden_to_hidden
        return self.hidden_cell is not None and is_rnn_cell(self.hidden_cell)

    def _needs_sequence(self):
        """Every step's memory is needed (not only the last)."""
        return self.return_sequences or self._stepped_hidden()

    def _state_sizes(self):
        _, hidden = self.hidden_sizes(self.input_d)
        return [self.memory_d * self.order] + list(hidden)

    def _check_length(self, shape):
        """Refuse sequences of length 0 (TensorFlow's own error came from
        deep inside, a ConcatOp or StridedSlice). Checked when the layer is
        built (where Keras passes the error on as it is) and on every call
        (where Keras wraps it in a RuntimeError that keeps the message)."""
        if len(shape) > 1 and shape[1] == 0:
            raise ValidationError(
                f"must be sequences of at least one step, got length 0 "
                f"(input shape {tuple(shape)})",
                attr="inputs",
                obj=self,
            )

    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape, "features")
        self._check_length(input_shape)
        self.build_weights(int(input_shape[-1]))
        if (
            self.hidden_cell is not None
            and not self.default_hidden
            and is_rnn_cell(self.hidden_cell)
        ):
            self._hidden_rnn = keras.layers.RNN(
                self.hidden_cell,
                return_sequences=True,
                return_state=True,
                dtype=self.dtype,
            )
        self._build_states(input_shape)
        super().build(input_shape)

    # --- running ---------------------------------------------------------

    def _memory(self, u, m0, last_only):
        """The memory of ``u`` (``(batch, T, memory_d)``) in the layer's mode."""
        if not self.trainable_theta:
            return legendre_memory(
                u,
                self.order,
                self.theta_init,
                self.mode,
                self.discretizer,
                self.chunk_size,
                m0,
                last_only=last_only,
            )
        # theta is a variable: the impulse response is computed in the graph
        Ad, Bd = self.memory_matrices(u.dtype)
        batch, T, md = ops.shape(u)[0], u.shape[1], self.memory_d
        flat = ops.reshape(ops.transpose(u, (0, 2, 1)), (-1, T))
        m0f = None if m0 is None else ops.reshape(m0, (-1, self.order))
        m = memory_from_response(flat, Ad, Bd, m0f, last_only=last_only)
        if last_only:
            return ops.reshape(m, (batch, md * self.order))
        m = ops.reshape(m, (batch, md, T, self.order))
        return ops.reshape(ops.transpose(m, (0, 2, 1, 3)), (batch, T, md * self.order))

    def _zeros(self, batch, size, dtype):
        return ops.zeros((batch, size), dtype=dtype)

    def _run(self, x, states, training=None):
        self._check_length(x.shape)
        m0, h0s = states[0], list(states[1:])
        # a Keras hidden cell draws its dropout masks once per sequence
        # (keras.layers.RNN resets them per call; the recurrent mode must)
        for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
            if hasattr(self.hidden_cell, reset):
                getattr(self.hidden_cell, reset)()
        batch, dtype = ops.shape(x)[0], x.dtype
        seed = self.seed_generator
        _, hidden_sizes = self.hidden_sizes(self.input_d)
        h0s = [
            self._zeros(batch, size, dtype) if h is None else h
            for h, size in zip(h0s, hidden_sizes)
        ]
        x_mask = dropout_mask((batch, self.input_d), self.dropout, training, dtype, seed)
        h_size = hidden_sizes[0] if self.feeds_back_h() else 0
        h_mask = (
            dropout_mask((batch, h_size), self.recurrent_dropout, training, dtype, seed)
            if h_size
            else None
        )
        if self.effective_mode == "recurrent":
            m_mask = (
                dropout_mask(
                    (batch, self.memory_d * self.order),
                    self.recurrent_dropout,
                    training,
                    dtype,
                    seed,
                )
                if self.memory_to_memory
                else None
            )
            return self._run_recurrent(x, m0, h0s, (x_mask, h_mask, m_mask), training)
        xd = x if x_mask is None else x * x_mask[:, None, :]
        u = self.dense("e_x", xd)
        if self.use_bias:
            u += self.bias("b_u", dtype)
        if not self._needs_sequence():
            # a feed-forward hidden part on the last step: only the last
            # memory state is needed (one product, not a whole convolution)
            m = self._memory(u, m0, last_only=True)
            h = self._hidden_parallel(m, x[:, -1], xd[:, -1], None, training)
            hs = [h] if self.default_hidden or self.hidden_cell is not None else []
            return self._finish(None, h, [m] + hs)
        m = self._memory(u, m0, last_only=False)
        h, finals = self._hidden_sequence(m, x, xd, h0s, h_mask, training)
        return self._finish(h, h[:, -1], [m[:, -1]] + finals)

    def _hidden_parallel(self, m, x, xd, h_mask, training):
        """A feed-forward hidden part on any number of steps at once."""
        if self.default_hidden:
            pre = self.dense("W_m", m)
            if self.input_to_hidden:
                pre += self.dense("W_x", xd)
            if self.use_bias:
                pre += self.bias("b_h", m.dtype)
            return ACTIVATION_FUNCTIONS[self.hidden_activation](pre)
        h_in = ops.concatenate([m, x], axis=-1) if self.input_to_hidden else m
        if self.hidden_cell is None:
            return h_in
        return self.hidden_cell(h_in, training=training)

    def _hidden_sequence(self, m, x, xd, h0s, h_mask, training):
        """The hidden part over the whole sequence; ``(h, final states)``."""
        f = ACTIVATION_FUNCTIONS[self.hidden_activation]
        if self.default_hidden and self.hidden_to_hidden:
            pre = self.dense("W_m", m)
            if self.input_to_hidden:
                pre += self.dense("W_x", xd)
            if self.use_bias:
                pre += self.bias("b_h", m.dtype)
            W_hT = ops.transpose(ops.cast(self.kernels["W_h"], x.dtype))

            def step(h, p):
                hm = h if h_mask is None else h * h_mask
                h = f(p + matmul(hm, W_hT))
                return h, h

            last, hs = ops.scan(step, h0s[0], ops.transpose(pre, (1, 0, 2)))
            h = ops.transpose(hs, (1, 0, 2))
            return h, [last]
        if self._hidden_rnn is not None:
            h_in = ops.concatenate([m, x], axis=-1) if self.input_to_hidden else m
            out = flat_states(self._hidden_rnn(h_in, initial_state=h0s, training=training))
            return out[0], list(out[1:])
        h = self._hidden_parallel(m, x, xd, None, training)
        return h, ([] if self.hidden_cell is None and not self.default_hidden else [h[:, -1]])

    def _run_recurrent(self, x, m0, h0s, masks, training=None):
        """The step-by-step reference: every option, one step per sample."""
        batch = ops.shape(x)[0]
        dtype = x.dtype
        if self.trainable_memory:
            memory = (ops.cast(self.kernels["Ad"], dtype), ops.cast(self.kernels["Bd"], dtype))
        else:
            memory = self.memory_matrices(dtype)
        if m0 is None:
            m0 = ops.zeros((batch, self.memory_d * self.order), dtype=dtype)
        if self._hidden_rnn is not None:
            h_in = ops.zeros((batch, self.hidden_input_size(self.input_d)), dtype=dtype)
            prepare_dropout_masks(self.hidden_cell, h_in, h0s[0])

        def step(carry, x_t):
            m, hs = carry[0], list(carry[1:])
            o, m, hs = self.lmu_step(x_t, m, hs, memory, masks, training)
            return (m,) + tuple(hs), o

        finals, os_ = ops.scan(step, (m0,) + tuple(h0s), ops.transpose(x, (1, 0, 2)))
        h = ops.transpose(os_, (1, 0, 2))
        return self._finish(h, os_[-1], list(finals))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        units = self.units
        out = (
            (input_shape[0], input_shape[1], units)
            if self.return_sequences
            else (input_shape[0], units)
        )
        if self.return_state:
            return [out] + [(input_shape[0], size) for size in self._state_sizes()]
        return out

    def get_config(self):
        config = super().get_config()
        config.update(self.options_config())
        return config


LMULayer.__init__.__signature__ = signature(
    "keras", after=[p for p in SEQUENCE_PARAMETERS if p.name != "discretizer"]
)
