import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
from nengo.exceptions import ValidationError

from nengo_lmu import (
    LinearSystem,
    balanced_transform,
    legendre_readout,
    legendre_system,
    lowpass_mapping,
    realize,
)
from nengo_lmu.realizers import state_scales
from nengo_lmu.systems import check_euler, check_theta_dt


def legendre_loops(order, theta):
    """The LMU's (A, B) written element by element, as in the paper."""
    A = np.zeros((order, order))
    B = np.zeros((order, 1))
    for i in range(order):
        B[i] = (2 * i + 1) * (-1) ** i / theta
        for j in range(order):
            A[i, j] = (2 * i + 1) / theta * (-1 if i < j else (-1) ** (i - j + 1))
    return A, B


@pytest.mark.parametrize("order, theta", [(1, 1.0), (6, 0.1), (12, 3.5)])
def test_legendre_system_matches_definition(order, theta):
    sys = legendre_system(order, theta)
    A, B = legendre_loops(order, theta)
    assert np.array_equal(sys.A, A)
    assert np.array_equal(sys.B, B)
    assert np.array_equal(sys.C, np.eye(order))
    assert np.array_equal(sys.D, np.zeros((order, 1)))
    assert not sys.is_discrete


@pytest.mark.parametrize("order, theta, dt", [(4, 1.0, 0.01), (6, 0.1, 0.001), (32, 784.0, 1.0)])
def test_zoh_matches_scipy(order, theta, dt):
    sys = legendre_system(order, theta)
    dsys = sys.discretize(dt, "zoh")
    Ad, Bd, _, _, _ = scipy.signal.cont2discrete((sys.A, sys.B, sys.C, sys.D), dt, "zoh")
    assert np.allclose(dsys.A, Ad, atol=1e-12, rtol=0)
    assert np.allclose(dsys.B, Bd, atol=1e-12, rtol=0)
    assert dsys.dt == dt and dsys.is_discrete
    assert np.array_equal(dsys.C, sys.C)


def test_zoh_with_singular_A():
    # An integrator: A = 0 is singular, yet zoh gives Bd = dt * B.
    dsys = LinearSystem([[0.0]], [[2.0]]).discretize(0.5)
    assert np.allclose(dsys.A, 1.0) and np.allclose(dsys.B, 1.0)


def test_euler():
    sys = legendre_system(4, 1.0)
    dsys = sys.discretize(0.01, "euler")
    assert np.allclose(dsys.A, np.eye(4) + 0.01 * sys.A, atol=0, rtol=1e-15)
    assert np.allclose(dsys.B, 0.01 * sys.B, atol=0, rtol=1e-15)


def test_euler_unstable_is_an_error():
    sys = legendre_system(12, 0.01)
    with pytest.raises(ValidationError, match="unstable.*spectral radius"):
        sys.discretize(0.001, "euler")


