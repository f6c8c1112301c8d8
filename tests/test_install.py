"""The install story: lock files, setup.cfg ranges, README, extras, info."""

import configparser
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from nengo_lmu import info

ROOT = Path(__file__).resolve().parent.parent
LOCKS = sorted((ROOT / "requirements").glob("lock-py*.txt"))


def setup_cfg():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return cfg


def requirements(value):
    return [Requirement(line) for line in value.splitlines() if line.strip()]


def parse_lock(path):
    text = path.read_text()
    python = re.search(r"with Python (\d+)\.(\d+)", text)
    extras = re.search(r"\(extras: ([\w,-]+);", text)
    assert python and extras, f"{path.name}: header must name the Python and extras"
    pins = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version.strip(), f"{path.name}: not an exact pin: {line!r}"
        pins[canonicalize_name(name)] = Version(version.strip())
    return (int(python[1]), int(python[2])), extras[1].split(","), pins


def marker_env(python):
    return {
        "python_version": f"{python[0]}.{python[1]}",
        "python_full_version": f"{python[0]}.{python[1]}.0",
        "extra": "",
    }


def test_there_are_locks_for_the_locked_and_todays_stack():
    names = [p.name for p in LOCKS]
    assert {"lock-py311.txt", "lock-py313.txt", "lock-py311-torch.txt"} <= set(names)


def test_todays_lock_has_nengo_4_and_numpy_2():
    _, extras, pins = parse_lock(ROOT / "requirements" / "lock-py313.txt")
    assert pins["nengo"] >= Version("4.1") and pins["numpy"] >= Version("2")
    assert {"loihi", "speech", "mnist", "keras", "tests"} <= set(extras)
    assert pins["keras"] >= Version("3") and "jax" in pins


def test_core_requirements_have_no_upper_bounds():
    """Installing the core never downgrades a user's newer nengo, numpy,
    scipy or matplotlib: no cap and no marker on the core's requirements."""
    for req in requirements(setup_cfg()["options"]["install_requires"]):
        assert req.marker is None, req
        assert all(spec.operator == ">=" for spec in req.specifier), req


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name)
def test_lock_satisfies_setup_cfg(lock):
    """Every requirement setup.cfg makes for the locked extras holds in the lock."""
    python, extras, pins = parse_lock(lock)
    cfg = setup_cfg()
    reqs = requirements(cfg["options"]["install_requires"])
    for extra in extras:
        reqs += requirements(cfg["options.extras_require"][extra])
    env = marker_env(python)
    checked = 0
    for req in reqs:
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{lock.name} lacks {req.name} ({req})"
        assert pins[name] in req.specifier, (
            f"{lock.name} pins {req.name}=={pins[name]}, outside setup.cfg's {req}"
        )
        checked += 1
    assert checked >= 10
    assert canonicalize_name("nengo-lmu") not in pins


def test_lock_python_matches_python_requires():
    spec = Requirement(f"x{setup_cfg()['options']['python_requires']}").specifier
    for lock in LOCKS:
        python, _, _ = parse_lock(lock)
        assert Version(f"{python[0]}.{python[1]}") in spec
        assert re.fullmatch(rf"lock-py{python[0]}{python[1]}(-[a-z]+)?\.txt", lock.name)


def test_dl_extra_is_marked_for_python_below_312():
    cfg = setup_cfg()
    for req in requirements(cfg["options.extras_require"]["dl"]):
        assert req.marker is not None
        assert req.marker.evaluate(marker_env((3, 11)))
        assert not req.marker.evaluate(marker_env((3, 12)))
    core = [canonicalize_name(r.name) for r in requirements(cfg["options"]["install_requires"])]
    assert "tensorflow" not in core and "nengo-dl" not in core and "nengo-loihi" not in core


def test_extras_in_setup_cfg_match_info():
    extras = setup_cfg()["options.extras_require"]
    for name, extra in info.EXTRAS.items():
        declared = {canonicalize_name(r.name) for r in requirements(extras[name])}
        for package in extra.packages:
            assert canonicalize_name(package) in declared, (name, package)
    assert set(info.EXTRAS) | {"all"} == set(extras)


