"""Engine version text is read by one parser (model.engine_version_numbers): the loaders'
checks, the engine's rule sets and the version an engine reports all agree."""

from __future__ import annotations

import pytest

from simulator.engine.versions import EngineVersion, engine_line, parse_version
from simulator.errors import UnknownEngineVersion
from simulator.model import DEFAULT_ENGINE_VERSION, Host, engine_version_numbers


@pytest.mark.parametrize(("text", "numbers"), [
    ("20.10", (20, 10, 0)), ("20.10.24+dfsg1", (20, 10, 24)), ("28.2.2", (28, 2, 2)), ("v29", (29, 0, 0)),
    (" 27.5.1-1 ", (27, 5, 1)), ("x", None), ("20.x", None), ("", None),
])
def test_numbers(text, numbers):
    assert engine_version_numbers(text) == numbers


@pytest.mark.parametrize(("reported", "line"), [
    ("20.10.24+dfsg1", "20.10"), ("28.2.2", "28.2"), ("29.0.4", "29.0"), ("v27.5.1", "27.5"), ("dev", "dev"),
])
def test_engine_line_of_a_reported_version(reported, line):
    assert engine_line(reported) == line


def test_one_default_everywhere():
    assert Host("h").engine_version == DEFAULT_ENGINE_VERSION
    assert parse_version(None) == parse_version(DEFAULT_ENGINE_VERSION) == EngineVersion(20, 10)


def test_parse_version_refuses_text_and_unknown_lines():
    with pytest.raises(UnknownEngineVersion, match="is not an engine version"):
        parse_version("twenty")
    with pytest.raises(UnknownEngineVersion, match="has no rule set"):
        parse_version("21.0")


def test_the_schema_states_the_same_default():
    from simulator.schema import design_schema

    text = design_schema()["properties"]["engine_version"]["description"]
    assert f'(default "{DEFAULT_ENGINE_VERSION}")' in text
