// The results' texts (results-strings.json, which the PDF and the public page read too), added to the
// public pages' catalogue so that the one i18n module (/static/i18n.js) translates this page as well.

import { STRINGS } from "/static/strings.js";

const response = await fetch("/results/static/results-strings.json");
const catalogue = await response.json();
for (const [lang, texts] of Object.entries(catalogue)) {
  // Plural entries ({one, few, many, other}) are for the server's pages; t() takes plain texts only.
  const plain = Object.entries(texts).filter(([, text]) => typeof text === "string");
  Object.assign(STRINGS[lang] ??= {}, Object.fromEntries(plain));
}
