"""Argument checks of the public constructors and data functions: a bad
value of any one argument raises `ValidationError` (or a `ValueError` /
`TypeError` that names the parameter), never an error from inside numpy,
scipy, TensorFlow or nengo, and the message names the user's argument.

Every bad value of every argument is tried (an exhaustive sweep, so that no
case depends on which examples were drawn).
"""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LinearSystem, legendre_system
from nengo_lmu.apps.data import event_digits, permuted_digits, sigma_delta_encode
from nengo_lmu.apps.experiments.outputs import check_output_path
from nengo_lmu.discrete_lif import DiscreteLIF
from nengo_lmu.networks import (
    L2MU,
    LegendreMemory,
    LinearSystemNetwork,
    LMUCell,
    LMUClassifier,
    RecurrentLIF,
)
from nengo_lmu.realizers import balanced_transform, realize

NAN, INF = float("nan"), float("inf")
# Bad values by the kind of argument. Huge integers are left out on purpose:
# they are valid, only expensive.
INT = [0, -1, -7, 2.5, "3", None, True, NAN, [2], 1j]
INT_OR_NONE = [0, -1, 2.5, "3", True, NAN, [2]]
POSITIVE = [0, 0.0, -0.5, NAN, INF, -INF, "x", None, [1.0], True, 1j]
BOOL = [0, 1, "yes", None, 2.0, NAN]
SEED = [-1, 2**33, 1.5, "s", True, [1]]
CHOICE = ["nope", 3, None, ["zoh"]]
NEURON = ["LIF", 3, nengo.LIF, [nengo.LIF()]]
BETA = [-0.1, 1.5, NAN, INF, "a", None]
THRESHOLD = [0, -1, NAN, INF, "a", None]
FRACTION = [0, 1, -0.2, 1.5, NAN, "a", None]
INITIALIZER = ["no_such_init", 3, None, np.zeros((2, 2))]

SYSTEM = legendre_system(3, 0.1)
#: The bad values of what every SpikingClassifier (L2MU, RecurrentLIF) takes.
SPIKING_CLASSIFIER = dict(
    beta_h=BETA,
    threshold_h=THRESHOLD,
    beta_out=BETA,
    threshold_out=THRESHOLD,
    learn_neuron_params=BOOL,
    surrogate_alpha=POSITIVE,
    reset=CHOICE,
)

