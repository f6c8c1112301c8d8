"""The LMU language model (seed 003), its transformer baseline and the stepper,
on Keras 3 (JAX, PyTorch, TensorFlow) and on tf.keras 2.12 alike."""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from nengo.exceptions import ValidationError

pytest.importorskip("keras")

from nengo_lmu.dl import (  # noqa: E402
    language_model_from_config,
    lm_sizes,
    lmu_language_model,
    lmu_non_embedding_count,
    recurrent_lm,
    transformer_language_model,
    transformer_non_embedding_count,
)
from nengo_lmu.dl.compat import backend_name, to_numpy, uses_tensorflow  # noqa: E402
from nengo_lmu.dl.lm_checkpoints import checkpoint_arrays, load_checkpoint  # noqa: E402
from nengo_lmu.dl.lm_multiworker import train_multiworker  # noqa: E402
from nengo_lmu.dl.lm_training import (  # noqa: E402
    WarmupCosine,
    evaluate_language_model,
    train_language_model,
)

V = 257
DATA = Path(__file__).parent / "data"


def logits_of(model, tokens):
    return to_numpy(model(np.asarray(tokens)))


def softmax(z):
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def small_lmu(global_attention=False, seed=0, **kw):
    kw = {"d": 16, "n_layers": 2, "order": 12, "theta": 8, **kw}
    return lmu_language_model(V, global_attention=global_attention, seed=seed, **kw)


def sharpen(model, scale=30.0):
    """Scale the embedding so random-weight logits are far from uniform."""
    e = model.embedding.embeddings
    e.assign(to_numpy(e) * scale)
    return model


@pytest.mark.parametrize("global_attention", [False, True])
def test_parallel_equals_recurrent_random(global_attention, rng):
    model = sharpen(small_lmu(global_attention, seed=1))
    tokens = rng.randint(0, V, size=(2, 30))  # 30 > theta = 8
    parallel = logits_of(model, tokens)
    stepped = recurrent_lm(model).run(tokens)
    p, r = softmax(parallel.astype(np.float64)), softmax(stepped.astype(np.float64))
    # random logits are spread out, so this compares real distributions
    assert p.max() > 0.2
    assert np.allclose(p, r, atol=1e-4)
    assert np.allclose(parallel, stepped, atol=1e-3)


@pytest.mark.parametrize("global_attention", [False, True])
def test_parallel_equals_recurrent_trained(global_attention):
    rng = np.random.default_rng(2)
    # a repeating pattern with noise: learnable in a few steps
    stream = np.tile(np.frombuffer(b"def f(x):\n    return x\n", np.uint8), 80).astype(int)
    stream[rng.random(len(stream)) < 0.05] = 32
    model = small_lmu(global_attention, seed=3, n_layers=1)
    train_language_model(model, stream, 16 * 24 * 40, 24, batch_size=16, lr=1e-2, progress=False)
    # ln(257) = 5.55 untrained
    assert evaluate_language_model(model, stream, 24, max_sequences=8).nats_per_token < 2.5
    tokens = stream[None, 5:45]  # 40 > theta
    parallel = softmax(logits_of(model, tokens).astype(np.float64))
    stepped = softmax(recurrent_lm(model).run(tokens).astype(np.float64))
    assert parallel.max() > 0.15  # uniform would be 1/257
    assert np.allclose(parallel, stepped, atol=1e-4)


def test_transformer_parallel_equals_kv_cache(rng):
    model = sharpen(transformer_language_model(V, 16, 2, max_len=32, seed=0))
    tokens = rng.randint(0, V, size=(2, 20))
    p = softmax(logits_of(model, tokens).astype(np.float64))
    r = softmax(recurrent_lm(model).run(tokens).astype(np.float64))
    assert np.allclose(p, r, atol=1e-4)


@pytest.mark.parametrize("global_attention", [False, True])
def test_reduced_order_equals_direct(global_attention, rng):
    # order 20: chunks of 64 steps, so 150 tokens span three chunks
    model = sharpen(small_lmu(global_attention, seed=4, order=20, q_reduced=3, theta=30))
    assert model.config["path"] == "reduced" and model.config["memory_mode"] == "chunked"
    tokens = rng.randint(0, V, size=(2, 150))
    want = logits_of(model, tokens)
    assert np.abs(want).max() > 1
    for path, mode in (
        ("reduced", "fft"),
        ("direct", "chunked"),
        ("direct", "fft"),
        ("direct", "recurrent"),
    ):
        other = language_model_from_config(dict(model.config, path=path, memory_mode=mode))
        other.set_weights(model.get_weights())
        assert np.allclose(logits_of(other, tokens), want, atol=2e-4), (path, mode)


