// The moderators' page. Letters are shown with textContent only: whatever a writer typed,
// including <script> or HTML, is text here. Offsets from the API count Unicode code points.
// Sign-in, requests and the interface language come from the staff kit.

import { $, detail, el, notice, pageThumbnails, report, SignedOut, staffSession } from "/staff-kit/kit.js";
import { addStrings, formatDate, formatDuration, formatNumber, has, lang, onLangChange, t } from "/staff-kit/i18n.js";
import { renderMasks, wireMasks } from "./moderation-masks.js";
import { MODERATION_STRINGS } from "./moderation-strings.js";

addStrings(MODERATION_STRINGS);

const API = "/api/v1/moderation";
// A code from the server (a review reason, a field, a refusal): its label if the catalogue has one, else as given.
const named = (prefix, code) => (has(`${prefix}.${code}`) ? t(`${prefix}.${code}`) : code);

const state = {
  letters: [], current: null, letter: null, selection: null, chosen: new Set(), lane: "careful",
  going: [], editing: null,
  // Letters that came into the listed lane while the moderator was reading (the live queue), until opened.
  fresh: new Set(),
};

// --- the API and signing in (the staff kit) ----------------------------------------------------

const session = staffSession({
  base: API,
  probe: "/facets",
  roles: "mod.roles",
  onSignedIn: async (facets) => {
    fillFilters(facets);
    // The version first: a letter arriving while the queue loads then shows at the next poll.
    live.version = await queueVersion().catch(() => null);
    await loadQueue();
    keepLive(LIVE_EVERY_MS);
  },
  onSignedOut: () => clearTimeout(live.timer),
});
const { api } = session;

// --- the queue -----------------------------------------------------------------------------------

function fillFilters(facets) {
  const fill = (select, items, label) => {
    const chosen = select.value;
    select.replaceChildren(el("option", t("mod.filter.all")));
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
  const params = new URLSearchParams({ limit: "100", lane: state.lane });
  for (const id of ["filter-prisoner", "filter-event", "filter-language"]) {
    const select = $(id);
    if (select.value) params.set(select.name, select.value);
  }
  return params.toString();
}

// `stay`: the letter the moderator just changed stays in front of them even if the change moved it
// to the other lane; otherwise their next key (`a`) would act on a letter they have not read.
// `live`: the live queue's refresh (below), which changes the list and the counts and nothing else:
// the open letter, its forms, the focus, a selection and the dialog stay as the moderator left them.
async function loadQueue({ stay, live: quietly = false } = {}) {
  const [queue, facets] = await Promise.all([api(`/letters?${filterQuery()}`), api("/facets")]);
  if (!queue.ok) {
    if (quietly) throw new Error(detail(queue.data, queue.status)); // the live queue backs off and says nothing
    notice(detail(queue.data, queue.status), "error");
    return;
  }
  // A filter being chosen keeps its list of options.
  if (facets.ok && !(quietly && document.activeElement?.closest("#filters"))) fillFilters(facets.data);
  const before = new Set(state.letters.map((l) => l.id));
  state.letters = queue.data.letters;
  const ids = new Set(state.letters.map((l) => l.id));
  state.chosen = new Set([...state.chosen].filter((id) => ids.has(id)));
  // New since the last look: only the live queue finds them (a lane or filter chosen shows a new list).
  if (quietly) for (const id of ids) if (!before.has(id) && id !== state.current) state.fresh.add(id);
  state.fresh = new Set([...state.fresh].filter((id) => ids.has(id)));
  const { fast, careful } = queue.data.lanes;
  state.counts = { fast, careful, translation: queue.data.translation };
  renderCounts();
  renderLanes();
  renderQueue();
  renderArrivals();
  // An Undo being pressed in the list of approved letters is not pulled from under the pointer.
  if (!(quietly && document.activeElement?.closest("#going, #stuck"))) loadGoing().catch(report);
  loadAgreement().catch(report);
  if (quietly) {
    sayIfOpenLetterChanged();
    return;
  }
  const keep = state.letters.find((l) => l.id === state.current);
  if (keep) await openLetter(keep.id);
  else if (stay && state.letter && state.letter.id === stay) await openLetter(stay);
  else if (state.letters.length) await openLetter(state.letters[0].id);
  else showNoLetter();
}

// --- the live queue -------------------------------------------------------------------------------
// Polling, not server-sent events: an EventSource cannot send the staff token (it would have to go
// into the URL, and from there into proxies' logs), and a stream held open per moderator ties up a
// connection through every proxy for what changes a few times a minute. The page asks for the queue's
// fingerprint (GET /queue-version: one indexed query, no letter's text) every few seconds, and only
// when it changed loads the queue, through loadQueue's live mode. Hidden tabs do not ask; errors
// double the wait up to two minutes; the first success brings the interval back.

const LIVE_EVERY_MS = 5000;
const LIVE_AT_MOST_MS = 120000;
const live = { version: null, delay: LIVE_EVERY_MS, timer: null };

async function queueVersion() {
  const answer = await api("/queue-version");
  if (!answer.ok) throw new Error(detail(answer.data, answer.status));
  return answer.data.version;
}

function keepLive(delay) {
  clearTimeout(live.timer);
  if (document.hidden || $("desk").hidden) return;
  live.timer = setTimeout(() => pollQueue().catch(report), delay);
}

async function pollQueue() {
  try {
    const version = await queueVersion();
    // The confirmation dialog is left alone: the change is picked up once it is closed.
    if (version !== live.version && !$("confirm-dialog").open) {
      await loadQueue({ live: true });
      live.version = version;
    }
    live.delay = LIVE_EVERY_MS;
  } catch (error) {
    if (error instanceof SignedOut) return;
    live.delay = Math.min(live.delay * 2, LIVE_AT_MOST_MS);
  }
  keepLive(live.delay);
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(live.timer);
  else if (!$("desk").hidden) keepLive(0);
});

