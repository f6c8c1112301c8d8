"""The plan of the neural form (`nengo_lmu.networks.neural_plan`) and the
build's progress report (`nengo_lmu.networks.build_progress`)."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError
from nengo.utils.progress import ProgressBar

from nengo_lmu.networks import LegendreMemory, build_progress


class RecordingBar(ProgressBar):
    """A progress bar that remembers what it was shown."""

    def __init__(self):
        super().__init__()
        self.seen = []
        self.closed = False

    def update(self, progress):
        self.seen.append((progress.n_steps, progress.max_steps, progress.finished))

    def close(self):
        self.closed = True


def test_long_build_reports_progress(monkeypatch):
    # a threshold low enough that an order-6 memory counts as a long build
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 10)
    bar = RecordingBar()
    LegendreMemory(6, 0.1, n_neurons=20, progress_bar=bar, add_to_container=False)
    # one step per population, then the finished state
    assert [s[0] for s in bar.seen] == [1, 2, 3, 4, 5, 6, 6]
    assert all(s[1] == 6 for s in bar.seen)
    assert bar.seen[-1][2] and bar.closed


def test_short_build_and_disabled_bar_stay_silent(monkeypatch):
    bar = RecordingBar()
    # 6 populations, 42 connections: below the default threshold
    LegendreMemory(6, 0.1, n_neurons=20, progress_bar=bar, add_to_container=False)
    assert bar.seen == [] and not bar.closed
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 10)
    progress = build_progress.BuildProgress(False, n_steps=6, n_connections=100)
    assert not progress.active
    # the exact form builds no populations: nothing to report
    LegendreMemory(6, 0.1, progress_bar=bar, add_to_container=False)
    assert bar.seen == []


def test_progress_bar_is_validated():
    with pytest.raises(ValidationError, match="progress_bar.*must be a bool"):
        LegendreMemory(6, 0.1, n_neurons=20, progress_bar="yes", add_to_container=False)


def test_progress_does_not_change_the_network(monkeypatch):
    # the same seeded network with and without the report
    def build():
        with nengo.Network(seed=3) as net:
            mem = LegendreMemory(4, 0.1, n_neurons=30, progress_bar=RecordingBar())
        with nengo.Simulator(net, progress_bar=False) as sim:
            return np.concatenate([sim.data[e].encoders.ravel() for e in mem.ensembles])

    quiet = build()
    monkeypatch.setattr(build_progress, "PROGRESS_MIN_CONNECTIONS", 1)
    assert np.array_equal(build(), quiet)
