"""The fixed held-out split of the developers' ``../shared/data``.

Training never sees these seven examples; validation during training and every
later evaluation on ``../shared`` use exactly them (call :func:`shared_split`):

================================  ==========================================
held-out example                  why
================================  ==========================================
``am2k/sample1``                  animal, real human-made alpha (dog)
``am2k/sample6``                  animal, real alpha
``am2k/sample11``                 animal, real alpha
``pseudo_alpha/p3m_demo/p_07141906``   portrait, hair against a plain wall
``pseudo_alpha/p3m_demo/p_71bcce3a``   portrait, grayscale, textured background
``pseudo_alpha/p3m_demo/p_bd6af989``   portrait, long hair, busy background
``pseudo_alpha/p3m_samples/p_819ea202``  full-body portrait outdoors
================================  ==========================================

Only the AM-2k mattes are human-made ground truth; the pseudo-alpha mattes were
predicted by published networks, so numbers on them measure agreement with those
networks, not accuracy (report them separately; :func:`shared_split` returns the
two kinds in separate lists as well).

The choice was fixed once by hand (a spread of subjects) and must not change:
results across runs are only comparable on the same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trimatte.data.folders import MattePair, PathLike, shared_backgrounds, shared_pairs
from trimatte.errors import InputError

#: Held-out AM-2k examples (real alpha).
HELD_OUT_AM2K = ("am2k/sample1", "am2k/sample6", "am2k/sample11")
#: Held-out pseudo-alpha portraits (predicted alpha).
HELD_OUT_PSEUDO = (
    "pseudo_alpha/p3m_demo/p_07141906",
    "pseudo_alpha/p3m_demo/p_71bcce3a",
    "pseudo_alpha/p3m_demo/p_bd6af989",
    "pseudo_alpha/p3m_samples/p_819ea202",
)
HELD_OUT = HELD_OUT_AM2K + HELD_OUT_PSEUDO


@dataclass(frozen=True)
class SharedSplit:
    """Training and held-out pairs of ``../shared/data``.

    Attributes:
        train: Every other (image, alpha) pair (AM-2k and pseudo-alpha).
        validation: The held-out pairs, AM-2k first, in the order of :data:`HELD_OUT`.
        validation_real: The held-out pairs with real (human-made) alpha.
        validation_pseudo: The held-out pairs with predicted alpha.
        backgrounds: The background photos for compositing.
    """

    train: list[MattePair]
    validation: list[MattePair]
    validation_real: list[MattePair]
    validation_pseudo: list[MattePair]
    backgrounds: list[Path]


def shared_split(data_root: PathLike) -> SharedSplit:
    """The fixed split of ``data_root`` (the ``shared/data`` folder).

    Raises:
        InputError: The folder lacks a held-out example (a different data version).
    """
    pairs, _ = shared_pairs(data_root)
    by_name = {p.name: p for p in pairs}
    missing = [name for name in HELD_OUT if name not in by_name]
    if missing:
        raise InputError(
            f"held-out examples missing: {', '.join(missing)}; is this the shared/data folder?",
            data_root,
        )
    held = set(HELD_OUT)
    return SharedSplit(
        train=[p for p in pairs if p.name not in held],
        validation=[by_name[n] for n in HELD_OUT],
        validation_real=[by_name[n] for n in HELD_OUT_AM2K],
        validation_pseudo=[by_name[n] for n in HELD_OUT_PSEUDO],
        backgrounds=shared_backgrounds(data_root),
    )