// Said politely (an aria-live region), never by moving anything: "Нових листів: 2".
function renderArrivals() {
  const text = state.fresh.size ? t("mod.live.arrived", { n: formatNumber(state.fresh.size) }) : "";
  if ($("arrivals").textContent !== text) $("arrivals").textContent = text;
}

// The open letter stays open when someone else decides or changes it; the moderator is told, and the
// server refuses a decision on a version they did not read (409).
function sayIfOpenLetterChanged() {
  const letter = state.letter;
  if (!letter || letter.state !== "review_needed") return;
  const listed = state.letters.find((l) => l.id === letter.id);
  const laneOfLetter = letter.lane === "fast" ? "fast" : "careful";
  if (listed ? listed.revision === letter.revision : laneOfLetter !== state.lane) return;
  const key = `${letter.id}:${listed ? listed.revision : "gone"}`;
  if (state.changedSaid === key) return;
  state.changedSaid = key;
  notice(t(listed ? "mod.live.openChanged" : "mod.live.openGone"), "warn");
}

function renderCounts() {
  const { fast, careful, translation } = state.counts;
  $("waiting").textContent = t("mod.waiting", { n: formatNumber(fast + careful) }) + translationBacklog(translation);
  $("count-fast").textContent = `(${formatNumber(fast)})`;
  $("count-careful").textContent = `(${formatNumber(careful)})`;
}

function renderLanes() {
  for (const tab of document.querySelectorAll(".lane")) {
    const on = tab.dataset.lane === state.lane;
    tab.setAttribute("aria-selected", String(on));
    tab.classList.toggle("current", on);
  }
  $("lane-note").textContent = t(`mod.laneNote.${state.lane}`);
}

async function chooseLane(lane) {
  if (lane === state.lane) return;
  state.lane = lane;
  state.chosen.clear();
  state.fresh.clear();
  state.current = null;
  await loadQueue();
}

