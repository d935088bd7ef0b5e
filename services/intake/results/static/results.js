// The results page: a staff token (kept in sessionStorage), the report, its charts and exports.
// Everything on the page is written with textContent; the only HTML is the static page itself.

const TOKEN_KEY = "results-token";
const $ = (id) => document.getElementById(id);
const chartUrls = [];

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

class SignInNeeded extends Error {}

async function call(path, { as = "json" } = {}) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401 || response.status === 403) {
    throw new SignInNeeded(response.status === 403 ? "This token may not see the results." : "The token was not accepted.");
  }
  if (!response.ok) {
    let detail = `${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
  }
  return as === "blob" ? response.blob() : response.json();
}

function query() {
  const params = new URLSearchParams();
  for (const id of ["from", "to", "event"]) {
    if ($(id).value) params.set(id, $(id).value);
  }
  return params.toString();
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
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

const fmt = (value) => (value === null || value === undefined ? "—" : value.toLocaleString("en-GB"));

function card(label, value, warn = false) {
  const node = el("div", undefined, warn ? "card warn" : "card");
  node.append(el("div", fmt(value), "value"), el("div", label, "label"));
  return node;
}

function render(report) {
  const p = report.period;
  $("period").textContent = `${p.from || "From the start"} – ${p.to || report.generated_on}` +
    (p.event ? ` · event ${p.event}` : "");
  const d = report.delivery;
  $("cards").replaceChildren(
    card("letters written", report.totals.letters),
    card("prisoners written to", report.prisoners.written_to),
    card("prisoners reached (a letter passed on)", report.prisoners.reached),
    card("prisoners with ≥5 letters passed on", report.prisoners.well_reached),
    card("held prisoners without a letter", report.prisoners.held_without_letters, report.prisoners.held_without_letters > 0),
    card("median letters per held prisoner", report.prisoners.median_letters_per_held_prisoner),
    card("campaign events", report.totals.events),
    card("events abroad", report.totals.events_abroad),
    card("cities", report.totals.cities),
    card("countries", report.totals.countries),
    card("handed over", d.handed_over),
    card("blocked by the censor", d.blocked, d.blocked > 0),
    card("returned", d.returned),
    card("replies", d.replies),
    card("writing to hand-over (median)", d.handover_median),
    card("writing to hand-over (90%)", d.handover_p90),
    ...(d.stuck && d.stuck.stuck
      ? [card(`letters failed: delivery is stuck (for ${d.stuck.failing_since})`, d.stuck.failed_letters, true)] : []),
  );
  fillTable("by-month", ["Month", "Letters"], Object.entries(report.by_month));
  fillTable("by-channel", ["Channel", "Letters"], Object.entries(report.by_channel));
  fillTable("by-event", ["Event", "Letters"], report.by_event
    .map((e) => [`${e.name} — ${e.city}, ${e.country} (${e.starts_on})`, e.letters])
    .concat([["Not at an event", report.letters_without_event]]));
  fillTable("by-city", ["City", "Letters"], Object.entries(report.by_city).slice(0, 30)
    .concat([["No city given", report.letters_without_city],
      ["Not a place (a phone number, an address)", report.letters_not_a_place]]));
  const names = report.country_names || {};
  fillTable("by-country", ["Country", "Letters"], Object.entries(report.by_country)
    .map(([code, n]) => [names[code] || code, n]).concat([["No country known", report.letters_without_country]]));
  const pr = report.prisoners;
  fillTable("prisoners", ["", "Prisoners"], [
    ["In the directory", pr.in_directory], ["Held (detained or transferred)", pr.held],
    ["Written to (≥1 letter)", pr.written_to], ["Written to (≥5 letters)", pr.written_to_well],
    ["Reached (≥1 letter passed on)", pr.reached], ["Well reached (≥5 letters passed on)", pr.well_reached],
    ["Held, without a letter", pr.held_without_letters],
    ["Median letters per held prisoner", pr.median_letters_per_held_prisoner ?? "—"],
  ]);
  fillTable("per-prisoner", ["Prisoner", "Letters"], report.per_prisoner.slice(0, 15)
    .map((row) => [`${row.name_uk} / ${row.name_en}${row.status === "detained" ? "" : ` (${row.status})`}`, row.letters]),
  { zeroMarks: true });
  const m = report.moderation;
  fillTable("moderation", ["", "Letters"], [["Auto-approved", m.auto_approved], ["Approved after review", m.approved_after_review],
    ["Redacted", m.redacted], ["Rejected", m.rejected], ["Awaiting review", m.awaiting_review]]);
  fillTable("categories", ["Category", "Letters"], Object.entries(m.top_finding_categories));
  fillTable("delivery", ["", "Letters"], [["In progress", d.in_progress], ["Sent", d.sent], ["Handed over", d.handed_over],
    ["Blocked by the censor", d.blocked], ["Returned", d.returned], ["Held", d.held], ["Failed", d.failed],
    ["Letters answered", d.answered], ["Replies received", d.replies]]);
  const held = { prisoner_released: "prisoner released", prisoner_deceased: "prisoner deceased",
    no_route: "no intermediary", archived: "archived by an operator", unknown: "reason not given" };
  fillTable("reasons", ["Reason", "Letters"],
    Object.entries(d.held_by_reason || {}).map(([r, n]) => [`held: ${held[r] || r}`, n])
      .concat(Object.entries(d.failed_reasons || {}).map(([r, n]) => [`failed: ${r}`, n]))
      .concat(Object.entries(d.blocked_reasons).map(([r, n]) => [`blocked: ${r}`, n]))
      .concat(Object.entries(d.returned_reasons).map(([r, n]) => [`returned: ${r}`, n])));
}

async function loadCharts(params) {
  while (chartUrls.length) URL.revokeObjectURL(chartUrls.pop());
  await Promise.all(["letters-over-time", "cities", "prisoners"].map(async (name) => {
    const blob = await call(`/api/v1/results/charts/${name}.png?${params}`, { as: "blob" });
    const url = URL.createObjectURL(blob);
    chartUrls.push(url);
    $(`chart-${name}`).src = url;
  }));
}

async function loadAttention() {
  const params = new URLSearchParams({ days: $("days").value || "30", birthdays_within: $("birthdays").value || "30" });
  const view = await call(`/api/v1/results/attention?${params}`);
  fillTable("fewest", ["Prisoner", `Last ${view.days} days`, "All letters"],
    view.fewest_recent_letters.map((p) => [`${p.name_uk} / ${p.name_en}`, p.recent_letters, p.letters_received]));
  fillTable("birthdays-table", ["Prisoner", "Birthday", "In days"],
    view.upcoming_birthdays.map((b) => [`${b.name_uk} / ${b.name_en}`, b.on, b.in_days]));
}

async function load() {
  const params = query();
  $("status").textContent = "Counting…";
  const report = await call(`/api/v1/results?${params}`);
  render(report);
  $("status").textContent = "";
  await Promise.all([loadCharts(params), loadAttention()]);
  $("status").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}.`;
}

