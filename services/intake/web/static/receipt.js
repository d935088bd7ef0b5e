// The receipt page: /receipt#<letter id>.<receipt token>. The fragment never leaves the browser
// except as the Authorization header of the status request.

import { ApiError, letterStatus, listPrisoners, sendAgain, withdrawLetter } from "./api.js";
import { formatDate, has, lang, mountLanguageSwitch, onLangChange, t, translate } from "./i18n.js";
import { prisonerName } from "./prisoners.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const REFRESH_MS = Math.max(1000, Number(params.get("refresh")) * 1000 || 10_000);

const state = {
  id: null, token: null, letter: null, prisoners: null, updatedAt: null, problem: null, timer: null,
  editing: false, confirmingWithdrawal: false, sending: false, flash: null,
};

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

// Said more exactly when the view tells why delivery holds the letter (held_kind: the prisoner is being
// moved) or whom it was handed to on a release (handed_over_to: the person, their family).
function letterText(letter) {
  const detail = { held: letter.held_kind, handed_over: letter.handed_over_to }[letter.status];
  const key = `receipt.${letter.status}.${detail}`;
  return detail && has(key) ? t(key) : statusText(letter.status);
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
    // What the writer just did (sent a correction, a withdrawal that failed), until the next action.
    message.textContent = state.flash ? state.flash.text : "";
    message.dataset.kind = state.flash ? state.flash.kind : "";
  }
  const { letter } = state;
  $("receipt-body").hidden = !letter;
  if (!letter) return;

  const prisoner = (state.prisoners || []).find((p) => p.id === letter.prisoner_id);
  $("receipt-to").textContent = prisoner ? t("receipt.to", { name: prisonerName(prisoner) }) : "";
  $("status").textContent = statusName(letter.status);
  $("status-now").dataset.status = letter.status;
  $("status-text").textContent = letterText(letter);

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
  renderReason(letter);
  renderActions(letter);
  renderVersions(letter);

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

// Why a moderator rejected it, in the writer's language, and the note they left for the writer.
function renderReason(letter) {
  const reason = letter.reason;
  $("receipt-reason").hidden = !reason;
  $("receipt-reason-text").textContent = reason ? reason.text : "";
  $("receipt-reason-note").hidden = !(reason && reason.note);
  $("receipt-reason-note").textContent = reason && reason.note ? t("receipt.reasonNote", { note: reason.note }) : "";
}

function renderActions(letter) {
  const withdrawal = letter.withdrawal;
  const note = $("receipt-withdrawal");
  const key = withdrawal === "refused" ? `receipt.withdrawal.refused.${letter.withdrawal_refused}` : `receipt.withdrawal.${withdrawal}`;
  note.hidden = !withdrawal || !has(key);
  note.textContent = note.hidden ? "" : t(key);
  note.className = `alert ${withdrawal === "refused" ? "alert-warn" : "alert-info"}`;
  $("receipt-resend").hidden = !letter.can_resend || state.editing;
  $("receipt-resend-form").hidden = !letter.can_resend || !state.editing;
  $("receipt-withdraw").hidden = !letter.can_withdraw || state.confirmingWithdrawal;
  $("receipt-withdraw-confirm").hidden = !letter.can_withdraw || !state.confirmingWithdrawal;
}

function renderVersions(letter) {
  const earlier = letter.earlier_versions || [];
  $("receipt-versions").hidden = earlier.length === 0;
  $("receipt-version-now").textContent = t("receipt.versionNow", { n: letter.version });
  $("receipt-versions-list").replaceChildren(...earlier.map((version) => {
    const item = document.createElement("li");
    item.className = "receipt-version";
    item.dataset.version = version.version;
    const title = document.createElement("p");
    title.className = "receipt-version-title";
    title.textContent = `${t("receipt.version", { n: version.version })} · ${statusName(version.status)} · `
      + formatDate(version.submitted_at, { dateStyle: "medium", timeStyle: "short" });
    const text = document.createElement("p");
    text.className = "letter-text";
    text.textContent = version.original_text;
    item.append(title, text);
    if (version.reason) {
      const why = document.createElement("p");
      why.className = "hint";
      why.textContent = version.reason.note ? `${version.reason.text} ${t("receipt.reasonNote", { note: version.reason.note })}`
        : version.reason.text;
      item.append(why);
    }
    return item;
  }));
}

function startEditing() {
  state.editing = true;
  $("receipt-resend-text").value = state.letter.original_text || "";
  $("receipt-resend-translate").checked = Boolean(state.letter.translation_requested)
    || (state.letter.reason && state.letter.reason.code === "not_in_russian");
  showResendMessage(null);
  render();
  $("receipt-resend-text").focus();
}

function showResendMessage(text, kind = "error") {
  const message = $("receipt-resend-message");
  message.hidden = !text;
  message.textContent = text || "";
  message.className = `alert alert-${kind}`;
}

// One click sends one version: the button stays disabled until the answer, and the server makes at
// most one version from each (a second request gets the same one back).
async function submitEdit(event) {
  event.preventDefault();
  if (state.sending) return;
  const body = $("receipt-resend-text").value;
  if (!body.trim()) {
    showResendMessage(t("receipt.resendEmpty"));
    return;
  }
  state.sending = true;
  $("receipt-resend-submit").disabled = true;
  try {
    await sendAgain(state.id, state.token, { body, translationRequested: $("receipt-resend-translate").checked },
      { lang: lang() });
    state.editing = false;
    state.flash = { text: t("receipt.resendSent"), kind: "" };
    await refresh();
  } catch (error) {
    showResendMessage(t("receipt.resendFailed", { detail: error.detail || error.message }));
  } finally {
    state.sending = false;
    $("receipt-resend-submit").disabled = false;
  }
}

async function confirmWithdrawal() {
  $("receipt-withdraw-yes").disabled = true;
  state.flash = null;
  try {
    await withdrawLetter(state.id, state.token);
    state.confirmingWithdrawal = false;
    await refresh();
  } catch (error) {
    state.flash = { text: t("receipt.withdrawFailed", { detail: error.detail || error.message }), kind: "error" };
    render();
  } finally {
    $("receipt-withdraw-yes").disabled = false;
  }
}

function wireActions() {
  $("receipt-resend").addEventListener("click", startEditing);
  $("receipt-resend-cancel").addEventListener("click", () => { state.editing = false; render(); });
  $("receipt-resend-form").addEventListener("submit", submitEdit);
  $("receipt-withdraw").addEventListener("click", () => { state.confirmingWithdrawal = true; render(); });
  $("receipt-withdraw-no").addEventListener("click", () => { state.confirmingWithdrawal = false; render(); });
  $("receipt-withdraw-yes").addEventListener("click", confirmWithdrawal);
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
wireActions();
mountLanguageSwitch($("lang-switch"));
onLangChange(() => (state.id && state.letter ? refresh() : render()));
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.id && state.problem !== "receipt.notFound") refresh();
});
window.addEventListener("hashchange", start);
loadPrisoners();
start();
