"""L2MU: the Legendre Memory Unit as populations of spiking LIF neurons.

References
----------
.. [1] Leto, B., Urgese, G., Macii, E., & Fra, V. (2025). A LIF-based Legendre
   Memory Unit as neuromorphic state space model benchmarked on a
   second-long spatio-temporal task. NICE 2025.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.spiking_classifier import SpikingClassifier
from nengo_lmu.networks.weights import initial_weights
from nengo_lmu.systems import legendre_system
from nengo_lmu.validation import check_int, check_positive

#: The two hyper-parameter sets of Leto et al. (2025) (event-based Braille, 24 input
#: channels). "m population size" in the paper's table is ``memory_size``
#: here (the u population; the m population has ``memory_size * order``
#: neurons): with 24 inputs and 27 classes this gives 489,760 weights, the
#: paper's 4.9e5 (the 7-class set gives 121,300 against the reported 1.19e5).
#: ``learning_rate`` and ``minibatch_size`` are training settings, the rest
#: are `L2MU` arguments.
PRESETS = {
    "braille27": dict(
        memory_size=250,
        order=4,
        theta=7.0,
        hidden_size=160,
        beta_u=0.65,
        threshold_u=0.1,
        beta_h=0.15,
        threshold_h=0.75,
        beta_m=0.35,
        threshold_m=0.4,
        beta_out=0.15,
        threshold_out=0.1,
        learning_rate=4e-4,
        minibatch_size=64,
    ),
    "braille7": dict(
        memory_size=70,
        order=7,
        theta=10.0,
        hidden_size=120,
        beta_u=0.8,
        threshold_u=0.2,
        beta_h=0.45,
        threshold_h=0.65,
        beta_m=0.2,
        threshold_m=0.4,
        beta_out=0.6,
        threshold_out=0.15,
        learning_rate=1.45e-3,
        minibatch_size=64,
    ),
}
TRAINING_KEYS = ("learning_rate", "minibatch_size")


def preset(name):
    """The hyper-parameters of preset ``name`` (a copy of `PRESETS` entry)."""
    if name not in PRESETS:
        raise ValidationError(f"must be one of {tuple(PRESETS)}, got {name!r}", attr="preset")
    return dict(PRESETS[name])


def xavier_normal(fan_out, fan_in):
    """Glorot/Xavier normal: standard deviation ``sqrt(2 / (fan_in + fan_out))``."""
    return nengo.dists.Gaussian(0.0, np.sqrt(2.0 / (fan_in + fan_out)))


def _block_diagonal(block, n):
    """``kron(eye(n), block)`` as a `nengo.transforms.Sparse` transform."""
    rows, cols = np.nonzero(np.ones_like(block))
    r, c = block.shape
    k = np.arange(n)[:, None]
    indices = np.stack([(k * r + rows).ravel(), (k * c + cols).ravel()], axis=1)
    data = np.tile(block[rows, cols], n)
    return nengo.transforms.Sparse((n * r, n * c), indices=indices, init=data)


class L2MU(SpikingClassifier):
    """The LIF-based Legendre Memory Unit [1]_ as a spiking nengo network.

    Four populations of `.DiscreteLIF` neurons, each with its own ``beta``
    and ``threshold``, that communicate only by spikes (0/1)::

        I_u[t] = e_x s_x[t] + e_h s_h[t-1] + e_m s_m[t-1]        (memory_size)
        I_m[t] = Ad s_m[t-1] + Bd s_u[t]          per memory row (memory_size x order)
        I_h[t] = W_x s_x[t] + W_h s_h[t-1] + W_m s_m[t]          (hidden_size)
        I_o[t] = W_o s_h[t]                                       (n_classes)

    and the class scores are the spike counts ``sum_t s_o[t]``. ``Ad`` and
    ``Bd`` are the zero-order-hold discretisation (step = 1 sample) of the
    Legendre delay system of ``order`` and window ``theta``; they are fixed,
    and ``Ad`` acts in its proper orientation (row ``i`` of ``I_m`` is
    ``sum_j Ad[i, j] s_m[j]``; the published code applies ``Ad`` transposed).
    Neuron ``r * order + k`` of ``m`` is coefficient ``k`` of memory row
    ``r``. Encoders ``e_x``, ``e_h`` start LeCun-uniform and ``e_m`` at zero;
    kernels ``W_x``, ``W_h``, ``W_m``, ``W_o`` start Xavier-normal; NengoDL
    trains them and (``learn_neuron_params``) each population's ``beta`` and
    ``threshold`` (`nengo_lmu.dl.train_spiking_classifier`).

    Parameters
    ----------
    n_inputs : int
        Event channels of the input.
    n_classes : int
        Classes (neurons of ``out``).
    memory_size : int
        Neurons of ``u`` (memory rows).
    order : int
        Legendre coefficients per memory row.
    theta : float
        Memory window in steps (> 1).
    hidden_size : int
        Neurons of ``h``.
    beta_u, threshold_u, beta_m, threshold_m, beta_h, threshold_h, beta_out, threshold_out
        Initial decay (in [0, 1]) and threshold (> 0) of each population.
    learn_neuron_params : bool
        Let NengoDL train ``beta`` and ``threshold``. This and the options
        below it are keyword only (`.SpikingClassifier` takes them for
        `L2MU` and `RecurrentLIF` alike).
    surrogate_alpha : float
        Width parameter of the ATan surrogate gradient.
    reset, min_voltage
        Of every population's `.DiscreteLIF` (``"subtract"`` and no
        clipping: L2MU; ``"zero"`` and a finite ``min_voltage``: what
        Loihi's LIF compartments do, see `build_lif_copies`).
    chip_timing : bool
        Give every connection a one-step delay (``synapse=0``), as every
        connection has on Loihi; the equations above then read ``[t-1]``
        for every term. Allow a few extra steps (zeros) at the end of each
        sequence for the last input to reach ``out``.
    dt : float
        The simulator's step: spikes carry ``amplitude=dt``, so the network
        must run at this step (building it in a simulator with another
        ``dt`` raises a `nengo.exceptions.BuildError`, see
        `nengo_lmu.networks.dt_check`).
    seed : int, optional
        Seeds the initial weights.
    label, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    input : nengo.Node
        ``x`` (for NengoDL, feed it ``(batch, n_steps, n_inputs)`` events).
    u, m, h, out : nengo.Ensemble
        The populations (``populations`` has them by name).
    probe : nengo.Probe
        Spikes of ``out`` (the class scores are their sum over time).
    weights : dict
        Trainable connections by name: ``e_x e_h e_m W_x W_h W_m W_o``.
    memory_weights : dict
        The fixed ``Ad`` and ``Bd`` connections.
    Ad, Bd : ndarray
        The discrete memory matrices, ``(order, order)`` and ``(order, 1)``.

    References
    ----------
    .. [1] Leto, B., Urgese, G., Macii, E., & Fra, V. (2025). A LIF-based
       Legendre Memory Unit as neuromorphic state space model benchmarked on
       a second-long spatio-temporal task. NICE 2025.
    """

    def __init__(
        self,
        n_inputs,
        n_classes,
        memory_size,
        order,
        theta,
        hidden_size,
        beta_u=0.8,
        threshold_u=0.2,
        beta_m=0.2,
        threshold_m=0.4,
        beta_h=0.45,
        threshold_h=0.65,
        beta_out=0.6,
        threshold_out=0.15,
        **options,
    ):
        keys = ("memory_size", "order", "theta", "hidden_size")
        super().__init__(n_inputs, n_classes, keys, **options)
        self.memory_size = check_int("memory_size", memory_size, self)
        self.order = check_int("order", order, self)
        self.hidden_size = check_int("hidden_size", hidden_size, self)
        self.theta = check_positive("theta", theta, obj=self)
        if self.theta <= 1:
            raise ValidationError(
                f"must be > 1 step (the memory is discretised at 1 step), got {theta}",
                attr="theta",
                obj=self,
            )
        dsys = legendre_system(self.order, self.theta).discretize(1.0, "zoh")
        self.Ad, self.Bd = dsys.A, dsys.B
        rng = np.random.RandomState(self.seed)
        M, q, H = self.memory_size, self.memory_size * self.order, self.hidden_size
        with self:
            self._setup()
            w = self._initial_weights(rng)
            self.u = self._population("u", M, beta_u, threshold_u)
            self.m = self._population("m", q, beta_m, threshold_m)
            self.h = self._population("h", H, beta_h, threshold_h)
            self.out = self._population("out", self.n_classes, beta_out, threshold_out)
            self._connect_populations(w)
            self.probe = nengo.Probe(self.out.neurons, synapse=None, label="out spikes")

    def _initial_weights(self, rng):
        """The trained weights' initial values, drawn from ``rng`` in order."""
        M, q, H = self.memory_size, self.memory_size * self.order, self.hidden_size
        n_in, C = self.n_inputs, self.n_classes
        return dict(
            e_x=initial_weights("lecun_uniform", (M, n_in), rng),
            e_h=initial_weights("lecun_uniform", (M, H), rng),
            e_m=np.zeros((M, q)),
            W_x=initial_weights(xavier_normal(H, n_in), (H, n_in), rng),
            W_h=initial_weights(xavier_normal(H, H), (H, H), rng),
            W_m=initial_weights(xavier_normal(H, q), (H, q), rng),
            W_o=initial_weights(xavier_normal(C, H), (C, H), rng),
        )

    def _connect_populations(self, w):
        """The connections (weights ``w`` by name; ``Ad`` and ``Bd`` fixed)."""
        M = self.memory_size
        x, u, m, h, o = (
            self.input,
            self.u.neurons,
            self.m.neurons,
            self.h.neurons,
            self.out.neurons,
        )
        # synapse=None: same step; synapse=0: the previous step's spikes
        self._connect("e_x", x, u, w["e_x"], None)
        self._connect("e_h", h, u, w["e_h"], 0)
        self._connect("e_m", m, u, w["e_m"], 0)
        # block diagonal (one block per memory row), stored sparse
        self.memory_weights = {
            "Ad": self._connect("Ad", m, m, _block_diagonal(self.Ad, M), 0, trainable=False),
            "Bd": self._connect("Bd", u, m, _block_diagonal(self.Bd, M), None, trainable=False),
        }
        self._connect("W_x", x, h, w["W_x"], None)
        self._connect("W_h", h, h, w["W_h"], 0)
        self._connect("W_m", m, h, w["W_m"], None)
        self._connect("W_o", h, o, w["W_o"], None)

    @classmethod
    def from_preset(cls, name, n_inputs, n_classes, **overrides):
        """An `L2MU` with the hyper-parameters of `PRESETS` ``[name]``
        (``"braille27"`` or ``"braille7"``); ``overrides`` replace any."""
        kwargs = {k: v for k, v in preset(name).items() if k not in TRAINING_KEYS}
        kwargs.update(overrides)
        return cls(n_inputs, n_classes, **kwargs)


