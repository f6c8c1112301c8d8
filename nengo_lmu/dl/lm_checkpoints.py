"""The checkpoint folders of `.train_language_model`: format, saving, loading, resuming.

Checkpoints are backend-neutral: ``model.json`` (the model's kind and
configuration, and the run's settings) and ``ckpt-<step>.npz`` files with
every weight and Adam slot under the names of
`.LanguageModel.named_weights`, so a checkpoint written on Keras 3 with JAX
loads on tf.keras 2.12 and the reverse. A resume must repeat the model and
the run's settings (a `ValidationError` names both otherwise); resuming a
finished run changes nothing and says so.

The same folders serve `nengo_lmu.dl.lmuformer_training` (a checkpoint per
epoch): the functions that read or write ``model.json`` take the ``fmt``
that it must say it is, and any object with ``kind``, ``config``,
``named_weights()`` and ``trainable_variables`` stands for the model.
"""

import json
import os
import tempfile

import numpy as np
from nengo.exceptions import ValidationError

from nengo_lmu.dl.compat import adam_slots, assign, standard_dtype, to_numpy
from nengo_lmu.dl.language_model import language_model_from_config

#: what ``model.json`` of a checkpoint folder says it is
CHECKPOINT_FORMAT = "nengo_lmu language-model checkpoint"
CHECKPOINT_VERSION = 1
#: the run's settings a resume must repeat
RUN_KEYS = ("token_budget", "seq_len", "batch_size", "lr", "warmup", "seed")
#: checkpoints kept in a folder (the newest ones)
KEEP_CHECKPOINTS = 2


def _checkpoint_files(checkpoint_dir):
    """``[(step, path)]`` of the ``ckpt-<step>.npz`` files, oldest first."""
    if not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in os.listdir(checkpoint_dir):
        stem = name[len("ckpt-") : -len(".npz")]
        if name.startswith("ckpt-") and name.endswith(".npz") and stem.isdigit():
            found.append((int(stem), os.path.join(checkpoint_dir, name)))
    return sorted(found)


def read_record(checkpoint_dir, attr="checkpoint_dir", fmt=CHECKPOINT_FORMAT):
    """The ``model.json`` of a checkpoint folder (a `ValidationError` naming
    ``attr`` where there is none, or it is not a checkpoint's of format
    ``fmt``)."""
    if not os.path.isdir(checkpoint_dir):
        raise ValidationError(f"must be a checkpoint folder, got {checkpoint_dir!r}", attr=attr)
    path = os.path.join(checkpoint_dir, "model.json")
    if not os.path.exists(path):
        raise ValidationError(f"holds no model.json: {checkpoint_dir!r}", attr=attr)
    with open(path) as f:
        record = json.load(f)
    if record.get("format") != fmt:
        raise ValidationError(
            f"{path!r} is not the model.json of a {fmt!r} (its format is "
            f"{record.get('format')!r})",
            attr=attr,
        )
    return record


def _write_atomic(path, write):
    """``write(f)`` into ``path`` through a temporary file in the same folder
    (opened normally, so the file gets the user's umask)."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_record(checkpoint_dir, model, run, fmt=CHECKPOINT_FORMAT):
    """Write ``model.json``: the format ``fmt``, the model's kind and
    configuration, the run's settings."""
    os.makedirs(checkpoint_dir, exist_ok=True)
    record = dict(
        format=fmt,
        version=CHECKPOINT_VERSION,
        kind=model.kind,
        config=model.config,
        run=run,
    )
    text = json.dumps(record, indent=1).encode()
    _write_atomic(os.path.join(checkpoint_dir, "model.json"), lambda f: f.write(text))


def checkpoint_arrays(model, optimizer=None, step=0, running=None):
    """``{name: array}``: every weight (``model/<name>``) and, with an
    ``optimizer``, its Adam slots (``adam/m/<name>``, ``adam/v/<name>``,
    ``adam/iterations``), the step and the running loss."""
    out = {f"model/{name}": to_numpy(v) for name, v in model.named_weights()}
    out["step"] = np.array(step, dtype=np.int64)
    out["running_loss"] = np.array(np.nan if running is None else running)
    if optimizer is not None:
        iterations, ms, vs = adam_slots(optimizer)
        names = {id(v): name for name, v in model.named_weights()}
        for var, m, v in zip(model.trainable_variables, ms, vs):
            out[f"adam/m/{names[id(var)]}"] = to_numpy(m)
            out[f"adam/v/{names[id(var)]}"] = to_numpy(v)
        out["adam/iterations"] = np.array(to_numpy(iterations), dtype=np.int64)
    return out


