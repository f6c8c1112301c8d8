"""Mapping a linear system onto a synapse (NEF principle 3): the lowpass
form, and the general form with any nengo synapse (`synapse_mapping`)."""

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.systems.linear import LinearSystem
from nengo_lmu.validation import check_positive


def lowpass_mapping(system, tau, dt=None):
    """Map a linear system onto a lowpass synapse (NEF principle 3, Eliasmith 2003).

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
    in discrete time (NEF principle 3, generalised as in nengolib).

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
    >>> from nengo_lmu.systems import legendre_system
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
