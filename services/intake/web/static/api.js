// Calls to intake's HTTP API (same origin only). Errors come back as ApiError with the HTTP
// status, a readable detail and Retry-After, or as NetworkError when no answer arrived at all.

export class ApiError extends Error {
  constructor(status, detail, retryAfter, data = null) {
    super(detail || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.retryAfter = retryAfter;
    this.data = data; // the answer's JSON, for errors that carry more than a sentence
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("no answer from the server");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

function detailText(data) {
  if (!data) return "";
  const { detail } = data;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    // pydantic validation errors: [{loc: [...], msg: "..."}]
    return detail
      .map((item) => {
        const loc = Array.isArray(item.loc) ? item.loc : [];
        const where = (loc[0] === "body" ? loc.slice(1) : loc).join(".");
        return where ? `${where}: ${item.msg}` : String(item.msg ?? item);
      })
      .join("; ");
  }
  return detail ? JSON.stringify(detail) : "";
}

function retryAfterSeconds(response) {
  const value = response.headers.get("Retry-After");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

async function call(method, path, { json, form, token, lang, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (lang) headers["Accept-Language"] = lang;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, cache: "no-store", credentials: "omit" });
  } catch (error) {
    if (error && error.name === "AbortError") throw error;
    throw new NetworkError(error);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, detailText(data), retryAfterSeconds(response), data);
  return { status: response.status, data };
}

export async function listPrisoners() {
  return (await call("GET", "/api/v1/prisoners")).data;
}

export async function checkLetter(letter, { lang, signal } = {}) {
  return (await call("POST", "/api/v1/letters/check", { json: letter, lang, signal })).data;
}

/**
 * Submit a letter. With photographed pages it goes as multipart/form-data (`letter` + `pages`),
 * otherwise as JSON. Returns {status, data}: 201 for a new letter, 200 when the client_ref was seen.
 */
export async function submitLetter(letter, { pages = [], token, lang, signal } = {}) {
  if (pages.length === 0) return call("POST", "/api/v1/letters", { json: letter, token, lang, signal });
  const form = new FormData();
  form.append("letter", JSON.stringify(letter));
  pages.forEach((page, index) => form.append("pages", page.blob, page.name || `page-${index + 1}.jpg`));
  return call("POST", "/api/v1/letters", { form, token, lang, signal });
}

/** The receipt token goes in a header, never in a URL, so it stays out of access logs. */
export async function letterStatus(id, receiptToken, { lang } = {}) {
  return (await call("GET", `/api/v1/letters/${encodeURIComponent(id)}`, { token: receiptToken, lang })).data;
}

export async function kioskInfo(token) {
  return (await call("GET", "/api/v1/kiosk", { token })).data;
}

/** A v4 UUID: crypto.randomUUID where the page is a secure context, getRandomValues elsewhere. */
export function newClientRef() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Send an edited letter again from its receipt: a new version under the same receipt link. */
export async function sendAgain(id, receiptToken, { body, translationRequested = false }, { lang } = {}) {
  return (await call("POST", `/api/v1/letters/${encodeURIComponent(id)}/versions`, {
    token: receiptToken, lang, json: { body, translation_requested: translationRequested },
  })).data;
}

/** Ask to withdraw a letter not yet printed; sorting decides, and the receipt shows its answer. */
export async function withdrawLetter(id, receiptToken) {
  return (await call("POST", `/api/v1/letters/${encodeURIComponent(id)}/withdrawal`, { token: receiptToken })).data;
}
