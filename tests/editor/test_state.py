"""Tests of the GUI-free editor state: strokes, undo/redo, band, GrabCut, preview, save."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_disc_scene
from trimatte.editor.operations import check_rect, downscale_trimap, stroke_mask
from trimatte.editor.pipelines import automatic_trimap, preview_alpha_of
from trimatte.editor.render import RENDER_MODES
from trimatte.editor.state import EditorState
from trimatte.errors import InputError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN
from trimatte.io import read_alpha, read_trimap, write_image, write_trimap
from trimatte.trimap.morphology import (
    adjust_band,
    rebuild_band,
    trimap_from_alpha,
    trimap_from_mask,
)


def disc_state(size: int = 64, band: int = 3, **kwargs) -> tuple[EditorState, np.ndarray]:
    image, alpha, _, _ = make_disc_scene(size=size, radius=size * 0.28)
    trimap = trimap_from_alpha(alpha, band)
    return EditorState(image, trimap, **kwargs), alpha


# ----------------------------------------------------------------------------- construction


def test_starts_all_unknown_without_a_trimap():
    image, _, _, _ = make_disc_scene(32)
    state = EditorState(image)
    assert state.trimap.dtype == np.uint8 and state.trimap.shape == (32, 32)
    assert np.all(state.trimap == UNKNOWN)
    assert not state.can_undo and not state.modified


def test_trimap_of_another_size_is_rejected():
    image, _, _, _ = make_disc_scene(32)
    with pytest.raises(InputError, match="trimap"):
        EditorState(image, np.zeros((31, 32), np.uint8))


def test_trimap_view_is_read_only():
    state, _ = disc_state()
    with pytest.raises(ValueError):
        state.trimap[0, 0] = FOREGROUND


# ----------------------------------------------------------------------------- painting


def test_paint_a_point_paints_a_disc_of_the_brush_radius():
    image, _, _, _ = make_disc_scene(64)
    state = EditorState(image)
    assert state.paint([(30, 20)], FOREGROUND, radius=5)
    painted = state.trimap == FOREGROUND
    rows, cols = np.nonzero(painted)
    assert rows.min() == 15 and rows.max() == 25 and cols.min() == 25 and cols.max() == 35
    assert abs(painted.sum() - np.pi * 5.5**2) < 0.15 * np.pi * 5.5**2
    assert np.array_equal(state.painted, painted)
    assert np.all(state.strokes[painted] == FOREGROUND)


def test_paint_a_line_uses_the_current_brush_and_clips_at_the_border():
    image, _, _, _ = make_disc_scene(64)
    state = EditorState(image, brush_radius=2)
    state.set_brush_label("background")
    state.paint([(-20, 10), (100, 10)])
    assert np.all(state.trimap[8:13, :] == BACKGROUND)  # 2 * radius + 1 rows, like a dot
    assert np.all(state.trimap[13:, :] == UNKNOWN) and np.all(state.trimap[:8, :] == UNKNOWN)


@pytest.mark.parametrize(
    ("points", "label", "match"),
    [
        ([(1, 2)], 7, "label"),
        ([(1, 2)], "red", "label"),
        ([(1, 2, 3)], FOREGROUND, "points"),
        ([], FOREGROUND, "points"),
        ([(np.nan, 2)], FOREGROUND, "points"),
    ],
)
def test_paint_rejects_bad_input(points, label, match):
    state, _ = disc_state(32)
    with pytest.raises(InputError, match=match):
        state.paint(points, label)


def test_brush_radius_is_clamped_and_checked():
    state, _ = disc_state(32)
    assert state.set_brush_radius(0) == 1
    assert state.set_brush_radius(10_000) == 300
    assert state.set_brush_radius(7.4) == 7
    with pytest.raises(InputError, match="brush_radius"):
        state.set_brush_radius(float("nan"))
    with pytest.raises(InputError, match="brush_radius"):
        state.set_brush_radius("big")


def test_a_drag_is_one_undo_step():
    state, _ = disc_state(64)
    start = state.trimap.copy()
    state.begin_stroke()
    for x in range(5, 60, 5):
        state.paint([(x - 5, 5), (x, 5)], UNKNOWN, radius=2)
    assert not state.can_undo  # nothing committed while the drag is open
    assert state.end_stroke()
    state.undo()
    assert np.array_equal(state.trimap, start)
    assert not state.can_undo


def test_stroke_mask_of_a_point_is_symmetric():
    mask = stroke_mask((21, 21), np.array([[10.0, 10.0]]), 4)
    assert np.array_equal(mask, mask[::-1]) and np.array_equal(mask, mask[:, ::-1])
    assert mask[10, 6] and mask[10, 14] and not mask[10, 5] and not mask[10, 15]


# ----------------------------------------------------------------------------- undo / redo


@st.composite
def action_lists(draw):
    actions = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["paint", "paint", "drag", "grow", "shrink", "clear"]))
        if kind == "drag":
            segments = draw(st.lists(
                st.lists(st.tuples(st.integers(-5, 45), st.integers(-5, 45)), min_size=1,
                         max_size=3), min_size=1, max_size=4))
            label = draw(st.sampled_from([BACKGROUND, UNKNOWN, FOREGROUND]))
            actions.append(("drag", segments, label, draw(st.integers(1, 6))))
        elif kind == "paint":
            points = draw(st.lists(st.tuples(st.integers(-5, 45), st.integers(-5, 45)),
                                   min_size=1, max_size=4))
            label = draw(st.sampled_from([BACKGROUND, UNKNOWN, FOREGROUND]))
            actions.append(("paint", points, label, draw(st.integers(1, 6))))
        elif kind in ("grow", "shrink"):
            actions.append((kind, draw(st.integers(1, 4))))
        else:
            actions.append(("clear",))
    return actions


def _do(state: EditorState, action: tuple) -> None:
    if action[0] == "drag":  # one undo step, however many segments
        state.begin_stroke()
        for points in action[1]:
            state.paint(points, action[2], radius=action[3])
        state.end_stroke()
    elif action[0] == "paint":
        state.paint(action[1], action[2], radius=action[3])
    elif action[0] == "grow":
        state.grow_band(action[1])
    elif action[0] == "shrink":
        state.shrink_band(action[1])
    else:
        state.clear_strokes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=action_lists())
def test_undo_and_redo_restore_every_state_exactly(actions):
    state, _ = disc_state(40, band=2)
    history = [(state.trimap.copy(), state.strokes.copy(), state.painted.copy(), state.band)]
    for action in actions:
        _do(state, action)
        snapshot = (state.trimap.copy(), state.strokes.copy(), state.painted.copy(), state.band)
        if not all(np.array_equal(a, b) for a, b in zip(snapshot[:3], history[-1][:3],
                                                        strict=True)) or \
                snapshot[3] != history[-1][3]:
            history.append(snapshot)
    for expected in reversed(history[:-1]):
        assert state.undo()
        assert np.array_equal(state.trimap, expected[0])
        assert np.array_equal(state.strokes, expected[1])
        assert np.array_equal(state.painted, expected[2])
        assert state.band == expected[3]
    assert not state.undo()
    for expected in history[1:]:
        assert state.redo()
        assert np.array_equal(state.trimap, expected[0])
        assert np.array_equal(state.painted, expected[2])
        assert state.band == expected[3]
    assert not state.redo()


def test_a_new_action_after_undo_drops_the_redo_steps():
    state, _ = disc_state(32)
    state.paint([(5, 5)], FOREGROUND, radius=2)
    state.undo()
    assert state.can_redo
    state.paint([(20, 5)], BACKGROUND, radius=2)
    assert not state.can_redo


def test_an_action_that_changes_nothing_is_not_an_undo_step():
    state, _ = disc_state(32)
    assert state.paint([(1, 1)], BACKGROUND, radius=1)  # already background, but now a stroke
    version = state.version
    assert not state.paint([(1, 1)], BACKGROUND, radius=1)  # the very same stroke again
    assert state.undo() and not state.can_undo
    assert state.version == version + 1


def test_history_is_memory_bounded():
    rng = np.random.default_rng(0)
    image = rng.random((200, 200, 3)).astype(np.float32)
    state = EditorState(image, history_bytes=200_000, history_steps=1000)
    for i in range(60):
        label = (FOREGROUND, BACKGROUND)[i % 2]
        # a noisy stroke compresses badly, so the history fills up quickly
        state.paint(rng.uniform(0, 200, size=(30, 2)), label, radius=6)
    assert state.history_nbytes <= 200_000
    undone = 0
    while state.undo():
        undone += 1
    assert 1 <= undone < 60


def test_history_keeps_at_most_history_steps():
    state, _ = disc_state(32, history_steps=3)
    for i in range(6):
        state.paint([(4 * i + 2, 2)], FOREGROUND, radius=1)
    assert sum(state.undo() for _ in range(10)) == 3


# ----------------------------------------------------------------------------- band


def test_grow_and_shrink_band_use_adjust_band_and_track_the_band_width():
    state, _ = disc_state(64, band=3)
    start = state.trimap.copy()
    band = state.band
    assert state.grow_band(2)
    assert np.array_equal(state.trimap, adjust_band(start, 2))
    assert state.band == band + 2
    assert (state.trimap == UNKNOWN).sum() > (start == UNKNOWN).sum()
    grown = state.trimap.copy()
    assert state.shrink_band(3)
    assert np.array_equal(state.trimap, adjust_band(grown, -3))
    assert (state.trimap == UNKNOWN).sum() < (grown == UNKNOWN).sum()


def test_band_steps_must_be_positive_whole_pixels():
    state, _ = disc_state(32)
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(InputError, match="pixels"):
            state.grow_band(bad)


def test_shrinking_a_hard_trimap_changes_only_the_band_setting_and_undo_restores_it():
    image, alpha, _, _ = make_disc_scene(32)
    state = EditorState(image, trimap_from_mask(alpha > 0.5, 0), band=2)
    trimap = state.trimap.copy()
    state.shrink_band(1)
    assert np.array_equal(state.trimap, trimap) and state.band == 1
    state.undo()
    assert state.band == 2


# ----------------------------------------------------------------------------- GrabCut


def _iou(trimap: np.ndarray, truth: np.ndarray) -> float:
    """IoU of the trimap's hard mask (unknown split at its middle) with a true mask."""
    mask = rebuild_band(trimap.copy(), 0) == FOREGROUND
    return float((mask & truth).sum() / max(1, (mask | truth).sum()))


