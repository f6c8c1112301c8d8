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

from nengo_lmu.validation import check_choice, check_finite, check_int, check_positive

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
    return check_finite(name, arr, obj)


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
                f"must have {n} rows (one per state) and at least one column, got shape {B.shape}",
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
        D = np.zeros((C.shape[0], B.shape[1])) if D is None else _as_matrix("D", D, obj=self)
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
            and all(np.array_equal(getattr(self, k), getattr(other, k)) for k in "ABCD")
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
        # a NaN state would silently make every output NaN
        check_finite("x0", x, obj=self)
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
        raise ValidationError(f"must be a scalar or 1-D array, got shape {r_arr.shape}", attr="r")
    if not np.all(np.isfinite(r_arr)) or np.any(r_arr < 0) or np.any(r_arr > 1):
        raise ValidationError(f"every relative delay must lie in [0, 1], got {r!r}", attr="r")
    x = 2 * np.atleast_1d(r_arr) - 1
    rows = np.polynomial.legendre.legvander(x, order - 1)
    return rows[0] if r_arr.ndim == 0 else rows


def check_theta_dt(theta, dt, obj=None):
    """Check that the time step is below the window (``dt < theta``)."""
    theta = check_positive("theta", theta, obj=obj)
    dt = check_positive("dt", dt, obj=obj)
    if dt >= theta:
        raise ValidationError(f"must be smaller than theta={theta}, got {dt}", attr="dt", obj=obj)
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


def synapse_loop_tf(synapse, dt):
    """The discrete transfer function ``g(z) = N(z) / D(z)`` that a
    connection with ``synapse`` applies in a nengo simulator at ``dt``.

    Nengo discretises an analog `nengo.LinearFilter` (zoh by default) and
    steps it so that, with the one-step delay of every filtered connection,
    the value arriving on step ``t`` is ``sum_k g[k] w[t - k]`` with ``g``
    strictly proper. Returns ``(num, den)``: coefficients in powers of
    ``z``, highest first, ``den`` monic, ``len(num) < len(den)``.

    Examples
    --------
    >>> import nengo
    >>> num, den = synapse_loop_tf(nengo.Lowpass(0.1), 0.001)
    >>> a = np.exp(-0.01)
    >>> bool(np.allclose(num, [1 - a]) and np.allclose(den, [1, -a]))
    True
    """
    import nengo  # only for the types; nengo_lmu.systems stays light
    import scipy.signal
    from nengo.utils.filter_design import cont2discrete, tf2ss

    if not isinstance(synapse, nengo.LinearFilter):
        raise ValidationError(
            f"must be a nengo.LinearFilter (Lowpass, Alpha, DoubleExp, ...), got {synapse!r}",
            attr="synapse",
        )
    dt = check_positive("dt", dt)
    A, B, C, D = tf2ss(synapse.num, synapse.den)
    if synapse.analog and len(A) > 0:
        A, B, C, D, _ = cont2discrete((A, B, C, D), dt, method=synapse.method)
    d = float(np.asarray(D).item())
    if len(A) == 0:
        num, den = np.array([d]), np.array([1.0, 0.0])
    else:
        num, den = scipy.signal.ss2tf(A, B, C, np.zeros_like(D))
        num = np.atleast_1d(np.squeeze(num))
        if d == 0:
            # nengo steps a filter without passthrough with its input
            # advanced one step (x[t] = A x[t-1] + B u[t]): h(z) = z C(zI-A)^-1 B,
            # which the connection's delay turns back into C(zI-A)^-1 B.
            pass
        else:
            # With a passthrough: h(z) = C(zI-A)^-1 B + D, and g = h / z.
            num = np.polyadd(num, d * den)
            den = np.append(den, 0.0)
    num = np.trim_zeros(np.asarray(num, dtype=np.float64), "f")
    den = np.asarray(den, dtype=np.float64)
    num, den = num / den[0], den / den[0]
    if len(num) == 0 or not np.any(num):
        raise ValidationError(f"{synapse!r} passes nothing", attr="synapse")
    return num, den


class SynapseMapping:
    """How to build a linear system on a synapse: what `synapse_mapping`
    returns.

    Attributes
    ----------
    A : ndarray
        Transform of the recurrent connections (through ``synapse``).
    taps : list of (ndarray, nengo.synapses.Synapse)
        The input connections: transform and synapse of each. The first
        uses ``synapse`` itself where that is exact; higher-order synapses
        need more taps, each with a filter that has the synapse's poles.
    extra_poles : ndarray
        Poles that the mapping adds to the loop (none for a first-order
        synapse); they do not show in the exact response, but noise in the
        populations passes through them, so they should lie well inside
        the unit circle.
    """

    def __init__(self, A, taps, extra_poles):
        self.A = A
        self.taps = taps
        self.extra_poles = extra_poles


