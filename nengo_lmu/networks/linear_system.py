"""Any linear time-invariant system as a nengo network, exact or spiking."""

import warnings

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.networks.build_progress import BuildProgress, check_progress_bar
from nengo_lmu.networks.dt_check import require_dt
from nengo_lmu.networks.neural_plan import (
    RATE_SOLVER_REG,
    SPIKING_INTERCEPT,
    InputCheck,
    check_synapse,
    default_process,
    neural_synapse,
    plan_neural,
    sample_input,
    vector_radius,
)
from nengo_lmu.realizers import DEFAULT_REALIZER, as_realizer, is_stable
from nengo_lmu.systems import DISCRETIZERS, LinearSystem
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
        `nengo_lmu.realizers.Realizer` (see `nengo_lmu.realizers.realize`), or an
        explicit change of basis ``T`` (``x = T z``). The default
        (`nengo_lmu.realizers.DEFAULT_REALIZER`, ``"l1"``) bounds each state for
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
        ``build_progress.PROGRESS_MIN_CONNECTIONS`` connections, such as a memory of
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
    plan : NeuralPlan or None
        The neural form's plan (`nengo_lmu.networks.neural_plan.plan_neural`):
        the change of basis, the mapped system, the input sample, the
        evaluation points (None for the exact form).
    mapped_system : LinearSystem or None
        The transforms the populations were given (in the realised basis;
        ``plan.mapped_system``).
    T : ndarray
        The change of basis (``x = T z``) of the neural form (``plan.T``;
        the identity for the exact form).

    Notes
    -----
    The neural form is built in two steps: `plan_neural` works out what the
    populations represent (a pure function), and `_build_neural` builds
    them from that plan. A variant overrides what it changes: `_realize`
    (the input sample and the realisation rule; `.LegendreMemory` realises
    one memory and repeats it), `_build_neural` (the Loihi form's layout),
    and the class attributes `default_ensemble` (the defaults of the
    populations, set on ``self.config`` where no ``neuron_type`` is given)
    and `spiking_solver`.
    """

    #: The populations' decoder solver for spiking neurons when the user
    #: gives none (``None``: nengo's default, ``LstsqL2(reg=0.1)``).
    spiking_solver = None

    #: Defaults of the populations (`nengo.Ensemble` parameters) where no
    #: ``neuron_type`` is given, set on ``self.config`` as nengo's
    #: `~nengo.networks.EnsembleArray` takes its defaults (nengo's own here).
    default_ensemble = {}

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
        dt = self._check_system(system, dt, discretizer, mapping)
        self.system = system
        self.dt = dt
        self.discrete_system = system if system.is_discrete else system.discretize(dt, discretizer)
        self.neurons_per_ensemble = self._check_n_neurons(n_neurons)
        self.input_synapse = check_synapse("input_synapse", input_synapse, self)
        self.output_synapse = check_synapse("output_synapse", output_synapse, self)
        self.solver = self._check_solver(solver)
        self.exact_connections = {}
        self.plan = None
        self.population_solver = None
        radius = check_positive("radius", radius, obj=self)
        ens_kwargs = self._check_ens_kwargs(ens_kwargs)
        check_int("ens_dimensions", ens_dimensions, obj=self)
        if n_neurons is not None:
            ens_dimensions = self._check_ens_dimensions(ens_dimensions)
            synapse = neural_synapse(synapse, mapping, obj=self)
            neuron_type = self._check_neuron_type(neuron_type)
        if not is_stable(self.discrete_system):
            # Its worst-case state is unbounded: no scaling keeps it within
            # the populations' range (nengolib warned likewise), and the exact
            # form's state grows as well.
            consequence = (
                "and overflow the exact form's state"
                if n_neurons is None
                else "and saturate the populations"
            )
            warnings.warn(
                f"{system!r} is not exponentially stable: its state can grow "
                f"without bound {consequence}",
                stacklevel=2,
            )
        with self:
            self._make_nodes()
            if n_neurons is None:
                self._build_exact()
            else:
                spiking = self._neuron_defaults(neuron_type).spiking
                self.plan = self._plan(
                    realizer, process, synapse, mapping, radius, ens_dimensions, spiking
                )
                self._build_neural(self.plan, neuron_type, ens_kwargs)
            self._connect_output()

    def _plan(self, realizer, process, synapse, mapping, radius, ens_dimensions, spiking):
        """The neural form's `NeuralPlan` (`plan_neural`), from the network's
        seed: the sample (`_realize`) and then the evaluation points draw
        from one generator."""
        rng = np.random.RandomState(self.seed)
        sample, rule = self._realize(realizer, process, radius, rng)
        return plan_neural(
            self.system,
            self.discrete_system,
            self.dt,
            sample,
            rule,
            synapse,
            rng,
            mapping=mapping,
            radius=radius,
            ens_dimensions=ens_dimensions,
            spiking=spiking,
        )

    # --- argument checks ------------------------------------------------------

    def _check_system(self, system, dt, discretizer, mapping):
        """Check the system and how it is run; returns the checked ``dt``."""
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
        if mapping == "continuous" and system.is_discrete:
            raise ValidationError(
                "the continuous mapping needs a continuous system",
                attr="mapping",
                obj=self,
            )
        return dt

    def _check_n_neurons(self, n_neurons):
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
        return n_neurons

    def _check_ens_dimensions(self, ens_dimensions):
        n = self.system.n_states
        if check_int("ens_dimensions", ens_dimensions, obj=self) and n % ens_dimensions:
            raise ValidationError(
                f"must be a positive integer dividing n_states={n}, got {ens_dimensions!r}",
                attr="ens_dimensions",
                obj=self,
            )
        return int(ens_dimensions)

    def _check_ens_kwargs(self, ens_kwargs):
        if ens_kwargs is not None and not isinstance(ens_kwargs, dict):
            raise ValidationError(
                f"must be a dict of nengo.Ensemble arguments, got {ens_kwargs!r}",
                attr="ens_kwargs",
                obj=self,
            )
        return {} if ens_kwargs is None else dict(ens_kwargs)

    def _check_neuron_type(self, neuron_type):
        if neuron_type is not None and not isinstance(neuron_type, nengo.neurons.NeuronType):
            raise ValidationError(
                f"must be a nengo NeuronType instance (e.g. nengo.LIF()), got {neuron_type!r}",
                attr="neuron_type",
                obj=self,
            )
        return neuron_type

    def _check_solver(self, solver):
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
        return solver

    # --- the nodes and the exact form -----------------------------------------

    def _make_nodes(self):
        """The ``input``, ``state`` and ``output`` nodes (and the filtered
        input where ``input_synapse`` is given)."""
        system = self.system
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
        self.state_is_output = (
            system.n_outputs == system.n_states
            and np.array_equal(system.C, np.eye(system.n_states))
            and not np.any(system.D)
            and self.output_synapse is None
        )
        self.output = (
            self.state
            if self.state_is_output
            else nengo.Node(size_in=system.n_outputs, label="output")
        )

    def _connect_output(self):
        """``output = C state + D input`` (nothing where it is the state)."""
        if self.state_is_output:
            return
        system = self.system
        nengo.Connection(self.state, self.output, transform=system.C, synapse=self.output_synapse)
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

    # --- the neural form --------------------------------------------------------

    @property
    def T(self):
        """The change of basis ``x = T z`` (the identity for the exact form)."""
        return np.eye(self.system.n_states) if self.plan is None else self.plan.T

    @property
    def mapped_system(self):
        """The populations' transforms in the realised basis (None for the
        exact form)."""
        return None if self.plan is None else self.plan.mapped_system

    def _neuron_defaults(self, neuron_type):
        """The populations' neuron type: the given one, or the form's
        default (`default_ensemble`, set on ``self.config``)."""
        if neuron_type is not None:
            return neuron_type
        for key, value in self.default_ensemble.items():
            setattr(self.config[nengo.Ensemble], key, value)
        return self.config[nengo.Ensemble].neuron_type

    def _realize(self, realizer, process, radius, rng):
        """The input sample (from ``process``, drawn from ``rng``; by default
        white noise band-limited to the system, `.default_process`) and the
        rule that realises the system (`nengo_lmu.realizers.as_realizer`).

        Returns ``(sample, rule)``.
        """
        if process is None:
            process = default_process(self.discrete_system)
        sample = sample_input(process, self.system.n_inputs, self.dt, rng, obj=self)
        return sample, self._for_origin(as_realizer(realizer, obj=self), self.system)

    @staticmethod
    def _for_origin(rule, origin):
        """A rule that decides minimality on the continuous ``origin``
        (`nengo_lmu.realizers.BalancedRealizer.for_origin`): its discrete
        form can be numerically non-minimal at high order."""
        for_origin = getattr(rule, "for_origin", None)
        return rule if for_origin is None else for_origin(origin)

    def _population_solver(self, spiking):
        # The user's solver decodes every connection out of the populations.
        # Rate neurons have no spike noise to regularise against: a tenth of
        # nengo's default regularisation (reg=0.1) decodes them far better
        # (nengolib's rolling window, one 6-D ensemble of 1000 LIFRate
        # neurons, seeds 0 and 1: delay NRMSE 0.001-0.003 against 0.07 and a
        # divergence).
        if self.solver is not None:
            return self.solver
        return self.spiking_solver if spiking else nengo.solvers.LstsqL2(reg=RATE_SOLVER_REG)

    def _make_populations(self, plan, neuron_type, ens_kwargs):
        spiking = (neuron_type or self.config[nengo.Ensemble].neuron_type).spiking
        k, radius = plan.ens_dimensions, plan.radius
        populations = []
        for i, sl in enumerate(plan.slices):
            # Each state peaks near `radius`; a population holding k of
            # them together sees vectors up to about sqrt(k) radii long.
            factor = 1.0 if k == 1 else vector_radius(plan.state_sample[:, sl], radius)
            kwargs = dict(
                n_neurons=self.neurons_per_ensemble,
                dimensions=k,
                radius=radius * factor,
                label=f"ensemble[{i}]",
            )
            if neuron_type is not None:
                kwargs["neuron_type"] = neuron_type
            if "eval_points" not in ens_kwargs:
                kwargs["eval_points"] = plan.eval_points[:, sl] / factor
            if "intercepts" not in ens_kwargs and spiking:
                # Each state peaks at `radius` but spends most of its time
                # well inside it. Spiking neurons: thresholds away from the
                # edges, so that more neurons fire and average out spike
                # noise (delay task, 996 LIF neurons, seeds 0-3: NRMSE
                # 0.069-0.081 with these defaults; 0.10-0.14 with intercepts
                # in [-0.9, 0.9], unstretched evaluation points and the
                # balanced realisation). Rate neurons have no spike noise, and
                # nengo's full-range intercepts decode them better (LIFRate:
                # 0.023-0.035).
                kwargs["intercepts"] = nengo.dists.Uniform(-SPIKING_INTERCEPT, SPIKING_INTERCEPT)
            kwargs.update(ens_kwargs)
            populations.append(nengo.Ensemble(**kwargs))
        return populations

    def _build_neural(self, plan, neuron_type, ens_kwargs):
        """Build the populations from the ``plan`` (``neuron_type`` None:
        the config's)."""
        populations = self._make_populations(plan, neuron_type, ens_kwargs)
        spiking = populations[0].neuron_type.spiking
        self.population_solver = self._population_solver(spiking)
        pop_kwargs = {} if self.population_solver is None else {"solver": self.population_solver}
        Ap, T, slices = plan.mapped_system.A, plan.T, plan.slices
        Ad, Bd = self.discrete_system.A, self.discrete_system.B
        for dst, sl_dst in zip(populations, slices):
            for Bt, tap_synapse in plan.input_taps:
                nengo.Connection(
                    self.filtered_input, dst, transform=Bt[sl_dst], synapse=tap_synapse
                )
        n_blocks = sum(bool(np.any(Ap[a, b])) for a in slices for b in slices)
        # A memory of high order makes order**2 connections here (most of
        # a minute at order 300): say so on a progress bar.
        with BuildProgress(self.progress_bar, len(slices), n_blocks + len(slices)) as progress:
            for src, sl_src in zip(populations, slices):
                for dst, sl_dst in zip(populations, slices):
                    block = Ap[sl_dst, sl_src]
                    if np.any(block):
                        nengo.Connection(
                            src, dst, transform=block, synapse=plan.synapse, **pop_kwargs
                        )
                # What the populations represent, read back in the system's
                # basis through the same synapse, T (h * (A' z_hat + B' u)), is
                # the state of the previous step (the synapse sees the input one
                # step late). One more step of the exact recurrence, with the
                # input of this step, brings it level with the exact form.
                nengo.Connection(
                    src,
                    self.state,
                    transform=Ad @ T @ Ap[:, sl_src],
                    synapse=plan.synapse,
                    **pop_kwargs,
                )
                progress.step()
        # The input terms of that step, computed exactly from the input node:
        # the populations saw it through each tap.
        for Bt, tap_synapse in plan.input_taps:
            nengo.Connection(
                self.filtered_input, self.state, transform=Ad @ T @ Bt, synapse=tap_synapse
            )
        nengo.Connection(self.filtered_input, self.state, transform=Bd, synapse=None)

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
        result = InputCheck.of_states(z, self.ensembles, self.plan.ens_dimensions)
        if warn and result.fraction_outside > 0:
            warnings.warn(str(result), stacklevel=2)
        return result
