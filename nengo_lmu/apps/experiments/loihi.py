"""The delay task and a trained digits classifier on the nengo-loihi
emulator, next to ``nengo.Simulator`` (``nengo-lmu loihi``,
``benchmarks/loihi_emulator.py``; its third part, the classifier with its
memory on the chip, is `nengo_lmu.apps.experiments.chip_digits`)."""

from dataclasses import dataclass, field

import nengo
import numpy as np

from nengo_lmu.apps.experiments.results import ExperimentResult
from nengo_lmu.apps.experiments.settings import LoihiSettings
from nengo_lmu.apps.tasks import run_delay_task
from nengo_lmu.info import require_extra
from nengo_lmu.loihi import (
    TARGETS,
    HostMemoryClassifier,
    LoihiLegendreMemory,
    LoihiNeuralForm,
    expected_warnings,
    prepare,
    resource_counts,
    simulator,
)
from nengo_lmu.loihi.layout import LOIHI_N_NEURONS
from nengo_lmu.systems import legendre_readout, legendre_system
from nengo_lmu.tables import format_table
from nengo_lmu.validation import check_choice, check_int

#: The ``nengo-lmu loihi`` command's settings: the defaults of this module's functions.
DEFAULTS = LoihiSettings()

#: The rows of `resources_table`.
RESOURCE_KEYS = (
    "cores",
    "compartments",
    "in_axons",
    "out_axons",
    "weights",
    "spikes_per_inference",
    "synaptic_ops_per_inference",
    "activation_sparsity",
)


def resources_table(resources, per="run"):
    """`resource_counts` of several runs (``{name: counts}``) side by side."""
    names = dict(
        spikes_per_inference=f"spikes per {per}",
        synaptic_ops_per_inference=f"synaptic ops per {per}",
    )
    rows = [
        (names.get(k, k.replace("_", " ")),) + tuple(f"{r[k]:.4g}" for r in resources.values())
        for k in RESOURCE_KEYS
    ]
    return format_table(("resource",) + tuple(resources), rows)


class NaiveLoihiMemory(nengo.Network):
    """nengo-loihi's old LMU example, rebuilt: the continuous mapping
    (``A' = tau A + I``, ``B' = tau B``) on an EnsembleArray of
    ``n_neurons`` SpikingRectifiedLinear neurons per dimension (nengo's
    default tuning), decoded connections with ``Lowpass(tau)``, and a delay
    readout through ``Lowpass(readout_tau)`` (its decoded value is spikes).
    Takes `run_delay_task`'s memory arguments."""

    def __init__(
        self,
        order,
        theta,
        n_neurons=100,
        tau=0.1,
        readout_tau=0.01,
        dt=0.001,
        process=None,
        **kwargs,
    ):
        super().__init__(label="naive LMU")
        sys = legendre_system(order, theta)
        self.order, self.readout_tau = order, readout_tau
        with self:
            self.input = nengo.Node(size_in=1, label="input")
            self.array = nengo.networks.EnsembleArray(
                n_neurons, order, neuron_type=nengo.SpikingRectifiedLinear()
            )
            nengo.Connection(self.input, self.array.input, transform=tau * sys.B, synapse=tau)
            nengo.Connection(
                self.array.output,
                self.array.input,
                transform=tau * sys.A + np.eye(order),
                synapse=tau,
            )

    def add_delay_output(self, r):
        with self:
            node = nengo.Node(size_in=1, label="delay")
            nengo.Connection(
                self.array.output,
                node,
                transform=legendre_readout(self.order, r)[None, :],
                synapse=self.readout_tau,
            )
        return node


@dataclass
class DelayComparison(ExperimentResult):
    """What `delay_comparison` measured.

    Attributes
    ----------
    results : dict
        ``{"nengo": DelayResult, target: DelayResult, ...}``.
    resources : dict
        ``{target: resource_counts(...)}`` (one inference = the whole run).
    placement : LoihiReport or None
        The placement of the memory (`nengo_lmu.loihi.prepare`; None
        without an emulator target).
    """

    results: dict
    resources: dict = field(default_factory=dict)
    placement: object = None

    def report_sections(self):
        """The placement, the scores and the resources of each target."""
        resources = resources_table(self.resources) if self.resources else ""
        return [str(self.placement or ""), self.table(), resources]

    def table(self):
        """NRMSE, lag and speed of each simulator."""
        rows = [
            (
                name,
                f"{r.nrmse:.4f}",
                str(r.best_lag_steps),
                f"{r.best_nrmse:.4f}",
                f"{r.speed:.2f}",
            )
            for name, r in self.results.items()
        ]
        return format_table(
            ("simulator", "NRMSE", "best lag (steps)", "best-lag NRMSE", "sim s / wall s"), rows
        )


