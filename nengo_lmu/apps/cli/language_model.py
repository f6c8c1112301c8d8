"""``nengo-lmu train-lm`` and ``nengo-lmu generate``: the LMU language model
(seed 003) and its transformer baseline."""

import os
from dataclasses import replace

from nengo_lmu.apps.cli import common
from nengo_lmu.apps.cli.common import settings_from_args, settings_options
from nengo_lmu.apps.experiments.settings import TrainLMSettings, quick_values

#: train-lm's options: TrainLMSettings' fields, and what the command does
#: with its checkpoint folder
TRAIN_LM_OPTIONS = settings_options(TrainLMSettings) + (
    ("--resume", common.FLAG, None, "continue the run saved in --checkpoint (same settings)"),
    (
        "--force",
        common.FLAG,
        None,
        "replace the run in --checkpoint (only a folder train-lm wrote, holding nothing else)",
    ),
    (
        "--quick",
        common.FLAG,
        None,
        "a tiny run ({max_files} files, {tokens} tokens, {seq_len}-token sequences, "
        "{params} parameters); options given explicitly keep their values".format(
            **quick_values(TrainLMSettings)
        ),
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
CHECKPOINT_FILES = ("ckpt-", "model.json")


def train_lm_settings(args):
    """The run's `TrainLMSettings` from parsed ``args``: each option given,
    else its quick value with ``--quick``, else its default; checked with
    the flags' names before any work."""
    from nengo.exceptions import ValidationError

    settings = settings_from_args(TrainLMSettings, args, quick=args.quick)
    if settings.data is not None:
        if not os.path.isdir(settings.data):
            raise ValidationError(
                f"{settings.data!r} is not a folder of text files", attr="--data"
            )
        settings = replace(settings, data=os.path.abspath(settings.data))
    per_step = settings.batch_size * settings.seq_len
    if settings.tokens < per_step:
        raise ValidationError(
            f"must cover at least one batch (--batch-size {settings.batch_size} x "
            f"--seq-len {settings.seq_len} = {per_step} tokens), got {settings.tokens}",
            attr="--tokens",
        )
    if settings.theta <= 1:
        raise ValidationError(f"must be > 1 token, got {settings.theta}", attr="--theta")
    return settings


def _plan_checkpoint(args, settings):
    """Check --checkpoint before any work; returns False where the run there
    has finished already (nothing to do)."""
    from nengo_lmu.apps.experiments.outputs import begin_run

    folder = settings.checkpoint
    run = settings.run_settings()
    plan = begin_run(
        folder, "train-lm", run, resume=args.resume, force=args.force, own=CHECKPOINT_FILES
    )
    if plan == "finished":
        print(
            f"the run in {folder} has already finished ({settings.tokens} tokens); nothing changed"
        )
        return False
    return True


def _print_result(out, folder):
    print(out.report)
    print(f"checkpoint written to {folder} (nengo-lmu generate --checkpoint reads it)")


def _kept(settings):
    """What an interrupted train-lm keeps: its newest checkpoint, if any."""
    import glob

    saved = glob.glob(os.path.join(settings.checkpoint, "ckpt-*.npz"))
    if not saved:
        return (
            f"no checkpoint was saved yet (one every {settings.checkpoint_every} steps); "
            f"{settings.checkpoint} holds only the run's settings"
        )
    newest = max(saved, key=lambda p: int(p.rsplit("-", 1)[1][:-4]))
    return f"the newest checkpoint is {newest} (continue with --resume)"


def train_lm_command(args):
    from nengo_lmu.apps.experiments.outputs import finish_run

    settings = train_lm_settings(args)
    if not _plan_checkpoint(args, settings):
        return 0
    common.interrupt_note(lambda: _kept(settings))
    common.quiet_tensorflow()
    from nengo_lmu.apps.experiments.language_model import train_lm

    out = train_lm(settings, resume=args.resume)
    finish_run(settings.checkpoint, "train-lm", settings.run_settings())
    _print_result(out, settings.checkpoint)
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
