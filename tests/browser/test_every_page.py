"""Every page of every service, visited once in a real Chromium at desktop size and audited three ways:

* it asks nothing of another origin (every request is intercepted; one to elsewhere is refused,
  recorded and fails the audit, so a CDN link can never slip back in, and no traffic ever leaves
  the machine);
* axe-core (shipped by axe-playwright-python) finds no serious or critical violation;
* each control reached with Tab shows a focus indicator of at least 3:1 against what surrounds it
  (WCAG 2.2, 1.4.11 and 2.4.13).

The API documentation pages must really render: Swagger UI lists operations, ReDoc titles one, the
AsyncAPI page names a channel. The pages are found from the services' own routes, so a page added
without being audited fails `test_every_page_of_every_service_is_audited`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, expect

from tests.browser.conftest import open_context
from tests.browser.kiosk import pair_kiosk
from tests.browser.operators import Operators
from tests.browser.test_moderation_page import photo, submit

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 900}
# WCAG 2.2 asks 3:1 for a focus indicator against the colours next to it (1.4.11, 2.4.13).
FOCUS_CONTRAST = 3.0
# Enough Tab presses to reach every kind of control on the longest page, not every row of a table.
TAB_STOPS = 40
SERIOUS = {"serious", "critical"}
# Routes that are not pages: JSON, metrics, the service worker script (and /api-docs/ scripts, the static mounts).
NOT_PAGES = {"/openapi.json", "/asyncapi.json", "/healthz", "/readyz", "/metrics", "/kiosk-sw.js"}

Ready = Callable[[Page], Awaitable[None]]


@dataclass
class Visit:
    name: str
    service: str
    path: str
    ready: Ready
    route: str = ""  # the route it exercises, when not the path itself
    staff_token: str | None = None  # signs in through the page's own form first
    status: int = 200
    has_controls: bool = True
    # Other origins the page may load from: the object store that presigned page links point at,
    # named in the page's own policy.
    also: tuple[str, ...] = ()


@dataclass
class Audit:
    foreign: list[str] = field(default_factory=list)
    violations: dict[str, list[str]] = field(default_factory=dict)
    weak_focus: dict[str, list[str]] = field(default_factory=dict)
    focus_checked: dict[str, int | None] = field(default_factory=dict)  # None: a page without controls
    rendered: dict[str, str] = field(default_factory=dict)
    visited: set[tuple[str, str]] = field(default_factory=set)  # (service, route)


def visible(selector: str) -> Ready:
    async def ready(page: Page) -> None:
        await expect(page.locator(selector).first).to_be_visible()

    return ready


async def kiosk_paired(page: Page) -> None:
    await pair_kiosk(page)
    await expect(page.locator("#screen-home")).to_be_visible()


def letter_open(letter_id: str) -> Ready:
    async def ready(page: Page) -> None:
        await page.locator(f'.queue-item[data-letter-id="{letter_id}"] button.open').click()
        await expect(page.locator("#letter")).to_have_attribute("data-letter-id", letter_id)
        await expect(page.locator("#letter-pages img").first).to_be_visible()

    return ready


def remember_text(audit: Audit, name: str, selector: str) -> Ready:
    async def ready(page: Page) -> None:
        element = page.locator(selector).first
        await expect(element).to_be_visible(timeout=30_000)
        audit.rendered[name] = (await element.text_content() or "").strip()

    return ready


def docs_visits(audit: Audit, service: str, channel: str) -> list[Visit]:
    return [
        Visit(f"{service} /docs", service, "/docs", remember_text(audit, f"{service} /docs", ".opblock-summary-path")),
        Visit(f"{service} /redoc", service, "/redoc",
              remember_text(audit, f"{service} /redoc", '[id^="operation/"] h2')),
        Visit(f"{service} /asyncapi", service, "/asyncapi",
              remember_text(audit, f"{service} /asyncapi", f'#channels code.address:text-is("{channel}")')),
    ]


async def first_channel(base_url: str) -> str:
    async with httpx.AsyncClient(base_url=base_url) as http:
        document = (await http.get("/asyncapi.json")).json()
    return next(iter(document["channels"].values()))["address"]


async def receipt_link(stack) -> str:
    async with httpx.AsyncClient(base_url=stack.url("intake"), timeout=30) as http:
        answer = await http.post("/api/v1/letters", json={
            "prisoner_id": "p_demo_01", "client_ref": str(uuid.uuid4()), "source": {"channel": "web"},
            "body": "Здравствуйте! У нас выпал первый снег. Желаю вам здоровья.",
            "author": {"display_name": "Оксана", "city": "Полтава"}})
    assert answer.status_code == 201, answer.text
    letter = answer.json()
    return f"/receipt#{letter['id']}.{letter['receipt_token']}"


async def confirmation_path(stack) -> str:
    """A manual bundle marked sent: its intermediary's personal confirmation link."""
    operators = Operators(stack)
    try:
        return await operators.confirmation_path("Эдем Проверочный", 1)
    finally:
        await operators.close()