def test_default_q_reduced():
    assert small_lmu(order=40).config["q_reduced"] == 4
    assert small_lmu(order=4).config["q_reduced"] == 1


@pytest.mark.parametrize("kind", ["lmu", "lmu_global", "transformer"])
def test_causal(kind, rng):
    if kind == "transformer":
        model = sharpen(transformer_language_model(V, 16, 2, max_len=64, seed=0))
    else:
        model = sharpen(small_lmu(kind == "lmu_global", seed=0))
    tokens = rng.randint(0, V, size=(1, 40))
    base = logits_of(model, tokens)
    for t in (0, 17, 38):
        changed = tokens.copy()
        changed[0, t + 1] = (changed[0, t + 1] + 1) % V
        out = logits_of(model, changed)
        assert np.allclose(out[:, : t + 1], base[:, : t + 1], atol=1e-5)
        assert not np.allclose(out[:, t + 1], base[:, t + 1], atol=1e-5)


@pytest.mark.parametrize("global_attention", [False, True])
def test_parameter_counts_match_keras(global_attention):
    for d, layers, order, qr, ffn in ((16, 1, 10, 1, None), (24, 3, 30, 5, 50)):
        model = lmu_language_model(
            V, d, layers, order, 20, q_reduced=qr, d_ffn=ffn, global_attention=global_attention
        )
        keras_count = model.count_params() - V * d  # the tied embedding
        assert model.non_embedding_parameters() == keras_count
        assert keras_count == lmu_non_embedding_count(d, layers, order, qr, ffn, global_attention)
    t = transformer_language_model(V, 24, 3, max_len=50)
    assert t.count_params() - V * 24 - 50 * 24 == transformer_non_embedding_count(24, 3)
    assert t.non_embedding_parameters() == transformer_non_embedding_count(24, 3)


def test_lm_sizes():
    for target in (20_000, 100_000, 1_000_000):
        s = lm_sizes(target, order=40)
        assert s.d == round(np.sqrt(target / 24) / 4) * 4
        assert abs(s.transformer_params - target) < 0.35 * target
        assert abs(s.lmu_params - s.transformer_params) < 0.03 * s.transformer_params
        lmu = lmu_language_model(V, theta=64, **s.lmu_kwargs())
        assert lmu.non_embedding_parameters() == s.lmu_params
        tr = transformer_language_model(V, max_len=16, **s.transformer_kwargs())
        assert tr.non_embedding_parameters() == s.transformer_params


def test_bad_input():
    model = small_lmu()
    with pytest.raises(ValidationError, match="tokens.*257"):
        model(np.array([[1, 257]]))
    with pytest.raises(ValidationError, match="tokens"):
        model(np.array([[-1, 3]]))
    with pytest.raises(ValidationError, match="q_reduced"):
        lmu_language_model(V, 16, 1, order=10, theta=20, q_reduced=11)
    with pytest.raises(ValidationError, match="theta"):
        lmu_language_model(V, 16, 1, order=10, theta=1)
    with pytest.raises(ValidationError, match="memory_mode"):
        lmu_language_model(V, 16, 1, order=10, theta=20, memory_mode="recurrent")
    t = transformer_language_model(V, 16, 1, max_len=8)
    with pytest.raises(ValidationError, match="max_len"):
        t(np.zeros((1, 9), dtype=np.int32))
    stream = recurrent_lm(t).reset(1)
    for _ in range(8):
        stream.step([1])
    with pytest.raises(ValidationError, match="max_len"):
        stream.step([1])
    with pytest.raises(ValidationError, match="tokens"):
        recurrent_lm(model).reset(1).step([300])
    with pytest.raises(ValidationError, match="n_heads"):
        transformer_language_model(V, 18, 1, n_heads=4)
    with pytest.raises(ValidationError, match="token_budget"):
        train_language_model(model, np.arange(200) % V, 10, 16, batch_size=2)


def test_generate_deterministic():
    model = sharpen(small_lmu(seed=5))
    stream = recurrent_lm(model)
    a = stream.generate([10, 20, 30], 12, temperature=1.0, seed=7)
    b = stream.generate([10, 20, 30], 12, temperature=1.0, seed=7)
    assert a.shape == (12,) and np.array_equal(a, b)
    greedy = stream.generate([10, 20, 30], 5, temperature=0)
    # greedy continuation = argmax of the parallel model, fed back
    seq = [10, 20, 30]
    for _ in range(5):
        seq.append(int(np.argmax(logits_of(model, [seq])[0, -1])))
    assert list(greedy) == seq[3:]