def quickstart_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- quickstart:begin.*?-->(.*?)<!-- quickstart:end", text, re.S)
    assert block, "README.md lacks the quickstart markers that .ci/run reads"
    return [
        line
        for line in block[1].splitlines()
        if line.strip() and not line.startswith(("```", "#"))
    ]


def test_readme_quickstart_is_two_locked_commands():
    first, second = quickstart_commands()
    for command in (first, second):
        lock = re.search(r"-c (\S+)", command)
        assert lock and (ROOT / lock[1]).exists(), command
    assert first.startswith("python3.11 -m venv .venv") and first.endswith("nengo-lmu demo")
    assert second.endswith('pytest -m "not slow"')
    run = (ROOT / ".ci" / "run").read_text()
    assert "quickstart:begin" in run and "pip is looking at multiple versions" in run


@pytest.mark.parametrize(
    "versions, python, expected",
    [
        ({"tensorflow": "2.13.0", "nengo-dl": "3.6.0"}, (3, 11), "install tensorflow<2.13"),
        ({"tensorflow": "2.12.1", "nengo-dl": "3.6.0"}, (3, 11), None),
        ({"pytest": "9.0.1", "nengo": "4.1.0", "numpy": "2.5.5"}, (3, 13), None),
        ({"nengo": "4.1.0", "nengo-dl": "3.6.0"}, (3, 11), "needs nengo==3.2.0"),
        ({"nengo": "3.2.0", "nengo-dl": "3.6.0"}, (3, 11), None),
        ({"nengo": "4.1.0", "nengo-loihi": "1.1.0", "numpy": "2.5.5"}, (3, 13), None),
        (
            {"numpy": "2.0.1", "nengo": "3.2.0", "setuptools": "75.0"},
            (3, 12),
            "nengo 3.2 needs numpy<2",
        ),
        ({"numpy": "2.0.1", "nengo": "4.0.0"}, (3, 12), None),
        ({"numpy": "1.26.4", "tensorflow": "2.12.0"}, (3, 11), "needs numpy<1.25"),
        (
            {"tensorflow": "2.12.0", "ipython": "8.25.0", "typing-extensions": "4.5.0"},
            (3, 11),
            "install ipython<8.23",
        ),
        ({"nengo-dl": "3.6.0"}, (3, 12), "exists for Python 3.9-3.11 only"),
        ({"tensorflow": "2.21.0", "keras": "3.14.0"}, (3, 13), None),
        ({"nengo": "3.2.0", "setuptools": None}, (3, 12), "install setuptools"),
        ({"nengo": "3.2.0", "setuptools": "75.0"}, (3, 12), None),
        ({"nengo": "4.1.0", "setuptools": None}, (3, 13), None),
    ],
)
def test_known_problems(versions, python, expected):
    problems = info.known_problems(versions, python)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1 and expected in problems[0]


def test_installed_versions_match_metadata():
    versions = info.installed_versions(("nengo", "numpy", "surely-not-a-package-xyz"))
    assert versions["nengo"] == importlib.metadata.version("nengo")
    assert versions["numpy"] == importlib.metadata.version("numpy")
    assert versions["surely-not-a-package-xyz"] is None


def test_report_lists_versions_and_extras():
    text = info.report()
    assert f"nengo-lmu {info.version}" in text
    assert re.search(rf"^nengo\s+{re.escape(importlib.metadata.version('nengo'))}$", text, re.M)
    for name in info.EXTRAS:
        usable = info.extra_status(name)[0]
        assert re.search(rf"^{name}\s+{'yes' if usable else 'no'}", text, re.M), name


def test_info_command(capsys):
    from nengo_lmu.apps.cli import main

    assert main(["info"]) == 0
    assert "Known problems" in capsys.readouterr().out


def test_version_flag(capsys):
    from nengo_lmu.apps.cli import main

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert f"nengo-lmu {info.version} (Python " in capsys.readouterr().out


