"""The LMUFormer's training loop: checkpoints every epoch, resume, refusals.

Runs on Keras 3 (any backend) and on the locked stack's tf.keras 2.12. The
checkpoint folders in ``tests/data/lmuformer_checkpoint_*`` were written in
other environments (`write_checkpoint_fixture`); every environment resumes
each of them.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("keras")

from nengo_lmu.dl import (  # noqa: E402
    lmuformer,
    load_lmuformer_checkpoint,
    train_lmuformer,
)
from nengo_lmu.dl import lmuformer_training as training  # noqa: E402
from nengo_lmu.dl.compat import backend_name, keras  # noqa: E402
from nengo_lmu.dl.interrupts import LastEpoch, TrainingInterrupted  # noqa: E402
from nengo_lmu.dl.lmuformer import final_scores_model  # noqa: E402

DATA = Path(__file__).parent / "data"
TINY = dict(n_inputs=4, n_classes=3, dim=8, n_frames=12)
RUN = dict(epochs=3, batch_size=8, learning_rate=1e-2, seed=5)


def tiny_model(seed=0, **kwargs):
    return lmuformer(**dict(TINY, **kwargs), seed=seed)


def clips(n=20, seed=0):
    """``n`` clips of three classes whose mean feature pattern differs."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % TINY["n_classes"]
    patterns = rng.randn(TINY["n_classes"], TINY["n_inputs"])
    x = rng.randn(n, TINY["n_frames"], TINY["n_inputs"]) + patterns[y][:, None]
    return x.astype(np.float32), y.astype(np.int64)


def soft_epochs(n=20):
    """Each epoch's clips with soft labels (as mixup gives), drawn from the epoch."""
    x0, y0 = clips(n)

    def epoch_data(epoch):
        rng = np.random.RandomState([11, epoch])
        order = rng.permutation(n)
        lam = rng.uniform(0.6, 1.0, size=(n, 1)).astype(np.float32)
        x = x0[order] + 0.1 * rng.randn(*x0.shape).astype(np.float32)
        y = lam * np.eye(TINY["n_classes"], dtype=np.float32)[y0[order]] + (1 - lam) / 3
        return x, y

    return epoch_data


def stop_in_epoch(monkeypatch, epoch, after_batches=1, call=1):
    """Ctrl-C in ``epoch`` (from 0) of the ``call``-th `train_lmuformer` call,
    after some of the epoch's batches were trained."""
    made = []

    class Stop(LastEpoch):
        def __init__(self):
            super().__init__()
            made.append(self)

        def on_train_batch_end(self, batch, logs=None):
            stop = len(made) == call and self.epochs_done == epoch
            if stop and batch + 1 >= after_batches:
                raise KeyboardInterrupt

    monkeypatch.setattr(training, "LastEpoch", Stop)


def weights_of(model):
    return [np.asarray(w) for w in model.get_weights()]


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        assert np.allclose(wa, wb, rtol=1e-5, atol=1e-6), np.abs(wa - wb).max()


def test_interrupted_then_resumed_equals_the_run_never_stopped(tmp_path, monkeypatch):
    x, y = clips()
    whole = train_lmuformer(tiny_model(), x, y, **RUN)
    folder = tmp_path / "run"
    stopped = tiny_model()
    with monkeypatch.context() as m:
        stop_in_epoch(m, 1)
        with pytest.raises(TrainingInterrupted) as info:
            train_lmuformer(stopped, x, y, **RUN, checkpoint_dir=folder)
    assert (info.value.epochs_done, info.value.epochs) == (1, 3)
    assert "ckpt-1.npz" in info.value.kept and info.value.model is stopped
    # the interrupted epoch's updates are undone: the model is its checkpoint
    assert_same_weights(weights_of(stopped), weights_of(load_lmuformer_checkpoint(folder)))
    assert sorted(p.name for p in folder.iterdir()) == ["ckpt-1.npz", "model.json"]
    resumed = tiny_model()
    out = train_lmuformer(resumed, x, y, **RUN, checkpoint_dir=folder, resume=True)
    assert out.start_epoch == 1 and out.note.startswith("resumed")
    assert len(out.epoch_seconds) == 3
    assert_same_weights(weights_of(resumed), weights_of(whole.model))
    assert np.allclose(out.history["loss"], whole.history["loss"], rtol=1e-5)
    assert out.history["loss"][-1] < out.history["loss"][0]
    # the folder's model is the trained one
    assert_same_weights(weights_of(load_lmuformer_checkpoint(folder)), weights_of(whole.model))


