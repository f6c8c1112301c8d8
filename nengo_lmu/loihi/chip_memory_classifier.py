"""`ChipMemoryClassifier`: a trained LMU classifier with its memory and its
hidden layer on the chip; only the input encoding and the readout run on the
host."""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi._compat import ensure_params, nengo_loihi_module
from nengo_lmu.loihi.chip_memory import (
    CHIP_DT,
    ChipOnlyLegendreMemory,
    check_chip_cell,
    held_memory_system,
)
from nengo_lmu.loihi.hardware import TARGETS
from nengo_lmu.loihi.layout import CHIP_TO_HOST_STEPS
from nengo_lmu.loihi.placement import prepare
from nengo_lmu.loihi.simulator import run_on_target
from nengo_lmu.networks.classifier import SequenceInput, as_classifier
from nengo_lmu.validation import (
    check_choice,
    check_finite_array,
    check_int,
    check_positive,
    check_sequence_data,
)

#: Steps by which the emulator's host readout node (``last_output``) of this
#: network lags nengo.Simulator's: measured label-free, as the best lag
#: between the two simulators' per-step readouts (5 ms smoothed) on 200
#: sequences (row digits, seed 2): mean square difference 1.93, 1.53, 1.76,
#: 2.30 at lags 0, 1, 2, 3. The recorded hidden spikes, which the logits
#: are computed from, do not lag (`ChipMemoryClassifier.hidden_features`).
#: (The delay memory's host readout, through the relay, lags by
#: ``CHIP_TO_HOST_STEPS = 2``.)
EMULATOR_LAG_STEPS = 1
#: Steps after a sample boundary at which the hidden layer (on nengo) best
#: shows the memory of that boundary, so the default window (10 steps)
#: ends ``5 + READOUT_LAG`` steps after the last sample. Chosen on training
#: sequences only (the trained readout on nengo's hidden spikes, row digits,
#: first 400 training sequences, seeds 0/1/2; docs/loihi.md, its measurement
#: record): windows ending 4, 5, 6, 7, 8 steps after the last sample scored
#: 91.8/95.0/94.8/92.8/91.5%, 95.0/95.0/96.3/95.8/93.8% and
#: 94.8/94.8/95.3/94.5/93.0%: best on average at 6 (95.4%).
READOUT_LAG = 1


