"""The one notebook generator: each ``tools/make_notebook_NN.py`` lists its
cells with `Notebook.md` and `Notebook.code` and calls `Notebook.write`.

Notebooks are stored without outputs and with cell ids numbered in order,
so that regenerating one gives the same file (``tests/test_notebooks.py``
checks it). Regenerate them all with ``python tools/make_notebooks.py``.
"""

import nbformat


class Notebook:
    """Cells of one notebook, written to ``path`` (relative to the
    repository root, which is the working directory of the scripts)."""

    def __init__(self, path):
        self.path = path
        self.cells = []

    def md(self, text):
        self.cells.append(nbformat.v4.new_markdown_cell(text.strip()))

    def code(self, text):
        self.cells.append(nbformat.v4.new_code_cell(text.strip()))

    def write(self):
        nb = nbformat.v4.new_notebook()
        for i, cell in enumerate(self.cells):
            cell["id"] = f"cell-{i:02d}"
        nb.cells = self.cells
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nbformat.write(nb, self.path)
