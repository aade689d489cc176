"""Hard foreground masks (and trimaps) with OpenCV's GrabCut.

GrabCut models the foreground and background colours with Gaussian mixtures
and cuts the image with a graph cut, iterating between the two.  It needs an
initial labelling of every pixel into definite/probable foreground/background;
this module builds that labelling from the hints a user can give:

* ``rect`` ``(x, y, w, h)``: outside is definite background, inside probable
  foreground;
* ``mask``: a rough bool mask, True = probable foreground, False = probable
  background (inside ``rect`` only, if both are given);
* ``fg_scribbles`` / ``bg_scribbles``: bool masks of definite foreground /
  background; they override everything else.

With only scribbles (of both kinds) the other pixels start as probable
foreground or background by which scribble is nearer.  With no rect or mask and
not both kinds of scribble, the rectangle is the image less ``margin`` of its
size on each side.

The image is converted to 8-bit BGR (what OpenCV wants) here, at the edge, and
OpenCV's random generator is seeded before every call so results are
reproducible.  If GrabCut labels every pixel background (or every pixel
foreground) the result is useless for matting and :class:`InputError` is raised
with advice, rather than passing an empty mask down the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, as_image, to_uint8
from trimatte.trimap.morphology import distance_to, trimap_from_mask
from trimatte.trimap.validate import check_mask, check_pixels, check_trimap, validate_trimap

Rect = tuple[int, int, int, int]

#: Seed of OpenCV's generator (GrabCut initialises its colour models with k-means).
SEED = 0


def _check_rect(rect: Sequence[int], shape: tuple[int, ...]) -> Rect:
    height, width = shape[:2]
    try:
        values = [check_pixels(v, "rect", allow_negative=True) for v in rect]
    except TypeError as exc:
        raise InputError(f"expected (x, y, w, h) in pixels, got {rect!r}", "rect") from exc
    if len(values) != 4:
        raise InputError(f"expected 4 numbers (x, y, w, h), got {len(values)}", "rect")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise InputError(f"rectangle (x, y, w, h)={tuple(values)} is empty", "rect")
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise InputError(
            f"rectangle (x, y, w, h)={tuple(values)} is not inside the "
            f"{width}x{height} (WxH) image",
            "rect",
        )
    return x, y, w, h


def _margin_rect(shape: tuple[int, ...], margin: float) -> Rect:
    try:
        margin = float(margin)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be a number, got {margin!r}", "margin") from exc
    if not (0.0 <= margin < 0.5):
        raise InputError(f"must lie in [0, 0.5), got {margin}", "margin")
    height, width = shape[:2]
    dx = max(1, round(margin * width)) if width > 2 else 0
    dy = max(1, round(margin * height)) if height > 2 else 0
    dx, dy = min(dx, (width - 1) // 2), min(dy, (height - 1) // 2)
    return dx, dy, width - 2 * dx, height - 2 * dy


def _check_iterations(iterations: int) -> int:
    iterations = check_pixels(iterations, "iterations")
    if iterations < 1:
        raise InputError(f"must be >= 1, got {iterations}", "iterations")
    return iterations


def _run_grabcut(image: np.ndarray, labels: np.ndarray, iterations: int) -> np.ndarray:
    """Run cv2.grabCut from an initial GC_* labelling; return the bool foreground mask."""
    is_fg = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    if not is_fg.any():
        raise InputError(
            "no pixel is marked (probably) foreground, so GrabCut has no foreground "
            "colours to learn; give a rectangle around the subject or fg scribbles",
            "grabcut",
        )
    if is_fg.all():
        raise InputError(
            "no pixel is marked (probably) background, so GrabCut has no background "
            "colours to learn; leave a margin around the rectangle or add bg scribbles",
            "grabcut",
        )
    if not ((labels == cv2.GC_PR_FGD) | (labels == cv2.GC_PR_BGD)).any():
        return labels == cv2.GC_FGD  # every pixel already decided by the user
    bgr = cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2BGR)
    work = np.ascontiguousarray(labels, dtype=np.uint8)
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(SEED)
    try:
        cv2.grabCut(bgr, work, None, bgd_model, fgd_model, iterations, cv2.GC_INIT_WITH_MASK)
    except cv2.error as exc:  # pragma: no cover - inputs are checked above
        raise InputError(f"OpenCV GrabCut failed ({exc.msg.strip()})", "grabcut") from exc
    mask = (work == cv2.GC_FGD) | (work == cv2.GC_PR_FGD)
    if not mask.any():
        raise InputError(
            "GrabCut labelled every pixel background: the subject's colours are not "
            "separable from the background with these hints; draw a tighter rectangle "
            "or add foreground scribbles on the subject",
            "grabcut",
        )
    if mask.all():
        raise InputError(
            "GrabCut labelled every pixel foreground; add background scribbles or "
            "give a rectangle that leaves some background outside it",
            "grabcut",
        )
    return mask


def _initial_labels(shape: tuple[int, ...], rect: Sequence[int] | None,
                    mask: np.ndarray | None, fg_scribbles: np.ndarray | None,
                    bg_scribbles: np.ndarray | None, margin: float) -> np.ndarray:
    height, width = shape[:2]
    labels = np.full((height, width), cv2.GC_PR_BGD, np.uint8)
    if rect is None and mask is None:
        if fg_scribbles is not None and bg_scribbles is not None \
                and fg_scribbles.any() and bg_scribbles.any():
            nearer_fg = distance_to(fg_scribbles) <= distance_to(bg_scribbles)
            labels[nearer_fg] = cv2.GC_PR_FGD
        else:
            rect = _margin_rect(shape, margin)
    if rect is not None:
        x, y, w, h = _check_rect(rect, shape)
        labels[:] = cv2.GC_BGD
        inside = np.s_[y:y + h, x:x + w]
        if mask is None:
            labels[inside] = cv2.GC_PR_FGD
        else:
            labels[inside] = np.where(mask[inside], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    elif mask is not None:
        labels[mask] = cv2.GC_PR_FGD
    if fg_scribbles is not None and bg_scribbles is not None:
        both = fg_scribbles & bg_scribbles
        if both.any():
            raise InputError(
                f"{int(both.sum())} pixels are in both fg_scribbles and bg_scribbles",
                "scribbles",
            )
    if fg_scribbles is not None:
        labels[fg_scribbles] = cv2.GC_FGD
    if bg_scribbles is not None:
        labels[bg_scribbles] = cv2.GC_BGD
    return labels


def grabcut_mask(image: np.ndarray, *, rect: Sequence[int] | None = None,
                 mask: np.ndarray | None = None, fg_scribbles: np.ndarray | None = None,
                 bg_scribbles: np.ndarray | None = None, iterations: int = 5,
                 margin: float = 0.05) -> np.ndarray:
    """Hard foreground mask of an image with GrabCut from a rectangle, mask or scribbles.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1] (uint8 images are accepted).
        rect: ``(x, y, w, h)`` in pixels around the subject; outside is background.
        mask: bool ``(H, W)`` rough mask of probable foreground.
        fg_scribbles: bool ``(H, W)`` definite-foreground strokes (override the rest).
        bg_scribbles: bool ``(H, W)`` definite-background strokes (override the rest).
        iterations: GrabCut iterations (>= 1).
        margin: With no rect/mask (and not both kinds of scribble), the rectangle
            is the image less this fraction of its size on each side, in [0, 0.5).

    Returns:
        bool ``(H, W)`` mask, True on the foreground.  Scribbled pixels always keep
        their scribbled class.

    Raises:
        InputError: Malformed image or hints (rect outside the image or empty, sizes
            that do not match, overlapping scribbles, nothing to learn a colour model
            from), or GrabCut labelled everything background or everything foreground.
    """
    image = as_image(image, "image")
    shape = image.shape
    if rect is not None:
        rect = _check_rect(rect, shape)
    mask = None if mask is None else check_mask(mask, "mask", shape)
    fg_scribbles = None if fg_scribbles is None else check_mask(fg_scribbles, "fg_scribbles",
                                                                  shape)
    bg_scribbles = None if bg_scribbles is None else check_mask(bg_scribbles, "bg_scribbles",
                                                                  shape)
    iterations = _check_iterations(iterations)
    labels = _initial_labels(shape, rect, mask, fg_scribbles, bg_scribbles, margin)
    return _run_grabcut(image, labels, iterations)


def grabcut_mask_from_trimap(image: np.ndarray, trimap: np.ndarray,
                             iterations: int = 5) -> np.ndarray:
    """Hard mask with GrabCut seeded by a trimap.

    Trimap foreground and background are definite; each unknown pixel starts as
    probable foreground or probable background by whichever known class is nearer
    (Euclidean distance; ties go to foreground).

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap with at least one fg and one bg pixel.
        iterations: GrabCut iterations (>= 1).

    Returns:
        bool ``(H, W)`` mask; it contains the trimap's foreground and excludes its background.

    Raises:
        InputError: Malformed image; TrimapError for a malformed or unmattable trimap.
    """
    image = as_image(image, "image")
    trimap = check_trimap(trimap)
    validate_trimap(trimap, image_shape=image.shape)
    iterations = _check_iterations(iterations)
    fg = trimap == FOREGROUND
    bg = trimap == BACKGROUND
    labels = np.where(distance_to(fg) <= distance_to(bg), cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    labels = labels.astype(np.uint8)
    labels[fg] = cv2.GC_FGD
    labels[bg] = cv2.GC_BGD
    return _run_grabcut(image, labels, iterations)


def grabcut_trimap(image: np.ndarray, *, band: int = 10, **kwargs) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """GrabCut mask and a trimap with an unknown band of ``band`` px around its boundary.

    Scribbles are the user's definite labels, so they stay definite in the
    trimap even where they fall inside the band.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        band: Band radius in pixels (see :func:`~trimatte.trimap.morphology.trimap_from_mask`).
        **kwargs: ``rect``, ``mask``, ``fg_scribbles``, ``bg_scribbles``,
            ``iterations``, ``margin`` as for :func:`grabcut_mask`.

    Returns:
        ``(mask, trimap)``: bool ``(H, W)`` and uint8 ``(H, W)``.

    Raises:
        InputError: As :func:`grabcut_mask`, or an unknown keyword.
    """
    allowed = {"rect", "mask", "fg_scribbles", "bg_scribbles", "iterations", "margin"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise InputError(f"unexpected arguments {unknown}; expected some of {sorted(allowed)}",
                         "grabcut_trimap")
    band = check_pixels(band, "band")
    mask = grabcut_mask(image, **kwargs)
    trimap = trimap_from_mask(mask, band)
    for key, value in (("fg_scribbles", FOREGROUND), ("bg_scribbles", BACKGROUND)):
        if kwargs.get(key) is not None:
            trimap[check_mask(kwargs[key], key)] = value
    return mask, trimap


__all__ = ["grabcut_mask", "grabcut_mask_from_trimap", "grabcut_trimap"]
