"""What a worker does with one image: the CLI's own code, on bytes in and bytes out.

Workers may run on other machines (``--scheduler tcp://...``) with no file
system shared with the server, so a task carries the uploaded bytes and returns
the encoded outputs.  Inside, the bytes go to a private temporary folder and
:func:`trimatte.cli.matte.run_job` runs on them: the very function behind
``trimatte matte``, so a result from the server is byte for byte the file the
CLI writes for the same image and pipeline.

Pipelines are named (:data:`PIPELINES`) or given as a config
(``{"stages": [...]}``, JSON or YAML text), and are resolved to a plain config
dict by :func:`resolve_pipeline` *in the server*, before any work is queued, by
the CLI's own :func:`trimatte.cli.matte.make_pipeline`: an invalid one is the
one-line :class:`~trimatte.errors.InputError` the CLI prints.
"""

from __future__ import annotations

import argparse
import functools
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml

from trimatte.api import DEFAULT_MATTING, DEFAULT_TRIMAP_METHOD
from trimatte.errors import InputError, TrimatteError, TrimatteWarning
from trimatte.io import read_image
from trimatte.pipeline import Pipeline
from trimatte.server.limits import check_no_paths, safe_filename

#: Outputs a request may ask for (the CLI's ``--save`` choices).
OUTPUTS = ("alpha", "trimap", "foreground", "cutout", "composite")

#: Named pipelines: the CLI's stage flags ``--trimap-method`` and ``--matting``.
PIPELINES: dict[str, dict[str, str]] = {
    "default": {"trimap_method": DEFAULT_TRIMAP_METHOD, "matting": DEFAULT_MATTING},
    "closed-form": {"trimap_method": "salient", "matting": "closed-form"},
    "dim": {"trimap_method": "salient", "matting": "dim"},
    "grabcut": {"trimap_method": "grabcut", "matting": "closed-form"},
    "grabcut-hard": {"trimap_method": "grabcut", "matting": "grabcut-hard"},
    "unet-trimap": {"trimap_method": "unet-trimap", "matting": "closed-form"},
}


def parse_outputs(text: str) -> list[str]:
    """``"alpha,cutout"`` → ``["alpha", "cutout"]``; InputError naming ``outputs`` otherwise."""
    wanted = list(dict.fromkeys(s.strip() for s in (text or "").split(",") if s.strip()))
    unknown = [s for s in wanted if s not in OUTPUTS]
    if unknown or not wanted:
        raise InputError(f"unknown output(s) {unknown}; choose among {', '.join(OUTPUTS)}",
                         "outputs")
    return wanted


def resolve_pipeline(
    name: str | None,
    config_text: str | None,
    wanted: list[str],
    *,
    given_trimap: bool = False,
    background: str | None = None,
) -> dict[str, Any]:
    """The config of the pipeline a request asks for, built and checked by the CLI's code.

    The request becomes the arguments of ``trimatte matte`` (``--trimap-method`` and
    ``--matting`` from :data:`PIPELINES`, or ``--pipeline`` with the config written to a
    private temporary file, ``--trimap``, ``--background``) and
    :func:`trimatte.cli.matte.make_pipeline` builds it: the same checks, the same
    stages added for the requested outputs, the same one-line errors.

    Args:
        name: A key of :data:`PIPELINES` (default ``"default"``).
        config_text: A pipeline config as JSON or YAML text; wins over ``name``.
        wanted: Requested outputs (the CLI's ``--save``).
        given_trimap: A trimap comes with the image (the CLI's ``--trimap``).
        background: Composite background colour (the CLI's ``--background``).

    Returns:
        ``{"stages": [...]}`` that :meth:`Pipeline.from_dict` accepts.

    Raises:
        InputError: Unknown name, unparsable or invalid config, or a parameter that
            names a file.
    """
    from trimatte.cli.common import CONFIG_ERRORS, describe_error
    from trimatte.cli.matte import make_pipeline

    key = name or "default"
    if not config_text and key not in PIPELINES:
        raise InputError(
            f"unknown pipeline {key!r}; known: {', '.join(PIPELINES)} (or send a config)",
            "pipeline",
        )
    if background is not None:
        check_no_paths(background, "background")
    flags = PIPELINES.get(key, PIPELINES["default"])
    with tempfile.TemporaryDirectory(prefix="trimatte-config-") as tmp:
        config_path = None
        if config_text:
            try:
                config = yaml.safe_load(config_text)
            except yaml.YAMLError as exc:
                reason = " ".join(str(exc).split())[:160] or type(exc).__name__
                raise InputError(f"cannot parse pipeline config: {reason}", "config") from None
            check_no_paths(config, "config")
            config_path = Path(tmp) / "config.yaml"
            config_path.write_text(config_text)
        args = argparse.Namespace(
            pipeline=str(config_path) if config_path else None,
            trimap="upload" if given_trimap else None,
            trimap_method=flags["trimap_method"], matting=flags["matting"],
            trimap_param=[], matting_param=[], background=background,
        )
        try:
            pipeline = make_pipeline(args, wanted)
        except CONFIG_ERRORS as exc:
            message = describe_error(exc).replace(str(config_path), "config")
            raise InputError(message.replace("config: config: ", "config: ")) from None
    return pipeline.to_dict()


