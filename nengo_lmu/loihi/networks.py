"""Loihi-ready forms of the linear-system networks.

`LoihiNeuralForm` replaces `.LinearSystemNetwork`'s neural build
(``_build_neural``) with one laid out for the chip's timing and weights; it
takes the same plan of the realisation and mapping
(`nengo_lmu.networks.neural_plan.NeuralPlan`). Its own choices (realiser, evaluation points,
intercepts, rates, synapse) are pinned in `nengo_lmu.loihi.layout`, so a
change of the plain network's defaults does not change this form.
"""

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.loihi.hardware import chip_neuron_types
from nengo_lmu.loihi.layout import (
    CHIP_TO_HOST_STEPS,
    LOIHI_ALLOCATION,
    LOIHI_EVAL_STRETCH,
    LOIHI_INTERCEPT,
    LOIHI_MAX_RATES,
    LOIHI_MIN_SHARE,
    LOIHI_N_NEURONS,
    LOIHI_OPTIONS_DOC,
    LOIHI_REALIZER,
    LOIHI_REG,
    LOIHI_SYNAPSE,
    allocate_neurons,
    noise_gains,
)
from nengo_lmu.networks.legendre_memory import LegendreMemory
from nengo_lmu.networks.linear_system import LinearSystemNetwork
from nengo_lmu.systems import legendre_readout
from nengo_lmu.validation import check_bool, check_choice, check_int, check_positive


def _with_loihi_options(cls):
    """Write `LOIHI_OPTIONS_DOC` where ``cls``'s docstring has the line
    ``{loihi_options}`` (the networks share the entries)."""
    if cls.__doc__:  # None under python -OO
        cls.__doc__ = cls.__doc__.replace("    {loihi_options}\n", LOIHI_OPTIONS_DOC)
    return cls


