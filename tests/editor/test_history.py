"""Tests of the editor's undo/redo history and its codec (trimatte.editor.history)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trimatte.editor.history import (
    EMPTY_BOX,
    History,
    apply_step,
    changed_box,
    make_step,
    pack,
    unpack,
)
from trimatte.errors import InputError

SHAPE = (24, 30)

# an edit: a rectangle (y, x, h, w) of one layer set to a value, and a band change
edits = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 23), st.integers(0, 29), st.integers(1, 10),
              st.integers(1, 10), st.integers(0, 255), st.integers(-2, 2)),
    min_size=1, max_size=15,
)


def layers_of(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.choice(np.array([0, 128, 255], np.uint8), size=SHAPE),
            rng.integers(0, 4, size=SHAPE).astype(np.uint8))


def snapshot(layers, band):
    return tuple(layer.copy() for layer in layers), band


def same(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True)) and a[1] == b[1]


@settings(max_examples=60, deadline=None)
@given(edits=edits, seed=st.integers(0, 1000))
def test_undo_after_any_sequence_restores_the_original_and_redo_the_end(edits, seed):
    layers = layers_of(seed)
    band = 5
    history = History()
    states = [snapshot(layers, band)]
    for which, y, x, h, w, value, band_change in edits:
        before, band_before = snapshot(layers, band)
        layers[which][y:y + h, x:x + w] = value
        band = max(0, band + band_change)
        step = make_step("edit", before, layers, band_before, band)
        if step is None:
            assert same(snapshot(layers, band), states[-1])
            continue
        history.push(step)
        states.append(snapshot(layers, band))
    for expected in reversed(states[:-1]):
        step = history.undo()
        band = apply_step(layers, step, undo=True)
        assert same(snapshot(layers, band), expected)
    assert history.undo() is None and not history.can_undo
    for expected in states[1:]:
        band = apply_step(layers, history.redo(), undo=False)
        assert same(snapshot(layers, band), expected)
    assert history.redo() is None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), y0=st.integers(0, 23), x0=st.integers(0, 29),
       h=st.integers(1, 24), w=st.integers(1, 30))
def test_a_step_stores_only_the_changed_box(seed, y0, x0, h, w):
    before = layers_of(seed)
    after = tuple(layer.copy() for layer in before)
    after[0][y0:y0 + h, x0:x0 + w] ^= 1  # flips every pixel of the box
    box = changed_box(before, after)
    assert box == (y0, min(y0 + h, SHAPE[0]), x0, min(x0 + w, SHAPE[1]))
    step = make_step("flip", before, after, 3, 3)
    assert step.box == box and step.changes_pixels
    patch = unpack(step.after, box, 2)
    assert np.array_equal(patch[:, :, 0], after[0][box[0]:box[1], box[2]:box[3]])
    assert unpack(pack(before, box), box, 2).shape == (box[1] - box[0], box[3] - box[2], 2)


def test_a_band_only_change_is_a_step_without_pixels():
    layers = layers_of(0)
    step = make_step("band", layers, layers, 4, 6)
    assert step.box == EMPTY_BOX and not step.changes_pixels
    assert apply_step(layers, step, undo=True) == 4
    assert make_step("nothing", layers, layers, 4, 4) is None


def test_budgets_drop_the_oldest_steps():
    rng = np.random.default_rng(0)
    history = History(max_bytes=20_000, max_steps=1000)
    layers = layers_of(1)
    for _ in range(40):
        before = tuple(layer.copy() for layer in layers)
        layers[0][:] = rng.integers(0, 256, size=SHAPE)  # noise compresses badly
        history.push(make_step("noise", before, layers, 0, 0))
    assert history.nbytes <= 20_000
    kept = 0
    while history.undo() is not None:
        kept += 1
    assert 1 <= kept < 40
    short = History(max_steps=2)
    for i in range(5):
        short.push(make_step("band", layers, layers, i, i + 1))
    assert sum(short.undo() is not None for _ in range(5)) == 2


def test_a_new_step_drops_the_redo_stack():
    layers = layers_of(2)
    history = History()
    history.push(make_step("a", layers, layers, 0, 1))
    history.undo()
    assert history.can_redo
    history.push(make_step("b", layers, layers, 0, 2))
    assert not history.can_redo


def test_bad_budgets_and_layer_lists_are_refused():
    with pytest.raises(InputError, match="budget"):
        History(max_bytes=0)
    with pytest.raises(InputError, match="layers"):
        changed_box([np.zeros((2, 2), np.uint8)], [])
