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


# --- the temporary folder (issue 27 item 14) --------------------------------
#
# The suite must leave nothing in the temporary folder. Every test runs with
# the temporary folder (``tempfile.gettempdir()``, and ``TMPDIR`` for the
# processes the tests start) pointed at a folder of its own, which is removed
# at the end; what a test left there other than `TEMP_ALLOWED` fails the run.
# pytest's own ``tmp_path`` folders stay where pytest keeps them.

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

#: What may be left in the session's temporary folder: TensorFlow's
#: autograph writes the code it generates there and removes it only when the
#: process exits (an ``atexit`` hook, after the suite); a process killed
#: before it exits (a notebook kernel, a timeout) leaves them behind, which is
#: why the folder is the session's own and removed with them.
TEMP_ALLOWED = ("__autograph_generated_file",)

#: The prefix of the session's temporary folder.
TEMP_PREFIX = "nengo_lmu-tests-"


def temp_leftovers(folder):
    """What the tests left in ``folder``, less `TEMP_ALLOWED`."""
    return [n for n in sorted(os.listdir(folder)) if not n.startswith(TEMP_ALLOWED)]


@pytest.fixture(scope="session", autouse=True)
def session_temp_folder(tmp_path_factory):
    """Point the temporary folder at one of the session's own, and fail the
    run if a test leaves anything in it."""
    tmp_path_factory.getbasetemp()  # pytest's folder first, where pytest keeps it
    folder = tempfile.mkdtemp(prefix=TEMP_PREFIX)
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = folder
    os.environ["TMPDIR"] = folder
    try:
        yield folder
    finally:
        tempfile.tempdir = saved[0]
        if saved[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[1]
        left = temp_leftovers(folder)
        shutil.rmtree(folder, ignore_errors=True)
    if left:
        pytest.fail(
            f"the tests left {left} in the temporary folder (use pytest's tmp_path, or "
            f"remove what a test or example makes)",
            pytrace=False,
        )
