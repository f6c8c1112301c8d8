"""The mathematics of the Legendre Memory Unit, as pure numpy/scipy functions.

Nothing here knows about nengo networks or TensorFlow: every other part of
``nengo_lmu`` builds on these functions.

Conventions
-----------
A discrete `LinearSystem` follows the LMU's convention, in which the input of
step ``t`` already acts on the state of step ``t``::

    x[t] = A x[t-1] + B u[t]
    y[t] = C x[t] + D u[t]

so that the impulse response of the state is ``H[k] = A^k B`` (``H[0] = B``)
and a whole sequence is ``x[t] = sum_{j <= t} H[t - j] u[j]``.

References
----------
.. [1] Voelker, A. R., Kajic, I., & Eliasmith, C. (2019). Legendre Memory
   Units: continuous-time representation in recurrent neural networks.
   NeurIPS 32.
.. [2] Eliasmith, C., & Anderson, C. H. (2003). Neural engineering:
   computation, representation, and dynamics in neurobiological systems.
   MIT Press. (Principle 3: mapping linear dynamics onto a synapse.)
.. [3] Moore, B. (1981). Principal component analysis in linear systems:
   controllability, observability, and model reduction. IEEE TAC 26(1).
"""

import functools
import warnings

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_choice, check_int, check_positive

DISCRETIZERS = ("zoh", "euler")


def _as_matrix(name, value, obj=None, ndim=2):
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValidationError(
            f"must be a numeric array, got {value!r} ({e})", attr=name, obj=obj
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1) if name == "B" else arr.reshape(1, -1)
    if arr.ndim != ndim:
        raise ValidationError(
            f"must be a {ndim}-D matrix, got shape {arr.shape}", attr=name, obj=obj
        )
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValidationError(
            f"must contain only finite values, got {bad} "
            f"(at {tuple(np.argwhere(~np.isfinite(arr))[0])})",
            attr=name,
            obj=obj,
        )
    return arr


def check_order(order, obj=None):
    """Validate a memory order (a positive integer) and return it as an int."""
    return check_int("order", order, obj=obj)


