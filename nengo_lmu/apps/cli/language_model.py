"""``nengo-lmu train-lm`` and ``nengo-lmu generate``: the LMU language model
(seed 003) and its transformer baseline."""

import sys

from nengo_lmu.apps.cli.common import FLAG, POSITIVE_FLOAT, POSITIVE_INT, add_command

TRAIN_LM_OPTIONS = (
    (
        "--model",
        ("lmu", "lmu_global", "transformer"),
        "lmu",
        "the LMU model, the same with global attention, or the transformer",
    ),
    ("--params", POSITIVE_INT, 20_000, "non-embedding parameters (d = sqrt(N/24))"),
    ("--tokens", POSITIVE_INT, 200_000, "training token budget"),
    ("--seq-len", POSITIVE_INT, 256, "tokens (bytes) per training sequence"),
    ("--batch-size", POSITIVE_INT, 8, "sequences per training step"),
    ("--order", POSITIVE_INT, 40, "LMU memory order q"),
    ("--theta", POSITIVE_FLOAT, 128, "LMU memory window in tokens"),
    ("--lr", POSITIVE_FLOAT, 3e-3, "peak learning rate"),
    ("--seed", int, 0, "seed of the initial weights and the batch order"),
    ("--data", None, None, "a directory of text files (default: the Python standard library)"),
    ("--max-files", POSITIVE_INT, None, "use only this many files of the corpus"),
    ("--checkpoint", None, "lm_checkpoint", "checkpoint directory"),
    ("--checkpoint-every", POSITIVE_INT, 100, "steps between checkpoints"),
    ("--resume", FLAG, None, "continue the run saved in --checkpoint"),
    ("--force", FLAG, None, "replace an existing --checkpoint directory"),
    ("--no-progress", FLAG, None, "no progress bar"),
    ("--quick", FLAG, None, "a tiny run (40 files, 20k tokens, 64-token sequences)"),
)

GENERATE_OPTIONS = (
    ("--checkpoint", None, "lm_checkpoint", "directory written by train-lm"),
    ("--tokens", POSITIVE_INT, 200, "bytes to generate"),
    ("--temperature", float, 0.8, "sampling temperature (0: always the most likely byte)"),
    ("--seed", int, 0, "seed of the sampling"),
    ("--output", None, None, "also write prompt + text to this file"),
    ("--force", FLAG, None, "replace an existing --output"),
)


def add_lm_parsers(sub):
    add_command(
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

    add_command(
        sub,
        "generate",
        generate_command,
        GENERATE_OPTIONS,
        positionals=[("prompt", "text to continue")],
        help="continue a text prompt with a model trained by train-lm",
        description="Load a train-lm checkpoint and continue the prompt token by token "
        "(the LMU model runs as a recurrent stepper with constant memory).",
    )


def train_lm_command(args):
    import os
    import shutil

    from nengo_lmu.apps.experiments.language_model import train_lm
    from nengo_lmu.tables import format_table

    exists = os.path.isdir(args.checkpoint) and os.listdir(args.checkpoint)
    if exists and not (args.force or args.resume):
        print(
            f"nengo-lmu: error: {args.checkpoint} exists (use --resume to continue it "
            f"or --force to replace it)",
            file=sys.stderr,
        )
        return 2
    if exists and args.force and not args.resume:
        shutil.rmtree(args.checkpoint)
    if args.quick:
        args.max_files, args.tokens, args.seq_len = args.max_files or 40, 20_000, 64
        args.params = min(args.params, 10_000)
    out = train_lm(
        args.model,
        args.params,
        args.tokens,
        args.seq_len,
        args.batch_size,
        args.order,
        args.theta,
        args.lr,
        args.seed,
        args.data,
        args.max_files,
        args.checkpoint,
        args.checkpoint_every,
        progress=not args.no_progress,
    )
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
    print(f"checkpoint: {args.checkpoint}")
    return 0


def generate_command(args):
    import os

    from nengo_lmu.apps.experiments.language_model import generate_text

    if args.output and os.path.exists(args.output) and not args.force:
        print(
            f"nengo-lmu: error: {args.output} exists (use --force to replace it)", file=sys.stderr
        )
        return 2
    text = generate_text(args.checkpoint, args.prompt, args.tokens, args.temperature, args.seed)
    print(args.prompt + text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(args.prompt + text)
    return 0
