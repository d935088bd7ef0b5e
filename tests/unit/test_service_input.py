"""Input every service refuses the same way, before a route sees it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from starlette.testclient import TestClient

from shared.service import (
    BodySizeLimit,
    RefuseAmbiguousInput,
    has_unpaired_surrogate,
    repeated_query_parameter,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("body", "unpaired"), [
    (rb'{"body": "\ud800"}', True),
    (rb'{"\udfff": 1}', True),
    (rb'{"body": ["ok", {"deep": "\udbff x"}]}', True),
    (rb'{"body": "\ud83d\ude00"}', False),  # a proper pair: one emoji
    (rb'{"body": "\\ud800"}', False),  # an escaped backslash followed by the letters "ud800"
    (b'{"body": "\xd0\x9f\xd1\x80\xd0\xb8"}', False),
    (rb'not json \ud800', False),  # the route refuses it with its own words
    (b"[" * 100_000 + rb'"\ud800"' + b"]" * 100_000, False),  # too deep to check: the route refuses it
])
def test_unpaired_surrogates_are_found_in_json_only_where_they_are(body, unpaired):
    assert has_unpaired_surrogate(body) is unpaired


def test_a_route_never_sees_an_unpaired_surrogate_and_other_bodies_pass_untouched():
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict:
        return {"length": len(await request.body())}

    app.add_middleware(RefuseAmbiguousInput)
    app.add_middleware(BodySizeLimit)
    client = TestClient(app)
    refused = client.post("/echo", content=rb'{"name": "\ud800"}', headers={"content-type": "application/json"})
    assert refused.status_code == 422 and refused.json() == {
        "detail": "the request contains text that is not valid Unicode"}
    passed = client.post("/echo", content=rb'{"name": "\ud83d\ude00"}', headers={"content-type": "application/json"})
    assert passed.status_code == 200 and passed.json() == {"length": 24}


@pytest.mark.parametrize(("query", "repeated"), [
    (b"", False), (b"from=2026-01-01&to=2026-02-01", False), (b"to=2026-01-01&to=2026-02-01", True),
    (b"to=&to=", True), (b"a=1&b=2&a", True), (b"t%6F=1&to=2", True),  # an escaped name is the same name
])
def test_a_query_parameter_given_twice_is_found(query, repeated):
    assert repeated_query_parameter(query) is repeated


def test_a_query_parameter_given_twice_is_refused_before_the_route():
    app = FastAPI()

    @app.get("/results")
    async def results(to: str | None = None) -> dict:
        return {"to": to}

    app.add_middleware(RefuseAmbiguousInput)
    client = TestClient(app)
    assert client.get("/results?to=2026-01-01").json() == {"to": "2026-01-01"}
    refused = client.get("/results?to=2026-01-01&to=2026-12-31")
    assert refused.status_code == 422 and refused.json() == {"detail": "a query parameter is given more than once"}
