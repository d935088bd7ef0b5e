// The results page: the staff kit's sign-in and requests, the report, its charts and exports.
// Everything on the page is written with textContent; the only HTML is the static page itself.
// Texts come from results-strings.json through the kit's i18n; numbers and dates through Intl.

import "./results-strings.js";
import { $, SignedOut, el, Refused, staffSession } from "/staff-kit/kit.js";
import { formatDate, formatNumber, formatTime, has, lang, locale, onLangChange, t } from "/staff-kit/i18n.js";

const chartUrls = [];
let shown = { report: null, attention: null };

const session = staffSession({
  probe: () => `/api/v1/results?${query()}`,
  roles: "results.roles",
  desk: "results",
  onSignedIn: (report) => guarded(() => show(report, query())),
});
const call = (path, options) => session.json(path, options);

function query({ withLang = false } = {}) {
  const params = new URLSearchParams();
  for (const id of ["from", "to", "event"]) {
    if ($(id).value) params.set(id, $(id).value);
  }
  if (withLang) params.set("lang", lang());
  return params.toString();
}

function fillTable(id, header, rows, { zeroMarks = false } = {}) {
  const table = $(id);
  const caption = table.querySelector("caption");
  table.replaceChildren(caption);
  const head = el("thead");
  const headRow = el("tr");
  header.forEach((label, i) => headRow.append(el("th", label, i > 0 ? "num" : undefined)));
  head.append(headRow);
  const body = el("tbody");
  if (rows.length === 0) {
    const tr = el("tr");
    const td = el("td", "—");
    td.colSpan = header.length;
    tr.append(td);
    body.append(tr);
  }
  for (const row of rows) {
    const tr = el("tr");
    row.forEach((cell, i) => tr.append(el("td", cell, i > 0 ? "num" : undefined)));
    if (zeroMarks && row[row.length - 1] === 0) tr.className = "zero";
    body.append(tr);
  }
  table.append(head, body);
}

const fmt = (value) => formatNumber(value);
const day = (iso) => (iso ? formatDate(`${iso}T00:00:00Z`, { dateStyle: "medium", timeZone: "UTC" }) : "");
const month = (key) => formatDate(`${key}-01T00:00:00Z`, { month: "long", year: "numeric", timeZone: "UTC" });
// A value the server names (a channel, a hold's kind): its label if the catalogue has one, else as given.
const label = (prefix, key) => (has(`${prefix}.${key}`) ? t(`${prefix}.${key}`) : key);

// The same units as domain.duration_parts (under a minute; minutes; hours up to two days; days), written by Intl.
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return t("results.duration.underMinute");
  const [amount, unit] = seconds < 3600 ? [Math.round(seconds / 60), "minute"]
    : seconds < 48 * 3600 ? [Math.round(seconds / 360) / 10, "hour"] : [Math.round(seconds / 8640) / 10, "day"];
  return new Intl.NumberFormat(locale(), { style: "unit", unit, unitDisplay: "long" }).format(amount);
}

function card(text, value, warn = false) {
  const node = el("div", undefined, warn ? "card warn" : "card");
  node.append(el("div", fmt(value), "value"), el("div", text, "label"));
  return node;
}

