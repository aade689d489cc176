"""Every subpackage has an explicit public face: an ``__all__`` whose names all exist."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "trimatte"
INITS = sorted(PACKAGE.rglob("__init__.py"))


def _declared_all(path: Path) -> list[str] | None:
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return list(ast.literal_eval(node.value))
    return None


@pytest.mark.parametrize("init", INITS, ids=lambda p: str(p.parent.relative_to(PACKAGE.parent)))
def test_subpackage_declares_all_and_every_name_exists(init):
    names = _declared_all(init)
    assert names is not None, f"{init} has no __all__"
    assert len(names) == len(set(names)), "duplicate names in __all__"
    package = ".".join(init.parent.relative_to(PACKAGE.parent).parts)
    module = importlib.import_module(package)
    for name in names:
        found = hasattr(module, name) or importlib.util.find_spec(f"{package}.{name}") is not None
        assert found, f"{package}.__all__ names {name!r}, which does not exist"