// --- approved, going to delivery -----------------------------------------------------------------

async function loadGoing() {
  const answer = await api("/approved");
  if (!answer.ok) return;
  const now = Date.now();
  // The server says how many seconds are left: the browser's clock may be wrong, its pace is not.
  state.going = answer.data.letters.map((l) => ({ ...l, deadline: now + l.seconds_left * 1000 }));
  state.stuck = answer.data.stuck || [];
  renderGoing();
  renderStuck();
}

// Approvals whose scan failed too often (not an outage): no longer retried until a moderator says so.
function renderStuck() {
  const list = $("stuck-list");
  list.replaceChildren(...(state.stuck || []).map((letter) => {
    const item = el("li", null, "stuck-item");
    item.dataset.letterId = letter.id;
    const what = el("span", null, "what");
    what.append(el("strong", t("mod.going.to", { name: letter.prisoner_name_ru })),
      el("span", t("mod.stuck.failed", { n: formatNumber(letter.failures) })),
      el("code", letter.error, "error"), el("span", letter.excerpt, "excerpt"));
    const again = el("button", t("mod.stuck.retry"), "retry");
    again.type = "button";
    again.addEventListener("click", () => retryStuck(letter).catch(report));
    item.append(what, again);
    return item;
  }));
  $("stuck").hidden = !(state.stuck || []).length;
}

async function retryStuck(letter) {
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/approve`, { method: "POST", body: {} });
  notice(answer.ok ? t("mod.stuck.retried", { name: letter.prisoner_name_ru }) : detail(answer.data, answer.status),
    answer.ok ? "ok" : "error");
  await loadGoing();
}

function mmss(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}

function renderGoing() {
  const list = $("going-list");
  list.replaceChildren();
  for (const letter of state.going) {
    const item = el("li", null, "going-item");
    item.dataset.letterId = letter.id;
    const what = el("span", null, "what");
    what.append(el("strong", t("mod.going.to", { name: letter.prisoner_name_ru })),
      el("span", t("mod.going.by", { by: letter.decided_by })),
      el("span", letter.excerpt, "excerpt"));
    const left = el("span", "", "countdown");
    const undoButton = el("button", t("mod.undo"), "undo");
    undoButton.type = "button";
    undoButton.addEventListener("click", () => undo(letter).catch(report));
    item.append(what, left, undoButton);
    list.append(item);
  }
  $("going").hidden = state.going.length === 0;
  tick();
}

// Counts down every second; a letter whose time is up is gone to delivery (the server's sweep).
function tick() {
  const now = Date.now();
  let over = false;
  for (const item of document.querySelectorAll(".going-item")) {
    const letter = state.going.find((l) => l.id === item.dataset.letterId);
    if (!letter) continue;
    const left = letter.deadline - now;
    item.querySelector(".countdown").textContent = left > 0 ? t("mod.going.in", { time: mmss(left) }) : t("mod.going.now");
    item.querySelector(".undo").disabled = left <= 0;
    if (left <= -2000) over = true;
  }
  if (over) loadGoing().catch(report);
}

async function undo(letter) {
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/undo`, { method: "POST" });
  if (answer.ok) {
    notice(t("mod.undone", { name: letter.prisoner_name_ru }), "ok");
    state.current = letter.id;
  } else {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  }
  await loadQueue();
}

// --- screening and moderators --------------------------------------------------------------------

async function loadAgreement() {
  const last = $("agreement-last");
  if (!last.checkValidity()) return;
  const answer = await api(`/agreement?last=${encodeURIComponent(last.value)}`);
  if (!answer.ok) return;
  const figures = answer.data;
  const percent = { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 };
  const share = (part) => `${formatNumber(part.count)} (${formatNumber(part.share, percent)})`;
  $("agreement-decided").textContent = formatNumber(figures.decided);
  $("agreement-agreed").textContent = share(figures.agreed);
  $("agreement-missed").textContent = share(figures.missed_by_screening);
  $("agreement-needless").textContent = share(figures.flagged_needlessly);
}

