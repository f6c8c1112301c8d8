"""The ``nengo-lmu`` command: every option reaches its experiment, and each
command's run is checked on the values the experiment returned (not on the
printed table)."""

import re
import subprocess
import sys

import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.cli import build_parser, main


@pytest.fixture
def record(monkeypatch):
    """Wrap an experiment function so that the test sees its arguments and
    what it returned: ``calls = record(module, "name")``."""

    def wrap(module, name, replace=None):
        calls = []
        original = getattr(module, name)

        def recorded(*args, **kwargs):
            result = (replace or original)(*args, **kwargs)
            calls.append(dict(args=args, kwargs=kwargs, result=result))
            return result

        monkeypatch.setattr(module, name, recorded)
        return calls

    return wrap


def test_demo_quick_run(tmp_path, capsys, record):
    from nengo_lmu.apps.experiments import delay

    calls = record(delay, "delay_demo")
    tasks = record(delay, "run_delay_task")
    plot = tmp_path / "demo.png"
    rc = main(
        [
            "demo",
            "--duration",
            "1.5",
            "--discard",
            "0.5",
            "--n-neurons",
            "50",
            "--plot",
            str(plot),
            "--no-progress",
        ]
    )
    assert rc == 0
    assert plot.exists() and plot.stat().st_size > 10_000
    out = calls[0]["result"]
    assert out.exact.nrmse < 0.03 and out.exact.nrmse < out.neural.nrmse < 0.5
    assert (out.exact.n_neurons, out.neural.n_neurons) == (0, 300)
    assert abs(out.neural.best_lag_steps - 100) <= 5
    assert f"{out.neural.nrmse:.4f}" in capsys.readouterr().out
    # "lif" is LegendreMemory's own default LIF, not nengo.LIF()
    assert [c["kwargs"].get("neuron_type", "absent") for c in tasks] == ["absent", None]


def test_demo_no_plot(tmp_path, monkeypatch, record):
    from nengo_lmu.apps.experiments import delay

    calls = record(delay, "delay_demo")
    monkeypatch.chdir(tmp_path)
    rc = main(
        [
            "demo",
            "--duration",
            "1.2",
            "--discard",
            "0.2",
            "--n-neurons",
            "10",
            "--neuron-type",
            "lifrate",
            "--no-plot",
            "--no-progress",
        ]
    )
    assert rc == 0
    assert list(tmp_path.iterdir()) == []
    neural = calls[0]["result"].neural
    assert neural.label == "lifrate" and neural.n_neurons == 60


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


# Every option of a command, set to a value other than its default, and the
# keyword argument of the experiment function that must receive it.
WIRING = {
    "demo": (
        "nengo_lmu.apps.experiments.delay",
        "delay_demo",
        [
            ("--theta", "0.2", "theta", 0.2),
            ("--order", "4", "order", 4),
            ("--n-neurons", "7", "n_neurons", 7),
            ("--neuron-type", "relu", "neuron_type_name", "relu"),
            ("--synapse", "0.05", "synapse", 0.05),
            ("--duration", "3", "duration", 3.0),
            ("--discard", "0.5", "discard", 0.5),
            ("--dt", "0.002", "dt", 0.002),
            ("--high", "5", "high", 5.0),
            ("--rms", "0.2", "rms", 0.2),
            ("--seed", "3", "seed", 3),
            ("--no-progress", None, "progress_bar", False),
        ],
    ),
    "train-digits": (
        "nengo_lmu.apps.experiments.digits",
        "train_digits",
        [
            ("--units", "7", "units", 7),
            ("--order", "5", "order", 5),
            ("--theta", "9", "theta", 9.0),
            ("--hidden", "tanh", "hidden", "tanh"),
            ("--epochs", "2", "epochs", 2),
            ("--minibatch", "8", "minibatch_size", 8),
            ("--lr", "0.1", "learning_rate", 0.1),
            ("--seed", "4", "seed", 4),
            ("--spiking-gain", "99", "spiking_gain", 99.0),
            ("--no-lstm", None, "lstm", False),
            ("--no-spiking", None, "spiking", False),
            ("--save", "x.npz", "save", "x.npz"),
            ("--parallel", None, "parallel", True),
            ("--mode", "fft", "mode", "fft"),
        ],
    ),
    "train-l2mu": (
        "nengo_lmu.apps.experiments.l2mu",
        "train_l2mu",
        [
            ("--preset", "braille27", "preset_name", "braille27"),
            ("--memory-size", "5", "memory_size", 5),
            ("--hidden-size", "6", "hidden_size", 6),
            ("--order", "3", "order", 3),
            ("--theta", "8", "theta", 8.0),
            ("--steps", "11", "steps", 11),
            ("--event-threshold", "0.2", "event_threshold", 0.2),
            ("--epochs", "2", "epochs", 2),
            ("--lr", "0.1", "learning_rate", 0.1),
            ("--minibatch", "9", "minibatch_size", 9),
            ("--seed", "5", "seed", 5),
            ("--samples", "50", "samples", 50),
            ("--no-baseline", None, "baseline", False),
            ("--loihi", None, "loihi", True),
            ("--save", "y.npz", "save", "y.npz"),
        ],
    ),
}