def synapse_mapping(system, synapse, dt):
    """Map a discrete system onto any `nengo.LinearFilter` synapse, exactly
    in discrete time (NEF principle 3, generalised as in nengolib [2]_).

    With ``g(z) = N(z)/D(z)`` the synapse as a connection applies it
    (`synapse_loop_tf`), populations ``v`` fed by ``A' v`` through the
    synapse and the input through the taps follow ``v[t] = x[t-1]`` of the
    system ``x[t] = Ad x[t-1] + Bd u[t]`` when::

        A'   = N(Ad)^-1 D(Ad)
        D(z) I - N(z) A' = (z I - Ad) Q(z),   Q(z) = sum_j Q_j z^j
        input taps: Q_j Bd u filtered by z^j / D(z),  j = 0 .. order-1

    For ``Lowpass(tau)`` this is ``A' = (Ad - aI)/(1 - a)``,
    ``B' = Bd/(1 - a)`` (`lowpass_mapping`) with one tap through the
    synapse itself.

    Parameters
    ----------
    system : LinearSystem
        Discrete system at ``dt``.
    synapse : nengo.LinearFilter
        The synapse of every connection into the populations.
    dt : float
        Simulator time step.

    Returns
    -------
    SynapseMapping

    Examples
    --------
    >>> import nengo
    >>> dsys = legendre_system(4, 0.1).discretize(0.001)
    >>> m = synapse_mapping(dsys, nengo.Alpha(0.02), 0.001)
    >>> len(m.taps), bool(np.all(np.abs(m.extra_poles) < 1))
    (2, True)
    """
    import nengo

    if not system.is_discrete or not np.isclose(system.dt, dt, rtol=1e-9, atol=0):
        raise ValidationError(f"must be discrete with dt={dt}, got {system!r}", attr="system")
    num, den = synapse_loop_tf(synapse, dt)
    k = len(den) - 1
    n = system.n_states
    Ad, Bd = system.A, system.B
    eye = np.eye(n)

    def polyval_matrix(coefs):
        out = np.zeros((n, n))
        for c in coefs:  # Horner, highest power first
            out = out @ Ad + c * eye
        return out

    N_A = polyval_matrix(num)
    if np.linalg.cond(N_A) > 1e12:
        raise ValidationError(
            f"the zeros of {synapse!r} at dt={dt} coincide with poles of the "
            f"system: it cannot be mapped onto this synapse",
            attr="synapse",
        )
    A_map = np.linalg.solve(N_A, polyval_matrix(den))
    # P(z) = D(z) I - N(z) A', coefficients P[i] of z^i (lowest first).
    num_low = np.zeros(k + 1)
    num_low[: len(num)] = num[::-1]
    den_low = den[::-1]
    P = [den_low[i] * eye - num_low[i] * A_map for i in range(k + 1)]
    # Synthetic division by (z I - Ad); Ad commutes with every P[i].
    Q = [None] * k
    Q[k - 1] = P[k]
    for i in range(k - 1, 0, -1):
        Q[i - 1] = P[i] + Ad @ Q[i]
    remainder = P[0] + Ad @ Q[0]
    assert np.allclose(remainder, 0, atol=1e-8 * max(1.0, np.abs(A_map).max()))

    taps = []
    for j in range(k):
        transform = Q[j] @ Bd
        if j == 0 and len(num) == 1:
            # z^0 / D(z) = g(z) / n0: the synapse itself.
            taps.append((transform / num[0], synapse))
        else:
            z_j = np.zeros(j + 1)
            z_j[0] = 1.0
            # A strictly proper discrete filter: nengo steps it with its
            # input advanced, and the connection delays it back.
            taps.append((transform, nengo.LinearFilter(z_j, den, analog=False)))
    # Extra loop poles: the roots of det Q(z), per eigenvalue of Ad.
    poles = []
    for lam in np.linalg.eigvals(Ad):
        q = np.polydiv(
            np.polysub(den, np.polymul(num, [np.polyval(den, lam) / np.polyval(num, lam)])),
            [1.0, -lam],
        )[0]
        q = np.trim_zeros(q, "f")
        if len(q) > 1:
            poles.extend(np.roots(q))
    return SynapseMapping(A_map, taps, np.array(poles))


# The realisations (balanced_transform, realize, the Realizer rules) live in
# nengo_lmu.realizers; they are importable from here as before.
from nengo_lmu.realizers import (  # noqa: E402,F401
    DEFAULT_REALIZER,
    REALIZER_RULES,
    REALIZERS,
    BalancedRealizer,
    FixedRealizer,
    IdentityRealizer,
    Realizer,
    ScaledRealizer,
    as_realizer,
    balanced_transform,
    realize,
    state_scales,
)
