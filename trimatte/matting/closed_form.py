"""Closed-form matting (Levin, Lischinski & Weiss 2008) solved on the unknown band only.

The matte minimises ``alpha^T L alpha + lambda_ * sum_known (alpha_i - t_i)^2`` where
``L`` is the matting Laplacian (:mod:`trimatte.matting.laplacian`) and ``t`` the
trimap (0 or 1 on known pixels).  Only a thin set of pixels is free:

* every unknown pixel, plus
* with a finite ``lambda_``, the known pixels that share a window with an unknown
  one (the only known pixels whose soft constraint can move the unknown ones
  directly); known pixels farther away are held at their trimap value.

``lambda_ = math.inf`` gives hard constraints (every known pixel fixed), the
formulation of pymatting's ``estimate_alpha_cf``.

The sparse SPD system is solved by conjugate gradients in float64, preconditioned
by a complete sparse LU factorisation (SuperLU) computed in float32: the factor is
~2x cheaper than a float64 one and CG removes its rounding error in a few iterations.
The unknowns are ordered by minimum degree (SuperLU's own) on small systems and by
nested dissection (:mod:`trimatte.matting.ordering`) above
:data:`~trimatte.matting.ordering.NESTED_DISSECTION_ABOVE` free pixels; a system
whose factor is not planned to fit in memory
(:func:`~trimatte.matting.multilevel.direct_fits`) is solved by block-Jacobi CG
(:func:`~trimatte.matting.multilevel.solve_large`).  If the factorisation fails (a
singular or badly conditioned matrix) the solver falls back to a float64 factor and then to a
Jacobi-preconditioned CG, logging each fallback on the ``trimatte.matting.closed_form``
logger.  Known pixels of the result are exactly 0 or 1 and the matte is clipped to
[0, 1].
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from trimatte.errors import InputError, TrimapError
from trimatte.image import BACKGROUND, FOREGROUND, UNKNOWN, as_image, as_trimap
from trimatte.matting import cholesky, multilevel, ordering
from trimatte.matting.laplacian import (
    _box_any,
    check_laplacian_parameters,
    laplacian_stencil,
    stencil_columns,
)

LOGGER = logging.getLogger("trimatte.matting.closed_form")

Preconditioner = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SolveReport:
    """How a linear solve went (for logging and benchmarks).

    Attributes:
        method: ``"cholmod"``, ``"lu32"``, ``"lu64"``, ``"jacobi"`` or (systems whose complete
            factor does not fit, :func:`trimatte.matting.multilevel.direct_fits`)
            ``"block-jacobi"``: the preconditioner used (``"none"`` when the
            right-hand side is zero and nothing was solved).
        iterations: CG iterations.
        residual: Final relative residual ``|b - A x| / |b|``.
        converged: Whether ``residual <= rtol``.
    """

    method: str
    iterations: int
    residual: float
    converged: bool


def closed_form_alpha(image: np.ndarray, trimap: np.ndarray, *, epsilon: float = 1e-7,
                      window_radius: int = 1, lambda_: float = 100.0, rtol: float = 1e-6,
                      ) -> np.ndarray:
    """Alpha matte of ``image`` given ``trimap`` by closed-form matting.

    Args:
        image: ``(H, W, 3)`` RGB, float32 in [0, 1] (uint8/uint16 are scaled).
        trimap: uint8 ``(H, W)`` with 0 = background, 128 = unknown, 255 = foreground.
        epsilon: Regulariser of the local colour-line model (``1e-7`` as in the paper;
            larger values give smoother mattes and faster solves).
        window_radius: ``r``; the local windows are ``(2r+1) x (2r+1)``.
        lambda_: Weight of the trimap constraints on known pixels next to the unknown
            region; ``math.inf`` makes every known pixel a hard constraint.
        rtol: Relative residual at which the conjugate-gradient solve stops.

    Returns:
        float32 ``(H, W)`` alpha in [0, 1]; exactly 0 / 1 on trimap background /
        foreground.  A trimap without unknown pixels returns its foreground mask.

    Raises:
        InputError: Malformed image or parameters.
        TrimapError: The trimap is malformed, its size differs from the image's, or
            it has unknown pixels but no foreground or no background.
    """
    image = as_image(image, "image")
    trimap = as_trimap(trimap, "trimap")
    if trimap.shape != image.shape[:2]:
        raise TrimapError(
            f"size {trimap.shape[1]}x{trimap.shape[0]} (WxH) does not match the image's "
            f"{image.shape[1]}x{image.shape[0]}",
            "trimap",
        )
    eps, r = check_laplacian_parameters(epsilon, window_radius)
    weight = _check_positive(lambda_, "lambda_", allow_inf=True)
    rtol = _check_positive(rtol, "rtol", allow_inf=False)

    foreground = trimap == FOREGROUND
    unknown = trimap == UNKNOWN
    alpha = foreground.astype(np.float32)
    if not unknown.any():
        return alpha
    if not foreground.any():
        raise TrimapError("has no foreground (255) pixels; nothing to propagate", "trimap")
    if not (trimap == BACKGROUND).any():
        raise TrimapError("has no background (0) pixels; nothing to propagate", "trimap")

    started = time.perf_counter()
    free = free_pixels(unknown, r, weight)
    free_flat = np.flatnonzero(free)
    params = {"epsilon": eps, "window_radius": r, "lambda_": weight, "rtol": rtol}
    # the stencil has at most (4r + 1)^2 entries per row
    large = not multilevel.direct_fits(free_flat.size, (4 * r + 1) ** 2 * free_flat.size)
    coarse = _coarse_alpha(image, trimap, **params) if large else None
    matrix, rhs = constrained_system(image, trimap, free, eps, r, weight)
    del free
    permc_spec = "MMD_AT_PLUS_A"
    if not large and free_flat.size > ordering.NESTED_DISSECTION_ABOVE:
        order = ordering.nested_dissection_order(free_flat, trimap.shape, r)
        if order is not None:  # solve in that order; CHOLMOD and SuperLU then keep it
            matrix = ordering.permute_symmetric(matrix, order)
            rhs, free_flat, permc_spec = rhs[order], free_flat[order], "NATURAL"
    assembled = time.perf_counter()
    # Solve for the correction to the trimap's own guess (0/1 on the softly
    # constrained known pixels): otherwise the large lambda_ * t part of the
    # right-hand side would make a relative residual meaningless for the unknowns.
    guess = alpha.reshape(-1)[free_flat].astype(np.float64)
    rhs -= matrix @ guess
    if not large:
        try:
            correction, report = solve_spd(matrix, rhs, rtol=rtol, permc_spec=permc_spec,
                                           memory_fallback=False)
        except MemoryError as exc:
            LOGGER.warning("closed-form: the complete factorisation ran out of memory (%s); "
                           "solving by block-Jacobi CG instead (much slower)", exc)
            large = True
    if large:
        if coarse is None:
            coarse = _coarse_alpha(image, trimap, **params)
        start = (np.zeros_like(guess) if coarse is None
                 else coarse.reshape(-1)[free_flat] - guess)
        del coarse
        correction, iterations, residual = multilevel.solve_large(
            matrix, rhs, start, free_flat, image.shape[1], _pcg, rtol=rtol)
        report = SolveReport("block-jacobi", iterations, residual, residual <= rtol)
        if not report.converged:
            LOGGER.warning("closed-form: block-Jacobi CG stopped at residual %.1e after %d "
                           "iterations; the matte may be inaccurate", residual, iterations)
    solution = guess + correction
    LOGGER.info(
        "closed-form %dx%d: %d free pixels, %d nonzeros, assembly %.2fs, solve %.2fs "
        "(%s, %d iterations, residual %.1e)",
        image.shape[1], image.shape[0], rhs.size, matrix.nnz, assembled - started,
        time.perf_counter() - assembled, report.method, report.iterations, report.residual,
    )
    alpha.reshape(-1)[free_flat] = solution
    np.clip(alpha, 0.0, 1.0, out=alpha)
    alpha[foreground] = 1.0
    alpha[trimap == BACKGROUND] = 0.0
    return alpha


def _coarse_alpha(image: np.ndarray, trimap: np.ndarray, **params: float) -> np.ndarray | None:
    """The matte solved at half the size and upsampled (None when the half-size trimap
    has lost its foreground or background)."""
    shape = ((trimap.shape[0] + 1) // 2, (trimap.shape[1] + 1) // 2)
    small_image, small_trimap = multilevel.downscale_inputs(image, trimap, shape)
    try:
        small = closed_form_alpha(small_image, small_trimap, **params)
    except TrimapError:
        return None
    return multilevel.upsample_alpha(small, trimap)


def _check_positive(value: float, name: str, *, allow_inf: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be a number, got {value!r}", name) from exc
    if math.isnan(number) or number <= 0 or (math.isinf(number) and not allow_inf):
        raise InputError(f"must be a positive {'' if allow_inf else 'finite '}number, "
                         f"got {value!r}", name)
    return number


def free_pixels(unknown: np.ndarray, window_radius: int, lambda_: float) -> np.ndarray:
    """Pixels whose alpha is solved for: the unknown ones, plus (finite ``lambda_``)
    the known ones sharing a window with an unknown pixel.

    Args:
        unknown: bool ``(H, W)``.
        window_radius: ``r``.
        lambda_: Constraint weight; ``inf`` means hard constraints.

    Returns:
        bool ``(H, W)``.
    """
    if math.isinf(lambda_):
        return unknown.copy()
    return _box_any(unknown, 2 * window_radius)


def constrained_system(image: np.ndarray, trimap: np.ndarray, free: np.ndarray,
                       epsilon: float, window_radius: int, lambda_: float,
                       fixed: np.ndarray | None = None,
                       ) -> tuple[scipy.sparse.csr_matrix, np.ndarray]:
    """The SPD system ``A x = b`` for the alpha of the ``free`` pixels.

    ``A = L_FF + lambda_ * D`` and ``b = -L_FC t_C + lambda_ * D t`` where ``F`` are
    the free pixels, ``C`` the fixed (not free) ones, ``t`` the trimap as 0/1 and
    ``D`` selects the known free pixels (none when ``lambda_`` is infinite).  With
    ``fixed`` given, the fixed pixels take its values instead of ``t`` (a Dirichlet
    boundary, e.g. the current matte around a patch being re-solved); the soft
    constraints still pull known free pixels to ``t``.

    Args:
        image: float ``(H, W, 3)``.
        trimap: uint8 ``(H, W)``.
        free: bool ``(H, W)``, normally from :func:`free_pixels`; unknown pixels
            left out of it are held at 0.
        epsilon, window_radius: Laplacian parameters.
        lambda_: Constraint weight (``inf`` for hard constraints).
        fixed: Optional float ``(H, W)`` alpha of the fixed pixels (only read there).

    Returns:
        ``(A, b)``: float64 CSR ``(n, n)`` and float64 ``(n,)`` with
        ``n = free.sum()``, in the order of ``np.flatnonzero(free)``.
    """
    height, width = free.shape
    free_flat = np.flatnonzero(free)
    n = free_flat.size
    values = laplacian_stencil(image, free, epsilon, window_radius)
    columns, inside = stencil_columns(free_flat, (height, width), window_radius)
    columns[~inside] = 0
    index = np.full(height * width, -1, dtype=np.int64)
    index[free_flat] = np.arange(n)
    column_index = index[columns]
    in_system = inside & (column_index >= 0) & (values != 0)
    is_foreground = trimap.reshape(-1) == FOREGROUND
    target = is_foreground.astype(np.float64)
    is_fixed = inside & (column_index < 0)
    if fixed is None:
        fixed_value = is_foreground[columns] & is_fixed
    else:
        fixed_value = np.where(is_fixed, np.asarray(fixed, np.float64).reshape(-1)[columns], 0.0)
    rhs = -np.einsum("ij,ij->i", values, fixed_value)
    if not math.isinf(lambda_):
        known = trimap.reshape(-1)[free_flat] != UNKNOWN
        centre = values.shape[1] // 2
        values[known, centre] += lambda_
        rhs[known] += lambda_ * target[free_flat[known]]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(in_system.sum(axis=1), out=indptr[1:])
    matrix = scipy.sparse.csr_matrix(
        (values[in_system], column_index[in_system], indptr), shape=(n, n)
    )
    return matrix, rhs


def solve_spd(matrix: scipy.sparse.csr_matrix, rhs: np.ndarray, *, rtol: float = 1e-6,
              max_iterations: int = 200, permc_spec: str = "MMD_AT_PLUS_A",
              memory_fallback: bool = True) -> tuple[np.ndarray, SolveReport]:
    """Solve a sparse symmetric positive (semi)definite system, robustly.

    Tries, in order, preconditioned CG with (0) a float64 sparse Cholesky factor
    (CHOLMOD, when ``cvxopt`` is installed: CG then stops after one step), (1) a
    float32 sparse LU factor (SuperLU), (2) a float64 sparse LU factor, (3) the
    Jacobi preconditioner; each fallback is logged with the reason.  The last attempt
    returns its best iterate even when it does not reach ``rtol`` (with a warning in
    the log).  A float32 LU factorisation that runs out of memory skips the (larger)
    float64 one.

    Args:
        matrix: float64 CSR ``(n, n)``.
        rhs: float64 ``(n,)``.
        rtol: Stop when ``|b - A x| <= rtol |b|``.
        max_iterations: CG iteration cap with an LU preconditioner (Jacobi gets 50x).
        permc_spec: SuperLU's column ordering: ``"MMD_AT_PLUS_A"`` (minimum degree),
            or ``"NATURAL"`` for a system already put in a fill-reducing order
            (:func:`trimatte.matting.ordering.nested_dissection_order`).
        memory_fallback: When False, a factorisation that runs out of memory raises
            :class:`MemoryError` instead of falling back to Jacobi-preconditioned CG
            (which needs thousands of iterations on a large system).

    Returns:
        ``(x, report)``.

    Raises:
        MemoryError: Only with ``memory_fallback=False``.
    """
    if not np.any(rhs):
        return np.zeros_like(rhs), SolveReport("none", 0, 0.0, True)
    attempts = [(None, "cholmod")] if cholesky.available() else []
    attempts += [(np.float32, "lu32"), (np.float64, "lu64")]
    for dtype, method in attempts:
        try:
            if dtype is None:
                preconditioner = cholesky.cholmod_solver(matrix,
                                                         natural=permc_spec == "NATURAL")
            else:
                preconditioner = _lu_preconditioner(matrix, dtype, permc_spec=permc_spec)
        except MemoryError as exc:
            if dtype is np.float32 and not memory_fallback:
                raise
            LOGGER.warning("closed-form: %s factorisation failed (%s); falling back", method, exc)
            if dtype is np.float32:
                break
            continue
        except (RuntimeError, ArithmeticError, ValueError) as exc:
            # CHOLMOD: "not positive definite" on a singular matrix; SuperLU: "exactly
            # singular"; both are logged at the level their consequence deserves
            level = logging.INFO if dtype is None else logging.WARNING
            LOGGER.log(level, "closed-form: %s factorisation failed (%s); falling back",
                       method, exc)
            continue
        x, iterations, residual = _pcg(matrix, rhs, preconditioner, rtol, max_iterations)
        if residual <= rtol:
            return x, SolveReport(method, iterations, residual, True)
        LOGGER.warning(
            "closed-form: CG with the %s preconditioner stalled at residual %.1e after %d "
            "iterations (ill-conditioned system); falling back", method, residual, iterations,
        )
    diagonal = matrix.diagonal()
    inverse_diagonal = np.divide(1.0, diagonal, out=np.ones_like(diagonal), where=diagonal > 0)
    x, iterations, residual = _pcg(
        matrix, rhs, lambda v: v * inverse_diagonal, rtol, 50 * max_iterations
    )
    converged = residual <= rtol
    if not converged:
        LOGGER.warning(
            "closed-form: Jacobi-preconditioned CG stopped at residual %.1e after %d "
            "iterations; the matte may be inaccurate", residual, iterations,
        )
    return x, SolveReport("jacobi", iterations, residual, converged)


def _lu_preconditioner(matrix: scipy.sparse.csr_matrix, dtype: type, *,
                       permc_spec: str = "MMD_AT_PLUS_A") -> Preconditioner:
    """``v -> A^-1 v`` from a SuperLU factor of ``A`` computed in ``dtype``.

    The symmetric mode with a symmetric ordering (minimum degree on ``A + A^T``, or
    the matrix's own order with ``permc_spec="NATURAL"``) and diagonal pivots keeps
    the fill of an SPD matrix low.

    Raises:
        RuntimeError: SuperLU found the matrix exactly singular.
    """
    # ``A`` is symmetric, so its CSR arrays are also its CSC arrays: share the index
    # arrays instead of converting (saves time and a copy during the factorisation).
    transposed = scipy.sparse.csc_matrix(
        (matrix.data.astype(dtype), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    factor = scipy.sparse.linalg.splu(
        transposed,
        permc_spec=permc_spec,
        diag_pivot_thresh=0.0,
        options={"SymmetricMode": True},
    )
    # A factor that is not finite (numerically singular matrix) makes CG stall at
    # its first step, which :func:`solve_spd` treats as a failure and falls back.
    def apply(vector: np.ndarray) -> np.ndarray:
        return factor.solve(vector.astype(dtype)).astype(np.float64)

    return apply


def _pcg(matrix: scipy.sparse.csr_matrix, rhs: np.ndarray, preconditioner: Preconditioner,
         rtol: float, max_iterations: int) -> tuple[np.ndarray, int, float]:
    """Preconditioned conjugate gradients from ``x = 0``.

    Returns:
        ``(x, iterations, relative residual)``; ``x`` is the iterate with the smallest
        residual seen (CG residuals are not monotone).
    """
    norm_b = float(np.linalg.norm(rhs))
    x = np.zeros_like(rhs)
    residual = rhs.copy()
    best_x, best = x.copy(), 1.0
    z = preconditioner(residual)
    direction = z.copy()
    rz = float(residual @ z)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        product = matrix @ direction
        curvature = float(direction @ product)
        if not curvature > 0 or not np.isfinite(curvature):
            break
        step = rz / curvature
        x += step * direction
        residual -= step * product
        relative = float(np.linalg.norm(residual)) / norm_b
        if relative < best:
            best, best_x = relative, x.copy()
        if relative <= rtol:
            break
        z = preconditioner(residual)
        rz_next = float(residual @ z)
        if not np.isfinite(rz_next):
            break
        direction *= rz_next / rz
        direction += z
        rz = rz_next
    return best_x, iterations, best
