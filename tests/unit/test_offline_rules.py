"""The rules exported for the kiosk's offline hints: every word, phrase and symbol rule of rules.yaml,
as the engine compiled it, and the version the engine records; served by intake with an ETag."""

from __future__ import annotations

import gzip
import json

import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.intake import writing_help
from shared.screening.engine import default_rules
from shared.screening.offline import FORMAT, default_offline_rules
from shared.screening.rules import DEFAULT_RULES_PATH


def exported() -> dict:
    return json.loads(default_offline_rules()[0])


def test_the_version_is_the_rules_files_own():
    assert exported()["format"] == FORMAT
    version = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))["version"]
    assert exported()["rules_version"] == str(version) == default_rules().version


def test_every_word_phrase_and_symbol_rule_is_exported_and_every_detector_is_named_server_only():
    doc = exported()
    book = default_rules()
    assert [rule["id"] for rule in doc["rules"]] == [rule.id for rule in book.rules if rule.detector is None]
    assert doc["server_only"] == [rule.id for rule in book.rules if rule.detector is not None]
    assert {term["rule"] for term in doc["terms"]} | {entry["rule"] for entry in doc["symbols"]} == {
        rule["id"] for rule in doc["rules"]
    }


def test_each_rule_carries_its_messages_severity_and_fields():
    book = default_rules()
    for rule in exported()["rules"]:
        source = book.rule(rule["id"])
        assert (rule["category"], rule["severity"], rule["fields"]) == (
            source.category, source.severity, list(source.fields)
        )
        assert rule["message"] == source.message.model_dump()
        assert rule["suggestion"] == (source.suggestion.model_dump() if source.suggestion else None)


def test_every_compiled_term_is_exported_with_its_expanded_forms():
    doc = exported()
    matcher = default_rules()._terms
    assert len(doc["terms"]) == len(matcher.terms)
    for term, compiled in zip(doc["terms"], matcher.terms, strict=True):
        assert (term["rule"], term["cancels"], tuple(term["words"]), tuple(term["gaps"])) == (
            compiled.owner, compiled.cancels, compiled.words, compiled.gaps
        )
        assert (tuple(term["clause_ends"]), term["joinable"]) == (compiled.clause_ends, compiled.joinable)
    for word, compiled in zip(doc["words"], matcher.words, strict=True):
        assert set(word["forms"]) == compiled.forms and set(word["prefixes"]) == compiled.prefixes


def test_dictionary_words_arrive_in_the_browser_as_all_their_forms():
    # "~суд" in the rules file: the browser gets the forms pymorphy3 gives, and never parses a word.
    forms = set().union(*(set(word["forms"]) for word in exported()["words"]))
    assert {"суд", "суда", "судом", "судах"} <= forms


def test_every_symbol_of_every_symbol_rule_is_exported():
    doc = exported()
    by_rule = {entry["rule"]: entry["symbols"] for entry in doc["symbols"]}
    for rule in default_rules().rules:
        if rule.symbols:
            assert len(by_rule[rule.id]) == len(rule.symbols)


def test_look_alike_letters_are_exported_with_their_russian_reading():
    cyrillic = exported()["lookalikes"]["cyrillic"]
    assert (cyrillic["y"], cyrillic["B"], cyrillic["օ"], cyrillic["Ҫ"]) == ("у", "в", "о", "с")


def client() -> TestClient:
    app = FastAPI()
    app.include_router(writing_help.router)
    return TestClient(app)


def test_intake_serves_the_rules_compressed_with_an_etag_and_answers_304_to_a_current_copy():
    http = client()
    answer = http.get("/api/v1/screening/offline-rules", headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["cache-control"] == "public, no-cache"
    assert answer.json()["rules_version"] == default_rules().version
    etag = answer.headers["etag"]
    again = http.get("/api/v1/screening/offline-rules", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_intake_serves_the_plain_document_to_a_client_without_gzip():
    answer = client().get("/api/v1/screening/offline-rules", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in answer.headers
    assert answer.content == default_offline_rules()[0] == gzip.decompress(default_offline_rules()[1])
