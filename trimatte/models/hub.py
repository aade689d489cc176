"""The one place that refuses model-hub downloads.

trimatte never fetches weights over the network at run time: weights either ship
inside the package (the ``trimatte/models/weights`` folder) or are passed as a local
file by the user. Code that would otherwise hand a hub name to
segmentation-models-pytorch, timm, torchvision or huggingface_hub calls
:func:`no_hub_download` instead, and libraries are always built with
``encoder_weights=None`` / ``weights=None`` / ``pretrained=False``.

Example:
    >>> from trimatte.models.hub import no_hub_download
    >>> no_hub_download("imagenet encoder weights for resnet34")  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    trimatte.errors.ModelUnavailableError: ...
"""

from __future__ import annotations

from typing import NoReturn

from trimatte.errors import ModelUnavailableError


def no_hub_download(what: str) -> NoReturn:
    """Raise :class:`~trimatte.errors.ModelUnavailableError` for a requested download.

    Args:
        what: What would have been downloaded, e.g. ``"imagenet weights for resnet34"``
            or a hub identifier; it is quoted in the message.

    Raises:
        ModelUnavailableError: Always.
    """
    raise ModelUnavailableError(
        f"{what} would have to be downloaded from a model hub, but trimatte never "
        "downloads weights at run time; pass a local file (a path to a state dict or "
        "checkpoint) instead, or use the weights shipped with trimatte."
    )
