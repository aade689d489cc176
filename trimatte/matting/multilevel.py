"""Exact closed-form solves too large for one sparse factorisation.

A complete LU factor of a closed-form system grows faster than the system (SuperLU
needs more than the free memory at ~3 M unknowns, a 28 MP photo with a 10 % band).
For such systems :func:`solve_large` keeps the exact energy and the same stopping
rule (relative residual ``<= rtol``) but changes how it gets there:

* a *coarse-to-fine initial guess*: the matte solved at half the size (recursively,
  by :func:`trimatte.matting.closed_form.closed_form_alpha`), upsampled bilinearly,
  which leaves mostly fine-scale error for the iteration;
* conjugate gradients preconditioned by *block Jacobi*: the free pixels are grouped by
  ``block x block`` image tiles and each tile's diagonal block of the system is
  factorised on its own (SuperLU, float32), so the factors stay small (they grow with
  the tile, not with the band) and are built one at a time.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

LOGGER = logging.getLogger("trimatte.matting.closed_form")

#: Free pixels above which :func:`trimatte.matting.closed_form.closed_form_alpha`
#: uses :func:`solve_large` instead of one complete factorisation.
DIRECT_LIMIT = 1_000_000
#: Side of the image tiles whose pixels form one block of the preconditioner.
BLOCK = 256
#: CG iteration cap of the block-Jacobi solve.
MAX_ITERATIONS = 2000


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
                free_flat: np.ndarray, width: int, *, rtol: float = 1e-6,
                block: int = BLOCK) -> tuple[np.ndarray, int, float]:
    """Solve ``A x = b`` by block-Jacobi preconditioned CG from ``start``.

    Args:
        matrix: float64 CSR ``(n, n)``, symmetric positive definite.
        rhs: float64 ``(n,)``.
        start: float64 ``(n,)`` initial guess (e.g. a coarse solution).
        free_flat: int ``(n,)`` flat pixel index of each unknown (to form the blocks).
        width: Image width.
        rtol: Stop when ``|b - A x| <= rtol |b|``.
        block: Tile side of the preconditioner's blocks.

    Returns:
        ``(x, iterations, relative residual)``.
    """
    from trimatte.matting.closed_form import _pcg

    norm_b = float(np.linalg.norm(rhs))
    if norm_b == 0:
        return np.zeros_like(rhs), 0, 0.0
    residual = rhs - matrix @ start
    norm_r = float(np.linalg.norm(residual))
    if norm_r <= rtol * norm_b:
        return start, 0, norm_r / norm_b
    preconditioner = block_jacobi(matrix, tile_groups(free_flat, width, block))
    # CG on the correction; its relative residual is measured against |b - A start|.
    delta, iterations, relative = _pcg(matrix, residual, preconditioner,
                                       rtol * norm_b / norm_r, MAX_ITERATIONS)
    return start + delta, iterations, relative * norm_r / norm_b
