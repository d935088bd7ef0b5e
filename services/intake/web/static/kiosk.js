// The event kiosk. Paired once per device by a volunteer (/kiosk#token=… or the set-up form), who
// chooses the staff panel's PIN and the language each visitor starts in; then visitors pick a
// prisoner, type a letter or photograph a handwritten one, and send. Every letter goes to the
// IndexedDB outbox first and is synced from there, so a festival without a network loses nothing.
// The screen clears itself after each letter and after a spell without input (the last seconds
// counted down on screen), and every visitor starts in the kiosk's language.
//
// Settings (query string, else localStorage): idle=<s> (default 90) resets after no input,
// thanks=<s> (default 8) how long the thank-you screen stays.
//
// Writing table (set in the staff panel, kept on the device): the kiosk offers only the N prisoners
// most in need by the server's fair-attention order, and spreads visitors across them.
//
// Staff unpair a kiosk on the server (its token revoked) or its event is not on: the server answers
// 403 with `kiosk_refused`, the kiosk says so and keeps every unsent letter for staff.

import { ApiError, kioskInfo, listPrisoners, newClientRef } from "./api.js";
import { LetterEditor } from "./editor.js";
import { LANGS, formatDate, lang, mountLanguageSwitch, onLangChange, setLang, t, translate } from "./i18n.js";
import { PIN_PATTERN, checkPin, choosePin, forgetPin, hasPin, pinSupported, pinWaitMs } from "./kiosk-pin.js";
import { Syncer, outbox } from "./kiosk-queue.js";
import { qrCodeSvg } from "./kiosk-qr.js";
import { offlineRules } from "./offline-hints.js";
import { PhrasePicker } from "./phrases.js";
import { isWritable, prisonerDescription, prisonerName } from "./prisoners.js";
import { LANGUAGE_NAMES } from "./strings.js";

const $ = (id) => document.getElementById(id);
const MAX_PAGES = 10;
const MAX_PAGE_BYTES = 10 * 1024 * 1024;
const PAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];

const KEY = {
  token: "kiosk.token",
  info: "kiosk.info",
  prisoners: "kiosk.prisoners",
  idle: "kiosk.idleSeconds",
  thanks: "kiosk.thanksSeconds",
  table: "kiosk.writingTable",
  tally: "kiosk.tableTally",
  language: "kiosk.language", // the language each visitor starts in, chosen at pairing or by staff
  refused: "kiosk.refused", // the server's last refusal of this kiosk's token: {reason, valid_from, valid_until}
};
const TABLE_SIZES = [5, 10, 15];

const store = {
  get(key) {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch {
      /* storage unavailable */
    }
  },
  json(key) {
    try {
      return JSON.parse(this.get(key) || "null");
    } catch {
      return null;
    }
  },
};

function seconds(param, key, fallback) {
  const fromQuery = new URLSearchParams(location.search).get(param);
  for (const value of [fromQuery, store.get(key)]) {
    const number = Number(value);
    if (value !== null && value !== "" && Number.isFinite(number) && number > 0) return number;
  }
  return fallback;
}

const IDLE_MS = seconds("idle", KEY.idle, 90) * 1000;
const THANKS_MS = seconds("thanks", KEY.thanks, 8) * 1000;
// A letter left alone is not cleared unannounced: the last 15 s (half the idle time, if that is
// shorter) count down on screen, and any input keeps the letter.
const IDLE_WARNING_MS = Math.min(15000, IDLE_MS / 2);

const state = {
  screen: null,
  token: null,
  info: store.json(KEY.info),
  sentSinceInfo: 0,
  prisoners: store.json(KEY.prisoners) || [],
  prisoner: null,
  pages: [], // {file, url, name, type}
  clientRef: newClientRef(),
  lastActivity: Date.now(),
  thanksTimer: null,
  thanksFor: null,
  waiting: 0,
  waitingRecords: [],
  failed: [],
  visitors: 0, // since the page opened: turns the writing table's first suggestion
  linkToken: null, // from a set-up link, until a volunteer pairs with it (and chooses the PIN)
  refused: store.json(KEY.refused),
  pinTimer: null,
};

// --- the language each visitor starts in ---------------------------------------------------------

function kioskLanguage() {
  const chosen = store.get(KEY.language);
  return LANGS.includes(chosen) ? chosen : null;
}

/** The next visitor starts in the kiosk's language, whatever the last one switched to. */
function backToKioskLanguage() {
  const chosen = kioskLanguage();
  if (chosen && chosen !== lang()) setLang(chosen, { remember: false });
}

function fillLanguageChoice(select, value) {
  select.replaceChildren(...LANGS.map((code) => {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.textContent = LANGUAGE_NAMES[code];
    return option;
  }));
  select.value = value;
}

