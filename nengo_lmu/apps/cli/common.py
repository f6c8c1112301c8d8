"""What the commands of ``nengo-lmu`` share: value parsers, the table-driven
option helper, the output-path check and the log line."""

import argparse
import dataclasses
import os

#: the ``kind`` of an option that is a switch (``action="store_true"``)
FLAG = "flag"


def positive(kind):
    """An argparse ``type`` that converts with ``kind`` and refuses ``<= 0``.

    Examples
    --------
    >>> positive(int)("3")
    3
    """

    def parse(text):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse


#: the two most common option types, shared so that each table row is short
POSITIVE_INT = positive(int)
POSITIVE_FLOAT = positive(float)


def add_options(parser, options):
    """Add options to ``parser`` from rows ``(flag, kind, default, help[, extra])``.

    ``kind`` is a type (``int``, `POSITIVE_FLOAT`, ``None`` for text), a tuple
    of choices, or `FLAG` for a switch (its default is ``False``, and the
    row's ``default`` is not used); ``extra`` is a dict of further
    ``add_argument`` keywords (``nargs``, ``choices``).

    Examples
    --------
    >>> p = argparse.ArgumentParser()
    >>> add_options(p, [("--order", POSITIVE_INT, 6, "memory order"),
    ...                 ("--hidden", ("relu", "tanh"), "relu", "nonlinearity"),
    ...                 ("--quick", FLAG, None, "a tiny run")])
    >>> vars(p.parse_args(["--order", "3"]))
    {'order': 3, 'hidden': 'relu', 'quick': False}
    """
    for flag, kind, default, help_text, *extra in options:
        kwargs = dict(extra[0]) if extra else {}
        if kind is FLAG:
            parser.add_argument(flag, action="store_true", help=help_text, **kwargs)
        elif isinstance(kind, tuple):
            parser.add_argument(flag, choices=kind, default=default, help=help_text, **kwargs)
        else:
            parser.add_argument(flag, type=kind, default=default, help=help_text, **kwargs)


def option_flag(f):
    """The command-line option of the settings field ``f``."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


def settings_options(cls):
    """`add_options` rows made from the fields of the settings dataclass ``cls``
    (see `nengo_lmu.apps.experiments.settings.setting`).

    A field with a quick value has no default on the command line (None:
    not given), so that `settings_from_args` can tell an explicit value
    from one that ``--quick`` may change.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> from nengo_lmu.apps.experiments.settings import setting
    >>> @dataclass(frozen=True)
    ... class Demo:
    ...     order: int = setting(6, "memory order", quick=2)
    ...     lstm: bool = setting(True, "skip the LSTM", flag="--no-lstm")
    >>> [row[::2] for row in settings_options(Demo)]
    [('--order', None), ('--no-lstm', None)]
    >>> settings_options(Demo)[0][3]
    'memory order (default 6; 2 with --quick)'
    """
    rows = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        default, quick = f.default, meta.get("quick")
        help_text = meta["help"]
        if "{default}" in help_text:
            help_text = help_text.format(default=default, quick=quick)
        elif quick is not None:
            help_text += f" (default {meta.get('shown') or default}; {quick} with --quick)"
        if f.type is bool:
            kind = FLAG
        elif meta.get("choices") is not None:
            kind = tuple(meta["choices"])
        elif f.type in (int, float):
            positive_kind = {int: POSITIVE_INT, float: POSITIVE_FLOAT}[f.type]
            kind = positive_kind if meta.get("positive", True) else f.type
        else:
            kind = None
        # a switch has no default to pass; an option with a quick value has
        # None (not given), so that --quick can tell it from an explicit one
        unset = kind is FLAG or quick is not None or meta.get("optional")
        shown_default = None if unset else default
        rows.append((option_flag(f), kind, shown_default, help_text))
    return tuple(rows)


def settings_from_args(cls, args, quick=False):
    """The ``cls`` settings of parsed ``args`` (options made by
    `settings_options`): each option given, else its quick value where
    ``quick``, else the field's default. A ``--no-`` switch turns its
    setting off."""
    values = {}
    for f in dataclasses.fields(cls):
        flag = option_flag(f)
        value = getattr(args, flag[2:].replace("-", "_"))
        if f.type is bool and flag.startswith("--no-"):
            value = not value
        if value is None:
            quick_value = f.metadata.get("quick")
            value = quick_value if quick and quick_value is not None else f.default
        values[f.name] = value
    return cls(**values)


def add_command(
    sub, name, func, options=(), force=False, show_defaults=True, positionals=(), **parser_kwargs
):
    """Add the command ``name``, which runs ``func(args)``, to the subparsers
    ``sub``: its ``positionals`` (``(name, help)`` rows), its `add_options`
    rows, and `add_force` where ``force``; ``parser_kwargs`` (``help``,
    ``description``) go to ``add_parser``; ``show_defaults`` shows each
    option's default in ``--help``. Returns the command's parser.

    Examples
    --------
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> p = add_command(sub, "run", print, [("--n", POSITIVE_INT, 2, "steps")], force=True)
    >>> p.parse_args(["--n", "3"]).n, p.parse_args([]).force
    (3, False)
    """
    if show_defaults:
        parser_kwargs["formatter_class"] = argparse.ArgumentDefaultsHelpFormatter
    parser = sub.add_parser(name, **parser_kwargs)
    for arg, help_text in positionals:
        parser.add_argument(arg, help=help_text)
    add_options(parser, options)
    if force:
        add_force(parser)
    parser.set_defaults(func=func)
    return parser


def add_force(parser):
    """The ``--force`` switch of the commands that check their outputs first."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="overwrite existing output files (without it, a command "
        "refuses before doing any work)",
    )


def log(text):
    print(text, flush=True)


def output(path, args, what, suffix=None):
    """Check an output path before any work starts (see
    `nengo_lmu.apps.experiments.outputs.check_output_path`)."""
    from nengo_lmu.apps.experiments.outputs import check_output_path

    return check_output_path(
        path,
        force=args.force,
        what=what,
        suffix=suffix,
        attr="--save" if suffix else "--plot",
        hint="pass --force to overwrite it",
    )


def quiet_tensorflow():
    # TensorFlow's C++ start-up messages, before a command imports it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def version_text():
    import platform

    from nengo_lmu.version import version

    return f"nengo-lmu {version} (Python {platform.python_version()})"