@_with_loihi_options
class LoihiNeuralForm:
    """The neural form of `.LinearSystemNetwork`, laid out for Loihi.

    A mixin placed before a `.LinearSystemNetwork` subclass. The layout:

    - **input encoder** (host, ``on_chip=False``): ``input_pairs`` on/off
      pairs of integrate-and-fire neurons per input dimension, each firing
      up to ``input_rate`` Hz at the largest input of the sample
      ``process`` (times 1.1; larger inputs are clipped, as on the chip a
      neuron spikes at most once a step). Their phases are spread, so
      together they send the input with ``input_pairs`` levels per step.
      Their spikes go to the chip as they are.
    - **state populations** (chip): one population of ``n_neurons`` LIF
      neurons per ``ens_dimensions`` state dimensions, connected neuron to
      neuron (solver ``weights=True``; a decoded connection would go through
      decode neurons, whose block cannot hold the small entries of the
      recurrent matrix on 8 bits). The input is weighted on the chip straight
      from the encoder's spikes, with the same ``Lowpass(synapse)`` as the
      recurrence: one time constant per block, and no input filter.
    - **relay** (chip): one neuron per encoder neuron that repeats its
      spikes (``Lowpass(0)``: one step), so that the host reads the input
      through the same chip-to-host path, with the same latency, as the
      populations (nengo-loihi's emulator delivers chip values one step
      later than nengo.Simulator; a host copy of the input would be one
      step out of line with the populations, and the readout relies on the
      two cancelling).
    - **readout** (host): the ``state`` node gets the populations' total
      filtered input in the system's basis, which is the state they
      represent, from their spikes (``A'``, through ``synapse``) and the
      relay's (``B'``, through the same lowpass without its step of delay).

    The state is read ``1 + latency_steps`` steps late (one step is the
    synapse's, ``latency_steps`` the chip-to-host path's); the delay readout
    of `LoihiLegendreMemory` decodes ``theta`` minus that lag instead, so
    its output is in time with the input.

    With ``host_readout=False`` the relay and the ``state`` connections are
    not built (``relay`` is None; ``state`` stays, unconnected): for a
    network that reads the populations on the chip. nengo-loihi turns each
    decoded chip-to-host connection into a non-spiking readout block, one
    per population, and sends the relay's spikes to the host every step.

    Parameters
    ----------
    *args
        The positional arguments of the `.LinearSystemNetwork` subclass.
    n_neurons : int
        Neurons per population (required: the form is neural).
    {loihi_options}
    **kwargs
        The other arguments of the `.LinearSystemNetwork` subclass (the
        ``mapping`` must be ``"discrete"``).
    """

    #: The chip form pins its own neurons (`_build_neural`): no config defaults.
    default_ensemble = {}

    def __init__(
        self,
        *args,
        n_neurons,
        input_pairs=16,
        input_rate=1000.0,
        max_rates=LOIHI_MAX_RATES,
        latency_steps=CHIP_TO_HOST_STEPS,
        synapse=LOIHI_SYNAPSE,
        realizer=LOIHI_REALIZER,
        intercept=LOIHI_INTERCEPT,
        allocation=LOIHI_ALLOCATION,
        host_readout=True,
        **kwargs,
    ):
        # the Loihi options, checked and kept, then the rest of the
        # arguments to the `.LinearSystemNetwork` subclass after the mixin
        self._init_loihi(
            n_neurons,
            input_pairs,
            input_rate,
            max_rates,
            latency_steps,
            intercept,
            allocation,
            host_readout,
            synapse,
            kwargs.get("mapping", "discrete"),
        )
        super().__init__(*args, n_neurons=n_neurons, synapse=synapse, realizer=realizer, **kwargs)

    def _init_loihi(
        self,
        n_neurons,
        input_pairs,
        input_rate,
        max_rates,
        latency_steps,
        intercept=LOIHI_INTERCEPT,
        allocation=LOIHI_ALLOCATION,
        host_readout=True,
        synapse=LOIHI_SYNAPSE,
        mapping="discrete",
    ):
        if n_neurons is None:
            raise ValidationError("the Loihi form is neural: give n_neurons", attr="n_neurons")
        self.input_pairs = check_int("input_pairs", input_pairs, None)
        self.input_rate = check_positive("input_rate", input_rate, None)
        if self.input_rate > 1000:
            raise ValidationError(
                f"must be at most 1000 Hz (a Loihi neuron spikes at most once a "
                f"1 ms step), got {input_rate}",
                attr="input_rate",
            )
        lo, hi = (float(r) for r in max_rates)
        if not 0 < lo <= hi <= 1000:
            raise ValidationError(
                f"must be (low, high) with 0 < low <= high <= 1000 Hz, got {max_rates}",
                attr="max_rates",
            )
        self.max_rates = (lo, hi)
        self.latency_steps = check_int("latency_steps", latency_steps, None, minimum=0)
        try:
            self.intercept = float(intercept)
        except (TypeError, ValueError):
            self.intercept = np.nan
        if not 0 <= self.intercept < 1:
            raise ValidationError(
                f"must be a number in [0, 1), got {intercept!r}", attr="intercept"
            )
        self.allocation = check_choice("allocation", allocation, ("uniform", "gain"))
        self.host_readout = check_bool("host_readout", host_readout, None)
        # the chip's only synapse is nengo's zoh Lowpass, one per block
        if isinstance(synapse, nengo.synapses.Synapse) and type(synapse) is not nengo.Lowpass:
            raise ValidationError(
                f"{type(self).__name__} builds on a Lowpass synapse only (the "
                f"chip's synapse), got {synapse}",
                attr="synapse",
                obj=self,
            )
        if mapping != "discrete":
            raise ValidationError(
                "the Loihi form uses the discrete mapping (the chip's synapse is "
                "nengo's zoh Lowpass, step for step)",
                attr="mapping",
                obj=self,
            )

    def _chip_neuron_type(self, neuron_type):
        # the chip starts every voltage at zero; so does nengo, then
        if neuron_type is None:
            return nengo.LIF(initial_state={"voltage": nengo.dists.Choice([0])})
        if not isinstance(neuron_type, chip_neuron_types()):
            raise ValidationError(
                f"must be LIF or SpikingRectifiedLinear to run on Loihi, got "
                f"{type(neuron_type).__name__}",
                attr="neuron_type",
                obj=self,
            )
        return neuron_type

    # The full layout differs from the plain neural form, so the whole
    # neural build is overridden; it takes the same plan.
    def _build_neural(self, plan, neuron_type, ens_kwargs):
        neuron_type = self._chip_neuron_type(neuron_type)
        from nengo_lmu.loihi._compat import ensure_params, nengo_loihi_module

        loihi_neurons = nengo_loihi_module().neurons
        ensure_params(self)
        rng = np.random.RandomState(self._layout_seed())
        self.synapse = plan.synapse

        # evaluation points: the sample's state trajectory, stretched
        z = plan.state_sample
        z = z[rng.choice(len(z), size=min(len(z), 5000), replace=False)]
        stretch = np.atleast_1d(LOIHI_EVAL_STRETCH)
        z_eval = np.concatenate([z * f for f in stretch]) / plan.radius

        self.input_decode = self._build_encoder(plan.sample)
        # --- the relay (chip): repeats each encoder spike one step later ---
        self.relay = None
        if self.host_readout:
            self._build_relay(loihi_neurons, self.encoder.n_neurons)
        self._build_populations(plan, neuron_type, rng, z_eval, ens_kwargs)

    def _build_encoder(self, u):
        """The host's input encoder; returns the decoding of its spikes."""
        m, K = self.system.n_inputs, self.input_pairs
        scale = 1.1 * np.max(np.abs(u), axis=0)
        self.input_scale = scale
        clip = nengo.Node(lambda t, x: np.clip(x, -scale, scale), size_in=m, label="input clip")
        nengo.Connection(self.input, clip, synapse=None)
        signs = np.tile(np.repeat([1.0, -1.0], m), K)
        dims = np.tile(np.arange(m), 2 * K)
        phase = np.repeat((np.arange(K) + 0.5) / K, 2 * m)
        self.encoder = nengo.Ensemble(
            2 * m * K,
            m,
            encoders=signs[:, None] * np.eye(m)[dims],
            normalize_encoders=False,
            neuron_type=nengo.SpikingRectifiedLinear(initial_state={"voltage": phase}),
            gain=self.input_rate / scale[dims],
            bias=np.zeros(2 * m * K),
            label="input encoder",
        )
        self.config[self.encoder].on_chip = False
        nengo.Connection(clip, self.encoder, synapse=None)
        # u = decode @ (spike trains): each spike is worth scale / (rate K)
        decode = np.zeros((m, 2 * m * K))
        decode[dims, np.arange(2 * m * K)] = signs * scale[dims] / (self.input_rate * K)
        return decode

    def _build_relay(self, loihi_neurons, size):
        self.relay = nengo.Ensemble(
            size,
            1,
            neuron_type=loihi_neurons.LoihiSpikingRectifiedLinear(),
            gain=np.ones(size),
            bias=np.zeros(size),
            encoders=np.ones((size, 1)),
            label="input relay",
        )
        # one spike (1/dt for one step) lifts the voltage by 1.5 thresholds;
        # the neuron resets to zero, so it fires once per input spike
        nengo.Connection(
            self.encoder.neurons,
            self.relay.neurons,
            transform=1.5 * np.eye(size),
            synapse=nengo.Lowpass(0),
        )

    def _build_populations(self, plan, neuron_type, rng, z_eval, ens_kwargs):
        # --- the state populations (chip) ---
        Ap, Bp = plan.mapped_system.A, plan.mapped_system.B
        a = float(np.exp(-self.dt / plan.synapse.tau))
        slices, N = plan.slices, self.neurons_per_ensemble
        self.noise_gains = self._noise_gains(Ap, a, slices)
        sizes = (
            allocate_neurons(self.noise_gains, N, LOIHI_MIN_SHARE)
            if self.allocation == "gain"
            else [N] * len(slices)
        )
        self.population_sizes = sizes
        sphere = nengo.dists.UniformHypersphere(surface=True)
        lo, hi = self.max_rates
        populations = []
        for i, (sl, size) in enumerate(zip(slices, sizes)):
            enc = sphere.sample(size, plan.ens_dimensions, rng=rng)
            rates = rng.uniform(lo, hi, size=size)
            icpt = rng.uniform(-self.intercept, self.intercept, size=size)
            gain, bias = neuron_type.gain_bias(rates, icpt)
            kwargs = dict(
                n_neurons=size,
                dimensions=plan.ens_dimensions,
                neuron_type=neuron_type,
                encoders=enc,
                gain=gain,
                bias=bias,
                radius=plan.radius,
                eval_points=z_eval[:, sl],
                label=f"ensemble[{i}]",
            )
            kwargs.update(ens_kwargs)
            populations.append(nengo.Ensemble(**kwargs))
        self.populations = populations
        # what each block was designed for (`prepare` reports it per block)
        self.loihi_design = {}
        if self.relay is not None:
            self.loihi_design[self.relay] = dict(tau=0.0, weight_range=1.0)
        for pop, sl in zip(populations, slices):
            w = np.abs(np.concatenate([Ap[sl].ravel(), Bp[sl].ravel()]))
            w = w[w > 1e-12 * w.max()]
            self.loihi_design[pop] = dict(
                tau=plan.synapse.tau, weight_range=float(w.max() / w.min())
            )
        self._connect_populations(plan, a)

    def _connect_populations(self, plan, a):
        """The populations' input (from the encoder's spikes), their
        recurrence (neuron to neuron) and the host readout of the state."""
        synapse, decode, populations, slices = (
            plan.synapse,
            self.input_decode,
            self.populations,
            plan.slices,
        )
        T, Ap, Bp = plan.T, plan.mapped_system.A, plan.mapped_system.B
        weights = nengo.solvers.LstsqL2(weights=True, reg=LOIHI_REG)
        for dst, sl in zip(populations, slices):
            # nengo applies the post neurons' gains to a connection into them
            nengo.Connection(
                self.encoder.neurons,
                dst.neurons,
                transform=(dst.encoders / plan.radius) @ Bp[sl] @ decode,
                synapse=synapse,
            )
        for src, sl_src in zip(populations, slices):
            for dst, sl_dst in zip(populations, slices):
                block = Ap[sl_dst, sl_src]
                if np.any(block):
                    nengo.Connection(src, dst, transform=block, synapse=synapse, solver=weights)
            # the readout: what the populations are given, filtered as they
            # filter it, is the state they represent
            if self.host_readout:
                nengo.Connection(src, self.state, transform=T @ Ap[:, sl_src], synapse=synapse)
        if not self.host_readout:
            return
        # the relay's spikes are the encoder's one step late, so the same
        # lowpass without its own step of delay brings them level
        nengo.Connection(
            self.relay.neurons,
            self.state,
            transform=T @ Bp @ decode,
            synapse=nengo.LinearFilter([1 - a, 0], [1, -a], analog=False),
        )

    def _noise_gains(self, Ap, a, slices):
        return noise_gains(Ap, a, self._noise_readout() @ self.T, slices)

    def _noise_readout(self):
        """The readout (of the state in the system's basis) whose noise
        ``allocation="gain"`` minimises: the system's output."""
        return self.system.C

    def _layout_seed(self):
        """The seed of the sampled neurons: the network's, else the
        enclosing network's, else 0, so that a network builds the same
        populations every time (the runs repeat)."""
        if self.seed is not None:
            return self.seed
        for net in reversed(list(nengo.Network.context)):
            if net is not self and getattr(net, "seed", None) is not None:
                return net.seed
        return 0

    @property
    def readout_lag_steps(self):
        """Steps by which ``state`` lags the exact memory on the chip."""
        return 1 + self.latency_steps