// Kept by letter: an item that stays is never rebuilt or moved unless it changed, so the focus on it
// (a checkbox, a button) survives the live queue's refreshes.
function renderQueue() {
  const list = $("queue-list");
  const old = new Map([...list.children].map((item) => [item.dataset.letterId, item]));
  const items = state.letters.map((letter) => {
    const key = [letter.revision, letter.lane, letter.block, lang()].join("|");
    let item = old.get(letter.id);
    old.delete(letter.id);
    if (!item || item.dataset.key !== key) {
      const made = queueItem(letter);
      made.dataset.key = key;
      if (item) item.replaceWith(made);
      item = made;
    }
    item.classList.toggle("current", letter.id === state.current);
    markFresh(item, state.fresh.has(letter.id));
    return item;
  });
  for (const gone of old.values()) gone.remove();
  items.forEach((item, n) => {
    if (list.children[n] !== item) list.insertBefore(item, list.children[n] || null);
  });
  $("queue-empty").hidden = state.letters.length > 0;
  updateBulk();
}

// The "new" badge is put on and taken off in place: the item (and the focus on it) stays.
function markFresh(item, fresh) {
  const badge = item.querySelector(".badge.fresh");
  if (fresh && !badge) item.querySelector(".badges").prepend(el("span", t("mod.live.new"), "badge fresh"));
  if (!fresh && badge) badge.remove();
}

function queueItem(letter) {
  const item = el("li", null, "queue-item");
  item.dataset.letterId = letter.id;
  if (letter.bulk_approvable) {
    const box = el("input");
    box.type = "checkbox";
    box.className = "choose";
    box.checked = state.chosen.has(letter.id);
    box.setAttribute("aria-label", t("mod.bulk.choose"));
    box.addEventListener("change", () => choose(letter.id, box.checked));
    item.append(box);
  }
  const open = el("button", null, "open");
  open.type = "button";
  open.append(el("span", letter.prisoner_name_ru, "who"), el("span", formatDate(letter.received_at), "when"));
  const badges = el("span", null, "badges");
  if (letter.block) badges.append(el("span", t("mod.blockBadge"), "badge block"));
  for (const reason of letter.review_reasons) badges.append(el("span", named("mod.reason", reason), "badge"));
  for (const category of letter.categories) badges.append(el("span", category, "badge category"));
  open.append(badges, el("span", letter.handwritten ? t("mod.photographed", { n: formatNumber(letter.page_count) }) : letter.excerpt,
    "excerpt"));
  open.addEventListener("click", () => openLetter(letter.id));
  item.append(open);
  return item;
}

function choose(id, on) {
  if (on) state.chosen.add(id);
  else state.chosen.delete(id);
  updateBulk();
}

function updateBulk() {
  const clean = state.letters.filter((l) => l.bulk_approvable);
  $("bulk-approve").disabled = state.chosen.size === 0;
  $("bulk-approve").textContent = t("mod.bulk.approve", { n: formatNumber(state.chosen.size) });
  $("select-clean").checked = clean.length > 0 && clean.every((l) => state.chosen.has(l.id));
  for (const box of document.querySelectorAll(".queue-item .choose")) {
    box.checked = state.chosen.has(box.closest(".queue-item").dataset.letterId);
  }
}

// --- one letter ----------------------------------------------------------------------------------

