// The moderators' page. Letters are shown with textContent only: whatever a writer typed,
// including <script> or HTML, is text here. Offsets from the API count Unicode code points.

const TOKEN_KEY = "moderation.token";
const API = "/api/v1/moderation";
const REASONS = {
  findings: "flagged by screening",
  handwritten: "handwritten",
  prisoner_released: "prisoner released",
  prisoner_deceased: "prisoner deceased",
};
const REFUSALS = {
  has_findings: "has findings",
  handwritten: "handwritten",
  not_in_review: "no longer in review",
  unknown: "unknown letter",
};

const $ = (id) => document.getElementById(id);
const state = { letters: [], current: null, letter: null, selection: null, chosen: new Set() };

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function notice(text, kind = "info") {
  const box = $("notice");
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = !text;
}

// --- the API -------------------------------------------------------------------------------------

class SignedOut extends Error {}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut("Your token was not accepted (or has expired). Paste it again.");
    throw new SignedOut();
  }
  return { status: response.status, ok: response.ok, data };
}

function detail(data) {
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  return "something went wrong";
}

// --- signing in ----------------------------------------------------------------------------------

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = message;
  $("waiting").textContent = "";
  $("token").focus();
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  const answer = await api("/facets");
  if (answer.status === 403) {
    signOut("This token belongs to someone who is not a moderator.");
    return;
  }
  if (!answer.ok) {
    signOut(detail(answer.data));
    return;
  }
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  fillFilters(answer.data);
  await loadQueue();
}

// --- the queue -----------------------------------------------------------------------------------

function fillFilters(facets) {
  const fill = (select, items, label) => {
    const chosen = select.value;
    select.replaceChildren(el("option", "all"));
    select.firstChild.value = "";
    for (const item of items) {
      const option = el("option", `${label(item)} (${item.count})`);
      option.value = item.id;
      select.append(option);
    }
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  };
  fill($("filter-prisoner"), facets.prisoners, (p) => p.name || p.id);
  fill($("filter-event"), facets.campaign_events, (e) => e.id);
}

function filterQuery() {
  const params = new URLSearchParams({ limit: "100" });
  for (const id of ["filter-prisoner", "filter-event", "filter-language"]) {
    const select = $(id);
    if (select.value) params.set(select.name, select.value);
  }
  return params.toString();
}

async function loadQueue() {
  const [queue, facets] = await Promise.all([api(`/letters?${filterQuery()}`), api("/facets")]);
  if (!queue.ok) {
    notice(detail(queue.data), "error");
    return;
  }
  if (facets.ok) fillFilters(facets.data);
  state.letters = queue.data.letters;
  const ids = new Set(state.letters.map((l) => l.id));
  state.chosen = new Set([...state.chosen].filter((id) => ids.has(id)));
  $("waiting").textContent = `${queue.data.total} waiting`;
  renderQueue();
  const keep = state.letters.find((l) => l.id === state.current);
  if (keep) await openLetter(keep.id);
  else if (state.letters.length) await openLetter(state.letters[0].id);
  else showNoLetter();
}

function renderQueue() {
  const list = $("queue-list");
  list.replaceChildren();
  for (const letter of state.letters) {
    const item = el("li", null, "queue-item");
    item.dataset.letterId = letter.id;
    if (letter.id === state.current) item.classList.add("current");
    if (letter.bulk_approvable) {
      const box = el("input");
      box.type = "checkbox";
      box.className = "choose";
      box.checked = state.chosen.has(letter.id);
      box.setAttribute("aria-label", "select for bulk approval");
      box.addEventListener("change", () => choose(letter.id, box.checked));
      item.append(box);
    }
    const open = el("button", null, "open");
    open.type = "button";
    open.append(el("span", letter.prisoner_name_ru, "who"), el("span", formatDate(letter.received_at), "when"));
    const badges = el("span", null, "badges");
    for (const reason of letter.review_reasons) badges.append(el("span", REASONS[reason] || reason, "badge"));
    for (const category of letter.categories) badges.append(el("span", category, "badge category"));
    open.append(badges, el("span", letter.handwritten ? `${letter.page_count} photographed page(s)` : letter.excerpt,
      "excerpt"));
    open.addEventListener("click", () => openLetter(letter.id));
    item.append(open);
    list.append(item);
  }
  $("queue-empty").hidden = state.letters.length > 0;
  updateBulk();
}

function choose(id, on) {
  if (on) state.chosen.add(id);
  else state.chosen.delete(id);
  updateBulk();
}

function updateBulk() {
  const clean = state.letters.filter((l) => l.bulk_approvable);
  $("bulk-approve").disabled = state.chosen.size === 0;
  $("bulk-approve").textContent = `Approve selected clean letters (${state.chosen.size})`;
  $("select-clean").checked = clean.length > 0 && clean.every((l) => state.chosen.has(l.id));
  for (const box of document.querySelectorAll(".queue-item .choose")) {
    box.checked = state.chosen.has(box.closest(".queue-item").dataset.letterId);
  }
}

