"""Checks of trimaps and masks: format (shape, dtype, values) and mattability.

:func:`validate_trimap` is what a matting stage calls before it starts: it
raises :class:`~trimatte.errors.TrimapError` with a message that says what is
wrong *and what the user can do about it*.  :func:`check_trimap` and
:func:`check_mask` are the lighter format checks used by the other trimap
functions on their inputs.
"""

from __future__ import annotations

import numbers

import numpy as np

from trimatte.errors import InputError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, TRIMAP_VALUES, UNKNOWN


def check_trimap(trimap: np.ndarray, name: str = "trimap") -> np.ndarray:
    """Check that ``trimap`` is a uint8 ``(H, W)`` array of 0/128/255 and return it.

    No content check (an all-unknown trimap passes); see :func:`validate_trimap`.

    Args:
        trimap: Candidate trimap.
        name: Name used in error messages.

    Returns:
        The same array (not copied), as a NumPy array.

    Raises:
        TrimapError: Not an array, wrong shape, empty, wrong dtype or stray values.
    """
    try:
        array = np.asarray(trimap)
    except Exception as exc:
        raise TrimapError(f"cannot be read as an array ({exc})", name) from exc
    if array.ndim != 2:
        raise TrimapError(
            f"expected a 2-D (H, W) trimap, got shape {array.shape} "
            "(use trimatte.image.as_trimap to convert images with channels)",
            name,
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise TrimapError(f"trimap is empty (shape {array.shape})", name)
    if array.dtype != np.uint8:
        raise TrimapError(
            f"expected dtype uint8, got {array.dtype} "
            "(use trimatte.image.as_trimap to convert float or 16-bit trimaps)",
            name,
        )
    bad = (array != BACKGROUND) & (array != UNKNOWN) & (array != FOREGROUND)
    if bad.any():
        found = np.unique(array[bad])[:5].tolist()
        raise TrimapError(
            f"trimap values must be 0 (background), 128 (unknown) or 255 (foreground); "
            f"found {found} in {int(bad.sum())} pixels "
            "(trimatte.image.as_trimap snaps gray levels to the nearest class)",
            name,
        )
    return array


def check_mask(mask: np.ndarray, name: str = "mask", shape: tuple[int, ...] | None = None
               ) -> np.ndarray:
    """Return ``mask`` as a bool ``(H, W)`` array, checking its shape.

    bool arrays are returned as they are; integer arrays count non-zero as True
    (so 0/1 and 0/255 masks both work); float arrays count values >= 0.5 as True.

    Args:
        mask: Candidate mask.
        name: Name used in error messages.
        shape: If given, the ``(H, W)`` (or ``(H, W, C)``) the mask must match.

    Returns:
        bool array of shape ``(H, W)`` (a view of the input when it already is bool).

    Raises:
        InputError: Wrong shape, non-numeric, empty, NaN, or size mismatch.
    """
    try:
        array = np.asarray(mask)
    except Exception as exc:
        raise InputError(f"cannot be read as an array ({exc})", name) from exc
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise InputError(f"expected a 2-D (H, W) mask, got shape {array.shape}", name)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError(f"mask is empty (shape {array.shape})", name)
    if shape is not None and tuple(array.shape) != tuple(shape[:2]):
        raise InputError(
            f"size {array.shape[1]}x{array.shape[0]} (WxH) does not match the image's "
            f"{shape[1]}x{shape[0]}",
            name,
        )
    if array.dtype == bool:
        return array
    if np.issubdtype(array.dtype, np.integer):
        return array != 0
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise InputError("mask contains NaN or infinite values", name)
        return array >= 0.5
    raise InputError(f"expected a bool or numeric mask, got dtype {array.dtype}", name)


def check_pixels(value: object, name: str, *, allow_negative: bool = False) -> int:
    """Return ``value`` as a Python int number of pixels, or raise InputError."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"must be a whole number of pixels, got {value!r}", name)
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError(f"must be a whole number of pixels, got {value!r}", name)
    value = int(value)
    if value < 0 and not allow_negative:
        raise InputError(f"must be >= 0 pixels, got {value}", name)
    return value


def trimap_stats(trimap: np.ndarray) -> dict[str, float | int]:
    """Fractions of foreground, background and unknown pixels in a trimap.

    Args:
        trimap: uint8 ``(H, W)`` trimap with values 0/128/255.

    Returns:
        ``{"foreground": f, "background": b, "unknown": u, "pixels": H * W}``
        with ``f + b + u == 1``.

    Raises:
        TrimapError: Malformed trimap (see :func:`check_trimap`).
    """
    array = check_trimap(trimap)
    total = array.size
    fg = int(np.count_nonzero(array == FOREGROUND))
    bg = int(np.count_nonzero(array == BACKGROUND))
    return {
        "foreground": fg / total,
        "background": bg / total,
        "unknown": (total - fg - bg) / total,
        "pixels": total,
    }


def validate_trimap(trimap: np.ndarray, *, name: str = "trimap",
                    image_shape: tuple[int, ...] | None = None) -> None:
    """Raise TrimapError unless ``trimap`` is well formed and can be matted.

    A mattable trimap is uint8 ``(H, W)`` with values 0/128/255, the size of the
    image (if ``image_shape`` is given), and has at least one definite-foreground
    and one definite-background pixel (propagation-based matting such as
    closed-form needs both to anchor the solution).  A trimap with no unknown
    pixels is valid: the matte is then simply the hard mask.

    Args:
        trimap: Trimap to check.
        name: Name used in error messages (e.g. the file name).
        image_shape: Shape of the image the trimap belongs to, ``(H, W)`` or ``(H, W, 3)``.

    Raises:
        TrimapError: With a message naming the problem and a remedy.
    """
    array = check_trimap(trimap, name)
    if image_shape is not None:
        if len(image_shape) < 2:
            raise InputError(f"image_shape must be (H, W) or (H, W, C), got {image_shape}",
                             "image_shape")
        if tuple(array.shape) != tuple(image_shape[:2]):
            raise TrimapError(
                f"trimap size {array.shape[1]}x{array.shape[0]} (WxH) does not match the "
                f"image's {image_shape[1]}x{image_shape[0]}; draw the trimap on this image "
                "or resize it with nearest-neighbour interpolation",
                name,
            )
    has_fg = bool(np.any(array == FOREGROUND))
    has_bg = bool(np.any(array == BACKGROUND))
    if not has_fg and not has_bg:
        raise TrimapError(
            "every pixel is unknown (128): matting needs definite foreground (255) and "
            "background (0) pixels to start from; mark some of each, or build a trimap "
            "from a mask (trimatte.trimap.morphology.trimap_from_mask) or with GrabCut",
            name,
        )
    if not has_fg:
        raise TrimapError(
            "the trimap has no definite-foreground (255) pixels: matting needs at least "
            "one to know what to keep; mark some foreground (white) on the subject",
            name,
        )
    if not has_bg:
        raise TrimapError(
            "the trimap has no definite-background (0) pixels: matting needs at least "
            "one to know what to remove; mark some background (black) away from the subject",
            name,
        )


__all__ = ["TRIMAP_VALUES", "check_mask", "check_pixels", "check_trimap", "trimap_stats",
           "validate_trimap"]
