"""Shared fixtures: one network, every simulator."""

import importlib

import nengo
import pytest

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
        nengo_loihi = importlib.import_module("nengo_loihi")

        def loihi_simulator(net, **kwargs):
            return nengo_loihi.Simulator(net, target="sim", **kwargs)

        return loihi_simulator
    raise ValueError(backend)


@pytest.fixture(params=BACKENDS)
def AnySimulator(request):
    """Each simulator in turn: nengo, NengoDL and the nengo-loihi emulator."""
    return make_simulator(request.param)
