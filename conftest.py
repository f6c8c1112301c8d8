"""The test run's options, and doctest collection in an install without every extra.

nengo's own pytest plugin is switched off (``-p no:nengo`` in setup.cfg): its
hooks take an argument that pytest 9 removed, so with it the tests would pin
pytest below 9. What the tests used from it is here: ``--slow`` (tests marked
``slow`` are skipped unless it is given) and, in ``tests/conftest.py``, the
``Simulator`` fixture.

``--doctest-modules`` imports each module of the package. A module that needs
an extra which is not installed (TensorFlow for ``nengo_lmu.dl``, nengo-loihi
for ``nengo_lmu.loihi``, ...) is left out instead of failing the collection,
as the tests of that extra skip; any other import error still fails. A
module that imports without its extra but whose examples run it (nengo-loihi
loaded inside the functions of ``nengo_lmu.loihi``) has its doctests skipped
when the extra is missing (`DOCTEST_EXTRAS`).
"""

import importlib
from pathlib import Path

import nengo
import pytest

from nengo_lmu.info import EXTRAS, MissingExtraError, extra_status

# nengo's decoder cache is one folder per user (~/.cache/nengo) shared by
# every environment, and numpy 1 cannot read what numpy 2 wrote there
# ("No module named numpy._core"). The tests do without it, so that they
# neither depend on nor change what other environments left (the notebook
# test gives its kernels a nengorc that says the same).
nengo.rc["decoder_cache"]["enabled"] = "False"

PACKAGE = Path(__file__).resolve().parent / "nengo_lmu"
OPTIONAL = {m for extra in EXTRAS.values() for m in extra.modules}

#: module -> the extra its examples run (the module itself imports without
#: it: the extra is loaded inside its functions).
DOCTEST_EXTRAS = {
    "nengo_lmu.loihi.chip_memory_classifier": "loihi",
    "nengo_lmu.loihi.networks": "loihi",
    "nengo_lmu.loihi.placement": "loihi",
    "nengo_lmu.apps.speech": "speech",
}


def doctest_extra(module):
    """The extra that the doctests of ``module`` need, or None."""
    return DOCTEST_EXTRAS.get(module)


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path).resolve()
    if path.suffix != ".py" or PACKAGE not in path.parents:
        return None
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    try:
        importlib.import_module(".".join(parts))
    except MissingExtraError:
        return True
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in OPTIONAL:
            return True
        raise
    return None


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="Also run slow tests.")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            extra = doctest_extra(item.dtest.globs.get("__name__", ""))
            if extra is not None and not extra_status(extra)[0]:
                item.add_marker(pytest.mark.skip(reason=f"its examples need the {extra!r} extra"))
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow tests not requested (pass --slow to run them)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
