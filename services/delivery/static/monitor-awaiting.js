// Bundles sent and not confirmed yet (issue 17), from GET /api/v1/bundles/awaiting-confirmation,
// longest out first, with how long ago each left. For each:
// - a new link to the bundle's PDF (POST /api/v1/bundles/{id}/download-link): every press makes a
//   fresh short-lived link, audited; earlier ones still work until they expire. The intermediary's
//   confirmation link is not this one: delivery keeps only its hash, so it cannot be shown again;
// - one outcome for every letter still out (POST /api/v1/bundles/{id}/outcome), confirmed first;
//   returned and blocked need a reason.
// Rows are kept by key: a reason being typed survives the refreshes.

import { $, Refused, SignedOut, button, detail, el, syncRows } from "/staff-kit/kit.js";
import { formatDate, formatDuration, formatNumber, t } from "/staff-kit/i18n.js";
import { addResult, askToConfirm, controls, labelled, named, relabel, setText } from "./monitor-parts.js";

const OUTCOMES = ["handed_over", "returned", "blocked"];
const REASON_MAX = 500;

export function awaitingPanel(session, { refresh }) {
  let rows = null;
  let loadedAt = 0;
  const results = () => $("awaiting-results");

  async function load() {
    try {
      rows = await session.json("/api/v1/bundles/awaiting-confirmation");
      loadedAt = Date.now();
      setText($("awaiting-message"), "");
    } catch (error) {
      // Signed out, or refused: the kit has said so. Otherwise the connection: said in the panel.
      if (!(error instanceof SignedOut || error instanceof Refused)) {
        setText($("awaiting-message"), t("monitor.stale", { message: error.message }));
      }
    }
    render();
  }

  function render() {
    if (!rows) return;
    const since = (Date.now() - loadedAt) / 1000;
    syncRows($("awaiting"), rows, {
      key: (b) => b.bundle_id,
      columns: [
        (b) => b.bundle_id,
        (b) => b.intermediary_name || b.intermediary_id || "",
        (b) => b.prisoner_name_ru || b.prisoner_id,
        (b) => b.channel,
        (b) => t("monitor.awaiting.out", { out: formatNumber(b.letters_out), all: formatNumber(b.letters) }),
        (b) => formatDate(b.sent_at),
        { className: "ago", update: (b, cell) => setText(cell, formatDuration(b.sent_ago_s + since)) },
        controls((b) => [linkButton(b)]),
        { className: "actions", create: (b, cell) => cell.append(...outcomeControls(b)), update: updateOutcome },
      ],
      empty: t("monitor.empty.awaiting"),
    });
  }

  function linkButton(bundle) {
    const node = labelled(button("", async () => {
      const answer = await session.api(`/api/v1/bundles/${encodeURIComponent(bundle.bundle_id)}/download-link`,
        { method: "POST" });
      if (!answer.ok) {
        addResult(results(), { kind: "bad", text: t("monitor.failed", {
          what: t("monitor.awaiting.link"), message: detail(answer.data, answer.status) }) });
        return;
      }
      const minutes = formatNumber(Math.round(answer.data.expires_in_s / 60));
      addResult(results(), { text: t("monitor.awaiting.linkMade", { id: bundle.bundle_id }),
        link: { url: answer.data.url, text: t("monitor.downloadLink", { id: bundle.bundle_id, minutes }) } });
    }, "small secondary"), "monitor.awaiting.link");
    node.classList.add("new-link");
    return node;
  }

  function outcomeControls(bundle) {
    const outcome = el("select", null, "outcome");
    outcome.append(...OUTCOMES.map((value) => {
      const option = labelled(el("option"), `monitor.state.${value}`);
      option.value = value;
      return option;
    }));
    const reason = el("input", null, "outcome-why");
    Object.assign(reason, { maxLength: REASON_MAX, autocomplete: "off" });
    reason.dataset.placeholderKey = "monitor.awaiting.why";
    reason.placeholder = t("monitor.awaiting.why");
    reason.addEventListener("input", () => reason.removeAttribute("aria-invalid"));
    const note = el("p", "", "row-note");
    note.setAttribute("role", "alert");
    const record = labelled(button("", () => recordOutcome(bundle, outcome.value, reason, note), "small"),
      "monitor.awaiting.record");
    record.classList.add("record-outcome");
    const box = el("div", null, "kit-controls");
    box.append(outcome, reason, record);
    return [box, note];
  }

  function updateOutcome(bundle, cell) {
    relabel(cell);
    cell.querySelector(".outcome").setAttribute("aria-label", t("monitor.awaiting.outcomeLabel", { id: bundle.bundle_id }));
    cell.querySelector(".outcome-why").setAttribute("aria-label", t("monitor.awaiting.whyLabel", { id: bundle.bundle_id }));
  }

  async function recordOutcome(bundle, outcome, input, note) {
    const reason = input.value.trim();
    if (outcome !== "handed_over" && !reason) {
      setText(note, t("monitor.awaiting.needReason"));
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    setText(note, "");
    const row = (rows || []).find((b) => b.bundle_id === bundle.bundle_id) || bundle;
    const asked = await askToConfirm(t("monitor.awaiting.confirmTitle", { id: bundle.bundle_id }),
      t("monitor.awaiting.confirmText", { outcome: named("monitor.state", outcome), n: formatNumber(row.letters_out) }),
      t("monitor.awaiting.record"));
    if (!asked) return;
    const body = { outcome, reason: outcome === "handed_over" ? null : reason };
    const answer = await session.api(`/api/v1/bundles/${encodeURIComponent(bundle.bundle_id)}/outcome`,
      { method: "POST", body });
    if (!answer.ok) {
      addResult(results(), { kind: "bad", text: t("monitor.failed", {
        what: `${t("monitor.awaiting.record")} · ${bundle.bundle_id}`, message: detail(answer.data, answer.status) }) });
      return;
    }
    input.value = "";
    addResult(results(), { text: t("monitor.awaiting.recorded", {
      id: bundle.bundle_id, outcome: named("monitor.state", outcome), n: formatNumber(answer.data.letters) }) });
    await refresh();
  }

  return { load, render };
}
