"""A clean background plate reconstructed from the video itself, streaming.

A background pixel hidden by the subject in frame ``t`` is visible in other frames
whenever the subject moves against the background (a swing, a camera pan). This
module keeps a running estimate of the empty scene:

1. **Background motion.** The camera's motion between neighbouring frames is a
   homography fitted with RANSAC (:func:`cv2.findHomography`) to the dense optical
   flow on confident-background pixels (:func:`background_homography`); the flow is
   the one the temporal mode computes anyway.
2. **Accumulation** (:class:`PlateMemory`). Each frame's confident background (far
   from the subject: :func:`background_mask`) is warped *once* onto a canvas anchored
   at an earlier frame (the frame plus a margin on each side), brought to the
   plate's exposure (a gain-offset fit on the pixels both see, as for a captured
   plate), and added to exponentially decaying sums. Samples that disagree with a
   well-supported plate (a moving background object, a strand the per-frame trimap
   missed) are down-weighted. When the camera has moved half a margin away from the
   anchor, the canvas is re-anchored at the current frame (one resampling), so the
   canvas never grows and memory stays bounded, whatever the clip's length.
3. **A view for frame** ``s`` (:meth:`PlateMemory.view`): the plate warped into frame
   ``s``'s grid and matched to its exposure, with a per-pixel support (decayed sample
   count): 0 where that background was never seen.

Arrays: frames float32 ``(H, W, 3)`` RGB in [0, 1]; masks bool ``(H, W)``; flows
float32 ``(H, W, 2)``; homographies float64 ``(3, 3)`` mapping pixel ``(x, y, 1)`` of
one frame to the other.
"""

from __future__ import annotations

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import FOREGROUND
from trimatte.plate.exposure import fit_colour_transform

__all__ = ["PlateMemory", "background_homography", "background_mask"]


def background_mask(trimap: np.ndarray, alpha: np.ndarray, margin: int) -> np.ndarray:
    """Pixels safely in the background: alpha 0 and ``margin`` px from the subject.

    The subject is the trimap's foreground and every pixel of alpha > 0, so unknown
    pixels the matte found transparent count as background once ``margin`` px away.

    Args:
        trimap: uint8 ``(H, W)`` 0/128/255.
        alpha: float32 ``(H, W)`` in [0, 1].
        margin: Distance (pixels) kept from anything that is not sure background.

    Returns:
        bool ``(H, W)``.
    """
    other = (trimap == FOREGROUND) | (alpha > 0.0)
    if not other.any():
        return np.ones(trimap.shape, bool)
    distance = cv2.distanceTransform((~other).astype(np.uint8), cv2.DIST_L2, 3)
    return distance > margin


def background_homography(flow: np.ndarray, mask: np.ndarray, *, step: int = 4,
                          threshold: float = 1.0, min_points: int = 64,
                          min_inliers: float = 0.5) -> np.ndarray | None:
    """The homography of the background's motion, from a dense flow.

    Args:
        flow: float32 ``(H, W, 2)`` flow from frame a to frame b (``a[p] ~ b[p + flow[p]]``).
        mask: bool ``(H, W)``: frame a's pixels to fit on (confident background).
        step: Grid step (pixels) of the sampled points.
        threshold: RANSAC reprojection tolerance in pixels.
        min_points: Fewest sampled points for a fit.
        min_inliers: Smallest fraction of the points the fit must explain.

    Returns:
        float64 ``(3, 3)`` mapping frame a's pixels to frame b's, or None when the
        background's motion is not one homography (too few points, parallax, a cut).
    """
    h, w = mask.shape
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    keep = mask[ys, xs]
    if int(keep.sum()) < min_points:
        return None
    src = np.stack([xs[keep], ys[keep]], axis=1).astype(np.float32)
    dst = src + flow[ys[keep], xs[keep]]
    matrix, inliers = cv2.findHomography(src, dst, cv2.RANSAC, threshold)
    if matrix is None or inliers is None or inliers.mean() < min_inliers:
        return None
    return matrix / matrix[2, 2]


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