async function openLetter(id) {
  state.current = id;
  if (state.fresh.delete(id)) {
    renderQueue();
    renderArrivals();
  }
  for (const item of document.querySelectorAll(".queue-item")) {
    item.classList.toggle("current", item.dataset.letterId === id);
    if (item.dataset.letterId === id) item.scrollIntoView({ block: "nearest" });
  }
  const answer = await api(`/letters/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), "error");
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
  $("letter-to").textContent = t("mod.to", { name: letter.prisoner_name_ru });
  const meta = [formatDate(letter.received_at), letter.channel];
  if (letter.campaign_event_id) meta.push(letter.campaign_event_id);
  if (letter.redacted) meta.push(t("mod.redacted", { n: letter.revision }));
  if (letter.translation) {
    meta.push(t("mod.translatedFrom", { lang: letter.translation.source_language || "?", by: letter.translation.by }));
  }
  if (letter.first_approved_by) meta.push(t("mod.firstApproved", { by: letter.first_approved_by }));
  $("letter-meta").textContent = meta.join(" · ");
  $("letter-reasons").replaceChildren(...letter.review_reasons.map((r) => el("li", named("mod.reason", r), "badge")));
  $("letter-text").dataset.empty = t("mod.noText");
  renderText($("letter-text"), letter.text, inField(letter.findings, "body"));
  // A translation is read beside what the writer sent; only the Russian is printed.
  $("letter-original").hidden = !letter.translation;
  $("letter-original-text").textContent = letter.translation ? letter.original_text : "";
  renderSignature(letter);
  pageThumbnails($("letter-pages"), letter.pages, (page) => t("mod.page", { n: page.number }));
  renderTranscription(letter);
  renderMasks(letter);
  $("letter-findings").replaceChildren(...letter.findings.map((f) => {
    const item = el("li", null, `finding ${f.severity}`);
    item.dataset.field = f.field;
    item.append(el("strong", `${f.category} · ${named("mod.field", f.field)}`), el("q", flagged(letter, f)),
      el("span", f.message));
    if (f.suggestion) item.append(el("em", f.suggestion));
    return item;
  }));
  $("letter-history").replaceChildren(...letter.history.map((h) => {
    let text = t("mod.history.entry", { at: formatDate(h.at), decision: h.decision, by: h.by });
    if (h.reason) text += `: ${h.reason}`;
    if (h.field && h.field !== "body") text += ` (${named("mod.field", h.field)}): “${h.before || ""}” → “${h.after || ""}”`;
    else if (h.passage) text += `: “${h.passage}” → “${h.replacement || ""}”`;
    if (h.rectangle) {
      text += t("mod.mask.history", { n: h.page, x: formatNumber(Math.round(h.rectangle.x * 1000) / 10),
        y: formatNumber(Math.round(h.rectangle.y * 1000) / 10), w: formatNumber(Math.round(h.rectangle.width * 1000) / 10),
        h: formatNumber(Math.round(h.rectangle.height * 1000) / 10) });
      if (h.note) text += ` — «${h.note}»`;
    }
    if (h.confirmed_findings && h.confirmed_findings.length) {
      text += t("mod.history.confirmed", { list: h.confirmed_findings.join(", ") });
    }
    return el("li", text);
  }));
  const open = letter.state === "review_needed";
  for (const id of ["approve", "reject", "redact", "edit-name", "edit-city"]) $(id).disabled = !open;
}

// Photographed pages are printed as they are; what they say is screened once a moderator types it.
function renderTranscription(letter) {
  const form = $("transcription-form");
  form.hidden = !letter.pages.length;
  if (form.hidden) return;
  const marked = $("transcription-marked");
  marked.hidden = !letter.transcription;
  renderText(marked, letter.transcription || "", inField(letter.findings, "transcription"));
  // The moderator's unsaved typing survives a refresh of the same version.
  if (form.dataset.letterId !== letter.id || form.dataset.revision !== String(letter.revision)) {
    $("transcription-text").value = letter.transcription || "";
    form.dataset.letterId = letter.id;
    form.dataset.revision = String(letter.revision);
  }
  $("transcription-save").disabled = letter.state !== "review_needed";
}

async function saveTranscription(event) {
  event.preventDefault();
  const letter = state.letter;
  const value = $("transcription-text").value;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/redact`, {
    method: "POST",
    body: { field: "transcription", text: value, revision: letter.revision },
  });
  if (answer.ok) {
    state.letter = answer.data;
    renderLetter(answer.data);
    const found = inField(answer.data.findings, "transcription").length;
    notice(value.trim() ? t("mod.transcription.saved", { n: formatNumber(found) }) : t("mod.transcription.removed"),
      found ? "warn" : "ok");
    await loadQueue({ stay: answer.data.id });
  } else {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  }
}

