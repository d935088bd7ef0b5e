// Interface language: remembered choice, else the browser's languages, else English.
// Elements name their text with data-i18n="key" (textContent), data-i18n-placeholder and
// data-i18n-aria-label; translate() fills them, so a language switch needs no page reload.

import { LANGUAGE_NAMES, STRINGS } from "./strings.js";

export const LANGS = ["uk", "en", "ru"];
const STORAGE_KEY = "letters.lang";
const listeners = new Set();

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: fall back to the browser's languages
  }
}

export function preferredLanguage(languages = navigator.languages || [navigator.language]) {
  const remembered = stored();
  if (LANGS.includes(remembered)) return remembered;
  for (const tag of languages) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (LANGS.includes(base)) return base;
  }
  return "en";
}

let current = preferredLanguage();

export function lang() {
  return current;
}

export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function has(key) {
  return key in STRINGS[current] || key in STRINGS.en;
}

export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  document.documentElement.lang = current;
}

export function setLang(next, { remember = true } = {}) {
  if (!LANGS.includes(next)) return;
  current = next;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      /* not remembered, still switched */
    }
  }
  translate();
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** A row of buttons, one per language, each named in its own language. */
export function mountLanguageSwitch(container) {
  container.replaceChildren();
  container.setAttribute("role", "group");
  container.dataset.i18nAriaLabel = "lang.label";
  container.setAttribute("aria-label", t("lang.label"));
  for (const code of LANGS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lang-button";
    button.lang = code;
    button.dataset.lang = code;
    button.textContent = LANGUAGE_NAMES[code];
    button.addEventListener("click", () => setLang(code));
    container.append(button);
  }
  const mark = () => {
    for (const button of container.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.lang === current));
    }
  };
  mark();
  onLangChange(mark);
}

export function formatDate(value, options = { dateStyle: "long" }) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(current === "uk" ? "uk-UA" : current === "ru" ? "ru-RU" : "en-GB", options).format(date);
}

/** A birthday "YYYY-MM-DD": day and month only, no year and no time-zone shift. */
export function formatBirthday(isoDate) {
  const [year, month, day] = String(isoDate).split("-").map(Number);
  if (!year || !month || !day) return String(isoDate);
  return formatDate(new Date(Date.UTC(2000, month - 1, day)), { day: "numeric", month: "long", timeZone: "UTC" });
}
