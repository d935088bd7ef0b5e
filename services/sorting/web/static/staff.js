// What sorting's staff pages share: signing in with a staff token (kept in this tab only), the
// API with the token as a bearer header, and building DOM nodes as text. Used by the moderators'
// page (moderation.js) and the translators' page (translation.js).

export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

export function notice(text, kind = "info") {
  const box = $("notice");
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = !text;
}

export function detail(data) {
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  return "something went wrong";
}

export class SignedOut extends Error {}

// A staff page's session. The page has #sign-in (with #sign-in-form, #token, #sign-in-message),
// #desk, #sign-out and #waiting. `probe` is the path asked on signing in: 403 there means the
// token belongs to someone with another role; `onSignedIn(data)` gets its answer.
export function staffSession({ tokenKey, base, probe, messages, onSignedIn }) {
  async function api(path, { method = "GET", body } = {}) {
    const headers = { Authorization: `Bearer ${sessionStorage.getItem(tokenKey) || ""}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) {
      signOut(messages.expired);
      throw new SignedOut();
    }
    return { status: response.status, ok: response.ok, data };
  }

  function signOut(message = "") {
    sessionStorage.removeItem(tokenKey);
    $("desk").hidden = true;
    $("sign-out").hidden = true;
    $("sign-in").hidden = false;
    $("sign-in-message").textContent = message;
    $("waiting").textContent = "";
    $("token").focus();
  }

  async function signIn(token) {
    sessionStorage.setItem(tokenKey, token);
    const answer = await api(probe);
    if (answer.status === 403) {
      signOut(messages.forbidden);
      return;
    }
    if (!answer.ok) {
      signOut(detail(answer.data));
      return;
    }
    $("sign-in").hidden = true;
    $("desk").hidden = false;
    $("sign-out").hidden = false;
    await onSignedIn(answer.data);
  }

  // Wire the sign-in form and the sign-out button, then resume this tab's session if it has one.
  function start(report) {
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim();
      $("token").value = "";
      signIn(token).catch(report);
    });
    $("sign-out").addEventListener("click", () => signOut());
    const saved = sessionStorage.getItem(tokenKey);
    if (saved) signIn(saved).catch(report);
    else signOut();
  }

  return { api, signIn, signOut, start };
}
