"""Regenerate every notebook: run each ``tools/make_notebook_NN.py``.

python tools/make_notebooks.py
"""

import pathlib
import runpy
import sys

TOOLS = pathlib.Path(__file__).parent


def main():
    sys.path.insert(0, str(TOOLS))
    for script in sorted(TOOLS.glob("make_notebook_[0-9]*.py")):
        runpy.run_path(str(script), run_name="__main__")
        print(f"ran {script.name}")


if __name__ == "__main__":
    main()
