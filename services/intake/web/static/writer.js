// The writer's page: choose a prisoner, write with live hints, submit, keep the receipt link.

import { ApiError, NetworkError, listPrisoners, newClientRef, submitLetter } from "./api.js";
import { LetterEditor } from "./editor.js";
import { lang, mountLanguageSwitch, onLangChange, t, translate } from "./i18n.js";
import { PhrasePicker } from "./phrases.js";
import { isWritable, renderPrisoners } from "./prisoners.js";

const $ = (id) => document.getElementById(id);
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DRAFT_KEY = "letters.draft";

// The draft survives a reload of the tab (sessionStorage), not the closing of it; the e-mail never.
function loadDraft() {
  try {
    const draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null");
    if (draft && typeof draft.client_ref === "string") return draft;
  } catch {
    /* a broken draft is dropped */
  }
  return { client_ref: newClientRef(), prisoner_id: null, body: "", name: "", city: "", country: "", attempted: null };
}

const state = { prisoners: [], draft: loadDraft(), sending: false };

function saveDraft() {
  try {
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify(state.draft));
  } catch {
    /* no storage: the draft just is not kept */
  }
}

$("letter-body").value = state.draft.body || "";
const editor = new LetterEditor({
  field: $("letter-body"),
  mirror: $("letter-mirror"),
  list: $("findings"),
  summary: $("hints-summary"),
  checking: $("hints-checking"),
  counter: $("letter-count"),
  context: () => ({ prisoner_id: state.draft.prisoner_id, client_ref: state.draft.client_ref, channel: "web" }),
  // Printed on the scan under the letter, so screened with it.
  printed: {
    writer_first_name: { input: $("author-name"), list: $("author-name-findings") },
    writer_city: { input: $("author-city"), list: $("author-city-findings") },
  },
  onChange: (text) => {
    state.draft.body = text;
    saveDraft();
    hide("block-confirm");
    show("submit");
  },
});

const phrases = new PhrasePicker({ root: $("phrase-bank"), field: $("letter-body") });

function show(id) {
  $(id).hidden = false;
}

function hide(id) {
  $(id).hidden = true;
}

function showError(text) {
  $("submit-error").textContent = text;
  show("submit-error");
}

// --- prisoners -------------------------------------------------------------------------------

function drawPrisoners() {
  renderPrisoners($("prisoners"), state.prisoners, {
    selected: state.draft.prisoner_id,
    onChoose: (prisoner) => {
      state.draft.prisoner_id = prisoner.id;
      saveDraft();
      hide("submit-error");
    },
  });
}

async function loadPrisoners() {
  $("prisoners-status").textContent = t("prisoners.loading");
  $("prisoners-status").dataset.i18n = "prisoners.loading";
  hide("prisoners-retry");
  try {
    const prisoners = await listPrisoners();
    // The server lists them in the fair-attention order; those who are free go to the end.
    state.prisoners = [...prisoners.filter(isWritable), ...prisoners.filter((p) => !isWritable(p))];
    if (!state.prisoners.some((p) => p.id === state.draft.prisoner_id && isWritable(p))) state.draft.prisoner_id = null;
    $("prisoners-status").textContent = "";
    delete $("prisoners-status").dataset.i18n;
    drawPrisoners();
  } catch {
    $("prisoners-status").textContent = t("prisoners.error");
    $("prisoners-status").dataset.i18n = "prisoners.error";
    show("prisoners-retry");
  }
}

// --- author ----------------------------------------------------------------------------------

function syncEmailBlock() {
  $("email-block").hidden = !$("contact-consent").checked;
  hide("email-error");
}

function author() {
  const value = (id) => $(id).value.trim();
  const result = { contact_consent: false };
  if (value("author-name")) result.display_name = value("author-name");
  if (value("author-city")) result.city = value("author-city");
  if (value("author-country")) result.country = value("author-country");
  if ($("contact-consent").checked && value("author-email")) {
    result.email = value("author-email");
    result.contact_consent = true;
  }
  return result;
}

// --- places: the city as a suggestion list (still free text), and a country --------------------