@functools.lru_cache(maxsize=8)
def _pipeline(config_json: str) -> Pipeline:
    # Built once per worker and config: deep stages load their weights on first use.
    return Pipeline.from_dict(json.loads(config_json))


def _with_background(config: dict[str, Any], path: Path) -> dict[str, Any]:
    """``config`` with every composite stage drawing over the image file ``path``."""
    stages = [dict(stage, params={**(stage.get("params") or {}), "background": str(path)})
              if stage.get("name") == "composite" else stage for stage in config["stages"]]
    return {**config, "stages": stages}


def matte_bytes(
    name: str,
    image: bytes,
    config: dict[str, Any],
    wanted: list[str],
    *,
    trimap: bytes | None = None,
    rect: tuple[int, int, int, int] | None = None,
    background_image: bytes | None = None,
    plate: bytes | None = None,
) -> dict[str, Any]:
    """Matte one encoded image with the CLI's ``run_job``; runs on a Dask worker.

    Args:
        name: The image's file name (safe base name), used in messages and outputs.
        image: The encoded image file (already checked by :mod:`trimatte.server.limits`).
        config: Pipeline config from :func:`resolve_pipeline`.
        wanted: Outputs among :data:`OUTPUTS`.
        trimap: Encoded trimap file, or None.
        rect: GrabCut rectangle ``(x, y, w, h)`` hint, or None.
        background_image: Encoded composite background image; replaces the colour of
            the config's composite stage.
        plate: Encoded clean background plate of the same scene, passed to the
            pipeline as the ``plate`` hint (float32 RGB) for stages that use one.

    Returns:
        ``{"name", "ok", "outputs": {what: PNG bytes}, "timings", "warnings", "error",
        "confidence"}`` (``confidence``: ``{"score", "flags", "low"}`` when the pipeline
        rated its automatic trimap, else None); a bad image is ``ok=False`` with a
        one-line ``error``, never an exception.
    """
    from trimatte.cli.jobs import MatteJob, run_job
    from trimatte.cli.outputs import OUTPUT_SUFFIXES

    name = safe_filename(name)
    result: dict[str, Any] = {"name": name, "ok": False, "outputs": {}, "timings": {},
                              "warnings": [], "error": None, "confidence": None}
    with tempfile.TemporaryDirectory(prefix="trimatte-task-") as tmp:
        folder = Path(tmp)
        inputs, outdir = folder / "in", folder / "out"
        inputs.mkdir()
        image_path = inputs / name
        image_path.write_bytes(image)
        trimap_path = None
        if trimap is not None:
            trimap_path = inputs / f"trimap-{Path(name).stem}.png"
            trimap_path.write_bytes(trimap)
        hints: dict[str, Any] = {"rect": tuple(rect)} if rect else {}
        outputs = tuple((w, outdir / f"{Path(name).stem}{OUTPUT_SUFFIXES[w]}") for w in wanted)
        try:
            if background_image is not None:
                background_path = inputs / "background-upload"
                background_path.write_bytes(background_image)
                pipeline = Pipeline.from_dict(_with_background(config, background_path))
            else:
                pipeline = _pipeline(json.dumps(config, sort_keys=True))
            if plate is not None:
                plate_path = inputs / "plate-upload"
                plate_path.write_bytes(plate)
                hints["plate"] = read_image(plate_path)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", TrimatteWarning)
                done = run_job(pipeline, hints, MatteJob(image_path, trimap_path, outputs))
            result["outputs"] = {what: path.read_bytes() for what, path in outputs}
            result["timings"] = {k: round(float(v), 4) for k, v in done.timings.items()}
            result["warnings"] = list(dict.fromkeys(
                _clean(str(w.message), folder) for w in caught
                if issubclass(w.category, TrimatteWarning)))
            confidence = getattr(done, "confidence", None)
            if confidence is not None:  # how far to trust an automatic trimap
                result["confidence"] = {"score": round(float(confidence.score), 3),
                                        "flags": list(confidence.flags),
                                        "low": bool(confidence.low)}
                if confidence.low:
                    result["warnings"].append(f"{name}: low {confidence.describe()}")
            result["ok"] = True
        except TrimatteError as exc:
            result["error"] = _clean(str(exc), folder)
        except MemoryError:
            result["error"] = f"{name}: out of memory (try a smaller image)"
    return result