class _Stop(Exception):
    pass


@pytest.mark.parametrize("command", sorted(WIRING))
def test_every_option_reaches_the_experiment(command, monkeypatch, tmp_path):
    import importlib

    # default output names are checked before any work: run where none exists
    # (the README's first command leaves nengo_lmu_demo.png in the checkout)
    monkeypatch.chdir(tmp_path)

    module_name, function, options = WIRING[command]
    module = importlib.import_module(module_name)
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(module, function, fake)
    argv = [command]
    for flag, value, _, _ in options:
        argv += [flag] if value is None else [flag, value]
    with pytest.raises(_Stop):
        main(argv)
    for flag, _, kwarg, expected in options:
        assert seen[kwarg] == expected, flag
    # and the table covers every option the command has (a new one needs a row)
    sub = build_parser()._subparsers._group_actions[0].choices[command]
    flags = {f for a in sub._actions for f in a.option_strings} - {"-h", "--help"}
    untested = {"--plot", "--no-plot", "--quick", "--force"}
    assert flags - untested == {flag for flag, *_ in options}


@pytest.mark.parametrize("quick", [False, True])
def test_train_l2mu_runs_the_settings_defaults(quick, monkeypatch, tmp_path):
    """Without options, the command runs L2MUSettings' defaults (stated only
    there); with --quick, its quick values."""
    from dataclasses import asdict, replace

    from nengo_lmu.apps.experiments import l2mu
    from nengo_lmu.apps.experiments.settings import quick_values

    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(l2mu, "train_l2mu", fake)
    with pytest.raises(_Stop):
        main(["train-l2mu"] + (["--quick"] if quick else []))
    settings = l2mu.L2MUSettings()
    if quick:
        settings = replace(settings, **quick_values(l2mu.L2MUSettings))
        assert (
            seen["samples"],
            seen["steps"],
            seen["epochs"],
            seen["memory_size"],
            seen["hidden_size"],
            seen["save"],
        ) == (200, 20, 1, 4, 16, "l2mu_digits_quick.npz")
    assert {k: v for k, v in seen.items() if k not in ("log", "progress", "on_save")} == asdict(
        settings
    )


@pytest.mark.parametrize("parallel", [False, True])
def test_train_digits_runs_the_settings_defaults(parallel, monkeypatch, tmp_path):
    """Without options, the command runs DigitsSettings' defaults (stated only
    there); --parallel changes only parallel and the default file name."""
    from dataclasses import asdict, replace

    from nengo_lmu.apps.experiments import digits

    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(digits, "train_digits", fake)
    with pytest.raises(_Stop):
        main(["train-digits"] + (["--parallel"] if parallel else []))
    settings = digits.DigitsSettings()
    if parallel:
        settings = replace(settings, parallel=True, save="lmu_digits_parallel.npz")
    assert {k: v for k, v in seen.items() if k not in ("log", "progress", "on_save")} == asdict(
        settings
    )


