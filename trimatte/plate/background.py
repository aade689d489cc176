"""The plate as the photo's background: aligned, exposure-matched, with its noise level.

:func:`match_plate` chains :mod:`~trimatte.plate.align` and
:mod:`~trimatte.plate.exposure` and measures the noise of ``photo - plate``; it
refuses a plate that, once aligned and matched, still explains too little of the
photo (a plate of another scene, or one taken from elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from trimatte.errors import InputError
from trimatte.image import as_image
from trimatte.plate.align import Alignment, AlignmentError, estimate_alignment, warp_plate
from trimatte.plate.difference import estimate_noise, plate_gradient
from trimatte.plate.exposure import ColourTransform, fit_colour_transform
from trimatte.plate.propagate import blur

#: A background pixel "agrees" when its local residual is below this (plus the
#: registration allowance on the plate's edges).
AGREEMENT_TOLERANCE = 0.05


@dataclass(frozen=True)
class PlateMatch:
    """A plate registered and colour-matched to one photo.

    Attributes:
        background: float32 ``(H, W, 3)``: the plate on the photo's grid, in its colours.
        valid: bool ``(H, W)``: False where the warped plate has no data.
        gradient: float32 ``(H, W, 3)``: per-channel gradient magnitude of ``background``.
        noise: float32 ``(3,)``: standard deviation of ``photo - background`` on
            flat background, per channel.
        agreement: Fraction of valid pixels where the matched plate explains the photo.
        alignment: The registration.
        exposure: The colour transform.
    """

    background: np.ndarray
    valid: np.ndarray
    gradient: np.ndarray
    noise: np.ndarray
    agreement: float
    alignment: Alignment
    exposure: ColourTransform


def fit_plate_size(plate: np.ndarray, shape: tuple[int, ...], source: object) -> np.ndarray:
    """The plate resized to the photo's size when only the resolution differs.

    Raises:
        InputError: The aspect ratios differ by more than 1 %.
    """
    h, w = shape[:2]
    ph, pw = plate.shape[:2]
    if (ph, pw) == (h, w):
        return plate
    if abs((pw / ph) / (w / h) - 1.0) > 0.01:
        raise InputError(f"plate is {pw}x{ph} but the photo is {w}x{h} (WxH): a different "
                         "framing; the plate must be shot with the same camera and framing",
                         source)
    mode = cv2.INTER_AREA if pw > w else cv2.INTER_LINEAR
    return np.clip(cv2.resize(plate, (w, h), interpolation=mode), 0.0, 1.0)


def match_plate(photo: np.ndarray, plate: np.ndarray, *, motion: str = "euclidean",
                exposure: str = "gain-offset", align: bool = True, max_size: int = 1024,
                tolerance: float = 0.15, min_agreement: float = 0.15,
                source: object = "plate") -> PlateMatch:
    """Align ``plate`` to ``photo``, match its colours and measure the noise.

    Args:
        photo: ``(H, W, 3)`` RGB (any dtype :func:`~trimatte.image.as_image` accepts).
        plate: ``(H', W', 3)`` RGB of the empty scene; resized if only its resolution differs.
        motion: Motion model of the registration (see :mod:`trimatte.plate.align`).
        exposure: Colour model (see :mod:`trimatte.plate.exposure`).
        align: False skips registration (plate and photo are pixel-aligned).
        max_size: Long side the registration works at.
        tolerance: Registration error allowed, in pixels (see :mod:`~trimatte.plate.difference`).
        min_agreement: Smallest fraction of the photo the plate must explain.
        source: Name of the plate in error messages.

    Raises:
        InputError: Unusable plate (size, values).
        AlignmentError: The matched plate explains less than ``min_agreement`` of the
            photo (with the registration's own error when registration failed; a plate
            that cannot be registered but explains the photo as it is, such as a
            featureless backdrop, is used unwarped).
    """
    photo = as_image(photo, "image")
    plate = fit_plate_size(as_image(plate, str(source)), photo.shape, source)
    failure = None
    if align:
        try:
            alignment = estimate_alignment(photo, plate, motion=motion, max_size=max_size,
                                           source=source)
        except AlignmentError as exc:
            # A featureless backdrop cannot be registered, and needs no registration:
            # use the plate as it is if it then explains the photo (checked below).
            failure = exc
            alignment = Alignment(np.eye(3), motion, "identity", float("nan"))
        warped, valid = warp_plate(plate, alignment)
    else:
        alignment = Alignment(np.eye(3), motion, "identity", float("nan"))
        warped, valid = plate, np.ones(photo.shape[:2], bool)
    transform = fit_colour_transform(photo, warped, valid, model=exposure)
    background = transform.apply(warped)
    gradient = plate_gradient(background)
    noise = estimate_noise(photo, background, gradient, valid)
    residual = np.sqrt(blur(np.sum((photo - background) ** 2, axis=2), 2.0))
    allowed = AGREEMENT_TOLERANCE + tolerance * np.linalg.norm(gradient, axis=2)
    agreement = float(np.mean((residual <= allowed)[valid])) if valid.any() else 0.0
    if agreement < min_agreement:
        if failure is not None:
            raise failure
        raise AlignmentError(
            f"the plate does not match the photo: after registration ({alignment.method}) "
            f"and exposure matching it explains only {agreement:.0%} of the pixels "
            f"(at least {min_agreement:.0%} needed); is it a plate of the same scene?",
            source,
        )
    return PlateMatch(background, valid, gradient, noise, agreement, alignment, transform)
