"""dtSSD and MESSDdt (Erofeev et al. 2015) on hand-made mattes."""

from __future__ import annotations

import numpy as np
import pytest

from trimatte.errors import InputError
from trimatte.metrics import dtssd, messddt, video_metrics


def _square(x: int, size: int = 20) -> np.ndarray:
    a = np.zeros((size, size), np.float32)
    a[5:15, x:x + 6] = 1.0
    return a


def test_dtssd_is_zero_for_a_static_error_and_counts_flicker():
    gt0, gt1 = _square(4), _square(6)
    assert dtssd(gt0, gt1, gt0, gt1) == 0.0
    static = np.zeros_like(gt0)
    static[0:3, 0:3] = 0.2  # the same error at the same pixels in both frames
    assert dtssd(gt0 + static, gt1 + static, gt0, gt1) == pytest.approx(0.0, abs=1e-6)
    flicker = gt1.copy()
    flicker[0, 0] = 0.5
    assert dtssd(gt0, flicker, gt0, gt1) == pytest.approx(0.5)
    # an error that moves with the subject is a temporal error for dtSSD
    moving0, moving1 = gt0.copy(), gt1.copy()
    moving0[10, 4] = moving1[10, 6] = 0.5
    assert dtssd(moving0, moving1, gt0, gt1) == pytest.approx(np.sqrt(0.5))


def test_messddt_follows_the_motion():
    gt0, gt1 = _square(4), _square(6)
    motion = np.zeros((20, 20, 2), np.float32)
    motion[..., 0] = 2.0
    # an error that moves with the subject is consistent
    p0, p1 = gt0.copy(), gt1.copy()
    p0[10, 4] = p1[10, 6] = 0.5
    assert messddt(p0, p1, gt0, gt1, flow=motion) == pytest.approx(0.0, abs=1e-6)
    # an error that appears is not: |0 - 0.25|
    p1b = gt1.copy()
    p1b[10, 8] = 0.5
    assert messddt(gt0, p1b, gt0, gt1, flow=motion) == pytest.approx(0.25)


def test_video_metrics_and_size_checks():
    gts = [_square(x) for x in (2, 4, 6)]
    preds = [g.copy() for g in gts]
    preds[1][0, 0] = 1.0
    result = video_metrics(preds, gts)
    assert result["frames"] == 3 and len(result["per_frame"]["dtSSD"]) == 2
    assert result["per_frame"]["SAD"] == pytest.approx([0.0, 0.001, 0.0])
    assert result["dtSSD"] == pytest.approx(1.0)
    with pytest.raises(InputError, match="gt"):
        dtssd(gts[0], gts[1], gts[0], np.zeros((3, 3), np.float32))