function unpaired() {
  return Boolean(state.refused && state.refused.reason === "unpaired");
}

function noteRefusal(error) {
  const data = error instanceof ApiError ? error.data : null;
  if (!data || !data.kiosk_refused) return;
  state.refused = { reason: data.kiosk_refused, valid_from: data.valid_from || null, valid_until: data.valid_until || null };
  store.set(KEY.refused, JSON.stringify(state.refused));
  if (unpaired() && state.screen === "home") showScreen("home"); // the visitor on the letter screen finishes first
}

function clearRefusal() {
  state.refused = null;
  store.set(KEY.refused, null);
  if (state.screen === "unpaired") showScreen("home");
}

function day(isoDate) {
  return formatDate(`${isoDate}T12:00:00Z`, { dateStyle: "long", timeZone: "UTC" });
}

// --- writing table ---------------------------------------------------------------------------

function tableSize() {
  const size = Number(store.get(KEY.table));
  return TABLE_SIZES.includes(size) ? size : null;
}

function today() {
  return new Date().toISOString().slice(0, 10);
}

/** Letters written at this kiosk today, per prisoner: a new day starts from nothing. */
function tally() {
  const kept = store.json(KEY.tally);
  return kept && kept.day === today() ? kept.counts || {} : {};
}

function countAtTable(prisonerId) {
  const counts = tally();
  counts[prisonerId] = (counts[prisonerId] || 0) + 1;
  store.set(KEY.tally, JSON.stringify({ day: today(), counts }));
}

/**
 * The cards this visitor sees. Off: everyone, as the server orders them. A writing table of N: the
 * first N who can be written to; those written to least at this kiosk today come first, and among
 * them the first suggestion moves on by one per visitor, so that consecutive visitors are not all
 * sent to the same person. Equal counts keep the server's order of need.
 */
function offered() {
  const size = tableSize();
  if (!size) return state.prisoners;
  const counts = tally();
  const written = (prisoner) => counts[prisoner.id] || 0;
  const table = state.prisoners.filter(isWritable).slice(0, size).sort((a, b) => written(a) - written(b));
  if (table.length === 0) return table;
  const least = table.filter((prisoner) => written(prisoner) === written(table[0]));
  const shift = state.visitors % least.length;
  return [...least.slice(shift), ...least.slice(0, shift), ...table.slice(least.length)];
}

// --- set-up ----------------------------------------------------------------------------------

function takeTokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = fragment.get("token");
  // Kept in memory only: the device is paired once a volunteer has chosen the staff PIN.
  if (token) state.linkToken = token.trim();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search); // no token in the URL bar or history
}

async function refreshInfo({ fromSetup = false } = {}) {
  if (!state.token) return { result: "missing" };
  const sentBefore = state.sentSinceInfo;
  try {
    const info = await kioskInfo(state.token);
    state.info = info;
    state.sentSinceInfo -= sentBefore;
    store.set(KEY.info, JSON.stringify(info));
    syncer.authProblem = false;
    clearRefusal();
    renderStatus();
    return { result: "ok" };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      if (fromSetup) return { result: "bad", refusal: error.data && error.data.kiosk_refused ? error.data : null };
      syncer.authProblem = true;
      noteRefusal(error);
      renderStatus();
      return { result: "bad" };
    }
    return { result: "unreachable" };
  }
}

function showSetup() {
  $("setup-token").value = state.linkToken || store.get(KEY.token) || "";
  $("setup-pin").value = "";
  $("setup-pin-again").value = "";
  fillLanguageChoice($("setup-language"), kioskLanguage() || lang());
  $("staff-open").hidden = true;
  showScreen("setup");
}

function setupMessage(key, vars = {}, kind = "error") {
  const message = $("setup-message");
  message.textContent = key ? t(key, vars) : "";
  if (kind) message.dataset.kind = kind;
  else delete message.dataset.kind;
}

function refusedAtSetup(refusal) {
  if (refusal && refusal.kiosk_refused === "unpaired") return ["kiosk.setup.unpaired", {}];
  if (refusal && refusal.valid_from) {
    return ["kiosk.setup.outsideDates", { from: day(refusal.valid_from), to: day(refusal.valid_until) }];
  }
  return ["kiosk.setup.bad", {}];
}