function inField(findings, field) {
  return findings.filter((f) => (f.field || "body") === field);
}

function fieldValue(letter, field) {
  return field === "body" ? letter.text : letter[field] || "";
}

function flagged(letter, finding) {
  return codePoints(fieldValue(letter, finding.field || "body")).slice(finding.start, finding.end).join("");
}

// The signature exactly as the scan prints it (name, comma, city), with each field's findings marked.
function renderSignature(letter) {
  const box = $("letter-signature");
  const parts = [];
  for (const field of ["writer_first_name", "writer_city"]) {
    if (!letter[field]) continue;
    const part = el("span", null, "printed-field");
    part.dataset.field = field;
    renderText(part, letter[field], inField(letter.findings, field));
    parts.push(part);
  }
  box.replaceChildren();
  if (!parts.length) {
    box.append(el("span", t("mod.noSignature"), "none"));
    return;
  }
  box.append(el("span", t("mod.signed"), "label"));
  parts.forEach((part, n) => {
    if (n) box.append(document.createTextNode(", "));
    box.append(part);
  });
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
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  }
  await loadQueue();
}

// Letters waiting for a translator are not in this queue; the header says how many, by language.
function translationBacklog(backlog) {
  if (!backlog || !backlog.total) return "";
  const languages = Object.entries(backlog.languages).map(([code, count]) => `${code} ${formatNumber(count)}`).join(", ");
  const oldest = backlog.oldest_waiting_s == null ? ""
    : t("mod.backlogOldest", { time: formatDuration(backlog.oldest_waiting_s) });
  return t("mod.backlog", { total: formatNumber(backlog.total), languages, oldest });
}

async function sendToTranslation() {
  const letter = state.letter;
  if (!letter || letter.state !== "review_needed") return;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/translate`, {
    method: "POST",
    body: { revision: letter.revision },
  });
  await decided(answer, t("mod.sentToTranslation", { name: letter.prisoner_name_ru }));
}

function approvedText(letter, answer) {
  if (answer.awaiting_second_moderator) {
    return t("mod.approvedFirst", { name: letter.prisoner_name_ru });
  }
  if (answer.state === "approved" && answer.undo_until) {
    const left = new Date(answer.undo_until).getTime() - Date.now();
    return t("mod.approvedUndo", { name: letter.prisoner_name_ru, time: mmss(left) });
  }
  return t("mod.approvedReady", { name: letter.prisoner_name_ru });
}

// A letter with block-level findings is never approved by one key: the dialog lists them first.
async function approve() {
  const letter = state.letter;
  if (!letter || letter.state !== "review_needed") return;
  const block = letter.findings.filter((f) => f.severity === "block");
  if (block.length) {
    askToConfirm(letter, block);
    return;
  }
  await sendApproval(letter, undefined);
}

async function sendApproval(letter, confirmed) {
  const body = { revision: letter.revision };
  if (confirmed) body.confirmed_findings = confirmed.map((f) => ({ rule: f.rule, field: f.field }));
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/approve`, { method: "POST", body });
  if (answer.status === 409 && answer.data.block_findings) {
    // The letter changed since it was shown: show it again as it is now, then ask again.
    notice(t("mod.findingsChanged"), "warn");
    await openLetter(letter.id);
    return;
  }
  await decided(answer, answer.ok ? approvedText(letter, answer.data) : "");
}

