// What the monitor's panels share beyond the staff kit: cells whose labels follow the language, the
// confirmation asked before an action on many letters, and the record of an action's results (kept
// outside the tables, so it stays when the row it came from leaves with the next refresh).
// Every value reaches the page through textContent, never as HTML.

import { $, el } from "/staff-kit/kit.js";
import { formatNumber, has, t } from "/staff-kit/i18n.js";

export function setText(node, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** A catalogue's word for a value from the server (a state, a status), or the value itself. */
export function named(prefix, value) {
  return value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : value || "";
}

export const number = (value) => ({ className: "number", update: (row, cell) => setText(cell, formatNumber(value(row))) });

export function labelled(node, key) {
  node.dataset.labelKey = key;
  node.textContent = t(key);
  return node;
}

/** Texts of controls built once: labels, placeholders and accessible names follow the language. */
export function relabel(root) {
  for (const node of root.querySelectorAll("[data-label-key]")) setText(node, t(node.dataset.labelKey));
  for (const node of root.querySelectorAll("[data-placeholder-key]")) node.placeholder = t(node.dataset.placeholderKey);
}

// A cell whose controls are built once per row (create) and whose label follows the language (update).
export function controls(build) {
  return {
    className: "actions",
    create: (row, cell) => {
      const box = el("div", null, "kit-controls");
      box.append(...build(row));
      cell.append(box);
    },
    update: (row, cell) => relabel(cell),
  };
}

/** Options of a select, rebuilt only when they changed; what was chosen stays chosen. */
export function setOptions(select, choices) {
  const signature = choices.map(([value, text]) => `${value}:${text}`).join("|");
  if (select.dataset.choices === signature) return;
  const chosen = select.value;
  select.replaceChildren(...choices.map(([value, text]) => {
    const option = el("option", text);
    option.value = value;
    return option;
  }));
  if (choices.some(([value]) => value === chosen)) select.value = chosen;
  select.dataset.choices = signature;
}

// The one confirmation dialog of the page (monitor.html #confirm-dialog): resolves true only when
// the operator presses its confirming button; Escape and Cancel say no.
export function askToConfirm(title, text, confirmLabel) {
  const dialog = $("confirm-dialog");
  setText($("confirm-title"), title);
  setText($("confirm-text"), text);
  setText($("confirm-yes"), confirmLabel);
  setText($("confirm-no"), t("monitor.cancel"));
  return new Promise((resolve) => {
    const done = (answer) => {
      dialog.removeEventListener("close", closed);
      resolve(answer);
    };
    const closed = () => done(dialog.returnValue === "yes");
    dialog.returnValue = "";
    dialog.addEventListener("close", closed);
    dialog.showModal();
    $("confirm-no").focus();
  });
}

export function wireConfirmDialog() {
  const dialog = $("confirm-dialog");
  $("confirm-no").addEventListener("click", () => dialog.close("no"));
  $("confirm-yes").addEventListener("click", () => dialog.close("yes"));
}

// The results of a panel's actions, newest first: a line of text, a link (a bundle's PDF) and the
// letters that failed, each with the server's reason.
const RESULTS_KEPT = 8;

export function addResult(list, { text, kind = "ok", link, failures = [] }) {
  const item = el("li", null, `result-entry ${kind}`);
  item.append(el("span", text));
  if (link) {
    const anchor = el("a", link.text);
    anchor.href = link.url;
    anchor.rel = "noopener noreferrer";
    anchor.className = "bundle-link";
    item.append(" ", anchor);
  }
  if (failures.length) {
    const failed = el("ul", null, "failures");
    failed.append(...failures.map(({ id, message }) => {
      const line = el("li");
      line.append(el("code", id), ` — ${message}`);
      line.dataset.letter = id;
      return line;
    }));
    item.append(failed);
  }
  list.prepend(item);
  while (list.children.length > RESULTS_KEPT) list.lastElementChild.remove();
  return item;
}