async function setUp(event) {
  event.preventDefault();
  const token = $("setup-token").value.trim();
  const pin = $("setup-pin").value;
  if (!token) return setupMessage("kiosk.setup.needToken");
  if (!pinSupported()) return setupMessage("kiosk.setup.noCrypto");
  if (!PIN_PATTERN.test(pin)) return setupMessage("kiosk.setup.pinInvalid");
  if (pin !== $("setup-pin-again").value) return setupMessage("kiosk.setup.pinMismatch");
  setupMessage("kiosk.setup.checking", {}, null);
  $("setup-save").disabled = true;
  state.token = token;
  const { result, refusal } = await refreshInfo({ fromSetup: true });
  if (result === "bad") {
    state.token = null;
    $("setup-save").disabled = false;
    return setupMessage(...refusedAtSetup(refusal));
  }
  try {
    await choosePin(pin);
  } catch (error) {
    console.error("could not keep the PIN", error);
    state.token = null;
    $("setup-save").disabled = false;
    return setupMessage("kiosk.setup.noCrypto");
  }
  store.set(KEY.token, token);
  store.set(KEY.language, $("setup-language").value);
  if (result !== "ok") {
    state.info = null; // checked once the network is back: nothing of an earlier pairing is shown meanwhile
    store.set(KEY.info, null);
  }
  state.linkToken = null;
  for (const id of ["setup-token", "setup-pin", "setup-pin-again"]) $(id).value = "";
  $("setup-save").disabled = false;
  setupMessage(result === "unreachable" ? "kiosk.setup.offline" : null, {}, null);
  backToKioskLanguage();
  startKiosk();
}

// --- screens ---------------------------------------------------------------------------------

function showScreen(name) {
  if (name === "home" && unpaired()) name = "unpaired"; // no new letters on a kiosk the organisers unpaired
  state.screen = name;
  for (const screen of document.querySelectorAll(".kiosk-screen")) screen.hidden = screen.dataset.screen !== name;
  document.body.dataset.screen = name;
  window.scrollTo({ top: 0 });
}

function renderEvent() {
  const event = state.info && state.info.event;
  $("kiosk-event").textContent = event ? [event.name, event.city].filter(Boolean).join(" · ") : "";
}

function renderPrisoners() {
  const table = tableSize();
  document.body.dataset.writingTable = table ? String(table) : "";
  $("kiosk-table-lead").hidden = !table;
  const cards = offered().map((prisoner, index) => {
    const writable = isWritable(prisoner);
    const card = document.createElement("button");
    card.type = "button";
    card.className = `kiosk-prisoner${writable ? "" : " kiosk-prisoner-released"}`;
    card.dataset.prisonerId = prisoner.id;
    card.dataset.status = prisoner.status;
    card.disabled = !writable;
    const name = document.createElement("span");
    name.className = "kiosk-prisoner-name";
    name.textContent = prisonerName(prisoner);
    card.append(name);
    if (!writable) {
      const badge = document.createElement("span");
      badge.className = "badge badge-released";
      badge.textContent = t("prisoner.released");
      card.append(badge);
    }
    const description = document.createElement("span");
    description.className = "kiosk-prisoner-description";
    description.textContent = prisonerDescription(prisoner);
    card.append(description);
    const meta = document.createElement("span");
    meta.className = "kiosk-prisoner-meta";
    meta.textContent = writable ? t("prisoner.letters", { n: prisoner.letters_received ?? 0 }) : t("prisoner.releasedNote");
    card.append(meta);
    if (table && index === 0) {
      card.classList.add("kiosk-prisoner-suggested");
      const suggested = document.createElement("span");
      suggested.className = "badge kiosk-suggested";
      suggested.textContent = t("kiosk.table.suggested");
      card.prepend(suggested);
    }
    if (writable) card.addEventListener("click", () => choose(prisoner));
    return card;
  });
  $("kiosk-prisoners").replaceChildren(...cards);
}

async function loadPrisoners() {
  try {
    const prisoners = await listPrisoners();
    state.prisoners = [...prisoners.filter(isWritable), ...prisoners.filter((p) => !isWritable(p))];
    store.set(KEY.prisoners, JSON.stringify(state.prisoners)); // for a day without network
  } catch {
    /* keep the list from the last time */
  }
  renderPrisoners();
}

function choose(prisoner) {
  state.prisoner = prisoner;
  renderWriteHeading();
  showScreen("write");
  $("kiosk-body").focus({ preventScroll: true });
}

function renderWriteHeading() {
  $("write-to").textContent = state.prisoner ? t("kiosk.to", { name: prisonerName(state.prisoner) }) : "";
}

// --- photographed pages ------------------------------------------------------------------------

