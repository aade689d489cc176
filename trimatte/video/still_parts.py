"""Parts of a frame's subject that stand still in the scene while the subject moves.

A trimap source that works frame by frame (a salient-object network) can take in a
second object standing in the scene, such as a penguin behind the camel, or a
highlight on the table under a swinging toy, in some frames and not in others. A video
says what one frame cannot: the subject moves against the background (it swings, walks,
or the camera follows it), while the background and everything standing in it move
together, with the camera. Where the camera's motion between two frames is one
homography (fitted to the optical flow on confident background,
:func:`trimatte.video.cleanplate.background_homography`), the flow's distance from it
is near zero on everything standing in the scene and large on the subject.

* :func:`camera_flow` and :func:`motion_residual`: the flow the camera alone causes,
  and each pixel's distance from it, in pixels.
* :func:`still_parts`: regions the trimap calls subject (foreground or unknown) that
  move with the camera, in a frame where a good part of the sure foreground does not.
  When the subject itself hardly moves against the background, nothing can be told
  apart, and only the parts dropped in the previous frame (carried along the flow) are
  dropped again if they still move with the camera.
* :func:`drop_parts`: the trimap with those parts made background, except near the
  remaining foreground, where they become unknown, so the subject's edge is matted.

What motion cannot tell apart: a part of the subject that stands still in the scene
while the rest moves (the planted foot of a walking person filmed by a still camera)
looks like a second object, and is dropped for as long as it stands still.

Arrays: flows float32 ``(H, W, 2)`` (frame a's pixel ``p`` is at ``p + flow[p]`` in
frame b), trimaps uint8 ``(H, W)`` 0/128/255, masks bool ``(H, W)``.
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

__all__ = ["camera_fit_mask", "camera_flow", "drop_parts", "motion_residual", "still_parts"]


def camera_fit_mask(trimap: np.ndarray, trust: np.ndarray, margin: int = 3) -> np.ndarray:
    """Pixels to fit the camera's motion on: sure background ``margin`` px from the rest.

    Args:
        trimap: uint8 ``(H, W)`` 0/128/255.
        trust: float32 ``(H, W)``: trust of the flow; pixels under 0.5 are left out.
        margin: Erosion (pixels) of the background.

    Returns:
        bool ``(H, W)``.
    """
    background = (trimap == BACKGROUND).astype(np.uint8)
    if margin > 0:
        background = cv2.erode(background, np.ones((2 * margin + 1,) * 2, np.uint8))
    return background.astype(bool) & (trust > 0.5)


def camera_flow(homography: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The flow a camera motion given as a homography causes at every pixel.

    Args:
        homography: float ``(3, 3)`` mapping frame a's pixels to frame b's.
        shape: ``(H, W)`` of the frames.

    Returns:
        float32 ``(H, W, 2)``: ``H(p) - p`` at each pixel ``p = (x, y)``.
    """
    matrix = np.asarray(homography, np.float64)
    if matrix.shape != (3, 3):
        raise InputError(f"a homography is 3x3, got shape {matrix.shape}", "homography")
    height, width = shape
    m = matrix.astype(np.float32)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    depth = m[2, 0] * xs + m[2, 1] * ys + m[2, 2]  # (H, W), one row of the product at a time
    depth = np.where(np.abs(depth) < 1e-9, np.float32(1e-9), depth)
    flow = np.empty((height, width, 2), np.float32)
    flow[..., 0] = (m[0, 0] * xs + m[0, 1] * ys + m[0, 2]) / depth - xs
    flow[..., 1] = (m[1, 0] * xs + m[1, 1] * ys + m[1, 2]) / depth - ys
    return flow