def delay_comparison(
    targets=DEFAULTS.target_names,
    n_neurons=None,
    duration=DEFAULTS.duration,
    seed=DEFAULTS.seed,
    memory=None,
    progress=None,
    **kwargs,
):
    """The delay task (`.run_delay_task`) with `LoihiLegendreMemory`, on
    ``nengo.Simulator`` and on each emulator target, same network and input.

    ``n_neurons`` defaults to the memory's default. ``kwargs`` go to
    `.run_delay_task` (``theta``, ``order``, ``discard``, ...) and from there
    to the memory. The network is the same on every simulator except for
    ``latency_steps``, the steps of host-chip latency that the delay readout
    takes off: 0 on nengo, the memory's default (the emulator's) on the
    targets. ``progress`` (e.g. ``tqdm.tqdm``) shows each emulator run's
    progress (`nengo_lmu.loihi.simulator.show_progress`). Returns a
    `DelayComparison`.

    Examples
    --------
    >>> out = delay_comparison(targets=("sim",), n_neurons=20, duration=0.5,
    ...                        discard=0.2)  # doctest: +SKIP
    >>> sorted(out.results)  # doctest: +SKIP
    ['nengo', 'sim']
    """
    for t in targets:
        check_choice("targets", t, TARGETS[:2])
    memory = LoihiLegendreMemory if memory is None else memory
    kwargs = dict(kwargs, duration=duration, seed=seed, memory=memory)
    if n_neurons is not None:
        kwargs["n_neurons"] = n_neurons
    elif memory is LoihiLegendreMemory:
        kwargs["n_neurons"] = LOIHI_N_NEURONS
    nengo_kwargs = dict(kwargs)
    if issubclass(memory, LoihiNeuralForm):
        nengo_kwargs["latency_steps"] = 0
    out = DelayComparison({"nengo": run_delay_task(label="nengo", **nengo_kwargs)})

    def factory(target):
        def make(network, dt=0.001, **more):
            out.placement = prepare(network, build=False)
            sim = simulator(network, target=target, dt=dt, progress=progress)
            emu = sim.sims["emulator"]
            close = emu.close

            def count_then_close():
                # the emulator forgets its state when it is closed
                if not emu.closed:
                    out.resources[target] = resource_counts(sim)
                close()

            emu.close = count_then_close
            return sim

        return make

    for target in targets:
        with expected_warnings():
            out.results[target] = run_delay_task(label=target, simulator=factory(target), **kwargs)
    return out


@dataclass
class DigitsTraining(ExperimentResult):
    """What `train_digits_classifier` did: the saved file and the rate
    network's held-out accuracy."""

    path: str
    test_accuracy: float
    train_seconds: float

    def table(self):
        """The rate network's held-out accuracy, training time and file."""
        row = (f"{self.test_accuracy:.4f}", f"{self.train_seconds:.0f}", self.path)
        return format_table(("rate test accuracy", "train s", "saved to"), [row])

    def report_sections(self):
        return [
            f"rate test accuracy (all held-out): {self.test_accuracy:.4f}; saved to {self.path}"
        ]


def train_digits_classifier(path, epochs=DEFAULTS.epochs, seed=DEFAULTS.seed):
    """Train a digits classifier that `HostMemoryClassifier` can run; save it.

    100 ReLU units, order 48, theta 64 and no hidden-to-hidden weights,
    trained in parallel (`nengo_lmu.dl.train_parallel_classifier`, imports
    TensorFlow; seconds) on `nengo_lmu.apps.data.permuted_digits` and converted
    to an `.LMUClassifier`. Returns a `DigitsTraining` (the rate accuracy
    on all held-out sequences).
    """
    from nengo_lmu.apps.data import permuted_digits
    from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue

    require_extra("dl", "the Loihi digits classifier's training")  # tf.keras 2.12 and NengoDL
    from nengo_lmu.dl import to_classifier, train_parallel_classifier

    # the folder is checked before training; a failed save goes to a
    # temporary file (returned as the result's path) rather than being lost
    path = check_output_path(path, force=True, what="trained classifier", suffix=".npz")
    res = train_parallel_classifier(
        permuted_digits(),
        10,
        [dict(units=100, order=48, theta=64.0, hidden_activation="relu", hidden_to_hidden=False)],
        epochs=epochs,
        seed=seed,
    )
    path = save_or_rescue(
        to_classifier(res.model, seed=seed).save, path, what="trained classifier"
    )
    return DigitsTraining(str(path), float(res.test_accuracy), float(res.train_seconds))