def test_grabcut_from_strokes_fixes_a_wrong_trimap_and_keeps_the_strokes():
    image, alpha, _, _ = make_disc_scene(size=80, radius=22)
    truth = alpha > 0.5
    wrong = np.zeros((80, 80), bool)
    wrong[8:72, 8:72] = True  # a square far larger than the disc
    state = EditorState(image, trimap_from_mask(wrong, 2), band=2)
    state.paint([(12, 12), (68, 12)], BACKGROUND, radius=2)  # in the square, outside the disc
    state.paint([(40, 40)], FOREGROUND, radius=3)
    assert _iou(state.trimap, truth) < 0.6
    before = state.trimap.copy()
    assert state.grabcut_from_strokes()
    assert _iou(state.trimap, truth) > 0.85
    assert np.all(state.trimap[10:15, 12:68] == BACKGROUND)  # the stroke is kept
    assert state.undo()
    assert np.array_equal(state.trimap, before)


def test_grabcut_from_strokes_needs_some_foreground():
    image, _, _, _ = make_disc_scene(40)
    state = EditorState(image, np.zeros((40, 40), np.uint8))
    with pytest.raises(TrimapError, match="foreground"):
        state.grabcut_from_strokes()


def test_grabcut_from_rect_finds_the_disc():
    image, alpha, _, _ = make_disc_scene(size=80, radius=20)
    state = EditorState(image, band=2)
    assert state.grabcut_from_rect((10, 10, 60, 60))
    assert _iou(state.trimap, alpha > 0.5) > 0.85
    state.undo()
    assert np.all(state.trimap == UNKNOWN)


