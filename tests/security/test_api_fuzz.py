"""Schemathesis drives every operation of every service's OpenAPI document with generated and
malformed input: no 500, no answer that shows internals, no accepted request that breaks the
documented limits. Once anonymously, once with the admin token, so the staff routes are exercised
past their 401.

Derandomized (the same cases on every run) and bounded per operation, so the whole fuzz run stays
under three minutes. It runs after the other hostile-input tests (see conftest), because with the
admin token it may edit prisoners, events and moderation decisions.
"""

from __future__ import annotations

import json
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, assume, settings
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.security.conftest import internals_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Per operation: max_examples generated cases, on top of the schema's own examples and the coverage
# phase's boundary cases. No shrinking: a failure is reported as found, and a run stays bounded.
FUZZ = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
CHECKS = [not_a_server_error, negative_data_rejection]
# A refusal of input outside the schema: the usual 4xx, and also "too large" (413) and "header too large" (431).
# Only the Authorization header is masked in reproductions: "author" (the writer's fields) stays readable.
CONFIG = SchemathesisConfig.from_str("""
[output.sanitization]
keys-to-sanitize = ["authorization"]
sensitive-markers = ["authorization"]
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "431", "5xx"]
""")


def _load(stack, service: str):
    try:
        return schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json", config=CONFIG, timeout=10)
    except Exception as error:  # noqa: BLE001 - whatever breaks the document, the test says so
        # A broken document is a failure, not a skip: the fuzzer would otherwise test nothing and pass.
        pytest.fail(f"{service} serves no usable OpenAPI document: {type(error).__name__}: {error}")


@pytest.fixture(scope="module")
def intake_schema(stack):
    return _load(stack, "intake")


@pytest.fixture(scope="module")
def sorting_schema(stack):
    return _load(stack, "sorting")


@pytest.fixture(scope="module")
def delivery_schema(stack):
    return _load(stack, "delivery")


@pytest.fixture(autouse=True)
def _schemathesis_lazy_schemas_on_pytest_9(request):
    """schemathesis 4.32.5's lazy schemas read and write `node._nodeid`, which pytest 9 no longer has
    (its node ids live in `node._id`); give it the attribute so it can label the subtests."""
    if "_nodeid" not in vars(request.node):
        request.node._nodeid = request.node.nodeid


intake = schemathesis.pytest.from_fixture("intake_schema")
sorting = schemathesis.pytest.from_fixture("sorting_schema")
delivery = schemathesis.pytest.from_fixture("delivery_schema")


def _sent(case) -> str:
    parts = [case.formatted_path, json.dumps(case.query or {}, default=str), json.dumps(case.headers or {}, default=str)]
    body = case.body
    if isinstance(body, bytes):
        parts.append(body.decode("utf-8", "replace"))
    elif body is not None:
        parts.append(json.dumps(body, default=str, ensure_ascii=False))
    return "\n".join(parts)


# Values the HTTP client cannot put on the wire at all (a lone surrogate has no UTF-8 form, a header
# is Latin-1): hypothesis discards such cases instead of counting the client's error as the server's.
def _unsendable(case) -> bool:
    headers = [str(v) for v in (case.headers or {}).values()]
    return _has_lone_surrogates(case.query) or _has_lone_surrogates(case.path_parameters) or not all(
        _latin1(value) for value in headers)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _has_lone_surrogates(value) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= char <= "\udfff" for char in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogates(k) or _has_lone_surrogates(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_lone_surrogates(item) for item in value)
    return False


_BOOLEAN_WORDS = {"0", "1", "true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}


def _lax_coercion_only(case, group: BaseException) -> bool:
    """Whether every accepted 'negative' value is one pydantic's lax mode reads as the declared type
    (0/1 or "yes" for a boolean, "5" for an integer, "0" as a Unix time for a date): a looser type,
    not a broken limit."""
    failures = getattr(group, "exceptions", (group,))
    for failure in failures:
        text = str(getattr(failure, "message", failure))
        found = re.search(r"Invalid component: (?:parameter `[^`]+` )?in (body|query|path|header) - (.+?): Incorrect type",
                          text)
        if type(failure).__name__ != "AcceptedNegativeData" or not found:
            return False
        value = {"body": case.body, "query": case.query, "path": case.path_parameters, "header": case.headers}[
            found.group(1)]
        for key in found.group(2).split(" -> "):
            if not isinstance(value, dict) or key not in value:
                return False
            value = value[key]
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        coercible = (
            (isinstance(value, int) and not isinstance(value, bool) and value in (0, 1))
            or (isinstance(value, str) and (value.strip().lower() in _BOOLEAN_WORDS
                                            or re.fullmatch(r"\s*-?\d+(\.0*)?\s*", value)))
            or (isinstance(value, float) and value.is_integer())
        )
        if not coercible:
            return False
    return True


def fuzz(case, tally, token: str | None) -> None:
    if token:
        # Set on the case itself, so schemathesis re-validates what is really sent: a case whose only
        # flaw was a generated Authorization header is no longer "negative".
        case.headers = {**{k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"},
                        "Authorization": f"Bearer {token}"}
    assume(not _unsendable(case))
    label = f"fuzz{' as admin' if token else ''} {case.operation.label}"
    try:
        response = case.call(timeout=15)
    except Exception as error:
        tally.observe(label, None, ())
        raise AssertionError(f"{label}: no answer ({type(error).__name__})\n{case.as_curl_command()}") from error
    sent = _sent(case)
    text = response.content.decode("utf-8", "replace")  # exports may be binary
    tally.observe(label, response.status_code, (), text, sent)
    try:
        case.validate_response(response, checks=CHECKS)
    except BaseException as failures:  # schemathesis raises a FailureGroup (a BaseExceptionGroup)
        if 200 <= response.status_code < 300:
            if _lax_coercion_only(case, failures):
                return
            tally.wrongly_accepted(f"{label}: {response.status_code} for input outside the schema")
        raise
    shown = internals_in(text, sent)
    assert not shown, f"{label}: the answer shows {shown}: {text[:300]}\n{case.as_curl_command()}"


@FUZZ
@intake.parametrize()
def test_intake_anonymous(case, tally):
    fuzz(case, tally, None)


@FUZZ
@intake.parametrize()
def test_intake_as_admin(case, tally, tokens):
    fuzz(case, tally, tokens["admin"])


@FUZZ
@sorting.parametrize()
def test_sorting_anonymous(case, tally):
    fuzz(case, tally, None)


@FUZZ
@sorting.parametrize()
def test_sorting_as_admin(case, tally, tokens):
    fuzz(case, tally, tokens["admin"])


@FUZZ
@delivery.parametrize()
def test_delivery_anonymous(case, tally):
    fuzz(case, tally, None)


@FUZZ
@delivery.parametrize()
def test_delivery_as_admin(case, tally, tokens):
    fuzz(case, tally, tokens["admin"])