@dataclass
class DigitsComparison(ExperimentResult):
    """What `digits_comparison` measured.

    ``runs`` is ``{name: info}`` with ``name`` ``"rate"`` (the trained
    network without spikes), ``"nengo"`` or a target; each ``info`` is
    `HostMemoryClassifier.predict`'s, plus ``accuracy`` and ``logits``. The
    object reads like that dict (``out["sim"]["accuracy"]``).
    """

    runs: dict
    targets: tuple = ()

    @property
    def placement(self):
        """The network's placement on the chip (`nengo_lmu.loihi.LoihiReport`
        of the first target; None without one)."""
        return self.runs[self.targets[0]]["placement"] if self.targets else None

    def report_sections(self):
        """The placement, the scores, the agreement with nengo and the
        resources per sequence of each target."""
        agree = "\n".join(
            f"{t}: the same class as nengo for {self.agreement(t):.2%} of the sequences"
            for t in self.targets
        )
        resources = {t: self.runs[t]["resources"] for t in self.targets}
        return [
            str(self.placement or ""),
            self.table() + ("\n" + agree if agree else ""),
            resources_table(resources, per="sequence") if resources else "",
        ]

    def __getitem__(self, name):
        return self.runs[name]

    def __iter__(self):
        return iter(self.runs)

    def items(self):
        return self.runs.items()

    def agreement(self, name, reference="nengo"):
        """Fraction of sequences where ``name`` picks ``reference``'s class."""
        return float(
            np.mean(
                self.runs[name]["logits"].argmax(-1) == self.runs[reference]["logits"].argmax(-1)
            )
        )

    def table(self):
        """Accuracy, speed, clipping and saturation of each run."""
        base = self.runs["nengo"]
        rows = []
        for name, info in self.runs.items():
            steps = f"{info['steps'] / max(info['seconds'], 1e-9):.0f}" if "steps" in info else "-"
            rows.append(
                (
                    name,
                    f"{info['accuracy']:.4f}",
                    f"{100 * (info['accuracy'] - base['accuracy']):+.2f}",
                    str(info["n"]),
                    steps,
                    f"{info['clipped']:.2e}" if "clipped" in info else "-",
                    f"{info['saturated']:.2e}" if "saturated" in info else "-",
                )
            )
        return format_table(
            (
                "simulator",
                "accuracy",
                "vs nengo (points)",
                "sequences",
                "steps/s",
                "clipped inputs",
                "saturated hidden",
            ),
            rows,
        )


def digits_comparison(path, n_test=None, targets=("sim",), data=None, progress=None, **kwargs):
    """A saved digits classifier as a `HostMemoryClassifier`: held-out
    accuracy on ``nengo.Simulator`` and on each nengo-loihi target.

    The encoder's scale comes from the training sequences of
    `nengo_lmu.apps.data.permuted_digits` (or of ``data``); the first ``n_test``
    held-out sequences (all by default) are the same for every simulator.
    ``kwargs`` go to `HostMemoryClassifier`; ``progress`` (e.g. ``tqdm.tqdm``)
    shows each emulator run's progress. Returns a `DigitsComparison`.
    """
    from nengo_lmu.apps.data import permuted_digits

    data = permuted_digits() if data is None else data
    n = len(data["x_test"]) if n_test is None else check_int("n_test", n_test, None)
    x = np.asarray(data["x_test"][:n])
    y = np.asarray(data["y_test"]).ravel()[:n]
    net = HostMemoryClassifier(path, scale_x=data["x_train"], **kwargs)
    rate = net.rate_logits(x)
    out = {"rate": dict(accuracy=float(np.mean(rate.argmax(-1) == y)), logits=rate, n=n)}
    for name in ("nengo",) + tuple(targets):
        logits, info = net.predict(x, target=name, progress=progress)
        info.update(accuracy=float(np.mean(logits.argmax(-1) == y)), logits=logits)
        out[name] = info
    return DigitsComparison(out, tuple(targets))