def _clean(message: str, folder: Path) -> str:
    """A message without the worker's temporary folder in it (names stay)."""
    text = message.replace(str(folder / "in" / "background-upload"), "background")
    text = text.replace(str(folder / "in" / "plate-upload"), "plate")
    for sub in ("in", "out", ""):
        text = text.replace(str(folder / sub).rstrip("/") + "/", "")
    return text.splitlines()[0] if text else text


def check_strokes(strokes: Any, max_strokes: int = 500, max_points: int = 20_000) -> list[dict]:
    """Validate brush strokes sent by a client: ``[{"label", "radius", "points"}, ...]``.

    ``label`` is ``"foreground"``, ``"background"``, ``"unknown"`` (or 255, 0, 128);
    ``radius`` a brush radius in image pixels; ``points`` a list of ``[x, y]``.

    Raises:
        InputError: Not a list of such strokes, or too many of them.
    """
    from trimatte.editor.operations import check_label

    if not isinstance(strokes, list) or len(strokes) > max_strokes:
        raise InputError(f"expected a list of at most {max_strokes} strokes", "strokes")
    clean, total = [], 0
    for index, stroke in enumerate(strokes):
        where = f"strokes[{index}]"
        if not isinstance(stroke, dict) or not isinstance(stroke.get("points"), list):
            raise InputError('expected {"label": ..., "radius": ..., "points": [[x, y], ...]}',
                             where)
        points = stroke["points"]
        total += len(points)
        if not points or total > max_points:
            raise InputError(f"needs 1 to {max_points} points in all", where)
        if not all(isinstance(p, (list, tuple)) and len(p) == 2
                   and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
                   for p in points):
            raise InputError("points must be [x, y] number pairs", where)
        radius = stroke.get("radius", 8)
        if not isinstance(radius, (int, float)) or isinstance(radius, bool) \
                or not 1 <= radius <= 300:
            raise InputError(f"radius must be a number in 1..300, got {radius!r}", where)
        clean.append({"label": check_label(stroke.get("label"), f"{where}.label"),
                      "radius": float(radius), "points": [[float(x), float(y)] for x, y in points]})
    return clean


def apply_strokes(image: Any, trimap: Any, strokes: list[dict]) -> Any:
    """Paint ``strokes`` onto ``trimap`` with the trimap editor's own brush.

    Args:
        image: float32 ``(H, W, 3)`` RGB in [0, 1].
        trimap: uint8 ``(H, W)`` trimap.
        strokes: Output of :func:`check_strokes`.

    Returns:
        uint8 ``(H, W)`` trimap.
    """
    from trimatte.editor import EditorState

    state = EditorState(image, trimap)
    for stroke in strokes:
        state.paint(stroke["points"], stroke["label"], stroke["radius"])
    return state.trimap.copy()


def refine_bytes(
    name: str,
    image: bytes,
    trimap: bytes,
    strokes: list[dict],
    config: dict[str, Any],
    wanted: list[str],
    **kwargs: Any,
) -> dict[str, Any]:
    """Brush ``strokes`` over ``trimap`` (editor logic), then :func:`matte_bytes` with it.

    The returned outputs always include the edited ``trimap``.
    """
    import cv2

    from trimatte.io import read_trimap

    name = safe_filename(name)
    with tempfile.TemporaryDirectory(prefix="trimatte-task-") as tmp:
        folder = Path(tmp)
        try:
            (folder / name).write_bytes(image)
            (folder / "trimap.png").write_bytes(trimap)
            picture, current = read_image(folder / name), read_trimap(folder / "trimap.png")
            if current.shape != picture.shape[:2]:
                raise InputError(f"is {current.shape[1]}x{current.shape[0]} but the image is "
                                 f"{picture.shape[1]}x{picture.shape[0]}", "trimap")
            edited = apply_strokes(picture, current, strokes)
        except TrimatteError as exc:
            return {"name": name, "ok": False, "outputs": {}, "timings": {}, "warnings": [],
                    "error": _clean(str(exc), folder), "confidence": None}
    _, encoded = cv2.imencode(".png", edited)
    wanted = list(dict.fromkeys([*wanted, "trimap"]))
    return matte_bytes(name, image, config, wanted, trimap=encoded.tobytes(), **kwargs)
