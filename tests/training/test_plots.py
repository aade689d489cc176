"""Tests of the OpenCV-drawn training figure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from trimatte.training import plots


def test_running_mean():
    np.testing.assert_allclose(plots.running_mean([1, 3, 5, 7], 2), [1, 2, 4, 6])
    assert plots.running_mean([], 3).size == 0


def test_figure_has_curves_and_one_row_per_sample(tmp_path):
    log_rows = [{"step": str(i), "loss": str(1 / i)} for i in range(1, 30)]
    val_rows = [{"step": "0", "SAD": "9"}, {"step": "15", "SAD": "5"}, {"step": "29", "SAD": "nan"}]
    sample = {"image": np.random.default_rng(0).random((21, 33, 3)).astype(np.float32),
              "trimap": np.full((21, 33), 128, np.uint8),
              "alpha": np.zeros((21, 33), np.float32),
              "prediction": np.ones((21, 33), np.float32)}
    only_curves = plots.training_figure(log_rows, val_rows, [])
    figure = plots.training_figure(log_rows, val_rows, [sample, sample])
    assert figure.dtype == np.uint8 and figure.shape[1] == only_curves.shape[1]
    assert figure.shape[0] > only_curves.shape[0] + 2 * 180
    path = plots.write_training_figure(tmp_path / "f.png", log_rows, val_rows, [sample])
    assert cv2.imread(str(path)).shape[2] == 3


@pytest.mark.parametrize("values", [[], [float("nan")], [2.0]])
def test_degenerate_charts_do_not_fail(values):
    chart = plots.line_chart("t", [(list(range(len(values))), values, plots.RED)])
    assert chart.shape == (*plots.PANEL, 3)


def test_float_and_uint8_panels_are_scaled_by_dtype():
    white_float = plots._gray_rgb(np.full((2, 2), 1.0000002, np.float32))
    white_uint8 = plots._gray_rgb(np.full((2, 2), 255, np.uint8))
    assert white_float.min() == 255 and white_uint8.min() == 255