def test_check_euler_warns_where_inaccurate():
    with pytest.warns(UserWarning, match="fewer than 4\\*order=24"):
        check_euler(6, 0.015, 0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_euler(6, 0.1, 0.001)


def test_impulse_equals_recurrence(rng):
    sys = LinearSystem(
        rng.randn(5, 5) * 0.3, rng.randn(5, 2), rng.randn(3, 5), rng.randn(3, 2)
    ).discretize(0.1)
    n = 20
    H = sys.impulse(n)
    assert H.shape == (n, 5, 2)
    Y = sys.impulse(n, output=True)
    for i in range(2):
        u = np.zeros((n, 2))
        u[0, i] = 1
        assert np.allclose(H[:, :, i], sys.simulate(u, output=False), atol=1e-12)
        assert np.allclose(Y[:, :, i], sys.simulate(u), atol=1e-12)
    assert np.allclose(H[0], sys.B) and np.allclose(H[3], np.linalg.matrix_power(sys.A, 3) @ sys.B)
    assert sys.impulse(0).shape == (0, 5, 2)


def test_simulate_x0_and_convolution(rng):
    sys = legendre_system(6, 0.1).discretize(0.001)
    u = rng.randn(50, 1)
    x0 = rng.randn(6)
    x = sys.simulate(u, x0=x0, output=False)
    H = sys.impulse(50)
    conv = np.array([sum(H[t - j] @ u[j] for j in range(t + 1)) for t in range(50)])
    free = np.array([np.linalg.matrix_power(sys.A, t + 1) @ x0 for t in range(50)])
    assert np.allclose(x, conv + free, atol=1e-12)
    # a 1-D input is one input dimension
    assert np.allclose(sys.simulate(u[:, 0], output=False), conv, atol=1e-12)


@pytest.mark.parametrize("r", [0.0, 0.25, 0.5, 1.0])
def test_readout_decodes_delays(r):
    order, theta, dt = 12, 1.0, 0.001
    dsys = legendre_system(order, theta).discretize(dt)
    t = np.arange(int(3 * theta / dt)) * dt
    u = np.sin(2 * np.pi * 0.7 * t) + 0.5 * np.cos(2 * np.pi * 1.3 * t)
    x = dsys.simulate(u, output=False)
    y = x @ legendre_readout(order, r)
    # m[t] holds the input up to and including step t, which zoh places at
    # the end of the step: the delay is r*theta/dt - 1 steps.
    k = int(round(r * theta / dt)) - 1
    start = int(1.5 * theta / dt)
    target = np.interp(t - k * dt, t, u)
    assert np.max(np.abs(y[start:] - target[start:])) < 0.01


def test_readout_error_falls_with_order(plt):
    theta, dt = 1.0, 0.001
    t = np.arange(int(4 * theta / dt)) * dt
    rng = np.random.RandomState(3)
    # a smooth random input: a sum of sines below 1.5 Hz
    freqs = rng.uniform(0.1, 1.5, size=8)
    phases = rng.uniform(0, 2 * np.pi, size=8)
    u = np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases).sum(axis=1)
    rs = np.linspace(0, 1, 11)
    errors = []
    orders = [4, 6, 8, 10, 12]
    for order in orders:
        x = legendre_system(order, theta).discretize(dt).simulate(u, output=False)
        Y = x @ legendre_readout(order, rs).T
        start = int(1.5 * theta / dt)
        errs = []
        for i, r in enumerate(rs):
            k = max(int(round(r * theta / dt)) - 1, 0)
            target = u[start - k : len(u) - k]
            errs.append(np.sqrt(np.mean((Y[start:, i] - target) ** 2)) / np.std(u))
        errors.append(errs)
    errors = np.array(errors)
    mean_err = errors.mean(axis=1)
    plt.semilogy(orders, mean_err, "o-")
    plt.xlabel("order")
    plt.ylabel("mean NRMSE over r in [0, 1]")
    assert np.all(np.diff(mean_err) < 0), mean_err
    assert mean_err[-1] < 0.05 and mean_err[0] > 5 * mean_err[-1]


def test_readout_values_and_shapes():
    assert np.allclose(legendre_readout(5, 1.0), np.ones(5))
    assert np.allclose(legendre_readout(5, 0.0), [1, -1, 1, -1, 1])
    assert np.allclose(legendre_readout(3, 0.5), [1, 0, -0.5])
    assert legendre_readout(7, [0.1, 0.2, 0.9]).shape == (3, 7)
    assert np.array_equal(legendre_readout(7, [0.2])[0], legendre_readout(7, 0.2))


@pytest.mark.parametrize("r", [-0.1, 1.01, np.nan, [0.5, 2.0]])
def test_readout_rejects_out_of_window(r):
    with pytest.raises(ValidationError, match="r.*must lie in \\[0, 1\\]"):
        legendre_readout(4, r)


def test_lowpass_mapping_continuous():
    sys = legendre_system(4, 0.5)
    mapped = lowpass_mapping(sys, 0.05)
    assert np.allclose(mapped.A, 0.05 * sys.A + np.eye(4))
    assert np.allclose(mapped.B, 0.05 * sys.B)
    assert not mapped.is_discrete


@pytest.mark.parametrize("given", ["continuous", "discrete"])
def test_lowpass_mapping_discrete_is_exact(given, rng):
    sys = legendre_system(5, 0.2)
    tau, dt = 0.03, 0.001
    mapped = lowpass_mapping(sys if given == "continuous" else sys.discretize(dt), tau, dt=dt)
    dsys = sys.discretize(dt)
    # A lowpass loop x[t] = a x[t-1] + (1-a) (A' x[t-1] + B' u[t-1]) ...
    a = np.exp(-dt / tau)
    u = rng.randn(200, 1)
    x = np.zeros(5)
    xs = []
    for t in range(200):
        x = a * x + (1 - a) * (mapped.A @ x + mapped.B @ u[t])
        xs.append(x)
    # ... is the zoh system.
    assert np.allclose(xs, dsys.simulate(u, output=False), atol=1e-12)
    assert mapped.dt == dt


