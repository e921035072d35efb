"""Settings: defaults, NEWSLAKE_* variables coerced to each field's type, CLI overrides, one-line errors."""

from pathlib import Path

import pytest

from flows.settings import Settings, _coerce


@pytest.mark.parametrize(("kind", "raw", "value"), [
    ("int", "12", 12),
    ("int", "-3", -3),
    ("float", "0.75", 0.75),
    ("float", "1", 1.0),
    ("Path", "~/lake", Path("~/lake")),
    ("str", "dictionary", "dictionary"),
    ("str | None", "tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"),
    ("bool", "1", True),
    ("bool", " Yes", True),
    ("bool", "false", False),
    ("bool", "0", False),
])
def test_coerce(kind, raw, value):
    got = _coerce(kind, raw, "x")
    assert (got, type(got)) == (value, type(value))


@pytest.mark.parametrize(("kind", "raw", "message"), [
    ("int", "abc", "NEWSLAKE_BATCH_SIZE='abc' is not a whole number"),
    ("int", "2.5", "NEWSLAKE_BATCH_SIZE='2.5' is not a whole number"),
    ("float", "high", "NEWSLAKE_BATCH_SIZE='high' is not a number"),
    ("bool", "always", "NEWSLAKE_BATCH_SIZE='always' is not one of 1, true, yes, 0, false, no"),
])
def test_coerce_refuses_in_one_line(kind, raw, message):
    with pytest.raises(ValueError) as e:
        _coerce(kind, raw, "batch_size")
    assert str(e.value) == message


def test_environment_then_overrides(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLAKE_BATCH_SIZE", "7")
    monkeypatch.setenv("NEWSLAKE_NEAR_DUPLICATE_THRESHOLD", "0.9")
    monkeypatch.setenv("NEWSLAKE_LAKE", "rel/lake")
    monkeypatch.setenv("NEWSLAKE_DASK_ADDRESS", "tcp://h:1")
    settings = Settings.load(batch_size=None, workers=3)
    assert (settings.batch_size, settings.near_duplicate_threshold, settings.lake, settings.dask_address, settings.workers) == (
        7, 0.9, tmp_path / "rel" / "lake", "tcp://h:1", 3)
    assert Settings.load(batch_size=50, lake=Path("x")).batch_size == 50 and Settings.load(lake=Path("x")).lake == tmp_path / "x"


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("NEWSLAKE_RUNNER", "cloud", "NEWSLAKE_RUNNER='cloud' is not one of auto, dask, local"),
    ("NEWSLAKE_NLP", "regex", "NEWSLAKE_NLP='regex' is not one of model, dictionary"),
    ("NEWSLAKE_WORKERS", "0", "NEWSLAKE_WORKERS=0 must be at least 1"),
])
def test_invalid_choices_fail_in_one_line(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError) as e:
        Settings.load()
    assert str(e.value) == message
