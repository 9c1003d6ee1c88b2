"""What vetting produces: ``VettedModule`` with its entry points and storage declarations,
and the entry-point summary ``pycontract check`` prints (``summary``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
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

#: ``pycontract check`` lists constructor, then public, then view entry points (each by name)
_KIND_ORDER = {"constructor": 0, "public": 1, "view": 2}


def summary(module) -> str:
    """The entry points of ``module`` (a VettedModule or CompiledContract) as ``pycontract
    check`` prints them after "FILE: ok: ". That text is public: keep it byte for byte."""
    eps = sorted(module.entry_points.values(), key=lambda ep: (_KIND_ORDER.get(ep.kind, 3), ep.name))
    parts = []
    for ep in eps:
        params = ", ".join(f"{p.name}: {p.annotation}" if p.annotation else p.name for p in ep.params)
        parts.append(f"{ep.kind} {ep.name}({params})")
    return "; ".join(parts) if parts else "no entry points"