def test_demo_runs_the_settings_defaults(monkeypatch, tmp_path):
    from dataclasses import asdict

    from nengo_lmu.apps.experiments import delay

    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        raise _Stop

    monkeypatch.setattr(delay, "delay_demo", fake)
    with pytest.raises(_Stop):
        main(["demo", "--no-progress"])
    assert seen == dict(asdict(delay.DelaySettings()), progress_bar=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'neuron_type'"):
        delay.DelaySettings(neuron_type="lif")


def test_experiments_take_settings_or_keywords():
    from nengo_lmu.apps.experiments.digits import DigitsSettings, train_digits
    from nengo_lmu.apps.experiments.l2mu import L2MUSettings, train_l2mu

    for train, settings, what in (
        (train_l2mu, L2MUSettings(epochs=1), "trained L2MU"),
        (train_digits, DigitsSettings(epochs=1), "trained model"),
    ):
        with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'"):
            train(epoch=3)
        with pytest.raises(ValidationError, match=f"save: cannot write the {what}"):
            train(settings, save="/nonexistent/x.npz")


def test_train_digits_quick(tmp_path, record):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.apps.experiments import digits
    from nengo_lmu.networks import LMUClassifier

    calls = record(digits, "train_digits")
    path = tmp_path / "w.npz"
    rc = main(
        [
            "train-digits",
            "--epochs",
            "2",
            "--units",
            "16",
            "--order",
            "16",
            "--no-lstm",
            "--spiking-gain",
            "1000",
            "--save",
            str(path),
        ]
    )
    assert rc == 0 and path.exists()
    out = calls[0]["result"]
    acc = out.score("LMU (NengoDL)").accuracy
    spiking_acc = out.score("same, spiking").accuracy
    assert acc > 0.3 and 0.1 < spiking_acc <= 1
    assert set(LMUClassifier.load(path).get_weights()) == {
        "cell0.e_x",
        "cell0.W_x",
        "cell0.W_h",
        "cell0.W_m",
        "readout",
    }


def test_train_digits_parallel_quick(tmp_path, record):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.apps.experiments import digits
    from nengo_lmu.networks import LMUClassifier

    calls = record(digits, "train_digits")
    path, plot = tmp_path / "p.npz", tmp_path / "p.png"
    rc = main(
        [
            "train-digits",
            "--parallel",
            "--epochs",
            "3",
            "--units",
            "16",
            "--order",
            "16",
            "--no-lstm",
            "--no-spiking",
            "--save",
            str(path),
            "--plot",
            str(plot),
        ]
    )
    assert rc == 0 and path.exists() and plot.exists()
    out = calls[0]["result"]
    keras_acc = out.score("LMU, trained in parallel").accuracy
    nengo_dl_acc = out.score("same weights").accuracy
    assert keras_acc > 0.3
    # the converted network scores what the Keras model scored
    assert abs(keras_acc - nengo_dl_acc) <= 1 / 360 + 1e-9
    assert out.logit_difference < 1e-3
    keras_steps, nengo_steps, _ = out.steps
    assert abs(keras_steps - nengo_steps).max() < 1e-3
    assert LMUClassifier.load(path).cells[0].units == 16


def test_train_l2mu_quick(tmp_path, record):
    pytest.importorskip("nengo_dl")
    from nengo_lmu.apps.experiments import l2mu
    from nengo_lmu.networks import L2MU

    calls = record(l2mu, "train_l2mu")
    path = tmp_path / "l2mu.npz"
    rc = main(["train-l2mu", "--quick", "--no-baseline", "--save", str(path)])
    assert rc == 0 and path.exists()
    out = calls[0]["result"]
    dl, ref = out.run("L2MU", "NengoDL"), out.run("L2MU", "nengo")
    net = L2MU.load(str(path))
    assert dl.metrics["parameters"] == ref.metrics["parameters"] == net.n_parameters
    assert 0 <= dl.accuracy <= 1 and abs(dl.accuracy - ref.accuracy) <= 0.1
    assert 0 < ref.metrics["activation_sparsity"] < 1
    assert (net.memory_size, net.hidden_size) == (4, 16)
    assert [r.model for r in out.runs] == ["L2MU", "L2MU"]


@pytest.mark.slow
def test_train_l2mu_quick_with_baseline_and_loihi(tmp_path, record):
    pytest.importorskip("nengo_dl")
    pytest.importorskip("nengo_loihi")
    from nengo_lmu.apps.experiments import l2mu

    calls = record(l2mu, "train_l2mu")
    rc = main(["train-l2mu", "--quick", "--loihi", "--save", str(tmp_path / "a.npz")])
    assert rc == 0
    out = calls[0]["result"]
    assert 0 <= out.run("recurrent LIF", "NengoDL").accuracy <= 1
    chip = [(r.run, r.metrics["parameters"]) for r in out.runs if r.model == "L2MU chip"]
    assert chip == [("NengoDL", 1368), ("nengo", 1368), ("nengo LIF", 1368), ("loihi emu", 1368)]
    assert 0 <= out.run("L2MU chip", "loihi emu").accuracy <= 1


def test_train_l2mu_reports_bad_values(capsys):
    with pytest.raises(SystemExit):
        main(["train-l2mu", "--event-threshold", "-1"])
    assert "event-threshold" in capsys.readouterr().err


def test_import_is_light():
    code = (
        "import sys, time; t0 = time.perf_counter(); import nengo; t1 = time.perf_counter();"
        "import nengo_lmu, nengo_lmu.networks, nengo_lmu.apps.tasks, nengo_lmu.apps.cli;"
        "t2 = time.perf_counter();"
        "heavy = [m for m in ('tensorflow', 'nengo_dl', 'nengo_loihi', 'matplotlib') if m in sys.modules];"
        "print(heavy, t2 - t1)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    heavy, seconds = out.rsplit(" ", 1)
    assert heavy == "[]"
    assert float(seconds) < 1.0


def test_loihi_quick(tmp_path, capsys, record):
    pytest.importorskip("nengo_loihi")
    import nengo

    from nengo_lmu.apps.experiments import chip_digits as chip_experiment
    from nengo_lmu.apps.experiments import loihi as experiment
    from nengo_lmu.networks import LMUClassifier

    delay_calls = record(experiment, "delay_comparison")
    digits_calls = record(experiment, "digits_comparison")
    chip_calls = record(chip_experiment, "chip_digits_comparison")
    # and one for the whole LMU on the chip: no recurrence, no input_to_hidden
    chip_path = tmp_path / "chip.npz"
    LMUClassifier(
        10,
        [
            dict(
                units=8,
                order=2,
                theta=8.0,
                input_d=8,
                memory_d=1,
                hidden_to_hidden=False,
                input_to_hidden=False,
                hidden_neuron_type=nengo.RectifiedLinear(),
            )
        ],
        seed=0,
    ).save(chip_path)
    # a small untrained classifier: this checks the command's path and
    # output, not accuracy (benchmarks/loihi_emulator.py measures that)
    path = tmp_path / "clf.npz"
    LMUClassifier(
        10,
        [
            dict(
                units=8,
                order=4,
                theta=64.0,
                hidden_to_hidden=False,
                hidden_neuron_type=nengo.RectifiedLinear(),
            )
        ],
        seed=0,
    ).save(path)
    rc = main(
        [
            "loihi",
            "--duration",
            "1.2",
            "--discard",
            "0.2",
            "--n-neurons",
            "30",
            "--targets",
            "sim",
            "--weights",
            str(path),
            "--n-test",
            "2",
            "--hold-steps",
            "5",
            "--window",
            "3",
            "--gain",
            "100",
            "--chip-weights",
            str(chip_path),
            "--chip-n-test",
            "2",
            "--chip-neurons",
            "20",
            "--steps-per-sample",
            "2",
            "--n-fit",
            "12",
            "--fit-on",
            "nengo",
        ]
    )
    assert rc == 0
    delay = delay_calls[0]["result"]
    assert set(delay.results) == {"nengo", "sim"}
    assert all(0 < r.nrmse < 2 for r in delay.results.values())
    assert delay.resources["sim"]["cores"] >= 7  # input relay + 6 state ensembles
    placed = {p.ensemble.label: p.on_chip for p in delay.placement.placements}
    assert not placed["input encoder"] and placed["input relay"] and placed["ensemble[0]"]
    digits = digits_calls[0]["result"]
    assert set(digits.runs) == {"rate", "nengo", "sim"}
    assert digits["sim"]["n"] == 2 and 0 <= digits["sim"]["accuracy"] <= 1
    assert digits["sim"]["resources"]["spikes_per_inference"] > 0
    crossings = {
        (str(c.connection.pre_obj.ensemble.label), c.direction)
        for c in digits.placement.crossings
        if hasattr(c.connection.pre_obj, "ensemble")
    }
    assert crossings == {("encoder", "host->chip"), ("hidden", "chip->host")}
    chip = chip_calls[0]["result"]
    kwargs = chip_calls[0]["kwargs"]
    assert (kwargs["n_neurons"], kwargs["n_fit"], kwargs["fit_on"]) == (20, 12, "nengo")
    assert kwargs["readout"] == "fit" and chip.readout["nengo"]["n_fit"] == 12
    assert chip.n == 2 and set(chip.accuracy) == {"rate", "nengo", "sim"}
    # 8 samples held 2 steps each, then the gap
    assert chip.steps_per_sequence >= 16
    assert chip.chip_seconds_per_sequence == pytest.approx(chip.steps_per_sequence * 0.001)
    assert chip.resources["sim"]["cores"] >= 3  # memory populations and the hidden layer
    out = capsys.readouterr().out
    assert "synaptic ops per sequence" in out
    assert f"{chip.steps_per_sequence} steps a sequence" in out


def test_loihi_rejects_bad_target(capsys):
    assert main(["loihi", "--targets", "loihi", "--no-digits"]) == 2
    assert "targets" in capsys.readouterr().err


# --- output files checked before any work; options that do nothing refused


class WorkStarted(Exception):
    """Raised by the stand-in experiment: the command got past its checks."""


def refuse_calls(monkeypatch, module_name, function):
    """Replace the experiment by one that records its arguments and stops."""
    import importlib

    module = importlib.import_module(module_name)
    calls = []

    def fake(**kwargs):
        calls.append(kwargs)
        raise WorkStarted

    monkeypatch.setattr(module, function, fake)
    return calls


COMMANDS = {
    "train-digits": ("nengo_lmu.apps.experiments.digits", "train_digits"),
    "train-l2mu": ("nengo_lmu.apps.experiments.l2mu", "train_l2mu"),
    "demo": ("nengo_lmu.apps.experiments.delay", "delay_demo"),
}


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["train-digits", "--save", "/nonexistent/x.npz"], "--save"),
        (["train-digits", "--parallel", "--plot", "/nonexistent/p.png"], "--plot"),
        (["train-l2mu", "--save", "/nonexistent/x.npz"], "--save"),
        (["demo", "--plot", "/nonexistent/d.png"], "--plot"),
    ],
)
def test_cli_checks_output_folders_before_any_work(argv, flag, monkeypatch, capsys, tmp_path):
    """A missing folder stops the command at once, before training."""
    monkeypatch.chdir(tmp_path)
    calls = refuse_calls(monkeypatch, *COMMANDS[argv[0]])
    assert main(argv) == 2
    assert calls == []
    err = capsys.readouterr().err
    assert f"{flag}: cannot write the" in err and "'/nonexistent' does not exist" in err


