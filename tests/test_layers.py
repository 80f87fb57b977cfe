"""La maison : chaque module de helpers n'importe que les couches du dessous, sans cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import helpers

PACKAGE_DIR = Path(helpers.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem not in ("__init__", "__main__"))


def _helpers_imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """Every ``helpers.X`` imported anywhere in a module (function bodies included)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("helpers."):
                found.append((node.module.split(".")[1], node))
            elif node.module == "helpers":
                found += [(alias.name, node) for alias in node.names if alias.name in MODULES]
        elif isinstance(node, ast.Import):
            found += [
                (alias.name.split(".")[1], node)
                for alias in node.names
                if alias.name.startswith("helpers.")
            ]
    return found


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name in MODULES:
        tree = ast.parse((PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8"))
        graph[name] = {module for module, _ in _helpers_imports(tree)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_sees_a_cycle_through_three_modules():
    graph = {"export": {"quantization"}, "quantization": {"inspection"}, "inspection": {"export"}}
    assert find_cycle(graph) == ["export", "quantization", "inspection", "export"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_helpers_modules():
    assert find_cycle(import_graph()) is None


def test_every_module_is_in_the_layer_table():
    assert sorted(helpers.LAYERS) == MODULES
    for name in MODULES:
        assert f"``{name}``" in helpers.__doc__, f"{name} manque au tableau des couches"


def test_each_module_imports_only_the_layers_below_it():
    rank = {name: index for index, name in enumerate(helpers.LAYERS)}
    for name, targets in import_graph().items():
        above = sorted(t for t in targets if rank[t] >= rank[name])
        assert not above, f"helpers.{name} importe {above}, qui ne sont pas en dessous de lui"


def test_helpers_imports_sit_at_the_top_of_each_module():
    for name in MODULES:
        tree = ast.parse((PACKAGE_DIR / f"{name}.py").read_text(encoding="utf-8"))
        # Inside a function or a class: hidden from a reader of the file's head (a module-level
        # try/except ImportError, as in pi_detector.py, stays at the top).
        bodies = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        nested_ids = {id(inner) for body in bodies for inner in ast.walk(body)}
        nested = [
            f"{name}.py:{node.lineno}"
            for _, node in _helpers_imports(tree)
            if id(node) in nested_ids
        ]
        assert not nested, f"import de helpers dans une fonction : {nested}"


def test_bench_scripts_import_names_that_exist():
    # The benchmarks are not run by the suite: a renamed helper must not break them silently.
    import importlib
    import importlib.util

    for path in sorted((PACKAGE_DIR.parent / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    # A name, or a submodule (from helpers import demo_data).
                    found = hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    )
                    assert found, f"{path.name} : {node.module}.{alias.name}"