async function download(kind) {
  $("status").textContent = `Preparing the ${kind.toUpperCase()}…`;
  const blob = await call(`/api/v1/results/export.${kind}?${query()}`, { as: "blob" });
  const url = URL.createObjectURL(blob);
  const link = el("a");
  link.href = url;
  link.download = `campaign-results.${kind}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  $("status").textContent = `${kind.toUpperCase()} downloaded.`;
}

async function loadEvents() {
  const response = await fetch("/api/v1/events");
  if (!response.ok) return;
  for (const event of await response.json()) {
    const option = el("option", `${event.name} — ${event.city} (${event.starts_on})`);
    option.value = event.id;
    $("event").append(option);
  }
}

function showSignIn(message = "") {
  $("results").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-error").textContent = message;
  $("token").focus();
}

async function guarded(action) {
  try {
    await action();
  } catch (error) {
    if (error instanceof SignInNeeded) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(error.message);
    } else {
      $("status").textContent = `Something went wrong: ${error.message}`;
    }
  }
}

async function open() {
  $("sign-in").hidden = true;
  $("results").hidden = false;
  await guarded(load);
}

function start() {
  const now = new Date();
  $("from").value = `${now.getUTCFullYear()}-01-01`;
  $("to").value = now.toISOString().slice(0, 10);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    open();
  });
  $("filter").addEventListener("submit", (event) => { event.preventDefault(); guarded(load); });
  $("attention-form").addEventListener("submit", (event) => { event.preventDefault(); guarded(loadAttention); });
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () => guarded(() => download(button.dataset.export)));
  }
  $("print").addEventListener("click", () => window.print());
  $("sign-out").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); showSignIn(); });
  loadEvents();
  if (token()) open(); else showSignIn();
}

start();
