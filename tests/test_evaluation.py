import math

import pytest

from trimatte.errors import InputError
from trimatte.evaluation import EvalRecord, format_table, mean_record, pair_samples


def test_mean_skips_nan_entries():
    rows = [
        EvalRecord("a", SAD=1.0, MSE=0.02, Grad=2.0, Conn=1.0, seconds=1.0),
        EvalRecord("b", SAD=3.0, MSE=math.nan, Grad=4.0, Conn=3.0, seconds=math.nan),
    ]
    mean = mean_record(rows)
    assert (mean.SAD, mean.MSE, mean.Grad, mean.Conn, mean.seconds) == (2.0, 0.02, 3.0, 2.0, 1.0)
    table = format_table(rows, title="t")
    assert table.splitlines()[0] == "t"
    assert table.splitlines()[-1].split()[:2] == ["mean", "2.000"]


def test_pair_samples_matches_by_stem(tmp_path):
    for sub, names in {"im": ["a.jpg", "b.jpg", "c.jpg"], "al": ["a.png", "b.png"],
                       "tr": ["a.png"]}.items():
        (tmp_path / sub).mkdir()
        for name in names:
            (tmp_path / sub / name).write_bytes(b"x")
    samples, problems = pair_samples(tmp_path / "im", tmp_path / "al", tmp_path / "tr")
    assert [s.name for s in samples] == ["a"]
    assert len(problems) == 2 and "no trimap named b" in problems[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no image"):
        pair_samples(tmp_path / "im", tmp_path / "empty", None)
