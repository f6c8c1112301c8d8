"""``nengo-lmu train-lm`` and ``nengo-lmu generate``: the LMU language model
(seed 003) and its transformer baseline."""

import os

from nengo_lmu.apps.cli import common

#: train-lm's values in a quick run (options given on the command line keep
#: their values)
TRAIN_LM_QUICK = dict(max_files=40, tokens=20_000, seq_len=64, params=10_000)
TRAIN_LM_DEFAULTS = dict(max_files=None, tokens=200_000, seq_len=256, params=20_000)

TRAIN_LM_OPTIONS = (
    (
        "--model",
        ("lmu", "lmu_global", "transformer"),
        "lmu",
        "the LMU model, the same with global attention, or the transformer",
    ),
    (
        "--params",
        common.POSITIVE_INT,
        None,
        "non-embedding parameters (d = sqrt(N/24)) (default 20000; 10000 with --quick)",
    ),
    (
        "--tokens",
        common.POSITIVE_INT,
        None,
        "training token budget (default 200000; 20000 with --quick)",
    ),
    ("--seq-len", common.POSITIVE_INT, None, "bytes per sequence (default 256; 64 with --quick)"),
    ("--batch-size", common.POSITIVE_INT, 8, "sequences per training step"),
    ("--order", common.POSITIVE_INT, 40, "LMU memory order q"),
    ("--theta", common.POSITIVE_FLOAT, 128, "LMU memory window in tokens"),
    ("--lr", common.POSITIVE_FLOAT, 3e-3, "peak learning rate"),
    ("--seed", common.NONNEGATIVE_INT, 0, "seed of the initial weights and the batch order"),
    ("--data", None, None, "a directory of text files (default: the Python standard library)"),
    (
        "--max-files",
        common.POSITIVE_INT,
        None,
        "use only this many files of the corpus (default all; 40 with --quick)",
    ),
    ("--checkpoint", None, "lm_checkpoint", "checkpoint directory"),
    ("--checkpoint-every", common.POSITIVE_INT, 100, "steps between checkpoints"),
    ("--resume", common.FLAG, None, "continue the run saved in --checkpoint (same settings)"),
    (
        "--force",
        common.FLAG,
        None,
        "replace the run in --checkpoint (only a folder train-lm wrote, holding nothing else)",
    ),
    ("--no-progress", common.FLAG, None, "no progress bar"),
    (
        "--quick",
        common.FLAG,
        None,
        "a tiny run (40 files, 20k tokens, 64-token sequences, 10k parameters); "
        "options given explicitly keep their values",
    ),
)

GENERATE_OPTIONS = (
    ("--checkpoint", None, "lm_checkpoint", "directory written by train-lm"),
    ("--tokens", common.POSITIVE_INT, 200, "bytes to generate"),
    (
        "--temperature",
        common.NONNEGATIVE_FLOAT,
        0.8,
        "sampling temperature (0: always the most likely byte)",
    ),
    ("--seed", common.NONNEGATIVE_INT, 0, "seed of the sampling"),
    ("--output", None, None, "also write prompt + text to this file"),
)


def add_lm_parsers(sub):
    common.add_command(
        sub,
        "train-lm",
        train_lm_command,
        TRAIN_LM_OPTIONS,
        help="train the LMU language model (or its transformer baseline) on text",
        description=(
            "Train seed 003's LMU language model, with or without global attention, "
            "or a transformer of the same non-embedding size, on byte-level text (the "
            "Python standard library's source, or the files of --data) for a token "
            "budget; print the validation loss in nats and bits per byte; save "
            "checkpoints that 'nengo-lmu generate' reads."
        ),
    )

    common.add_command(
        sub,
        "generate",
        generate_command,
        GENERATE_OPTIONS,
        force=True,
        positionals=[("prompt", "text to continue")],
        help="continue a text prompt with a model trained by train-lm",
        description="Load a train-lm checkpoint and continue the prompt token by token "
        "(the LMU model runs as a recurrent stepper with constant memory).",
    )


#: the files train-lm writes in its checkpoint folder besides the marker
CHECKPOINT_FILES = ("checkpoint", "ckpt-", "model.json")
#: the settings of a train-lm run that a resume must repeat
RUN_SETTINGS = (
    "model", "params", "tokens", "seq_len", "batch_size", "order", "theta", "lr", "seed",
    "data", "max_files",
)  # fmt: skip


