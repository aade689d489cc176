"""How far to trust an automatic trimap: a score in [0, 1] and named flags.

An automatic trimap can be wrong without anything failing: the saliency net picks
the flower pot instead of the plant, a second animal is cut away, the whole image
turns unknown and the matte comes out washed out. :func:`estimate_confidence` looks
at the evidence such a trimap leaves behind and says so. Each cue has a *penalty*
in [0, 1]; the score is the product of ``1 - penalty`` over the cues, and a cue whose
penalty reaches :data:`FLAG_AT` adds its flag:

=====================  ===========================================================
flag                   evidence (penalty grows with it)
=====================  ===========================================================
``empty scene``        no pixel reaches the saliency threshold, or the subject is
                       under 0.2 % of the image (score 0)
``uncertain subject``  many subject pixels have middling saliency, or colour-based
                       completion changed much of the salient mask
``mostly unknown``     the unknown band is large next to the definite foreground
``second object``      another, separate component is salient too
``touches border``     the subject runs into three or four sides of the frame (one
                       or two, e.g. a portrait's bottom and side, cost nothing)
``whole image``        the subject covers nearly the whole image
``unstable subject``   the saliency net's subject changes when the photo is
                       mirrored (low IoU between the two thresholded maps)
=====================  ===========================================================

A result whose score is below :data:`LOW_CONFIDENCE` should be looked at; the CLI
warns about it and ``--strict`` turns the warning into a failure.

Every function is pure: inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trimatte.image import FOREGROUND, UNKNOWN

#: Scores below this are "low": the CLI warns (and fails with ``--strict``).
LOW_CONFIDENCE = 0.5
#: A cue adds its flag once its penalty reaches this.
FLAG_AT = 0.1
#: Penalty of a subject touching 0-4 sides of the frame. Most photos cut their subject
#: at the bottom, a portrait also at both sides, so one or two sides cost nothing and
#: are not flagged; three sides cost a little, four (the subject fills the frame) more.
#: On 56 portraits and SOD photos (not held out) the number of sides touched did not
#: predict a wrong trimap at all (rank AUC 0.40), so it carries little weight.
BORDER_PENALTIES = (0.0, 0.0, 0.05, 0.1, 0.3)

EMPTY = "empty scene"
UNCERTAIN = "uncertain subject"
MOSTLY_UNKNOWN = "mostly unknown"
SECOND_OBJECT = "second object"
TOUCHES_BORDER = "touches border"
WHOLE_IMAGE = "whole image"
UNSTABLE = "unstable subject"
#: Ramp of the ``unstable subject`` penalty over ``1 - IoU`` of the subject masks from
#: the photo and its mirror image: (start, full, weight). Chosen on 80 portraits and SOD
#: photos that are not held out (sorted index % 5 != 0): with it the score ranks trimaps
#: with more than 10 % wrong sure pixels below good ones at rank AUC 0.67 (0.58 without);
#: the mirrored IoU alone reaches 0.73.
UNSTABLE_RAMP = (0.03, 0.3, 0.6)


@dataclass(frozen=True)
class Confidence:
    """Confidence of one automatic result.

    Attributes:
        score: 1 = nothing suspicious, 0 = certainly wrong (e.g. an empty scene).
        flags: Names of the cues that lowered the score (see module notes).
        details: The measured cues (fractions, counts) and each cue's penalty.
    """

    score: float
    flags: tuple[str, ...] = ()
    details: dict[str, float] = field(default_factory=dict)

    @property
    def low(self) -> bool:
        """Whether the score is below :data:`LOW_CONFIDENCE`."""
        return self.score < LOW_CONFIDENCE

    def with_penalty(self, flag: str, penalty: float, **details: float) -> Confidence:
        """This confidence lowered by one more cue: ``score * (1 - penalty)``.

        ``flag`` is added (once) when ``penalty`` reaches :data:`FLAG_AT`; ``details``
        are merged into :attr:`details`.
        """
        flags = self.flags
        if penalty >= FLAG_AT and flag not in flags:
            flags = (*flags, flag)
        merged = {**self.details, **details, f"{flag.replace(' ', '_')}_extra_penalty": penalty}
        return Confidence(float(self.score * (1.0 - penalty)), flags, merged)

    def describe(self) -> str:
        """One line, e.g. ``"confidence 0.32 (second object, touches border)"``."""
        flags = f" ({', '.join(self.flags)})" if self.flags else ""
        return f"confidence {self.score:.2f}{flags}"


def _ramp(value: float, start: float, full: float, weight: float) -> float:
    """0 below ``start``, ``weight`` above ``full``, linear in between."""
    if full <= start:
        return weight if value >= start else 0.0
    return weight * float(np.clip((value - start) / (full - start), 0.0, 1.0))


def mask_iou(first: np.ndarray, second: np.ndarray) -> float:
    """Intersection over union of two bool masks (1.0 when both are empty)."""
    union = np.count_nonzero(first | second)
    return 1.0 if union == 0 else np.count_nonzero(first & second) / union


def border_sides(mask: np.ndarray, min_fraction: float = 0.02) -> int:
    """Number of image sides (0-4) along which ``mask`` covers >= ``min_fraction``.

    Args:
        mask: bool ``(H, W)``.
        min_fraction: Fraction of a side's length the mask must cover there.
    """
    sides = (mask[0, :], mask[-1, :], mask[:, 0], mask[:, -1])
    return int(sum(side.mean() >= min_fraction for side in sides))


def estimate_confidence(
    trimap: np.ndarray,
    *,
    saliency: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    salient: np.ndarray | None = None,
    second_strength: float = 0.0,
    threshold: float = 0.5,
    mirrored: np.ndarray | None = None,
) -> Confidence:
    """Confidence of an automatic trimap (see module notes for the cues).

    Args:
        trimap: uint8 ``(H, W)`` trimap (0/128/255).
        saliency: float32 ``(H, W)`` saliency in [0, 1] the trimap came from, if any.
        mask: bool ``(H, W)`` final hard subject mask; default the trimap's fg + unknown
            pixels nearer the foreground is approximated by ``trimap != 0``.
        salient: bool ``(H, W)`` mask of the kept salient objects before completion;
            with ``mask`` it measures how much completion changed.
        second_strength: Summed saliency of the strongest other salient component
            relative to the subject's (:class:`trimatte.trimap.completion.ObjectSelection`).
        threshold: Saliency threshold the objects were cut at.
        mirrored: float ``(H, W)`` saliency of the mirrored photo, flipped back (needs
            ``saliency``); a subject that changes under mirroring is a guess.

    Returns:
        :class:`Confidence`.
    """
    fg = trimap == FOREGROUND
    unknown = trimap == UNKNOWN
    if mask is None:
        mask = fg | unknown
    details: dict[str, float] = {}
    peak = float(saliency.max()) if saliency is not None else 1.0
    area = float(mask.mean())
    details.update(peak_saliency=peak, subject_fraction=area,
                   unknown_fraction=float(unknown.mean()))
    if peak < threshold or area < 0.002 or not fg.any():
        details["empty_penalty"] = 1.0
        return Confidence(0.0, (EMPTY,), details)

    penalties: dict[str, float] = {}
    if saliency is not None:
        core = saliency >= threshold
        soft = float(((saliency < 0.9) & core).sum() / max(core.sum(), 1))
        details["soft_subject_fraction"] = soft
        penalties[UNCERTAIN] = _ramp(soft, 0.1, 0.4, 0.6)
    if salient is not None:
        changed = float((salient ^ mask).sum() / max(salient.sum(), 1))
        details["completion_change"] = changed
        penalties[UNCERTAIN] = max(penalties.get(UNCERTAIN, 0.0), _ramp(changed, 0.15, 0.6, 0.6))
    ratio = float(unknown.sum() / max(unknown.sum() + fg.sum(), 1))
    details["unknown_to_subject"] = ratio
    penalties[MOSTLY_UNKNOWN] = _ramp(ratio, 0.5, 0.9, 0.7)
    details["second_strength"] = float(second_strength)
    penalties[SECOND_OBJECT] = _ramp(second_strength, 0.1, 0.4, 0.6)
    sides = border_sides(mask)
    details["border_sides"] = float(sides)
    penalties[TOUCHES_BORDER] = BORDER_PENALTIES[sides]
    penalties[WHOLE_IMAGE] = _ramp(area, 0.8, 0.98, 0.8)
    if saliency is not None and mirrored is not None:
        iou = mask_iou(saliency >= threshold, mirrored >= threshold)
        details["mirrored_iou"] = iou
        penalties[UNSTABLE] = _ramp(1.0 - iou, *UNSTABLE_RAMP)

    score = 1.0
    flags = []
    for name, penalty in penalties.items():
        details[f"{name.replace(' ', '_')}_penalty"] = penalty
        score *= 1.0 - penalty
        if penalty >= FLAG_AT:
            flags.append(name)
    return Confidence(float(score), tuple(flags), details)


__all__ = [
    "BORDER_PENALTIES",
    "EMPTY",
    "FLAG_AT",
    "LOW_CONFIDENCE",
    "MOSTLY_UNKNOWN",
    "SECOND_OBJECT",
    "TOUCHES_BORDER",
    "UNCERTAIN",
    "UNSTABLE",
    "UNSTABLE_RAMP",
    "WHOLE_IMAGE",
    "Confidence",
    "border_sides",
    "estimate_confidence",
    "mask_iou",
]