function askToConfirm(letter, block) {
  const dialog = $("confirm-dialog");
  dialog.dataset.letterId = letter.id;
  dialog.dataset.revision = String(letter.revision);
  $("confirm-list").replaceChildren(...block.map((f, n) => {
    const item = el("li", null, "confirm-item");
    const box = el("input");
    box.type = "checkbox";
    box.id = `confirm-${n}`;
    box.addEventListener("change", updateConfirm);
    const label = el("label");
    label.htmlFor = box.id;
    label.append(el("strong", `${f.category} · ${named("mod.field", f.field)}`), el("q", flagged(letter, f)),
      el("span", f.message));
    item.append(box, label);
    return item;
  }));
  state.confirming = { letter, block };
  updateConfirm();
  dialog.showModal();
}

function updateConfirm() {
  const boxes = [...document.querySelectorAll("#confirm-list input[type=checkbox]")];
  $("confirm-approve").disabled = !boxes.length || !boxes.every((box) => box.checked);
}

async function confirmApproval(event) {
  event.preventDefault();
  const { letter, block } = state.confirming || {};
  $("confirm-dialog").close();
  state.confirming = null;
  if (!letter || $("confirm-approve").disabled) return;
  await sendApproval(letter, block);
}

function cancelConfirm() {
  state.confirming = null;
  $("confirm-dialog").close();
}

function showForm(id) {
  closeForms();
  $(id).hidden = false;
}

// Focus leaves a closed form at once: Chrome moves it off a hidden input only at its next frame, and
// until then the moderator's next key (`a`) would be typed into the hidden field instead of acting.
function closeForms() {
  for (const form of document.querySelectorAll(".decision-form")) form.hidden = true;
  const focused = document.activeElement;
  if (focused && focused.closest(".decision-form")) focused.blur();
}

// The preset reasons (shared/rejection_reasons.yaml), labelled in the page's language; the writer's
// text is shown under the choice so the moderator sees what the writer will read.
async function loadRejectionReasons() {
  if (state.rejectionReasons) return;
  const answer = await api("/rejection-reasons");
  if (!answer.ok) return;
  state.rejectionReasons = answer.data;
  labelReasons();
  $("reject-code").value = "other";
  showWriterText();
}

function labelReasons() {
  const chosen = $("reject-code").value;
  $("reject-code").replaceChildren(...(state.rejectionReasons || []).map((reason) => {
    const option = el("option", reason.label[lang()] || reason.label.uk);
    option.value = reason.code;
    return option;
  }));
  if (chosen) $("reject-code").value = chosen;
}

function showWriterText() {
  const reason = (state.rejectionReasons || []).find((r) => r.code === $("reject-code").value);
  // The writer's own language is not known here: the text in the page's language stands for it.
  const text = reason ? reason.writer[lang()] || reason.writer.uk : "";
  $("reject-writer-text").lang = reason && reason.writer[lang()] ? lang() : "uk";
  $("reject-writer-text").textContent = reason ? t("mod.writerReads", { text }) : "";
}

function startReject() {
  if (!state.letter || state.letter.state !== "review_needed") return;
  showForm("reject-form");
  $("reject-reason").value = "";
  $("reject-reason").focus();
  loadRejectionReasons().catch(report);
}

async function reject(event) {
  event.preventDefault();
  const letter = state.letter;
  const note = $("reject-reason").value.trim();
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/reject`, {
    method: "POST",
    body: { reason_code: $("reject-code").value || "other", note: note || null },
  });
  await decided(answer, t("mod.rejected", { name: letter.prisoner_name_ru }));
}

function startRedact() {
  if (!state.letter || state.letter.state !== "review_needed") return;
  const passage = selectedPassage();
  if (!passage) {
    notice(t("mod.selectFirst"), "warn");
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
    closeForms();
    state.letter = answer.data;
    renderLetter(answer.data);
    notice(t("mod.redactedDone"), "ok");
    await loadQueue({ stay: answer.data.id });
  } else {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  }
}

function startFieldEdit(field) {
  if (!state.letter || state.letter.state !== "review_needed") return;
  state.editing = field;
  $("field-label").textContent = t(field === "writer_first_name" ? "mod.field.name" : "mod.field.city");
  showForm("field-form");
  $("field-value").value = state.letter[field] || "";
  $("field-value").select();
  $("field-value").focus();
}

async function saveField(value) {
  const letter = state.letter;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/redact`, {
    method: "POST",
    body: { field: state.editing, text: value, revision: letter.revision },
  });
  if (answer.ok) {
    closeForms();
    state.letter = answer.data;
    renderLetter(answer.data);
    notice(t(value.trim() ? "mod.corrected" : "mod.cleared"), "ok");
    await loadQueue({ stay: answer.data.id });
  } else {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  }
}

