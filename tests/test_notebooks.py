"""Every notebook is stored without outputs and runs top to bottom (in quick
mode, ``NENGO_LMU_QUICK=1``) without an error. The notebooks are their own
source: edit them in Jupyter, clear the outputs, commit."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, monkeypatch, skip_unless_code_can_run):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(str(path), as_version=4)
    skip_unless_code_can_run("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    # stored without outputs, so diffs stay readable and nothing is stale
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    # the kernel runs in tmp_path, where nengo reads a project nengorc: no
    # decoder cache there either (see tests/conftest.py)
    (tmp_path / "nengorc").write_text("[decoder_cache]\nenabled: False\n")
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    """The committed file is the source: no outputs, no execution counts, so a
    diff shows only what changed in the code and the text."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    assert [c["outputs"] for c in code] == [[]] * len(code)
    assert [c["execution_count"] for c in code] == [None] * len(code)
