"""The test run's options, and doctest collection in an install without every extra.

nengo's own pytest plugin is switched off (``-p no:nengo`` in setup.cfg): its
hooks take an argument that pytest 9 removed, so with it the tests would pin
pytest below 9. What the tests used from it is here: ``--slow`` (tests marked
``slow`` are skipped unless it is given) and, in ``tests/conftest.py``, the
``Simulator`` fixture.

``--doctest-modules`` imports each module of the package. A module that needs
an extra which is not installed (TensorFlow for ``nengo_lmu.dl``, nengo-loihi
for ``nengo_lmu.loihi``, ...) is left out instead of failing the collection,
as the tests of that extra skip; any other import error still fails.
"""

import importlib
from pathlib import Path

import pytest

from nengo_lmu.info import EXTRAS, MissingExtraError

PACKAGE = Path(__file__).resolve().parent / "nengo_lmu"
OPTIONAL = {m for extra in EXTRAS.values() for m in extra.modules}


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
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="slow tests not requested (pass --slow to run them)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)
