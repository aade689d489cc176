"""The rembg-style peer recipe's trimap, shared by the benchmarks that run the peer.

rembg's recipe: U²-Net-p in ONNX Runtime on the image resized to 320x320 (divided by
its maximum, ImageNet-normalised), the mask min-max stretched and resized back, then a
trimap of mask > 240/255 (foreground) and < 10/255 (background), each eroded by 1.5 %
of the long side. The benchmarks then run pymatting's closed-form and foreground
estimation on it.
"""

from __future__ import annotations

import cv2
import numpy as np


def rembg_trimap(session, input_name: str, image: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(mask, trimap, has_both)`` for float32 ``(H, W, 3)`` ``image``.

    ``mask`` float ``(H, W)`` in [0, 1]; ``trimap`` float64 ``(H, W)`` with 0, 0.5, 1
    (pymatting's convention); ``has_both`` is False when the trimap lacks definite
    foreground or background (closed-form matting cannot run on it).
    """
    small = cv2.resize(image, (320, 320), interpolation=cv2.INTER_LINEAR)
    small = small / max(float(small.max()), 1e-6)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    x = ((small - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    mask = session.run(None, {input_name: x})[0][0, 0]
    mask = (mask - mask.min()) / max(float(mask.max() - mask.min()), 1e-6)
    mask = cv2.resize(mask, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    size = max(3, round(0.015 * max(image.shape[:2])))
    kernel = np.ones((size, size), np.uint8)
    fg = cv2.erode((mask > 240 / 255).astype(np.uint8), kernel)
    bg = cv2.erode((mask < 10 / 255).astype(np.uint8), kernel, borderValue=1)
    trimap = np.full(mask.shape, 0.5)
    trimap[fg > 0] = 1.0
    trimap[bg > 0] = 0.0
    return mask, trimap, bool(fg.any() and bg.any())
