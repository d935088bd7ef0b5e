// The operators' page for directory updates from outside lists: upload a list's CSV, read the
// proposed changes as a diff, tick the ones to apply. Everything from the list is shown with
// textContent only: a name in a public list is text here, never markup.

const TOKEN_KEY = "directory.token";
const API = "/api/v1";
const $ = (id) => document.getElementById(id);

// Ukrainian first, then English: the operators read both.
const KINDS = {
  new: "Нова людина · New person",
  status: "Зміна статусу · Status change",
  release: "Звільнення · Release",
  transfer: "Етапування · Transfer",
  placement: "Місце утримання · Facility recorded",
  unmatched_spelling: "Написання не збігається · Unmatched spelling",
};
const RESULTS = {
  applied: "Застосовано · Applied",
  already_applied: "Уже застосовано · Already applied",
  changed_since: "Довідник змінився відтоді; не застосовано · The directory changed since; not applied",
  gone: "Людини вже немає в довіднику · No longer in the directory",
  unknown_change: "Невідома зміна · Unknown change",
};
const LANGS = { uk: "uk", ru: "ru", en: "lat" };

let proposal = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function notice(text, kind = "info") {
  const box = $("notice");
  box.textContent = text;
  box.className = `notice ${kind}`;
  box.hidden = !text;
}

function detail(data) {
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  return "щось пішло не так · something went wrong";
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) || ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) signOut("Токен недійсний або застарів · The token is not valid or has expired.");
  return { status: response.status, ok: response.ok, data };
}

function signOut(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  $("desk").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = message;
}

async function signIn(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
  const answer = await api("/staff/prisoners");
  if (answer.status === 403) return signOut("Потрібен токен оператора · An operator's token is needed.");
  if (!answer.ok) return signOut(detail(answer.data));
  $("sign-in").hidden = true;
  $("desk").hidden = false;
  $("sign-out").hidden = false;
  const wanted = new URLSearchParams(location.hash.slice(1)).get("proposal");
  if (wanted) await load(wanted);
}

async function load(id) {
  const answer = await api(`/directory/imports/${encodeURIComponent(id)}`);
  if (answer.ok) show(answer.data);
  else notice(detail(answer.data), "error");
}

function names(map) {
  const list = el("ul", null, "names");
  for (const [lang, label] of Object.entries(LANGS)) {
    if (map && map[lang]) list.append(el("li", `${label}: ${map[lang]}`));
  }
  return list;
}

function situation(s) {
  if (!s) return el("span", "—");
  const parts = [s.status];
  if (s.status_since) parts.push(`з · since ${s.status_since}`);
  if (s.facility_id) parts.push(s.facility_id);
  return el("span", parts.join(", "));
}

function show(data, outcomes = []) {
  proposal = data;
  location.hash = `proposal=${data.id}`;
  const results = Object.fromEntries(outcomes.map((o) => [o.change_id, o.result]));
  $("proposal").hidden = false;
  $("proposal-summary").textContent =
    `${data.id} · ${data.source || "—"} · змін · changes: ${data.changes.length}, ` +
    `без змін · unchanged: ${data.unchanged}, проблем · problems: ${data.problems.length}`;
  $("problems").replaceChildren(...data.problems.map((p) => el("li", `Рядок · Line ${p.line}: ${p.message}`)));
  $("changes").replaceChildren(...data.changes.map((change) => row(change, data.applied, results[change.id])));
  $("apply").disabled = data.changes.every((c) => c.id in data.applied);
}

function row(change, applied, result) {
  const tr = el("tr");
  tr.dataset.change = change.id;
  const done = change.id in applied;
  if (done) tr.className = "applied";
  const box = el("input");
  box.type = "checkbox";
  box.id = `choose-${change.id}`;
  box.value = change.id;
  box.disabled = done;
  box.setAttribute("aria-label", `${KINDS[change.kind]}: ${change.prisoner_id}`);
  const kind = el("td");
  kind.append(el("span", KINDS[change.kind] || change.kind, `badge ${change.kind}`));
  for (const note of change.notes) kind.append(el("p", note, "muted"));
  const who = el("td");
  who.append(el("code", change.prisoner_id));
  if (change.directory_names) who.append(names(change.directory_names));
  const inList = el("td");
  inList.append(names(change.list_names));
  const before = el("td");
  before.append(situation(change.before));
  const after = el("td");
  after.append(situation(change.after));
  const outcome = el("td", result ? RESULTS[result] || result : done ? RESULTS.applied : "",
    result && result !== "applied" ? "result-refused" : "result-applied");
  const choose = el("td");
  choose.append(box);
  tr.append(choose, kind, el("td", change.line), who, inList, before, after, outcome);
  return tr;
}

async function compare(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  notice("");
  $("compare").disabled = true;
  try {
    const answer = await api("/directory/imports", { method: "POST", body: { csv: await file.text(), source: $("source").value } });
    if (answer.ok) show(answer.data);
    else notice(detail(answer.data), "error");
  } finally {
    $("compare").disabled = false;
  }
}

async function apply() {
  const chosen = [...document.querySelectorAll("#changes input[type=checkbox]:checked")].map((box) => box.value);
  if (!chosen.length) return notice("Оберіть зміни для застосування · Choose the changes to apply.", "error");
  $("apply").disabled = true;
  const answer = await api(`/directory/imports/${encodeURIComponent(proposal.id)}/apply`, { method: "POST", body: { change_ids: chosen } });
  if (!answer.ok) {
    $("apply").disabled = false;
    return notice(detail(answer.data), "error");
  }
  const applied = answer.data.outcomes.filter((o) => o.result === "applied").length;
  notice(`Застосовано · Applied: ${applied} / ${chosen.length}`);
  show(answer.data.proposal, answer.data.outcomes);
}

function report(error) {
  notice(String(error), "error");
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  $("token").value = "";
  signIn(token).catch(report);
});
$("sign-out").addEventListener("click", () => signOut());
$("upload-form").addEventListener("submit", (event) => compare(event).catch(report));
$("apply").addEventListener("click", () => apply().catch(report));
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(report);
else signOut();
