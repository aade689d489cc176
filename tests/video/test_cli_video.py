"""``trimatte video`` on the command line."""

from __future__ import annotations

import av

from trimatte.cli.main import main


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