function render(report) {
  shown.report = report;
  const p = report.period;
  $("period").textContent = `${p.from ? day(p.from) : t("results.period.start")} – ${day(p.to || report.generated_on)}` +
    (p.event ? ` · ${t("results.period.event", { event: p.event })}` : "");
  const d = report.delivery;
  $("cards").replaceChildren(
    card(t("results.card.letters"), report.totals.letters),
    card(t("results.card.writtenTo"), report.prisoners.written_to),
    card(t("results.card.reached"), report.prisoners.reached),
    card(t("results.card.wellReached"), report.prisoners.well_reached),
    card(t("results.card.heldWithout"), report.prisoners.held_without_letters, report.prisoners.held_without_letters > 0),
    card(t("results.card.median"), report.prisoners.median_letters_per_held_prisoner),
    card(t("results.card.events"), report.totals.events),
    card(t("results.card.eventsAbroad"), report.totals.events_abroad),
    card(t("results.card.cities"), report.totals.cities),
    card(t("results.card.countries"), report.totals.countries),
    card(t("results.card.handedOver"), d.handed_over),
    card(t("results.card.blocked"), d.blocked, d.blocked > 0),
    card(t("results.card.returned"), d.returned),
    card(t("results.card.replies"), d.replies),
    card(t("results.card.handoverMedian"), duration(d.handover_seconds_median)),
    card(t("results.card.handoverP90"), duration(d.handover_seconds_p90)),
    ...(d.stuck && d.stuck.stuck
      ? [card(t("results.card.stuck", { since: duration(d.stuck.failing_since_s) }), d.stuck.failed_letters, true)] : []),
  );
  const letters = t("results.col.letters");
  const rows = (mapping, name = (key) => key) => Object.entries(mapping).map(([key, n]) => [name(key), fmt(n)]);
  fillTable("by-month", [t("results.col.month"), letters], rows(report.by_month, month));
  fillTable("by-channel", [t("results.col.channel"), letters], rows(report.by_channel, (c) => label("results.channel", c)));
  fillTable("by-event", [t("results.col.event"), letters], report.by_event
    .map((e) => [`${e.name} — ${e.city}, ${e.country} (${day(e.starts_on)})`, fmt(e.letters)])
    .concat([[t("results.row.notAtEvent"), fmt(report.letters_without_event)]]));
  fillTable("by-city", [t("results.col.city"), letters], rows(report.by_city).slice(0, 30)
    .concat([[t("results.row.noCity"), fmt(report.letters_without_city)],
      [t("results.row.notAPlace"), fmt(report.letters_not_a_place)]]));
  const countries = new Intl.DisplayNames([locale()], { type: "region", fallback: "none" });
  const country = (code) => (/^[A-Z]{2}$/.test(code) && countries.of(code)) || (report.country_names || {})[code] || code;
  fillTable("by-country", [t("results.col.country"), letters], rows(report.by_country, country)
    .concat([[t("results.row.noCountry"), fmt(report.letters_without_country)]]));
  const pr = report.prisoners;
  fillTable("prisoners", ["", t("results.col.prisoners")], [
    [t("results.row.inDirectory"), pr.in_directory], [t("results.row.held"), pr.held],
    [t("results.row.writtenTo"), pr.written_to], [t("results.row.writtenToWell"), pr.written_to_well],
    [t("results.row.reached"), pr.reached], [t("results.row.wellReached"), pr.well_reached],
    [t("results.row.heldWithout"), pr.held_without_letters],
    [t("results.row.median"), pr.median_letters_per_held_prisoner],
  ].map(([name, n]) => [name, fmt(n)]));
  fillTable("per-prisoner", [t("results.col.prisoner"), letters], report.per_prisoner.slice(0, 15)
    .map((row) => [`${row.name_uk} / ${row.name_en}${row.status === "detained" ? ""
      : ` (${label("results.prisonerStatus", row.status)})`}`, row.letters]),
  { zeroMarks: true });
  const m = report.moderation;
  fillTable("moderation", ["", letters], [[t("results.row.autoApproved"), m.auto_approved],
    [t("results.row.approvedAfterReview"), m.approved_after_review], [t("results.row.redacted"), m.redacted],
    [t("results.row.rejected"), m.rejected], [t("results.row.awaitingReview"), m.awaiting_review]]
    .map(([name, n]) => [name, fmt(n)]));
  fillTable("categories", [t("results.col.category"), letters], rows(m.top_finding_categories));
  fillTable("delivery", ["", letters], [[t("results.row.inProgress"), d.in_progress], [t("results.row.sent"), d.sent],
    [t("results.row.handedOver"), d.handed_over], [t("results.row.blocked"), d.blocked],
    [t("results.row.returned"), d.returned], [t("results.row.heldLetters"), d.held], [t("results.row.failed"), d.failed],
    [t("results.row.answered"), d.answered], [t("results.row.replies"), d.replies]].map(([name, n]) => [name, fmt(n)]));
  const why = (kind, reasons, name = (r) => r) => Object.entries(reasons || {})
    .map(([r, n]) => [t(`results.reason.${kind}`, { reason: name(r) }), fmt(n)]);
  fillTable("reasons", [t("results.col.reason"), letters],
    why("held", d.held_by_reason, (r) => label("results.hold", r))
      .concat(why("failed", d.failed_reasons), why("blocked", d.blocked_reasons), why("returned", d.returned_reasons)));
}

