"""``trimatte video`` on the command line."""

from __future__ import annotations

import argparse

import av

from trimatte.api import DEFAULT_MATTING, video_trimap_params
from trimatte.cli.main import main
from trimatte.cli.video import make_pipeline
from trimatte.io import read_alpha, write_image
from trimatte.metrics import video_metrics
from trimatte.video.synthetic import ClipSpec, textured_background


def test_video_command_writes_outputs(clips, tmp_path, capsys):
    clip = clips["mp4"]
    mov, frames = tmp_path / "cut.mov", tmp_path / "frames"
    code = main(["video", str(clip.path), "-o", str(mov), "-o", f"png-alpha:{frames}",
                 "--trimap", str(clip.trimap), "--matting", "grabcut-hard", "--temporal", "ofd"])
    assert code == 0
    out = capsys.readouterr().out
    assert "8 frame(s)" in out and str(mov) in out
    assert len(list(frames.glob("frame_*.png"))) == 8
    with av.open(str(mov)) as container:
        assert container.streams.video[0].codec_context.pix_fmt.startswith("yuva")


def test_video_command_errors_are_one_line(tmp_path, capsys, clips):
    assert main(["video", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mov")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.mp4" in err[0] and "not found" in err[0]
    assert main(["video", str(clips["mp4"].path), "-o", str(tmp_path / "o.gif")]) == 2
    assert "o.gif" in capsys.readouterr().err
    code = main(["video", str(clips["mp4"].path), "-o", str(tmp_path / "o.mov"), "--trimap",
                 f"3:{clips['mp4'].trimap}"])
    assert code == 2 and "frame 0 needs one" in capsys.readouterr().err
    code = main(["video", str(clips["mp4"].path), "-o", str(tmp_path / "o.mov"), "--trimap",
                 str(clips["mp4"].trimap), "--resume"])
    assert code == 2 and "--resume" in capsys.readouterr().err
    assert not (tmp_path / "o.mov").exists()


def clip_plate(spec: ClipSpec, path) -> None:
    """The empty scene of a synthetic clip's first frame (what a clean plate shows)."""
    import math

    pan = spec.pan * spec.width
    background = textured_background(math.ceil(spec.width + pan) + 2, spec.height + 2,
                                     seed=spec.seed + 1)
    write_image(path, background[1:1 + spec.height, 1:1 + spec.width])


def test_background_plate_switches_to_the_plate_stages(clips, tmp_path, capsys):
    clip = clips["mp4"]
    plate = tmp_path / "plate.png"
    clip_plate(ClipSpec(width=64, height=48, frames=8, noise=0.01, period=24, seed=1), plate)
    frames = tmp_path / "frames"
    code = main(["video", str(clip.path), "-o", f"png-alpha:{frames}", "--background-plate",
                 str(plate), "--radius", "1"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    alphas = [read_alpha(frames / f"frame_{i:06d}.png") for i in range(8)]
    assert video_metrics(alphas, clip.alphas)["SAD"] < 0.15  # an empty matte scores ~0.4
    args = argparse.Namespace(pipeline=None, background_plate=str(plate), trimap_method=None,
                              matting=DEFAULT_MATTING, trimap_param=[], matting_param=[])
    names = [s.registry_name for s in make_pipeline(args, True, {}).stages]
    assert names == ["plate", "plate-alpha", "plate-foreground"]
    code = main(["video", str(clip.path), "-o", str(tmp_path / "o.mov"), "--background-plate",
                 str(tmp_path / "nope.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "nope.png" in err[0]


def test_video_skips_the_mirrored_saliency_pass_unless_asked():
    def source(trimap_param):
        args = argparse.Namespace(pipeline=None, background_plate=None, trimap_method=None,
                                  matting=DEFAULT_MATTING, trimap_param=trimap_param,
                                  matting_param=[])
        return make_pipeline(args, True, {}).stages[0]

    assert source([]).registry_name == "salient" and source([]).mirror_check is False
    assert source(["mirror_check=true"]).mirror_check is True
    assert video_trimap_params("grabcut", {"iterations": 3}) == {"iterations": 3}


def test_decoder_chroma_flag_reaches_the_reader(clips, tmp_path, monkeypatch):
    import trimatte.video.driver as driver

    seen = []
    real = driver.open_source

    def recording(path, fps=None, *, restore_chroma=True):
        seen.append(restore_chroma)
        return real(path, fps, restore_chroma=restore_chroma)

    monkeypatch.setattr(driver, "open_source", recording)
    clip = clips["mp4"]
    for extra in ([], ["--decoder-chroma"]):
        out = tmp_path / f"frames{len(extra)}"
        assert main(["video", str(clip.path), "-o", f"png-alpha:{out}", "--trimap",
                     str(clip.trimap), "--matting", "grabcut-hard", *extra]) == 0
    assert seen == [True, False]


def _options_seen(clip, tmp_path, monkeypatch, name: str, extras: list[list[str]]) -> list:
    """The ``TemporalOptions.<name>`` the CLI hands to matte_video, once per extra flags."""
    import trimatte.video

    seen = []
    real = trimatte.video.matte_video

    def recording(*args, **kwargs):
        seen.append(getattr(kwargs["temporal_options"], name))
        return real(*args, **kwargs)

    monkeypatch.setattr(trimatte.video, "matte_video", recording)
    for extra in extras:
        out = tmp_path / f"frames{len(seen)}"
        assert main(["video", str(clip.path), "-o", f"png-alpha:{out}", "--trimap",
                     str(clip.trimap), "--matting", "grabcut-hard", *extra]) == 0
    return seen


def test_spread_reaches_the_temporal_options(clips, tmp_path, monkeypatch):
    clip = clips["mp4"]
    seen = _options_seen(clip, tmp_path, monkeypatch, "spread",
                         [[], ["--spread", "0.5"], ["--spread", "0"]])
    assert seen == [0.3, 0.5, None]
    assert main(["video", str(clip.path), "-o", f"png-alpha:{tmp_path / 'bad'}",
                 "--spread", "-1"]) != 0


def test_keep_still_parts_reaches_the_temporal_options(clips, tmp_path, monkeypatch):
    seen = _options_seen(clips["mp4"], tmp_path, monkeypatch, "drop_still",
                         [[], ["--keep-still-parts"]])
    assert seen == [True, False]