function addPages(files) {
  const problems = [];
  for (const file of files) {
    if (state.pages.length >= MAX_PAGES) {
      problems.push(t("kiosk.tooMany", { max: MAX_PAGES }));
      break;
    }
    const type = (file.type || "").toLowerCase();
    const heic = /\.(heic|heif)$/i.test(file.name || "");
    if (!PAGE_TYPES.includes(type) && !heic) {
      problems.push(t("kiosk.notImage", { name: file.name }));
      continue;
    }
    if (file.size > MAX_PAGE_BYTES) {
      problems.push(t("kiosk.tooBig", { name: file.name }));
      continue;
    }
    state.pages.push({ file, url: URL.createObjectURL(file), name: file.name || `page-${state.pages.length + 1}.jpg`, type });
  }
  $("photo-error").textContent = problems.join(" ");
  $("photo-error").hidden = problems.length === 0;
  renderPages();
}

function removePage(index) {
  const [page] = state.pages.splice(index, 1);
  if (page) URL.revokeObjectURL(page.url);
  renderPages();
}

function renderPages() {
  const items = state.pages.map((page, index) => {
    const item = document.createElement("li");
    item.className = "kiosk-page";
    const image = document.createElement("img");
    image.src = page.url;
    image.alt = t("kiosk.page", { n: index + 1 });
    image.addEventListener("error", () => item.classList.add("kiosk-page-noimage")); // HEIC: no preview here
    const label = document.createElement("span");
    label.className = "kiosk-page-number";
    label.textContent = String(index + 1);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "kiosk-page-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("kiosk.removePage", { n: index + 1 }));
    remove.addEventListener("click", () => removePage(index));
    item.append(image, label, remove);
    return item;
  });
  $("kiosk-pages").replaceChildren(...items);
  $("pages-count").textContent = state.pages.length ? t("kiosk.pages", { n: state.pages.length, max: MAX_PAGES }) : "";
  $("photo-label-text").textContent = t(state.pages.length ? "kiosk.photoMore" : "kiosk.photo");
  $("photo-label-text").dataset.i18n = state.pages.length ? "kiosk.photoMore" : "kiosk.photo";
  $("photo-input").disabled = state.pages.length >= MAX_PAGES;
}

// --- sending ---------------------------------------------------------------------------------

function author() {
  const result = { contact_consent: false };
  const name = $("kiosk-name").value.trim();
  const city = $("kiosk-city").value.trim();
  if (name) result.display_name = name;
  if (city) result.city = city;
  return result;
}

async function send({ confirmed = false } = {}) {
  $("send-error").hidden = true;
  if (!state.prisoner) {
    showScreen("home");
    return;
  }
  if (!editor.text.trim() && state.pages.length === 0) {
    $("send-error").textContent = t("kiosk.needContent");
    $("send-error").hidden = false;
    return;
  }
  // As on the writer's page: what the censor would stop is pointed out once, and sent only if the writer
  // insists (a moderator then decides). Offline the hints of the exported rules ask the same, no more.
  if (!confirmed) {
    if (editor.pending) await editor.check();
    if (editor.blocking) {
      $("kiosk-block-confirm").hidden = false;
      $("kiosk-send").hidden = true;
      $("kiosk-confirm-fix").focus();
      return;
    }
  }
  hideBlockConfirm();
  const body = editor.text;
  const source = { channel: "kiosk" };
  if (state.info && state.info.event && state.info.event.id) source.event_id = state.info.event.id;
  if (state.info && state.info.kiosk_id) source.kiosk_id = state.info.kiosk_id;
  const record = {
    client_ref: state.clientRef,
    // written_at: the moment of writing, so a letter sent later (offline) counts on the event's day.
    letter: { prisoner_id: state.prisoner.id, body, client_ref: state.clientRef, author: author(), source,
      written_at: new Date().toISOString() },
    pages: state.pages.map((page) => ({ blob: page.file, name: page.name, type: page.type })),
    state: "waiting",
    attempts: 0,
    created_at: Date.now(),
  };
  $("kiosk-send").disabled = true;
  try {
    await outbox.put(record); // saved on the device before anything else
    countAtTable(record.letter.prisoner_id);
  } catch (error) {
    console.error("could not store the letter", error);
    $("send-error").textContent = t("error.generic", { detail: String(error && error.message ? error.message : error) });
    $("send-error").hidden = false;
    $("kiosk-send").disabled = false;
    return;
  }
  $("kiosk-send").disabled = false;
  state.thanksFor = record.client_ref;
  setThanksStatus(navigator.onLine ? "kiosk.sending" : "kiosk.saved");
  showReceiptCode(null);
  showScreen("thanks");
  clearTimeout(state.thanksTimer);
  state.thanksTimer = setTimeout(reset, THANKS_MS);
  await refreshCounts();
  syncer.kick(0);
}

function hideBlockConfirm() {
  $("kiosk-block-confirm").hidden = true;
  $("kiosk-send").hidden = false;
}

