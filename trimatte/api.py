"""One-call entry points: :func:`default_pipeline` and :func:`matte`."""

from __future__ import annotations

from typing import Any

import numpy as np

from trimatte.pipeline import STAGES, MatteState, Pipeline

#: Trimap source used when the caller gives no trimap.
DEFAULT_TRIMAP_METHOD = "salient"
#: Alpha estimator of the default pipeline: closed-form matting corrected by the
#: classical-guided network, which beats closed-form alone on the held-out photos
#: (docs/models.md). ``"closed-form"`` is the torch-free classical fallback.
DEFAULT_MATTING = "guided"
#: Alpha stages that :func:`build_pipeline` wraps in the ``refined`` stage (base
#: resolution plus full-resolution re-solves of uncertain patches) for large images.
#: ``guided`` gets a ``refined`` closed-form *guide* instead (its network always runs at
#: its ``max_size``).
REFINED_ALPHA_STAGES = ("closed-form", "dim")
#: Megapixels above which those stages run through ``refined`` by default.
DEFAULT_REFINE_ABOVE = 6.0
#: Trimap sources after whose trimaps :func:`build_pipeline` adds the ``alpha-levels``
#: stage by default: their unknown region is the network's whole uncertain zone, where
#: closed-form leaves a faint haze (:mod:`trimatte.stages.levels`).
LEVELS_AFTER_TRIMAPS = ("salient",)
#: Trimap sources after whose trimaps the ``guided`` stage applies only the part of the
#: network's correction that lowers alpha (``corrections="lower"``): their unknown region
#: is the saliency net's unsure zone, mostly background, which the network tends to fill
#: (training-split photos, whole-image SAD 26.5 against 28.3; see
#: :class:`trimatte.stages.guided.GuidedAlpha`).
LOWER_CORRECTIONS_AFTER_TRIMAPS = ("salient",)
#: Trimap-source parameters that video uses unless told otherwise
#: (:func:`video_trimap_params`). The ``salient`` source's mirrored pass is a confidence
#: cue on still photos; in video it doubled a frame's cost and left the mattes the same
#: (the benchmark's 320x240 ``am2k-plain`` clip: 2.91 against 1.44 CPU s per frame,
#: identical alpha), while the saliency memory and the flow already steady the subject.
VIDEO_TRIMAP_PARAMS: dict[str, dict[str, Any]] = {"salient": {"mirror_check": False}}


def build_pipeline(
    *,
    trimap_method: str | None = DEFAULT_TRIMAP_METHOD,
    matting: str = DEFAULT_MATTING,
    foreground: str | None = "multilevel-foreground",
    composite: str | None = "cutout",
    background: str | None = None,
    trimap_params: dict[str, Any] | None = None,
    matting_params: dict[str, Any] | None = None,
    refine_above: float | None = DEFAULT_REFINE_ABOVE,
    alpha_levels: bool | None = None,
) -> Pipeline:
    """A pipeline from stage names, as the CLI flags spell them.

    Args:
        trimap_method: Registered name of the trimap source (``"salient"``,
            ``"grabcut"``, ``"unet-trimap"``, ...), or ``None``/``"given"`` when the
            caller always passes a trimap.
        matting: Registered name of the alpha stage (``"guided"``, ``"closed-form"``,
            ``"dim"``, ``"grabcut-hard"``).
        foreground: Foreground-estimation stage, or ``None`` to skip it.
        composite: ``"cutout"`` (RGBA), ``"composite"`` (over ``background``) or ``None``.
        background: Background for ``composite="composite"``: a colour or an image path.
        trimap_params: Parameters of the trimap source.
        matting_params: Parameters of the alpha stage. ``guided`` after a trimap source
            of :data:`LOWER_CORRECTIONS_AFTER_TRIMAPS` gets ``corrections="lower"``
            unless these say otherwise.
        refine_above: Megapixels above which the alpha stage (one of
            :data:`REFINED_ALPHA_STAGES`, or the guide of ``guided``) runs at a base
            resolution plus full-resolution re-solves of its uncertain patches (the
            ``refined`` stage); ``None`` always solves at full resolution.
        alpha_levels: Add the ``alpha-levels`` stage after the alpha stage (alpha of
            0.1 and below becomes 0, 0.9 and above 1); ``None``: only after the trimap
            sources of :data:`LEVELS_AFTER_TRIMAPS`.
    """
    stages = [STAGES.build(trimap_method or "given", **(trimap_params or {}))]
    if matting == "guided" and trimap_method in LOWER_CORRECTIONS_AFTER_TRIMAPS:
        matting_params = {"corrections": "lower", **(matting_params or {})}
    alpha = STAGES.build(matting, **(matting_params or {}))
    if refine_above is not None and matting == "guided" and alpha.guide is None:
        # the network always works at its max_size: only its closed-form guide needs the
        # base-plus-refinement machinery at high resolution
        guide = STAGES.build("refined", inner=alpha.guide_stage(),
                             above_megapixels=refine_above)
        alpha = STAGES.build(matting, **(matting_params or {}), guide=guide)
    if refine_above is not None and matting in REFINED_ALPHA_STAGES:
        alpha = STAGES.build("refined", inner=alpha.to_dict(), above_megapixels=refine_above)
    stages.append(alpha)
    if alpha_levels or (alpha_levels is None and trimap_method in LEVELS_AFTER_TRIMAPS):
        stages.append(STAGES.build("alpha-levels"))
    if foreground:
        stages.append(STAGES.build(foreground))
    if composite == "composite":
        stages.append(STAGES.build("composite", background=background or "white"))
    elif composite:
        stages.append(STAGES.build(composite))
    return Pipeline(stages)


def video_trimap_params(method: str | None, params: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
    """The parameters of trimap source ``method`` for video.

    Args:
        method: Registered name of the trimap source (None: none).
        params: The caller's parameters; they override :data:`VIDEO_TRIMAP_PARAMS`.

    Returns:
        A new dict.
    """
    return {**VIDEO_TRIMAP_PARAMS.get(method or "", {}), **(params or {})}


def default_pipeline() -> Pipeline:
    """The pipeline ``trimatte matte IMAGE`` runs with no flags.

    Salient-object trimap → alpha estimation → alpha levels → multi-level foreground →
    RGBA cutout.
    """
    return build_pipeline()


def matte(
    image: np.ndarray,
    trimap: np.ndarray | None = None,
    *,
    pipeline: Pipeline | None = None,
    **hints: Any,
) -> MatteState:
    """Pull the subject off its background in one call.

    Args:
        image: ``(H, W, 3)`` RGB (uint8, uint16 or float in [0, 1]) or ``(H, W)`` gray.
        trimap: Optional ``(H, W)`` trimap (0/128/255); without one the pipeline's
            trimap source makes it.
        pipeline: Pipeline to run; :func:`default_pipeline` if None.
        **hints: Inputs for the trimap source, e.g. ``rect=(x, y, w, h)`` for GrabCut.

    Returns:
        The final :class:`~trimatte.pipeline.MatteState`: ``.alpha`` (float32 HxW),
        ``.trimap``, ``.foreground``, ``.composite`` (RGBA float32 HxWx4 for the
        default pipeline) and ``.timings``.

    Example:
        >>> import trimatte
        >>> image = trimatte.read_image("examples/data/astronaut.jpg")  # doctest: +SKIP
        >>> result = trimatte.matte(image)  # doctest: +SKIP
        >>> trimatte.write_rgba("astronaut.png", result.foreground, result.alpha)  # doctest: +SKIP
    """
    return (pipeline or default_pipeline())(image, trimap, **hints)
