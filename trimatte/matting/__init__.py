"""Alpha estimation from an image and a trimap.

* :mod:`~trimatte.matting.closed_form` -- closed-form matting (Levin et al. 2008):
  :func:`~trimatte.matting.closed_form.closed_form_alpha`;
* :mod:`~trimatte.matting.laplacian` -- the matting Laplacian it solves with;
* :mod:`~trimatte.matting.cholesky` -- its sparse Cholesky factor (CHOLMOD via cvxopt);
* :mod:`~trimatte.matting.ordering` -- nested-dissection orderings of large systems;
* :mod:`~trimatte.matting.multilevel` -- the memory plan, and the block-Jacobi solve of
  systems whose factor does not fit;
* :mod:`~trimatte.matting.refine` -- base resolution plus selective refinement.

Import the modules directly (scipy, cvxopt and pymetis load only then).
"""

__all__ = ["cholesky", "closed_form", "laplacian", "multilevel", "ordering", "refine"]
