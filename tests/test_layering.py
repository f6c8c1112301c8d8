"""The package's layers, checked from its imports (an AST walk).

Imports point down only: a module may import from a lower layer, or from its
own unit (the modules of one package such as ``nengo_lmu.loihi``), never from
a higher or a sibling unit of its layer. Function-local imports count too.
No module imports a private name (``_name``) from another module, and no
unit reaches into another unit's private module (``nengo_lmu.x._y``).
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).parent.parent / "nengo_lmu"

#: unit -> layer (the architecture section of the README, bottom to top).
LAYERS = {
    "nengo_lmu.version": 0,
    "nengo_lmu.validation": 0,
    "nengo_lmu.tables": 0,
    "nengo_lmu.info": 0.25,
    "nengo_lmu.realizers": 0.5,
    "nengo_lmu.systems": 1,
    "nengo_lmu.metrics": 1,
    "nengo_lmu.discrete_lif": 2,
    "nengo_lmu.cell_options": 2.25,
    "nengo_lmu.networks.build_progress": 2.5,
    "nengo_lmu.networks.neural_plan": 2.5,
    "nengo_lmu.networks.sequence_runner": 2.5,
    "nengo_lmu.networks": 3,
    "nengo_lmu.text": 3.5,
    "nengo_lmu.dl.tf_ops": 3.75,  # TensorFlow's keras.ops, for dl.compat
    "nengo_lmu.dl": 4,
    "nengo_lmu.loihi": 4,
    "nengo_lmu.nir": 4,
    "nengo_lmu": 4.5,  # the package's own __init__: the public face
    # the applications: above the whole library, and nothing below imports them
    "nengo_lmu.apps": 5,
    "nengo_lmu.apps.audio": 5,
    "nengo_lmu.apps.augment": 5,
    "nengo_lmu.apps.speech": 5.25,
    "nengo_lmu.apps.data": 5.5,
    "nengo_lmu.apps.tasks": 5.5,
    "nengo_lmu.apps.plots": 5.5,
    "nengo_lmu.apps.experiments": 6,
    "nengo_lmu.apps.cli": 7,
}

#: The applications (experiments, command line, data sources): the library is
#: everything else in nengo_lmu, and it never imports them.
APPS = "nengo_lmu.apps"


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(name):
    """The longest unit in LAYERS that ``name`` is or lies in."""
    best = None
    for unit in LAYERS:
        if (name == unit or name.startswith(unit + ".")) and (
            best is None or len(unit) > len(best)
        ):
            best = unit
    return best


def imports(path, name=None):
    """``(line, imported module, names)`` of every import in a file."""
    tree = ast.parse(path.read_text())
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            names = [a.name for a in node.names]
            if mod == "nengo_lmu" or mod.startswith("nengo_lmu."):
                # "from nengo_lmu import loihi" imports the module nengo_lmu.loihi
                subs = [
                    f"{mod}.{n}"
                    for n in names
                    if unit_of(f"{mod}.{n}") != unit_of(mod)
                    or (ROOT.parent / f"{mod}.{n}".replace(".", "/")).exists()
                    or (ROOT.parent / (f"{mod}.{n}".replace(".", "/") + ".py")).exists()
                ]
                for sub in subs:
                    yield node.lineno, sub, []
                rest = [n for n in names if f"{mod}.{n}" not in subs]
                if rest:
                    yield node.lineno, mod, rest
            else:
                yield node.lineno, mod, names
        elif isinstance(node, ast.Call):
            # importlib.import_module("nengo_lmu.x") / import_module(".x", ...)
            # / __import__("nengo_lmu.x") with a literal name
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called not in ("import_module", "__import__") or not node.args:
                continue
            arg = node.args[0]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                continue
            mod = arg.value
            if mod.startswith("."):
                level = len(mod) - len(mod.lstrip("."))
                base = package.split(".")
                base = base[: len(base) - level + 1]
                mod = ".".join(base + ([mod.lstrip(".")] if mod.lstrip(".") else []))
            yield node.lineno, mod, []


FILES = sorted(ROOT.rglob("*.py"))


def file_violations(path, name=None):
    """What is wrong with the imports of one file (module ``name``)."""
    name = name or module_name(path)
    unit = unit_of(name)
    assert unit is not None, f"{name} is in no layer: add it to LAYERS"
    found = []
    for line, mod, names in imports(path, name):
        if not (mod == "nengo_lmu" or mod.startswith("nengo_lmu.")):
            continue
        where = f"{name}:{line}"
        target = unit_of(mod)
        if target != unit and LAYERS[target] >= LAYERS[unit]:
            found.append(
                f"{where}: {unit} (layer {LAYERS[unit]}) imports {mod} (layer {LAYERS[target]})"
            )
        if (mod == APPS or mod.startswith(APPS + ".")) and not (
            unit == APPS or unit.startswith(APPS + ".")
        ):
            found.append(f"{where}: the library module {name} imports the application {mod}")
        if target != unit and any(p.startswith("_") for p in mod.split(".")):
            found.append(f"{where}: imports the private module {mod}")
        if mod != name:
            for n in names:
                if n.startswith("_") and not (n.startswith("__") and n.endswith("__")):
                    found.append(f"{where}: imports the private name {mod}.{n}")
    return found


def module_getattrs(path):
    """Lines of the module-level ``__getattr__`` / ``__dir__`` functions of a file.

    A module-level ``__getattr__`` serves names the module does not define
    (old names, lazy imports): every public name has one import path instead.
    """
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name in ("__getattr__", "__dir__")
    ]


def test_every_module_has_a_layer():
    assert FILES
    assert all(unit_of(module_name(p)) for p in FILES)


def test_imports_point_down_and_no_private_names():
    found = [v for path in FILES for v in file_violations(path)]
    assert found == []


def test_the_check_can_fail(tmp_path):
    # a function-local upward import and a private name are both seen
    bad = tmp_path / "probe.py"
    bad.write_text("def f():\n    from nengo_lmu.dl.training import _check\n")
    found = file_violations(bad, "nengo_lmu.networks.probe")
    assert any("networks (layer 3) imports nengo_lmu.dl.training (layer 4)" in f for f in found)
    assert any("private name nengo_lmu.dl.training._check" in f for f in found)
    bad.write_text("from nengo_lmu.loihi._compat import fanout\n")
    assert file_violations(bad, "nengo_lmu.apps.experiments.probe") == [
        "nengo_lmu.apps.experiments.probe:1: imports the private module nengo_lmu.loihi._compat"
    ]


def test_importlib_calls_are_seen(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import importlib\n"
        "def f():\n"
        "    return importlib.import_module('nengo_lmu.dl.training')\n"
        "def g():\n"
        "    return __import__('nengo_lmu.loihi')\n"
    )
    found = file_violations(bad, "nengo_lmu.networks.probe")
    assert found == [
        "nengo_lmu.networks.probe:3: nengo_lmu.networks (layer 3) imports nengo_lmu.dl.training (layer 4)",
        "nengo_lmu.networks.probe:5: nengo_lmu.networks (layer 3) imports nengo_lmu.loihi (layer 4)",
    ]
    # relative to the module's package, as import_module(".x", __package__)
    bad.write_text("from importlib import import_module\nm = import_module('..dl', 'x')\n")
    found = file_violations(bad, "nengo_lmu.networks.probe")
    assert found == [
        "nengo_lmu.networks.probe:2: nengo_lmu.networks (layer 3) imports nengo_lmu.dl (layer 4)"
    ]


def test_the_library_never_imports_the_applications():
    library = [p for p in FILES if not (module_name(p) + ".").startswith(APPS + ".")]
    assert len(library) > 20
    found = [v for p in library for v in file_violations(p) if "imports the application" in v]
    assert found == []


def test_the_boundary_check_can_fail(tmp_path):
    # even the top of the library (the package's __init__, the backends)
    # may not reach the applications, directly or through importlib
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import importlib\n"
        "from nengo_lmu.apps import data\n"
        "def f():\n"
        "    return importlib.import_module('nengo_lmu.apps.experiments.loihi')\n"
    )
    for name in ("nengo_lmu", "nengo_lmu.loihi", "nengo_lmu.loihi.probe"):
        found = [v for v in file_violations(bad, name) if "imports the application" in v]
        assert found == [
            f"{name}:2: the library module {name} imports the application nengo_lmu.apps.data",
            f"{name}:4: the library module {name} imports the application "
            "nengo_lmu.apps.experiments.loihi",
        ]
    # inside the applications, importing down the layers is fine
    bad.write_text("from nengo_lmu.apps.data import permuted_digits\n")
    assert file_violations(bad, "nengo_lmu.apps.experiments.probe") == []


def test_no_module_level_getattr():
    found = {module_name(p): module_getattrs(p) for p in FILES}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_getattr_check_can_fail(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "class A:\n"
        "    def __getattr__(self, name):\n"  # a class's own: fine
        "        raise AttributeError(name)\n"
        "\n"
        "def __getattr__(name):\n"
        "    raise AttributeError(name)\n"
    )
    assert module_getattrs(bad) == [5]
