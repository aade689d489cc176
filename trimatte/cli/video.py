"""``trimatte video``: matte a clip frame by frame with temporal coherence."""

from __future__ import annotations

import argparse
import logging
import re
import warnings
from pathlib import Path

from trimatte.api import DEFAULT_MATTING, DEFAULT_TRIMAP_METHOD
from trimatte.cli.common import report
from trimatte.errors import InputError, TrimatteError, TrimatteWarning

log = logging.getLogger("trimatte.cli")

_KEYFRAME = re.compile(r"^(\d+):(.+)$")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "video",
        help="matte a video clip (temporal coherence, alpha/ProRes/VP9/PNG outputs)",
        description=(
            "Matte every frame of a clip (any file FFmpeg reads, or a folder of frames) "
            "with a pipeline, keep the matte steady over time (trimaps carried along the "
            "optical flow, alpha smoothed along it), and write the outputs. The audio "
            "track is copied to video outputs."
        ),
    )
    p.add_argument("input", metavar="INPUT", help="video file or folder of frames")
    p.add_argument(
        "-o", "--output", action="append", required=True, metavar="[KIND:]PATH",
        help="output (repeatable). By suffix: .mov = ProRes 4444 with alpha, .webm = VP9 "
        "with alpha, .mp4/.mkv = alpha matte video, a folder = RGBA PNG sequence. A KIND: "
        "prefix chooses: rgba (.mov/.webm/.mkv), alpha (.mp4/.mov/.mkv/.webm), composite "
        "(.mp4/.mov/.mkv/.webm, over --background), png, png-alpha (folders)",
    )
    p.add_argument(
        "--trimap", action="append", default=[], metavar="[FRAME:]FILE",
        help="keyframe trimap, propagated along the optical flow to the next keyframe: "
        "FILE for frame 0, or FRAME:FILE (repeatable)",
    )
    p.add_argument(
        "--trimap-method", default=None,
        help=f"trimap source for frames without a keyframe (default: {DEFAULT_TRIMAP_METHOD}, "
        "or none when --trimap is given; also grabcut, unet-trimap)",
    )
    p.add_argument("--matting", default=DEFAULT_MATTING,
                   help=f"alpha estimation stage (default: {DEFAULT_MATTING}; also "
                   "closed-form, dim, grabcut-hard)")
    p.add_argument("--trimap-param", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter of the trimap source (repeatable)")
    p.add_argument("--matting-param", action="append", default=[], metavar="KEY=VALUE",
                   help="parameter of the matting stage (repeatable)")
    p.add_argument("--rect", metavar="X,Y,W,H",
                   help="GrabCut rectangle for --trimap-method grabcut (every frame)")
    p.add_argument("--pipeline", metavar="CONFIG",
                   help="pipeline config (YAML/JSON); overrides the stage flags")
    p.add_argument("--temporal", choices=("flow", "ofd", "off"), default="flow",
                   help="alpha smoothing: flow-warped average over --radius frames each side "
                   "(default), one-frame-delay rule (ofd), or independent frames (off)")
    p.add_argument("--radius", type=int, default=2,
                   help="frames on each side averaged by --temporal flow (default: 2)")
    p.add_argument("--spread", type=float, default=0.3, metavar="S",
                   help="--temporal flow averages each pixel around the median of the frame "
                   "and its warped neighbours, down-weighting values S away from it, so an "
                   "edge the flow misplaced is not blurred (default: 0.3; 0: plain mean; "
                   "hard 0/1 mattes always get the plain mean)")
    p.add_argument("--flow", choices=("dis", "farneback"), default="dis",
                   help="OpenCV optical flow (default: dis)")
    p.add_argument("--detect-every", type=int, default=1, metavar="N",
                   help="run the trimap source on every N-th frame only and propagate the "
                   "trimap between (faster; default: 1 = every frame)")
    p.add_argument("--saliency-memory", type=float, default=2.0, metavar="M",
                   help="weight of the previous frame's saliency map, carried along the flow, "
                   "in each frame's map before its trimap is drawn (salient/auto sources; "
                   "default: 2; 0: off)")
    p.add_argument("--keep-still-parts", action="store_true",
                   help="keep parts of the subject that move with the camera while the rest "
                   "of it moves (in temporal modes they are dropped from the trimap as a "
                   "second object standing in the scene; keep them when part of the subject stands "
                   "still, e.g. the planted foot of a walker filmed by a still camera)")
    p.add_argument("--video-plate", action="store_true",
                   help="reconstruct a clean background plate from the clip itself (background "
                   "seen in other frames, aligned along the camera's motion) and re-matte "
                   "each frame with it where it is known; needs a moving subject or camera "
                   "(temporal modes only; adds 2 frames of delay)")
    p.add_argument("--background-plate", metavar="FILE",
                   help="photo of the empty scene (a clean plate) for every frame; switches "
                   "the default stages to plate, plate-alpha and plate-foreground (a given "
                   "--trimap, --trimap-method or --matting still wins)")
    p.add_argument("--background", default="white", metavar="COLOR_IMAGE_OR_VIDEO",
                   help="background of composite outputs: colour, image or video file")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of a folder of frames (default: 25)")
    p.add_argument("--decoder-chroma", action="store_true",
                   help="matte the decoder's frames as they are; by default the colour edges "
                   "of a file stored with subsampled chroma (4:2:0, 4:2:2) are rebuilt from "
                   "its brightness first, so the matte's rim is not widened by the codec")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted PNG-sequence job in the same folder(s)")
    p.set_defaults(run=run)


def parse_keyframes(items: list[str]) -> dict[int, Path]:
    """``["key.png", "30:k30.png"]`` → ``{0: key.png, 30: k30.png}``."""
    keys: dict[int, Path] = {}
    for item in items:
        match = _KEYFRAME.match(item)
        index, path = (int(match.group(1)), Path(match.group(2))) if match else (0, Path(item))
        if index in keys:
            raise InputError(f"frame {index} has two trimaps", "--trimap")
        if not path.is_file():
            raise InputError("file not found", path)
        keys[index] = path
    return keys


def make_pipeline(args: argparse.Namespace, needs_colour: bool, keyframes: dict):
    from trimatte.api import build_pipeline, video_trimap_params
    from trimatte.params import parse_params
    from trimatte.pipeline import Pipeline

    if args.pipeline:
        return Pipeline.load(args.pipeline)
    plate = bool(args.background_plate)
    method = args.trimap_method or (
        "given" if keyframes else "plate" if plate else DEFAULT_TRIMAP_METHOD)
    matting = "plate-alpha" if plate and args.matting == DEFAULT_MATTING else args.matting
    return build_pipeline(
        trimap_method=method,
        matting=matting,
        foreground=("plate-foreground" if plate else "multilevel-foreground")
        if needs_colour else None,
        composite=None,
        trimap_params=video_trimap_params(method,
                                          parse_params(args.trimap_param, "--trimap-param")),
        matting_params=parse_params(args.matting_param, "--matting-param"),
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from trimatte.cli.matte import parse_rect
    from trimatte.video import TemporalOptions, VideoInterrupted, matte_video, parse_output

    try:
        specs = [parse_output(o) for o in args.output]
        keyframes = parse_keyframes(args.trimap)
        pipeline = make_pipeline(args, any(s.needs_colour for s in specs), keyframes)
        options = TemporalOptions(mode=args.temporal, radius=args.radius, flow=args.flow,
                                  detect_every=args.detect_every,
                                  saliency_memory=args.saliency_memory,
                                  spread=args.spread or None, plate=args.video_plate,
                                  drop_still=not args.keep_still_parts)
        hints = {"rect": parse_rect(args.rect)} if args.rect else {}
        if args.background_plate:
            if not Path(args.background_plate).is_file():
                raise InputError("file not found", args.background_plate)
            hints["plate"] = args.background_plate
    except TrimatteError as exc:
        report(str(exc))
        return 2
    log.info("pipeline: %s", pipeline)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TrimatteWarning)
        try:
            result = matte_video(args.input, specs, pipeline=pipeline, keyframes=keyframes,
                                 temporal_options=options, background=args.background,
                                 fps=args.fps, resume=args.resume, hints=hints,
                                 restore_chroma=not args.decoder_chroma)
        except VideoInterrupted as exc:
            done = exc.report
            _print_warnings(caught, tqdm)
            kept = ", ".join(str(p) for p in done.outputs) or "none"
            print(f"trimatte: interrupted after {done.frames} frame(s); finished partial "
                  f"outputs: {kept}")
            return 130
        except TrimatteError as exc:
            _print_warnings(caught, tqdm)
            report(str(exc))
            return 2
    _print_warnings(caught, tqdm)
    outputs = ", ".join(str(p) for p in result.outputs)
    print(f"trimatte: {result.frames} frame(s) in {result.seconds:.1f} s "
          f"({result.fps:.1f} fps) → {outputs}")
    if result.empty_frames:
        print(f"trimatte: {len(result.empty_frames)} frame(s) without a subject have an "
              "empty alpha (see the warnings above)")
    if result.rekeyed:
        log.info("trimap re-detected at frames %s", result.rekeyed)
    if result.still_dropped:
        print("trimatte: parts that stood still in the scene while the subject moved were "
              f"dropped from it ({', '.join(result.still_dropped_spans())}); "
              "--keep-still-parts keeps them")
    return 0


def _print_warnings(caught, tqdm) -> None:
    for w in caught:
        if issubclass(w.category, TrimatteWarning):
            tqdm.write(f"trimatte: warning: {w.message}")
