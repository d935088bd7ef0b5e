// The staff kit: what every staff page shares, served by each service at /staff-kit/.
// - one sign-in, with one storage key for the staff token on every page (kept in this tab only);
// - one request helper that answers 401 (sign in again), 403 (your role cannot do this) and 429
//   (wait as long as Retry-After says, say so, try again) the same way everywhere;
// - building DOM nodes as text only (whatever a writer or a list typed is never parsed as HTML),
//   and table rows kept by key, updated in place, so a refresh never destroys input or focus.

import { lang, mountLanguageSwitch, onLangChange, t, translate } from "./i18n.js";

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
    // The page's language, not the browser's: what the server words (screening's findings, refusals)
    // comes in the language the staff member chose here.
    const headers = { Authorization: `Bearer ${candidate ?? token() ?? ""}`, "Accept-Language": lang() };
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

// --- photographed pages ------------------------------------------------------------------------------
// A handwritten letter arrives as phone photos, often sideways or small: its pages are thumbnails that
// open one page large, to zoom, turn and step through, without leaving the letter. Turning is only how
// the page is looked at here; what is printed is the photo as uploaded.

const ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3, 4];
const turned = new Map(); // page URL -> degrees, kept while the page is open: turned once, stays turned
let viewer = null;

/** Fill `container` with page thumbnails; `label(page)` names a page ("Page 2"). */
export function pageThumbnails(container, pages, label) {
  container.replaceChildren(...pages.map((page, index) => {
    const open = el("button", null, "page");
    open.type = "button";
    open.setAttribute("aria-label", t("kit.pages.open", { n: page.number }));
    const image = el("img");
    image.src = page.url;
    image.alt = label(page);
    image.loading = "lazy";
    open.append(image, el("span", label(page)));
    open.addEventListener("click", () => showPages(pages, index, label, open));
    return open;
  }));
}

function viewerDialog() {
  if (viewer) return viewer;
  const dialog = el("dialog", null, "kit-viewer");
  dialog.setAttribute("aria-labelledby", "kit-viewer-title");
  const title = el("h2");
  title.id = "kit-viewer-title";
  const state = el("p", null, "kit-viewer-state");
  state.setAttribute("aria-live", "polite");
  const tool = (key, action) => {
    const node = el("button", t(key));
    node.type = "button";
    node.dataset.i18n = key;
    node.dataset.action = action;
    return node;
  };
  const original = el("a", t("kit.viewer.original"));
  original.dataset.i18n = "kit.viewer.original";
  original.target = "_blank";
  original.rel = "noopener noreferrer";
  const bar = el("div", null, "kit-viewer-tools");
  bar.append(tool("kit.viewer.previous", "previous"), tool("kit.viewer.next", "next"),
    tool("kit.viewer.zoomOut", "zoom-out"), tool("kit.viewer.fit", "fit"), tool("kit.viewer.zoomIn", "zoom-in"),
    tool("kit.viewer.rotateLeft", "rotate-left"), tool("kit.viewer.rotateRight", "rotate-right"),
    original, tool("kit.viewer.close", "close"));
  const stage = el("div", null, "kit-viewer-stage");
  // An enlarged page scrolls: the stage takes focus so a keyboard can scroll it too.
  stage.tabIndex = 0;
  stage.setAttribute("role", "region");
  stage.setAttribute("aria-labelledby", "kit-viewer-title");
  const frame = el("div", null, "kit-viewer-frame");
  const image = el("img");
  frame.append(image);
  stage.append(frame);
  const head = el("div", null, "kit-viewer-head");
  head.append(title, state);
  dialog.append(head, bar, stage);
  document.body.append(dialog);
  viewer = { dialog, title, state, original, stage, frame, image, pages: [], index: 0, zoom: 1, label: null, opener: null };

  bar.addEventListener("click", (event) => {
    const action = event.target.closest("button")?.dataset.action;
    if (action) act(action);
  });
  dialog.addEventListener("keydown", (event) => {
    const keys = { "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "0": "fit", r: "rotate-right", R: "rotate-left",
      ArrowLeft: "previous", ArrowRight: "next" };
    if (keys[event.key] && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      act(keys[event.key]);
    }
  });
  dialog.addEventListener("close", () => viewer.opener?.focus());
  onLangChange(() => draw());
  return viewer;
}

function act(action) {
  const v = viewer;
  const page = v.pages[v.index];
  const step = (by) => {
    const at = ZOOMS.indexOf(v.zoom);
    v.zoom = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, at + by))];
  };
  if (action === "close") return v.dialog.close();
  if (action === "previous" && v.index > 0) v.index -= 1;
  if (action === "next" && v.index < v.pages.length - 1) v.index += 1;
  if (action === "zoom-in") step(1);
  if (action === "zoom-out") step(-1);
  if (action === "fit") v.zoom = 1;
  if (action === "rotate-right") turned.set(page.url, ((turned.get(page.url) || 0) + 90) % 360);
  if (action === "rotate-left") turned.set(page.url, ((turned.get(page.url) || 0) + 270) % 360);
  draw();
}

function draw() {
  const v = viewer;
  if (!v || !v.pages.length) return;
  const page = v.pages[v.index];
  const rotation = turned.get(page.url) || 0;
  translate(v.dialog);
  v.title.textContent = t("kit.viewer.title", { n: page.number, count: v.pages.length });
  v.state.textContent = t("kit.viewer.state", { zoom: Math.round(v.zoom * 100), rotation });
  if (v.image.getAttribute("src") !== page.url) v.image.src = page.url;
  v.image.alt = v.label(page);
  v.original.href = page.url;
  // The page is drawn at `zoom` times the size that fits the stage. A quarter turn swaps its sides, so
  // the frame around it (what the stage scrolls over) takes the turned size and the image turns inside.
  const sideways = rotation % 180 !== 0;
  const place = () => {
    const natural = { w: v.image.naturalWidth || 1, h: v.image.naturalHeight || 1 };
    const seen = sideways ? { w: natural.h, h: natural.w } : natural;
    const fit = Math.min(v.stage.clientWidth / seen.w, v.stage.clientHeight / seen.h) || 1;
    const scale = fit * v.zoom;
    v.frame.style.width = `${seen.w * scale}px`;
    v.frame.style.height = `${seen.h * scale}px`;
    v.image.style.width = `${natural.w * scale}px`;
    v.image.style.height = `${natural.h * scale}px`;
    v.image.style.transform = `translate(-50%, -50%) rotate(${rotation}deg)`;
  };
  if (v.image.complete) place();
  else v.image.addEventListener("load", place, { once: true });
  v.dialog.dataset.zoom = String(v.zoom);
  v.dialog.dataset.rotation = String(rotation);
  v.dialog.dataset.page = String(page.number);
  v.dialog.querySelector('[data-action="previous"]').disabled = v.index === 0;
  v.dialog.querySelector('[data-action="next"]').disabled = v.index === v.pages.length - 1;
  v.dialog.querySelector('[data-action="zoom-out"]').disabled = v.zoom === ZOOMS[0];
  v.dialog.querySelector('[data-action="zoom-in"]').disabled = v.zoom === ZOOMS[ZOOMS.length - 1];
}

function showPages(pages, index, label, opener) {
  const v = viewerDialog();
  Object.assign(v, { pages, index, label, opener, zoom: 1 });
  // Open first: the page is fitted to the stage, which has no size while the dialog is closed.
  if (!v.dialog.open) v.dialog.showModal();
  draw();
  v.dialog.querySelector('[data-action="close"]').focus();
}
