"""The layering rule of docs/ARCHITECTURE.md, checked on the source: a layer imports only
itself and the layers below it (model < store < snapshot < dataplane < analysis < flowlogs <
dns < lattice < cloudwan < api < cli).

Every import counts, wherever it is written: module level, inside a function (a deferred
import is still a dependency) and under ``TYPE_CHECKING`` (naming a higher layer's class ties
the lower layer to it; ``dns/source.py`` names a Protocol instead for that reason).

Run as a script (``python tests/model/test_layering.py``) to print every violation.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "localvpc"

LAYERS = ("model", "store", "snapshot", "dataplane", "analysis", "flowlogs", "dns", "lattice",
          "cloudwan", "api", "cli")
RANK = {name: i for i, name in enumerate(LAYERS)}

# Known violations, as (importing module, imported module): debts to pay back, never a way to
# admit a new upward import. None today.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Violation:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        path = self.importer.replace(".", "/")
        return (f"src/{path}.py:{self.line}: {layer_of(self.importer)} imports "
                f"{self.imported} ({layer_of(self.imported)})")


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    """``localvpc.<layer>...`` -> the layer; the root package and ``__main__`` have none."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "localvpc" and parts[1] in RANK:
        return parts[1]
    return None


def imports_of(path: Path, src: Path = SRC) -> list[tuple[str, int]]:
    """Every ``localvpc`` module ``path`` imports, with the line, relative imports resolved."""
    module = module_name(path, src)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "localvpc":  # ``from localvpc import dns``: each name may be a layer
                found += [(f"localvpc.{alias.name}", node.lineno) for alias in node.names]
            else:
                found.append((target, node.lineno))
    return sorted(((name, line) for name, line in found
                   if name == "localvpc" or name.startswith("localvpc.")),
                  key=lambda found_import: found_import[1])


def root_rank(src: Path = SRC) -> int:
    """The root package (``import localvpc``) counts as the highest layer it imports."""
    ranks = [RANK[layer] for name, _ in imports_of(src / "__init__.py", src)
             if (layer := layer_of(name)) is not None]
    return max(ranks, default=0)


def violations(src: Path = SRC) -> list[Violation]:
    found: list[Violation] = []
    top = root_rank(src)
    for path in sorted(src.rglob("*.py")):
        importer = module_name(path, src)
        own = layer_of(importer)
        if own is None:  # the root package and ``python -m localvpc`` sit above the layers
            continue
        for imported, line in imports_of(path, src):
            layer = layer_of(imported)
            rank = top if imported == "localvpc" else (RANK[layer] if layer else None)
            if rank is not None and rank > RANK[own]:
                found.append(Violation(importer, imported, line))
    return found


def test_every_layer_is_known() -> None:
    """A new top-level package must be placed in the order (here and in ARCHITECTURE.md)."""
    packages = {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert packages == set(LAYERS)


def test_import_finder_sees_every_form(tmp_path: Path) -> None:
    """The checker itself: absolute, relative, deferred and TYPE_CHECKING imports count,
    and only upward ones are violations."""
    src = tmp_path / "localvpc"
    (src / "dns").mkdir(parents=True)
    (src / "__init__.py").write_text("from localvpc.model import x\n")
    (src / "dns" / "__init__.py").write_text("")
    (src / "dns" / "m.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import localvpc.model.base\n"
        "from ..api import server\n"
        "from . import names\n"
        "if TYPE_CHECKING:\n"
        "    from localvpc.cli.main import app\n"
        "def f():\n"
        "    import localvpc.lattice.proxy\n"
        "from localvpc import api, store\n"
        "import localvpc\n")
    assert imports_of(src / "dns" / "m.py", src) == [
        ("localvpc.model.base", 2), ("localvpc.api", 3), ("localvpc.dns", 4),
        ("localvpc.cli.main", 6), ("localvpc.lattice.proxy", 8), ("localvpc.api", 9),
        ("localvpc.store", 9), ("localvpc", 10)]
    assert [(v.imported, v.line) for v in violations(src)] == [
        ("localvpc.api", 3), ("localvpc.cli.main", 6), ("localvpc.lattice.proxy", 8),
        ("localvpc.api", 9)]


def test_no_layer_imports_a_higher_one() -> None:
    found = violations()
    new = [str(v) for v in found if (v.importer, v.imported) not in ALLOWED]
    assert new == [], "imports of a higher layer:\n" + "\n".join(new)
    stale = ALLOWED - {(v.importer, v.imported) for v in found}
    assert not stale, f"fixed, remove from ALLOWED: {sorted(stale)}"


if __name__ == "__main__":
    problems = violations()
    for problem in problems:
        print(problem)
    print(f"{len(problems)} violation(s)", file=sys.stderr)
    sys.exit(1 if problems else 0)
