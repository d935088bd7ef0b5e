// The translators' page: letters waiting for a Russian version, oldest first, the original beside
// a text box for the Russian, screened while it is written. Letters are shown with textContent
// only: whatever a writer typed is text here, never HTML.

import { $, detail, el, notice, pageThumbnails, report, staffSession } from "/staff-kit/kit.js";
import { addStrings, formatDate, lang, onLangChange, t } from "/staff-kit/i18n.js";

addStrings({
  uk: {
    "translation.pageTitle": "Переклад · Листи до вільного Криму",
    "translation.title": "Переклад листів", "translation.subtitle": "Листи до вільного Криму",
    "translation.roles": "перекладач, модератор або адміністратор",
    "translation.queueTitle": "Чекають на переклад", "translation.language": "Мова листа",
    "translation.allLanguages": "усі", "translation.refresh": "Оновити",
    "translation.empty": "Жоден лист не чекає на переклад. Дякуємо!", "translation.original": "Оригінал",
    "translation.russian": "Текст російською",
    "translation.printedHint": "Надрукують лише цей текст; модератор прочитає його перед відправленням.",
    "translation.submit": "Надіслати переклад", "translation.waiting": "{n} чекають на переклад",
    "translation.to": "Лист для: {name}",
    "translation.sent": "Дякуємо! Переклад листа для {name} передано модератору.",
    "translation.askedBy.writer": "автор попросив переклад", "translation.askedBy.screening": "лист не російською",
    "translation.askedBy.moderator": "надіслав модератор",
    "translation.note": "Примітка модератора: {note}", "translation.clean": "Перевірка нічого не знайшла.",
    "translation.page": "Сторінка {n}", "translation.handwritten": "рукописний",
    "translation.signature": "Підпис на скані: {line}", "translation.noSignature": "Без підпису",
  },
  en: {
    "translation.pageTitle": "Translation · Letters to Free Crimea",
    "translation.title": "Translating letters", "translation.subtitle": "Letters to Free Crimea",
    "translation.roles": "translator, moderator or admin",
    "translation.queueTitle": "Waiting for translation", "translation.language": "Letter's language",
    "translation.allLanguages": "all", "translation.refresh": "Refresh",
    "translation.empty": "No letters wait for translation. Thank you!", "translation.original": "Original",
    "translation.russian": "Text in Russian",
    "translation.printedHint": "Only this text is printed; a moderator reads it before it is sent.",
    "translation.submit": "Submit the translation", "translation.waiting": "{n} waiting for translation",
    "translation.to": "Letter to {name}",
    "translation.sent": "Thank you! The translation of the letter to {name} went to a moderator.",
    "translation.askedBy.writer": "the writer asked for a translation", "translation.askedBy.screening": "not in Russian",
    "translation.askedBy.moderator": "sent by a moderator",
    "translation.note": "The moderator's note: {note}", "translation.clean": "Screening found nothing.",
    "translation.page": "Page {n}", "translation.handwritten": "handwritten",
    "translation.signature": "Signed on the scan: {line}", "translation.noSignature": "No signature",
  },
  ru: {
    "translation.pageTitle": "Перевод · Письма в свободный Крым",
    "translation.title": "Перевод писем", "translation.subtitle": "Письма в свободный Крым",
    "translation.roles": "переводчик, модератор или администратор",
    "translation.queueTitle": "Ждут перевода", "translation.language": "Язык письма",
    "translation.allLanguages": "все", "translation.refresh": "Обновить",
    "translation.empty": "Ни одно письмо не ждёт перевода. Спасибо!", "translation.original": "Оригинал",
    "translation.russian": "Текст на русском",
    "translation.printedHint": "Напечатают только этот текст; модератор прочитает его перед отправкой.",
    "translation.submit": "Отправить перевод", "translation.waiting": "{n} ждут перевода",
    "translation.to": "Письмо для: {name}",
    "translation.sent": "Спасибо! Перевод письма для {name} передан модератору.",
    "translation.askedBy.writer": "автор попросил перевод", "translation.askedBy.screening": "письмо не на русском",
    "translation.askedBy.moderator": "отправил модератор",
    "translation.note": "Примечание модератора: {note}", "translation.clean": "Проверка ничего не нашла.",
    "translation.page": "Страница {n}", "translation.handwritten": "рукописное",
    "translation.signature": "Подпись на скане: {line}", "translation.noSignature": "Без подписи",
  },
});
const LANGUAGES = {
  uk: { uk: "українська", en: "Ukrainian", ru: "украинский" },
  crh: { uk: "кримськотатарська", en: "Crimean Tatar", ru: "крымскотатарский" },
  de: { uk: "німецька", en: "German", ru: "немецкий" },
  pl: { uk: "польська", en: "Polish", ru: "польский" },
  cs: { uk: "чеська", en: "Czech", ru: "чешский" },
  en: { uk: "англійська", en: "English", ru: "английский" },
  fr: { uk: "французька", en: "French", ru: "французский" },
  und: { uk: "не визначено", en: "not known", ru: "не определён" },
};
const CHECK_DELAY_MS = 600;

const state = { letters: [], current: null, letter: null, checkTimer: null, checked: "" };

function languageName(code) {
  return (LANGUAGES[code] || {})[lang()] || code || "?";
}

const session = staffSession({
  base: "/api/v1/translation",
  probe: "/letters?limit=1",
  roles: "translation.roles",
  onSignedIn: () => loadQueue(),
});
const { api } = session;