def test_schedule():
    s = WarmupCosine(1.0, warmup_steps=4, total_steps=12)
    got = np.array([float(s(k)) for k in range(13)])
    want = [k / 4 for k in range(4)] + [
        0.5 * (1 + np.cos(np.pi * (k - 4) / 8)) for k in range(4, 13)
    ]
    assert np.allclose(got, want, atol=1e-6)


def short_run(folder, **kw):
    """6 steps of a small LMU model on a fixed stream, checkpointed every 3."""
    stream = (np.arange(3000) * 7) % V
    kw = dict(
        dict(batch_size=8, lr=5e-3, progress=False, checkpoint_every=3, checkpoint_dir=folder),
        **kw,
    )
    return stream, train_language_model(
        small_lmu(seed=0, n_layers=1), stream, 8 * 16 * 6, 16, **kw
    )


def test_training_budget_checkpoint(tmp_path):
    stream = (np.arange(3000) * 7) % V
    model = small_lmu(seed=0, n_layers=1)
    before = evaluate_language_model(model, stream, 16, max_sequences=8)
    res = train_language_model(
        model,
        stream,
        8 * 16 * 6 + 100,
        16,
        batch_size=8,
        lr=5e-3,
        progress=False,
        checkpoint_dir=str(tmp_path),
        checkpoint_every=3,
        val=stream,
        eval_every=3,
    )
    assert res.steps == 6 and res.tokens == 8 * 16 * 6  # the budget's whole batches
    assert [v[0] for v in res.val_history] == [3, 6]
    after = evaluate_language_model(model, stream, 16, max_sequences=8)
    assert after.nats_per_token < before.nats_per_token - 0.05
    assert after.per_position.shape == (16,)
    assert sorted(os.listdir(tmp_path)) == ["ckpt-3.npz", "ckpt-6.npz", "model.json"]
    loaded = load_checkpoint(str(tmp_path))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)
    # the files get the user's umask (not a temporary file's 0600)
    umask = os.umask(0)
    os.umask(umask)
    for name in os.listdir(tmp_path):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o666 & ~umask


def test_resume_bit_for_bit(tmp_path):
    """Stopped after step 3 and resumed == the run straight through."""
    _, straight = short_run(str(tmp_path / "a"))
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    os.remove(tmp_path / "b" / "ckpt-6.npz")  # as if stopped after step 3
    _, resumed = short_run(str(tmp_path / "b"), resume=True)
    assert resumed.start_step == 3 and "step 3" in resumed.note
    a = checkpoint_arrays(straight.model)
    b = checkpoint_arrays(resumed.model)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a if k != "running_loss")
    assert resumed.final_train_loss == straight.final_train_loss
    with np.load(tmp_path / "a" / "ckpt-6.npz") as za, np.load(
        tmp_path / "b" / "ckpt-6.npz"
    ) as zb:
        assert za.files == zb.files and any(k.startswith("adam/m/") for k in za.files)
        assert all(np.array_equal(za[k], zb[k]) for k in za.files)


def test_resume_finished_changes_nothing(tmp_path):
    short_run(str(tmp_path))
    stamps = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    _, again = short_run(str(tmp_path), resume=True)
    assert "already finished" in again.note and again.tokens_per_second == 0
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == stamps
    loaded = load_checkpoint(str(tmp_path))
    for a, b in zip(loaded.get_weights(), again.model.get_weights()):
        assert np.array_equal(a, b)


def test_resume_refuses_another_model_or_run(tmp_path):
    stream, _ = short_run(str(tmp_path))
    stamps = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
    other = transformer_language_model(V, 16, 1, max_len=32, seed=0)
    with pytest.raises(ValidationError, match="resume.*kind: 'lmu' there, 'transformer' here"):
        train_language_model(
            other, stream, 8 * 16 * 6, 16, batch_size=8, lr=5e-3, progress=False,
            checkpoint_dir=str(tmp_path), resume=True,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="order: 12 there, 8 here"):
        train_language_model(
            small_lmu(seed=0, n_layers=1, order=8), stream, 8 * 16 * 6, 16, batch_size=8,
            lr=5e-3, progress=False, checkpoint_dir=str(tmp_path), resume=True,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="lr: 0.005 there, 0.001 here"):
        short_run(str(tmp_path), resume=True, lr=1e-3)
    # without resume, a folder that holds a run is refused
    with pytest.raises(ValidationError, match="checkpoint_dir.*resume=True"):
        short_run(str(tmp_path))
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == stamps


