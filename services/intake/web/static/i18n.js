// Interface language of the public pages (writer, receipt, kiosk): remembered choice, else the
// browser's languages, else English. How it works (data-i18n attributes filled by translate(), a
// switch that needs no reload) is the staff kit's i18n-core.js, one copy for staff and public pages;
// the public texts are in strings.js.

import { createI18n } from "/staff-kit/i18n-core.js";
import { LANGUAGE_NAMES, STRINGS } from "./strings.js";

const i18n = createI18n({
  langs: ["uk", "en", "ru"],
  fallback: "en",
  storageKey: "letters.lang",
  strings: STRINGS,
  names: LANGUAGE_NAMES,
  switchLabel: "lang.label",
  buttonClass: "lang-button",
  dateOptions: { dateStyle: "long" },
});

export const { LANGS, preferredLanguage, lang, t, has, translate, setLang, onLangChange, mountLanguageSwitch, formatDate } =
  i18n;

/** A birthday "YYYY-MM-DD": day and month only, no year and no time-zone shift. */
export function formatBirthday(isoDate) {
  const [year, month, day] = String(isoDate).split("-").map(Number);
  if (!year || !month || !day) return String(isoDate);
  return formatDate(new Date(Date.UTC(2000, month - 1, day)), { day: "numeric", month: "long", timeZone: "UTC" });
}
