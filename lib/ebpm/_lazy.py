"""Lazy re-exports for package ``__init__`` files, so that importing a package loads nothing heavy."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def lazy_exports(
    package: str,
    exports: dict[str, str],
    wrap: Callable[[Any], Any] | None = None,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` for a package that re-exports ``name -> module``.

    A name is imported from its module on first use and then cached in the package namespace.
    ``wrap`` is applied to each exported plain function (``ebpm`` uses it to turn a call with an
    unknown or missing argument into a Japanese error).
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        if wrap is not None:
            import inspect  # here, not at the top: `import ebpm` (every CLI command) stays light

            if inspect.isfunction(value):
                value = wrap(value)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
