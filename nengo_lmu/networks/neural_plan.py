"""The plan of a neural linear system: what its populations represent and
how they are tuned, worked out before anything is built.

`plan_neural` is a pure function of the system and the arguments of the
neural form; it returns a `NeuralPlan` (the change of basis, the system
mapped onto the synapse, the input sample and the state over it, the
evaluation points), which the nengo builder (`.LinearSystemNetwork`) and the
Loihi builder (`nengo_lmu.loihi.networks`) both take. The helpers it uses
(the input sample, the evaluation points, the radius, the synapses) are
here too.
"""

import warnings
from dataclasses import dataclass

import nengo
import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.realizers import ScaledRealizer, is_stable
from nengo_lmu.systems import LinearSystem, lowpass_mapping, synapse_loop_tf, synapse_mapping
from nengo_lmu.validation import check_positive

# Defaults of the neural form (relative to the radius); see
# `state_eval_points` and `.LinearSystemNetwork`.
EVAL_STRETCH = 1.5
SPIKING_INTERCEPT = 0.75
#: Regularisation of the populations' decoders for rate (non-spiking) neurons.
RATE_SOLVER_REG = 0.01


def sample_input(process, n_inputs, dt, rng, n_steps=None, obj=None):
    """An input sample ``(n_steps, n_inputs)`` from a process or an array.

    Used to choose the scaling of a spiking realisation. ``process`` may be a
    `nengo.Process` (run for its ``default_size_out`` of ``n_inputs``) or an
    array of samples.
    """
    if isinstance(process, nengo.Process):
        if n_steps is None:
            n_steps = int(round(getattr(process, "period", 10.0) / dt))
        u = process.run_steps(n_steps, d=n_inputs, dt=dt, rng=rng)
    else:
        try:
            u = np.asarray(process, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"must be a nengo.Process or an array of input samples, got {process!r}",
                attr="process",
                obj=obj,
            ) from None
        if u.ndim == 1 and n_inputs == 1:
            u = u[:, None]
        if u.ndim != 2 or u.shape[1] != n_inputs or u.shape[0] < 2:
            raise ValidationError(
                f"must be a nengo.Process or an array of shape (n_steps >= 2, "
                f"{n_inputs}), got shape {u.shape}",
                attr="process",
                obj=obj,
            )
    if not np.all(np.isfinite(u)):
        raise ValidationError("the input sample contains NaN or inf", attr="process", obj=obj)
    if not np.any(u):
        raise ValidationError(
            "the input sample is all zeros: it cannot set the state scaling",
            attr="process",
            obj=obj,
        )
    return u


def series_lowpass(first, second):
    """``first`` followed by ``second`` (two `nengo.Lowpass`, or ``None``
    for no filter) as one synapse.

    Examples
    --------
    >>> series_lowpass(nengo.Lowpass(0.1), None)
    Lowpass(tau=0.1)
    >>> [round(float(c), 6) for c in series_lowpass(nengo.Lowpass(0.1), nengo.Lowpass(0.005)).den]
    [0.0005, 0.105, 1.0]
    """
    if second is None:
        return first
    if first is None:
        return second
    tau1, tau2 = first.tau, second.tau
    return nengo.LinearFilter([1.0], [tau1 * tau2, tau1 + tau2, 1.0])


def vector_radius(z, radius):
    """How many radii long the state vectors ``z`` (one per row) get: the
    radius factor of a population holding several states together."""
    return max(1.0, float(np.max(np.linalg.norm(z, axis=1))) / radius)


@dataclass
class InputCheck:
    """What `LinearSystemNetwork.check_input` found.

    Attributes
    ----------
    fraction_outside : float
        Fraction of the steps on which some population's state lies outside
        its radius (where its decoding degrades or saturates).
    fraction_per_ensemble : ndarray
        The same per population.
    peak : ndarray
        The largest state norm of each population, in radii.
    """

    fraction_outside: float
    fraction_per_ensemble: np.ndarray
    peak: np.ndarray

    @classmethod
    def of_states(cls, z, ensembles, ens_dimensions):
        """The check of a state trajectory ``z`` (in the populations' basis)
        against the ``ensembles`` that hold ``ens_dimensions`` states each."""
        # The norm of each population's part of the state, in its radius.
        load = np.stack(
            [
                np.linalg.norm(z[:, i : i + e.dimensions], axis=1) / e.radius
                for i, e in zip(range(0, z.shape[1], ens_dimensions), ensembles)
            ],
            axis=1,
        )
        # A sample scaled to peak at the radius touches it: not outside.
        outside = load > 1 + 1e-9
        return cls(
            fraction_outside=float(np.mean(np.any(outside, axis=1))),
            fraction_per_ensemble=np.mean(outside, axis=0),
            peak=np.max(load, axis=0),
        )

    def __str__(self):
        worst = int(np.argmax(self.peak))
        return (
            f"{100 * self.fraction_outside:.1f}% of the input's steps put a "
            f"state outside the populations' radius (peak "
            f"{self.peak[worst]:.2f} radii, ensemble[{worst}]); scale the "
            f"input down or give it as process= so that the network is "
            f"tuned for it"
        )


