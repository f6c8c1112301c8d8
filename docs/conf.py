"""Sphinx configuration of nengo_lmu's documentation.

Build it with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are
errors) after ``pip install -c requirements/lock-py311.txt -e ".[all,docs]"``.
The API reference is generated from the numpydoc docstrings; the notebooks
are rendered as stored (without outputs: the test suite executes them).
"""

import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Importing nengo_lmu.dl loads TensorFlow: keep its log quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import nengo_lmu  # noqa: E402

project = "nengo_lmu"
author = "nengo_lmu contributors"
copyright = "nengo_lmu contributors"  # noqa: A001
release = nengo_lmu.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# The API reference: one page per module, made from the docstrings at build time
# (into docs/api/generated, which is not committed).
autosummary_generate = True
autosummary_imported_members = False
# Each name is documented in the module that defines it (a package's __all__
# re-exports would document it twice); inherited Keras methods keep Keras's
# own (markdown) docstrings out of this reference.
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
autodoc_inherit_docstrings = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"
# The docstrings are numpydoc; class members get their own entries from
# autodoc, not numpydoc's summary tables.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# A numpydoc "References" section lists citations the text need not cite.
suppress_warnings = ["ref.citation"]

# The notebooks are stored without outputs and are not executed here:
# tests/test_notebooks.py runs each one (quick mode).
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

html_theme = "sphinx_rtd_theme"
html_title = f"nengo_lmu {release}"
html_static_path = []