def test_errors_name_the_parameter(tmp_path):
    with pytest.raises(ValidationError) as e:
        lmu_language_model(0, 16, 1, order=8, theta=16)
    assert str(e.value).startswith("vocab_size: ")
    with pytest.raises(ValidationError) as e:
        load_checkpoint(str(tmp_path / "nonexistent"))
    assert str(e.value).startswith("checkpoint_dir: ")
    with pytest.raises(ValidationError, match="config"):
        language_model_from_config({"kind": "lmu", "d": 4})


# --- checkpoints carry a model between environments -------------------------

#: Small checkpoints written by `write_checkpoint_file` in each environment
#: (Keras 3 + JAX on Python 3.12; tf.keras 2.12 on the locked Python 3.11
#: stack), each with its tokens and logits: every environment loads every
#: one to the same logits and resumes it.
LM_CHECKPOINTS = sorted(DATA.glob("lm_checkpoint_*"))


def write_checkpoint_file(folder):
    """Train a tiny LMU model with global attention for 4 steps into
    ``folder/lm_checkpoint_<backend>_py<version>`` and write its tokens and
    logits there (``expected.npz``). Run ``python tests/test_language_model.py``
    in an environment to add its checkpoint to ``tests/data``."""
    import keras
    import nengo

    name = f"lm_checkpoint_{backend_name().replace('.', '')}_py{sys.version_info[0]}{sys.version_info[1]}"
    where = Path(folder) / name
    stream = (np.arange(2000) * 5) % V
    model = lmu_language_model(V, 8, 1, order=6, theta=10, global_attention=True, seed=0)
    train_language_model(
        model, stream, 4 * 4 * 16, 16, batch_size=4, lr=1e-2, progress=False,
        checkpoint_dir=str(where),
    )  # fmt: skip
    tokens = stream[None, 3:23]
    made_with = f"keras {keras.__version__} ({backend_name()}), numpy {np.__version__}, "
    made_with += f"nengo {nengo.__version__}, Python {sys.version.split()[0]}"
    np.savez(
        where / "expected.npz", made_with=made_with, tokens=tokens, logits=logits_of(model, tokens)
    )
    return where


@pytest.mark.parametrize("folder", LM_CHECKPOINTS, ids=lambda p: p.name)
def test_checkpoints_from_every_environment_load_here(folder, tmp_path):
    with np.load(folder / "expected.npz") as z:
        info = {k: z[k] for k in z.files}
    info["made_with"] = str(info["made_with"])
    model = load_checkpoint(str(folder))
    got = logits_of(model, info["tokens"])
    assert np.allclose(got, info["logits"], atol=1e-4), info["made_with"]
    stepped = recurrent_lm(model).run(info["tokens"])
    assert np.allclose(stepped, info["logits"], atol=1e-3), info["made_with"]
    # a finished run resumes here without change (its model and settings match)
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    record = json.loads((copy / "model.json").read_text())
    run = record["run"]
    again = train_language_model(
        load_checkpoint(str(copy)), (np.arange(2000) * 5) % V, run["token_budget"],
        run["seq_len"], batch_size=run["batch_size"], lr=run["lr"], warmup=run["warmup"],
        seed=run["seed"], progress=False, checkpoint_dir=str(copy), resume=True,
    )  # fmt: skip
    assert "already finished" in again.note


def test_checkpoints_come_from_both_stacks():
    names = [p.name for p in LM_CHECKPOINTS]
    assert any("jax" in n or "torch" in n for n in names), names
    assert any("tfkeras" in n for n in names), names


@pytest.mark.skipif(not uses_tensorflow(), reason="MultiWorkerMirroredStrategy: TensorFlow")
def test_multiworker_equals_single_worker(tmp_path):
    """Two local workers under MultiWorkerMirroredStrategy == one worker."""
    data = np.random.default_rng(0).integers(0, V, 4000)
    config = small_lmu(global_attention=True, seed=3, n_layers=1, order=8).config
    budget, seq_len, batch = 32 * 8 * 4, 32, 8
    two = train_multiworker(
        config,
        data,
        budget,
        seq_len,
        batch,
        n_workers=2,
        seed=1,
        model_seed=3,
        workdir=str(tmp_path),
    )
    one = language_model_from_config(config, seed=3)
    start = one.get_weights()
    train_language_model(one, data, budget, seq_len, batch, seed=1, progress=False)
    moved = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), start))
    diff = max(np.abs(a - b).max() for a, b in zip(one.get_weights(), two))
    assert moved > 1e-3
    assert diff < 1e-5