@pytest.mark.parametrize(
    "argv, existing",
    [
        (["train-digits"], "lmu_digits.npz"),
        (["train-digits", "--parallel"], "lmu_digits_parallel.npz"),
        (["train-digits", "--parallel"], "lmu_digits_parallel.png"),
        (["train-l2mu"], "l2mu_digits.npz"),
        (["train-l2mu", "--quick"], "l2mu_digits_quick.npz"),
        (["train-l2mu", "--loihi"], "l2mu_digits_chip.npz"),
        (["demo"], "nengo_lmu_demo.png"),
    ],
)
def test_cli_refuses_to_overwrite_without_force(argv, existing, monkeypatch, capsys, tmp_path):
    """An existing output is kept unless --force."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / existing).write_text("precious")
    calls = refuse_calls(monkeypatch, *COMMANDS[argv[0]])
    assert main(argv) == 2 and calls == []
    assert f"'{existing}' exists; refusing to overwrite it (pass --force" in (
        capsys.readouterr().err
    )
    assert (tmp_path / existing).read_text() == "precious"
    with pytest.raises(WorkStarted):  # --force goes on to the (fake) experiment
        main(argv + ["--force"])
    assert len(calls) == 1


def test_cli_default_outputs_are_distinct(monkeypatch, tmp_path):
    """Train-digits and --parallel, train-l2mu and --quick, and the
    loihi command's training each have their own default file."""
    from nengo_lmu.apps.cli import build_parser

    monkeypatch.chdir(tmp_path)
    saved = []
    for argv in (
        ["train-digits"],
        ["train-digits", "--parallel"],
        ["train-l2mu"],
        ["train-l2mu", "--quick"],
    ):
        calls = refuse_calls(monkeypatch, *COMMANDS[argv[0]])
        with pytest.raises(WorkStarted):
            main(argv)
        saved.append(calls[0]["save"])
    saved.append(build_parser().parse_args(["loihi"]).save)
    assert len(set(saved)) == len(saved), saved