async function placesAnswer(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "omit" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

let citySearch = null;

function hideCitySuggestions() {
  clearTimeout(citySearch);
  $("city-suggestions").hidden = true;
  $("city-suggestions").replaceChildren();
}

function chooseCity(city) {
  $("author-city").value = city.name;
  if (!$("author-country").value.trim()) $("author-country").value = city.country_name;
  hideCitySuggestions();
  // Screened and kept like typing; not a trusted event, so it asks for no new suggestions.
  $("author-city").dispatchEvent(new Event("input", { bubbles: true }));
  $("author-country").dispatchEvent(new Event("input", { bubbles: true }));
  $("author-city").focus();
}

async function suggestCities() {
  const typed = $("author-city").value.trim();
  if (!typed) return hideCitySuggestions();
  let cities;
  try {
    cities = await placesAnswer(`/api/v1/places/cities?q=${encodeURIComponent(typed)}&lang=${lang()}`);
  } catch {
    return hideCitySuggestions(); // a suggestion is a help: without it the field is as before
  }
  if ($("author-city").value.trim() !== typed) return; // typed on meanwhile
  const items = cities
    .filter((city) => city.name !== typed)
    .map((city) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "city-suggestion";
      button.dataset.country = city.country;
      const country = document.createElement("span");
      country.className = "city-suggestion-country";
      country.textContent = ` · ${city.country_name}`;
      button.append(city.name, country);
      button.addEventListener("click", () => chooseCity(city));
      item.append(button);
      return item;
    });
  $("city-suggestions").replaceChildren(...items);
  $("city-suggestions").hidden = items.length === 0;
}

async function loadCountryNames() {
  try {
    const countries = await placesAnswer(`/api/v1/places/countries?lang=${lang()}`);
    $("country-names").replaceChildren(...countries.map((country) => new Option(country.name)));
  } catch {
    /* the field stays free text */
  }
}

// --- submitting ------------------------------------------------------------------------------

function errorText(error) {
  if (error instanceof NetworkError) return t("error.network");
  if (error instanceof ApiError) {
    if (error.status === 429) return t("error.rate", { s: error.retryAfter ?? 60 });
    if (error.status === 409 && error.data?.prisoner_status) return t("error.notWritable");
    if (error.status === 503 || error.status === 502 || error.status === 504) return t("error.unavailable");
    return t("error.generic", { detail: error.detail || `HTTP ${error.status}` });
  }
  return t("error.generic", { detail: String(error && error.message ? error.message : error) });
}

/** The same letter sent again keeps its client_ref (a lost answer cannot duplicate it); a changed one gets a new one. */
function clientRefFor(letterKey) {
  const { draft } = state;
  if (draft.attempted && draft.attempted !== letterKey) draft.client_ref = newClientRef();
  draft.attempted = letterKey;
  saveDraft();
  return draft.client_ref;
}

function validate() {
  hide("submit-error");
  hide("email-error");
  if (!state.draft.prisoner_id) {
    showError(t("submit.needPrisoner"));
    const first = $("prisoners").querySelector("input:not(:disabled)");
    if (first) first.focus();
    return false;
  }
  if (!editor.text.trim()) {
    showError(t("submit.needBody"));
    $("letter-body").focus();
    return false;
  }
  const email = $("author-email").value.trim();
  if ($("contact-consent").checked && !EMAIL.test(email)) {
    show("email-error");
    $("author-email").focus();
    return false;
  }
  return true;
}

async function submit({ confirmed = false, language = null } = {}) {
  if (state.sending || !validate()) return;
  if (editor.pending) await editor.check(); // hints for the very last keystrokes
  // A letter mostly not in Russian: a volunteer can translate it, or the writer rewrites it.
  if (language === null && editor.mostlyNotRussian) {
    show("language-choice");
    hide("submit");
    $("language-translate").focus();
    return;
  }
  hide("language-choice");
  if (!confirmed) {
    if (editor.blocking && !(language === "translate" && !editor.blockingBesidesLanguage)) {
      show("block-confirm");
      hide("submit");
      $("confirm-fix").focus();
      return;
    }
  }
  hide("block-confirm");
  show("submit");
  const body = editor.text;
  const letter = {
    prisoner_id: state.draft.prisoner_id,
    body,
    client_ref: clientRefFor(`${state.draft.prisoner_id}\u0000${body}`),
    author: author(),
    source: { channel: "web" },
    translation_requested: language === "translate",
  };
  state.sending = true;
  const button = $("submit");
  button.disabled = true;
  button.dataset.i18n = "submit.sending";
  button.textContent = t("submit.sending");
  try {
    let answer;
    try {
      answer = await submitLetter(letter, { lang: lang() });
    } catch (error) {
      // 409: this client_ref belongs to another letter (should not happen): once more with a fresh one.
      if (!(error instanceof ApiError && error.status === 409) || error.data?.prisoner_status) throw error;
      letter.client_ref = state.draft.client_ref = newClientRef();
      saveDraft();
      answer = await submitLetter(letter, { lang: lang() });
    }
    showDone(answer.data);
  } catch (error) {
    showError(errorText(error));
  } finally {
    state.sending = false;
    button.disabled = false;
    button.dataset.i18n = "submit";
    button.textContent = t("submit");
  }
}

