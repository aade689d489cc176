"""The training figure: loss and validation curves above sample predictions.

Drawn with OpenCV (always installed) so that a headless training machine without
matplotlib still gets its figure. The figure is an 8-bit RGB PNG written atomically:

* top left: training loss per step (light) and its running mean (dark);
* top right: the validation metric (SAD for matting, CE for the trimap net) per step;
* below: one row per validation sample: image, trimap, ground-truth alpha, prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from trimatte.io import atomic_write_bytes

PANEL = (360, 560)  # height, width of one chart
MARGIN = 48
WHITE = (255, 255, 255)
GRID = (225, 225, 225)
AXIS = (60, 60, 60)
LIGHT = (180, 200, 235)
DARK = (30, 80, 180)
RED = (200, 40, 40)


def running_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (shorter at the start)."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return array
    window = max(1, int(window))
    cumulative = np.concatenate([[0.0], np.cumsum(array)])
    ends = np.arange(1, array.size + 1)
    starts = np.maximum(0, ends - window)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def _text(canvas: np.ndarray, text: str, origin: tuple[int, int], scale: float = 0.45,
          color: tuple[int, int, int] = AXIS) -> None:
    cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, color, 1, cv2.LINE_AA)


def line_chart(
    title: str,
    series: Sequence[tuple[Sequence[float], Sequence[float], tuple[int, int, int]]],
    size: tuple[int, int] = PANEL,
) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` chart of one or more ``(x, y, colour)`` series.

    Non-finite points are skipped; an empty chart says "no data yet".
    """
    height, width = size
    canvas = np.full((height, width, 3), 255, np.uint8)
    _text(canvas, title, (MARGIN, 22), 0.55)
    xs = [np.asarray(x, np.float64) for x, _, _ in series]
    ys = [np.asarray(y, np.float64) for _, y, _ in series]
    points = [(x[np.isfinite(y)], y[np.isfinite(y)]) for x, y in zip(xs, ys, strict=True)]
    if not any(p[0].size for p in points):
        _text(canvas, "no data yet", (width // 2 - 40, height // 2))
        return canvas
    all_x = np.concatenate([p[0] for p in points])
    all_y = np.concatenate([p[1] for p in points])
    x0, x1 = float(all_x.min()), float(all_x.max())
    y0, y1 = float(all_y.min()), float(all_y.max())
    if x1 == x0:
        x1 = x0 + 1.0
    if y1 == y0:
        y0, y1 = y0 - 0.5 * abs(y0 or 1.0), y1 + 0.5 * abs(y1 or 1.0)
    left, right, top, bottom = MARGIN + 20, width - 16, 36, height - MARGIN

    def to_pixel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = left + (x - x0) / (x1 - x0) * (right - left)
        py = bottom - (y - y0) / (y1 - y0) * (bottom - top)
        return np.stack([px, py], axis=1).round().astype(np.int32)

    for i in range(5):
        fraction = i / 4
        yy = round(bottom - fraction * (bottom - top))
        cv2.line(canvas, (left, yy), (right, yy), GRID, 1)
        _text(canvas, f"{y0 + fraction * (y1 - y0):.3g}", (4, yy + 4), 0.38)
        xx = round(left + fraction * (right - left))
        _text(canvas, f"{x0 + fraction * (x1 - x0):.0f}", (xx - 10, bottom + 18), 0.38)
    cv2.rectangle(canvas, (left, top), (right, bottom), AXIS, 1)
    _text(canvas, "step", (right - 30, height - 8), 0.4)
    for (x, y), (_, _, colour) in zip(points, series, strict=True):
        if x.size == 0:
            continue
        pixels = to_pixel(x, y)
        if pixels.shape[0] > 1:
            cv2.polylines(canvas, [pixels.reshape(-1, 1, 2)], False, colour, 2, cv2.LINE_AA)
        if pixels.shape[0] <= 50:  # few points (validation): mark each one
            for px, py in pixels:
                cv2.circle(canvas, (int(px), int(py)), 3, colour, -1, cv2.LINE_AA)
    return canvas


def _gray_rgb(array: np.ndarray) -> np.ndarray:
    scale = 255.0 if np.asarray(array).dtype == np.uint8 else 1.0
    array = np.asarray(array, np.float32) / scale
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return np.clip(array * 255.0, 0, 255).astype(np.uint8)


def sample_row(sample: dict[str, np.ndarray], height: int = 180) -> np.ndarray:
    """One uint8 RGB strip: image | trimap | ground truth | prediction, each ``height`` high."""
    panels = [sample["image"], sample["trimap"], sample["alpha"], sample["prediction"]]
    tiles = []
    for panel in panels:
        tile = _gray_rgb(panel)
        width = max(1, round(tile.shape[1] * height / tile.shape[0]))
        tiles.append(cv2.resize(tile, (width, height), interpolation=cv2.INTER_AREA))
        tiles.append(np.full((height, 4, 3), 255, np.uint8))
    return np.hstack(tiles[:-1])


def training_figure(
    log_rows: Sequence[dict[str, str]],
    val_rows: Sequence[dict[str, str]],
    samples: Sequence[dict[str, np.ndarray]],
    metric: str = "SAD",
) -> np.ndarray:
    """The whole figure as uint8 RGB (see the module docstring).

    Args:
        log_rows: Rows of ``log.csv`` (``step``, ``loss`` as strings).
        val_rows: Rows of ``val.csv`` (``step`` and the metric).
        samples: Dicts with ``image``, ``trimap``, ``alpha``, ``prediction``.
        metric: The validation column to plot.
    """
    steps = [float(r["step"]) for r in log_rows]
    loss = [float(r["loss"]) for r in log_rows]
    window = max(1, len(loss) // 20)
    loss_chart = line_chart(
        "training loss (light: per step, dark: running mean)",
        [(steps, loss, LIGHT), (steps, running_mean(loss, window), DARK)],
    )
    val_steps = [float(r["step"]) for r in val_rows]
    values = [float(r.get(metric, "nan") or "nan") for r in val_rows]
    val_chart = line_chart(f"validation {metric}", [(val_steps, values, RED)])
    top = np.hstack([loss_chart, val_chart])
    rows = [top]
    if samples:
        header = np.full((26, top.shape[1], 3), 255, np.uint8)
        _text(header, "samples: image | trimap | ground truth | prediction", (MARGIN, 18), 0.5)
        rows.append(header)
        for sample in samples:
            strip = sample_row(sample)
            if strip.shape[1] > top.shape[1]:
                scale = top.shape[1] / strip.shape[1]
                new_height = max(1, math.floor(strip.shape[0] * scale))
                strip = cv2.resize(strip, (top.shape[1], new_height), interpolation=cv2.INTER_AREA)
            padded = np.full((strip.shape[0] + 6, top.shape[1], 3), 255, np.uint8)
            padded[3:3 + strip.shape[0], :strip.shape[1]] = strip
            rows.append(padded)
    return np.vstack(rows)


def write_training_figure(
    path: str | Path,
    log_rows: Sequence[dict[str, str]],
    val_rows: Sequence[dict[str, str]],
    samples: Sequence[dict[str, np.ndarray]],
    metric: str = "SAD",
) -> Path:
    """Draw :func:`training_figure` and write it as a PNG atomically."""
    figure = training_figure(log_rows, val_rows, samples, metric)
    ok, data = cv2.imencode(".png", cv2.cvtColor(figure, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - PNG encoding of uint8 RGB does not fail
        raise RuntimeError("could not encode the training figure")
    return atomic_write_bytes(path, data.tobytes())