class LinearSystem:
    """An immutable linear time-invariant system in state-space form.

    Continuous (``dt=None``)::

        dx/dt = A x + B u,    y = C x + D u

    Discrete (``dt`` given), in the LMU convention where the input of step
    ``t`` acts on the state of step ``t``::

        x[t] = A x[t-1] + B u[t],    y[t] = C x[t] + D u[t]

    Parameters
    ----------
    A : array_like, shape (n_states, n_states)
    B : array_like, shape (n_states, n_inputs)
    C : array_like, shape (n_outputs, n_states), optional
        Defaults to the identity, so the output is the state.
    D : array_like, shape (n_outputs, n_inputs), optional
        Defaults to zeros.
    dt : float, optional
        The time step of a discrete system; ``None`` for a continuous one.

    Examples
    --------
    >>> sys = LinearSystem([[-1.0]], [[1.0]])
    >>> dsys = sys.discretize(0.1)
    >>> float(dsys.A[0, 0])  # exp(-0.1)
    0.9048374180359595
    """

    def __init__(self, A, B, C=None, D=None, dt=None):
        A = _as_matrix("A", A, obj=self)
        B = _as_matrix("B", B, obj=self)
        n = A.shape[0]
        if A.shape != (n, n) or n < 1:
            raise ValidationError(
                f"must be square and non-empty, got shape {A.shape}", attr="A", obj=self
            )
        if B.shape[0] != n or B.shape[1] < 1:
            raise ValidationError(
                f"must have {n} rows (one per state) and at least one column, "
                f"got shape {B.shape}",
                attr="B",
                obj=self,
            )
        C = np.eye(n) if C is None else _as_matrix("C", C, obj=self)
        if C.shape[1] != n or C.shape[0] < 1:
            raise ValidationError(
                f"must have {n} columns (one per state), got shape {C.shape}",
                attr="C",
                obj=self,
            )
        D = (
            np.zeros((C.shape[0], B.shape[1]))
            if D is None
            else _as_matrix("D", D, obj=self)
        )
        if D.shape != (C.shape[0], B.shape[1]):
            raise ValidationError(
                f"must have shape (n_outputs, n_inputs) = "
                f"{(C.shape[0], B.shape[1])}, got {D.shape}",
                attr="D",
                obj=self,
            )
        if dt is not None:
            dt = check_positive("dt", dt, obj=self)
        for name, arr in zip("ABCD", (A, B, C, D)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "dt", dt)

    def __setattr__(self, name, value):
        raise AttributeError(f"LinearSystem is immutable (cannot set {name!r})")

    def __repr__(self):
        kind = "continuous" if self.dt is None else f"discrete, dt={self.dt}"
        return (
            f"LinearSystem(n_states={self.n_states}, n_inputs={self.n_inputs}, "
            f"n_outputs={self.n_outputs}, {kind})"
        )

    def __eq__(self, other):
        return (
            isinstance(other, LinearSystem)
            and self.dt == other.dt
            and all(
                np.array_equal(getattr(self, k), getattr(other, k)) for k in "ABCD"
            )
        )

    def __hash__(self):
        return hash((self.dt,) + tuple(getattr(self, k).tobytes() for k in "ABCD"))

    @property
    def n_states(self):
        """Number of state variables."""
        return self.A.shape[0]

    @property
    def n_inputs(self):
        """Number of input dimensions."""
        return self.B.shape[1]

    @property
    def n_outputs(self):
        """Number of output dimensions."""
        return self.C.shape[0]

    @property
    def is_discrete(self):
        """Whether this is a discrete-time system (it has a ``dt``)."""
        return self.dt is not None

    def replace(self, **kwargs):
        """A copy with some of ``A``, ``B``, ``C``, ``D``, ``dt`` replaced."""
        args = {k: getattr(self, k) for k in ("A", "B", "C", "D", "dt")}
        unknown = set(kwargs) - set(args)
        if unknown:
            raise ValidationError(
                f"can only replace A, B, C, D or dt, got {sorted(unknown)}",
                attr="kwargs",
                obj=self,
            )
        args.update(kwargs)
        return LinearSystem(**args)

    def discretize(self, dt, method="zoh"):
        """Return the discrete system at time step ``dt``.

        Parameters
        ----------
        dt : float
            Time step (same units as the system's time constants).
        method : "zoh" or "euler"
            ``"zoh"`` (zero-order hold) is exact for inputs that are constant
            within a step: ``Ad = expm(A dt)``, ``Bd = A^-1 (Ad - I) B``
            (computed with one matrix exponential, so singular ``A`` works).
            ``"euler"`` is ``Ad = I + dt A``, ``Bd = dt B``; it is stable only
            if every eigenvalue of ``Ad`` lies inside the unit circle, and a
            `ValidationError` says so otherwise.

        Returns
        -------
        LinearSystem
            Discrete system with the same ``C`` and ``D``.
        """
        if self.is_discrete:
            raise ValidationError(
                f"system is already discrete (dt={self.dt})", attr="dt", obj=self
            )
        dt = check_positive("dt", dt, obj=self)
        check_choice("method", method, DISCRETIZERS, obj=self)
        n, m = self.n_states, self.n_inputs
        if method == "zoh":
            # expm of the augmented matrix [[A, B], [0, 0]] gives Ad and Bd
            # together, without inverting A.
            aug = np.zeros((n + m, n + m))
            aug[:n, :n] = self.A
            aug[:n, n:] = self.B
            e = scipy.linalg.expm(aug * dt)
            Ad, Bd = e[:n, :n], e[:n, n:]
        else:
            Ad = np.eye(n) + dt * self.A
            Bd = dt * self.B
            radius = np.max(np.abs(np.linalg.eigvals(Ad)))
            if radius >= 1.0:
                lam = np.linalg.eigvals(self.A)
                # |1 + lam dt| < 1  <=>  dt < -2 Re(lam) / |lam|^2
                with np.errstate(divide="ignore", invalid="ignore"):
                    dt_max = np.min(-2 * lam.real / np.abs(lam) ** 2)
                raise ValidationError(
                    f"euler discretization at dt={dt} is unstable (spectral "
                    f"radius of Ad is {radius:.4g} >= 1; stable only for "
                    f"dt < {dt_max:.6g}, i.e. for a Legendre memory "
                    f"theta/dt > euler_min_theta(order)); use method='zoh' or a "
                    f"smaller dt",
                    attr="method",
                    obj=self,
                )
        return LinearSystem(Ad, Bd, self.C, self.D, dt=dt)

    def _check_discrete(self, what):
        if not self.is_discrete:
            raise ValidationError(
                f"{what} needs a discrete system; call .discretize(dt) first",
                attr="dt",
                obj=self,
            )

    def impulse(self, n, output=False):
        """Impulse response over ``n`` steps of a discrete system.

        Parameters
        ----------
        n : int
            Number of steps.
        output : bool
            If False (default), the state response ``H[k] = A^k B``, of shape
            ``(n, n_states, n_inputs)``. If True, the output response
            ``C H[k]`` (plus ``D`` at ``k = 0``), of shape
            ``(n, n_outputs, n_inputs)``.
        """
        self._check_discrete("impulse")
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise ValidationError(f"must be an int, got {n!r}", attr="n", obj=self)
        if n < 0:
            raise ValidationError(f"must be >= 0, got {n}", attr="n", obj=self)
        H = np.empty((n, self.n_states, self.n_inputs))
        h = self.B.copy()
        for k in range(n):
            H[k] = h
            h = self.A @ h
        if not output:
            return H
        Y = np.einsum("os,nsi->noi", self.C, H)
        if n > 0:
            Y[0] += self.D
        return Y

    def simulate(self, u, x0=None, output=True):
        """Step the discrete recurrence over a whole input sequence.

        This is the slow, obvious reference that every faster evaluation in
        ``nengo_lmu`` is tested against.

        Parameters
        ----------
        u : array_like, shape (n_steps, n_inputs)
            Input sequence (a 1-D array is taken as one input dimension).
        x0 : array_like, shape (n_states,), optional
            State before the first step (zeros by default).
        output : bool
            Return the output ``y`` (True, default) or the state ``x``.
        """
        self._check_discrete("simulate")
        u = np.asarray(u, dtype=np.float64)
        if u.ndim == 1:
            u = u[:, None]
        if u.ndim != 2 or u.shape[1] != self.n_inputs:
            raise ValidationError(
                f"must have shape (n_steps, {self.n_inputs}), got {u.shape}",
                attr="u",
                obj=self,
            )
        check_finite("u", u, obj=self)
        x = np.zeros(self.n_states) if x0 is None else np.array(x0, dtype=float)
        if x.shape != (self.n_states,):
            raise ValidationError(
                f"must have shape ({self.n_states},), got {x.shape}",
                attr="x0",
                obj=self,
            )
        xs = np.empty((u.shape[0], self.n_states))
        for t in range(u.shape[0]):
            x = self.A @ x + self.B @ u[t]
            xs[t] = x
        return xs @ self.C.T + u @ self.D.T if output else xs

    def transform(self, T):
        """Change of state basis ``x = T z``; returns the system in ``z``.

        ``(T^-1 A T, T^-1 B, C T, D)``: the input-output behaviour is
        unchanged, only the meaning of the state is.
        """
        T = _as_matrix("T", T, obj=self)
        if T.shape != (self.n_states, self.n_states):
            raise ValidationError(
                f"must have shape {(self.n_states,) * 2}, got {T.shape}",
                attr="T",
                obj=self,
            )
        cond = np.linalg.cond(T)
        if not np.isfinite(cond) or cond > 1e12:
            raise ValidationError(
                f"must be invertible, got condition number {cond:.3g}",
                attr="T",
                obj=self,
            )
        Tinv = np.linalg.inv(T)
        return LinearSystem(Tinv @ self.A @ T, Tinv @ self.B, self.C @ T, self.D, self.dt)

    def with_outputs(self, C, D=None):
        """The same dynamics with another readout ``(C, D)``."""
        return LinearSystem(self.A, self.B, C, D, self.dt)


