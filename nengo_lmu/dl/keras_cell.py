"""The LMU as a Keras RNN cell, and the options it shares with `.LMULayer`.

`LMUKerasCell` is one step of the LMU for ``keras.layers.RNN`` (and
``keras.layers.StackedRNNCells``), the form KerasLMU users know as
``keras_lmu.LMUCell`` (renamed so it does not clash with the Nengo network
`nengo_lmu.networks.LMUCell`). `.LMUCore` (in `nengo_lmu.dl.lmu_core`) holds what the cell and the sequence layer
`.LMULayer` share: the options, the weights and one step, so the two compute
the same step with the same weights.

One step, with ``d_x`` and ``d_r`` the dropout masks (ones at inference)::

    u[t] = e_x (d_x x[t]) + e_h (d_r h[t-1]) + e_m (d_r m[t-1]) + b_u
    m[t] = Ad m[t-1] + Bd u[t]
    h[t] = hidden([m[t], x[t]], h[t-1])

where the default hidden part is ``f(W_m m[t] + W_x (d_x x[t]) +
W_h (d_r h[t-1]) + b_h)``.
"""

import inspect

from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import bind, signature
from nengo_lmu.dl.compat import (
    DropoutCell,
    cell_input_mask,
    cell_recurrent_mask,
    keras,
    ops,
    prepare_dropout_masks,
    register,
    seed_generator,
)
from nengo_lmu.dl.lmu_core import LMUCore, is_rnn_cell, state_sizes
from nengo_lmu.validation import check_int


