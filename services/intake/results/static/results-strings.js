// The results' texts (results-strings.json, which the PDF and the public page read too), added to the
// staff kit's catalogue so that the kit's i18n translates this page as well.

import { addStrings } from "/staff-kit/i18n.js";

const response = await fetch("/results/static/results-strings.json");
const catalogue = await response.json();
// Plural entries ({one, few, many, other}) are for the server's pages; t() takes plain texts only.
addStrings(Object.fromEntries(Object.entries(catalogue).map(([lang, texts]) => [lang,
  Object.fromEntries(Object.entries(texts).filter(([, text]) => typeof text === "string"))])));
