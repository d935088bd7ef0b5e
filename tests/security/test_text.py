"""Hostile text: broken encodings, control characters, huge and deeply nested bodies, and the
invisible characters that try to walk a flagged word past screening.

Every JSON endpoint of every service is found in its OpenAPI document, so an endpoint added later
gets the same treatment without anyone editing this file.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
import unicodedata
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.security.conftest import NO_TLS_NEEDED, bearer
from tests.support import letter

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TEN_MB = 10 * 1024 * 1024


def json_operations(openapi: dict, *, skip: set[tuple[str, str, str]] = frozenset()) -> list[tuple[str, str, str]]:
    """(service, METHOD, path) of every operation that takes a JSON body, path parameters filled in."""
    found = []
    for service, document in openapi.items():
        for path, operations in (document or {}).get("paths", {}).items():
            for method, operation in operations.items():
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content and (service, method.upper(), path) not in skip:
                    found.append((service, method.upper(), path))
    assert found
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "sec_probe_1", path)


SUBMIT = ("intake", "POST", "/api/v1/letters")


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), "white").save(out, "JPEG")
    return out.getvalue()


# --- broken encodings ---------------------------------------------------------------------------


def _invalid_utf8(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode().replace("ПОДМЕНА".encode(), b"\xff\xfe\xc3\x28\xed\xa0\x80")


async def test_invalid_utf8_in_a_json_body_is_a_4xx_on_every_json_endpoint(probe, openapi, tokens):
    payload = _invalid_utf8({"name": "ПОДМЕНА", "body": "ПОДМЕНА", "id": "x_1", "prisoner_id": "p_demo_02"})
    failures = []
    for service, method, path in json_operations(openapi, skip={SUBMIT}):
        for who, headers in (("anonymous", {}), ("admin", bearer(tokens["admin"]))):
            answer = await probe.request(service, method, concrete(path), expect=None, what=f"invalid utf-8 {who}",
                                         content=payload, headers={"Content-Type": "application/json", **headers})
            if answer is None or not 400 <= answer.status_code < 500:
                failures.append(f"{service} {method} {path} ({who}): {answer.status_code if answer else 'dropped'}")
    assert not failures, failures


async def test_invalid_utf8_in_a_submitted_letter_is_a_4xx(probe):
    payload = _invalid_utf8(letter(body="ПОДМЕНА"))
    await probe.request(*SUBMIT, expect=(400, 422), what="invalid utf-8 letter", content=payload,
                        headers={"Content-Type": "application/json"})


async def test_invalid_utf8_in_the_letter_part_of_a_multipart_submission_is_a_4xx(probe, dbs, tally):
    ref = str(uuid.uuid4())
    payload = _invalid_utf8(letter(body="ПОДМЕНА", client_ref=ref))
    answer = await probe.request(*SUBMIT, expect=None, what="invalid utf-8 in multipart letter",
                                 files={"letter": (None, payload, "application/json"),
                                        "pages": ("p.jpg", photo(), "image/jpeg")})
    stored = dbs["intake"]["letters"].find_one({"client_ref": ref})
    if stored is not None:
        tally.wrongly_accepted(f"multipart letter with invalid UTF-8 stored as {stored['body'][:20]!r}")
    assert answer is not None and answer.status_code in (400, 422)
    assert stored is None


async def test_lone_surrogates_in_json_are_a_4xx_on_every_json_endpoint(probe, openapi, tokens):
    bodies = {
        "surrogate value": b'{"prisoner_id": "p_demo_02", "body": "\\ud800", "name": "\\udfff", "id": "x_1",'
                           b' "client_ref": "%s", "source": {"channel": "web"}}' % str(uuid.uuid4()).encode(),
        "surrogate key": b'{"\\ud800": 1}',
    }
    failures = []
    for service, method, path in json_operations(openapi, skip={SUBMIT}):
        for label, body in bodies.items():
            for who, headers in (("anonymous", {}), ("admin", bearer(tokens["admin"]))):
                answer = await probe.request(service, method, concrete(path), expect=None, what=f"{label} {who}",
                                             content=body, headers={"Content-Type": "application/json", **headers})
                if answer is None or not 400 <= answer.status_code < 500:
                    failures.append(f"{service} {method} {path} {label} ({who}): "
                                    f"{answer.status_code if answer else 'dropped'}")
    assert not failures, failures


async def test_a_query_parameter_given_twice_is_a_422_on_every_operation_that_takes_one(probe, openapi, tokens):
    # Read as its last value, a repeated parameter could widen a filter or slip past a check made
    # on the first one; no operation takes a list in the query.
    failures = []
    for service, document in openapi.items():
        for path, operations in (document or {}).get("paths", {}).items():
            for method, operation in operations.items():
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                if not names:
                    continue
                answer = await probe.request(service, method.upper(), concrete(path), expect=None,
                                             what=f"repeated ?{names[0]}", headers=bearer(tokens["admin"]),
                                             params=[(names[0], "1"), (names[0], "2")])
                if answer is None or answer.status_code != 422:
                    failures.append(f"{service} {method.upper()} {path} ?{names[0]} twice: "
                                    f"{answer.status_code if answer else 'dropped'}")
    assert not failures, failures


async def test_lone_surrogates_in_a_submitted_letter_are_a_4xx(probe):
    body = (b'{"prisoner_id": "p_demo_02", "body": "\\ud800 hi", "client_ref": "%s", "source": {"channel": "web"}}'
            % str(uuid.uuid4()).encode())
    await probe.request(*SUBMIT, expect=422, what="lone surrogate letter", content=body,
                        headers={"Content-Type": "application/json"})


# --- control characters -------------------------------------------------------------------------

FORGED = "forged-by-a-writer"
CONTROLS = {
    "nul-in-body-and-name": {
        "body": "Здравствуйте!\x00 Желаю вам здоровья.\x00",
        "author": {"display_name": "Окс\x00ана", "city": "Полт\x00ава", "contact_consent": False},
    },
    "c0-controls-and-ansi-escapes": {
        "body": "Здравствуйте!\x07\x08\x1b[2J\x1b[31m Желаю вам сил.\x7f",
        "author": {"display_name": "\x1b[1mОксана", "city": "Полтава\x0b\x0c", "contact_consent": False},
    },
    "log-line-injection": {
        "body": f'Здравствуйте!\r\n{{"event": "{FORGED}", "level": "critical"}}\n',
        "author": {"display_name": f'Оксана\n{{"event": "{FORGED}"}}', "city": "Полтава\r\n", "contact_consent": False},
    },
    "c1-controls-and-line-separators": {
        "body": "Здравствуйте!\x85\u2028\u2029\x9b31m Желаю вам здоровья.",
        "author": {"display_name": "Оксана\u2028", "contact_consent": False},
    },
}


@pytest.mark.parametrize("fields", CONTROLS.values(), ids=CONTROLS.keys())
async def test_control_characters_are_refused_or_carried_harmlessly_through_the_pipeline(probe, stack, fields):
    """Either a 422, or the letter moves on: sorting screens it without crashing (no parking)."""
    answer = await probe.request(*SUBMIT, expect=(201, 422), what="control characters", json=letter(**fields))
    if answer.status_code == 201:
        accepted = answer.json()
        path = f"/api/v1/letters/{accepted['id']}"
        deadline = time.monotonic() + 30
        status = "received"
        while time.monotonic() < deadline and status == "received":
            await asyncio.sleep(0.3)
            view = await probe.request("intake", "GET", path, expect=200, what="receipt", hostile=False,
                                       params={"receipt_token": accepted["receipt_token"]})
            status = view.json()["status"]
        assert status != "received", "sorting never moved the letter on: it crashed on it"
    for service in ("intake", "sorting", "delivery"):
        # The letter's own words never belong in a log, let alone as a line of their own.
        assert FORGED not in stack.logs(service), f"the letter's text reached the {service} log"


# --- huge bodies --------------------------------------------------------------------------------


async def send_huge(url: str, path: str, size: int, *, method: str = "POST", content_type: str = "application/json",
                    headers: dict | None = None, prefix: bytes = b"", suffix: bytes = b"",
                    chunked: bool = False) -> tuple[int | None, int, float]:
    """Stream prefix + `size` filler bytes + suffix; stop as soon as the server answers.

    Returns (status, bytes sent, seconds). The server read the whole body only if it answered
    after the last byte was sent.
    """
    total = len(prefix) + size + len(suffix)
    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port), 10)
    head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    head += "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {total}\r\n"
    writer.write(head.encode() + b"\r\n")
    started = time.monotonic()
    answer = asyncio.create_task(reader.readline())
    block = b"A" * (64 * 1024)

    def pieces():
        if prefix:
            yield prefix
        for offset in range(0, size, len(block)):
            yield block[: min(len(block), size - offset)]
        if suffix:
            yield suffix

    sent = 0
    try:
        for piece in pieces():
            if answer.done() or time.monotonic() - started > 30:
                break
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await writer.drain()
            sent += len(piece)
            await asyncio.sleep(0)
        if chunked and sent == total and not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (ConnectionError, OSError):
        pass  # the server answered and closed the connection: what a refusal looks like
    try:
        status_line = await asyncio.wait_for(answer, 30)
    except (TimeoutError, ConnectionError):
        status_line = b""
    seconds = time.monotonic() - started
    writer.close()
    match = re.match(rb"HTTP/1\.[01] (\d{3})", status_line)
    return (int(match.group(1)) if match else None), sent, seconds


async def test_a_10mb_letter_is_refused_with_413_before_it_is_read(stack, tally):
    for chunked in (False, True):
        status, sent, seconds = await send_huge(stack.url("intake"), "/api/v1/letters", TEN_MB, chunked=chunked,
                                                prefix=b'{"prisoner_id": "p_demo_02", "body": "', suffix=b'"}')
        tally.observe(f"10 MB letter (chunked={chunked})", status, {413})
        assert status == 413, f"chunked={chunked}: {status}"
        assert sent < TEN_MB, f"chunked={chunked}: the server read all 10 MB before answering"
        assert seconds < 2.0, f"chunked={chunked}: refusing took {seconds:.2f}s"


async def test_a_multipart_upload_declared_over_100mb_is_refused_before_it_is_read(stack, tally):
    status, sent, seconds = await send_huge(stack.url("intake"), "/api/v1/letters", 120 * 1024 * 1024,
                                            content_type="multipart/form-data; boundary=b0undary")
    tally.observe("120 MB multipart, length declared", status, {413})
    assert status == 413 and sent < 120 * 1024 * 1024 and seconds < 2.0


async def test_a_10mb_body_is_refused_before_it_is_read_on_every_other_json_endpoint(stack, openapi, tally):
    failures = []
    for service, method, path in json_operations(openapi, skip={SUBMIT}):
        status, sent, _ = await send_huge(stack.url(service), concrete(path), TEN_MB, method=method,
                                          prefix=b'{"body": "', suffix=b'"}')
        tally.observe(f"10 MB body to {service} {method} {path}", status, {401, 403, 413})
        if status not in (401, 403, 413) or sent >= TEN_MB:
            failures.append(f"{service} {method} {path}: {status} after reading {sent / 1e6:.1f} MB")
    assert not failures, failures


async def test_a_chunked_multipart_upload_is_refused_once_a_page_passes_10mb(stack, tally):
    boundary = "b0undary"
    prefix = (f'--{boundary}\r\nContent-Disposition: form-data; name="letter"\r\n\r\n'
              + json.dumps(letter(body="")) + f"\r\n--{boundary}\r\n"
              'Content-Disposition: form-data; name="pages"; filename="p.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
              ).encode() + b"\xff\xd8\xff"
    size = 40 * 1024 * 1024
    status, sent, _ = await send_huge(stack.url("intake"), "/api/v1/letters", size, chunked=True,
                                            content_type=f"multipart/form-data; boundary={boundary}", prefix=prefix,
                                            suffix=f"\r\n--{boundary}--\r\n".encode())
    tally.observe("40 MB chunked multipart page", status, {413})
    assert status == 413, status
    assert sent < size, f"the server read all {sent / 1e6:.0f} MB before answering {status}"


# --- deep nesting -------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, bytes]:
    return {
        f"{depth} arrays": b"[" * depth + b"]" * depth,
        f"{depth} objects": b'{"a":' * depth + b"1" + b"}" * depth,
        f"{depth} levels in a field": b'{"prisoner_id": "p_demo_02", "body": ' + b"[" * depth + b"]" * depth + b"}",
    }


async def test_deeply_nested_json_is_a_4xx_on_every_json_endpoint_without_hanging(probe, openapi, tokens):
    failures = []
    for service, method, path in json_operations(openapi):
        for label, body in {**nested(10_000), **nested(100_000)}.items():
            started = time.monotonic()
            answer = await probe.request(service, method, concrete(path), expect=None, what=label, timeout=10,
                                         content=body, headers={"Content-Type": "application/json",
                                                                **bearer(tokens["admin"])})
            seconds = time.monotonic() - started
            if answer is None or not 400 <= answer.status_code < 500 or seconds > 2:
                failures.append(f"{service} {method} {path} {label}: "
                                f"{answer.status_code if answer else 'dropped'} in {seconds:.1f}s")
    assert not failures, failures


async def test_deeply_nested_json_in_the_letter_part_of_a_multipart_submission_is_a_4xx(probe):
    for label, body in nested(10_000).items():
        await probe.request(*SUBMIT, expect=(400, 413, 422), what=f"multipart {label}",
                            files={"letter": (None, body, "application/json"), "pages": ("p.jpg", photo(), "image/jpeg")})


# --- values shaped like MongoDB operators -------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"prisoner_id": {"$ne": None}},
        {"prisoner_id": {"$gt": ""}},
        {"client_ref": {"$ne": None}},
        {"author": {"$where": "sleep(5000)"}},
        {"author": {"display_name": {"$gt": ""}}},
        {"source": {"channel": {"$in": ["web", "kiosk"]}}},
        {"body": {"$regex": ".*"}},
    ],
    ids=lambda fields: json.dumps(fields),
)
async def test_operator_shaped_values_are_refused(probe, fields):
    await probe.request(*SUBMIT, expect=422, what=f"operator-shaped {list(fields)}", json=letter(**fields))


async def test_operator_shaped_receipts_and_ids_open_nothing(probe):
    accepted = (await probe.request(*SUBMIT, expect=201, what="a letter to probe", hostile=False, json=letter())).json()
    for path, params in [
        (f"/api/v1/letters/{accepted['id']}", {"receipt_token[$ne]": "x"}),
        (f"/api/v1/letters/{accepted['id']}", {"receipt_token": '{"$ne": null}'}),
        ("/api/v1/letters/%7B%22%24ne%22%3A%20null%7D", {"receipt_token": accepted["receipt_token"]}),
        ("/api/v1/letters/..%2F..%2Fadmin", {"receipt_token": accepted["receipt_token"]}),
        ("/api/v1/letters/" + "l" * 10_000, {"receipt_token": "x"}),
    ]:
        await probe.request("intake", "GET", path, expect=404, what="operator-shaped receipt", params=params)


# --- invisible characters inside flagged words --------------------------------------------------

FLAGGED = ["Слава Украине", "Путин", "Слава ЗСУ"]
INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "zero-width non-joiner": "\u200c",
    "byte order mark": "\ufeff",
    "word joiner": "\u2060",
    "soft hyphen": "\u00ad",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "combining grapheme joiner": "\u034f",
    "variation selector": "\ufe0f",
    "mongolian vowel separator": "\u180e",
    "tag space": "\U000e0020",
}


def _spiked(word: str, char: str, every: int = 1) -> str:
    return "".join(c + (char if i % every == 0 and c != " " else "") for i, c in enumerate(word[:-1])) + word[-1]


async def check(probe, body: str, what: str):
    return await probe.request("intake", "POST", "/api/v1/letters/check", expect=200, what=what,
                               json=letter(body=body))


async def test_the_plain_words_are_flagged_and_a_kind_letter_is_not(probe):
    for word in FLAGGED:
        assert (await check(probe, f"Здравствуйте! {word}!", "plain")).json()["verdict"] == "review"
    assert (await check(probe, "Здравствуйте! Желаю вам здоровья.", "kind")).json()["verdict"] == "ok"


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("word", FLAGGED)
async def test_invisible_characters_inside_a_flagged_word_do_not_hide_it(probe, word, char):
    for body in (f"Здравствуйте! {_spiked(word, char)}! Обнимаю.",
                 f"Здравствуйте! {word[:2]}{char}{word[2:]}! Обнимаю.",
                 f"Здравствуйте! {char * 3}{word}{char * 3}"):
        answer = (await check(probe, body, f"{word} with U+{ord(char):04X}")).json()
        assert answer["verdict"] == "review", f"{body!r} passed screening"
        assert answer["findings"]


async def test_reversed_text_behind_a_right_to_left_override_is_read_as_displayed(probe):
    """Typed backwards behind U+202E, a bidi-aware screen shows the slogan: screening reads it so."""
    for body in ("Здравствуйте! \u202eениаркУ авалС", "Здравствуйте! \u202eнитуП\u202c, вот так."):
        assert (await check(probe, body, "reversed behind rlo")).json()["verdict"] == "review", repr(body)


RLO_HIDES = {
    # Screening reverses what follows U+202E; sorting's scan prints the characters in the order typed.
    "rlo-inside-putin-after-2": "Здравствуйте! Пу\u202eтин — вот так.",
    "rlo-inside-putin-after-1": "Здравствуйте! П\u202eутин",
    "rlo-inside-putin-after-3": "Здравствуйте! Пут\u202eин скоро.",
    "rlo-around-phrase": "Здравствуйте! \u202eСлава Украине\u202c, обнимаю.",
    "rlo-inside-phrase": "Здравствуйте! Слава\u202e Украине",
}


@pytest.mark.parametrize("body", RLO_HIDES.values(), ids=RLO_HIDES.keys())
async def test_a_right_to_left_override_does_not_hide_a_flagged_word_as_typed(probe, body):
    assert (await check(probe, body, "rlo as typed")).json()["verdict"] == "review"


_FORMAT_CHARS = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf" and c != 0x202E]
_DECORATIONS = [chr(c) for c in (*range(0xFE00, 0xFE10), 0x034F, 0x0301, 0x0300, *range(0xE0100, 0xE0110))]


@settings(max_examples=150, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(word=st.sampled_from(FLAGGED),
       inserts=st.lists(st.tuples(st.integers(1, 12), st.sampled_from(_FORMAT_CHARS + _DECORATIONS)),
                        min_size=1, max_size=4))
def test_any_format_character_anywhere_inside_a_flagged_word_does_not_hide_it(stack, tally, word, inserts):
    """Every Unicode format character (category Cf, except U+202E: see RLO_HIDES) and decoration mark."""
    chars = list(word)
    for position, char in sorted(inserts, reverse=True):
        chars.insert(min(position, len(chars) - 1), char)
    body = f"Здравствуйте! {''.join(chars)}! Обнимаю."
    answer = httpx.post(f"{stack.url('intake')}/api/v1/letters/check", json=letter(body=body), timeout=10,
                        verify=NO_TLS_NEEDED)
    tally.observe(f"check {body!r}", answer.status_code, {200}, answer.text)
    assert answer.status_code == 200
    verdict = answer.json()["verdict"]
    if verdict != "review":
        tally.wrongly_accepted(f"screening passed {body!r}")
    assert verdict == "review", f"{body!r} ({[f'U+{ord(c):04X}' for _, c in inserts]}) passed screening"


async def _sorting_outcome(probe, accepted: dict, timeout: float = 30) -> str:
    path = f"/api/v1/letters/{accepted['id']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = await probe.request("intake", "GET", path, expect=200, what="receipt", hostile=False,
                                   params={"receipt_token": accepted["receipt_token"]})
        if view.json()["status"] != "received":
            return view.json()["status"]
        await asyncio.sleep(0.3)
    raise AssertionError(f"sorting did not decide on {accepted['id']} within {timeout:.0f}s")


@pytest.mark.parametrize(
    "body",
    ["Здравствуйте! Слава\u200bУкраине! Обнимаю.", "Здравствуйте! П\u200dу\ufeffт\u200bин — вот так."],
    ids=["zwsp-in-phrase", "zwj-bom-zwsp-in-word"],
)
async def test_a_submitted_letter_with_a_hidden_flagged_word_waits_for_a_moderator(probe, body):
    accepted = (await probe.request(*SUBMIT, expect=201, what="hidden flagged word", json=letter(body=body))).json()
    assert accepted["verdict"] == "review"
    assert await _sorting_outcome(probe, accepted) == "review_needed"


@pytest.mark.parametrize("body", [*RLO_HIDES.values(), "Здравствуйте! \u202eениаркУ авалС"],
                         ids=[*RLO_HIDES.keys(), "reversed-behind-rlo"])
async def test_a_letter_with_direction_controls_is_refused_and_nothing_is_stored(probe, tally, body, dbs):
    """Screening could read one order and the scan print another: such a letter is refused outright."""
    sent = letter(body=body)
    refused = await probe.request(*SUBMIT, expect=422, what="direction controls", json=sent)
    assert "right-to-left" in refused.json()["detail"]
    assert dbs["intake"]["letters"].count_documents({"client_ref": sent["client_ref"]}) == 0