def test_epoch_data_function_and_any_keras_model_resume_exactly(tmp_path, monkeypatch):
    def dense():
        keras.utils.set_random_seed(2)
        return keras.Sequential(
            [
                keras.Input((TINY["n_frames"], TINY["n_inputs"])),
                keras.layers.Flatten(),
                keras.layers.Dense(6, activation="tanh"),
                keras.layers.Dense(TINY["n_classes"]),
            ]
        )

    run = dict(RUN, epochs=4)
    whole = train_lmuformer(dense(), soft_epochs(), **run)
    folder = tmp_path / "run"
    with monkeypatch.context() as m:
        stop_in_epoch(m, 2, after_batches=2)
        with pytest.raises(TrainingInterrupted):
            train_lmuformer(dense(), soft_epochs(), **run, checkpoint_dir=folder)
    seen = []

    def recorded(epoch):
        seen.append(epoch)
        return soft_epochs()(epoch)

    resumed = dense()
    out = train_lmuformer(resumed, recorded, **run, checkpoint_dir=folder, resume=True)
    assert out.start_epoch == 2 and seen[1:] == [2, 3]
    assert_same_weights(weights_of(resumed), weights_of(whole.model))
    assert np.allclose(out.history["accuracy"], whole.history["accuracy"])
    # a model that is not an LMUFormer is read back into a model given
    assert_same_weights(
        weights_of(load_lmuformer_checkpoint(folder, dense())), weights_of(resumed)
    )
    with pytest.raises(ValidationError, match="model: must be given"):
        load_lmuformer_checkpoint(folder)


def test_a_finished_run_is_not_trained_again(tmp_path):
    x, y = clips()
    folder = tmp_path / "run"
    first = train_lmuformer(tiny_model(), x, y, **RUN, checkpoint_dir=folder)
    again = tiny_model()
    out = train_lmuformer(again, x, y, **RUN, checkpoint_dir=folder, resume=True)
    assert "already finished" in out.note and out.seconds == 0 and out.start_epoch == 3
    assert out.history["loss"] == first.history["loss"]
    assert_same_weights(weights_of(again), weights_of(first.model))
    # a resume into an empty folder starts a new run
    fresh = train_lmuformer(
        tiny_model(), x, y, **RUN, checkpoint_dir=tmp_path / "new", resume=True
    )
    assert fresh.start_epoch == 0 and fresh.note == ""
    assert np.allclose(fresh.history["loss"], first.history["loss"], rtol=1e-5)


# ------------------------------------------------------------ refusals


def refusal(attr, **changes):
    """One call of `train_lmuformer` with ``changes`` and the parameter its
    error must name."""
    return pytest.param(changes, attr, id=f"{attr}-" + "-".join(changes))


def named(error):
    """The parameter a `ValidationError` names (``obj.attr: ...`` or ``attr: ...``)."""
    return str(error).split(":")[0].split(".")[-1]


def bad_output_model():
    inp = keras.Input((TINY["n_frames"], TINY["n_inputs"]))
    return keras.Model(inp, keras.layers.Dense(3)(inp))


