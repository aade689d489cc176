"""The one image convention used everywhere inside trimatte.

=============  =========================  ==========================================
quantity       dtype / shape              values
=============  =========================  ==========================================
image          float32, ``(H, W, 3)``     RGB in [0, 1]
alpha          float32, ``(H, W)``        opacity in [0, 1]
trimap         uint8, ``(H, W)``          0 background, 128 unknown, 255 foreground
mask           bool, ``(H, W)``           True where foreground
foreground     float32, ``(H, W, 3)``     RGB in [0, 1]
=============  =========================  ==========================================

Conversions happen once, at the edges (:mod:`trimatte.io` and the CLI).  The
functions here check and coerce arrays handed in by Python users and raise
:class:`~trimatte.errors.InputError` with a clear message otherwise.
"""

from __future__ import annotations

import numpy as np

from trimatte.errors import InputError, TrimapError

BACKGROUND: int = 0
UNKNOWN: int = 128
FOREGROUND: int = 255
TRIMAP_VALUES = (BACKGROUND, UNKNOWN, FOREGROUND)


def _scale_of(dtype: np.dtype) -> float:
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0


def as_image(array: np.ndarray, name: str = "image") -> np.ndarray:
    """Return ``array`` as a float32 ``(H, W, 3)`` RGB image in [0, 1].

    Accepts uint8/uint16 (scaled to [0, 1]) or float arrays already in [0, 1];
    a 2-D (grayscale) array is repeated to three channels.

    Args:
        array: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)`` array.
        name: Name used in error messages.

    Returns:
        float32 array of shape ``(H, W, 3)``.

    Raises:
        InputError: Wrong shape, dtype, empty, non-finite or out-of-range values.
    """
    array = np.asarray(array)
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise InputError(f"expected a numeric image, got dtype {array.dtype}", name)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise InputError(f"expected shape (H, W, 3) or (H, W), got {array.shape}", name)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InputError("image is empty", name)
    scale = _scale_of(array.dtype)
    out = array.astype(np.float32)
    if scale != 1.0:
        out /= scale
    else:
        _check_unit_range(out, name)
    return out


def as_alpha(array: np.ndarray, name: str = "alpha") -> np.ndarray:
    """Return ``array`` as a float32 ``(H, W)`` alpha matte in [0, 1].

    uint8 and uint16 arrays are scaled; float arrays must already lie in [0, 1].

    Raises:
        InputError: Wrong shape, dtype, or values outside [0, 1].
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2:
        raise InputError(f"expected shape (H, W), got {array.shape}", name)
    if array.dtype == bool:
        return array.astype(np.float32)
    scale = _scale_of(array.dtype)
    out = array.astype(np.float32)
    if scale != 1.0:
        out /= scale
    else:
        _check_unit_range(out, name)
    return out


def as_trimap(array: np.ndarray, name: str = "trimap", strict: bool = False) -> np.ndarray:
    """Return ``array`` as a uint8 ``(H, W)`` trimap with values {0, 128, 255}.

    Float trimaps in [0, 1] are scaled to [0, 255]. Values are snapped: < 64 is
    background, >= 192 is foreground, anything else unknown (so a JPEG-damaged or
    anti-aliased trimap still works). With ``strict=True`` any value outside
    {0, 128, 255} is an error instead.

    Raises:
        TrimapError: Wrong shape or (strict) unexpected values.
    """
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        if array.shape[2] >= 3 and not np.array_equal(array[:, :, 0], array[:, :, 1]):
            raise TrimapError("trimap has colour channels that differ; expected grayscale", name)
        array = array[:, :, 0]
    if array.ndim != 2:
        raise TrimapError(f"expected shape (H, W), got {array.shape}", name)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise TrimapError("trimap contains NaN or infinite values", name)
        values = array * 255.0 if array.max(initial=0.0) <= 1.0 else array
    elif array.dtype == np.uint16:
        values = array.astype(np.float32) / 257.0
    else:
        values = array.astype(np.float32)
    if strict:
        bad = ~np.isin(values, TRIMAP_VALUES)
        if bad.any():
            found = np.unique(values[bad])[:5]
            raise TrimapError(
                f"trimap values must be 0, 128 or 255; found {found.tolist()}", name
            )
    trimap = np.full(values.shape, UNKNOWN, dtype=np.uint8)
    trimap[values < 64] = BACKGROUND
    trimap[values >= 192] = FOREGROUND
    return trimap


def check_same_size(shape_a: tuple[int, ...], shape_b: tuple[int, ...], what: str) -> None:
    """Raise InputError unless two arrays have the same height and width."""
    if tuple(shape_a[:2]) != tuple(shape_b[:2]):
        raise InputError(
            f"size {shape_b[1]}x{shape_b[0]} (WxH) does not match the image's "
            f"{shape_a[1]}x{shape_a[0]}",
            what,
        )


def _check_unit_range(array: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(array)):
        raise InputError("contains NaN or infinite values", name)
    lo, hi = float(array.min()), float(array.max())
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise InputError(
            f"float values must lie in [0, 1], found [{lo:.3g}, {hi:.3g}] "
            "(pass uint8 data or divide by 255)",
            name,
        )
    np.clip(array, 0.0, 1.0, out=array)


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Round a float array in [0, 1] to uint8 in [0, 255]."""
    return np.clip(np.rint(np.asarray(array, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
