"""Hand-checked values of the DIM losses and the trimap cross-entropy."""

from __future__ import annotations

import math

import pytest
import torch

from trimatte.training import losses


def _t(values):
    return torch.tensor(values, dtype=torch.float64).view(1, 1, 1, -1)


def test_unknown_weight():
    trimap = _t([0.0, 128 / 255, 1.0])
    assert losses.unknown_weight(trimap).flatten().tolist() == [0.0, 1.0, 0.0]


def test_alpha_loss_hand_checked():
    # errors 0.3 and 0.0 on unknown pixels, 0.5 on a known one (ignored)
    pred, target, weight = _t([0.8, 0.2, 1.0]), _t([0.5, 0.2, 0.5]), _t([1.0, 1.0, 0.0])
    loss = losses.alpha_prediction_loss(pred, target, weight, eps=1e-6)
    expected = (math.sqrt(0.3**2 + 1e-12) + math.sqrt(1e-12)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-9)


def test_composition_loss_hand_checked():
    # F = white, B = black: composite = alpha in every channel
    pred, target, weight = _t([0.6, 0.1]), _t([0.5, 0.5]), _t([1.0, 1.0])
    fg = torch.ones(1, 3, 1, 2, dtype=torch.float64)
    bg = torch.zeros(1, 3, 1, 2, dtype=torch.float64)
    loss = losses.composition_loss(pred, target, fg, bg, weight, eps=0.0)
    assert float(loss) == pytest.approx((0.1 + 0.4) / 2)
    # F = B: the composite does not depend on alpha, only eps remains
    same = losses.composition_loss(pred, target, fg, fg, weight, eps=1e-6)
    assert float(same) == pytest.approx(1e-6)


def test_dim_loss_is_half_and_half():
    pred, target, weight = _t([0.6, 0.1]), _t([0.5, 0.5]), _t([1.0, 1.0])
    fg = torch.full((1, 3, 1, 2), 0.5, dtype=torch.float64)
    bg = torch.zeros(1, 3, 1, 2, dtype=torch.float64)
    parts = losses.dim_loss(pred, target, fg, bg, weight, eps=0.0)
    assert float(parts["alpha"]) == pytest.approx(0.25)
    assert float(parts["composition"]) == pytest.approx(0.125)
    assert float(parts["loss"]) == pytest.approx(0.5 * 0.25 + 0.5 * 0.125)


def test_losses_are_per_sample_means():
    # sample 0 has 1 unknown pixel with error 0.4; sample 1 has 3 with error 0.1:
    # the loss is the mean of the two sample means, not the pixel mean
    pred = torch.tensor([[0.4, 0.0, 0.0], [0.1, 0.1, 0.1]], dtype=torch.float64).view(2, 1, 1, 3)
    weight = torch.tensor([[1, 0, 0], [1, 1, 1]], dtype=torch.float64).view(2, 1, 1, 3)
    loss = losses.alpha_prediction_loss(pred, torch.zeros_like(pred), weight, eps=0.0)
    assert float(loss) == pytest.approx((0.4 + 0.1) / 2)


def test_sample_without_unknown_pixels_contributes_zero():
    pred = torch.ones(2, 1, 2, 2)
    weight = torch.zeros(2, 1, 2, 2)
    weight[1] = 1
    loss = losses.alpha_prediction_loss(pred, torch.zeros_like(pred), weight, eps=0.0)
    assert float(loss) == pytest.approx(0.5)


def test_loss_gradient_is_finite_at_zero_error():
    pred = torch.full((1, 1, 2, 2), 0.5, requires_grad=True)
    loss = losses.alpha_prediction_loss(pred, pred.detach().clone(), torch.ones(1, 1, 2, 2))
    loss.backward()
    assert torch.isfinite(pred.grad).all()


def test_trimap_cross_entropy_hand_checked():
    logits = torch.zeros(1, 3, 1, 2, dtype=torch.float64)
    logits[0, 2, 0, 0] = math.log(2.0)  # p(fg) = 2/4 at pixel 0; uniform at pixel 1
    target = torch.tensor([[[2, 0]]])
    loss = losses.trimap_cross_entropy(logits, target)
    assert float(loss) == pytest.approx((-math.log(0.5) - math.log(1 / 3)) / 2)
    weighted = losses.trimap_cross_entropy(logits, target, torch.tensor([1.0, 1.0, 3.0],
                                                                        dtype=torch.float64))
    assert float(weighted) == pytest.approx((3 * -math.log(0.5) - math.log(1 / 3)) / 4)