def test_mode_and_plot_need_parallel(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    calls = refuse_calls(monkeypatch, *COMMANDS["train-digits"])
    assert main(["train-digits", "--mode", "fft"]) == 2
    assert "--mode: applies only with --parallel" in capsys.readouterr().err
    assert main(["train-digits", "--plot", "p.png"]) == 2
    assert "--plot: applies only with --parallel" in capsys.readouterr().err
    assert calls == []


def test_quick_keeps_explicit_options(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    calls = refuse_calls(monkeypatch, *COMMANDS["train-l2mu"])
    with pytest.raises(WorkStarted):
        main(["train-l2mu", "--quick", "--epochs", "3", "--hidden-size", "20"])
    kw = calls[0]
    assert (kw["epochs"], kw["hidden_size"], kw["samples"], kw["steps"], kw["memory_size"]) == (
        3,
        20,
        200,
        20,
        4,
    )


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--weights", "/nonexistent/w.npz"], "no such file: '/nonexistent/w.npz'"),
        (["--weights", "TEXT"], "is not a saved nengo_lmu network: not an .npz archive"),
        (["--weights", "L2MU"], "holds a saved L2MU, which LMUClassifier cannot rebuild"),
        (["--no-delay", "--no-digits", "--no-chip-digits"], "--no-chip-digits: nothing to run"),
        (["--save", "EXISTING"], "exists; refusing to overwrite it \\(pass --force"),
        (["--chip-weights", "L2MU"], "holds a saved L2MU, which LMUClassifier cannot rebuild"),
        (["--chip-save", "EXISTING"], "exists; refusing to overwrite it \\(pass --force"),
    ],
)
def test_loihi_command_checks_its_files_first(
    argv, match, monkeypatch, capsys, tmp_path, make_l2mu
):
    """The loihi command checks --weights and --save before
    the delay task (minutes), and refuses to do nothing."""
    pytest.importorskip("nengo_loihi")
    (tmp_path / "t.npz").write_text("text")
    (tmp_path / "e.npz").write_text("precious")
    make_l2mu().save(tmp_path / "l2mu.npz")
    files = {
        "TEXT": tmp_path / "t.npz",
        "L2MU": tmp_path / "l2mu.npz",
        "EXISTING": tmp_path / "e.npz",
    }
    argv = [str(files.get(a, a)) for a in argv]
    calls = refuse_calls(monkeypatch, "nengo_lmu.apps.experiments.loihi", "delay_comparison")
    assert main(["loihi"] + argv) == 2 and calls == []
    assert re.search(match, capsys.readouterr().err)


