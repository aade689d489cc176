"""``trimatte serve``: flags become settings; bad flags are one line, exit code 2."""

from __future__ import annotations

from trimatte.cli.main import build_parser, main


def test_flags_become_settings():
    from trimatte.cli.serve import settings_from

    args = build_parser().parse_args([
        "serve", "--workers", "3", "--threads", "--jobs-dir", "J", "--token", "t",
        "--max-upload-mb", "2", "--max-megapixels", "1.5", "--max-queue", "7",
        "--max-active", "2", "--cors-origin", "http://a.example"])
    settings = settings_from(args)
    assert args.host == "127.0.0.1"  # loopback unless asked
    assert (settings.workers, settings.processes, str(settings.jobs_dir)) == (3, False, "J")
    assert settings.token == "t" and settings.cors_origins == ["http://a.example"]
    limits = settings.limits
    assert limits.max_upload_bytes == 2 * 2**20 and limits.max_pixels == 1_500_000
    assert (limits.max_queued_images, limits.max_active_requests) == (7, 2)


def test_bad_scheduler_address_is_one_line(capsys):
    assert main(["serve", "--scheduler", "/tmp/not-an-address"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tcp://" in err[0]
