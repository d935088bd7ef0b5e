// Letters kept for a prisoner (issue 18): held because they were released or died, could not be
// reached, or were being moved. One row per prisoner (the snapshot's `kept`), with three actions on
// all their kept letters, each confirmed first:
// - hand them all over on release: POST /api/v1/prisoners/{id}/release-hand-over, one bundle, whose
//   PDF link is shown in the panel's results (it stays there after the row leaves);
// - archive them all, with a reason the operator must type: POST /api/v1/letters/{id}/archive each;
// - redirect them all through an intermediary chosen here: POST /api/v1/letters/{id}/redirect each.
// A bulk action asks for the prisoner's kept letters at that moment (not the snapshot's, which is
// capped), goes on past a letter that fails and lists each failure with the server's reason. The
// rows are kept by key (syncRows): a reason being typed, a choice made, survive every refresh.

import { $, Refused, SignedOut, button, detail, el, syncRows } from "/staff-kit/kit.js";
import { formatDate, formatNumber, lang, t } from "/staff-kit/i18n.js";
import { addResult, askToConfirm, labelled, named, relabel, setOptions, setText } from "./monitor-parts.js";

const path = (id) => encodeURIComponent(id);

export function keptPanel(session, { refresh, intermediaries }) {
  const latest = new Map(); // prisoner id → the newest snapshot's group
  const results = () => $("kept-results");
  const who = (group) => group.name_ru || group.prisoner_id;

  function render(view) {
    const groups = view.kept || [];
    latest.clear();
    for (const group of groups) latest.set(group.prisoner_id, group);
    syncRows($("kept"), groups, {
      key: (g) => g.prisoner_id,
      columns: [
        { className: "who", update: (g, cell) => nameCell(g, cell) },
        { update: (g, cell) => statusCell(g, cell) },
        { update: (g, cell) => setText(cell, t("monitor.kept.count", {
          n: formatNumber(g.count), since: formatDate(g.letters[0]?.held_since) })) },
        { className: "kept-letters", update: (g, cell) => lettersCell(g, cell) },
        { className: "actions", create: (g, cell) => cell.append(...actions(g.prisoner_id)), update: updateActions },
      ],
      empty: t("monitor.empty.kept"),
    });
  }

  function actions(id) {
    const handOver = fieldset("monitor.kept.handOverLegend", "hand-over");
    const recipient = el("select", null, "recipient");
    const give = labelled(button("", () => handOverAll(id, recipient.value), "small"), "monitor.kept.handOver");
    give.classList.add("hand-over-all");
    const none = labelled(el("p", "", "hint no-hand-over"), "monitor.kept.noHandOver");
    handOver.append(controlsOf(recipient, give), none);

    const archive = fieldset("monitor.kept.archiveLegend", "archive");
    const reason = el("input", null, "kept-why");
    Object.assign(reason, { maxLength: 500, required: true, autocomplete: "off" });
    reason.dataset.placeholderKey = "monitor.kept.archiveWhy";
    reason.placeholder = t("monitor.kept.archiveWhy");
    reason.addEventListener("input", () => reason.removeAttribute("aria-invalid"));
    const store = labelled(button("", () => archiveAll(id, reason), "small secondary"), "monitor.kept.archive");
    store.classList.add("archive-all");
    archive.append(controlsOf(reason, store));

    const redirect = fieldset("monitor.kept.redirectLegend", "redirect");
    const to = el("select", null, "kept-redirect-to");
    const send = labelled(button("", () => redirectAll(id, to.value), "small"), "monitor.kept.redirect");
    send.classList.add("redirect-all");
    redirect.append(controlsOf(to, send));

    const note = el("p", "", "row-note");
    note.setAttribute("role", "alert");
    return [handOver, archive, redirect, note];
  }

  // What follows the newest snapshot and the language: who may be handed the letters, whom they may
  // be redirected through, the accessible names. What the operator typed or chose is left alone.
  function updateActions(group, cell) {
    relabel(cell);
    const name = who(group);
    const recipient = cell.querySelector(".recipient");
    setOptions(recipient, group.recipients.map((r) => [r, t(`monitor.recipient.${r}`)]));
    recipient.setAttribute("aria-label", t("monitor.kept.recipientLabel", { name }));
    recipient.hidden = !group.recipients.length;
    cell.querySelector(".hand-over-all").hidden = !group.recipients.length;
    cell.querySelector(".no-hand-over").hidden = group.recipients.length > 0;
    cell.querySelector(".kept-why").setAttribute("aria-label", t("monitor.kept.archiveLabel", { name }));
    const choices = intermediaries().filter((i) => i.prisoner_id === group.prisoner_id && i.active);
    const to = cell.querySelector(".kept-redirect-to");
    setOptions(to, choices.map((i) => [i.id, `${i.name} (${i.channel})`]));
    to.setAttribute("aria-label", t("monitor.kept.redirectLabel", { name }));
    cell.querySelector(".redirect").hidden = !choices.length;
  }

  async function handOverAll(id, recipient) {
    const group = latest.get(id) || { prisoner_id: id, name_ru: "" };
    const letters = await keptNow(id);
    if (!letters.length) return nothingKept(group);
    const asked = await askToConfirm(t("monitor.kept.handOverTitle", { name: who(group) }),
      t("monitor.kept.handOverText", { n: formatNumber(letters.length), recipient: t(`monitor.recipient.${recipient}`) }),
      t("monitor.kept.handOver"));
    if (!asked) return;
    const answer = await session.api(`/api/v1/prisoners/${path(id)}/release-hand-over`,
      { method: "POST", body: { recipient } });
    if (!answer.ok) {
      addResult(results(), { kind: "bad", text: t("monitor.failed", {
        what: `${t("monitor.kept.handOver")} · ${who(group)}`, message: detail(answer.data, answer.status) }) });
    } else {
      const made = answer.data;
      const minutes = formatNumber(Math.round(made.expires_in_s / 60));
      addResult(results(), {
        text: t("monitor.kept.handedOver", { name: who(group), n: formatNumber(made.bundle.letter_ids.length),
          id: made.bundle.bundle_id, recipient: t(`monitor.recipient.${recipient}`) }),
        link: { url: made.download_url, text: t("monitor.downloadLink", { id: made.bundle.bundle_id, minutes }) },
      });
    }
    await refresh();
  }

  async function archiveAll(id, input) {
    const group = latest.get(id) || { prisoner_id: id, name_ru: "" };
    const reason = input.value.trim();
    const note = input.closest("td").querySelector(".row-note");
    if (!reason) {
      setText(note, t("monitor.kept.needReason"));
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    setText(note, "");
    const letters = await keptNow(id);
    if (!letters.length) return nothingKept(group);
    const asked = await askToConfirm(t("monitor.kept.archiveTitle", { name: who(group) }),
      t("monitor.kept.archiveText", { n: formatNumber(letters.length), reason }), t("monitor.kept.archive"));
    if (!asked) return;
    const done = await eachLetter(letters, (letter) => session.json(
      `/api/v1/letters/${path(letter.letter_id)}/archive`, { method: "POST", body: { reason } }));
    said(group, "monitor.kept.archived", letters.length, done);
    if (!done.failures.length) input.value = ""; // kept when something is left to try again
    await refresh();
  }

  async function redirectAll(id, intermediaryId) {
    const group = latest.get(id) || { prisoner_id: id, name_ru: "" };
    const person = intermediaries().find((i) => i.id === intermediaryId);
    if (!person) return;
    const letters = await keptNow(id);
    if (!letters.length) return nothingKept(group);
    const asked = await askToConfirm(t("monitor.kept.redirectTitle", { name: who(group) }),
      t("monitor.kept.redirectText", { n: formatNumber(letters.length), to: person.name }), t("monitor.kept.redirect"));
    if (!asked) return;
    const done = await eachLetter(letters, (letter) => session.json(
      `/api/v1/letters/${path(letter.letter_id)}/redirect`, { method: "POST", body: { intermediary_id: person.id } }));
    said(group, "monitor.kept.redirected", letters.length, done);
    await refresh();
  }

  // The prisoner's kept letters now: what the action will really touch.
  const keptNow = (id) => session.json(`/api/v1/prisoners/${path(id)}/kept-letters`);

  function nothingKept(group) {
    addResult(results(), { kind: "warn", text: t("monitor.kept.nothing", { name: who(group) }) });
    return refresh();
  }

  function said(group, key, total, { ok, failures }) {
    addResult(results(), {
      kind: failures.length ? (ok ? "warn" : "bad") : "ok",
      text: t(key, { name: who(group), done: formatNumber(ok), n: formatNumber(total) }),
      failures,
    });
  }

  return { render };
}

// Each letter in turn; one that fails is listed with the server's reason and the rest still go.
// Signed out: stop (the page is back at its sign-in). Refused (role, too many requests): stop, and
// say which letters were not tried.
async function eachLetter(letters, act) {
  let ok = 0;
  const failures = [];
  for (const [index, letter] of letters.entries()) {
    try {
      await act(letter);
      ok += 1;
    } catch (error) {
      if (error instanceof SignedOut) throw error;
      failures.push({ id: letter.letter_id, message: error.message });
      if (error instanceof Refused) {
        for (const rest of letters.slice(index + 1)) failures.push({ id: rest.letter_id, message: t("monitor.kept.notTried") });
        break;
      }
    }
  }
  return { ok, failures };
}

function fieldset(legendKey, className) {
  const box = el("fieldset", null, `bulk ${className}`);
  box.append(labelled(el("legend"), legendKey));
  return box;
}

function controlsOf(...nodes) {
  const box = el("div", null, "kit-controls");
  box.append(...nodes);
  return box;
}

// The name and the id in one box: on a phone the cell is a grid of its label and its content.
function nameCell(group, cell) {
  if (!cell.firstChild) {
    const box = el("div");
    box.append(el("span", null, "block"), el("span", null, "muted block"));
    cell.append(box);
  }
  const [name, id] = cell.firstChild.children;
  setText(name, group.name_ru || group.prisoner_id);
  setText(id, group.name_ru ? group.prisoner_id : "");
}

function statusCell(group, cell) {
  if (!cell.firstChild) cell.append(el("span"));
  cell.firstChild.className = `tag ${group.status}`;
  setText(cell.firstChild, named("monitor.status", group.status));
}

// The letters, each with why it is held; rebuilt only when they changed (nothing in it takes input).
function lettersCell(group, cell) {
  const lines = group.letters.map((l) => [l.letter_id, named("monitor.hold", l.hold_kind)]);
  const more = group.count - lines.length;
  const signature = JSON.stringify([lines, more, lang()]);
  if (cell.dataset.signature === signature) return;
  const list = el("ul", null, "kept-list");
  list.append(...lines.map(([id, kind]) => {
    const item = el("li");
    item.dataset.letter = id;
    item.append(el("code", id), ` · ${kind}`);
    return item;
  }));
  if (more > 0) list.append(el("li", t("monitor.kept.more", { n: formatNumber(more) }), "muted"));
  cell.replaceChildren(list);
  cell.dataset.signature = signature;
}
