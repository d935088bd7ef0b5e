// The prisoner directory as choosable cards (radio buttons), shared by the writer's page and the kiosk.

import { formatBirthday, lang, t } from "./i18n.js";

export function prisonerName(prisoner, language = lang()) {
  const names = prisoner.names || {};
  return names[language] || names.en || names.uk || names.ru || prisoner.id;
}

export function prisonerDescription(prisoner, language = lang()) {
  const description = prisoner.description || {};
  return description[language] || description.en || description.uk || description.ru || "";
}

/** The server says who can receive letters (shared/prisoners.py): released and deceased prisoners cannot. */
export function isWritable(prisoner) {
  return prisoner.writable === true;
}

/**
 * Fill `container` with one card per prisoner; released prisoners are shown but cannot be chosen.
 * `selected` is the chosen id (or null); `onChoose(prisoner)` is called when a card is picked.
 */
export function renderPrisoners(container, prisoners, { selected = null, onChoose, name = "prisoner", compact = false }) {
  const cards = prisoners.map((prisoner) => {
    const writable = isWritable(prisoner);
    const card = document.createElement("label");
    card.className = `prisoner${writable ? "" : " prisoner-released"}`;
    card.dataset.prisonerId = prisoner.id;
    card.dataset.status = prisoner.status;

    const input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = prisoner.id;
    input.className = "prisoner-radio";
    input.disabled = !writable;
    input.checked = writable && prisoner.id === selected;
    input.addEventListener("change", () => {
      if (input.checked && onChoose) onChoose(prisoner);
    });

    const body = document.createElement("span");
    body.className = "prisoner-body";
    const title = document.createElement("span");
    title.className = "prisoner-name";
    title.textContent = prisonerName(prisoner);
    body.append(title);
    if (!writable) {
      const badge = document.createElement("span");
      badge.className = "badge badge-released";
      badge.textContent = t("prisoner.released");
      body.append(badge);
    }
    const description = prisonerDescription(prisoner);
    if (description) {
      const text = document.createElement("span");
      text.className = "prisoner-description";
      text.textContent = description;
      body.append(text);
    }
    const meta = document.createElement("span");
    meta.className = "prisoner-meta";
    if (writable) {
      const parts = [t("prisoner.letters", { n: prisoner.letters_received ?? 0 })];
      if (prisoner.birthday && !compact) parts.push(t("prisoner.birthday", { date: formatBirthday(prisoner.birthday) }));
      meta.textContent = parts.join(" · ");
    } else {
      meta.textContent = t("prisoner.releasedNote");
    }
    body.append(meta);
    card.append(input, body);
    return card;
  });
  container.replaceChildren(...cards);
}
