"""The options of the LMU cell, written once.

The Nengo cell (`nengo_lmu.networks.LMUCell`), the Keras layer
(`nengo_lmu.dl.LMULayer`), the Keras RNN cell (`nengo_lmu.dl.LMUKerasCell`),
the conversion between them (`nengo_lmu.dl.convert`) and the save format
(`nengo_lmu.networks.LMUClassifier.save`) share one table of options,
`CELL_OPTIONS`: each option's name, default, meaning, which forms of the
cell have it, and whether a saved network keeps it. The Keras classes take
their arguments from this table (`bind`, and `signature` for ``help()``);
`LMUCell` states its own signature and a test checks it against the table.

The checks that do not depend on Keras or nengo objects (integers, flags,
the discretizer, the seed) are here too (`check_options`); the Keras objects
(initializers, regularizers, a Keras ``hidden_cell``) are checked by the
Keras side, the nengo neuron type by `LMUCell`.
"""

import inspect
from dataclasses import dataclass

from nengo_lmu.systems import DISCRETIZERS, check_order
from nengo_lmu.validation import check_bool, check_choice, check_int, check_seed

#: marks an option that has no default (a required argument)
REQUIRED = inspect.Parameter.empty

#: ``hidden_cell`` value meaning the built-in fully connected hidden layer
DEFAULT_HIDDEN = "default"


@dataclass(frozen=True)
class CellOption:
    """One option of the LMU cell.

    Attributes
    ----------
    name : str
        The argument's name (the same in every form of the cell).
    default : object
        Its default, or `REQUIRED`.
    doc : str
        What it means (one line).
    forms : tuple of str
        The forms that take it: ``"nengo"`` (`.LMUCell`), ``"keras"``
        (`.LMULayer` and `.LMUKerasCell`).
    saved : bool
        A saved `.LMUClassifier` keeps it with each cell.
    """

    name: str
    default: object
    doc: str
    forms: tuple = ("nengo", "keras")
    saved: bool = False


NENGO, KERAS = ("nengo",), ("keras",)

#: Every option of the LMU cell, in the order of the positional arguments.
CELL_OPTIONS = (
    CellOption("units", REQUIRED, "hidden units (neurons)", saved=True),
    CellOption("order", REQUIRED, "Legendre coefficients per memory dimension"),
    CellOption("theta", REQUIRED, "memory window in steps (> 1)"),
    CellOption("input_d", 1, "dimensions of the input x", NENGO, saved=True),
    CellOption("memory_d", 1, "dimensions of u (each has its own memory)", saved=True),
    CellOption("hidden_neuron_type", None, "nengo neuron type of h (tanh rate)", NENGO),
    CellOption("hidden_gain", 1.0, "gain of the hidden neurons", NENGO, saved=True),
    CellOption("hidden_activation", "tanh", "f: 'tanh', 'relu' or 'sigmoid'", KERAS),
    CellOption("hidden_to_memory", False, "include e_h (h -> u)", saved=True),
    CellOption("memory_to_memory", False, "include e_m (m -> u)", saved=True),
    CellOption("input_to_hidden", True, "include W_x (x -> h)", saved=True),
    CellOption("hidden_to_hidden", True, "include W_h (h -> h)", saved=True),
    CellOption("discretizer", "zoh", "discretisation of the memory", saved=True),
    CellOption("trainable_memory", False, "learn Ad and Bd", saved=True),
    CellOption("kernel_initializer", "glorot_uniform", "initial W_x and W_m"),
    CellOption("recurrent_initializer", "glorot_uniform", "initial W_h"),
    CellOption("encoder_initializer", "lecun_uniform", "initial e_x and e_h"),
    CellOption("seed", None, "seeds the initial weights (the same draws everywhere)"),
    CellOption("hidden_cell", DEFAULT_HIDDEN, "'default', None or a Keras layer/cell", KERAS),
    CellOption("trainable_theta", False, "learn theta (as 1/theta)", KERAS),
    CellOption("use_bias", False, "biases b_u and b_h", KERAS),
    CellOption("bias_initializer", "zeros", "initial biases", KERAS),
    CellOption("kernel_regularizer", None, "regularizer of e_x, W_x, W_m", KERAS),
    CellOption("recurrent_regularizer", None, "regularizer of e_h, e_m, W_h", KERAS),
    CellOption("bias_regularizer", None, "regularizer of b_u, b_h", KERAS),
    CellOption("dropout", 0.0, "dropout rate of x (training only)", KERAS),
    CellOption("recurrent_dropout", 0.0, "dropout rate of the fed-back h, m", KERAS),
)

