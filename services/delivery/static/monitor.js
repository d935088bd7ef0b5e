// The operators' monitor: polls /api/v1/monitor every few seconds and updates the page in place.
// The panels for kept letters, bundles awaiting confirmation, overdue letters, the letter search and
// throughput over time live in their own modules (monitor-kept.js, monitor-awaiting.js,
// monitor-overdue.js, monitor-letter.js, monitor-throughput.js).
// Rows are kept by key (the kit's syncRows): a refresh changes the text of a row that stays and
// never rebuilds it, so a reason being typed into a held letter's row, and the focus, survive.
// Every value reaches the page through textContent, never as HTML.

import { $, button, el, report, staffSession, syncRows } from "/staff-kit/kit.js";
import { addStrings, formatDate, formatDuration, formatNumber, formatTime, onLangChange, t } from "/staff-kit/i18n.js";
import { MONITOR_STRINGS } from "./monitor-strings.js";
import { controls, labelled, number, setText, wireConfirmDialog } from "./monitor-parts.js";
import { letterSearch } from "./monitor-letter.js";
import { keptPanel } from "./monitor-kept.js";
import { awaitingPanel } from "./monitor-awaiting.js";
import { overduePanel } from "./monitor-overdue.js";
import { throughputPanel } from "./monitor-throughput.js";

addStrings(MONITOR_STRINGS);

const POLL_MS = 3000;
// The intermediaries change rarely; asking for them with every poll would double the traffic.
const INTERMEDIARIES_MS = 30000;
const STATES = ["queued", "bundled", "sent", "handed_over", "held", "failed", "returned", "blocked"];
const STATE_LOOK = { held: "attention", failed: "bad", returned: "bad", blocked: "bad", handed_over: "done" };

// The panels beside the snapshot (bundles awaiting confirmation, overdue letters, the letter looked
// up, throughput over time) are read again when the snapshot's counts change, after an action, and at least this often.
const SIDE_MS = 15000;

let timer = null;
let intermediaries = [];
let intermediariesAt = 0;
let sideAt = 0;
let sideCounts = "";
let lastView = null;

const session = staffSession({
  probe: "/api/v1/monitor",
  roles: "monitor.roles",
  desk: "monitor",
  onSignedIn: (view) => {
    intermediariesAt = 0;
    sideAt = 0;
    render(view);
    refresh().then(schedule);
  },
  onSignedOut: () => {
    clearTimeout(timer);
    $("status").textContent = "";
  },
});

const say = (text) => { $("action-result").textContent = text; };
const search = letterSearch(session);
const kept = keptPanel(session, { refresh: () => refresh({ side: true }), intermediaries: () => intermediaries });
const awaiting = awaitingPanel(session, { refresh: () => refresh({ side: true }) });
const overdue = overduePanel(session);
const flow = throughputPanel(session);

// Ask the API to act, then refresh; a failure is said in the actions' line.
async function act(what, path, body) {
  try {
    const answer = await session.json(path, { method: "POST", body: body || {} });
    await refresh();
    return answer;
  } catch (error) {
    report(error);
    say(t("monitor.failed", { what, message: error.message }));
    return null;
  }
}

function renderCounts(view) {
  if (!$("counts").children.length) {
    $("counts").append(...STATES.map((state) => {
      const tile = el("div", undefined, "count");
      tile.dataset.state = state;
      const value = el("dd");
      value.id = `count-${state}`;
      tile.append(el("dt"), value);
      return tile;
    }));
  }
  for (const tile of $("counts").children) {
    const count = view.counts[tile.dataset.state] ?? 0;
    tile.className = `count ${count ? STATE_LOOK[tile.dataset.state] || "" : ""}`.trim();
    setText(tile.firstChild, t(`monitor.state.${tile.dataset.state}`));
    setText(tile.lastChild, formatNumber(count));
  }
  setText($("oldest"), formatDuration(view.oldest_waiting_s));
  // Letters a translator has not reached yet: they come to delivery only after translation and review.
  const translation = view.translation || { waiting: 0, oldest_waiting_s: 0, languages: {} };
  setText($("translation-waiting"), formatNumber(translation.waiting));
  setText($("translation-oldest"), translation.waiting ? formatDuration(translation.oldest_waiting_s) : "–");
  setText($("translation-languages"), Object.entries(translation.languages)
    .map(([code, count]) => `${code} ${formatNumber(count)}`).join(", "));
}

// The columns both bundle tables begin with, and the failure text they share.
const bundleWho = [
  (b) => b.bundle_id,
  (b) => b.intermediary_name || b.intermediary_id,
  (b) => b.prisoner_name_ru || b.prisoner_id,
  (b) => b.channel,
  number((b) => b.letters),
];
const lastError = { className: "reason", update: (b, cell) => setText(cell, b.last_error || "") };