#: name: (constructor, good keyword arguments, {argument: bad values}[,
#: {argument: other names an error may use for it}])
CASES = {
    "LMUCell": (
        LMUCell,
        dict(units=3, order=2, theta=4.0),
        dict(
            units=INT,
            order=INT,
            theta=POSITIVE + [1.0, 0.5],
            input_d=INT,
            memory_d=INT,
            hidden_neuron_type=NEURON,
            hidden_gain=POSITIVE,
            hidden_to_memory=BOOL,
            memory_to_memory=BOOL,
            input_to_hidden=BOOL,
            hidden_to_hidden=BOOL,
            discretizer=CHOICE,
            trainable_memory=BOOL,
            kernel_initializer=INITIALIZER,
            recurrent_initializer=INITIALIZER,
            encoder_initializer=INITIALIZER,
            seed=SEED,
        ),
    ),
    "LMUClassifier": (
        LMUClassifier,
        dict(n_classes=3, cells=[dict(units=3, order=2, theta=4.0)]),
        dict(
            n_classes=INT + [1],
            cells=[[], {}, [3], "x", None, [dict(units=0, order=2, theta=4.0)]],
            readout_initializer=INITIALIZER,
            seed=SEED,
        ),
        {"cells": ("units",)},
    ),
    "L2MU": (
        L2MU,
        dict(n_inputs=2, n_classes=2, memory_size=2, order=2, theta=4.0, hidden_size=3),
        dict(
            n_inputs=INT,
            n_classes=INT,
            memory_size=INT,
            order=INT,
            theta=POSITIVE + [1.0],
            hidden_size=INT,
            beta_u=BETA,
            threshold_u=THRESHOLD,
            beta_m=BETA,
            threshold_m=THRESHOLD,
            **SPIKING_CLASSIFIER,
            min_voltage=[NAN, 1.0, "a", None],
            chip_timing=BOOL,
            dt=POSITIVE,
            seed=SEED,
        ),
    ),
    "RecurrentLIF": (
        RecurrentLIF,
        dict(n_inputs=2, n_classes=2, hidden_size=3),
        dict(
            n_inputs=INT,
            n_classes=INT,
            hidden_size=INT,
            **SPIKING_CLASSIFIER,
            chip_timing=BOOL,
            dt=POSITIVE,
            seed=SEED,
        ),
    ),
    "DiscreteLIF": (
        DiscreteLIF,
        dict(beta=0.5, threshold=0.3),
        dict(
            beta=BETA,
            threshold=THRESHOLD,
            amplitude=POSITIVE,
            surrogate_alpha=POSITIVE,
            learnable=BOOL,
            reset=CHOICE,
            min_voltage=[NAN, 1.0, "a", None],
        ),
    ),
    "LegendreMemory": (
        LegendreMemory,
        dict(order=3, theta=0.1),
        dict(
            order=INT,
            theta=POSITIVE,
            size_in=INT,
            n_neurons=INT_OR_NONE,
            dt=POSITIVE,
            discretizer=CHOICE,
            seed=SEED,
        ),
    ),
    "LinearSystemNetwork": (
        LinearSystemNetwork,
        dict(system=SYSTEM),
        dict(
            system=[None, 3, np.eye(2), "sys"],
            n_neurons=INT_OR_NONE,
            dt=POSITIVE,
            mapping=CHOICE,
            radius=POSITIVE,
            ens_dimensions=INT,
            discretizer=CHOICE,
            seed=SEED,
        ),
    ),
    "LinearSystemNetwork (neural)": (
        LinearSystemNetwork,
        dict(system=SYSTEM, n_neurons=20),
        dict(
            radius=POSITIVE,
            ens_dimensions=[0, -1, 2.5, "3", None, 2],
            neuron_type=NEURON,
            realizer=["nope", 3, np.eye(2)],
            process=["a", np.zeros((10, 1)), np.full((10, 1), NAN)],
            seed=SEED,
            ens_kwargs=["a", 3],
        ),
    ),
    "LegendreMemory (neural)": (
        LegendreMemory,
        dict(order=3, theta=0.1, n_neurons=20),
        dict(realizer=["nope", 3], process=["a", np.zeros((10, 1))], seed=SEED),
        {},
    ),
    "LinearSystem": (
        LinearSystem,
        dict(A=-np.eye(2), B=np.ones((2, 1))),
        dict(
            A=[None, "a", np.ones((2, 3)), np.full((2, 2), NAN), [[1j, 0], [0, 1]]],
            B=[None, "b", np.ones((3, 1)), np.full((2, 1), INF)],
            C=["c", np.ones((1, 3)), np.full((1, 2), NAN)],
            D=["d", np.ones((2, 2)), np.full((1, 1), NAN)],
            dt=[0, -1, NAN, "x", True],
        ),
    ),
    "legendre_system": (
        legendre_system,
        dict(order=3, theta=0.1),
        dict(order=INT, theta=POSITIVE),
        {},
    ),
    "permuted_digits": (
        permuted_digits,
        {},
        dict(test_size=FRACTION, permute=BOOL, permutation_seed=SEED, split_seed=SEED),
        {},
    ),
    "event_digits": (
        event_digits,
        dict(n_samples=60),
        dict(
            n_steps=INT,
            threshold=POSITIVE,
            test_size=FRACTION,
            split_seed=SEED,
            n_samples=[0, -3, 2.5, "10", True, 5],
        ),
    ),
    "sigma_delta_encode": (
        sigma_delta_encode,
        dict(x=np.zeros((2, 5, 3))),
        dict(x=[None, "x", np.zeros(3), np.full((2, 5, 3), NAN)], threshold=POSITIVE),
        {},
    ),
    "check_output_path": (
        check_output_path,
        dict(path="out.npz"),
        dict(path=["/nonexistent/x.npz", "/"]),
        {},
    ),
}


