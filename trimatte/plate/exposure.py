"""Match a plate's exposure and colour to the photo's.

The plate is shot at another moment: exposure, white balance and flare differ a
little. A colour transform ``photo ≈ M @ plate + offset`` is fitted by least
squares on pixels that are probably background, found by *trimming*: fit, keep
the ``keep`` fraction of pixels that the fit explains best, refit, repeat (least
trimmed squares by concentration steps). The subject and its shadow disagree with
the plate, so they are trimmed away as long as the background is more than
``1 - keep`` of the image.

Models: ``"gain"`` (a gain per channel: exposure and white balance),
``"gain-offset"`` (plus a black-level offset per channel, the default) and
``"affine"`` (a full 3x3 colour matrix plus offset, for a change of light colour
that mixes channels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.errors import InputError
from trimatte.params import check_choice

MODELS = ("gain", "gain-offset", "affine")


@dataclass(frozen=True)
class ColourTransform:
    """``photo ≈ matrix @ plate + offset`` per pixel.

    Attributes:
        matrix: float64 ``(3, 3)``.
        offset: float64 ``(3,)``.
        model: The model it was fitted with.
        inlier_fraction: Fraction of the sampled pixels kept by the last trimming step.
    """

    matrix: np.ndarray
    offset: np.ndarray
    model: str
    inlier_fraction: float

    @property
    def gains(self) -> np.ndarray:
        """The diagonal of :attr:`matrix` (per-channel gains), float64 ``(3,)``."""
        return np.diag(self.matrix).copy()

    def apply(self, plate: np.ndarray) -> np.ndarray:
        """The transformed plate, float32 ``(H, W, 3)`` clipped to [0, 1]."""
        out = plate.reshape(-1, 3).astype(np.float32) @ self.matrix.T.astype(np.float32)
        out += self.offset.astype(np.float32)
        return np.clip(out, 0.0, 1.0).reshape(plate.shape)


def check_model(model: str) -> str:
    """Validate an exposure model name.

    Raises:
        InputError: Unknown model.
    """
    return check_choice(model, MODELS, "exposure model", "exposure")


def _design(plate: np.ndarray, model: str) -> list[np.ndarray]:
    """Per output channel, the design matrix (n, k) of the linear model."""
    ones = np.ones((plate.shape[0], 1))
    if model == "gain":
        return [plate[:, c:c + 1] for c in range(3)]
    if model == "gain-offset":
        return [np.hstack([plate[:, c:c + 1], ones]) for c in range(3)]
    full = np.hstack([plate, ones])
    return [full] * 3


def _solve(plate: np.ndarray, photo: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    matrix, offset = np.zeros((3, 3)), np.zeros(3)
    for c, design in enumerate(_design(plate, model)):
        coef, *_ = np.linalg.lstsq(design, photo[:, c], rcond=None)
        if model == "gain":
            matrix[c, c] = coef[0]
        elif model == "gain-offset":
            matrix[c, c], offset[c] = coef
        else:
            matrix[c], offset[c] = coef[:3], coef[3]
    return matrix, offset


def fit_colour_transform(photo: np.ndarray, plate: np.ndarray, mask: np.ndarray | None = None,
                         *, model: str = "gain-offset", keep: float = 0.5,
                         iterations: int = 6, max_samples: int = 200_000) -> ColourTransform:
    """Fit ``photo ≈ M plate + o`` robustly on pixels that are probably background.

    Args:
        photo: float32 ``(H, W, 3)`` RGB in [0, 1].
        plate: float32 ``(H, W, 3)`` RGB in [0, 1], already aligned to ``photo``.
        mask: bool ``(H, W)``: pixels allowed in the fit (e.g. where the warped plate
            has data); None for all.
        model: ``"gain"``, ``"gain-offset"`` or ``"affine"``.
        keep: Fraction of the pixels kept by each trimming step (0 < keep <= 1).
        iterations: Trimming steps.
        max_samples: Pixels sampled (on a regular stride) for the fit.

    Returns:
        The fitted :class:`ColourTransform`.

    Raises:
        InputError: Bad model or ``keep``, or too few usable pixels.
    """
    check_model(model)
    if not 0.0 < keep <= 1.0:
        raise InputError(f"must lie in (0, 1], got {keep!r}", "keep")
    a = photo.reshape(-1, 3).astype(np.float64)
    b = plate.reshape(-1, 3).astype(np.float64)
    usable = np.ones(a.shape[0], bool) if mask is None else mask.reshape(-1).copy()
    # Saturated or black pixels carry no exposure information.
    usable &= (b.max(axis=1) < 0.98) & (a.max(axis=1) < 0.98) & (b.max(axis=1) > 0.02)
    index = np.flatnonzero(usable)
    if index.size < 100:
        raise InputError("too few unsaturated pixels to match the plate's exposure", "plate")
    index = index[:: max(1, index.size // max_samples)]
    a, b = a[index], b[index]
    # Start from per-channel median ratios: robust to a subject covering half the image.
    gains = np.median(a / np.maximum(b, 1e-3), axis=0)
    matrix, offset = np.diag(gains), np.zeros(3)
    inliers = np.ones(a.shape[0], bool)
    for _ in range(max(1, iterations)):
        residual = np.linalg.norm(b @ matrix.T + offset - a, axis=1)
        inliers = residual <= np.quantile(residual, keep)
        matrix, offset = _solve(b[inliers], a[inliers], model)
    return ColourTransform(matrix, offset, model, float(inliers.mean()))
