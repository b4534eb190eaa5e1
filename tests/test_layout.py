"""The package's shape: each module imports only modules below it, and none grows too long."""
import ast
from pathlib import Path

import pytest

import coursekit

PACKAGE = Path(coursekit.__file__).parent

# The order of ARCHITECTURE.md: a module may import only modules of an earlier layer (or its own
# package's earlier modules). Names are dotted paths under coursekit; a package stands for its modules.
LAYERS = [
    {"files"},
    {"i18n"},
    {"metrics", "profiles", "regression", "stats"},
    {"augment", "results", "runs", "runtime"},
    {"data"},
    {"models"},
    {"train"},
    {"diagnostics", "fast"},
    {"transfer"},
    {"fewshot", "detection"},
    {"store"},
    {"experiments"},
    {"tables", "plan"},
    {"figures"},
    {"book"},
    {"editions"},
    {"cli"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"coursekit.{module} has no place in the layer order of tests/test_layout.py")


def dotted(path: Path, root: Path = PACKAGE) -> str:
    """``coursekit.experiments.core`` for ``experiments/core.py``; a package's ``__init__`` is the package."""
    return ".".join([root.name, *path.relative_to(root).with_suffix("").parts]).removesuffix(".__init__")


def imported(path: Path, root: Path = PACKAGE) -> set[str]:
    """The coursekit modules that ``path`` imports (at any depth: lazy imports count too), without ``coursekit.``.

    A name imported from a package's ``__init__`` (``from . import register`` in ``models/resnet.py``,
    or ``from coursekit.models import create``) counts as importing the package itself (``models``).
    """
    top = root.name
    known = {dotted(p, root) for p in modules(root)}
    name = dotted(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != top:
                continue
            for alias in node.names:  # `from . import data` imports the module coursekit.data
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(f"{top}."))
    return {f.removeprefix(f"{top}.") for f in found if f != top}


def modules(root: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in root.rglob("*.py"))


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Each module (a package's ``__init__`` as the package) and the coursekit modules it imports."""
    return {dotted(p, root).removeprefix(f"{root.name}."): imported(p, root) for p in modules(root)}


def circle_inside_a_package(graph: dict[str, set[str]]) -> list[str] | None:
    """The first import circle among modules of one top-level package, or ``None``.

    A package is a node like its modules: ``models/__init__.py`` importing ``models.resnet`` while
    ``models/resnet.py`` imports a name from ``models/__init__.py`` is the circle
    ``models -> models.resnet -> models``. (A submodule is not taken to import its package merely by
    being inside it, only when it names the package or a name defined in its ``__init__``.)
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> list[str] | None:
        if state.get(node) == 1:
            return [*trail[trail.index(node):], node]
        if state.get(node) == 2:
            return None
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt != node and nxt.split(".")[0] == node.split(".")[0]:
                if circle := visit(nxt, [*trail, node]):
                    return circle
        state[node] = 2
        return None

    for node in sorted(graph):
        if circle := visit(node, []):
            return circle
    return None


def test_every_module_imports_only_modules_below_it():
    for path in modules():
        name = dotted(path).removeprefix("coursekit").lstrip(".")
        if not name:
            continue
        for target in imported(path):
            if target.split(".")[0] == name.split(".")[0]:
                continue  # within one package (experiments.core from experiments.vit, ...): see the next test
            assert layer_of(target) < layer_of(name), f"coursekit.{name} imports coursekit.{target}, which is not below it"


def test_no_import_circle_inside_a_package():
    circle = circle_inside_a_package(import_graph())
    assert circle is None, "import circle: " + " -> ".join(circle or [])


PACKAGE_INIT = "from .registry import register\nfrom . import resnet\n"


@pytest.mark.parametrize("resnet_imports, circle", [
    ("from . import register", ["models", "models.resnet", "models"]),
    ("from coursekit.models import register", ["models", "models.resnet", "models"]),
    ("from .. import models", ["models", "models.resnet", "models"]),
    ("from .registry import register", None),
])
def test_the_circle_check_sees_a_module_importing_its_own_package(tmp_path, resnet_imports, circle):
    """The circle the check once missed: ``models/__init__`` imports ``models.resnet``, which imports the package."""
    root = tmp_path / "coursekit"
    (root / "models").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "models" / "__init__.py").write_text(PACKAGE_INIT)
    (root / "models" / "registry.py").write_text("def register(fn):\n    return fn\n")
    (root / "models" / "resnet.py").write_text(resnet_imports + "\n")
    assert circle_inside_a_package(import_graph(root)) == circle


def test_no_module_is_over_about_400_lines():
    long = {p.relative_to(PACKAGE).as_posix(): n for p in modules() if (n := len(p.read_text().splitlines())) > 420}
    assert not long, f"modules over 420 lines: {long}"
