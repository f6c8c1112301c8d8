"""``nengo-lmu export-nir``: a saved spiking classifier as a NIR file."""

import numpy as np
import pytest

from nengo_lmu.apps.cli import main
from nengo_lmu.networks import L2MU, RecurrentLIF

nir = pytest.importorskip("nir")

from nengo_lmu.nir import from_nir, to_nir  # noqa: E402


def saved(tmp_path, cls=L2MU, reset="subtract"):
    kw = dict(hidden_size=6, reset=reset, seed=1)
    if cls is L2MU:
        kw.update(memory_size=4, order=3, theta=10)
    net = cls(5, 4, **kw)
    return net, str(net.save(tmp_path / "model.npz"))


def run(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own refusal
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def same_graph(a, b):
    """The nodes (by name), their arrays, the edges and the metadata are equal."""
    assert sorted(a.nodes) == sorted(b.nodes)
    assert sorted(a.edges) == sorted(b.edges)
    assert a.metadata == b.metadata
    for name, node in a.nodes.items():
        other = b.nodes[name].to_dict()
        for key, value in node.to_dict().items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(other[key], value, err_msg=f"{name}.{key}")


def test_export_writes_the_graph_to_nir_writes(tmp_path, capsys):
    net, model = saved(tmp_path)
    out = tmp_path / "g.nir"
    rc, text, err = run(
        ["export-nir", model, str(out), "--approximate", "discrete", "reset"], capsys
    )
    assert rc == 0, err
    assert f"Wrote {out}" in text
    assert "reset: DiscreteLIF with reset='subtract'" in text
    assert "discrete: per-step neurons" in text
    want = to_nir(L2MU.load(model), approximate=("discrete", "reset"))
    same_graph(nir.read(out), want)
    assert want.metadata["nengo_lmu.approximations"] == "reset;discrete"
    # the file runs in nengo
    assert from_nir(str(out)).populations


def test_export_names_every_approximation_it_needs(tmp_path, capsys):
    _, model = saved(tmp_path)
    out = tmp_path / "g.nir"
    rc, _, err = run(["export-nir", model, str(out)], capsys)
    assert rc == 2
    assert "--approximate" in err and "needs reset" in err and "; discrete (" in err
    assert "Pass --approximate reset discrete" in err
    assert not out.exists()
    # naming one of the two is not enough, and the message names the other
    rc, _, err = run(["export-nir", model, str(out), "--approximate", "discrete"], capsys)
    assert rc == 2 and "needs reset (" in err and "discrete (" not in err
    assert not out.exists()


def test_export_zero_reset_and_snntorch_conventions(tmp_path, capsys):
    net, model = saved(tmp_path, RecurrentLIF, reset="zero")
    out = tmp_path / "g.nir"
    rc, text, err = run(["export-nir", model, str(out), "--reader", "snntorch"], capsys)
    assert rc == 0, err
    assert "Approximated:\n  discrete: " in text and "reset:" not in text
    graph = nir.read(out)
    assert graph.metadata["nengo_lmu.dt"] == 1e-4
    assert graph.metadata["nengo_lmu.delays"] == "cycle"
    assert not any(isinstance(n, nir.Delay) for n in graph.nodes.values())
    # --dt replaces the reader's step
    rc, _, err = run(
        ["export-nir", model, str(out), "--reader", "snntorch", "--dt", "0.002", "--force"],
        capsys,
    )
    assert rc == 0, err
    assert nir.read(out).metadata["nengo_lmu.dt"] == 0.002


def test_export_refuses_to_overwrite_without_force(tmp_path, capsys):
    _, model = saved(tmp_path)
    out = tmp_path / "g.nir"
    out.write_text("keep me")
    argv = ["export-nir", model, str(out), "--approximate", "discrete", "reset"]
    rc, _, err = run(argv, capsys)
    assert rc == 2 and "OUT" in err and "--force" in err
    assert out.read_text() == "keep me"
    rc, _, err = run(argv + ["--force"], capsys)
    assert rc == 0, err
    assert nir.read(out).nodes


@pytest.mark.parametrize(
    "args, flag",
    [
        (["{missing}", "{out}"], "MODEL"),
        (["{folder}", "{out}"], "MODEL"),
        (["{text}", "{out}"], "MODEL"),
        (["{model}", "{folder}"], "OUT"),
        (["{model}", "{tmp}/nonexistent/g.nir"], "OUT"),
        (["{model}", "{out}", "--approximate", "everything"], "--approximate"),
        (["{model}", "{out}", "--reader", "norse"], "--reader"),
        (["{model}", "{out}", "--dt", "0"], "--dt"),
        (["{model}", "{out}", "--discrete", "zoh"], "--discrete"),
    ],
)
def test_export_refuses_bad_input_naming_the_flag(args, flag, tmp_path, capsys):
    _, model = saved(tmp_path)
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a network")
    paths = dict(
        missing=str(tmp_path / "none.npz"),
        folder=str(tmp_path / "a_folder"),
        text=str(tmp_path / "notes.txt"),
        model=model,
        out=str(tmp_path / "g.nir"),
        tmp=str(tmp_path),
    )
    rc, _, err = run(["export-nir"] + [a.format(**paths) for a in args], capsys)
    assert rc == 2, err
    assert flag in err
    assert not (tmp_path / "g.nir").exists()
