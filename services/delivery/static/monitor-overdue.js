// Letters overdue somewhere in the pipeline, from GET /api/v1/monitor/overdue:
// {"reports": [{"service": "intake"|"sorting"|"delivery", "checked_at": ISO,
//               "overdue": [{"letter_id", "state", "since": ISO, "note"}]}]}.
// One block per service: when it was last checked, and its overdue letters (state, since when, for
// how long, the note), or "all letters on time". A 404 means the check is not deployed here: the
// panel stays hidden, says nothing, and is asked again now and then.

import { $, Refused, SignedOut, detail, el, syncRows } from "/staff-kit/kit.js";
import { formatDate, formatDuration, t } from "/staff-kit/i18n.js";
import { named, setText } from "./monitor-parts.js";

// Not deployed: ask again after this long rather than with every refresh.
const ABSENT_RETRY_MS = 60000;
const COLUMNS = ["monitor.col.letter", "monitor.col.state", "monitor.col.since", "monitor.col.overdueFor",
  "monitor.col.note"];

export function overduePanel(session) {
  let reports = null;
  let absentAt = 0;

  async function load() {
    if (absentAt && Date.now() - absentAt < ABSENT_RETRY_MS) return;
    let answer;
    try {
      answer = await session.api("/api/v1/monitor/overdue");
    } catch (error) {
      // Signed out, or refused: the kit has said so. Otherwise the connection: said in the panel.
      if (!(error instanceof SignedOut || error instanceof Refused)) said(t("monitor.stale", { message: error.message }));
      return undefined;
    }
    if (answer.status === 404) {
      absentAt = Date.now();
      reports = null;
      $("overdue-panel").hidden = true;
      return undefined;
    }
    absentAt = 0;
    if (!answer.ok || !Array.isArray(answer.data?.reports)) {
      const message = answer.ok ? t("monitor.overdue.unreadable") : detail(answer.data, answer.status);
      return said(t("monitor.stale", { message }));
    }
    reports = answer.data.reports;
    setText($("overdue-message"), "");
    render();
    return undefined;
  }

  // A problem reading the check is said in the panel, over what was shown before.
  function said(text) {
    $("overdue-panel").hidden = false;
    setText($("overdue-message"), text);
  }

  function render() {
    if (!reports) return;
    $("overdue-panel").hidden = false;
    const box = $("overdue-reports");
    const blocks = new Map([...box.children].map((node) => [node.dataset.service, node]));
    const wanted = reports.map((entry) => {
      const block = blocks.get(entry.service) || newBlock(entry.service);
      blocks.delete(entry.service);
      fill(block, entry);
      return block;
    });
    for (const gone of blocks.values()) gone.remove();
    wanted.forEach((block, n) => {
      if (box.children[n] !== block) box.insertBefore(block, box.children[n] || null);
    });
    $("overdue-none").hidden = reports.length > 0;
  }

  function fill(block, entry) {
    const [heading, checked, table] = block.children;
    setText(heading, named("monitor.service", entry.service));
    setText(checked, t("monitor.overdue.checked", { time: formatDate(entry.checked_at) }));
    syncRows(table, entry.overdue || [], {
      key: (l) => `${l.letter_id}|${l.state}`,
      columns: [
        (l) => l.letter_id,
        (l) => named("monitor.state", l.state),
        (l) => formatDate(l.since),
        // For how long: counted here, so it grows between readings.
        (l) => formatDuration(Math.max(0, (Date.now() - Date.parse(l.since)) / 1000)),
        { className: "reason", update: (l, cell) => setText(cell, l.note || "") },
      ],
      empty: t("monitor.overdue.onTime"),
    });
  }

  return { load, render };
}

function newBlock(service) {
  const block = el("div", null, "overdue-report");
  block.dataset.service = service;
  const table = el("table", null, "kit-table overdue");
  const head = el("thead");
  const row = el("tr");
  row.append(...COLUMNS.map((key) => {
    const th = el("th", t(key));
    th.dataset.i18n = key; // the kit's translate() renames it with the language
    return th;
  }));
  head.append(row);
  table.append(head, el("tbody"));
  block.append(el("h3"), el("p", "", "hint"), table);
  return block;
}