async def every_visit(stack, audit: Audit) -> list[Visit]:
    moderator = stack.demo_token("staff token (moderator)")
    operator = stack.demo_token("staff token (operator)")
    handwritten = await submit(stack, "", pages=[photo()])
    object_store = "{0.scheme}://{0.netloc}".format(urlsplit(stack.infra.s3_endpoint_url))
    visits = [
        Visit("writer page", "intake", "/", visible("label.prisoner")),
        Visit("receipt", "intake", await receipt_link(stack), visible("#status-now"), route="/receipt"),
        Visit("kiosk, pairing", "intake", f"/kiosk#token={stack.demo_token('kiosk token')}", visible("#setup-pin"),
              route="/kiosk"),
        Visit("kiosk", "intake", f"/kiosk#token={stack.demo_token('kiosk token')}", kiosk_paired,
              route="/kiosk"),
        Visit("results, sign-in", "intake", "/results", visible("#token")),
        Visit("results", "intake", "/results", visible("#cards .card"), staff_token=operator),
        Visit("public results", "intake", "/campaign", visible("#cards .card")),
        Visit("directory import, sign-in", "intake", "/staff/directory-import", visible("#token")),
        Visit("directory import", "intake", "/staff/directory-import", visible("#upload-form"), staff_token=operator),
        Visit("moderation, sign-in", "sorting", "/moderation", visible("#token")),
        Visit("moderation", "sorting", "/moderation", visible("#desk"), staff_token=moderator, also=(object_store,)),
        Visit("moderation, a handwritten letter open", "sorting", "/moderation", letter_open(handwritten["id"]),
              staff_token=moderator, also=(object_store,)),
        Visit("translation, sign-in", "sorting", "/translation", visible("#token")),
        Visit("translation", "sorting", "/translation", visible("#desk"), staff_token=moderator),
        Visit("monitor, sign-in", "delivery", "/monitor", visible("#token")),
        Visit("monitor", "delivery", "/monitor", visible("#monitor"), staff_token=operator),
        Visit("confirmation", "delivery", await confirmation_path(stack), visible("form button"),
              route="/confirm/{token}"),
        Visit("confirmation, expired link", "delivery", "/confirm/not-a-link", visible("h1"),
              route="/confirm/{token}", status=404, has_controls=False),
    ]
    for service in ("intake", "sorting", "delivery"):
        visits += docs_visits(audit, service, await first_channel(stack.url(service)))
    return visits