@_with_loihi_options
class LoihiLinearSystemNetwork(LoihiNeuralForm, LinearSystemNetwork):
    """`.LinearSystemNetwork`'s neural form, laid out for Loihi.

    The ``state`` node lags the exact system by `readout_lag_steps` (see
    `LoihiNeuralForm` for the layout). With ``allocation="gain"`` the
    populations share the neurons by their `noise_gains` to the system's
    output.

    Parameters
    ----------
    system : LinearSystem or tuple
        The system, as for `.LinearSystemNetwork`.
    n_neurons : int
        Neurons per population (required: the form is neural).
    {loihi_options}
    **kwargs
        The other arguments of `.LinearSystemNetwork` (``dt``,
        ``neuron_type``, ``process``, ``radius``, ...); ``mapping`` must be
        ``"discrete"``.

    Attributes
    ----------
    encoder, relay : nengo.Ensemble
        The host's input encoder and the chip's relay of its spikes.
    populations : list of nengo.Ensemble
        The state populations.
    population_sizes : list of int
        Their neuron counts.
    noise_gains : ndarray
        Per population, the H2 gain from its decoding noise to the readout
        (`noise_gains`).
    """

    def __init__(self, system, n_neurons, **kwargs):
        super().__init__(system, n_neurons=n_neurons, **kwargs)


