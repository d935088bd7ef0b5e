// The translators' page: letters waiting for a Russian version, oldest first, the original beside
// a text box for the Russian, screened while it is written. Letters are shown with textContent
// only: whatever a writer typed is text here, never HTML.

import { $, SignedOut, detail, el, notice, staffSession } from "./staff.js";

const STRINGS = {
  uk: {
    title: "Переклад листів", subtitle: "Листи до вільного Криму", interface: "Мова", signOut: "Вийти",
    signIn: "Увійти", signInButton: "Увійти", token: "Токен",
    signInHint: "Вставте свій токен персоналу (перекладач, модератор або адміністратор). Він зберігається лише в цій вкладці й зникає, коли вкладку закрито.",
    queueTitle: "Чекають на переклад", language: "Мова листа", allLanguages: "усі", refresh: "Оновити",
    empty: "Жоден лист не чекає на переклад. Дякуємо!", original: "Оригінал", russian: "Текст російською",
    printedHint: "Надрукують лише цей текст; модератор прочитає його перед відправленням.",
    submit: "Надіслати переклад", waiting: "{n} чекають на переклад", to: "Лист для: {name}",
    expired: "Токен не прийнято (або строк дії минув). Вставте його ще раз.",
    forbidden: "Цей токен належить людині, яка не є перекладачем.",
    sent: "Дякуємо! Переклад листа для {name} передано модератору.",
    askedBy: { writer: "автор попросив переклад", screening: "лист не російською", moderator: "надіслав модератор" },
    note: "Примітка модератора: {note}", clean: "Перевірка нічого не знайшла.", page: "Сторінка {n}",
    handwritten: "рукописний", signature: "Підпис на скані: {line}", noSignature: "Без підпису",
    unreachable: "Немає зв'язку із сервером: {message}",
  },
  en: {
    title: "Translating letters", subtitle: "Letters to Free Crimea", interface: "Language", signOut: "Sign out",
    signIn: "Sign in", signInButton: "Sign in", token: "Staff token",
    signInHint: "Paste your staff token (translator, moderator or admin). It is kept only in this tab and forgotten when the tab closes.",
    queueTitle: "Waiting for translation", language: "Letter's language", allLanguages: "all", refresh: "Refresh",
    empty: "No letters wait for translation. Thank you!", original: "Original", russian: "Text in Russian",
    printedHint: "Only this text is printed; a moderator reads it before it is sent.",
    submit: "Submit the translation", waiting: "{n} waiting for translation", to: "Letter to {name}",
    expired: "Your token was not accepted (or has expired). Paste it again.",
    forbidden: "This token belongs to someone who is not a translator.",
    sent: "Thank you! The translation of the letter to {name} went to a moderator.",
    askedBy: { writer: "the writer asked for a translation", screening: "not in Russian", moderator: "sent by a moderator" },
    note: "The moderator's note: {note}", clean: "Screening found nothing.", page: "Page {n}",
    handwritten: "handwritten", signature: "Signed on the scan: {line}", noSignature: "No signature",
    unreachable: "Could not reach the server: {message}",
  },
  ru: {
    title: "Перевод писем", subtitle: "Письма в свободный Крым", interface: "Язык", signOut: "Выйти",
    signIn: "Войти", signInButton: "Войти", token: "Токен",
    signInHint: "Вставьте свой токен сотрудника (переводчик, модератор или администратор). Он хранится только в этой вкладке и исчезает, когда вкладка закрыта.",
    queueTitle: "Ждут перевода", language: "Язык письма", allLanguages: "все", refresh: "Обновить",
    empty: "Ни одно письмо не ждёт перевода. Спасибо!", original: "Оригинал", russian: "Текст на русском",
    printedHint: "Напечатают только этот текст; модератор прочитает его перед отправкой.",
    submit: "Отправить перевод", waiting: "{n} ждут перевода", to: "Письмо для: {name}",
    expired: "Токен не принят (или истёк). Вставьте его ещё раз.",
    forbidden: "Этот токен принадлежит человеку, который не переводчик.",
    sent: "Спасибо! Перевод письма для {name} передан модератору.",
    askedBy: { writer: "автор попросил перевод", screening: "письмо не на русском", moderator: "отправил модератор" },
    note: "Примечание модератора: {note}", clean: "Проверка ничего не нашла.", page: "Страница {n}",
    handwritten: "рукописное", signature: "Подпись на скане: {line}", noSignature: "Без подписи",
    unreachable: "Нет связи с сервером: {message}",
  },
};
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
const UI_KEY = "translation.lang";
const CHECK_DELAY_MS = 600;

