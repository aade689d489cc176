"""Alpha estimation from an image and a trimap.

* :mod:`~trimatte.matting.closed_form` -- closed-form matting (Levin et al. 2008):
  :func:`~trimatte.matting.closed_form.closed_form_alpha`;
* :mod:`~trimatte.matting.laplacian` -- the matting Laplacian it solves with.

Import the modules directly (scipy and numba load only then).
"""

__all__ = ["closed_form", "laplacian"]