def motion_residual(flow: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Distance (pixels) of each pixel's flow from the camera's motion.

    Args:
        flow: float32 ``(H, W, 2)`` flow from frame a to frame b.
        homography: float ``(3, 3)`` camera motion from frame a to frame b.

    Returns:
        float32 ``(H, W)``, >= 0: near 0 on what stands still in the scene.
    """
    flow = np.asarray(flow, np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise InputError(f"a flow is (H, W, 2), got shape {flow.shape}", "flow")
    difference = flow - camera_flow(homography, flow.shape[:2])
    return np.sqrt((difference ** 2).sum(axis=2)).astype(np.float32)


def still_parts(trimap: np.ndarray, residual: np.ndarray, trust: np.ndarray,
                previous: np.ndarray | None = None, *, still: float = 0.5,
                moving: float = 2.0, min_moving: float = 0.25, min_area: float = 0.02,
                opening: int = 2) -> np.ndarray:
    """Regions the trimap calls subject that move with the camera while the subject moves.

    A region is a connected part of the pixels that are foreground or unknown, move
    with the camera (``residual < still``) and are trusted by the flow (``trust >
    0.5``), after an opening with a disc of radius ``opening`` (so the thin slivers a
    misplaced flow leaves along an edge do not count), of at least ``min_area`` of the
    trimap's subject (and 50 px). It is returned when at least ``min_moving`` of the
    sure foreground moves (``residual > moving``); otherwise (the subject hardly moves
    against the background, so still and moving cannot be told apart) only when at
    least half of it was in ``previous``.

    Args:
        trimap: uint8 ``(H, W)`` 0/128/255.
        residual: float32 ``(H, W)``: :func:`motion_residual`.
        trust: float32 ``(H, W)`` in [0, 1]: trust of the flow at each pixel.
        previous: bool ``(H, W)``: the parts dropped in the previous frame, carried into
            this one along the flow (None: none).
        still, moving: Residuals (pixels) under which a pixel stands still and over
            which it moves.
        min_moving: Fraction of the sure foreground that must move.
        min_area: Smallest region, as a fraction of the foreground and unknown pixels.
        opening: Radius (pixels) of the opening.

    Returns:
        bool ``(H, W)``, empty when nothing is to be dropped.
    """
    if trimap.shape != residual.shape or trimap.shape != trust.shape:
        raise InputError(f"sizes differ: trimap {trimap.shape}, residual {residual.shape}, "
                         f"trust {trust.shape}", "still_parts")
    none = np.zeros(trimap.shape, bool)
    sure = trimap == FOREGROUND
    subject = trimap != BACKGROUND
    if int(sure.sum()) < 50:
        return none
    subject_moves = np.count_nonzero(sure & (residual > moving)) >= min_moving * sure.sum()
    if not subject_moves and (previous is None or not previous.any()):
        return none
    candidates = (subject & (residual < still) & (trust > 0.5)).astype(np.uint8)
    if opening > 0:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * opening + 1,) * 2)
        candidates = cv2.morphologyEx(candidates, cv2.MORPH_OPEN, disc)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    smallest = max(50.0, min_area * float(subject.sum()))
    parts = none.copy()
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < smallest:
            continue
        region = labels == label
        if not subject_moves and float(previous[region].mean()) < 0.5:
            continue
        parts |= region
    return parts


def drop_parts(trimap: np.ndarray, parts: np.ndarray, band: int) -> np.ndarray:
    """The trimap with ``parts`` made background, unknown within ``band`` px of foreground.

    Args:
        trimap: uint8 ``(H, W)`` 0/128/255.
        parts: bool ``(H, W)``: :func:`still_parts`.
        band: Radius (pixels) around the remaining foreground within which dropped
            pixels become unknown rather than background.

    Returns:
        uint8 ``(H, W)``; the input itself when nothing is dropped or no foreground
        would be left. Never adds foreground.
    """
    if not parts.any():
        return trimap
    out = trimap.copy()
    out[parts] = BACKGROUND
    if not (out == FOREGROUND).any():
        return trimap
    radius = max(int(band), 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    near = cv2.dilate((out == FOREGROUND).astype(np.uint8), disc).astype(bool)
    out[parts & near] = UNKNOWN
    return out
