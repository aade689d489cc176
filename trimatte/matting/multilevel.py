"""Exact closed-form solves too large for one sparse factorisation.

A complete LU factor of a closed-form system grows faster than the system: with a
nested-dissection ordering a 24 MP photo with a 10 % band (2.5 M unknowns) needs
about 8 GB.  :func:`direct_fits` plans whether it fits in the available memory.
For systems that do not, :func:`solve_large` keeps the exact energy and the same
stopping rule (relative residual ``<= rtol``) but changes how it gets there (it is
much slower: hundreds of CG iterations):

* a *coarse-to-fine initial guess*: the matte solved at half the size (recursively,
  by :func:`trimatte.matting.closed_form.closed_form_alpha`), upsampled bilinearly,
  which leaves mostly fine-scale error for the iteration;
* conjugate gradients preconditioned by *block Jacobi*: the free pixels are grouped by
  ``block x block`` image tiles and each tile's diagonal block of the system is
  factorised on its own (SuperLU, float32), so the factors stay small (they grow with
  the tile, not with the band) and are built one at a time.

It also holds the resampling between a full-resolution image and a smaller level
(area downscaling of image and trimap, tile-wise bilinear upsampling of a matte) that
the coarse guess and :mod:`trimatte.matting.refine` share.
"""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN

LOGGER = logging.getLogger("trimatte.matting.closed_form")

#: Free pixels above which :func:`trimatte.matting.closed_form.closed_form_alpha`
#: uses :func:`solve_large` instead of one complete factorisation, whatever the memory.
#: SuperLU counts its factor's entries in 32-bit integers, which caps it near 4 M
#: unknowns of a band (fill about 330 entries per unknown, see :func:`factor_bytes`).
DIRECT_LIMIT = 4_000_000
#: Share of the available memory a complete factorisation may plan to use.
MEMORY_SHARE = 0.8
#: Side of the image tiles whose pixels form one block of the preconditioner.
BLOCK = 256
#: CG iteration cap of the block-Jacobi solve.
MAX_ITERATIONS = 2000
#: Side of the tiles used by the full-resolution upsampling passes.
_TILE = 512

Box = tuple[int, int, int, int]  # (y0, x0, y1, x1), half-open


def factor_bytes(unknowns: int, nonzeros: int) -> int:
    """Planned peak memory (bytes) of a complete float32 factorisation of a band system.

    The fill of a nested-dissection factor of a thin band grows like ``n log n``;
    measured on AM-2k bands: 193 entries of ``L + U`` per unknown at 83 k unknowns,
    320 at 2.5 M (807 M entries, 7.8 GB peak with the system itself).  The estimate is
    that fit, at 7 bytes per entry, times 1.5 for bands thicker than those, plus three
    copies of the system (float64, its permutation, its float32 copy).

    Args:
        unknowns: ``n``, the free pixels.
        nonzeros: Entries of the system matrix.
    """
    fill = max(200.0, 37.2 * np.log(max(unknowns, 2)) - 229.0)
    return int(1.5 * 7 * fill * unknowns + 3 * 12 * nonzeros)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def direct_fits(unknowns: int, nonzeros: int) -> bool:
    """Whether one complete factorisation of the system is planned to fit in memory.

    False above :data:`DIRECT_LIMIT` unknowns, or when :func:`factor_bytes` exceeds
    :data:`MEMORY_SHARE` of :func:`available_memory` (when that is known).
    """
    if unknowns > DIRECT_LIMIT:
        return False
    available = available_memory()
    return available is None or factor_bytes(unknowns, nonzeros) <= MEMORY_SHARE * available