def series_synapse(first, second, dt):
    """``first`` followed by ``second`` (or ``None``) as one connection's
    synapse: `series_lowpass` for two lowpass filters, otherwise the
    discrete product of their loop transfer functions (`synapse_loop_tf`),
    exact in a simulator at ``dt``.
    """
    if second is None:
        return first
    if type(first) is nengo.Lowpass and type(second) is nengo.Lowpass:
        return series_lowpass(first, second)
    n1, d1 = synapse_loop_tf(first, dt)
    n2, d2 = synapse_loop_tf(second, dt)
    return nengo.LinearFilter(np.polymul(n1, n2), np.polymul(d1, d2), analog=False)


def check_synapse(name, synapse, obj=None):
    """``None``, a synapse, or a positive time constant (a `nengo.Lowpass`)."""
    if synapse is None or isinstance(synapse, nengo.synapses.Synapse):
        return synapse
    return nengo.Lowpass(check_positive(name, synapse, obj=obj))


def default_process(discrete_system, rms=0.5, seed=0):
    """White noise band-limited to the system's fastest time constant.

    Used to scale a neural realisation when the user gives no input sample.
    """
    dt = discrete_system.dt
    # Continuous-time eigenvalues from the discrete ones.
    eig = np.linalg.eigvals(discrete_system.A).astype(complex)
    lam = np.abs(np.log(np.where(eig == 0, 1e-300, eig))) / dt
    fastest = np.max(lam) if np.any(lam > 0) else 1.0 / dt
    high = float(np.clip(fastest / (2 * np.pi), 1.0 / (20 * dt), 0.4 / dt))
    period = max(10.0, 100.0 / high)
    return nengo.processes.WhiteSignal(period=period, high=high, rms=rms, seed=seed)


def state_eval_points(z, radius, rng, bounded=False, spiking=True, n_eval=5000):
    """Evaluation points (in units of the radius) for the populations.

    Parameters
    ----------
    z : ndarray, shape (n_steps, n_states)
        The realised state over the sample input.
    radius : float
    rng : numpy.random.RandomState
    bounded : bool
        The realisation bounds each state by the radius for any input
        within the input radius (`nengo_lmu.realizers.L1Realizer`): the
        points cover that whole range uniformly, with headroom
        (``EVAL_STRETCH``) for inputs beyond it. Only for one state per
        population (a box of several states holds mostly corners the state
        never reaches).
    spiking : bool
        For a sample-based realisation: spiking neurons decode the sampled
        trajectory stretched by ``EVAL_STRETCH`` (headroom for inputs larger
        than the sample, which costs little next to spike noise); rate
        neurons decode the trajectory itself, where they are most precise.
    n_eval : int
        Number of points.

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> z = np.sin(np.linspace(0, 10, 1000))[:, None]
    >>> pts = state_eval_points(z, 1.0, rng, bounded=True)
    >>> pts.shape, bool(np.max(np.abs(pts)) <= EVAL_STRETCH)
    ((5000, 1), True)
    """
    if bounded:
        return rng.uniform(-EVAL_STRETCH, EVAL_STRETCH, size=(n_eval, z.shape[1]))
    n = min(len(z), n_eval)
    pick = z[rng.choice(len(z), size=n, replace=False)] / radius
    return pick * EVAL_STRETCH if spiking else pick


def neural_synapse(synapse, mapping, obj=None):
    """The recurrent synapse of a neural form: a `nengo.LinearFilter` (a
    positive number is a `nengo.Lowpass` time constant); the continuous
    ``mapping`` takes a `nengo.Lowpass` only.

    Examples
    --------
    >>> neural_synapse(0.1, "discrete")
    Lowpass(tau=0.1)
    """
    if isinstance(synapse, nengo.synapses.Synapse):
        if not isinstance(synapse, nengo.LinearFilter):
            raise ValidationError(
                f"must be a nengo.LinearFilter (Lowpass, Alpha, or any "
                f"transfer function), got {synapse}",
                attr="synapse",
                obj=obj,
            )
        if mapping == "continuous" and type(synapse) is not nengo.Lowpass:
            raise ValidationError(
                f"the continuous mapping needs a Lowpass synapse, got "
                f"{synapse}; use mapping='discrete'",
                attr="synapse",
                obj=obj,
            )
        if type(synapse) is nengo.Lowpass:
            check_positive("synapse", synapse.tau, obj=obj)
    else:
        synapse = nengo.Lowpass(check_positive("synapse", synapse, obj=obj))
    return synapse


