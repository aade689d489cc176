"""Pipelines of swappable stages.

A matting pipeline is a list of :class:`Stage` objects, each with a *role*:

=================  ===========================================  =====================
role               reads                                        writes
=================  ===========================================  =====================
``trimap``         ``image`` (and ``mask``/``scribbles``)       ``trimap`` (``mask``)
``trimap_refine``  ``trimap``                                   ``trimap``
``alpha``          ``image``, ``trimap``                        ``alpha``
``alpha_refine``   ``image``, ``trimap``, ``alpha``             ``alpha``
``foreground``     ``image``, ``alpha``                         ``foreground``
``composite``      ``foreground``/``image``, ``alpha``          ``composite``
=================  ===========================================  =====================

Stages pass a :class:`MatteState` along; each returns a new state with its
outputs filled in. A pipeline records the wall time of every stage and
round-trips to a plain dict (and a YAML or JSON file) through the stage
registry :data:`STAGES`, defined here beside :class:`Stage`. Built-in stages
(:mod:`trimatte.stages`) register themselves when imported, which ``import trimatte``
does.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from trimatte.errors import ConfigError, InputError
from trimatte.image import as_image, as_trimap, check_same_size
from trimatte.params import apply_renames, coerce_instance
from trimatte.registry import Registry

if TYPE_CHECKING:  # only for the annotation of MatteState.confidence
    from trimatte.trimap.confidence import Confidence

__all__ = [
    "ROLES",
    "STAGES",
    "MatteState",
    "Pipeline",
    "Stage",
    "nested_alpha_stage",
    "nested_stage_config",
    "renamed_params",
    "stage_from_dict",
]

ROLES = ("trimap", "trimap_refine", "alpha", "alpha_refine", "foreground", "composite")


@dataclass
class MatteState:
    """Everything known about one image as it flows through a pipeline.

    Attributes:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` with 0/128/255, or None.
        mask: bool ``(H, W)`` hard foreground mask (e.g. from GrabCut), or None.
        alpha: float32 ``(H, W)`` in [0, 1], or None.
        foreground: float32 ``(H, W, 3)`` colour-decontaminated foreground, or None.
        composite: float32 ``(H, W, 3)`` or ``(H, W, 4)`` result of compositing, or None.
        hints: Extra inputs for sources, e.g. ``{"rect": (x, y, w, h)}`` or scribbles.
        timings: Seconds spent in each stage, keyed ``"role:name"``.
        confidence: How far to trust an automatic result
            (:class:`trimatte.trimap.confidence.Confidence`: score in [0, 1] and flags),
            set by automatic trimap sources; None when nothing estimated it.
    """

    image: np.ndarray
    trimap: np.ndarray | None = None
    mask: np.ndarray | None = None
    alpha: np.ndarray | None = None
    foreground: np.ndarray | None = None
    composite: np.ndarray | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    confidence: Confidence | None = None

    def replace(self, **changes: Any) -> MatteState:
        """A copy with some fields replaced (arrays are not copied)."""
        return dataclasses.replace(self, **changes)

    def require(self, *names: str, stage: str) -> None:
        """Raise InputError if any of the named fields is still None."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise InputError(
                f"needs {', '.join(missing)} but no earlier stage produced it; "
                "add a stage that does, or pass it in",
                stage,
            )


class Stage:
    """Base class of pipeline stages.

    Subclasses are (keyword-only) dataclasses whose fields are their parameters,
    set ``role`` and implement :meth:`run`. Registering a subclass with
    ``@STAGES.register("name")`` makes it nameable in a config.
    """

    role: ClassVar[str] = ""
    registry_name: ClassVar[str] = ""
    renamed: ClassVar[dict[str, str]] = {}
    """Old parameter names still accepted: ``{old: new}`` (see :func:`renamed_params`)."""
    uses_given_trimap: ClassVar[bool] = False
    """A ``trimap`` source that reads the trimap passed to the pipeline (``given``):
    it still runs when a trimap is passed, while the other trimap sources are skipped."""

    def __post_init__(self) -> None:
        """Convert the parameters to their field types and check their ranges.

        Dataclass subclasses call this after ``__init__``: a string such as ``"1e-6"``
        becomes a float (:func:`trimatte.params.coerce_instance`), then
        :meth:`check_params` runs. A subclass defining its own ``__post_init__``
        should call ``super().__post_init__()``.

        Raises:
            ConfigError: A parameter of the wrong type or out of range.
        """
        if dataclasses.is_dataclass(self):
            coerce_instance(self, self.owner)
        self.check_params()

    def check_params(self) -> None:
        """Override to check parameter ranges with :func:`trimatte.params.check_range`."""

    @property
    def owner(self) -> str:
        """``"stage 'name'"``, how errors about this stage's parameters name it."""
        return f"stage {self.registry_name or type(self).__name__!r}"

    def run(self, state: MatteState) -> MatteState:
        """Return a new state with this stage's outputs filled in."""
        raise NotImplementedError

    def __call__(self, state: MatteState) -> MatteState:
        return self.run(state)

    @property
    def label(self) -> str:
        """``"role:name"``, the key of this stage in :attr:`MatteState.timings`."""
        return f"{self.role}:{self.registry_name or type(self).__name__}"

    def params(self) -> dict[str, Any]:
        """This stage's parameters as plain Python values."""
        if not dataclasses.is_dataclass(self):
            return {}
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., "params": {...}}``, the config form of this stage."""
        if not self.registry_name:
            raise InputError("stage is not registered, so it cannot be saved", type(self).__name__)
        return {"name": self.registry_name, "params": self.params()}


def renamed_params(**renamed: str) -> Callable[[type], type]:
    """Class decorator: a stage also accepts the old names of renamed parameters.

    ``@renamed_params(band="band_radius")`` (placed above ``@dataclass``) lets
    ``GrabCutTrimap(band=8)`` and configs saying ``band: 8`` keep working, with a
    FutureWarning naming the new parameter; :meth:`Registry.build` reads the same
    ``renamed`` mapping.
    """

    def decorate(cls: type) -> type:
        init = cls.__init__
        mapping = {**getattr(cls, "renamed", {}), **renamed}

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            owner = f"stage {cls.registry_name or cls.__name__!r}"
            init(self, *args, **apply_renames(kwargs, mapping, owner))

        cls.__init__ = __init__
        cls.renamed = mapping
        return cls

    return decorate


STAGES: Registry[Stage] = Registry("stage")
"""Registered pipeline stages by name; ``STAGES.build("closed-form", epsilon=1e-7)``."""


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def stage_from_dict(config: dict[str, Any]) -> Stage:
    """Build a stage from ``{"name": ..., "params": {...}}``."""
    if not isinstance(config, dict) or "name" not in config:
        raise ConfigError(f"a stage config needs a 'name', got {config!r}", "config")
    params = config.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(
            f"'params' must be a mapping, got {params!r}", f"stage {config['name']!r}"
        )
    return STAGES.build(config["name"], **params)


def nested_stage_config(value: Any) -> Any:
    """A stage nested in another stage's parameter, as its config.

    A registered name becomes ``{"name": value, "params": {}}`` and a :class:`Stage` its
    :meth:`~Stage.to_dict`; anything else is returned unchanged, to be checked by
    :func:`nested_alpha_stage`.
    """
    if isinstance(value, str):
        return {"name": value, "params": {}}
    if isinstance(value, Stage):
        return value.to_dict()
    return value


def nested_alpha_stage(config: Any, field: str, outer: Stage) -> Stage:
    """Build the alpha stage that ``outer`` holds as a config in its parameter ``field``.

    Raises:
        ConfigError: Not a stage config, not an alpha stage, or a stage of ``outer``'s
            own kind (naming ``outer`` and ``field``).
    """
    if not isinstance(config, dict):
        raise ConfigError(f"{field}: expected a stage config or name, got {config!r}",
                          outer.owner)
    stage = stage_from_dict(config)
    if stage.role != "alpha" or stage.registry_name == outer.registry_name:
        raise ConfigError(f"{field}: needs an alpha stage other than {outer.registry_name!r}, "
                          f"got {stage.registry_name!r}", outer.owner)
    return stage


class Pipeline:
    """An ordered list of stages run on one image at a time.

    Args:
        stages: Stages in the order they run. Their roles must follow the order of
            :data:`ROLES` (several ``trimap_refine`` stages are fine).

    Example:
        >>> from trimatte import Pipeline, stages
        >>> pipe = Pipeline([stages.GivenTrimap(), stages.ClosedFormAlpha()])  # doctest: +SKIP
        >>> result = pipe(image, trimap=trimap)  # doctest: +SKIP
        >>> result.alpha.shape, result.timings  # doctest: +SKIP
    """

    def __init__(self, stages: list[Stage]) -> None:
        self.stages = list(stages)
        self._check_order()

    def _check_order(self) -> None:
        last = -1
        for stage in self.stages:
            if stage.role not in ROLES:
                raise InputError(f"unknown role {stage.role!r}", type(stage).__name__)
            index = ROLES.index(stage.role)
            if index < last:
                raise InputError(
                    f"a {stage.role!r} stage cannot run after a {ROLES[last]!r} stage", "pipeline"
                )
            last = index

    def __call__(
        self,
        image: np.ndarray,
        trimap: np.ndarray | None = None,
        **hints: Any,
    ) -> MatteState:
        """Run every stage on ``image`` and return the final state.

        Args:
            image: RGB image (any dtype accepted by :func:`trimatte.image.as_image`).
            trimap: Optional trimap; when given, stages with role ``trimap`` are
                skipped (the given trimap wins) but refinement stages still run.
            **hints: Extra inputs for trimap sources (e.g. ``rect=(x, y, w, h)``).
        """
        state = MatteState(image=as_image(image), hints=dict(hints))
        del image  # the caller's array may now be freed if it held no other reference
        if trimap is not None:
            state.trimap = as_trimap(trimap)
            check_same_size(state.image.shape, state.trimap.shape, "trimap")
        for stage in self.stages:
            if stage.role == "trimap" and trimap is not None and not stage.uses_given_trimap:
                continue
            start = time.perf_counter()
            state = stage.run(state)
            state.timings[stage.label] = time.perf_counter() - start
        return state

    # -------------------------------------------------------------- swapping stages

    def stage(self, role: str) -> Stage:
        """The (first) stage with ``role``."""
        for stage in self.stages:
            if stage.role == role:
                return stage
        raise InputError(f"pipeline has no {role!r} stage", "pipeline")

    def replace(self, role: str, stage: Stage | None) -> Pipeline:
        """A new pipeline with the stage(s) of ``role`` replaced by ``stage``.

        ``stage=None`` removes them; a role the pipeline lacks is inserted in order.
        """
        kept = [s for s in self.stages if s.role != role]
        if stage is None:
            return Pipeline(kept)
        if stage.role != role:
            raise InputError(f"stage has role {stage.role!r}, not {role!r}", type(stage).__name__)
        position = sum(ROLES.index(s.role) < ROLES.index(role) for s in kept)
        return Pipeline([*kept[:position], stage, *kept[position:]])

    # -------------------------------------------------------------- configs

    def to_dict(self) -> dict[str, Any]:
        """``{"stages": [{"name": ..., "params": {...}}, ...]}``."""
        return {"stages": [s.to_dict() for s in self.stages]}

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> Pipeline:
        """Inverse of :meth:`to_dict`.

        Every stage's parameters are converted and checked as it is built, so a bad
        config fails here, before any image is read.

        Raises:
            ConfigError: Unknown stage or parameter, or a bad parameter value.
            InputError: A malformed config or a stage order that cannot run.
        """
        if not isinstance(config, dict) or not isinstance(config.get("stages"), list):
            raise InputError("a pipeline config needs a 'stages' list", "config")
        return cls([stage_from_dict(c) for c in config["stages"]])

    def save(self, path: str | Path) -> Path:
        """Write the config as YAML (``.yaml``/``.yml``) or JSON (anything else), atomically."""
        from trimatte.io import atomic_write_bytes

        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        else:
            text = json.dumps(self.to_dict(), indent=2)
        return atomic_write_bytes(path, text.encode())

    @classmethod
    def load(cls, path: str | Path) -> Pipeline:
        """Read a config written by :meth:`save` (or by hand)."""
        path = Path(path)
        if not path.is_file():
            raise InputError("file not found", path)
        text = path.read_text()
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                config = yaml.safe_load(text)
            else:
                config = json.loads(text)
        except Exception as exc:
            raise InputError(f"cannot parse pipeline config: {exc}", path) from exc
        try:
            return cls.from_dict(config)
        except InputError as exc:
            raise type(exc)(exc.reason, f"{path}: {exc.source}") from exc

    def __repr__(self) -> str:
        inner = ", ".join(f"{s.label}" for s in self.stages)
        return f"Pipeline([{inner}])"
