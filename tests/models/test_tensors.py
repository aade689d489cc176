"""The array <-> tensor boundary (trimatte.models.tensors)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trimatte.models.tensors import (
    batch_to_image,
    batch_to_map,
    image_to_batch,
    map_to_batch,
    to_chw,
    trimap_to_batch,
    trimap_to_float,
)
from trimatte.trimap.classes import CLASS_VALUES, classes_to_trimap, trimap_to_classes

shapes = st.tuples(st.integers(1, 9), st.integers(1, 9))


@given(shapes.flatmap(lambda s: arrays(np.float32, (*s, 3), elements=st.floats(0, 1, width=32))))
def test_image_round_trips_through_a_batch(image):
    batch = image_to_batch(image)
    assert batch.shape == (1, 3, *image.shape[:2]) and batch.dtype == torch.float32
    np.testing.assert_array_equal(batch_to_image(batch), image)
    np.testing.assert_array_equal(batch[0, 1].numpy(), image[..., 1])


@given(shapes.flatmap(lambda s: arrays(np.uint8, s, elements=st.sampled_from(CLASS_VALUES))))
def test_trimap_enters_as_a_fraction_and_classes_round_trip(trimap):
    batch = trimap_to_batch(trimap)
    assert batch.shape == (1, 1, *trimap.shape) and batch.dtype == torch.float32
    np.testing.assert_array_equal(batch_to_map(batch), trimap_to_float(trimap))
    assert set(np.unique(batch.numpy())) <= {0.0, np.float32(128 / 255), 1.0}
    np.testing.assert_array_equal(classes_to_trimap(trimap_to_classes(trimap)), trimap)


def test_maps_and_training_samples():
    alpha = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(batch_to_map(map_to_batch(alpha)), alpha)
    assert to_chw(alpha).shape == (1, 3, 4)
    rgb = np.random.default_rng(0).random((3, 4, 3))  # float64 in, float32 out
    chw = to_chw(rgb)
    assert chw.shape == (3, 3, 4) and chw.dtype == torch.float32 and chw.is_contiguous()
    np.testing.assert_allclose(chw.permute(1, 2, 0).numpy(), rgb, rtol=1e-6)


def test_device_argument_moves_the_tensor():
    image = np.zeros((2, 2, 3), np.float32)
    assert image_to_batch(image, "cpu").device.type == "cpu"
    assert trimap_to_batch(np.zeros((2, 2), np.uint8), torch.device("cpu")).device.type == "cpu"


def test_trimap_unet_still_exports_the_class_maps():
    from trimatte.models import trimap_unet

    assert trimap_unet.trimap_to_classes is trimap_to_classes
    assert trimap_unet.classes_to_trimap is classes_to_trimap