function renderBundles(view) {
  syncRows($("bundles-ready"), view.bundles_ready, {
    key: (b) => b.bundle_id,
    columns: [...bundleWho, number((b) => b.pages), (b) => formatDate(b.created_at), number((b) => b.attempts),
      lastError, controls(bundleActions)],
    empty: t("monitor.empty.ready"),
  });
  syncRows($("failures"), view.failures, {
    key: (b) => b.bundle_id,
    columns: [...bundleWho, number((b) => b.attempts), lastError,
      controls((b) => [labelled(button("", async () => {
        const path = `/api/v1/bundles/${encodeURIComponent(b.bundle_id)}/requeue`;
        if (await act(t("monitor.requeue"), path)) say(t("monitor.requeued", { id: b.bundle_id }));
      }, "small"), "monitor.requeue")]),
    ],
    empty: t("monitor.empty.failures"),
  });
}

function bundleActions(bundle) {
  const path = `/api/v1/bundles/${encodeURIComponent(bundle.bundle_id)}`;
  const download = labelled(button("", async () => {
    const answer = await act(t("monitor.download"), `${path}/download-link`);
    if (!answer) return;
    const minutes = formatNumber(Math.round(answer.expires_in_s / 60));
    const link = el("a", t("monitor.downloadLink", { id: bundle.bundle_id, minutes }));
    link.href = answer.url;
    link.rel = "noopener noreferrer";
    $("action-result").replaceChildren(link);
  }, "small secondary"), "monitor.download");
  const key = bundle.channel === "manual" ? "monitor.markSent" : "monitor.sendNow";
  const send = labelled(button("", async () => {
    const answer = await act(t(key), `${path}/send`);
    if (!answer) return;
    const id = bundle.bundle_id;
    if (answer.bundle.state !== "sent") say(t("monitor.notSent", { id, why: answer.bundle.last_error || answer.bundle.state }));
    else if (answer.confirm_url && bundle.channel === "manual") say(t("monitor.markedSent", { id, url: answer.confirm_url }));
    else say(t("monitor.sentDone", { id }));
  }, "small"), key);
  send.dataset.bundle = bundle.bundle_id;
  return [download, send];
}

function renderHeld(view) {
  syncRows($("held"), view.held, {
    key: (l) => l.letter_id,
    columns: [
      (l) => l.letter_id,
      (l) => l.prisoner_name_ru || l.prisoner_id,
      { className: "reason", update: (l, cell) => setText(cell, l.reason || l.hold_kind || "") },
      (l) => formatDate(l.held_since),
      { ...controls(heldActions), update: updateHeldActions },
    ],
    empty: t("monitor.empty.held"),
  });
}

function heldActions(letter) {
  const path = `/api/v1/letters/${encodeURIComponent(letter.letter_id)}`;
  const reason = el("input", null, "why");
  reason.dataset.placeholderKey = "monitor.archiveWhy";
  reason.placeholder = t("monitor.archiveWhy");
  reason.maxLength = 300;
  const archive = labelled(button("", async () => {
    const why = reason.value.trim() || letter.reason || t("monitor.archivedByOperator");
    if (await act(t("monitor.archive"), `${path}/archive`, { reason: why })) {
      say(t("monitor.archived", { id: letter.letter_id }));
    }
  }, "small secondary"), "monitor.archive");
  const select = el("select", null, "redirect-to");
  const redirect = labelled(button("", async () => {
    if (await act(t("monitor.redirect"), `${path}/redirect`, { intermediary_id: select.value })) {
      say(t("monitor.redirected", { id: letter.letter_id }));
    }
  }, "small"), "monitor.redirect");
  redirect.classList.add("redirect");
  return [reason, archive, select, redirect];
}

// The redirect choices follow the intermediaries; the options are rebuilt only when they changed,
// and what the operator chose stays chosen.
function updateHeldActions(letter, cell) {
  controls(heldActions).update(letter, cell);
  cell.querySelector(".why").setAttribute("aria-label", t("monitor.archiveLabel", { id: letter.letter_id }));
  const select = cell.querySelector(".redirect-to");
  select.setAttribute("aria-label", t("monitor.redirectTo", { id: letter.letter_id }));
  const choices = intermediaries.filter((i) => i.prisoner_id === letter.prisoner_id && i.active);
  const signature = choices.map((i) => `${i.id}:${i.name}:${i.channel}`).join("|");
  if (select.dataset.choices !== signature) {
    const chosen = select.value;
    select.replaceChildren(...choices.map((person) => {
      const option = el("option", `${person.name} (${person.channel})`);
      option.value = person.id;
      return option;
    }));
    if (choices.some((i) => i.id === chosen)) select.value = chosen;
    select.dataset.choices = signature;
  }
  select.hidden = !choices.length;
  cell.querySelector(".redirect").hidden = !choices.length;
}