const state = { letters: [], current: null, letter: null, checkTimer: null, checked: "" };

function uiLang() {
  const chosen = localStorage.getItem(UI_KEY);
  if (STRINGS[chosen]) return chosen;
  const browser = (navigator.language || "").slice(0, 2);
  return STRINGS[browser] ? browser : "uk"; // Ukrainian first
}

function t(key, values = {}) {
  const text = STRINGS[uiLang()][key] ?? STRINGS.en[key] ?? key;
  return typeof text === "string" ? text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "") : text;
}

function languageName(code) {
  return (LANGUAGES[code] || {})[uiLang()] || code || "?";
}

function translatePage() {
  document.documentElement.lang = uiLang();
  $("ui-lang").value = uiLang();
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  document.title = `${t("title")} · ${t("subtitle")}`;
}

const session = staffSession({
  tokenKey: "translation.token",
  base: "/api/v1/translation",
  probe: "/letters?limit=1",
  messages: { get expired() { return t("expired"); }, get forbidden() { return t("forbidden"); } },
  onSignedIn: () => loadQueue(),
});
const { api } = session;

function report(error) {
  if (!(error instanceof SignedOut)) notice(t("unreachable", { message: error.message }), "error");
}

// --- the queue -----------------------------------------------------------------------------------

function fillLanguages(backlog) {
  const select = $("filter-lang");
  const chosen = select.value;
  const all = el("option", t("allLanguages"));
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
    notice(detail(answer.data), "error");
    return;
  }
  fillLanguages(answer.data.backlog);
  state.letters = answer.data.letters;
  $("waiting").textContent = t("waiting", { n: answer.data.backlog.total });
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
      el("span", new Date(letter.received_at).toLocaleString(uiLang()), "when"),
      el("span", [languageName(letter.source_language), letter.handwritten ? t("handwritten") : ""]
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
    notice(detail(answer.data), answer.status === 404 ? "warn" : "error");
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
  $("letter-to").textContent = t("to", { name: letter.prisoner_name_ru });
  const why = t("askedBy")[letter.requested_by] || "";
  $("letter-meta").textContent = [languageName(letter.source_language), why].filter(Boolean).join(" · ");
  $("letter-note").hidden = !letter.note;
  $("letter-note").textContent = letter.note ? t("note", { note: letter.note }) : "";
  $("original-text").textContent = letter.original_text;
  $("letter-signature").textContent = letter.signature ? t("signature", { line: letter.signature }) : t("noSignature");
  $("letter-pages").replaceChildren(...letter.pages.map((page) => {
    const link = el("a", null, "page");
    link.href = page.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const image = el("img");
    image.src = page.url;
    image.alt = t("page", { n: page.number });
    image.loading = "lazy";
    link.append(image, el("span", t("page", { n: page.number })));
    return link;
  }));
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
  }) : [el("li", t("clean"), "finding clean")]));
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
    notice(detail(answer.data), answer.status === 409 ? "warn" : "error");
  } else {
    notice(t("sent", { name: letter.prisoner_name_ru }), "ok");
    $("translation-text").value = "";
    state.current = null;
  }
  await loadQueue();
}

// --- start ---------------------------------------------------------------------------------------

function wire() {
  $("ui-lang").addEventListener("change", (event) => {
    localStorage.setItem(UI_KEY, event.target.value);
    translatePage();
    if (state.letters.length) {
      renderQueue();
      if (state.letter) renderLetter(state.letter, false);
    }
  });
  $("filter-lang").addEventListener("change", () => {
    state.current = null;
    loadQueue().catch(report);
  });
  $("refresh").addEventListener("click", () => loadQueue().catch(report));
  $("translation-text").addEventListener("input", scheduleCheck);
  $("translation-form").addEventListener("submit", (event) => submitTranslation(event).catch(report));
}

translatePage();
wire();
session.start(report);
