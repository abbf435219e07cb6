import dataclasses

import pytest

from o4o_causal import config
from o4o_causal.exceptions import (
    ConvergenceError,
    DataError,
    DisclosureError,
    O4OError,
    SpecificationError,
    format_error,
)


@pytest.mark.parametrize("cls", [DataError, SpecificationError, ConvergenceError, DisclosureError])
def test_every_error_is_an_o4o_error(cls: type[Exception]) -> None:
    assert issubclass(cls, O4OError)


def test_data_and_specification_errors_are_value_errors() -> None:
    # callers that catch ValueError (pandas/sklearn habit) still catch ours
    assert issubclass(DataError, ValueError)
    assert issubclass(SpecificationError, ValueError)
    assert not issubclass(DisclosureError, ValueError)


def test_format_error_names_all_parts() -> None:
    msg = format_error(what="column 'x'", expected="numbers", found="text", fix="convert it")
    assert msg == "column 'x': expected numbers, found text. Fix: convert it"


def test_config_defaults_are_frozen_and_documented_values() -> None:
    assert config.CI_LEVEL == 0.95
    assert config.DISCLOSURE.threshold == 5
    assert config.DISCLOSURE.presets == {"ssb": 3, "dst": 5, "acro": 10}
    assert (config.DIAGNOSTICS.max_rhat, config.DIAGNOSTICS.min_ess_bulk, config.DIAGNOSTICS.max_divergences) == (
        1.01,
        400.0,
        0,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.SAMPLER.draws = 10  # type: ignore[misc]


def test_threads_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.threads() == config.DEFAULT_THREADS
    monkeypatch.setenv("O4O_THREADS", "3")
    assert config.threads() == 3
    monkeypatch.setenv("O4O_THREADS", "many")
    with pytest.raises(SpecificationError, match="O4O_THREADS.*positive integer.*'many'"):
        config.threads()
