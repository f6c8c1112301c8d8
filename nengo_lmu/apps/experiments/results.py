"""What every experiment's result has: ``table()`` and ``report``.

An experiment function returns a dataclass of plain values that a test can
assert on; it subclasses `ExperimentResult`, which gives it two ways to be
read as text, the same for every experiment:

- ``table()``: the result's numbers as one text table
  (`nengo_lmu.tables.format_table`);
- ``report``: everything the ``nengo-lmu`` command prints about the result
  once the work is done (the table and whatever goes with it: the data's
  sizes, the placement on the chip, resource tables, notes, saved files).
  The command prints ``result.report`` and nothing else about the result;
  a notebook or a benchmark prints the same.

A result says what goes into its report by overriding `report_sections`
(default: the table alone); the sections are joined by blank lines and an
empty section is left out.

Examples
--------
>>> from dataclasses import dataclass
>>> from nengo_lmu.tables import format_table
>>> @dataclass
... class Sum(ExperimentResult):
...     total: int
...     def table(self):
...         return format_table(("total",), [(str(self.total),)])
...     def report_sections(self):
...         return ["Sum of the inputs:", self.table()]
>>> print(Sum(3).report)
Sum of the inputs:
<BLANKLINE>
total
-----
    3
"""


class ExperimentResult:
    """The base of every result of `nengo_lmu.apps.experiments`.

    A subclass (a dataclass) defines `table`, and `report_sections` where
    its report says more than the table.
    """

    def table(self):
        """The result's numbers as a text table (str)."""
        raise NotImplementedError(f"{type(self).__name__} does not define table()")

    def report_sections(self):
        """The parts of `report`, in order (strings; empty ones are left out)."""
        return [self.table()]

    @property
    def report(self):
        """What the command prints about the result (str): `report_sections`
        joined by blank lines."""
        return "\n\n".join(s for s in self.report_sections() if s)


__all__ = ["ExperimentResult"]