def check_finite(name, value, obj=None):
    """Raise a `ValidationError` naming ``name`` if ``value`` has NaN or inf."""
    arr = np.asarray(value)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(
            f"must be finite, got {arr[idx]} at index {idx}", attr=name, obj=obj
        )
    return value


def legendre_system(order, theta):
    """The continuous LMU memory: Legendre delay system of ``order`` states.

    Its state holds the input's history over the window ``theta`` projected
    onto the first ``order`` shifted Legendre polynomials [1]_::

        A[i, j] = (2i+1)/theta * (-1 if i < j else (-1)^(i-j+1))
        B[i]    = (2i+1)/theta * (-1)^i

    Parameters
    ----------
    order : int
        Number of Legendre coefficients (the memory's dimension, ``q``).
    theta : float
        Window length (seconds, or steps when each step is one sample).

    Returns
    -------
    LinearSystem
        Continuous system with one input; its output is the state
        (``C = I``). Use `legendre_readout` for rows that decode delays.

    Examples
    --------
    >>> sys = legendre_system(order=6, theta=0.1)
    >>> dsys = sys.discretize(dt=0.001)
    """
    order = check_order(order)
    theta = check_positive("theta", theta)
    i = np.arange(order)[:, None]
    j = np.arange(order)[None, :]
    A = np.where(i < j, -1.0, (-1.0) ** (i - j + 1)) * (2 * i + 1) / theta
    B = ((2 * np.arange(order) + 1) * (-1.0) ** np.arange(order) / theta)[:, None]
    return LinearSystem(A, B)


