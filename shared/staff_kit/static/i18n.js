// The staff pages' interface language, the approach of the public pages (data-i18n attributes filled
// by translate(), a switch that needs no reload) with one difference: staff are the campaign's
// Ukrainian people, so Ukrainian comes first. The choice is remembered; without one, a Russian or
// Ukrainian browser is followed, anything else gets Ukrainian. Each page adds its own catalogue with
// addStrings(); the kit's own texts (sign-in, errors) are in strings.js. How it works is i18n-core.js,
// shared with the public pages.

import { createI18n } from "./i18n-core.js";
import { KIT_STRINGS, LANGUAGE_NAMES } from "./strings.js";

const i18n = createI18n({
  langs: ["uk", "ru", "en"],
  fallback: "uk",
  follow: ["uk", "ru"],
  storageKey: "letters.staffLang",
  strings: KIT_STRINGS,
  names: LANGUAGE_NAMES,
  switchLabel: "kit.lang",
  groupClass: "kit-langs",
});

export const {
  LANGS, addStrings, preferredLanguage, lang, locale, t, has, translate, setLang, onLangChange, mountLanguageSwitch,
  formatDate, formatTime, formatNumber,
} = i18n;

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
