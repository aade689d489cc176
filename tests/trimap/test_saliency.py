"""trimap_from_saliency: threshold + band, low-confidence pixels, isolation rule, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.errors import InputError
from trimatte.trimap.morphology import trimap_from_mask
from trimatte.trimap.saliency import check_saliency, trimap_from_saliency


def _disc(size: int = 40, radius: float = 10.0, centre: tuple[float, float] | None = None):
    cy, cx = centre if centre is not None else (size / 2, size / 2)
    yy, xx = np.mgrid[0:size, 0:size]
    return np.hypot(yy - cy, xx - cx) <= radius


def test_confident_map_gives_exactly_the_mask_trimap() -> None:
    mask = _disc()
    saliency = mask.astype(np.float32)
    np.testing.assert_array_equal(
        trimap_from_saliency(saliency, band=3), trimap_from_mask(mask, 3)
    )


def test_low_confidence_ring_next_to_the_object_becomes_unknown() -> None:
    saliency = _disc(radius=10).astype(np.float32)
    ring = _disc(radius=15) & ~_disc(radius=10)
    saliency[ring] = 0.3  # unsure fur around the body, wider than the band
    trimap = trimap_from_saliency(saliency, band=1)
    assert np.all(trimap[ring] == 128)
    assert trimap[20, 20] == 255 and trimap[0, 0] == 0


def test_low_confidence_inside_the_object_becomes_unknown() -> None:
    saliency = _disc(radius=12).astype(np.float32)
    saliency[18:22, 18:22] = 0.7
    trimap = trimap_from_saliency(saliency, band=1)
    assert np.all(trimap[18:22, 18:22] == 128)
    off = trimap_from_saliency(saliency, band=1, confident_fg=None)
    assert np.all(off[18:22, 18:22] == 255)


def test_isolated_faint_blob_stays_background_unless_asked() -> None:
    saliency = _disc(size=60, radius=8, centre=(15, 15)).astype(np.float32)
    blob = _disc(size=60, radius=5, centre=(45, 45))
    saliency[blob] = 0.2
    trimap = trimap_from_saliency(saliency, band=2)
    assert np.all(trimap[blob] == 0)
    kept = trimap_from_saliency(saliency, band=2, keep_isolated=True)
    assert np.all(kept[blob] == 128)
    disabled = trimap_from_saliency(saliency, band=2, confident_bg=None, keep_isolated=True)
    assert np.all(disabled[blob] == 0)


def test_uint8_map_and_trailing_channel_are_accepted() -> None:
    mask = _disc()
    as_uint8 = (mask * 255).astype(np.uint8)[..., None]
    np.testing.assert_array_equal(
        trimap_from_saliency(as_uint8, band=2), trimap_from_mask(mask, 2)
    )


@settings(max_examples=40, deadline=None)
@given(
    saliency=arrays(np.float32, (17, 23), elements=st.floats(0, 1, width=32)),
    band=st.integers(0, 4),
    threshold=st.floats(0.2, 0.8),
    keep_isolated=st.booleans(),
)
def test_classes_respect_the_confidence_limits(saliency, band, threshold, keep_isolated) -> None:
    trimap = trimap_from_saliency(
        saliency, band=band, threshold=threshold, keep_isolated=keep_isolated
    )
    assert trimap.dtype == np.uint8 and trimap.shape == saliency.shape
    assert set(np.unique(trimap)) <= {0, 128, 255}
    fg, bg = trimap == 255, trimap == 0
    assert np.all(saliency[fg] >= 0.95)
    assert np.all(saliency[bg] < threshold)
    if keep_isolated:
        assert np.all(saliency[bg] <= 0.05)
    # every thresholded pixel is foreground or unknown, never background
    assert not np.any(bg & (saliency >= threshold))


@pytest.mark.parametrize(
    ("bad", "source"),
    [
        (np.zeros((4, 4, 3), np.float32), "saliency"),
        (np.zeros((0, 4), np.float32), "saliency"),
        (np.full((4, 4), np.nan, np.float32), "saliency"),
        (np.full((4, 4), 1.5, np.float32), "saliency"),
        (np.zeros((4, 4), bool), "saliency"),
        (np.zeros((4, 4), np.int64), "saliency"),
    ],
)
def test_bad_maps_are_input_errors(bad, source) -> None:
    with pytest.raises(InputError) as info:
        check_saliency(bad)
    assert info.value.source == source


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 1.2},
        {"threshold": "0.5"},
        {"confident_bg": 0.6},  # above the threshold
        {"confident_fg": 0.4},  # below the threshold
        {"band": -1},
        {"band": 2.5},
    ],
)
def test_bad_parameters_are_input_errors(kwargs) -> None:
    params = {"band": 2, **kwargs}
    with pytest.raises(InputError):
        trimap_from_saliency(np.zeros((8, 8), np.float32), **params)
