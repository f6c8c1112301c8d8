"""One plain-text table formatter for the CLI, experiments and benchmarks.

Examples
--------
>>> print(format_table(["model", "acc"], [["lmu", 0.9512], ["lstm", 0.9]]))
model     acc
-----  ------
  lmu  0.9512
 lstm     0.9
"""

__all__ = ["format_cell", "format_table"]


def format_cell(value, precision=4):
    """Format one table cell: floats to ``precision`` significant digits."""
    if isinstance(value, str):
        return value
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    try:
        return f"{float(value):.{precision}g}"
    except (TypeError, ValueError):
        return str(value)


def format_table(headers, rows, precision=4, align="right"):
    """Return ``rows`` under ``headers`` as aligned text columns.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        One sequence of cells per row, each as long as ``headers``. Cells
        that are not strings go through `format_cell`.
    precision : int
        Significant digits for floating-point cells.
    align : str
        ``"right"`` or ``"left"`` for every column (right suits numbers, left
        text), or one letter per column, ``"l"`` or ``"r"``.

    Examples
    --------
    >>> print(format_table(["where", "why"], [["chip", "LIF"], ["host", "-"]],
    ...                    align="left"))
    where  why
    -----  ---
    chip   LIF
    host   -
    """
    if align in ("right", "left"):
        align = align[0] * len(headers)
    if not isinstance(align, str) or len(align) != len(headers) or set(align) - set("lr"):
        raise ValueError(
            f"align must be 'right', 'left' or one of 'l'/'r' per column, got {align!r}"
        )
    headers = [str(h) for h in headers]
    cells = [[format_cell(c, precision) for c in row] for row in rows]
    for i, row in enumerate(cells):
        if len(row) != len(headers):
            raise ValueError(f"row {i} has {len(row)} cells, but there are {len(headers)} headers")
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(row):
        return "  ".join(
            c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)
        ).rstrip()

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)
