"""no_hub_download always refuses, with a message that says what to do instead."""

from __future__ import annotations

import pytest

from trimatte.errors import ModelUnavailableError, TrimatteError
from trimatte.models.hub import no_hub_download


def test_raises_model_unavailable_naming_the_request() -> None:
    with pytest.raises(ModelUnavailableError) as info:
        no_hub_download("imagenet weights for resnet34")
    message = str(info.value)
    assert "imagenet weights for resnet34" in message
    assert "never downloads weights at run time" in message
    assert "local file" in message
    assert isinstance(info.value, TrimatteError)