class PlateMemory:
    """Running estimate of the empty scene, on a canvas that follows the camera.

    Args:
        shape: ``(H, W)`` of the frames.
        margin: Canvas margin on each side, as a fraction of the long side (background
            that leaves the picture is remembered that far).
        decay: Weight kept by older samples at each new frame (0 < decay < 1):
            ``1 / (1 - decay)`` frames' worth of samples at most.
        outlier: Residual, in units of the plate's noise, above which a sample that
            disagrees with a supported plate is down-weighted.

    Frames are added in order with :meth:`add`; :meth:`view` gives the plate in the
    grid of any frame still remembered (the last ``keep`` frames).
    """

    def __init__(self, shape: tuple[int, int], *, margin: float = 0.25, decay: float = 0.85,
                 outlier: float = 4.0, keep: int = 16) -> None:
        if not 0.0 < decay < 1.0:
            raise InputError(f"decay must lie in (0, 1), got {decay!r}", "decay")
        if margin < 0:
            raise InputError(f"margin must be >= 0, got {margin!r}", "margin")
        self.shape = (int(shape[0]), int(shape[1]))
        self.pad = round(margin * max(self.shape))
        self.decay = float(decay)
        self.outlier = float(outlier)
        self.keep = int(keep)
        h, w = self.shape
        self.canvas_size = (w + 2 * self.pad, h + 2 * self.pad)  # (width, height)
        self.sums = np.zeros((h + 2 * self.pad, w + 2 * self.pad, 3), np.float32)
        self.weights = np.zeros((h + 2 * self.pad, w + 2 * self.pad), np.float32)
        #: frame index -> float64 (3, 3) mapping that frame's pixels to canvas pixels
        self.to_canvas: dict[int, np.ndarray] = {}
        self.last: int | None = None

    def reset(self) -> None:
        """Forget everything (a cut: the background's motion could not be followed)."""
        self.sums[:] = 0.0
        self.weights[:] = 0.0
        self.to_canvas.clear()
        self.last = None

    def _anchor(self) -> np.ndarray:
        return _translation(self.pad, self.pad)

    def _reanchor(self, index: int) -> None:
        """Move the canvas so that frame ``index`` sits at its centre (one resampling)."""
        move = self._anchor() @ np.linalg.inv(self.to_canvas[index])  # old canvas -> new
        flags = cv2.INTER_LINEAR
        self.sums = cv2.warpPerspective(self.sums, move, self.canvas_size, flags=flags)
        self.weights = cv2.warpPerspective(self.weights, move, self.canvas_size, flags=flags)
        for key in self.to_canvas:
            self.to_canvas[key] = move @ self.to_canvas[key]

    def _off_centre(self, index: int) -> bool:
        h, w = self.shape
        corners = np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], np.float64)
        moved = self.to_canvas[index] @ corners
        moved = moved[:2] / moved[2]
        home = self._anchor() @ corners
        return bool(np.abs(moved - home[:2]).max() > self.pad / 2)

    def plate(self) -> tuple[np.ndarray, np.ndarray]:
        """The canvas plate: float32 ``(Hc, Wc, 3)`` and its support ``(Hc, Wc)``."""
        support = self.weights
        plate = self.sums / np.maximum(support, 1e-6)[..., None]
        return np.clip(plate, 0.0, 1.0), support

    def add(self, index: int, image: np.ndarray, mask: np.ndarray,
            to_previous: np.ndarray | None) -> bool:
        """Add frame ``index``'s background.

        Args:
            index: Frame number (frames come in order).
            image: float32 ``(H, W, 3)``.
            mask: bool ``(H, W)``: the frame's confident background.
            to_previous: float64 ``(3, 3)`` mapping this frame's pixels to the previous
                frame's (see :func:`background_homography`); None when unknown, which
                starts a new plate.

        Returns:
            Whether the frame continued the existing plate (False: started afresh).
        """
        if image.shape[:2] != self.shape or mask.shape != self.shape:
            raise InputError(f"frame is {image.shape[:2]}, the plate {self.shape}", "frame")
        continued = (to_previous is not None and self.last is not None
                     and index == self.last + 1 and self.last in self.to_canvas)
        if continued:
            self.to_canvas[index] = self.to_canvas[self.last] @ to_previous
            if self._off_centre(index):
                self._reanchor(index)
        else:
            self.reset()
            self.to_canvas[index] = self._anchor()
        matrix = self.to_canvas[index]
        weight = cv2.warpPerspective(mask.astype(np.float32), matrix, self.canvas_size,
                                     flags=cv2.INTER_LINEAR)
        weight = np.where(weight > 0.999, 1.0, 0.0).astype(np.float32)  # no mixed edges
        sample = cv2.warpPerspective(np.ascontiguousarray(image, np.float32), matrix,
                                     self.canvas_size, flags=cv2.INTER_LINEAR)
        plate, support = self.plate()
        both = (weight > 0) & (support > 0.5)
        if int(both.sum()) >= 100:  # bring the sample to the plate's exposure
            try:
                transform = fit_colour_transform(plate, sample, both)
                sample = transform.apply(sample)
            except InputError:
                pass
            residual = np.sqrt(np.mean((sample - plate) ** 2, axis=2))
            sigma = self._noise(residual, both)
            trusted = support > 1.5
            ratio = residual / (self.outlier * sigma)
            weight = np.where(trusted, weight / (1.0 + ratio**4), weight).astype(np.float32)
        self.sums *= self.decay
        self.weights *= self.decay
        self.sums += sample * weight[..., None]
        self.weights += weight
        self.last = index
        for key in [k for k in self.to_canvas if k <= index - self.keep]:
            del self.to_canvas[key]
        return continued

    @staticmethod
    def _noise(residual: np.ndarray, where: np.ndarray) -> float:
        """Robust noise level of ``residual`` (RMS over channels) on ``where``."""
        values = residual[where]
        return max(float(np.median(values)) * 1.2, 1.0 / 255.0)

    def view(self, index: int, image: np.ndarray | None = None,
             mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The plate in frame ``index``'s grid.

        Args:
            index: A frame added within the last ``keep`` frames.
            image: float32 ``(H, W, 3)``: when given with ``mask``, the plate is matched
                to this frame's exposure (gain-offset fit on ``mask & supported``).
            mask: bool ``(H, W)``: the frame's confident background.

        Returns:
            ``(plate, support)``: float32 ``(H, W, 3)`` in [0, 1], and float32 ``(H, W)``,
            the decayed number of samples behind each pixel (0: never seen).

        Raises:
            KeyError: The frame is not (or no longer) remembered.
        """
        matrix = self.to_canvas[index]
        h, w = self.shape
        plate, support = self.plate()
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        out = cv2.warpPerspective(plate, matrix, (w, h), flags=flags,
                                  borderMode=cv2.BORDER_REPLICATE)
        seen = cv2.warpPerspective(support, matrix, (w, h), flags=flags, borderValue=0.0)
        if image is not None and mask is not None:
            both = mask & (seen > 0.5)
            if int(both.sum()) >= 100:
                try:
                    out = fit_colour_transform(image, out, both).apply(out)
                except InputError:
                    pass
        return np.clip(out, 0.0, 1.0).astype(np.float32), seen.astype(np.float32)
