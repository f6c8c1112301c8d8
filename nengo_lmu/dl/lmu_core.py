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

import inspect

import numpy as np
import tensorflow as tf
from nengo.exceptions import ValidationError

from nengo_lmu.dl.memory import check_theta_steps, discrete_memory
from nengo_lmu.networks.weights import HIDDEN_ACTIVATIONS, INITIALIZERS, initial_weights
from nengo_lmu.systems import (
    DISCRETIZERS,
    check_order,
    euler_min_theta,
    legendre_system,
)
from nengo_lmu.validation import check_bool, check_choice, check_int

#: Hidden nonlinearities of the default hidden layer
ACTIVATIONS = tuple(HIDDEN_ACTIVATIONS)
TF_ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}

#: ``hidden_cell`` value meaning the built-in fully connected layer
DEFAULT_HIDDEN = "default"


def check_initializer(name, value, obj=None):
    """One of nengo_lmu's numpy initializers (`INITIALIZERS`, drawn as
    `.LMUCell` draws them), or anything ``keras.initializers.get`` takes
    (a name such as ``"orthogonal"``, an object, a config dict)."""
    if isinstance(value, str) and value in INITIALIZERS:
        return value
    try:
        tf.keras.initializers.get(value)
    except (ValueError, TypeError) as e:
        raise ValidationError(
            f"must be one of {INITIALIZERS} or a Keras initializer (object or "
            f"name), got {value!r} ({e})",
            attr=name,
            obj=obj,
        ) from None
    if isinstance(value, dict):
        return tf.keras.initializers.deserialize(value)
    return value


def check_regularizer(name, value, obj=None):
    """None, or a Keras regularizer (object, name or config dict)."""
    if value is None:
        return None
    try:
        return tf.keras.regularizers.get(value)
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
        value = tf.keras.layers.deserialize(value)
    if not isinstance(value, tf.keras.layers.Layer):
        raise ValidationError(
            f"must be 'default' (the built-in fully connected layer), None (the "
            f"memory alone) or a Keras layer or RNN cell, got {value!r}",
            attr="hidden_cell",
            obj=obj,
        )
    if isinstance(value, tf.keras.layers.RNN):
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


def dropout_mask(shape, rate, training, dtype):
    """A Keras-scaled dropout mask (``0`` or ``1 / (1 - rate)``), or None
    where there is no dropout (rate 0, or not training)."""
    if rate == 0 or training is None or training is False:
        return None
    mask = tf.nn.dropout(tf.ones(shape, dtype=dtype), rate=rate)
    if tf.is_tensor(training):
        mask = tf.cond(
            tf.cast(training, tf.bool), lambda: mask, lambda: tf.ones(shape, dtype=dtype)
        )
    return mask


def _mask(v, mask):
    return v if mask is None else v * mask


def _transposed(initializer):
    """A Keras initializer for a ``(post, pre)`` kernel: Keras reads the
    first axis of a 2-D shape as fan-in, so draw ``(pre, post)`` and
    transpose."""

    def init(shape, dtype=None, **kwargs):
        if len(shape) != 2:
            return initializer(shape, dtype=dtype, **kwargs)
        return tf.transpose(initializer((shape[1], shape[0]), dtype=dtype, **kwargs))

    return init


def theta_inv_constraint(order, discretizer):
    """Keep a trained ``1/theta`` valid: non-negative, and for Euler inside
    the stable range (``theta > euler_min_theta(order)``, the one Euler
    rule), since an optimiser's step can cross it (Adam moves ``1/theta`` by
    about its learning rate per step: from theta 7000 to ~900 at 1e-3)."""
    if discretizer != "euler":
        return tf.keras.constraints.NonNeg()
    upper = 1.0 / (euler_min_theta(order) * (1 + 1e-6))
    return lambda w: tf.clip_by_value(w, 0.0, tf.cast(upper, w.dtype))