// --- the queue -----------------------------------------------------------------------------------

function fillLanguages(backlog) {
  const select = $("filter-lang");
  const chosen = select.value;
  const all = el("option", t("translation.allLanguages"));
  all.value = "";
  const options = Object.entries(backlog.languages).map(([code, count]) => {
    const option = el("option", `${languageName(code)} (${count})`);
    option.value = code;
    return option;
  });
  select.replaceChildren(all, ...options);
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

async function loadQueue() {
  const lang = $("filter-lang").value;
  const answer = await api(`/letters?limit=100${lang ? `&lang=${encodeURIComponent(lang)}` : ""}`);
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), "error");
    return;
  }
  fillLanguages(answer.data.backlog);
  state.letters = answer.data.letters;
  $("waiting").textContent = t("translation.waiting", { n: answer.data.backlog.total });
  renderQueue();
  const keep = state.letters.find((l) => l.id === state.current) || state.letters[0];
  if (keep) await openLetter(keep.id);
  else {
    state.current = null;
    state.letter = null;
    $("letter").hidden = true;
  }
}

function renderQueue() {
  $("queue-empty").hidden = state.letters.length > 0;
  $("queue-list").replaceChildren(...state.letters.map((letter) => {
    const item = el("li", null, "queue-item");
    if (letter.id === state.current) item.classList.add("current");
    const open = el("button", null, "open");
    open.type = "button";
    open.append(
      el("span", letter.prisoner_name_ru, "who"),
      el("span", formatDate(letter.received_at), "when"),
      el("span", [languageName(letter.source_language), letter.handwritten ? t("translation.handwritten") : ""]
        .filter(Boolean).join(" · "), "badges"),
      el("span", letter.excerpt, "excerpt"),
    );
    open.addEventListener("click", () => openLetter(letter.id).catch(report));
    item.append(open);
    return item;
  }));
}

// --- one letter ----------------------------------------------------------------------------------

async function openLetter(id) {
  const answer = await api(`/letters/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), answer.status === 404 ? "warn" : "error");
    return;
  }
  const changed = state.current !== id;
  state.current = id;
  state.letter = answer.data;
  renderQueue();
  renderLetter(answer.data, changed);
}

function renderLetter(letter, changed) {
  $("letter").hidden = false;
  $("letter-to").textContent = t("translation.to", { name: letter.prisoner_name_ru });
  const why = letter.requested_by ? t(`translation.askedBy.${letter.requested_by}`) : "";
  $("letter-meta").textContent = [languageName(letter.source_language), why].filter(Boolean).join(" · ");
  $("letter-note").hidden = !letter.note;
  $("letter-note").textContent = letter.note ? t("translation.note", { note: letter.note }) : "";
  $("original-text").textContent = letter.original_text;
  $("letter-signature").textContent = letter.signature ? t("translation.signature", { line: letter.signature }) : t("translation.noSignature");
  pageThumbnails($("letter-pages"), letter.pages, (page) => t("translation.page", { n: page.number }));
  if (changed) {
    // A letter a moderator sent back starts from the earlier translation.
    $("translation-text").value = letter.previous_translation || "";
    $("draft-findings").replaceChildren();
    state.checked = "";
    if ($("translation-text").value) scheduleCheck();
  }
}

// --- screening the Russian text while it is written ------------------------------------------------

function scheduleCheck() {
  clearTimeout(state.checkTimer);
  state.checkTimer = setTimeout(() => checkDraft().catch(report), CHECK_DELAY_MS);
}

async function checkDraft() {
  const text = $("translation-text").value;
  if (text === state.checked) return;
  state.checked = text;
  if (!text.trim()) {
    $("draft-findings").replaceChildren();
    return;
  }
  const answer = await api("/check", { method: "POST", body: { text } });
  if (!answer.ok || $("translation-text").value !== text) return;
  const findings = answer.data.findings;
  $("draft-findings").replaceChildren(...(findings.length ? findings.map((f) => {
    const item = el("li", null, `finding ${f.severity}`);
    item.append(el("q", [...text].slice(f.start, f.end).join("")), el("span", ` ${f.message}`));
    if (f.suggestion) item.append(el("em", f.suggestion));
    return item;
  }) : [el("li", t("translation.clean"), "finding clean")]));
}

async function submitTranslation(event) {
  event.preventDefault();
  const letter = state.letter;
  if (!letter) return;
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}`, {
    method: "POST",
    body: { text: $("translation-text").value },
  });
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
  } else {
    notice(t("translation.sent", { name: letter.prisoner_name_ru }), "ok");
    $("translation-text").value = "";
    state.current = null;
  }
  await loadQueue();
}

// --- start ---------------------------------------------------------------------------------------

function wire() {
  $("filter-lang").addEventListener("change", () => {
    state.current = null;
    loadQueue().catch(report);
  });
  $("refresh").addEventListener("click", () => loadQueue().catch(report));
  $("translation-text").addEventListener("input", scheduleCheck);
  $("translation-form").addEventListener("submit", (event) => submitTranslation(event).catch(report));
}

// A language switch redraws what the script wrote; the page's own texts the kit translates.
onLangChange(() => {
  if (!state.letters.length) return;
  renderQueue();
  if (state.letter) renderLetter(state.letter, false);
});
wire();
session.start();
