"""The published OpenAPI document: valid, complete, and true (schemathesis, in-process)."""

from __future__ import annotations

import inspect
import re

import pytest
from api_fuzz import fuzz_app, prepare_world, stored_rows
from openapi_spec_validator import validate

from evaluation import openapi

CASES_PER_OPERATION = 20  # per generation mode; bench/fuzz_api.py runs 1,000+


def _openapi_paths(rule) -> list[str]:
    """OpenAPI paths of a Flask rule: <int:x> -> {x}; <any(a, b):x> -> one path per choice."""
    paths = [""]
    for literal, converter in re.findall(r"([^<]*)(<[^>]+>)?", rule.rule):
        choices = [literal]
        if converter:
            name = converter[1:-1].split(":")[-1]
            options = re.match(r"<any\(([^)]*)\):", converter)
            extra = [o.strip() for o in options.group(1).split(",")] if options else [
                "{" + name + "}"]
            choices = [literal + e for e in extra]
        paths = [p + c for p in paths for c in choices]
    return paths


def _answers_json(app, rule) -> bool:
    view = inspect.unwrap(app.view_functions[rule.endpoint])
    return "json" in rule.rule or "jsonify(" in inspect.getsource(view)


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.json["openapi"].startswith("3.1")
    validate(response.json)


def test_every_json_route_is_described(app):
    described = openapi.build()["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not _answers_json(app, rule):
            continue
        for path in _openapi_paths(rule):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                if method.lower() not in described.get(path, {}):
                    missing.append(f"{method} {path}")
    assert missing == []
    assert "/live/{session_id}/marks" in described  # the detection above found the API


def test_the_request_schema_is_the_validators_own():
    from live.payloads import MarkSubmission

    schema = openapi.build()["components"]["schemas"]["MarkSubmission"]
    assert schema["properties"] == MarkSubmission.model_json_schema()["properties"]


def test_schemathesis_finds_no_server_error_and_no_accepted_invalid_input(fuzz_app_config, db):
    world = prepare_world(fuzz_app_config, db)
    results = fuzz_app(world, CASES_PER_OPERATION)
    failures = [failure for tally in results.values() for failure in tally.failures]
    assert failures == []
    assert all(tally.cases >= CASES_PER_OPERATION // 2 for tally in results.values())


@pytest.fixture
def fuzz_app_config(app, tmp_path):
    # Thousands of calls a minute from one token: the marks rate limit is not under test here.
    from evaluation.extensions import limiter

    app.config.update(IMPORTS_FOLDER=str(tmp_path / "imports"),
                      REPORTS_FOLDER=str(tmp_path / "reports"))
    limiter.enabled = False
    yield app
    limiter.enabled = True


def test_ids_beyond_64_bits_are_not_found_not_a_server_error(client):
    # Found by schemathesis: SQLite raised OverflowError, PostgreSQL "integer out of range": 500.
    for too_big in (2**31, 2**63, 2**64):
        assert client.get(f"/live/{too_big}/feed.json?token=x").status_code == 404
        assert client.post(f"/live/{too_big}/marks", json={}).status_code == 404
    assert client.get(f"/live/{2**31 - 1}/feed.json?token=x").status_code == 404  # no such row


def test_a_slot_id_beyond_64_bits_is_refused_by_name(fuzz_app_config, client, db):
    world = prepare_world(fuzz_app_config, db)
    response = client.post(f"/live/{world.live_id}/marks",
                           json={"client_id": "overflow-sheet-1", "slot_id": 2**31,
                                 "total": "80"},
                           headers={"Authorization": f"Bearer {world.judge_tokens[0]}"})
    assert response.status_code == 422
    assert response.json["error"]["field"] == "slot_id"
    assert stored_rows(world.engine) == (0, 0)