def legendre_readout(order, r):
    """Rows that decode ``u(t - r*theta)`` from a `legendre_system` state.

    The window is spanned by the shifted Legendre polynomials, so the delayed
    input is ``sum_i m_i P_i(2r - 1)``: ``r = 0`` is the current input and
    ``r = 1`` the input ``theta`` ago.

    Parameters
    ----------
    order : int
        Memory order.
    r : float or array_like
        Relative delays in ``[0, 1]``.

    Returns
    -------
    ndarray
        Shape ``(order,)`` for a scalar ``r``, ``(len(r), order)`` otherwise.
    """
    order = check_order(order)
    r_arr = np.asarray(r, dtype=np.float64)
    if r_arr.ndim > 1:
        raise ValidationError(
            f"must be a scalar or 1-D array, got shape {r_arr.shape}", attr="r"
        )
    if not np.all(np.isfinite(r_arr)) or np.any(r_arr < 0) or np.any(r_arr > 1):
        raise ValidationError(
            f"every relative delay must lie in [0, 1], got {r!r}", attr="r"
        )
    x = 2 * np.atleast_1d(r_arr) - 1
    rows = np.polynomial.legendre.legvander(x, order - 1)
    return rows[0] if r_arr.ndim == 0 else rows


def check_theta_dt(theta, dt, obj=None):
    """Check that the time step is below the window (``dt < theta``)."""
    theta = check_positive("theta", theta, obj=obj)
    dt = check_positive("dt", dt, obj=obj)
    if dt >= theta:
        raise ValidationError(
            f"must be smaller than theta={theta}, got {dt}", attr="dt", obj=obj
        )
    return theta, dt


@functools.lru_cache(maxsize=64)
def euler_min_theta(order):
    """The smallest window (in steps) at which the Euler memory is stable.

    Euler's ``Ad = I + A dt`` has eigenvalues ``1 + lambda dt`` for the
    eigenvalues ``lambda = lambda_1 / theta`` of the Legendre ``A`` (with
    ``lambda_1`` those at ``theta = 1``). It is stable (spectral radius
    below 1) exactly when ``theta / dt > max |lambda_1|^2 / (-2 Re lambda_1)``,
    the value returned. It grows faster than ``order``: about 1.8 x order at
    order 6, 6.2 x at 32, 25.6 x at 256 (6542 steps), so KerasLMU's rule of
    thumb (``theta > 4 * order``) is not enough above order ~12.

    This is the one Euler rule of nengo_lmu (`check_euler`): below it the
    memory is refused (it would diverge), above it but below ``4 * order``
    steps it is stable but inaccurate (a warning).

    Examples
    --------
    >>> round(euler_min_theta(256))
    6542
    """
    order = check_int("order", order, None)
    lam = np.linalg.eigvals(legendre_system(order, 1.0).A)
    return float(np.max(np.abs(lam) ** 2 / (-2 * lam.real)))


def check_euler(order, theta, dt, obj=None):
    """Apply the Euler rule: refuse an unstable memory, warn an inaccurate one.

    Parameters
    ----------
    order : int
        Memory order.
    theta, dt : float
        Window and time step (same units).
    obj : object, optional
        The object named in the error.

    Raises
    ------
    ValidationError
        If ``theta / dt <= euler_min_theta(order)`` (unstable); the message
        gives the smallest stable ``theta``.
    """
    steps = theta / dt
    stable = euler_min_theta(order)
    if steps <= stable:
        raise ValidationError(
            f"the Euler-discretised memory of order {order} is unstable at "
            f"theta={theta} ({steps:.4g} steps of dt={dt}): Euler is stable only "
            f"for theta > {stable * dt:.6g} ({stable:.6g} steps, "
            f"{stable / order:.3g} x order; see euler_min_theta); use "
            f"discretizer='zoh' or a larger theta",
            attr="discretizer",
            obj=obj,
        )
    if steps < 4 * order:
        warnings.warn(
            f"theta={theta} is only {steps:.3g} steps of dt={dt}, fewer "
            f"than 4*order={4 * order}: the Euler-discretised memory is stable "
            f"(theta > {stable * dt:.6g}) but inaccurate; use discretizer='zoh'",
            stacklevel=3,
        )


def euler_accuracy_warning(order, theta, dt):
    """Apply the Euler rule (`check_euler`); kept under its older name.

    Raises where Euler is unstable (``theta / dt <= euler_min_theta(order)``)
    and warns where it is stable but inaccurate (fewer than ``4 * order``
    steps in the window).
    """
    check_euler(order, theta, dt)