@pytest.mark.parametrize(
    "changes, attr",
    [
        refusal("model", model="lmuformer"),
        refusal("model", model=bad_output_model),
        refusal("x", x=np.zeros(5, np.float32)),
        refusal("x", x=np.full((20, 12, 4), np.nan, np.float32)),
        refusal("x", x=np.zeros((20, 12, 4), np.int64)),
        refusal("n_inputs", x=np.zeros((20, 12, 5), np.float32)),
        refusal("x", x=lambda epoch: clips()[0], y=None),
        refusal("y", y=None),
        refusal("y", y=np.arange(19) % 3),
        refusal("y", y=np.arange(20) % 3 + 1),
        refusal("y", y=np.zeros((20, 4), np.float32)),
        refusal("y", y=np.arange(20).astype(np.float32)),
        refusal("y", x=lambda epoch: clips()),
        refusal("epochs", epochs=0),
        refusal("epochs", epochs=1.5),
        refusal("batch_size", batch_size=0),
        refusal("learning_rate", learning_rate=0.0),
        refusal("seed", seed=-1),
        refusal("verbose", verbose=-1),
        refusal("resume", resume="yes"),
        refusal("resume", resume=True),
    ],
)
def test_bad_arguments_are_refused_before_training(changes, attr):
    x, y = clips()
    args = dict(RUN, model=tiny_model(), x=x, y=y)
    args.update(changes)
    if args["model"] is bad_output_model:
        args["model"] = args["model"]()
    with pytest.raises(ValidationError) as info:
        train_lmuformer(**args)
    assert named(info.value) == attr


def test_an_interrupted_epoch_with_other_clips_is_refused():
    def shrinking(epoch):
        return clips(20 if epoch == 0 else 16)

    with pytest.raises(ValidationError, match="x: gave 16 clips .* for epoch 1"):
        train_lmuformer(tiny_model(), shrinking, **RUN)


