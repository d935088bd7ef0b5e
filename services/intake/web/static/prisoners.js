// The prisoner directory as choosable cards (radio buttons), shared by the writer's page and the kiosk.

import { formatBirthday, formatDate, has, lang, t } from "./i18n.js";

export function prisonerName(prisoner, language = lang()) {
  const names = prisoner.names || {};
  return names[language] || names.en || names.uk || names.ru || prisoner.id;
}

export function prisonerDescription(prisoner, language = lang()) {
  const description = prisoner.description || {};
  return description[language] || description.en || description.uk || description.ru || "";
}

/** A text the directory keeps per language: the page's language, else Ukrainian, Russian, English. */
export function inLanguage(texts, language = lang()) {
  const all = texts || {};
  for (const code of [language, "uk", "ru", "en"]) if (all[code]) return all[code];
  return "";
}

/** What a writer needs to know of the prisoner's facility, in the page's words ("drawings are not handed over"). */
export function facilityNotes(facility) {
  return (facility?.notes || []).map((note) => {
    if (note.code === "note") return note.text; // the operator's own words, in the language they wrote
    const key = `facility.${note.code}`;
    return has(key) ? t(key, { n: note.pages ?? "" }) : note.text;
  });
}

/** The prisoner's birthday or a holiday they mark, coming soon: "Ramadan in 19 days". */
export function occasionText(occasion) {
  const name = occasion.kind === "birthday" ? t("occasion.birthday") : inLanguage(occasion.names);
  const when = occasion.days_until === 0 ? t("occasion.today")
    : t("occasion.in", { n: occasion.days_until, date: formatDate(occasion.starts_on, { day: "numeric", month: "long", timeZone: "UTC" }) });
  return `${name}: ${when}`;
}

function line(className, text, label = null) {
  const element = document.createElement("span");
  element.className = className;
  if (label) {
    const strong = document.createElement("strong");
    strong.textContent = `${label} `;
    element.append(strong);
  }
  element.append(text);
  return element;
}

/** The card's story, interests, suggestions, upcoming occasions and facility notes (only what is known). */
function cardDetails(prisoner, compact) {
  const details = [];
  const story = inLanguage(prisoner.story);
  if (story) details.push(line("prisoner-story", story));
  const interests = inLanguage(prisoner.interests);
  if (interests) details.push(line("prisoner-interests", interests, t("prisoner.interests")));
  const writeAbout = inLanguage(prisoner.write_about);
  if (writeAbout) details.push(line("prisoner-write-about", writeAbout, t("prisoner.writeAbout")));
  if (!compact) {
    for (const occasion of prisoner.occasions || []) {
      const soon = line("prisoner-occasion", occasionText(occasion));
      soon.dataset.occasion = occasion.holiday_id || occasion.kind;
      details.push(soon);
    }
  }
  const notes = facilityNotes(prisoner.facility);
  if (prisoner.facility && notes.length) {
    const box = document.createElement("span");
    box.className = "prisoner-facility";
    box.dataset.facilityId = prisoner.facility.id;
    box.append(line("prisoner-facility-name", prisoner.facility.name, t("facility.heldAt")));
    const list = document.createElement("ul");
    list.className = "prisoner-facility-notes";
    for (const text of notes) {
      const item = document.createElement("li");
      item.textContent = text;
      list.append(item);
    }
    box.append(list);
    details.push(box);
  }
  return details;
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
    // The radio is named by the name alone; the rest describes it, so a screen reader is not read a story per option.
    title.id = `${name}-name-${prisoner.id}`;
    input.setAttribute("aria-labelledby", title.id);
    if (writable) {
      const details = cardDetails(prisoner, compact);
      if (details.length) {
        const more = document.createElement("span");
        more.className = "prisoner-details";
        more.id = `${name}-details-${prisoner.id}`;
        more.append(...details);
        body.append(more);
        input.setAttribute("aria-describedby", more.id);
      }
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
