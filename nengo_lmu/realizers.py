"""Realisations: the basis ``x = T z`` in which neurons hold a linear
system's state, as strategy objects (`Realizer`), and balancing [1]_.

Every realiser works on any object with the `nengo_lmu.LinearSystem`
interface (``A``, ``B``, ``C``, ``is_discrete``, ``transform``,
``simulate``); `realize` is the one entry point with the one default.

References
----------
.. [1] Moore, B. (1981). Principal component analysis in linear systems:
   controllability, observability, and model reduction. IEEE TAC 26(1).
"""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_choice, check_finite_array, check_positive

#: A Gramian whose smallest eigenvalue, scaled to a unit diagonal, is below
#: this fraction of its largest is singular to working precision
#: (`is_minimal`). Measured with `gramians` (continuous, ``theta=1``): the
#: Legendre system's smallest is 7.5e-6 at order 500 for ``P`` and the delay
#: readout's ``Q``, 1.7e-6 with ``C = I`` (about ``1/order**2``); a Legendre
#: system with one unreachable state, or with each state doubled and fed
#: the same input, in a random orthonormal basis: below 1e-13 to order 300.
MINIMAL_RTOL = 1e-10


def gramians(system):
    """Controllability and observability Gramians ``(P, Q)`` of a stable system."""
    if system.is_discrete:
        P = scipy.linalg.solve_discrete_lyapunov(system.A, system.B @ system.B.T)
        Q = scipy.linalg.solve_discrete_lyapunov(system.A.T, system.C.T @ system.C)
    else:
        P = scipy.linalg.solve_continuous_lyapunov(system.A, -system.B @ system.B.T)
        Q = scipy.linalg.solve_continuous_lyapunov(system.A.T, -system.C.T @ system.C)
    return P, Q


def gramian_factor(G):
    """A factor ``F`` with ``F @ F.T = G`` of a computed Gramian, which may
    be singular or slightly indefinite by rounding (negative eigenvalues are
    taken as zero)."""
    w, V = np.linalg.eigh((G + G.T) / 2)
    return V * np.sqrt(np.clip(w, 0.0, None))


def _scaled_rank_defect(G, rtol):
    """``(smallest / largest eigenvalue, number below rtol)`` of a Gramian
    scaled to a unit diagonal (a zero diagonal entry counts as zero)."""
    d = np.sqrt(np.abs(np.diag(G)))
    if np.any(d == 0):
        return 0.0, int(np.sum(d == 0))
    w = np.linalg.eigvalsh((G + G.T) / 2 / np.outer(d, d))
    return w[0] / w[-1], int(np.sum(w <= rtol * w[-1]))


def minimality_defects(system, rtol=MINIMAL_RTOL):
    """For each Gramian (controllability, observability) of a stable
    system: its smallest eigenvalue relative to its largest, scaled to a unit
    diagonal, and how many are below ``rtol`` (see `is_minimal`)."""
    return tuple(_scaled_rank_defect(G, rtol) for G in gramians(system))


def is_minimal(system, rtol=MINIMAL_RTOL):
    """Whether a stable system is minimal (controllable and observable) to
    working precision.

    A stable system is controllable exactly when its controllability
    Gramian ``P`` is positive definite, and observable when its
    observability Gramian ``Q`` is. Each is tested on its eigenvalues after
    scaling it to a unit diagonal (which takes out the scale of each state;
    a state in units of 1e-9 would otherwise look unreachable): the
    smallest must exceed ``rtol`` times the largest (``MINIMAL_RTOL``).

    It is well conditioned at high order, which the tests it replaces were
    not. The Legendre system (`nengo_lmu.legendre_system`) is minimal at
    every order (its transfer function to the delay readout is the
    ``[q-1/q]`` Pade approximant of a delay, whose numerator and
    denominator have no common root), and its scaled Gramians keep their
    smallest eigenvalue above 1e-6 of the largest to order 500; one
    unreachable state measures below 1e-13. Cholesky factors of the
    unscaled discrete Gramians (the balanced realisation's old test) fail
    from about order 150 at ``theta = 1000 dt``, the ranks of the
    controllability and observability matrices are lost far earlier, and an
    orthonormal Krylov staircase amplifies rounding by about ``|A| / h_k``
    per step (``h_k`` its subdiagonal, 1e-4 of ``|A|`` for the Legendre
    system at order 500), so that it finds states reachable that are not.

    A discretised system is tested as itself: modes far faster than ``dt``
    all map to eigenvalues near 0 and merge numerically (a Legendre system
    of order 200 with ``theta = 1000 dt`` has Gramian eigenvalues of 1e-17);
    test the continuous system it came from instead (as the balanced
    realisation does, `balanced_transform`).

    Examples
    --------
    >>> from nengo_lmu import LinearSystem, legendre_system
    >>> is_minimal(LinearSystem(-np.eye(2), [[1.0], [1.0]]))  # two equal modes, one input
    False
    >>> is_minimal(legendre_system(6, 1.0))
    True
    """
    return all(n == 0 for _, n in minimality_defects(system, rtol))