/** The receipt link as a QR code once the server has the letter; until then, a word that it will come. */
function showReceiptCode(accepted) {
  const box = $("thanks-qr");
  const text = $("thanks-qr-text");
  if (!accepted || !accepted.id || !accepted.receipt_token) {
    box.replaceChildren();
    box.hidden = true;
    delete box.dataset.url;
    text.textContent = t("kiosk.qr.pending");
    text.dataset.i18n = "kiosk.qr.pending";
    return;
  }
  const url = new URL(`/receipt#${accepted.id}.${accepted.receipt_token}`, location.origin).href;
  box.replaceChildren(qrCodeSvg(url, { label: t("kiosk.qr.label") }));
  box.dataset.url = url;
  box.hidden = false;
  text.textContent = t("kiosk.qr.ready");
  text.dataset.i18n = "kiosk.qr.ready";
}

function setThanksStatus(key) {
  $("thanks-status").textContent = t(key);
  $("thanks-status").dataset.i18n = key;
  $("thanks-status").dataset.state = key.split(".")[1];
}

/** Back to the first screen with nothing of the last visitor left on it. */
function reset() {
  clearTimeout(state.thanksTimer);
  state.thanksFor = null;
  showReceiptCode(null);
  hideBlockConfirm();
  $("kiosk-name").value = "";
  $("kiosk-city").value = "";
  editor.clear();
  phrases.reset();
  for (const page of state.pages) URL.revokeObjectURL(page.url);
  state.pages = [];
  renderPages();
  $("photo-input").value = "";
  $("photo-error").hidden = true;
  $("send-error").hidden = true;
  state.prisoner = null;
  state.visitors += 1;
  state.clientRef = newClientRef();
  if ($("staff").open) $("staff").close();
  closePinDialog();
  hideIdleWarning();
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  state.lastActivity = Date.now();
  backToKioskLanguage();
  showScreen("home");
  document.body.dataset.resets = String(Number(document.body.dataset.resets || 0) + 1);
  loadPrisoners();
  if (state.token && navigator.onLine) refreshInfo(); // still paired? An unpaired kiosk says so to the next visitor
}

// --- counters and status --------------------------------------------------------------------

async function refreshCounts() {
  try {
    const records = await outbox.all();
    state.waitingRecords = records.filter((r) => r.state === "waiting");
    state.waiting = state.waitingRecords.length;
    state.failed = records.filter((r) => r.state === "failed");
  } catch {
    /* leave the last numbers */
  }
  renderStatus();
}

function renderStatus() {
  const serverCount = state.info ? Number(state.info.letters_collected) || 0 : 0;
  const collected = serverCount + state.sentSinceInfo + state.waiting;
  const chip = (id, key, n) => {
    $(id).textContent = t(key, { n });
    $(id).dataset.count = String(n);
  };
  chip("kiosk-collected", "kiosk.collected", collected);
  chip("kiosk-waiting", "kiosk.waiting", state.waiting);
  chip("kiosk-failed", "kiosk.failed", state.failed.length);
  $("kiosk-failed").hidden = state.failed.length === 0;
  const online = navigator.onLine;
  $("kiosk-online").textContent = t(online ? "kiosk.online" : "kiosk.offline");
  $("kiosk-online").dataset.online = String(online);
  renderRefusal();
  renderEvent();
  if ($("staff").open) renderStaff();
}

/** Why the server refuses this kiosk, in the status bar; on the unpaired screen, what it still keeps. */
function renderRefusal() {
  const chip = $("kiosk-auth");
  const refused = state.refused;
  let key = "kiosk.authProblem";
  let vars = {};
  if (refused && refused.reason === "unpaired") key = "kiosk.unpaired.title";
  else if (refused && refused.valid_from) {
    key = "kiosk.outsideDates";
    vars = { from: day(refused.valid_from), to: day(refused.valid_until) };
  }
  chip.textContent = t(key, vars);
  delete chip.dataset.i18n; // filled here, with its dates, on every render (a language switch too)
  chip.dataset.reason = refused ? refused.reason : "";
  chip.hidden = !(syncer.authProblem || refused);
  const kept = state.waiting + state.failed.length;
  $("unpaired-kept").textContent = t(kept ? "kiosk.unpaired.kept" : "kiosk.unpaired.keptNone", { n: kept });
  $("unpaired-kept").dataset.count = String(kept);
}

function onSyncEvent(event) {
  if (event.type === "auth") noteRefusal(event.error);
  if (event.type === "sent") {
    state.sentSinceInfo += 1;
    if (event.record.client_ref === state.thanksFor) {
      setThanksStatus("kiosk.sent");
      showReceiptCode(event.answer);
    }
  } else if ((event.type === "retry" || event.type === "auth") && event.record.client_ref === state.thanksFor) {
    setThanksStatus("kiosk.saved");
  }
  refreshCounts();
  if (event.type === "sent") refreshInfo();
}