def test_checkpoint_folders_are_never_overwritten_or_mixed_up(tmp_path):
    x, y = clips()
    folder = tmp_path / "run"
    train_lmuformer(tiny_model(), x, y, **dict(RUN, epochs=1), checkpoint_dir=folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def refused(attr, match, model=None, **changes):
        args = dict(RUN, epochs=1, checkpoint_dir=folder, resume=True)
        args.update(changes)
        with pytest.raises(ValidationError, match=match) as info:
            train_lmuformer(model or tiny_model(), args.pop("x", x), args.pop("y", y), **args)
        assert named(info.value) == attr

    refused("checkpoint_dir", "holds a run already: pass resume=True", resume=False)
    refused("resume", r"learning_rate: 0\.01 there, 0\.02 here", learning_rate=0.02)
    refused("resume", "seed: 5 there, 6 here", seed=6)
    refused("resume", "batch_size: 8 there, 4 here", batch_size=4)
    refused("resume", "clips: 20 there, 18 here", x=x[:18], y=y[:18])
    refused("resume", "data: '[0-9a-f]+' there, '[0-9a-f]+' here", x=x + 1)
    refused("resume", "labels: 'classes' there, 'soft' here", x=soft_epochs(), y=None)
    refused("resume", "dim: 8 there, 16 here", model=tiny_model(dim=16))
    refused(
        "resume", "kind: 'lmuformer' there, 'keras' here", model=final_scores_model(tiny_model())
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    # another kind of checkpoint (the language model's) and a user's own files
    lm = tmp_path / "lm"
    shutil.copytree(DATA / "lm_checkpoint_jax_py312", lm)
    with pytest.raises(ValidationError, match="checkpoint_dir: .*not the model.json of a"):
        train_lmuformer(tiny_model(), x, y, **RUN, checkpoint_dir=lm, resume=True)
    with pytest.raises(ValidationError, match="checkpoint_dir: .*holds a run already"):
        train_lmuformer(tiny_model(), x, y, **RUN, checkpoint_dir=lm)
    own = tmp_path / "own"
    own.mkdir()
    (own / "model.json").write_text("{}")
    with pytest.raises(ValidationError, match="checkpoint_dir"):
        train_lmuformer(tiny_model(), x, y, **RUN, checkpoint_dir=own)
    assert (own / "model.json").read_text() == "{}"
    (tmp_path / "file").write_text("mine")
    with pytest.raises(ValidationError, match="checkpoint_dir: must be a folder"):
        train_lmuformer(tiny_model(), x, y, **RUN, checkpoint_dir=tmp_path / "file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="checkpoint_dir: .*holds no model.json"):
        load_lmuformer_checkpoint(tmp_path / "empty")


# ------------------------------------------------------------ between stacks

#: Interrupted runs (epoch 1 of 2) written by `write_checkpoint_fixture` in
#: each environment (Keras 3 + JAX on Python 3.13; tf.keras 2.12 on the
#: locked Python 3.11 stack), with the scores they and the finished run gave.
LMUFORMER_CHECKPOINTS = sorted(DATA.glob("lmuformer_checkpoint_*"))
FIXTURE_RUN = dict(epochs=2, batch_size=8, learning_rate=1e-2, seed=1)


def fixture_scores(model, x):
    return np.asarray(final_scores_model(model).predict(x, verbose=0))


def write_checkpoint_fixture(folder):
    """Train a tiny LMUFormer for 2 epochs into
    ``folder/lmuformer_checkpoint_<backend>_py<version>``, then drop the
    last epoch's checkpoint (an interrupted run), and write the scores of
    both epochs (``expected.npz``). Run ``python tests/test_lmuformer_training.py``
    in an environment to add its folder to ``tests/data``."""
    import keras as keras_module
    import nengo

    version = f"py{sys.version_info[0]}{sys.version_info[1]}"
    where = Path(folder) / f"lmuformer_checkpoint_{backend_name().replace('.', '')}_{version}"
    x, y = clips()
    model = tiny_model()
    train_lmuformer(model, x, y, **FIXTURE_RUN, checkpoint_dir=where)
    scores_2 = fixture_scores(model, x[:6])
    (where / "ckpt-2.npz").unlink()
    scores_1 = fixture_scores(load_lmuformer_checkpoint(where), x[:6])
    made_with = f"keras {keras_module.__version__} ({backend_name()}), numpy {np.__version__}, "
    made_with += f"nengo {nengo.__version__}, Python {sys.version.split()[0]}"
    np.savez(where / "expected.npz", made_with=made_with, scores_1=scores_1, scores_2=scores_2)
    return where


@pytest.mark.parametrize("folder", LMUFORMER_CHECKPOINTS, ids=lambda p: p.name)
def test_checkpoints_of_every_environment_resume_here(folder, tmp_path):
    with np.load(folder / "expected.npz") as z:
        made_with, scores_1, scores_2 = str(z["made_with"]), z["scores_1"], z["scores_2"]
    x, y = clips()
    assert np.allclose(
        fixture_scores(load_lmuformer_checkpoint(folder), x[:6]), scores_1, atol=1e-4
    ), made_with
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    (copy / "expected.npz").unlink()
    config = json.loads((copy / "model.json").read_text())["config"]
    model = lmuformer(**config)
    out = train_lmuformer(model, x, y, **FIXTURE_RUN, checkpoint_dir=copy, resume=True)
    assert out.start_epoch == 1 and len(out.history["loss"]) == 2
    # the second epoch here continues the first epoch there (Adam's state,
    # the schedule's step and the epoch's order included)
    assert np.allclose(fixture_scores(model, x[:6]), scores_2, atol=2e-3), made_with
    assert not np.allclose(scores_1, scores_2, atol=2e-2)


def test_checkpoints_come_from_both_stacks():
    names = {p.name for p in LMUFORMER_CHECKPOINTS}
    assert any("jax" in n for n in names) and any("tfkeras" in n for n in names), names


# ------------------------------------------------------------ the comparison


def toy_keywords(n_train=24, n_test=6):
    x_tr, y_tr = clips(n_train, seed=0)
    x_te, y_te = clips(n_test, seed=1)
    return dict(
        x_train=x_tr * 2 + 1,
        y_train=y_tr,
        x_test=x_te * 2 + 1,
        y_test=y_te,
        keywords=["a", "b", "c"],
        test_variants=["v"],
    )


COMPARE = dict(models=("lmuformer", "lstm"), dim=8, epochs=2, batch_size=8, stream_clips=0)


def test_compare_lmuformer_resumes_and_reads_finished_runs_back(tmp_path, monkeypatch):
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer, run_folder

    whole = compare_lmuformer(data=toy_keywords(), keep_models=True, **COMPARE)
    folder = tmp_path / "ckpt"
    with monkeypatch.context() as m:
        stop_in_epoch(m, 1, call=2)  # the lmuformer finishes; the lstm stops in epoch 1
        with pytest.raises(TrainingInterrupted):
            compare_lmuformer(data=toy_keywords(), checkpoint=str(folder), **COMPARE)
    lstm = Path(run_folder(str(folder), "lstm", 0))
    assert (folder / "lmuformer-seed0" / "run.json").exists()
    assert sorted(p.name for p in lstm.iterdir()) == ["ckpt-1.npz", "model.json"]
    with pytest.raises(ValidationError, match="checkpoint_dir: .*holds a run already"):
        compare_lmuformer(data=toy_keywords(), checkpoint=str(folder), **COMPARE)
    labels = []
    resumed = compare_lmuformer(
        data=toy_keywords(),
        checkpoint=str(folder),
        resume=True,
        keep_models=True,
        progress=lambda done, total, label: labels.append(label),
        **COMPARE,
    )
    assert "(read back)" in labels[0] and "(read back)" not in labels[1]
    for a, b in zip(whole.runs, resumed.runs):
        assert (a.model, a.params, a.epochs) == (b.model, b.params, b.epochs)
        assert a.test_accuracy == b.test_accuracy
    for name in ("lmuformer", "lstm"):
        assert_same_weights(
            weights_of(resumed.keras_models[name]), weights_of(whole.keras_models[name])
        )

    # a finished comparison is read back whole: nothing is trained
    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(training, "train_lmuformer", no_training)
    again = compare_lmuformer(
        data=toy_keywords(), checkpoint=str(folder), resume=True, keep_models=True, **COMPARE
    )
    assert [json.dumps(r.to_dict()) for r in again.runs] == [
        json.dumps(r.to_dict()) for r in resumed.runs
    ]
    assert_same_weights(
        weights_of(again.keras_models["lmuformer"]), weights_of(whole.keras_models["lmuformer"])
    )
    with pytest.raises(ValidationError, match="resume: needs a checkpoint folder"):
        compare_lmuformer(data=toy_keywords(), resume=True, **COMPARE)


def test_train_lmuformer_command_checkpoints_and_resumes(tmp_path, capsys, monkeypatch):
    import nengo_lmu.apps.speech as speech
    from nengo_lmu.apps.cli import main

    monkeypatch.setattr(speech, "spoken_keywords", lambda *args, **kwargs: toy_keywords())
    ckpt = str(tmp_path / "ckpt")
    args = ["train-lmuformer", "--models", "lstm", "--epochs", "1", "--stream-clips", "0"]
    args += ["--checkpoint", ckpt, "--no-progress", "--batch-size", "8"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert sorted(p.name for p in Path(ckpt).iterdir()) == ["lstm-seed0", "nengo_lmu-run.json"]
    capsys.readouterr()
    # finished: --resume changes nothing
    assert main(args + ["--out", str(tmp_path / "a"), "--resume"]) == 0
    assert "already finished" in capsys.readouterr().out
    # other settings: refused, naming them
    assert main(args + ["--out", str(tmp_path / "b"), "--resume", "--dim", "16"]) == 2
    assert "--resume" in capsys.readouterr().err
    # a run there: refused without --resume or --force
    assert main(args + ["--out", str(tmp_path / "b")]) == 2
    assert "--checkpoint" in capsys.readouterr().err
    # --force replaces the run (its own files only)
    (Path(ckpt) / "lstm-seed0" / "notes.txt").write_text("mine")
    assert main(args + ["--out", str(tmp_path / "b"), "--force"]) == 2
    assert "notes.txt" in capsys.readouterr().err
    (Path(ckpt) / "lstm-seed0" / "notes.txt").unlink()
    assert main(args + ["--out", str(tmp_path / "b"), "--force"]) == 0
    assert json.loads((tmp_path / "b" / "results.json").read_text())["runs"][0]["epochs"] == 1
    # --resume needs --checkpoint
    assert main(args[:-5] + ["--out", str(tmp_path / "c"), "--resume"]) == 2
    assert "--resume" in capsys.readouterr().err


# ------------------------------------------------------------ distribution

#: two trainings of a tiny LMUFormer compared weight by weight. A bias that
#: feeds a BatchNormalization has no gradient (up to rounding, which differs
#: between one and two devices and which Adam scales to steps of up to the
#: learning rate), nor does its normalisation's moving mean follow anything
#: else: those are compared loosely, all other weights to float32 rounding
#: (summed over two devices in another order).
TWO_RUNS = """
import numpy as np
from nengo.exceptions import ValidationError
from nengo_lmu.dl import lmuformer, load_lmuformer_checkpoint, train_lmuformer
from nengo_lmu.dl.lmuformer_weights import lmuformer_weights
rng = np.random.RandomState(0)
base = rng.randn(8, 12, 4).astype(np.float32)
labels = rng.randint(3, size=8)
TINY = dict(n_inputs=4, n_classes=3, dim=8, n_frames=12, seed=0)
RUN = dict(epochs=2, batch_size=8, seed=1)

def epoch_data(epoch):
    # each batch: four clips, then the same four (every replica's share of
    # it normalises alike in BatchNormalization, also under tf.distribute)
    order = np.random.default_rng([1, epoch]).permutation(8)
    rows = np.concatenate([order[:4], order[:4], order[4:], order[4:]])
    return base[rows], labels[rows]

def compare(a, b, start):
    loose = set()
    for name in a:
        layer, _, index = name.rpartition("/")
        if "_bn_" in layer and index == "2":
            loose |= {name, layer.replace("_bn_", "_") + "/1"}
    tight = [n for n in a if n not in loose]
    moved = max(float(np.abs(a[n] - start[n]).max()) for n in tight)
    diff = max(float(np.abs(a[n] - b[n]).max()) for n in tight)
    loose_diff = max([float(np.abs(a[n] - b[n]).max()) for n in loose if n in a] + [0.0])
    print("RESULT", moved, diff, loose_diff)

def check_checkpoints(trained, where, **given):
    # the checkpoint in FOLDER/a holds the very arrays (one device reads them
    # back); a run stopped after epoch 1 and resumed under the same
    # distribution ends with the same weights
    weights = lmuformer_weights(trained)
    saved = lmuformer_weights(load_lmuformer_checkpoint(FOLDER + "/a"))
    assert all(np.array_equal(saved[n], w) for n, w in weights.items())

    def stop_at_1(epoch):
        if epoch == 1:
            raise KeyboardInterrupt
        return epoch_data(epoch)

    for data, resume in ((stop_at_1, False), (epoch_data, True)):
        with where.scope():
            again = lmuformer(**TINY)
        try:
            train_lmuformer(again, data, checkpoint_dir=FOLDER + "/b", resume=resume,
                            **given, **RUN)
        except KeyboardInterrupt:
            assert not resume
    assert all(np.array_equal(w, weights[n]) for n, w in lmuformer_weights(again).items())


def refused(rule, **kwargs):
    try:
        train_lmuformer(**kwargs)
    except ValidationError as e:
        assert rule in str(e), e
        return
    raise AssertionError("not refused: " + rule)
"""

DATA_PARALLEL = (
    TWO_RUNS
    + """
import jax, keras
assert len(jax.devices()) == 2, jax.devices()
dist = keras.distribution.DataParallel(devices=jax.devices())
refused("distribution.scope()", model=lmuformer(**TINY), x=epoch_data, distribution=dist, **RUN)
with dist.scope():
    two = lmuformer(**TINY)
refused("multiple of the 2 replicas", model=two, x=epoch_data, distribution=dist,
        **dict(RUN, batch_size=7))
refused("last batch holds 1", model=two, x=np.concatenate([base, base, base[:1]]),
        y=np.concatenate([labels, labels, labels[:1]]), distribution=dist, **RUN)
start = lmuformer_weights(two)
train_lmuformer(two, epoch_data, distribution=dist, checkpoint_dir=FOLDER + "/a", **RUN)
assert all(len(v.value.sharding.device_set) == 2 for v in two.variables)
check_checkpoints(two, dist, distribution=dist)
one = lmuformer(**TINY)
train_lmuformer(one, epoch_data, **RUN)
compare(lmuformer_weights(one), lmuformer_weights(two), start)
"""
)

MIRRORED = (
    """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
"""
    + TWO_RUNS
    + """
mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert mirrored.num_replicas_in_sync == 2
refused("strategy.scope()", model=lmuformer(**TINY), x=epoch_data, strategy=mirrored, **RUN)
with mirrored.scope():
    two = lmuformer(**TINY)
refused("multiple of the 2 replicas", model=two, x=epoch_data, strategy=mirrored,
        **dict(RUN, batch_size=7))
start = lmuformer_weights(two)
train_lmuformer(two, epoch_data, strategy=mirrored, checkpoint_dir=FOLDER + "/a", **RUN)
check_checkpoints(two, mirrored, strategy=mirrored)
one = lmuformer(**TINY)
train_lmuformer(one, epoch_data, **RUN)
compare(lmuformer_weights(one), lmuformer_weights(two), start)
"""
)


def run_script(script, tmp_path, **env):
    """Run ``script`` in a fresh Python (its devices are set before Keras
    starts); ``(moved, diff, loose_diff)`` from its RESULT line."""
    import os
    import subprocess

    code = f"FOLDER = {str(tmp_path)!r}\n" + script
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=500
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = [li for li in out.stdout.splitlines() if li.startswith("RESULT")][-1]
    print(line)
    return tuple(map(float, line.split()[1:]))


@pytest.mark.skipif(backend_name() != "jax", reason="keras.distribution: JAX")
def test_data_parallel_equals_one_device(tmp_path):
    """Two (host) devices under keras.distribution.DataParallel == one device;
    its checkpoint and a resume under it keep the same weights."""
    moved, diff, loose = run_script(
        DATA_PARALLEL,
        tmp_path,
        KERAS_BACKEND="jax",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
    )
    assert moved > 1e-3 and diff < 1e-5 and loose < 1e-2, (moved, diff, loose)


@pytest.mark.skipif(
    backend_name() not in ("tensorflow", "tf.keras"), reason="tf.distribute: TensorFlow"
)
def test_mirrored_strategy_equals_one_device(tmp_path):
    """Two logical CPUs under MirroredStrategy == no strategy; its checkpoint
    holds the same weights."""
    moved, diff, loose = run_script(MIRRORED, tmp_path)
    assert moved > 1e-3 and diff < 1e-5 and loose < 1e-2, (moved, diff, loose)


def test_distribution_refusals():
    """A strategy needs TensorFlow, a keras.distribution JAX."""
    x, y = clips(8)
    if backend_name() in ("tensorflow", "tf.keras"):
        with pytest.raises(ValidationError, match="keras.distribution runs on JAX"):
            train_lmuformer(tiny_model(), x, y, batch_size=8, distribution=object())
    else:
        with pytest.raises(ValidationError, match="strategy needs TensorFlow"):
            train_lmuformer(tiny_model(), x, y, batch_size=8, strategy=object())


if __name__ == "__main__":
    print(write_checkpoint_fixture(DATA))