def test_rectangles_are_normalised_and_degenerate_ones_rejected():
    assert check_rect((50, 40, -20, -10), (100, 100)) == (30, 30, 20, 10)
    assert check_rect((-10, -10, 50, 50), (30, 30)) == (0, 0, 30, 30)
    for bad in [(5, 5, 1, 20), (200, 200, 10, 10), (1, 2, 3), ("a", 1, 2, 3)]:
        with pytest.raises(InputError, match="rect"):
            check_rect(bad, (100, 100))


# ----------------------------------------------------------------------------- preview


@settings(max_examples=30, deadline=None)
@given(
    cells=st.lists(st.sampled_from([BACKGROUND, UNKNOWN, FOREGROUND]), min_size=48, max_size=48),
    factor=st.sampled_from([2, 3]),
)
def test_downscaled_trimap_is_conservative(cells, factor):
    coarse = np.array(cells, np.uint8).reshape(6, 8)
    rng = np.random.default_rng(len(cells))
    fine = np.kron(coarse, np.ones((factor, factor), np.uint8))
    flips = rng.random(fine.shape) < 0.05
    fine[flips] = UNKNOWN
    small = downscale_trimap(fine, (8, 6))
    for label in (FOREGROUND, BACKGROUND):
        blocks = (fine == label).reshape(6, factor, 8, factor).all(axis=(1, 3))
        assert np.array_equal(small == label, blocks)