// --- staff panel ------------------------------------------------------------------------------

/** A letter kept on the kiosk, as staff see it: when, to whom, how long; never its text. */
function letterSummary(record) {
  const prisoner = state.prisoners.find((p) => p.id === record.letter.prisoner_id);
  const what = document.createElement("p");
  what.textContent = [
    formatDate(record.created_at, { dateStyle: "short", timeStyle: "short" }),
    prisoner ? prisonerName(prisoner) : record.letter.prisoner_id,
    record.pages && record.pages.length ? t("kiosk.pages", { n: record.pages.length, max: MAX_PAGES }) : t("letter.count", { n: [...record.letter.body].length }),
  ].join(" · ");
  return what;
}

function renderStaff() {
  const info = state.info;
  $("staff-kiosk").textContent = info ? t("kiosk.staff.kiosk", { name: `${info.name || info.kiosk_id} (${info.kiosk_id})` }) : "";
  $("staff-valid").textContent = info && info.valid_from
    ? t("kiosk.staff.valid", { from: day(info.valid_from), to: day(info.valid_until) })
    : "";
  $("staff-unpaired").hidden = !unpaired();
  $("staff-last-sync").textContent = syncer.lastSuccess
    ? t("kiosk.staff.lastSync", { time: formatDate(syncer.lastSuccess, { timeStyle: "medium" }) })
    : "";
  $("staff-language").value = kioskLanguage() || lang();
  // No letter text here: a visitor who opens the panel must not read another visitor's letter.
  const waiting = state.waitingRecords.map((record) => {
    const item = document.createElement("li");
    item.className = "staff-failed-item staff-waiting-item";
    item.dataset.clientRef = record.client_ref;
    const why = document.createElement("p");
    why.className = "muted";
    why.textContent = record.last_error ? t("kiosk.staff.reason", { reason: record.last_error }) : "";
    item.append(letterSummary(record), why);
    return item;
  });
  $("staff-waiting").replaceChildren(...waiting);
  $("staff-waiting-none").hidden = waiting.length > 0;
  const items = state.failed.map((record) => {
    const item = document.createElement("li");
    item.className = "staff-failed-item";
    item.dataset.clientRef = record.client_ref;
    const why = document.createElement("p");
    why.className = "muted";
    why.textContent = t("kiosk.staff.reason", { reason: record.last_error || "?" });
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "button secondary";
    retry.textContent = t("kiosk.staff.retry");
    retry.addEventListener("click", async () => {
      await outbox.put({ ...record, state: "waiting" });
      await refreshCounts();
      syncer.kick(0);
    });
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button danger";
    discard.textContent = t("kiosk.staff.discard");
    discard.addEventListener("click", async () => {
      if (!window.confirm(t("kiosk.staff.discardConfirm"))) return;
      await outbox.remove(record.client_ref);
      await refreshCounts();
    });
    const buttons = document.createElement("div");
    buttons.className = "button-row";
    buttons.append(retry, discard);
    item.append(letterSummary(record), why, buttons);
    return item;
  });
  $("staff-failed").replaceChildren(...items);
  $("staff-failed-none").hidden = items.length > 0;
}

function renderTableChoice() {
  for (const option of $("staff-table").querySelectorAll("option[data-table]")) {
    option.textContent = t("kiosk.table.n", { n: option.dataset.table });
  }
  $("staff-table").value = tableSize() ? String(tableSize()) : "";
}

function openStaff() {
  renderTableChoice();
  clearTimeout(state.thanksTimer); // staff at work: the thank-you screen waits for the panel to close
  $("staff-message").hidden = true;
  renderStaff();
  $("staff").showModal();
}

// --- the staff PIN ----------------------------------------------------------------------------

/** The staff button asks for the PIN first: visitors reach neither the panel nor "unlink". */
function askPin() {
  clearTimeout(state.thanksTimer);
  $("pin-input").value = "";
  $("pin-message").hidden = true;
  $("pin-dialog").showModal();
  renderPinWait();
  if (!$("pin-input").disabled) $("pin-input").focus();
}

function closePinDialog() {
  clearInterval(state.pinTimer);
  state.pinTimer = null;
  if ($("pin-dialog").open) $("pin-dialog").close();
}

/** While wrong PINs are throttled: nothing can be typed, and the wait counts down. */
function renderPinWait() {
  const wait = pinWaitMs();
  const locked = wait > 0;
  $("pin-input").disabled = locked;
  $("pin-submit").disabled = locked;
  document.body.dataset.pinLocked = String(locked);
  if (locked) {
    $("pin-message").textContent = t("kiosk.pin.wait", { n: Math.ceil(wait / 1000) });
    $("pin-message").hidden = false;
    if (!state.pinTimer) state.pinTimer = setInterval(renderPinWait, 500);
  } else if (state.pinTimer) {
    clearInterval(state.pinTimer);
    state.pinTimer = null;
    $("pin-message").hidden = true;
    $("pin-input").focus();
  }
}