def lowpass_mapping(system, tau, dt=None):
    """Map a linear system onto a lowpass synapse (NEF principle 3) [2]_.

    A population whose input is filtered by ``Lowpass(tau)`` and that gets
    the recurrent transform ``A'`` and input transform ``B'`` returned here
    implements ``system``.

    - continuous (``dt=None``): ``A' = tau*A + I``, ``B' = tau*B``.
    - discrete (``dt`` given): with ``a = exp(-dt/tau)`` and ``(Ad, Bd)`` the
      zoh system at ``dt``, ``A' = (Ad - a I)/(1 - a)``,
      ``B' = Bd/(1 - a)``. This is exact for nengo's zoh ``Lowpass`` on a
      simulator with time step ``dt``.

    Parameters
    ----------
    system : LinearSystem
        Continuous system (for the discrete mapping it is discretised here),
        or a discrete one whose ``dt`` is used.
    tau : float
        Time constant of the lowpass synapse (> 0).
    dt : float, optional
        Simulator time step for the discrete mapping.

    Returns
    -------
    LinearSystem
        ``(A', B', C, D)`` with the system's ``dt`` (None for continuous).
    """
    tau = check_positive("tau", tau)
    if system.is_discrete:
        if dt is not None and not np.isclose(dt, system.dt):
            raise ValidationError(
                f"must equal the discrete system's dt={system.dt}, got {dt}",
                attr="dt",
            )
        dt = system.dt
        dsys = system
    elif dt is None:
        return LinearSystem(
            tau * system.A + np.eye(system.n_states), tau * system.B, system.C, system.D
        )
    else:
        dsys = system.discretize(dt, "zoh")
    a = np.exp(-dt / tau)
    n = dsys.n_states
    return LinearSystem(
        (dsys.A - a * np.eye(n)) / (1 - a), dsys.B / (1 - a), dsys.C, dsys.D, dt=dt
    )


def _gramians(system):
    if system.is_discrete:
        P = scipy.linalg.solve_discrete_lyapunov(system.A, system.B @ system.B.T)
        Q = scipy.linalg.solve_discrete_lyapunov(system.A.T, system.C.T @ system.C)
    else:
        P = scipy.linalg.solve_continuous_lyapunov(system.A, -system.B @ system.B.T)
        Q = scipy.linalg.solve_continuous_lyapunov(
            system.A.T, -system.C.T @ system.C
        )
    return P, Q


def balanced_transform(system):
    """Balancing transform of a stable, minimal system (Moore 1981) [3]_.

    Returns ``(T, hsv)`` such that ``system.transform(T)`` has equal,
    diagonal controllability and observability Gramians, both equal to
    ``diag(hsv)`` (the Hankel singular values, largest first). States with
    small ``hsv`` matter little to the output ``C x``.
    """
    eig = np.linalg.eigvals(system.A)
    stable = np.all(np.abs(eig) < 1) if system.is_discrete else np.all(eig.real < 0)
    if not stable:
        raise ValidationError("must be stable to be balanced", attr="system.A")
    P, Q = _gramians(system)
    # Square-root balancing: P = R R^T, Q = L L^T, svd(L^T R) = U S V^T.
    R = scipy.linalg.cholesky((P + P.T) / 2, lower=True)
    L = scipy.linalg.cholesky((Q + Q.T) / 2, lower=True)
    U, s, Vt = np.linalg.svd(L.T @ R)
    T = R @ Vt.T / np.sqrt(s)
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


REALIZERS = ("identity", "scaled", "balanced")


def realize(system, u, method="balanced", radius=1.0):
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
    method : "identity", "scaled" or "balanced"
        ``"identity"`` keeps the basis (``T = I``); ``"scaled"`` rescales each
        state (diagonal ``T``); ``"balanced"`` first balances the system with
        respect to its output ``C`` (`balanced_transform`), which spreads the
        signal evenly across states and decouples them, then rescales.
    radius : float
        The peak value of each state over ``u``.

    Returns
    -------
    realized : LinearSystem
        ``system.transform(T)``.
    T : ndarray
        The change of basis, ``x = T z``.
    """
    check_choice("method", method, REALIZERS)
    radius = check_positive("radius", radius)
    n = system.n_states
    T = np.eye(n)
    if method == "balanced":
        T, _ = balanced_transform(system)
    if method != "identity":
        inner = system.transform(T)
        T = T * (state_scales(inner, u) / radius)[None, :]
    return system.transform(T), T
