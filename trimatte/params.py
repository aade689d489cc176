"""The one parameter-coercion path: text from the CLI or YAML → typed, checked values.

Stage dataclasses, pipeline configs (``Pipeline.from_dict``), the CLI's ``KEY=VALUE``
flags and training configs all go through :func:`coerce`, driven by the type hints
of the dataclass fields:

============================  ===========================================================
hint                          accepted
============================  ===========================================================
``float``                     numbers, and strings such as ``"1e-6"`` (YAML 1.1 reads
                              ``1e-6`` without a dot as a string)
``int``                       integers, and strings of integers (``"8"``); not floats
``bool``                      booleans, and ``true/false/yes/no/on/off/1/0`` in any case
``str``                       strings (and paths, stored as text)
``X | None``                  ``None``, ``"none"``/``"null"``/``"~"`` or whatever ``X`` accepts
``list[X]`` / ``tuple[X, ...]``  lists/tuples, or a comma-separated string (``"1,2,3"``)
``Literal[...]``              one of the listed values
anything else                 passed through unchanged
============================  ===========================================================

Errors are :class:`~trimatte.errors.ConfigError` with a one-line message naming the
owner (e.g. ``stage 'closed-form'``) and the parameter; an unknown parameter name is
answered with the closest valid names and the full list.

Example:
    >>> from dataclasses import dataclass
    >>> from trimatte.params import coerce_fields
    >>> @dataclass
    ... class Settings:
    ...     epsilon: float = 1e-7
    ...     steps: int | None = None
    >>> coerce_fields(Settings, {"epsilon": "1e-6", "steps": "8"})
    {'epsilon': 1e-06, 'steps': 8}
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import types
import typing
import warnings
from typing import Any

from trimatte.errors import ConfigError, InputError

__all__ = [
    "apply_renames",
    "check_choice",
    "check_range",
    "coerce",
    "coerce_fields",
    "coerce_instance",
    "field_hints",
    "parse_params",
    "unknown_name_message",
]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE = {"none", "null", "~"}


def _fail(name: str, expected: str, value: Any, source: object) -> typing.NoReturn:
    raise ConfigError(f"{name}: expected {expected}, got {value!r}", source)


def _split(value: Any, name: str, source: object) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and "," in value:
        return [part.strip() for part in value.strip("[]() ").split(",") if part.strip()]
    _fail(name, "a list", value, source)


def coerce(value: Any, hint: Any, name: str = "value", source: object = None) -> Any:
    """``value`` converted to the type ``hint`` (see the module table).

    Args:
        value: The raw value (a string from the command line, a YAML scalar, ...).
        hint: A type hint: ``int``, ``float``, ``bool``, ``str``, unions, ``list[X]``,
            ``tuple[X, ...]``, ``Literal[...]``; other hints pass the value through.
        name: The parameter name used in messages (``"optim.lr"``, ``"epsilon"``).
        source: What the value belongs to (a file, ``"stage 'dim'"``), the message prefix.

    Returns:
        The converted value.

    Raises:
        ConfigError: The value does not fit ``hint``; the message names ``name``.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if type(None) in options and (
            value is None or (isinstance(value, str) and value.strip().lower() in _NONE)
        ):
            return None
        errors: list[ConfigError] = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(value, option, name, source)
            except ConfigError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]
        _fail(name, "none", value, source)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value in allowed:
            return value
        raise ConfigError(
            f"{name}: must be one of {', '.join(map(repr, allowed))}, got {value!r}", source
        )
    if origin in (list, tuple):
        args = typing.get_args(hint)
        items = _split(value, name, source)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(items) != len(args):
                _fail(name, f"{len(args)} values", value, source)
            return tuple(coerce(v, a, f"{name}[{i}]", source) for i, (v, a) in
                         enumerate(zip(items, args, strict=True)))
        item = args[0] if args else Any
        out = [coerce(v, item, f"{name}[{i}]", source) for i, v in enumerate(items)]
        return tuple(out) if origin is tuple else out
    if hint is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        _fail(name, "true or false", value, source)
    if hint is int:
        if isinstance(value, bool):
            _fail(name, "an integer", value, source)
        if isinstance(value, int) or (hasattr(value, "dtype") and hasattr(value, "item")
                                      and isinstance(value.item(), int)
                                      and not isinstance(value.item(), bool)):
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        _fail(name, "an integer", value, source)
    if hint is float:
        if isinstance(value, bool):
            _fail(name, "a number", value, source)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                _fail(name, "a number", value, source)
        try:
            return float(value)
        except (TypeError, ValueError):
            _fail(name, "a number", value, source)
    if hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        _fail(name, "a string", value, source)
    return value


