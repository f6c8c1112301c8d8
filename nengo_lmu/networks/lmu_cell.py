"""The full LMU cell (x, u, m, h) as a nengo network, trainable in NengoDL."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.dt_check import require_dt
from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.weights import add_trainable_config, cell_initial_weights
from nengo_lmu.systems import DISCRETIZERS
from nengo_lmu.validation import (
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_seed,
)


class LMUCell(nengo.Network):
    """A Legendre Memory Unit cell [1]_ as a nengo network.

    Each simulator step is one sample of the sequence: ``theta`` is in steps,
    and the memory is discretised with a step of one sample whatever the
    simulator's ``dt``. On step ``t``::

        u[t] = e_x x[t] + e_h h[t-1] + e_m m[t-1]
        m[t] = Ad m[t-1] + Bd u[t]
        h[t] = f(W_x x[t] + W_h h[t-1] + W_m m[t])

    where ``f`` is the ``hidden_neuron_type`` (``nengo.Tanh(tau_ref=1)``, i.e.
    ``tanh``, by default) of
    ``units`` neurons with unit gain and zero bias. The weights are the
    transforms of connections, so NengoDL trains them; ``Ad`` and ``Bd`` are
    marked non-trainable unless ``trainable_memory=True``.

    Parameters
    ----------
    units : int
        Hidden neurons.
    order : int
        Legendre coefficients per memory dimension.
    theta : float
        Memory window in steps (> 1).
    input_d : int
        Dimensions of ``x``.
    memory_d : int
        Dimensions of ``u`` (each gets its own memory).
    hidden_neuron_type : nengo.neurons.NeuronType
        Nonlinearity of ``h``: ``nengo.Tanh(tau_ref=1)`` (default; nengo's
        default ``tau_ref`` would scale tanh by 400), a rate type such as
        ``nengo.RectifiedLinear()`` or ``nengo.LIFRate()`` for training, and
        its spiking counterpart for inference.
    hidden_gain : float
        Gain of the hidden neurons. For spiking inference of a rate-trained
        cell, use ``SpikingRectifiedLinear(amplitude=1/g)`` with
        ``hidden_gain=g``: the rate is the same, and a larger ``g`` means
        more spikes per step and less quantisation.
    hidden_to_memory, memory_to_memory, input_to_hidden : bool
        Include ``e_h``, ``e_m`` and ``W_x`` (as in KerasLMU; ``h`` always
        sees the memory through ``W_m``).
    hidden_to_hidden : bool
        Include ``W_h`` (False gives a feed-forward hidden layer).
    discretizer : "zoh" or "euler"
        Discretisation of the memory.
    trainable_memory : bool
        Let NengoDL train ``Ad`` and ``Bd``.
    kernel_initializer, recurrent_initializer, encoder_initializer
        Initial ``W_x``/``W_m``, ``W_h``, and ``e_x``/``e_h``; see
        `initial_weights`. ``e_m`` starts at zero.
    label, seed, add_to_container
        As for `nengo.Network`; the seed also seeds the initial weights.

    Attributes
    ----------
    input : nengo.Node
        ``x``.
    u : nengo.Node
        ``u``, the memory's input node.
    output : nengo.ensemble.Neurons
        ``h``, the hidden neurons (connect from it to the next layer).
    memory : LegendreMemory
        The exact memory (``memory.output`` is ``m``).
    hidden : nengo.Ensemble
        The hidden neurons (``hidden.neurons``).
    weights : dict
        The weighted connections by name (``"e_x"``, ``"W_m"``, ...).
    memory_weights : dict
        The memory's ``"Ad"`` and ``"Bd"`` connections (trainable only with
        ``trainable_memory=True``).

    References
    ----------
    .. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
       Units: continuous-time representation in recurrent neural networks.
    """

    def __init__(
        self,
        units,
        order,
        theta,
        input_d=1,
        memory_d=1,
        hidden_neuron_type=None,
        hidden_gain=1.0,
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=True,
        hidden_to_hidden=True,
        discretizer="zoh",
        trainable_memory=False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="glorot_uniform",
        encoder_initializer="lecun_uniform",
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        check_seed("seed", seed, self)
        self.units = check_int("units", units, self)
        self.input_d = check_int("input_d", input_d, self)
        self.memory_d = check_int("memory_d", memory_d, self)
        self.hidden_gain = check_positive("hidden_gain", hidden_gain, obj=self)
        flags = dict(
            hidden_to_memory=hidden_to_memory,
            memory_to_memory=memory_to_memory,
            input_to_hidden=input_to_hidden,
            hidden_to_hidden=hidden_to_hidden,
            trainable_memory=trainable_memory,
        )
        for name, value in flags.items():
            setattr(self, name, check_bool(name, value, self))
        self.hidden_neuron_type = self._check_neuron_type(hidden_neuron_type)
        # checked here, not by the memory, so that the message names the
        # cell's own argument (the memory gets dt=1: theta is in steps)
        self.discretizer = check_choice("discretizer", discretizer, DISCRETIZERS, obj=self)
        theta = self._check_theta(theta)
        rng = np.random.RandomState(seed)
        q = self.memory_d * check_int("order", order, self)

        initializers = dict(
            encoder_initializer=encoder_initializer,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
        )
        weights = cell_initial_weights(rng, memory_d, input_d, units, q, initializers, obj=self)
        with self:
            add_trainable_config(self)
            self._build_layers(order, theta)
            self._connect(weights)

    def _check_neuron_type(self, hidden_neuron_type):
        """The hidden neuron type (``tanh`` by default), checked."""
        if hidden_neuron_type is None:
            hidden_neuron_type = nengo.Tanh(tau_ref=1.0)
        if not isinstance(hidden_neuron_type, nengo.neurons.NeuronType):
            raise ValidationError(
                f"must be a nengo NeuronType, got {hidden_neuron_type!r}",
                attr="hidden_neuron_type",
                obj=self,
            )
        return hidden_neuron_type

    def _check_theta(self, theta):
        """``theta``, checked: more than one step."""
        theta = check_positive("theta", theta, obj=self)
        if theta <= 1:
            raise ValidationError(
                f"must be > 1 step (theta is in steps; the memory is discretised at "
                f"one step), got {theta}",
                attr="theta",
                obj=self,
            )
        return theta

    def _build_layers(self, order, theta):
        """``x``, the memory ``m`` (its input node is ``u``) and the hidden
        neurons ``h`` (inside ``with self``)."""
        self.input = nengo.Node(size_in=self.input_d, label="x")
        self.memory = LegendreMemory(
            order,
            theta,
            size_in=self.memory_d,
            dt=1.0,
            discretizer=self.discretizer,
            label="m",
        )
        # one sample per simulator step whatever the simulator's dt (theta
        # is in steps), so the memory's own dt check does not apply
        require_dt(self.memory, None)
        self.hidden = nengo.Ensemble(
            self.units,
            1,
            neuron_type=self.hidden_neuron_type,
            gain=nengo.dists.Choice([self.hidden_gain]),
            bias=nengo.dists.Choice([0.0]),
            label="h",
        )
        # u is the memory's input node and h the neurons themselves:
        # no pass-through copies (each costs NengoDL an operator a step)
        self.u = self.memory.input
        self.output = self.hidden.neurons
        self.config[self.hidden].trainable = False  # encoders/biases unused

    def _connect(self, weights):
        """The weighted connections (``weights`` by name; those the flags
        leave out are not made) and the memory's trainability."""
        m = self.memory.output
        h = self.hidden.neurons
        self.weights = {}

        def connect(name, pre, post, synapse):
            self.weights[name] = nengo.Connection(
                pre, post, transform=weights[name], synapse=synapse
            )

        connect("e_x", self.input, self.u, None)
        if self.hidden_to_memory:
            connect("e_h", h, self.u, 0)
        if self.memory_to_memory:
            connect("e_m", m, self.u, 0)
        if self.input_to_hidden:
            connect("W_x", self.input, h, None)
        if self.hidden_to_hidden:
            connect("W_h", h, h, 0)
        connect("W_m", m, h, None)

        exact = self.memory.exact_connections
        self.memory_weights = {"Ad": exact["A"], "Bd": exact["B"]}
        trainable = list(self.memory_weights.values())
        for conn in self.memory.all_connections:
            self.config[conn].trainable = self.trainable_memory and (conn in trainable)

    @property
    def n_parameters(self):
        """Number of trainable weights (the memory's counted if trainable)."""
        n = sum(c.transform.init.size for c in self.weights.values())
        if self.trainable_memory:
            n += sum(c.transform.init.size for c in self.memory_weights.values())
        return n


def stack_cells(cells):
    """Connect LMU cells in sequence (``cells[i].output -> cells[i+1].input``).

    Each cell's ``input_d`` must equal the previous cell's ``units``. Call
    inside the network that should hold the connections. Returns the first
    cell's ``input`` and the last cell's ``output``.
    """
    cells = list(cells)
    if not cells:
        raise ValidationError("must contain at least one LMUCell", attr="cells")
    for i, (a, b) in enumerate(zip(cells[:-1], cells[1:])):
        if b.input_d != a.units:
            raise ValidationError(
                f"cell {i + 1} has input_d={b.input_d} but cell {i} has units={a.units}",
                attr="cells",
            )
        nengo.Connection(a.output, b.input, synapse=None)
    return cells[0].input, cells[-1].output
