// The interface language of every page, staff and public: elements name their text with
// data-i18n="key" (textContent) and data-i18n-placeholder / -aria-label / -title / -alt, translate()
// fills them, so a language switch needs no reload. The staff kit (i18n.js) and intake's public pages
// (writer, receipt, kiosk: services/intake/web/static/i18n.js) each make one instance with their own
// languages, default and catalogue; this is the one copy of how it works.

const LOCALES = { uk: "uk-UA", ru: "ru-RU", en: "en-GB" };
const ATTRIBUTES = { i18nPlaceholder: "placeholder", i18nAriaLabel: "aria-label", i18nTitle: "title", i18nAlt: "alt" };

/**
 * langs: the interface languages, in the switch's order; fallback: the language for everyone else,
 * and where a missing text is looked up; follow: the browser languages that are followed without a
 * remembered choice; storageKey: where the choice is remembered; names: each language in itself;
 * switchLabel: the key of the switch's accessible name; buttonClass/groupClass: the switch's classes;
 * dateOptions: formatDate's default.
 */
export function createI18n({
  langs,
  fallback,
  follow = langs,
  storageKey,
  strings = {},
  names,
  switchLabel,
  buttonClass = "",
  groupClass = "",
  dateOptions = { dateStyle: "medium", timeStyle: "short" },
}) {
  const STRINGS = Object.fromEntries(langs.map((code) => [code, {}]));
  const listeners = new Set();

  /** Adds a page's texts: `{uk: {key: text}, ru: {...}, en: {...}}`. */
  function addStrings(catalogue) {
    for (const [code, texts] of Object.entries(catalogue)) Object.assign((STRINGS[code] ??= {}), texts);
  }
  addStrings(strings);

  function remembered() {
    try {
      return localStorage.getItem(storageKey);
    } catch {
      return null; // storage disabled: the browser's languages decide
    }
  }

  function preferredLanguage(languages = navigator.languages || [navigator.language]) {
    const choice = remembered();
    if (langs.includes(choice)) return choice;
    for (const tag of languages) {
      const base = String(tag || "").toLowerCase().split("-")[0];
      if (follow.includes(base)) return base;
    }
    return fallback;
  }

  let current = preferredLanguage();
  const lang = () => current;
  const locale = () => LOCALES[current];

  function t(key, vars = {}) {
    const text = STRINGS[current][key] ?? STRINGS[fallback][key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }

  const has = (key) => key in STRINGS[current] || key in STRINGS[fallback];

  function translate(root = document) {
    for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const [data, attribute] of Object.entries(ATTRIBUTES)) {
      const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
      for (const node of root.querySelectorAll(selector)) node.setAttribute(attribute, t(node.dataset[data]));
    }
    document.documentElement.lang = current;
  }

  /** remember: false for a language chosen for the writer in front of a kiosk, not for the device. */
  function setLang(next, { remember = true } = {}) {
    if (!langs.includes(next)) return;
    current = next;
    if (remember) {
      try {
        localStorage.setItem(storageKey, next);
      } catch {
        /* not remembered, still switched */
      }
    }
    translate();
    for (const fn of listeners) fn(next);
  }

  const onLangChange = (fn) => listeners.add(fn);

  /** A row of buttons, one per language, each named in its own language. */
  function mountLanguageSwitch(container) {
    container.replaceChildren();
    if (groupClass) container.classList.add(groupClass);
    container.setAttribute("role", "group");
    container.dataset.i18nAriaLabel = switchLabel;
    container.setAttribute("aria-label", t(switchLabel));
    for (const code of langs) {
      const button = document.createElement("button");
      button.type = "button";
      if (buttonClass) button.className = buttonClass;
      button.lang = code;
      button.dataset.lang = code;
      button.textContent = names[code];
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

  function formatDate(value, options = dateOptions) {
    if (value === null || value === undefined || value === "") return "–";
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    return new Intl.DateTimeFormat(locale(), options).format(date);
  }

  const formatTime = (value) => formatDate(value, { timeStyle: "medium" });

  function formatNumber(value, options = {}) {
    if (value === null || value === undefined) return "—";
    return typeof value === "number" ? new Intl.NumberFormat(locale(), options).format(value) : String(value);
  }

  return {
    LANGS: langs, addStrings, preferredLanguage, lang, locale, t, has, translate, setLang, onLangChange,
    mountLanguageSwitch, formatDate, formatTime, formatNumber,
  };
}
