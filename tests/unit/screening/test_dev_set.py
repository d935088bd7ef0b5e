"""The labelled dev set (tests/data/screening_dev/): it is well formed, and the engine scores well on it.

The scores are the targets for the engine, measured as `python -m shared.screening.evaluate` measures
them; `python -m shared.screening.evaluate --misses` shows which letters are judged wrongly and why.
"""

import json

import pytest

from shared.screening import evaluate

pytestmark = pytest.mark.unit

FILES = evaluate.default_files()


@pytest.fixture(scope="module")
def summary() -> evaluate.Summary:
    _, summary = evaluate.evaluate(FILES)
    return summary


# ---------------------------------------------------------------- the files


def test_dev_set_files_exist():
    assert FILES, f"no *.jsonl under {evaluate.DEV_SET_DIR}"


def test_every_line_is_a_letter_with_id_kind_expect_and_text():
    for path in FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            where = f"{path.name}:{number}"
            assert isinstance(row, dict), where
            for key in ("id", "kind", "text"):
                assert isinstance(row.get(key), str) and row[key].strip(), f"{where}: {key}"
            assert row.get("expect") in ("ok", "review"), f"{where}: expect"
            for key in ("writer_first_name", "writer_city"):
                assert row.get(key) is None or isinstance(row[key], str), f"{where}: {key}"


def test_ids_are_unique_across_all_files():
    ids = [letter.id for letter in evaluate.load_letters(FILES)]

    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates


def test_the_loader_accepts_the_files():
    letters = evaluate.load_letters(FILES)

    assert all(letter.kind.strip() for letter in letters)
    assert {letter.expect for letter in letters} <= {"ok", "review"}


def test_both_halves_together_hold_at_least_300_letters():
    assert len(evaluate.load_letters(FILES)) >= 300


def test_a_malformed_line_is_reported_with_its_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a-1", "kind": "plain", "expect": "ok", "text": "Привет"}\n{"id": "a-2"\n')

    with pytest.raises(evaluate.DevSetError, match=r"bad\.jsonl:2"):
        evaluate.load_letters([path])


# ---------------------------------------------------------------- the engine's scores


def test_engine_flags_at_least_90_percent_of_letters_that_need_a_moderator(summary):
    assert summary.recall is not None and summary.recall >= 0.9, evaluate.format_table(summary)


def test_at_least_90_percent_of_flagged_letters_really_need_a_moderator(summary):
    assert summary.precision is not None and summary.precision >= 0.9, evaluate.format_table(summary)


def test_at_most_2_percent_of_plain_letters_are_flagged(summary):
    assert summary.plain_letters, 'no letters of kind "plain" in the dev set'
    assert summary.plain_flag_rate <= 0.02, evaluate.format_table(summary)
