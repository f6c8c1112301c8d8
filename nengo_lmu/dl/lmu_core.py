"""What `.LMULayer` and `.LMUKerasCell` share (`LMUCore`), so the two
compute the same step with the same weights (names, shapes and creation
order), and the checks of their options:

- the options KerasLMU has: ``trainable_theta``, ``dropout`` and
  ``recurrent_dropout``, kernel / recurrent / bias regularizers,
  ``use_bias``, a ``hidden_cell`` that is any Keras layer or RNN cell (or
  None for the memory alone), and Keras initializer objects or names;
- the weights in nengo's ``(post, pre)`` orientation (``e_x``, ``e_h``,
  ``e_m``, ``W_x``, ``W_h``, ``W_m``, then ``Ad``/``Bd``, ``b_u``, ``b_h``,
  ``theta_inv``);
- one step of the recurrence (`LMUCore.lmu_step`), the reference that every
  parallel path is tested against (its equations: `nengo_lmu.dl.keras_cell`).
"""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import DEFAULT_HIDDEN, FLAGS, check_options, options_of
from nengo_lmu.dl.compat import expm, keras, matmul, ops, sigmoid, tanh, to_numpy
from nengo_lmu.dl.memory import check_theta_steps, discrete_memory
from nengo_lmu.networks.weights import HIDDEN_ACTIVATIONS, INITIALIZERS, initial_weights
from nengo_lmu.systems import (
    euler_min_theta,
    legendre_system,
)
from nengo_lmu.validation import check_choice

#: Hidden nonlinearities of the default hidden layer
ACTIVATIONS = tuple(HIDDEN_ACTIVATIONS)
#: ``keras.ops`` function of each activation
ACTIVATION_FUNCTIONS = {"tanh": tanh, "relu": ops.relu, "sigmoid": sigmoid}


def check_initializer(name, value, obj=None):
    """One of nengo_lmu's numpy initializers (`INITIALIZERS`, drawn as
    `.LMUCell` draws them), or anything ``keras.initializers.get`` takes
    (a name such as ``"orthogonal"``, an object, a config dict)."""
    if isinstance(value, str) and value in INITIALIZERS:
        return value
    try:
        keras.initializers.get(value)
    except (ValueError, TypeError) as e:
        raise ValidationError(
            f"must be one of {INITIALIZERS} or a Keras initializer (object or "
            f"name), got {value!r} ({e})",
            attr=name,
            obj=obj,
        ) from None
    if isinstance(value, dict):
        return keras.initializers.deserialize(value)
    return value


def check_regularizer(name, value, obj=None):
    """None, or a Keras regularizer (object, name or config dict)."""
    if value is None:
        return None
    try:
        return keras.regularizers.get(value)
    except (ValueError, TypeError) as e:
        raise ValidationError(
            f"must be None or a Keras regularizer, got {value!r} ({e})",
            attr=name,
            obj=obj,
        ) from None


def check_rate(name, value, obj=None):
    """A dropout rate in [0, 1)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not 0 <= value < 1
    ):
        raise ValidationError(f"must be a rate in [0, 1), got {value!r}", attr=name, obj=obj)
    return float(value)


def check_hidden_cell(value, obj=None):
    """``"default"``, None, or a Keras layer / RNN cell (or its config)."""
    if value is None or (isinstance(value, str) and value == DEFAULT_HIDDEN):
        return value
    if isinstance(value, dict):
        value = keras.layers.deserialize(value)
    if not isinstance(value, keras.layers.Layer):
        raise ValidationError(
            f"must be 'default' (the built-in fully connected layer), None (the "
            f"memory alone) or a Keras layer or RNN cell, got {value!r}",
            attr="hidden_cell",
            obj=obj,
        )
    if isinstance(value, keras.layers.RNN):
        raise ValidationError(
            "must be an RNN *cell* (e.g. keras.layers.LSTMCell), not a whole RNN "
            f"layer, got {type(value).__name__}",
            attr="hidden_cell",
            obj=obj,
        )
    return value


def serialize(value, module):
    """A config-safe form of an initializer / regularizer / layer option."""
    if value is None or isinstance(value, str):
        return value
    return module.serialize(value)


def is_rnn_cell(layer):
    """A Keras RNN cell (it has a ``state_size``)."""
    return hasattr(layer, "state_size")


def state_sizes(cell):
    """A Keras RNN cell's ``state_size`` as a list of ints."""
    size = cell.state_size
    return [int(s) for s in (size if isinstance(size, (list, tuple)) else [size])]


