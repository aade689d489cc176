"""Old name of :mod:`trimatte.models.salient_net` (U²-Net-p saliency maps).

Renamed so that it is not confused with :mod:`trimatte.trimap.saliency` (trimaps
from saliency maps). Import from :mod:`trimatte.models.salient_net`; this alias
goes once no module uses it.
"""

from trimatte.models.salient_net import (
    INPUT_SIZE,
    load_u2netp,
    predict_saliency,
    preprocess,
    shipped_weights_path,
)

__all__ = ["INPUT_SIZE", "load_u2netp", "predict_saliency", "preprocess", "shipped_weights_path"]
