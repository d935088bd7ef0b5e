"""Labelled letters: the shared examples and our own cases must get the moderator's verdict."""

import json
from pathlib import Path

import pytest

from shared.screening import screen

DATA = Path(__file__).parents[2] / "data"


def _cases(file_name: str) -> list:
    lines = (DATA / file_name).read_text(encoding="utf-8").splitlines()
    cases = [json.loads(line) for line in lines if line.strip()]
    return [pytest.param(case, id=case["id"]) for case in cases]


SHARED_EXAMPLES = _cases("letters.jsonl")
OUR_CASES = _cases("screening_cases.jsonl")


@pytest.mark.parametrize("case", SHARED_EXAMPLES)
def test_shared_example_letter_gets_its_labelled_verdict(case):
    result = screen(case["text"])

    flagged = [(f.rule, case["text"][f.start : f.end]) for f in result.findings]
    assert result.verdict == case["expect"], f"{case['why']}: {flagged}"


@pytest.mark.parametrize("case", OUR_CASES)
def test_own_case_letter_gets_its_labelled_verdict(case):
    result = screen(case["text"])

    flagged = [(f.rule, case["text"][f.start : f.end]) for f in result.findings]
    assert result.verdict == case["expect"], f"{case['why']}: {flagged}"


@pytest.mark.parametrize("case", SHARED_EXAMPLES + OUR_CASES)
def test_every_finding_points_at_a_non_empty_span_of_the_original_letter(case):
    text = case["text"]

    for finding in screen(text).findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert text[finding.start : finding.end].strip()


def test_own_cases_are_many_and_mix_ok_and_review_letters():
    labels = [param.values[0]["expect"] for param in OUR_CASES]

    assert len(labels) >= 60
    assert labels.count("ok") >= 25 and labels.count("review") >= 25


def test_case_ids_are_unique_across_both_files():
    ids = [param.id for param in SHARED_EXAMPLES + OUR_CASES]

    assert len(ids) == len(set(ids))
