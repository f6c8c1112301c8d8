"""Every experiment's result has the same ``table()`` and ``report``
(`nengo_lmu.apps.experiments.results.ExperimentResult`)."""

import dataclasses
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import nengo_lmu.apps.experiments as experiments
from nengo_lmu.apps.experiments.results import ExperimentResult

#: Dataclasses that are parts of a result (one row, one run), not results.
PARTS = {"ModelScore", "SpikingRun", "PsmnistRun", "NengoRun", "LMRun", "ModelRun", "_Prepared"}


def experiment_modules():
    for info in pkgutil.iter_modules(experiments.__path__):
        yield importlib.import_module(f"{experiments.__name__}.{info.name}")


def is_settings(cls):
    fields = dataclasses.fields(cls)
    return bool(fields) and all("help" in f.metadata for f in fields)


def result_classes():
    """``(module, class)`` of every dataclass an experiment module defines."""
    for module in experiment_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls):
                yield module.__name__, cls


def test_every_result_has_table_and_report():
    checked = []
    for module, cls in result_classes():
        if is_settings(cls) or cls.__name__ in PARTS:
            continue
        assert issubclass(cls, ExperimentResult), f"{module}.{cls.__name__}"
        assert cls.table is not ExperimentResult.table, f"{module}.{cls.__name__}.table"
        assert isinstance(inspect.getattr_static(cls, "report"), property)
        checked.append(cls.__name__)
    # the walk finds the results (not an empty loop)
    assert {
        "DelayDemo",
        "L2MUExperiment",
        "DelayComparison",
        "ChipDigitsComparison",
        "LMUFormerComparison",
        "TrainLMResult",
    } <= set(checked)


def test_parts_are_not_results():
    names = {cls.__name__: cls for _, cls in result_classes()}
    assert PARTS <= set(names)
    assert not any(issubclass(names[p], ExperimentResult) for p in PARTS)


def test_the_base_refuses_a_result_without_table():
    @dataclasses.dataclass
    class Bare(ExperimentResult):
        n: int = 0

    with pytest.raises(NotImplementedError, match="Bare"):
        Bare().report  # noqa: B018


def test_report_is_the_sections_joined():
    from nengo_lmu.apps.experiments.l2mu import L2MUExperiment, SpikingRun

    metrics = dict(
        parameters=10,
        activation_sparsity=0.5,
        synaptic_ops=3.0,
        dense_ops=4.0,
        membrane_updates=5.0,
        footprint_bytes=2000,
    )
    out = L2MUExperiment(
        [SpikingRun("L2MU", "nengo", 0.75, metrics)],
        n_train=8,
        n_test=2,
        n_steps=20,
        n_channels=16,
        saved={"L2MU": "a.npz"},
        seed=4,
    )
    sections = out.report_sections()
    assert out.report == "\n\n".join(sections)
    assert out.table() in out.report
    assert "(seed 4)" in sections[0] and "0.7500" in out.table()
    assert "L2MU.load('a.npz')" in sections[-1]


def test_loihi_results_report_their_placement_and_resources():
    from nengo_lmu.apps.experiments.chip_digits import ChipDigitsComparison
    from nengo_lmu.apps.experiments.loihi import RESOURCE_KEYS, DigitsComparison

    resources = dict.fromkeys(RESOURCE_KEYS, 1.0)
    logits = np.eye(3)
    runs = {
        "rate": dict(accuracy=1.0, logits=logits, n=3),
        "nengo": dict(accuracy=1.0, logits=logits, n=3),
        "sim": dict(
            accuracy=2 / 3, logits=logits[[0, 1, 1]], n=3, placement="PLACED", resources=resources
        ),
    }
    out = DigitsComparison(runs, ("sim",))
    assert out.placement == "PLACED" and out.report.startswith("PLACED\n\n")
    assert "sim: the same class as nengo for 66.67% of the sequences" in out.report
    assert "spikes per sequence" in out.report
    chip = ChipDigitsComparison(
        dict(rate=1.0, nengo=1.0, sim=0.5),
        {"nengo": dict(logits=logits), "sim": dict(logits=logits, placement="CHIP")},
        {"sim": resources},
        16,
        0.016,
        3,
    )
    assert chip.placement == "CHIP" and chip.table() in chip.report
    assert "16 steps a sequence: 16 ms of chip time per sequence" in chip.report
    # without an emulator target: no placement section
    assert not DigitsComparison({k: runs[k] for k in ("rate", "nengo")}).report.startswith("\n")