@register
class LMUKerasCell(DropoutCell, LMUCore, keras.layers.Layer):
    """One step of the LMU, as a Keras RNN cell.

    Use it inside ``keras.layers.RNN`` (or a stack of cells): it is the cell
    KerasLMU calls ``LMUCell``, with the equations, options and weights of
    `.LMULayer` (module docstring). `.LMULayer` runs the same recurrence over
    whole sequences, in parallel where it can; the two give the same outputs
    with the same weights (``cell.set_weights(layer.get_weights())``).

    The states are ``[m, *hidden states]``: ``[m, h]`` for the default hidden
    layer or a Keras layer, ``[m]`` with ``hidden_cell=None`` and ``[m, h,
    c]`` with an ``LSTMCell``. ``dropout`` masks the input and
    ``recurrent_dropout`` the fed-back ``h`` and ``m``, with one mask per
    sequence (as Keras' own cells).

    Parameters
    ----------
    units, order, theta, memory_d, ...
        As `.LMULayer` (``units`` may be None when a ``hidden_cell`` gives
        the size).

    Examples
    --------
    >>> cell = LMUKerasCell(units=20, order=8, theta=16)
    >>> y = keras.layers.RNN(cell)(ops.ones((2, 30, 3)))
    >>> tuple(y.shape)
    (2, 20)
    """

    def __init__(self, *args, **kwargs):
        # the arguments are the cell's options (one table, in
        # nengo_lmu.cell_options), input_d, and Keras' own
        options, rest = bind("keras", args, kwargs, extra=("input_d",))
        input_d = options.pop("input_d", None)
        super().__init__(**rest)
        self.init_options(options)
        self.input_d = None if input_d is None else check_int("input_d", input_d, self)
        self.seed_generator = seed_generator(self.seed)
        # keras.layers.RNN reads state_size before building the cell
        self._set_sizes(self.input_d)

    def _set_sizes(self, input_d):
        if self.default_hidden:
            out, hs = self.units, [self.units]
        elif self.hidden_cell is None:
            if input_d is None and self.input_to_hidden:
                raise ValidationError(
                    "must be given when hidden_cell=None and input_to_hidden=True "
                    "(the output includes the input)",
                    attr="input_d",
                    obj=self,
                )
            out, hs = self.hidden_input_size(input_d or 0), []
        elif is_rnn_cell(self.hidden_cell):
            out = self.hidden_cell.output_size
            hs = state_sizes(self.hidden_cell)
        else:
            out = getattr(self.hidden_cell, "units", None)
            if out is None:
                raise ValidationError(
                    "a hidden_cell that is not an RNN cell needs a `units` attribute "
                    "in LMUKerasCell (its output size must be known before build)",
                    attr="hidden_cell",
                    obj=self,
                )
            hs = [out]
        self.state_size = [self.memory_d * self.order] + list(hs)
        self.output_size = out

    def build(self, input_shape):
        input_d = int(input_shape[-1])
        if self.input_d is not None and input_d != self.input_d:
            raise ValidationError(
                f"is {self.input_d} but the input has {input_d} features",
                attr="input_d",
                obj=self,
            )
        self.build_weights(input_d)
        self._set_sizes(input_d)
        super().build(input_shape)

    def fed_back_size(self):
        """Size of ``[h, m]`` as fed back into ``u`` (what
        ``recurrent_dropout`` masks; 0 if nothing is)."""
        n = self.state_size[1] if self.feeds_back_h() else 0
        return n + (self.memory_d * self.order if self.memory_to_memory else 0)

    def get_dropout_mask(self, step_input):
        """Keras 3's cached input mask; also draws a Keras ``hidden_cell``'s
        masks (``keras.layers.RNN`` draws only this cell's before its loop,
        and JAX cannot draw inside it)."""
        mask = super().get_dropout_mask(step_input)
        if self.hidden_cell is not None and not self.default_hidden:
            batch = ops.shape(step_input)[0]
            dtype = step_input.dtype
            h_in = ops.zeros((batch, self.hidden_input_size(self.input_d)), dtype=dtype)
            h0 = (
                ops.zeros((batch, self.state_size[1]), dtype=dtype)
                if self.state_size[1:]
                else h_in
            )
            prepare_dropout_masks(self.hidden_cell, h_in, h0)
        return mask

    def get_recurrent_dropout_mask(self, step_input):
        """Keras 3's cached recurrent mask, over ``[h, m]`` (Keras 3 would
        draw it in the shape of the first state; tf.keras 2 does not call
        this)."""
        if getattr(self, "_recurrent_dropout_mask", None) is None:
            size = self.fed_back_size()
            self._recurrent_dropout_mask = (
                keras.random.dropout(
                    ops.ones((ops.shape(step_input)[0], size), dtype=step_input.dtype),
                    rate=self.recurrent_dropout,
                    seed=self.seed_generator,
                )
                if self.recurrent_dropout > 0 and size
                else None
            )
        return self._recurrent_dropout_mask

    def call(self, inputs, states, training=None):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        m, h_states = states[0], states[1:]
        inputs = ops.cast(inputs, m.dtype)
        x_mask = cell_input_mask(self, inputs, training) if self.dropout > 0 else None
        h_mask = m_mask = None
        fed_back = ([h_states[0]] if self.feeds_back_h() else []) + (
            [m] if self.memory_to_memory else []
        )
        if self.recurrent_dropout > 0 and fed_back:
            # one mask over [h, m], fixed over the sequence (Keras caches it)
            mask = cell_recurrent_mask(self, ops.concatenate(fed_back, axis=1), training)
            if mask is not None:
                n_h = fed_back[0].shape[-1] if self.feeds_back_h() else 0
                h_mask = mask[:, :n_h] if self.feeds_back_h() else None
                m_mask = mask[:, n_h:] if self.memory_to_memory else None
        if self.trainable_memory:
            memory = (ops.cast(self.kernels["Ad"], m.dtype), ops.cast(self.kernels["Bd"], m.dtype))
        else:
            memory = self.memory_matrices(m.dtype)
        o, m, hs = self.lmu_step(inputs, m, h_states, memory, (x_mask, h_mask, m_mask), training)
        return o, [m] + list(hs)

    def reset_dropout_mask(self):
        super().reset_dropout_mask()
        if isinstance(self.hidden_cell, DropoutCell):
            self.hidden_cell.reset_dropout_mask()

    def reset_recurrent_dropout_mask(self):
        super().reset_recurrent_dropout_mask()
        if isinstance(self.hidden_cell, DropoutCell):
            self.hidden_cell.reset_recurrent_dropout_mask()

    def get_config(self):
        config = super().get_config()
        config.update(self.options_config())
        config["input_d"] = self.input_d
        return config


LMUKerasCell.__init__.__signature__ = signature(
    "keras",
    after=[inspect.Parameter("input_d", inspect.Parameter.KEYWORD_ONLY, default=None)],
)

__all__ = ["LMUKerasCell"]
