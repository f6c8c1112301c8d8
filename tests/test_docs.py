"""The documentation's code runs: every ``>>>`` example of the pages in
``docs/`` (a page's examples share one namespace, in order), and every page
that shows a capability has at least one."""

import doctest
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))

# The capability pages (docs/index.md's "Capabilities"): each shows runnable code.
CAPABILITIES = [
    "memories",
    "spiking-accuracy",
    "lmu-cell",
    "parallel",
    "psmnist",
    "keraslmu",
    "l2mu",
    "loihi",
    "lmuformer",
    "language-model",
]

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def page_test(path):
    text = path.read_text()
    return doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), 0)


def test_pages_exist():
    names = {p.stem for p in PAGES}
    assert set(CAPABILITIES) <= names, sorted(set(CAPABILITIES) - names)


@pytest.mark.parametrize("name", CAPABILITIES)
def test_capability_page_has_examples(name):
    assert page_test(DOCS / f"{name}.md").examples, f"docs/{name}.md has no >>> example"


@pytest.mark.parametrize("path", [p for p in PAGES if page_test(p).examples], ids=lambda p: p.name)
def test_page_examples_run(path, tmp_path, monkeypatch, skip_unless_code_can_run):
    test = page_test(path)
    skip_unless_code_can_run("\n".join(e.source for e in test.examples))
    monkeypatch.chdir(tmp_path)  # files an example writes go here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setitem(os.environ, "TF_CPP_MIN_LOG_LEVEL", "2")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} example(s) of docs/{path.name} failed"


def test_readme_is_short_and_links_resolve():
    """The README is the front page (at most 250 lines); the manual is docs/."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if "://" not in link]
    assert "docs/index.md" in local
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
