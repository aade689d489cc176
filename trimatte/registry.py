"""Name → class registries, so stages (and models) can be named in a config.

Example:
    >>> from trimatte.registry import STAGES
    >>> stage = STAGES.build("closed-form", epsilon=1e-7)  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from trimatte.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from short names to classes (or factories) of one kind.

    Args:
        kind: What is registered ("stage", "model", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a class or factory under ``name``."""

        def decorator(obj: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            if isinstance(obj, type):
                obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return decorator

    def get(self, name: str) -> Callable[..., T]:
        """The entry registered as ``name``.

        Raises:
            InputError: Unknown name; the message lists the close matches and all names.
        """
        _load_builtin_stages()
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise InputError(
                f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}",
                self.kind,
            ) from None

    def build(self, name: str, **params: Any) -> T:
        """Instantiate the entry ``name`` with keyword ``params``."""
        factory = self.get(name)
        try:
            return factory(**params)
        except TypeError as exc:
            raise InputError(f"bad parameters for {self.kind} {name!r}: {exc}", name) from exc

    def names(self) -> list[str]:
        """All registered names, sorted."""
        _load_builtin_stages()
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        _load_builtin_stages()
        return name in self._entries


def _load_builtin_stages() -> None:
    # Stages register themselves on import; importing here lets the registry be
    # used without the caller knowing which modules define which stages.
    import trimatte.stages  # noqa: F401


STAGES: Registry = Registry("stage")