def flat_states(states):
    """An RNN cell's returned states as a flat list."""
    if isinstance(states, (list, tuple)):
        return [s for part in states for s in flat_states(part)]
    return [states]


def array_initializer(value):
    """A Keras initializer returning the numpy array ``value`` (the numpy
    draws of `.LMUCell`, the discretised memory)."""
    value = np.asarray(value)

    def init(shape, dtype=None, **kwargs):
        return ops.convert_to_tensor(np.reshape(value, shape), dtype=dtype)

    return init


def _mask(v, mask):
    return v if mask is None else v * mask


def _transposed(initializer):
    """A Keras initializer for a ``(post, pre)`` kernel: Keras reads the
    first axis of a 2-D shape as fan-in, so draw ``(pre, post)`` and
    transpose."""

    def init(shape, dtype=None, **kwargs):
        if len(shape) != 2:
            return initializer(shape, dtype=dtype, **kwargs)
        return ops.transpose(initializer((shape[1], shape[0]), dtype=dtype, **kwargs))

    return init


def theta_inv_constraint(order, discretizer):
    """Keep a trained ``1/theta`` valid: non-negative, and for Euler inside
    the stable range (``theta > euler_min_theta(order)``, the one Euler
    rule), since an optimiser's step can cross it (Adam moves ``1/theta`` by
    about its learning rate per step: from theta 7000 to ~900 at 1e-3)."""
    if discretizer != "euler":
        return keras.constraints.NonNeg()
    upper = 1.0 / (euler_min_theta(order) * (1 + 1e-6))
    return lambda w: ops.clip(w, 0.0, upper)


