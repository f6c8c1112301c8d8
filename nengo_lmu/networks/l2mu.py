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

from nengo_lmu.networks.classifier import SequenceInput, simulate_each
from nengo_lmu.networks.common import add_trainable_config, initial_weights, transform_matrix
from nengo_lmu.networks.dt_check import require_dt
from nengo_lmu.networks.saving import (
    check_kind,
    check_weight_names,
    read_network,
    save_network,
)
from nengo_lmu.neurons import DiscreteLIF, check_beta, check_threshold
from nengo_lmu.systems import legendre_system
from nengo_lmu.validation import check_int, check_positive, check_seed

#: The two hyper-parameter sets of [1]_ (event-based Braille, 24 input
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


class SpikingClassifier(nengo.Network):
    """Shared parts of the spiking sequence classifiers (`L2MU`, `RecurrentLIF`).

    Each simulator step is one event frame. Every population is
    `.DiscreteLIF` with ``amplitude=dt``, so the value passed between
    populations is the spike itself (0 or 1). The class scores are the
    spike counts of the ``out`` population over the whole sequence
    (``probe`` records its spikes every step).
    """

    #: Every subclass by name, for `load` (filled in as subclasses are made).
    subclasses = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        SpikingClassifier.subclasses[cls.__name__] = cls

    def _setup(
        self,
        n_inputs,
        n_classes,
        dt,
        surrogate_alpha,
        learn_neuron_params,
        reset="subtract",
        min_voltage=-np.inf,
        chip_timing=False,
    ):
        self.n_inputs = check_int("n_inputs", n_inputs, self)
        self.n_classes = check_int("n_classes", n_classes, self)
        self.dt = check_positive("dt", dt, obj=self)
        self.surrogate_alpha = check_positive("surrogate_alpha", surrogate_alpha, obj=self)
        if not isinstance(learn_neuron_params, (bool, np.bool_)):
            raise ValidationError(
                f"must be True or False, got {learn_neuron_params!r}",
                attr="learn_neuron_params",
                obj=self,
            )
        self.learn_neuron_params = bool(learn_neuron_params)
        # validated by the first DiscreteLIF built with them
        self.reset, self.min_voltage = reset, min_voltage
        if not isinstance(chip_timing, (bool, np.bool_)):
            raise ValidationError(
                f"must be True or False, got {chip_timing!r}", attr="chip_timing", obj=self
            )
        self.chip_timing = bool(chip_timing)
        # spikes carry amplitude=dt: at another step every current is scaled
        # by dt / sim.dt and the network computes something else, silently
        require_dt(
            self,
            self.dt,
            hint=(
                f"Make it with the simulator's dt (e.g. {type(self).__name__}.load(path, "
                f"dt=...)) or run the simulator at dt={self.dt:g}."
            ),
        )
        self.populations = {}
        self.weights = {}
        self.connection_info = {}  # name: (pre name, post name, Connection, trained)
        add_trainable_config(self)
        self._sequence = SequenceInput(self.n_inputs)
        self.input = nengo.Node(self._sequence, size_out=self.n_inputs, label="x")

    def _population(self, name, n, beta, threshold):
        beta = check_beta(beta, obj=self, attr=f"beta_{name}")
        threshold = check_threshold(threshold, obj=self, attr=f"threshold_{name}")
        ens = nengo.Ensemble(
            n,
            1,
            neuron_type=DiscreteLIF(
                beta,
                threshold,
                amplitude=self.dt,
                surrogate_alpha=self.surrogate_alpha,
                learnable=self.learn_neuron_params,
                reset=self.reset,
                min_voltage=self.min_voltage,
            ),
            gain=nengo.dists.Choice([1.0]),
            bias=nengo.dists.Choice([0.0]),
            label=name,
        )
        # inputs go straight to the neurons: encoders and biases are unused
        self.config[ens].trainable = False
        self.populations[name] = ens
        return ens

    def _connect(self, name, pre, post, w, synapse, trainable=True):
        if self.chip_timing:
            synapse = 0  # every connection takes one step, as on Loihi
        conn = nengo.Connection(pre, post, transform=w, synapse=synapse)
        names = {self.input: "x"}
        names.update({ens.neurons: k for k, ens in self.populations.items()})
        self.connection_info[name] = (names[pre], names[post], conn, trainable)
        if trainable:
            self.weights[name] = conn
        else:
            self.config[conn].trainable = False
        return conn

    @property
    def n_parameters(self):
        """Trained weights plus the learnable beta and threshold (2 per population)."""
        n = sum(np.size(c.transform.init) for c in self.weights.values())
        return int(n + (2 * len(self.populations) if self.learn_neuron_params else 0))

    @property
    def neuron_params(self):
        """``{population name: (beta, threshold)}``."""
        return {
            k: (ens.neuron_type.beta, ens.neuron_type.threshold)
            for k, ens in self.populations.items()
        }

    def set_neuron_params(self, params):
        """Set ``beta`` and ``threshold`` per population (e.g. after training)."""
        for name, (beta, threshold) in params.items():
            ens = self.populations[name]
            old = ens.neuron_type
            ens.neuron_type = DiscreteLIF(
                check_beta(beta, obj=self, attr=f"beta_{name}"),
                check_threshold(threshold, obj=self, attr=f"threshold_{name}"),
                amplitude=old.amplitude,
                surrogate_alpha=old.surrogate_alpha,
                learnable=old.learnable,
                reset=old.reset,
                min_voltage=old.min_voltage,
            )

    def get_weights(self):
        """``{name: matrix}`` of the trained connections."""
        return {k: np.array(c.transform.init) for k, c in self.weights.items()}

    def set_weights(self, weights):
        """Set trained connection matrices by name (shapes must match,
        values must be finite; nothing is changed unless all are right)."""
        unknown = sorted(set(weights) - set(self.weights))
        if unknown:
            raise ValidationError(
                f"unknown weights {unknown}; expected {sorted(self.weights)}",
                attr="weights",
                obj=self,
            )
        checked = {}
        for name, w in weights.items():
            conn = self.weights[name]
            w = np.asarray(w)
            if w.shape != np.shape(conn.transform.init):
                raise ValidationError(
                    f"weights[{name!r}] must have shape "
                    f"{np.shape(conn.transform.init)}, got {w.shape}",
                    attr="weights",
                    obj=self,
                )
            if w.dtype.kind not in "biuf" or not np.all(np.isfinite(w)):
                raise ValidationError(
                    f"weights[{name!r}] must be finite numbers", attr="weights", obj=self
                )
            checked[name] = w.astype(np.float64)
        for name, w in checked.items():
            self.weights[name].transform = nengo.Dense(w.shape, init=w)

    def run_sequences(self, x, simulator=None, probes=None, progress=None, **sim_kwargs):
        """Simulate each sequence from rest; the reference for NengoDL runs.

        Parameters
        ----------
        x : ndarray, shape (n, n_steps, n_inputs)
            Event sequences (0/1).
        simulator : callable, optional
            Simulator class (default `nengo.Simulator`).
        probes : dict, optional
            ``{name: probe}`` whose full records to return as well.
        progress : callable, optional
            Wraps the loop over sequences (e.g. ``tqdm.tqdm``).

        Returns
        -------
        counts : ndarray, shape (n, n_classes)
            Output spike counts per sequence.
        records : dict
            ``{name: (n, n_steps, size)}`` for ``probes``.
        """
        from nengo_lmu.validation import check_event_data

        x = check_event_data(x, self.n_inputs)
        sim_kwargs.setdefault("dt", self.dt)
        probes = {} if probes is None else probes
        counts = np.empty((len(x), self.n_classes))
        records = {k: [] for k in probes}
        runs = simulate_each(self, self._sequence, x, simulator, progress, **sim_kwargs)
        for i, sim in runs:
            # spikes are amplitude/dt = self.dt/sim.dt each
            counts[i] = np.sum(sim.data[self.probe], axis=0) * (sim.dt / self.dt)
            for k, p in probes.items():
                records[k].append(np.array(sim.data[p]))
        return counts, {k: np.stack(v) for k, v in records.items()}

    def config_dict(self):
        """The constructor arguments that rebuild this network (see `save`)."""
        return {k: getattr(self, k) for k in self._config_keys}

    def save(self, path):
        """Save constructor arguments, weights, ``beta`` and ``threshold``
        to an ``.npz`` file (`nengo_lmu.networks.saving`; the suffix is
        added where missing, as `load` adds it); `load` rebuilds the
        network. NaN or infinite weights are refused. Returns the path."""
        for name, (beta, threshold) in self.neuron_params.items():
            if not (np.isfinite(beta) and np.isfinite(threshold)):
                raise ValidationError(
                    f"population {name!r} has beta={beta}, threshold={threshold}: "
                    f"refusing to save",
                    attr="neuron_params",
                    obj=self,
                )
        return save_network(
            path,
            type(self).__name__,
            self.config_dict(),
            self.get_weights(),
            extra=dict(neuron_params=self.neuron_params),
        )

    @staticmethod
    def load(path, **overrides):
        """Rebuild a network saved with `save` (``overrides`` replace
        constructor arguments, e.g. ``dt``); files of earlier versions load."""
        kind, config, weights, extra = read_network(path)
        check_kind(path, kind, sorted(SpikingClassifier.subclasses))
        args = dict(config)
        args.update(overrides)
        net = SpikingClassifier.subclasses[kind](**args)
        check_weight_names(path, kind, weights, net.weights)
        params = extra.get("neuron_params", {})
        check_weight_names(path, f"{kind} (neuron parameters)", params, net.populations)
        net.set_weights(weights)
        net.set_neuron_params({k: tuple(v) for k, v in params.items()})
        return net

    def add_probes(self):
        """Probe the spikes of every population; returns ``{name: probe}``."""
        with self:
            return {
                k: nengo.Probe(ens.neurons, synapse=None, label=f"{k} spikes")
                for k, ens in self.populations.items()
            }

    def metrics(self, x, simulator=None, **sim_kwargs):
        """Accuracy-free NeuroBench-style measures of a run on ``x``.

        Runs every sequence of ``x`` from rest (`run_sequences`) with
        ``simulator``, records the spikes of every population, and returns
        `nengo_lmu.metrics.spiking_network_metrics` of that activity (with
        the learnable ``beta``/``threshold`` counted as parameters) plus
        the output spike ``counts``.
        """
        probes = self.add_probes()
        try:
            counts, rec = self.run_sequences(x, simulator=simulator, probes=probes, **sim_kwargs)
        finally:
            for p in probes.values():
                self.probes.remove(p)
        scale = self.dt / sim_kwargs.get("dt", self.dt)
        activity = {k: v / scale for k, v in rec.items()}
        activity["x"] = np.asarray(x)
        out = activity_metrics(self, activity)
        out["counts"] = counts
        return out

    def predict(self, x, **kwargs):
        """Predicted classes (argmax of spike counts; ties go to the lowest
        class) by the nengo reference simulation, see `run_sequences`."""
        return self.run_sequences(x, **kwargs)[0].argmax(axis=-1)


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
        Let NengoDL train ``beta`` and ``threshold``.
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
        learn_neuron_params=True,
        surrogate_alpha=2.0,
        reset="subtract",
        min_voltage=-np.inf,
        chip_timing=False,
        dt=0.001,
        seed=None,
        label=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        check_seed("seed", seed, self)
        self._config_keys = (
            "n_inputs",
            "n_classes",
            "memory_size",
            "order",
            "theta",
            "hidden_size",
            "learn_neuron_params",
            "surrogate_alpha",
            "dt",
            "reset",
            "min_voltage",
            "chip_timing",
        )
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
        rng = np.random.RandomState(seed)
        M, q, H = self.memory_size, self.memory_size * self.order, self.hidden_size

        with self:
            self._setup(
                n_inputs,
                n_classes,
                dt,
                surrogate_alpha,
                learn_neuron_params,
                reset,
                min_voltage,
                chip_timing,
            )
            n_in, C = self.n_inputs, self.n_classes
            w = dict(
                e_x=initial_weights("lecun_uniform", (M, n_in), rng),
                e_h=initial_weights("lecun_uniform", (M, H), rng),
                e_m=np.zeros((M, q)),
                W_x=initial_weights(xavier_normal(H, n_in), (H, n_in), rng),
                W_h=initial_weights(xavier_normal(H, H), (H, H), rng),
                W_m=initial_weights(xavier_normal(H, q), (H, q), rng),
                W_o=initial_weights(xavier_normal(C, H), (C, H), rng),
            )
            self.u = self._population("u", M, beta_u, threshold_u)
            self.m = self._population("m", q, beta_m, threshold_m)
            self.h = self._population("h", H, beta_h, threshold_h)
            self.out = self._population("out", C, beta_out, threshold_out)
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
                "Bd": self._connect(
                    "Bd", u, m, _block_diagonal(self.Bd, M), None, trainable=False
                ),
            }
            self._connect("W_x", x, h, w["W_x"], None)
            self._connect("W_h", h, h, w["W_h"], 0)
            self._connect("W_m", m, h, w["W_m"], None)
            self._connect("W_o", h, o, w["W_o"], None)
            self.probe = nengo.Probe(o, synapse=None, label="out spikes")

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
        As for `L2MU`.
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
        learn_neuron_params=True,
        surrogate_alpha=2.0,
        reset="subtract",
        min_voltage=-np.inf,
        chip_timing=False,
        dt=0.001,
        seed=None,
        label=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        check_seed("seed", seed, self)
        self._config_keys = (
            "n_inputs",
            "n_classes",
            "hidden_size",
            "learn_neuron_params",
            "surrogate_alpha",
            "dt",
            "reset",
            "min_voltage",
            "chip_timing",
        )
        self.hidden_size = check_int("hidden_size", hidden_size, self)
        rng = np.random.RandomState(seed)
        H = self.hidden_size
        with self:
            self._setup(
                n_inputs,
                n_classes,
                dt,
                surrogate_alpha,
                learn_neuron_params,
                reset,
                min_voltage,
                chip_timing,
            )
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


def activity_metrics(net, activity):
    """`nengo_lmu.metrics.spiking_network_metrics` of ``net`` for recorded
    ``activity`` (``{population: (n, n_steps, size)}``, with ``"x"``)."""
    from nengo_lmu.metrics import spiking_network_metrics

    conns = [
        (pre, post, transform_matrix(c), trained, isinstance(c.transform, nengo.transforms.Sparse))
        for pre, post, c, trained in net.connection_info.values()
    ]
    return spiking_network_metrics(conns, activity, trainable_parameters=net.n_parameters)
