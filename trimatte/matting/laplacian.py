"""The matting Laplacian of Levin, Lischinski & Weiss (2008), assembled with NumPy.

For every ``(2r+1) x (2r+1)`` window ``w_k`` lying entirely inside the image, with
colour mean ``mu_k`` and covariance ``Sigma_k``, the Laplacian gains, for each pair
of pixels ``i, j`` of the window::

    delta_ij - (1 + (I_i - mu_k)^T (Sigma_k + eps/|w| I_3)^-1 (I_j - mu_k)) / |w|

(``|w| = (2r+1)^2``).  Two pixels interact only when some window contains both,
i.e. when their offset lies in ``[-2r, 2r]^2``; so every row has at most
``(4r+1)^2`` entries and is kept here in *stencil form*: an array ``(rows, (4r+1)^2)``
whose column ``k`` holds the coefficient towards the pixel at offset
:func:`stencil_offsets` ``[k]``.  Assembly is vectorised over windows (processed in
chunks to bound memory) and only windows that touch a chosen set of pixels are
visited, which is what makes solving on a thin unknown band cheap.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from trimatte.errors import InputError
from trimatte.image import as_image

#: Windows processed together during assembly: bounds the temporary memory to
#: about ``chunk * |w|^2 * 8`` bytes (~21 MB for r = 1).
_CHUNK = 1 << 15


def window_offsets(window_radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets ``(dy, dx)`` of a window around its centre, row-major, int64 ``(|w|,)``."""
    side = np.arange(-window_radius, window_radius + 1)
    dy, dx = np.meshgrid(side, side, indexing="ij")
    return dy.ravel(), dx.ravel()


