"""La maison : chaque module de helpers n'importe que les étages du dessous, sans cycle.

Les étages sont les dossiers de ``helpers`` (``helpers.TIERS``, du bas vers le haut) : un
module peut importer un module d'un étage inférieur, ou de son propre étage placé avant lui.
Les scripts de la Pi (``helpers/pi``) n'importent rien du paquet : ils partent seuls sur la
Raspberry Pi.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import helpers

PACKAGE_DIR = Path(helpers.__file__).parent
PI_TIER, PI_MODULES = helpers.STANDALONE
# Only the command line may import a Pi script: it shares their French argument parser, a rule
# the scripts must carry themselves since they import nothing of helpers.
MAY_IMPORT_PI = {"cli"}


def module_files() -> dict[str, Path]:
    """Every module of the package, by dotted name relative to helpers ("steps.calibration")."""
    found = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        found[".".join(parts)] = path
    return found


def rank_of() -> dict[str, tuple[int, int]]:
    """(tier, position in the tier) of each module; the cli tier is the top-level cli.py."""
    ranks = {}
    for tier_index, (tier, modules) in enumerate(helpers.TIERS):
        for position, module in enumerate(modules):
            name = "cli" if tier == "cli" else f"{tier}.{module}"
            ranks[name] = (tier_index, position)
    return ranks


def helpers_imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """Every helpers module imported anywhere in a module (function bodies included)."""
    known = set(module_files())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("helpers."):
                target = node.module.removeprefix("helpers.")
                if target in known:
                    found.append((target, node))
                else:  # from helpers.steps import calibration
                    found += [(f"{target}.{a.name}", node) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [
                (alias.name.removeprefix("helpers."), node)
                for alias in node.names
                if alias.name.startswith("helpers.")
            ]
    return found


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in module_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {module for module, _ in helpers_imports(tree)}
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


def layer_violations(graph: dict[str, set[str]], ranks: dict[str, tuple[int, int]]) -> list[str]:
    """What each module imports against the tiers, said in French."""
    wrong = []
    pi_modules = {f"{PI_TIER}.{m}": i for i, m in enumerate(PI_MODULES)}
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if name in pi_modules:
                if target not in pi_modules or pi_modules[target] >= pi_modules[name]:
                    wrong.append(f"{name} (script de la Pi, autonome) importe helpers.{target}")
            elif target in pi_modules:
                if name not in MAY_IMPORT_PI:
                    wrong.append(f"{name} importe le script de la Pi {target}")
            elif ranks[target] >= ranks[name]:
                wrong.append(f"{name} importe {target}, qui n'est pas en dessous de lui")
    return wrong


def test_find_cycle_sees_a_cycle_through_three_modules():
    graph = {"export": {"quantization"}, "quantization": {"inspection"}, "inspection": {"export"}}
    assert find_cycle(graph) == ["export", "quantization", "inspection", "export"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_layer_violations_sees_an_upward_import_a_sideways_one_and_a_pi_script_leaning_on_helpers():
    ranks = rank_of()
    graph = {
        "core.runtime": {"steps.export"},  # upward: a tier above
        "steps.calibration": {"steps.export"},  # sideways: later in the same tier
        "pi.detecter": {"core.images"},  # the Pi script would break on the Pi
        "steps.export": {"pi.classer"},  # only the command line shares the Pi parser
        "steps.detection": {"steps.calibration", "core.images"},  # fine
    }
    assert layer_violations(graph, ranks) == [
        "core.runtime importe steps.export, qui n'est pas en dessous de lui",
        "pi.detecter (script de la Pi, autonome) importe helpers.core.images",
        "steps.calibration importe steps.export, qui n'est pas en dessous de lui",
        "steps.export importe le script de la Pi pi.classer",
    ]


def test_no_import_cycle_among_helpers_modules():
    assert find_cycle(import_graph()) is None


def test_every_module_sits_in_a_tier_named_by_its_folder():
    ranks = rank_of()
    pi_modules = {f"{PI_TIER}.{m}" for m in PI_MODULES}
    assert sorted(module_files()) == sorted([*ranks, *pi_modules])
    for tier, modules in helpers.TIERS:
        assert f"``{tier}``" in helpers.__doc__, f"l'étage {tier} manque au tableau"
        if tier != "cli":
            assert (
                (PACKAGE_DIR / tier / "__init__.py").read_text(encoding="utf-8").startswith('"""')
            )
        for module in modules:
            assert f"``{module}``" in helpers.__doc__, f"{module} manque au tableau des étages"


def test_each_module_imports_only_the_tiers_below_it():
    assert layer_violations(import_graph(), rank_of()) == []


@pytest.mark.parametrize("name", sorted(module_files()))
def test_helpers_imports_are_absolute_and_at_the_top_of_each_module(name):
    tree = ast.parse(module_files()[name].read_text(encoding="utf-8"))
    # A relative import hides the tier it reaches; the Pi scripts even run outside the package.
    relative = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert not relative, f"import relatif dans {name}, lignes {relative}"
    # Inside a function or a class: hidden from a reader of the file's head (a module-level
    # try/except ImportError, as in pi/detecter.py, stays at the top).
    bodies = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    nested_ids = {id(inner) for body in bodies for inner in ast.walk(body)}
    nested = [node.lineno for _, node in helpers_imports(tree) if id(node) in nested_ids]
    assert not nested, f"import de helpers dans une fonction de {name}, lignes {nested}"


def test_bench_scripts_import_names_that_exist():
    # The benchmarks are not run by the suite: a renamed helper must not break them silently.
    import importlib
    import importlib.util

    for path in sorted((PACKAGE_DIR.parent / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    # A name, or a submodule (from helpers.demo import data).
                    found = hasattr(module, alias.name) or importlib.util.find_spec(
                        f"{node.module}.{alias.name}"
                    )
                    assert found, f"{path.name} : {node.module}.{alias.name}"
