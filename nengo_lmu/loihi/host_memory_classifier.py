"""`HostMemoryClassifier`: a trained LMU classifier laid out for Loihi with
its memory on the host and its hidden layer on the chip."""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi._compat import ensure_params
from nengo_lmu.loihi.hardware import DECODE_TAU, TARGETS
from nengo_lmu.loihi.placement import prepare
from nengo_lmu.loihi.simulator import run_on_target
from nengo_lmu.networks.classifier import SequenceInput, as_classifier
from nengo_lmu.validation import (
    check_choice,
    check_int,
    check_positive,
    check_sequence_data,
)

NEURON_KINDS = ("loihi", "ideal")


class HostMemoryClassifier(nengo.Network):
    """A trained LMU classifier laid out for Loihi: memory on the host,
    spiking hidden layer on the chip.

    The network has four parts. Each sequence is played one sample per step,
    and the decision is read after it:

    1. ``frontend`` (host): a node that plays ``[x[t], m[t]]``. ``m`` is the
       cell's exact Legendre memory (``Ad``, ``Bd`` of its `.LegendreMemory`),
       computed on the host from zero at the start of every sequence. After
       the last sample, the node holds the final ``[x, m]`` for
       ``hold_steps`` steps.
    2. ``encoder`` (host, ``on_chip=False``): on/off pairs of integrate-and-fire
       neurons, one pair per feature. Each pair fires at ``input_rate`` Hz
       at the feature's full scale ``input_scale``. Their spikes go to the
       chip as they are: nengo-loihi's own host-to-chip encoding clips
       values outside [-1, 1].
    3. ``hidden`` (chip): the cell's ``units`` ReLU neurons, spiking, with
       gain ``gain`` (``gain * h`` Hz) and ``amplitude = 1 / gain``. Their
       input is ``[W_x, W_m]`` applied to the encoder's spikes through
       ``Lowpass(synapse)``, on the chip.
    4. ``readout`` (host): ``W_o`` applied to the hidden spikes. The logits
       are its average over the last ``window`` steps of the hold.

    The cell must have no recurrence through the chip:
    ``hidden_to_hidden``, ``hidden_to_memory`` and ``memory_to_memory``
    must all be False, and there must be one cell. Then the last step's
    logits depend only on the final ``[x, m]``, and holding it gives the
    hidden neurons time to express their rates as spike counts. The same
    network runs on ``nengo.Simulator`` and on nengo-loihi (`predict`).

    Parameters
    ----------
    classifier : LMUClassifier or path
        A trained classifier with a ReLU hidden layer
        (``nengo.RectifiedLinear``, or ``SpikingRectifiedLinear``; any
        ``hidden_gain`` and ``amplitude``), or the path of one saved with
        `.LMUClassifier.save`. Trained memory weights
        (``trainable_memory=True``) are used as trained.
    scale_x : ndarray (n, n_steps, input_d), optional
        Sequences, typically the training data, that set ``input_scale``:
        the largest ``|x|`` and ``|m|`` of each feature over them. Give
        exactly one of ``scale_x`` and ``input_scale``.
    input_scale : array_like, optional
        The encoder's full scale, one value per feature (``input_d``
        values for ``x`` when ``input_to_hidden``, then the memory's
        ``memory_d * order``), or a scalar for all. `predict` clips larger
        values to it and reports how many were clipped.
    gain : float
        Gain of the hidden neurons (Hz per unit of ``h``). Loihi fires at
        most once a step, so rates above ``1 / dt`` (1000 Hz) saturate.
    input_rate : float
        Rate of an encoder neuron at full scale, at most ``1 / dt``.
    synapse : float
        Time constant (s) of the chip's synapse from the encoder's spikes.
    hold_steps : int
        Steps for which the last sample is held after each sequence.
    window : int
        The logits average the readout over the last ``window`` steps of
        the hold (at most ``hold_steps``).
    neuron_type : "loihi" or "ideal"
        Hidden neurons in the nengo reference:
        ``nengo_loihi.neurons.LoihiSpikingRectifiedLinear`` ("loihi") keeps
        the chip's integer inter-spike intervals and its reset to zero;
        ``nengo.SpikingRectifiedLinear`` ("ideal") does not. On the chip
        both run as the same compartments.
    seed : int, optional
        Seeds the encoder's initial voltages, i.e. the phases of its spikes
        (and, with ``neuron_type="ideal"``, of the hidden neurons'); the
        classifier's seed by default, so repeated runs give the same spikes.
    label, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    weights : dict
        ``W_x`` (if present), ``W_m`` and ``readout``, as given.
    input_weights : ndarray (units, n_features)
        ``[W_x, W_m]`` (or ``W_m``): the hidden layer's weights on the
        features.
    readout_weights : ndarray (n_classes, units)
        The readout times the cell's ``hidden_gain`` and hidden
        ``amplitude`` (the chip's neurons compute ``relu(z)``; the cell's
        ``amplitude * relu(hidden_gain * z)`` is that times both).
    e_x : ndarray
        The memory's input encoder.
    memory : nengo_lmu.systems.LinearSystem
        The discrete memory (one step per sample; the cell's ``Ad``, ``Bd``).
    input_scale : ndarray
        The encoder's full scale per feature.
    steps_per_sequence : int or None
        ``n_steps + hold_steps`` of the last `predict` call.
    last_output : ndarray (n, steps_per_sequence, n_classes) or None
        The readout on every step of the last `predict` call.
    """

    def __init__(
        self,
        classifier,
        scale_x=None,
        input_scale=None,
        gain=300.0,
        input_rate=1000.0,
        synapse=DECODE_TAU,
        hold_steps=40,
        window=20,
        neuron_type="loihi",
        seed=None,
        label=None,
        add_to_container=None,
    ):
        classifier = as_classifier(classifier)
        # the encoder's initial voltages (spike phases) are drawn from the
        # seed: the classifier's by default, so runs repeat
        super().__init__(
            label=label or "HostMemoryClassifier",
            seed=classifier.seed if seed is None else seed,
            add_to_container=add_to_container,
        )
        self._check_classifier(classifier)
        self._check_rates(gain, input_rate, synapse, hold_steps, window, neuron_type)
        self._set_weights(classifier)
        self.input_scale = self._full_scale(scale_x, input_scale)
        self.steps_per_sequence = None
        self.last_output = None
        ensure_params(self)
        with self:
            self._build(classifier.cells[0].units)

    def _check_rates(self, gain, input_rate, synapse, hold_steps, window, neuron_type):
        """Check and set the hidden gain, the encoder's rate, the synapse, the
        hold, the window and the kind of hidden neurons."""
        self.gain = check_positive("gain", gain, obj=self)
        self.input_rate = check_positive("input_rate", input_rate, obj=self)
        if self.input_rate > 1 / self.dt:
            raise ValidationError(
                f"must be at most 1/dt = {1 / self.dt:g} Hz (Loihi fires at most "
                f"once a step), got {input_rate}",
                attr="input_rate",
                obj=self,
            )
        self.synapse = check_positive("synapse", synapse, obj=self)
        self.hold_steps = check_int("hold_steps", hold_steps, self)
        self.window = check_int("window", window, self)
        if self.window > self.hold_steps:
            raise ValidationError(
                f"must be at most hold_steps={self.hold_steps}, got {window}",
                attr="window",
                obj=self,
            )
        self.neuron_kind = check_choice("neuron_type", neuron_type, NEURON_KINDS, self)

    def _set_weights(self, classifier):
        """The trained weights: the memory (as the cell runs it), the hidden
        layer's weights on the features and the scaled readout."""
        cell = classifier.cells[0]
        w = classifier.get_weights()
        self.e_x = np.asarray(w["cell0.e_x"], dtype=float)
        # the memory as the cell runs it: trained Ad and Bd where they are
        # trainable (trainable_memory=True), else the exact discretisation
        exact = cell.memory.discrete_system
        self.memory = exact.replace(A=w.get("cell0.Ad", exact.A), B=w.get("cell0.Bd", exact.B))
        self.input_d = cell.input_d
        self.n_classes = classifier.n_classes
        self.uses_x = cell.input_to_hidden
        self.weights = {"W_m": w["cell0.W_m"], "readout": w["readout"]}
        # the cell's h = amplitude * relu(hidden_gain * z) = c * relu(z) (c > 0);
        # the chip's neurons give relu(z), so c goes into the readout
        self.readout_weights = w["readout"] * cell.hidden_gain * cell.hidden_neuron_type.amplitude
        if self.uses_x:
            self.weights["W_x"] = w["cell0.W_x"]
        # the hidden layer's weights on the features [x, m] (or [m])
        self.input_weights = (
            np.concatenate([w["cell0.W_x"], w["cell0.W_m"]], axis=1)
            if self.uses_x
            else w["cell0.W_m"]
        )
        self.n_features = (self.input_d if self.uses_x else 0) + self.memory.n_states

    def _full_scale(self, scale_x, input_scale):
        """The encoder's full scale per feature, given or measured on ``scale_x``."""
        if (scale_x is None) == (input_scale is None):
            raise ValidationError(
                "give exactly one of scale_x (sequences to measure) and input_scale",
                attr="input_scale",
                obj=self,
            )
        if scale_x is not None:
            feats = self.features(scale_x, hold=False)
            input_scale = np.abs(feats).max(axis=(0, 1))
        scale = np.broadcast_to(np.asarray(input_scale, dtype=float), (self.n_features,)).copy()
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            bad = scale[~(np.isfinite(scale) & (scale > 0))][0]
            raise ValidationError(
                f"every full scale must be finite and > 0, got {bad} (a feature "
                f"that is always zero in scale_x?)",
                attr="input_scale",
                obj=self,
            )
        return scale

    def _build(self, units):
        """The front end, the on/off encoder pairs, the hidden layer of
        ``units`` neurons and the readout (inside ``with self``)."""
        d, scale = self.n_features, self.input_scale
        signs = np.concatenate([np.ones(d), -np.ones(d)])
        dims = np.concatenate([np.arange(d), np.arange(d)])
        encoders = signs[:, None] * np.eye(d)[dims]
        # value of feature i = sum over its pair of sign * scale / rate * rate_j
        decode = np.zeros((d, 2 * d))
        decode[dims, np.arange(2 * d)] = signs * scale[dims] / self.input_rate
        if self.neuron_kind == "loihi":
            from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

            hidden_type = LoihiSpikingRectifiedLinear(amplitude=1.0 / self.gain)
        else:
            hidden_type = nengo.SpikingRectifiedLinear(amplitude=1.0 / self.gain)
        self._sequence = SequenceInput(d)
        self.frontend = nengo.Node(self._sequence, size_out=d, label="frontend [x, m]")
        self.encoder = nengo.Ensemble(
            2 * d,
            d,
            encoders=encoders,
            normalize_encoders=False,
            neuron_type=nengo.SpikingRectifiedLinear(),
            gain=self.input_rate / scale[dims],
            bias=np.zeros(2 * d),
            label="encoder",
        )
        self.config[self.encoder].on_chip = False
        nengo.Connection(self.frontend, self.encoder, synapse=None)
        self.hidden = nengo.Ensemble(
            units,
            1,
            neuron_type=hidden_type,
            gain=nengo.dists.Choice([self.gain]),
            bias=nengo.dists.Choice([0.0]),
            label="hidden",
        )
        self.input_connection = nengo.Connection(
            self.encoder.neurons,
            self.hidden.neurons,
            transform=self.input_weights @ decode,
            synapse=nengo.Lowpass(self.synapse),
        )
        self.readout = nengo.Node(size_in=self.n_classes, label="readout")
        nengo.Connection(
            self.hidden.neurons, self.readout, transform=self.readout_weights, synapse=None
        )
        self.probe = nengo.Probe(self.readout, synapse=None, label="logits")

    #: Simulator step (s): one step per sample, as the rate network was trained.
    dt = 0.001

    @staticmethod
    def _check_classifier(clf):
        if len(clf.cells) != 1:
            raise ValidationError(
                f"must have one cell (a second cell's memory would need the hidden "
                f"spikes back on the host), got {len(clf.cells)}",
                attr="classifier",
            )
        cell = clf.cells[0]
        for flag in ("hidden_to_hidden", "hidden_to_memory", "memory_to_memory"):
            if getattr(cell, flag):
                raise ValidationError(
                    f"the cell must have {flag}=False (the memory runs on the host and "
                    f"the hidden layer is read once per sequence), got True",
                    attr="classifier",
                )
        if type(cell.hidden_neuron_type) not in (
            nengo.RectifiedLinear,
            nengo.SpikingRectifiedLinear,
        ):
            raise ValidationError(
                f"the hidden layer must be ReLU (the chip has no "
                f"{type(cell.hidden_neuron_type).__name__}); train with "
                f"RectifiedLinear",
                attr="classifier",
            )

    def features(self, x, hold=True):
        """What the host's front end plays: ``[x[t], m[t]]`` per step.

        Parameters
        ----------
        x : ndarray (n, n_steps, input_d)
        hold : bool
            Append ``hold_steps`` copies of the last step.

        Returns
        -------
        ndarray (n, n_steps [+ hold_steps], n_features), not clipped.
        """
        x = np.asarray(x, dtype=float)
        check_sequence_data(x, n_inputs=self.input_d)
        u = x @ self.e_x.T
        m = np.stack([self.memory.simulate(ui, output=False) for ui in u])
        f = np.concatenate([x, m], axis=2) if self.uses_x else m
        if hold:
            f = np.concatenate([f, np.repeat(f[:, -1:], self.hold_steps, axis=1)], axis=1)
        return f

    def rate_logits(self, x):
        """The trained rate network's logits on the last step (no spikes)."""
        f = self.features(x, hold=False)[:, -1]
        return np.maximum(f @ self.input_weights.T, 0) @ self.readout_weights.T

    def predict(self, x, target="nengo", progress=None):
        """Logits on sequences ``x``, with what the run cost.

        The sequences are played back to back in one simulator: the host
        memory restarts from zero for each one (the hidden layer has no
        recurrence; its synapse forgets the previous sequence within a few
        ``synapse`` time constants). The neurons' voltages, i.e. the phases
        of their spikes, carry over, so a sequence's logits can differ by a
        spike or so with the sequences played before it (the runs repeat
        for the same ``x``).

        Parameters
        ----------
        x : ndarray (n, n_steps, input_d)
        target : "nengo", "sim", "simreal" or "loihi"
            ``nengo.Simulator`` or a nengo-loihi target (`simulator`).
        progress : callable, optional
            On a nengo-loihi target: wraps the loop over the run's simulated
            seconds (e.g. ``tqdm.tqdm``; `nengo_lmu.loihi.simulator.show_progress`).

        Returns
        -------
        logits : ndarray (n, n_classes)
        info : dict
            ``seconds`` (the run, without the build), ``build_seconds``,
            ``steps``, ``clipped`` (fraction of feature values beyond
            ``input_scale``, clipped), ``saturated`` (fraction of the hidden
            neurons, over the sequences' held last samples, that the rate
            network drives above ``1 / dt``, where the chip's one spike a
            step saturates), ``placement`` (`prepare`'s report)
            and, on the emulator, ``resources`` (`resource_counts`, per
            inference over ``n`` sequences).
        """
        check_choice("target", target, ("nengo",) + TARGETS, self)
        f = self.features(x)
        n, steps = f.shape[:2]
        over = np.abs(f) > self.input_scale
        clipped = float(over.mean())
        if clipped > 1e-3:
            warnings.warn(
                f"{clipped:.3%} of the feature values exceed input_scale and are "
                f"clipped (largest ratio {np.max(np.abs(f) / self.input_scale):.3g})",
                stacklevel=2,
            )
        f = np.clip(f, -self.input_scale, self.input_scale)
        rates = self.gain * np.maximum(f[:, -1] @ self.input_weights.T, 0)
        saturated = float(np.mean(rates > 1 / self.dt))
        if saturated > 1e-3:
            warnings.warn(
                f"{saturated:.3%} of the hidden neurons would fire above 1/dt = "
                f"{1 / self.dt:g} Hz (at most {rates.max():.4g} Hz), where Loihi "
                f"saturates: lower the gain",
                stacklevel=2,
            )
        self._sequence.data = f.reshape(n * steps, -1)
        self.steps_per_sequence = steps
        info = dict(
            steps=n * steps,
            n=n,
            clipped=clipped,
            saturated=saturated,
            placement=prepare(self, build=False),
        )
        self._sequence.dt = self.dt
        (out,), ran = run_on_target(self, n, steps, target, self.dt, [self.probe], progress)
        info.update(ran)
        self.last_output = out
        return out[:, -self.window :].mean(axis=1), info