function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

// --- one letter ----------------------------------------------------------------------------------

async function openLetter(id) {
  state.current = id;
  for (const item of document.querySelectorAll(".queue-item")) {
    item.classList.toggle("current", item.dataset.letterId === id);
    if (item.dataset.letterId === id) item.scrollIntoView({ block: "nearest" });
  }
  const answer = await api(`/letters/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    notice(detail(answer.data), "error");
    return;
  }
  if (state.current !== id) return; // another letter was opened meanwhile
  state.letter = answer.data;
  renderLetter(answer.data);
}

function showNoLetter() {
  state.current = null;
  state.letter = null;
  $("letter").hidden = true;
}

function renderLetter(letter) {
  // A refresh of the letter on screen must not close the form the moderator is typing in.
  const shown = $("letter");
  if (shown.dataset.letterId !== letter.id || shown.dataset.revision !== String(letter.revision)) closeForms();
  shown.hidden = false;
  shown.dataset.letterId = letter.id;
  shown.dataset.revision = String(letter.revision);
  $("letter-to").textContent = `To ${letter.prisoner_name_ru}`;
  const meta = [formatDate(letter.received_at), letter.channel];
  if (letter.campaign_event_id) meta.push(letter.campaign_event_id);
  if (letter.redacted) meta.push(`redacted (revision ${letter.revision})`);
  $("letter-meta").textContent = meta.join(" · ");
  $("letter-reasons").replaceChildren(...letter.review_reasons.map((r) => el("li", REASONS[r] || r, "badge")));
  renderText($("letter-text"), letter.text, letter.findings);
  const signature = [letter.writer_first_name, letter.writer_city].filter(Boolean).join(", ");
  $("letter-signature").textContent = signature ? `Signed: ${signature}` : "";
  $("letter-pages").replaceChildren(...letter.pages.map((page) => {
    const link = el("a", null, "page");
    link.href = page.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const image = el("img");
    image.src = page.url;
    image.alt = `Page ${page.number}`;
    image.loading = "lazy";
    link.append(image, el("span", `page ${page.number}`));
    return link;
  }));
  $("letter-findings").replaceChildren(...letter.findings.map((f) => {
    const item = el("li", null, `finding ${f.severity}`);
    item.append(el("strong", f.category), el("q", codePoints(letter.text).slice(f.start, f.end).join("")),
      el("span", f.message));
    if (f.suggestion) item.append(el("em", f.suggestion));
    return item;
  }));
  $("letter-history").replaceChildren(...letter.history.map((h) => {
    let text = `${formatDate(h.at)} · ${h.decision} by ${h.by}`;
    if (h.reason) text += `: ${h.reason}`;
    if (h.passage) text += `: “${h.passage}” → “${h.replacement || ""}”`;
    return el("li", text);
  }));
  const open = letter.state === "review_needed";
  for (const id of ["approve", "reject", "redact"]) $(id).disabled = !open;
}

function codePoints(text) {
  return Array.from(text);
}

// Flagged passages become <mark> elements; everything is a text node, never parsed as HTML.
function renderText(container, text, findings) {
  const chars = codePoints(text);
  const spans = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  const nodes = [];
  let at = 0;
  for (const finding of spans) {
    const start = Math.max(finding.start, at);
    if (finding.end <= start) continue; // inside a passage already marked
    if (start > at) nodes.push(document.createTextNode(chars.slice(at, start).join("")));
    const mark = el("mark", chars.slice(start, finding.end).join(""), finding.severity);
    mark.title = `${finding.category}: ${finding.message}`;
    mark.dataset.category = finding.category;
    nodes.push(mark);
    at = finding.end;
  }
  if (at < chars.length) nodes.push(document.createTextNode(chars.slice(at).join("")));
  container.replaceChildren(...nodes);
}

// The selected passage as code-point offsets into the letter's text, or null.
function selectedPassage() {
  const container = $("letter-text");
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.setStart(container, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const start = codePoints(before.toString()).length;
  const passage = range.toString();
  return { start, end: start + codePoints(passage).length, passage };
}

// --- decisions -----------------------------------------------------------------------------------

async function decided(answer, done) {
  if (answer.ok) {
    notice(done, "ok");
    state.chosen.delete(state.current);
    const index = state.letters.findIndex((l) => l.id === state.current);
    const next = state.letters[index + 1] || state.letters[index - 1];
    state.current = next ? next.id : null;
  } else {
    notice(detail(answer.data), answer.status === 409 ? "warn" : "error");
  }
  await loadQueue();
}

async function approve() {
  const letter = state.letter;
  if (!letter || letter.state !== "review_needed") return;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/approve`, {
    method: "POST",
    body: { revision: letter.revision },
  });
  await decided(answer, `Approved: the scan of the letter to ${letter.prisoner_name_ru} is ready.`);
}

