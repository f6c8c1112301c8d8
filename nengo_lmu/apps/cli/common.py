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


def nonnegative(kind):
    """An argparse ``type`` that converts with ``kind`` and refuses ``< 0``.

    Examples
    --------
    >>> nonnegative(int)("0")
    0
    """

    def parse(text):
        value = kind(text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    return parse


def at_least(kind, minimum):
    """An argparse ``type`` that converts with ``kind`` and refuses ``< minimum``.

    Examples
    --------
    >>> at_least(int, 20)("20")
    20
    """

    def parse(text):
        value = kind(text)
        if not value >= minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    return parse


#: the most common option types, shared so that each table row is short
POSITIVE_INT = positive(int)
POSITIVE_FLOAT = positive(float)
NONNEGATIVE_INT = nonnegative(int)
NONNEGATIVE_FLOAT = nonnegative(float)

#: what a command has kept so far, for the line printed on Ctrl-C
_INTERRUPT = {"note": None}


def interrupt_note(text):
    """Say what an interrupted command keeps (printed by ``main`` on Ctrl-C):
    a string, or a function giving it when the interrupt comes (for what
    depends on how far the work got)."""
    _INTERRUPT["note"] = text


def interrupted_message():
    """The one line ``main`` prints on Ctrl-C."""
    note = _INTERRUPT["note"]
    note = note() if callable(note) else note
    return "nengo-lmu: interrupted; " + (note if note else "nothing was written")


def add_options(parser, options, show_defaults=False):
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
        if show_defaults and kind is not FLAG and default is not None and help_text:
            if "default" not in help_text:
                shown = " ".join(map(str, default)) if isinstance(default, list) else default
                help_text = f"{help_text} (default {shown})".replace("%", "%%").replace(
                    "%%%%", "%%"
                )
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
    >>> [row[:3:2] for row in settings_options(Demo)]
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
        item_type = meta.get("item_type") or f.type
        if f.type is bool:
            kind = FLAG
        elif meta.get("choices") is not None:
            kind = tuple(meta["choices"])
        elif item_type in (int, float):
            positive_kind = {int: POSITIVE_INT, float: POSITIVE_FLOAT}[item_type]
            nonnegative_kind = {int: NONNEGATIVE_INT, float: NONNEGATIVE_FLOAT}[item_type]
            kind = positive_kind if meta.get("positive", True) else nonnegative_kind
            if meta.get("minimum") is not None:
                kind = at_least(item_type, meta["minimum"])
        else:
            kind = None
        # a switch has no default to pass; an option with a quick value has
        # None (not given), so that --quick can tell it from an explicit one
        unset = kind is FLAG or quick is not None or meta.get("optional")
        shown_default = None if unset else default
        extra = {"nargs": meta["nargs"]} if meta.get("nargs") else {}
        if extra and isinstance(shown_default, tuple):
            shown_default = list(shown_default)
        rows.append((option_flag(f), kind, shown_default, help_text, extra))
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
        if isinstance(value, list):
            value = tuple(value)
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
    parser = sub.add_parser(name, **parser_kwargs)
    for arg, help_text in positionals:
        parser.add_argument(arg, help=help_text)
    add_options(parser, options, show_defaults=show_defaults)
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


def check_saved_network(path, flag, kinds):
    """Check, before any work, that ``path`` (given as ``flag``) is a network
    saved by this package of one of ``kinds``; errors name the flag."""
    import os

    from nengo.exceptions import ValidationError

    from nengo_lmu.networks.saving import check_kind, npz_path, read_network

    if os.path.isdir(path):
        raise ValidationError(f"{path!r} is a folder, not a saved network", attr=flag)
    if not os.path.exists(path) and not os.path.exists(npz_path(path)):
        raise ValidationError(f"no such file: {path!r}", attr=flag)
    try:
        kind, *_ = read_network(path)
        check_kind(path, kind, list(kinds))
    except ValidationError as e:
        raise ValidationError(str(e.args[0] if e.args else e), attr=flag) from None


def log(text):
    print(text, flush=True)


def progress_bar(desc, unit="it", quiet=False):
    """The ``progress`` argument of an experiment: ``tqdm`` with ``desc`` and
    ``unit``, shown only where stderr is a terminal; None where ``quiet``.

    Examples
    --------
    >>> progress_bar("emulator", quiet=True) is None
    True
    >>> list(progress_bar("emulator")([1, 2]))
    [1, 2]
    """
    if quiet:
        return None
    import functools

    from tqdm import tqdm

    return functools.partial(tqdm, desc=desc, unit=unit, leave=False, disable=None)


def output(path, args, what, suffix=None, flag=None):
    """Check an output path before any work starts (see
    `nengo_lmu.apps.experiments.outputs.check_output_path`)."""
    from nengo_lmu.apps.experiments.outputs import check_output_path, check_plot_path

    if what == "plot":
        return check_plot_path(path, force=args.force, attr=flag or "--plot")
    return check_output_path(
        path,
        force=args.force,
        what=what,
        suffix=suffix,
        attr=flag or ("--save" if suffix else "--plot"),
        hint="pass --force to overwrite it",
    )


def quiet_tensorflow():
    """Keep TensorFlow's and NengoDL's start-up noise out of the command's
    output (this process only; called by a command before its work).

    TensorFlow's C++ log level is set (where the user has not set it), and
    TensorFlow (and NengoDL, where installed: its import makes TensorFlow
    2.12 look for TensorRT) is imported with the process's stderr sent to the
    null device: TensorFlow 2.12 prints "TF-TRT Warning: Could not find
    TensorRT" whatever the log level. NengoDL's "No GPU support detected"
    warning is ignored. An import error is raised by the command's own
    import, as usual, after stderr is back.
    """
    import importlib.util
    import sys
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="No GPU support detected")
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                import tensorflow  # noqa: F401

                if importlib.util.find_spec("nengo_dl") is not None:
                    import nengo_dl  # noqa: F401
            finally:
                os.dup2(saved, 2)
    except Exception:  # noqa: BLE001 (the command's own import reports it)
        pass
    finally:
        os.close(saved)


def version_text():
    import platform

    from nengo_lmu.version import version

    return f"nengo-lmu {version} (Python {platform.python_version()})"
