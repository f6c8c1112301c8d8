"""`SpikingClassifier`: what the spiking sequence classifiers (`.L2MU`,
`.RecurrentLIF`) share: populations of `.DiscreteLIF` neurons that pass
spikes, the connection bookkeeping, running sequences, saving and loading,
and the NeuroBench-style measures of a run (`activity_metrics`)."""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.discrete_lif import DiscreteLIF, check_beta, check_threshold
from nengo_lmu.networks.classifier import SequenceInput
from nengo_lmu.networks.dt_check import require_dt
from nengo_lmu.networks.saving import (
    check_kind,
    check_weight_names,
    read_network,
    save_network,
)
from nengo_lmu.networks.sequence_runner import run_sequences
from nengo_lmu.networks.weights import add_trainable_config, transform_matrix
from nengo_lmu.validation import check_int, check_positive, check_seed


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

    #: the options every subclass stores and saves, after its own
    COMMON_KEYS = (
        "learn_neuron_params",
        "surrogate_alpha",
        "dt",
        "reset",
        "min_voltage",
        "chip_timing",
    )

    def __init__(
        self,
        n_inputs,
        n_classes,
        keys=(),
        *,
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
        """What every subclass's ``__init__`` does first, with the options
        they share (keyword only; the subclasses document them): make the
        network, check the seed, keep the options for `_setup` and name
        those that `config_dict` saves (``n_inputs``, ``n_classes``, the
        subclass's ``keys``, then `COMMON_KEYS`)."""
        options = {k: v for k, v in locals().items() if k not in ("self", "keys")}
        nengo.Network.__init__(self, label=label, seed=seed, add_to_container=add_to_container)
        check_seed("seed", seed, self)
        self._options = options
        self._config_keys = ("n_inputs", "n_classes") + tuple(keys) + self.COMMON_KEYS

    def _setup(self):
        """Check the common options (kept by ``__init__``) and make the
        input node; call inside ``with self``."""
        options = self._options
        n_inputs, n_classes, dt = options["n_inputs"], options["n_classes"], options["dt"]
        surrogate_alpha = options["surrogate_alpha"]
        learn_neuron_params, chip_timing = options["learn_neuron_params"], options["chip_timing"]
        reset, min_voltage = options["reset"], options["min_voltage"]
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
        names = list(probes)
        sim_kwargs.setdefault("progress_bar", False)
        (out, *recs), info = run_sequences(
            self,
            [self.probe] + [probes[k] for k in names],
            x.shape[1],
            len(x),
            simulator=simulator,
            feed=self._sequence.feed(x),
            progress=progress,
            **sim_kwargs,
        )
        # spikes are amplitude/dt = self.dt/sim.dt each
        counts = np.sum(out, axis=1) * (info["dt"] / self.dt)
        return counts, dict(zip(names, recs))

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


def activity_metrics(net, activity):
    """`nengo_lmu.metrics.spiking_network_metrics` of ``net`` for recorded
    ``activity`` (``{population: (n, n_steps, size)}``, with ``"x"``)."""
    from nengo_lmu.metrics import spiking_network_metrics

    conns = [
        (pre, post, transform_matrix(c), trained, isinstance(c.transform, nengo.transforms.Sparse))
        for pre, post, c, trained in net.connection_info.values()
    ]
    return spiking_network_metrics(conns, activity, trainable_parameters=net.n_parameters)
