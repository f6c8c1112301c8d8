import re
import subprocess
import sys

import pytest

from nengo_lmu.cli import build_parser, main


def test_demo_quick_run(tmp_path, capsys):
    plot = tmp_path / "demo.png"
    rc = main(
        ["demo", "--duration", "1.5", "--discard", "0.5", "--n-neurons", "50",
         "--plot", str(plot), "--no-progress"]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert plot.exists() and plot.stat().st_size > 10_000
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip().startswith(("exact", "lif"))}
    exact_nrmse = float(rows["exact"][1])
    lif_nrmse = float(rows["lif"][1])
    assert exact_nrmse < 0.03 and exact_nrmse < lif_nrmse < 0.5
    assert rows["lif"][3] == "300" and rows["exact"][3] == "0"


def test_demo_no_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["demo", "--duration", "1.2", "--discard", "0.2", "--n-neurons", "10",
               "--neuron-type", "lifrate", "--no-plot", "--no-progress"])
    assert rc == 0
    assert list(tmp_path.iterdir()) == []
    assert "lifrate" in capsys.readouterr().out


def test_demo_reports_invalid_values(capsys):
    # a value argparse accepts but the task rejects: a clean error, exit 2
    rc = main(["demo", "--duration", "1.0", "--discard", "1.0", "--no-plot", "--no-progress"])
    assert rc == 2
    assert "discard" in capsys.readouterr().err


@pytest.mark.parametrize("arg", ["--theta=0", "--order=-1", "--n-neurons=0", "--neuron-type=izh"])
def test_demo_rejects_bad_options(arg, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["demo", arg])
    assert e.value.code == 2
    assert arg.split("=")[0].lstrip("-").split("-")[0] in capsys.readouterr().err


@pytest.mark.parametrize("command", ["demo", "train-digits", "train-l2mu", "loihi"])
def test_help_lists_every_option(command):
    text = subprocess.run(
        [sys.executable, "-m", "nengo_lmu.cli", command, "--help"],
        capture_output=True, text=True, check=True,
    ).stdout
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help and len(action.help) > 5


def test_train_digits_quick(tmp_path, capsys):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.networks import LMUClassifier

    path = tmp_path / "w.npz"
    rc = main(["train-digits", "--epochs", "2", "--units", "16", "--order", "16",
               "--no-lstm", "--spiking-gain", "1000", "--save", str(path)])
    out = capsys.readouterr().out
    assert rc == 0 and path.exists()
    rows = [line for line in out.splitlines()
            if line.lstrip().startswith(("LMU (NengoDL)", "same, spiking"))]
    acc = float(rows[0].split()[-2])
    spiking_acc = float(rows[1].split()[-2])
    assert acc > 0.3 and 0.1 < spiking_acc <= 1
    assert str(path) in out
    assert set(LMUClassifier.load(path).get_weights()) == {
        "cell0.e_x", "cell0.W_x", "cell0.W_h", "cell0.W_m", "readout"}


def test_train_digits_parallel_quick(tmp_path, capsys):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.networks import LMUClassifier

    path, plot = tmp_path / "p.npz", tmp_path / "p.png"
    rc = main(["train-digits", "--parallel", "--epochs", "3", "--units", "16",
               "--order", "16", "--no-lstm", "--no-spiking", "--save", str(path),
               "--plot", str(plot)])
    out = capsys.readouterr().out
    assert rc == 0 and path.exists() and plot.exists()
    rows = {line.split("  ")[0].strip(): float(line.split()[-2])
            for line in out.splitlines()
            if line.lstrip().startswith(("LMU, trained in parallel", "same weights"))}
    keras_acc, nengo_dl_acc = rows.values()
    assert keras_acc > 0.3
    # the converted network scores what the Keras model scored
    assert abs(keras_acc - nengo_dl_acc) <= 1 / 360 + 1e-9
    diff = float(out.split("Keras vs NengoDL: ")[1].split()[0])
    assert diff < 1e-3
    assert LMUClassifier.load(path).cells[0].units == 16


def _l2mu_rows(out):
    """Result rows of the L2MU table by (model, run)."""
    return {
        tuple(line.split()[:2]): line.split()
        for line in out.splitlines()
        if line.lstrip().startswith("L2MU ")
    }