def test_psmnist_result_formats_its_own_tables():
    """train-psmnist prints the experiment's table (issue 24 item 5)."""
    from nengo_lmu.apps.experiments.psmnist import NengoRun, PsmnistResult, PsmnistRun

    runs = [PsmnistRun("lmu", 3, 0.91234, 1234, 50.0, 10.0, 5, 0.3, [0.5, 0.3])]
    result = PsmnistResult(runs=runs, nengo=[], config={})
    lines = result.table().splitlines()
    assert lines[0].split() == ["model", "seed", "held-out", "acc", "params", "s/epoch"]
    assert lines[2].split() == ["lmu", "3", "0.9123", "1234", "10.0"]
    assert "NengoDL" not in result.table()
    result.nengo.append(NengoRun(3, "RectifiedLinear", 1.0, 100, 0.9, 0.91, 0.98, 2.0))
    assert result.table().splitlines()[-1].split() == [
        "3",
        "RectifiedLinear",
        "1",
        "100",
        "0.9000",
        "0.9100",
        "0.9800",
    ]


def test_loihi_runs_the_settings_defaults(monkeypatch, tmp_path, make_lmu_classifier):
    """Without options, each part of ``loihi`` runs LoihiSettings' defaults
    (stated only there; the experiment functions take theirs from it too)."""
    import inspect

    from nengo_lmu.apps.experiments import chip_digits, loihi
    from nengo_lmu.apps.experiments.settings import LoihiSettings

    monkeypatch.chdir(tmp_path)
    seen = {}

    def fake(name):
        def record(*args, **kwargs):
            seen[name] = kwargs
            raise _Stop

        return record

    originals = {
        loihi.delay_comparison: ("duration", "seed"),
        chip_digits.chip_digits_comparison: ("readout", "n_fit", "fit_on"),
        loihi.train_digits_classifier: ("epochs", "seed"),
    }
    for name in ("delay_comparison", "digits_comparison"):
        monkeypatch.setattr(loihi, name, fake(name))
    monkeypatch.setattr(chip_digits, "chip_digits_comparison", fake("chip_digits_comparison"))
    defaults = LoihiSettings()
    with pytest.raises(_Stop):
        main(["loihi"])
    delay = seen["delay_comparison"]
    assert delay["targets"] == ("sim", "simreal") == defaults.target_names
    for key in ("n_neurons", "duration", "seed", "theta", "order", "discard"):
        assert delay[key] == getattr(defaults, key), key
    make_lmu_classifier().save(tmp_path / "w.npz")
    with pytest.raises(_Stop):
        main(["loihi", "--no-delay", "--weights", str(tmp_path / "w.npz")])
    for key in ("n_test", "gain", "hold_steps", "window", "neuron_type"):
        assert seen["digits_comparison"][key] == getattr(defaults, key), key
    with pytest.raises(_Stop):
        main(["loihi", "--no-delay", "--no-digits", "--chip-weights", str(tmp_path / "w.npz")])
    chip = seen["chip_digits_comparison"]
    assert (chip["n_test"], chip["n_neurons"], chip["n_fit"]) == (200, 100, 400)
    assert (chip["readout"], chip["fit_on"], chip["steps_per_sample"]) == ("fit", "own", 10)
    # the experiment functions' own defaults are the settings'
    for name, keys in originals.items():
        params = inspect.signature(name).parameters
        for key in keys:
            assert params[key].default == getattr(defaults, key), (name.__name__, key)


