"""Any linear time-invariant system as a nengo network, exact or spiking."""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.dt_check import require_dt

# The tuning helpers live in `nengo_lmu.networks.tuning`; they are imported
# here under their old names too, so that earlier imports keep working.
from nengo_lmu.networks.tuning import (  # noqa: F401
    EVAL_STRETCH,
    RATE_SOLVER_REG,
    SPIKING_INTERCEPT,
    BuildProgress,
    InputCheck,
    check_progress_bar,
    check_synapse,
    default_process,
    neural_synapse,
    sample_input,
    series_lowpass,
    series_synapse,
    state_eval_points,
    vector_radius,
)
from nengo_lmu.realizers import DEFAULT_REALIZER, ScaledRealizer, as_realizer, is_stable
from nengo_lmu.systems import (
    DISCRETIZERS,
    LinearSystem,
    lowpass_mapping,
    synapse_mapping,
)
from nengo_lmu.validation import check_choice, check_int, check_positive, check_seed

MAPPINGS = ("discrete", "continuous")


class LinearSystemNetwork(nengo.Network):
    """A linear time-invariant system implemented as a nengo network.

    Two forms share one interface (``input``, ``state``, ``output``):

    - **exact** (``n_neurons=None``): nodes with a one-step recurrence. The
      ``state`` node follows the discrete recurrence
      ``x[t] = Ad x[t-1] + Bd u[t]`` step for step, where ``u[t]`` is what
      arrives at ``input`` on step ``t``.
    - **neural** (``n_neurons`` an int): populations of ``neuron_type``
      neurons represent the state in a basis chosen by ``realizer`` (each
      state peaks at about ``radius`` for the sample input ``process``), with
      the recurrent and input transforms mapped onto ``synapse`` (NEF
      principle 3). The ``state`` node reads the state back in the system's
      own basis through the same synapse, so it adds no lag beyond the
      dynamics' own.

    Parameters
    ----------
    system : LinearSystem
        The system. A continuous one is discretised at ``dt`` (for the exact
        form and the discrete mapping); a discrete one must have ``dt`` equal
        to the simulator's time step.
    n_neurons : int, optional
        Neurons per ensemble; ``None`` for the exact form.
    synapse : float or nengo.Lowpass
        The recurrent lowpass synapse of the neural form (ignored by the
        exact form).
    dt : float
        The simulator time step the network will run with.
    neuron_type : nengo.neurons.NeuronType, optional
        Neuron type of the neural form (default `nengo.LIF`).
    mapping : "discrete" or "continuous"
        ``"discrete"`` (default) maps the zoh system at ``dt`` onto the
        zoh-discretised synapse and is exact for nengo's ``Lowpass``;
        ``"continuous"`` uses ``A' = tau A + I``, which is what most older
        examples do and is only accurate when ``dt << tau``.
    realizer : "l1", "scaled", "balanced", "hankel", "identity", callable or array_like
        Basis in which the neurons represent the state: a name or a
        `nengo_lmu.systems.Realizer` (see `nengo_lmu.systems.realize`), or an
        explicit change of basis ``T`` (``x = T z``). The default
        (`nengo_lmu.systems.DEFAULT_REALIZER`, ``"l1"``) bounds each state for
        any input within [-1, 1] (`nengo_lmu.realizers.L1Realizer`);
        ``"scaled"`` rescales each state to peak at ``radius`` over ``process``.
    process : nengo.Process or array_like, optional
        A sample of the input, used to scale the state (and as evaluation
        points). Defaults to white noise band-limited to the system's fastest
        time constant.
    radius : float
        Peak of each represented state over the input sample.
    ens_dimensions : int
        Dimensions per ensemble (``n_states`` must be a multiple of it).
    discretizer : "zoh" or "euler"
        Discretisation of a continuous ``system`` for the exact form.
    ens_kwargs : dict, optional
        Extra arguments for every `nengo.Ensemble` (e.g. ``max_rates``). By
        default the evaluation points are the sampled state trajectory
        stretched by 1.5 (headroom for inputs larger than the sample) and,
        for spiking neuron types, the intercepts are uniform in
        ``[-0.75, 0.75]`` (relative to the radius).
    progress_bar : bool or nengo.utils.progress.ProgressBar
        Report the progress of a long neural build (one of at least
        ``tuning.PROGRESS_MIN_CONNECTIONS`` connections, such as a memory of
        high order) on this bar; ``True`` is nengo's default bar, shown
        only when the build takes over a second; ``False`` for none.
    label, seed, add_to_container
        As for `nengo.Network`.

    Attributes
    ----------
    input, state, output : nengo.Node
        Input ``u``, state ``x`` (in the system's basis), output
        ``y = C x + D u`` (the ``state`` node itself where ``C = I`` and
        ``D = 0``).
    ensembles : list of nengo.Ensemble
        The populations of the neural form (empty for the exact form); this
        is `nengo.Network.ensembles`.
    exact_connections : dict
        The exact form's ``"A"`` (recurrent) and ``"B"`` (input)
        connections, whose transforms are ``Ad`` and ``Bd`` (empty for the
        neural form).
    neurons_per_ensemble : int or None
        ``n_neurons`` as given (``Network.n_neurons`` is the total).
    discrete_system : LinearSystem
        The system at ``dt`` that the exact form implements.
    mapped_system : LinearSystem or None
        The transforms the populations were given (in the realised basis).
    T : ndarray
        The change of basis (``x = T z``) of the neural form.
    input_filter : nengo.synapses.Synapse or None
        A filter that the populations' input passes through before the
        recurrent synapse (``None`` here; the Loihi form's input ensemble
        adds one), which the readout of the state accounts for.

    Notes
    -----
    Variants of the neural form override its hooks, each called once per
    build in this order: `_check_synapse` (which synapses the form can
    build on), `_neuron_type` (default and check),
    `_ensemble_defaults` (defaults of ``ens_kwargs``), `_make_input` (what
    feeds the populations, e.g. an input ensemble; sets ``input_filter``)
    and `_connection_kwargs` (extra arguments of the population
    connections, e.g. a solver). The rest (realisation, mapping,
    evaluation points, populations and the state readout) is shared.
    """

    #: The populations' decoder solver for spiking neurons when the user
    #: gives none (``None``: nengo's default, ``LstsqL2(reg=0.1)``).
    spiking_solver = None

    def __init__(
        self,
        system,
        n_neurons=None,
        synapse=0.1,
        dt=0.001,
        neuron_type=None,
        mapping="discrete",
        realizer=DEFAULT_REALIZER,
        process=None,
        radius=1.0,
        ens_dimensions=1,
        discretizer="zoh",
        ens_kwargs=None,
        input_synapse=None,
        output_synapse=None,
        solver=None,
        progress_bar=True,
        label=None,
        seed=None,
        add_to_container=None,
    ):
        super().__init__(label=label, seed=seed, add_to_container=add_to_container)
        self.progress_bar = check_progress_bar(progress_bar, obj=self)
        check_seed("seed", seed, self)
        if not isinstance(system, LinearSystem):
            raise ValidationError(
                f"must be a nengo_lmu.LinearSystem, got {type(system).__name__}",
                attr="system",
                obj=self,
            )
        dt = check_positive("dt", dt, obj=self)
        # built at another dt, the network would be silently wrong
        require_dt(self, dt)
        if system.is_discrete and not np.isclose(system.dt, dt, rtol=1e-9, atol=0):
            raise ValidationError(
                f"must equal the discrete system's dt={system.dt}, got {dt}",
                attr="dt",
                obj=self,
            )
        check_choice("discretizer", discretizer, DISCRETIZERS, obj=self)
        check_choice("mapping", mapping, MAPPINGS, obj=self)
        if n_neurons is not None and (
            isinstance(n_neurons, (bool, np.bool_))
            or not isinstance(n_neurons, (int, np.integer))
            or n_neurons < 1
        ):
            raise ValidationError(
                f"must be None (exact form) or an integer >= 1, got {n_neurons!r}",
                attr="n_neurons",
                obj=self,
            )
        check_positive("radius", radius, obj=self)
        check_int("ens_dimensions", ens_dimensions, obj=self)
        if ens_kwargs is not None and not isinstance(ens_kwargs, dict):
            raise ValidationError(
                f"must be a dict of nengo.Ensemble arguments, got {ens_kwargs!r}",
                attr="ens_kwargs",
                obj=self,
            )
        if mapping == "continuous" and system.is_discrete:
            raise ValidationError(
                "the continuous mapping needs a continuous system",
                attr="mapping",
                obj=self,
            )
        self.system = system
        self.dt = dt
        self.neurons_per_ensemble = n_neurons
        self.discrete_system = system if system.is_discrete else system.discretize(dt, discretizer)
        self.mapped_system = None
        self.T = np.eye(system.n_states)
        self.input_filter = None
        self.exact_connections = {}
        self.input_synapse = check_synapse("input_synapse", input_synapse, self)
        self.output_synapse = check_synapse("output_synapse", output_synapse, self)
        if solver is not None and not isinstance(solver, nengo.solvers.Solver):
            raise ValidationError(
                f"must be a nengo.solvers.Solver, got {solver!r}", attr="solver", obj=self
            )
        if solver is not None and solver.weights:
            raise ValidationError(
                "must decode (weights=False): the state readout goes to a node",
                attr="solver",
                obj=self,
            )
        self.solver = solver
        self.population_solver = None
        self.mapping = None
        if n_neurons is not None and not is_stable(self.discrete_system):
            # Its worst-case state is unbounded: no scaling keeps it within
            # the populations' range (nengolib warned likewise).
            warnings.warn(
                f"{system!r} is not exponentially stable: its state can grow "
                f"without bound and saturate the populations",
                stacklevel=2,
            )

        with self:
            self.input = nengo.Node(size_in=system.n_inputs, label="input")
            self.state = nengo.Node(size_in=system.n_states, label="state")
            # What the system runs on: the input itself, or the input
            # filtered by input_synapse.
            self.filtered_input = self.input
            if self.input_synapse is not None:
                self.filtered_input = nengo.Node(size_in=system.n_inputs, label="filtered input")
                nengo.Connection(self.input, self.filtered_input, synapse=self.input_synapse)
            # Where the output is the state, it is the same node: a copy
            # would only cost time (in NengoDL, an operator per step).
            state_is_output = (
                system.n_outputs == system.n_states
                and np.array_equal(system.C, np.eye(system.n_states))
                and not np.any(system.D)
                and self.output_synapse is None
            )
            self.output = (
                self.state
                if state_is_output
                else nengo.Node(size_in=system.n_outputs, label="output")
            )
            if n_neurons is None:
                self._build_exact()
            else:
                self._build_neural(
                    synapse,
                    neuron_type,
                    mapping,
                    realizer,
                    process,
                    radius,
                    ens_dimensions,
                    ens_kwargs,
                )
            if not state_is_output:
                nengo.Connection(
                    self.state,
                    self.output,
                    transform=system.C,
                    synapse=self.output_synapse,
                )
                if np.any(system.D):
                    nengo.Connection(
                        self.filtered_input,
                        self.output,
                        transform=system.D,
                        synapse=self.output_synapse,
                    )

    def _build_exact(self):
        dsys = self.discrete_system
        self.exact_connections["B"] = nengo.Connection(
            self.filtered_input, self.state, transform=dsys.B, synapse=None
        )
        # synapse=0 makes the recurrence read the previous step's state.
        self.exact_connections["A"] = nengo.Connection(
            self.state, self.state, transform=dsys.A, synapse=0
        )

    def _neural_plan(self, synapse, mapping, realizer, process, radius, ens_dimensions):
        """What every neural form needs before it builds: the checked
        ``synapse`` and ``ens_dimensions``, the sample input ``u``, the
        realisation ``T`` (stored as ``self.T``), the mapped system (stored as
        ``self.mapped_system``) and the state over the sample ``z``.

        Returns ``(synapse, u, z)``.
        """
        synapse = neural_synapse(synapse, mapping, obj=self)
        self._check_synapse(synapse)
        n = self.system.n_states
        if check_int("ens_dimensions", ens_dimensions, obj=self) and n % ens_dimensions:
            raise ValidationError(
                f"must be a positive integer dividing n_states={n}, got {ens_dimensions!r}",
                attr="ens_dimensions",
                obj=self,
            )

        radius = check_positive("radius", radius, obj=self)
        rng = np.random.RandomState(self.seed)
        if process is None:
            process = default_process(self.discrete_system)
        u = sample_input(process, self.system.n_inputs, self.dt, rng, obj=self)
        rule = as_realizer(realizer, obj=self)
        if getattr(rule, "bounded", False) and not is_stable(self.discrete_system):
            # No bound exists (warned above): scale to the sample instead.
            rule = ScaledRealizer()
        self.bounded = bool(getattr(rule, "bounded", False))
        T = np.asarray(rule(self.discrete_system, u, radius), dtype=np.float64)
        self.T = T
        realized = self.system.transform(T)
        if type(synapse) is nengo.Lowpass:
            # The closed form (bit for bit what earlier versions built).
            self.mapped_system = lowpass_mapping(
                realized, synapse.tau, dt=self.dt if mapping == "discrete" else None
            )
            taps = [(self.mapped_system.B, synapse)]
        else:
            dreal = self.discrete_system.transform(T)
            self.mapping = synapse_mapping(dreal, synapse, self.dt)
            taps = self.mapping.taps
            self.mapped_system = LinearSystem(
                self.mapping.A, taps[0][0], dreal.C, dreal.D, dt=self.dt
            )
            if np.any(np.abs(self.mapping.extra_poles) >= 1):
                warnings.warn(
                    f"mapping onto {synapse} adds poles outside the unit "
                    f"circle (|p| up to "
                    f"{np.max(np.abs(self.mapping.extra_poles)):.4g}): exact "
                    f"in principle, but the populations' noise will grow",
                    stacklevel=4,
                )
        self.input_taps = taps

        z = self.discrete_system.transform(T).simulate(u, output=False)
        self.radius = radius
        self.ens_dimensions = int(ens_dimensions)
        self.state_sample = z
        self._eval_rng = rng
        return synapse, u, z

    def check_input(self, u, warn=False):
        """How much of the input ``u`` would push the populations' state
        outside the range they are tuned for (``radius``).

        Parameters
        ----------
        u : array_like, shape (n_steps, n_inputs)
            An input sequence at the network's ``dt`` (a 1-D array for one
            input).
        warn : bool
            Also issue a warning when any of it falls outside.

        Returns
        -------
        InputCheck

        Examples
        --------
        >>> from nengo_lmu import legendre_system
        >>> net = LinearSystemNetwork(legendre_system(4, 0.1), n_neurons=50,
        ...                           add_to_container=False)
        >>> net.check_input(0.1 * np.ones(500)).fraction_outside
        0.0
        >>> net.check_input(3 * np.ones(500)).fraction_outside > 0.5
        True
        """
        if self.neurons_per_ensemble is None:
            raise ValidationError(
                "the exact form has no tuned range: nothing to check",
                attr="n_neurons",
                obj=self,
            )
        u = np.asarray(u, dtype=np.float64)
        if u.ndim == 1 and self.system.n_inputs == 1:
            u = u[:, None]
        if not np.all(np.isfinite(u)):
            raise ValidationError("contains NaN or inf", attr="u", obj=self)
        z = self.discrete_system.transform(self.T).simulate(u, output=False)
        result = InputCheck.of_states(z, self.ensembles, self.ens_dimensions)
        if warn and result.fraction_outside > 0:
            warnings.warn(str(result), stacklevel=2)
        return result

    # --- hooks of the neural form (see the class notes) ---------------------

    def _check_synapse(self, synapse):
        """Refuse a synapse this form cannot build on (called with the
        checked `nengo.LinearFilter`).

        The plain form maps onto any of them. A form that feeds its
        populations through its own input path (an overridden
        `_make_input`, such as the Loihi form's input ensemble) takes only
        a `nengo.Lowpass` unless it overrides this hook too: the extra input
        taps of a higher-order synapse would have to come from that path.
        """
        own_input = type(self)._make_input is not LinearSystemNetwork._make_input
        if own_input and type(synapse) is not nengo.Lowpass:
            raise ValidationError(
                f"{type(self).__name__} builds on a Lowpass synapse only, got {synapse}",
                attr="synapse",
                obj=self,
            )

    def _neuron_type(self, neuron_type):
        """The populations' neuron type: the given one, or `nengo.LIF`."""
        if neuron_type is None:
            return nengo.LIF()
        if not isinstance(neuron_type, nengo.neurons.NeuronType):
            raise ValidationError(
                f"must be a nengo NeuronType instance (e.g. nengo.LIF()), got {neuron_type!r}",
                attr="neuron_type",
                obj=self,
            )
        return neuron_type

    def _ensemble_defaults(self, neuron_type, ens_kwargs):
        """``ens_kwargs`` with this form's defaults for every population.

        The base form sets none here: its evaluation points and (for
        spiking neurons) intercepts are set per population in
        `_build_neural`, where ``ens_kwargs`` does not give them.
        """
        return ens_kwargs

    def _make_input(self, neuron_type, u, ens_kwargs):
        """What feeds the populations (here the ``input`` node itself).

        An override may add objects (built before the populations) and set
        ``self.input_filter``, the filter they add on the way. The input
        (after ``input_synapse``) is ``self.filtered_input``.
        """
        return self.filtered_input

    def _connection_kwargs(self):
        """Extra arguments of the input and recurrent connections."""
        return {}

    # --------------------------------------------------------------------------

    def _build_neural(
        self,
        synapse,
        neuron_type,
        mapping,
        realizer,
        process,
        radius,
        ens_dimensions,
        ens_kwargs,
    ):
        synapse, u, z = self._neural_plan(
            synapse, mapping, realizer, process, radius, ens_dimensions
        )
        neuron_type = self._neuron_type(neuron_type)
        z_eval = state_eval_points(
            z,
            radius,
            self._eval_rng,
            bounded=self.bounded and ens_dimensions == 1,
            spiking=neuron_type.spiking,
        )
        self.state_eval_points = z_eval
        ens_kwargs = self._ensemble_defaults(
            neuron_type, {} if ens_kwargs is None else dict(ens_kwargs)
        )
        source = self._make_input(neuron_type, u, ens_kwargs)
        if self.input_synapse is not None and self.input_filter is not None:
            raise ValidationError(
                "this form filters its input itself (input_filter); it "
                "cannot also take input_synapse",
                attr="input_synapse",
                obj=self,
            )
        conn_kwargs = self._connection_kwargs()
        # The user's solver decodes every connection out of the populations
        # unless the form pins its own. Rate neurons have no spike noise to
        # regularise against: a tenth of nengo's default regularisation
        # (reg=0.1) decodes them far better (nengolib's rolling window, one
        # 6-D ensemble of 1000 LIFRate neurons, seeds 0 and 1: delay NRMSE
        # 0.001-0.003 against 0.07 and a divergence).
        solver = self.solver
        if solver is None and not neuron_type.spiking:
            solver = nengo.solvers.LstsqL2(reg=RATE_SOLVER_REG)
        elif solver is None:
            solver = self.spiking_solver
        self.population_solver = solver
        pop_kwargs = dict(conn_kwargs)
        if solver is not None:
            pop_kwargs.setdefault("solver", solver)
        readout_kwargs = {} if solver is None else {"solver": solver}
        T = self.T
        Ap = self.mapped_system.A
        Ad, Bd = self.discrete_system.A, self.discrete_system.B
        n = self.system.n_states
        k = ens_dimensions

        slices = [slice(i, i + k) for i in range(0, n, k)]
        populations = []
        for i, sl in enumerate(slices):
            # Each state peaks near `radius`; a population holding k of
            # them together sees vectors up to about sqrt(k) radii long.
            factor = 1.0 if k == 1 else vector_radius(self.state_sample[:, sl], radius)
            kwargs = dict(
                n_neurons=self.neurons_per_ensemble,
                dimensions=k,
                neuron_type=neuron_type,
                radius=radius * factor,
                label=f"ensemble[{i}]",
            )
            if "eval_points" not in ens_kwargs:
                kwargs["eval_points"] = z_eval[:, sl] / factor
            if "intercepts" not in ens_kwargs and neuron_type.spiking:
                # Each state peaks at `radius` but spends most of its time
                # well inside it. Spiking neurons: thresholds away from the
                # edges, so that more neurons fire and average out spike
                # noise (delay task, 996 LIF neurons, seeds 0-3: NRMSE
                # 0.069-0.081 with these defaults; 0.10-0.14 with intercepts
                # in [-0.9, 0.9], unstretched evaluation points and the
                # balanced realisation). Rate
                # neurons have no spike noise, and nengo's full-range
                # intercepts decode them better (LIFRate: 0.023-0.035).
                kwargs["intercepts"] = nengo.dists.Uniform(-SPIKING_INTERCEPT, SPIKING_INTERCEPT)
            kwargs.update(ens_kwargs)
            populations.append(nengo.Ensemble(**kwargs))

        for dst, sl_dst in zip(populations, slices):
            for Bt, tap_synapse in self.input_taps:
                nengo.Connection(
                    source,
                    dst,
                    transform=Bt[sl_dst],
                    synapse=tap_synapse,
                    **conn_kwargs,
                )
        n_blocks = sum(bool(np.any(Ap[a, b])) for a in slices for b in slices)
        # A memory of high order makes order**2 connections here (most of
        # a minute at order 300): say so on a progress bar.
        with BuildProgress(self.progress_bar, len(slices), n_blocks + len(slices)) as progress:
            for src, sl_src in zip(populations, slices):
                for dst, sl_dst in zip(populations, slices):
                    block = Ap[sl_dst, sl_src]
                    if np.any(block):
                        nengo.Connection(src, dst, transform=block, synapse=synapse, **pop_kwargs)
                # What the populations represent, read back in the system's
                # basis through the same synapse, T (h * (A' z_hat + B' u)), is
                # the state of the previous step (the synapse sees the input one
                # step late). One more step of the exact recurrence, with the
                # input of this step, brings it level with the exact form.
                nengo.Connection(
                    src,
                    self.state,
                    transform=Ad @ T @ Ap[:, sl_src],
                    synapse=synapse,
                    **readout_kwargs,
                )
                progress.step()
        # The input terms of that step, computed exactly from the input node:
        # the populations saw it through input_filter, then each tap.
        for Bt, tap_synapse in self.input_taps:
            nengo.Connection(
                self.filtered_input,
                self.state,
                transform=Ad @ T @ Bt,
                synapse=series_synapse(tap_synapse, self.input_filter, self.dt),
            )
        nengo.Connection(self.filtered_input, self.state, transform=Bd, synapse=self.input_filter)
