"""The one-way imports of DESIGN.md, enforced on the source tree (AST, no imports executed)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"simulator": "gridtwin.simulator", "fixtures": "gridtwin.fixtures", "contracts": "gridtwin.contracts"}

# what each layer may import from the project and from third parties (stdlib is always allowed)
PROJECT_ALLOWED = {
    "gridtwin.simulator.physics": {
        "gridtwin.simulator.physics", "gridtwin.simulator.errors", "gridtwin.simulator.units",
    },
    "gridtwin.simulator": {"gridtwin.simulator"},
    "gridtwin.contracts": {"gridtwin.contracts"},
    # the fixtures see the simulator only through its public door
    "gridtwin.fixtures": {"gridtwin.fixtures", "gridtwin.contracts", "gridtwin.simulator.runtime",
                          "gridtwin.simulator.state", "gridtwin.simulator.commands"},
}
THIRD_PARTY_ALLOWED = {
    "gridtwin.simulator.physics": {"numpy", "pvlib", "pandas"},
    "gridtwin.simulator": {"numpy", "simpy", "yaml", "faker", "pvlib", "pandas"},
    "gridtwin.contracts": {"schemathesis", "hypothesis", "httpx", "pydantic", "yaml", "rich", "click"},
    "gridtwin.fixtures": {"fastapi", "httpx", "sqlalchemy", "alembic", "uvicorn", "pydantic", "starlette", "rich",
                          "matplotlib", "numpy", "yaml", "pytest", "hypothesis", "schemathesis"},
}


def _modules() -> list[tuple[str, Path]]:
    out = []
    for folder, dotted in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out.append((".".join([dotted, *parts]), path))
    return out


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - (node.level - 1)]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from pkg import name` is checked as `pkg.name` (a submodule or a member)
            found.update(f"{module}.{a.name}" for a in node.names)
    return found


def _layer(module: str) -> str:
    if module.startswith("gridtwin.simulator.physics"):
        return "gridtwin.simulator.physics"
    return ".".join(module.split(".")[:2])


def _stdlib(name: str) -> bool:
    import sys

    return name.split(".")[0] in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_follow_the_one_way_arrows(module: str, path: Path) -> None:
    bad = _violations(module, path)
    assert not bad, f"{module} ({_layer(module)}) imports what its layer may not: {bad}"


def _violations(module: str, path: Path) -> list[str]:
    layer = _layer(module)
    bad = []
    for name in sorted(_imports(module, path)):
        if _stdlib(name):
            continue
        if name.startswith("gridtwin"):
            if not any(name == a or name.startswith(a + ".") for a in PROJECT_ALLOWED[layer]):
                bad.append(name)
        elif name.split(".")[0] not in THIRD_PARTY_ALLOWED[layer]:
            bad.append(name)
    return bad


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    """The checker itself must flag a simulator module that imports the fixtures, and the fixtures
    reaching past the runtime into the kernel."""
    bad = tmp_path / "bad.py"
    bad.write_text("from gridtwin.fixtures import cli\nimport fastapi\nfrom . import world\n")
    assert _violations("gridtwin.simulator.bad", bad) == ["fastapi", "gridtwin.fixtures.cli"]
    deep = tmp_path / "deep.py"
    deep.write_text("from gridtwin.simulator.world import World\nfrom gridtwin.simulator import runtime\n")
    assert _violations("gridtwin.fixtures.deep", deep) == ["gridtwin.simulator.world.World"]


UNIFIED = "gridtwin.fixtures.unified"


def _unified_violations(module: str, path: Path) -> list[str]:
    """The unified API reaches the fakes over HTTP only: nothing of the simulator, the fakes or the rest
    of the fixtures (the composition root ``world.py`` wires it up from outside)."""
    return sorted(n for n in _imports(module, path)
                  if n.startswith("gridtwin") and not (n == UNIFIED or n.startswith(UNIFIED + ".")))


@pytest.mark.parametrize(("module", "path"), [m for m in _modules() if m[0].startswith(UNIFIED)],
                         ids=lambda v: v if isinstance(v, str) else "")
def test_the_unified_api_never_reads_the_simulator(module: str, path: Path) -> None:
    assert not _unified_violations(module, path), f"{module} imports {_unified_violations(module, path)}"


def test_the_unified_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from gridtwin.simulator.runtime import Runtime\nfrom ...vendors import tesla\nfrom . import db\n")
    found = _unified_violations(f"{UNIFIED}.adapters.bad", bad)
    assert any(n.startswith("gridtwin.simulator.runtime") for n in found)
    assert any(n.startswith("gridtwin.fixtures.vendors") for n in found)
    assert not any(n.startswith(UNIFIED) for n in found)