function showDone(accepted) {
  const path = `/receipt#${accepted.id}.${accepted.receipt_token}`;
  const url = new URL(path, location.origin).href;
  $("receipt-link").href = path;
  $("receipt-link").textContent = url;
  $("receipt-open").href = path;
  $("done-review").hidden = accepted.verdict !== "review";
  $("done").dataset.letterId = accepted.id;
  hide("letter-form");
  show("done");
  $("done").focus();
  window.scrollTo({ top: 0 });
  // Keep the name and city for a next letter; the text and the reference start afresh.
  state.draft = {
    client_ref: newClientRef(),
    prisoner_id: null,
    body: "",
    name: $("author-name").value,
    city: $("author-city").value,
    country: $("author-country").value,
    attempted: null,
  };
  saveDraft();
}

function writeAnother() {
  editor.clear();
  drawPrisoners();
  hide("done");
  show("letter-form");
  hide("submit-error");
  loadPrisoners(); // fresh counts: the list stays fair
  window.scrollTo({ top: 0 });
}

async function copyLink() {
  const url = $("receipt-link").textContent;
  try {
    await navigator.clipboard.writeText(url);
  } catch {
    const range = document.createRange();
    range.selectNodeContents($("receipt-link"));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    document.execCommand("copy");
  }
  $("copy-link").textContent = t("done.copied");
  setTimeout(() => {
    $("copy-link").textContent = t("done.copy");
  }, 2000);
}

// --- wiring ----------------------------------------------------------------------------------

translate();
mountLanguageSwitch($("lang-switch"));
onLangChange(() => {
  drawPrisoners();
  loadCountryNames();
});

$("author-name").value = state.draft.name || "";
$("author-city").value = state.draft.city || "";
$("author-country").value = state.draft.country || "";
editor.scheduleCheck(0); // a name or city kept from the last letter is screened again
for (const id of ["author-name", "author-city", "author-country"]) {
  $(id).addEventListener("input", () => {
    state.draft.name = $("author-name").value;
    state.draft.city = $("author-city").value;
    state.draft.country = $("author-country").value;
    saveDraft();
  });
}
$("author-city").addEventListener("input", (event) => {
  clearTimeout(citySearch);
  if (event.isTrusted) citySearch = setTimeout(suggestCities, 200);
});
$("author-city").addEventListener("keydown", (event) => {
  if (event.key === "Escape") hideCitySuggestions();
  if (event.key === "ArrowDown" && !$("city-suggestions").hidden) {
    event.preventDefault();
    $("city-suggestions").querySelector("button").focus();
  }
});
$("contact-consent").addEventListener("change", syncEmailBlock);
syncEmailBlock();

$("letter-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submit();
});
$("confirm-send").addEventListener("click", () => submit({ confirmed: true, language: state.language }));
$("language-translate").addEventListener("click", () => {
  state.language = "translate";
  submit({ language: "translate" });
});
$("language-rewrite").addEventListener("click", () => {
  state.language = null;
  hide("language-choice");
  show("submit");
  $("letter-body").focus();
});
$("confirm-fix").addEventListener("click", () => {
  hide("block-confirm");
  show("submit");
  const first = editor.firstBlocking();
  if (first) editor.reveal(first);
  else $("letter-body").focus();
});
$("prisoners-retry").addEventListener("click", loadPrisoners);
$("copy-link").addEventListener("click", copyLink);
$("write-another").addEventListener("click", writeAnother);

loadPrisoners();
phrases.load();
loadCountryNames();