def check_range(
    value: Any,
    name: str,
    owner: object,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
) -> None:
    """Raise :class:`ConfigError` unless ``value`` is within the given bounds (None passes).

    Example:
        >>> check_range(-1.0, "epsilon", "stage 'closed-form'", gt=0)
        Traceback (most recent call last):
        ...
        trimatte.errors.ConfigError: stage 'closed-form': epsilon must be > 0, got -1.0
    """
    if value is None:
        return
    for bound, symbol, ok in (
        (ge, ">=", lambda v, b: v >= b),
        (gt, ">", lambda v, b: v > b),
        (le, "<=", lambda v, b: v <= b),
        (lt, "<", lambda v, b: v < b),
    ):
        if bound is not None and not ok(value, bound):
            raise ConfigError(f"{name} must be {symbol} {bound}, got {value!r}", owner)


def check_choice(value: Any, choices: typing.Sequence[str], what: str, source: object) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise :class:`InputError`.

    Example:
        >>> check_choice("warp", ("shift", "affine"), "motion", "motion")
        Traceback (most recent call last):
        ...
        trimatte.errors.InputError: motion: unknown motion 'warp'; choose among shift, affine
    """
    if value not in choices:
        raise InputError(f"unknown {what} {value!r}; choose among {', '.join(choices)}", source)
    return value


@functools.lru_cache(maxsize=256)
def field_hints(cls: type) -> dict[str, Any]:
    """``{field name: resolved type hint}`` of a dataclass's ``__init__`` fields."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls) if f.init}


def unknown_name_message(name: str, valid: list[str], what: str = "parameter") -> str:
    """``unknown parameter 'x'. Did you mean y? Valid: a, b, y`` (one line)."""
    close = difflib.get_close_matches(str(name), valid, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return f"unknown {what} {name!r}.{hint} Valid: {', '.join(valid) or '(none)'}"


def apply_renames(params: dict[str, Any], renamed: dict[str, str], owner: object = None) -> dict:
    """``params`` with old parameter names replaced by their new ones (a FutureWarning each).

    Args:
        params: Keyword parameters, possibly using old names.
        renamed: ``{old name: new name}``.
        owner: Names the owner in messages.

    Raises:
        ConfigError: Both the old and the new name are given.
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        new = renamed.get(key)
        if new is not None:
            if new in params:
                raise ConfigError(f"{key!r} is the old name of {new!r}; give only one", owner)
            warnings.warn(f"{owner}: parameter {key!r} is now called {new!r}", FutureWarning,
                          stacklevel=3)
            key = new
        out[key] = value
    return out


def coerce_fields(cls: type, params: dict[str, Any], owner: object = None) -> dict[str, Any]:
    """``params`` checked and converted against the fields of dataclass ``cls``.

    Args:
        cls: A dataclass (e.g. a stage class).
        params: Raw keyword parameters.
        owner: Names the owner in messages, e.g. ``"stage 'closed-form'"``.

    Raises:
        ConfigError: An unknown name (with the close matches and the valid names) or
            a value that does not fit its field's type.
    """
    hints = field_hints(cls)
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key not in hints:
            raise ConfigError(unknown_name_message(key, list(hints)), owner)
        out[key] = coerce(value, hints[key], key, owner)
    return out


def coerce_instance(obj: Any, owner: object = None) -> None:
    """Convert every field of the dataclass instance ``obj`` in place (see :func:`coerce`)."""
    for key, hint in field_hints(type(obj)).items():
        value = getattr(obj, key)
        converted = coerce(value, hint, key, owner)
        if converted is not value:
            object.__setattr__(obj, key, converted)


def parse_params(items: list[str], flag: str) -> dict[str, Any]:
    """``["band=20", "epsilon=1e-6"]`` → ``{"band": 20, "epsilon": "1e-6"}``.

    Values are read as YAML scalars, as in a pipeline config (dashes in keys become
    underscores); the stage they are for converts and checks them against its
    parameter types when it is built (:func:`coerce_fields`).

    Raises:
        InputError: An item without ``=`` or with an empty key; names ``flag``.
    """
    import yaml

    params: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"expected KEY=VALUE, got {item!r}", flag)
        try:
            params[key.strip().replace("-", "_")] = yaml.safe_load(value)
        except yaml.YAMLError:
            params[key.strip().replace("-", "_")] = value
    return params
