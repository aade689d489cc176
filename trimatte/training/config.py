"""One YAML file per training run, read into validated dataclasses.

A config has five sections; every key is optional except ``stage`` and ``data.kind``
(see ``configs/*.yaml`` for complete examples)::

    stage: encoder-decoder        # encoder-decoder | refinement | finetune | trimap
    seed: 0
    model:   {encoder: tu-efficientnet_lite0, encoder_init: ..., init_from: ..., ...}
    data:    {kind: shared, root: ../../shared/data, out_size: 320, ...}
    optim:   {batch_size: 8, steps: 2000, lr: 1.0e-4, ...}
    run:     {checkpoint_every: 100, val_every: 100, ...}

Relative paths in a config file are relative to **the folder of the config file**,
and are stored as absolute paths in the copy saved with the checkpoints, so a run
folder is self-contained. Unknown keys, wrong types and impossible values raise
:class:`~trimatte.errors.InputError` naming the key (``data.crop_sizes``) and the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trimatte.errors import InputError
from trimatte.io import atomic_write_bytes
from trimatte.params import coerce

STAGES = ("encoder-decoder", "refinement", "finetune", "trimap", "guided")
DATA_KINDS = ("shared", "folders", "aisegment", "subjects", "pool")
SCHEDULES = ("constant", "cosine", "step")
FREEZE_BN = ("none", "encoder", "all")


@dataclass
class ModelConfig:
    """Network architecture and initialisation.

    Attributes:
        encoder: smp encoder name (``tu-efficientnet_lite0``, ``resnet18``, ...).
        encoder_depth: Encoder levels (3 to 5).
        decoder_channels: Decoder widths, one per level (None: smp's defaults).
        refine_channels: Width of DIM's refinement CNN.
        encoder_init: Local file with ImageNet RGB encoder weights (first stage only).
        init_from: Checkpoint of a previous stage to start from (``model.pth`` or
            ``checkpoints/last.pt`` of that run); required for ``refinement`` and
            ``finetune``.
        freeze_bn: Which BatchNorm layers stay in eval mode (running statistics
            fixed): ``none``, ``encoder`` (the pretrained encoder; recommended with small
            batches) or ``all`` (needed for multi-process CPU runs to equal
            single-process ones, as CPU has no SyncBatchNorm; avoid with a randomly
            initialised decoder, whose activations are then unnormalised).
        sync_bn: Convert BatchNorm to SyncBatchNorm in multi-GPU runs.
        prior_channels: Trimap stage: 1 feeds the U²-Net-p saliency as an extra input.
        input_size: Trimap stage: the long side the shipped network works at.
    """

    encoder: str = "tu-efficientnet_lite0"
    encoder_depth: int = 5
    decoder_channels: list[int] | None = None
    refine_channels: int = 64
    encoder_init: str | None = None
    init_from: str | None = None
    freeze_bn: str = "none"
    sync_bn: bool = True
    prior_channels: int = 0
    input_size: int | None = None


@dataclass
class DataConfig:
    """Where the data is and how samples are made.

    Attributes:
        kind: ``shared`` (the developers' ../shared/data with its fixed held-out
            split), ``folders`` (image or fg + alpha folders and a background folder)
            or ``aisegment`` (clip_img/ + matting/).
        root: The data folder (``shared/data``, the AISegment folder, or the folder
            holding ``image_dir``/``alpha_dir``).
        image_dir, alpha_dir: Sub-folders of ``root`` (``folders`` kind).
        foreground: ``image_dir`` holds pure foregrounds (Composition-1k ``fg/``).
        background_dir: Folder of background photos (``folders``/``aisegment``).
        val_image_dir, val_alpha_dir: Validation photos and mattes (``folders`` kind;
            absolute or relative to ``root``). When absent, ``val_count`` pairs are held out.
        val_count: Pairs held out for validation when no validation folder is given
            (evenly spread over the sorted names, so the choice is fixed).
        out_size: Side of training crops after resizing (320 in DIM).
        crop_sizes: Crop sizes centred on unknown pixels (320, 480, 640 in DIM).
        trimap_radius: ``[min, max]`` random erosion radius for training trimaps.
        repeats: Samples per pair per epoch.
        max_side: Shrink training images to this longer side when loading (None: keep).
        jitter: Colour jitter of the foreground.
        val_max_side: Longer side of validation photos.
        val_band: Unknown-band radius of validation trimaps (pixels at ``val_max_side``).
        num_workers: DataLoader worker processes per training process.
        trimap_unknown_fraction: Trimap stage: share of crops centred on an unknown
            pixel (the rest are placed uniformly, so plain background is seen too).
        trimap_band: Trimap stage: unknown-band radius of the target trimaps at the
            training resolution (null: ``val_band`` scaled by ``max_side / val_max_side``,
            the validation definition). The trimap stage trains on the photos
            themselves (:mod:`trimatte.data.trimap_photos`); ``trimap_radius`` and
            compositing apply to pure foregrounds / the matting stages only.
        bank_side: ``subjects`` kind: long side the photos are held at
            (:class:`trimatte.data.subjects.SubjectBank`).
        mask_core, mask_ring: ``subjects`` kind: unknown core and ignored ring around
            the edge of a binary mask, in pixels at ``bank_side``.
        soft_weight: ``subjects`` kind: how much more often photos with a soft alpha
            are drawn than photos with a binary mask.
        val_limit: ``subjects`` kind: validate on at most this many held-out photos
            (spread evenly; null: all).
        pool, val_pool: ``pool`` kind (the ``guided`` stage, or DIM, which ignores the
            guide): folders of guide-pool shards (:mod:`trimatte.data.guide_pool`) for
            training and validation; a list of folders is served as one pool (e.g.
            band-trimap and salient-trimap samples together).
    """

    kind: str = "shared"
    root: str = "."
    image_dir: str = "image"
    alpha_dir: str = "alpha"
    foreground: bool = False
    background_dir: str | None = None
    val_image_dir: str | None = None
    val_alpha_dir: str | None = None
    val_count: int = 4
    out_size: int = 320
    crop_sizes: list[int] = field(default_factory=lambda: [320, 480, 640])
    trimap_radius: list[int] = field(default_factory=lambda: [1, 15])
    repeats: int = 1
    max_side: int | None = 1024
    jitter: bool = True
    val_max_side: int | None = 640
    val_band: int = 10
    num_workers: int = 0
    trimap_unknown_fraction: float = 0.5
    trimap_band: int | None = None
    bank_side: int = 384
    mask_core: float = 2.0
    mask_ring: float = 8.0
    soft_weight: float = 1.0
    val_limit: int | None = None
    pool: str | list[str] | None = None
    val_pool: str | list[str] | None = None


@dataclass
class OptimConfig:
    """Optimiser, schedule and loss weights.

    Attributes:
        batch_size: Global batch size, split evenly over the processes of a
            distributed run (so the result does not depend on the process count).
        steps: Optimiser steps of the run.
        lr: Adam learning rate (DIM: 1e-5 from VGG; higher for small encoders).
        weight_decay: Adam weight decay.
        schedule: ``constant``, ``cosine`` (to 0 at ``steps``) or ``step``
            (x0.1 at 60% and 85% of ``steps``).
        warmup_steps: Linear warm-up from 0.
        alpha_loss_weight: Weight of the alpha-prediction loss in the encoder-decoder
            loss; the compositional loss gets ``1 - weight`` (DIM: 0.5 / 0.5).
        trimap_class_weights: Cross-entropy weights of background, unknown, foreground.
        grad_clip: Clip the gradient norm to this (None: no clipping).
    """

    batch_size: int = 8
    steps: int = 1000
    lr: float = 1e-4
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_steps: int = 0
    alpha_loss_weight: float = 0.5
    trimap_class_weights: list[float] = field(default_factory=lambda: [1.0, 2.0, 1.0])
    grad_clip: float | None = None


@dataclass
class RunConfig:
    """Checkpointing, logging and validation.

    Attributes:
        checkpoint_every: Write ``checkpoints/last.pt`` every this many steps (a
            killed run loses at most this many steps) and at the end.
        keep_checkpoints: Also keep ``checkpoints/step_<N>.pt`` copies.
        val_every: Validate every this many steps (0: only at the end).
        val_at_start: Also validate before the first step (the step-0 baseline).
        log_every: Write a row of ``log.csv`` every this many steps.
        plot: Write ``curves.png`` (training curves and sample predictions) at each validation.
        threads: torch CPU threads per process (None: torch's default).
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    """

    checkpoint_every: int = 100
    keep_checkpoints: bool = False
    val_every: int = 100
    val_at_start: bool = True
    log_every: int = 1
    plot: bool = True
    threads: int | None = None
    device: str = "auto"


@dataclass
class TrainConfig:
    """A whole training run (see the module docstring)."""

    stage: str = "encoder-decoder"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    # ------------------------------------------------------------------ dicts

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML-safe)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any, source: object = "config") -> TrainConfig:
        """Build and validate a config from a nested dict.

        Raises:
            InputError: Unknown keys, wrong types or invalid values (naming the key).
        """
        config = _build(cls, data, "", source)
        config.validate(source)
        return config

    # ------------------------------------------------------------------ YAML

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        """Read a YAML config; relative paths are resolved against the file's folder.

        Raises:
            InputError: Missing file, YAML syntax error, or an invalid config.
        """
        import yaml

        path = Path(path)
        if not path.is_file():
            raise InputError("config file not found", path)
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML: {exc}", path) from exc
        config = cls.from_dict(data if data is not None else {}, source=path)
        return config.resolve_paths(path.resolve().parent)

    def save(self, path: str | Path) -> Path:
        """Write the config as YAML, atomically."""
        import yaml

        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        return atomic_write_bytes(path, text.encode())

    def resolve_paths(self, base: Path) -> TrainConfig:
        """A copy with every relative path made absolute against ``base``."""

        def absolute(value: str | list[str] | None) -> str | list[str] | None:
            if value is None:
                return None
            if isinstance(value, list):
                return [absolute(item) for item in value]
            candidate = Path(value).expanduser()
            return str(candidate if candidate.is_absolute() else (base / candidate).resolve())

        model = dataclasses.replace(
            self.model,
            encoder_init=absolute(self.model.encoder_init),
            init_from=absolute(self.model.init_from),
        )
        data = dataclasses.replace(
            self.data,
            root=absolute(self.data.root),
            background_dir=absolute(self.data.background_dir),
            pool=absolute(self.data.pool),
            val_pool=absolute(self.data.val_pool),
        )
        return dataclasses.replace(self, model=model, data=data)

    # ------------------------------------------------------------------ checks

    def validate(self, source: object = "config") -> None:
        """Check values that types alone do not catch.

        Raises:
            InputError: The first problem found, naming the key.
        """

        def fail(key: str, message: str) -> None:
            raise InputError(f"{key}: {message}", source)

        if self.stage not in STAGES:
            fail("stage", f"must be one of {', '.join(STAGES)}, got {self.stage!r}")
        if self.stage in ("refinement", "finetune") and not self.model.init_from:
            fail("model.init_from", f"stage {self.stage!r} starts from a trained "
                 "encoder-decoder: give the checkpoint of the previous stage")
        if self.model.freeze_bn not in FREEZE_BN:
            fail("model.freeze_bn", f"must be one of {', '.join(FREEZE_BN)}, "
                 f"got {self.model.freeze_bn!r}")
        if not 3 <= self.model.encoder_depth <= 5:
            fail("model.encoder_depth", f"must be 3, 4 or 5, got {self.model.encoder_depth}")
        if (self.model.decoder_channels is not None
                and len(self.model.decoder_channels) != self.model.encoder_depth):
            fail("model.decoder_channels", "needs one width per encoder level "
                 f"({self.model.encoder_depth}), got {len(self.model.decoder_channels)}")
        d = self.data
        if d.kind not in DATA_KINDS:
            fail("data.kind", f"must be one of {', '.join(DATA_KINDS)}, got {d.kind!r}")
        if self.stage == "guided" and d.kind != "pool":
            fail("data.kind", "the 'guided' stage trains on 'pool' data (it needs the guide)")
        if d.kind == "pool" and self.stage == "trimap":
            fail("data.kind", "'pool' data trains the matting stages, not the trimap stage")
        if d.kind == "pool" and not (d.pool and d.val_pool):
            fail("data.pool", "kind 'pool' needs data.pool and data.val_pool folders")
        if d.kind == "subjects" and self.stage != "trimap":
            fail("data.kind", "'subjects' data trains the trimap stage only")
        if not 0 <= d.mask_core <= d.mask_ring:
            fail("data.mask_core", f"needs 0 <= mask_core <= mask_ring, got {d.mask_core}, "
                 f"{d.mask_ring}")
        if self.model.prior_channels not in (0, 1):
            fail("model.prior_channels", f"must be 0 or 1, got {self.model.prior_channels}")
        if d.kind in ("folders", "aisegment") and not d.background_dir:
            fail("data.background_dir", f"kind {d.kind!r} needs a folder of backgrounds")
        if (d.val_image_dir is None) != (d.val_alpha_dir is None):
            fail("data.val_image_dir", "give both val_image_dir and val_alpha_dir, or neither")
        for key, value, low in (("data.out_size", d.out_size, 8), ("data.repeats", d.repeats, 1),
                                ("data.val_band", d.val_band, 1),
                                ("data.val_count", d.val_count, 1),
                                ("data.num_workers", d.num_workers, 0)):
            if value < low:
                fail(key, f"must be >= {low}, got {value}")
        if not d.crop_sizes or min(d.crop_sizes) < 8:
            fail("data.crop_sizes", f"needs sizes >= 8, got {d.crop_sizes}")
        if len(d.trimap_radius) != 2 or not 0 <= d.trimap_radius[0] <= d.trimap_radius[1]:
            fail("data.trimap_radius", f"must be [min, max] with 0 <= min <= max, "
                 f"got {d.trimap_radius}")
        if not 0.0 <= d.trimap_unknown_fraction <= 1.0:
            fail("data.trimap_unknown_fraction", f"must lie in [0, 1], got "
                 f"{d.trimap_unknown_fraction}")
        if d.trimap_band is not None and d.trimap_band < 0:
            fail("data.trimap_band", f"must be >= 0 or null, got {d.trimap_band}")
        for key, value in (("data.max_side", d.max_side), ("data.val_max_side", d.val_max_side)):
            if value is not None and value < 32:
                fail(key, f"must be >= 32 or null, got {value}")
        o = self.optim
        if o.batch_size < 1:
            fail("optim.batch_size", f"must be >= 1, got {o.batch_size}")
        if o.steps < 1:
            fail("optim.steps", f"must be >= 1, got {o.steps}")
        if not o.lr > 0:
            fail("optim.lr", f"must be > 0, got {o.lr}")
        if o.weight_decay < 0:
            fail("optim.weight_decay", f"must be >= 0, got {o.weight_decay}")
        if o.schedule not in SCHEDULES:
            fail("optim.schedule", f"must be one of {', '.join(SCHEDULES)}, got {o.schedule!r}")
        if o.warmup_steps < 0:
            fail("optim.warmup_steps", f"must be >= 0, got {o.warmup_steps}")
        if not 0.0 <= o.alpha_loss_weight <= 1.0:
            fail("optim.alpha_loss_weight", f"must lie in [0, 1], got {o.alpha_loss_weight}")
        if len(o.trimap_class_weights) != 3 or min(o.trimap_class_weights) <= 0:
            fail("optim.trimap_class_weights", "needs 3 positive weights (bg, unknown, fg), "
                 f"got {o.trimap_class_weights}")
        if o.grad_clip is not None and o.grad_clip <= 0:
            fail("optim.grad_clip", f"must be > 0 or null, got {o.grad_clip}")
        r = self.run
        for key, value, low in (("run.checkpoint_every", r.checkpoint_every, 1),
                                ("run.val_every", r.val_every, 0),
                                ("run.log_every", r.log_every, 1)):
            if value < low:
                fail(key, f"must be >= {low}, got {value}")
        if r.threads is not None and r.threads < 1:
            fail("run.threads", f"must be >= 1 or null, got {r.threads}")
        if r.device not in ("auto", "cpu", "cuda"):
            fail("run.device", f"must be auto, cpu or cuda, got {r.device!r}")


# ----------------------------------------------------------------------------- typed building


def _build(cls: type, data: Any, prefix: str, source: object) -> Any:
    if not isinstance(data, dict):
        where = prefix.rstrip(".") or "config"
        raise InputError(f"{where}: expected a mapping of keys, got {type(data).__name__}", source)
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(
                f"{prefix}{key}: unknown key{hint}; known: {', '.join(names)}", source
            )
        hint = hints[key]
        if dataclasses.is_dataclass(hint):
            section = value if value is not None else {}
            kwargs[key] = _build(hint, section, f"{prefix}{key}.", source)
        else:
            kwargs[key] = _coerce(value, hint, f"{prefix}{key}", source)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, key: str, source: object) -> Any:
    # The library's one coercion path (also used by stages and the CLI).
    return coerce(value, hint, key, source)