def downscale_inputs(image: np.ndarray, trimap: np.ndarray, shape: tuple[int, int],
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Area-downscale ``image`` and ``trimap`` to ``shape``.

    A base pixel is known only when every full-resolution pixel it covers is known
    with the same value, so the base unknown region covers the full one.

    Returns:
        float32 ``(h, w, 3)`` image and uint8 ``(h, w)`` trimap.
    """
    height, width = shape
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    small_trimap = np.full((height, width), UNKNOWN, np.uint8)
    for value in (FOREGROUND, BACKGROUND):
        share = cv2.resize((trimap == value).view(np.uint8).astype(np.float32), (width, height),
                           interpolation=cv2.INTER_AREA)
        small_trimap[share >= 1.0 - 1e-6] = value
    return small.astype(np.float32, copy=False), small_trimap


def tile_boxes(shape: tuple[int, int], size: int) -> list[Box]:
    """The ``size x size`` grid tiles of ``shape`` (smaller at the right/bottom edges)."""
    height, width = shape
    return [(y, x, min(y + size, height), min(x + size, width))
            for y in range(0, height, size) for x in range(0, width, size)]


def resample_box(small: np.ndarray, shape: tuple[int, int], box: Box) -> np.ndarray:
    """Bilinear upsampling of ``small`` to ``shape``, evaluated on ``box`` only.

    Gives the same values as resizing the whole array (pixel centres aligned as in
    ``cv2.resize``), with memory proportional to the box.

    Returns:
        float32 ``(y1 - y0, x1 - x0[, C])``.
    """
    y0, x0, y1, x1 = box
    sy, sx = small.shape[0] / shape[0], small.shape[1] / shape[1]
    map_x = ((np.arange(x0, x1, dtype=np.float32) + 0.5) * sx - 0.5)[None, :]
    map_y = ((np.arange(y0, y1, dtype=np.float32) + 0.5) * sy - 0.5)[:, None]
    map_x, map_y = np.broadcast_arrays(map_x, map_y)
    return cv2.remap(np.ascontiguousarray(small, np.float32), np.ascontiguousarray(map_x),
                     np.ascontiguousarray(map_y), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def upsample_alpha(small_alpha: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Full-resolution matte from a base one: bilinear on unknown pixels, trimap elsewhere.

    Returns:
        float32 ``trimap.shape``, exactly 0/1 on known pixels.
    """
    alpha = (trimap == FOREGROUND).astype(np.float32)
    for box in tile_boxes(trimap.shape, _TILE):
        y0, x0, y1, x1 = box
        unknown = trimap[y0:y1, x0:x1] == UNKNOWN
        if unknown.any():
            values = resample_box(small_alpha, trimap.shape, box)
            alpha[y0:y1, x0:x1][unknown] = np.clip(values[unknown], 0.0, 1.0)
    return alpha


def tile_groups(free_flat: np.ndarray, width: int, block: int) -> list[np.ndarray]:
    """Positions (into ``free_flat``) of the free pixels of each ``block`` tile.

    Args:
        free_flat: int ``(n,)`` sorted flat pixel indices of the free pixels.
        width: Image width.
        block: Tile side.

    Returns:
        One sorted int64 array per non-empty tile; together they partition ``range(n)``.
    """
    y, x = np.divmod(free_flat, width)
    tiles = (y // block) * (-(-width // block)) + x // block
    order = np.argsort(tiles, kind="stable")
    cuts = np.flatnonzero(np.diff(tiles[order])) + 1
    return np.split(order, cuts)


def block_jacobi(matrix: scipy.sparse.csr_matrix, groups: list[np.ndarray]):
    """``v -> blockdiag(A)^-1 v`` with one float32 SuperLU factor per group.

    Raises:
        RuntimeError: A block is exactly singular.
    """
    factors = []
    for group in groups:
        sub = matrix[group][:, group].tocsc().astype(np.float32)
        factors.append(scipy.sparse.linalg.splu(
            sub, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
            options={"SymmetricMode": True}))

    def apply(vector: np.ndarray) -> np.ndarray:
        out = np.empty_like(vector)
        for group, factor in zip(groups, factors, strict=True):
            out[group] = factor.solve(vector[group].astype(np.float32))
        return out

    return apply


def solve_large(matrix: scipy.sparse.csr_matrix, rhs: np.ndarray, start: np.ndarray,
                free_flat: np.ndarray, width: int, pcg, *, rtol: float = 1e-6,
                block: int = BLOCK) -> tuple[np.ndarray, int, float]:
    """Solve ``A x = b`` by block-Jacobi preconditioned CG from ``start``.

    Args:
        matrix: float64 CSR ``(n, n)``, symmetric positive definite.
        rhs: float64 ``(n,)``.
        start: float64 ``(n,)`` initial guess (e.g. a coarse solution).
        free_flat: int ``(n,)`` flat pixel index of each unknown (to form the blocks).
        width: Image width.
        pcg: ``(A, b, preconditioner, rtol, max_iterations) -> (x, iterations,
            relative residual)``, preconditioned CG from zero (closed-form's).
        rtol: Stop when ``|b - A x| <= rtol |b|``.
        block: Tile side of the preconditioner's blocks.

    Returns:
        ``(x, iterations, relative residual)``.
    """
    norm_b = float(np.linalg.norm(rhs))
    if norm_b == 0:
        return np.zeros_like(rhs), 0, 0.0
    residual = rhs - matrix @ start
    norm_r = float(np.linalg.norm(residual))
    if norm_r <= rtol * norm_b:
        return start, 0, norm_r / norm_b
    preconditioner = block_jacobi(matrix, tile_groups(free_flat, width, block))
    # CG on the correction; its relative residual is measured against |b - A start|.
    delta, iterations, relative = pcg(matrix, residual, preconditioner,
                                       rtol * norm_b / norm_r, MAX_ITERATIONS)
    return start + delta, iterations, relative * norm_r / norm_b