def check_minimal(system, rtol=MINIMAL_RTOL, obj=None, attr="system"):
    """Refuse a stable system that is not minimal (`is_minimal`), naming
    how many states are unreachable or unobservable."""
    (p_min, p_zero), (q_min, q_zero) = minimality_defects(system, rtol)
    if p_zero or q_zero:
        raise ValidationError(
            f"must be minimal (controllable and observable), got a system of "
            f"{system.n_states} states with {p_zero} unreachable and {q_zero} "
            f"unobservable (scaled Gramian eigenvalues down to {p_min:.2g} and "
            f"{q_min:.2g} of the largest, below {rtol:g}); remove the unreachable "
            f"or unobservable states",
            attr=attr,
            obj=obj,
        )


def balanced_transform(system, origin=None):
    """Balancing transform of a stable, minimal system (Moore 1981).

    Returns ``(T, hsv)`` such that ``system.transform(T)`` has equal,
    diagonal controllability and observability Gramians, both equal to
    ``diag(hsv)`` (the Hankel singular values, largest first). States with
    small ``hsv`` matter little to the output ``C x``.

    Parameters
    ----------
    system : LinearSystem
        A stable system.
    origin : LinearSystem, optional
        The continuous system that ``system`` discretises. Minimality is
        decided on it: discretisation keeps a minimal system minimal, but
        the modes far faster than ``dt`` all map to eigenvalues near 0 and
        merge numerically, so that the discrete Gramians are singular to
        working precision (the Legendre system of order 200 with ``theta =
        1000 dt``: eigenvalues down to 1e-17 of the largest) although the
        continuous ones are not (smallest Hankel singular value 4e-3 of the
        largest).

    Notes
    -----
    Where both Gramians are positive definite to working precision (their
    Cholesky factors exist), ``T`` is the square-root balancing of those
    factors. Where one is not, the system is tested for minimality
    (`check_minimal`, on ``origin`` if given, which
    refuses a system with an unreachable or unobservable state whatever its
    order), and a minimal one is balanced to working precision: the states
    whose Hankel singular values exceed 1e-7 of the largest are
    balanced as above (to the accuracy of the computed Gramians); the rest
    are numerically unreachable and unobservable, their balanced coordinates undetermined (the square-root
    formula would divide rounding noise by the square root of rounding
    noise), and ``T`` completes the basis there with orthonormal columns
    orthogonal to the balanced ones, which keeps ``T`` well conditioned.
    """
    eig = np.linalg.eigvals(system.A)
    stable = np.all(np.abs(eig) < 1) if system.is_discrete else np.all(eig.real < 0)
    if not stable:
        raise ValidationError("must be stable to be balanced", attr="system.A")
    P, Q = gramians(system)
    # Square-root balancing: P = R R^T, Q = L L^T, svd(L^T R) = U S V^T.
    try:
        R = scipy.linalg.cholesky((P + P.T) / 2, lower=True)
        L = scipy.linalg.cholesky((Q + Q.T) / 2, lower=True)
    except np.linalg.LinAlgError:
        check_minimal(system if origin is None else origin)
        return _balance_to_precision(P, Q)
    U, s, Vt = np.linalg.svd(L.T @ R)
    T = R @ Vt.T / np.sqrt(s)
    return T, s


#: Hankel singular values below this fraction of the largest are rounding
#: noise where the Gramians' factors come from their eigenvalues
#: (`gramian_factor`: a zero eigenvalue computes as about ``eps * |P|``, so a
#: zero value as about ``sqrt(eps)``).
_HSV_RTOL = 1e-7


