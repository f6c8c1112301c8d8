"""The ``nengo-lmu`` command.

One module per group of commands: `~nengo_lmu.apps.cli.demo` (``demo``,
``info``), `~nengo_lmu.apps.cli.training` (``train-digits``, ``train-l2mu``,
``train-psmnist``), `~nengo_lmu.apps.cli.loihi` (``loihi``),
`~nengo_lmu.apps.cli.lmuformer` (``train-lmuformer``),
`~nengo_lmu.apps.cli.language_model` (``train-lm``, ``generate``); what they
share (the table-driven `~nengo_lmu.apps.cli.common.add_options`, the output
check) is in `~nengo_lmu.apps.cli.common`. Each command parses, calls an
experiment and prints its table.
"""

import argparse
import sys

from nengo_lmu.apps.cli.common import version_text
from nengo_lmu.apps.cli.demo import add_demo_parser, add_info_parser
from nengo_lmu.apps.cli.language_model import add_lm_parsers
from nengo_lmu.apps.cli.lmuformer import add_train_lmuformer_parser
from nengo_lmu.apps.cli.loihi import add_loihi_parser
from nengo_lmu.apps.cli.nir import add_export_nir_parser
from nengo_lmu.apps.cli.training import (
    add_train_digits_parser,
    add_train_l2mu_parser,
    add_train_psmnist_parser,
)


def build_parser():
    """The parser of every ``nengo-lmu`` command.

    Examples
    --------
    >>> build_parser().parse_args(["demo", "--order", "4"]).order
    4
    """
    parser = argparse.ArgumentParser(
        prog="nengo-lmu",
        description="Legendre Memory Units in Nengo: demos and tasks.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=version_text(),
        help="print nengo-lmu's and Python's versions and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # the order of the commands in --help
    for add in (
        add_info_parser,
        add_train_psmnist_parser,
        add_demo_parser,
        add_train_digits_parser,
        add_train_l2mu_parser,
        add_loihi_parser,
        add_train_lmuformer_parser,
        add_lm_parsers,
        add_export_nir_parser,
    ):
        add(sub)
    return parser


def main(argv=None):
    """Run ``nengo-lmu`` with ``argv``; returns the exit status (0, 2 for a
    refused input, 130 after Ctrl-C)."""
    from nengo_lmu.apps.cli.common import interrupt_note, interrupted_message

    parser = build_parser()
    args = parser.parse_args(argv)
    interrupt_note(None)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{interrupted_message()}", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - report, don't dump a traceback
        from nengo.exceptions import NengoException

        from nengo_lmu.info import MissingExtraError

        if isinstance(e, (NengoException, MissingExtraError)):
            print(f"nengo-lmu: error: {e}", file=sys.stderr)
            return 2
        raise


__all__ = ["build_parser", "main"]
