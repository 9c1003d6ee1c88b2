"""What vetting produces: ``VettedModule`` with its entry points and storage declarations,
and the one-line entry-point summary ``pycontract check`` prints.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------- output types


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str | None
    has_default: bool
    default: Any = None


@dataclass(frozen=True)
class EntryPoint:
    name: str
    kind: str  # "public" | "view" | "constructor"
    params: tuple[Param, ...]
    returns: str | None
    line: int


@dataclass(frozen=True)
class StorageDecl:
    name: str
    kind: str  # "map" | "value"
    default: Any = None


@dataclass(frozen=True)
class VettedModule:
    tree: ast.Module
    source: str
    filename: str
    imports: dict  # local name -> API name
    entry_points: dict  # name -> EntryPoint, in source order
    storage: dict  # name -> StorageDecl, in source order
    functions: frozenset  # every module-level function name (entry points included)

def summary(vetted: VettedModule) -> str:
    """One line for ``pycontract check``: the contract's entry points in source order."""
    name = Path(vetted.filename).stem if vetted.filename else "contract"
    eps = sorted(vetted.entry_points.values(), key=lambda e: (e.line, e.name))
    n = len(eps)
    parts = []
    for ep in eps:
        params = []
        for p in ep.params:
            s = p.name if p.annotation is None else f"{p.name}: {p.annotation}"
            if p.has_default:
                s += f" = {p.default!r}"
            params.append(s)
        s = f"{ep.kind} {ep.name}({', '.join(params)})"
        if ep.returns is not None and ep.returns != "None":
            s += f" -> {ep.returns}"
        parts.append(s)
    head = f"{name}: {n} entry point{'' if n == 1 else 's'}"
    return head + (": " + "; ".join(parts) if parts else "")