DATA_PARALLEL = """
import jax, keras, numpy as np
from nengo_lmu.dl import language_model_from_config, lmu_language_model, train_language_model
from nengo_lmu.dl.lm_checkpoints import checkpoint_arrays
assert len(jax.devices()) == 2, jax.devices()
data = np.random.default_rng(0).integers(0, 257, 4000)
config = lmu_language_model(257, 16, 1, 8, 16, global_attention=True, seed=3).config
run = dict(token_budget=32 * 8 * 4, seq_len=32, batch_size=8, seed=1, progress=False)
two = train_language_model(
    lambda: language_model_from_config(config, seed=3), data, **run,
    distribution=keras.distribution.DataParallel(devices=jax.devices()),
)
assert "batch" in str(two.model.embedding.embeddings.value.sharding)
one = language_model_from_config(config, seed=3)
start = checkpoint_arrays(one)
train_language_model(one, data, **run)
a, b = checkpoint_arrays(one), checkpoint_arrays(two.model)
names = [k for k in a if k.startswith("model/")]
print(max(np.abs(a[k] - start[k]).max() for k in names), max(np.abs(a[k] - b[k]).max() for k in names))
"""


@pytest.mark.skipif(backend_name() != "jax", reason="keras.distribution: JAX")
def test_data_parallel_equals_one_device():
    """Two (host) devices under keras.distribution.DataParallel == one."""
    import subprocess

    env = dict(os.environ, KERAS_BACKEND="jax")
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    out = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-3000:]
    moved, diff = map(float, out.stdout.split()[-2:])
    assert moved > 1e-3 and diff < 1e-5


def test_cli_train_lm_and_generate(tmp_path, capsys):
    from nengo_lmu.apps.cli import main

    ck = tmp_path / "ck"
    args = [
        "train-lm",
        "--checkpoint",
        str(ck),
        "--max-files",
        "20",
        "--tokens",
        "4096",
        "--seq-len",
        "32",
        "--params",
        "2000",
        "--order",
        "8",
        "--theta",
        "16",
        "--no-progress",
        "--checkpoint-every",
        "4",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.split()[:1] == ["lmu"])
    nats = float(row.split()[-2])
    assert 0 < nats < np.log(V) + 0.5
    assert (ck / "model.json").exists()
    # refuses to overwrite without --force
    assert main(args) == 2
    assert "holds a run" in capsys.readouterr().err
    out_file = tmp_path / "gen.txt"
    gen = [
        "generate",
        "def ",
        "--checkpoint",
        str(ck),
        "--tokens",
        "12",
        "--seed",
        "3",
        "--output",
        str(out_file),
    ]
    assert main(gen) == 0
    text = out_file.read_text()
    assert text.startswith("def ") and len(text.encode("utf-8", "replace")) >= 4
    assert main(gen) == 2
    assert main(gen + ["--force"]) == 0
    assert out_file.read_text() == text  # same seed, same text


def test_train_lm_options_are_the_settings_fields(capsys, tmp_path):
    import dataclasses

    from nengo_lmu.apps.cli import build_parser
    from nengo_lmu.apps.cli.common import settings_from_args
    from nengo_lmu.apps.cli.language_model import train_lm_settings
    from nengo_lmu.apps.experiments.settings import TrainLMSettings, quick_values

    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["train-lm"]
    flags = {f for a in sub._actions for f in a.option_strings} - {"-h", "--help"}
    fields = {"--" + f.name.replace("_", "-") for f in dataclasses.fields(TrainLMSettings)}
    fields = fields - {"--progress"} | {"--no-progress"}
    assert flags == fields | {"--resume", "--force", "--quick"}
    defaults = settings_from_args(TrainLMSettings, parser.parse_args(["train-lm"]))
    assert defaults == TrainLMSettings()
    quick = train_lm_settings(parser.parse_args(["train-lm", "--quick", "--order", "8"]))
    assert quick == dataclasses.replace(
        TrainLMSettings(), order=8, **quick_values(TrainLMSettings)
    )
    # the flags are named in the errors, before any work
    from nengo_lmu.apps.cli import main

    assert main(["train-lm", "--theta", "1", "--checkpoint", str(tmp_path / "a")]) == 2
    assert "--theta: must be > 1 token" in capsys.readouterr().err
    assert main(["generate", "x", "--checkpoint", str(tmp_path / "nonexistent")]) == 2
    err = capsys.readouterr().err
    assert "--checkpoint: " in err and "str." not in err
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("command", ["train-lm", "generate"])
def test_cli_help_for_every_option(command):
    from nengo_lmu.apps.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices[command]
    text = sub.format_help()
    for action in sub._actions:
        for flag in action.option_strings:
            assert flag in text
        assert action.help and len(action.help) > 5, action.dest


if __name__ == "__main__":
    print(write_checkpoint_file(DATA))
