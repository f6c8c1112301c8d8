"""Output files of the applications (nengo_lmu.apps.experiments.outputs):
folders checked before any work, nothing overwritten without asking, and
trained weights never lost when a save fails."""

import os

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.apps.experiments.outputs import check_output_path, save_or_rescue
from nengo_lmu.networks import LMUClassifier


def test_save_or_rescue_keeps_trained_weights(tmp_path, make_lmu_classifier):
    """The folder vanishes after the check; the weights are not lost."""
    clf = make_lmu_classifier()
    folder = tmp_path / "gone"
    folder.mkdir()
    path = check_output_path(folder / "model", suffix=".npz")
    folder.rmdir()
    messages = []
    written = save_or_rescue(clf.save, path, log=messages.append)
    try:
        assert written != path and os.path.exists(written)
        assert path in messages[0] and written in messages[0]
        loaded = LMUClassifier.load(written)
        for k, w in clf.get_weights().items():
            assert np.array_equal(loaded.get_weights()[k], w)
    finally:
        os.remove(written)


def test_check_output_path_rules(tmp_path):
    assert check_output_path(None) is None
    assert check_output_path(tmp_path / "m", suffix=".npz") == str(tmp_path / "m.npz")
    (tmp_path / "m.npz").write_text("x")
    with pytest.raises(ValidationError, match="exists; refusing to overwrite"):
        check_output_path(tmp_path / "m", suffix=".npz")
    assert check_output_path(tmp_path / "m.npz", force=True) == str(tmp_path / "m.npz")
    with pytest.raises(ValidationError, match="is a folder, not a file"):
        check_output_path(tmp_path, force=True)


def test_experiment_checks_its_folder_before_training(tmp_path):
    """The experiment stops before loading data."""
    from nengo_lmu.apps.experiments.digits import train_digits
    from nengo_lmu.apps.experiments.l2mu import train_l2mu

    with pytest.raises(ValidationError, match="save: cannot write the trained model"):
        train_digits(save=tmp_path / "no" / "x.npz", data={"not": "used"})
    with pytest.raises(ValidationError, match="save: cannot write the trained L2MU"):
        train_l2mu(save=tmp_path / "no" / "x.npz", data={"not": "used"})


# --- issue 27: every command checks its outputs first; nothing lost


import types  # noqa: E402

from nengo_lmu.apps.cli import main  # noqa: E402
from nengo_lmu.apps.experiments import outputs  # noqa: E402


class WorkStarted(Exception):
    """Raised by a stand-in experiment."""


def fake_train_lm(monkeypatch, calls):
    """train_lm replaced by one that writes checkpoint-like files."""
    from nengo_lmu.apps.experiments import language_model

    def fake(settings, resume=False):
        model, params, tokens = settings.model, settings.params, settings.tokens
        checkpoint = settings.checkpoint
        calls.append(dict(model=model, params=params, tokens=tokens, seq_len=settings.seq_len))
        for name in ("ckpt-1.npz", "model.json"):
            with open(os.path.join(checkpoint, name), "w") as f:
                f.write(f"{model} {len(calls)}")
        train = types.SimpleNamespace(tokens=tokens, seconds=1.0, tokens_per_second=tokens)
        return language_model.TrainLMResult(
            model_kind=model,
            params=params,
            config={},
            train=train,
            val_nats_per_byte=1.0,
            corpus="fake",
        )

    monkeypatch.setattr(language_model, "train_lm", fake)


def folder_state(folder):
    return {
        os.path.relpath(os.path.join(root, name), folder): open(
            os.path.join(root, name), "rb"
        ).read()
        for root, _, names in os.walk(folder)
        for name in names
    }


