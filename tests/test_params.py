"""The one parameter-coercion path (trimatte.params)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trimatte.errors import ConfigError, InputError
from trimatte.params import (
    check_range,
    coerce,
    coerce_fields,
    coerce_instance,
    parse_params,
    unknown_name_message,
)


@dataclass
class Settings:
    epsilon: float = 1e-7
    steps: int = 10
    band: int | None = None
    fast: bool = False
    name: str = "x"
    sizes: list[int] = field(default_factory=lambda: [1, 2])
    pair: tuple[float, float] = (0.0, 1.0)
    mode: Literal["a", "b"] = "a"


@pytest.mark.parametrize(
    ("value", "hint", "expected"),
    [
        ("1e-6", float, 1e-6),
        (3, float, 3.0),
        (np.float32(0.5), float, 0.5),
        ("8", int, 8),
        (np.int64(8), int, 8),
        ("true", bool, True),
        ("No", bool, False),
        ("off", bool, False),
        ("none", int | None, None),
        ("null", float | None, None),
        (None, str | None, None),
        ("12", int | None, 12),
        ("1,2,3", list[int], [1, 2, 3]),
        ([1, "2"], tuple[int, ...], (1, 2)),
        ("[0.5, 2]", tuple[float, float], (0.5, 2.0)),
        (Path("a/b"), str, "a/b"),
        ("b", Literal["a", "b"], "b"),
        (object, object, object),  # unsupported hints pass the value through
    ],
)
def test_coerce_converts_text_and_numbers(value, hint, expected):
    out = coerce(value, hint, "p")
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(
    ("value", "hint", "message"),
    [
        ("many", int, "p: expected an integer, got 'many'"),
        (2.5, int, "p: expected an integer"),
        (True, int, "p: expected an integer"),
        ("fast", float, "p: expected a number"),
        (True, float, "p: expected a number"),
        ("maybe", bool, "p: expected true or false"),
        (3, str, "p: expected a string"),
        (320, list[int], "p: expected a list, got 320"),
        ("1,x", list[int], r"p\[1\]: expected an integer"),
        ("1,2,3", tuple[float, float], "p: expected 2 values"),
        ("c", Literal["a", "b"], "p: must be one of 'a', 'b'"),
        ("none", int, "p: expected an integer"),
    ],
)
def test_coerce_rejects_wrong_types_with_the_name(value, hint, message):
    with pytest.raises(ConfigError, match=message):
        coerce(value, hint, "p", source="here")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_text_round_trips(x):
    assert coerce(repr(x), float) == x
    assert coerce(x, float | None) == x


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_int_text_round_trips_and_coercion_is_idempotent(n):
    assert coerce(str(n), int) == n
    assert coerce(coerce(str(n), int | None), int | None) == n


def test_coerce_fields_converts_and_reports_unknown_names():
    out = coerce_fields(Settings, {"epsilon": "1e-6", "steps": "8", "fast": "yes"}, "stage 's'")
    assert out == {"epsilon": 1e-6, "steps": 8, "fast": True}
    with pytest.raises(ConfigError) as info:
        coerce_fields(Settings, {"epsilom": 1}, "stage 's'")
    text = str(info.value)
    assert text.startswith("stage 's': unknown parameter 'epsilom'. Did you mean epsilon?")
    assert "Valid: epsilon, steps, band, fast, name, sizes, pair, mode" in text
    assert isinstance(info.value, InputError)


def test_coerce_instance_converts_in_place():
    settings = Settings(epsilon="2e-3", sizes="4,5", pair=[1, 2])
    coerce_instance(settings, "s")
    assert settings.epsilon == 2e-3 and settings.sizes == [4, 5] and settings.pair == (1.0, 2.0)


def test_check_range():
    check_range(0, "band", "s", ge=0)
    check_range(None, "band", "s", gt=0)
    with pytest.raises(ConfigError, match="s: band must be >= 0, got -1"):
        check_range(-1, "band", "s", ge=0)
    with pytest.raises(ConfigError, match=r"must be < 0\.5"):
        check_range(0.5, "margin", "s", ge=0, lt=0.5)


def test_unknown_name_message_without_close_match():
    assert unknown_name_message("zzz", ["a", "b"]) == "unknown parameter 'zzz'. Valid: a, b"


def test_parse_params_reads_yaml_scalars():
    assert parse_params(["band=20", "epsilon=1e-6", "fill-holes=false", "x=[1, 2"], "--p") == {
        "band": 20, "epsilon": "1e-6", "fill_holes": False, "x": "[1, 2",
    }
    with pytest.raises(InputError, match="--p: expected KEY=VALUE, got 'band'"):
        parse_params(["band"], "--p")


def test_the_cli_uses_the_same_function():
    from trimatte.cli import evaluate, matte

    assert matte.parse_params is parse_params and evaluate.parse_params is parse_params