def test_extra_status_names_the_missing_module(monkeypatch):
    monkeypatch.setitem(
        info.EXTRAS,
        "fake",
        info.Extra("fake", "a fake", ("surely_not_a_module_xyz",), ("x",), "3.8-3.12"),
    )
    assert info.extra_status("fake") == (False, "missing surely_not_a_module_xyz")
    with pytest.raises(info.MissingExtraError, match=r"pip install nengo-lmu\[fake\]"):
        info.require_extra("fake", "the fake feature")


BLOCK_TF = "import sys; sys.modules['tensorflow'] = None; "


def run_python(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


KERAS3 = (
    int((importlib.metadata.version("keras") if importlib.util.find_spec("keras") else "0")[0])
    >= 3
)


@pytest.mark.skipif(not KERAS3, reason="Keras 3 is not installed")
def test_dl_runs_on_keras3_without_tensorflow():
    """On Keras 3 (JAX or PyTorch backend) the layers import without
    TensorFlow; what still needs the locked stack says so by name."""
    res = run_python(BLOCK_TF + "import nengo_lmu.dl; print(nengo_lmu.dl.LMULayer.__name__)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-1] == "LMULayer"


@pytest.mark.skipif(KERAS3, reason="Keras 3 runs nengo_lmu.dl without TensorFlow")
def test_dl_without_tensorflow_names_the_extra():
    res = run_python(BLOCK_TF + "import nengo_lmu.dl")
    assert res.returncode == 1
    assert "MissingExtraError" in res.stderr
    if importlib.util.find_spec("keras") is None:  # nothing of Keras: the modern extra
        assert "nengo_lmu.dl needs Keras 3" in res.stderr
        assert "pip install nengo-lmu[keras]" in res.stderr
    else:  # tf.keras 2.12 without TensorFlow: the locked stack's extra
        assert "nengo_lmu.dl needs TensorFlow and NengoDL" in res.stderr
        assert "pip install nengo-lmu[dl]" in res.stderr


def test_cli_without_tensorflow_names_the_extra():
    res = run_python(
        BLOCK_TF + "from nengo_lmu.apps.cli import main; "
        "sys.exit(main(['train-digits', '--epochs', '1']))"
    )
    assert res.returncode == 2, res.stderr
    # "nengo_lmu.dl needs ..." (tf.keras 2.12) or "train-digits needs ..." (Keras 3)
    assert re.match(r"nengo-lmu: error: \S+ needs TensorFlow and NengoDL", res.stderr), res.stderr
    assert "pip install nengo-lmu[dl]" in res.stderr
    assert "Traceback" not in res.stderr


def test_core_runs_without_tensorflow():
    res = run_python(
        BLOCK_TF + "sys.modules['nengo_dl'] = None; sys.modules['nengo_loihi'] = None; "
        "import nengo_lmu, nengo; from nengo_lmu.apps.tasks import run_delay_task; "
        "r = run_delay_task(duration=0.6, discard=0.1, n_neurons=None, progress_bar=False); "
        "print(r.nrmse)"
    )
    assert res.returncode == 0, res.stderr
    assert float(res.stdout.split()[-1]) < 0.05


@pytest.mark.skipif(
    importlib.util.find_spec("nengo_dl") is None, reason="TensorFlow 2.12's noise needs NengoDL"
)
def test_cli_imports_tensorflow_and_nengo_dl_quietly():
    """Issue 27 item 13: "TF-TRT Warning: Could not find TensorRT" on every
    TensorFlow command (NengoDL's import makes TensorFlow 2.12 look for
    TensorRT). The commands import both through quiet_tensorflow first."""
    loud = run_python("import tensorflow, nengo_dl")
    assert "TF-TRT" in loud.stderr  # the noise this test is about
    res = run_python(
        "from nengo_lmu.apps.cli.common import quiet_tensorflow; quiet_tensorflow(); "
        "import nengo_dl, sys; print('imported', file=sys.stderr)"
    )
    assert res.returncode == 0, res.stderr
    assert "TF-TRT" not in res.stderr
    assert "imported" in res.stderr  # stderr is back after the import