async function submitPin(event) {
  event.preventDefault();
  const pin = $("pin-input").value;
  if (!pin || pinWaitMs() > 0) return renderPinWait();
  // Nothing can be typed while a PIN is checked: a second one would be cleared with the first.
  $("pin-submit").disabled = true;
  $("pin-input").disabled = true;
  const result = await checkPin(pin);
  $("pin-input").value = "";
  $("pin-input").disabled = false;
  $("pin-submit").disabled = false;
  if (result === "ok") {
    closePinDialog();
    openStaff();
    return;
  }
  $("pin-message").textContent = t("kiosk.pin.wrong");
  $("pin-message").hidden = false;
  renderPinWait();
  if (!$("pin-input").disabled) $("pin-input").focus();
}

async function unlink() {
  await refreshCounts();
  // Unsent letters keep a kiosk paired, unless the organisers unpaired it: then they stay in the
  // outbox and go out with the token the kiosk is paired with next.
  if ((state.waiting > 0 || state.failed.length > 0) && !unpaired()) {
    $("staff-message").textContent = t("kiosk.staff.unlinkBlocked");
    $("staff-message").hidden = false;
    return;
  }
  store.set(KEY.token, null);
  store.set(KEY.info, null);
  clearRefusal();
  forgetPin(); // the next pairing chooses its own
  location.replace(location.pathname + location.search);
}

// --- start -----------------------------------------------------------------------------------

const editor = new LetterEditor({
  field: $("kiosk-body"),
  mirror: $("kiosk-mirror"),
  list: $("kiosk-findings"),
  summary: $("kiosk-hints-summary"),
  checking: $("kiosk-hints-checking"),
  counter: $("kiosk-count"),
  context: () => ({ prisoner_id: state.prisoner && state.prisoner.id, client_ref: state.clientRef, channel: "kiosk" }),
  // Printed on the scan under the letter, so screened with it.
  printed: {
    writer_first_name: { input: $("kiosk-name"), list: $("kiosk-name-findings") },
    writer_city: { input: $("kiosk-city"), list: $("kiosk-city-findings") },
  },
  onChange: () => hideBlockConfirm(),
  // Without a network: the word, phrase and symbol rules the service worker keeps a copy of.
  offline: offlineRules,
});

const phrases = new PhrasePicker({ root: $("kiosk-phrase-bank"), field: $("kiosk-body") });

/** Typing at the end of a long letter: its last line stays above Send, which the browser's own
 * scrolling to the caret does not know is there. */
function keepTheLastLineClearOfSend() {
  const field = $("kiosk-body");
  if (field.selectionEnd < field.value.length) return;
  requestAnimationFrame(() => {
    const bar = $("kiosk-send-bar").getBoundingClientRect();
    const bottom = field.getBoundingClientRect().bottom;
    if (bar.height > 0 && bottom > bar.top) window.scrollBy(0, bottom - bar.top + 8);
  });
}
$("kiosk-body").addEventListener("input", keepTheLastLineClearOfSend);

const syncer = new Syncer({ token: () => state.token, lang, onEvent: onSyncEvent });

async function startKiosk() {
  state.token = store.get(KEY.token);
  $("staff-open").hidden = false;
  // Ask the browser not to evict the outbox when storage runs low: it may hold unsent letters.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  renderEvent();
  renderPrisoners();
  showScreen("home");
  loadPrisoners();
  phrases.load();
  refreshCounts();
  if (!syncer.started) {
    syncer.started = true;
    syncer.start();
  }
  const verified = Boolean(state.info);
  if ((await refreshInfo()).result === "bad" && !verified) {
    // A token this device never had accepted: back to set-up. Letters already waiting stay in the
    // outbox and go out once a good token is set up.
    store.set(KEY.token, null);
    state.token = null;
    syncer.authProblem = false;
    clearRefusal();
    renderStatus();
    showSetup();
    setupMessage("kiosk.setup.bad");
  }
}

// --- a letter left alone ------------------------------------------------------------------------

function showIdleWarning(secondsLeft) {
  $("idle-warning-text").textContent = t("kiosk.idle.warning", { n: secondsLeft });
  $("idle-warning").dataset.seconds = String(secondsLeft);
  $("idle-warning").hidden = false;
}

function hideIdleWarning() {
  $("idle-warning").hidden = true;
}

