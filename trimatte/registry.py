"""A generic name → class registry, so that things (stages, models) can be named in a config.

The registry knows nothing about what it holds: the pipeline stage registry
:data:`trimatte.pipeline.STAGES` is one instance, defined beside
:class:`~trimatte.pipeline.Stage`, and built-in stages register themselves when
:mod:`trimatte.stages` is imported (``import trimatte`` does that).

Example:
    >>> from trimatte.registry import Registry
    >>> SHAPES = Registry("shape")
    >>> @SHAPES.register("square")
    ... class Square:
    ...     def __init__(self, side=1): self.side = side
    >>> SHAPES.build("square", side=2).side
    2
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from trimatte.errors import ConfigError
from trimatte.params import apply_renames, coerce_fields

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """A mapping from short names to classes (or factories) of one kind.

    Args:
        kind: What is registered ("stage", "model", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering a class or factory under ``name``.

        A class gets a ``registry_name`` attribute equal to ``name``.

        Raises:
            ValueError: Another object is already registered under ``name``.
        """

        def decorator(obj: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = obj
            if isinstance(obj, type):
                obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return decorator

    def unregister(self, name: str) -> Callable[..., T]:
        """Remove the entry ``name`` and return it (e.g. a stage defined by a test).

        Raises:
            InputError: Nothing is registered under ``name``.
        """
        entry = self.get(name)
        del self._entries[name]
        return entry

    @contextlib.contextmanager
    def registered(self, name: str, obj: Callable[..., T]) -> Iterator[Callable[..., T]]:
        """Context manager: ``obj`` is registered as ``name`` inside the block only.

        Example:
            >>> from trimatte.registry import Registry
            >>> REG = Registry("thing")
            >>> with REG.registered("one", int):
            ...     REG.build("one")
            0
            >>> "one" in REG
            False
        """
        self.register(name)(obj)
        try:
            yield obj
        finally:
            if self._entries.get(name) is obj:
                del self._entries[name]

    def get(self, name: str) -> Callable[..., T]:
        """The entry registered as ``name``.

        Raises:
            ConfigError: Unknown name; the message lists the close matches and all names.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), self._entries, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(
                f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(self.names())}",
                self.kind,
            ) from None

    def build(self, name: str, **params: Any) -> T:
        """Instantiate the entry ``name`` with keyword ``params``.

        For a dataclass entry the parameters are first converted and checked
        against its fields' type hints (:func:`trimatte.params.coerce_fields`):
        ``"1e-6"`` becomes a float, and an unknown name is reported with the close
        matches and the valid names. An entry with a ``renamed`` attribute (``{old
        name: new name}``) also accepts the old names, with a FutureWarning.

        Raises:
            ConfigError: Unknown name, unknown parameter or a value of the wrong type
                or range; the message names the entry and the parameter.
        """
        factory = self.get(name)
        renamed = getattr(factory, "renamed", None)
        if renamed:
            params = apply_renames(params, renamed, f"{self.kind} {name!r}")
        if dataclasses.is_dataclass(factory):
            params = coerce_fields(factory, params, owner=f"{self.kind} {name!r}")
        try:
            return factory(**params)
        except TypeError as exc:
            raise ConfigError(f"bad parameters for {self.kind} {name!r}: {exc}", name) from exc

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
