"""Every option of every ``nengo-lmu`` command given a bad value stops the
command with exit status 2 and a message naming the flag, before any work
(issue 27): the experiment functions are replaced by stand-ins that raise
`WorkStarted`, so that no training or simulation can start here."""

import argparse
import importlib
import os

import pytest

from nengo_lmu.apps.cli import build_parser, main
from nengo_lmu.apps.cli.common import NONNEGATIVE_FLOAT, NONNEGATIVE_INT


class WorkStarted(Exception):
    """Raised by a stand-in experiment: the command got past its checks."""


#: the functions that start a command's work, by module
WORK = {
    "nengo_lmu.apps.experiments.delay": ["delay_demo"],
    "nengo_lmu.apps.experiments.digits": ["train_digits"],
    "nengo_lmu.apps.experiments.l2mu": ["train_l2mu"],
    "nengo_lmu.apps.experiments.psmnist": ["run_psmnist"],
    "nengo_lmu.apps.experiments.language_model": ["train_lm", "generate_text"],
    "nengo_lmu.apps.experiments.loihi": [
        "delay_comparison",
        "digits_comparison",
        "train_digits_classifier",
    ],
    "nengo_lmu.apps.experiments.chip_digits": [
        "chip_digits_comparison",
        "train_chip_digits_classifier",
    ],
    "nengo_lmu.apps.experiments.lmuformer": ["compare_lmuformer"],
}


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Stand-ins for every experiment; the commands run in an empty folder."""
    monkeypatch.chdir(tmp_path)
    calls = []
    for name, functions in WORK.items():
        module = importlib.import_module(name)
        for function in functions:

            def fake(*args, _name=function, **kwargs):
                calls.append((_name, args, kwargs))
                raise WorkStarted(_name)

            monkeypatch.setattr(module, function, fake)
    return calls


def commands():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def typed_options():
    """``(command, flag, type)`` of every option that takes a number."""
    rows = []
    for name, parser in commands().items():
        for action in parser._actions:
            if not action.option_strings or action.type is None:
                continue
            flag = action.option_strings[0]
            rows.append((name, flag, action.type))
    return rows


def run_refused(argv, flag, capsys):
    """``main(argv)`` exits 2 naming ``flag``, before any work."""
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own refusal
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, (argv, err)
    assert flag in err, (argv, err)
    return err


def test_every_numeric_option_is_checked():
    """The sweep below covers something: each command's numbers are typed."""
    rows = typed_options()
    assert {name for name, _, _ in rows} >= {
        "demo",
        "train-digits",
        "train-l2mu",
        "train-psmnist",
        "loihi",
        "train-lm",
        "generate",
    }
    assert len(rows) > 40


@pytest.mark.parametrize("value", ["-1", "abc", "", "nan", "0"])
@pytest.mark.parametrize("command, flag, kind", typed_options())
def test_numeric_options_refuse_bad_values(command, flag, kind, value, no_work, capsys):
    if value == "0" and kind in (NONNEGATIVE_INT, NONNEGATIVE_FLOAT):
        pytest.skip("0 is a meaningful value of this option")
    argv = [command, flag, value] + (["hello"] if command == "generate" else [])
    run_refused(argv, flag, capsys)
    assert no_work == []


def make_paths(tmp_path):
    (tmp_path / "a_file.txt").write_text("x")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "lm_checkpoint").mkdir()  # generate's default --checkpoint
    (tmp_path / "lm_checkpoint" / "model.json").write_text("{}")
    return dict(
        missing=str(tmp_path / "nonexistent" / "x.npz"),
        file=str(tmp_path / "a_file.txt"),
        folder=str(tmp_path / "a_folder"),
    )


#: (argv, flag, cases): options naming files and folders; each case is one
#: of make_paths' entries that the option must refuse
PATH_OPTIONS = [
    (["demo", "--plot"], "--plot", ("missing", "folder", "file")),
    (["train-digits", "--save"], "--save", ("missing", "folder")),
    (["train-digits", "--parallel", "--plot"], "--plot", ("missing", "folder", "file")),
    (["train-l2mu", "--save"], "--save", ("missing", "folder")),
    (["train-psmnist", "--out"], "--out", ("missing", "file")),
    (["loihi", "--weights"], "--weights", ("missing", "folder", "file")),
    (["loihi", "--chip-weights"], "--chip-weights", ("missing", "folder", "file")),
    (["loihi", "--save"], "--save", ("missing", "folder")),
    (["loihi", "--chip-save"], "--chip-save", ("missing", "folder")),
    (["train-lm", "--checkpoint"], "--checkpoint", ("missing", "file")),
    (["train-lm", "--data"], "--data", ("missing", "file")),
    (["generate", "hello", "--checkpoint"], "--checkpoint", ("missing", "file", "folder")),
    (["generate", "hello", "--output"], "--output", ("missing", "folder")),
]


@pytest.mark.parametrize("argv, flag, cases", PATH_OPTIONS)
def test_path_options_refuse_wrong_paths(argv, flag, cases, no_work, capsys, tmp_path):
    """A missing folder, a folder where a file goes and a file where a
    folder goes (``file`` for a plot: a text file is no plot format)."""
    paths = make_paths(tmp_path)
    for case in cases:
        path = paths[case]
        if case == "missing" and flag in ("--out", "--checkpoint") and argv[0] != "generate":
            path = os.path.dirname(path) + "/sub/run"  # its parent is missing
        run_refused(argv + [path], flag, capsys)
    assert no_work == []


@pytest.mark.parametrize("command", ["demo", "loihi"])
def test_short_duration_names_the_discard_it_conflicts_with(command, no_work, capsys):
    """Issue 27 item 13: ``demo --duration 0.5`` failed on the default
    ``--discard 1.0`` after building the networks."""
    err = run_refused([command, "--duration", "0.5"], "--discard", capsys)
    assert "must be shorter than --duration (0.5 s), got 1 s" in err
    assert no_work == []


def test_help_shows_each_default_once(capsys):
    """Issue 27 item 13: ``20%%``, ``(default lmu_digits.npz; ...) (default:
    None)``, and commands that showed no defaults."""
    for name, parser in commands().items():
        text = parser.format_help()
        assert "%%" not in text and "(default: None)" not in text, name
        for action in parser._actions:
            if action.help and action.option_strings and action.default not in (None, False):
                if action.default is not argparse.SUPPRESS:
                    assert action.help.count("default") == 1, (name, action.help)
