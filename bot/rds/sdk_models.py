"""The RDS SDK's request and response classes, imported one API at a time.

``alibabacloud_rds20140815.models`` imports every one of its 1,277 modules (each
class of each of the ~400 RDS APIs): about 15 MB the bot would keep for good and
most of the SDK's import time, for the dozen APIs it calls. :func:`install` puts
the same package in its place before the SDK's client imports it, unexecuted
(same path, so its modules import as usual), whose classes are imported the
first time they are named, from the map of names to modules that the package's
own ``__init__.py`` declares. A package laid out some other way (a future SDK) is
left alone and imported whole, as before.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "alibabacloud_rds20140815.models"
_lock = threading.Lock()


def install() -> bool:
    """Make ``alibabacloud_rds20140815.models`` import its classes on first use; True when it does
    (now or already), False when the package was imported whole (already, or its layout is unknown)."""
    with _lock:
        loaded = sys.modules.get(PACKAGE)
        if loaded is not None:
            return getattr(loaded, "__getattr__", None) is not None
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or spec.origin is None or spec.submodule_search_locations is None:
            return False
        where = declared_names(Path(spec.origin).read_text(encoding="utf-8"))
        if not where:
            return False
        module = importlib.util.module_from_spec(spec)
        module.__getattr__ = _loader(module, where)  # type: ignore[attr-defined]
        sys.modules[PACKAGE] = module
        parent, _, child = PACKAGE.rpartition(".")
        setattr(importlib.import_module(parent), child, module)
        return True


def declared_names(init_source: str) -> dict[str, str] | None:
    """Class name -> the submodule defining it, from ``from ._module import A, B`` lines; None when the
    file does anything else (then only running it says what the package holds)."""
    where: dict[str, str] = {}
    for node in ast.parse(init_source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            where.update({alias.asname or alias.name: f".{node.module}" for alias in node.names})
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            continue
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            return None
    return where


def _loader(module: ModuleType, where: dict[str, str]) -> Any:
    def __getattr__(name: str) -> Any:  # noqa: N807 - the module attribute hook (PEP 562)
        submodule = where.get(name)
        if submodule is None:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(submodule, PACKAGE), name)
        setattr(module, name, value)  # next time a plain attribute
        return value

    return __getattr__
