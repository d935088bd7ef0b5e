// Bar charts a staff page draws itself, as inline SVG: no chart library, nothing from another origin.
// barCharts(host) draws small multiples: one chart per series over the same buckets, on one scale, one
// beside or above the other, each under its own caption (its name, and what the page adds, a total): a
// series is told by its name, never by its colour alone. Each chart has the bucket labels under it.
// update() changes the attributes of the nodes it drew before (and adds or drops bars when the number
// of buckets changes), so a refresh moves no focus and no scroll. The SVG is hidden from screen
// readers: the page gives the same numbers as text (a table). Texts come from the page, in its language.

import { el } from "./kit.js";

const SVG = "http://www.w3.org/2000/svg";
const CHART_HEIGHT = 56;
const TICKS_HEIGHT = 18;
// Room on the left for the scale's number, and the narrowest a chart is drawn (the host hidden: 0 px).
const SCALE_WIDTH = 28;
const MIN_WIDTH = 160;

function svgNode(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function set(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    const text = String(value);
    if (node.getAttribute(name) !== text) node.setAttribute(name, text);
  }
}

function setText(node, text) {
  const value = String(text ?? "");
  if (node.textContent !== value) node.textContent = value;
}

/**
 * `host` belongs to the charts. update({series, labels, ticks, max, format}):
 * - series: [{key, caption, values: [number, …]}], every one as long as `labels`;
 * - labels: a text per bucket (the bars' tooltips: "14:00 — 3");
 * - ticks: the indexes of the buckets whose label is written under the charts;
 * - max: the top of the common scale (the largest value, at least 1); format: how a number is written.
 */
export function barCharts(host) {
  host.classList.add("kit-charts");
  let last = null;

  function row(key, index) {
    let figure = [...host.children].find((node) => node.dataset.key === key);
    if (!figure) {
      figure = el("figure", null, `kit-chart kit-series-${index}`);
      figure.dataset.key = key;
      const caption = el("figcaption");
      caption.append(el("span", null, "kit-chart-swatch"), el("span", null, "kit-chart-caption"));
      const svg = svgNode("svg", { "aria-hidden": "true", focusable: "false" });
      svg.append(svgNode("line", { class: "kit-chart-grid" }), svgNode("text", { class: "kit-chart-scale" }),
        svgNode("g", { class: "kit-chart-bars" }), svgNode("line", { class: "kit-chart-base" }),
        svgNode("g", { class: "kit-chart-ticks" }));
      figure.append(caption, svg);
    }
    return figure;
  }

  function draw(figure, values, { labels, ticks, max, format }, width) {
    const svg = figure.querySelector("svg");
    const [grid, scale, bars, base, tickGroup] = svg.children;
    const height = CHART_HEIGHT + TICKS_HEIGHT;
    set(svg, { viewBox: `0 0 ${width} ${height}`, width, height });
    const plot = width - SCALE_WIDTH;
    const step = plot / Math.max(1, values.length);
    const top = 6;
    set(grid, { x1: SCALE_WIDTH, x2: width, y1: top, y2: top });
    set(base, { x1: SCALE_WIDTH, x2: width, y1: CHART_HEIGHT, y2: CHART_HEIGHT });
    set(scale, { x: SCALE_WIDTH - 4, y: top + 4, "text-anchor": "end" });
    setText(scale, format(max));
    while (bars.children.length > values.length) bars.lastChild.remove();
    while (bars.children.length < values.length) {
      const bar = svgNode("rect");
      bar.append(svgNode("title"));
      bars.append(bar);
    }
    values.forEach((value, n) => {
      // A single letter stays visible beside a busy hour: at least 2 px for anything above zero.
      const tall = value > 0 ? Math.max(2, ((CHART_HEIGHT - top) * value) / max) : 0;
      const bar = bars.children[n];
      set(bar, { x: (SCALE_WIDTH + n * step + step * 0.12).toFixed(2), width: Math.max(1, step * 0.76).toFixed(2),
        y: (CHART_HEIGHT - tall).toFixed(2), height: tall.toFixed(2) });
      setText(bar.firstChild, `${labels[n] ?? ""} — ${format(value)}`);
    });
    const shown = ticks;
    while (tickGroup.children.length > shown.length) tickGroup.lastChild.remove();
    while (tickGroup.children.length < shown.length) tickGroup.append(svgNode("text"));
    shown.forEach((index, n) => {
      const x = SCALE_WIDTH + (index + 0.5) * step;
      // The first and last labels keep inside the chart instead of being cut at its edges.
      const anchor = x < SCALE_WIDTH + 24 ? "start" : x > width - 24 ? "end" : "middle";
      const at = anchor === "start" ? SCALE_WIDTH + index * step : anchor === "end" ? width : x;
      set(tickGroup.children[n], { x: at.toFixed(2), y: CHART_HEIGHT + TICKS_HEIGHT - 4, "text-anchor": anchor });
      setText(tickGroup.children[n], labels[index] ?? "");
    });
    dropCrowdedTicks(tickGroup);
  }

  // Labels that would touch their right-hand neighbour are left out, the newest kept: long month names
  // on a phone.
  function dropCrowdedTicks(group) {
    let left = Infinity;
    for (const label of [...group.children].reverse()) {
      label.removeAttribute("visibility");
      const box = label.getBBox();
      if (box.width && box.x + box.width + 6 > left) label.setAttribute("visibility", "hidden");
      else left = box.x;
    }
  }

  function update(data) {
    last = data;
    const wanted = data.series.map((series, index) => {
      const figure = row(series.key, index);
      setText(figure.querySelector(".kit-chart-caption"), series.caption);
      return figure;
    });
    for (const node of [...host.children]) if (!wanted.includes(node)) node.remove();
    wanted.forEach((figure, n) => {
      if (host.children[n] !== figure) host.insertBefore(figure, host.children[n] || null);
      draw(figure, data.series[n].values, data, Math.max(MIN_WIDTH, Math.floor(figure.clientWidth)));
    });
  }

  // Drawn to each chart's width in pixels (text stays its size on a phone): again when the host's changes.
  let drawnWidth = 0;
  new ResizeObserver(() => {
    const width = Math.floor(host.clientWidth);
    if (last && width && width !== drawnWidth) {
      drawnWidth = width;
      update(last);
    }
  }).observe(host);

  return { update };
}
