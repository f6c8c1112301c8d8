"""Every notebook runs top to bottom (in quick mode) without an error, and
is what its generator (``tools/make_notebook_NN.py``) writes."""

import json
import pathlib
import re
import runpy
import sys

import pytest

ROOT = pathlib.Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
GENERATORS = sorted((ROOT / "tools").glob("make_notebook_[0-9]*.py"))


def _content(path):
    """A notebook's cells (type, source) and metadata, without cell ids (a
    generator that does not use tools/nbgen.py draws them at random)."""
    nb = json.loads(pathlib.Path(path).read_text())
    cells = [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]
    return cells, nb["metadata"]


def test_every_notebook_has_a_generator():
    assert len(GENERATORS) == len(NOTEBOOKS) > 0


@pytest.mark.parametrize("script", GENERATORS, ids=lambda p: p.name)
def test_regenerating_a_notebook_changes_nothing(script, tmp_path, monkeypatch):
    pytest.importorskip("nbformat")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(ROOT / "tools")] + sys.path)
    runpy.run_path(str(script), run_name="__main__")
    (written,) = (tmp_path / "notebooks").iterdir()
    committed = ROOT / "notebooks" / written.name
    assert committed.exists(), f"{script.name} writes {written.name}, which is not committed"
    assert _content(written) == _content(committed), (
        f"notebooks/{written.name} differs from what {script.name} writes: run "
        f"python tools/make_notebooks.py"
    )


# What a notebook needs beyond the core, recognised from its code.
NEEDS = {
    r"nengo_lmu\.dl\b|from nengo_lmu import [\w, ]*\bdl\b|\bnengo_dl\b|\btensorflow\b": (
        "tensorflow",
        "nengo_dl",
    ),
    r"nengo_lmu\.loihi\b|from nengo_lmu import [\w, ]*\bloihi\b|\bnengo_loihi\b": ("nengo_loihi",),
    r"spoken_keywords|espeakng": ("espeakng_loader",),
}


def needed_modules(nb):
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return sorted({m for pattern, mods in NEEDS.items() if re.search(pattern, code) for m in mods})


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(str(path), as_version=4)
    for module in needed_modules(nb):
        pytest.importorskip(module)
    # stored without outputs, so diffs stay readable and nothing is stale
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    monkeypatch.setenv("NENGO_LMU_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