def _balance_to_precision(P, Q):
    """Balancing with numerically singular Gramians (see `balanced_transform`)."""
    R, L = gramian_factor(P), gramian_factor(Q)
    U, s, Vt = np.linalg.svd(L.T @ R)
    keep = int(np.sum(s > _HSV_RTOL * s[0]))
    T = R @ Vt[:keep].T / np.sqrt(s[:keep])
    if keep < len(s):
        # the orthogonal complement of the balanced columns
        basis, _ = np.linalg.qr(T, mode="complete")
        T = np.hstack([T, basis[:, keep:]])
    return T, s


def state_scales(system, u, x0=None):
    """Largest absolute value of each state over the response to ``u``.

    ``u`` is an input sequence (``(n_steps, n_inputs)``) typical of what the
    system will see; the system must be discrete.
    """
    x = system.simulate(u, x0=x0, output=False)
    scale = np.max(np.abs(x), axis=0)
    # A state the input never reaches keeps unit scale rather than dividing
    # by zero.
    return np.where(scale > 1e-12, scale, 1.0)


class Realizer:
    """A rule that picks the basis ``x = T z`` in which neurons hold a state.

    A realiser is called as ``realizer(system, u, radius)`` with a discrete
    `LinearSystem`, a sample ``u`` of its input and the radius each state
    should peak at, and returns ``T``. `IdentityRealizer`,
    `ScaledRealizer` and `BalancedRealizer` are the three rules; any
    callable with that signature works wherever a realiser is taken, and
    `as_realizer` turns a name or a fixed matrix into one.
    """

    name = None
    #: Whether ``T`` bounds the state for any input within the input radius
    #: (then the populations are tuned for that whole range rather than for
    #: the sample's trajectory).
    bounded = False

    def __call__(self, system, u, radius=1.0):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class IdentityRealizer(Realizer):
    """Keep the system's own basis (``T = I``)."""

    name = "identity"

    def __call__(self, system, u, radius=1.0):
        return np.eye(system.n_states)


class ScaledRealizer(Realizer):
    """Rescale each state so that it peaks at ``radius`` over ``u``
    (diagonal ``T``).

    Parameters
    ----------
    floor : float
        No state is scaled below ``floor`` times the largest scale: a
        state the sample hardly moves is not blown up (which would spread
        the recurrent weights over orders of magnitude and amplify the
        other populations' noise into it).

    Examples
    --------
    >>> ScaledRealizer(floor=0.1)
    ScaledRealizer(floor=0.1)
    """

    name = "scaled"

    def __init__(self, floor=0.0):
        if not 0 <= floor <= 1:
            raise ValidationError(f"must be in [0, 1], got {floor}", attr="floor")
        self.floor = float(floor)

    def __call__(self, system, u, radius=1.0):
        return self.rescale(system, np.eye(system.n_states), u, radius)

    def rescale(self, system, T, u, radius):
        """``T`` with each column scaled so that its state peaks at ``radius``."""
        scales = state_scales(system.transform(T), u)
        scales = np.maximum(scales, self.floor * np.max(scales))
        return T * (scales / radius)[None, :]

    def __repr__(self):
        return f"{type(self).__name__}(floor={self.floor:g})"


class BalancedRealizer(ScaledRealizer):
    """Balance the system with respect to its output ``C``
    (`balanced_transform`), which spreads the signal evenly across states
    and decouples them, then rescale each state."""

    name = "balanced"

    def __init__(self, floor=0.0, origin=None):
        super().__init__(floor)
        #: The continuous system that the systems it balances discretise
        #: (see `balanced_transform`); set by `for_origin`.
        self.origin = origin

    def for_origin(self, origin):
        """This rule for discretisations of the continuous ``origin``
        (minimality is decided on it; see `balanced_transform`)."""
        if origin is None or origin.is_discrete:
            return self
        return type(self)(floor=self.floor, origin=origin)

    def __call__(self, system, u, radius=1.0):
        T, _ = balanced_transform(system, origin=self.origin)
        return self.rescale(system, T, u, radius)


