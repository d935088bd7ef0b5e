// Throughput over time, from GET /api/v1/monitor/throughput?range=48h|30d:
// {"range", "bucket": "hour"|"day", "bucket_s", "start", "end", "totals": {queued, sent, handed_over, held},
//  "buckets": [{"start": ISO, "queued", "sent", "handed_over", "held"}]} — oldest first, empty ones too.
// One bar chart per step on one scale (the kit's barCharts), the totals as text, and the same numbers
// in a table that opens under the charts (for screen readers, and to read exact values). The buckets
// are UTC hours or days, so they are labelled in UTC, in the page's language. Read again with the
// monitor's side panels; the range switch and the open table are never rebuilt, so focus stays put.

import { $, Refused, SignedOut, detail, el, syncRows } from "/staff-kit/kit.js";
import { barCharts } from "/staff-kit/chart.js";
import { formatDate, formatNumber, t } from "/staff-kit/i18n.js";
import { setText } from "./monitor-parts.js";

const STEPS = ["queued", "sent", "handed_over", "held"];
// A label under the charts every 6 hours or every 5 days: they fit side by side on a 390 px phone.
const TICK_EVERY = { hour: 6, day: 5 };
const SHORT = { hour: { timeZone: "UTC", hour: "2-digit", minute: "2-digit" },
  day: { timeZone: "UTC", day: "numeric", month: "short" } };
// In the table a bucket is named in two parts, each kept whole (on a phone the second goes under the
// first rather than a date breaking): an hour by its date and time, a day by its weekday and date.
const PARTS = { hour: [SHORT.day, SHORT.hour], day: [{ timeZone: "UTC", weekday: "short" }, SHORT.day] };

export function throughputPanel(session) {
  let range = "48h";
  let answer = null;
  const charts = barCharts($("flow-charts"));

  for (const choice of $("flow-range").querySelectorAll("button")) {
    choice.addEventListener("click", () => {
      if (range === choice.dataset.range) return;
      range = choice.dataset.range;
      markRange();
      load();
    });
  }

  function markRange() {
    for (const choice of $("flow-range").querySelectorAll("button")) {
      choice.setAttribute("aria-pressed", String(choice.dataset.range === range));
    }
  }

  async function load() {
    const asked = range;
    let reply;
    try {
      reply = await session.api(`/api/v1/monitor/throughput?range=${encodeURIComponent(asked)}`);
    } catch (error) {
      if (!(error instanceof SignedOut || error instanceof Refused)) setText($("flow-message"), t("monitor.stale", { message: error.message }));
      return;
    }
    // The operator switched the range while this was on its way: the other answer is the one wanted.
    if (asked !== range) return;
    if (!reply.ok || !Array.isArray(reply.data?.buckets)) {
      setText($("flow-message"), t("monitor.stale", { message: detail(reply.data, reply.status) }));
      return;
    }
    answer = reply.data;
    setText($("flow-message"), "");
    render();
  }

  function render() {
    if (!answer) return;
    const { bucket, buckets, totals } = answer;
    const label = (b, style) => formatDate(b.start, style[bucket]);
    const max = Math.max(1, ...buckets.flatMap((b) => STEPS.map((step) => b[step])));
    const every = TICK_EVERY[bucket];
    // Counted back from the newest bucket, so the present hour or day always has its label.
    const ticks = buckets.map((_, n) => n).filter((n) => (buckets.length - 1 - n) % every === 0);
    charts.update({
      series: STEPS.map((step) => ({ key: step, caption: t("monitor.flow.caption", {
        name: t(`monitor.flow.step.${step}`), n: formatNumber(totals[step]) }), values: buckets.map((b) => b[step]) })),
      labels: buckets.map((b) => label(b, SHORT)),
      ticks,
      max,
      format: (n) => formatNumber(n),
    });
    setText($("flow-totals"), t(`monitor.flow.totals.${answer.range}`, Object.fromEntries(
      STEPS.map((step) => [step, formatNumber(totals[step])]))));
    setText($("flow-hint"), t(`monitor.flow.hint.${bucket}`));
    syncRows($("flow-table"), buckets, {
      key: (b) => b.start,
      columns: [{ className: "when", update: (b, cell) => when(b, bucket, cell) }, ...STEPS.map((step) => ({ className: "number",
        update: (b, cell) => setText(cell, formatNumber(b[step])) }))],
      empty: "",
    });
  }

  return { load, render };
}

function when(bucket, size, cell) {
  if (cell.children.length !== 2) cell.replaceChildren(el("span"), " ", el("span"));
  PARTS[size].forEach((style, n) => setText(cell.children[n], formatDate(bucket.start, style)));
}