class LMUCore:
    """What `.LMULayer` and `LMUKerasCell` share: options, weights, one step.

    Not a layer by itself; the classes that mix it in are Keras layers.
    """

    def init_options(self, options):
        """Check and store the cell's options (call from ``__init__``).

        ``options`` holds every Keras option of `nengo_lmu.cell_options`
        (`nengo_lmu.cell_options.bind` makes it from the arguments).
        """
        self.theta_init = check_theta_steps(options["theta"], self)
        self.hidden_cell = check_hidden_cell(options["hidden_cell"], self)
        checked = check_options(dict(options, hidden_cell=self.hidden_cell), obj=self)
        for name in ("order", "memory_d", "discretizer", "seed") + FLAGS:
            setattr(self, name, checked[name])
        self.units = checked["units"]
        self.hidden_activation = check_choice(
            "hidden_activation", options["hidden_activation"], ACTIVATIONS, self
        )
        if self.hidden_cell is None and self.hidden_to_memory:
            raise ValidationError(
                "must be False when hidden_cell is None (there is no hidden state to feed back)",
                attr="hidden_to_memory",
                obj=self,
            )
        if self.trainable_theta and self.trainable_memory:
            raise ValidationError(
                "trainable_theta and trainable_memory cannot both be True (a learnt "
                "Ad, Bd has no theta)",
                attr="trainable_theta",
                obj=self,
            )
        for name in (
            "kernel_initializer",
            "recurrent_initializer",
            "encoder_initializer",
            "bias_initializer",
        ):
            setattr(self, name, check_initializer(name, options[name], self))
        for name in ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer"):
            setattr(self, name, check_regularizer(name, options[name], self))
        self.dropout = check_rate("dropout", options["dropout"], self)
        self.recurrent_dropout = check_rate(
            "recurrent_dropout", options["recurrent_dropout"], self
        )
        # the one Euler rule (refuses an unstable memory, warns an inaccurate
        # one) and the cached (Ad, Bd)
        discrete_memory(self.order, self.theta_init, self.discretizer)
        self.theta_inv = None
        self.kernels = {}

    @property
    def default_hidden(self):
        """True for the built-in fully connected hidden layer."""
        return isinstance(self.hidden_cell, str)

    @property
    def theta(self):
        """The window in steps: the trained one when ``trainable_theta``."""
        if getattr(self, "trainable_theta", False) and self.theta_inv is not None:
            return float(1.0 / to_numpy(self.theta_inv))
        return self.theta_init

    # --- sizes -----------------------------------------------------------

    def hidden_input_size(self, input_d):
        """Size of the hidden part's input ``[m, x]`` (or ``m``)."""
        return self.memory_d * self.order + (input_d if self.input_to_hidden else 0)

    def hidden_sizes(self, input_d):
        """``(output size, state sizes)`` of the hidden part."""
        if self.default_hidden:
            return self.units, [self.units]
        if self.hidden_cell is None:
            return self.hidden_input_size(input_d), []
        if is_rnn_cell(self.hidden_cell):
            out = self.hidden_cell.output_size
            return int(out), [int(s) for s in state_sizes(self.hidden_cell)]
        shape = self.hidden_cell.compute_output_shape((None, self.hidden_input_size(input_d)))
        return int(shape[-1]), [int(shape[-1])]

    # --- weights ---------------------------------------------------------

    def build_weights(self, input_d):
        """Create every weight (call from ``build``); sets ``units``."""
        self.input_d = input_d
        if not self.default_hidden:
            hidden_in = self.hidden_input_size(input_d)
            if self.hidden_cell is not None and not self.hidden_cell.built:
                self.hidden_cell.build((None, hidden_in))
            out, _ = self.hidden_sizes(input_d)
            if self.units is not None and self.units != out:
                raise ValidationError(
                    f"is {self.units} but the hidden_cell outputs {out} values",
                    attr="units",
                    obj=self,
                )
            self.units = out
        units, md, q = self.units, self.memory_d, self.memory_d * self.order
        rng = np.random.RandomState(self.seed)
        dflt = self.default_hidden
        # name, initializer attribute, shape, used, regularizer; the numpy
        # draws happen in this order whether used or not, as in LMUCell
        specs = [
            ("e_x", "encoder_initializer", (md, input_d), True, self.kernel_regularizer),
            (
                "e_h",
                "encoder_initializer",
                (md, units),
                self.hidden_to_memory,
                self.recurrent_regularizer,
            ),
            ("e_m", None, (md, q), self.memory_to_memory, self.recurrent_regularizer),
            (
                "W_x",
                "kernel_initializer",
                (units, input_d),
                dflt and self.input_to_hidden,
                self.kernel_regularizer,
            ),
            (
                "W_h",
                "recurrent_initializer",
                (units, units),
                dflt and self.hidden_to_hidden,
                self.recurrent_regularizer,
            ),
            ("W_m", "kernel_initializer", (units, q), dflt, self.kernel_regularizer),
        ]
        self.kernels = {}
        for name, attr, shape, used, regularizer in specs:
            kind = "zeros" if attr is None else getattr(self, attr)
            if isinstance(kind, str) and kind in INITIALIZERS:
                value = initial_weights(kind, shape, rng, attr=attr, obj=self)
                init = array_initializer(value)
            else:
                init = _transposed(keras.initializers.get(kind))
            if used:
                self.kernels[name] = self.add_weight(
                    name=name, shape=shape, initializer=init, regularizer=regularizer
                )
        if self.trainable_memory:
            Ad, Bd = discrete_memory(self.order, self.theta_init, self.discretizer)
            eye = np.eye(md)
            for name, value in (("Ad", np.kron(eye, Ad)), ("Bd", np.kron(eye, Bd[:, None]))):
                self.kernels[name] = self.add_weight(
                    name=name,
                    shape=value.shape,
                    initializer=array_initializer(value),
                )
        if self.use_bias:
            bias_init = keras.initializers.get(self.bias_initializer)
            self.kernels["b_u"] = self.add_weight(
                name="b_u",
                shape=(md,),
                initializer=bias_init,
                regularizer=self.bias_regularizer,
            )
            if dflt:
                self.kernels["b_h"] = self.add_weight(
                    name="b_h",
                    shape=(units,),
                    initializer=bias_init,
                    regularizer=self.bias_regularizer,
                )
        if self.trainable_theta:
            # 1 / theta, as KerasLMU stores it (non-negative)
            self.theta_inv = self.add_weight(
                name="theta_inv",
                shape=(),
                initializer=array_initializer(np.array(1.0 / self.theta_init)),
                constraint=theta_inv_constraint(self.order, self.discretizer),
            )

    def dense(self, name, x):
        """``x @ W^T`` for a ``(post, pre)`` kernel, on the last axis."""
        w = ops.cast(self.kernels[name], x.dtype)
        if len(x.shape) == 2:
            return matmul(x, ops.transpose(w))
        return ops.einsum("bti,oi->bto", x, w)

    def bias(self, name, dtype):
        return ops.cast(self.kernels[name], dtype) if name in self.kernels else None

    # --- the memory's matrices -------------------------------------------

    def memory_matrices(self, dtype):
        """``(Ad, Bd)`` of one channel as tensors, ``(q, q)`` and ``(q,)``.

        With ``trainable_theta`` they are re-discretised from ``theta_inv``
        in the graph (zoh: one matrix exponential of ``[[A, B], [0, 0]]``
        scaled by ``1/theta``; euler: ``I + A/theta``, ``B/theta``), so the
        gradient reaches ``theta_inv``.
        """
        q = self.order
        if not self.trainable_theta:
            Ad, Bd = discrete_memory(self.order, self.theta_init, self.discretizer)
            return (
                ops.convert_to_tensor(np.asarray(Ad), dtype=dtype),
                ops.convert_to_tensor(np.asarray(Bd), dtype=dtype),
            )
        sys = legendre_system(q, 1.0)
        A = ops.convert_to_tensor(sys.A, dtype=dtype)
        B = ops.convert_to_tensor(sys.B[:, 0], dtype=dtype)
        s = ops.cast(self.theta_inv, dtype)
        if self.discretizer == "euler":
            return ops.eye(q, dtype=dtype) + s * A, s * B
        aug = np.zeros((q + 1, q + 1))
        aug[:q, :q], aug[:q, q] = sys.A, sys.B[:, 0]
        e = expm(s * ops.convert_to_tensor(aug, dtype=dtype))
        return e[:q, :q], e[:q, q]

    # --- one step (the reference) ----------------------------------------

    def lmu_step(self, x_t, m, h_states, memory, masks=(None, None, None), training=None):
        """One step of the LMU: returns ``(output, m, hidden states)``.

        ``memory`` is `memory_matrices` (or, with ``trainable_memory``, the
        full ``(Ad, Bd)`` kernels); ``masks`` are the dropout masks of the
        input, the fed-back ``h`` and the fed-back ``m`` (None: no dropout).
        """
        x_mask, h_mask, m_mask = masks
        f = ACTIVATION_FUNCTIONS[self.hidden_activation]
        dtype = x_t.dtype
        xd = _mask(x_t, x_mask)
        u = self.dense("e_x", xd)
        if self.hidden_to_memory:
            u += self.dense("e_h", _mask(h_states[0], h_mask))
        if self.memory_to_memory:
            u += self.dense("e_m", _mask(m, m_mask))
        if self.use_bias:
            u += self.bias("b_u", dtype)
        Ad, Bd = memory
        if self.trainable_memory:
            m = matmul(m, ops.transpose(Ad)) + matmul(u, ops.transpose(Bd))
        else:
            q, md = self.order, self.memory_d
            m3 = ops.reshape(m, (-1, md, q))
            m3 = matmul(m3, ops.transpose(Ad)) + u[:, :, None] * Bd
            m = ops.reshape(m3, (-1, md * q))
        if self.default_hidden:
            pre = self.dense("W_m", m)
            if self.input_to_hidden:
                pre += self.dense("W_x", xd)
            if self.hidden_to_hidden:
                pre += self.dense("W_h", _mask(h_states[0], h_mask))
            if self.use_bias:
                pre += self.bias("b_h", dtype)
            h = f(pre)
            return h, m, [h]
        h_in = ops.concatenate([m, x_t], axis=1) if self.input_to_hidden else m
        if self.hidden_cell is None:
            return h_in, m, []
        if is_rnn_cell(self.hidden_cell):
            o, new = self.hidden_cell(h_in, list(h_states), training=training)
            return o, m, flat_states(new)
        o = self.hidden_cell(h_in, training=training)
        return o, m, [o]

    def feeds_back_h(self):
        """The hidden state is fed back (so ``recurrent_dropout`` masks it)."""
        return self.hidden_to_memory or (self.default_hidden and self.hidden_to_hidden)

    def options_config(self):
        """The cell's options as a ``get_config`` dict (every Keras option of
        `nengo_lmu.cell_options`)."""
        config = {}
        for option in options_of("keras"):
            value = getattr(self, option.name, None)
            if option.name == "theta":
                value = self.theta_init
            elif option.name == "units":
                value = self.units if self.default_hidden else None
            elif option.name == "hidden_cell":
                if not (value is None or self.default_hidden):
                    value = keras.layers.serialize(value)
            elif option.name.endswith("_initializer"):
                value = serialize(value, keras.initializers)
            elif option.name.endswith("_regularizer"):
                value = serialize(value, keras.regularizers)
            config[option.name] = value
        return config