def test_preview_is_exact_on_known_pixels_and_close_in_the_band():
    state, alpha = disc_state(96, band=4)
    preview = state.preview_alpha(max_side=48)
    assert preview.dtype == np.float32 and preview.shape == (96, 96)
    assert np.all(preview[state.trimap == FOREGROUND] == 1.0)
    assert np.all(preview[state.trimap == BACKGROUND] == 0.0)
    unknown = state.trimap == UNKNOWN
    assert np.abs(preview[unknown] - alpha[unknown]).mean() < 0.1
    assert state.alpha_is_current and state.preview_alpha(max_side=48) is preview


def test_preview_is_stale_after_an_edit_and_full_resolution_matches_closed_form():
    from trimatte.matting.closed_form import closed_form_alpha

    state, _ = disc_state(48, band=3)
    state.preview_alpha(max_side=24)
    state.paint([(2, 2)], UNKNOWN, radius=2)
    assert not state.alpha_is_current
    full = state.preview_alpha(max_side=None)
    expected = np.clip(closed_form_alpha(state.image, state.trimap.copy()), 0, 1)
    known = state.trimap != UNKNOWN
    assert np.allclose(full[~known], expected[~known], atol=1e-5)


def test_preview_without_background_says_what_to_do():
    image, _, _, _ = make_disc_scene(32)
    trimap = np.full((32, 32), FOREGROUND, np.uint8)
    trimap[10:20, 10:20] = UNKNOWN
    with pytest.raises(TrimapError, match="background"):
        preview_alpha_of(image, trimap, 16)


# ----------------------------------------------------------------------------- render


def test_render_modes():
    state, alpha = disc_state(40)
    state.set_alpha(alpha, state.version)
    plain = state.render("image")
    assert plain.dtype == np.uint8 and plain.shape == (40, 40, 3)
    expected_bgr = np.rint(state.image[:, :, ::-1] * 255)
    assert np.abs(plain.astype(float) - expected_bgr).max() <= 1
    for mode in RENDER_MODES:
        frame = state.render(mode)
        assert frame.dtype == np.uint8 and frame.shape == (40, 40, 3)
    tinted = state.render("trimap").astype(int)
    fg, bg = state.trimap == FOREGROUND, state.trimap == BACKGROUND
    assert tinted[fg][:, 1].mean() > plain[fg][:, 1].mean()  # green over foreground
    assert tinted[bg][:, 2].mean() > plain[bg][:, 2].mean()  # red over background
    gray = state.render("alpha")
    assert np.abs(gray[:, :, 0].astype(float) - alpha * 255).max() <= 1
    red = state.render("colour", colour=(1.0, 0.0, 0.0))
    assert np.all(red[bg] == (0, 0, 255))
    with pytest.raises(InputError, match="mode"):
        state.render("sepia")