/**
 * The letter screen clears itself after IDLE_MS without input, counting the last IDLE_WARNING_MS
 * down on screen; the thank-you screen clears too, and the first screen goes back to the kiosk's
 * language, so the next visitor starts afresh.
 */
function watchIdle() {
  const active = () => {
    state.lastActivity = Date.now();
    if (!$("idle-warning").hidden) hideIdleWarning();
  };
  for (const type of ["pointerdown", "keydown", "input", "touchstart", "wheel"]) {
    document.addEventListener(type, active, { capture: true, passive: true });
  }
  setInterval(() => {
    const left = IDLE_MS - (Date.now() - state.lastActivity);
    if (state.screen === "write") {
      if (left <= 0) reset();
      else if (left <= IDLE_WARNING_MS) showIdleWarning(Math.ceil(left / 1000));
      else hideIdleWarning();
      return;
    }
    hideIdleWarning();
    if (left > 0) return;
    if (state.screen === "thanks") reset();
    else if (state.screen === "home" || state.screen === "unpaired") backToKioskLanguage();
  }, 250);
}

/** Send sits just above the status bar, whose height varies with the screen's width. */
function trackFooterHeight() {
  const footer = document.querySelector(".kiosk-footer");
  const set = () => document.documentElement.style.setProperty("--kiosk-footer-height", `${footer.offsetHeight}px`);
  set();
  if ("ResizeObserver" in window) new ResizeObserver(set).observe(footer);
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || new URLSearchParams(location.search).get("sw") === "0") return;
  navigator.serviceWorker.register("/kiosk-sw.js", { scope: "/kiosk" }).catch((error) => {
    console.warn("no offline copy of the kiosk page", error);
  });
}

offlineRules().catch(() => {}); // fetched while online, so the service worker has a copy for later
backToKioskLanguage();
translate();
mountLanguageSwitch($("lang-switch"));
onLangChange(() => {
  renderPrisoners();
  renderWriteHeading();
  renderPages();
  renderStatus();
  renderTableChoice();
});
takeTokenFromFragment();
renderPages();
trackFooterHeight();

$("setup-form").addEventListener("submit", setUp);
$("write-back").addEventListener("click", () => showScreen("home"));
$("photo-input").addEventListener("change", (event) => {
  addPages([...event.target.files]);
  event.target.value = ""; // the same file may be chosen again after removing it
});
$("kiosk-send").addEventListener("click", () => send());
$("kiosk-confirm-send").addEventListener("click", () => send({ confirmed: true }));
$("kiosk-confirm-fix").addEventListener("click", () => {
  hideBlockConfirm();
  const first = editor.firstBlocking();
  if (first) editor.reveal(first);
  else $("kiosk-body").focus();
});
$("thanks-new").addEventListener("click", reset);
$("idle-continue").addEventListener("click", () => {
  state.lastActivity = Date.now();
  hideIdleWarning();
});
$("staff-open").addEventListener("click", askPin);
$("pin-form").addEventListener("submit", submitPin);
$("pin-cancel").addEventListener("click", closePinDialog);
$("pin-dialog").addEventListener("close", () => {
  clearInterval(state.pinTimer);
  state.pinTimer = null;
  if (state.screen === "thanks" && !$("staff").open) reset();
});
$("staff-close").addEventListener("click", () => $("staff").close());
$("staff").addEventListener("close", () => {
  if (state.screen === "thanks") reset();
});
$("staff-sync").addEventListener("click", () => syncer.kick(0));
$("staff-table").addEventListener("change", (event) => {
  store.set(KEY.table, event.target.value || null);
  renderPrisoners();
});
fillLanguageChoice($("staff-language"), kioskLanguage() || lang());
$("staff-language").addEventListener("change", (event) => {
  store.set(KEY.language, event.target.value);
  backToKioskLanguage(); // staff see at once what the next visitor will
});
$("staff-fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => {});
});
$("staff-unlink").addEventListener("click", unlink);
window.addEventListener("online", () => {
  renderStatus();
  if (editor.state === "offline") editor.scheduleCheck(0); // the server's hints take over again
});
window.addEventListener("offline", renderStatus);
setInterval(refreshCounts, 5000); // another tab may have sent letters
// An idle kiosk learns too that it was unpaired, or that its event is on or over.
setInterval(() => {
  if (state.token && navigator.onLine && state.screen !== "setup") refreshInfo();
}, 120000);
watchIdle();
registerServiceWorker();

// Paired means a token and the staff PIN: a set-up link, or a device paired before PINs existed,
// goes through the set-up form first.
if (store.get(KEY.token) && hasPin() && !state.linkToken) {
  startKiosk();
} else {
  showSetup();
}

// For tests and staff tooling: the outbox and the syncer, read-only use.
window.kiosk = { outbox, syncer, state, reset };