async function loadCharts(params) {
  while (chartUrls.length) URL.revokeObjectURL(chartUrls.pop());
  await Promise.all(["letters-over-time", "cities", "prisoners"].map(async (name) => {
    const blob = await call(`/api/v1/results/charts/${name}.png?${params}&lang=${lang()}`, { as: "blob" });
    const url = URL.createObjectURL(blob);
    chartUrls.push(url);
    $(`chart-${name}`).src = url;
  }));
}

async function loadAttention() {
  const params = new URLSearchParams({ days: $("days").value || "30", birthdays_within: $("birthdays").value || "30" });
  renderAttention(await call(`/api/v1/results/attention?${params}`));
}

function renderAttention(view) {
  shown.attention = view;
  fillTable("fewest", [t("results.col.prisoner"), t("results.col.lastDays", { days: fmt(view.days) }),
    t("results.col.allLetters")],
  view.fewest_recent_letters.map((p) => [`${p.name_uk} / ${p.name_en}`, fmt(p.recent_letters), fmt(p.letters_received)]));
  fillTable("birthdays-table", [t("results.col.prisoner"), t("results.col.birthday"), t("results.col.inDays")],
    view.upcoming_birthdays.map((b) => [`${b.name_uk} / ${b.name_en}`, day(b.on), fmt(b.in_days)]));
}

async function load() {
  const params = query();
  $("status").textContent = t("results.counting");
  await show(await call(`/api/v1/results?${params}`), params);
}

// The report first, then its charts and the fair-attention tables.
async function show(report, params) {
  render(report);
  $("status").textContent = "";
  await Promise.all([loadCharts(params), loadAttention()]);
  $("status").textContent = t("results.updated", { time: formatTime(new Date()) });
}

async function download(kind) {
  $("status").textContent = t("results.preparing", { kind: kind.toUpperCase() });
  const blob = await call(`/api/v1/results/export.${kind}?${query({ withLang: true })}`, { as: "blob" });
  const url = URL.createObjectURL(blob);
  const link = el("a");
  link.href = url;
  link.download = `campaign-results.${kind}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  $("status").textContent = t("results.downloaded", { kind: kind.toUpperCase() });
}

async function loadEvents() {
  const response = await fetch("/api/v1/events");
  if (!response.ok) return;
  for (const event of await response.json()) {
    const option = el("option", `${event.name} — ${event.city} (${day(event.starts_on)})`);
    option.value = event.id;
    $("event").append(option);
  }
}

// A 401 or 403 the kit has already handled (sign-in again, or said so); anything else is said in the status.
async function guarded(action) {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof SignedOut || error instanceof Refused)) {
      $("status").textContent = t("results.error", { message: error.message });
    }
  }
}

function translatePage() {
  $("public-link").href = `/campaign?lang=${lang()}`;
}

function start() {
  translatePage();
  onLangChange(() => {
    translatePage();
    if (shown.report) render(shown.report);
    if (shown.attention) renderAttention(shown.attention);
    if (shown.report) guarded(() => loadCharts(query()));
  });
  const now = new Date();
  $("from").value = `${now.getUTCFullYear()}-01-01`;
  $("to").value = now.toISOString().slice(0, 10);
  $("filter").addEventListener("submit", (event) => { event.preventDefault(); guarded(load); });
  $("attention-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadAttention); });
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () => guarded(() => download(button.dataset.export)));
  }
  $("print").addEventListener("click", () => window.print());
  loadEvents();
  session.start();
}

start();