def is_stable(system):
    """Whether a system is exponentially stable (every pole strictly inside
    the unit circle, or in the open left half-plane for a continuous one).

    Examples
    --------
    >>> from nengo_lmu import LinearSystem
    >>> is_stable(LinearSystem([[-1.0]], [[1.0]])), is_stable(LinearSystem([[0.0]], [[1.0]]))
    (True, False)
    """
    eig = np.linalg.eigvals(system.A)
    if system.is_discrete:
        return bool(np.all(np.abs(eig) < 1))
    return bool(np.all(eig.real < 0))


def _require_stable(system, what):
    if not is_stable(system):
        raise ValidationError(
            f"{what} needs an exponentially stable system (the worst-case "
            f"state of a system that is not is unbounded); use "
            f"realizer='scaled' with an input sample",
            attr="system",
        )


def l1_norms(system, rtol=1e-9, max_steps=1_000_000):
    """The L1 norm of each state's impulse response, ``sum_k |(A^k B)_i|``
    summed over the inputs, of a stable discrete system.

    It is the largest value state ``i`` can reach for any input bounded by
    1 in every dimension (the input ``sign(h_i[t - k])`` reaches it), so a
    state divided by it stays within ``[-1, 1]`` whatever the input.

    Examples
    --------
    >>> from nengo_lmu import LinearSystem
    >>> lowpass = LinearSystem([[-10.0]], [[10.0]]).discretize(0.001)
    >>> round(float(l1_norms(lowpass)[0]), 6)  # the DC gain of a lowpass
    1.0
    """
    if not system.is_discrete:
        raise ValidationError("needs a discrete system; call .discretize(dt) first", attr="system")
    _require_stable(system, "the L1 norm")
    total = np.zeros(system.n_states)
    h = system.B.copy()
    # Powers of A in blocks: the tail after k steps is below
    # |A^k| sum_j |A^j B|, so stop once the block adds less than rtol.
    for _ in range(max_steps):
        step = np.abs(h).sum(axis=1)
        total += step
        if np.all(step <= rtol * np.maximum(total, 1e-300)) and np.max(step) < rtol:
            break
        h = system.A @ h
    return total


def hankel_bounds(system):
    """Twice the sum of the Hankel singular values of each state's
    subsystem ``(A, B, e_i)``: a bound on its L1 norm that needs no
    simulation (Khaisongkram & Banjerdpongchai 2007; nengolib's ``Hankel``).
    """
    _require_stable(system, "the Hankel bound")
    P, _ = gramians(system)
    out = np.empty(system.n_states)
    for i in range(system.n_states):
        sub = system.with_outputs(np.eye(system.n_states)[i : i + 1])
        _, Q = gramians(sub)
        hsv = np.sqrt(np.clip(np.linalg.eigvals(P @ Q).real, 0, None))
        out[i] = 2 * np.sum(hsv)
    return out


class L1Realizer(Realizer):
    """Scale each state by the L1 norm of its impulse response, so that
    ``|z_i| <= radius`` for *any* input with ``|u| <= input_radius``
    (nengolib's ``L1Norm``). It needs no input sample: the ``u`` it is
    given is ignored.

    Parameters
    ----------
    input_radius : float
        The bound on the input that the states are sized for.
    balanced : bool
        Balance the system first (`balanced_transform`), then scale.

    Examples
    --------
    >>> from nengo_lmu import LinearSystem
    >>> lowpass = LinearSystem([[-10.0]], [[10.0]]).discretize(0.001)
    >>> T = L1Realizer(input_radius=2.0)(lowpass, None, radius=1.0)
    >>> round(float(T[0, 0]), 6)
    2.0
    """

    name = "l1"
    bounded = True
    bound = staticmethod(l1_norms)

    def __init__(self, input_radius=1.0, balanced=False):
        self.input_radius = check_positive("input_radius", input_radius)
        self.balanced = bool(balanced)

    def __call__(self, system, u, radius=1.0):
        T = balanced_transform(system)[0] if self.balanced else np.eye(system.n_states)
        scale = self.bound(system.transform(T)) * self.input_radius / radius
        return T * np.where(scale > 1e-12, scale, 1.0)[None, :]

    def __repr__(self):
        return (
            f"{type(self).__name__}(input_radius={self.input_radius:g}, balanced={self.balanced})"
        )


class HankelRealizer(L1Realizer):
    """As `L1Realizer` with the looser bound `hankel_bounds` (nengolib's
    default realiser): states use less of their range."""

    name = "hankel"
    bound = staticmethod(hankel_bounds)