FOCUS_PROBE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  // The outline is drawn outside the element (unless inset): what it lies on are the backgrounds
  // of its ancestors, translucent ones laid over the first opaque one (the canvas is white).
  const layers = [];
  for (let node = parseFloat(style.outlineOffset) < 0 ? element : element.parentElement; node;
       node = node.parentElement) {
    const [r, g, b, a = 1] = getComputedStyle(node).backgroundColor.match(/[\\d.]+/g).map(Number);
    if (a > 0) layers.push([r, g, b, a]);
    if (a >= 1) break;
  }
  const behind = layers.reverse().reduce(
    (under, [r, g, b, a]) => [r, g, b].map((value, i) => a * value + (1 - a) * under[i]), [255, 255, 255]);
  const label = element.id ? `#${element.id}` : `${element.tagName.toLowerCase()}${
    element.className && typeof element.className === "string" ? "." + element.className.trim().split(/\\s+/).join(".") : ""}`;
  return {
    label: `${label} "${(element.innerText || element.value || element.getAttribute("aria-label") || "").trim().slice(0, 30)}"`,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor,
    boxShadow: style.boxShadow,
    background: `rgb(${behind.map(Math.round).join(", ")})`,
  };
}"""


def channels(colour: str) -> tuple[float, float, float, float]:
    numbers = colour[colour.index("(") + 1:colour.index(")")].replace("/", ",").split(",")
    values = [float(part) for part in numbers if part.strip()]
    return (*values[:3], values[3] if len(values) > 3 else 1.0)


def luminance(red: float, green: float, blue: float) -> float:
    def linear(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of a (possibly translucent) colour laid on an opaque background."""
    *front, alpha = channels(foreground)
    back = channels(background)[:3]
    laid = [alpha * f + (1 - alpha) * b for f, b in zip(front, back, strict=True)]
    lighter, darker = sorted((luminance(*laid), luminance(*back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def indicator_colours(probe: dict) -> list[str]:
    """The colours of a focus indicator: its outline and the first colour of a box-shadow ring."""
    colours = []
    if probe["outlineStyle"] != "none" and probe["outlineWidth"] > 0:
        colours.append(probe["outlineColor"])
    if probe["boxShadow"] not in ("", "none"):
        colours.append(probe["boxShadow"][:probe["boxShadow"].index(")") + 1])
    return colours


async def audit_focus(page: Page, visit: Visit, audit: Audit) -> None:
    await page.locator("body").focus()
    seen: set[str] = set()
    weak = audit.weak_focus.setdefault(visit.name, [])
    for _ in range(TAB_STOPS):
        await page.keyboard.press("Tab")
        probe = await page.evaluate(FOCUS_PROBE)
        if probe is None or probe["label"] in seen:
            continue
        seen.add(probe["label"])
        colours = indicator_colours(probe)
        if not colours:
            weak.append(f"{probe['label']}: no focus indicator")
            continue
        # A two-colour ring (white inside dark) counts by its better half, as WCAG 2.4.13 allows.
        ratio = max(contrast(colour, probe["background"]) for colour in colours)
        if ratio < FOCUS_CONTRAST:
            weak.append(f"{probe['label']}: {' and '.join(colours)} on {probe['background']} is {ratio:.2f}:1")
    audit.focus_checked[visit.name] = len(seen) if visit.has_controls else None


def only_own_origin(origins: tuple[str, ...], name: str, audit: Audit) -> Callable[[Route], Awaitable[None]]:
    """A route handler: the service's own origin passes, anything else is refused and recorded."""

    async def handle(route: Route) -> None:
        url = route.request.url
        if url.startswith((*(f"{origin}/" for origin in origins), "data:", "blob:")):
            await route.continue_()
        else:
            audit.foreign.append(f"{name}: {route.request.resource_type} {url}")
            await route.abort("blockedbyclient")

    return handle


async def sign_in(page: Page, token: str) -> None:
    await page.locator("#token").fill(token)
    await page.locator("#token").press("Enter")
    await expect(page.locator("#token")).to_be_hidden()


@pytest.fixture(scope="module")
async def audit(browser, stack) -> Audit:
    audit = Audit()
    visits = await every_visit(stack, audit)
    axe = Axe()
    for visit in visits:
        origin = stack.url(visit.service)
        async with open_context(browser, origin, viewport=DESKTOP, service_workers="block") as browsing:
            await browsing.context.route("**/*", only_own_origin((origin, *visit.also), visit.name, audit))
            page = await browsing.new_page()
            response = await page.goto(visit.path)
            assert response is not None and response.status == visit.status, visit.name
            if visit.status != 200:  # the page itself, answered as it should be, is no problem
                browsing.problems.errors[:] = [e for e in browsing.problems.errors if f"{visit.status}" not in e]
            if visit.staff_token:
                await sign_in(page, visit.staff_token)
            await visit.ready(page)
            results = await axe.run(page)
            audit.violations[visit.name] = [
                f"{v['id']} ({v['impact']}): {v['help']} — "
                + "; ".join(node["target"][0] if isinstance(node["target"][0], str) else json.dumps(node["target"])
                            for node in v["nodes"][:5])
                for v in results.response["violations"] if v["impact"] in SERIOUS]
            await audit_focus(page, visit, audit)
            # What was refused is recorded in audit.foreign, and fails its own test.
            browsing.problems.errors[:] = [e for e in browsing.problems.errors if "ERR_BLOCKED_BY_CLIENT" not in e]
    audit.visited = {(visit.service, visit.route or urlsplit(visit.path).path) for visit in visits}
    return audit


def page_routes(service: str) -> set[str]:
    """The GET routes of a service that answer with a page, from its FastAPI app."""
    from services.delivery.main import create_app as delivery_app
    from services.intake.main import create_app as intake_app
    from services.sorting.main import create_app as sorting_app

    app = {"intake": intake_app, "sorting": sorting_app, "delivery": delivery_app}[service]()
    return {route.path for route in app.routes
            if "GET" in (getattr(route, "methods", None) or ()) and not route.path.startswith(("/api/", "/api-docs/"))
            and route.path not in NOT_PAGES}


@pytest.mark.parametrize("service", ["intake", "sorting", "delivery"])
async def test_every_page_of_every_service_is_audited(audit, service):
    assert page_routes(service) <= {route for owner, route in audit.visited if owner == service}


async def test_no_page_requests_anything_from_another_origin(audit):
    assert audit.foreign == []


async def test_the_api_documentation_pages_render_offline(audit, stack):
    for service in ("intake", "sorting", "delivery"):
        assert audit.rendered[f"{service} /docs"].startswith("/"), audit.rendered
        assert audit.rendered[f"{service} /redoc"], audit.rendered
        assert audit.rendered[f"{service} /asyncapi"] == await first_channel(stack.url(service))


async def test_no_page_has_a_serious_or_critical_accessibility_violation(audit):
    found = {name: problems for name, problems in audit.violations.items() if problems}
    assert found == {}, json.dumps(found, indent=1, ensure_ascii=False)


async def test_focus_indicators_contrast_at_least_3_to_1_with_their_background(audit):
    weak = {name: problems for name, problems in audit.weak_focus.items() if problems}
    assert weak == {}, json.dumps(weak, indent=1, ensure_ascii=False)
    unreached = [name for name, count in audit.focus_checked.items() if count == 0]
    assert unreached == [], f"Tab reached no control on {unreached}"


@pytest.mark.parametrize("service", ["intake", "sorting", "delivery"])
async def test_the_documentation_pages_are_our_own_files_under_the_strict_policy(stack, service):
    async with httpx.AsyncClient(base_url=stack.url(service)) as http:
        for path in ("/docs", "/redoc", "/asyncapi"):
            answer = await http.get(path)
            assert answer.status_code == 200, path
            policy = answer.headers["content-security-policy"]
            assert "script-src 'self';" in policy and "connect-src 'self';" in policy, path
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
            assert "<script>" not in answer.text and "<style" not in answer.text and " style=" not in answer.text
            assert "https://" not in answer.text and "http://" not in answer.text, path
        redoc = await http.get("/api-docs/redoc.standalone.js")
        assert b"cdn.redoc.ly" not in redoc.content
