"""Subject completion: object selection and saliency-seeded GrabCut."""

from __future__ import annotations

import numpy as np

from trimatte.trimap.completion import complete_subject, seed_labels, select_objects


def scene(size: int = 96):
    """A red head (salient) on a dark body (missed by the 'net') over a light wall."""
    image = np.full((size, size, 3), 0.85, np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    head = np.hypot(yy - 35, xx - 48) <= 16
    body = (yy >= 48) & (yy < 75) & (np.abs(xx - 48) <= 22)
    image[body] = (0.08, 0.08, 0.1)
    image[head] = (0.9, 0.3, 0.2)
    rng = np.random.default_rng(0)
    image = np.clip(image + rng.normal(0, 0.02, image.shape), 0, 1).astype(np.float32)
    saliency = np.where(head, 0.99, 0.01).astype(np.float32)
    return image, saliency, head, body


def test_select_keeps_the_strongest_object() -> None:
    saliency = np.zeros((50, 50), np.float32)
    saliency[5:25, 5:25] = 1.0
    saliency[35:40, 35:40] = 0.7
    selection = select_objects(saliency)
    assert selection.count == 1 and selection.dropped == 1
    assert selection.mask[10, 10] and not selection.mask[37, 37]
    assert 0 < selection.second_strength < 0.1


def test_select_on_nothing() -> None:
    selection = select_objects(np.zeros((20, 20), np.float32))
    assert selection.count == 0 and not selection.mask.any()


def test_seed_labels() -> None:
    import cv2

    _, saliency, head, _ = scene()
    labels = seed_labels(saliency, head, reach=0.1)
    assert labels[35, 48] == cv2.GC_FGD
    assert labels[0, 0] == cv2.GC_BGD
    assert labels[60, 48] == cv2.GC_PR_FGD  # near the head: may join


def test_completion_adds_the_attached_dark_body() -> None:
    image, saliency, head, body = scene()
    mask = complete_subject(image, saliency, head, reach=0.3)
    assert mask[head].all()
    assert mask[body].mean() > 0.9
    assert not mask[:10].any() and not mask[:, :10].any()


def test_completion_never_adds_a_detached_region() -> None:
    image, saliency, head, _ = scene()
    image = image.copy()
    image[5:15, 80:92] = (0.9, 0.3, 0.2)  # head-coloured patch, not attached
    mask = complete_subject(image, saliency, head, reach=0.3)
    assert not mask[5:15, 80:92].any()


def test_no_sure_foreground_returns_the_objects() -> None:
    image, saliency, head, _ = scene()
    weak = saliency * 0.6
    mask = complete_subject(image, weak, head)
    np.testing.assert_array_equal(mask, head)