def stencil_offsets(window_radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets ``(dy, dx)`` between two pixels sharing a window, int64 ``((4r+1)^2,)``.

    Column ``k`` of a stencil-form row refers to the pixel ``(y + dy[k], x + dx[k])``;
    the centre column (offset 0, the diagonal) is ``k = ((4r+1)^2 - 1) // 2``.
    """
    return window_offsets(2 * window_radius)


def check_laplacian_parameters(epsilon: float, window_radius: int) -> tuple[float, int]:
    """Validate the regulariser and window radius; return them as ``(float, int)``.

    Raises:
        InputError: ``epsilon`` is not a finite number >= 0 or ``window_radius`` is
            not an integer >= 1.
    """
    try:
        eps = float(epsilon)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be a number, got {epsilon!r}", "epsilon") from exc
    if not np.isfinite(eps) or eps < 0:
        raise InputError(f"must be finite and >= 0, got {epsilon!r}", "epsilon")
    if isinstance(window_radius, bool) or not isinstance(window_radius, (int, np.integer)):
        raise InputError(f"must be an integer, got {window_radius!r}", "window_radius")
    if window_radius < 1:
        raise InputError(f"must be >= 1, got {window_radius}", "window_radius")
    return eps, int(window_radius)


def window_centres(shape: tuple[int, int], window_radius: int,
                   touching: np.ndarray | None = None) -> np.ndarray:
    """Flat indices of the centres of all windows lying entirely inside the image.

    Args:
        shape: ``(H, W)`` of the image.
        window_radius: ``r``.
        touching: Optional bool ``(H, W)`` mask; keep only windows containing at
            least one of its pixels.

    Returns:
        int64 ``(n,)`` sorted flat indices ``y * W + x``.
    """
    height, width = shape
    r = window_radius
    inside = np.zeros((height, width), dtype=bool)
    inside[r:height - r, r:width - r] = True
    if touching is not None:
        inside &= _box_any(touching, r)
    return np.flatnonzero(inside)


def _box_any(mask: np.ndarray, radius: int) -> np.ndarray:
    """True where any pixel of the ``(2 radius + 1)^2`` square around it is set."""
    height, width = mask.shape
    padded = np.zeros((height + 2 * radius, width + 2 * radius), dtype=bool)
    padded[radius:radius + height, radius:radius + width] = mask
    # Separable max filter: first along rows, then along columns.
    rows = np.zeros((height + 2 * radius, width), dtype=bool)
    for dx in range(2 * radius + 1):
        rows |= padded[:, dx:dx + width]
    out = np.zeros((height, width), dtype=bool)
    for dy in range(2 * radius + 1):
        out |= rows[dy:dy + height]
    return out


def window_coefficients(colours: np.ndarray, epsilon: float) -> np.ndarray:
    """Each window's contribution to the Laplacian, as a dense ``|w| x |w|`` block.

    Args:
        colours: float64 ``(n, |w|, 3)`` colours of the pixels of ``n`` windows.
        epsilon: Regulariser of the colour-line model (added as ``eps/|w| I_3``
            to the window covariance).

    Returns:
        float64 ``(n, |w|, |w|)``: ``delta_ab - (1 + d_a^T S^-1 d_b) / |w|`` with
        ``d = colour - window mean`` and ``S = covariance + eps/|w| I_3``.
    """
    area = colours.shape[1]
    centred = colours - colours.mean(axis=1, keepdims=True)
    cov = np.matmul(centred.transpose(0, 2, 1), centred)  # 2x faster than einsum here
    cov /= area
    cov[:, [0, 1, 2], [0, 1, 2]] += epsilon / area
    inverse = _inverse_3x3_symmetric(cov)
    inverse *= -1.0 / area  # fold the -1/|w| scale into the 3x3 inverse
    quad = np.matmul(np.matmul(centred, inverse), centred.transpose(0, 2, 1))
    quad += np.eye(area) - 1.0 / area
    return quad


def _inverse_3x3_symmetric(a: np.ndarray) -> np.ndarray:
    """Inverse of a stack of symmetric positive (semi)definite 3x3 matrices ``(n, 3, 3)``.

    A singular matrix (only possible with ``epsilon = 0`` in a flat window) gets a
    pseudo-inverse of zero instead of infinities, so the window then contributes the
    plain averaging term ``delta - 1/|w|``.
    """
    a00, a01, a02 = a[:, 0, 0], a[:, 0, 1], a[:, 0, 2]
    a11, a12, a22 = a[:, 1, 1], a[:, 1, 2], a[:, 2, 2]
    c00 = a11 * a22 - a12 * a12
    c01 = a02 * a12 - a01 * a22
    c02 = a01 * a12 - a02 * a11
    c11 = a00 * a22 - a02 * a02
    c12 = a01 * a02 - a00 * a12
    c22 = a00 * a11 - a01 * a01
    det = a00 * c00 + a01 * c01 + a02 * c02
    scale = np.zeros_like(det)
    np.divide(1.0, det, out=scale, where=det > 0)
    out = np.empty_like(a)
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = c00, c01, c02
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = c01, c11, c12
    out[:, 2, 0], out[:, 2, 1], out[:, 2, 2] = c02, c12, c22
    out *= scale[:, None, None]
    return out


def laplacian_stencil(image: np.ndarray, rows: np.ndarray, epsilon: float = 1e-7,
                      window_radius: int = 1) -> np.ndarray:
    """Rows of the matting Laplacian for the pixels in ``rows``, in stencil form.

    Only windows containing at least one pixel of ``rows`` are visited, so the cost
    scales with the number of rows, not with the image.

    Args:
        image: float ``(H, W, 3)`` RGB in [0, 1].
        rows: bool ``(H, W)``: the pixels whose rows are wanted.
        epsilon: Colour-line regulariser.
        window_radius: ``r``; windows are ``(2r+1) x (2r+1)``.

    Returns:
        float64 ``(rows.sum(), (4r+1)^2)``, row ``i`` for the ``i``-th pixel of
        ``np.flatnonzero(rows)``, column ``k`` towards the pixel at
        :func:`stencil_offsets` ``[k]`` (0 where that pixel shares no window).
    """
    height, width = rows.shape
    r = window_radius
    flat_image = np.asarray(image).reshape(-1, 3)
    row_index = np.full(height * width, -1, dtype=np.int64)
    row_pixels = np.flatnonzero(rows)
    n_rows = row_pixels.size
    row_index[row_pixels] = np.arange(n_rows)
    stencil_size = (4 * r + 1) ** 2
    values = np.zeros(n_rows * stencil_size, dtype=np.float64)
    wy, wx = window_offsets(r)
    flat_offsets = wy * width + wx
    stencil_side = 4 * r + 1
    # stencil column of pixel b as seen from pixel a of the same window
    column_of = ((wy[None, :] - wy[:, None] + 2 * r) * stencil_side
                 + (wx[None, :] - wx[:, None] + 2 * r))
    centres = window_centres((height, width), r, touching=rows)

    for start in range(0, centres.size, _CHUNK):
        pixels = centres[start:start + _CHUNK, None] + flat_offsets[None, :]
        blocks = window_coefficients(flat_image[pixels].astype(np.float64), epsilon)
        targets = row_index[pixels]
        is_row = targets >= 0
        blocks[~is_row] = 0.0  # window pixels that are not rows contribute nothing
        # the windows are sorted, so their rows are a short range [low, high]
        low, high = int(targets[is_row].min()), int(targets.max())
        targets = np.where(is_row, targets - low, 0) * stencil_size
        # entry (a, b) of a window goes to row ``targets[a]``, stencil column
        # ``column_of[a, b]``; one weighted bincount sums every window's share (3x
        # faster than a fancy-index ``+=`` per window position)
        values[low * stencil_size:(high + 1) * stencil_size] += np.bincount(
            (targets[:, :, None] + column_of[None, :, :]).ravel(), weights=blocks.ravel(),
            minlength=(high + 1 - low) * stencil_size)
    return values.reshape(n_rows, stencil_size)


def stencil_columns(row_pixels: np.ndarray, shape: tuple[int, int],
                    window_radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat pixel index of every stencil entry and whether it lies inside the image.

    Args:
        row_pixels: int ``(n,)`` flat indices of the rows.
        shape: ``(H, W)``.
        window_radius: ``r``.

    Returns:
        ``(columns, inside)``, int64 and bool ``(n, (4r+1)^2)``; ``columns`` is only
        meaningful where ``inside``.
    """
    height, width = shape
    sy, sx = stencil_offsets(window_radius)
    y, x = np.divmod(row_pixels, width)
    ny = y[:, None] + sy[None, :]
    nx = x[:, None] + sx[None, :]
    inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
    return ny * width + nx, inside


def matting_laplacian(image: np.ndarray, epsilon: float = 1e-7, window_radius: int = 1, *,
                      rows: np.ndarray | None = None) -> scipy.sparse.csr_matrix:
    """The matting Laplacian ``L`` of Levin et al. (2008) as an ``N x N`` sparse matrix.

    ``N = H * W`` and pixel ``(y, x)`` is index ``y * W + x``.  Only windows lying
    entirely inside the image contribute.  ``L`` is symmetric positive semi-definite
    and its rows sum to zero (constants are in its null space).

    Args:
        image: ``(H, W, 3)`` RGB (float in [0, 1], or uint8/uint16).
        epsilon: Colour-line regulariser; larger values give smoother mattes and a
            better-conditioned matrix.
        window_radius: ``r``; windows are ``(2r+1) x (2r+1)`` pixels.
        rows: Optional bool ``(H, W)``.  When given, only the rows of these pixels
            are filled (each complete, with all its columns); the other rows are left
            empty, and the matrix is then symmetric only on its ``rows x rows`` block.
            Use it to build just the rows needed for the unknown pixels of a trimap.

    Returns:
        float64 CSR matrix ``(N, N)``.

    Raises:
        InputError: Malformed image, epsilon, radius or row mask.
    """
    image = as_image(image, "image")
    eps, r = check_laplacian_parameters(epsilon, window_radius)
    height, width = image.shape[:2]
    if rows is None:
        rows = np.ones((height, width), dtype=bool)
    else:
        rows = np.asarray(rows)
        if rows.shape != (height, width):
            raise InputError(
                f"row mask has shape {rows.shape}, expected the image's {(height, width)}", "rows"
            )
        rows = rows.astype(bool)
    row_pixels = np.flatnonzero(rows)
    values = laplacian_stencil(image, rows, eps, r)
    columns, inside = stencil_columns(row_pixels, (height, width), r)
    keep = inside & (values != 0)
    counts = keep.sum(axis=1)
    indptr = np.zeros(height * width + 1, dtype=np.int64)
    indptr[row_pixels + 1] = counts
    np.cumsum(indptr, out=indptr)
    n = height * width
    return scipy.sparse.csr_matrix((values[keep], columns[keep], indptr), shape=(n, n))
