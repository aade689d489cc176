"""Register a background plate to the photo it belongs to.

A tripod drifts a few pixels between the photo and the plate, so the plate is
warped onto the photo before any comparison. The warp is estimated on grayscale
copies downscaled to ``max_size`` (long side):

1. **ECC** (Evangelidis & Psarakis 2008, :func:`cv2.findTransformECC`) from the
   identity, coarse to fine over a two-level pyramid. ECC maximises the correlation
   coefficient, so it is insensitive to exposure and white-balance changes.
2. The subject is in the photo but not in the plate, which biases ECC; so the
   pixels that disagree most after the first pass (the subject, its shadow) are
   masked out and ECC runs again on the rest.
3. If ECC fails (no convergence, or an implausible warp), feature matching
   (AKAZE where the OpenCV build has it, then ORB, with a ratio test) and a
   RANSAC fit give a start, which ECC refines.

Motions: ``"translation"``, ``"euclidean"`` (shift + rotation, the default: a
tripod that drifted), ``"affine"`` and ``"homography"`` (a hand-held plate).
Warps are stored as 3x3 matrices mapping *photo* pixel coordinates to *plate*
pixel coordinates (OpenCV's ``WARP_INVERSE_MAP`` convention).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.params import check_choice

MOTIONS = {
    "translation": cv2.MOTION_TRANSLATION,
    "euclidean": cv2.MOTION_EUCLIDEAN,
    "affine": cv2.MOTION_AFFINE,
    "homography": cv2.MOTION_HOMOGRAPHY,
}


class AlignmentError(InputError):
    """The plate cannot be registered to the photo (a different scene, or too far off)."""


@dataclass(frozen=True)
class Alignment:
    """A plate-to-photo registration.

    Attributes:
        matrix: float64 ``(3, 3)`` mapping photo pixel ``(x, y, 1)`` to plate pixel
            coordinates, at full resolution.
        motion: The motion model used.
        method: ``"ecc"``, ``"features+ecc"``, ``"features"`` or ``"identity"``.
        correlation: ECC correlation coefficient on the pixels used (nan if no ECC).
    """

    matrix: np.ndarray
    motion: str
    method: str
    correlation: float

    @property
    def shift(self) -> tuple[float, float]:
        """The translation part ``(dx, dy)`` of the matrix, in plate pixels."""
        return float(self.matrix[0, 2]), float(self.matrix[1, 2])

    @property
    def rotation_degrees(self) -> float:
        """Rotation angle of the linear part, in degrees."""
        return float(np.degrees(np.arctan2(self.matrix[1, 0], self.matrix[0, 0])))


def check_motion(motion: str) -> str:
    """Validate a motion name.

    Raises:
        InputError: Unknown motion.
    """
    return check_choice(motion, MOTIONS, "motion", "motion")


def to_gray(image: np.ndarray) -> np.ndarray:
    """float32 ``(H, W)`` luma of a float ``(H, W, 3)`` RGB image."""
    return cv2.cvtColor(np.ascontiguousarray(image, dtype=np.float32), cv2.COLOR_RGB2GRAY)


def _resize(gray: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return gray
    size = (max(8, round(gray.shape[1] * scale)), max(8, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)


def _rescale(matrix: np.ndarray, factor: float) -> np.ndarray:
    """The same warp for images scaled by ``factor`` (S M S^-1)."""
    scale = np.diag([factor, factor, 1.0])
    out = scale @ matrix @ np.linalg.inv(scale)
    return out / out[2, 2]


def _ecc(template: np.ndarray, moving: np.ndarray, start: np.ndarray, motion: str,
         mask: np.ndarray | None, iterations: int = 100) -> tuple[np.ndarray, float]:
    """One ECC run; returns (3x3 matrix, correlation). Raises cv2.error on failure.

    ``mask`` marks the pixels of ``template`` (the photo's frame) to compare, so it is
    passed as the template's mask where OpenCV has ``cv2.findTransformECCWithMask``
    (4.14, 5.0 and 5.1 do). Older releases only take a mask of the moving image (the
    plate's frame), which is used instead: close for the small warps a plate needs, but
    not the same, and OpenCV 5.1 changed that path (a homography's shift moved by 0.4 px
    on the tests' scene).
    """
    warp = start[:2].astype(np.float32) if motion != "homography" else start.astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iterations, 1e-6)
    mask8 = None if mask is None else mask.astype(np.uint8)
    if mask8 is not None and hasattr(cv2, "findTransformECCWithMask"):
        correlation, warp = cv2.findTransformECCWithMask(
            template, moving, mask8, np.ones(moving.shape, np.uint8), warp, MOTIONS[motion],
            criteria, 5)
    else:
        correlation, warp = cv2.findTransformECC(template, moving, warp, MOTIONS[motion],
                                                 criteria, mask8, 5)
    matrix = np.eye(3)
    matrix[: warp.shape[0]] = warp
    return matrix, float(correlation)


def _disagreement_mask(template: np.ndarray, moving: np.ndarray, matrix: np.ndarray,
                       keep: float) -> np.ndarray:
    """Pixels (bool) where the warped plate agrees best with the photo (``keep`` fraction)."""
    h, w = template.shape
    warped = cv2.warpPerspective(moving, matrix, (w, h),
                                 flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REFLECT)
    # Correlation is gain/offset invariant: compare standardised images.
    a = (template - template.mean()) / (template.std() + 1e-6)
    b = (warped - warped.mean()) / (warped.std() + 1e-6)
    # Wide averaging: misregistration residuals on texture cancel out, a subject does not.
    residual = cv2.GaussianBlur(np.abs(a - b), (0, 0), 0.02 * max(h, w) + 2.0)
    mask = residual <= np.quantile(residual, keep)
    # Grow the rejected region a little: the subject's edges disagree too.
    mask = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return mask


def _features(template: np.ndarray, moving: np.ndarray, motion: str,
              min_inliers: int) -> np.ndarray | None:
    """A start warp from AKAZE/ORB matches and RANSAC, or None."""
    a = np.clip(template * 255, 0, 255).astype(np.uint8)
    b = np.clip(moving * 255, 0, 255).astype(np.uint8)
    detectors = [cv2.ORB_create(4000)]
    if hasattr(cv2, "AKAZE_create"):  # not in every OpenCV build
        detectors.insert(0, cv2.AKAZE_create())
    for detector in detectors:
        kp_a, des_a = detector.detectAndCompute(a, None)
        kp_b, des_b = detector.detectAndCompute(b, None)
        if des_a is None or des_b is None or len(kp_a) < min_inliers or len(kp_b) < min_inliers:
            continue
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        pairs = matcher.knnMatch(des_a, des_b, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
        if len(good) < min_inliers:
            continue
        src = np.float32([kp_a[m.queryIdx].pt for m in good])  # photo
        dst = np.float32([kp_b[m.trainIdx].pt for m in good])  # plate
        if motion == "homography":
            found, inliers = cv2.findHomography(src, dst, cv2.RANSAC, 3.0)
        elif motion == "affine":
            found, inliers = cv2.estimateAffine2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=3.0)
        else:
            found, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                         ransacReprojThreshold=3.0)
        if found is None or inliers is None or int(inliers.sum()) < min_inliers:
            continue
        matrix = np.eye(3)
        matrix[: found.shape[0]] = found
        if motion in ("translation", "euclidean"):
            # Drop the scale estimateAffinePartial2D allows (and the rotation for translation).
            angle = np.arctan2(matrix[1, 0], matrix[0, 0])
            if motion == "translation":
                angle = 0.0
            matrix[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        return matrix
    return None


def plausible(matrix: np.ndarray, shape: tuple[int, int], max_shift: float,
              max_rotation: float) -> bool:
    """Whether a warp is a small drift: the image corners move by at most ``max_shift``
    of the long side and the rotation is at most ``max_rotation`` degrees."""
    if not np.all(np.isfinite(matrix)):
        return False
    h, w = shape
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], np.float64).T
    moved = matrix @ corners
    if np.any(np.abs(moved[2]) < 1e-6):
        return False
    moved = moved[:2] / moved[2]
    travel = np.hypot(*(moved - corners[:2])).max()
    angle = abs(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))
    return bool(travel <= max_shift * max(h, w) and angle <= max_rotation)


def estimate_alignment(photo: np.ndarray, plate: np.ndarray, *, motion: str = "euclidean",
                       max_size: int = 1024, max_shift: float = 0.1,
                       max_rotation: float = 10.0, min_inliers: int = 12,
                       source: object = "plate") -> Alignment:
    """Estimate the warp that registers ``plate`` onto ``photo``.

    Args:
        photo: float32 ``(H, W, 3)`` RGB in [0, 1].
        plate: float32 ``(H, W, 3)`` RGB in [0, 1], the same size.
        motion: ``"translation"``, ``"euclidean"``, ``"affine"`` or ``"homography"``.
        max_size: Long side (pixels) of the copies the warp is estimated on.
        max_shift: Largest plausible corner displacement, as a fraction of the long side.
        max_rotation: Largest plausible rotation in degrees.
        min_inliers: Feature matches RANSAC must keep for the feature fallback.
        source: Name of the plate in error messages.

    Returns:
        The :class:`Alignment` (full-resolution matrix).

    Raises:
        AlignmentError: Neither ECC nor feature matching gives a plausible warp.
    """
    check_motion(motion)
    if photo.shape != plate.shape:
        raise InputError(f"plate is {plate.shape[1]}x{plate.shape[0]} but the photo is "
                         f"{photo.shape[1]}x{photo.shape[0]} (WxH)", source)
    scale = min(1.0, max_size / max(photo.shape[:2]))
    template = _resize(to_gray(photo), scale)
    moving = _resize(to_gray(plate), scale)
    shape = template.shape

    def finish(matrix: np.ndarray, method: str, correlation: float) -> Alignment:
        return Alignment(_rescale(matrix, 1.0 / scale), motion, method, correlation)

    def refine(start: np.ndarray) -> tuple[np.ndarray, float] | None:
        matrix = start
        coarse_t, coarse_m = _resize(template, 0.25), _resize(moving, 0.25)
        factor = coarse_t.shape[1] / shape[1]
        try:  # coarse level first: a wider basin of convergence
            coarse, _ = _ecc(coarse_t, coarse_m, _rescale(start, factor), motion, None, 60)
            if plausible(_rescale(coarse, 1.0 / factor), shape, max_shift, max_rotation):
                matrix = _rescale(coarse, 1.0 / factor)
        except cv2.error:
            pass
        try:
            matrix, correlation = _ecc(template, moving, matrix, motion, None)
        except cv2.error:
            return None
        try:  # again without the pixels that disagree most (the subject, its shadow)
            mask = _disagreement_mask(template, moving, matrix, keep=0.7)
            matrix, correlation = _ecc(template, moving, matrix, motion, mask)
        except cv2.error:
            pass
        if not plausible(matrix, shape, max_shift, max_rotation):
            return None
        return matrix, correlation

    found = refine(np.eye(3))
    if found is not None:
        return finish(found[0], "ecc", found[1])
    start = _features(template, moving, motion, min_inliers)
    if start is not None and plausible(start, shape, max_shift, max_rotation):
        found = refine(start)
        if found is not None:
            return finish(found[0], "features+ecc", found[1])
        return finish(start, "features", float("nan"))
    raise AlignmentError(
        "cannot register the plate to the photo (ECC did not converge and feature matching "
        f"found no plausible {motion} warp within {max_shift:.0%} shift and {max_rotation:g} "
        "degrees); is it a plate of the same scene, taken from the same place?",
        source,
    )


def warp_plate(plate: np.ndarray, alignment: Alignment) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``plate`` onto the photo's pixel grid.

    Args:
        plate: float32 ``(H, W, 3)``.
        alignment: From :func:`estimate_alignment`.

    Returns:
        ``(warped, valid)``: float32 ``(H, W, 3)`` and bool ``(H, W)``, False where the
        warped plate has no data (outside the plate's frame; edge-replicated there).
    """
    h, w = plate.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    matrix = alignment.matrix.astype(np.float64)
    warped = cv2.warpPerspective(plate, matrix, (w, h), flags=flags,
                                 borderMode=cv2.BORDER_REPLICATE)
    ones = np.ones((h, w), np.uint8)
    valid = cv2.warpPerspective(ones, matrix, (w, h), flags=cv2.INTER_NEAREST
                                | cv2.WARP_INVERSE_MAP, borderValue=0)
    valid = cv2.erode(valid, np.ones((3, 3), np.uint8), borderValue=1).astype(bool)
    return np.clip(warped, 0.0, 1.0).astype(np.float32), valid