class LMUCore:
    """What `.LMULayer` and `LMUKerasCell` share: options, weights, one step.

    Not a layer by itself; the classes that mix it in are Keras layers.
    """

    def init_options(
        self,
        units,
        order,
        theta,
        memory_d,
        hidden_activation,
        hidden_to_memory,
        memory_to_memory,
        input_to_hidden,
        hidden_to_hidden,
        trainable_memory,
        kernel_initializer,
        recurrent_initializer,
        encoder_initializer,
        seed,
        discretizer,
        hidden_cell,
        trainable_theta,
        use_bias,
        bias_initializer,
        kernel_regularizer,
        recurrent_regularizer,
        bias_regularizer,
        dropout,
        recurrent_dropout,
    ):
        """Validate and store the options (call from ``__init__``)."""
        self.order = check_order(order, obj=self)
        self.theta_init = check_theta_steps(theta, self)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS, self)
        self.memory_d = check_int("memory_d", memory_d, self)
        self.hidden_cell = check_hidden_cell(hidden_cell, self)
        if self.hidden_cell is DEFAULT_HIDDEN or self.hidden_cell == DEFAULT_HIDDEN:
            self.units = check_int("units", units, self)
        else:
            self.units = None if units is None else check_int("units", units, self)
        self.hidden_activation = check_choice(
            "hidden_activation", hidden_activation, ACTIVATIONS, self
        )
        for name, value in dict(
            hidden_to_memory=hidden_to_memory,
            memory_to_memory=memory_to_memory,
            input_to_hidden=input_to_hidden,
            hidden_to_hidden=hidden_to_hidden,
            trainable_memory=trainable_memory,
            trainable_theta=trainable_theta,
            use_bias=use_bias,
        ).items():
            setattr(self, name, check_bool(name, value, self))
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
        for name, value in dict(
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            encoder_initializer=encoder_initializer,
            bias_initializer=bias_initializer,
        ).items():
            setattr(self, name, check_initializer(name, value, self))
        for name, value in dict(
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
        ).items():
            setattr(self, name, check_regularizer(name, value, self))
        self.dropout = check_rate("dropout", dropout, self)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout, self)
        if seed is not None:
            seed = check_int("seed", seed, self, minimum=0)
        self.seed = seed
        # the one Euler rule (refuses an unstable memory, warns an inaccurate
        # one) and the cached (Ad, Bd)
        discrete_memory(self.order, self.theta_init, self.discretizer)
        self.theta_inv = None
        self.kernels = {}

    def init_options_from(self, values, **overrides):
        """`init_options` with the arguments of the caller's ``__init__``.

        ``values`` is that ``__init__``'s ``locals()`` taken first thing, so
        the classes that mix `LMUCore` in keep their explicit signatures
        without a second copy of the option list; ``overrides`` take
        precedence (`.LMULayer` passes its validated ``discretizer``).
        """
        names = list(inspect.signature(LMUCore.init_options).parameters)[1:]
        self.init_options(**{n: overrides[n] if n in overrides else values[n] for n in names})

    @property
    def default_hidden(self):
        """True for the built-in fully connected hidden layer."""
        return isinstance(self.hidden_cell, str)

    @property
    def theta(self):
        """The window in steps: the trained one when ``trainable_theta``."""
        if getattr(self, "trainable_theta", False) and self.theta_inv is not None:
            return float(1.0 / self.theta_inv.numpy())
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
            return int(out), [int(s) for s in tf.nest.flatten(self.hidden_cell.state_size)]
        shape = self.hidden_cell.compute_output_shape(
            tf.TensorShape([None, self.hidden_input_size(input_d)])
        )
        return int(shape[-1]), [int(shape[-1])]

    # --- weights ---------------------------------------------------------

    def build_weights(self, input_d):
        """Create every weight (call from ``build``); sets ``units``."""
        self.input_d = input_d
        if not self.default_hidden:
            hidden_in = self.hidden_input_size(input_d)
            if self.hidden_cell is not None and not self.hidden_cell.built:
                with tf.name_scope(self.hidden_cell.name):
                    self.hidden_cell.build(tf.TensorShape([None, hidden_in]))
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
                init = tf.keras.initializers.Constant(value)
            else:
                init = _transposed(tf.keras.initializers.get(kind))
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
                    initializer=tf.keras.initializers.Constant(value),
                )
        if self.use_bias:
            bias_init = tf.keras.initializers.get(self.bias_initializer)
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
                initializer=tf.keras.initializers.Constant(1.0 / self.theta_init),
                constraint=theta_inv_constraint(self.order, self.discretizer),
            )

    def dense(self, name, x):
        """``x @ W^T`` for a ``(post, pre)`` kernel, on the last axis."""
        w = tf.cast(self.kernels[name], x.dtype)
        if x.shape.rank == 2:
            return tf.linalg.matmul(x, w, transpose_b=True)
        return tf.einsum("bti,oi->bto", x, w)

    def bias(self, name, dtype):
        return tf.cast(self.kernels[name], dtype) if name in self.kernels else None

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
            return tf.constant(Ad, dtype=dtype), tf.constant(Bd, dtype=dtype)
        sys = legendre_system(q, 1.0)
        A = tf.constant(sys.A, dtype=dtype)
        B = tf.constant(sys.B[:, 0], dtype=dtype)
        s = tf.cast(self.theta_inv, dtype)
        if self.discretizer == "euler":
            return tf.eye(q, dtype=dtype) + s * A, s * B
        aug = tf.concat([tf.concat([A, B[:, None]], axis=1), tf.zeros((1, q + 1), dtype)], axis=0)
        e = tf.linalg.expm(s * aug)
        return e[:q, :q], e[:q, q]

    # --- one step (the reference) ----------------------------------------

    def lmu_step(self, x_t, m, h_states, memory, masks=(None, None, None), training=None):
        """One step of the LMU: returns ``(output, m, hidden states)``.

        ``memory`` is `memory_matrices` (or, with ``trainable_memory``, the
        full ``(Ad, Bd)`` kernels); ``masks`` are the dropout masks of the
        input, the fed-back ``h`` and the fed-back ``m`` (None: no dropout).
        """
        x_mask, h_mask, m_mask = masks
        f = TF_ACTIVATIONS[self.hidden_activation]
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
            m = tf.linalg.matmul(m, Ad, transpose_b=True) + tf.linalg.matmul(
                u, Bd, transpose_b=True
            )
        else:
            q, md = self.order, self.memory_d
            m3 = tf.reshape(m, (-1, md, q))
            m3 = tf.linalg.matmul(m3, Ad, transpose_b=True) + u[:, :, None] * Bd
            m = tf.reshape(m3, (-1, md * q))
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
        h_in = tf.concat([m, x_t], axis=1) if self.input_to_hidden else m
        if self.hidden_cell is None:
            return h_in, m, []
        if is_rnn_cell(self.hidden_cell):
            o, new = self.hidden_cell(h_in, list(h_states), training=training)
            return o, m, list(tf.nest.flatten(new))
        o = self.hidden_cell(h_in, training=training)
        return o, m, [o]

    def feeds_back_h(self):
        """The hidden state is fed back (so ``recurrent_dropout`` masks it)."""
        return self.hidden_to_memory or (self.default_hidden and self.hidden_to_hidden)

    def options_config(self):
        """The shared options as a ``get_config`` dict."""
        ser = tf.keras.layers.serialize
        return dict(
            units=self.units if self.default_hidden else None,
            order=self.order,
            theta=self.theta_init,
            memory_d=self.memory_d,
            hidden_activation=self.hidden_activation,
            hidden_to_memory=self.hidden_to_memory,
            memory_to_memory=self.memory_to_memory,
            input_to_hidden=self.input_to_hidden,
            hidden_to_hidden=self.hidden_to_hidden,
            trainable_memory=self.trainable_memory,
            kernel_initializer=serialize(self.kernel_initializer, tf.keras.initializers),
            recurrent_initializer=serialize(self.recurrent_initializer, tf.keras.initializers),
            encoder_initializer=serialize(self.encoder_initializer, tf.keras.initializers),
            seed=self.seed,
            discretizer=self.discretizer,
            hidden_cell=(
                self.hidden_cell
                if self.hidden_cell is None or self.default_hidden
                else ser(self.hidden_cell)
            ),
            trainable_theta=self.trainable_theta,
            use_bias=self.use_bias,
            bias_initializer=serialize(self.bias_initializer, tf.keras.initializers),
            kernel_regularizer=serialize(self.kernel_regularizer, tf.keras.regularizers),
            recurrent_regularizer=serialize(self.recurrent_regularizer, tf.keras.regularizers),
            bias_regularizer=serialize(self.bias_regularizer, tf.keras.regularizers),
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
        )
