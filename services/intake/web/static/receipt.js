// The receipt page: /receipt#<letter id>.<receipt token>. The fragment never leaves the browser
// except as the Authorization header of the status request.

import { ApiError, letterStatus, listPrisoners } from "./api.js";
import { formatDate, has, lang, mountLanguageSwitch, onLangChange, t, translate } from "./i18n.js";
import { prisonerName } from "./prisoners.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(1000, Number(params.get("refresh")) * 1000 || 10_000);

const state = { id: null, token: null, letter: null, prisoners: null, updatedAt: null, problem: null, timer: null };

function parseFragment() {
  let fragment;
  try {
    fragment = decodeURIComponent(location.hash.replace(/^#/, ""));
  } catch {
    return null; // a mangled link
  }
  const dot = fragment.indexOf(".");
  if (dot <= 0 || dot === fragment.length - 1) return null;
  return { id: fragment.slice(0, dot), token: fragment.slice(dot + 1) };
}

function statusName(status) {
  return has(`status.${status}`) ? t(`status.${status}`) : status;
}

function statusText(status) {
  return has(`status.${status}.text`) ? t(`status.${status}.text`) : "";
}

function render() {
  const message = $("receipt-message");
  if (state.problem) {
    message.textContent = t(state.problem);
    message.dataset.kind = state.problem === "receipt.error" ? "warn" : "error";
  } else if (!state.letter) {
    message.textContent = t("receipt.loading");
    message.dataset.kind = "";
  } else {
    message.textContent = "";
  }
  const { letter } = state;
  $("receipt-body").hidden = !letter;
  if (!letter) return;

  const prisoner = (state.prisoners || []).find((p) => p.id === letter.prisoner_id);
  $("receipt-to").textContent = prisoner ? t("receipt.to", { name: prisonerName(prisoner) }) : "";
  $("status").textContent = statusName(letter.status);
  $("status-now").dataset.status = letter.status;
  $("status-text").textContent = statusText(letter.status);

  const steps = (letter.timeline || []).map((step) => {
    const item = document.createElement("li");
    item.className = "timeline-step";
    item.dataset.status = step.status;
    const name = document.createElement("span");
    name.className = "timeline-status";
    name.textContent = statusName(step.status);
    const when = document.createElement("time");
    when.dateTime = step.at;
    when.textContent = formatDate(step.at, { dateStyle: "medium", timeStyle: "short" });
    item.append(name, when);
    return item;
  });
  $("timeline").replaceChildren(...steps);

  renderLetterTexts(letter);

  const findings = letter.verdict === "review" ? letter.findings || [] : [];
  // The name and city are printed too: say which one a finding is about.
  const labels = { writer_first_name: t("author.name"), writer_city: t("author.city") };
  const said = (f) => (labels[f.field] ? t("receipt.inField", { field: labels[f.field], message: f.message }) : f.message);
  const messages = [...new Set(findings.filter((f) => f.message).map(said))];
  $("receipt-findings").hidden = messages.length === 0;
  $("receipt-findings-list").replaceChildren(
    ...messages.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
  $("receipt-id").textContent = t("receipt.letterId", { id: letter.id });
  $("receipt-updated").textContent = state.updatedAt
    ? t("receipt.updated", { time: formatDate(state.updatedAt, { timeStyle: "medium" }) })
    : "";
}

// The letter as the scan prints it (once ready), saying whether it was translated or redacted,
// beside what the writer sent. Always as text, never as HTML.
function renderLetterTexts(letter) {
  const printed = letter.printed_text;
  $("receipt-printed").hidden = !printed;
  $("receipt-printed-text").textContent = printed || "";
  const note = letter.translated ? "receipt.printedTranslated" : letter.redacted ? "receipt.printedRedacted"
    : "receipt.printedAsWritten";
  $("receipt-printed-note").textContent = printed ? t(note) : "";
  const original = letter.original_text || "";
  // Shown beside a translation or a redaction, and whenever nothing is printed yet.
  $("receipt-original").hidden = !original || (printed === original && !letter.translated);
  $("receipt-original-text").textContent = original;
}

async function refresh() {
  clearTimeout(state.timer);
  try {
    state.letter = await letterStatus(state.id, state.token, { lang: lang() });
    state.updatedAt = new Date();
    state.problem = null;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      state.letter = null;
      state.problem = "receipt.notFound";
      render();
      return; // nothing will appear by waiting
    }
    state.problem = "receipt.error";
  }
  render();
  state.timer = setTimeout(refresh, REFRESH_MS);
}

async function loadPrisoners() {
  try {
    state.prisoners = await listPrisoners();
    render();
  } catch {
    /* the name is a nicety; the status shows without it */
  }
}

function start() {
  const receipt = parseFragment();
  state.letter = null;
  if (!receipt) {
    state.problem = "receipt.missing";
    render();
    return;
  }
  Object.assign(state, receipt, { problem: null });
  render();
  refresh();
}

translate();
mountLanguageSwitch($("lang-switch"));
onLangChange(() => (state.id && state.letter ? refresh() : render()));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.id && state.problem !== "receipt.notFound") refresh();
});
window.addEventListener("hashchange", start);
loadPrisoners();
start();