def acceptable(error, name, aliases):
    """A `ValidationError`, or a ValueError/TypeError naming the parameter,
    raised from nengo_lmu's own code."""
    names = (name,) + tuple(aliases.get(name, ()))
    text = str(error)
    if isinstance(error, ValidationError):
        return error.attr in names or any(n in text for n in names)
    if isinstance(error, (ValueError, TypeError)):
        return any(n in text for n in names)
    return False


def outcome(key, name, value):
    """``None`` if ``key(name=value)`` fails acceptably, else what went wrong."""
    make, good, bad, *aliases = CASES[key]
    aliases = aliases[0] if aliases else {}
    kwargs = dict(good, **{name: value})
    if isinstance(make, type) and issubclass(make, nengo.Network):
        kwargs.setdefault("add_to_container", False)
    try:
        make(**kwargs)
    except Exception as e:  # noqa: BLE001 - the property is about which errors
        if acceptable(e, name, aliases):
            return None
        return f"{key}({name}={value!r}) raised {type(e).__name__}: {e}"
    return f"{key}({name}={value!r}) was accepted"


@pytest.mark.parametrize("key", sorted(CASES))
def test_every_bad_value_of_every_argument(key):
    bad = CASES[key][2]
    problems = [outcome(key, name, value) for name, values in bad.items() for value in values]
    assert [p for p in problems if p] == []


def test_the_sweep_can_fail(monkeypatch):
    def probe(amount=1):
        if amount == 0:
            raise ZeroDivisionError("division by zero")  # does not name the argument
        if amount < 0:
            raise ValidationError("must be >= 0", attr="amount")
        return amount

    monkeypatch.setitem(CASES, "probe", (probe, {}, dict(amount=[0, -1, 3]), {}))
    assert [outcome("probe", "amount", v) for v in (0, -1, 3)] == [
        "probe(amount=0) raised ZeroDivisionError: division by zero",
        None,
        "probe(amount=3) was accepted",
    ]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LMUCell(4, 4, theta=1), "LMUCell.theta: must be > 1 step"),
        (lambda: LMUCell(4, 4, theta=8.0, discretizer="bad"), "LMUCell.discretizer"),
        (
            lambda: LMUCell(4, 4, theta=8.0, hidden_neuron_type="LIF"),
            "LMUCell.hidden_neuron_type: must be a nengo NeuronType",
        ),
        (lambda: LMUCell(4, 4, theta=8.0, seed=-1), "LMUCell.seed: must be an integer in"),
        (
            lambda: LMUClassifier(3, [dict(units=4, order=4, theta=8.0)], seed=-1),
            "LMUClassifier.seed",
        ),
        (lambda: L2MU(2, 2, 2, 2, 4.0, 4, seed=-1), "L2MU.seed"),
        (lambda: RecurrentLIF(2, 2, 3, seed=-5), "RecurrentLIF.seed"),
        (
            lambda: LegendreMemory(
                3, 0.1, n_neurons=10, neuron_type="LIF", add_to_container=False
            ),
            "neuron_type: must be a nengo NeuronType instance",
        ),
        (
            lambda: LegendreMemory(3, 0.1, seed=-1, add_to_container=False),
            "LegendreMemory.seed: must be an integer in",
        ),
        (
            lambda: realize(legendre_system(3, 0.1).discretize(0.001), np.zeros((0, 1))),
            r"u: must be a sample of shape \(n_steps >= 1, 1\)",
        ),
        (
            lambda: balanced_transform(
                LinearSystem(-np.eye(2), np.array([[1.0], [0.0]]), C=np.eye(2))
            ),
            "must be minimal \\(controllable and observable\\)",
        ),
        (
            lambda: (
                legendre_system(3, 0.1)
                .discretize(0.001)
                .simulate(np.zeros((5, 1)), x0=[np.nan, 0, 0])
            ),
            "x0: must be finite, got nan",
        ),
    ],
)
def test_messages_name_the_users_argument(make, match):
    with pytest.raises(ValidationError, match=match):
        make()
