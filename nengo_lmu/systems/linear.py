"""`LinearSystem`: a continuous or discrete state-space system (the LMU's
convention: the input of step ``t`` acts on the state of step ``t``; see
`nengo_lmu.systems`), its discretisation, impulse response and simulation."""

import numpy as np
import scipy.linalg
from nengo.exceptions import ValidationError

from nengo_lmu.validation import check_choice, check_finite, check_int, check_positive

DISCRETIZERS = ("zoh", "euler")


def _as_matrix(name, value, obj=None, ndim=2):
    if isinstance(value, np.ndarray) and np.iscomplexobj(value):
        raise ValidationError(
            f"must be real, got a complex array (dtype {value.dtype}); numpy would drop "
            f"the imaginary part",
            attr=name,
            obj=obj,
        )
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
