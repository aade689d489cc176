"""A slow, literal second implementation of the DIM matting metrics, for tests only.

Written independently of :mod:`trimatte.metrics` and deliberately in a different
style: plain Python loops over pixels, MATLAB's 1-based kernel construction, a 2-D
(non-separable) convolution with explicit border replication, a hand-written
breadth-first search for 4-connected components scanned in MATLAB's column-major
order, and explicit ``np.float32`` scalars wherever the MATLAB code works in
``single``. Inputs are 8-bit codes (0..255), as the MATLAB code reads them from PNG.
Only usable on small images.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

F32 = np.float32


def _codes(array) -> list[list[int]]:
    return [[int(v) for v in row] for row in np.asarray(array)]


def _unknown(trimap) -> list[list[bool]]:
    return [[int(v) == 128 for v in row] for row in np.asarray(trimap)]


def ref_sad(pred, gt, trimap) -> float:
    """sum over unknown of |pred - gt| / 255, then / 1000."""
    p, g, u = _codes(pred), _codes(gt), _unknown(trimap)
    total = 0.0
    for y in range(len(p)):
        for x in range(len(p[0])):
            if u[y][x]:
                total += abs(p[y][x] - g[y][x]) / 255.0
    return total / 1000.0


def ref_mse(pred, gt, trimap) -> float:
    """sum over unknown of ((pred - gt) / 255)^2 divided by the number of unknown pixels."""
    p, g, u = _codes(pred), _codes(gt), _unknown(trimap)
    total, count = 0.0, 0
    for y in range(len(p)):
        for x in range(len(p[0])):
            if u[y][x]:
                total += ((p[y][x] - g[y][x]) / 255.0) ** 2
                count += 1
    return total / count if count else math.nan


def ref_mat2gray(image: list[list[float]]) -> list[list[float]]:
    """MATLAB mat2gray: (A - min) / (max - min); constant input kept, clipped to [0, 1]."""
    lo = min(min(row) for row in image)
    hi = max(max(row) for row in image)
    out = []
    for row in image:
        if hi == lo:
            out.append([min(max(v, 0.0), 1.0) for v in row])
        else:
            out.append([min(max((v - lo) / (hi - lo), 0.0), 1.0) for v in row])
    return out


def _gauss(x: float, sigma: float) -> float:
    return math.exp(-x * x / (2 * sigma * sigma)) / (sigma * math.sqrt(2 * math.pi))


def _dgauss(x: float, sigma: float) -> float:
    return -x * _gauss(x, sigma) / (sigma * sigma)


def ref_kernel_x(sigma: float = 1.4) -> list[list[float]]:
    """gaussgradient's x kernel: hx(i, j) = gauss(i - half - 1) * dgauss(j - half - 1)."""
    epsilon = 1e-2
    half = math.ceil(sigma * math.sqrt(-2 * math.log(math.sqrt(2 * math.pi) * sigma * epsilon)))
    size = 2 * half + 1
    hx = [[0.0] * size for _ in range(size)]
    for i in range(1, size + 1):
        for j in range(1, size + 1):
            hx[i - 1][j - 1] = _gauss(i - half - 1, sigma) * _dgauss(j - half - 1, sigma)
    norm = math.sqrt(sum(v * v for row in hx for v in row))
    return [[v / norm for v in row] for row in hx]


def ref_conv_replicate(image: list[list[float]], kernel: list[list[float]]) -> list[list[float]]:
    """imfilter(image, kernel, 'replicate', 'conv'): out(y,x) = sum k(a,b) I(y-a, x-b)."""
    h, w = len(image), len(image[0])
    half = len(kernel) // 2
    out = [[0.0] * w for _ in range(h)]
    for y in range(h):
        for x in range(w):
            acc = 0.0
            for a in range(-half, half + 1):
                for b in range(-half, half + 1):
                    yy = min(max(y - a, 0), h - 1)
                    xx = min(max(x - b, 0), w - 1)
                    acc += kernel[a + half][b + half] * image[yy][xx]
            out[y][x] = acc
    return out


def _amplitude(codes: list[list[int]]) -> list[list[np.float32]]:
    image = ref_mat2gray([[float(v) for v in row] for row in codes])
    hx = ref_kernel_x(1.4)
    hy = [list(col) for col in zip(*hx, strict=True)]
    gx = ref_conv_replicate(image, hx)
    gy = ref_conv_replicate(image, hy)
    return [
        [F32(math.sqrt(gx[y][x] ** 2 + gy[y][x] ** 2)) for x in range(len(image[0]))]
        for y in range(len(image))
    ]


def ref_gradient(pred, gt, trimap) -> float:
    """sum over unknown of (single(|grad pred|) - single(|grad gt|))^2, then / 1000."""
    u = _unknown(trimap)
    pa, ga = _amplitude(_codes(pred)), _amplitude(_codes(gt))
    total = 0.0
    for y in range(len(u)):
        for x in range(len(u[0])):
            if u[y][x]:
                total += float((pa[y][x] - ga[y][x]) ** 2)
    return total / 1000.0


def ref_largest_component(mask: list[list[bool]]) -> set[tuple[int, int]]:
    """Largest 4-connected component; components are found in column-major scan order and
    the first of equally large ones wins (MATLAB bwconncomp + max)."""
    h, w = len(mask), len(mask[0])
    seen: set[tuple[int, int]] = set()
    best: set[tuple[int, int]] = set()
    for x in range(w):  # column-major: x outer, y inner
        for y in range(h):
            if not mask[y][x] or (y, x) in seen:
                continue
            component = {(y, x)}
            seen.add((y, x))
            queue = deque([(y, x)])
            while queue:
                cy, cx = queue.popleft()
                for ny, nx in ((cy - 1, cx), (cy + 1, cx), (cy, cx - 1), (cy, cx + 1)):
                    if 0 <= ny < h and 0 <= nx < w and mask[ny][nx] and (ny, nx) not in seen:
                        seen.add((ny, nx))
                        component.add((ny, nx))
                        queue.append((ny, nx))
            if len(component) > len(best):
                best = component
    return best


def ref_connectivity(pred, gt, trimap, step: float = 0.1) -> float:
    """compute_connectivity_error with single-precision alpha, then / 1000."""
    p = [[F32(v) / F32(255) for v in row] for row in _codes(pred)]
    g = [[F32(v) / F32(255) for v in row] for row in _codes(gt)]
    u = _unknown(trimap)
    h, w = len(p), len(p[0])
    n = math.floor(1 / step + 1e-10) + 1
    thresholds = [F32(k * step) for k in range(n)]  # single() of MATLAB's 0:step:1
    l_map = [[-1.0] * w for _ in range(h)]
    for ii in range(1, n):
        t = thresholds[ii]
        both = [[p[y][x] >= t and g[y][x] >= t for x in range(w)] for y in range(h)]
        omega = ref_largest_component(both)
        for y in range(h):
            for x in range(w):
                if l_map[y][x] == -1.0 and (y, x) not in omega:
                    l_map[y][x] = thresholds[ii - 1]
    total = 0.0
    for y in range(h):
        for x in range(w):
            level = F32(1.0) if l_map[y][x] == -1.0 else F32(l_map[y][x])
            pd = p[y][x] - level
            gd = g[y][x] - level
            p_phi = F32(1.0) - (pd if pd >= F32(0.15) else F32(0.0))
            g_phi = F32(1.0) - (gd if gd >= F32(0.15) else F32(0.0))
            if u[y][x]:
                total += float(abs(p_phi - g_phi))
    return total / 1000.0