def test_lowpass_mapping_checks():
    sys = legendre_system(3, 1.0)
    with pytest.raises(ValidationError, match="tau.*positive"):
        lowpass_mapping(sys, 0)
    with pytest.raises(ValidationError, match="dt.*must equal.*0.01"):
        lowpass_mapping(sys.discretize(0.01), 0.1, dt=0.02)


@pytest.mark.parametrize("discrete", [False, True])
def test_balanced_transform(discrete):
    sys = legendre_system(6, 0.1).with_outputs(np.ones((1, 6)))
    if discrete:
        sys = sys.discretize(0.001)
    T, hsv = balanced_transform(sys)
    bal = sys.transform(T)
    from nengo_lmu.realizers import gramians

    P, Q = gramians(bal)
    assert np.allclose(P, np.diag(hsv), atol=1e-8 * hsv[0])
    assert np.allclose(Q, np.diag(hsv), atol=1e-8 * hsv[0])
    assert np.all(np.diff(hsv) < 0)
    # the delay system is nearly all-pass: its largest Hankel values are close
    assert hsv[1] / hsv[0] > 0.9 and hsv[-1] / hsv[0] < 0.3


def test_balanced_transform_needs_stability():
    with pytest.raises(ValidationError, match="stable"):
        balanced_transform(LinearSystem([[1.0]], [[1.0]]))


@pytest.mark.parametrize("method", ["identity", "scaled", "balanced"])
@pytest.mark.parametrize("radius", [1.0, 0.5])
def test_realize(method, radius, rng):
    sys = legendre_system(6, 0.1).with_outputs(np.ones((1, 6))).discretize(0.001)
    u = rng.randn(2000, 1) * 0.3
    real, T = realize(sys, u, method=method, radius=radius)
    # the input-output behaviour is unchanged ...
    assert np.allclose(real.simulate(u), sys.simulate(u), atol=1e-10)
    z = real.simulate(u, output=False)
    if method == "identity":
        assert np.array_equal(T, np.eye(6))
    else:
        # ... and each state now peaks at the radius
        assert np.allclose(np.max(np.abs(z), axis=0), radius)
    if method == "scaled":
        assert np.allclose(T, np.diag(np.diag(T)))


def test_realize_rejects_unknown_method(rng):
    sys = legendre_system(3, 0.1).discretize(0.001)
    with pytest.raises(ValidationError, match="method.*one of"):
        realize(sys, rng.randn(10, 1), method="bogus")
    with pytest.raises(ValidationError, match="radius"):
        realize(sys, rng.randn(10, 1), radius=-1)


def test_state_scales_unreached_state():
    sys = LinearSystem(np.diag([0.5, 0.5]), [[1.0], [0.0]], dt=1.0)
    assert np.allclose(state_scales(sys, np.ones((5, 1))), [1.9375, 1.0])


def test_transform_preserves_io(rng):
    sys = legendre_system(4, 1.0).discretize(0.01)
    T = rng.randn(4, 4) + 3 * np.eye(4)
    u = rng.randn(100, 1)
    assert np.allclose(sys.transform(T).simulate(u), sys.simulate(u), atol=1e-10)
    with pytest.raises(ValidationError, match="T.*invertible"):
        sys.transform(np.ones((4, 4)))
    with pytest.raises(ValidationError, match="T.*shape"):
        sys.transform(np.eye(3))


def test_linear_system_is_immutable():
    sys = legendre_system(3, 1.0)
    with pytest.raises(AttributeError, match="immutable"):
        sys.A = np.eye(3)
    with pytest.raises(ValueError, match="read-only"):
        sys.A[0, 0] = 1.0
    # the user's array is copied, not frozen in place
    A = -np.eye(2)
    LinearSystem(A, np.ones((2, 1)))
    A[0, 0] = 5.0


