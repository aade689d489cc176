"""The training-data engine: determinism, exact compositing, trimaps that cover the soft matte."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.data import synthetic
from trimatte.data.engine import MattingEngine, engine_contact_sheet, irregular_trimap
from trimatte.data.folders import list_backgrounds, make_synthetic_folders, match_by_stem
from trimatte.data.guide_pool import (
    GuidePoolDataset,
    build_pool,
    guide_alpha,
    load_pool,
    salient_trimap,
)
from trimatte.errors import InputError, TrimatteError


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    image_dir, alpha_dir, bg_dir = make_synthetic_folders(root, count=3, size=48, backgrounds=3)
    pairs, _ = match_by_stem(image_dir, alpha_dir)
    return pairs, list_backgrounds(bg_dir)


def _engine(sources, **options):
    pairs, backgrounds = sources
    return MattingEngine(pairs, backgrounds, **{"size": 40, "seed": 5, **options})


def test_samples_are_deterministic_per_seed_and_index(sources):
    first, again = _engine(sources).sample(7), _engine(sources).sample(7)
    for key in ("image", "foreground", "background", "alpha", "trimap"):
        np.testing.assert_array_equal(first[key], again[key])
    other = _engine(sources).sample(8)
    assert not np.array_equal(first["image"], other["image"])


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_image_is_the_composite_of_its_own_parts(sources, fraction):
    engine = _engine(sources, synthetic_fraction=fraction)
    for index in range(6):
        s = engine.sample(index)
        a = s["alpha"][..., None]
        expected = a * s["foreground"] + (1 - a) * s["background"]
        np.testing.assert_allclose(s["image"], expected, atol=1e-5)
        assert s["image"].shape == (40, 40, 3) and s["image"].dtype == np.float32
        assert s["alpha"].min() >= 0 and s["alpha"].max() <= 1
        assert set(np.unique(s["trimap"])) <= {0, 128, 255}
        # every soft pixel is unknown; known pixels agree with alpha
        soft = (s["alpha"] > 0.002) & (s["alpha"] < 0.998)
        assert (s["trimap"][soft] == 128).all()
        assert (s["alpha"][s["trimap"] == 255] > 0.99).all()
        assert (s["alpha"][s["trimap"] == 0] < 0.01).all()


def test_needs_backgrounds_and_some_foreground(sources):
    pairs, backgrounds = sources
    with pytest.raises(InputError):
        MattingEngine(pairs, [])
    with pytest.raises(InputError):
        MattingEngine([], backgrounds, synthetic_fraction=0.5)
    MattingEngine([], backgrounds, synthetic_fraction=1.0).sample(0)


@pytest.mark.parametrize("name", sorted(synthetic.GENERATORS))
def test_synthetic_generators_give_exact_soft_alpha(name):
    rng = np.random.default_rng(1)
    texture = rng.random((48, 40, 3)).astype(np.float32)
    fg, alpha = synthetic.GENERATORS[name]((48, 40), rng, texture)
    assert fg.shape == (48, 40, 3) and alpha.shape == (48, 40)
    assert fg.dtype == np.float32 and alpha.dtype == np.float32
    assert 0 <= alpha.min() and alpha.max() <= 1 and 0 <= fg.min() and fg.max() <= 1
    assert ((alpha > 0) & (alpha < 1)).any(), "a matting sample needs soft pixels"


def test_strands_have_sub_pixel_coverage():
    rng = np.random.default_rng(3)
    _, alpha = synthetic.strands((64, 64), rng, np.full((64, 64, 3), 0.5, np.float32))
    values = alpha[(alpha > 0) & (alpha < 1)]
    # coverage on a 4x grid: multiples of 1/16
    np.testing.assert_allclose(values * 16, np.round(values * 16), atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), low=st.floats(0, 6), extra=st.floats(0, 10),
       no_fg=st.booleans())
def test_irregular_trimap_covers_soft_pixels(seed, low, extra, no_fg):
    rng = np.random.default_rng(seed)
    alpha = np.clip(synthetic.smooth_noise((30, 36), rng, 8.0) * 3 - 1, 0, 1).astype(np.float32)
    trimap = irregular_trimap(alpha, rng, low, low + extra, no_foreground=no_fg)
    soft = (alpha > 0.002) & (alpha < 0.998)
    assert (trimap[soft] == 128).all()
    assert (alpha[trimap == 0] < 0.01).all() and (alpha[trimap == 255] > 0.99).all()
    if no_fg:
        assert not (trimap == 255).any()


def test_contact_sheet_is_written(sources, tmp_path):
    path = engine_contact_sheet(_engine(sources), [0, 1], tmp_path / "sheet.png")
    assert path.is_file() and path.stat().st_size > 1000


def test_guide_pool_round_trip_and_dihedral_augmentation(sources, tmp_path):
    engine = _engine(sources, synthetic_fraction=0.5)
    shards = build_pool(engine, tmp_path / "pool", 5, shard_size=2, progress=False)
    assert len(shards) == 3
    pool = load_pool(tmp_path / "pool")
    assert pool["alpha"].shape == (5, 40, 40) and pool["trimap"].dtype == np.uint8
    sample = engine.sample(3)
    np.testing.assert_allclose(pool["guide"][3], guide_alpha(sample["image"], sample["trimap"]),
                               atol=2e-3)
    data = GuidePoolDataset(pool, seed=1, repeats=2)
    assert len(data) == 10
    item = data[(0, 3)]
    assert item["image"].shape == (3, 40, 40) and item["guide"].shape == (1, 40, 40)
    a, f, b = item["alpha"], item["fg"], item["bg"]
    np.testing.assert_allclose(item["image"], a * f + (1 - a) * b, atol=5e-3)  # float16 storage
    again = GuidePoolDataset(pool, seed=1, repeats=2)[(0, 3)]
    assert all(np.array_equal(item[k], again[k]) for k in item)


def test_guide_is_the_trimap_without_definite_foreground():
    image = np.random.default_rng(0).random((12, 12, 3)).astype(np.float32)
    trimap = np.full((12, 12), 128, np.uint8)
    trimap[:, :3] = 0
    guide = guide_alpha(image, trimap)
    np.testing.assert_allclose(np.unique(guide), [0.0, 128 / 255], rtol=1e-6)


def test_pool_of_several_folders_is_one_pool_and_sizes_must_match(sources, tmp_path):
    build_pool(_engine(sources), tmp_path / "a", 3, shard_size=2, progress=False)
    build_pool(_engine(sources, seed=5), tmp_path / "b", 2, shard_size=2, progress=False)
    both = load_pool([tmp_path / "a", tmp_path / "b"])
    alone = load_pool(tmp_path / "b")
    assert both["alpha"].shape[0] == 5
    np.testing.assert_array_equal(both["image"][3:], alone["image"])
    build_pool(_engine(sources, size=24), tmp_path / "c", 2, progress=False)
    with pytest.raises(TrimatteError, match="one sample size"):
        load_pool([tmp_path / "a", tmp_path / "c"])
    with pytest.raises(TrimatteError, match="no guide-pool shards"):
        load_pool([tmp_path / "a", tmp_path / "empty"])


def test_salient_trimaps_come_from_the_salient_source(sources, tmp_path):
    engine = _engine(sources, synthetic_fraction=0.0, size=64)
    build_pool(engine, tmp_path / "sal", 2, progress=False, trimaps="salient")
    pool = load_pool(tmp_path / "sal")
    for index in range(2):
        sample = engine.sample(index)
        expected = salient_trimap(sample["image"])
        if expected is None:
            expected = sample["trimap"]
        np.testing.assert_array_equal(pool["trimap"][index], expected)
        np.testing.assert_allclose(pool["guide"][index],
                                   guide_alpha(sample["image"], expected), atol=2e-3)
    with pytest.raises(TrimatteError, match="unknown trimaps"):
        build_pool(engine, tmp_path / "x", 1, trimaps="hand-drawn")


def test_salient_trimap_is_none_without_a_subject():
    flat = np.full((48, 48, 3), 0.5, np.float32)
    assert salient_trimap(flat) is None