def train_lm_settings(args):
    """The run's settings from parsed ``args``: each option given, else its
    quick value with ``--quick``, else its default."""
    for name, default in TRAIN_LM_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, TRAIN_LM_QUICK[name] if args.quick else default)
    settings = {name: getattr(args, name) for name in RUN_SETTINGS}
    if settings["data"] is not None:
        settings["data"] = os.path.abspath(settings["data"])
    return settings


def train_lm_command(args):
    from nengo.exceptions import ValidationError

    from nengo_lmu.apps.experiments.outputs import (
        clear_own_folder,
        plan_run_folder,
        read_marker,
        write_marker,
    )

    settings = train_lm_settings(args)
    per_step = settings["batch_size"] * settings["seq_len"]
    if settings["tokens"] < per_step:
        raise ValidationError(
            f"must cover at least one batch (--batch-size {settings['batch_size']} x "
            f"--seq-len {settings['seq_len']} = {per_step} tokens), got {settings['tokens']}",
            attr="--tokens",
        )
    if settings["data"] is not None and not os.path.isdir(settings["data"]):
        raise ValidationError(f"{args.data!r} is not a folder of text files", attr="--data")
    plan = plan_run_folder(
        args.checkpoint,
        "train-lm",
        settings,
        resume=args.resume,
        force=args.force,
        own=CHECKPOINT_FILES,
    )
    if plan == "resume" and read_marker(args.checkpoint).get("finished"):
        print(
            f"the run in {args.checkpoint} has already finished "
            f"({settings['tokens']} tokens); nothing changed"
        )
        return 0
    if plan == "replace":
        clear_own_folder(args.checkpoint, CHECKPOINT_FILES)
    record = dict(kind="train-lm", settings=settings, finished=False)
    write_marker(args.checkpoint, record)
    common.interrupt_note(
        f"the checkpoints saved every {args.checkpoint_every} steps are in "
        f"{args.checkpoint} (continue with --resume)"
    )
    common.quiet_tensorflow()
    from nengo_lmu.apps.experiments.language_model import train_lm
    from nengo_lmu.tables import format_table

    out = train_lm(
        settings["model"],
        settings["params"],
        settings["tokens"],
        settings["seq_len"],
        settings["batch_size"],
        settings["order"],
        settings["theta"],
        settings["lr"],
        settings["seed"],
        args.data,
        settings["max_files"],
        args.checkpoint,
        args.checkpoint_every,
        progress=not args.no_progress,
    )
    write_marker(args.checkpoint, dict(record, finished=True))
    t = out.train
    print(f"corpus: {out.corpus}")
    print(
        format_table(
            [
                "model",
                "N (non-embedding)",
                "tokens",
                "seconds",
                "tokens/s",
                "val nats/byte",
                "val bits/byte",
            ],
            [
                (
                    out.model_kind,
                    out.params,
                    t.tokens,
                    t.seconds,
                    t.tokens_per_second,
                    out.val_nats_per_byte,
                    out.val_bits_per_byte,
                )
            ],
        )
    )
    print(f"checkpoint written to {args.checkpoint} (nengo-lmu generate --checkpoint reads it)")
    return 0


def generate_command(args):
    from nengo.exceptions import ValidationError

    from nengo_lmu.apps.experiments.outputs import MARKER, check_output_path

    if not os.path.isdir(args.checkpoint):
        raise ValidationError(
            f"{args.checkpoint!r} is not a folder written by train-lm", attr="--checkpoint"
        )
    if not os.path.exists(os.path.join(args.checkpoint, "model.json")):
        raise ValidationError(
            f"{args.checkpoint!r} holds no train-lm checkpoint (no model.json or {MARKER})",
            attr="--checkpoint",
        )
    output = check_output_path(
        args.output, force=args.force, what="generated text", attr="--output"
    )
    common.quiet_tensorflow()
    from nengo_lmu.apps.experiments.language_model import generate_text

    text = generate_text(args.checkpoint, args.prompt, args.tokens, args.temperature, args.seed)
    print(args.prompt + text)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(args.prompt + text)
        print(f"\ntext written to {output}")
    return 0
