// The operators' monitor: polls /api/v1/monitor with the pasted staff token and redraws.
// Every value reaches the page through textContent, never as HTML.

const TOKEN_KEY = "delivery.staffToken";
const POLL_MS = 3000;
const STATES = ["queued", "bundled", "sent", "handed_over", "held", "failed", "returned", "blocked"];
const STATE_LOOK = { held: "attention", failed: "bad", returned: "bad", blocked: "bad", handed_over: "done" };

const $ = (id) => document.getElementById(id);
let timer = null;
let intermediaries = [];

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
  const response = await fetch(path, { cache: "no-store", ...options, headers });
  if (response.status === 401) {
    signOut("That token was not accepted (expired or revoked?). Paste a valid one.");
    throw new Error("unauthorised");
  }
  if (response.status === 403) {
    signOut("This token's role cannot see the monitor: it needs operator or admin.");
    throw new Error("forbidden");
  }
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error((body && (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail))) || `HTTP ${response.status}`);
  }
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function button(label, onClick, className = "small") {
  const node = el("button", label, className);
  node.type = "button";
  node.addEventListener("click", async () => {
    node.disabled = true;
    try {
      await onClick();
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

function age(seconds) {
  if (!seconds || seconds < 60) return seconds ? "under a minute" : "–";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "–";
}

function fill(tableId, rows, columns, emptyText) {
  const body = $(tableId).tBodies[0];
  const lines = rows.map((row) => {
    const tr = document.createElement("tr");
    for (const column of columns) {
      const cell = column(row);
      tr.append(cell instanceof Node && cell.nodeName === "TD" ? cell : td(cell));
    }
    return tr;
  });
  if (!lines.length) {
    const tr = document.createElement("tr");
    const cell = el("td", emptyText, "empty");
    cell.colSpan = $(tableId).tHead.rows[0].cells.length;
    tr.append(cell);
    lines.push(tr);
  }
  body.replaceChildren(...lines);
}

function td(content, className) {
  const cell = document.createElement("td");
  if (content instanceof Node) cell.append(content);
  else cell.textContent = content === null || content === undefined ? "" : String(content);
  if (className) cell.className = className;
  return cell;
}

function cellWith(className, ...nodes) {
  const cell = document.createElement("td");
  cell.className = className;
  cell.append(...nodes);
  return cell;
}

function say(text) {
  $("action-result").textContent = text;
}

async function act(description, path, body) {
  try {
    const answer = await api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    await refresh();
    return answer;
  } catch (error) {
    say(`${description} failed: ${error.message}`);
    return null;
  }
}

function renderCounts(view) {
  const tiles = STATES.map((state) => {
    const count = view.counts[state] ?? 0;
    const tile = el("div", undefined, `count ${count ? STATE_LOOK[state] || "" : ""}`.trim());
    tile.dataset.state = state;
    const value = el("dd", count);
    value.id = `count-${state}`;
    tile.append(el("dt", state.replace("_", " ")), value);
    return tile;
  });
  $("counts").replaceChildren(...tiles);
  $("oldest").textContent = age(view.oldest_waiting_s);
  // Letters a translator has not reached yet: they come to delivery only after translation and review.
  const translation = view.translation || { waiting: 0, oldest_waiting_s: 0, languages: {} };
  $("translation-waiting").textContent = String(translation.waiting);
  $("translation-oldest").textContent = translation.waiting ? age(translation.oldest_waiting_s) : "–";
  $("translation-languages").textContent = Object.entries(translation.languages)
    .map(([code, count]) => `${code} ${count}`).join(", ");
}

function renderBundles(view) {
  fill("bundles-ready", view.bundles_ready, [
    (b) => b.bundle_id,
    (b) => b.intermediary_name || b.intermediary_id,
    (b) => b.prisoner_name_ru || b.prisoner_id,
    (b) => b.channel,
    (b) => td(b.letters, "number"),
    (b) => td(b.pages, "number"),
    (b) => when(b.created_at),
    (b) => td(b.attempts, "number"),
    (b) => td(b.last_error || "", b.last_error ? "reason" : ""),
    (b) => cellWith("actions", ...bundleActions(b)),
  ], "No bundle is waiting to be sent.");
  fill("failures", view.failures, [
    (b) => b.bundle_id,
    (b) => b.intermediary_name || b.intermediary_id,
    (b) => b.prisoner_name_ru || b.prisoner_id,
    (b) => b.channel,
    (b) => td(b.letters, "number"),
    (b) => td(b.attempts, "number"),
    (b) => td(b.last_error || "", "reason"),
    (b) => cellWith("actions", button("Re-queue", async () => {
      if (await act("Re-queue", `/api/v1/bundles/${encodeURIComponent(b.bundle_id)}/requeue`)) {
        say(`Bundle ${b.bundle_id} re-queued.`);
      }
    })),
  ], "No failures.");
}

function bundleActions(bundle) {
  const path = `/api/v1/bundles/${encodeURIComponent(bundle.bundle_id)}`;
  const download = button("Download link", async () => {
    const answer = await act("Download link", `${path}/download-link`);
    if (!answer) return;
    const link = el("a", `Download ${bundle.bundle_id} (link valid ${Math.round(answer.expires_in_s / 60)} min)`);
    link.href = answer.url;
    link.rel = "noopener noreferrer";
    $("action-result").replaceChildren(link);
  }, "small secondary");
  const label = bundle.channel === "manual" ? "Mark sent" : "Send now";
  const send = button(label, async () => {
    const answer = await act(label, `${path}/send`);
    if (!answer) return;
    if (answer.bundle.state !== "sent") {
      say(`Bundle ${bundle.bundle_id} was not sent: ${answer.bundle.last_error || answer.bundle.state}`);
    } else if (answer.confirm_url && bundle.channel === "manual") {
      say(`Bundle ${bundle.bundle_id} marked sent. Give the intermediary this confirmation link (shown once): ${answer.confirm_url}`);
    } else {
      say(`Bundle ${bundle.bundle_id} sent.`);
    }
  });
  send.dataset.bundle = bundle.bundle_id;
  return [download, send];
}

function renderHeld(view) {
  fill("held", view.held, [
    (l) => l.letter_id,
    (l) => l.prisoner_name_ru || l.prisoner_id,
    (l) => td(l.reason || l.hold_kind || "", "reason"),
    (l) => when(l.held_since),
    (l) => cellWith("actions", ...heldActions(l)),
  ], "No letter is held.");
}

function heldActions(letter) {
  const path = `/api/v1/letters/${encodeURIComponent(letter.letter_id)}`;
  const reason = el("input");
  reason.placeholder = "why archive";
  reason.setAttribute("aria-label", `Reason to archive ${letter.letter_id}`);
  const archive = button("Archive", async () => {
    const why = reason.value.trim() || letter.reason || "archived by an operator";
    if (await act("Archive", `${path}/archive`, { reason: why })) say(`Letter ${letter.letter_id} archived.`);
  }, "small secondary");
  const nodes = [reason, archive];
  const choices = intermediaries.filter((i) => i.prisoner_id === letter.prisoner_id && i.active);
  if (choices.length) {
    const select = el("select");
    select.setAttribute("aria-label", `Redirect ${letter.letter_id} to`);
    for (const person of choices) {
      const option = el("option", `${person.name} (${person.channel})`);
      option.value = person.id;
      select.append(option);
    }
    const redirect = button("Redirect", async () => {
      if (await act("Redirect", `${path}/redirect`, { intermediary_id: select.value })) {
        say(`Letter ${letter.letter_id} redirected.`);
      }
    }, "small");
    nodes.push(select, redirect);
  }
  return nodes;
}

function renderBacklogs(view) {
  fill("by-intermediary", view.by_intermediary, [
    (r) => r.name || r.intermediary_id || "(no route)",
    (r) => r.prisoner_id,
    (r) => r.channel,
    (r) => td(r.letters, "number"),
    (r) => age(r.oldest_waiting_s),
  ], "Nothing waiting.");
  // Organisers look for another relative or lawyer before letters start waiting for these.
  fill("near-capacity", view.near_capacity, [
    (r) => r.name || r.intermediary_id,
    (r) => r.prisoner_id,
    (r) => td(r.letters, "number"),
    (r) => td(r.capacity_per_bundle, "number"),
    (r) => td(`${Math.round(r.load * 100)} %`, "number"),
  ], "No intermediary is near capacity.");
  fill("by-prisoner", view.by_prisoner, [
    (r) => r.name_ru || r.prisoner_id,
    (r) => el("span", r.status, `tag ${r.status}`),
    (r) => td(r.letters, "number"),
    (r) => age(r.oldest_waiting_s),
  ], "Nothing waiting.");
  fill("to-review", view.to_review, [
    (p) => p.name_ru || p.prisoner_id,
    (p) => el("span", p.status, `tag ${p.status}`),
    (p) => p.review_reason,
    (p) => cellWith("actions", button("Route checked", async () => {
      await act("Route checked", `/api/v1/prisoners/${encodeURIComponent(p.prisoner_id)}/reviewed`);
    })),
  ], "No prisoner needs a review.");
}

function renderThroughput(view) {
  const t = view.throughput;
  fill("throughput", [["Last 24 h", t.day], ["Last 7 days", t.week]], [
    ([label]) => label,
    ([, w]) => td(w.queued, "number"),
    ([, w]) => td(w.sent, "number"),
    ([, w]) => td(w.handed_over, "number"),
  ], "");
  const most = Math.max(1, ...t.sent_per_day);
  const days = t.sent_per_day.map((count, index) => {
    const item = el("li");
    const meter = el("meter");
    meter.min = 0;
    meter.max = most;
    meter.value = count;
    const ago = t.sent_per_day.length - 1 - index;
    item.append(meter, el("span", count), el("span", ago === 0 ? "today" : `−${ago} d`));
    return item;
  });
  $("sent-per-day").replaceChildren(...days);
}

function render(view) {
  renderCounts(view);
  renderBundles(view);
  renderHeld(view);
  renderBacklogs(view);
  renderThroughput(view);
  const status = $("status");
  status.textContent = `Updated ${new Date(view.generated_at).toLocaleTimeString()}`;
  status.classList.remove("stale");
}

let lastIntermediaries = 0;

async function refresh() {
  if (!token()) return;
  try {
    if (Date.now() - lastIntermediaries > 30000) {
      intermediaries = await api("/api/v1/intermediaries");
      lastIntermediaries = Date.now();
    }
    render(await api("/api/v1/monitor"));
  } catch (error) {
    if (token()) {
      $("status").textContent = `Not updated: ${error.message}. Retrying…`;
      $("status").classList.add("stale");
    }
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    await refresh();
    if (token()) schedule();
  }, POLL_MS);
}

function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  $("sign-in").hidden = true;
  $("monitor").hidden = false;
  $("sign-out").hidden = false;
  $("sign-in-error").textContent = "";
  lastIntermediaries = 0;
  refresh().then(() => token() && schedule());
}

function signOut(problem = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(timer);
  $("monitor").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("status").textContent = "";
  $("sign-in-error").textContent = problem;
  $("token").value = "";
  $("token").focus();
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (value) signIn(value);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("build").addEventListener("click", async () => {
    const report = await act("Build", "/api/v1/bundles/build", {});
    if (report) {
      const skipped = Object.keys(report.skipped).length;
      say(`${report.made.length} bundle(s) made` + (skipped ? `, ${skipped} intermediary(ies) skipped.` : "."));
    }
  });
  if (token()) signIn(token());
  else signOut();
});
