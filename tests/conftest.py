"""Shared fixtures: one network, every simulator.

Tests that need an optional part (TensorFlow / NengoDL, nengo-loihi, eSpeak
NG, KerasLMU) skip when it is not installed, so the core's tests run in a core
install. Set ``NENGO_LMU_REQUIRE_EXTRAS`` (e.g. ``dl,loihi,speech,peers``) to
make a missing extra an error instead: CI does, so that no test is skipped by
accident in the full environment.
"""

import importlib
import os

import nengo
import pytest

from nengo_lmu.info import EXTRAS, extra_status

BACKENDS = ("nengo", "nengo_dl", "nengo_loihi")


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