#: The options a saved `.LMUClassifier` keeps for each cell (with ``order``,
#: ``theta`` and ``hidden_neuron_type``, which it stores its own way).
SAVED_OPTIONS = tuple(o.name for o in CELL_OPTIONS if o.saved)

#: The options both the Nengo and the Keras cells take (what a conversion
#: carries over by name).
SHARED_OPTIONS = tuple(o.name for o in CELL_OPTIONS if o.forms == ("nengo", "keras"))

FLAGS = (
    "hidden_to_memory",
    "memory_to_memory",
    "input_to_hidden",
    "hidden_to_hidden",
    "trainable_memory",
    "trainable_theta",
    "use_bias",
)


def options_of(form):
    """The `CellOption` entries of one form (``"nengo"`` or ``"keras"``)."""
    check_choice("form", form, ("nengo", "keras"))
    return tuple(o for o in CELL_OPTIONS if form in o.forms)


def defaults(form):
    """``{name: default}`` of a form's options that have one."""
    return {o.name: o.default for o in options_of(form) if o.default is not REQUIRED}


def signature(form, before=(), after=()):
    """The ``__init__`` signature of a class taking a form's options:
    ``self``, the options (``units, order, theta`` positional), then the
    keyword parameters ``after`` (``inspect.Parameter``) and ``**kwargs``.
    ``before`` are options left out (a class that states them itself)."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("self", kind)]
    params += [
        inspect.Parameter(o.name, kind, default=o.default)
        for o in options_of(form)
        if o.name not in before
    ]
    params += list(after)
    params.append(inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD))
    return inspect.Signature(params)


def bind(form, args, kwargs, extra=()):
    """Split a constructor's arguments into the cell's options and the rest.

    Parameters
    ----------
    form : "nengo" or "keras"
    args : tuple
        Positional arguments (the options in table order).
    kwargs : dict
        Keyword arguments; the options (and the names in ``extra``) are
        taken out of it, the rest is returned (``name``, ``dtype``, ...).
    extra : sequence of str
        More keyword names that belong with the options (taken out too).

    Returns
    -------
    options : dict
        Every option of the form, given or default.
    rest : dict
        The other keyword arguments.
    """
    table = options_of(form)
    if len(args) > len(table):
        raise TypeError(f"takes at most {len(table)} positional arguments, got {len(args)}")
    options, rest = {}, dict(kwargs)
    for option, value in zip(table, args):
        if option.name in rest:
            raise TypeError(f"got multiple values for argument {option.name!r}")
        options[option.name] = value
    for option in table[len(args) :]:
        if option.name in rest:
            options[option.name] = rest.pop(option.name)
        elif option.default is REQUIRED:
            raise TypeError(f"missing required argument {option.name!r}")
        else:
            options[option.name] = option.default
    for name in extra:
        if name in rest:
            options[name] = rest.pop(name)
    return options, rest


def check_options(options, obj=None):
    """Check the options that need no Keras or nengo object (integers,
    flags, the discretizer, the seed) and return them checked.

    ``units`` may be None where a Keras ``hidden_cell`` sets the size; the
    flags must be True or False; ``seed`` None or an int >= 0.
    """
    checked = dict(options)
    checked["order"] = check_order(options["order"], obj=obj)
    if options.get("units") is not None or options.get("hidden_cell", DEFAULT_HIDDEN) == (
        DEFAULT_HIDDEN
    ):
        checked["units"] = check_int("units", options.get("units"), obj)
    for name in ("memory_d", "input_d"):
        if name in options and options[name] is not None:
            checked[name] = check_int(name, options[name], obj)
    for name in FLAGS:
        if name in options:
            checked[name] = check_bool(name, options[name], obj)
    if "discretizer" in options:
        checked["discretizer"] = check_choice(
            "discretizer", options["discretizer"], DISCRETIZERS, obj
        )
    if options.get("seed") is not None:
        checked["seed"] = check_seed("seed", options["seed"], obj)
    return checked


def options_doc(form):
    """The options of a form as numpydoc parameter lines (for docstrings)."""
    lines = []
    for o in options_of(form):
        default = "" if o.default is REQUIRED else f" (default {o.default!r})"
        lines.append(f"{o.name}\n    {o.doc}{default}.")
    return "\n".join(lines)


__all__ = [
    "REQUIRED",
    "DEFAULT_HIDDEN",
    "CellOption",
    "FLAGS",
    "CELL_OPTIONS",
    "SAVED_OPTIONS",
    "SHARED_OPTIONS",
    "options_of",
    "defaults",
    "signature",
    "bind",
    "check_options",
    "options_doc",
]
