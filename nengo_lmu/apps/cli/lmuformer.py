"""``nengo-lmu train-lmuformer``: the LMUFormers against the LMU and an LSTM
on spoken keywords.

With ``--checkpoint DIR`` every model and seed trains in its own sub-folder
of ``DIR``, with a checkpoint every epoch; an interrupted command continues
with ``--resume`` (the same settings), which reads the finished runs back.
"""

import os

from nengo_lmu.apps.cli.common import (
    FLAG,
    add_command,
    interrupt_note,
    quiet_tensorflow,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.settings import (
    LMUFORMER_MODELS,
    LMUFormerSettings,
    quick_values,
)

#: train-lmuformer's options: LMUFormerSettings' fields, --quick, --resume and
#: --no-progress
LMUFORMER_OPTIONS = settings_options(LMUFormerSettings) + (
    (
        "--quick",
        FLAG,
        None,
        "the default data with fewer epochs ({epochs}; {finetune_epochs} for the spiking "
        "models) and {stream_clips} streamed clips; options given explicitly keep their "
        "values".format(**quick_values(LMUFormerSettings)),
    ),
    (
        "--resume",
        FLAG,
        None,
        "continue the comparison saved in --checkpoint (same settings; finished runs "
        "are read back)",
    ),
    ("--no-progress", FLAG, None, "hide the progress bar"),
)

#: the run folders train-lmuformer writes in its checkpoint folder, by prefix
RUN_FOLDERS = tuple(f"{name}-seed" for name in LMUFORMER_MODELS)
#: the files a run folder holds (prefixes)
RUN_FILES = ("ckpt-", "model.json", "run.json")


def add_train_lmuformer_parser(sub):
    add_command(
        sub,
        "train-lmuformer",
        train_lmuformer_command,
        LMUFORMER_OPTIONS,
        force=True,
        help="LMUFormer and spiking LMUFormer vs LMU and LSTM on spoken keywords",
        description="Synthesise spoken keywords (eSpeak NG; the test split uses "
        "unseen voices), train the LMUFormers (causal and with the published "
        "look-ahead), the plain LMU and an LSTM, stream the causal LMUFormers "
        "frame by frame as Nengo networks, and save the model, the results and "
        "the accuracy-vs-frames plot. Runs on Keras 3 (KERAS_BACKEND=jax, torch "
        "or tensorflow) or on tf.keras 2.12. With --checkpoint, each model and seed "
        "saves a checkpoint every epoch, and --resume continues an interrupted run "
        "(--force replaces the checkpoint folder's run).",
    )


def _clear_runs(folder):
    """Remove the run folders of a checkpoint folder that `plan_run_folder`
    allowed to be replaced, and its marker; refuse (before removing anything)
    where a run folder holds files train-lmuformer did not write."""
    from nengo.exceptions import ValidationError

    from nengo_lmu.apps.experiments.outputs import clear_own_folder

    runs = [
        os.path.join(folder, n)
        for n in os.listdir(folder)
        if n.startswith(RUN_FOLDERS) and os.path.isdir(os.path.join(folder, n))
    ]
    for run in runs:
        foreign = [n for n in os.listdir(run) if not n.startswith(RUN_FILES)]
        if foreign:
            raise ValidationError(
                f"{run!r} holds files that train-lmuformer did not write ({', '.join(foreign[:5])}); "
                "--force replaces only a run's own files: choose another folder",
                attr="--checkpoint",
            )
    for run in runs:
        clear_own_folder(run, RUN_FILES)
        os.rmdir(run)
    clear_own_folder(folder, RUN_FOLDERS)


def _plan_checkpoint(args, settings):
    """Check --checkpoint (and --resume) before any work; returns False where
    the comparison there has finished already (nothing to do)."""
    from nengo.exceptions import ValidationError

    from nengo_lmu.apps.experiments.outputs import begin_run

    folder = settings.checkpoint
    if folder is None:
        if args.resume:
            raise ValidationError("needs --checkpoint (the folder of the run)", attr="--resume")
        return True
    run = settings.run_settings()
    own = dict(own=RUN_FOLDERS, clear=_clear_runs)
    if begin_run(folder, "train-lmuformer", run, args.resume, args.force, **own) == "finished":
        print(
            f"the comparison in {folder} has already finished (results in {settings.out}); "
            "nothing changed"
        )
        return False
    interrupt_note(
        f"the finished runs and the last completed epoch of the interrupted one are in "
        f"{folder} (continue with --resume)"
    )
    return True


def train_lmuformer_command(args):
    import json

    quiet_tensorflow()
    from nengo.exceptions import ValidationError

    settings = settings_from_args(LMUFormerSettings, args, quick=args.quick)
    outputs = {
        name: os.path.join(settings.out, name) for name in ("model", "results.json", "frames.png")
    }
    from nengo_lmu.apps.experiments.outputs import read_marker

    finished = args.resume and settings.checkpoint is not None
    finished = finished and (read_marker(settings.checkpoint) or {}).get("finished")
    existing = [p for p in outputs.values() if os.path.exists(p)]
    if existing and not args.force and not finished:
        raise ValidationError(f"would overwrite {existing} (use --force)", attr="out")
    if not _plan_checkpoint(args, settings):
        return 0

    from tqdm import tqdm

    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer, plot_frame_accuracy
    from nengo_lmu.dl.lmuformer_weights import save_lmuformer

    bar = tqdm(
        total=len(settings.models) * len(settings.seeds),
        disable=args.no_progress,
        desc="training",
        unit="model",
    )

    def progress(done, total, label):
        bar.total = total  # the models spiking ones start from may be added
        bar.set_postfix_str(label)
        bar.update(1)

    result = compare_lmuformer(settings, progress=progress, keep_models=True, resume=args.resume)
    bar.close()
    print(result.report)
    os.makedirs(settings.out, exist_ok=True)
    with open(outputs["results.json"], "w", encoding="utf-8") as f:
        json.dump(result.to_dict(), f, indent=1)
    saved = [outputs["results.json"]]
    model = next(
        (
            result.keras_models[m]
            for m in ("lmuformer", "spiking_lmuformer")
            if m in result.keras_models
        ),
        None,
    )
    if model is not None:
        save_lmuformer(model, outputs["model"], overwrite=True)
        saved.append(outputs["model"])
    if any(r.frame_accuracy is not None for r in result.runs):
        plot_frame_accuracy(result, outputs["frames.png"])
        saved.append(outputs["frames.png"])
    if settings.checkpoint is not None:
        from nengo_lmu.apps.experiments.outputs import finish_run

        finish_run(settings.checkpoint, "train-lmuformer", settings.run_settings())
    print("Saved " + ", ".join(saved))
    return 0