function renderBacklogs(view) {
  syncRows($("by-intermediary"), view.by_intermediary, {
    key: (r) => `${r.intermediary_id}|${r.prisoner_id}|${r.channel}`,
    columns: [
      (r) => r.name || r.intermediary_id || t("monitor.noRoute"),
      (r) => r.prisoner_id,
      (r) => r.channel,
      number((r) => r.letters),
      (r) => formatDuration(r.oldest_waiting_s),
    ],
    empty: t("monitor.empty.nothing"),
  });
  // Organisers look for another relative or lawyer before letters start waiting for these.
  syncRows($("near-capacity"), view.near_capacity, {
    key: (r) => `${r.intermediary_id}|${r.prisoner_id}`,
    columns: [
      (r) => r.name || r.intermediary_id,
      (r) => r.prisoner_id,
      number((r) => r.letters),
      number((r) => r.capacity_per_bundle),
      // The load is a share: a percentage in the page's locale.
      { className: "number", update: (r, cell) => setText(cell, formatNumber(r.load, { style: "percent", maximumFractionDigits: 0 })) },
    ],
    empty: t("monitor.empty.capacity"),
  });
  const status = { update: (r, cell) => {
    if (!cell.firstChild) cell.append(el("span"));
    cell.firstChild.className = `tag ${r.status}`;
    setText(cell.firstChild, r.status);
  } };
  syncRows($("by-prisoner"), view.by_prisoner, {
    key: (r) => r.prisoner_id,
    columns: [(r) => r.name_ru || r.prisoner_id, status, number((r) => r.letters), (r) => formatDuration(r.oldest_waiting_s)],
    empty: t("monitor.empty.nothing"),
  });
  syncRows($("to-review"), view.to_review, {
    key: (p) => p.prisoner_id,
    columns: [
      (p) => p.name_ru || p.prisoner_id,
      status,
      (p) => p.review_reason,
      controls((p) => [labelled(button("", async () => {
        await act(t("monitor.routeChecked"), `/api/v1/prisoners/${encodeURIComponent(p.prisoner_id)}/reviewed`);
      }, "small"), "monitor.routeChecked")]),
    ],
    empty: t("monitor.empty.review"),
  });
}

function renderThroughput(view) {
  const tp = view.throughput;
  syncRows($("throughput"), [["monitor.day", tp.day], ["monitor.week", tp.week]], {
    key: ([label]) => label,
    columns: [([label]) => t(label), number(([, w]) => w.queued), number(([, w]) => w.sent),
      number(([, w]) => w.handed_over)],
    empty: "",
  });
  const most = Math.max(1, ...tp.sent_per_day);
  const days = $("sent-per-day");
  while (days.children.length < tp.sent_per_day.length) {
    const item = el("li");
    item.append(el("meter"), el("span"), el("span"));
    days.append(item);
  }
  tp.sent_per_day.forEach((count, index) => {
    const [meter, value, when] = days.children[index].children;
    Object.assign(meter, { min: 0, max: most, value: count });
    const ago = tp.sent_per_day.length - 1 - index;
    setText(value, formatNumber(count));
    setText(when, ago === 0 ? t("monitor.today") : t("monitor.daysAgo", { n: ago }));
  });
}

function render(view) {
  lastView = view;
  renderCounts(view);
  renderBundles(view);
  renderHeld(view);
  kept.render(view);
  renderBacklogs(view);
  renderThroughput(view);
  $("status").textContent = t("monitor.updated", { time: formatTime(view.generated_at) });
  $("status").classList.remove("stale");
}

async function refresh({ side = false } = {}) {
  if (!session.token()) return;
  try {
    if (Date.now() - intermediariesAt > INTERMEDIARIES_MS) {
      intermediaries = await session.json("/api/v1/intermediaries");
      intermediariesAt = Date.now();
    }
    const view = await session.json("/api/v1/monitor");
    render(view);
    const counts = JSON.stringify(view.counts);
    if (side || counts !== sideCounts || Date.now() - sideAt > SIDE_MS) {
      sideAt = Date.now();
      sideCounts = counts;
      // Each panel says its own trouble; one failing does not stop the others.
      await Promise.allSettled([awaiting.load(), overdue.load(), search.reload(), flow.load()]);
    }
  } catch (error) {
    if (session.token()) {
      $("status").textContent = t("monitor.stale", { message: error.message });
      $("status").classList.add("stale");
    }
  }
}

function schedule() {
  clearTimeout(timer);
  if (!session.token()) return;
  timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, POLL_MS);
}

$("build").addEventListener("click", async () => {
  const made = await act(t("monitor.build"), "/api/v1/bundles/build", {});
  if (made) {
    const skipped = Object.keys(made.skipped).length;
    say(t(skipped ? "monitor.skipped" : "monitor.made", { made: formatNumber(made.made.length), skipped: formatNumber(skipped) }));
  }
});
onLangChange(() => {
  if (lastView) render(lastView);
  awaiting.render();
  overdue.render();
  search.render();
  flow.render();
});
wireConfirmDialog();
session.start();