@dataclass(frozen=True)
class NeuralPlan:
    """What the populations of a neural linear system represent, and how
    they are tuned (made by `plan_neural`).

    Attributes
    ----------
    synapse : nengo.LinearFilter
        The recurrent synapse.
    T : ndarray
        The change of basis ``x = T z`` (``z`` is what the populations
        represent).
    mapped_system : LinearSystem
        The populations' recurrent and input transforms (``A'``, ``B'``) in
        the realised basis.
    input_taps : tuple of (ndarray, nengo.synapses.Synapse)
        The input transforms and their synapses (one for a lowpass; a
        higher-order synapse takes more).
    mapping : SynapseMapping or None
        The general mapping onto ``synapse`` (None for the lowpass closed
        form).
    sample : ndarray, shape (n_steps, n_inputs)
        The input sample that scaled the realisation.
    state_sample : ndarray, shape (n_steps, n_states)
        The realised state ``z`` over the sample.
    eval_points : ndarray, shape (n_eval, n_states)
        The populations' evaluation points, in units of the radius.
    radius : float
    ens_dimensions : int
        States per population.
    bounded : bool
        Whether the realisation bounds each state for any input in range.
    """

    synapse: nengo.LinearFilter
    T: np.ndarray
    mapped_system: LinearSystem
    input_taps: tuple
    mapping: object
    sample: np.ndarray
    state_sample: np.ndarray
    eval_points: np.ndarray
    radius: float
    ens_dimensions: int
    bounded: bool

    @property
    def slices(self):
        """The states of each population."""
        n, k = self.T.shape[0], self.ens_dimensions
        return [slice(i, i + k) for i in range(0, n, k)]


def map_onto_synapse(system, discrete_system, T, synapse, mapping, dt):
    """The realised system (basis ``T``) mapped onto ``synapse``.

    Returns ``(mapped_system, input_taps, general_mapping)``: the lowpass
    closed form (``mapping`` "discrete" or "continuous"; no general
    mapping), or the general discrete mapping of any linear filter.
    """
    if type(synapse) is nengo.Lowpass:
        mapped = lowpass_mapping(
            system.transform(T), synapse.tau, dt=dt if mapping == "discrete" else None
        )
        return mapped, ((mapped.B, synapse),), None
    dreal = discrete_system.transform(T)
    general = synapse_mapping(dreal, synapse, dt)
    taps = tuple(general.taps)
    mapped = LinearSystem(general.A, taps[0][0], dreal.C, dreal.D, dt=dt)
    if np.any(np.abs(general.extra_poles) >= 1):
        warnings.warn(
            f"mapping onto {synapse} adds poles outside the unit circle (|p| up "
            f"to {np.max(np.abs(general.extra_poles)):.4g}): exact in "
            f"principle, but the populations' noise will grow",
            stacklevel=5,
        )
    return mapped, taps, general


def plan_neural(
    system,
    discrete_system,
    dt,
    sample,
    realizer,
    synapse,
    rng,
    mapping="discrete",
    radius=1.0,
    ens_dimensions=1,
    spiking=True,
):
    """The plan of a neural linear system (a pure function of its arguments
    and the state of ``rng``).

    Parameters
    ----------
    system, discrete_system : LinearSystem
        The system, and the same at the simulator's ``dt``.
    dt : float
        The simulator's time step.
    sample : ndarray, shape (n_steps, n_inputs)
        An input sample (`sample_input`).
    realizer : Realizer
        The rule that chooses the basis (`nengo_lmu.realizers.as_realizer`);
        a bounding rule falls back to `.ScaledRealizer` for an unstable
        system, which no bound holds.
    synapse : nengo.LinearFilter
        The checked recurrent synapse (`neural_synapse`).
    rng : numpy.random.RandomState
        Draws the evaluation points.
    mapping : "discrete" or "continuous"
    radius : float
    ens_dimensions : int
    spiking : bool
        Whether the populations spike (see `state_eval_points`).

    Returns
    -------
    NeuralPlan
    """
    if getattr(realizer, "bounded", False) and not is_stable(discrete_system):
        realizer = ScaledRealizer()
    bounded = bool(getattr(realizer, "bounded", False))
    T = np.asarray(realizer(discrete_system, sample, radius), dtype=np.float64)
    mapped, taps, general = map_onto_synapse(system, discrete_system, T, synapse, mapping, dt)
    z = discrete_system.transform(T).simulate(sample, output=False)
    z_eval = state_eval_points(
        z, radius, rng, bounded=bounded and ens_dimensions == 1, spiking=spiking
    )
    return NeuralPlan(
        synapse=synapse,
        T=T,
        mapped_system=mapped,
        input_taps=taps,
        mapping=general,
        sample=sample,
        state_sample=z,
        eval_points=z_eval,
        radius=float(radius),
        ens_dimensions=int(ens_dimensions),
        bounded=bounded,
    )
