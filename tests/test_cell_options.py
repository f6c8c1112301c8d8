"""One table of the LMU cell's options (nengo_lmu.cell_options)."""

import inspect

import pytest
from nengo.exceptions import ValidationError

from nengo_lmu.cell_options import (
    CELL_OPTIONS,
    REQUIRED,
    SAVED_OPTIONS,
    bind,
    check_options,
    defaults,
    options_of,
)
from nengo_lmu.networks import LMUCell
from nengo_lmu.networks.classifier import CELL_ARGS


def test_lmu_cell_signature_is_the_tables_nengo_options():
    params = inspect.signature(LMUCell).parameters
    table = options_of("nengo")
    for option in table:
        assert option.name in params, option.name
        assert params[option.name].default == option.default, option.name
    # the network's own arguments come after the cell's options
    names = [n for n in params if n not in ("label", "add_to_container")]
    assert names == [o.name for o in table]


def test_the_save_format_keeps_the_saved_options():
    assert CELL_ARGS == SAVED_OPTIONS
    assert "hidden_gain" in SAVED_OPTIONS and "seed" not in SAVED_OPTIONS


def test_bind_splits_options_from_other_arguments():
    options, rest = bind("keras", (4, 6, 10.0), dict(use_bias=True, name="lmu"))
    assert options["units"] == 4 and options["theta"] == 10.0 and options["use_bias"]
    assert options["dropout"] == defaults("keras")["dropout"]
    assert rest == {"name": "lmu"}
    assert set(options) == {o.name for o in options_of("keras")}
    with pytest.raises(TypeError, match="missing required argument 'theta'"):
        bind("keras", (4, 6), {})
    with pytest.raises(TypeError, match="multiple values for argument 'order'"):
        bind("keras", (4, 6, 10.0), dict(order=3))
    with pytest.raises(TypeError, match="at most"):
        bind("nengo", tuple(range(len(CELL_OPTIONS) + 1)), {})


@pytest.mark.parametrize(
    "name, value",
    [("order", 0), ("units", 1.5), ("memory_d", 0), ("use_bias", 1), ("seed", -1)],
)
def test_check_options_names_the_bad_option(name, value):
    options = dict(defaults("keras"), units=4, order=6, theta=10.0)
    options[name] = value
    with pytest.raises(ValidationError) as e:
        check_options(options)
    assert e.value.attr == name and repr(value) in str(e.value)


def test_every_option_has_a_meaning_and_a_form():
    for option in CELL_OPTIONS:
        assert option.doc and set(option.forms) <= {"nengo", "keras"}
    assert [o.name for o in CELL_OPTIONS if o.default is REQUIRED] == ["units", "order", "theta"]
