import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal import DataError, Estimate
from o4o_causal.repro import record, recorded


def test_record_writes_results_file_when_run_by_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results.json"
    monkeypatch.setenv("O4O_RESULTS_FILE", str(target))
    est = Estimate.from_normal(0.1, 0.02, n=100, method="m")
    assert record("ate", est) is est
    record("n", np.int64(5))
    record("share", np.float32(0.5))
    record("missing", float("nan"))
    record("table", pd.DataFrame({"g": ["a", "b"], "v": [1.0, 2.0]}))
    data = json.loads(target.read_text())
    assert data["ate"]["value"] == pytest.approx(0.1) and data["ate"]["method"] == "m"
    assert data["n"] == 5 and data["share"] == 0.5 and data["missing"] is None
    assert data["table"] == {"index": [0, 1], "g": ["a", "b"], "v": [1.0, 2.0]}
    record("n", 6)  # re-recording replaces
    assert json.loads(target.read_text())["n"] == 6
    assert recorded()["n"] == 6


def test_record_without_runner_keeps_values_in_memory(tmp_path: Path) -> None:
    record("interactive_value", 1.5)
    assert recorded()["interactive_value"] == 1.5
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.zeros(1000), "at most 500 elements.*shape \\(1000,\\)"),
        (pd.DataFrame({"x": range(600)}), "at most 500 cells.*600 cells"),
        (list(range(501)), "length 501"),
        (object(), "type object"),
    ],
)
def test_record_refuses_microdata_sized_or_unknown_values(value: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        record("x", value)


def test_record_needs_a_name() -> None:
    with pytest.raises(DataError, match="record\\(name\\): expected a non-empty string"):
        record("  ", 1)