function showForm(id) {
  closeForms();
  $(id).hidden = false;
}

function closeForms() {
  for (const form of document.querySelectorAll(".decision-form")) form.hidden = true;
}

function startReject() {
  if (!state.letter || state.letter.state !== "review_needed") return;
  showForm("reject-form");
  $("reject-reason").value = "";
  $("reject-reason").focus();
}

async function reject(event) {
  event.preventDefault();
  const letter = state.letter;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/reject`, {
    method: "POST",
    body: { reason: $("reject-reason").value },
  });
  await decided(answer, `Rejected the letter to ${letter.prisoner_name_ru}.`);
}

function startRedact() {
  if (!state.letter || state.letter.state !== "review_needed") return;
  const passage = selectedPassage();
  if (!passage) {
    notice("Select the passage to redact in the letter first, then press e.", "warn");
    return;
  }
  state.selection = passage;
  $("redact-passage").textContent = passage.passage;
  showForm("redact-form");
  $("redact-replacement").select();
  $("redact-replacement").focus();
}

async function redact(event) {
  event.preventDefault();
  const { start, end } = state.selection;
  const letter = state.letter;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/redact`, {
    method: "POST",
    body: { start, end, replacement: $("redact-replacement").value, revision: letter.revision },
  });
  if (answer.ok) {
    state.letter = answer.data;
    renderLetter(answer.data);
    notice("Redacted. Read it once more, then approve (a).", "ok");
    await loadQueue();
  } else {
    notice(detail(answer.data), answer.status === 409 ? "warn" : "error");
  }
}

async function bulkApprove() {
  const ids = [...state.chosen];
  if (!ids.length) return;
  const answer = await api("/bulk-approve", { method: "POST", body: { letter_ids: ids } });
  if (!answer.ok) {
    notice(detail(answer.data), "error");
    return;
  }
  const { approved, refused } = answer.data;
  let text = `Approved ${approved.length} letter(s).`;
  if (refused.length) {
    text += ` Not approved: ${refused.map((r) => `${r.letter_id} (${REFUSALS[r.reason] || r.reason})`).join(", ")}.`;
  }
  notice(text, refused.length ? "warn" : "ok");
  state.chosen.clear();
  await loadQueue();
}

// --- keys ----------------------------------------------------------------------------------------

function step(by) {
  const index = state.letters.findIndex((l) => l.id === state.current);
  const next = state.letters[Math.min(Math.max(index + by, 0), state.letters.length - 1)];
  if (next && next.id !== state.current) openLetter(next.id);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || $("desk").hidden) return;
  if (event.key === "Escape") {
    closeForms();
    return;
  }
  if (event.target.closest("input, textarea, select")) return;
  const actions = {
    j: () => step(1),
    k: () => step(-1),
    a: approve,
    r: startReject,
    e: startRedact,
    x: () => {
      const letter = state.letters.find((l) => l.id === state.current);
      if (letter && letter.bulk_approvable) choose(letter.id, !state.chosen.has(letter.id));
    },
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    Promise.resolve(action()).catch(report);
  }
}

function report(error) {
  if (!(error instanceof SignedOut)) notice(`Could not reach the server: ${error.message}`, "error");
}

// --- start ---------------------------------------------------------------------------------------

function wire() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    signIn(token).catch(report);
  });
  $("sign-out").addEventListener("click", () => signOut());
  for (const id of ["filter-prisoner", "filter-event", "filter-language"]) {
    $(id).addEventListener("change", () => loadQueue().catch(report));
  }
  $("refresh").addEventListener("click", () => loadQueue().catch(report));
  $("select-clean").addEventListener("change", (event) => {
    for (const letter of state.letters) {
      if (letter.bulk_approvable) choose(letter.id, event.target.checked);
    }
  });
  $("bulk-approve").addEventListener("click", () => bulkApprove().catch(report));
  $("approve").addEventListener("click", () => approve().catch(report));
  $("reject").addEventListener("click", startReject);
  $("redact").addEventListener("click", startRedact);
  $("reject-form").addEventListener("submit", (event) => reject(event).catch(report));
  $("redact-form").addEventListener("submit", (event) => redact(event).catch(report));
  for (const button of document.querySelectorAll("[data-close]")) button.addEventListener("click", closeForms);
  // Pressing the Redact button must not lose the selection in the letter text.
  $("redact").addEventListener("mousedown", (event) => event.preventDefault());
  document.addEventListener("keydown", onKey);
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(report);
else signOut();
