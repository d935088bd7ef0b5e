// Looking up one letter by its id (issue 17): its delivery state and its history, from
// GET /api/v1/letters/{id}. A letter delivery has never heard of is said to be not found, plainly.
// The id typed stays in its field across the monitor's refreshes (nothing here is rebuilt by them);
// an open letter is read again with the panels beside the snapshot, so it follows what happens to it.

import { $, detail, el, report } from "/staff-kit/kit.js";
import { formatDate, formatNumber, t } from "/staff-kit/i18n.js";
import { named, setText } from "./monitor-parts.js";

const FACTS = [
  ["monitor.letter.state", (l) => named("monitor.state", l.state)],
  ["monitor.letter.prisoner", (l) => l.prisoner_id],
  ["monitor.letter.intermediary", (l) => l.intermediary_id],
  ["monitor.letter.bundle", (l) => l.bundle_id],
  ["monitor.letter.facility", (l) => l.facility_id],
  ["monitor.letter.why", (l) => l.reason],
  ["monitor.letter.holdKind", (l) => named("monitor.hold", l.hold_kind)],
  ["monitor.letter.archived", (l) => (l.archived ? t("monitor.yes") : "")],
  ["monitor.letter.redirected", (l) => (l.redirected ? t("monitor.yes") : "")],
  ["monitor.letter.pages", (l) => formatNumber(l.pages)],
  ["monitor.letter.queued", (l) => formatDate(l.queued_at)],
  ["monitor.letter.changed", (l) => formatDate(l.changed_at)],
  ["monitor.letter.sent", (l) => (l.sent_at ? formatDate(l.sent_at) : "")],
  ["monitor.letter.handedOver", (l) => (l.handed_over_at ? formatDate(l.handed_over_at) : "")],
];

export function letterSearch(session) {
  let shown = null; // {id, letter} of the letter on show, or {id, missing: true}

  function render() {
    const card = $("letter-card");
    if (!shown) {
      card.hidden = true;
      return;
    }
    if (shown.missing) {
      card.hidden = true;
      setText($("find-message"), t("monitor.find.notFound", { id: shown.id }));
      $("find-message").className = "result bad";
      return;
    }
    const letter = shown.letter;
    setText($("find-message"), "");
    $("find-message").className = "result";
    setText($("letter-title"), t("monitor.find.title", { id: letter.letter_id }));
    $("letter-facts").replaceChildren(...FACTS.flatMap(([key, value]) => {
      const text = value(letter);
      if (!text) return [];
      const row = el("div", null, "fact");
      row.append(el("dt", t(key)), el("dd", text));
      return [row];
    }));
    const history = letter.history || [];
    $("letter-history").replaceChildren(...history.map(step));
    $("letter-no-history").hidden = history.length > 0;
    card.dataset.letterId = letter.letter_id;
    card.hidden = false;
  }

  async function open(id) {
    const answer = await session.api(`/api/v1/letters/${encodeURIComponent(id)}`);
    if (answer.status === 404) shown = { id, missing: true };
    else if (!answer.ok) throw new Error(detail(answer.data, answer.status));
    else shown = { id, letter: answer.data };
    render();
  }

  async function reload() {
    if (shown && !shown.missing) await open(shown.id).catch(() => {}); // the next reading tries again
  }

  $("find-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("find-id").value.trim();
    if (!id) {
      shown = null;
      render();
      setText($("find-message"), t("monitor.find.empty"));
      $("find-message").className = "result bad";
      $("find-id").focus();
      return;
    }
    const submit = $("find-form").querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      await open(id);
    } catch (error) {
      report(error);
      setText($("find-message"), t("monitor.failed", { what: t("monitor.find.open"), message: error.message }));
      $("find-message").className = "result bad";
    } finally {
      submit.disabled = false;
    }
  });

  return { render, reload };
}

// One line of the letter's history: when, what happened, the state after, and where it went.
function step(line) {
  const item = el("li");
  item.append(el("strong", `${formatDate(line.at)} · ${named("monitor.change", line.change)}`),
    ` → ${named("monitor.state", line.state)}`);
  const moves = [];
  if (line.from_facility_id || line.to_facility_id) {
    moves.push(t("monitor.history.facility", { from: line.from_facility_id || "–", to: line.to_facility_id || "–" }));
  }
  if (line.from_intermediary_id || line.to_intermediary_id) {
    moves.push(t("monitor.history.intermediary", {
      from: line.from_intermediary_id || "–", to: line.to_intermediary_id || "–" }));
  }
  if (line.bundle_id) moves.push(t("monitor.history.bundle", { id: line.bundle_id }));
  if (moves.length) item.append(el("span", moves.join(" · "), "muted block"));
  if (line.note) item.append(el("span", line.note, "muted block"));
  return item;
}
