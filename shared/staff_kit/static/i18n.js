// The staff pages' interface language, the approach of the public pages (data-i18n attributes filled
// by translate(), a switch that needs no reload) with one difference: staff are the campaign's
// Ukrainian people, so Ukrainian comes first. The choice is remembered; without one, a Russian or
// Ukrainian browser is followed, anything else gets Ukrainian. Each page adds its own catalogue with
// addStrings(); the kit's own texts (sign-in, errors) are in strings.js.

import { KIT_STRINGS, LANGUAGE_NAMES } from "./strings.js";

export const LANGS = ["uk", "ru", "en"];
const STORAGE_KEY = "letters.staffLang";
const LOCALES = { uk: "uk-UA", ru: "ru-RU", en: "en-GB" };
const STRINGS = { uk: {}, ru: {}, en: {} };
const listeners = new Set();

/** Adds a page's texts: `{uk: {key: text}, ru: {...}, en: {...}}`. */
export function addStrings(catalogue) {
  for (const [code, texts] of Object.entries(catalogue)) Object.assign(STRINGS[code] ??= {}, texts);
}
addStrings(KIT_STRINGS);

function remembered() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: the browser's languages decide
  }
}

export function preferredLanguage(languages = navigator.languages || [navigator.language]) {
  const choice = remembered();
  if (LANGS.includes(choice)) return choice;
  for (const tag of languages) {
    const base = String(tag || "").toLowerCase().split("-")[0];
    if (base === "uk" || base === "ru") return base;
  }
  return "uk";
}

let current = preferredLanguage();

export const lang = () => current;
export const locale = () => LOCALES[current];

export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.uk[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function has(key) {
  return key in STRINGS[current] || key in STRINGS.uk;
}

const ATTRIBUTES = { i18nPlaceholder: "placeholder", i18nAriaLabel: "aria-label", i18nTitle: "title", i18nAlt: "alt" };

export function translate(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const [data, attribute] of Object.entries(ATTRIBUTES)) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const node of root.querySelectorAll(selector)) node.setAttribute(attribute, t(node.dataset[data]));
  }
  document.documentElement.lang = current;
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* not remembered, still switched */
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
  container.classList.add("kit-langs");
  container.setAttribute("role", "group");
  container.dataset.i18nAriaLabel = "kit.lang";
  container.setAttribute("aria-label", t("kit.lang"));
  for (const code of LANGS) {
    const button = document.createElement("button");
    button.type = "button";
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

export function formatDate(value, options = { dateStyle: "medium", timeStyle: "short" }) {
  if (value === null || value === undefined || value === "") return "–";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

export function formatTime(value) {
  return formatDate(value, { timeStyle: "medium" });
}

export function formatNumber(value, options = {}) {
  if (value === null || value === undefined) return "—";
  return typeof value === "number" ? new Intl.NumberFormat(locale(), options).format(value) : String(value);
}

/** A waiting time in seconds as "3 год 5 хв"-like text, through Intl's unit names. */
export function formatDuration(seconds) {
  if (!seconds) return "–";
  const unit = (n, name) => new Intl.NumberFormat(locale(), { style: "unit", unit: name, unitDisplay: "short" }).format(n);
  if (seconds < 60) return t("kit.underMinute");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return unit(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${unit(hours, "hour")} ${unit(minutes % 60, "minute")}`;
  return `${unit(Math.floor(hours / 24), "day")} ${unit(hours % 24, "hour")}`;
}
