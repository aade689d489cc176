"""Exceptions and warnings raised by trimatte.

Every error that comes from user input says *which* input (file name or
argument) and *what* is wrong with it, so that a user never has to read a
traceback from deep inside NumPy or OpenCV.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InputError",
    "ModelUnavailableError",
    "TrimapError",
    "TrimatteError",
    "TrimatteWarning",
]


class TrimatteError(Exception):
    """Base class of all trimatte errors."""


class InputError(TrimatteError, ValueError):
    """An input (file, array or argument) is unusable.

    Args:
        message: What is wrong.
        source: Where the input came from (a path or an argument name), if known.
    """

    def __init__(self, message: str, source: object | None = None) -> None:
        self.source = source
        self.reason = message
        super().__init__(f"{source}: {message}" if source is not None else message)


class TrimapError(InputError):
    """A trimap is malformed or cannot be matted (e.g. no foreground pixels)."""


class ConfigError(InputError):
    """A configuration is unusable: an unknown stage or parameter, or a value of the
    wrong type or out of range (raised before any image is read)."""


class ModelUnavailableError(TrimatteError, RuntimeError):
    """Model weights are not available offline (never downloaded at run time)."""


class TrimatteWarning(UserWarning):
    """A recoverable problem with the input (e.g. an alpha channel was dropped)."""
