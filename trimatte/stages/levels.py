"""The ``alpha-levels`` stage: clear the faint haze closed-form leaves in a wide unknown band.

With an automatic trimap the unknown region is wide (the network's whole uncertain
zone plus a band), and closed-form matting propagates a little foreground into the
background parts of it: alpha of 0.02-0.1 over grass, floor or wall that should be
exactly 0, and 0.9-0.98 inside the body. Summed over many pixels that haze is a large
part of the whole-image error. A levels curve (``(alpha - low) / (high - low)``,
clipped to [0, 1]) sets it back to 0 and 1 and leaves the steep part of the edge
nearly as it was. Known pixels (exactly 0 or 1) do not change.

``low`` and ``high`` were chosen on the validation images of
``benchmarks/auto_trimap.py`` (the shared split's training AM-2k photos), never on the
held-out ones. :func:`trimatte.api.build_pipeline` adds this stage after the alpha
stage when the trimap is automatic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trimatte.image import as_alpha
from trimatte.params import check_range
from trimatte.pipeline import STAGES, MatteState, Stage


def alpha_levels(alpha: np.ndarray, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Stretch ``alpha`` so that ``low`` maps to 0 and ``high`` to 1 (clipped).

    Args:
        alpha: float32 ``(H, W)`` in [0, 1].
        low: Alpha at or below which the result is 0 (``0 <= low < high``).
        high: Alpha at or above which the result is 1 (``high <= 1``).

    Returns:
        float32 ``(H, W)`` in [0, 1], a new array; 0 and 1 are kept, and the
        order of values is kept (the curve is monotone).

    Raises:
        InputError: ``alpha`` is malformed.
        ValueError: ``low`` / ``high`` out of order or range.
    """
    alpha = as_alpha(alpha, "alpha")
    if not 0.0 <= low < high <= 1.0:
        raise ValueError(f"need 0 <= low < high <= 1, got low={low}, high={high}")
    scale = np.float32(1.0 / (high - low))
    return np.clip((alpha - np.float32(low)) * scale, 0.0, 1.0).astype(np.float32)


@STAGES.register("alpha-levels")
@dataclass(kw_only=True)
class AlphaLevels(Stage):
    """Levels curve on the matte: ``low`` and below become 0, ``high`` and above 1.

    Args:
        low: Alpha mapped to 0 (the haze closed-form leaves over the background).
        high: Alpha mapped to 1.
    """

    low: float = 0.1
    high: float = 0.9
    role = "alpha_refine"

    def check_params(self) -> None:
        check_range(self.low, "low", self.owner, ge=0, lt=1)
        check_range(self.high, "high", self.owner, gt=self.low, le=1)

    def run(self, state: MatteState) -> MatteState:
        state.require("alpha", stage=self.label)
        return state.replace(alpha=alpha_levels(state.alpha, self.low, self.high))


__all__ = ["AlphaLevels", "alpha_levels"]
