// The staff kit: what every staff page shares, served by each service at /staff-kit/.
// - one sign-in, with one storage key for the staff token on every page (kept in this tab only);
// - one request helper that answers 401 (sign in again), 403 (your role cannot do this) and 429
//   (wait as long as Retry-After says, say so, try again) the same way everywhere;
// - building DOM nodes as text only (whatever a writer or a list typed is never parsed as HTML),
//   and table rows kept by key, updated in place, so a refresh never destroys input or focus.

import { mountLanguageSwitch, onLangChange, t, translate } from "./i18n.js";

export const TOKEN_KEY = "letters.staffToken";
// The longest a page waits on its own after a 429 before giving up and saying so.
const MAX_WAIT_S = 120;
const RETRIES_AFTER_429 = 2;

export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

/** A button that stays disabled while its action runs, so a double click is one action. */
export function button(label, onClick, className) {
  const node = el("button", label, className);
  node.type = "button";
  node.addEventListener("click", async () => {
    node.disabled = true;
    try {
      await onClick();
    } catch (error) {
      report(error);
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

export function notice(text, kind = "info") {
  const box = $("notice");
  if (!box) return;
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = !text;
}

export function detail(data, status) {
  if (data && typeof data.detail === "string") return data.detail;
  if (data && Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  return t("kit.failed", { status: status ?? "" });
}

/** Thrown after a 401: the page is back at its sign-in; nothing more to say. */
export class SignedOut extends Error {}
/** Thrown after a 403 or a 429 waited out in vain: the kit has already told the staff member. */
export class Refused extends Error {}

/** The page's catch-all: a lost connection is said in the notice; what the kit handled is not said twice. */
export function report(error) {
  if (error instanceof SignedOut || error instanceof Refused) return;
  notice(t("kit.unreachable", { message: error.message }), "error");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function retryAfter(response) {
  const value = response.headers.get("Retry-After");
  const seconds = Number(value);
  if (Number.isFinite(seconds) && value !== null) return Math.max(1, Math.ceil(seconds));
  const at = Date.parse(value || "");
  return Number.isNaN(at) ? 5 : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

function encoded(body) {
  if (body === undefined) return { body: undefined, type: null };
  if (body instanceof FormData || body instanceof Blob) return { body, type: null };
  return { body: JSON.stringify(body), type: "application/json" };
}

// A staff page's session. The page has <section id="sign-in"> (the kit fills it), a desk (its
// main part, shown when signed in), #sign-out, optionally #notice and #lang-switch. `probe` is
// (a path, or a function giving one) asked on signing in: 403 there means the token belongs to someone with another role.
// `roles` is the key of a text naming who may use the page ("оператор або адміністратор").
export function staffSession({ base = "", probe, roles, desk = "desk", onSignedIn, onSignedOut = () => {} }) {
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  // `candidate`: a token being tried at sign-in, kept only once it is accepted.
  async function api(path, { method = "GET", body, as = "json", attempt = 0, candidate } = {}) {
    const { body: payload, type } = encoded(body);
    const headers = { Authorization: `Bearer ${candidate ?? token() ?? ""}` };
    if (type) headers["Content-Type"] = type;
    const response = await fetch(base + path, { method, headers, body: payload, cache: "no-store" });
    if (response.status === 401) {
      signOut(t("kit.refused"));
      throw new SignedOut();
    }
    if (response.status === 403 && candidate === undefined) {
      notice(t("kit.forbiddenAction"), "error");
      throw new Refused(t("kit.forbiddenAction"));
    }
    if (response.status === 429) {
      const seconds = retryAfter(response);
      if (attempt >= RETRIES_AFTER_429 || seconds > MAX_WAIT_S) {
        notice(t("kit.tooManyLater", { seconds }), "warn");
        throw new Refused(t("kit.tooManyLater", { seconds }));
      }
      notice(t("kit.tooMany", { seconds }), "warn");
      await sleep(seconds * 1000);
      notice("");
      return api(path, { method, body, as, attempt: attempt + 1, candidate });
    }
    if (as === "blob" && response.ok) return { status: response.status, ok: true, data: await response.blob() };
    const data = response.status === 204 ? null : await response.json().catch(() => ({}));
    return { status: response.status, ok: response.ok, data };
  }

  /** The answer's data when it is a success; otherwise an Error with the server's words. */
  async function json(path, options) {
    const answer = await api(path, options);
    if (!answer.ok) throw new Error(detail(answer.data, answer.status));
    return answer.data;
  }

  function show(signedIn) {
    $("sign-in").hidden = signedIn;
    $(desk).hidden = !signedIn;
    $("sign-out").hidden = !signedIn;
  }

  function signOut(message = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    show(false);
    $("sign-in-message").textContent = message;
    $("token").value = "";
    $("token").focus();
    onSignedOut();
  }

  async function signIn(value) {
    const answer = await api(typeof probe === "function" ? probe() : probe, { candidate: value });
    if (answer.status === 403) return signOut(t("kit.forbidden", { roles: t(roles) }));
    if (!answer.ok) return signOut(detail(answer.data, answer.status));
    sessionStorage.setItem(TOKEN_KEY, value);
    $("sign-in-message").textContent = "";
    show(true);
    return onSignedIn(answer.data);
  }

  // Translate the page, wire the language switch, the sign-in form and the sign-out button, then
  // resume this tab's session if it has one.
  function start() {
    renderSignIn(roles);
    translate();
    if ($("lang-switch")) mountLanguageSwitch($("lang-switch"));
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) signIn(value).catch(report);
    });
    if (!$("sign-out").dataset.i18n) { // a page may name it its own way ("forget the token")
      $("sign-out").dataset.i18n = "kit.signOut";
      $("sign-out").textContent = t("kit.signOut");
    }
    $("sign-out").addEventListener("click", () => signOut());
    const saved = token();
    if (saved) signIn(saved).catch(report);
    else signOut();
  }

  return { api, json, signIn, signOut, start, token };
}

function renderSignIn(roles) {
  const section = $("sign-in");
  section.classList.add("kit-sign-in");
  const intro = el("p");
  const sayIntro = () => { intro.textContent = t("kit.signIn.intro", { roles: t(roles) }); };
  sayIntro();
  onLangChange(sayIntro);
  const form = el("form");
  form.id = "sign-in-form";
  form.autocomplete = "off";
  const label = el("label");
  const words = el("span", t("kit.signIn.token"));
  words.dataset.i18n = "kit.signIn.token";
  const input = el("input");
  Object.assign(input, { id: "token", name: "token", type: "password", autocomplete: "off", spellcheck: false,
    required: true });
  label.append(words, input);
  const submit = el("button", t("kit.signIn.submit"), "primary");
  submit.type = "submit";
  submit.dataset.i18n = "kit.signIn.submit";
  form.append(label, submit);
  const heading = el("h2", t("kit.signIn"));
  heading.dataset.i18n = "kit.signIn";
  const message = el("p", "", "error-text");
  message.id = "sign-in-message";
  message.setAttribute("role", "alert");
  section.replaceChildren(heading, intro, form, message);
}

// --- tables kept by key --------------------------------------------------------------------------

function setText(cell, value) {
  const text = value === null || value === undefined ? "" : String(value);
  if (cell.textContent !== text) cell.textContent = text;
}

// Rows of `items` in `table`'s body, one per key, in the items' order. A column is either a function
// of the item (its text, set only when it changed) or {className, create(item, cell), update(item, cell)}:
// `create` builds the cell's controls once, `update` refreshes them. A row that stays is never rebuilt,
// so what someone is typing into it, and the focus, survive every refresh. On a narrow screen the
// rows are cards (kit.css); each cell carries its column's heading as data-label.
export function syncRows(table, items, { key, columns, empty }) {
  const body = table.tBodies[0];
  const headings = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
  const old = new Map([...body.rows].filter((tr) => tr.dataset.key).map((tr) => [tr.dataset.key, tr]));
  const wanted = items.map((item) => {
    const id = String(key(item));
    let tr = old.get(id);
    if (!tr) {
      tr = el("tr");
      tr.dataset.key = id;
      columns.forEach((column, n) => {
        const cell = el("td", null, column.className);
        cell.dataset.label = headings[n] || "";
        if (column.create) column.create(item, cell);
        tr.append(cell);
      });
    }
    old.delete(id);
    columns.forEach((column, n) => {
      const cell = tr.cells[n];
      cell.dataset.label = headings[n] || "";
      if (typeof column === "function") setText(cell, column(item));
      else if (column.update) column.update(item, cell);
    });
    return tr;
  });
  for (const tr of old.values()) tr.remove();
  for (const tr of [...body.rows]) if (!tr.dataset.key) tr.remove();
  wanted.forEach((tr, n) => {
    if (body.rows[n] !== tr) body.insertBefore(tr, body.rows[n] || null);
  });
  if (!items.length) {
    const tr = el("tr");
    const cell = el("td", empty, "empty");
    cell.colSpan = headings.length;
    tr.append(cell);
    body.append(tr);
  }
}