def test_train_lm_force_never_deletes_what_it_did_not_write(monkeypatch, tmp_path, capsys):
    """Issue 27 item 1: --force on a folder holding a user's files."""
    monkeypatch.chdir(tmp_path)
    calls = []
    fake_train_lm(monkeypatch, calls)
    (tmp_path / "important" / "sub").mkdir(parents=True)
    (tmp_path / "important" / "thesis.txt").write_text("years of work")
    (tmp_path / "important" / "sub" / "data.csv").write_text("1,2")
    before = folder_state(tmp_path / "important")
    assert main(["train-lm", "--quick", "--checkpoint", "important", "--force"]) == 2
    assert "--checkpoint: 'important' is not empty" in capsys.readouterr().err
    assert folder_state(tmp_path / "important") == before and calls == []
    # a run folder of ours that a user added a file to: refused too
    assert main(["train-lm", "--quick", "--checkpoint", "run"]) == 0
    (tmp_path / "run" / "notes.txt").write_text("mine")
    assert main(["train-lm", "--quick", "--checkpoint", "run", "--force"]) == 2
    assert "did not write (notes.txt)" in capsys.readouterr().err
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    # our own run, nothing else: --force replaces its files (no rmtree)
    (tmp_path / "run" / "notes.txt").unlink()
    assert main(["train-lm", "--quick", "--checkpoint", "run", "--force"]) == 0
    assert len(calls) == 2 and (tmp_path / "run" / "model.json").read_text() == "lmu 2"


def test_train_lm_resume_refuses_another_model_and_keeps_a_finished_run(
    monkeypatch, tmp_path, capsys
):
    """Issue 27 items 2 and 4: a resume with another model is refused naming
    both; resuming a finished run changes nothing and says so."""
    monkeypatch.chdir(tmp_path)
    calls = []
    fake_train_lm(monkeypatch, calls)
    assert main(["train-lm", "--quick", "--checkpoint", "r2"]) == 0
    assert "checkpoint written to r2" in capsys.readouterr().out
    before = folder_state(tmp_path / "r2")
    assert (
        main(["train-lm", "--quick", "--resume", "--checkpoint", "r2", "--model", "transformer"])
        == 2
    )
    err = capsys.readouterr().err
    assert "--resume:" in err and "model='lmu'" in err and "model='transformer'" in err
    assert main(["train-lm", "--resume", "--checkpoint", "r2"]) == 2  # not --quick's sizes
    assert "params=10000" in capsys.readouterr().err
    assert main(["train-lm", "--quick", "--resume", "--checkpoint", "r2"]) == 0
    assert "already finished (20000 tokens); nothing changed" in capsys.readouterr().out
    assert folder_state(tmp_path / "r2") == before and len(calls) == 1
    # a run that did not finish is resumed
    record = outputs.read_marker(tmp_path / "r2")
    outputs.write_marker(tmp_path / "r2", dict(record, finished=False))
    assert main(["train-lm", "--quick", "--resume", "--checkpoint", "r2"]) == 0
    assert len(calls) == 2


def test_train_lm_and_generate_check_their_paths_first(monkeypatch, tmp_path, capsys):
    """Issue 27 item 6: --checkpoint an existing file, generate --output a folder."""
    monkeypatch.chdir(tmp_path)
    calls = []
    fake_train_lm(monkeypatch, calls)
    (tmp_path / "good.npz").write_bytes(b"weights")
    assert main(["train-lm", "--quick", "--checkpoint", "good.npz", "--force"]) == 2
    assert "'good.npz' is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "good.npz").read_bytes() == b"weights" and calls == []
    assert main(["train-lm", "--quick", "--checkpoint", "lm"]) == 0
    (tmp_path / "outdir").mkdir()
    assert main(["generate", "hi", "--checkpoint", "lm", "--output", "outdir", "--force"]) == 2
    assert "--output: the generated text 'outdir' is a folder" in capsys.readouterr().err


