"""``nengo-lmu train-lmuformer``: the LMUFormers against the LMU and an LSTM
on spoken keywords."""

from nengo_lmu.apps.cli.common import (
    FLAG,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    add_command,
    quiet_tensorflow,
)


def add_train_lmuformer_parser(sub):
    from nengo_lmu.apps.augment import PRESETS  # light: numpy only
    from nengo_lmu.apps.experiments.lmuformer import MODELS  # light: no TensorFlow

    options = (
        (
            "--keywords",
            None,
            None,
            "comma-separated Speech Commands words (default: all 35)",
        ),
        ("--n-train", POSITIVE_INT, 40, "training clips per keyword"),
        ("--n-test", POSITIVE_INT, 12, "test clips per keyword (unseen voices)"),
        ("--n-mels", POSITIVE_INT, 20, None),
        ("--dim", POSITIVE_INT, 32, None),
        ("--epochs", POSITIVE_INT, 30, None),
        ("--seeds", int, [0], None, dict(nargs="+")),
        ("--models", None, list(MODELS), None, dict(nargs="+", choices=MODELS)),
        ("--learning-rate", POSITIVE_FLOAT, 3e-3, None),
        (
            "--augment",
            tuple(PRESETS),
            "none",
            "augmentation of the training features (nengo_lmu.apps.augment.PRESETS)",
        ),
        (
            "--stream-clips",
            POSITIVE_INT,
            None,
            "test clips streamed frame by frame (default: all)",
        ),
        (
            "--stream-dtype",
            ("float32", "float64"),
            "float32",
            "precision of the streamed run (float64: spike for spike)",
        ),
        (
            "--out",
            None,
            "lmuformer-results",
            "folder for model/, results.json and frames.png",
        ),
        ("--cache-dir", None, None, "cache of generated data"),
        ("--force", FLAG, None, "overwrite existing outputs in --out"),
        ("--no-progress", FLAG, None, "hide the progress bar"),
    )
    add_command(
        sub,
        "train-lmuformer",
        train_lmuformer_command,
        options,
        show_defaults=False,
        help="LMUFormer and spiking LMUFormer vs LMU and LSTM on spoken keywords",
        description="Synthesise spoken keywords (eSpeak NG; the test split uses "
        "unseen voices), train the LMUFormers (causal and with the published "
        "look-ahead), the plain LMU and an LSTM, stream the causal LMUFormers "
        "frame by frame as Nengo networks, and save the model, the results and "
        "the accuracy-vs-frames plot.",
    )


def train_lmuformer_command(args):
    import json
    import os

    quiet_tensorflow()
    from nengo.exceptions import ValidationError

    from nengo_lmu.tables import format_table

    outputs = {
        name: os.path.join(args.out, name) for name in ("model", "results.json", "frames.png")
    }
    existing = [p for p in outputs.values() if os.path.exists(p)]
    if existing and not args.force:
        raise ValidationError(f"would overwrite {existing} (use --force)", attr="out")
    keywords = (
        None
        if args.keywords is None
        else [k.strip() for k in args.keywords.split(",") if k.strip()]
    )

    from tqdm import tqdm

    from nengo_lmu.apps.augment import PRESETS
    from nengo_lmu.apps.experiments.lmuformer import compare_lmuformer, plot_frame_accuracy
    from nengo_lmu.dl.lmuformer import save_lmuformer

    bar = tqdm(
        total=len(args.models) * len(args.seeds),
        disable=args.no_progress,
        desc="training",
        unit="model",
    )

    def progress(done, total, label):
        bar.set_postfix_str(label)
        bar.update(1)

    result = compare_lmuformer(
        keywords=keywords,
        n_train=args.n_train,
        n_test=args.n_test,
        n_mels=args.n_mels,
        dim=args.dim,
        epochs=args.epochs,
        seeds=args.seeds,
        models=args.models,
        learning_rate=args.learning_rate,
        stream_clips=args.stream_clips,
        stream_dtype=args.stream_dtype,
        cache_dir=args.cache_dir,
        augmentation=PRESETS[args.augment],
        progress=progress,
        keep_models=True,
    )
    bar.close()
    print(format_table(*result.table()))
    print(
        f"\n{result.n_train} training clips, {result.n_test} test clips of unseen "
        f"voices, {result.settings['n_far']} 'far' clips (unseen voices at rates and "
        f"pitches outside training's), {result.n_frames} frames each; "
        f"{result.seconds:.0f} s in all."
    )
    os.makedirs(args.out, exist_ok=True)
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