class FixedRealizer(Realizer):
    """A given change of basis ``T``, whatever the system and input
    (``bounded`` says whether it came from a bounding rule)."""

    def __init__(self, T, bounded=False, obj=None, attr="realizer"):
        self.T = check_finite_array(attr, T, obj=obj)
        self.bounded = bool(bounded)
        self.obj, self.attr = obj, attr

    def __call__(self, system, u, radius=1.0):
        n = system.n_states
        if self.T.shape != (n, n):
            raise ValidationError(
                f"must be a ({n}, {n}) change of basis for this system, got shape {self.T.shape}",
                attr=self.attr,
                obj=self.obj,
            )
        return self.T

    def __repr__(self):
        return f"FixedRealizer(shape={self.T.shape})"


#: The realisers by name.
REALIZER_RULES = {
    r.name: r
    for r in (IdentityRealizer, ScaledRealizer, BalancedRealizer, L1Realizer, HankelRealizer)
}
REALIZERS = tuple(REALIZER_RULES)
#: The default of `realize` and of `.LinearSystemNetwork`: it needs no
#: guess of the input. nengolib's lowpass network test (500 neurons,
#: synapse 0.02, 10 Hz white noise scaled by 2, no input sample, seeds 0
#: and 1): NRMSE 0.002-0.004 with LIFRate, 0.04 with LIF, against
#: 0.23 and 0.24-0.26 for ``"scaled"`` to the default sample.
#: `.LegendreMemory` uses ``"balanced"`` (``"scaled"`` for rate neurons; see
#: ``MEMORY_REALIZER`` there).
DEFAULT_REALIZER = "l1"


def as_realizer(realizer, obj=None, attr="realizer"):
    """A realiser from a name in `REALIZERS`, a callable, or a matrix ``T``.

    Examples
    --------
    >>> as_realizer("scaled")
    ScaledRealizer(floor=0)
    >>> as_realizer(np.eye(2))
    FixedRealizer(shape=(2, 2))
    """
    if isinstance(realizer, str):
        check_choice(attr, realizer, REALIZERS, obj, " or a matrix")
        return REALIZER_RULES[realizer]()
    if callable(realizer):
        return realizer
    return FixedRealizer(realizer, obj=obj, attr=attr)


def realize(system, u, method=DEFAULT_REALIZER, radius=1.0):
    """Choose a state basis in which each state spans about ``[-radius, radius]``.

    Spiking populations represent values in a range near ``[-1, 1]`` best;
    this picks a change of basis ``x = T z`` so that, for the input ``u``,
    every state ``z_i`` peaks at ``radius``.

    Parameters
    ----------
    system : LinearSystem
        Discrete system (the time step of the simulation that will run it).
    u : array_like, shape (n_steps, n_inputs)
        A sample of the input the system will see.
    method : "identity", "scaled", "balanced" or callable
        ``"identity"`` keeps the basis (``T = I``); ``"scaled"`` (the
        default, as for the networks) rescales each state (diagonal ``T``);
        ``"balanced"`` first balances the system with respect to its output
        ``C`` (`balanced_transform`), which spreads the signal evenly across
        states and decouples them, then rescales. A callable is a `Realizer`.
    radius : float
        The peak value of each state over ``u``.

    Returns
    -------
    realized : LinearSystem
        ``system.transform(T)``.
    T : ndarray
        The change of basis, ``x = T z``.

    Examples
    --------
    >>> from nengo_lmu import legendre_system
    >>> sys = legendre_system(3, 0.1).discretize(0.001)
    >>> u = np.sin(np.linspace(0, 20, 1000))[:, None]
    >>> _, T = realize(sys, u, radius=0.5)
    >>> bool(np.allclose(T, np.diag(np.diag(T))))
    True
    """
    if isinstance(method, str):
        check_choice("method", method, REALIZERS)
    radius = check_positive("radius", radius)
    u = check_finite_array("u", u)
    if u.ndim == 1:
        u = u[:, None]
    if u.ndim != 2 or u.shape[0] < 1 or u.shape[1] != system.n_inputs:
        raise ValidationError(
            f"must be a sample of shape (n_steps >= 1, {system.n_inputs}), got shape {u.shape}",
            attr="u",
        )
    T = as_realizer(method, attr="method")(system, u, radius)
    return system.transform(T), T
