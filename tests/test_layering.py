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
    "nengo_lmu.audio": 1,
    "nengo_lmu.discrete_lif": 2,
    "nengo_lmu.networks.build_progress": 2.5,
    "nengo_lmu.networks.neural_plan": 2.5,
    "nengo_lmu.networks.sequence_runner": 2.5,
    "nengo_lmu.networks": 3,
    "nengo_lmu.dl": 4,
    "nengo_lmu.loihi": 4,
    "nengo_lmu.speech": 3.5,
    "nengo_lmu.text": 3.5,
    "nengo_lmu.data": 5,
    "nengo_lmu.tasks": 5,
    "nengo_lmu.plots": 5,
    "nengo_lmu.experiments": 6,
    "nengo_lmu.cli": 7,
    "nengo_lmu": 7,  # the package's own __init__: the public face
}


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
        if target != unit and any(p.startswith("_") for p in mod.split(".")):
            found.append(f"{where}: imports the private module {mod}")
        if mod != name:
            for n in names:
                if n.startswith("_") and not (n.startswith("__") and n.endswith("__")):
                    found.append(f"{where}: imports the private name {mod}.{n}")
    return found


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
    assert file_violations(bad, "nengo_lmu.experiments.probe") == [
        "nengo_lmu.experiments.probe:1: imports the private module nengo_lmu.loihi._compat"
    ]