@_with_loihi_options
class LoihiLegendreMemory(LoihiNeuralForm, LegendreMemory):
    """`.LegendreMemory`'s spiking form, laid out for Loihi.

    `add_delay_output` decodes the delay minus the readout's lag
    (`readout_lag_steps`), so the output is in time with the input on the
    chip; on nengo.Simulator, which has no chip-to-host latency, it leads
    by ``latency_steps`` steps. With ``allocation="gain"`` the populations
    share the neurons by their `noise_gains` to the delay-``theta`` readout.

    Parameters
    ----------
    order : int
        The memory's order (state dimensions per input dimension).
    theta : float
        The window (s).
    n_neurons : int, optional
        Neurons per state dimension (`LOIHI_N_NEURONS`).
    {loihi_options}
    **kwargs
        The other arguments of `.LegendreMemory` (``size_in``, ``dt``,
        ``process=``, ``radius``, ...); ``mapping`` must be ``"discrete"``.

    Examples
    --------
    >>> with nengo.Network() as net:
    ...     stim = nengo.Node(nengo.processes.WhiteSignal(10, high=10))
    ...     mem = LoihiLegendreMemory(6, 0.1, n_neurons=100)
    ...     _ = nengo.Connection(stim, mem.input, synapse=None)
    ...     delayed = mem.add_delay_output(1.0)
    >>> len(mem.populations), mem.encoder.n_neurons, mem.relay.n_neurons
    (6, 32, 32)
    """

    def __init__(self, order, theta, n_neurons=LOIHI_N_NEURONS, **kwargs):
        super().__init__(order, theta, n_neurons=n_neurons, **kwargs)

    def _noise_readout(self):
        # the delay theta (each input dimension), as the delay readout decodes it
        shift = self.readout_lag_steps * self.dt / self.theta
        return np.kron(np.eye(self.size_in), legendre_readout(self.order, 1 - shift)[None, :])

    def add_delay_output(self, r, synapse=None, label=None):
        """Add a node that decodes the input delayed by ``r * theta``, in
        time with the input on the chip (see the class notes).

        The lag of the readout is taken off the delay, so ``r`` must be at
        least ``readout_lag_steps * dt / theta``.
        """
        if not self.host_readout:
            raise ValidationError(
                "the memory was built with host_readout=False: it has no state "
                "readout to decode a delay from",
                attr="host_readout",
                obj=self,
            )
        shift = self.readout_lag_steps * self.dt / self.theta
        r_arr = np.asarray(r, dtype=float)
        if np.any(r_arr < shift) or np.any(r_arr > 1):
            raise ValidationError(
                f"must be in [{shift:g}, 1] (the readout lags by "
                f"{self.readout_lag_steps} steps), got {r}",
                attr="r",
                obj=self,
            )
        return super().add_delay_output(
            r_arr - shift, synapse=synapse, label=label or f"delay(r={np.round(r, 4).tolist()})"
        )
