"""Deep networks, their weights and the array/tensor boundary (torch is needed here).

Importing this package imports no torch; import the modules you need:

* :mod:`~trimatte.models.weights` -- finds, reads, caches and describes shipped and
  user weights (never downloads), and the input statistics they expect;
* :mod:`~trimatte.models.tensors` -- numpy arrays <-> torch batches;
* :mod:`~trimatte.models.checkpoint` -- the checkpoint format: save, rebuild a model;
* :mod:`~trimatte.models.u2netp`, :mod:`~trimatte.models.salient_net` -- the U²-Net-p
  salient-object network and saliency maps from it;
* :mod:`~trimatte.models.dim`, :mod:`~trimatte.models.inference` -- Deep Image Matting
  and running it on images of any size;
* :mod:`~trimatte.models.guided` -- DIM guided by a classical alpha;
* :mod:`~trimatte.models.trimap_unet` -- the trimap predictor;
* :mod:`~trimatte.models.encoders`, :mod:`~trimatte.models.hub`,
  :mod:`~trimatte.models.export` -- encoder initialisation, the no-download rule, export.
"""

__all__ = [
    "checkpoint",
    "dim",
    "encoders",
    "export",
    "guided",
    "hub",
    "inference",
    "salient_net",
    "tensors",
    "trimap_unet",
    "u2netp",
    "weights",
]