def test_linear_system_equality_and_replace():
    a = legendre_system(3, 1.0)
    b = legendre_system(3, 1.0)
    assert a == b and hash(a) == hash(b)
    assert a != a.discretize(0.1)
    c = a.replace(D=np.ones((3, 1)))
    assert np.array_equal(c.D, np.ones((3, 1))) and np.array_equal(c.A, a.A)
    with pytest.raises(ValidationError, match="can only replace"):
        a.replace(E=1)
    assert "n_states=3" in repr(a) and "continuous" in repr(a)
    assert "dt=0.1" in repr(a.discretize(0.1))
    assert (a.n_states, a.n_inputs, a.n_outputs) == (3, 1, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(A=[[np.nan]], B=[[1.0]]), "A: must be finite, got nan"),
        (dict(A=[[-1.0]], B=[[np.inf]]), "B: must be finite, got inf"),
        (dict(A=np.ones((2, 3)), B=np.ones((2, 1))), "A: must be square"),
        (dict(A=-np.eye(2), B=np.ones((3, 1))), "B: must have 2 rows"),
        (dict(A=-np.eye(2), B=np.ones((2, 1)), C=np.ones((1, 3))), "C: must have 2 columns"),
        (dict(A=-np.eye(2), B=np.ones((2, 1)), D=np.ones((2, 2))), "D: must have shape"),
        (dict(A=-np.eye(2), B=np.ones((2, 1)), dt=0), "dt: must be a positive"),
        (dict(A=-np.eye(2), B=np.ones((2, 1)), dt=-1), "dt: must be a positive"),
        (dict(A="abc", B=np.ones((2, 1))), "A: must be a numeric array"),
        (dict(A=np.ones((2, 2, 2)), B=np.ones((2, 1))), "A: must be a 2-D matrix"),
    ],
)
def test_linear_system_validation(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        LinearSystem(**kwargs)


def test_scalar_and_vector_shorthands():
    sys = LinearSystem(-1.0, [1.0, 2.0][:1], C=[3.0], D=0.5)
    assert sys.A.shape == (1, 1) and sys.B.shape == (1, 1)
    assert sys.C.shape == (1, 1) and sys.D.shape == (1, 1)


@pytest.mark.parametrize("order", [0, -3, 2.5, True, "6", None])
def test_order_validation(order):
    with pytest.raises(ValidationError, match="order: must be an integer >= 1"):
        legendre_system(order, 1.0)


@pytest.mark.parametrize("theta", [0, -0.1, np.inf, "x"])
def test_theta_validation(theta):
    with pytest.raises(ValidationError, match="theta: must be a positive"):
        legendre_system(4, theta)


def test_theta_dt():
    assert check_theta_dt(0.1, 0.001) == (0.1, 0.001)
    with pytest.raises(ValidationError, match="dt: must be smaller than theta=0.1, got 0.1"):
        check_theta_dt(0.1, 0.1)


def test_discretize_checks():
    sys = legendre_system(3, 1.0)
    with pytest.raises(ValidationError, match="method: must be one of"):
        sys.discretize(0.1, "bilinear")
    with pytest.raises(ValidationError, match="already discrete"):
        sys.discretize(0.1).discretize(0.1)
    with pytest.raises(ValidationError, match="discrete system"):
        sys.impulse(3)
    with pytest.raises(ValidationError, match="discrete system"):
        sys.simulate(np.ones(3))


def test_simulate_checks():
    sys = legendre_system(3, 1.0).discretize(0.1)
    with pytest.raises(ValidationError, match="u: must be finite, got nan"):
        sys.simulate(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValidationError, match="u: must have shape"):
        sys.simulate(np.ones((4, 2)))
    with pytest.raises(ValidationError, match="x0: must have shape"):
        sys.simulate(np.ones((4, 1)), x0=np.ones(2))
    with pytest.raises(ValidationError, match="n: must be >= 0"):
        sys.impulse(-1)
    with pytest.raises(ValidationError, match="n: must be an int"):
        sys.impulse(2.0)


@pytest.mark.parametrize("order", [1, 2, 6, 12, 64, 256])
def test_euler_rule_is_the_spectral_radius(order):
    """The one Euler rule: refused exactly where Euler's Ad is unstable, and
    the message gives the theta that is stable (KerasLMU's theta > 4*order
    is not enough above order ~12: order 256 needs 6542 steps)."""
    from nengo_lmu.systems import check_euler, euler_min_theta

    stable = euler_min_theta(order)
    for theta, ok in ((stable * 1.001, True), (stable * 0.999, False)):
        Ad = legendre_system(order, theta).discretize(1.0, "zoh")  # any theta is fine
        radius = np.max(np.abs(np.linalg.eigvals(np.eye(order) + legendre_system(order, theta).A)))
        assert (radius < 1) == ok
        assert Ad.A.shape == (order, order)
        if ok:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check_euler(order, theta, 1.0)
            legendre_system(order, theta).discretize(1.0, "euler")
        else:
            with pytest.raises(ValidationError, match=f"stable only for theta > {stable:.6g}"):
                check_euler(order, theta, 1.0)
            with pytest.raises(ValidationError, match="unstable"):
                legendre_system(order, theta).discretize(1.0, "euler")
    # the refusal and the warning agree: never a warning below the refusal
    if stable < 4 * order:
        with pytest.warns(UserWarning, match="stable .* but inaccurate"):
            check_euler(order, (stable + 4 * order) / 2, 1.0)
    assert round(euler_min_theta(256)) == 6542


@pytest.mark.parametrize("name", ["A", "B", "C", "D"])
def test_complex_matrices_are_refused(name):
    """Issue 27 item 9: a complex numpy A was accepted, numpy's ComplexWarning
    and the imaginary part dropped (a list of complex numbers was refused)."""
    import warnings

    from nengo_lmu.systems import LinearSystem

    matrices = dict(A=-np.eye(2), B=np.ones((2, 1)), C=np.ones((1, 2)), D=np.zeros((1, 1)))
    matrices[name] = matrices[name] + 1j
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValidationError, match=f"{name}: must be real, got a complex"):
            LinearSystem(**matrices)