class ChipMemoryClassifier(nengo.Network):
    """A trained one-cell LMU classifier with its memory and hidden layer on
    the chip.

    Each sample is held for ``steps_per_sample`` steps of 1 ms, and each
    sequence is followed by ``gap_steps`` steps of zero input, so that the
    sequences run back to back in one simulator. The parts:

    1. ``input`` (host): plays ``u = e_x x / s`` (each memory dimension
       divided by its largest ``|u|`` over ``scale_x``, ``s``, so every
       dimension uses the encoder's full range; ``W_m`` is multiplied by
       ``s`` to make up).
    2. ``memory`` (host encoder, chip populations): a `LoihiLegendreMemory`
       of the cell's ``order`` and ``memory_d`` with window
       ``theta * steps_per_sample * dt`` s, so that with the held input it
       equals the cell's discrete memory at every sample boundary
       (`held_memory_system`). ``n_neurons`` LIF per state dimension.
    3. ``hidden`` (chip): the cell's ``units`` ReLU neurons, spiking
       (``LoihiSpikingRectifiedLinear``, gain ``gain`` Hz per unit). They are
       given what the memory's populations are given, times ``W_m T``: the
       populations' spikes through ``W_m T A'`` (neuron-to-neuron weights)
       and the host encoder's spikes through ``W_m T B'``, with the
       populations' ``Lowpass`` synapse. Their input is then the cell's
       ``W_m m`` as the chip represents ``m``, without a filter's lag.
    4. readout (host): the hidden spikes averaged over ``window`` steps
       ending ``readout_offset`` steps after the last sample, times ``W_o``
       (the trained readout); or a readout fitted on the network's own
       hidden spikes over training sequences (`set_readout`; the application
       `nengo_lmu.apps.experiments.chip_readout.fit_readout`: two windows, ridge
       regression to the rate network's logits), which recovers most
       of what the spiking hidden layer loses.

    Parameters
    ----------
    classifier : LMUClassifier or path
        Trained, one cell, ReLU hidden layer, no recurrence and no
        ``input_to_hidden`` (`check_chip_cell`).
    scale_x : ndarray (n, n_steps, input_d)
        Sequences (typically the training data) that set the input scale
        of each memory dimension, the memory's realisation and the hidden
        gain.
    steps_per_sample : int
        Chip steps per sample.
    n_neurons : int
        LIF neurons per memory state dimension.
    gap_steps : int, optional
        Zero-input steps after each sequence; default ``theta`` samples
        (the memory's window: it has then forgotten the sequence).
    window, readout_offset : int, optional
        The readout window (steps; default ``steps_per_sample``) and where
        it ends, in steps after the last sample (default ``(window + 1) // 2
        + READOUT_LAG``: centred just after the last sample, where the
        hidden layer shows the memory of the sequence's end); at most
        ``gap_steps - 2``. A fitted readout (`set_readout`) may move it.
    max_rate : float
        The hidden gain is chosen so that the hidden neurons fire at most
        ``max_rate`` Hz on ``scale_x``'s last samples (99.9th percentile).
    hidden_copies : int
        Spiking neurons per hidden unit, with gains spread from ``gain`` down
        to ``0.6 gain`` so that their spikes fall at different steps; the
        readout averages them (less spike-count noise in a short window).
    input_pairs : int
        On/off encoder pairs per memory dimension (`LoihiLegendreMemory`).
    seed : int, optional
        Seeds the memory's neurons; the classifier's seed by default.
    label, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    memory : LoihiLegendreMemory
    hidden : nengo.Ensemble
    theta : float
        The memory's window (s).
    gain : float
        The hidden neurons' gain.
    steps_per_sequence : int
        ``n_steps * steps_per_sample + gap_steps`` (after the first `predict`).
    readout_matrix, readout_bias, readout_bins
        The host readout: ``logits = readout_matrix @ h + readout_bias`` on
        the hidden neurons' output averaged over ``readout_bins`` windows
        (`hidden_features`); the trained readout (`trained_readout`, one
        window, no bias) until `set_readout`.
    last_output : ndarray or None
        The trained readout on every step of the last `predict` call (the
        host node ``readout``; ``EMULATOR_LAG_STEPS`` late on an emulator).
    last_hidden : ndarray or None
        The hidden neurons' output (float32) over `hidden_band`'s steps of
        each sequence of the last `predict` call.

    Examples
    --------
    >>> from nengo_lmu.networks import LMUClassifier
    >>> clf = LMUClassifier(3, [dict(units=8, order=2, theta=4.0, input_d=2,
    ...     hidden_neuron_type=nengo.RectifiedLinear(), hidden_to_hidden=False,
    ...     input_to_hidden=False)], seed=0)
    >>> x = np.random.RandomState(0).uniform(size=(5, 4, 2))
    >>> net = ChipMemoryClassifier(clf, x, steps_per_sample=5, n_neurons=20)
    >>> net.theta, net.gap_steps, len(net.memory.populations)
    (0.02, 20, 2)
    """

    def __init__(
        self,
        classifier,
        scale_x,
        steps_per_sample=10,
        n_neurons=100,
        gap_steps=None,
        window=None,
        readout_offset=None,
        max_rate=600.0,
        hidden_copies=2,
        input_pairs=16,
        seed=None,
        label=None,
        add_to_container=None,
    ):
        classifier = as_classifier(classifier)
        check_chip_cell(classifier)
        super().__init__(
            label=label or "ChipMemoryClassifier",
            seed=classifier.seed if seed is None else seed,
            add_to_container=add_to_container,
        )
        cell = classifier.cells[0]
        self.dt = CHIP_DT
        self.neurons_per_dimension = check_int("n_neurons", n_neurons, self)
        self.max_rate = check_positive("max_rate", max_rate, self)
        if self.max_rate > 1 / self.dt:
            raise ValidationError(
                f"must be at most 1/dt = {1 / self.dt:g} Hz, got {max_rate}",
                attr="max_rate",
                obj=self,
            )
        self.hidden_copies = check_int("hidden_copies", hidden_copies, self)
        self.order, self.memory_d = cell.memory.order, cell.memory_d
        self.theta_samples = float(cell.memory.theta)
        self.input_d, self.n_classes, self.units = cell.input_d, classifier.n_classes, cell.units
        self._set_timing(steps_per_sample, gap_steps, window, readout_offset)
        x = np.asarray(scale_x, dtype=float)
        check_sequence_data(x, n_inputs=self.input_d)
        self._scale_weights(classifier, x)
        self.steps_per_sequence = None
        self.last_output = None
        self.last_hidden = None

        # the memory's realisation and input scale: the held input of up to
        # 100 sequences, every dimension in one column (all are scaled to 1)
        sample = self.held(x[:100] @ self.e_x.T)
        sample = sample.transpose(2, 0, 1).reshape(-1, 1)
        ensure_params(self)
        with self:
            self._sequence = SequenceInput(self.memory_d)
            self.input = nengo.Node(self._sequence, size_out=self.memory_d, label="u")
            self.memory = ChipOnlyLegendreMemory(
                self.order,
                self.theta,
                size_in=self.memory_d,
                n_neurons=self.neurons_per_dimension,
                dt=self.dt,
                process=sample,
                input_pairs=check_int("input_pairs", input_pairs, self),
                latency_steps=0,
                seed=self.seed,
                label="memory",
            )
            nengo.Connection(self.input, self.memory.input, synapse=None)
            unit, spread = self._build_hidden()
            self._build_readout(unit, spread)

    def _set_timing(self, steps_per_sample, gap_steps, window, readout_offset):
        """Check and set the steps per sample, the gap, and the readout's
        window and offset (their defaults follow from the others)."""
        S = self.steps_per_sample = check_int("steps_per_sample", steps_per_sample, self)
        default_gap = int(np.ceil(self.theta_samples)) * S
        self.gap_steps = check_int(
            "gap_steps", default_gap if gap_steps is None else gap_steps, self
        )
        self.window = check_int("window", S if window is None else window, self)
        # the hidden layer shows the memory of a sample boundary about
        # READOUT_LAG steps later (its synapse and the readout's step): the
        # window is centred there
        default_offset = (self.window + 1) // 2 + READOUT_LAG
        self.readout_offset = check_int(
            "readout_offset",
            default_offset if readout_offset is None else readout_offset,
            self,
            minimum=0,
        )
        if self.readout_offset > self.gap_steps - CHIP_TO_HOST_STEPS:
            raise ValidationError(
                f"must be at most gap_steps - {CHIP_TO_HOST_STEPS} = "
                f"{self.gap_steps - CHIP_TO_HOST_STEPS} (the window lies in the gap), "
                f"got {self.readout_offset}",
                attr="readout_offset",
                obj=self,
            )

    def _scale_weights(self, classifier, x):
        """The trained weights in the chip's scaling: each memory dimension's
        input divided by its largest ``|u|`` over ``x``; the held memory
        system; the hidden gain that puts the 99.9th percentile at
        ``max_rate``."""
        cell = classifier.cells[0]
        w = classifier.get_weights()
        e_x = np.asarray(w["cell0.e_x"], dtype=float)
        u = x @ e_x.T
        self.u_scale = np.abs(u).max(axis=(0, 1))
        if np.any(self.u_scale <= 0):
            raise ValidationError(
                "a memory dimension's input is always zero on scale_x", attr="scale_x", obj=self
            )
        self.e_x = e_x / self.u_scale[:, None]
        self.W_m = w["cell0.W_m"] * np.repeat(self.u_scale, self.order)[None, :]
        # the cell's h = amplitude * relu(hidden_gain * z): the chip's neurons
        # give relu(z), so the rest goes into the readout
        self.readout_weights = w["readout"] * cell.hidden_gain * cell.hidden_neuron_type.amplitude
        self.theta, self.step_system = held_memory_system(
            self.order, self.theta_samples, self.memory_d, self.steps_per_sample, self.dt
        )
        self.discrete_memory = cell.memory.discrete_system
        z = np.maximum(self.memory_states(x)[:, -1] @ self.W_m.T, 0)
        top = float(np.percentile(z[z > 0], 99.9)) if np.any(z > 0) else 1.0
        self.gain = self.max_rate / top

    def _build_hidden(self):
        """The hidden layer (``hidden_copies`` neurons per unit, gains spread
        over 1 to 0.6) and its connections from the memory's populations and
        input encoder. Returns each neuron's unit and gain factor."""
        loihi_neurons = nengo_loihi_module().neurons
        mem = self.memory
        C = self.hidden_copies
        unit = np.repeat(np.arange(self.units), C)
        spread = np.tile(1 - 0.4 * np.arange(C) / C, self.units)
        self.hidden = nengo.Ensemble(
            self.units * C,
            self.units,
            encoders=np.eye(self.units)[unit],
            neuron_type=loihi_neurons.LoihiSpikingRectifiedLinear(amplitude=1 / self.gain),
            gain=self.gain * spread,
            bias=np.zeros(self.units * C),
            label="hidden",
        )
        WT = self.W_m @ mem.T
        Ap, Bp = mem.mapped_system.A, mem.mapped_system.B
        weights = nengo.solvers.LstsqL2(weights=True)
        k = mem.populations[0].dimensions
        for i, pop in enumerate(mem.populations):
            sl = slice(i * k, (i + 1) * k)
            nengo.Connection(
                pop, self.hidden, transform=WT @ Ap[:, sl], synapse=mem.synapse, solver=weights
            )
        # nengo applies the hidden neurons' gain to a connection into them
        nengo.Connection(
            mem.encoder.neurons,
            self.hidden.neurons,
            transform=(WT @ Bp @ mem.input_decode)[unit],
            synapse=mem.synapse,
        )
        return unit, spread

    def _build_readout(self, unit, spread):
        """The host readout node (the trained readout on every step) and the
        probes of the logits and of the hidden spikes."""
        C = self.hidden_copies
        self.readout = nengo.Node(size_in=self.n_classes, label="readout")
        # a copy of gain g s gives s relu(z): each copy's share is 1 / (s C)
        self._trained_matrix = self.readout_weights[:, unit] / (spread * C)
        self.readout_matrix = self._trained_matrix
        self.readout_bias = np.zeros(self.n_classes)
        self.readout_bins = 1
        # the host node gives the trained readout on every step; the
        # logits of `predict` are `readout_logits` on the hidden spikes
        self.readout_connection = nengo.Connection(
            self.hidden.neurons, self.readout, transform=self._trained_matrix, synapse=None
        )
        self.probe = nengo.Probe(self.readout, synapse=None, label="logits")
        # the hidden spikes, for a readout fitted on them (`set_readout`)
        self.hidden_probe = nengo.Probe(self.hidden.neurons, synapse=None, label="hidden")

    def held(self, u):
        """``u`` ``(n, n_steps, d)`` held for ``steps_per_sample`` steps per
        sample and followed by ``gap_steps`` zeros: ``(n, steps, d)``."""
        u = np.repeat(np.asarray(u, dtype=float), self.steps_per_sample, axis=1)
        gap = np.zeros((u.shape[0], self.gap_steps, u.shape[2]))
        return np.concatenate([u, gap], axis=1)

    def memory_states(self, x):
        """The cell's discrete memory on ``x`` in the chip's scaling (each
        dimension divided by ``u_scale``): ``(n, n_steps, memory_d * order)``."""
        u = np.asarray(x, dtype=float) @ self.e_x.T
        return np.stack([self.discrete_memory.simulate(ui, output=False) for ui in u])

    def rate_logits(self, x):
        """The trained rate network's logits on the last sample (no spikes)."""
        z = self.memory_states(x)[:, -1] @ self.W_m.T
        return np.maximum(z, 0) @ self.readout_weights.T

    def hidden_band(self, n_steps):
        """The steps (``lo, hi`` within a sequence) of the hidden spikes that
        `predict` keeps in ``last_hidden``: from two samples before the last
        sample's end to the end of the gap's readout range."""
        end = n_steps * self.steps_per_sample
        lo = max(end - 2 * self.steps_per_sample, 0)
        return lo, end + self.gap_steps - CHIP_TO_HOST_STEPS + EMULATOR_LAG_STEPS

    def readout_steps(self, n_steps, target="nengo", offset=None, window=None):
        """Indices (within one sequence's steps) that the logits average:
        the window (``window`` steps ending ``offset`` steps after the last
        sample; the network's by default), shifted by the host-chip latency
        on a nengo-loihi target."""
        offset = self.readout_offset if offset is None else offset
        window = self.window if window is None else window
        lag = 0 if target == "nengo" else EMULATOR_LAG_STEPS
        end = n_steps * self.steps_per_sample + offset + lag
        return np.arange(end - window, end)

    def hidden_features(self, hidden, n_steps, offset=None, window=None, bins=None):
        """The hidden neurons' output averaged over the readout window, per
        sequence: ``(n, bins * units * hidden_copies)``.

        ``bins`` windows of ``window`` steps back to back, the last ending
        ``offset`` steps after the last sample (the network's readout by
        default), side by side. ``hidden`` is `predict`'s ``last_hidden``
        (the steps given by `hidden_band`) for sequences of ``n_steps``
        samples.

        The spikes are indexed by the chip's step, as recorded, so the same
        steps are read on every simulator: the emulator's recorded hidden
        spikes line up with nengo's at lag 0 (measured label-free, seed 0,
        200 held-out sequences, the trained readout 5-step smoothed: mean
        square difference 4.27, 3.62, 4.00 at lags -1, 0, 1); only what
        reaches a host node lags, by `EMULATOR_LAG_STEPS`.
        """
        offset = self.readout_offset if offset is None else offset
        window = self.window if window is None else window
        bins = self.readout_bins if bins is None else bins
        lo, hi = self.hidden_band(n_steps)
        hidden = np.asarray(hidden, dtype=float)
        parts = []
        for i in range(bins):
            idx = self.readout_steps(n_steps, "nengo", offset - i * window, window) - lo
            if idx[0] < 0 or idx[-1] >= hi - lo:
                raise ValidationError(
                    f"the readout (steps {idx[0] + lo}..{idx[-1] + lo}) leaves the "
                    f"recorded band {lo}..{hi - 1}",
                    attr="window",
                    obj=self,
                )
            parts.append(hidden[:, idx].mean(axis=1))
        return np.concatenate(parts[::-1], axis=1)

    def readout_logits(self, hidden, n_steps):
        """The host readout, ``readout_matrix @ features + readout_bias``, on
        `hidden_features`."""
        features = self.hidden_features(hidden, n_steps)
        return features @ self.readout_matrix.T + self.readout_bias

    def set_readout(self, matrix, bias, bins=1, offset=None):
        """Use the host readout ``logits = matrix @ h + bias`` on the hidden
        features ``h`` (`hidden_features` with ``bins`` windows, the last
        ending ``offset`` steps after the last sample; the network's
        ``readout_offset`` unless given). An application fits it on the
        hidden spikes (`nengo_lmu.apps.experiments.chip_readout.fit_readout`);
        the trained readout is `trained_readout`, bias zero, one window."""
        bins = check_int("bins", bins, self)
        matrix = check_finite_array("matrix", matrix, self)
        bias = check_finite_array("bias", bias, self)
        shape = (self.n_classes, bins * self.hidden.n_neurons)
        if matrix.shape != shape or bias.shape != (self.n_classes,):
            raise ValidationError(
                f"must be {shape} and ({self.n_classes},), got {matrix.shape} and {bias.shape}",
                attr="matrix",
                obj=self,
            )
        if offset is not None:
            limit = self.gap_steps - CHIP_TO_HOST_STEPS
            self.readout_offset = check_int("offset", offset, self, minimum=0, maximum=limit)
        self.readout_matrix, self.readout_bias, self.readout_bins = matrix, bias, bins

    def trained_readout(self):
        """The trained readout on the hidden neurons (``units *
        hidden_copies`` columns, one window): what the network uses before
        `set_readout`."""
        return self._trained_matrix

    def predict(self, x, target="nengo", progress=None):
        """Logits on sequences ``x``, with what the run cost.

        The sequences run back to back in one simulator, each followed by
        ``gap_steps`` steps of zero input.

        Parameters
        ----------
        x : ndarray (n, n_steps, input_d)
        target : "nengo", "sim", "simreal" or "loihi"
        progress : callable, optional
            Shows an emulator run's progress, as in `HostMemoryClassifier.predict`.

        Returns
        -------
        logits : ndarray (n, n_classes)
        info : dict
            ``steps`` (all), ``steps_per_sequence``, ``chip_seconds_per_sequence``
            (``steps_per_sequence * dt``), ``seconds`` (wall, the run),
            ``build_seconds``, ``saturated`` (fraction of hidden neurons the
            rate network drives above ``1 / dt`` on the last sample),
            ``placement`` (`prepare`'s report) and, on the emulator,
            ``resources`` (`resource_counts` per sequence).
        """
        check_choice("target", target, ("nengo",) + TARGETS, self)
        x = np.asarray(x, dtype=float)
        check_sequence_data(x, n_inputs=self.input_d)
        n, n_steps = x.shape[:2]
        u = self.held(x @ self.e_x.T)
        steps = u.shape[1]
        rates = self.gain * np.maximum(self.memory_states(x)[:, -1] @ self.W_m.T, 0)
        saturated = float(np.mean(rates > 1 / self.dt))
        if saturated > 1e-3:
            warnings.warn(
                f"{saturated:.3%} of the hidden neurons would fire above 1/dt "
                f"(at most {rates.max():.4g} Hz): lower max_rate",
                stacklevel=2,
            )
        self._sequence.data = u.reshape(n * steps, -1)
        self.steps_per_sequence = steps
        info = dict(
            n=n,
            steps=n * steps,
            steps_per_sequence=steps,
            chip_seconds_per_sequence=steps * self.dt,
            saturated=saturated,
            placement=prepare(self, build=False),
        )
        self._sequence.dt = self.dt
        (out, hidden), ran = run_on_target(
            self, n, steps, target, self.dt, [self.probe, self.hidden_probe], progress
        )
        info.update(ran)
        lo, hi = self.hidden_band(n_steps)
        self.last_hidden = hidden[:, lo:hi].astype(np.float32)
        self.last_output = out
        return self.readout_logits(self.last_hidden, n_steps), info