@pytest.mark.parametrize("parallel", [False, True])
def test_train_digits_interrupted_keeps_the_completed_epochs(
    parallel, monkeypatch, tmp_path, capsys
):
    """Issue 27 item 11: Ctrl-C in train-digits printed a 21-frame
    KeyboardInterrupt traceback and lost the epochs already trained. Now:
    exit 130, one line naming the file, which holds the weights after the
    last completed epoch (here the 2nd of 4)."""
    import os

    import numpy as np

    pytest.importorskip("nengo_dl")
    from nengo_lmu.apps import data as data_module
    from nengo_lmu.dl import training
    from nengo_lmu.networks import LMUClassifier

    full = data_module.permuted_digits()
    subset = {k: full[k][:100] if k.startswith("x_train") or k.startswith("y_train") else full[k]
              for k in ("x_train", "y_train", "x_test", "y_test")}  # fmt: skip
    subset["x_test"], subset["y_test"] = subset["x_test"][:20], subset["y_test"][:20]
    monkeypatch.setattr(data_module, "permuted_digits", lambda: subset)
    base = training.LastEpoch

    class Interrupting(base):
        def on_train_batch_end(self, batch, logs=None):
            if self.epochs_done == 2 and batch == 1:
                raise KeyboardInterrupt

    monkeypatch.setattr(training, "LastEpoch", Interrupting)
    path = tmp_path / "w.npz"
    argv = ["train-digits", "--epochs", "4", "--units", "8", "--order", "8", "--no-lstm"]
    argv += ["--no-spiking", "--save", str(path)]
    if parallel:
        argv += ["--parallel", "--plot", str(tmp_path / "p.png")]
    assert main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert err[0] == (
        f"nengo-lmu: interrupted; the weights after epoch 2 of 4 are saved in {path} "
        f"(LMUClassifier.load('{path}') rebuilds the network)"
    )
    weights = LMUClassifier.load(path).get_weights()
    assert set(weights) >= {"readout"} and all(np.all(np.isfinite(w)) for w in weights.values())
    assert sorted(os.listdir(tmp_path)) == ["w.npz"]  # no plot: the run did not get there


def test_interrupted_train_lm_names_its_newest_checkpoint(tmp_path):
    """Ctrl-C in train-lm says what it kept: the newest checkpoint, or that
    none was saved yet (not "the checkpoints saved every N steps are in")."""
    from nengo_lmu.apps.cli import common
    from nengo_lmu.apps.cli.language_model import _kept
    from nengo_lmu.apps.experiments.settings import TrainLMSettings

    settings = TrainLMSettings(checkpoint=str(tmp_path))
    common.interrupt_note(lambda: _kept(settings))
    try:
        assert "no checkpoint was saved yet" in common.interrupted_message()
        for step in (4, 12, 8):
            (tmp_path / f"ckpt-{step}.npz").write_bytes(b"")
        message = common.interrupted_message()
    finally:
        common.interrupt_note(None)
    assert message.startswith("nengo-lmu: interrupted; the newest checkpoint is ")
    assert message.split(" is ")[1].startswith(str(tmp_path / "ckpt-12.npz"))