def test_train_l2mu_quick(tmp_path, capsys):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.networks import L2MU

    path = tmp_path / "l2mu.npz"
    rc = main(["train-l2mu", "--quick", "--no-baseline", "--save", str(path)])
    out = capsys.readouterr().out
    assert rc == 0 and path.exists()
    rows = _l2mu_rows(out)
    dl, ref = rows[("L2MU", "NengoDL")], rows[("L2MU", "nengo")]
    net = L2MU.load(str(path))
    assert int(dl[2]) == int(ref[2]) == net.n_parameters
    assert 0 <= float(dl[3]) <= 1 and abs(float(dl[3]) - float(ref[3])) <= 0.1
    assert 0 < float(ref[4]) < 1  # activation sparsity
    assert (net.memory_size, net.hidden_size) == (4, 16)


@pytest.mark.slow
def test_train_l2mu_quick_with_baseline_and_loihi(tmp_path, capsys):
    pytest.importorskip("nengo_dl")
    pytest.importorskip("nengo_loihi")
    rc = main(["train-l2mu", "--quick", "--loihi", "--save", str(tmp_path / "a.npz")])
    out = capsys.readouterr().out
    assert rc == 0
    assert re.search(r"recurrent LIF\s+NengoDL\s+\d+\s+[01]\.\d{4}", out)
    chip = {tuple(line.split()[2:4]): line.split()[4:6] for line in out.splitlines()
            if line.lstrip().startswith("L2MU chip ")}
    assert set(chip) == {("NengoDL", "1368"), ("nengo", "1368"), ("nengo", "LIF"),
                         ("loihi", "emu")}
    assert 0 <= float(chip[("loihi", "emu")][1]) <= 1


def test_train_l2mu_reports_bad_values(capsys):
    with pytest.raises(SystemExit):
        main(["train-l2mu", "--event-threshold", "-1"])
    assert "event-threshold" in capsys.readouterr().err


def test_import_is_light():
    code = (
        "import sys, time; t0 = time.perf_counter(); import nengo; t1 = time.perf_counter();"
        "import nengo_lmu, nengo_lmu.networks, nengo_lmu.tasks, nengo_lmu.cli;"
        "t2 = time.perf_counter();"
        "heavy = [m for m in ('tensorflow', 'nengo_dl', 'nengo_loihi', 'matplotlib') if m in sys.modules];"
        "print(heavy, t2 - t1)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, seconds = out.rsplit(" ", 1)
    assert heavy == "[]"
    assert float(seconds) < 1.0


def test_loihi_quick(tmp_path, capsys):
    pytest.importorskip("nengo_loihi")
    import nengo

    from nengo_lmu.networks import LMUClassifier

    # a small untrained classifier: this checks the command's path and
    # output, not accuracy (benchmarks/loihi_emulator.py measures that)
    path = tmp_path / "clf.npz"
    LMUClassifier(10, [dict(units=8, order=4, theta=64.0, hidden_to_hidden=False,
                            hidden_neuron_type=nengo.RectifiedLinear())], seed=0).save(path)
    rc = main(["loihi", "--duration", "1.2", "--discard", "0.2", "--n-neurons", "30",
               "--targets", "sim", "--weights", str(path), "--n-test", "2",
               "--hold-steps", "5", "--window", "3", "--gain", "100"])
    out = capsys.readouterr().out
    assert rc == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.strip().startswith(("nengo ", "sim "))}
    # the delay table's rows come first, then the digits table's
    nrmse = [float(line.split()[1]) for line in out.splitlines()
             if line.strip().startswith(("nengo ", "sim ")) and "." in line.split()[1]]
    assert len(nrmse) == 4 and all(0 < v < 2 for v in nrmse[:2])
    assert 0 <= float(rows["sim"][1]) <= 1
    assert "input ensemble" in out and "host->chip" in out and "chip->host" in out
    assert "synaptic ops per sequence" in out and "hidden.neurons -> readout" in out
    assert "encoder.neurons -> hidden.neurons  host->chip  host spikes" in out


def test_loihi_rejects_bad_target(capsys):
    assert main(["loihi", "--targets", "loihi", "--no-digits"]) == 2
    assert "targets" in capsys.readouterr().err
