"""``nengo-lmu train-lmuformer``: the LMUFormers against the LMU and an LSTM
on spoken keywords."""

from nengo_lmu.apps.cli.common import (
    FLAG,
    add_command,
    quiet_tensorflow,
    settings_from_args,
    settings_options,
)
from nengo_lmu.apps.experiments.settings import LMUFormerSettings, quick_values

#: train-lmuformer's options: LMUFormerSettings' fields, --quick and --no-progress
LMUFORMER_OPTIONS = settings_options(LMUFormerSettings) + (
    (
        "--quick",
        FLAG,
        None,
        "the default data with fewer epochs ({epochs}; {finetune_epochs} for the spiking "
        "models) and {stream_clips} streamed clips; options given explicitly keep their "
        "values".format(**quick_values(LMUFormerSettings)),
    ),
    ("--no-progress", FLAG, None, "hide the progress bar"),
)


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
        "or tensorflow) or on tf.keras 2.12.",
    )


def train_lmuformer_command(args):
    import json
    import os

    quiet_tensorflow()
    from nengo.exceptions import ValidationError

    settings = settings_from_args(LMUFormerSettings, args, quick=args.quick)
    outputs = {
        name: os.path.join(settings.out, name) for name in ("model", "results.json", "frames.png")
    }
    existing = [p for p in outputs.values() if os.path.exists(p)]
    if existing and not args.force:
        raise ValidationError(f"would overwrite {existing} (use --force)", attr="out")

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

    result = compare_lmuformer(settings, progress=progress, keep_models=True)
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
    print("Saved " + ", ".join(saved))
    return 0