def save_checkpoint(checkpoint_dir, model, optimizer, step, running=None, extra=None):
    """Write ``ckpt-<step>.npz`` (`checkpoint_arrays`, and the arrays of the
    dict ``extra``) and keep the newest `KEEP_CHECKPOINTS`."""
    arrays = checkpoint_arrays(model, optimizer, step, running)
    arrays.update(extra or {})
    path = os.path.join(checkpoint_dir, f"ckpt-{step}.npz")
    _write_atomic(path, lambda f: np.savez(f, **arrays))
    for _, old in _checkpoint_files(checkpoint_dir)[:-KEEP_CHECKPOINTS]:
        os.remove(old)
    return path


def restore_checkpoint(path, model, optimizer=None):
    """Load the arrays of ``path`` into ``model`` (and the Adam slots into
    ``optimizer``); returns ``(step, running loss)``."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    named = model.named_weights()
    missing = [name for name, _ in named if f"model/{name}" not in arrays]
    if missing:
        raise ValidationError(
            f"{path!r} lacks the weights {', '.join(missing[:5])}: another model's checkpoint",
            attr="checkpoint_dir",
        )
    for name, v in named:
        value = arrays[f"model/{name}"]
        if tuple(value.shape) != tuple(v.shape):
            raise ValidationError(
                f"{path!r}: weight {name} has shape {value.shape}, the model's {tuple(v.shape)}",
                attr="checkpoint_dir",
            )
        assign(v, value)
    if optimizer is not None and "adam/iterations" in arrays:
        names = {id(v): name for name, v in named}
        iterations, ms, vs = adam_slots(optimizer)
        for var, m, v in zip(model.trainable_variables, ms, vs):
            assign(m, arrays[f"adam/m/{names[id(var)]}"])
            assign(v, arrays[f"adam/v/{names[id(var)]}"])
        assign(iterations, arrays["adam/iterations"].astype(standard_dtype(iterations.dtype)))
    running = float(arrays["running_loss"])
    return int(arrays["step"]), (None if np.isnan(running) else running)


def _differences(saved, now):
    return [
        f"{k}: {saved.get(k)!r} there, {now.get(k)!r} here"
        for k in now
        if saved.get(k) != now.get(k)
    ]


def check_resume(record, model, run, checkpoint_dir):
    """Refuse to resume a checkpoint of another model or run: a
    `ValidationError` that names the saved and the given settings."""
    config = dict(model.config, kind=model.kind)
    saved_config = dict(record.get("config", {}), kind=record.get("kind"))
    changed = _differences(saved_config, config) + _differences(record.get("run", {}), run)
    if changed:
        raise ValidationError(
            f"{checkpoint_dir!r} holds a run of another model or settings ("
            + "; ".join(changed)
            + "): resume it with its own, or train into another folder",
            attr="resume",
        )


def newest_checkpoint(checkpoint_dir):
    """The path of the newest ``ckpt-<step>.npz`` in ``checkpoint_dir`` (None
    where there is none)."""
    files = _checkpoint_files(checkpoint_dir)
    return files[-1][1] if files else None


def load_checkpoint(checkpoint_dir):
    """Rebuild the model saved by `train_language_model` in ``checkpoint_dir``
    (its newest checkpoint), on whatever backend runs here."""
    record = read_record(checkpoint_dir)
    files = _checkpoint_files(checkpoint_dir)
    if not files:
        raise ValidationError(f"holds no checkpoint: {checkpoint_dir!r}", attr="checkpoint_dir")
    model = language_model_from_config(dict(record["config"], kind=record["kind"]))
    restore_checkpoint(files[-1][1], model)
    return model


def open_checkpoints(checkpoint_dir, model, optimizer, run, resume, chief, fmt=CHECKPOINT_FORMAT):
    """Check ``checkpoint_dir`` and restore from it where resuming: returns
    ``(start step, running loss, folder to write or None)``; ``model.json``
    must say (and is written to say) it is of the format ``fmt``."""
    if checkpoint_dir is None:
        return 0, None, None
    files = _checkpoint_files(checkpoint_dir)
    has_record = os.path.exists(os.path.join(checkpoint_dir, "model.json"))
    start, running = 0, None
    if files or has_record:
        if not resume:
            raise ValidationError(
                f"{checkpoint_dir!r} holds a run already: pass resume=True to continue it, "
                "or train into another folder",
                attr="checkpoint_dir",
            )
        check_resume(read_record(checkpoint_dir, fmt=fmt), model, run, checkpoint_dir)
        if files:
            start, running = restore_checkpoint(files[-1][1], model, optimizer)
    where = checkpoint_dir if chief else tempfile.mkdtemp(prefix="lm_worker_ckpt")
    if not has_record:
        write_record(where, model, run, fmt=fmt)
    return start, running, where


__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "RUN_KEYS",
    "KEEP_CHECKPOINTS",
    "read_record",
    "write_record",
    "checkpoint_arrays",
    "save_checkpoint",
    "restore_checkpoint",
    "check_resume",
    "newest_checkpoint",
    "load_checkpoint",
    "open_checkpoints",
]
