"""Optical flow between frames, warping along it, and where it can be trusted.

Convention: ``flow = estimate_flow(a, b)`` is OpenCV's: ``a[p] ~ b[p + flow[p]]``. So
``warp(b_data, flow)`` brings data of frame ``b`` into the pixel grid of frame ``a``.
Flows are float32 ``(H, W, 2)`` arrays of ``(dx, dy)`` in pixels.

The trust of a warped pixel combines a forward-backward check (following the flow to
the other frame and back should return to the start; it does not across occlusions)
and a photometric check (the warped colour should match), both on frames normalised
for global brightness and colour balance so that a lighting change does not read as a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from trimatte.errors import InputError

__all__ = [
    "FLOW_METHODS",
    "FlowEstimator",
    "flow_confidence",
    "prepare_colour",
    "prepare_gray",
    "warp",
]

#: Optical-flow algorithms of OpenCV that :class:`FlowEstimator` runs.
FLOW_METHODS = ("dis", "farneback")

_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def prepare_gray(image: np.ndarray) -> np.ndarray:
    """Frame → uint8 gray normalised for global brightness (mean 128, std 48).

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].

    Returns:
        uint8 ``(H, W)``: what :class:`FlowEstimator` and :func:`flow_confidence` compare.
    """
    gray = cv2.cvtColor(np.asarray(image, np.float32), cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (0, 0), 0.8)
    mean, std = float(gray.mean()), float(gray.std())
    normalised = (gray - mean) / max(std, 1e-3) * 48.0 + 128.0
    return np.clip(np.rint(normalised), 0, 255).astype(np.uint8)


def prepare_colour(image: np.ndarray) -> np.ndarray:
    """Frame → float32 RGB with each channel normalised like :func:`prepare_gray`.

    Used by the photometric check of :func:`flow_confidence`: gray alone cannot tell
    an orange subject from a blue background of the same brightness.
    """
    rgb = cv2.GaussianBlur(np.asarray(image, np.float32), (0, 0), 0.8)
    mean = rgb.reshape(-1, 3).mean(axis=0)
    std = np.maximum(rgb.reshape(-1, 3).std(axis=0), 1e-3)
    return ((rgb - mean) / std * 48.0 + 128.0).astype(np.float32)


@dataclass
class FlowEstimator:
    """Dense optical flow with OpenCV: DIS (default) or Farneback.

    Args:
        method: ``"dis"`` or ``"farneback"``.
        preset: DIS preset: ``"ultrafast"``, ``"fast"`` or ``"medium"``.
    """

    method: str = "dis"
    preset: str = "medium"
    _dis: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise InputError(f"unknown flow method {self.method!r}; choose {FLOW_METHODS}",
                             "flow")
        if self.method == "dis":
            if self.preset not in _DIS_PRESETS:
                raise InputError(
                    f"unknown DIS preset {self.preset!r}; choose {tuple(_DIS_PRESETS)}", "preset"
                )
            dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[self.preset])
            dis.setUseMeanNormalization(True)
            self._dis = dis

    def __call__(self, gray_a: np.ndarray, gray_b: np.ndarray) -> np.ndarray:
        """Flow from frame ``a`` to frame ``b`` (uint8 gray from :func:`prepare_gray`).

        Returns:
            float32 ``(H, W, 2)`` with ``a[p] ~ b[p + flow[p]]``.
        """
        if gray_a.shape != gray_b.shape:
            raise InputError(f"frame sizes differ: {gray_a.shape} vs {gray_b.shape}", "flow")
        if min(gray_a.shape) < 8:
            return np.zeros((*gray_a.shape, 2), np.float32)
        if self.method == "dis":
            flow = self._dis.calc(gray_a, gray_b, None)
        else:
            flow = cv2.calcOpticalFlowFarneback(gray_a, gray_b, None, 0.5, 4, 15, 3, 5, 1.2, 0)
        return np.nan_to_num(flow).astype(np.float32)


def _grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    return np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))


def warp(data: np.ndarray, flow: np.ndarray, *, nearest: bool = False,
         border_value: float = 0.0) -> np.ndarray:
    """Sample ``data`` (in frame b's grid) at ``p + flow[p]`` (backward warping).

    Args:
        data: ``(H, W)`` or ``(H, W, C)`` array of frame b (float32 or uint8).
        flow: float32 ``(H, W, 2)`` flow from frame a to frame b.
        nearest: Nearest-neighbour sampling (for labels such as trimaps); bilinear
            otherwise.
        border_value: Value for samples that fall outside frame b.

    Returns:
        Array of ``data``'s dtype and shape, in frame a's grid.
    """
    gx, gy = _grid(flow.shape[:2])
    map_x = gx + flow[..., 0]
    map_y = gy + flow[..., 1]
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.remap(data, map_x, map_y, mode, borderMode=cv2.BORDER_CONSTANT,
                     borderValue=border_value)


def flow_confidence(
    flow_ab: np.ndarray,
    flow_ba: np.ndarray,
    frame_a: np.ndarray,
    frame_b: np.ndarray,
    *,
    fb_tolerance: float = 2.5,
    photo_tolerance: float = 40.0,
) -> np.ndarray:
    """How far each warped pixel of frame b into frame a can be trusted.

    ``exp(-(e_fb / fb_tolerance)^2) * exp(-(e_photo / photo_tolerance)^2)``, with
    ``e_fb = |flow_ab(p) + flow_ba(p + flow_ab(p))|`` (pixels) and ``e_photo`` the
    largest channel difference of the normalised frames (0-255 scale), blurred a little.
    Pixels whose flow leaves frame b get 0.

    Args:
        flow_ab, flow_ba: Flows a → b and b → a.
        frame_a, frame_b: Frames from :func:`prepare_colour` (or uint8 gray from
            :func:`prepare_gray`).
        fb_tolerance: Forward-backward error (px) at which trust falls to 1/e.
        photo_tolerance: Level difference at which trust falls to 1/e.

    Returns:
        float32 ``(H, W)`` in [0, 1].
    """
    back = warp(flow_ba, flow_ab)
    fb_error = np.hypot(flow_ab[..., 0] + back[..., 0], flow_ab[..., 1] + back[..., 1])
    warped = warp(frame_b.astype(np.float32), flow_ab, border_value=-1000.0)
    difference = np.abs(frame_a.astype(np.float32) - warped)
    if difference.ndim == 3:
        difference = difference.max(axis=2)
    photo = cv2.GaussianBlur(difference, (0, 0), 1.0)
    confidence = np.exp(-np.square(fb_error / fb_tolerance)) * np.exp(
        -np.square(photo / photo_tolerance)
    )
    gx, gy = _grid(flow_ab.shape[:2])
    h, w = flow_ab.shape[:2]
    tx, ty = gx + flow_ab[..., 0], gy + flow_ab[..., 1]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    return np.where(inside, confidence, 0.0).astype(np.float32)
