"""The package's shape: each module imports only modules below it, and none grows too long."""
import ast
from pathlib import Path

import coursekit

PACKAGE = Path(coursekit.__file__).parent

# The order of ARCHITECTURE.md: a module may import only modules of an earlier layer (or its own
# package's earlier modules). Names are dotted paths under coursekit; a package stands for its modules.
LAYERS = [
    {"deadline", "files", "profiles", "stats"},
    {"augment"},
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
    {"cli"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    for i, layer in enumerate(LAYERS):
        if top in layer:
            return i
    raise AssertionError(f"coursekit.{module} has no place in the layer order of tests/test_layout.py")


def dotted(path: Path) -> str:
    """``coursekit.experiments.core`` for ``experiments/core.py``; a package's ``__init__`` is the package."""
    return ".".join(["coursekit", *path.relative_to(PACKAGE).with_suffix("").parts]).removesuffix(".__init__")


def imported(path: Path) -> set[str]:
    """The coursekit modules that ``path`` imports (at any depth: lazy imports count too), without ``coursekit.``."""
    known = {dotted(p) for p in modules()}
    name = dotted(path)
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
            if not target.startswith("coursekit"):
                continue
            for alias in node.names:  # `from . import data` imports the module coursekit.data
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("coursekit."))
    return {f.removeprefix("coursekit.") for f in found if f != "coursekit"}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


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
    graph = {dotted(p).removeprefix("coursekit."): imported(p) for p in modules()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 1:
            raise AssertionError("import circle: " + " -> ".join([*trail, node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt != node and nxt.split(".")[0] == node.split(".")[0] and "." in nxt:
                visit(nxt, [*trail, node])
        state[node] = 2

    for node in graph:
        visit(node, [])


def test_no_module_is_over_about_400_lines():
    long = {p.relative_to(PACKAGE).as_posix(): n for p in modules() if (n := len(p.read_text().splitlines())) > 420}
    assert not long, f"modules over 420 lines: {long}"