def test_check_finite_array_refuses_complex_arrays():
    from nengo_lmu.validation import check_finite_array

    assert check_finite_array("x", np.array([1.5])).tolist() == [1.5]
    with pytest.raises(ValidationError, match="x: must be real, got a complex array"):
        check_finite_array("x", np.array([1.0 + 2j]))


# --- issue 27 item 8: minimality at high order ----------------------------


def _with_unreachable_state(order, rng):
    """The Legendre system of ``order`` plus one state the input never
    reaches, in a random orthonormal basis (so that no entry is exactly 0)."""
    c = legendre_system(order, 1.0)
    A = scipy.linalg.block_diag(c.A, [[-1.0]])
    B = np.vstack([c.B, [[0.0]]])
    Q, _ = np.linalg.qr(rng.randn(order + 1, order + 1))
    return LinearSystem(Q.T @ A @ Q, Q.T @ B, Q)


def _doubled(order, rng):
    """Two copies of the Legendre system fed the same input (half of the
    states unreachable), in a random orthonormal basis."""
    c = legendre_system(order, 1.0)
    A = np.kron(np.eye(2), c.A)
    B = np.vstack([c.B, c.B])
    Q, _ = np.linalg.qr(rng.randn(2 * order, 2 * order))
    return LinearSystem(Q.T @ A @ Q, Q.T @ B, np.hstack([np.eye(order)] * 2) @ Q)


@pytest.mark.parametrize("orders", [(1, 6, 200), pytest.param((300, 500), marks=pytest.mark.slow)])
def test_legendre_system_is_minimal_to_order_500(orders):
    from nengo_lmu.realizers import is_minimal

    for order in orders:
        sys = legendre_system(order, 1.0)
        assert is_minimal(sys), order
        assert is_minimal(sys.with_outputs(legendre_readout(order, 1.0)[None, :])), order


@pytest.mark.parametrize("order", [3, 200])
def test_minimality_refuses_non_minimal_systems(order, rng):
    from nengo_lmu.realizers import check_minimal, is_minimal

    unreachable = _with_unreachable_state(order, rng)
    assert not is_minimal(unreachable)
    with pytest.raises(ValidationError, match=f"{order + 1} states with 1 unreachable and 0 unob"):
        check_minimal(unreachable)
    doubled = _doubled(order if order < 100 else 150, rng)
    with pytest.raises(ValidationError, match="must be minimal"):
        check_minimal(doubled)
    # an unobservable state: the output never sees the extra state
    c = legendre_system(order, 1.0)
    unseen = LinearSystem(
        scipy.linalg.block_diag(c.A, [[-1.0]]),
        np.vstack([c.B, [[1.0]]]),
        np.hstack([np.eye(order), np.zeros((order, 1))]),
    )
    with pytest.raises(ValidationError, match="0 unreachable and 1 unobservable"):
        check_minimal(unseen)
    # the same states in units of 1e-9 are still minimal: the test is scaled
    D = np.diag(10.0 ** np.linspace(-9, 0, order))
    scaled = LinearSystem(np.linalg.solve(D, c.A @ D), np.linalg.solve(D, c.B), D)
    assert is_minimal(scaled) or order > 100  # the Lyapunov solve itself loses 1e-9 at order 200


