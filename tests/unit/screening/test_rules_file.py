"""The rules file: it validates, it explains what is wrong, and every rule's own examples hold."""

import textwrap

import pytest

from shared.screening import RULES_VERSION, RulesFileError, load_rules, screen

RULES = load_rules()

MESSAGE = {"uk": "Повідомлення", "en": "Message", "ru": "Сообщение"}


def write_rules(tmp_path, body: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


VALID_RULE = """
  - id: test.cats
    category: test
    severity: warn
    match: ["кот[|а|у|ом|е|ы|ов]", "рыж[ий|его] ... кот[|а]"]
    message: {uk: "Про котів", en: "About cats", ru: "О котах"}
"""


def test_rules_file_has_a_version_and_the_package_exports_it():
    assert RULES.version
    assert RULES_VERSION == RULES.version
    assert screen("Привет!").rules_version == RULES_VERSION


def test_every_rule_has_messages_in_three_languages():
    for rule in RULES.rules:
        assert rule.message.uk and rule.message.en and rule.message.ru, rule.id


def _screen_where_the_rule_looks(rule, example: str):
    """A rule's examples are letters, unless the rule screens only other fields (the writer's name)."""
    if "body" in rule.fields:
        return screen(example)
    return screen("", fields={rule.fields[0]: example})


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda rule: rule.id)
def test_each_rule_flags_its_own_review_examples(rule):
    for example in rule.examples.review:
        rules = {f.rule for f in _screen_where_the_rule_looks(rule, example).findings}
        assert rule.id in rules, example


@pytest.mark.parametrize("rule", RULES.rules, ids=lambda rule: rule.id)
def test_each_rule_leaves_its_own_ok_examples_alone(rule):
    for example in rule.examples.ok:
        rules = {f.rule for f in _screen_where_the_rule_looks(rule, example).findings}
        assert rule.id not in rules, example


def test_a_custom_rules_file_is_loaded_and_used(tmp_path):
    path = write_rules(tmp_path, 'version: "test-1"\nrules:' + VALID_RULE)

    book = load_rules(path)
    result = screen("Мой рыжий кот спит, а котов у нас трое.", lang="ru", rules=book)

    assert result.rules_version == "test-1"
    assert {(f.rule, f.message) for f in result.findings} == {("test.cats", "О котах")}
    assert len(result.findings) == 2  # "рыжий кот" and "котов"


def _assert_invalid(tmp_path, body: str, *expected: str) -> None:
    with pytest.raises(RulesFileError) as error:
        load_rules(write_rules(tmp_path, body))
    for words in expected:
        assert words in str(error.value)


def test_file_that_is_not_yaml_raises_a_clear_error(tmp_path):
    _assert_invalid(tmp_path, "version: [unclosed\nrules: -", "not valid YAML")


def test_missing_file_raises_a_clear_error(tmp_path):
    with pytest.raises(RulesFileError, match="cannot read rules file"):
        load_rules(tmp_path / "absent.yaml")


def test_file_without_a_mapping_at_the_top_raises_a_clear_error(tmp_path):
    _assert_invalid(tmp_path, "- just a list\n", "must be a mapping")


def test_missing_version_is_reported(tmp_path):
    _assert_invalid(tmp_path, "rules:" + VALID_RULE, "version", "Field required")


def test_unquoted_numeric_version_is_reported(tmp_path):
    _assert_invalid(tmp_path, "version: 1.5\nrules:" + VALID_RULE, "version", "valid string")


def test_missing_message_language_names_the_rule(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace(', ru: "О котах"', "")

    _assert_invalid(tmp_path, body, "rules[0] (test.cats).message.ru", "Field required")


def test_unknown_severity_is_reported(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace("severity: warn", "severity: maybe")

    _assert_invalid(tmp_path, body, "severity")


def test_unknown_detector_is_reported_with_the_known_ones(tmp_path):
    body = """
    version: "1"
    rules:
      - id: test.fax
        category: personal_data
        severity: block
        detector: fax
        message: {uk: "a", en: "b", ru: "c"}
    """
    _assert_invalid(tmp_path, body, "unknown detector 'fax'", "phone")


def test_rule_with_both_detector_and_words_is_reported(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace(
        "severity: warn", "severity: warn\n    detector: phone"
    )

    _assert_invalid(tmp_path, body, "either 'detector' or 'match'")


def test_rule_that_matches_nothing_is_reported(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace(
        '    match: ["кот[|а|у|ом|е|ы|ов]", "рыж[ий|его] ... кот[|а]"]\n', ""
    )

    _assert_invalid(tmp_path, body, "needs 'match', 'symbols' or 'detector'")


def test_unknown_ending_set_is_reported_with_the_rule_id(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace("кот[|а|у|ом|е|ы|ов]", "кот[noun_x]")

    _assert_invalid(tmp_path, body, "test.cats", "'noun_x' is neither an ending set nor letters")


@pytest.mark.parametrize("term", ["ко*", "кот[а", "... кот", "кот ...", "к.о.т"])
def test_malformed_term_is_reported(tmp_path, term):
    body = 'version: "1"\nrules:' + VALID_RULE.replace("кот[|а|у|ом|е|ы|ов]", term)

    _assert_invalid(tmp_path, body, "test.cats")


def test_duplicate_rule_id_is_reported(tmp_path):
    _assert_invalid(tmp_path, 'version: "1"\nrules:' + VALID_RULE + VALID_RULE, "'test.cats' is used twice")


def test_unknown_key_in_a_rule_is_reported(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace("severity: warn", "severity: warn\n    severty: block")

    _assert_invalid(tmp_path, body, "severty", "Extra inputs are not permitted")


def test_bad_rule_id_is_reported(tmp_path):
    body = 'version: "1"\nrules:' + VALID_RULE.replace("id: test.cats", "id: Test Cats")

    _assert_invalid(tmp_path, body, "id")
