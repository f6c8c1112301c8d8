"""The settings of an experiment: a frozen dataclass that states each default once.

Each field is made with `setting`, which keeps its help text, the command
line's spelling where it differs from the field's name, and its value in a
quick run (``--quick``). The experiment function takes the dataclass (or its
fields as keywords, `resolve`); the ``nengo-lmu`` command makes its options
from the fields (`nengo_lmu.apps.cli.common.settings_options`), so that a
default is written in one place.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Demo:
...     order: int = setting(6, "memory order", quick=2)
...     seed: int = setting(0, "seed", positive=False)
>>> resolve(Demo, None, {"seed": 3})
Demo(order=6, seed=3)
>>> quick_values(Demo)
{'order': 2}
"""

import dataclasses


def setting(
    default, help, flag=None, choices=None, quick=None, shown=None, positive=True, optional=False
):
    """A field of a settings dataclass.

    Parameters
    ----------
    default
        The value of the setting.
    help : str
        What it sets, for ``--help``. Where it contains ``{default}`` (and
        ``{quick}``), they are filled in; otherwise a setting with a
        ``quick`` value gets ``(default D; Q with --quick)`` appended.
    flag : str, optional
        The command line's option (default ``--`` and the field's name with
        dashes). A boolean setting that defaults to true is switched off by a
        flag starting ``--no-``.
    choices : tuple, optional
        The allowed values.
    quick : optional
        The value in a quick run, where it differs.
    shown : str, optional
        How ``--help`` shows the default (instead of the value).
    positive : bool
        Whether a number must be > 0 on the command line.
    optional : bool
        Whether the command line leaves the option unset (None) when it is
        not given, so that the command can tell (as a setting with a
        ``quick`` value does).
    """
    metadata = dict(
        help=help,
        flag=flag,
        choices=choices,
        quick=quick,
        shown=shown,
        positive=positive,
        optional=optional,
    )
    return dataclasses.field(default=default, metadata=metadata)


def resolve(cls, settings, overrides):
    """``settings`` (an instance of ``cls``; None for the defaults) with the
    fields in ``overrides`` replaced (a `TypeError` names an unknown one)."""
    return dataclasses.replace(cls() if settings is None else settings, **overrides)


def quick_values(cls):
    """``{field: value}`` of the settings that a quick run changes."""
    return {
        f.name: f.metadata["quick"]
        for f in dataclasses.fields(cls)
        if f.metadata.get("quick") is not None
    }


__all__ = ["quick_values", "resolve", "setting"]
