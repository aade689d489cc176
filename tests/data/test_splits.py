"""Tests of the fixed held-out split of ../shared/data."""

from __future__ import annotations

import pytest

from trimatte.data import splits
from trimatte.errors import InputError


@pytest.mark.shared
def test_shared_split_is_fixed_and_disjoint(shared_dir):
    split = splits.shared_split(shared_dir / "data")
    assert [p.name for p in split.validation] == list(splits.HELD_OUT)
    assert len(split.validation) == 7 and len(split.train) == 36 - 7
    assert not {p.name for p in split.train} & set(splits.HELD_OUT)
    assert all(p.name.startswith("am2k/") for p in split.validation_real)
    assert all(p.name.startswith("pseudo_alpha/") for p in split.validation_pseudo)
    assert len(split.backgrounds) == 139


def test_missing_held_out_examples_are_an_error(tmp_path):
    from trimatte.data.folders import make_synthetic_folders

    make_synthetic_folders(tmp_path / "am2k", count=2, size=16)
    for name in ("aim_samples", "gfm_samples", "p3m_demo", "p3m_samples"):
        make_synthetic_folders(tmp_path / "pseudo_alpha" / name, count=1, size=16)
    with pytest.raises(InputError, match="held-out examples missing"):
        splits.shared_split(tmp_path)