def test_train_lm_quick_fills_only_what_is_not_given(monkeypatch, tmp_path, capsys):
    """Issue 27 item 7: --quick --tokens 10 trains 10 tokens."""
    monkeypatch.chdir(tmp_path)
    calls = []
    fake_train_lm(monkeypatch, calls)
    assert (
        main(
            [
                "train-lm",
                "--quick",
                "--tokens",
                "10",
                "--seq-len",
                "1",
                "--batch-size",
                "2",
                "--checkpoint",
                "a",
            ]
        )
        == 0
    )
    assert main(["train-lm", "--quick", "--params", "50000", "--checkpoint", "b"]) == 0
    assert main(["train-lm", "--quick", "--checkpoint", "c"]) == 0
    assert main(["train-lm", "--quick", "--tokens", "10", "--checkpoint", "d"]) == 2
    assert "--tokens: must cover at least one batch (--batch-size 8 x --seq-len 64 = 512" in (
        capsys.readouterr().err
    )
    assert [(c["tokens"], c["seq_len"], c["params"]) for c in calls] == [
        (10, 1, 10_000),
        (20_000, 64, 50_000),
        (20_000, 64, 10_000),
    ]


def fake_run_psmnist(monkeypatch, calls):
    from nengo_lmu.apps.experiments import psmnist

    def fake(**kwargs):
        calls.append(kwargs)
        if kwargs["out_dir"]:
            os.makedirs(kwargs["out_dir"], exist_ok=True)
            with open(os.path.join(kwargs["out_dir"], "psmnist.json"), "w") as f:
                f.write(str(len(calls)))
        return types.SimpleNamespace(table=lambda: "")

    monkeypatch.setattr(psmnist, "run_psmnist", fake)


def test_train_psmnist_checks_first_and_needs_force(monkeypatch, tmp_path, capsys):
    """Issue 27 items 3 and 6: the second run into --out is refused before
    any work; --force overwrites; the command says what it wrote."""
    monkeypatch.chdir(tmp_path)
    calls = []
    fake_run_psmnist(monkeypatch, calls)
    argv = ["train-psmnist", "--models", "lstm", "--out", "psm"]
    assert main(argv) == 0
    assert f"written: {os.path.join('psm', 'psmnist.json')}" in capsys.readouterr().out
    assert main(argv) == 2 and len(calls) == 1
    assert "--out: the results 'psm/psmnist.json' exists" in capsys.readouterr().err
    assert (tmp_path / "psm" / "psmnist.json").read_text() == "1"
    assert main(argv + ["--force"]) == 0
    assert (tmp_path / "psm" / "psmnist.json").read_text() == "2"
    (tmp_path / "afile").write_text("x")
    assert main(["train-psmnist", "--out", "afile"]) == 2
    assert "--out: the output folder 'afile' is a file" in capsys.readouterr().err
    assert main(["train-psmnist", "--models", "lstm"]) == 0
    assert "nothing saved (pass --out FOLDER" in capsys.readouterr().out
    assert len(calls) == 3


@pytest.mark.parametrize(
    "argv",
    [["demo", "--plot", "out.txt"], ["train-digits", "--parallel", "--plot", "p.txt"]],
)
def test_plot_format_is_checked_before_any_work(argv, monkeypatch, tmp_path, capsys):
    """Issue 27 item 6: matplotlib's 'Format txt is not supported', after the work."""
    from nengo_lmu.apps.experiments import delay, digits

    monkeypatch.chdir(tmp_path)
    for module, name in ((delay, "delay_demo"), (digits, "train_digits")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("work started"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--plot:" in err and "a plot must end in one of" in err and ".png" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "argv, kept",
    [
        (["train-digits"], "nothing was written"),
        (["train-lm", "--quick", "--checkpoint", "c"], "no checkpoint was saved yet"),
    ],
)
def test_ctrl_c_stops_cleanly_with_status_130(argv, kept, monkeypatch, tmp_path, capsys):
    """Issue 27 item 11: one line saying what was kept, exit 130, no traceback."""
    from nengo_lmu.apps.experiments import digits, language_model

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(digits, "train_digits", interrupted)
    monkeypatch.setattr(language_model, "train_lm", interrupted)
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert err.startswith("nengo-lmu: interrupted;") and kept in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