def test_balanced_transform_of_high_order_legendre_memory():
    """The measured case: the discrete Legendre memory of order 200 with
    theta = 1000 dt was refused as non-minimal (its discrete Gramians are
    singular to working precision). Balanced with its continuous origin, it
    is balanced where the Hankel values are resolved, and T is invertible."""
    from nengo_lmu.realizers import BalancedRealizer, gramians

    order = 200
    c = legendre_system(order, 1.0).with_outputs(legendre_readout(order, 1.0)[None, :])
    d = c.discretize(0.001)
    with pytest.raises(ValidationError, match="must be minimal"):
        balanced_transform(d)  # the discrete system alone is numerically not minimal
    T, hsv = balanced_transform(d, origin=c)
    keep = int(np.sum(hsv > 1e-7 * hsv[0]))
    assert 150 < keep < order
    P, Q = gramians(d.transform(T))
    assert np.allclose(P[:keep, :keep], np.diag(hsv[:keep]), atol=1e-5 * hsv[0])
    assert np.allclose(Q[:keep, :keep], np.diag(hsv[:keep]), atol=1e-8 * hsv[0])
    # the completed columns are orthonormal and orthogonal to the balanced ones
    rest = T[:, keep:]
    assert np.allclose(rest.T @ rest, np.eye(order - keep), atol=1e-10)
    assert np.allclose(rest.T @ T[:, :keep], 0, atol=1e-8 * np.abs(T[:, :keep]).max())
    assert np.linalg.cond(T) < 1e4
    # the realiser takes the same path through for_origin
    u = np.random.RandomState(0).randn(2000, 1) * 0.3
    T_rule = BalancedRealizer().for_origin(c)(d, u)
    assert np.all(np.isfinite(T_rule)) and np.linalg.matrix_rank(T_rule) == order
    # a non-minimal origin is still refused
    with pytest.raises(ValidationError, match="1 unreachable"):
        balanced_transform(d, origin=_with_unreachable_state(5, np.random.RandomState(1)))


def test_balance_to_precision_matches_cholesky_balancing():
    """The eigenvalue-factor path equals square-root balancing with Cholesky
    factors where both apply (columns up to sign)."""
    from nengo_lmu.realizers import _balance_to_precision, gramians

    sys = legendre_system(8, 0.1).with_outputs(np.ones((1, 8))).discretize(0.001)
    T, hsv = balanced_transform(sys)
    T2, hsv2 = _balance_to_precision(*gramians(sys))
    assert np.allclose(hsv, hsv2, rtol=1e-6)
    signs = np.sign(np.sum(T * T2, axis=0))
    assert np.allclose(T, T2 * signs, rtol=1e-5, atol=1e-8 * np.abs(T).max())


@pytest.mark.slow
@pytest.mark.parametrize("order", [200, 300, 500])
def test_high_order_legendre_memory_builds(order):
    """issue 27 item 8: LegendreMemory(order=200/300/500, theta=1,
    n_neurons=5) was refused as non-minimal with its default realiser."""
    import nengo

    from nengo_lmu.networks import LegendreMemory

    with nengo.Network():
        mem = LegendreMemory(order=order, theta=1.0, n_neurons=5, progress_bar=False)
    assert np.all(np.isfinite(mem.T)) and np.linalg.matrix_rank(mem.T) == order


def test_linear_system_network_balanced_refuses_non_minimal(rng):
    import nengo

    from nengo_lmu.networks import LinearSystemNetwork

    sys = LinearSystem(-np.eye(2), [[1.0], [1.0]])
    with pytest.raises(ValidationError, match="must be minimal"):
        with nengo.Network():
            LinearSystemNetwork(sys, n_neurons=20, realizer="balanced", progress_bar=False)
