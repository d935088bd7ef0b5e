"""The public API: verdicts, findings, message languages."""

import pydantic
import pytest

from shared.screening import Finding, ScreeningResult, screen


def test_warm_letter_is_ok_with_no_findings():
    result = screen("Здравствуйте, Ремзи! У нас первый снег. Обнимаю, Оксана")

    assert result.verdict == "ok"
    assert result.findings == []


def test_any_finding_even_a_warning_sends_the_letter_to_review():
    result = screen("Мой сын служит в армии.")

    assert [f.severity for f in result.findings] == ["warn"]
    assert result.verdict == "review"


def test_finding_carries_rule_category_severity_and_span():
    text = "Держитесь, мы с вами. Слава Украине! Дмитрий"

    (finding,) = screen(text).findings

    assert finding.rule == "slogans.glory_to_ukraine"
    assert finding.category == "slogans"
    assert finding.severity == "block"
    assert text[finding.start : finding.end] == "Слава Украине"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("uk", "Патріотичне гасло"), ("en", "A patriotic slogan"), ("ru", "Патриотический лозунг")],
)
def test_message_and_suggestion_come_in_the_requested_language(lang, words):
    (finding,) = screen("Слава Украине!", lang=lang).findings

    assert finding.message.startswith(words)
    assert finding.suggestion and "Держитесь, мы с вами" in finding.suggestion


def test_english_is_the_default_message_language():
    (finding,) = screen("Слава Украине!").findings

    assert finding.message.startswith("A patriotic slogan")


def test_rule_without_a_suggestion_gives_none():
    (finding,) = screen("Пишите на olga@example.com").findings

    assert finding.suggestion is None


def test_unknown_message_language_is_refused():
    with pytest.raises(ValueError, match="lang must be one of"):
        screen("Привет", lang="de")


def test_text_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError):
        screen(None)  # type: ignore[arg-type]


def test_findings_are_ordered_by_where_they_appear():
    text = "Путин не вечен. ВСУ близко. Звоните +380 67 123 45 67."

    starts = [f.start for f in screen(text).findings]

    assert starts == sorted(starts) and len(starts) == 3


def test_screening_is_pure_the_same_letter_gives_the_same_result():
    text = "Здравствуйте! Ваш адвокат сказал, что апелляцию рассмотрят в марте."

    assert screen(text) == screen(text)


def test_empty_letter_is_ok():
    assert screen("").verdict == "ok"


def test_results_are_frozen_pydantic_models_with_described_fields():
    result = screen("Слава Украине!")

    with pytest.raises(pydantic.ValidationError):
        result.verdict = "ok"  # type: ignore[misc]
    for model in (Finding, ScreeningResult):
        assert all(field.description for field in model.model_fields.values())


def test_result_round_trips_through_json():
    result = screen("Слава Украине! Пишите на olga@example.com")

    assert ScreeningResult.model_validate_json(result.model_dump_json()) == result


def test_long_letter_is_screened_whole():
    paragraph = "Здравствуйте! У нас во дворе цветут абрикосы, пахнет мёдом. " * 300
    text = paragraph + "Слава Украине!"

    (finding,) = screen(text).findings

    assert len(text) > 18_000
    assert text[finding.start : finding.end] == "Слава Украине"