class RecurrentLIF(SpikingClassifier):
    """A plain recurrent spiking network: the baseline L2MU is compared with.

    One recurrent population ``h`` and a readout population ``out``, both
    `.DiscreteLIF`, trained the same way as `L2MU`::

        I_h[t] = W_x s_x[t] + W_h s_h[t-1]
        I_o[t] = W_o s_h[t]

    Parameters
    ----------
    n_inputs, n_classes : int
        As for `L2MU`.
    hidden_size : int
        Neurons of ``h``.
    beta_h, threshold_h, beta_out, threshold_out
        Initial decay and threshold of each population.
    learn_neuron_params, surrogate_alpha, reset, min_voltage, chip_timing, dt
        As for `L2MU` (keyword only, as are the options below).
    seed, label, add_to_container
        As for `L2MU`.
    """

    def __init__(
        self,
        n_inputs,
        n_classes,
        hidden_size,
        beta_h=0.45,
        threshold_h=0.65,
        beta_out=0.6,
        threshold_out=0.15,
        **options,
    ):
        super().__init__(n_inputs, n_classes, ("hidden_size",), **options)
        self.hidden_size = check_int("hidden_size", hidden_size, self)
        rng = np.random.RandomState(self.seed)
        H = self.hidden_size
        with self:
            self._setup()
            n_in, C = self.n_inputs, self.n_classes
            self.h = self._population("h", H, beta_h, threshold_h)
            self.out = self._population("out", C, beta_out, threshold_out)
            self._connect(
                "W_x",
                self.input,
                self.h.neurons,
                initial_weights(xavier_normal(H, n_in), (H, n_in), rng),
                None,
            )
            self._connect(
                "W_h",
                self.h.neurons,
                self.h.neurons,
                initial_weights(xavier_normal(H, H), (H, H), rng),
                0,
            )
            self._connect(
                "W_o",
                self.h.neurons,
                self.out.neurons,
                initial_weights(xavier_normal(C, H), (C, H), rng),
                None,
            )
            self.probe = nengo.Probe(self.out.neurons, synapse=None, label="out spikes")

    @staticmethod
    def hidden_size_for(n_parameters, n_inputs, n_classes, learn_neuron_params=True):
        """The largest ``hidden_size`` with at most ``n_parameters`` parameters."""
        extra = 4 if learn_neuron_params else 0

        def count(k):
            return k * (n_inputs + k + n_classes) + extra

        k = 1
        while count(k + 1) <= n_parameters:
            k += 1
        return k