def test_render_without_alpha_shows_the_trimap_as_alpha():
    state, _ = disc_state(24)
    assert state.alpha is None
    gray = state.render("alpha")[:, :, 0]
    assert np.array_equal(gray, state.trimap)


# ----------------------------------------------------------------------------- save


def test_save_writes_trimap_alpha_and_cutout_atomically(tmp_path, monkeypatch):
    import trimatte.io

    written = []
    real = trimatte.io.atomic_write_bytes

    def recording(path, data):
        written.append(path)
        return real(path, data)

    monkeypatch.setattr(trimatte.io, "atomic_write_bytes", recording)
    state, _ = disc_state(48, band=3)
    state.paint([(2, 2), (20, 2)], FOREGROUND, radius=1)
    assert state.modified
    paths = state.save(tmp_path / "out", "disc")
    assert set(paths) == {"trimap", "alpha", "cutout"}
    assert sorted(written) == sorted(paths.values())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "disc_alpha.png", "disc_cutout.png", "disc_trimap.png"]
    assert np.array_equal(read_trimap(paths["trimap"]), state.trimap)
    saved_alpha = read_alpha(paths["alpha"])
    assert np.all(saved_alpha[state.trimap == FOREGROUND] == 1.0)
    assert np.all(saved_alpha[state.trimap == BACKGROUND] == 0.0)
    cutout = read_alpha(paths["cutout"])  # the cutout's alpha channel
    assert np.abs(cutout - saved_alpha).max() <= 1 / 255 + 1e-6
    assert not state.modified


def test_save_refuses_to_overwrite_the_input_trimap(tmp_path):
    state0, _ = disc_state(32)
    trimap_file = write_trimap(tmp_path / "disc_trimap.png", state0.trimap)
    before = trimap_file.read_bytes()
    state, _ = disc_state(32, protected_paths=[trimap_file])
    state.paint([(2, 2)], FOREGROUND, radius=2)
    with pytest.raises(InputError, match="overwrite"):
        state.save(tmp_path, "disc")
    assert trimap_file.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disc_trimap.png"]


def test_save_refuses_to_overwrite_the_input_image(tmp_path):
    image, alpha, _, _ = make_disc_scene(32)
    image_file = write_image(tmp_path / "a_cutout.png", image)
    before = image_file.read_bytes()
    state = EditorState(image, trimap_from_alpha(alpha, 2), image_path=image_file)
    with pytest.raises(InputError, match="overwrite"):
        state.save(tmp_path, "a")
    assert image_file.read_bytes() == before
    assert state.output_paths(tmp_path)["alpha"].name == "a_cutout_alpha.png"


def test_save_stem_must_be_a_plain_name(tmp_path):
    state, _ = disc_state(24)
    with pytest.raises(InputError, match="stem"):
        state.save(tmp_path, "../escape")


def test_automatic_trimap_gives_a_trimap_and_a_message():
    image, _, _, _ = make_disc_scene(64)
    trimap, message = automatic_trimap(image, band=2)
    assert trimap.shape == (64, 64) and trimap.dtype == np.uint8
    assert set(np.unique(trimap)) <= {BACKGROUND, UNKNOWN, FOREGROUND}
    assert message


def test_reset_starts_over_without_history_or_unsaved_changes():
    state, alpha = disc_state(32)
    state.paint([(3, 3)], FOREGROUND, radius=2)
    fresh = trimap_from_alpha(alpha, 1)
    state.reset(fresh, "automatic trimap")
    assert np.array_equal(state.trimap, fresh)
    assert not state.painted.any() and not state.can_undo and not state.modified
    with pytest.raises(InputError, match="trimap"):
        state.reset(np.zeros((5, 5), np.uint8))
