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
    """Return ``rows`` under ``headers`` as right-aligned text columns.

    Parameters
    ----------
    headers : sequence of str
        Column titles.
    rows : sequence of sequences
        One sequence of cells per row, each as long as ``headers``. Cells
        that are not strings go through `format_cell`.
    precision : int
        Significant digits for floating-point cells.
    align : "right" or "left"
        Alignment of every column (right suits numbers, left text).

    Examples
    --------
    >>> print(format_table(["where", "why"], [["chip", "LIF"], ["host", "-"]],
    ...                    align="left"))
    where  why
    -----  ---
    chip   LIF
    host   -
    """
    if align not in ("right", "left"):
        raise ValueError(f"align must be 'right' or 'left', got {align!r}")
    headers = [str(h) for h in headers]
    cells = [[format_cell(c, precision) for c in row] for row in rows]
    for i, row in enumerate(cells):
        if len(row) != len(headers):
            raise ValueError(
                f"row {i} has {len(row)} cells, but there are {len(headers)} headers"
            )
    widths = [
        max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)
    ]
    def line(row):
        if align == "left":
            return "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
        return "  ".join(c.rjust(w) for c, w in zip(row, widths))

    lines = [line(headers), "  ".join("-" * w for w in widths)]
    lines.extend(line(row) for row in cells)
    return "\n".join(lines)