async function bulkApprove() {
  const ids = [...state.chosen];
  if (!ids.length) return;
  const answer = await api("/bulk-approve", { method: "POST", body: { letter_ids: ids } });
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), "error");
    return;
  }
  const { approved, refused } = answer.data;
  let text = t("mod.bulkApproved", { n: formatNumber(approved.length) });
  if (approved.length) text += t("mod.bulkUndo");
  if (refused.length) {
    text += t("mod.bulkRefused", { list: refused.map((r) => `${r.letter_id} (${named("mod.refusal", r.reason)})`).join(", ") });
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
  if ($("confirm-dialog").open) return; // the dialog has its own keys: Esc cancels, nothing approves
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

// --- start ---------------------------------------------------------------------------------------

function wire() {
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
  for (const tab of document.querySelectorAll(".lane")) {
    tab.addEventListener("click", () => chooseLane(tab.dataset.lane).catch(report));
  }
  $("agreement-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAgreement().catch(report);
  });
  $("agreement-last").addEventListener("change", () => loadAgreement().catch(report));
  $("confirm-form").addEventListener("submit", (event) => confirmApproval(event).catch(report));
  $("confirm-cancel").addEventListener("click", cancelConfirm);
  $("confirm-dialog").addEventListener("cancel", () => { state.confirming = null; });
  $("edit-name").addEventListener("click", () => startFieldEdit("writer_first_name"));
  $("edit-city").addEventListener("click", () => startFieldEdit("writer_city"));
  $("field-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveField($("field-value").value).catch(report);
  });
  $("field-clear").addEventListener("click", () => saveField("").catch(report));
  setInterval(tick, 1000);
  $("approve").addEventListener("click", () => approve().catch(report));
  $("reject").addEventListener("click", startReject);
  $("redact").addEventListener("click", startRedact);
  $("translate").addEventListener("click", () => sendToTranslation().catch(report));
  $("reject-form").addEventListener("submit", (event) => reject(event).catch(report));
  $("reject-code").addEventListener("change", showWriterText);
  $("redact-form").addEventListener("submit", (event) => redact(event).catch(report));
  $("transcription-form").addEventListener("submit", (event) => saveTranscription(event).catch(report));
  for (const button of document.querySelectorAll("[data-close]")) button.addEventListener("click", closeForms);
  // Pressing the Redact button must not lose the selection in the letter text.
  $("redact").addEventListener("mousedown", (event) => event.preventDefault());
  document.addEventListener("keydown", onKey);
  wireMasks({ api, current: () => state.letter, saved: async (letter) => {
    state.letter = letter;
    renderLetter(letter);
    await loadQueue({ stay: letter.id });
  } });
}

// A language switch redraws what the script wrote; the page's own texts the kit translates.
onLangChange(() => {
  if (!state.counts) return;
  renderCounts();
  renderLanes();
  renderQueue();
  renderGoing();
  renderStuck();
  if (state.rejectionReasons) {
    labelReasons();
    showWriterText();
  }
  if (state.letter) renderLetter(state.letter);
  if (state.editing) $("field-label").textContent = t(state.editing === "writer_first_name" ? "mod.field.name" : "mod.field.city");
});
wire();
session.start();
