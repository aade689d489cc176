"""The web page in a real headless browser: Debian's Chromium driven by Playwright.

Skips (with the reason) when Playwright or Chromium is missing; ``.ci/run`` installs
Chromium with apt-get.
"""

from __future__ import annotations

import io
import shutil
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.server.conftest import disc_png

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="needs playwright (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        pytest.skip("needs a Chromium browser (apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def live_server(tmp_path, engine):
    """The app served by Uvicorn on a free loopback port, in a thread; stopped after."""
    import uvicorn

    from trimatte.server import ServerSettings, create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(ServerSettings(jobs_dir=tmp_path / "jobs"), engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_page_mattes_two_photos_and_downloads_the_zip(browser, live_server, tmp_path):
    photos = []
    for seed in (1, 2):
        path = tmp_path / f"photo{seed}.png"
        path.write_bytes(disc_png(56, seed=seed))
        photos.append(str(path))
    page = browser.new_page(accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server + "/")
    page.wait_for_selector("#pipeline option[value='grabcut-hard']", state="attached")
    page.set_input_files("#files", photos)
    assert "2 photo(s) chosen" in page.inner_text("#picked")
    page.select_option("#pipeline", "grabcut-hard")
    page.fill("#rect", "8,8,40,40")
    page.click("#run")
    page.wait_for_function(
        "document.querySelectorAll('.card[data-status=done] img.cutout').length === 2 && "
        "[...document.querySelectorAll('img.cutout')].every(i => i.complete && i.naturalWidth > 0)",
        timeout=60_000)
    assert page.locator(".card h3").all_inner_texts() == ["photo1.png", "photo2.png"]
    assert "2 done, 0 failed" in page.inner_text("#status")
    page.check("input[name=bg][value=colour]")  # a background colour under the cutouts
    colour = page.eval_on_selector(".stage", "el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(32, 128, 255)"
    page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
    with page.expect_download(timeout=30_000) as download_info:
        page.click("#download-all")
    target = Path(tmp_path / "all.zip")
    download_info.value.save_as(target)
    names = zipfile.ZipFile(io.BytesIO(target.read_bytes())).namelist()
    assert {"photo1_cutout.png", "photo2_cutout.png", "photo1_alpha.png",
            "report.json"} <= set(names)
    # one photo: brush background over the trimap and re-run (server: the editor's brush)
    page.click(".card[data-index='0'] button")
    page.wait_for_selector("#editor[open]")
    page.check("input[name=brush][value=background]")
    box = page.locator("#editor-canvas").bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    before = page.get_attribute(".card[data-index='0'] img.cutout", "src")
    page.click("#editor-rerun")
    page.wait_for_function("document.querySelector('#editor-status').textContent.startsWith"
                           "('done')", timeout=60_000)
    page.screenshot(path=str(tmp_path / "editor.png"))
    assert page.get_attribute(".card[data-index='0'] img.cutout", "src") != before
    assert not errors, errors
